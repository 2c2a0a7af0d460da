"""Forms posted by another site's page, in a real Chromium: the attacker's page is served by
Python's http.server on another origin — another host name (http://localhost:PORT2, while
the application is used at http://127.0.0.1:PORT) and another port (http://127.0.0.1:PORT3,
the same site) — and submits a form to the application with its own inline script as soon
as it has loaded. The browser sends what it sends by itself; nothing is added.

Each post is refused and creates nothing: the broker API (bearer tokens, from the test
process) shows the same portfolio, and at the end `shindan backup` of the stopped server
counts exactly the assessments the tests created on purpose.
"""

from __future__ import annotations

import contextlib
import html
import http.server
import threading

import pytest
from playwright.sync_api import Page, expect

from support import App, free_port

# The application's refusal page (ErrorCode::CrossOrigin, 403).
REFUSED_TITLE = {"ja": "送信を受け付けられません", "en": "Form not accepted"}


class AttackerSite:
    """Another origin's web server: the pages it was given, nothing else."""

    def __init__(self, host_name: str):
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://{host_name}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def auto_post(self, name: str, action: str, fields: dict[str, str]) -> str:
        """A page whose own script posts a form to `action` once loaded; returns its URL."""
        inputs = "\n".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in fields.items()
        )
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>You won a prize</title>
<link rel="icon" href="data:,"></head>
<body><h1>Loading your prize…</h1>
<form id="f" method="post" action="{html.escape(action)}">{inputs}</form>
<script>window.addEventListener("load", () => document.getElementById("f").submit());</script>
</body></html>"""
        self.pages[f"/{name}"] = page.encode()
        return f"{self.origin}/{name}"

    def link_page(self, name: str, href: str) -> str:
        """A page with a plain link to `href` (a mail or chat message, say)."""
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Message</title>
<link rel="icon" href="data:,"></head>
<body><p>Your portfolio: <a href="{html.escape(href)}">open the dashboard</a></p></body></html>"""
        self.pages[f"/{name}"] = page.encode()
        return f"{self.origin}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def target():
    """A server of its own, so that the backup at the end counts this module's data only.
    Its tests sign in a dozen times within seconds, past the default burst of 10 sign-ins
    per address (rate limits have their own tests in tests/api)."""
    server = App("attacks", extra_args=("--login-rate", "600")).start()
    server.created = 0  # assessments the tests create on purpose
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def attackers():
    sites = {
        # Another host name: a cross-site request (the session cookie is SameSite=Strict).
        "another-host": AttackerSite("localhost"),
        # Another port of the same host: the same site, another origin (cookies are sent).
        "another-port": AttackerSite("127.0.0.1"),
    }
    yield sites
    for s in sites.values():
        s.close()


ORIGINS = ["another-host", "another-port"]


@pytest.fixture
def watched(web, target):
    web.watch_server(target)
    return web


def attack(page: Page, monitor, site: AttackerSite, name: str, action: str, fields: dict,
           status: int):
    """Opens the attacker's page and waits for the application's answer to its post."""
    url = site.auto_post(name, action, fields)
    with monitor.expect(status, action) if status >= 400 else contextlib.nullcontext():
        with page.expect_response(lambda r: r.url == action and r.request.method == "POST") as res:
            page.goto(url)
        # The application's answer (or where it redirects) replaces the attacker's page.
        page.wait_for_url(lambda u: not u.startswith(site.origin + "/"), wait_until="load")
    response = res.value
    assert response.status == status, f"{action} from {site.origin} answered {response.status}"
    return response


def sign_in(page: Page, target: App, token: str) -> None:
    page.goto(target.url("/broker/login"))
    page.locator("#token").fill(token)
    with page.expect_navigation():
        page.locator("form[action='/broker/login'] button[type=submit]").click()
    assert page.url == target.url("/broker"), page.url


def session_cookies(context) -> list[dict]:
    return [c for c in context.cookies() if c["name"] == "shindan_broker"]


@pytest.mark.parametrize("origin", ORIGINS)
def test_start_from_another_site_is_refused(target, attackers, watched, origin):
    page, monitor = watched.page("ja", f"start-{origin}")
    action = target.url("/start")
    attack(page, monitor, attackers[origin], "start", action,
           {"questionnaire": "it-liability", "version": "2026.1"}, 403)
    assert page.url == action, "no draft to go to"
    expect(page.locator("main h1")).to_have_text(REFUSED_TITLE["ja"])
    assert page.locator("html").get_attribute("lang") == "ja"
    watched.snap(page, f"refused-start-{origin}")


@pytest.mark.parametrize("origin", ORIGINS)
def test_sign_in_from_another_site_is_refused(target, attackers, watched, origin):
    """Login forgery: a valid token (the attacker's own) posted by its page."""
    broker = target.new_broker(f"攻撃者の代理店 {origin}")
    page, monitor = watched.page("en", f"login-{origin}")
    action = target.url("/broker/login")
    attack(page, monitor, attackers[origin], "login", action, {"token": broker["token"]}, 403)
    expect(page.locator("main h1")).to_have_text(REFUSED_TITLE["en"])
    assert session_cookies(page.context) == [], "no session was given"
    page.goto(target.url("/broker"))
    assert page.url == target.url("/broker/login")


