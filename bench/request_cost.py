"""What one poll of a chart costs the server: in the app, and through gunicorn.

    .venv/bin/python bench/request_cost.py [--requests 5000]

Creates its own databases (pisa_bench_api_*, as bench/api.py), syncs them, then:
  1. in the process, no network: the CPU per request of the five chart endpoints (round robin),
     with If-None-Match naming the current ETag (a 304, what a poller mostly asks) and without,
     through the app as served (dashboard/replay.py in front of Flask) and through Flask alone;
  2. through gunicorn with the project's gunicorn.conf.py and one worker, for each gevent worker
     class: closed-loop requests a second with wrk (one thread, 20 connections, 8 s, conditional
     polls of /submissions). The worker takes one core, wrk the other, so 1 / (req/s) is about
     the worker's CPU per request.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.test import create_environ  # noqa: E402

from bench.api import PATHS, create_and_sync, saturation, start_gunicorn  # noqa: E402
from bench.common import drop_databases, machine_line, settings_environment  # noqa: E402

PORT = 18083
WORKER_CLASSES = ("gevent", "gevent_pywsgi")


def call(app, environ: dict) -> tuple[str, dict]:
    """One GET through a WSGI app (on a copy of `environ`: the app adds its own keys); its status
    and headers."""
    answer = {}
    b"".join(app(dict(environ), lambda status, headers, exc_info=None: answer.update(status=status,
                                                                                     headers=dict(headers))))
    return answer["status"], answer["headers"]


def in_process(settings, requests: int) -> None:
    from dashboard import create_app
    app = create_app({"SETTINGS": settings.replace(api_cache_seconds=3600)})
    served, flask_alone = app.wsgi_app, app.wsgi_app.flask_wsgi
    plain = [create_environ(path) for path in PATHS]
    tagged = [create_environ(path, headers={"If-None-Match": call(app, environ)[1]["ETag"]})
              for path, environ in zip(PATHS, plain)]
    for label, wsgi in (("as served (replay in front of Flask)", served), ("Flask alone", flask_alone)):
        app.wsgi_app = wsgi
        for conditional in (True, False):
            environs = tagged if conditional else plain
            started = time.process_time()
            for i in range(requests):
                call(app, environs[i % len(environs)])
            cost = (time.process_time() - started) / requests * 1e6
            print(f"  {label:<38} {'304, If-None-Match' if conditional else '200, no ETag':<20} {cost:7.1f} us CPU "
                  "a request", flush=True)


def through_gunicorn(settings) -> None:
    env = {**settings_environment(settings), "WEB_CONCURRENCY": "1"}
    for worker_class in WORKER_CLASSES:
        server = start_gunicorn("dashboard:create_app()", PORT,
                                {**env, "GUNICORN_CMD_ARGS": f"--worker-class={worker_class}"})
        try:
            rate = saturation(PORT, connections=20, path="/submissions", seconds=8, threads=1,
                              headers={"If-None-Match": call_etag(PORT)})
            print(f"  gunicorn, one {worker_class} worker: {rate:,.0f} conditional polls a second "
                  f"(about {1e6 / rate:.0f} us of the worker's CPU each)", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)


def call_etag(port: int) -> str:
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/submissions", timeout=10) as response:
        return response.headers["ETag"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="in-process requests per case (default 5,000)")
    args = parser.parse_args()
    print(machine_line("Request cost"))
    settings = create_and_sync(rows=500)
    try:
        in_process(settings, args.requests)
        through_gunicorn(settings)
    finally:
        drop_databases(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
