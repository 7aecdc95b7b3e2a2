"""The built site as a reader meets it: headless Chromium on a local server.

Playwright drives Debian's Chromium (``/usr/bin/chromium``; ``.ci/run``
installs it with apt, since Playwright cannot download browsers here). The
site is served on 127.0.0.1 and every request that would leave it is refused
and recorded, so the test also proves the site needs no network.
"""

from __future__ import annotations

import functools
import re
import subprocess
import threading
from collections.abc import Iterator
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest

from checker.docs.adrs import load_adrs
from checker.policy import load_policy
from checker.vex.loader import load_vex

if TYPE_CHECKING:
    from playwright.sync_api import Route

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "build" / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean; failures are asserted, not logged."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is absent; .ci/run installs Debian's chromium")
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mkdocs"), "build", "--strict", "-q", "-d", str(site)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    handler = functools.partial(_Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_reader_browses_and_searches_the_site(served: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    outside: list[str] = []
    console_errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def guard(route: Route) -> None:
                host = urlparse(route.request.url).hostname
                if host == "127.0.0.1":
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            page.on(
                "console", lambda m: console_errors.append(m.text) if m.type == "error" else None
            )

            page.goto(f"{served}/index.html")
            assert "RUNE" in page.title()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "docs-home.png"), full_page=True)

            # typed as a reader would: Material searches on key events
            page.click("input.md-search__input")
            page.keyboard.type("migrate-to-postgres")
            page.wait_for_selector(".md-search-result__item", timeout=15_000)
            results = page.inner_text(".md-search-result")
            assert "migrate-to-postgres" in results.lower()
            page.screenshot(path=str(ARTIFACTS / "docs-search.png"))

            policy = load_policy(ROOT / "policy")
            page.goto(f"{served}/compliance/licensing.html")
            rows = page.locator("article table").first.locator("tbody tr")
            assert rows.count() == len(policy.decisions)
            table = page.inner_text("article table")
            assert "LGPL-3.0-only" in table  # psycopg's real license
            assert "LicenseRef-CockroachDB-Software-License" in table

            adrs = load_adrs(ROOT / "adr")
            vex = load_vex([ROOT / "vex"], adr_ids={a.id for a in adrs.records}, today=date.today())
            page.goto(f"{served}/compliance/vex.html")
            entries = len(vex.register.entries)
            assert page.locator("article table tbody tr").count() == entries
            if entries == 0:
                assert "No exception is in force" in page.inner_text("article")

            # the image knowledge base: one row per license span, from policy/images.yaml
            page.goto(f"{served}/compliance/images.html")
            spans = sum(len(p.licenses) for p in policy.knowledge.projects)
            assert spans and page.locator("article table tbody tr").count() == spans
            images = page.inner_text("article table")
            assert "SSPL-1.0" in images and "docker.io/library/mongo" in images

            page.goto(f"{served}/architecture/index.html")
            index = page.inner_text("article")
            for adr in adrs.records:
                assert adr.id in index
                assert re.search(rf"{adr.id}.*?{adr.lifecycle}", index, re.S | re.I), adr.id
        finally:
            browser.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert console_errors == []
    # the screenshot is kept (build/test-artifacts/) and shows a rendered page
    assert (ARTIFACTS / "docs-home.png").stat().st_size > 10_000
