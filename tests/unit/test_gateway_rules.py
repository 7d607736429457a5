"""Gateway rules with no I/O: routing, keys, access, caching headers, CKAN search, OpenAPI."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from services.gateway import ckan_packages as ckan
from services.gateway.keys import check_access, is_steward_route, raw_key
from services.gateway.openapi import merge
from services.gateway.manifest import route_service
from services.gateway.proxy import etag_of, not_modified, outgoing_headers
from shared.auth import Principal
from shared.errors import Forbidden, Unauthorized

PUBLISHER = Principal(key_id="k", publisher_id="desa-1", publisher_name="Desa", role="publisher",
                      region_scope="64.08.04.2001", datasets=["jumlah-penduduk"])
WALIDATA = PUBLISHER.model_copy(update={"role": "walidata"})


def _request(headers: dict[str, str]) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": b"",
                    "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]})


@pytest.mark.parametrize("path,service", [
    ("/v1/submissions", "ingest"), ("/v1/submissions/abc", "ingest"),
    ("/api/3/action/datastore_upsert", "ingest"), ("/v1/search", "search"),
    ("/v1/datasets/x/records", "registry"), ("/v1/regions", "registry"),
    ("/v1/changes", "registry"), ("/v1/completeness", "registry"),
    ("/internal/v1/auth/resolve", None), ("/healthz", None), ("/v1/datasetsx", None),
    ("/v1/searching", None), ("/v1/timeliness", "registry"),
    ("/v1/timeliness/mine", "registry"), ("/v1/reminders/run", "registry"),
    ("/v1/datasets/x/template", "registry"),
])
def test_paths_route_to_their_service_and_internal_never(path, service):
    assert route_service(path) == service


@pytest.mark.parametrize("headers,key", [
    ({"authorization": "Bearer abc"}, "abc"), ({"authorization": "abc"}, "abc"),
    ({"x-api-key": "xyz"}, "xyz"), ({"x-ckan-api-key": "ck"}, "ck"),
    ({"authorization": "Basic Zm9v"}, None), ({}, None),
])
def test_api_key_is_read_from_bearer_bare_ckan_or_x_api_key(headers, key):
    assert raw_key(headers) == key


def test_public_reads_need_no_key_but_writes_do():
    check_access("GET", "/v1/datasets", None)
    with pytest.raises(Unauthorized):
        check_access("POST", "/v1/submissions", None)
    check_access("POST", "/v1/submissions", PUBLISHER)


def test_steward_routes_refuse_publishers_and_anonymous():
    assert is_steward_route("POST", "/v1/datasets")
    assert is_steward_route("PATCH", "/v1/datasets/jumlah-penduduk")
    assert is_steward_route("POST", "/v1/conflicts/1/accept")
    assert is_steward_route("POST", "/v1/regions/aliases/import")
    assert is_steward_route("POST", "/v1/keys") and is_steward_route("GET", "/v1/keys")
    assert is_steward_route("POST", "/v1/publishers")
    assert not is_steward_route("GET", "/v1/conflicts")  # the registry filters by publisher
    assert not is_steward_route("POST", "/v1/submissions")
    assert not is_steward_route("GET", "/v1/datasets/jumlah-penduduk")
    assert is_steward_route("POST", "/v1/datasets/jumlah-penduduk/retract")
    # an authoritative publisher may retract its dataset's values: the registry decides
    assert not is_steward_route("POST", "/v1/records/5f0c/retract")
    check_access("POST", "/v1/records/5f0c/retract", PUBLISHER)
    with pytest.raises(Unauthorized):
        check_access("POST", "/v1/records/5f0c/retract", None)
    with pytest.raises(Forbidden):
        check_access("POST", "/v1/conflicts/1/accept", PUBLISHER)
    with pytest.raises(Unauthorized):
        check_access("GET", "/v1/conflicts", None)
    check_access("PATCH", "/v1/datasets/x", WALIDATA)


def test_client_principal_header_is_never_forwarded():
    request = _request({"X-Satudata-Principal": "forged", "Accept": "application/json",
                        "Cookie": "s=1", "Authorization": "Bearer raw-key"})
    assert outgoing_headers(request, None) == {"accept": "application/json"}
    forwarded = outgoing_headers(request, PUBLISHER)
    assert Principal.decode(forwarded["X-Satudata-Principal"]) == PUBLISHER
    assert "authorization" not in forwarded and "raw-key" not in str(forwarded)


def test_etag_matches_if_none_match_weak_or_strong():
    tag = etag_of(b'{"a": 1}')
    assert tag != etag_of(b'{"a": 2}')
    assert not_modified(_request({"If-None-Match": tag}), tag)
    assert not_modified(_request({"If-None-Match": f'"x", {tag.removeprefix("W/")}'}), tag)
    assert not not_modified(_request({"If-None-Match": '"other"'}), tag)
    assert not not_modified(_request({}), tag)


DATASETS = [
    {"slug": "jumlah-penduduk", "title": "Jumlah Penduduk", "description": "per desa",
     "tags": ["penduduk"], "topic": "kependudukan", "authoritative": ["disdukcapil"],
     "metadata": {"satuan": "jiwa"}, "license": "CC-BY-4.0", "frequency": "annual"},
    {"slug": "jumlah-sekolah", "title": "Jumlah Sekolah", "description": "SD dan SMP",
     "tags": ["pendidikan"], "topic": "pendidikan", "authoritative": ["disdik"],
     "metadata": {}, "license": "CC-BY-4.0", "frequency": "annual"},
]
PUBLISHERS = {"disdukcapil": {"id": "disdukcapil", "name": "Disdukcapil", "kind": "opd"},
              "disdik": {"id": "disdik", "name": "Dinas Pendidikan", "kind": "opd"}}


def test_ckan_package_has_csv_and_xlsx_resources_and_organization():
    pkg = ckan.package(DATASETS[0], "http://gw", PUBLISHERS)
    assert pkg["name"] == "jumlah-penduduk" and pkg["organization"]["name"] == "disdukcapil"
    assert [r["format"] for r in pkg["resources"]] == ["CSV", "XLSX"]
    assert pkg["resources"][0]["id"] == "jumlah-penduduk"
    assert pkg["extras"] == [{"key": "satuan", "value": "jiwa"}]


def test_a_dataset_field_the_gateway_does_not_place_reaches_ckan_as_an_extra():
    """A field added to the registry's dataset needs no change here to reach harvesters."""
    dataset = {**DATASETS[0], "cakupan_wilayah": "desa", "sumber_lain": ["bps", "opd"],
               "retracted_at": None, "schema": {"dimensions": [], "measures": []}}
    extras = ckan.package(dataset, "http://gw", PUBLISHERS)["extras"]
    assert extras == [{"key": "satuan", "value": "jiwa"},
                      {"key": "cakupan_wilayah", "value": "desa"},
                      {"key": "sumber_lain", "value": '["bps", "opd"]'}]


