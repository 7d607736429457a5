"""Docs stay true: every setting of every service is in the README's configuration table."""

from pathlib import Path

import pytest

from services.gateway.settings import GatewaySettings
from services.ingest.settings import IngestSettings
from services.registry.feedback.service import FeedbackSettings
from services.registry.sipd.service import SipdSettings
from services.registry.settings import RegistrySettings
from services.registry.timeliness.settings import TimelinessSettings
from services.search.settings import SearchSettings
from shared.settings import ServiceSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.parametrize("settings", [GatewaySettings, IngestSettings, RegistrySettings,
                                      SearchSettings, TimelinessSettings, FeedbackSettings,
                                      SipdSettings])
def test_every_setting_is_documented_in_the_readme(settings):
    prefix = settings.model_config["env_prefix"]
    missing = [f"{prefix}{name.upper()}" for name in settings.model_fields
               if name not in ServiceSettings.model_fields
               and f"`{prefix}{name.upper()}`" not in README]
    assert missing == []


def test_readme_shows_the_two_commands():
    assert "make up" in README and "make test" in README


def test_code_and_docs_name_features_not_tracker_issues():
    """A comment or doc says what a feature is ("checked before publication"), not an issue
    number of a tracker that is not in the repository."""
    import re

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\b[Ii]ssues? \d+")
    files = [p for folder in ("services", "shared", "satudata", "docs", "bench", "deploy")
             for p in (root / folder).rglob("*") if p.is_file()
             and p.suffix in (".py", ".md", ".js", ".html", ".css", ".yaml", ".yml")]
    found = [f"{p.relative_to(root)}:{n}" for p in [*files, root / "README.md"]
             for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []
