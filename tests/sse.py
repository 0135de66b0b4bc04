"""A small blocking Server-Sent Events reader for the tests (the benchmark has an asyncio one)."""
from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit


class EventReader:
    """One open `text/event-stream` response, read event by event."""

    def __init__(self, base_url: str, path: str, headers: dict | None = None, timeout_s: float = 5):
        address = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout_s)
        self.conn.request("GET", path, headers=headers or {})
        self.sock = self.conn.sock          # the response keeps it; the connection may let go
        self.response = self.conn.getresponse()

    def next(self, timeout_s: float = 5) -> dict:
        """The next event's fields (`event`, `id`, `data`, `retry`, `comment`); EOFError when the
        server ended the stream."""
        self.sock.settimeout(timeout_s)
        fields: dict[str, str] = {}
        while True:
            line = self.response.readline()
            if not line:
                raise EOFError("the server ended the stream")
            line = line.decode().rstrip("\r\n")
            if not line:
                if fields:
                    return fields
                continue
            if line.startswith(":"):
                fields["comment"] = line[1:].strip()
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields[name] = f"{fields[name]}\n{value}" if name == "data" and name in fields else value

    def next_of(self, kind: str, timeout_s: float = 5) -> dict:
        """The next `kind` event (`summary`, `freshness`, or `comment` for a heartbeat), skipping
        others; its `data` parsed from JSON."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind} event within {timeout_s} s")
            event = self.next(remaining)
            if kind == "comment" and "comment" in event or event.get("event") == kind:
                if "data" in event:
                    event["data"] = json.loads(event["data"])
                return event

    def close(self) -> None:
        self.response.close()
        self.conn.close()
