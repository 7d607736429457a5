"""Every list answer is a ``shared.pagination.Page``: items and ``next_cursor`` declared once,
each list named (its OpenAPI schema keeps its own name)."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from pydantic import BaseModel

from shared.pagination import Page

ROOT = Path(__file__).resolve().parents[2]


def _models():
    for path in sorted(ROOT.glob("services/**/models.py")):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, BaseModel):
                yield name, cls


def test_every_model_with_a_next_cursor_is_a_page():
    lists = {name: cls for name, cls in _models() if "next_cursor" in cls.model_fields}
    assert len(lists) >= 14
    assert [name for name, cls in lists.items() if not issubclass(cls, Page)] == []


def test_a_page_keeps_its_name_in_the_schema():
    from services.registry.records.models import RecordsPublic
    assert RecordsPublic.model_json_schema()["title"] == "RecordsPublic"
    assert RecordsPublic(items=[]).model_dump() == {"items": [], "next_cursor": None}
