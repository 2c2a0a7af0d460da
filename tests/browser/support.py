"""What the browser tests share: the server under test, the JSON API as the test process
uses it (bearer tokens, never through the browser), a watcher of every page a browser
context opens, and the clicks the journeys repeat.

The browser is driven as a person drives it: it types and clicks. It never gets a header
that it would not send itself (no extra HTTP headers, no Origin, no Sec-Fetch-*), and its
cookies are only the ones its own cookie store received.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "target" / "browser-tests"
# The server under test: the release build, unless SHINDAN_BINARY names another one.
BINARY = Path(os.environ.get("SHINDAN_BINARY") or ROOT / "target" / "release" / "shindan")
QUESTIONNAIRES = ROOT / "questionnaires"

# Generous: a slow machine gets time, a broken page still fails.
TIMEOUT_MS = 20_000
SERVER_START_SECONDS = 30

LANGS = ("ja", "en")
# A browser's own language setting (its Accept-Language); each journey starts in the other
# language and clicks the switch.
LOCALE = {"ja": "ja-JP", "en": "en-US"}
OTHER = {"ja": "en", "en": "ja"}
# The language switch shows the other language's own name.
LANGUAGE_NAME = {"ja": "日本語", "en": "English"}

# Never send local traffic through a proxy (Chromium and urllib both read these).
for _name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_name, None)
os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_RAW_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120] or "page"


class ApiError(AssertionError):
    pass


# --- the server --------------------------------------------------------------------------------


class App:
    """The release binary, started on a free 127.0.0.1 port with a fresh data directory and
    the shipped questionnaires, its log in target/browser-tests/server-NAME.log."""

    def __init__(self, name: str, extra_args: tuple[str, ...] = ()):
        if not BINARY.exists():
            raise RuntimeError(
                f"{BINARY} is missing: run `bash scripts/browser-tests.sh` (or "
                "`cargo build --release`) first; the tests build nothing"
            )
        self.name = name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"shindan-browser-{name}-"))
        self.data_dir = self.tmp / "data"
        self.questionnaires = self.tmp / "questionnaires"
        self.questionnaires.mkdir()
        for f in sorted(QUESTIONNAIRES.glob("*.toml")):
            shutil.copy(f, self.questionnaires / f.name)
        self.admin_token = "browser-tests-" + secrets.token_urlsafe(32)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = ARTEFACTS / f"server-{name}.log"
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "App":
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        log = open(self.log_path, "ab")
        env = dict(os.environ, SHINDAN_LOG=os.environ.get("SHINDAN_LOG", "info"))
        self.proc = subprocess.Popen(
            [
                str(BINARY), "serve",
                "--bind", f"127.0.0.1:{self.port}",
                "--data-dir", str(self.data_dir),
                "--questionnaires", str(self.questionnaires),
                "--admin-token", self.admin_token,
                *self.extra_args,
            ],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        log.close()
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.proc.returncode}; log:\n{self.log_path.read_text()}"
                )
            try:
                with _OPENER.open(self.base + "/healthz", timeout=1) as res:
                    if res.status == 200 and res.read() == b"ok":
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not answer /healthz within {SERVER_START_SECONDS} s")

    def stop(self) -> None:
        """SIGTERM (requests finish, data is flushed), then SIGKILL after 10 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def url(self, path: str) -> str:
        return self.base + path

    # --- JSON API, from the test process ---

    def call(self, method: str, path: str, body=None, token: str | None = None,
             expect=(200, 201)):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with _RAW_OPENER.open(req, timeout=15) as res:
                status, text = res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if status not in expect:
            raise ApiError(f"{method} {path} answered {status}: {text[:500]}")
        return json.loads(text) if text and text.lstrip()[:1] in "{[" else text

    def new_broker(self, name: str) -> dict:
        """A broker account through the admin API: `token` is its secret."""
        return self.call("POST", "/api/v1/admin/brokers", {"name": name}, self.admin_token)

    def portfolio(self, broker_token: str, **query) -> list[dict]:
        """Every item of a broker's portfolio (all pages), newest first."""
        items, cursor = [], None
        while True:
            q = dict(query, limit=100)
            if cursor:
                q["cursor"] = cursor
            page = self.call(
                "GET", "/api/v1/broker/assessments?" + urllib.parse.urlencode(q), token=broker_token
            )
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def questionnaire(self, qid: str = "it-liability") -> dict:
        return self.call("GET", f"/api/v1/questionnaires/{qid}")

    def submitted_assessment(self, company: str, qid: str = "it-liability") -> dict:
        """A company's own complete, submitted assessment (what a self-taken one looks like),
        created through the public JSON API; `report_token` opens its report."""
        q = self.questionnaire(qid)
        return self.call("POST", "/api/v1/assessments", {
            "questionnaire": qid,
            "submit": True,
            "profile": complete_profile(q, company),
            "answers": complete_answers(q, variant=1),
        })

    def backup(self) -> list[dict]:
        """Every line of `shindan backup` of the data directory (the server must be stopped)."""
        assert self.proc is None, "back up a stopped server only"
        out = self.tmp / "backup.jsonl"
        subprocess.run(
            [str(BINARY), "backup", str(out), "--data-dir", str(self.data_dir)],
            check=True, timeout=60, capture_output=True,
        )
        return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def complete_profile(q: dict, company: str) -> dict:
    values = {"text": company, "number": 42, "date": "2027-04-01"}
    profile = {}
    for f in q.get("profile") or []:
        if f["kind"] == "select":
            profile[f["id"]] = f["options"][0]["id"]
        elif f["kind"] == "multiselect":
            profile[f["id"]] = [f["options"][0]["id"]]
        else:
            profile[f["id"]] = values[f["kind"]]
    return profile


