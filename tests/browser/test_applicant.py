"""The applicant's journey, clicked in Chromium in Japanese and in English: landing, the
language switch, start, the company profile (a validation error that keeps what was typed,
save for later), every domain step (back, save, next), the review with a missing answer,
submission, the done page, the report in both languages with every export link, and the
report printed to PDF. Then: the private link opened in a fresh browser profile shows the
saved answers."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from support import (
    ARTEFACTS, LANGS, OTHER, answer_domain, check_language, checked_answers, html_lang, submit,
    switch_language,
)

# Text a page shows in each language (exact, from the UI strings).
TEXT = {
    "ja": {
        "saved": "保存しました。",
        "missing": "未回答",
        "date_field": "保険始期日（予定）",
        "application_group": "告知書の準備項目（任意）",
        "basics": "IT業務賠償責任保険の補償の基本",
    },
    "en": {
        "saved": "Saved.",
        "missing": "Not answered",
        "date_field": "Planned policy start date",
        "application_group": "Application-form details (optional)",
        "basics": "IT liability insurance: coverage basics",
    },
}
# The README: "Printing the page (or "Save as PDF") gives at most three A4 pages".
MAX_PRINTED_PAGES = 3
A4_POINTS = (595, 842)

TOKEN_PATH = re.compile(r"/a/([A-Za-z0-9_-]{43})/")


def pick(i: int, values: list[str]) -> str:
    """A varied, repeatable choice (never "not applicable", which some questions offer)."""
    real = [v for v in values if v != "na"]
    return real[(i * 7 // 3 + 1) % len(real)]


def fill_profile(page: Page, company: str, date: str = "2027-04-01") -> dict:
    """Types and picks a complete company profile and some of the optional
    application-form details (in their own group); returns what the form holds."""
    page.locator("#p-company_name").fill(company)
    page.locator("#p-business_type").select_option("saas")
    page.locator("label[for='p-client_industries-finance']").click()
    page.locator("#p-employees").fill("42")
    page.locator("label[for='p-certifications-pmark']").click()
    page.locator("label[for='p-certifications-isms']").click()
    page.locator("#p-liability_cap_share").select_option(index=2)
    page.locator("#p-overseas_customers").select_option("yes")
    page.locator("#p-policy_start").fill(date)
    group = page.locator("fieldset.group")
    group.locator("#p-revenue_last_fy").fill("1250")
    group.locator("label[for='p-revenue_mix-saas']").click()
    group.locator("label[for='p-revenue_mix-maintenance']").click()
    group.locator("#p-overseas_revenue_share").select_option("under10")
    group.locator("#p-past_claims").select_option("none")
    group.locator("#p-desired_limit").select_option("300m")
    return profile_values(page)


def checked(page: Page, field: str) -> list[str]:
    return page.eval_on_selector_all(
        f"input[name='p.{field}']:checked", "els => els.map(e => e.value)"
    )


def profile_values(page: Page) -> dict:
    return {
        "company": page.locator("#p-company_name").input_value(),
        "business": page.locator("#p-business_type").input_value(),
        "industries": checked(page, "client_industries"),
        "employees": page.locator("#p-employees").input_value(),
        "certs": checked(page, "certifications"),
        "cap": page.locator("#p-liability_cap_share").input_value(),
        "overseas": page.locator("#p-overseas_customers").input_value(),
        "start": page.locator("#p-policy_start").input_value(),
        "revenue": page.locator("#p-revenue_last_fy").input_value(),
        "mix": checked(page, "revenue_mix"),
        "overseas_share": page.locator("#p-overseas_revenue_share").input_value(),
        "claims": page.locator("#p-past_claims").input_value(),
        "limit": page.locator("#p-desired_limit").input_value(),
    }


def nav_button(page: Page, value: str):
    return page.locator(f"div.actions button[name=nav][value={value}]")


def progress(page: Page) -> tuple[int, int]:
    bar = page.locator("nav.steps progress")
    return int(bar.get_attribute("value")), int(bar.get_attribute("max"))


def start_assessment(app, page: Page) -> str:
    """Clicks the questionnaire's start button on the landing page; returns the edit token."""
    button = page.locator("section.questionnaire form[action='/start'] button[type=submit]")
    expect(button).to_have_count(1)
    response = submit(page, button)
    assert response.status == 200
    assert re.search(r"/a/[A-Za-z0-9_-]{43}/profile$", page.url), page.url
    return TOKEN_PATH.search(page.url + "/").group(1)


