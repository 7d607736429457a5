"""The gateway's one manifest: which service serves a public path, and who may call it.

Routing (``lookup``), access (``check_access`` in ``keys.py``) and the merged OpenAPI document
(``openapi.py`` keeps a service's path only where the manifest sends it to that service, and
documents 401/403 from the same access levels) all read ``ROUTES``. What the gateway reads from
the registry for itself (CKAN, DCAT, exports, feeds, page titles, keys) goes through the typed
``registry_client.RegistryReads``; no other module names an upstream path
(``tests/unit/test_gateway_rules.py``).

A route is a path pattern: segments, where ``*`` is any one segment. A path belongs to the most
specific route it starts with (more segments first, then literal before ``*``), so
``/v1/records/*/retract`` overrides ``/v1/records`` for that one path. Each route says who may
read (GET, HEAD, OPTIONS) and who may write (every other method):

* ``PUBLIC``: anyone, no key (a given key must still be valid);
* ``KEYED``: any valid key (a publisher's too); the service decides what the key may touch;
* ``STEWARD``: a walidata or admin key (``403 steward_only`` for a publisher key).

Adding a path is one line. A new registry topic readable by all and written by stewards:

    Route("/v1/timeliness", "registry"),

one read by stewards only (an audit log):

    Route("/v1/audit", "registry", read=STEWARD),

a nested path with its own rule (a publisher may post its own rules):

    Route("/v1/datasets/*/rules", "registry", write=KEYED),

and a path outside ``/v1/`` (served as it is, never under ``/internal``):

    Route("/.well-known/satudata-keys.json", "ingest"),
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.ckan_actions import ACTIONS, WRITES

PUBLIC, KEYED, STEWARD = "public", "keyed", "steward"
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


@dataclass(frozen=True)
class Route:
    pattern: str
    service: str           # registry, ingest or search
    read: str = PUBLIC     # who may GET/HEAD/OPTIONS
    write: str = STEWARD   # who may POST/PUT/PATCH/DELETE

    def access(self, method: str) -> str:
        return self.read if method in READ_METHODS else self.write


ROUTES: tuple[Route, ...] = (
    # ingest: publishers write their own submissions; a submission's status is public
    Route("/v1/submissions", "ingest", write=KEYED),
    Route("/v1/submissions/*/receipt", "ingest", read=KEYED),  # its publisher's proof
    Route("/v1/opensid", "ingest", write=KEYED),  # a village's OpenSID export, counted
    Route("/v1/opensid/syncs", "ingest", read=STEWARD),  # each village's last sync
    *(Route(f"/api/3/action/{name}", ACTIONS[name].service, write=KEYED) for name in WRITES),
    # search
    Route("/v1/search", "search", write=KEYED),
    # registry: public reads, walidata/admin writes
    Route("/v1/datasets", "registry"),
    Route("/v1/records", "registry"),
    Route("/v1/records/*/retract", "registry", write=KEYED),  # its authoritative publisher too
    Route("/v1/regions", "registry"),
    Route("/v1/regions/aliases", "registry", read=STEWARD),
    Route("/v1/regions/misplaced", "registry", read=STEWARD),  # records to move (walidata)
    Route("/v1/publishers", "registry"),
    Route("/v1/conflicts", "registry", read=KEYED),  # shown to their parties only
    Route("/v1/verification", "registry", read=KEYED),  # held values: their parties only
    Route("/v1/aggregates", "registry"),
    Route("/v1/completeness", "registry"),
    Route("/v1/changes", "registry"),
    Route("/v1/keys", "registry", read=STEWARD),
    Route("/v1/audit", "registry", read=STEWARD),  # who did what: walidata and admin only
    # timeliness: due dates and who is late are public; a publisher's own list and its
    # templates and reminder log need its key (the walidata sees all); contacts are the
    # walidata's
    Route("/v1/timeliness", "registry"),
    Route("/v1/timeliness/mine", "registry", read=KEYED),
    Route("/v1/datasets/*/template", "registry", read=KEYED),
    Route("/v1/reminders", "registry", read=KEYED),
    Route("/v1/publishers/*/contact", "registry", read=STEWARD),
    Route("/v1/datasets/*/privacy", "registry"),  # public to read, walidata writes
    Route("/v1/feedback", "registry", write=PUBLIC),  # anyone may report a figure
    Route("/v1/feedback/*/answer", "registry"),  # the walidata answers
    Route("/v1/data-requests", "registry", write=PUBLIC),  # anyone may ask for data
    Route("/v1/data-requests/*", "registry"),  # the walidata extends, answers, refuses
    Route("/v1/collective-leave", "registry"),  # public to read, walidata writes
    Route("/v1/sipd", "registry", read=STEWARD),  # SIPD e-Walidata push: the walidata's
    Route("/v1/epss", "registry", read=STEWARD),  # EPSS evidence and self-assessment
    Route("/v1/classifications", "registry"),  # reference codes: public, walidata loads
    # BPS statistical metadata: public to read; its producer submits, the walidata decides
    Route("/v1/statistical-metadata", "registry"),
    Route("/v1/datasets/*/statistical-metadata", "registry", write=KEYED),
    Route("/v1/datasets/*/statistical-metadata/versions", "registry", read=KEYED),
    Route("/v1/datasets/*/statistical-metadata/versions/*/*", "registry"),
)
# what the gateway serves itself (events, CKAN reads) is open to read, and needs a key to write
GATEWAY_OWN = Route("", "gateway", read=PUBLIC, write=KEYED)


def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.strip("/").split("/"))


def _build(routes: tuple[Route, ...]) -> dict[str, list[tuple[tuple[str, ...], Route]]]:
    """Routes by their first two segments, most specific first (done once, at import)."""
    table: dict[str, list[tuple[tuple[str, ...], Route]]] = {}
    for route in routes:
        segments = _segments(route.pattern)
        table.setdefault("/".join(segments[:2]), []).append((segments, route))
    for entries in table.values():
        entries.sort(key=lambda e: (-len(e[0]), [s == "*" for s in e[0]]))
    return table


_TABLE = _build(ROUTES)


def lookup(path: str) -> Route | None:
    """The route a public path belongs to (None: not a public route; never ``/internal``)."""
    segments = _segments(path)
    for pattern, route in _TABLE.get("/".join(segments[:2]), ()):
        if len(segments) >= len(pattern) and all(
                p == "*" or p == s for p, s in zip(pattern, segments)):
            return route
    return None


def route_service(path: str) -> str | None:
    """Which service serves a public path (None: not a public route)."""
    route = lookup(path)
    return route.service if route else None


def access_of(method: str, path: str) -> str:
    """Who may call ``method path``: PUBLIC, KEYED or STEWARD."""
    return (lookup(path) or GATEWAY_OWN).access(method)

