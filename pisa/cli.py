"""`pisa`: the command-line entry point (simulator, central schema, sync, reconcile, serve)."""
from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading

import psycopg2

from pisa import db
from pisa.config import ConfigError, Settings, load_settings, parse_sources
from pisa.errors import PisaError
from pisa.sources import defaults

log = logging.getLogger("pisa")


def _sources_arg(text: str) -> tuple[str, ...]:
    try:
        return parse_sources(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("PISA_SOURCES: ", "")) from None


def _share(text: str) -> float:
    """An argparse type: a share of the writes, from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share from 0 to 1, got {text}")
    return value


def _count(low: int, high: int | None = None):
    """An argparse type: a whole number from `low` to `high` (None: no upper bound)."""
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"

    def parse(text: str) -> int:
        """The whole number `text` names, within the bounds."""
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, got {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The `pisa` argument parser: its commands, flags, defaults and help."""
    parser = argparse.ArgumentParser(prog="pisa", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log every poll, not only the busy ones")
    commands = parser.add_subparsers(dest="command", required=True)

    sources = commands.add_parser("sources", help="the simulated source databases").add_subparsers(dest="action", required=True)
    init = sources.add_parser("init", help="create the source databases and their initial rows")
    init.add_argument("--rows", type=_count(0), default=defaults.INITIAL_ROWS, help="initial rows per source (default %(default)s)")
    init.add_argument("--filler-columns", type=_count(0, defaults.MAX_FILLER_COLUMNS), default=defaults.FILLER_COLUMNS,
                      help=f"questionnaire filler columns (default %(default)s, up to {defaults.MAX_FILLER_COLUMNS})")
    init.add_argument("--seed", type=int, default=defaults.SEED, help="random seed (default %(default)s)")
    init.add_argument("--reset", action="store_true", help="drop and recreate existing source databases")
    init.add_argument("--sources", type=_sources_arg, help="only these sources (default: PISA_SOURCES)")

    simulate = commands.add_parser("simulate", help="write into the sources in real time")
    simulate.add_argument("--rate", type=float, help="rows per second over all sources (default PISA_SIM_RATE)")
    simulate.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    simulate.add_argument("--update-share", type=_share, default=defaults.UPDATE_SHARE,
                          help="share of writes that update a row (default %(default)s)")
    simulate.add_argument("--delete-share", type=_share, default=defaults.DELETE_SHARE,
                          help="share of writes that delete a row (default %(default)s)")
    simulate.add_argument("--bad-share", type=_share, default=defaults.BAD_SHARE,
                          help="share of rows with a malformed value (default %(default)s)")
    simulate.add_argument("--seed", type=int, help="random seed (default: random)")
    simulate.add_argument("--sources", type=_sources_arg, help="only these sources (default: PISA_SOURCES)")

    central = commands.add_parser("central", help="the central database").add_subparsers(dest="action", required=True)
    central_init = central.add_parser("init", help="create the central schema and the API's read-only role")
    central_init.add_argument("--reset", action="store_true", help="drop and recreate the central database")

    sync = commands.add_parser("sync", help="the sync core without Airflow")
    sync.add_argument("--once", action="store_true", help="one pass over the sources, then exit")
    sync.add_argument("--sources", type=_sources_arg, help="only these sources (default: PISA_SOURCES)")
    sync.add_argument("--poll-interval", type=float, help="seconds between polls of a source (default PISA_POLL_INTERVAL)")
    sync.add_argument("--reconcile-every", type=float, default=None,
                      help="in follow mode, reconcile (find deletes and drift) each source this often, in seconds "
                           "(default: as often as PISA_MAX_POLL_DUTY allows, every 5 to 60 s; 0: never)")

    slots = commands.add_parser("slots", help="the replication slots wal capture keeps on the sources").add_subparsers(
        dest="action", required=True)
    slots_drop = slots.add_parser("drop", help="drop this stack's replication slots from the sources (they stop "
                                               "keeping WAL; the next wal sync makes a new slot and reads every row)")
    slots_drop.add_argument("--sources", type=_sources_arg, help="only these sources (default: PISA_SOURCES)")
    slots_drop.add_argument("--all-stacks", action="store_true",
                            help="every slot of the product (pisa_...), whichever central database made it")

    rec = commands.add_parser("reconcile", help="checksum repair pass: deleted and drifted rows")
    rec.add_argument("--sources", type=_sources_arg, help="only these sources (default: PISA_SOURCES)")

    serve = commands.add_parser("serve", help="the dashboard and API (development server; gunicorn in production)")
    serve.add_argument("--port", type=int, help="port (default PISA_PORT)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    return parser


def _print_progress(source: str, done: int, total: int, elapsed: float) -> None:
    rate = done / elapsed if elapsed > 0 else 0.0
    print(f"  {source}: {done:,}/{total:,} rows loaded ({rate:,.0f} rows/s)", flush=True)


def _run_sources_init(settings: Settings, args) -> int:
    from pisa.sources.setup import init_sources
    print(f"Creating {len(settings.sources)} source databases ({args.rows:,} rows each, "
          f"{args.filler_columns} filler columns)...", flush=True)
    results = init_sources(settings, rows=args.rows, filler_columns=args.filler_columns, seed=args.seed,
                           reset=args.reset, progress=_print_progress)
    created = [r.source for r in results if r.created]
    kept = [r.source for r in results if not r.created]
    print(f"Sources ready: {len(created)} created, {len(kept)} kept as they were"
          + (f" ({', '.join(kept)}; --reset recreates them)" if kept else ""))
    return 0


def _run_simulate(settings: Settings, args) -> int:
    from pisa.sources.writer import Simulator
    rate = settings.sim_rate if args.rate is None else args.rate
    simulator = Simulator(settings, rate=rate, update_share=args.update_share, delete_share=args.delete_share,
                          bad_share=args.bad_share, seed=args.seed)
    signal.signal(signal.SIGTERM, lambda *_: simulator.stop())
    signal.signal(signal.SIGUSR1, lambda *_: (simulator.pause(), print("simulator paused", flush=True)))
    signal.signal(signal.SIGUSR2, lambda *_: (simulator.resume(), print("simulator resumed", flush=True)))
    print(f"Simulating {rate:g} rows/s into {len(settings.sources)} sources "
          f"(SIGUSR1 pauses, SIGUSR2 resumes, Ctrl-C stops)", flush=True)
    try:
        stats = simulator.run(seconds=args.seconds,
                              report=lambda s, t: print(f"  after {t:.0f} s: {s.describe()}", flush=True))
    except KeyboardInterrupt:
        simulator.close()
        stats = simulator.stats
    print(f"Simulator wrote {stats.describe()}")
    for source, count in sorted(stats.per_source.items()):
        print(f"  {source}: {count}")
    return 0


def _run_central_init(settings: Settings, args) -> int:
    from pisa.central_setup import init_central
    created = init_central(settings, reset=args.reset)
    print(f"Central database {db.describe(settings.central_url)} {'created' if created else 'up to date'}")
    return 0


def _report(results) -> int:
    for result in results:
        print(result.describe())
    skipped = [r.source for r in results if r.status == "skipped"]
    if skipped:
        print(f"{len(skipped)} source(s) skipped because another runner (a `pisa sync` follower or an "
              f"Airflow run) holds their lease; a follower reconciles them itself: {', '.join(skipped)}")
    failed = [r.source for r in results if r.status == "failed"]
    if failed:
        print(f"{len(failed)} source(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _run_sync(settings: Settings, args) -> int:
    from pisa.sync import runner
    if args.poll_interval is not None:
        settings = settings.replace(poll_interval=args.poll_interval)
    if args.once:
        return _report(runner.sync_all_once(settings))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("following %d sources, polling every %.2f s (Ctrl-C stops)", len(settings.sources), settings.poll_interval)
    every = math.inf if args.reconcile_every == 0 else args.reconcile_every
    worker = threading.Thread(target=runner.follow_all, args=(settings, stop, every))
    worker.start()
    try:
        while worker.is_alive():
            worker.join(timeout=0.5)
    except KeyboardInterrupt:
        log.info("stopping: finishing the current batches")
        stop.set()
        worker.join()
    return 0


def _run_slots_drop(settings: Settings, args) -> int:
    from pisa.sync.capture.replication import drop_product_slots, slot_name
    dropped = 0
    for source in settings.sources:
        names = drop_product_slots(settings.source_url(source),
                                   None if args.all_stacks else slot_name(settings, source))
        for name in names:
            print(f"{source}: dropped replication slot {name}")
        dropped += len(names)
    print(f"Dropped {dropped} replication slot(s) from {len(settings.sources)} source(s)")
    return 0


def _run_reconcile(settings: Settings, args) -> int:
    from pisa.sync import runner
    return _report(runner.sync_all_once(settings, reconcile_after=True))


def _run_serve(settings: Settings, args) -> int:
    from dashboard import create_app
    create_app({"SETTINGS": settings}).run(host=args.host, port=args.port or settings.port, threaded=True)
    return 0


HANDLERS = {
    ("sources", "init"): _run_sources_init,
    ("simulate", None): _run_simulate,
    ("central", "init"): _run_central_init,
    ("sync", None): _run_sync,
    ("slots", "drop"): _run_slots_drop,
    ("reconcile", None): _run_reconcile,
    ("serve", None): _run_serve,
}


def main(argv: list[str] | None = None) -> int:
    """Run one `pisa` command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "simulate" and args.update_share + args.delete_share > 1:
        parser.error("--update-share plus --delete-share must not exceed 1")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings().with_sources(getattr(args, "sources", None))
        return HANDLERS[(args.command, getattr(args, "action", None))](settings, args)
    except (ConfigError, PisaError) as exc:
        print(f"pisa: {exc}", file=sys.stderr)
        return 2
    except psycopg2.OperationalError as exc:
        print(f"pisa: database unreachable or refused the command: {db.first_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
