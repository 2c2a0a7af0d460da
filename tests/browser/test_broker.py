"""The broker's journey, clicked in Chromium in Japanese and in English: sign in with a token
typed into the form, invite clients, a client answering through the invitation link in its
own browser, the portfolio showing it submitted, a new link for another invited draft, a
shared report added by pasting its link, the filters, the CSV, a client's history with a
re-assessment invitation, and signing out, after which the old cookie opens nothing."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from support import (
    ARTEFACTS, LANGS, OTHER, answer_domain, check_language, html_lang, submit, switch_language,
)

TEXT = {
    "ja": {
        "login_failed": "トークンが正しくないか、無効になっています。運営者に確認してください。",
        "status": {"invited": "招待済み", "in_progress": "回答中", "submitted": "提出済み"},
        "shared": "共有",
        "attach_done": "報告書を一覧に追加しました。",
        "attach_not_found": "このリンクの提出済み報告書は見つかりませんでした。リンクを確認してください。",
        "invited_title": "招待リンクを作成しました",
        "reissued_title": "回答用リンクを再発行しました",
        "reissue": "リンク再発行",
        "csv_client": "顧客名",
        "client_name_error": "顧客名は1〜120文字で入力してください",
        "application_title": "告知書の準備状況",
    },
    "en": {
        "login_failed": "The token is wrong or no longer valid. Please ask the operator.",
        "status": {"invited": "Invited", "in_progress": "In progress", "submitted": "Submitted"},
        "shared": "Shared",
        "attach_done": "The report was added to your portfolio.",
        "attach_not_found": "No submitted report was found for this link. Please check it.",
        "invited_title": "Invitation link created",
        "reissued_title": "New answering link",
        "reissue": "New link",
        "csv_client": "Client",
        "client_name_error": "Enter a client name of 1 to 120 characters",
        "application_title": "Application-form readiness",
    },
}

LINK = re.compile(r"^http://127\.0\.0\.1:\d+/a/[A-Za-z0-9_-]{43}$")


def sign_in(page: Page, app, token: str) -> None:
    """Types the token into the sign-in page and clicks the button."""
    page.locator("#token").fill(token)
    response = submit(page, page.locator("form[action='/broker/login'] button[type=submit]"))
    assert response.status == 200, f"signing in answered {response.status}"
    assert page.url.split("?")[0] == app.url("/broker"), page.url


def invite(page: Page, client: str, proposal: str) -> str:
    """Fills and posts the dashboard's invitation form; returns the link shown once."""
    page.locator("#client_name").fill(client)
    page.locator("#proposal_ref").fill(proposal)
    response = submit(page, page.locator("form[action='/broker/invitations'] button[type=submit]"))
    assert response.status == 201, f"the invitation answered {response.status}"
    link = page.locator("input#link").input_value()
    assert LINK.match(link), link
    return link


def back_to_portfolio(page: Page) -> None:
    submit(page, page.locator("main a.button[href='/broker']"))


def row_of(page: Page, client: str):
    """The portfolio row whose client cell is exactly `client`."""
    return page.locator("table.portfolio tbody tr").filter(
        has=page.locator("th[scope=row] > a", has_text=re.compile("^" + re.escape(client) + "$"))
    )


def status_of(row) -> str:
    cls = row.locator("span.status").get_attribute("class")
    return re.search(r"status-(\w+)", cls).group(1)


def answer_everything(page: Page, variant: int = 0) -> None:
    """From the profile step of an invited draft to the done page."""
    page.locator("#p-business_type").select_option("si")
    page.locator("#p-employees").fill("12")
    page.locator("#p-liability_cap_share").select_option(index=1)
    page.locator("#p-overseas_customers").select_option("no")
    if variant:
        # Two of the optional application-form details.
        page.locator("#p-revenue_last_fy").fill("800")
        page.locator("#p-past_claims").select_option("none")
    submit(page, page.locator("div.actions button[value=next]"))
    while "/d/" in page.url:
        answer_domain(page, lambda i, values: values[(i + variant) % 2])
        submit(page, page.locator("div.actions button[value=next]"))
    assert page.url.endswith("/review"), page.url
    expect(page.locator("td.missing")).to_have_count(0)
    response = submit(page, page.locator("form[action$='/submit'] button[type=submit]"))
    assert response.status == 200 and page.url.endswith("/done")


