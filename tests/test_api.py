"""The API over HTTP (Flask test client) against ground truth computed over the sources."""
from __future__ import annotations

import pytest

from datetime import datetime, timezone

from werkzeug.exceptions import MethodNotAllowed, NotFound

from pisa import db
from tests.ground_truth import (central_quarantine_reasons, central_synced_through, expected_charts, expected_sot,
                                source_bad_values, source_row_counts, sync_and_reconcile)
from tests.rows import insert_row

CONTRACT_PATHS = ("/submissions", "/tmins", "/escs", "/eeb")
SERVED = "(we serve ALB, ARG, AUS, BRA)"          # the `synced` fixture's sources
DATABASE_DOWN = "the central database is not answering; retry shortly"


def assert_error_shape(response, status: int, message: str):
    """The one error shape, whole: JSON {"error": {"status": status, "message": message}}, not cached."""
    assert (response.status_code, response.mimetype, response.headers["Cache-Control"]) == (
        status, "application/json", "no-store")
    assert response.get_json() == {"error": {"status": status, "message": message}}


def utc_iso(moment: datetime) -> str:
    """A time as the API writes it: ISO 8601 in UTC, milliseconds, a Z."""
    return f"{moment.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"


def oldest_synced_through(env, sources) -> str:
    """`as_of` as the API must give it: the oldest synced_through among `sources`."""
    synced_through = central_synced_through(env)
    return utc_iso(min(synced_through[s] for s in sources))


def test_every_contract_figure_equals_the_ground_truth(api_client, synced):
    client = api_client(synced)
    expected = expected_charts(synced)
    for path in CONTRACT_PATHS:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.get_json() == expected[path], path
    assert client.get("/sot").get_json() == expected_sot(synced)


def test_figures_follow_updates_deletes_and_malformed_values(api_client, synced):
    client = api_client(synced)
    before = client.get("/eeb").get_json()
    conn = synced.source_conn("ARG")
    with conn.cursor() as cur:
        cur.execute("UPDATE responses SET durecec = '8', belong = 'abc' "
                    "WHERE id IN (SELECT id FROM responses ORDER BY id LIMIT 40) RETURNING id")
        broken = {("ARG", row_id, "belong", "abc") for (row_id,) in cur.fetchall()}
        cur.execute("DELETE FROM responses WHERE id IN (SELECT id FROM responses ORDER BY id DESC LIMIT 25)")
    conn.commit()
    conn.close()
    sync_and_reconcile(synced)
    expected = expected_charts(synced)
    assert client.get("/eeb").get_json() == expected["/eeb"] != before
    for path in CONTRACT_PATHS:
        assert client.get(path).get_json() == expected[path], path
    quarantine = client.get("/api/v1/quarantine?source=arg&limit=500").get_json()
    shown = {(item["source"], item["id"], item["column"], item["raw_value"]) for item in quarantine["items"]}
    truth = {bad for bad in source_bad_values(synced) if bad[0] == "ARG"}
    assert (quarantine["total"], shown) == (len(truth), truth)
    just_broken = {(i["source"], i["id"], i["column"], i["raw_value"]): i["reason"] for i in quarantine["items"]
                   if (i["source"], i["id"], i["column"], i["raw_value"]) in broken}
    assert just_broken == {bad: "not a number" for bad in broken} and len(broken) == 40


@pytest.mark.parametrize("query, countries", [
    ("?countries=ALB,ARG", {"ALB", "ARG"}),
    ("?countries=bra,alb", {"ALB", "BRA"}),          # case-insensitive, output ordered by code
    ("?countries=%20aus%20,", {"AUS"}),               # spaces and an empty segment are tolerated
    ("?countries=", None),                            # empty means all
    ("", None),
])
def test_countries_filter(api_client, synced, query, countries):
    client = api_client(synced)
    expected = expected_charts(synced, countries)
    for path in ("/tmins", "/escs", "/eeb"):
        assert client.get(path + query).get_json() == expected[path], path + query
    assert client.get("/submissions" + query).get_json() == expected["/submissions"]   # not filtered


def test_the_summary_holds_all_charts_freshness_and_health(api_client, synced):
    client = api_client(synced)
    body = client.get("/api/v1/summary?countries=ARG,ALB").get_json()
    expected = expected_charts(synced, {"ALB", "ARG"})
    assert body["countries"] == ["ALB", "ARG"]
    assert (body["submissions"], body["tmins"], body["escs"], body["eeb"]) == (
        expected["/submissions"], expected["/tmins"], expected["/escs"], expected["/eeb"])
    assert body["sot"] == expected_sot(synced)
    assert body["sources_live"] == body["sources_total"] == 4
    synced_through = central_synced_through(synced)
    shown = [(s["source"], s["rows"], s["state"], s["synced_through"], s["last_error"]) for s in body["sources"]]
    assert shown == [(source, rows, "live", utc_iso(synced_through[source]), None)
                     for source, rows in source_row_counts(synced).items()]
    assert body["as_of"] == oldest_synced_through(synced, ("ALB", "ARG", "AUS", "BRA"))
    assert 0 <= body["age_ms"] < 60_000


