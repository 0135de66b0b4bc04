"""Settings are data: each has a default and help, and the README documents every one."""
import re
from pathlib import Path

import pytest

from dataclasses import fields

from pisa.config import COUNTRIES, SETTINGS, ConfigError, Settings, load_settings, setting_field

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TABLE_ROW = re.compile(r"\| `(PISA_[A-Z_]+)` \| (.+?) \| .+ \|")


def readme_defaults() -> dict[str, str]:
    """The README's Configuration table: variable -> its default as the README writes it."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return {m[1]: m[2] for m in map(TABLE_ROW.fullmatch, section.splitlines()) if m}


def documented(setting) -> str:
    """How the README writes a setting's default: in backticks, `empty`, or the 20 codes in words."""
    if setting.name == "PISA_SOURCES":
        return f"the {len(COUNTRIES)} codes, comma-separated"
    return f"`{setting.default}`" if setting.default else "empty"


def test_the_readme_documents_every_setting_with_its_default():
    assert readme_defaults() == {s.name: documented(s) for s in SETTINGS}


def test_env_example_lists_every_setting_commented_out_with_its_default():
    lines = [line for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line]
    assert lines == [f"# {s.name}={s.default}" for s in SETTINGS]


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


def test_every_setting_is_one_field_and_every_field_one_setting():
    assert sorted(setting_field(s.name) for s in SETTINGS) == sorted(f.name for f in fields(Settings))


def test_an_explicit_value_is_kept_as_given():
    settings = load_settings({"PISA_POLL_INTERVAL": "0", "PISA_SIM_RATE": "0", "PISA_API_CACHE_SECONDS": "0",
                              "PISA_MAX_POLL_DUTY": "1", "PISA_RUN_SYNC": "cli"})
    assert (settings.poll_interval, settings.sim_rate, settings.api_cache_seconds, settings.max_poll_duty,
            settings.run_sync) == (0.0, 0.0, 0.0, 1.0, "cli")


@pytest.mark.parametrize("name, value, message", [
    ("PISA_MAX_POLL_DUTY", "0", "PISA_MAX_POLL_DUTY: must be between 0.01 and 1, got '0'"),
    ("PISA_MAX_POLL_DUTY", "1.5", "PISA_MAX_POLL_DUTY: must be between 0.01 and 1, got '1.5'"),
    ("PISA_BATCH_ROWS", "0", "PISA_BATCH_ROWS: must be at least 1, got '0'"),
    ("PISA_SYNC_WORKERS", "-2", "PISA_SYNC_WORKERS: must be at least 1, got '-2'"),
    ("PISA_LEASE_TIMEOUT_SECONDS", "0.5", "PISA_LEASE_TIMEOUT_SECONDS: must be between 1 and 86400, got '0.5'"),
    ("PISA_PORT", "70000", "PISA_PORT: must be between 1 and 65535, got '70000'"),
    ("PISA_SIM_RATE", "-1", "PISA_SIM_RATE: must be at least 0, got '-1'"),
    ("PISA_POLL_INTERVAL", "nan", "PISA_POLL_INTERVAL: must be a finite number, got 'nan'"),
    ("PISA_POLL_INTERVAL", "inf", "PISA_POLL_INTERVAL: must be a finite number, got 'inf'"),
    ("PISA_LEASE_TIMEOUT_SECONDS", "1e7", "PISA_LEASE_TIMEOUT_SECONDS: must be between 1 and 86400, got '1e7'"),
    ("PISA_BATCH_ROWS", "1.5", "PISA_BATCH_ROWS: '1.5' is not a valid int"),
    ("PISA_RUN_SYNC", "cron", "PISA_RUN_SYNC: must be one of airflow, cli, got 'cron'"),
    ("PISA_CAPTURE", "logical", "PISA_CAPTURE: must be one of auto, wal, xmin, got 'logical'"),
])
def test_a_value_outside_its_range_is_an_error_naming_the_variable(name, value, message):
    with pytest.raises(ConfigError) as raised:
        load_settings({name: value})
    assert str(raised.value) == message
