"""Repeated polls answered without Flask (dashboard/replay.py): the same answer Flask gave for the
snapshot, its age brought up to now, and new figures with the next snapshot."""
from __future__ import annotations

import time

from dashboard.replay import PATHS
from pisa.sync import runner
from tests.ground_truth import expected_charts
from tests.rows import insert_row

FORAGE = {"Origin": "https://forage.example"}


def counting_client(api_client, env):
    """A test client whose app keeps its snapshot for a minute, and a list of Flask's dispatches."""
    client = api_client(env, api_cache_seconds=60)
    dispatched = []
    client.application.before_request(lambda: dispatched.append(1) and None)
    return client, dispatched


def steady(response) -> tuple:
    """An answer without the age that moves every request."""
    return (response.status_code, response.get_data(),
            sorted((k, v) for k, v in response.headers.items() if k != "X-Data-Age-Ms"))


def test_a_repeated_poll_gets_flasks_answer_again_and_its_age_moves(api_client, synced):
    client, dispatched = counting_client(api_client, synced)
    client.get("/healthz")                          # the first read (before it, Flask answers all)
    for path in sorted(PATHS):
        first = client.get(path, headers=FORAGE)
        time.sleep(0.02)
        again = client.get(path, headers=FORAGE)
        assert first.status_code == 200 and steady(again) == steady(first), path
        assert first.headers["Access-Control-Allow-Origin"] == "*"
        assert int(again.headers["X-Data-Age-Ms"]) >= int(first.headers["X-Data-Age-Ms"]) + 20
        tagged = {**FORAGE, "If-None-Match": first.headers["ETag"]}
        not_modified = client.get(path, headers=tagged)
        assert not_modified.status_code == 304 and steady(client.get(path, headers=tagged)) == steady(not_modified)
    assert len(dispatched) == 1 + 2 * len(PATHS)    # each variant's first request only


def test_other_requests_go_to_flask_and_a_new_snapshot_answers_anew(api_client, synced):
    client, dispatched = counting_client(api_client, synced)
    count = expected_charts(synced)["/submissions"]["count"]
    assert client.get("/submissions").get_json() == {"count": count}
    for _ in range(2):
        assert client.get("/tmins?countries=ALB").status_code == 200         # a query string
        assert client.head("/submissions").status_code == 200
        assert client.get("/tmins?countries=XXX").status_code == 400
    assert len(dispatched) == 7
    with synced.source_conn("ALB") as conn:
        insert_row(conn, -515151)
    assert [r.status for r in runner.sync_all_once(synced.settings)] == ["ok"] * 4
    assert client.get("/submissions").get_json() == {"count": count}          # the same snapshot
    client.application.extensions["pisa_reader"].read_now()                  # as the push feed does
    assert client.get("/submissions").get_json() == {"count": count + 1}


def test_a_poll_naming_an_older_tag_gets_the_full_answer_without_flask(api_client, synced):
    """Each viewer's first poll after a change names the tag it held: the full answer, replayed.
    A list of tags, or a tag that names this answer weakly, is Flask's to answer."""
    client, dispatched = counting_client(api_client, synced)
    client.get("/healthz")
    full = client.get("/tmins", headers=FORAGE)
    etag = full.headers["ETag"]
    for older in ('"0123456789abcdef01234567"', 'W/"0123456789abcdef01234567"', '"another"'):
        answer = client.get("/tmins", headers={**FORAGE, "If-None-Match": older})
        assert steady(answer) == steady(full), older
    assert len(dispatched) == 2                     # /healthz, and the first full answer
    listed = client.get("/tmins", headers={**FORAGE, "If-None-Match": f'"another", {etag}'})
    weakly = client.get("/tmins", headers={**FORAGE, "If-None-Match": f"W/{etag}"})
    assert listed.status_code == weakly.status_code == 304 and len(dispatched) == 4
