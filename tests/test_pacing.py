"""Pacing: polls and full checks spaced to keep all sources under the CPU budget."""
from __future__ import annotations

import pytest

from pisa.sync.pacing import PollPacer, ReconcilePacer


def test_expensive_polls_are_spaced_out_to_stay_in_the_cpu_budget(env, caplog):
    settings = env.settings.replace(poll_interval=0.25, max_poll_duty=0.5)   # 3 sources
    cheap = PollPacer(settings, "ALB")
    for _ in range(4):                    # a new runner's first polls (new sessions) do not judge
        assert cheap.record(0.2) == 0.25
    assert cheap.record(0.002) == 0.25
    assert cheap.record(0.5) == 0.25      # one poll starved of CPU does not space the polls out
    costly = PollPacer(settings, "ARG")
    for _ in range(30):
        costly.record(0.2)
    assert costly.interval_s == pytest.approx(0.2 * 3 / (0.9 * 0.5), rel=0.01)   # a tenth: full checks
    assert costly.pause_after(0.2) == pytest.approx(1.133, rel=0.01)
    assert [r.getMessage() for r in caplog.records if r.name == "pisa.sync.pacing"] == [
        "ARG: a poll costs 200 ms; polling every 1.33 s to keep the polls of 3 sources under 45% of a core "
        "(data is then at most about 1.5 s old)"]


def test_the_pace_never_lets_an_idle_holder_lose_its_lease(env):
    settings = env.settings.replace(poll_interval=0.25, max_poll_duty=0.01, lease_timeout_seconds=6)
    pacer = PollPacer(settings, "ALB")
    for _ in range(10):
        pacer.record(0.5)                 # the budget alone would poll every 150 s
    assert pacer.interval_s == 2.0        # a third of the lease timeout


def test_full_checks_are_paced_by_their_share_of_the_budget(env):
    settings = env.settings.replace(max_poll_duty=0.5)                # 3 sources
    checks = ReconcilePacer(settings)
    assert not checks.due()                       # the first check comes after the floor
    assert checks.record(0.010) == 5.0            # cheap: every 5 s, the floor
    assert checks.record(1.0) == 5.0              # one slow check (no CPU for it) changes nothing
    dear = ReconcilePacer(settings)
    assert dear.record(0.1) == pytest.approx(0.1 * 3 / (0.1 * 0.5))   # a tenth of the duty: 6 s
    assert dear.record(0.5) == pytest.approx(6.0)                     # the cheapest recent check counts
    assert ReconcilePacer(settings).record(20.0) == 60.0               # at least once a minute
    assert ReconcilePacer(settings, every_s=0.5).record(5.0) == 0.5   # fixed by the caller