def pdf_pages(path: Path) -> tuple[int, tuple[float, float]]:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    w, h = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M).groups()
    return pages, (float(w), float(h))


@pytest.mark.parametrize("lang", LANGS)
def test_applicant_journey(app, web, lang):
    other = OTHER[lang]
    text = TEXT[lang]
    company = f"株式会社ブラウザ試験 {lang} <b>&</b>"
    # The browser's own language is the other one; the switch at the top right changes it.
    page, monitor = web.page(other, f"applicant-{lang}")
    response = page.goto(app.url("/"))
    assert response.status == 200
    assert html_lang(page) == other
    switch_language(page, lang)
    assert "lang=" + lang in page.url
    web.snap(page, f"landing-{lang}")

    # --- start, profile ---
    token = start_assessment(app, page)
    check_language(page, lang, company)  # the chosen language is remembered
    resume_link = page.locator("#resume-link").input_value()
    assert resume_link == app.url(f"/a/{token}")
    step, total = progress(page)
    domains = total - 2
    assert step == 1 and domains >= 3
    expect(page.locator("nav.steps ol li")).to_have_count(total)

    # A required field left empty: the browser itself refuses "next" and keeps the rest.
    page.locator("#p-company_name").fill(company)
    page.locator("#p-business_type").select_option("saas")
    before = page.url
    nav_button(page, "next").click()
    employees = page.locator("#p-employees")
    assert employees.evaluate("e => e.validity.valueMissing")
    assert employees.evaluate("e => e.validationMessage") != ""
    assert page.url == before
    assert page.locator("#p-company_name").input_value() == company

    # A date beyond the server's calendar (six-digit years can be typed in a date field):
    # refused by the server with a message, everything typed shown again.
    typed = fill_profile(page, company, date="275760-01-01")
    with monitor.expect(422, f"/a/{token}/profile"):
        response = submit(page, nav_button(page, "next"))
    assert response.status == 422
    alert = page.locator("div.alert[role=alert]")
    expect(alert).to_contain_text(text["date_field"])
    assert page.url.endswith(f"/a/{token}/profile")
    assert profile_values(page) == typed, "the form shows again what was typed"

    # The application-form details are a titled, optional group; each field's help is
    # tied to it for screen readers.
    group = page.locator("fieldset.group")
    expect(group.locator(":scope > legend")).to_have_text(text["application_group"])
    revenue_help = page.locator("#p-revenue_last_fy").get_attribute("aria-describedby")
    expect(page.locator(f"#{revenue_help}")).to_be_visible()
    assert group.locator("[required]").count() == 0, "application details are optional"

    # Save for later: the notice, and the values as stored.
    page.locator("#p-policy_start").fill("2027-04-01")
    typed = profile_values(page)
    response = submit(page, nav_button(page, "save"))
    assert response.status == 200 and page.url.endswith("/profile?saved=1")
    expect(page.locator("p.saved[role=status]")).to_have_text(text["saved"])
    assert profile_values(page) == typed
    response = submit(page, nav_button(page, "next"))
    assert page.url.endswith(f"/a/{token}/d/1")

    # --- every domain step: back (which saves), next, save for later, next ---
    chosen: dict[str, str] = {}
    by_step: dict[int, dict[str, str]] = {}
    skipped = None
    for d in range(1, domains + 1):
        step_path = f"/a/{token}/d/{d}"
        assert page.url.endswith(step_path), page.url
        assert progress(page) == (d + 1, total)
        check_language(page, lang, company)
        current = page.locator("nav.steps ol li.current a")
        expect(page.locator("main h1")).to_have_text(current.inner_text())
        skip = set()
        if d == 3:
            names = page.eval_on_selector_all(
                "fieldset.question input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
            )
            skipped = names[-1]
            skip = {skipped}
        answers = answer_domain(page, pick, skip)
        by_step[d] = answers
        chosen.update(answers)
        # Back saves this step and shows the previous one as it was saved.
        submit(page, nav_button(page, "prev"))
        if d == 1:
            assert page.url.endswith(f"/a/{token}/profile")
            assert profile_values(page) == typed
        else:
            assert page.url.endswith(f"/a/{token}/d/{d - 1}")
            assert checked_answers(page) == by_step[d - 1]
        submit(page, nav_button(page, "next"))
        assert page.url.endswith(step_path)
        assert checked_answers(page) == answers
        # Save for later: the notice, the answers still checked.
        submit(page, nav_button(page, "save"))
        assert page.url.endswith(step_path + "?saved=1")
        expect(page.locator("p.saved[role=status]")).to_have_text(text["saved"])
        assert checked_answers(page) == answers
        submit(page, nav_button(page, "next"))
    assert skipped is not None

    # --- review: the missing answer is listed ---
    assert page.url.endswith(f"/a/{token}/review")
    check_language(page, lang, company)
    assert progress(page) == (total, total)
    missing = page.locator("td.missing")
    expect(missing).to_have_count(1)
    expect(missing).to_have_text(text["missing"])
    expect(page.locator("dl.profile")).to_contain_text(company)
    expect(page.locator("div.alert[role=alert] a")).to_have_attribute("href", f"/a/{token}/d/3")
    web.snap(page, f"review-missing-{lang}")
    with monitor.expect(422, f"/a/{token}/submit"):
        response = submit(page, page.locator(f"form[action='/a/{token}/submit'] button[type=submit]"))
    assert response.status == 422
    expect(page.locator("td.missing")).to_have_count(1)
    # The alert's link leads to the step to fix.
    submit(page, page.locator("div.alert[role=alert] a"))
    assert page.url.endswith(f"/a/{token}/d/3")
    fixed = answer_domain(page, pick, skip=set(checked_answers(page)))
    assert list(fixed) == [skipped]
    chosen.update(fixed)
    submit(page, nav_button(page, "save"))
    submit(page, page.locator(f"nav.steps a[href='/a/{token}/review']"))
    expect(page.locator("td.missing")).to_have_count(0)
    expect(page.locator("div.alert[role=alert]")).to_have_count(0)

    # --- submit, done ---
    response = submit(page, page.locator(f"form[action='/a/{token}/submit'] button[type=submit]"))
    assert response.status == 200 and page.url.endswith(f"/a/{token}/done")
    check_language(page, lang, company)
    expect(page.locator("table.scores tbody tr")).to_have_count(domains)
    expect(page.locator("p.overall span.value")).to_have_text(re.compile(r"^\d+(\.\d)?$"))
    web.snap(page, f"done-{lang}")

    # --- the report, in both languages ---
    submit(page, page.locator("main a.button.primary[href^='/r/']"))
    report_path = re.search(r"/r/[A-Za-z0-9_-]+", page.url).group(0)
    check_language(page, lang, company)
    expect(page.locator("p.questionnaire-title")).to_contain_text("2026.2")
    expect(page.locator("section.basics h2")).to_have_text(text["basics"])
    expect(page.locator("body")).to_contain_text(company)
    check_report_links(page, app, lang, company)
    switch_language(page, other)
    check_report_links(page, app, other, company)
    switch_language(page, lang)
    assert report_path in page.url
    web.snap(page, f"report-{lang}")

    # --- the PDF the server makes: a click downloads an A4 file with the company's name ---
    with page.expect_download() as info:
        page.locator("section.downloads a[href*='.pdf']").click()
    download = info.value
    assert re.fullmatch(rf"shindan-report-[0-9a-f-]{{36}}-\d{{4}}-\d{{2}}-\d{{2}}-{lang}\.pdf",
                        download.suggested_filename), download.suggested_filename
    served = ARTEFACTS / "pages" / f"served-{lang}.pdf"
    download.save_as(served)
    pages, (w, h) = pdf_pages(served)
    assert (round(w), round(h)) == A4_POINTS and 1 <= pages <= MAX_PRINTED_PAGES, (pages, w, h)
    words = subprocess.run(["pdftotext", "-enc", "UTF-8", str(served), "-"], check=True,
                           capture_output=True, text=True).stdout
    assert "".join(company.split()) in "".join(words.split()), "the PDF names the company"

    # --- printed to PDF (A4, print styles) ---
    page.emulate_media(media="print")
    pdf = ARTEFACTS / "pages" / f"report-{lang}.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    page.emulate_media(media="screen")
    pages, (w, h) = pdf_pages(pdf)
    assert (round(w), round(h)) == A4_POINTS, f"the printed page is {w} x {h} pts, not A4"
    assert 1 <= pages <= MAX_PRINTED_PAGES, (
        f"the report prints on {pages} A4 pages; the README says {MAX_PRINTED_PAGES} ({pdf})"
    )


