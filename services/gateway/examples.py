"""An example value built from a JSON schema, with the domain's own values.

Used for the operations whose answer has no hand-written example in the OpenAPI document: the
schema is the truth (it comes from the response models), the names of fields give realistic
values (``region_code`` -> a Kutai Timur desa code, ``dataset`` -> the demo dataset's slug).
"""

from __future__ import annotations

from typing import Any

UUID = "0b6f7c1e-2f55-4d0a-9a51-3b8f0e0c2a11"
BY_NAME: dict[str, Any] = {
    "slug": "jumlah-penduduk", "dataset": "jumlah-penduduk",
    "title": "Jumlah Penduduk menurut Desa dan Jenis Kelamin",
    "description": "Jumlah penduduk per desa/kelurahan menurut jenis kelamin.",
    "region_code": "64.08.04.2001", "region": "64.08.04.2001", "code": "64.08.04.2001",
    "parent_code": "64.08.04", "region_scope": "64.08", "successor_code": None,
    "kecamatan": "64.08.04", "region_name": "Sangatta Utara", "name": "Sangatta Utara",
    "level": "desa", "period": "2024", "measure": "jumlah", "unit": "jiwa",
    "publisher_id": "disdukcapil", "publisher_name": "Dinas Kependudukan dan Pencatatan Sipil",
    "kind": "opd", "role": "publisher", "label": "kunci operator desa",
    "frequency": "annual", "topic": "kependudukan", "license": "CC-BY-4.0",
    "status": "completed", "source": "csv", "filename": "penduduk-2024.csv",
    "key": "sd_live_3kq9...", "alias": "6404040012", "note": "Sesuai data BPS.",
    "message": "Kolom jumlah harus angka.", "field": "jumlah", "reason": "kode tidak dikenal",
    "status_url": f"/v1/submissions/{UUID}", "next_cursor": None, "cursor": None,
    "q": "penduduk", "error": None,
}


def _resolve(schema: dict, components: dict) -> dict:
    seen = 0
    while "$ref" in schema and seen < 20:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        seen += 1
    return schema


def example_for(schema: dict, components: dict, name: str = "", depth: int = 0) -> Any:
    schema = _resolve(schema, components)
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return BY_NAME.get(name) if BY_NAME.get(name) in schema["enum"] else schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o, components).get("type") != "null"]
            return example_for(options[0], components, name, depth) if options else None
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part, components))
        return example_for(merged, components, name, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        if depth > 5:
            return {}
        return {prop: example_for(sub, components, prop, depth + 1)
                for prop, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        if depth > 5:
            return []
        item = example_for(schema.get("items") or {}, components, name, depth + 1)
        return [] if item in (None, {}) and name in ("children", "rejected_rows") else [item]
    if name in BY_NAME and kind in (None, "string"):
        return BY_NAME[name]
    fmt = schema.get("format")
    if kind == "string":
        return {"date-time": "2024-06-30T08:00:00Z", "date": "2024-06-30", "uuid": UUID,
                "uri": "https://data.kutaitimurkab.go.id/", "binary": "(berkas)"}.get(fmt, "teks")
    if kind == "integer":
        return {"version": 1, "count": 1, "rows": 2, "chunks": 1, "seq": 41, "expected": 141,
                "reporting": 139, "reported": 139, "missing": 2}.get(name, 1)
    if kind == "number":
        return {"rate": 0.986, "value": 2315}.get(name, 1.5)
    if kind == "boolean":
        return False
    if kind is None and not schema:
        return BY_NAME.get(name, "nilai")
    return None