@pytest.mark.parametrize("query, message", [
    ("?countries=XYZ", f"countries: 'XYZ' is not a country we serve {SERVED}"),
    ("?countries=ALB,DEU", f"countries: 'DEU' is not a country we serve {SERVED}"),   # real, not served here
    ("?countries=AL", "countries: 'AL' is not a 3-letter country code"),
    ("?countries=AL1", "countries: 'AL1' is not a 3-letter country code"),
    ("?countries=ALB;ARG", "countries: 'ALB;ARG' is not a 3-letter country code"),
    ("?countries=" + ",".join(["ALB"] * 500),
     "countries: 1999 characters is too long; give at most 4 comma-separated codes"),
    ("?countries=ALB'%20OR%201=1--", """countries: "ALB' OR 1=1--" is not a 3-letter country code"""),
    ("?countries=%00%ff", "countries: '\\x00%FF' is not a 3-letter country code"),   # an undecodable byte stays escaped
])
def test_bad_countries_are_a_400_naming_the_bad_part(api_client, synced, query, message):
    client = api_client(synced)
    for path in ("/tmins", "/escs", "/eeb", "/api/v1/summary"):
        assert_error_shape(client.get(path + query), 400, message)


@pytest.mark.parametrize("query, message", [
    ("?limit=0", "limit: 0 is outside [1, 500]"),
    ("?limit=abc", "limit: 'abc' is not a whole number"),
    ("?offset=-1", "offset: '-1' is not a whole number"),
    ("?source=XX", "source: 'XX' is not a country we serve"),
])
def test_bad_quarantine_parameters_are_a_400(api_client, synced, query, message):
    assert_error_shape(api_client(synced).get("/api/v1/quarantine" + query), 400, message)


def test_unknown_paths_and_wrong_methods_are_json_errors(api_client, synced):
    client = api_client(synced)
    assert_error_shape(client.get("/nope"), 404, NotFound.description)
    assert_error_shape(client.get("/api/v2/summary"), 404, NotFound.description)
    response = client.post("/tmins")
    assert_error_shape(response, 405, MethodNotAllowed.description)
    assert sorted(response.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]
    assert_error_shape(client.delete("/submissions"), 405, MethodNotAllowed.description)


def test_quarantine_pages_through_every_malformed_value(api_client, synced):
    client = api_client(synced)
    truth = source_bad_values(synced)
    total = len(truth)
    seen = []
    for offset in range(0, total + 10, 10):
        page = client.get(f"/api/v1/quarantine?limit=10&offset={offset}").get_json()
        assert (page["total"], page["limit"], page["offset"]) == (total, 10, offset)
        seen.extend(page["items"])
    assert len(seen) == total > 20
    assert {(i["source"], i["id"], i["column"], i["raw_value"]) for i in seen} == truth
    assert {(i["source"], i["id"], i["column"]): i["reason"] for i in seen} == central_quarantine_reasons(synced)
    assert [i["seen_at"] for i in seen] == sorted((i["seen_at"] for i in seen), reverse=True)   # newest first
    alb = client.get("/api/v1/quarantine?source=ALB&limit=500").get_json()
    assert alb["items"] == [i for i in seen if i["source"] == "ALB"] != []


