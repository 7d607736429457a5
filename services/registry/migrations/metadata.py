"""Every table the registry's migrations create, gathered from the topics that declare them
(services/registry/<topic>/tables.py) with the shared outbox and inbox:
tests/integration/test_tables_match_migrations.py asks Alembic autogenerate to find no
difference between this and the migrations."""

from __future__ import annotations

from services.registry.access import tables as access  # noqa: F401 - declares its tables
from services.registry.audit import tables as audit  # noqa: F401
from services.registry.boundaries import tables as boundaries  # noqa: F401
from services.registry.classifications import tables as classifications  # noqa: F401
from services.registry.conflicts import tables as conflicts  # noqa: F401
from services.registry.datarequests import tables as datarequests  # noqa: F401
from services.registry.datasets import tables as datasets  # noqa: F401
from services.registry.epss import tables as epss  # noqa: F401
from services.registry.feedback import tables as feedback  # noqa: F401
from services.registry.privacy import tables as privacy  # noqa: F401
from services.registry.records import tables as records  # noqa: F401
from services.registry.regions import tables as regions  # noqa: F401
from services.registry.settings import SCHEMA
from services.registry.sipd import tables as sipd  # noqa: F401
from services.registry.statistical_metadata import tables as statistical_metadata  # noqa: F401
from services.registry.timeliness import tables as timeliness  # noqa: F401
from services.registry.verification import tables as verification  # noqa: F401
from shared.tables import META, outbox_tables

outbox, inbox = outbox_tables(META, SCHEMA)
