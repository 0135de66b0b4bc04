"""The PISA_* settings as the Python side resolves them, for a shell: `eval "$(python -m pisa.shell_env)"`.

`make run` (scripts/run.sh) decides what to start from PISA_SIM_RATE, PISA_PORT and PISA_RUN_SYNC.
Rather than repeat their defaults in shell syntax (and drift from pisa/config.py), it takes every
setting from here: the environment and `.env` over the defaults, validated by `load_settings()`,
and printed as the effective value (`PISA_SIM_RATE=0.0` prints as `0`), so the shell and the
Python parts it starts always agree.
"""
from __future__ import annotations

import shlex
import sys

from pisa.config import SETTINGS, ConfigError, Settings, load_settings, setting_field


def shell_value(value: object) -> str:
    """A setting's value as the shell should see it: lists comma-separated, 20.0 as 20."""
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def effective_settings(settings: Settings) -> dict[str, str]:
    """Every PISA_* variable with the value the Python side uses."""
    return {setting.name: shell_value(getattr(settings, setting_field(setting.name))) for setting in SETTINGS}


def main() -> int:
    try:
        settings = load_settings()      # also reads `.env` into the environment
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    for name, value in effective_settings(settings).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