@pytest.mark.parametrize("lang", LANGS)
def test_broker_journey(app, web, lang):
    text = TEXT[lang]
    broker_name = f"東京みらい保険代理店 {lang}"
    broker = app.new_broker(broker_name)
    token = broker["token"]
    client_a = f"株式会社招待商事 {lang}"
    client_b = f"合同会社ミドリ開発 {lang} Beta"
    shared_company = f"株式会社自己診断 {lang}"

    # --- sign in: the browser is set to the other language; the switch changes it ---
    context = web.context(OTHER[lang], f"broker-{lang}")
    monitor = web.monitor_of(context)
    page = context.new_page()
    page.goto(app.url("/broker"))
    assert page.url == app.url("/broker/login"), "without a session, /broker is the sign-in page"
    switch_language(page, lang)
    with monitor.expect(401, "/broker/login"):
        page.locator("#token").fill("not-a-valid-token")
        response = submit(page, page.locator("form[action='/broker/login'] button[type=submit]"))
    assert response.status == 401
    expect(page.locator("div.alert[role=alert]")).to_have_text(text["login_failed"])
    sign_in(page, app, token)
    assert html_lang(page) == lang
    expect(page.locator("div.broker-bar")).to_contain_text(broker_name)

    # --- invitations ---
    link_a = invite(page, client_a, "P-2026-001")
    expect(page.locator("main h1")).to_have_text(text["invited_title"])
    back_to_portfolio(page)
    link_b = invite(page, client_b, "P-2026-002")
    back_to_portfolio(page)
    # A name of spaces passes the browser's `required` but not the server.
    with monitor.expect(422, "/broker/invitations"):
        page.locator("#client_name").fill("   ")
        response = submit(page, page.locator("form[action='/broker/invitations'] button[type=submit]"))
    assert response.status == 422
    alert = page.locator("section.invite div.alert[role=alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(text["client_name_error"])
    page.goto(app.url("/broker"))
    expect(row_of(page, client_a)).to_have_count(1)
    assert status_of(row_of(page, client_a)) == "invited"
    expect(row_of(page, client_a).locator("span.status")).to_have_text(text["status"]["invited"])

    # --- the client answers through the link, in its own browser ---
    client_page, _ = web.page(lang, f"client-{lang}")
    response = client_page.goto(link_a)
    assert response.status == 200 and client_page.url.endswith("/profile")
    check_language(client_page, lang, broker_name, client_a)
    expect(client_page.locator("p.invited-by")).to_contain_text(broker_name)
    assert client_page.locator("#p-company_name").input_value() == client_a
    answer_everything(client_page)

    # --- the portfolio shows it submitted, with its score and chart ---
    page.reload()
    row_a = row_of(page, client_a)
    assert status_of(row_a) == "submitted"
    expect(row_a.locator("span.status")).to_have_text(text["status"]["submitted"])
    expect(row_a.locator("td.overall")).to_have_text(re.compile(r"^\d+(\.\d)?$"))
    expect(row_a.locator("td.chart svg")).to_have_count(1)
    with page.expect_download() as info:
        row_a.locator("td.links a.pdf").click()
    assert info.value.suggested_filename.endswith(".pdf")
    served = Path(info.value.path())
    assert served.read_bytes().startswith(b"%PDF-"), "the portfolio's PDF link gives a PDF"
    report = submit(page, row_a.locator("td.links a[href^='/r/']:not(.pdf)"))
    assert report.status == 200 and html_lang(page) == lang
    expect(page.locator("body")).to_contain_text(client_a)
    page.go_back()

    # --- a new link for the other invited draft ---
    row_b = row_of(page, client_b)
    assert status_of(row_b) == "invited"
    reissue = row_b.locator("form.inline[action$='/invitation'] button[type=submit]")
    expect(reissue).to_have_text(text["reissue"])
    response = submit(page, reissue)
    assert response.status == 200
    expect(page.locator("main h1")).to_have_text(text["reissued_title"])
    new_link_b = page.locator("input#link").input_value()
    assert LINK.match(new_link_b) and new_link_b != link_b
    back_to_portfolio(page)
    other_page, other_monitor = web.page(lang, f"client-b-{lang}")
    with other_monitor.expect(404, link_b.split("/a/")[1]):
        response = other_page.goto(link_b)
    assert response.status == 404, "the old link stops working"
    response = other_page.goto(new_link_b)
    assert response.status == 200 and other_page.url.endswith("/profile")
    assert other_page.locator("#p-company_name").input_value() == client_b

    # --- a shared report: a company's own assessment, its link pasted ---
    own = app.submitted_assessment(shared_company)
    with monitor.expect(404, "/broker/attach"):
        page.locator("#report").fill(app.url("/r/" + "A" * 43))
        response = submit(page, page.locator("form[action='/broker/attach'] button[type=submit]"))
    assert response.status == 404
    expect(page.locator("section.attach div.alert[role=alert]")).to_have_text(text["attach_not_found"])
    page.locator("#report").fill(app.url(f"/r/{own['report_token']}?lang={lang}"))
    response = submit(page, page.locator("form[action='/broker/attach'] button[type=submit]"))
    assert response.status == 200
    expect(page.locator("p.notice[role=status]")).to_have_text(text["attach_done"])
    row_s = row_of(page, shared_company)
    expect(row_s.locator("span.kind")).to_have_text(text["shared"])
    assert status_of(row_s) == "submitted"

    # --- filters ---
    page.locator("#status").select_option("submitted")
    submit(page, page.locator("form.filters button[type=submit]"))
    assert "status=submitted" in page.url
    rows = page.locator("table.portfolio tbody tr")
    expect(rows).to_have_count(2)
    for i in range(2):
        assert status_of(rows.nth(i)) == "submitted"
    # The CSV of the filtered portfolio, downloaded by clicking its link.
    with page.expect_download() as dl:
        page.locator("section.portfolio a.button[download]").click()
    download = dl.value
    assert download.failure() is None
    target = ARTEFACTS / "pages" / f"portfolio-{lang}.csv"
    download.save_as(str(target))
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert text["csv_client"] in table[0], f"headers in the page's language: {table[0]}"
    column = table[0].index(text["csv_client"])
    assert sorted(r[column] for r in table[1:]) == sorted([client_a, shared_company])

    # Client name, width- and case-insensitive ("ＢＥＴＡ" finds "Beta"), any status.
    page.locator("#status").select_option("")
    page.locator("#q").fill("ＢＥＴＡ")
    submit(page, page.locator("form.filters button[type=submit]"))
    expect(rows).to_have_count(1)
    expect(row_of(page, client_b)).to_have_count(1)
    assert page.locator("#q").input_value() == "ＢＥＴＡ", "the filter shows what was typed"
    web.snap(page, f"broker-filtered-{lang}")
    page.locator("#q").fill("")
    submit(page, page.locator("form.filters button[type=submit]"))
    expect(rows).to_have_count(3)
    check_language(page, lang, broker_name, client_a, client_b, shared_company)
    web.snap(page, f"broker-dashboard-{lang}")

    # --- a client's history, and a re-assessment ---
    submit(page, row_of(page, client_a).locator("th[scope=row] > a"))
    assert "/broker/clients?name=" in page.url
    expect(page.locator("main h1")).to_contain_text(client_a)
    expect(page.locator("figure.radar svg")).to_have_count(1)
    expect(page.locator("table.changes")).to_have_count(1)
    page.locator("section.invite #proposal_ref").fill("P-2027-001")
    response = submit(page, page.locator("section.invite form[action='/broker/invitations'] button[type=submit]"))
    assert response.status == 201
    relink = page.locator("input#link").input_value()
    assert LINK.match(relink) and relink != link_a
    # The client answers the re-assessment; the history then compares the two.
    client_page.goto(relink)
    assert client_page.url.endswith("/profile")
    assert client_page.locator("#p-company_name").input_value() == client_a
    answer_everything(client_page, variant=1)
    page.go_back()
    page.reload()
    expect(page.locator("table.portfolio tbody tr")).to_have_count(2)
    expect(page.locator("table.changes thead th")).to_have_count(4)
    expect(page.locator("table.changes td.up, table.changes td.down").first).to_be_visible()
    # The application readiness of the latest assessment: every application-form item,
    # with the client's answer or "not answered".
    items = [f for f in app.questionnaire()["profile"] if f.get("application")]
    answered = {"business_type", "employees", "liability_cap_share", "revenue_last_fy", "past_claims"}
    card = page.locator("section.application")
    expect(card.locator("h2")).to_have_text(text["application_title"])
    expect(card.locator("tbody tr")).to_have_count(len(items))
    expect(card.locator("tbody tr.missing")).to_have_count(len(items) - len(answered))
    revenue = next(f for f in items if f["id"] == "revenue_last_fy")["label"][lang]
    expect(card.locator("tbody tr", has_text=revenue).locator("td")).to_have_text("800")
    latest_row = page.locator("table.portfolio tbody tr").first
    expect(latest_row.locator("td.application")).to_have_text(f"{len(answered)}/{len(items)}")
    check_language(page, lang, broker_name, client_a)
    web.snap(page, f"broker-history-{lang}")

    # The API agrees with the pages.
    items = {i["client_name"]: i["status"] for i in app.portfolio(token)}
    assert items == {client_a: "submitted", client_b: "invited", shared_company: "submitted"}
    assert len(app.portfolio(token)) == 4

    # --- sign out; the old cookie then opens nothing ---
    cookies = context.cookies()
    assert any(c["name"] == "shindan_broker" for c in cookies)
    response = submit(page, page.locator("div.broker-bar form[action='/broker/logout'] button"))
    assert page.url == app.url("/broker/login") and response.status == 200
    page.goto(app.url("/broker"))
    assert page.url == app.url("/broker/login")
    copy = web.context(lang, f"broker-{lang}-old-cookie")
    copy.add_cookies(cookies)
    stale = copy.new_page()
    stale.goto(app.url("/broker"))
    assert stale.url == app.url("/broker/login"), "a copied cookie stops working at sign-out"
    expect(stale.locator("#token")).to_be_visible()


def test_invitation_error_keeps_what_was_typed(app, web):
    """A refused invitation shows the form again with what the broker typed."""
    broker = app.new_broker("代理店 入力保持")
    page, monitor = web.page("ja", "broker-typed")
    page.goto(app.url("/broker/login"))
    sign_in(page, app, broker["token"])
    page.locator("#client_name").fill("   ")
    page.locator("#proposal_ref").fill("P-KEEP-ME")
    with monitor.expect(422, "/broker/invitations"):
        submit(page, page.locator("form[action='/broker/invitations'] button[type=submit]"))
    assert page.locator("#proposal_ref").input_value() == "P-KEEP-ME"
