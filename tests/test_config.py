"""Settings are data: each has a default and help, and the README documents every one."""
from pathlib import Path

import pytest

from pisa.config import COUNTRIES, SETTINGS, ConfigError, load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_in_the_readme():
    text = README.read_text()
    assert [s.name for s in SETTINGS if f"`{s.name}`" not in text] == []


def test_defaults_match_the_design():
    settings = load_settings({})
    assert settings.sources == COUNTRIES
    assert settings.central_url == "postgresql://postgres@127.0.0.1:5432/pisa_central"
    assert settings.source_url("ALB") == "postgresql://postgres@127.0.0.1:5432/pisa_src_alb"
    assert (settings.port, settings.sim_rate, settings.poll_interval) == (8000, 20.0, 0.25)


def test_sources_are_normalised_and_checked():
    assert load_settings({"PISA_SOURCES": " alb, ARG,alb "}).sources == ("ALB", "ARG")
    with pytest.raises(ConfigError, match="'AL1' is not a 3-letter country code"):
        load_settings({"PISA_SOURCES": "ALB,AL1"})


def test_a_malformed_number_names_its_variable():
    with pytest.raises(ConfigError, match="PISA_POLL_INTERVAL: 'fast' is not a valid float"):
        load_settings({"PISA_POLL_INTERVAL": "fast"})
