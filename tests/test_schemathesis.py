"""Schemathesis over the whole OpenAPI document, with every check, against the app (in process, WSGI).

It runs every phase `schemathesis run` has (examples, coverage, fuzzing; positive and negative
data): whatever the document allows must be answered 2xx, whatever it forbids a 4xx, and every
status, header and body must be one the document describes. `schemathesis.engine` is what the
command line runs; the pytest loader for fixtures (`schemathesis.pytest.from_fixture`) needs a
pytest attribute (`Item._nodeid`) that pytest 9.2 no longer has.
"""
from __future__ import annotations

import schemathesis
from schemathesis.engine import Status, events, from_schema

# A request the document forbids must be rejected: a 414 is the documented rejection of a query
# string over 2,048 bytes, which a negative example sometimes is (the check's default list lacks
# it, and a run failed on it now and then).
REJECTIONS = {"expected-statuses": ["400", "401", "403", "404", "406", "414", "422", "428"]}
# A fixed seed and no example database: every run sends about the same requests, 700 of them.
CONFIG = {"seed": 11, "checks": {"enabled": True, "negative_data_rejection": REJECTIONS},
          "generation": {"mode": "all", "max-examples": 100, "database": "none"}}


def run_schemathesis(app, config: dict) -> tuple[int, list[str]]:
    """Every phase over the app's own document: (requests sent, a line per failed check or error)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=schemathesis.Config.from_dict(config))
    sent, problems = 0, set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            sent += len(recorder.interactions)
            for case_id, checks in recorder.checks.items():
                for check in (c for c in checks if c.status == Status.FAILURE):
                    failure = check.failure_info
                    response = recorder.interactions[case_id].response if case_id in recorder.interactions else None
                    answer = f"{response.status_code} {response.content[:200]!r}" if response else "no response"
                    problems.add(f"{check.name}: {failure.failure.title}: {failure.failure.message}\n"
                                 f"  {failure.code_sample}\n  -> {answer}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            problems.add(f"schemathesis error: {event.value!r}")
    return sent, sorted(problems)


def test_schemathesis_with_every_check_finds_nothing(api_client, synced):
    sent, problems = run_schemathesis(api_client(synced).application, CONFIG)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
    assert sent > 300


def test_with_the_database_down_every_503_is_as_documented(api_client, make_env):
    """The error shape and Retry-After on every path (a 5xx is the honest answer here, so that one
    check is left out)."""
    env = make_env(sources=("ALB", "ARG"), rows=0)
    missing = env.settings.central_url + "_missing"                 # never created
    app = api_client(env, central_url=missing,
                     api_database_url=missing.replace("postgres@", "pisa_test_api@")).application
    config = {**CONFIG, "checks": {"enabled": True, "negative_data_rejection": REJECTIONS,
                                   "not_a_server_error": {"enabled": False}},
              "generation": {**CONFIG["generation"], "max-examples": 5}}
    sent, problems = run_schemathesis(app, config)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
    assert sent > 100
