"""The gateway's manifest and CKAN action table: one place decides routing, access and docs."""

from __future__ import annotations

import pytest

from services.gateway import manifest
from services.gateway.ckan_actions import ACTIONS, READS, WRITES
from services.gateway.manifest import KEYED, PUBLIC, STEWARD, Route, access_of, lookup
from services.gateway.openapi import merge


@pytest.mark.parametrize("method,path,access", [
    ("GET", "/v1/datasets/x", PUBLIC), ("POST", "/v1/datasets", STEWARD),
    ("POST", "/v1/records/5f0c/retract", KEYED), ("PATCH", "/v1/records/5f0c", STEWARD),
    ("GET", "/v1/regions/64.08", PUBLIC), ("GET", "/v1/regions/aliases", STEWARD),
    ("GET", "/v1/conflicts", KEYED), ("GET", "/v1/keys", STEWARD),
    ("POST", "/v1/submissions", KEYED), ("GET", "/v1/submissions/abc", PUBLIC),
    ("POST", "/api/3/action/datastore_upsert", KEYED),
    ("GET", "/v1/events", PUBLIC), ("POST", "/v1/events", KEYED),  # the gateway's own
])
def test_access_comes_from_the_most_specific_manifest_route(method, path, access):
    assert access_of(method, path) == access


def test_a_nested_route_overrides_its_prefix_only_for_its_own_paths(monkeypatch):
    routes = (*manifest.ROUTES, Route("/v1/datasets/*/rules", "registry", write=KEYED),
              Route("/v1/audit", "registry", read=STEWARD))
    monkeypatch.setattr(manifest, "_TABLE", manifest._build(routes))
    assert access_of("POST", "/v1/datasets/jumlah-penduduk/rules") == KEYED
    assert access_of("POST", "/v1/datasets/jumlah-penduduk/retract") == STEWARD
    assert access_of("GET", "/v1/audit") == STEWARD
    assert lookup("/v1/audit/2026").service == "registry"
    assert lookup("/v1/auditx") is None


def test_ckan_actions_are_one_table_routed_and_documented_from_it():
    assert READS | WRITES == set(ACTIONS) and not READS & WRITES
    for name in WRITES:
        assert manifest.route_service(f"/api/3/action/{name}") == ACTIONS[name].service
    for name in READS:
        assert manifest.route_service(f"/api/3/action/{name}") is None  # the gateway answers
    documented = {p.rsplit("/", 1)[-1] for p in merge({})["paths"] if p.startswith("/api/")}
    assert documented == set(ACTIONS)


def test_openapi_keeps_a_service_path_only_where_the_manifest_sends_it():
    doc = {"openapi": "3.1.0", "paths": {
        "/v1/datasets": {"get": {"responses": {"200": {"description": "OK"}}}},
        "/v1/search": {"get": {"responses": {"200": {"description": "OK"}}}},
        "/v1/regions/aliases": {"get": {"responses": {"200": {"description": "OK"}}}}},
        "components": {"schemas": {}}}
    paths = merge({"registry": doc})["paths"]
    assert "/v1/datasets" in paths and "/v1/search" not in paths
    assert "403" in paths["/v1/regions/aliases"]["get"]["responses"]  # steward read
    assert "403" not in paths["/v1/datasets"]["get"]["responses"]
