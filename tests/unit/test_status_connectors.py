"""`satudata status` reads the connector counters and push states off /metrics (no I/O here:
the text is what ingest's and the registry's /metrics print)."""

from __future__ import annotations

from satudata.status import _connectors, samples

INGEST = """# TYPE satudata_connector_events counter
satudata_connector_events_total{connector="opensid",outcome="received"} 3.0
satudata_connector_events_total{connector="opensid",outcome="rows"} 48.0
satudata_connector_events_total{connector="opensid",outcome="refused"} 1.0
"""
REGISTRY = """# TYPE satudata_connector_pushes gauge
satudata_connector_pushes{connector="sipd",state="pending"} 2.0
satudata_connector_pushes{connector="sipd",state="sent"} 5.0
satudata_connector_pushes{connector="sipd",state="refused"} 0.0
satudata_connector_pushes{connector="sipd",state="failed"} 1.0
"""


def test_status_lists_each_door_and_each_pushs_states():
    assert _connectors(samples(INGEST)) == [
        "opensid: received 3, rows 48, refused 1, failed -"]
    assert _connectors(samples(REGISTRY)) == [
        "sipd pushes: pending 2, sent 5, refused 0, failed 1"]
    assert _connectors(samples("")) == []
    synced = INGEST + """satudata_connector_sources{connector="opensid"} 12.0
satudata_connector_last_sync_age_seconds{connector="opensid"} 7300.0
"""
    assert _connectors(samples(synced)) == [
        "opensid: received 3, rows 48, refused 1, failed -; 12 publishers synced, "
        "the newest 2 h ago"]
