"""Least privilege on NATS: which subjects, inboxes and JetStream API each service's user may
touch, as `make up`'s embedded server and the Kubernetes cluster grant them (shared.infra writes
the embedded server's configuration from here; tests/deploy/test_k8s.py keeps the cluster's
equal). Pure: no I/O.
"""

from __future__ import annotations

# Least privilege on NATS: each service's user publishes only its own event subjects and the
# dead letters, subscribes only to its own inbox prefix (``inbox_prefix``: no user can read
# another's replies, which carry the messages its pull consumers fetch), and may call only the
# JetStream API of its own durable consumers (create or update, info, next message, ack) and
# the stream info its metrics read. Streams are created by the operator's user ("satudata":
# migrations, `satudata up`, tools), never by a service. Everything is scoped to a namespace
# (tests share one server): a service's users for namespace ``t1`` are ``registry~t1`` etc.
STREAMS = ("INGEST", "REGISTRY", "DEADLETTER")
CONSUMERS: dict[str, list[tuple[str, str]]] = {  # service -> (stream, durable) it reads
    "registry": [("INGEST", "registry-submissions")],
    "ingest": [("REGISTRY", "ingest-submission-results"), ("DEADLETTER", "ingest-dead-letters")],
    "search": [("REGISTRY", "search-indexer")],
    "gateway": [],
}
OWN_SUBJECTS = {"registry": ["registry.>", "deadletter.>"], "ingest": ["ingest.>", "deadletter.>"],
                "search": ["deadletter.>"], "gateway": []}
SERVICES = tuple(CONSUMERS)


def inbox_prefix(user: str) -> str:
    """The only inbox a user may read (``_INBOX_registry``, ``_INBOX_registry_t1``)."""
    return "_INBOX_" + "".join(c if c.isalnum() else "_" for c in user)


def user_name(service: str, namespace: str = "") -> str:
    return f"{service}~{namespace}" if namespace else service


def nats_permissions(service: str, namespace: str = "", user: str | None = None
                     ) -> dict[str, list[str]]:
    """What ``service``'s user in ``namespace`` may publish and subscribe to."""
    prefix = f"{namespace}." if namespace else ""

    def stream(name: str) -> str:  # as shared.bus.Namespace names it
        return f"{namespace.upper().replace('.', '_')}_{name}" if namespace else name

    api = ["$JS.API.INFO", f"$JS.API.STREAM.INFO.{stream('DEADLETTER')}"]
    for name, durable in CONSUMERS[service]:
        s = stream(name)
        api += [f"$JS.API.CONSUMER.DURABLE.CREATE.{s}.{durable}",
                f"$JS.API.CONSUMER.CREATE.{s}.{durable}", f"$JS.API.CONSUMER.CREATE.{s}.{durable}.>",
                f"$JS.API.CONSUMER.INFO.{s}.{durable}", f"$JS.API.CONSUMER.MSG.NEXT.{s}.{durable}",
                f"$JS.ACK.{s}.{durable}.>"]
    publish = [prefix + own for own in OWN_SUBJECTS[service]]
    subscribe = [inbox_prefix(user or user_name(service, namespace)) + ".>"]
    if service == "gateway":  # wakes its change-feed follower; reads no stream. (An empty
        # publish list would mean no limit at all: one harmless read-only call instead.)
        return {"publish": ["$JS.API.INFO"],
                "subscribe": subscribe + [prefix + "registry.records.changed.v1"]}
    return {"publish": publish + api, "subscribe": subscribe}


# the default namespace's users (what `make up` and Kubernetes run)
NATS_PERMISSIONS: dict[str, dict[str, list[str]]] = {s: nats_permissions(s) for s in SERVICES}


def nats_permissions_for(user: str) -> dict[str, list[str]] | None:
    """A user's permissions: a service's (``registry``), in a namespace (``registry~t1``), or a
    service's second user during a credential rotation (``registry-2``, runbook
    docs/runbooks/rotation.md), never more than the service's; None for the operator."""
    name, _, namespace = user.partition("~")
    service = name if name in SERVICES else name.rsplit("-", 1)[0]
    if service not in SERVICES:
        return None
    return nats_permissions(service, namespace, user)
