//! The applicant's questionnaire: profile step, one step per domain, review, done.
//! Works without JavaScript: plain forms, labels tied to inputs, a native progress bar.

use std::collections::BTreeMap;

use maud::{html, Markup};

use super::layout;
use crate::i18n::Lang;
use crate::questionnaire::{FieldKind, Questionnaire, NA};
use crate::record::AssessmentRecord;
use crate::report::page::score as fmt_score;

/// Where a page of the flow is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Profile,
    /// A domain, by index (0-based).
    Domain(usize),
    Review,
}

impl Step {
    /// 1-based position in the flow.
    pub fn number(self) -> usize {
        match self {
            Step::Profile => 1,
            Step::Domain(d) => d + 2,
            Step::Review => usize::MAX,
        }
    }

    /// The path of this step.
    pub fn href(self, token: &str) -> String {
        match self {
            Step::Profile => format!("/a/{token}/profile"),
            Step::Domain(d) => format!("/a/{token}/d/{}", d + 1),
            Step::Review => format!("/a/{token}/review"),
        }
    }
}

/// What every page of the flow shows.
pub struct Flow<'a> {
    pub lang: Lang,
    pub q: &'a Questionnaire,
    pub token: &'a str,
    /// The absolute private link to come back later.
    pub resume_url: &'a str,
    pub record: &'a AssessmentRecord,
    /// The broker who asked the company to take the assessment: its results go there.
    pub invited_by: Option<&'a str>,
}

/// A problem to show above a form.
pub struct Alert {
    pub message: String,
    /// Where the problem can be fixed, when it is on another step.
    pub link: Option<(String, String)>,
}

