"""Commit to pixel: from a source commit until the chart page, in a real Chromium, paints it.

    .venv/bin/python bench/pixel.py [--seconds 60] [--rate 4] [--transports stream,polling]

Starts the product (`scripts/run.sh`: Airflow, gunicorn as the Procfile runs it; simulator off)
unless the API already answers on PISA_PORT (then nothing else may write into the sources), and
opens the chart page in Debian's Chromium (Playwright, headless; `make browser` installs it). A
MutationObserver stamps every change of the big number with the time of the next animation frame,
the frame that paints it. A writer commits --rate marked rows a second into random sources, one
transaction each; per row, commit -> the first frame whose number includes it. Per transport, in
the same run: `stream` (the page as it is: Server-Sent Events) and `polling` (the stream refused,
so the page polls /api/v1/summary once a second: the design before push).
Targets: p99 <= 250 ms with wal capture (<= 500 ms with xmin).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_line, start_product, stop_product, summary  # noqa: E402
from bench.freshness import wait_until_still  # noqa: E402
from bench.writer import MarkedWriter, latencies_ms, ms, percentiles  # noqa: E402
from pisa.config import load_settings  # noqa: E402

CHROMIUM = os.environ.get("PISA_CHROMIUM", "/usr/bin/chromium")
SETTLE_S = 3
# Every change of the big number, stamped at the next animation frame (wall clock, ms).
STAMP_FRAMES = """() => {
    window.pisaFrames = [];
    const number = document.getElementById('submissions-count');
    new MutationObserver(() => {
        const text = number.textContent;
        requestAnimationFrame(() => window.pisaFrames.push([performance.timeOrigin + performance.now(), text]));
    }).observe(number, { childList: true, characterData: true, subtree: true });
}"""


def measure(browser, settings, transport: str, rate: float, seconds: float) -> dict:
    base = f"http://127.0.0.1:{settings.port}"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    if transport == "polling":
        page.route("**/api/v1/stream*", lambda route: route.fulfill(status=503, body="refused for the benchmark"))
    page.goto(base)
    wait_until_still(base, quiet_s=5)
    baseline = summary(base)["submissions"]["count"]
    page.wait_for_function("(n) => document.getElementById('submissions-count').textContent.replace(/,/g, '') == n",
                           arg=str(baseline), timeout=30_000)
    page.wait_for_function("(t) => document.getElementById('freshness').dataset.transport == t", arg=transport)
    page.evaluate(STAMP_FRAMES)
    print(f"  {transport}: writing {rate:g} rows/s for {seconds:g} s...", flush=True)
    writer = MarkedWriter(settings, rate, seconds)
    writer.start()
    while writer.is_alive():
        page.wait_for_timeout(250)              # the page runs while Playwright waits
    page.wait_for_timeout(SETTLE_S * 1000)
    frames = [(at / 1000, int(text.replace(",", ""))) for at, text in page.evaluate("() => window.pisaFrames")]
    context.close()
    latencies = latencies_ms(writer.commits, frames, baseline)
    return {"transport": transport, "rows": len(writer.commits), "unseen": len(writer.commits) - len(latencies),
            **percentiles(latencies)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="writing time per transport (default 60)")
    parser.add_argument("--rate", type=float, default=4, help="rows committed per second (default 4)")
    parser.add_argument("--transports", default="stream,polling", help="stream, polling or both (default both)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    settings = load_settings()
    print(machine_line("Commit-to-pixel benchmark"))
    product = start_product(settings)
    results = []
    try:
        captures = sorted({s["capture"] for s in summary(f"http://127.0.0.1:{settings.port}")["sources"]})
        print(f"  the sources are captured by {' and '.join(captures)}", flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            for transport in args.transports.split(","):
                results.append(measure(browser, settings, transport, args.rate, args.seconds))
                r = results[-1]
                print(f"    p50 {ms(r['p50'])}, p95 {ms(r['p95'])}, p99 {ms(r['p99'])}, max {ms(r['max'])}; "
                      f"never painted {r['unseen']}", flush=True)
            browser.close()
    finally:
        stop_product(product)
    print()
    print(f"{'page':>8} {'rows':>6} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9} {'unseen':>7}")
    for r in results:
        print(f"{r['transport']:>8} {r['rows']:>6} {ms(r['p50']):>9} {ms(r['p95']):>9} {ms(r['p99']):>9} "
              f"{ms(r['max']):>9} {r['unseen']:>7}")
    print("(source commit -> the animation frame that paints the big number including it, in Chromium; "
          "targets: p99 <= 250 ms with wal capture, <= 500 ms with xmin)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
