"""A full-page screenshot of the running chart page, for the README (`make run` first).

    .venv/bin/python scripts/screenshot_page.py [URL] [OUT]   # defaults: PISA_PORT, docs/dashboard.png

Chromium is launched exactly as the browser tests launch it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.test_page import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else f"http://127.0.0.1:{os.environ.get('PISA_PORT', '8000')}/"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "docs" / "dashboard.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_function("() => document.getElementById('freshness').textContent.startsWith('Updated')")
        page.wait_for_timeout(1500)        # the map's atlas and a second poll have arrived
        page.screenshot(path=str(out), full_page=True)
        print(f"{url} -> {out}: {page.inner_text('#freshness')}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
