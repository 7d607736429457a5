"""Up-to-dateness in CKAN packages: the registry's ``last_updated`` and ``currency`` of a
dataset, as top-level package fields and extras CKAN clients can read."""

from __future__ import annotations


def package_fields(dataset: dict) -> dict:
    currency = dataset.get("currency") or {}
    if not currency:
        return {}
    return {"last_updated": dataset.get("last_updated"), "currency": currency.get("label"),
            "is_current": bool(currency.get("current")),
            "latest_period": currency.get("latest_period")}
