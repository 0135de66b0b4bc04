"""The `pisa` command end to end, as an operator runs it."""
import signal
import subprocess
import sys
import time

from tests.ground_truth import assert_exact


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
    simulate = run_pisa(env, "simulate", "--rate", "100", "--seconds", "1.5", "--delete-share", "0.2", "--seed", "5")
    assert simulate.returncode == 0, simulate.stderr
    assert "Simulator wrote" in simulate.stdout and "deletes" in simulate.stdout
    sync = run_pisa(env, "sync", "--once")
    assert sync.returncode == 0, sync.stderr
    assert sync.stdout.count("synced through") == 3
    reconcile = run_pisa(env, "reconcile", "--sources", "alb,arg,aus")
    assert reconcile.returncode == 0, reconcile.stderr
    assert "reconcile repaired" in reconcile.stdout
    assert_exact(env)


def test_sources_init_keeps_existing_sources_unless_reset(env):
    again = run_pisa(env, "sources", "init", "--rows", "10", "--sources", "ALB")
    assert again.returncode == 0 and "1 kept as they were" in again.stdout


def test_a_bad_source_list_is_a_clear_usage_error(env):
    bad = run_pisa(env, "sync", "--once", "--sources", "ALB,12")
    assert bad.returncode == 2 and "'12' is not a 3-letter country code" in bad.stderr


def test_a_failing_source_makes_sync_once_exit_non_zero(env):
    bad = run_pisa(env, "sync", "--once", "--sources", "ZZZ")
    assert bad.returncode == 1
    assert "ZZZ: FAILED: source" in bad.stdout and "is unreachable" in bad.stdout


def test_sync_follows_a_concurrent_writer_and_stops_cleanly_on_sigterm(env):
    from pisa.sources.writer import Simulator
    from tests.ground_truth import central_figures, source_figures
    follower = subprocess.Popen(
        [sys.executable, "-m", "pisa.cli", "sync", "--poll-interval", "0.05", "--reconcile-every", "1"],
        env=run_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
    assert "following 3 sources" in output and "lag" in output and "reconcile" in output
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
