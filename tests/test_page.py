"""The chart page in a real browser: Debian's Chromium driven by Playwright, against a live server
over the real databases with a follower syncing, figures compared with the sources' ground truth.

`make test` installs Chromium (scripts/install_browser.sh); these tests skip, saying why, only
when it is not there.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.ground_truth import expected_charts, expected_sot
from tests.live import LiveProduct
from tests.rows import insert_row

CHROMIUM = os.environ.get("PISA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parent.parent / ".artifacts" / "dashboard.png"   # README: docs/
# ISO 3166-1 numeric codes, the world map's feature ids: written out here, not read from the page.
NUMERIC = {"ALB": "008", "ARG": "032", "AUS": "036", "AUT": "040", "BEL": "056", "BGR": "100", "BIH": "070",
           "BLR": "112", "BRA": "076", "BRN": "096", "CAN": "124", "CHE": "756", "CHL": "152", "COL": "170",
           "CRI": "188", "CZE": "203", "DEU": "276", "DNK": "208", "DOM": "214", "ESP": "724"}
SOURCES = tuple(NUMERIC)
STREAM = "**/api/v1/stream*"
STREAM_OR_SUMMARY = re.compile(r"/api/v1/(stream|summary)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: run `make install`")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: `make test` installs Debian's chromium package "
                    "with apt-get (scripts/install_browser.sh), and that failed on this machine; see its output")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_the_page_and_its_files_are_served_from_this_origin(env, api_client):
    client = api_client(env)
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert 'data-sources="ALB,ARG,AUS"' in html and "http" not in html.split("<body")[1]   # no CDN
    for path in ("/static/js/main.js", "/static/js/charts.js", "/static/css/dashboard.css", "/static/vendor/chart.js/chart.umd.min.js",
                 "/static/vendor/chartjs-chart-geo/index.umd.min.js",
                 "/static/vendor/world-atlas/countries-110m.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


@pytest.fixture
def product(make_env):
    from pisa.sources.writer import Simulator
    env = make_env(sources=SOURCES, rows=150, seed=5)
    simulator = Simulator(env.settings, rate=0, update_share=0.3, delete_share=0.1, bad_share=0.1, seed=5)
    simulator.write_rows(300)
    simulator.close()
    # Streams end every 5 s, so every test crosses a resume (Last-Event-ID) too.
    live = LiveProduct(env, quiet_after_s=4, lagging_after_seconds=3.0, stream_max_seconds=5, stream_retry_ms=2000)
    yield live
    live.close()


def open_page(browser, product, *, stream_refused: bool = False):
    """The dashboard open in a fresh browser page; console errors and failed requests collected.
    `stream_refused`: /api/v1/stream answers 503, so the page polls."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    # Chromium reports a bodiless 304 (the poller's conditional requests) as an aborted load, and
    # so is a stream the page closes (for another selection, or to poll).
    not_modified = set()
    page.on("response", lambda r: r.status == 304 and not_modified.add(r.request))
    page.on("requestfailed", lambda r: r in not_modified or ("/api/v1/stream" in r.url and "ABORTED" in r.failure)
            or page.problems.append(f"request failed: {r.url} {r.failure}"))
    if stream_refused:
        refuse_stream(page)
    page.goto(product.url)
    wait_until_synced(product)
    return page


def unexpected(problems: list[str]) -> list[str]:
    """The problems a refused stream does not explain (its 503s, as the console reports them)."""
    return [p for p in problems if "503" not in p and "EventSource" not in p]


def refuse_stream(page) -> None:
    page.route(STREAM, lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"error": {"status": 503, "message": "down for the test"}}'))


@pytest.fixture
def page(browser, product):
    """The dashboard, following the stream."""
    page = open_page(browser, product)
    yield page
    page.context.close()


@pytest.fixture
def polling_page(browser, product):
    """The dashboard with the stream refused: polling, as before the stream."""
    page = open_page(browser, product, stream_refused=True)
    yield page
    page.context.close()


def wait_until_synced(product, timeout_s: float = 20) -> None:
    """Until the API shows every source live and the sources' ground-truth count."""
    expected = expected_charts(product.env)["/submissions"]["count"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        summary = product.get("/api/v1/summary")
        if summary["sources_live"] == len(SOURCES) and summary["submissions"]["count"] == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"the follower did not sync {expected} rows within {timeout_s} s")


