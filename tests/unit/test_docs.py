"""Docs stay true: every setting of every service is in the README's configuration table."""

from pathlib import Path

import pytest

from services.gateway.settings import GatewaySettings
from services.ingest.settings import IngestSettings
from services.registry.settings import RegistrySettings
from services.registry.timeliness.settings import TimelinessSettings
from services.search.settings import SearchSettings
from shared.settings import ServiceSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.parametrize("settings", [GatewaySettings, IngestSettings, RegistrySettings,
                                      SearchSettings, TimelinessSettings])
def test_every_setting_is_documented_in_the_readme(settings):
    prefix = settings.model_config["env_prefix"]
    missing = [f"{prefix}{name.upper()}" for name in settings.model_fields
               if name not in ServiceSettings.model_fields
               and f"`{prefix}{name.upper()}`" not in README]
    assert missing == []


def test_readme_shows_the_two_commands():
    assert "make up" in README and "make test" in README
