"""Benchmark of the API: viewers polling the five chart endpoints once a second, under gunicorn.

    .venv/bin/python bench/api.py [--viewers 1000] [--seconds 30] [--sweep 100,200,400,700,1000]

Creates its own databases (pisa_bench_api_*), syncs them, starts gunicorn with the project's
gunicorn.conf.py, then:
  1. a sweep: for each viewer count, 10 s of viewers (each polls the five endpoints once a second
     with If-None-Match, as a browser does) -> req/s, p50, p99, errors;
  2. the main run: --viewers for --seconds;
  3. the baseline, the query-on-read design (bench/baseline_app.py: every request aggregates the
     20 source databases), under the same main load;
  4. saturation throughput of both designs with wrk (closed loop on /tmins, measured first, on a
     fresh server), and their ratio.
The load generator runs in two processes on the same 2-core machine as the server: past a few
hundred viewers it competes with the server for the CPU, which the sweep makes visible.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_settings, drop_databases, machine_line, settings_environment  # noqa: E402
from pisa.central_setup import init_central  # noqa: E402
from pisa.config import COUNTRIES  # noqa: E402
from pisa.sources.setup import init_sources  # noqa: E402
from pisa.sync import runner  # noqa: E402

PATHS = ("/submissions", "/sot", "/tmins", "/escs", "/eeb")
OURS_PORT, BASELINE_PORT = 18081, 18082
CLIENT_PROCESSES = 2
REQUEST_TIMEOUT_S = 10
SWEEP_SECONDS = 10


def create_and_sync(rows: int):
    settings = bench_settings("api", COUNTRIES)
    print(f"  creating 20 sources x {rows:,} rows and syncing them...", flush=True)
    init_central(settings, reset=True)
    init_sources(settings, rows=rows, filler_columns=20, reset=True, seed=3)
    assert all(r.status == "ok" for r in runner.sync_all_once(settings))
    return settings


def start_gunicorn(app: str, port: int, env: dict, pythonpath: str | None = None, root: Path = ROOT) -> subprocess.Popen:
    """gunicorn serving `app` as the Procfile does, from `root` (a checkout of another revision, say)."""
    command = [str(Path(sys.executable).parent / "gunicorn"), "--config", str(root / "gunicorn.conf.py")]
    if pythonpath:
        command += ["--pythonpath", pythonpath]
    process = subprocess.Popen(command + [app], cwd=root, env={**os.environ, **env, "PISA_PORT": str(port)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/submissions", timeout=30).read()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"gunicorn for {app} did not answer on port {port}")


# -- the viewers --------------------------------------------------------------------------------
async def _viewer(session, base: str, start: float, stop: float, latencies: list, errors: list) -> None:
    import aiohttp
    loop = asyncio.get_running_loop()
    etags: dict[str, str] = {}

    async def fetch(path: str) -> None:
        headers = {"If-None-Match": etags[path]} if path in etags else {}
        began = time.perf_counter()
        try:
            async with session.get(base + path, headers=headers) as response:
                await response.read()
                if response.status == 200 and "ETag" in response.headers:
                    etags[path] = response.headers["ETag"]
                if response.status not in (200, 304):
                    errors.append(response.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            errors.append(type(exc).__name__)
        latencies.append(time.perf_counter() - began)

    # Every second the five polls go out together; like a browser (a few connections per host),
    # a viewer whose polls come back late polls again at once rather than piling requests up.
    tick = start
    while tick < stop:
        await asyncio.sleep(max(0.0, tick - loop.time()))
        await asyncio.gather(*(fetch(path) for path in PATHS))
        tick = max(tick + 1.0, loop.time())


async def _viewers(base: str, viewers: int, seconds: float, offset_seed: int) -> tuple[list, list, float]:
    import random

    import aiohttp
    rng = random.Random(offset_seed)
    latencies: list[float] = []
    errors: list = []
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.5
        await asyncio.gather(*(_viewer(session, base, start + rng.random(), start + seconds, latencies, errors)
                               for _ in range(viewers)))
        elapsed = loop.time() - start          # longer than `seconds` when the server falls behind
    return latencies, errors, elapsed


def _client_process(args) -> tuple[list, list, float]:
    return asyncio.run(_viewers(*args))


def run_viewers(port: int, viewers: int, seconds: float) -> dict:
    """`viewers` viewers polling the five endpoints once a second for `seconds`."""
    base = f"http://127.0.0.1:{port}"
    shares = [viewers // CLIENT_PROCESSES + (1 if i < viewers % CLIENT_PROCESSES else 0) for i in range(CLIENT_PROCESSES)]
    with multiprocessing.Pool(CLIENT_PROCESSES) as pool:
        parts = pool.map(_client_process, [(base, share, seconds, i) for i, share in enumerate(shares) if share])
    latencies = sorted(latency for part in parts for latency in part[0])
    errors = [error for part in parts for error in part[1]]
    elapsed = max(part[2] for part in parts)
    return {   # req/s counts answered polls (200 or 304); latencies include the failed ones
        "viewers": viewers, "requests": len(latencies), "req_s": (len(latencies) - len(errors)) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else float("nan"),
        "errors": len(errors), "error_kinds": sorted({str(e) for e in errors})[:3],
    }


def saturation(port: int, connections: int, path: str = "/tmins", seconds: int = 10, threads: int = 2,
               headers: dict | None = None) -> float:
    """Closed-loop requests per second with wrk, on a server not yet loaded by the viewers."""
    header_args = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                             *header_args, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return float(match.group(1)) if match else float("nan")


def line(label: str, r: dict) -> str:
    kinds = f" ({', '.join(r['error_kinds'])})" if r["errors"] else ""
    return (f"  {label:<10} {r['viewers']:>6} viewers  {r['req_s']:>8,.0f} req/s  p50 {r['p50_ms']:>7.2f} ms  "
            f"p99 {r['p99_ms']:>8.2f} ms  errors {r['errors']}{kinds}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--sweep", default="50,100,200,300,400,500,700,1000")
    parser.add_argument("--rows", type=int, default=2000, help="rows per source (default 2,000)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (make bench installs it with apt-get)", file=sys.stderr)
        return 2

    print(machine_line("API benchmark"))
    settings = create_and_sync(args.rows)
    env = settings_environment(settings)
    ours = start_gunicorn("dashboard:create_app()", OURS_PORT, env)
    baseline = None
    try:
        ours_saturation = saturation(OURS_PORT, connections=64)
        print(f"Ours (pre-aggregated, cached snapshot), sweep of {SWEEP_SECONDS} s steps:", flush=True)
        sweep = [run_viewers(OURS_PORT, int(v), SWEEP_SECONDS) for v in args.sweep.split(",")]
        for result in sweep:
            print(line("ours", result), flush=True)
        main_run = run_viewers(OURS_PORT, args.viewers, args.seconds)
        print(f"Main run, {args.seconds:.0f} s:")
        print(line("ours", main_run), flush=True)
        ours.terminate()
        ours.wait(timeout=30)

        # Each baseline thread holds a connection to each of the 20 sources: one thread per worker
        # keeps it well inside PostgreSQL's max_connections (100). Its work is CPU in PostgreSQL,
        # so more threads would not serve more.
        baseline = start_gunicorn("baseline_app:create_app()", BASELINE_PORT, {**env, "PISA_WEB_THREADS": "1"},
                                  pythonpath=str(ROOT / "bench"))
        baseline_saturation = saturation(BASELINE_PORT, connections=4)   # more would only queue
        baseline_small = run_viewers(BASELINE_PORT, int(args.sweep.split(",")[0]), SWEEP_SECONDS)
        print(line("baseline", baseline_small), flush=True)
        baseline_run = run_viewers(BASELINE_PORT, args.viewers, args.seconds)
        print(line("baseline", baseline_run), flush=True)
    finally:
        for process in (ours, baseline):
            if process and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        if not args.keep:
            drop_databases(settings)

    good = [r for r in sweep if r["p99_ms"] <= 10 and r["errors"] == 0]
    print()
    print(f"Largest viewer count in the sweep with p99 <= 10 ms and no errors: "
          f"{max((r['viewers'] for r in good), default=0)}")
    print(f"Saturation (wrk on /tmins; 64 connections to ours, 4 to the baseline): ours {ours_saturation:,.0f} req/s, "
          f"baseline {baseline_saturation:,.1f} req/s: {ours_saturation / max(baseline_saturation, 0.1):,.0f}x (target >= 50x)")
    print(f"Under {args.viewers} viewers: ours served {main_run['req_s']:,.0f} req/s with {main_run['errors']} errors, "
          f"the baseline {baseline_run['req_s']:,.0f} req/s with {baseline_run['errors']} errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