def check_report_links(page: Page, app, lang: str, company: str) -> None:
    """Every link of the report to this server answers 200, fetched with the page's own
    request context (its cookies); the exports are what they say."""
    check_language(page, lang, company)
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    own = sorted({h for h in hrefs if h.startswith(app.base + "/")})
    downloads = page.eval_on_selector_all(
        "section.downloads a[href]", "els => els.map(e => e.href)"
    )
    assert len(downloads) == 6, downloads
    for href in own:
        res = page.request.get(href, max_redirects=0)
        assert res.status == 200, f"{href} answered {res.status}"
        kind = res.headers.get("content-type", "")
        body = res.body()
        if "/radar.svg" in href:
            assert kind.startswith("image/svg+xml") and b"<svg" in body
        elif href.split("?")[0].endswith(".csv"):
            assert kind.startswith("text/csv") and body.startswith(b"\xef\xbb\xbf"), href
        elif href.split("?")[0].endswith(".pdf"):
            assert kind == "application/pdf" and body.startswith(b"%PDF-"), href
        elif "/api/v1/reports/" in href:
            assert kind.startswith("application/json")
            data = json.loads(body)
            assert data["profile"]["company_name"] == company
        else:
            assert kind.startswith("text/html"), f"{href}: {kind}"
            if "/download" in href:
                assert f'lang="{lang}"' in body.decode()


