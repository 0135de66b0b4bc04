"""Push benchmark: a thousand viewers on the stream, against the same thousand polling.

    .venv/bin/python bench/push.py [--clients 1000] [--pollers 200] [--seconds 60] [--rate 5]

Starts the product (`scripts/run.sh`: Airflow, gunicorn as the Procfile runs it; simulator off)
unless the API already answers on PISA_PORT (then nothing else may write into the sources). Two
phases of --seconds, each with a writer committing --rate marked rows a second into random
sources, one transaction each (the k-th commit is what moves the total count to baseline + k):

  1. push: --clients viewers on /api/v1/stream (asyncio, bare HTTP/1.1, in 4 processes of their own), and
     --pollers viewers polling the five contract endpoints once a second with If-None-Match, as
     the Forage charts do;
  2. poll: the same --clients polling /api/v1/summary once a second with If-None-Match (the page
     before the stream), and the same --pollers.

Per phase: per change and per viewer, commit -> the first event (or poll answer) showing it:
p50/p95/p99/max over all of them, and changes some viewer never saw; the contract endpoints'
p50/p99; how late the viewers' and pollers' own event loops woke (part of what those figures
measure); the dashboard server's CPU (cores, gunicorn master and workers) and RSS at the end.
Targets: commit -> event p99 <= 400 ms at 1,000 stream clients; contract p99 <= 10 ms.

With --baseline REV, the code at git revision REV is served too, by a second gunicorn (from a
worktree, over the same central database, Airflow and sources), and each phase runs --rounds
times against each server in turn: the comparison sees the same box in the same minutes, which
matters more here than any change (this 2-core box swings from 13 to 33 % idle between runs).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench.api import start_gunicorn  # noqa: E402
from bench.common import cpu_seconds, machine_line, start_product, stop_product, summary  # noqa: E402
from bench.freshness import wait_until_still  # noqa: E402
from bench.writer import MarkedWriter, latencies_ms, ms, percentiles  # noqa: E402
from pisa.config import load_settings  # noqa: E402

CLIENT_PROCESSES = 4       # stream or summary viewers
CONTRACT_PROCESSES = 2
CONNECT_S = 15          # for every viewer to connect (and get its first event) before the writer starts
SETTLE_S = 5            # after the writer stops, for the last changes to arrive
LOOP_PROBE_S = 0.005
BASELINE_PORT = 18083
WARM_UP_S = 60          # after starting the product, before the first phase
CONTRACT = ("/submissions", "/sot", "/tmins", "/escs", "/eeb")
COUNT = re.compile(rb'"submissions":\{"count":(\d+)\}')


# -- the viewers (in their own processes) ---------------------------------------------------------
# Bare HTTP/1.1 over asyncio streams, as a load generator such as wrk speaks it: the viewers share
# the server's two cores, and every millisecond of theirs is one the server does not get.
HTTP_HEADERS_END = b"\r\n\r\n"
EVENT_ID = re.compile(rb"(?:^|\n)id: ?([^\n]*)\n")


class Connection:
    """One keep-alive HTTP/1.1 connection to the dashboard."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def send(self, path: str, headers: dict) -> tuple[int, dict]:
        """Send a GET and read the status and headers of its answer (reconnecting when needed)."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{lines}\r\n".encode())
        head = await self.reader.readuntil(HTTP_HEADERS_END)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = dict(line.split(": ", 1) for line in header_lines if ": " in line)
        return int(status_line.split()[1]), {name.lower(): value for name, value in fields.items()}

    async def get(self, path: str, headers: dict) -> tuple[int, dict, bytes]:
        """A whole answer with a Content-Length (or none, for a 304)."""
        try:
            status, fields = await self.send(path, headers)
            body = await self.reader.readexactly(int(fields.get("content-length", 0)))
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()                 # the server closed an idle keep-alive: once more
            status, fields = await self.send(path, headers)
            body = await self.reader.readexactly(int(fields.get("content-length", 0)))
        return status, fields, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def stream_viewer(host: str, port: int, stop_at: float, seen: list) -> None:
    """An EventSource: reads /api/v1/stream, reconnecting with Last-Event-ID when it ends. The
    chunked body is split into events with bytes methods (C speed)."""
    last_id = None
    while time.time() < stop_at:
        connection = Connection(host, port)
        status, _ = await connection.send("/api/v1/stream", {"Last-Event-ID": last_id} if last_id else {})
        if status != 200:
            raise RuntimeError(f"/api/v1/stream answered {status}")
        pending = b""
        while True:
            chunk = await connection.reader.read(65536)
            if not chunk:
                break
            pending += chunk
            *events, pending = pending.split(b"\n\n")
            for event in events:
                found = EVENT_ID.search(event)
                if found:
                    last_id = found.group(1).strip().decode()
                    seen.append((time.time(), int(COUNT.search(event).group(1))))
            if pending.strip() == b"0":
                break                           # the last chunk: the server ended the stream
        connection.close()
        await asyncio.sleep(1)                                  # the stream's `retry`


async def summary_poller(host: str, port: int, stop_at: float, seen: list) -> None:
    """The page before the stream: /api/v1/summary once a second with If-None-Match."""
    await asyncio.sleep(random.random())
    connection, etag = Connection(host, port), None
    while time.time() < stop_at:
        started = time.monotonic()
        status, fields, body = await connection.get("/api/v1/summary", {"If-None-Match": etag} if etag else {})
        if status == 200:
            etag = fields.get("etag")
            seen.append((time.time(), int(COUNT.search(body).group(1))))
        await asyncio.sleep(max(0.0, 1 - (time.monotonic() - started)))
    connection.close()


async def contract_poller(host: str, port: int, stop_at: float, latencies: list) -> None:
    """A Forage viewer: the five chart endpoints once a second, each with If-None-Match."""
    await asyncio.sleep(random.random())
    connection, etags = Connection(host, port), {}
    while time.time() < stop_at:
        started = time.monotonic()
        for path in CONTRACT:
            sent = time.monotonic()
            status, fields, _ = await connection.get(path, {"If-None-Match": etags[path]} if path in etags else {})
            if status == 200:
                etags[path] = fields["etag"]
            elif status != 304:
                raise RuntimeError(f"{path} answered {status}")
            latencies.append((time.monotonic() - sent) * 1000)
        await asyncio.sleep(max(0.0, 1 - (time.monotonic() - started)))
    connection.close()


async def loop_delays(stop_at: float, delays: list) -> None:
    """How late this process's event loop wakes from a 5 ms sleep (ms): the measuring
    instrument's own delay, which every latency measured in the process includes."""
    while time.time() < stop_at:
        asked = time.monotonic()
        await asyncio.sleep(LOOP_PROBE_S)
        delays.append((time.monotonic() - asked - LOOP_PROBE_S) * 1000)