# Predicates are functions ("() => ..."): Playwright evaluates a bare expression with eval, which
# the page's Content-Security-Policy forbids.
def chart_data(page, canvas_id: str) -> dict:
    """What Chart.js is drawing on a canvas now: labels and every dataset's label and data."""
    return page.evaluate("""(id) => {
        const chart = Chart.getChart(document.getElementById(id));
        return { labels: chart.data.labels,
                 datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data.map((p) =>
                     (p && typeof p === 'object') ? { ...p, feature: p.feature ? p.feature.id : undefined } : p) })) };
    }""", canvas_id)


def shown_count(page) -> int:
    return int(page.inner_text("#submissions-count").replace(",", ""))


def wait_for_count(page, count: int, timeout_ms: float = 5000) -> None:
    page.wait_for_function("(n) => document.getElementById('submissions-count').textContent.replace(/,/g, '') == n",
                           arg=str(count), timeout=timeout_ms)


def map_values(page) -> dict[str, float]:
    """Numeric ISO id -> value of the coloured countries on the world map."""
    return {p["feature"]: p["value"] for p in chart_data(page, "escs-chart")["datasets"][0]["data"]
            if p["value"] is not None}



def assert_charts_show(page, truth: dict, sot: dict) -> None:
    assert shown_count(page) == truth["/submissions"]["count"]
    bars = chart_data(page, "tmins-chart")
    assert bars["labels"] == [d["country"] for d in truth["/tmins"]["datasets"]]
    assert bars["datasets"][0]["data"] == [d["hours"] for d in truth["/tmins"]["datasets"]]
    assert map_values(page) == {NUMERIC[d["id"]]: d["value"] for d in truth["/escs"]["datasets"]}
    bubbles = chart_data(page, "eeb-chart")["datasets"]
    assert [b["label"] for b in bubbles] == [d["id"] for d in truth["/eeb"]["datasets"]]
    for bubble, expected in zip(bubbles, truth["/eeb"]["datasets"]):
        point = expected["data"][0]
        assert {k: bubble["data"][0][k] for k in ("x", "y", "submissions")} == point
    by_size = sorted(bubbles, key=lambda b: b["data"][0]["r"])        # bubbles sized by submissions
    assert [b["data"][0]["submissions"] for b in by_size] == sorted(b["data"][0]["submissions"] for b in bubbles)
    if len(bubbles) > 1 and by_size[0]["data"][0]["submissions"] < by_size[-1]["data"][0]["submissions"]:
        assert by_size[0]["data"][0]["r"] < by_size[-1]["data"][0]["r"]
    line = chart_data(page, "sot-chart")
    assert line["labels"] == [p["x"] for p in sot["datasets"][0]["data"]]
    assert line["datasets"][0]["data"] == [p["y"] for p in sot["datasets"][0]["data"]]