@pytest.mark.parametrize("lang", LANGS)
def test_resume_in_a_fresh_profile(app, web, lang):
    """Answers saved in one browser come back, checked, through the private link in another."""
    page, _ = web.page(lang, f"resume-{lang}-first")
    # The browser's own language decides when nothing else does.
    page.goto(app.url("/"))
    assert html_lang(page) == lang
    token = start_assessment(app, page)
    typed = fill_profile(page, f"合同会社再開テスト {lang}")
    submit(page, nav_button(page, "next"))
    first = answer_domain(page, pick)
    submit(page, nav_button(page, "next"))
    # Half of the second domain, then "save for later".
    count = page.locator("fieldset.question").count()
    names = page.eval_on_selector_all(
        "fieldset.question input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
    )
    second = answer_domain(page, pick, skip=set(names[count // 2:]))
    submit(page, nav_button(page, "save"))
    link = page.locator("#resume-link").input_value()
    assert link == app.url(f"/a/{token}")

    # A new browser profile: no cookie, nothing but the link.
    fresh, _ = web.page(lang, f"resume-{lang}-fresh")
    response = fresh.goto(link)
    assert response.status == 200
    assert fresh.url.endswith(f"/a/{token}/d/2"), "the link opens the first step with a gap"
    assert html_lang(fresh) == lang
    assert checked_answers(fresh) == second
    submit(fresh, fresh.locator(f"nav.steps a[href='/a/{token}/d/1']"))
    assert checked_answers(fresh) == first
    submit(fresh, fresh.locator(f"nav.steps a[href='/a/{token}/profile']"))
    assert profile_values(fresh) == typed
    # The profile is shown (current); the first domain is complete, the second is not.
    expect(fresh.locator("nav.steps ol li.done")).to_have_count(1)


@pytest.mark.parametrize("lang", LANGS)
def test_save_for_later_refuses_a_negative_count_and_keeps_what_was_typed(app, web, lang):
    """"Save for later" skips the browser's own checks (min=0), so the server checks too."""
    page, monitor = web.page(lang, f"negative-{lang}")
    page.goto(app.url("/"))
    token = start_assessment(app, page)
    typed = fill_profile(page, f"株式会社負の値 {lang}")
    page.locator("#p-employees").fill("-5")
    typed["employees"] = "-5"
    with monitor.expect(422, f"/a/{token}/profile"):
        response = submit(page, nav_button(page, "save"))
    assert response.status == 422
    expect(page.locator("div.alert[role=alert]")).to_be_visible()
    assert profile_values(page) == typed, "the form shows again what was typed"


# The narrowest phone screen in common use, in CSS pixels.
PHONE_WIDTH = 375


@pytest.mark.parametrize("lang", LANGS)
def test_the_report_fits_a_phone_screen(app, web, lang):
    """No page of the report scrolls sideways on a phone: wide tables scroll inside."""
    created = app.submitted_assessment(f"株式会社スマホ表示 {lang}")
    context = web.context(lang, f"phone-{lang}")
    page = context.new_page()
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    page.goto(app.url(f"/r/{created['report_token']}?lang={lang}"))
    assert html_lang(page) == lang
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        web.snap(page, f"phone-overflow-{lang}")
    assert overflow <= 0, f"the report is {overflow}px wider than a {PHONE_WIDTH}px screen"
