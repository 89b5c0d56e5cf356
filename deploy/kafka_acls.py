"""Proxima's Kafka ACLs, generated from the event registry and the services' subscriptions.

One principal per service (its name). A service may:

- WRITE, CREATE and DESCRIBE topics under its own prefix ``proxima.<service>.``: the
  families the registry says it produces, and its own dead-letter topics
  (``proxima.<service>.dlq.…``); no other principal may create them;
- READ (and DESCRIBE) exactly the topics its subscriptions consume, and, for a service
  that checks the gateway's tokens (every one but the gateway), the gateway's client and
  signing-key topics its token-event follower reads (`shared.auth_events`): without them a
  revoked client or a withdrawn key would keep working there until the token expires;
- READ (and DESCRIBE) its own consumer groups, those named ``<service>…``.

Nothing else: the broker denies by default, so a forged event sent under another service's
name fails at the broker. ``admin`` (tooling, tests) and the broker's own principal are
super users and need no ACL.

    python -m deploy.kafka_acls [--bootstrap-server HOST:PORT] [--command-config FILE]

prints the ``kafka-acls.sh`` commands that grant them (for a production cluster);
``deploy/local/kafka_broker.py`` applies the same rules to the dev and CI broker.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.events.consumer import Subscription
from shared.events.registry import producer_of, registered_types, topic_for, topic_owner

SERVICES = ("ledger", "funding", "diagnostics", "gateway")
# The services that verify the gateway's tokens from its JWKS and so follow its client and
# key events (`shared.service_app` starts the follower when the verifier follows the gateway).
TOKEN_EVENT_FOLLOWERS = ("ledger", "funding", "diagnostics")


def token_event_topics() -> set[str]:
    """The topics of the gateway's client and signing-key events."""
    from shared.auth_events import TOKEN_EVENT_TYPES

    return {topic_for(name) for name in TOKEN_EVENT_TYPES}


@dataclass(frozen=True)
class AclRule:
    """``operations`` allowed to ``principal`` on ``names`` (topics or groups)."""

    principal: str
    resource: str  # topic | group
    pattern: str  # literal | prefixed
    names: tuple[str, ...]
    operations: tuple[str, ...]

    def command_args(self) -> list[str]:
        """The arguments of ``AclCommand --add`` (or ``--remove``) for this rule."""
        args = ["--allow-principal", f"User:{self.principal}"]
        for operation in self.operations:
            args += ["--operation", operation]
        for name in self.names:
            args += [f"--{self.resource}", name]
        return [*args, "--resource-pattern-type", self.pattern]


def subscriptions_by_service() -> dict[str, list[Subscription]]:
    """What each service consumes, as declared in its ``consumers`` module."""
    from services.diagnostics.consumers import subscriptions as diagnostics
    from services.funding.consumers import subscriptions as funding
    from services.gateway.consumers import subscriptions as gateway
    from services.ledger.consumers import subscriptions as ledger

    return {
        "ledger": ledger(),
        "funding": funding(),
        "diagnostics": diagnostics(),
        "gateway": gateway(),
    }


def acl_plan(subscriptions: Mapping[str, Sequence[Subscription]] | None = None) -> list[AclRule]:
    """Every service's rules; refuses a subscription the ACLs could not express (a group
    outside the service's name, a topic that is no registered family)."""
    by_service = subscriptions_by_service() if subscriptions is None else subscriptions
    families = {topic_for(name): producer_of(name) for name in registered_types()}
    for family, producer in families.items():
        if topic_owner(family) != producer:  # by construction of the names; checked anyway
            raise ValueError(f"{family} is produced by {producer} but not under its prefix")
    rules: list[AclRule] = []
    for service in SERVICES:
        rules.append(
            AclRule(
                service,
                "topic",
                "prefixed",
                (f"proxima.{service}.",),
                ("Write", "Create", "Describe"),
            )
        )
        consumed: set[str] = set()
        for subscription in by_service.get(service, ()):
            if not subscription.group.startswith(service):
                raise ValueError(
                    f"consumer group {subscription.group!r} of {service} does not start with "
                    f"{service!r}: its ACL would not cover it"
                )
            for topic in subscription.topics:
                if topic not in families:
                    raise ValueError(f"{service} consumes {topic}, which is no registered family")
                consumed.add(topic)
        if service in TOKEN_EVENT_FOLLOWERS:
            consumed |= token_event_topics()
        if consumed:
            rules.append(
                AclRule(service, "topic", "literal", tuple(sorted(consumed)), ("Read", "Describe"))
            )
            rules.append(AclRule(service, "group", "prefixed", (service,), ("Read", "Describe")))
    return rules


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-server", default="kafka:9092")
    parser.add_argument("--command-config", default="admin.properties")
    args = parser.parse_args(argv)
    for rule in acl_plan():
        command = [
            "kafka-acls.sh",
            "--bootstrap-server",
            args.bootstrap_server,
            "--command-config",
            args.command_config,
            "--add",
            *rule.command_args(),
        ]
        print(shlex.join(command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
