"""Each source on a PostgreSQL server of its own, as in production: one small instance per country.

    .venv/bin/python bench/source_servers.py up [--sources ALB,ARG,...]
    .venv/bin/python bench/source_servers.py down
    .venv/bin/python bench/source_servers.py freshness [bench/freshness.py's options]

On the local rig the twenty source databases share one server, and so one write-ahead log: every
commit wakes all twenty WAL senders, and each decodes every source's changes. In production each
country's database is on a server of its own. `up` makes that here: one PostgreSQL 15 instance per
source (initdb as the postgres user, wal_level=logical), listening only on a Unix socket in its own
folder under /var/lib/postgresql/pisa-source-servers, and prints the PISA_SOURCE_URL_TEMPLATE that
points at them (the socket folder, percent-encoded, as the host: libpq and Airflow's connection
URIs both read it). `freshness` runs the whole benchmark on them: up, sources of 500 rows, a
central database of its own, bench/freshness.py with the options given, then down.
It needs root (to act as the postgres user); it is not part of `make run` or the tests.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pisa import db  # noqa: E402
from pisa.config import load_settings  # noqa: E402

HOME = Path("/var/lib/postgresql/pisa-source-servers")
PG_BIN = Path(f"/usr/lib/postgresql/{os.environ.get('PISA_PG_MAJOR', '15')}/bin")
CENTRAL_DB = "pisa_central_source_servers"
# Small instances: twenty of them beside the central server on one machine.
SERVER_SETTINGS = {"wal_level": "logical", "max_replication_slots": "8", "max_wal_senders": "8",
                   "shared_buffers": "32MB", "max_connections": "40", "listen_addresses": "''"}


def as_postgres(*command: str, check: bool = True) -> int:
    """Run a PostgreSQL server command as the postgres user (initdb and pg_ctl refuse root); its
    exit status."""
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=check,
                          stdout=subprocess.DEVNULL).returncode


def source_url_template() -> str:
    host = quote(str(HOME), safe="")
    return f"postgresql://postgres@{host}%2F{{cnt}}/pisa_src_{{cnt}}"


def up(sources: list[str]) -> str:
    HOME.mkdir(parents=True, exist_ok=True)
    shutil.chown(HOME, "postgres", "postgres")
    for source in sources:
        data = HOME / source.lower()         # as PISA_SOURCE_URL_TEMPLATE's {cnt} spells it
        if not (data / "PG_VERSION").exists():
            as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = " ".join(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items())
        if as_postgres(str(PG_BIN / "pg_ctl"), "status", "-D", str(data), check=False) != 0:
            as_postgres(str(PG_BIN / "pg_ctl"), "start", "-w", "-D", str(data), "-l", str(data / "server.log"),
                        "-o", f"{options} -c unix_socket_directories={data}")
        print(f"  {source}: a server of its own, socket in {data}", flush=True)
    template = source_url_template()
    print(f"PISA_SOURCE_URL_TEMPLATE={template}")
    return template


def down() -> None:
    if not HOME.is_dir():
        return
    for data in sorted(HOME.iterdir()):
        if (data / "postmaster.pid").exists():
            as_postgres(str(PG_BIN / "pg_ctl"), "stop", "-m", "fast", "-D", str(data))
        print(f"  {data.name}: stopped and removed", flush=True)
    shutil.rmtree(HOME)


def freshness(sources: list[str], freshness_args: list[str]) -> int:
    settings = load_settings()
    central = settings.central_url.rsplit("/", 1)[0] + f"/{CENTRAL_DB}"
    env = {**os.environ, "PISA_SOURCE_URL_TEMPLATE": up(sources), "PISA_CENTRAL_URL": central,
           "PISA_SOURCES": ",".join(sources)}
    pisa = [str(ROOT / ".venv" / "bin" / "pisa")]
    try:
        subprocess.run(pisa + ["sources", "init", "--reset", "--rows", "500"], env=env, check=True)
        subprocess.run(pisa + ["central", "init", "--reset"], env=env, check=True)
        return subprocess.run([sys.executable, str(ROOT / "bench" / "freshness.py"), *freshness_args],
                              env=env).returncode
    finally:
        subprocess.run(pisa + ["slots", "drop"], env=env)
        down()
        db.drop_database(central)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("up", "down", "freshness"))
    parser.add_argument("--sources", help="comma-separated (default: PISA_SOURCES, all twenty)")
    args, rest = parser.parse_known_args()
    if os.geteuid() != 0:
        print("bench/source_servers.py runs servers as the postgres user: run it as root", file=sys.stderr)
        return 2
    sources = args.sources.split(",") if args.sources else list(load_settings().sources)
    if args.action == "up":
        up(sources)
    elif args.action == "down":
        down()
    else:
        return freshness(sources, rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
