//! The broker pages' markup: sign-in, the portfolio dashboard, the invitation link and a
//! client's history. Plain functions of what they show; no request, no store.

use std::sync::Arc;

use maud::{html, Markup, PreEscaped};

use super::layout;
use crate::i18n::Lang;
use crate::questionnaire::Questionnaire;
use crate::record::{Membership, PortfolioStatus, Status};
use crate::report::analysis::local_day as date;
use crate::report::csv::{membership_word, status_word};
use crate::scoring::format1;
use crate::store::PortfolioItem;
use crate::web::csrf;

/// The hidden field with a form's anti-forgery token.
fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(token); }
}

/// The sign-in form, with the reason it is shown again, if any, and its anti-forgery nonce.
pub fn login(lang: Lang, error: Option<&str>, csrf: &str) -> Markup {
    let b = lang.broker();
    layout::page(
        lang,
        b.login_title,
        &layout::with_lang("/broker/login", lang.other()),
        html! {
            section.card.narrow {
                h1 { (b.login_title) }
                p.lead { (b.login_lead) }
                @if let Some(e) = error { div.alert role="alert" { p { (e) } } }
                form.stack method="post" action="/broker/login" {
                    (csrf_field(csrf))
                    div.field {
                        label for="token" { (b.token_label) }
                        input #token type="password" name="token" required
                            autocomplete="current-password" spellcheck="false"
                            aria-describedby="token-hint";
                        p.hint #token-hint { (b.token_hint) }
                    }
                    button.primary type="submit" { (b.login_button) }
                }
            }
        },
    )
}

/// The bar above every signed-in page: who is signed in, and signing out.
fn signed_in_bar(lang: Lang, broker_name: &str, csrf: &str) -> Markup {
    let b = lang.broker();
    html! {
        div.broker-bar {
            p { (b.signed_in_as.replace("{name}", broker_name)) }
            form method="post" action="/broker/logout" {
                (csrf_field(csrf))
                button.secondary.small type="submit" { (b.logout) }
            }
        }
    }
}

/// One row of the portfolio table, with its thumbnail when submitted.
pub struct Row<'a> {
    pub item: &'a PortfolioItem,
    /// The small radar (SVG markup), for submitted items.
    pub thumbnail: Option<String>,
    /// How far the application-form items are answered, when the questionnaire asks any.
    pub application: Option<ApplicationCell>,
}

/// The application-form items of one assessment, as the portfolio table shows them.
pub struct ApplicationCell {
    pub answered: usize,
    pub total: usize,
    /// The missing items' labels, joined.
    pub missing: String,
}

/// What the dashboard shows.
pub struct Dashboard<'a> {
    pub broker_name: &'a str,
    /// The session's anti-forgery token, for every form on the page.
    pub csrf: &'a str,
    pub questionnaires: &'a [Arc<Questionnaire>],
    pub rows: Vec<Row<'a>>,
    pub status: Option<PortfolioStatus>,
    /// The client-name filter as typed.
    pub name: &'a str,
    /// Link to the next page, when there is one.
    pub next_href: Option<String>,
    /// Link to the first page, when this is a later one.
    pub first_href: Option<String>,
    pub csv_href: String,
    pub notice: Option<&'a str>,
    pub invite_error: Option<&'a str>,
    pub attach_error: Option<&'a str>,
    /// What was typed into a refused form.
    pub typed: Typed<'a>,
}

/// The address of a client's history page.
pub fn history_href(client_name: &str) -> String {
    let name: String = form_urlencoded::byte_serialize(client_name.as_bytes()).collect();
    format!("/broker/clients?name={name}")
}

fn status_badge(lang: Lang, status: PortfolioStatus) -> Markup {
    html! {
        span class={ "status status-" (status.as_str()) } { (status_word(lang.broker(), status)) }
    }
}

/// What the broker typed into the dashboard's forms, shown again when one is refused.
#[derive(Debug, Default, Clone, Copy)]
pub struct Typed<'a> {
    pub client_name: &'a str,
    pub proposal_ref: &'a str,
    pub questionnaire: &'a str,
    pub report: &'a str,
}

