"""Privacy in every answer, oracles included: callers x read paths over a sensitive dataset whose
small counts an OPD sent. No caller but the walidata and the OPD that sent them sees one, in any
channel (records, history, aggregates, search, exports, CKAN, dry runs, conflicts, receipts,
errors), and no answer tells a guessed value from a wrong one (a dry run or a submission of the
true value looks exactly like one of any other value). The four services as real processes;
SAMPLE (data contoh) values; Hypothesis draws callers, cells and guesses.
"""

from __future__ import annotations

import asyncio
import json

import ckanapi
import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.helpers import eventually

pytestmark = [pytest.mark.e2e]

SLUG = "jumlah-penduduk"
KEC = "64.08.04"
VALUES = {  # sent by the OPD (disdukcapil); the small ones are hidden from everyone else
    ("64.08.04.2001", "2025", "L"): 3, ("64.08.04.2001", "2025", "P"): 40,
    ("64.08.04.2011", "2025", "L"): 2, ("64.08.04.2011", "2025", "P"): 15,
    ("64.08.04.2012", "2025", "L"): 21, ("64.08.04.2012", "2025", "P"): 4,
    ("64.08.04.1010", "2025", "L"): 30, ("64.08.04.1010", "2025", "P"): 31,
}
SMALL = {k: v for k, v in VALUES.items() if v < 5}
CALLERS = ("anonim", "desa", "kecamatan", "opd_lain")


@pytest.fixture(scope="module")
async def world(running_platform):
    p = running_platform
    keys = {"anonim": {}, "desa": p.auth("DESA"), "walidata": p.auth("WALIDATA"),
            "opd": p.auth("OPD")}
    async with p.client() as c:
        w = keys["walidata"]
        r = await c.put(f"/v1/datasets/{SLUG}/privacy", headers=w, json={"sensitive": True})
        assert r.status_code == 200, r.text
        for pid, kind, scope in (("kec-sangatta-utara", "kecamatan", KEC),
                                 ("dinas-lain", "opd", "64.08")):
            r = await c.post("/v1/publishers", headers=w, json={
                "id": pid, "name": f"Contoh {pid}", "kind": kind, "region_scope": scope,
                "datasets": [SLUG]})
            assert r.status_code == 201, r.text
            r = await c.post("/v1/keys", headers=w, json={"publisher_id": pid})
            assert r.status_code == 201, r.text
            keys["kecamatan" if kind == "kecamatan" else "opd_lain"] = {
                "Authorization": f"Bearer {r.json()['key']}"}
        rows = [{"region": region, "period": period, "jenis_kelamin": sex, "jumlah": n}
                for (region, period, sex), n in VALUES.items()]
        r = await c.post("/v1/submissions", headers=keys["opd"],
                         json={"dataset": SLUG, "rows": rows})
        assert r.status_code == 202, r.text

        async def indexed():
            found = (await c.get("/v1/search", params={"q": "penduduk sangatta utara",
                                                       "kind": "record"})).json()
            return found.get("total", 0) >= len(VALUES)
        await eventually(indexed, timeout=60, interval=0.3)
    return p, keys


def _scope_rows(caller: str) -> list[tuple]:
    """The hidden cells a caller may write (its scope): the desa only its own village."""
    return [k for k in SMALL if caller != "desa" or k[0] == "64.08.04.2001"]


async def _reads(c: httpx.AsyncClient, headers: dict) -> dict:
    """Every read channel, as this caller."""
    out = {}
    records = (await c.get(f"/v1/datasets/{SLUG}/records", headers=headers,
                           params={"period": "2025", "limit": 100})).json()
    out["records"] = records
    out["history"] = [(await c.get(f"/v1/records/{r['id']}", headers=headers)).json()
                      for r in records["items"]]
    out["aggregates"] = [(await c.get("/v1/aggregates", headers=headers, params={
        "dataset": SLUG, "period": "2025", "region": region, "sum": s})).json()
        for region in (KEC, "64.08") for s in ("true", "false")]
    out["search"] = (await c.get("/v1/search", headers=headers, params={
        "q": "penduduk", "kind": "record", "limit": 50})).json()
    out["csv"] = (await c.get(f"/v1/datasets/{SLUG}/records", headers=headers,
                              params={"format": "csv"})).text
    out["json_export"] = (await c.get(f"/v1/datasets/{SLUG}/records", headers=headers,
                                      params={"format": "json"})).json()
    out["conflicts"] = (await c.get("/v1/conflicts", headers=headers)).json()
    out["changes"] = (await c.get("/v1/changes", headers=headers)).json()
    return out


