"""The merged OpenAPI document describes every operation: typed bodies and answers, the one
error shape, an example each (built from the services' own apps, no servers)."""

from __future__ import annotations

import json

import pytest

from services.gateway.openapi import merge
from services.ingest.app import create_app as ingest_app
from services.ingest.settings import IngestSettings
from services.registry.app import create_app as registry_app
from services.registry.settings import RegistrySettings
from services.search.app import create_app as search_app
from services.search.settings import SearchSettings


@pytest.fixture(scope="module")
def doc() -> dict:
    return merge({"registry": registry_app(RegistrySettings()).openapi(),
                  "ingest": ingest_app(IngestSettings()).openapi(),
                  "search": search_app(SearchSettings()).openapi()})


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_every_operation_has_a_typed_answer_with_an_example(doc):
    missing = []
    for path, method, op in _operations(doc):
        ok = [r for status, r in op["responses"].items() if status.startswith("2")]
        media = [m for r in ok for m in (r.get("content") or {}).values()]
        if not media or not all("example" in m for m in media) \
                or not any("schema" in m for m in media):
            missing.append(f"{method.upper()} {path}")
    assert missing == []
    assert len(list(_operations(doc))) >= 43


def test_errors_are_the_platforms_shape_not_fastapis(doc):
    text = json.dumps(doc)
    assert "HTTPValidationError" not in text
    error = doc["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["required"] == ["code", "message", "details"]
    for path, method, op in _operations(doc):
        if (path, method) == ("/v1/submissions", "post"):  # ingest's own: backlog_full
            assert "Retry-After" in op["responses"]["429"]["headers"]
            example = op["responses"]["429"]["content"]["application/json"]["example"]
            assert example["error"]["code"] == "backlog_full"
        elif path.startswith("/v1/"):
            assert op["responses"]["429"] == {"$ref": "#/components/responses/TooManyRequests"}
    limited = doc["components"]["responses"]["TooManyRequests"]
    assert "Retry-After" in limited["headers"]
    assert limited["content"]["application/json"]["example"]["error"]["code"] == "rate_limited"


def test_submissions_document_json_csv_and_xlsx_uploads(doc):
    body = doc["paths"]["/v1/submissions"]["post"]["requestBody"]["content"]
    assert set(body) >= {"application/json", "multipart/form-data", "text/csv",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert body["application/json"]["schema"]["required"] == ["rows"]
    assert body["application/json"]["example"]["rows"][0]["region"] == "64.08.04.2001"
    assert body["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    assert body["text/csv"]["example"].startswith("region,period")


def test_ckan_reads_and_writes_are_typed(doc):
    for action in ("package_show", "package_search", "organization_show", "resource_show",
                   "tag_list", "group_list", "status_show", "datastore_search"):
        ok = doc["paths"][f"/api/3/action/{action}"]["get"]["responses"]["200"]
        media = ok["content"]["application/json"]
        assert media["schema"]["properties"]["success"]["const"] is True
        assert media["example"]["success"] is True
    upsert = doc["paths"]["/api/3/action/datastore_upsert"]["post"]
    assert upsert["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CkanDatastoreRequest")
    assert upsert["responses"]["404"]["content"]["application/json"]["example"]["error"][
        "__type"] == "Not Found Error"


def test_registry_answers_that_were_untyped_now_have_schemas(doc):
    for path in ("/v1/regions", "/v1/regions/{code}", "/v1/aggregates", "/v1/completeness",
                 "/v1/publishers", "/v1/changes", "/v1/keys", "/v1/regions/aliases"):
        schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"]
        assert "$ref" in schema, path
