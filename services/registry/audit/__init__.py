"""Audit trail of privileged actions, chained like record history.

Every use case that changes who may do what, what a dataset is, where a region is, or
settles a disagreement calls ``audit.service.record(conn, principal, action, target,
details)`` inside the caller's transaction: the entry commits with the change or not at all.
Entries form one chain: each ``hash`` is sha256(previous entry's hash || its fields)
(``audit_hash`` in migration 0005), so an entry altered or removed in the database shows up
in ``satudata verify``.

Actions in use: key.create, key.revoke, dataset.create, dataset.update, dataset.retract,
dataset.restore, record.retract, region.import, alias.import, alias.approve, alias.refuse,
publisher.create, publisher.update, conflict.accept, conflict.reject; reserved for features
built alongside: verification.decide, export.nonpublic.
"""
