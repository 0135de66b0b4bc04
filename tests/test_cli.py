"""The `pisa` command end to end, as an operator runs it."""
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.ground_truth import assert_exact, central_figures, source_figures

POLL_LINE = (r"(?P<source>[A-Z]{3}): read (?P<read>\d+) rows, applied (?P<changed>\d+) changed \((?P<new>\d+) new\), "
             r"deleted (?P<deleted>\d+); synced through \d\d:\d\d:\d\d\.\d{3} UTC "
             r"\((xmin watermark \d+|wal position [0-9A-F]+/[0-9A-F]+)\), "
             r"lag \d+ ms, took \d+ ms")
SIMULATED = (r"Simulator wrote (?P<total>\d+) writes: (?P<inserts>\d+) inserts, (?P<updates>\d+) updates, "
             r"(?P<deletes>\d+) deletes; \d+ rows carried a malformed value")
RECONCILE_NOTE = r"; reconcile: (all \d+ buckets equal|\d+ of \d+ buckets differed and were repaired: \d+ rows rewritten, \d+ deleted)"


def poll_lines(output: str, pattern: str = POLL_LINE) -> dict[str, re.Match]:
    """The poll lines of a command's output, by source; every line must be one."""
    matches = [re.fullmatch(pattern, line) for line in output.splitlines()]
    assert all(matches), output
    return {m["source"]: m for m in matches}


def run_env(env) -> dict:
    return {
        "PATH": "/usr/bin:/bin",
        "PISA_CENTRAL_URL": env.settings.central_url,
        "PISA_SOURCE_URL_TEMPLATE": env.settings.source_url_template,
        "PISA_SOURCES": ",".join(env.settings.sources),
        "PISA_API_ROLE": env.settings.api_role,
    }


def run_pisa(env, *args):
    return subprocess.run([sys.executable, "-m", "pisa.cli", *args], env=run_env(env),
                          capture_output=True, text=True, timeout=120)


def test_simulate_sync_and_reconcile_from_the_command_line(env):
    assert run_pisa(env, "sync", "--once").returncode == 0        # so that the deletes below hit synced rows
    simulate = run_pisa(env, "simulate", "--rate", "100", "--seconds", "1.5", "--delete-share", "0.2", "--seed", "5")
    assert simulate.returncode == 0, simulate.stderr
    first, summary, *per_source = simulate.stdout.splitlines()
    assert first == "Simulating 100 rows/s into 3 sources (SIGUSR1 pauses, SIGUSR2 resumes, Ctrl-C stops)"
    wrote = re.fullmatch(SIMULATED, summary)
    assert wrote, summary
    inserts, updates, deletes = (int(wrote[k]) for k in ("inserts", "updates", "deletes"))
    assert inserts + updates + deletes == int(wrote["total"]) > 0 and deletes > 0
    counts = [re.fullmatch(r"  (ALB|ARG|AUS): (\d+)", line) for line in per_source]
    assert all(counts) and sum(int(m[2]) for m in counts) == int(wrote["total"]), per_source
    assert sum(figures[0] for figures in source_figures(env).values()) == 3 * 200 + inserts - deletes
    sync = run_pisa(env, "sync", "--once")
    assert sync.returncode == 0, sync.stderr
    synced = poll_lines(sync.stdout)
    assert sorted(synced) == ["ALB", "ARG", "AUS"]
    # Each poll's row-count check takes the deletes out (those of rows synced before: some deleted
    # rows were inserted by the simulation itself).
    assert 0 < sum(int(m["deleted"]) for m in synced.values()) <= deletes
    assert_exact(env)
    reconcile = run_pisa(env, "reconcile", "--sources", "alb,arg,aus")
    assert reconcile.returncode == 0, reconcile.stderr
    checked = poll_lines(reconcile.stdout, POLL_LINE + RECONCILE_NOTE)
    assert [m.group(0).rpartition("; reconcile: ")[2].startswith("all ") for m in checked.values()] == [True] * 3


def test_sources_init_keeps_existing_sources_unless_reset(env):
    again = run_pisa(env, "sources", "init", "--rows", "10", "--sources", "ALB")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "Sources ready: 0 created, 1 kept as they were (ALB; --reset recreates them)"
    reset = run_pisa(env, "sources", "init", "--rows", "10", "--sources", "ALB", "--reset")
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.splitlines()[-1] == "Sources ready: 1 created, 0 kept as they were"
    assert run_pisa(env, "sync", "--once").returncode == 0
    assert {source: figures[0] for source, figures in central_figures(env).items()} == {"ALB": 10, "ARG": 200, "AUS": 200}