def complete_answers(q: dict, variant: int = 0) -> dict:
    return {
        question["id"]: question["options"][(i * 7 // 3 + variant * (i + 1)) % len(question["options"])]["id"]
        for i, question in enumerate(q["questions"])
    }


# --- watching the pages ------------------------------------------------------------------------


ICON_PATH = re.compile(r"^[a-z]+://[^/]+/(assets/)?favicon[^/?]*(\?|$)")


@dataclass
class Allowance:
    """A response status the test expects at a URL (a refused post, a validation error),
    and the console line Chromium logs about it."""
    status: int
    url: re.Pattern
    seen: int = 0

    def matches(self, status: int, url: str) -> bool:
        return status == self.status and bool(self.url.search(url))


@dataclass
class Monitor:
    """Records, for every page of one browser context: console errors (which include
    Content-Security-Policy violations), uncaught page errors, failed requests and responses
    with a status of 400 or more, except those the test declared with `expect`."""
    name: str
    problems: list[str] = field(default_factory=list)
    allowances: list[Allowance] = field(default_factory=list)
    pages_seen: list[str] = field(default_factory=list)
    responses: list[tuple[int, str, str]] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("weberror", lambda e: self.problems.append(f"page error: {e.error}"))
        context.on("requestfailed", self._failed)
        context.on("response", self._response)
        context.on("page", lambda p: p.on("load", lambda loaded: self.pages_seen.append(loaded.url)))

    def _allowed(self, status: int, url: str) -> bool:
        for a in self.allowances:
            if a.matches(status, url):
                a.seen += 1
                return True
        return False

    def _console(self, msg: ConsoleMessage) -> None:
        text = msg.text
        where = (msg.location or {}).get("url", "") or (msg.page.url if msg.page else "")
        is_csp = "Content Security Policy" in text or "Content-Security-Policy" in text
        if msg.type != "error" and not is_csp:
            return
        m = re.search(r"status of (\d{3})", text)
        if m and not is_csp and any(
            a.status == int(m.group(1)) and a.url.search(where) for a in self.allowances
        ):
            return
        kind = "CSP violation" if is_csp else f"console {msg.type}"
        self.problems.append(f"{kind} on {where}: {text}")

    def _failed(self, request: Request) -> None:
        failure = request.failure or "failed"
        # Chromium asks for the icon after the load event; a test that moves on at once
        # cancels that request. Its status is still checked whenever it completes.
        if failure == "net::ERR_ABORTED" and ICON_PATH.search(request.url):
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def _response(self, response: Response) -> None:
        self.responses.append((response.status, response.request.method, response.url))
        if response.status >= 400 and not self._allowed(response.status, response.url):
            self.problems.append(
                f"HTTP {response.status} for {response.request.method} {response.url}"
            )

    @contextlib.contextmanager
    def expect(self, status: int, url_part: str):
        """Within the block, a response of `status` at a URL containing `url_part` is
        expected (and must come); the console line about it stays allowed afterwards."""
        a = Allowance(status, re.compile(re.escape(url_part)))
        self.allowances.append(a)
        yield a
        got = [f"{s} {m} {u}" for s, m, u in self.responses if url_part in u]
        assert a.seen, (
            f"expected an HTTP {status} response at a URL with {url_part!r}; got: {got or 'none'}"
        )


# --- clicks ------------------------------------------------------------------------------------


def submit(page: Page, locator, wait_until: str = "load") -> Response:
    """Clicks a button that posts a form (or a link) and returns the final response of the
    navigation it starts (after redirects)."""
    with page.expect_navigation(wait_until=wait_until) as nav:
        locator.click()
    response = nav.value
    assert response is not None, "the click did not load a page"
    return response


def html_lang(page: Page) -> str:
    return page.locator("html").get_attribute("lang") or ""


CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]+")


def check_language(page: Page, lang: str, *user_texts: str) -> None:
    """The page is in `lang`: its <html lang>, and on English pages no Japanese besides what
    the user typed and the language switch's "日本語"."""
    assert html_lang(page) == lang, f"{page.url} is in {html_lang(page)!r}, not {lang!r}"
    if lang == "en":
        text = page.locator("body").inner_text()
        for t in (*user_texts, "日本語"):
            text = text.replace(t, "")
        found = sorted(set(CJK.findall(text)))
        assert not found, f"Japanese on the English page {page.url}: {found[:10]}"


def switch_language(page: Page, to: str) -> Response:
    """Clicks the language switch at the top right."""
    link = page.locator("header.site nav.lang a")
    assert link.inner_text().strip() == LANGUAGE_NAME[to], "the switch names the other language"
    response = submit(page, link)
    assert html_lang(page) == to, f"after the switch the page is in {html_lang(page)!r}, not {to!r}"
    return response


def answer_domain(page: Page, pick, skip: set[str] = frozenset()) -> dict[str, str]:
    """Answers every question of the domain step shown by clicking an option's label; `pick`
    gets (question position, the option values) and returns the value to choose. Returns
    {field name: value chosen}."""
    questions = page.eval_on_selector_all(
        "fieldset.question",
        """fss => fss.map(fs => {
            const radios = [...fs.querySelectorAll('input[type=radio]')];
            return {name: radios[0].name, options: radios.map(r => [r.value, r.id])};
        })""",
    )
    chosen = {}
    for i, q in enumerate(questions):
        if q["name"] in skip:
            continue
        ids = dict(q["options"])
        value = pick(i, [v for v, _ in q["options"]])
        page.locator(f"label[for='{ids[value]}']").click()
        chosen[q["name"]] = value
    shown = checked_answers(page)
    assert {k: shown.get(k) for k in chosen} == chosen, "a click did not check its option"
    return chosen


def checked_answers(page: Page) -> dict[str, str]:
    """{field name: checked value} of the domain step shown."""
    return page.eval_on_selector_all(
        "fieldset.question input[type=radio]:checked",
        "els => Object.fromEntries(els.map(e => [e.name, e.value]))",
    )


def screenshot_pages(contexts, label: str) -> list[Path]:
    """A full-page screenshot and the HTML of every open page, under target/browser-tests/failures."""
    out_dir = ARTEFACTS / "failures"
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    for ci, context in enumerate(contexts):
        try:
            pages = context.pages
        except Exception:
            continue
        for pi, page in enumerate(pages):
            stem = out_dir / f"{slug(label)}-{ci}-{pi}"
            try:
                page.screenshot(path=str(stem) + ".png", full_page=True, timeout=10_000)
                saved.append(Path(str(stem) + ".png"))
                Path(str(stem) + ".html").write_text(
                    f"<!-- {page.url} -->\n" + page.content(), encoding="utf-8"
                )
            except Exception as e:  # a closed or crashed page: note it, keep going
                Path(str(stem) + ".txt").write_text(f"{page.url}: no screenshot: {e}\n")
    return saved
