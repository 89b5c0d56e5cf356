#!/bin/sh
# KAFKA_FOO_BAR=value becomes foo.bar=value in the broker's configuration; the storage is
# formatted with CLUSTER_ID on first start.
set -euf  # -f: the classpath below keeps its * for java
: "${CLUSTER_ID:?CLUSTER_ID is not set}"
config=/tmp/server.properties
env | grep '^KAFKA_' | while IFS='=' read -r key value; do
    printf '%s=%s\n' "$(echo "${key#KAFKA_}" | tr 'A-Z_' 'a-z.')" "${value}"
done >"${config}"
java="java -Xmx512m -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp /opt/kafka/libs/*"
${java} kafka.tools.StorageTool format --ignore-formatted -t "${CLUSTER_ID}" -c "${config}" >/dev/null
exec ${java} kafka.Kafka "${config}"
