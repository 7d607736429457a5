"""NATS subject matching used to skip foreign messages on servers older than 2.10."""


def test_subject_matching_follows_nats_wildcards():
    from shared.bus import subject_matches

    assert subject_matches("registry.*.changed.v1", "registry.records.changed.v1")
    assert not subject_matches("registry.*.changed.v1", "registry.submissions.processed.v1")
    assert subject_matches("ns.ingest.>", "ns.ingest.submissions.chunk.v1")
    assert not subject_matches("ns.ingest.>", "ns.ingest")
    assert not subject_matches("a.b", "a.b.c")
