"""What the benchmarks share: their own databases on the configured server, and the machine line."""
from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from pisa import db
from pisa.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def bench_settings(name: str, sources) -> Settings:
    """Settings for databases named pisa_bench_<name>_* (server: PISA_BENCH_SERVER_URL)."""
    server = os.environ.get("PISA_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432")
    return load_settings({
        "PISA_CENTRAL_URL": f"{server}/pisa_bench_{name}_central",
        "PISA_SOURCE_URL_TEMPLATE": f"{server}/pisa_bench_{name}_src_{{cnt}}",
        "PISA_SOURCES": ",".join(sources),
        "PISA_API_ROLE": "pisa_bench_api",
    })


def settings_environment(settings: Settings) -> dict:
    """The environment that makes a child process (gunicorn) use these settings."""
    return {"PISA_CENTRAL_URL": settings.central_url, "PISA_SOURCE_URL_TEMPLATE": settings.source_url_template,
            "PISA_SOURCES": ",".join(settings.sources), "PISA_API_ROLE": settings.api_role}


def drop_databases(settings: Settings) -> None:
    """Drop the central and source databases of `settings`."""
    for url in [settings.central_url] + [settings.source_url(s) for s in settings.sources]:
        db.drop_database(url)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank `q` quantile of `values`, sorted ascending; nan when there are none."""
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a process has used (0 once it is gone), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# A process of the running product, by a marker in its command line: the first that matches.
PRODUCT_PARTS = (("airflow worker", "task processes"), ("simulate", "simulator"), ("scheduler", "scheduler"),
                 ("dag-processor", "dag-processor"), ("triggerer", "triggerer"), ("api-server", "api-server"),
                 ("api_server", "api-server"), ("gunicorn", "dashboard"), ("sync", "sync"))


def product_part(cmdline: str) -> str | None:
    """The product part a command line belongs to (PRODUCT_PARTS), or None."""
    return next((label for marker, label in PRODUCT_PARTS if marker in cmdline), None)


def machine_line(title: str) -> str:
    return f"{title} on {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}"


def summary(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/v1/summary", timeout=5) as response:
        return json.load(response)


def start_product(settings: Settings, sim_rate: float = 0) -> subprocess.Popen | None:
    """`scripts/run.sh` (Airflow included) in a session of its own, once every source is live;
    None when the API answers already (the product runs: measure that one)."""
    base = f"http://127.0.0.1:{settings.port}"
    try:
        summary(base)
        print("  the API answers already: measuring the running product (nothing else may write)")
        return None
    except OSError:
        pass
    print(f"  starting the product (scripts/run.sh, simulator at {sim_rate:g} rows/s)...", flush=True)
    log = open(ROOT / ".airflow-bench-run.log", "w")
    product = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env={**os.environ, "PISA_SIM_RATE": str(sim_rate)},
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            state = summary(base)
            if state["sources_live"] == state["sources_total"]:
                return product
        except OSError:
            pass
        time.sleep(1)
    stop_product(product)
    raise RuntimeError("the product did not come up with every source live within 5 minutes")


def stop_product(product: subprocess.Popen | None) -> None:
    if product is not None:
        # TERM, not INT: a shell started from a background job ignores SIGINT and cannot trap it.
        os.killpg(product.pid, signal.SIGTERM)
        product.wait(timeout=60)
