"""CKAN's answer envelope, built in one place for every service that speaks CKAN's action API
(the gateway's read actions, ingest's ``datastore_create``/``datastore_upsert``):
``{"help", "success", "result"}``, and for errors ``{"help", "success": false,
"error": {"__type", "message", "code", "details"}}`` (CKAN's ``__type`` and message with the
platform's ``code`` and ``details`` beside them), so ckanapi raises ``NotFound``,
``NotAuthorized`` and ``ValidationError`` as it does against CKAN.
"""

from __future__ import annotations

from typing import Any

HELP = "{base}/api/3/action/help_show?name={action}"
CKAN_TYPES = {400: "Validation Error", 401: "Authorization Error", 403: "Authorization Error",
              404: "Not Found Error", 405: "Validation Error", 409: "Validation Error",
              413: "Validation Error", 415: "Validation Error", 422: "Validation Error",
              429: "Validation Error"}
CKAN_TYPE_OF_CODE = {"unknown_action": "Bad request - Action name not known"}


def envelope(base: str, action: str, result: Any) -> dict:
    return {"help": HELP.format(base=base, action=action), "success": True, "result": result}


def error_envelope(base: str, action: str, status: int, error: dict,
                   ckan_type: str | None = None) -> dict:
    """The one CKAN error envelope around the platform's ``{code, message, details}``."""
    code = str(error.get("code") or "error")
    ckan_type = ckan_type or CKAN_TYPE_OF_CODE.get(code) or CKAN_TYPES.get(status,
                                                                          "Internal Error")
    return {"help": HELP.format(base=base, action=action), "success": False,
            "error": {"__type": ckan_type, "message": str(error.get("message")
                                                          or "Permintaan gagal."),
                      "code": code, "details": error.get("details") or []}}