/// The invitation form; `client` and `previous` pre-set it for a re-assessment, `typed`
/// refills it after a refusal.
fn invite_form(
    lang: Lang,
    questionnaires: &[Arc<Questionnaire>],
    error: Option<&str>,
    (client, previous): (Option<&str>, Option<&str>),
    typed: Typed,
    csrf: &str,
) -> Markup {
    let b = lang.broker();
    html! {
        @if let Some(e) = error { div.alert role="alert" { p { (e) } } }
        form.stack method="post" action="/broker/invitations" {
            (csrf_field(csrf))
            @if let Some(client) = client {
                input type="hidden" name="client_name" value=(client);
            } @else {
                div.field {
                    label for="client_name" { (b.client_name) }
                    input #client_name type="text" name="client_name" required maxlength="120"
                        value=(typed.client_name);
                }
            }
            @if let Some(p) = previous { input type="hidden" name="previous" value=(p); }
            div.field {
                label for="proposal_ref" { (b.proposal_ref) " " span.optional { (b.optional) } }
                input #proposal_ref type="text" name="proposal_ref" maxlength="64"
                    value=(typed.proposal_ref);
            }
            @if let [only] = questionnaires {
                input type="hidden" name="questionnaire" value=(only.id);
            } @else {
                div.field {
                    label for="questionnaire" { (b.questionnaire) }
                    select #questionnaire name="questionnaire" {
                        @for q in questionnaires {
                            option value=(q.id) selected[q.id == typed.questionnaire] {
                                (q.title.get(lang)) (lang.ui().separator) (lang.ui().version) " " (q.version)
                            }
                        }
                    }
                }
            }
            button.primary type="submit" {
                @if previous.is_some() { (b.reinvite_button) } @else { (b.invite_button) }
            }
        }
    }
}

/// The portfolio dashboard.
pub fn dashboard(lang: Lang, d: &Dashboard) -> Markup {
    let b = lang.broker();
    layout::page(
        lang,
        b.dashboard_title,
        &layout::with_lang("/broker", lang.other()),
        html! {
            (signed_in_bar(lang, d.broker_name, d.csrf))
            h1 { (b.dashboard_title) }
            @if let Some(n) = d.notice { p.notice role="status" { (n) } }
            div.grid2 {
                section.card.invite {
                    h2 { (b.invite_title) }
                    p.hint { (b.invite_lead) }
                    (invite_form(lang, d.questionnaires, d.invite_error, (None, None), d.typed, d.csrf))
                }
                section.card.attach {
                    h2 { (b.attach_title) }
                    p.hint { (b.attach_lead) }
                    @if let Some(e) = d.attach_error { div.alert role="alert" { p { (e) } } }
                    form.stack method="post" action="/broker/attach" {
                        (csrf_field(d.csrf))
                        div.field {
                            label for="report" { (b.attach_label) }
                            input #report type="text" name="report" required
                                placeholder="https://…/r/…" spellcheck="false" value=(d.typed.report);
                        }
                        button.secondary type="submit" { (b.attach_button) }
                    }
                }
            }
            section.card.portfolio {
                div.portfolio-head {
                    h2 { (b.portfolio_title) }
                    a.button href=(d.csv_href) download { (b.download_csv) }
                }
                form.filters method="get" action="/broker" {
                    div.field {
                        label for="status" { (b.filter_status) }
                        select #status name="status" {
                            option value="" selected[d.status.is_none()] { (b.filter_all) }
                            @for s in PortfolioStatus::ALL {
                                option value=(s.as_str()) selected[d.status == Some(s)] {
                                    (status_word(b, s))
                                }
                            }
                        }
                    }
                    div.field {
                        label for="q" { (b.filter_name) }
                        input #q type="search" name="q" value=(d.name) maxlength="120";
                    }
                    button.secondary type="submit" { (b.filter_button) }
                }
                @if d.rows.is_empty() && d.next_href.is_some() {
                    p.empty { (b.no_items_yet) }
                } @else if d.rows.is_empty() {
                    p.empty { (b.no_items) }
                } @else {
                    (portfolio_table(lang, &d.rows, true, d.csrf))
                }
                @if d.first_href.is_some() || d.next_href.is_some() {
                    nav.paging {
                        @if let Some(h) = &d.first_href { a href=(h) { "« " (b.first_page) } }
                        @if let Some(h) = &d.next_href { a.next href=(h) { (b.next_page) " »" } }
                    }
                }
            }
        },
    )
}