def test_etag_gives_a_bodiless_304_until_the_figures_change(api_client, synced):
    client = api_client(synced)
    for path in CONTRACT_PATHS + ("/sot", "/api/v1/summary", "/api/v1/sources"):
        first = client.get(path)
        etag = first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", path
        assert again.headers["ETag"] == etag and "X-Data-Age-Ms" in again.headers, path
    etag = client.get("/submissions").headers["ETag"]
    conn = synced.source_conn("ALB")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO responses (id, cnt, escs) VALUES (-5, 'ALB', '0.1')")
    conn.commit()
    conn.close()
    sync_and_reconcile(synced)
    changed = client.get("/submissions", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json() == expected_charts(synced)["/submissions"]


def test_freshness_travels_in_headers_and_cors_allows_other_origins(api_client, synced):
    response = api_client(synced).get("/tmins", headers={"Origin": "https://forage.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert sorted(response.headers["Access-Control-Expose-Headers"].split(", ")) == [
        "ETag", "X-Data-Age-Ms", "X-Data-As-Of"]
    assert response.headers["X-Data-As-Of"] == oldest_synced_through(synced, synced.settings.sources)
    assert int(response.headers["X-Data-Age-Ms"]) >= 0
    restricted = api_client(synced, cors_origins=("https://gei.example",))
    assert restricted.get("/tmins", headers={"Origin": "https://gei.example"}).headers[
        "Access-Control-Allow-Origin"] == "https://gei.example"
    refused = restricted.get("/tmins", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_a_failing_source_is_shown_and_left_out_of_as_of(api_client, synced):
    central = synced.central_conn()
    with central.cursor() as cur:
        cur.execute("UPDATE sync_state SET last_error = 'source pisa_src_bra is unreachable', "
                    "synced_through = synced_through - interval '1 hour' WHERE source = 'BRA'")
    central.close()
    body = api_client(synced).get("/api/v1/sources").get_json()
    bra = next(s for s in body["sources"] if s["source"] == "BRA")
    assert (bra["state"], bra["last_error"]) == ("error", "source pisa_src_bra is unreachable")
    assert 3_600_000 <= bra["lag_ms"] < 3_660_000
    assert body["as_of"] == oldest_synced_through(synced, ("ALB", "ARG", "AUS"))   # not the failing source
    assert body["age_ms"] < 60_000


def test_database_down_is_a_503_and_heals_by_itself(api_client, make_env):
    env = make_env(sources=("ALB",), rows=20)
    late_url = env.settings.central_url + "_late"
    client = api_client(env, central_url=late_url, api_database_url=late_url.replace("postgres@", "pisa_test_api@"))
    try:
        for path in ("/submissions", "/api/v1/summary", "/api/v1/quarantine"):
            assert_error_shape(client.get(path), 503, DATABASE_DOWN)
        health = client.get("/healthz")          # the one shape, and no host, port or database name
        assert_error_shape(health, 503, DATABASE_DOWN)
        assert health.headers["Retry-After"] == "1"
        from pisa.central_setup import init_central
        init_central(env.settings.replace(central_url=late_url))          # the database comes (back)
        assert client.get("/submissions").get_json() == {"count": 0}
        assert client.get("/healthz").get_json() == {"status": "ok"}
        killer = db.connect(late_url, application_name="pisa-test", autocommit=True)
        with killer.cursor() as cur:                                        # a restart drops every session
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND application_name = 'pisa-api'", (db.database_name(late_url),))
            assert cur.rowcount >= 1
        killer.close()
        assert client.get("/submissions").status_code == 200               # pool_pre_ping reconnects
    finally:
        db.drop_database(late_url)


IF_MATCH_FAILED = ("If-Match: the resource's current ETag is not among those given "
                   "(a weak ETag never matches If-Match)")


def test_etags_are_weak_where_ages_move_in_the_body_and_strong_where_they_hash_it(api_client, synced):
    client = api_client(synced)
    for path in ("/api/v1/summary", "/api/v1/sources", "/api/v1/quarantine"):
        etag = client.get(path).headers["ETag"]
        assert etag.startswith('W/"'), path
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304, path
        assert_error_shape(client.get(path, headers={"If-Match": etag}), 412, IF_MATCH_FAILED)
    for path in (*CONTRACT_PATHS, "/sot", "/api/v1/openapi.json"):
        etag = client.get(path).headers["ETag"]
        assert etag.startswith('"'), path
        assert client.get(path, headers={"If-Match": etag}).status_code == 200, path
        assert_error_shape(client.get(path, headers={"If-Match": '"other"'}), 412, IF_MATCH_FAILED)


def test_every_answer_says_nosniff_and_odd_requests_keep_the_error_shape(api_client, synced):
    client = api_client(synced)
    for path in ("/", "/tmins", "/api/v1/summary", "/healthz", "/static/js/main.js", "/nowhere"):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path
    steered = client.get("//static//js/main.js", headers={"Host": "attacker.example"})
    assert_error_shape(steered, 404, NotFound.description)
    assert "Location" not in steered.headers
    assert_error_shape(client.get("/tmins?countries=" + "A" * 2100), 414,
                       "the query string is longer than 2048 bytes")


def test_the_api_reads_as_its_read_only_role(api_client, synced):
    client = api_client(synced)
    reader = client.application.extensions["pisa_reader"]
    assert reader.read(lambda c: c.exec_driver_sql("SELECT current_user").scalar()) == "pisa_test_api"
    assert reader.read(lambda c: c.exec_driver_sql("SHOW transaction_read_only").scalar()) == "on"


def test_one_view_per_snapshot_serves_both_blueprints(api_client, synced, monkeypatch):
    from dashboard import views
    builds = []
    build, filtered = views.CHARTS["tmins"]
    monkeypatch.setitem(views.CHARTS, "tmins", (lambda *args: builds.append(args[2]) or build(*args), filtered))
    client = api_client(synced, api_cache_seconds=60)          # one snapshot for the whole test
    tmins = client.get("/tmins").get_json()
    summary = client.get("/api/v1/summary").get_json()
    assert client.get("/api/v1/summary").get_json() == summary and client.get("/tmins").get_json() == tmins
    assert summary["tmins"] == tmins == expected_charts(synced)["/tmins"]
    assert builds == [None]                                      # built once, for both endpoints
    client.get("/api/v1/summary?countries=ALB")
    assert builds == [None, ("ALB",)]                            # a filter is a view of its own


def test_a_query_whose_columns_differ_from_its_record_fails_loudly():
    from dashboard.records import CountryStats, record
    with pytest.raises(TypeError) as raised:
        record(CountryStats, {"source": "ALB", "rows": 3})
    assert str(raised.value) == (
        "CountryStats: the query returned columns ['rows', 'source'], the record has fields ['belong_n', "
        "'belong_sum', 'country', 'durecec_n', 'durecec_sum', 'escs_n', 'escs_sum', 'rows', 'tmins_n', 'tmins_sum']")


def test_a_query_is_checked_against_its_record_before_any_row_is_read(api_client, make_env):
    from dashboard.records import Arrivals, records
    env = make_env(sources=("ALB",), rows=0)             # no country has rows: the query returns none
    reader = api_client(env).application.extensions["pisa_reader"]
    with pytest.raises(TypeError) as raised:
        reader.read(lambda c: reader._records(c, "api/country_stats.sql", Arrivals))
    assert str(raised.value) == (
        "Arrivals: the query returned columns ['belong_n', 'belong_sum', 'country', 'durecec_n', 'durecec_sum', "
        "'escs_n', 'escs_sum', 'rows', 'tmins_n', 'tmins_sum'], the record has fields ['hour', 'rows']")
    with pytest.raises(TypeError) as raised:                # a repeated column is refused too
        reader.read(lambda c: records(Arrivals, c.exec_driver_sql("SELECT now() AS hour, 1 AS rows, 2 AS rows")))
    assert str(raised.value) == (
        "Arrivals: the query returned columns ['hour', 'rows', 'rows'], the record has fields ['hour', 'rows']")


@pytest.mark.parametrize("total, count, places, divisor, expected", [
    ("2.4449999999999999999999999999999", 1, 2, 1, 2.44),    # Decimal's 28 digits made it 2.45
    ("-2.445", 1, 2, 1, -2.45),                             # half away from zero, as SQL's round()
    ("27", 1, 1, 60, 0.5),                                  # 0.45 hours
    ("-0.0001", 1, 2, 1, 0.0),                              # never -0.0
    ("10", 3, 3, 1, 3.333),
])
def test_means_are_rounded_once_exactly(total, count, places, divisor, expected):
    from decimal import Decimal

    from dashboard.figures import rounded_mean
    assert repr(rounded_mean(Decimal(total), count, places, divisor)) == repr(expected)


def test_a_mean_one_digit_past_28_places_is_rounded_as_sql_rounds_it(api_client, make_env):
    env = make_env(sources=("ALB",), rows=0)
    conn = env.source_conn("ALB")
    insert_row(conn, 7, cnt="ALB", escs="2.4449999999999999999999999999999", tmins="NA", belong="NA", durecec="NA")
    conn.commit()
    conn.close()
    sync_and_reconcile(env)
    assert api_client(env).get("/escs").get_json() == expected_charts(env)["/escs"] == {
        "datasets": [{"id": "ALB", "value": 2.44}]}


def test_every_hour_and_time_is_utc_whatever_the_central_databases_time_zone(api_client, make_env):
    env = make_env(sources=("ALB", "ARG"), rows=30)
    central = env.central_conn()
    with central.cursor() as cur:          # a half-hour offset: hours would not even line up
        cur.execute(f"ALTER DATABASE {db.database_name(env.settings.central_url)} SET timezone = 'Asia/Kolkata'")
    central.close()
    synced_in = f"{datetime.now(timezone.utc):%H}:00"
    sync_and_reconcile(env)
    client = api_client(env)
    sot = client.get("/sot").get_json()
    assert sot == expected_sot(env)
    if sot["datasets"][0]["data"][-1]["x"] == synced_in:     # (not when an hour turned meanwhile)
        assert sot["datasets"][0]["data"][-1] == {"x": synced_in, "y": 60}
    sources = client.get("/api/v1/sources").get_json()
    synced_through = central_synced_through(env)
    assert [s["synced_through"] for s in sources["sources"]] == [utc_iso(synced_through[s]) for s in ("ALB", "ARG")]
    assert sources["as_of"] == min(s["synced_through"] for s in sources["sources"])
