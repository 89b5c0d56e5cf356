#!/usr/bin/env bash
# Install the system packages the test suite needs, if missing: kubectl (from Debian's
# kubernetes-client, to render kustomize overlays offline), Chromium (dashboard test), wrk
# (the HTTP load generator of the benches), and podman, runc and mmdebstrap (the service
# images are built and started by tests/containers; the base image is built from Debian
# packages where no container registry is reachable).
set -euo pipefail
missing=()
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${missing[*]} (install them, or run as root)" >&2
    exit 1
  fi
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Podman's settings for this kind of machine, as a drop-in that overrides only these keys
# (an existing /etc/containers/containers.conf is left as it is): crun refuses hybrid
# cgroups, runc with the cgroupfs manager works; the default container ulimits are above
# the machine's hard limits, so they are capped at them.
[ "$(id -u)" -eq 0 ] || exit 0
cap() { local want=$1 hard=$2; [ "$hard" = unlimited ] || [ "$hard" -ge "$want" ] && echo "$want" || echo "$hard"; }
nofile=$(cap 20000 "$(ulimit -Hn)")
nproc=$(cap 4096 "$(ulimit -Hu)")
dropin=/etc/containers/containers.conf.d/50-proxima.conf
wanted="# Written by Proxima's deploy/local/ensure-tools.sh (runc, cgroupfs, ulimits within the
# machine's hard limits); the other settings stay those of containers.conf.
[containers]
default_ulimits = [\"nofile=${nofile}:${nofile}\", \"nproc=${nproc}:${nproc}\"]
[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\""
if [ "$(cat "$dropin" 2>/dev/null)" != "$wanted" ]; then
  mkdir -p "$(dirname "$dropin")"
  printf '%s\n' "$wanted" >"$dropin"
  echo "wrote $dropin"
fi
