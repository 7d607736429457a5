"""Registry answers hold the fields their schema declares, and no other: in production an
undeclared key is dropped (never a 500), under the test suite it fails the request so the
field gets declared (services/registry/models.py ``Open``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from services.registry.models import RegionRef

PROBE = ("from services.registry.models import RegionRef; "
         "print(RegionRef.model_validate({'code': '64.08', 'name': 'Kutai Timur', "
         "'secret': 'x'}).model_dump_json())")


def test_the_suite_refuses_an_undeclared_answer_field():
    assert os.environ["SATUDATA_STRICT_ANSWERS"] == "1"
    with pytest.raises(ValidationError, match="secret"):
        RegionRef.model_validate({"code": "64.08", "name": "Kutai Timur", "secret": "x"})


def test_production_drops_an_undeclared_answer_field():
    env = {k: v for k, v in os.environ.items() if k != "SATUDATA_STRICT_ANSWERS"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == '{"code":"64.08","name":"Kutai Timur","level":null}'