@pytest.mark.parametrize("args, message", [
    (("sources", "init", "--rows", "-5"), "pisa sources init: error: argument --rows: must be a whole number of at least 0, got -5"),
    (("sources", "init", "--filler-columns", "2000"),
     "pisa sources init: error: argument --filler-columns: must be a whole number from 0 to 1115, got 2000"),
    (("simulate", "--bad-share", "x"), "pisa simulate: error: argument --bad-share: must be a share from 0 to 1, got x"),
    (("simulate", "--update-share", "0.8", "--delete-share", "0.5"),
     "pisa: error: --update-share plus --delete-share must not exceed 1"),
])
def test_a_value_out_of_range_is_a_usage_error_before_any_database_work(args, message):
    bad = subprocess.run([sys.executable, "-m", "pisa.cli", *args], env={"PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=60)
    assert (bad.returncode, bad.stdout, bad.stderr.splitlines()[-1]) == (2, "", message)


def test_a_bad_source_list_is_a_clear_usage_error(env):
    bad = run_pisa(env, "sync", "--once", "--sources", "ALB,12")
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[-1] == "pisa sync: error: argument --sources: '12' is not a 3-letter country code"


def test_a_failing_source_makes_sync_once_exit_non_zero(env):
    bad = run_pisa(env, "sync", "--once", "--sources", "ZZZ")
    assert bad.returncode == 1
    database = env.settings.source_url("ZZZ").rsplit("/", 1)[1]
    assert bad.stdout.splitlines()[0] == (
        f'ZZZ: FAILED: source 127.0.0.1:5432/{database} is unreachable: connection to server at "127.0.0.1", '
        f'port 5432 failed: FATAL:  database "{database}" does not exist')


def test_sync_follows_a_concurrent_writer_and_stops_cleanly_on_sigterm(xmin_env):
    # xmin: the deletes must be found by reconcile (wal streams them: tests/test_wal.py)
    env = xmin_env
    from pisa.sources.writer import Simulator
    from tests.ground_truth import central_figures, source_figures
    follower = subprocess.Popen(
        [sys.executable, "-m", "pisa.cli", "sync", "--poll-interval", "0.05", "--reconcile-every", "1"],
        env={**run_env(env), "PISA_CAPTURE": "xmin"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        simulator = Simulator(env.settings, rate=300, update_share=0.2, delete_share=0.1, bad_share=0.1, seed=4)
        simulator.run(seconds=2)
        deadline = time.monotonic() + 15
        while central_figures(env) != source_figures(env) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        follower.send_signal(signal.SIGTERM)
        output, _ = follower.communicate(timeout=30)
    assert follower.returncode == 0, output
    logged = [line.split(" ", 3)[3] for line in output.splitlines()]       # without date, time, level
    assert "pisa: following 3 sources, polling every 0.05 s (Ctrl-C stops)" in logged
    polls = [line.removeprefix("pisa.sync.runner: ") for line in logged if line.startswith("pisa.sync.runner: ")]
    assert polls and all(re.fullmatch(POLL_LINE + f"({RECONCILE_NOTE})?", line) for line in polls), polls
    assert {line[:3] for line in polls} == {"ALB", "ARG", "AUS"}
    assert any(re.search("; reconcile: [0-9]+ of", line) for line in polls)      # deletes found by reconcile
    assert_exact(env)


def test_a_stopped_follower_loses_its_lease_to_the_next_runner(env):
    from pisa.sync.runner import poll_source_once
    environment = {**run_env(env), "PISA_LEASE_TIMEOUT_SECONDS": "2", "PISA_SOURCES": "ALB"}
    follower = subprocess.Popen([sys.executable, "-m", "pisa.cli", "sync"], env=environment,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while poll_source_once(env.settings, "ALB").status != "skipped":    # wait until it holds the lease
            assert time.monotonic() < deadline, "the follower never took the lease"
            time.sleep(0.1)
        follower.send_signal(signal.SIGSTOP)            # hung between polls, connection still open
        stopped_at = time.monotonic()
        while poll_source_once(env.settings, "ALB").status == "skipped":
            assert time.monotonic() - stopped_at < 6, "the stopped follower kept its lease"
            time.sleep(0.2)
        assert time.monotonic() - stopped_at >= 1.5      # not before its idle timeout
    finally:
        follower.kill()
        follower.wait(timeout=10)