async def _viewers(kind: str, base: str, count: int, stop_at: float) -> dict:
    viewer = {"stream": stream_viewer, "summary": summary_poller, "contract": contract_poller}[kind]
    host, port = base.removeprefix("http://").split(":")
    records = [[] for _ in range(count)]
    errors: list[str] = []
    delays: list[float] = []
    probe = asyncio.create_task(loop_delays(stop_at, delays))

    async def one(i: int) -> None:
        try:
            await asyncio.wait_for(viewer(host, int(port), stop_at, records[i]), max(0.1, stop_at - time.time()))
        except asyncio.TimeoutError:
            pass                                                  # still reading at the end: fine
        except Exception as exc:  # noqa: BLE001 - a viewer's failure is a result, counted
            errors.append(f"{type(exc).__name__}: {exc}")

    await asyncio.gather(*(one(i) for i in range(count)))
    probe.cancel()
    return {"records": records, "errors": errors, "loop_delays": delays}


def run_viewers(args: tuple) -> dict:
    kind, base, count, stop_at = args
    return asyncio.run(_viewers(kind, base, count, stop_at))


# -- the server's cost ----------------------------------------------------------------------------
def dashboard_processes(port: int) -> list[psutil.Process]:
    """gunicorn's master and workers: the processes listening on the dashboard's port."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if "gunicorn" in " ".join(process.info["cmdline"] or []) and any(
                    c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in process.net_connections("tcp")):
                found.append(process)
        except psutil.Error:
            continue
    return found


def cpu_of(processes: list[psutil.Process]) -> float:
    return sum(cpu_seconds(process.pid) for process in processes)


# -- one phase ------------------------------------------------------------------------------------
def phase(settings, port: int, name: str, viewer_kind: str, clients: int, pollers: int, seconds: float,
          rate: float) -> dict:
    base = f"http://127.0.0.1:{port}"
    wait_until_still(base, quiet_s=5)
    baseline = summary(base)["submissions"]["count"]
    stop_at = time.time() + CONNECT_S + seconds + SETTLE_S
    per_process = [clients // CLIENT_PROCESSES + (i < clients % CLIENT_PROCESSES) for i in range(CLIENT_PROCESSES)]
    jobs = [(viewer_kind, base, n, stop_at) for n in per_process]
    jobs += [("contract", base, pollers // CONTRACT_PROCESSES, stop_at)] * (CONTRACT_PROCESSES if pollers else 0)
    server = dashboard_processes(port)
    print(f"  {name}: {clients} viewers ({viewer_kind}) and {pollers} contract pollers; "
          f"writing {rate:g} rows/s for {seconds:g} s after {CONNECT_S} s to connect...", flush=True)
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        pending = pool.map_async(run_viewers, jobs)
        time.sleep(CONNECT_S)
        clients = psutil.Process().children()
        cpu_before, clients_before, wall_before = cpu_of(server), cpu_of(clients), time.monotonic()
        psutil.cpu_times_percent()             # the machine idle share: from here
        writer = MarkedWriter(settings, rate, seconds)
        writer.start()
        writer.join()
        wall = time.monotonic() - wall_before
        cpu, clients_cpu = (cpu_of(server) - cpu_before) / wall, (cpu_of(clients) - clients_before) / wall
        idle = psutil.cpu_times_percent().idle
        rss = sum(p.memory_info().rss for p in server if p.is_running())
        results = pending.get(timeout=seconds + CONNECT_S + SETTLE_S + 120)
    viewers = [r for result in results[:CLIENT_PROCESSES] for r in result["records"]]
    latencies, unseen = [], 0
    for seen in viewers:
        found = latencies_ms(writer.commits, seen, baseline)
        latencies += found
        unseen += len(writer.commits) - len(found)
    contract = [r for result in results[CLIENT_PROCESSES:] for r in result["records"]]
    return {"name": name, "changes": len(writer.commits), "viewers": len(viewers), "unseen": unseen,
            **percentiles(latencies), "contract": percentiles([ms for r in contract for ms in r]),
            "contract_requests": sum(len(r) for r in contract), "errors": [e for r in results for e in r["errors"]],
            "viewers_late": percentiles([d for result in results[:CLIENT_PROCESSES] for d in result["loop_delays"]]),
            "pollers_late": percentiles([d for result in results[CLIENT_PROCESSES:] for d in result["loop_delays"]]),
            "cpu": cpu, "clients_cpu": clients_cpu, "idle": idle, "rss_mb": rss / 2**20}


def report(r: dict) -> None:
    c = r["contract"]
    print(f"    commit -> seen, over {r['changes']} changes x {r['viewers']} viewers: p50 {ms(r['p50'])}, "
          f"p95 {ms(r['p95'])}, p99 {ms(r['p99'])}, max {ms(r['max'])}; never seen {r['unseen']}", flush=True)
    print(f"    contract endpoints ({r['contract_requests']} requests): p50 {ms(c['p50'], 1)}, p99 {ms(c['p99'], 1)}; "
          f"server {r['cpu']:.2f} cores, {r['rss_mb']:.0f} MB RSS; viewer errors {len(r['errors'])}", flush=True)
    print(f"    the viewers' own processes {r['clients_cpu']:.2f} cores; the machine {r['idle']:.0f} % idle", flush=True)
    viewers, pollers = r["viewers_late"], r["pollers_late"]
    print(f"    their own event loops woke late (an answer that arrived meanwhile counts that wait too): the viewers' "
          f"p50 {ms(viewers['p50'], 1)}, p99 {ms(viewers['p99'], 1)}; the contract pollers' p50 {ms(pollers['p50'], 1)}, "
          f"p99 {ms(pollers['p99'], 1)}", flush=True)
    for error in sorted(set(r["errors"]))[:5]:
        print(f"      {error}")


class BaselineServer:
    """gunicorn serving the code at a git revision (a worktree of it), over the same product."""

    def __init__(self, revision: str):
        self.checkout = Path(tempfile.mkdtemp(prefix="pisa-push-baseline-"))
        subprocess.run(["git", "worktree", "add", "--detach", "--force", str(self.checkout), revision],
                       cwd=ROOT, check=True, capture_output=True)
        print(f"  serving {revision} from {self.checkout} on port {BASELINE_PORT} beside this code", flush=True)
        try:
            self.process = start_gunicorn("dashboard:create_app()", BASELINE_PORT, {}, pythonpath=str(self.checkout),
                                          root=self.checkout)
        except BaseException:
            self._remove_checkout()
            raise

    def _remove_checkout(self) -> None:
        subprocess.run(["git", "worktree", "remove", "--force", str(self.checkout)], cwd=ROOT, check=False)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._remove_checkout()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000, help="viewers of the page (default 1000)")
    parser.add_argument("--pollers", type=int, default=200, help="Forage viewers polling the contract (default 200)")
    parser.add_argument("--seconds", type=float, default=60, help="writing time per phase (default 60)")
    parser.add_argument("--rate", type=float, default=5, help="rows committed per second (default 5)")
    parser.add_argument("--phases", default="push,poll", help="push, poll or both (default push,poll)")
    parser.add_argument("--baseline", metavar="REV", help="also serve the code at this git revision and alternate")
    parser.add_argument("--rounds", type=int, default=1, help="times each phase runs against each server (default 1)")
    args = parser.parse_args()
    settings = load_settings()
    print(machine_line("Push benchmark"))
    product = start_product(settings)
    servers, baseline, results = {"this code": settings.port}, None, []
    try:
        if product is not None:
            print(f"  letting the product's start-up settle ({WARM_UP_S} s: twenty first task runs, the first "
                  "syncs; a phase there had the box 1 % idle)...", flush=True)
            time.sleep(WARM_UP_S)
        if args.baseline:
            baseline = BaselineServer(args.baseline)
            servers[args.baseline] = BASELINE_PORT
        for name in args.phases.split(","):
            kind = {"push": "stream", "poll": "summary"}[name]
            for _ in range(args.rounds):
                for code, port in servers.items():
                    if len(servers) > 1:
                        print(f"  [{code}]", flush=True)
                    results.append({"code": code, **phase(settings, port, name, kind, args.clients, args.pollers,
                                                          args.seconds, args.rate)})
                    report(results[-1])
    finally:
        if baseline is not None:
            baseline.stop()
        stop_product(product)
    print()
    print(f"{'code':>10} {'phase':>6} {'viewers':>8} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9} {'unseen':>7} "
          f"{'contract p99':>13} {'cores':>6} {'RSS':>7} {'idle':>5}")
    for r in results:
        print(f"{r['code'][:10]:>10} {r['name']:>6} {r['viewers']:>8} {ms(r['p50']):>9} {ms(r['p95']):>9} "
              f"{ms(r['p99']):>9} {ms(r['max']):>9} {r['unseen']:>7} {ms(r['contract']['p99'], 1):>13} "
              f"{r['cpu']:>6.2f} {r['rss_mb']:>5.0f}MB {r['idle']:>4.0f}%")
    print("(source commit -> first stream event or poll answer showing the row, at every viewer; targets: "
          "push p99 <= 400 ms at 1,000 viewers, contract endpoints p99 <= 10 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