def test_ckan_package_search_q_fq_facets_and_paging():
    pkgs = [ckan.package(d, "http://gw", PUBLISHERS) for d in DATASETS]
    found = ckan.search(pkgs, q="jumlah", fq="", rows=1, start=1,
                        facet_fields=["organization", "tags"])
    assert found["count"] == 2 and [p["name"] for p in found["results"]] == ["jumlah-sekolah"]
    assert found["facets"]["organization"] == {"disdukcapil": 1, "disdik": 1}
    only = ckan.search(pkgs, q="", fq='organization:disdik tags:"pendidikan"', rows=10, start=0,
                       facet_fields=[])
    assert [p["name"] for p in only["results"]] == ["jumlah-sekolah"]
    assert ckan.search(pkgs, q="*:*", fq="", rows=10, start=0, facet_fields=[])["count"] == 2


def test_merged_openapi_keeps_public_paths_and_renames_clashing_schemas():
    registry = {"paths": {"/v1/datasets": {"get": {"responses": {"200": {"content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}}}},
        "/internal/v1/auth/resolve": {"post": {}}, "/healthz": {"get": {}}},
        "components": {"schemas": {"Page": {"type": "object", "title": "registry"}}}}
    search = {"paths": {"/v1/search": {"get": {"responses": {"200": {"content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}}}},
        "/v1/datasets": {"get": {"summary": "not search's to serve"}}},
        "components": {"schemas": {"Page": {"type": "object", "title": "search"}}}}
    doc = merge({"registry": registry, "search": search})
    assert set(doc["paths"]) >= {"/v1/datasets", "/v1/search", "/v1/events"}
    assert not any(p.startswith(("/internal", "/healthz")) for p in doc["paths"])
    ref = doc["paths"]["/v1/search"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/search_Page"
    assert doc["components"]["schemas"]["search_Page"]["title"] == "search"
    assert "summary" not in doc["paths"]["/v1/datasets"]["get"]
    assert doc["x-missing-services"] == ["ingest"]
    assert "example" in doc["paths"]["/v1/datasets"]["get"]["responses"]["200"]["content"][
        "application/json"]


def test_portal_page_carries_its_own_escaped_title_description_and_canonical():
    from services.gateway import pages

    html = pages.render('Data "desa" <b> · x', "Uraian & lain", "https://data.example/dataset/a")
    assert "<title>Data &quot;desa&quot; &lt;b&gt; · x</title>" in html
    assert 'name="description" content="Uraian &amp; lain"' in html
    assert '<link rel="canonical" href="https://data.example/dataset/a">' in html
    assert html.count("<title>") == 1 and "<!--canonical-->" not in html


def test_only_the_manifest_and_the_registry_client_name_an_upstream_path():
    """A call to an upstream (``get_json``, ``send``) names its path in
    ``registry_client.py`` (or is the proxy forwarding the client's own path, or the
    OpenAPI document every service serves); nowhere else in the gateway."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "services/gateway"
    allowed = {"registry_client.py", "upstream.py"}
    found = []
    for path in sorted(root.glob("*.py")):
        if path.name in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("get_json", "send")):
                literal = [a for a in node.args if isinstance(a, (ast.Constant, ast.JoinedStr))
                           and "/" in ast.unparse(a) and ast.unparse(a) != "'/openapi.json'"]
                if literal:
                    found.append((path.name, node.lineno))
    assert found == []


async def _answer(app, accept: bytes, vary: bytes | None = None) -> tuple[dict, bytes]:
    body = b'{"items": [' + b'"penduduk", ' * 200 + b'"desa"]}'

    async def service(scope, receive, send):
        headers = [(b"content-type", b"application/json")] + ([(b"vary", vary)] if vary else [])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/v1/search", "headers": [
        (b"accept-encoding", accept)]}
    await app(service)(scope, None, send)
    return {k.decode(): v.decode() for k, v in sent[0]["headers"]}, b"".join(
        m.get("body", b"") for m in sent[1:])


async def test_gzip_compresses_for_who_accepts_it_and_passes_the_rest_through():
    import gzip
    from services.gateway.middleware import LeanGZipMiddleware

    def app(inner):
        return LeanGZipMiddleware(inner, minimum_size=500)
    headers, body = await _answer(app, b"gzip, br")
    assert headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body).startswith(b'{"items": ["penduduk"')
    headers, body = await _answer(app, b"identity")
    assert "content-encoding" not in headers and body.startswith(b'{"items"')
    assert headers["vary"] == "Accept-Encoding"  # a cache keeps the two apart
    headers, _ = await _answer(app, b"", vary=b"Origin")
    assert headers["vary"] == "Origin, Accept-Encoding"


def test_the_proxy_steps_aside_for_the_gateways_own_v1_routes():
    from starlette.routing import Match
    from services.gateway.routes import proxy_route

    def match(path, method="GET"):
        return proxy_route.matches({"type": "http", "path": path, "method": method})[0]
    assert match("/v1/search") == Match.FULL
    assert match("/v1/datasets/jumlah-penduduk") == Match.FULL
    assert match("/v1/events") == Match.NONE
    assert match("/v1/datasets/jumlah-penduduk/records") == Match.NONE
    # what the gateway's own routes do not take is the services' to answer, as before
    assert match("/v1/datasets/jumlah-penduduk/records", "HEAD") == Match.FULL
