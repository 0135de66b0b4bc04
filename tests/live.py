"""The product live in the test process: a follower syncing (optional) and the dashboard served
over HTTP on a free port, for the browser and push tests."""
from __future__ import annotations

import json
import socket
import threading
import urllib.request
from contextlib import closing

from werkzeug.serving import make_server


def free_port() -> int:
    """A TCP port nothing listens on now (for a server the test starts itself)."""
    with closing(socket.socket()) as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


class LiveProduct:
    """Sources, a follower syncing them (unless `follow=False`), and the dashboard served over HTTP."""

    def __init__(self, env, quiet_after_s=60, follow=True, stream_retry_ms=15_000, **settings):
        from dashboard import create_app
        from pisa.sync.runner import follow_all

        self.env = env
        self.stop = threading.Event()
        self.sync = threading.Thread(target=follow_all, args=(env.settings, self.stop), daemon=True)
        if follow:
            self.sync.start()
        app = create_app({"SETTINGS": env.settings.replace(**settings), "PAGE_QUIET_AFTER_S": quiet_after_s,
                          "PAGE_STREAM_RETRY_MS": stream_retry_ms})
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
            return json.load(response)

    def stop_sync(self) -> None:
        self.stop.set()
        if self.sync.ident is not None:
            self.sync.join(timeout=10)

    def close(self) -> None:
        self.stop_sync()
        self.app.extensions["pisa_feed"].stop()      # ends the open streams, so shutdown returns
        self.server.shutdown()
