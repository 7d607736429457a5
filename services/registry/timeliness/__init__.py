"""Timeliness: when each dataset's period is due, who is late, reminders, templates.

A registry topic of its own (routes, service, store, calendar): the registry already holds the
datasets, the publishers, the expected regions and the records, so it is the one service that can
say who owes what by when without asking anyone (see docs/timeliness.md).
"""