fn portfolio_table(lang: Lang, rows: &[Row], with_client: bool, csrf: &str) -> Markup {
    let b = lang.broker();
    html! {
        div.table-scroll {
            table.portfolio {
                thead {
                    tr {
                        @if with_client { th scope="col" { (b.col_client) } }
                        th scope="col" { (b.col_proposal) }
                        th scope="col" { (b.col_status) }
                        th scope="col" { (b.col_created) }
                        th scope="col" { (b.col_submitted) }
                        th.num scope="col" { (b.col_overall) }
                        th scope="col" { (b.col_grade) }
                        th.num.application scope="col" { (b.col_application) }
                        th scope="col" { (b.col_chart) }
                        th scope="col" { (b.col_links) }
                    }
                }
                tbody {
                    @for row in rows {
                        @let item = row.item;
                        @let r = &item.record;
                        @let scores = r.scores.as_ref();
                        tr {
                            @if with_client {
                                th scope="row" {
                                    a href=(history_href(&item.entry.client_name)) { (item.entry.client_name) }
                                    @if item.entry.membership == Membership::Attached {
                                        " " span.kind { (membership_word(b, Membership::Attached)) }
                                    }
                                }
                            }
                            td.proposal { (item.entry.proposal_ref.as_deref().unwrap_or("—")) }
                            td { (status_badge(lang, r.portfolio_status())) }
                            td.date { (date(r.created_at)) }
                            td.date { @if let Some(t) = r.submitted_at { (date(t)) } @else { "—" } }
                            td.num.overall { (scores.and_then(|s| s.overall).map(format1).unwrap_or_else(|| "—".into())) }
                            td.grade { (scores.and_then(|s| s.grade.as_deref()).unwrap_or("—")) }
                            td.num.application {
                                @match &row.application {
                                    Some(a) if a.missing.is_empty() => { span.complete { (a.answered) "/" (a.total) } }
                                    Some(a) => { span title={ (b.col_application_missing) (lang.ui().label_separator) (a.missing) } { (a.answered) "/" (a.total) } }
                                    None => { "—" }
                                }
                            }
                            td.chart { @if let Some(svg) = &row.thumbnail { (PreEscaped(svg)) } }
                            td.links {
                                @if r.status == Status::Submitted {
                                    a href={ "/r/" (r.report_token) "?lang=" (lang.code()) } { (b.report) }
                                    br;
                                    a.pdf href={ "/r/" (r.report_token) ".pdf?lang=" (lang.code()) } title=(lang.ui().dl_pdf) download { "PDF" }
                                    @if with_client { br; }
                                }
                                @if with_client {
                                    a href=(history_href(&item.entry.client_name)) { (b.history) }
                                }
                                @if r.status == Status::Draft && item.entry.membership == Membership::Invited {
                                    @if with_client { br; }
                                    form.inline method="post" action={ "/broker/assessments/" (r.id) "/invitation" } {
                                        (csrf_field(csrf))
                                        button.link type="submit" title=(b.reissue_hint) { (b.reissue) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The page that shows a new invitation's link, once; `reissued` when it replaces an
/// earlier link.
pub fn invited(
    lang: Lang,
    broker_name: &str,
    csrf: &str,
    client: &str,
    link: &str,
    reissued: bool,
) -> Markup {
    let b = lang.broker();
    let title = if reissued {
        b.reissued_title
    } else {
        b.invited_title
    };
    layout::page(
        lang,
        title,
        &layout::with_lang("/broker", lang.other()),
        html! {
            (signed_in_bar(lang, broker_name, csrf))
            section.card {
                h1 { (title) }
                p { (b.invited_lead.replace("{client}", client)) }
                @if reissued { p.notice { (b.reissued_note) } }
                div.field.copy {
                    label for="link" { (b.invited_link) }
                    input #link type="text" readonly value=(link) spellcheck="false";
                }
                p.alert { (b.invited_once) }
                p { a.button href="/broker" { (b.back_to_portfolio) } }
            }
        },
    )
}

/// One row of a history's table of changes.
pub struct Change {
    pub label: String,
    pub latest: Option<f64>,
    pub previous: Option<f64>,
}

/// The application-form items of a client's latest submitted assessment.
pub struct ApplicationView {
    /// The day it was submitted.
    pub submitted: String,
    /// Each item's label and the client's answer, in questionnaire order.
    pub items: Vec<(String, Option<String>)>,
}

/// Which application-form items the client answered, with the answers, and which are
/// missing: what a broker needs to prepare the insurer's application form.
fn application_card(lang: Lang, a: &ApplicationView) -> Markup {
    let b = lang.broker();
    let answered = a.items.iter().filter(|(_, v)| v.is_some()).count();
    html! {
        section.card.application {
            h2 { (b.application_title) }
            p.hint {
                (b.application_lead
                    .replace("{answered}", &answered.to_string())
                    .replace("{total}", &a.items.len().to_string())
                    .replace("{date}", &a.submitted))
            }
            div.table-scroll {
                table.application {
                    thead { tr {
                        th scope="col" { (b.application_item) }
                        th scope="col" { (b.application_answer) }
                    } }
                    tbody {
                        @for (label, value) in &a.items {
                            tr class=[value.is_none().then_some("missing")] {
                                th scope="row" { (label) }
                                td { @match value {
                                    Some(v) => { (v) },
                                    None => { span.missing { (b.application_missing) } },
                                } }
                            }
                        }
                    }
                }
            }
            p.note { (b.application_note) }
        }
    }
}

/// What a client's history page shows.
pub struct History<'a> {
    pub broker_name: &'a str,
    /// The session's anti-forgery token, for every form on the page.
    pub csrf: &'a str,
    pub client: &'a str,
    /// The latest assessment's application-form items, when its questionnaire asks any.
    pub application: Option<ApplicationView>,
    pub rows: Vec<Row<'a>>,
    /// The radar of the latest submission over the previous one (SVG markup).
    pub radar: Option<String>,
    /// Per domain, then overall: the latest score beside the previous one.
    pub changes: Vec<Change>,
    /// The questionnaire and report token a re-assessment is compared with.
    pub reinvite: Option<(Arc<Questionnaire>, String)>,
}

/// A score or a dash.
fn score_text(s: Option<f64>) -> String {
    s.map(format1).unwrap_or_else(|| "—".into())
}

/// The latest scores beside the previous ones, with the change.
fn changes_table(lang: Lang, changes: &[Change]) -> Markup {
    let b = lang.broker();
    let has_previous = changes.iter().any(|c| c.previous.is_some());
    html! {
        table.changes {
            thead {
                tr {
                    th scope="col" { (lang.ui().domain) }
                    @if has_previous { th.num scope="col" { (b.history_previous) } }
                    th.num scope="col" { (b.history_latest) }
                    @if has_previous { th.num scope="col" { (b.change) } }
                }
            }
            tbody {
                @for Change { label, latest, previous } in changes {
                    tr {
                        th scope="row" { (label) }
                        @if has_previous { td.num { (score_text(*previous)) } }
                        td.num.score { (score_text(*latest)) }
                        @if has_previous {
                            @match (latest, previous) {
                                (Some(l), Some(p)) => {
                                    @let d = crate::scoring::round1(*l) - crate::scoring::round1(*p);
                                    td class={ "num " (if d > 0.0 { "up" } else if d < 0.0 { "down" } else { "same" }) } {
                                        @if d > 0.0 { "+" } (format1(d))
                                    }
                                }
                                _ => { td.num { "—" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A client's history: every assessment under one client name, the latest two on a radar.
pub fn history(lang: Lang, h: &History) -> Markup {
    let b = lang.broker();
    let title = b.history_title.replace("{client}", h.client);
    layout::page(
        lang,
        &title,
        &layout::with_lang(&history_href(h.client), lang.other()),
        html! {
            (signed_in_bar(lang, h.broker_name, h.csrf))
            p.crumbs { a href="/broker" { "« " (b.back_to_portfolio) } }
            h1 { (title) }
            p.hint { (b.history_lead) }
            section.card {
                @if let Some(svg) = &h.radar {
                    div.history-chart {
                        figure.radar.history { (PreEscaped(svg)) }
                        (changes_table(lang, &h.changes))
                    }
                } @else {
                    p.empty { (b.history_none_submitted) }
                }
            }
            @if let Some(a) = &h.application { (application_card(lang, a)) }
            section.card {
                (portfolio_table(lang, &h.rows, false, h.csrf))
            }
            @if let Some((q, previous)) = &h.reinvite {
                section.card.invite {
                    h2 { (b.reinvite_title) }
                    p.hint { (b.reinvite_lead) }
                    (invite_form(
                        lang,
                        std::slice::from_ref(q),
                        None,
                        (Some(h.client), Some(previous)),
                        Typed::default(),
                        h.csrf,
                    ))
                }
            }
        },
    )
}
