"""Fixtures of the browser suite: one Chromium (Debian's, /usr/bin/chromium) for the whole
run, the release server (started per test session or module, never built here), and `web`,
which opens fresh browser contexts (fresh profiles) whose every page is watched.

After each test, `web` fails it when any page had a console error (including a Content
Security Policy violation), an uncaught error, a failed request or a response of 400 or
more that the test did not declare, or when the server logged an error or a panic. A failed
test leaves a full-page screenshot and the HTML of each open page in
target/browser-tests/failures/.
"""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from support import ARTEFACTS, LOCALE, TIMEOUT_MS, App, Monitor, screenshot_pages, slug

CHROMIUM = os.environ.get("SHINDAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def pytest_sessionstart(session):
    failures = ARTEFACTS / "failures"
    shutil.rmtree(failures, ignore_errors=True)
    (ARTEFACTS / "pages").mkdir(parents=True, exist_ok=True)
    for old in ARTEFACTS.glob("server-*.log"):
        old.unlink()


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not os.path.exists(CHROMIUM):
        pytest.exit(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set SHINDAN_CHROMIUM)", 2)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Root in a container has no user namespace for Chromium's sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--no-proxy-server"],
            timeout=60_000,
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def app():
    """The release server shared by the journeys (each creates its own brokers and drafts)."""
    server = App("journeys").start()
    yield server
    server.cleanup()


PAGES_LOADED = []


def pytest_terminal_summary(terminalreporter):
    if PAGES_LOADED:
        terminalreporter.write_line(
            f"browser: {sum(PAGES_LOADED)} page loads watched in {len(PAGES_LOADED)} browser "
            f"profiles; artefacts in {ARTEFACTS}"
        )


class Web:
    """Opens watched browser contexts for one test; checks them when the test ends."""

    def __init__(self, browser: Browser, test_name: str):
        self.browser = browser
        self.test_name = test_name
        self.contexts: list[BrowserContext] = []
        self.monitors: list[Monitor] = []
        self.servers: list[tuple[App, int]] = []

    def watch_server(self, app: App) -> None:
        """Also fail the test on errors and panics the server logs while it runs."""
        size = app.log_path.stat().st_size if app.log_path.exists() else 0
        self.servers.append((app, size))

    def context(self, lang: str, name: str) -> BrowserContext:
        """A fresh browser profile whose own language setting is `lang`."""
        context = self.browser.new_context(
            locale=LOCALE[lang],
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        monitor = Monitor(name)
        monitor.attach(context)
        self.contexts.append(context)
        self.monitors.append(monitor)
        return context

    def page(self, lang: str, name: str) -> tuple[Page, Monitor]:
        context = self.context(lang, name)
        return context.new_page(), self.monitors[-1]

    def monitor_of(self, context: BrowserContext) -> Monitor:
        return self.monitors[self.contexts.index(context)]

    def snap(self, page: Page, name: str) -> None:
        """Keeps a full-page screenshot of a page for people to look at."""
        page.screenshot(path=str(ARTEFACTS / "pages" / f"{slug(name)}.png"), full_page=True)

    def problems(self) -> list[str]:
        found = [f"[{m.name}] {p}" for m in self.monitors for p in m.problems]
        for app, start in self.servers:
            if not app.log_path.exists():
                continue
            with open(app.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode("utf-8", "replace")
            for line in text.splitlines():
                if " ERROR " in line or "panicked" in line:
                    found.append(f"[server {app.name}] {line.strip()}")
        return found

    def check(self) -> None:
        problems = self.problems()
        assert not problems, "problems on the pages:\n  " + "\n  ".join(problems)

    def close(self) -> None:
        PAGES_LOADED.extend(len(m.pages_seen) for m in self.monitors)
        for c in self.contexts:
            try:
                c.close()
            except Exception:
                pass


@pytest.fixture
def web(browser, request):
    w = Web(browser, request.node.name)
    if "app" in request.fixturenames:
        w.watch_server(request.getfixturevalue("app"))
    yield w
    w.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # The test's own assertions first; then what the pages and the server reported.
    result = yield
    w = item.funcargs.get("web")
    if w is not None:
        w.check()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    w = item.funcargs.get("web") if hasattr(item, "funcargs") else None
    if w is not None and report.when == "call":
        problems = w.problems()
        if problems:
            report.sections.append(("page problems", "\n".join(problems)))
        if report.failed:
            saved = screenshot_pages(w.contexts, item.name)
            if saved:
                report.sections.append(
                    ("screenshots", "\n".join(str(p.relative_to(ARTEFACTS.parents[1])) for p in saved))
                )
    return report
