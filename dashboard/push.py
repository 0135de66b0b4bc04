"""Push: each API process listens for the sync's notifications and wakes its streams.

One `ChangeFeed` per process, started by its first stream: a thread (a greenlet under gunicorn's
gevent worker) with a central connection of its own, outside the request pool, LISTENing on the
channel the sync notifies when a transaction that changed figures commits. On a notification
(all that arrived within `PISA_API_CACHE_SECONDS` of its last read count as one: a process reads
the summaries no more often than it did for polling) it reads them at once and wakes every
stream of the process. It also reads them every `TICK_S`, because ages and source states move
without a notification. While it listens, the polling requests answer from its reads too, so
none waits for a read of its own. While it cannot listen (the database is down, restarting) it
retries with back-off and says so; the timed reads go on, so the streams still move, as often as
polling would, and the polls read for themselves again.
"""
from __future__ import annotations

import itertools
import logging
import select
import threading
import time

import gevent
import psycopg2
from flask import Flask, current_app
from gevent import monkey

from dashboard.db import DatabaseUnavailable, Snapshot, SummaryReader
from pisa import db

log = logging.getLogger(__name__)

TICK_S = 1.0                    # a read at least this often: ages and states move without a notify
BACKOFF_S = (0.5, 30.0)         # the first and the longest wait before listening again
# A change wakes a process's streams a lane at a time. Under gevent the feed waits between lanes
# until the worker has nothing else to do, so a poll that arrives while five hundred streams are
# being written waits for one lane of them (about a millisecond), not for all.
LANES = 16


class ChangeFeed:
    """The process's latest summaries, a version that moves with each read, and a way to wait."""

    def __init__(self, reader: SummaryReader, listen_url: str):
        self.reader = reader
        self.listen_url = listen_url
        self.tick_s = TICK_S
        self.version = 0
        self.snapshot: Snapshot | None = None
        self.listening = False
        self.stopped = threading.Event()
        self._next_version = _lane_events()
        self._lane_numbers = itertools.count()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Start listening (once; later calls do nothing)."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pisa-change-feed", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Stop listening and end every stream waiting on this feed."""
        self.stopped.set()
        for lane in self._next_version:
            lane.set()

    def keeps_reads_fresh(self) -> bool:
        """Listening and not stopped (a stopped listener may sit in select() a while): each
        change, and every second, is read."""
        return self.listening and not self.stopped.is_set()

    def lane(self) -> int:
        """The lane of a new stream (they take turns)."""
        return next(self._lane_numbers) % LANES

    def wait(self, seen_version: int, timeout: float, lane: int) -> int:
        """The version once it differs from `seen_version`, the feed stops, or `timeout` passes.
        (One Event per lane and version: setting it wakes the lane's streams without a lock they
        all take.)"""
        next_version = self._next_version[lane]
        if self.version == seen_version and not self.stopped.is_set():
            next_version.wait(max(0.0, timeout))
        return self.version

    def _publish(self) -> None:
        try:
            snapshot = self.reader.read_now()
        except DatabaseUnavailable as exc:       # nothing read yet: the streams keep waiting
            log.warning("push: cannot read the summaries (%s); streams wait for the next read", exc)
            return
        except Exception:                       # a bug must not stop every stream of the process
            log.exception("push: reading the summaries failed; trying again at the next change or second")
            return
        if snapshot is not self.snapshot:
            # The version moves before the Event is replaced: a stream that takes the new Event
            # sees the new version, and one that took the old Event is woken by it.
            self.snapshot = snapshot
            self.version += 1
            woken, self._next_version = self._next_version, _lane_events()
            for lane in woken:
                lane.set()
                _let_waiting_requests_in()

    def _run(self) -> None:
        conn, backoff, retry_at, next_read, last_read = None, BACKOFF_S[0], 0.0, 0.0, 0.0
        while not self.stopped.is_set():
            now = time.monotonic()
            if conn is None and now >= retry_at:
                try:
                    conn = self._listen()
                    backoff, next_read = BACKOFF_S[0], 0.0    # read now: changes while not listening
                except psycopg2.Error as exc:
                    log.warning("push: cannot listen for changes (%s); retrying in %.1f s, and the streams "
                                "move every %.0f s meanwhile", db.first_line(exc), backoff, self.tick_s)
                    retry_at, backoff = now + backoff, min(backoff * 2, BACKOFF_S[1])
            timeout = max(0.0, next_read - time.monotonic())
            notified = False
            if conn is None:
                self.stopped.wait(min(timeout, max(0.0, retry_at - time.monotonic())))
            else:
                try:
                    notified = self._notified(conn, timeout)
                except (psycopg2.Error, OSError) as exc:
                    log.warning("push: the listening connection failed (%s); listening again", db.first_line(exc))
                    conn = self._close(conn)
            if notified or time.monotonic() >= next_read:
                self.stopped.wait(max(0.0, last_read + self.reader.cache_seconds - time.monotonic()))
                last_read = time.monotonic()
                next_read = last_read + self.tick_s
                self._publish()
        if conn is not None:
            self._close(conn)

    def _listen(self):
        conn = db.connect(self.listen_url, application_name="pisa-api-listen", autocommit=True)
        with conn.cursor() as cur:
            cur.execute(db.load_sql("api/listen_figures_changed.sql"))
        self.listening = True
        log.info("push: listening for changes to the figures")
        return conn

    @staticmethod
    def _notified(conn, timeout: float) -> bool:
        """Whether notifications arrived within `timeout`; all those waiting count as one."""
        if not select.select([conn], [], [], timeout)[0]:
            return False
        conn.poll()
        notified = bool(conn.notifies)
        conn.notifies.clear()
        return notified

    def _close(self, conn) -> None:
        """Close the listening connection; returns None, what `conn` becomes."""
        self.listening = False
        try:
            conn.close()
        except psycopg2.Error:
            pass


def _lane_events() -> list[threading.Event]:
    """One Event per lane for the next version: set, and replaced, when the version moves."""
    return [threading.Event() for _ in range(LANES)]


def _let_waiting_requests_in() -> None:
    """Under gevent, wait until the worker's loop is idle: the requests that arrived meanwhile,
    and the lane just woken, run first. (Threads need no turn: the OS schedules them.)"""
    if monkey.is_module_patched("threading"):
        gevent.idle()


_feeds: list[ChangeFeed] = []       # this process's, for close_streams


def init_app(app: Flask) -> None:
    """Attach a ChangeFeed over the app's reader; it starts with the first stream."""
    feed = ChangeFeed(app.extensions["pisa_reader"], app.config["SETTINGS"].api_url())
    feed.reader.kept_fresh = feed.keeps_reads_fresh       # the polls answer from its reads
    app.extensions["pisa_feed"] = feed
    _feeds.append(feed)


def feed() -> ChangeFeed:
    """The current app's ChangeFeed, started."""
    change_feed = current_app.extensions["pisa_feed"]
    change_feed.start()
    return change_feed


def close_streams() -> None:
    """End every stream of this process cleanly (gunicorn.conf.py calls it when a worker stops):
    the browsers reconnect at once, to a worker that runs."""
    for change_feed in _feeds:
        change_feed.stop()