def wait_for_charts(page, truth: dict, sot: dict, timeout_s: float = 3) -> None:
    """Until the charts show the ground truth. The big number is painted as each summary arrives;
    the charts follow at most twice a second, so they may still show the summary before."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return assert_charts_show(page, truth, sot)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(100)


def test_page_shows_the_current_figures_with_no_console_errors(page, product):
    truth = expected_charts(product.env)
    wait_for_count(page, truth["/submissions"]["count"])
    assert shown_count(page) == product.get("/submissions")["count"]
    wait_for_charts(page, truth, expected_sot(product.env))
    page.wait_for_function("() => document.getElementById('freshness').textContent.includes('20 of 20 sources live')")
    badge = page.inner_text("#freshness")
    assert badge.startswith("Updated ") and " ago, 20 of 20 sources live" in badge
    # The WAL a slot keeps is shown after the stream's slot check, every 5 s.
    page.wait_for_function("() => document.querySelector('#health-table tbody tr')?.innerText.includes('WAL kept')",
                           timeout=10_000)
    health = page.locator("#health-table tbody tr")
    assert health.count() == len(SOURCES)
    rows_in_alb = product.get("/api/v1/sources")["sources"][0]["rows"]
    source, rows, _lag, capture, state = health.nth(0).inner_text().split("\t")[:5]
    assert (source, rows, state) == ("ALB", f"{rows_in_alb:,}", "live")
    assert capture.startswith("wal · ") and capture.endswith(" WAL kept")     # logical replication, and its cost
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert page.problems == []


def test_choosing_two_countries_narrows_the_filtered_charts(page, product):
    truth = expected_charts(product.env, countries=("ARG", "DEU"))
    wait_for_count(page, expected_charts(product.env)["/submissions"]["count"])
    page.click("#country-selector summary")
    page.click("[data-select=none]")
    page.wait_for_function("() => Chart.getChart(document.getElementById('tmins-chart')).data.labels.length == 0")
    assert page.locator(".card .empty-note:not([hidden])").count() == 3
    page.check("#country-options input[value=ARG]")
    page.check("#country-options input[value=DEU]")
    page.wait_for_function("() => Chart.getChart(document.getElementById('tmins-chart')).data.labels.length == 2")
    wait_for_charts(page, {**truth, "/submissions": expected_charts(product.env)["/submissions"]},
                    expected_sot(product.env))
    assert "countries=ARG%2CDEU" in page.url or "countries=ARG,DEU" in page.url
    page.reload()                           # the selection survives a reload (it is in the address)
    page.wait_for_function("() => Chart.getChart(document.getElementById('tmins-chart'))?.data.labels.length == 2")
    assert chart_data(page, "tmins-chart")["labels"] == ["ARG", "DEU"]
    assert page.problems == []


def test_an_answer_for_an_earlier_selection_is_not_drawn(polling_page, product):
    page = polling_page
    wait_for_count(page, expected_charts(product.env)["/submissions"]["count"])
    held = []              # one all-countries answer, held back until the selection has changed

    def hold_one(route):
        if "countries=" not in route.request.url and not held:
            held.append(route)
        else:
            route.continue_()
    page.route("**/api/v1/summary*", hold_one)
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert held, "the page did not poll within 5 s"
    page.click("#country-selector summary")
    page.click("[data-select=none]")
    page.check("#country-options input[value=ARG]")
    page.check("#country-options input[value=DEU]")
    page.wait_for_function("() => Chart.getChart(document.getElementById('tmins-chart')).data.labels.length == 2")
    late = held[0]
    unconditional = {k: v for k, v in late.request.headers.items() if k.lower() != "if-none-match"}
    with page.expect_response(lambda r: r.request == late.request):
        late.continue_(headers=unconditional)   # the earlier selection's answer (a body) arrives late
    page.wait_for_timeout(150)            # it has been handled (the next poll is ~1 s away)
    assert chart_data(page, "tmins-chart")["labels"] == ["ARG", "DEU"]
    assert [b["label"] for b in chart_data(page, "eeb-chart")["datasets"]] == ["ARG", "DEU"]
    assert unexpected(page.problems) == []


def test_a_committed_row_is_pushed_to_the_big_number_within_a_second(page, product):
    before = expected_charts(product.env)["/submissions"]["count"]
    wait_for_count(page, before)
    wait_for_transport(page, "stream")
    polls = []
    page.on("request", lambda r: "/api/v1/summary" in r.url and polls.append(r.url))
    with product.env.source_conn("ESP") as conn:
        insert_row(conn, -424242, cnt="ESP", durecec="2")
    committed = time.monotonic()
    wait_for_count(page, before + 1, timeout_ms=1000)
    print(f"source commit -> big number on the page: {time.monotonic() - committed:.2f} s")
    assert polls == []                                   # pushed, not polled
    assert page.problems == []


def test_when_the_stream_fails_the_page_polls_says_so_and_resumes_the_stream(page, product):
    before = expected_charts(product.env)["/submissions"]["count"]
    wait_for_count(page, before)
    wait_for_transport(page, "stream")
    refuse_stream(page)                 # the open stream ends within 5 s; its reconnection is refused
    wait_for_transport(page, "polling", timeout_ms=10_000)
    page.wait_for_function("() => document.getElementById('freshness').textContent.includes("
                           "'polling every second (the live stream was refused)')")
    with product.env.source_conn("DNK") as conn:
        insert_row(conn, -454545, cnt="DNK", durecec="2")
    wait_for_count(page, before + 1, timeout_ms=3000)     # the figures still move, polled
    page.unroute(STREAM)
    wait_for_transport(page, "stream", timeout_ms=10_000)   # retried every 2 s here
    page.wait_for_function("() => !document.getElementById('freshness').textContent.includes('polling')")
    with product.env.source_conn("DOM") as conn:
        insert_row(conn, -464646, cnt="DOM", durecec="2")
    wait_for_count(page, before + 2, timeout_ms=1000)
    assert unexpected(page.problems) == []


def wait_for_transport(page, transport: str, timeout_ms: float = 5000) -> None:
    page.wait_for_function("(t) => document.getElementById('freshness').dataset.transport == t",
                           arg=transport, timeout=timeout_ms)


def test_data_that_stops_moving_is_said_on_the_page(page, product):
    wait_for_count(page, expected_charts(product.env)["/submissions"]["count"])
    # The sync goes on (the badge stays green), but no row arrives for the page's 4 s.
    page.wait_for_function("() => document.getElementById('freshness').textContent.includes('no new rows for')",
                           timeout=10_000)
    assert page.inner_text("#freshness").startswith("Updated ")
    with product.env.source_conn("DEU") as conn:
        insert_row(conn, -434343, cnt="DEU", durecec="2")
    page.wait_for_function("() => !document.getElementById('freshness').textContent.includes('no new rows')")
    assert page.problems == []


def test_a_stalled_sync_is_said_on_the_page(page, product):
    wait_for_count(page, expected_charts(product.env)["/submissions"]["count"])
    product.stop_sync()
    page.wait_for_function("() => document.getElementById('freshness').textContent.includes('sync is behind')",
                           timeout=10_000)
    page.wait_for_function("() => document.querySelectorAll('#health-table tr.state-lagging').length == 20",
                           timeout=10_000)
    assert page.locator("#freshness").get_attribute("class") == "badge badge-stale"
    assert page.problems == []


def test_without_the_stream_the_page_polls_once_a_second_with_its_etag_and_says_so(polling_page, product):
    page = polling_page
    wait_for_count(page, expected_charts(product.env)["/submissions"]["count"])
    assert page.locator("#freshness").get_attribute("data-transport") == "polling"
    page.wait_for_function("() => document.getElementById('freshness').textContent.includes('polling every second')")
    polls = []
    page.on("request", lambda r: "/api/v1/summary" in r.url and polls.append(r.headers.get("if-none-match")))
    page.on("response", lambda r: "/api/v1/summary" in r.url and polls.append(r.status))
    page.wait_for_timeout(3500)
    requests = [p for p in polls if not isinstance(p, int)]
    assert 3 <= len(requests) <= 5                       # one a second: one request for all five charts
    assert all(tag and tag.startswith('W/"') for tag in requests)    # weak: ages move in the body
    assert 304 in polls                                  # nothing moved: bodiless answers
    assert unexpected(page.problems) == []


def test_an_api_outage_is_said_and_the_page_recovers(page, product):
    wait_for_count(page, expected_charts(product.env)["/submissions"]["count"])
    page.route(STREAM_OR_SUMMARY, lambda route: route.abort())
    page.wait_for_function("() => document.getElementById('freshness').className == 'badge badge-down'",
                           timeout=15_000)                        # the next stream (5 s) fails, then polls do
    assert "cannot reach the API" in page.inner_text("#freshness")
    assert page.inner_text("#submissions-count") != "–"          # the last figures stay
    page.unroute(STREAM_OR_SUMMARY)
    page.wait_for_function("() => document.getElementById('freshness').textContent.startsWith('Updated')")
    # The outage itself shows as failed loads (the browser logs them); nothing else may.
    assert [p for p in page.problems if "ERR_FAILED" not in p] == []


def test_a_failing_source_is_shown_not_hidden(page, product):
    wait_for_count(page, expected_charts(product.env)["/submissions"]["count"])
    with product.env.source_conn("CHE") as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE responses RENAME TO responses_moved")     # the source breaks
    page.wait_for_function("() => document.querySelector('#health-table tr.state-error') !== null", timeout=10_000)
    row = page.locator("#health-table tr.state-error")
    assert row.count() == 1 and row.inner_text().startswith("CHE")
    assert "responses" in row.locator("td.error").inner_text()           # the error, in words
    page.wait_for_function("() => document.getElementById('freshness').textContent.includes('19 of 20 sources live')")
    assert page.locator("#freshness").get_attribute("class") == "badge badge-partial"
    assert page.problems == []


def test_a_library_that_does_not_load_is_said_on_the_page(browser, product):
    context = browser.new_context()
    page = context.new_page()
    page.route("**/vendor/chart.js/*", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(product.url)
    page.wait_for_function("() => document.getElementById('freshness').className == 'badge badge-down'")
    assert page.inner_text("#freshness").startswith("The dashboard page failed: ")
    assert "Chart is not defined" in page.inner_text("#freshness")
    context.close()


def test_a_phone_screen_gets_one_column_and_no_sideways_scrolling(browser, product):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(product.url)
    page.wait_for_function("() => document.getElementById('submissions-count').textContent != '–'")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    lefts = page.evaluate("[...document.querySelectorAll('.card')].map((c) => c.getBoundingClientRect().left)")
    assert len(set(lefts)) == 1                                      # one column
    sizes = page.evaluate("[...document.querySelectorAll('canvas')].map((c) => [c.clientWidth, c.clientHeight])")
    assert len(sizes) == 4 and all(w > 250 and h > 200 for w, h in sizes)
    assert [e for e in errors if "304" not in e] == []
    context.close()