impl Flow<'_> {
    fn total_steps(&self) -> usize {
        self.q.domains.len() + 2
    }

    fn step_done(&self, step: Step) -> bool {
        match step {
            Step::Profile => self
                .q
                .profile
                .iter()
                .all(|f| !f.required || self.record.has_profile_value(&f.id)),
            Step::Domain(d) => self
                .q
                .questions_of(d)
                .all(|(_, question)| self.record.answers.contains_key(&question.id)),
            Step::Review => false,
        }
    }

    fn step_label(&self, step: Step) -> &str {
        let ui = self.lang.ui();
        match step {
            Step::Profile => ui.step_profile,
            Step::Domain(d) => self.q.domains[d].label.get(self.lang),
            Step::Review => ui.step_review,
        }
    }

    fn steps(&self) -> Vec<Step> {
        let mut steps = vec![Step::Profile];
        steps.extend((0..self.q.domains.len()).map(Step::Domain));
        steps.push(Step::Review);
        steps
    }

    fn progress(&self, current: Step) -> Markup {
        let ui = self.lang.ui();
        let total = self.total_steps();
        let number = if current == Step::Review {
            total
        } else {
            current.number()
        };
        let answered = self.record.answers.len();
        html! {
            nav.steps aria-label=(ui.progress) {
                p.step-count {
                    (ui.step_of.replace("{n}", &number.to_string()).replace("{total}", &total.to_string()))
                    (ui.separator)
                    (ui.answered_of.replace("{n}", &answered.to_string()).replace("{total}", &self.q.questions.len().to_string()))
                }
                progress max=(total) value=(number) { (number) "/" (total) }
                ol {
                    @for step in self.steps() {
                        @let class = if step == current { "current" } else if self.step_done(step) { "done" } else { "" };
                        li class=(class) {
                            a href=(step.href(self.token)) aria-current=[(step == current).then_some("step")] {
                                (self.step_label(step))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Who asked for this assessment and who will see its results, for invited drafts.
    fn invited_notice(&self) -> Markup {
        html! {
            @if let Some(broker) = self.invited_by {
                p.invited-by { (self.lang.ui().invited_by_notice.replace("{broker}", broker)) }
            }
        }
    }

    fn resume_box(&self) -> Markup {
        let ui = self.lang.ui();
        html! {
            aside.resume {
                label for="resume-link" { (ui.resume_label) }
                input #resume-link type="text" readonly value=(self.resume_url);
                p.hint { (ui.resume_hint) }
            }
        }
    }

    fn frame(&self, current: Step, title: &str, alert: Option<&Alert>, body: Markup) -> Markup {
        let path = current.href(self.token);
        layout::page(
            self.lang,
            title,
            &layout::with_lang(&path, self.lang.other()),
            html! {
                p.questionnaire-title { (self.q.title.get(self.lang)) }
                (self.invited_notice())
                (self.progress(current))
                h1 { (title) }
                @if let Some(alert) = alert {
                    div.alert role="alert" {
                        p { (alert.message) }
                        @if let Some((href, text)) = &alert.link { p { a href=(href) { (text) } } }
                    }
                }
                (body)
                (self.resume_box())
            },
        )
    }

    fn nav(&self, has_prev: bool, next_label: &str) -> Markup {
        let ui = self.lang.ui();
        html! {
            div.actions {
                @if has_prev {
                    button.secondary type="submit" name="nav" value="prev" formnovalidate { (ui.back) }
                }
                button.secondary type="submit" name="nav" value="save" formnovalidate { (ui.save) }
                button.primary type="submit" name="nav" value="next" { (next_label) }
            }
        }
    }
}

/// A profile value as form text: what was stored, or what the user typed.
pub fn stored_profile_values(record: &AssessmentRecord) -> BTreeMap<String, Vec<String>> {
    record
        .profile
        .iter()
        .map(|(k, v)| {
            let values = match v {
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
                serde_json::Value::String(s) => vec![s.clone()],
                other => vec![other.to_string()],
            };
            (k.clone(), values)
        })
        .collect()
}

/// The company profile step.
pub fn profile(
    flow: &Flow,
    values: &BTreeMap<String, Vec<String>>,
    alert: Option<&Alert>,
    saved: bool,
) -> Markup {
    let ui = flow.lang.ui();
    let lang = flow.lang;
    let ungrouped = flow.q.profile.iter().filter(|f| f.group.is_none());
    let body = html! {
        @if saved { p.saved role="status" { (ui.saved_notice) } }
        p.lead { (ui.profile_lead) }
        form.stack method="post" action=(Step::Profile.href(flow.token)) {
            @for field in ungrouped { (profile_field(flow, field, values)) }
            @for group in &flow.q.profile_groups {
                fieldset.group {
                    legend { (group.label.get(lang)) }
                    @if let Some(help) = &group.help { p.help { (help.get(lang)) } }
                    @for field in flow.q.profile.iter().filter(|f| f.group.as_deref() == Some(group.id.as_str())) {
                        (profile_field(flow, field, values))
                    }
                }
            }
            (flow.nav(false, ui.save_next))
        }
    };
    flow.frame(Step::Profile, ui.step_profile, alert, body)
}

/// One profile field with its label, help and current value.
fn profile_field(
    flow: &Flow,
    field: &crate::questionnaire::ProfileField,
    values: &BTreeMap<String, Vec<String>>,
) -> Markup {
    let ui = flow.lang.ui();
    let lang = flow.lang;
    let first = values
        .get(&field.id)
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default();
    let id = format!("p-{}", field.id);
    let name = format!("p.{}", field.id);
    let help_id = format!("{id}-help");
    let described = field.help.as_ref().map(|_| help_id.as_str());
    let help = html! {
        @if let Some(help) = &field.help { p.help id=(help_id) { (help.get(lang)) } }
    };
    html! {
        div.field {
            @match field.kind {
                FieldKind::Multiselect => {
                    fieldset aria-describedby=[described] {
                        legend { (field.label.get(lang)) @if field.required { " " span.req { (ui.required) } } }
                        (help)
                        @for opt in &field.options {
                            @let oid = format!("{id}-{}", opt.id);
                            @let checked = values.get(&field.id).is_some_and(|v| v.contains(&opt.id));
                            div.check {
                                input type="checkbox" id=(oid) name=(name) value=(opt.id) checked[checked];
                                label for=(oid) { (opt.label.get(lang)) }
                            }
                        }
                    }
                }
                FieldKind::Select => {
                    label for=(id) { (field.label.get(lang)) @if field.required { " " span.req { (ui.required) } } }
                    (help)
                    select id=(id) name=(name) required[field.required] aria-describedby=[described] {
                        option value="" { (ui.choose) }
                        @for opt in &field.options {
                            option value=(opt.id) selected[first == opt.id] { (opt.label.get(lang)) }
                        }
                    }
                }
                kind => {
                    @let input_type = match kind { FieldKind::Date => "date", FieldKind::Number => "number", _ => "text" };
                    label for=(id) { (field.label.get(lang)) @if field.required { " " span.req { (ui.required) } } }
                    (help)
                    @if kind == FieldKind::Number {
                        input type=(input_type) id=(id) name=(name) value=(first) required[field.required] step="any" min="0" inputmode="numeric" aria-describedby=[described];
                    } @else {
                        input type=(input_type) id=(id) name=(name) value=(first) required[field.required] maxlength=(crate::questionnaire::MAX_TEXT_CHARS) aria-describedby=[described];
                    }
                }
            }
        }
    }
}

/// One domain's questions. `answers` are the choices to show checked.
pub fn domain(
    flow: &Flow,
    d: usize,
    answers: &BTreeMap<String, String>,
    alert: Option<&Alert>,
    saved: bool,
) -> Markup {
    let ui = flow.lang.ui();
    let lang = flow.lang;
    let domain = &flow.q.domains[d];
    let body = html! {
        @if saved { p.saved role="status" { (ui.saved_notice) } }
        form.stack method="post" action=(Step::Domain(d).href(flow.token)) {
            @for (i, (_, question)) in flow.q.questions_of(d).enumerate() {
                @let name = format!("q.{}", question.id);
                @let chosen = answers.get(&question.id).map(String::as_str);
                fieldset.question {
                    legend { span.qnum { (i + 1) ". " } (question.text.get(lang)) }
                    @if let Some(help) = &question.help { p.help { (help.get(lang)) } }
                    div.options {
                        @for opt in &question.options {
                            @let oid = format!("q-{}-{}", question.id, opt.id);
                            div.option {
                                input type="radio" id=(oid) name=(name) value=(opt.id) checked[chosen == Some(opt.id.as_str())];
                                label for=(oid) { (opt.label.get(lang)) }
                            }
                        }
                        @if question.allow_na {
                            @let oid = format!("q-{}-{}", question.id, NA);
                            div.option.na {
                                input type="radio" id=(oid) name=(name) value=(NA) checked[chosen == Some(NA)];
                                label for=(oid) { (ui.not_applicable) }
                            }
                        }
                    }
                }
            }
            (flow.nav(true, ui.save_next))
        }
    };
    flow.frame(Step::Domain(d), domain.label.get(lang), alert, body)
}

/// The label of a stored answer, or "unanswered".
fn answer_label<'a>(
    flow: &'a Flow,
    question: &'a crate::questionnaire::Question,
) -> Option<&'a str> {
    let ui = flow.lang.ui();
    let chosen = flow.record.answers.get(&question.id)?;
    if chosen == NA {
        return Some(ui.not_applicable);
    }
    question
        .options
        .iter()
        .find(|o| &o.id == chosen)
        .map(|o| o.label.get(flow.lang))
}

/// A stored profile value as text.
fn profile_text(flow: &Flow, field: &crate::questionnaire::ProfileField) -> Option<String> {
    let value = flow.record.profile.get(&field.id)?;
    Some(value_text(field, value, flow.lang))
}

/// A stored profile value as people read it: options by their labels, lists joined.
pub fn value_text(
    field: &crate::questionnaire::ProfileField,
    value: &serde_json::Value,
    lang: Lang,
) -> String {
    let label_of = |id: &str| {
        field
            .options
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.label.get(lang).to_string())
            .unwrap_or_else(|| id.to_string())
    };
    match value {
        serde_json::Value::String(s) if !field.options.is_empty() => label_of(s),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.is_empty() => lang.ui().none_selected.to_string(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .map(label_of)
            .collect::<Vec<_>>()
            .join(lang.ui().list_separator),
        other => other.to_string(),
    }
}

/// The review step: everything given so far, what is missing, and the submit button.
pub fn review(flow: &Flow, alert: Option<&Alert>) -> Markup {
    let ui = flow.lang.ui();
    let lang = flow.lang;
    let body = html! {
        p.lead { (ui.review_lead) }
        section.card {
            h2 { (ui.step_profile) " " a.edit href=(Step::Profile.href(flow.token)) { (ui.edit) } }
            dl.profile {
                @for field in &flow.q.profile {
                    dt { (field.label.get(lang)) }
                    @match profile_text(flow, field) {
                        Some(text) => dd { (text) },
                        None if field.required => dd.missing { (ui.missing_required) },
                        None => dd { "—" },
                    }
                }
            }
        }
        @for (d, domain) in flow.q.domains.iter().enumerate() {
            section.card {
                h2 { (domain.label.get(lang)) " " a.edit href=(Step::Domain(d).href(flow.token)) { (ui.edit) } }
                table.answers {
                    thead { tr { th scope="col" { (ui.question) } th scope="col" { (ui.answer) } } }
                    tbody {
                        @for (_, question) in flow.q.questions_of(d) {
                            tr {
                                td { (question.text.get(lang)) }
                                @match answer_label(flow, question) {
                                    Some(label) => td { (label) },
                                    None => td.missing { (ui.unanswered) },
                                }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action=(format!("/a/{}/submit", flow.token)) {
            p.note { (ui.submit_note) }
            div.actions { button.primary type="submit" { (ui.submit) } }
        }
    };
    flow.frame(Step::Review, ui.step_review, alert, body)
}

/// After submission: the scores and the way to the report.
pub fn done(flow: &Flow) -> Markup {
    let ui = flow.lang.ui();
    let lang = flow.lang;
    let report_href = format!("/r/{}", flow.record.report_token);
    let scores = flow.record.scores.as_ref();
    let path = format!("/a/{}/done", flow.token);
    layout::page(
        lang,
        ui.done_title,
        &layout::with_lang(&path, lang.other()),
        html! {
            p.questionnaire-title { (flow.q.title.get(lang)) }
            h1 { (ui.done_title) }
            @if let Some(s) = scores {
                section.card.summary {
                    p.overall {
                        span.label { (ui.overall) }
                        span.value { (fmt_score(s.overall)) }
                        span.grade { (ui.grade) " " (s.grade.as_deref().unwrap_or("—")) }
                    }
                    (score_table(lang, flow.q, s))
                }
            }
            p.actions {
                a.button.primary href=(report_href) { (ui.open_report) }
            }
            p.note { (ui.report_link_note) }
        },
    )
}

/// The table of domain scores.
pub fn score_table(lang: Lang, q: &Questionnaire, s: &crate::scoring::Scores) -> Markup {
    let ui = lang.ui();
    html! {
        table.scores {
            thead { tr {
                th scope="col" { (ui.domain) }
                th scope="col" class="num" { (ui.score) }
                th scope="col" class="num" { (ui.answered) }
                th scope="col" class="num" { (ui.not_applicable_short) }
            } }
            tbody {
                @for (domain, ds) in q.domains.iter().zip(&s.domains) {
                    tr {
                        th scope="row" { (domain.label.get(lang)) }
                        td.num { @if ds.score.is_some() { (fmt_score(ds.score)) } @else { (ui.not_assessed) } }
                        td.num { (ds.answered) }
                        td.num { (ds.not_applicable) }
                    }
                }
            }
        }
    }
}