def broker_forms(target: App, token: str):
    """(name, action, fields, what to check afterwards) of every signed-in broker form."""
    own = target.submitted_assessment("株式会社共有元")
    target.created += 1
    invited = target.call("POST", "/api/v1/broker/invitations",
                          {"questionnaire": "it-liability", "client_name": "株式会社既存顧客"}, token)
    target.created += 1

    def invitation_still_works():
        target.call("GET", f"/api/v1/assessments/{invited['id']}", token=invited["edit_token"])

    return [
        ("invite", "/broker/invitations",
         {"questionnaire": "it-liability", "client_name": "攻撃者の顧客", "proposal_ref": "X"}, None),
        ("attach", "/broker/attach", {"report": target.url(f"/r/{own['report_token']}")}, None),
        ("reissue", f"/broker/assessments/{invited['id']}/invitation", {}, invitation_still_works),
        ("logout", "/broker/logout", {}, None),
    ]


@pytest.mark.parametrize("origin", ORIGINS)
def test_broker_forms_from_another_site_are_refused(target, attackers, watched, origin):
    """With a live session in the same browser, another site's page posts each broker form."""
    broker = target.new_broker(f"東京みらい保険代理店 {origin}")
    token = broker["token"]
    forms = broker_forms(target, token)
    before = target.portfolio(token)
    assert len(before) == 1

    context = watched.context("ja", f"broker-forms-{origin}")
    monitor = watched.monitor_of(context)
    page = context.new_page()
    attacker = context.new_page()
    for name, path, fields, still_works in forms:
        if not session_cookies(context):
            sign_in(page, target, token)
        action = target.url(path)
        if origin == "another-port":
            # Same site: the browser sends the session cookie; the post is refused (403).
            cookie = session_cookies(context)
            attack(attacker, monitor, attackers[origin], name, action, fields, 403)
            expect(attacker.locator("main h1")).to_have_text(REFUSED_TITLE["ja"])
            assert session_cookies(context) == cookie, f"the refused {name} post changed the session"
            page.goto(target.url("/broker"))
            assert page.url == target.url("/broker"), f"the refused {name} post signed the broker out"
        else:
            # Another site: the browser withholds the SameSite=Strict cookie, so the post
            # reaches the application signed out and is sent to the sign-in page.
            attack(attacker, monitor, attackers[origin], name, action, fields, 303)
            assert attacker.url == target.url("/broker/login")
        # Nothing changed: the portfolio and the invitation's link.
        assert target.portfolio(token) == before, f"the {name} post changed the portfolio"
        if still_works:
            still_works()


@pytest.mark.parametrize("how", ["link", "post"])
def test_another_site_cannot_sign_the_broker_out(target, attackers, watched, how):
    broker = target.new_broker(f"代理店 サインアウト {how}")
    context = watched.context("ja", f"signout-{how}")
    monitor = watched.monitor_of(context)
    page = context.new_page()
    sign_in(page, target, broker["token"])
    cookie = session_cookies(context)
    site = attackers["another-host"]
    other = context.new_page()
    if how == "link":
        other.goto(site.link_page("link", target.url("/broker")))
        with other.expect_navigation():
            other.locator("a").click()
    else:
        attack(other, monitor, site, "logout-post", target.url("/broker/logout"), {}, 303)
    assert session_cookies(context) == cookie, "another site's page deleted the session cookie"
    page.goto(target.url("/broker"))
    assert page.url == target.url("/broker"), "the broker was signed out by another site"


def test_own_pages_still_post(target, watched):
    """The control: the same forms from the application's own pages do create, and the
    count at the end sees it."""
    broker = target.new_broker("東京みらい保険代理店 control")
    page, _ = watched.page("ja", "control")
    page.goto(target.url("/"))
    with page.expect_navigation():
        page.locator("section.questionnaire form[action='/start'] button").click()
    assert page.url.endswith("/profile")
    target.created += 1
    sign_in(page, target, broker["token"])
    page.locator("#client_name").fill("株式会社正規顧客")
    with page.expect_navigation():
        page.locator("form[action='/broker/invitations'] button[type=submit]").click()
    assert page.locator("input#link").input_value().startswith(target.url("/a/"))
    target.created += 1
    assert len(target.portfolio(broker["token"])) == 1


def test_nothing_was_created_by_the_attacks(target):
    """Runs last in this module: the stopped server's backup holds exactly the assessments
    the tests made on purpose."""
    target.stop()
    header = target.backup()[0]
    assert header["format"] == "shindan-backup"
    assert header["records"] == target.created, (
        f"{header['records']} assessments stored, {target.created} created on purpose"
    )