def _cell_values(body) -> list:
    """Every value a JSON answer gives a cell of ours (under ``values``/``current``/...)."""
    found = []

    def walk(x, key=None):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, k if k in ("values", "value", "jumlah", "current", "proposed")
                     else (key if key == "values" else None))
        elif isinstance(x, list):
            for v in x:
                walk(v, key)
        elif key and isinstance(x, int) and not isinstance(x, bool):
            found.append(x)
    walk(body)
    return found


async def test_no_caller_sees_a_small_count_it_did_not_send_in_any_channel(world):
    p, keys = world
    async with p.client() as c:
        for caller in CALLERS:
            reads = await _reads(c, keys[caller])
            for name, body in reads.items():
                if name == "csv":
                    assert not any(f";{n};" in body or f",{n}," in body for n in (3, 2, 4)), \
                        (caller, body[:500])
                    continue
                shown = _cell_values(body)
                assert not set(SMALL.values()) & set(shown), (caller, name, shown)
            ckan = ckanapi.RemoteCKAN(p.gateway, apikey=keys[caller].get(
                "Authorization", " ").split(" ")[1] or None)
            found = await asyncio.to_thread(ckan.action.datastore_search, resource_id=SLUG,
                                            limit=100)
            assert not set(SMALL.values()) & {r["jumlah"] for r in found["records"]}, caller
        # the walidata and the OPD that sent them do see them
        for who in ("walidata", "opd"):
            records = (await c.get(f"/v1/datasets/{SLUG}/records", headers=keys[who],
                                   params={"period": "2025", "limit": 100})).json()
            assert set(SMALL.values()) <= set(_cell_values(records)), who


async def _dry_run(c, headers: dict, cell: tuple, value: int) -> dict:
    region, period, sex = cell
    r = await c.post("/v1/submissions", params={"dry_run": "true"}, headers=headers, json={
        "dataset": SLUG, "rows": [{"region": region, "period": period, "jenis_kelamin": sex,
                                   "jumlah": value}]})
    assert r.status_code == 200, r.text
    return r.json()


def _without(body: dict, value: int) -> str:
    """The answer with the caller's own guess taken out (it is echoed as ``proposed``)."""
    return json.dumps(body, sort_keys=True).replace(f'"jumlah": {value}', '"jumlah": "?"')


@settings(max_examples=24, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(caller=st.sampled_from(("desa", "kecamatan", "opd_lain")),
       pick=st.integers(0, 10), wrong=st.integers(0, 60))
async def test_a_dry_run_is_no_oracle_for_a_hidden_value(world, caller, pick, wrong):
    p, keys = world
    cells = _scope_rows(caller)
    cell = cells[pick % len(cells)]
    true = VALUES[cell]
    wrong = wrong if wrong != true else true + 1
    async with p.client() as c:
        right_answer = await _dry_run(c, keys[caller], cell, true)
        wrong_answer = await _dry_run(c, keys[caller], cell, wrong)
    assert true not in _cell_values({k: v for k, v in right_answer.items() if k != "diff"} | {
        "diff": [d["current"] for d in right_answer["diff"]]}), right_answer
    assert _without(right_answer, true) == _without(wrong_answer, wrong), (
        right_answer, wrong_answer)


async def test_a_submission_and_its_receipt_are_no_oracle_for_a_hidden_value(world):
    p, keys = world
    cell = ("64.08.04.2011", "2025", "L")
    outcomes = []
    async with p.client() as c:
        for value in (VALUES[cell], VALUES[cell] + 7):
            r = await c.post("/v1/submissions", headers=keys["kecamatan"], json={
                "dataset": SLUG, "rows": [{"region": cell[0], "period": cell[1],
                                           "jenis_kelamin": cell[2], "jumlah": value}]})
            assert r.status_code == 202, r.text
            sid = r.json()["id"]

            async def final():
                s = (await c.get(f"/v1/submissions/{sid}", headers=keys["kecamatan"])).json()
                return s if s["status"] in ("completed", "partial", "failed") else None
            status = await eventually(final, timeout=60, interval=0.3)
            receipt = json.loads((await c.get(f"/v1/submissions/{sid}/receipt",
                                              headers=keys["kecamatan"])).content)
            assert "counts" in receipt, receipt
            outcomes.append((status["counts"], receipt["counts"], receipt["outcomes"]))
        # both proposals wait as conflicts; each side shows the other's value hidden
        conflicts = (await c.get("/v1/conflicts", headers=keys["kecamatan"])).json()["items"]
    assert outcomes[0] == outcomes[1], outcomes
    assert outcomes[0][0]["conflicts"] == 1
    assert VALUES[cell] not in _cell_values([x["current"] for x in conflicts])
