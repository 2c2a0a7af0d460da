//! The report as HTML (maud): on screen, on paper (the print stylesheet), and as one
//! self-contained file to download. maud escapes every value; the chart is our own SVG
//! whose texts plotters and `radar::escape` escaped.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::analysis::{Analysis, Comparison, Level};
use super::comparison_name;
use crate::i18n::Lang;
use crate::questionnaire::{Coverage, FindingKind, Grades};
use crate::record::AssessmentRecord;
use crate::scoring::{format1, round1};

/// What the page needs besides the analysis.
pub struct ReportPage<'a> {
    pub lang: Lang,
    pub analysis: &'a Analysis<'a>,
    pub record: &'a AssessmentRecord,
    /// The radar chart (SVG markup).
    pub radar: &'a str,
    /// The report's path, `/r/{token}`.
    pub path: &'a str,
    /// One file with the CSS inline and no links back to the site.
    pub self_contained: bool,
}

/// Actions per priority domain on paper (the stylesheet hides the rest when printing);
/// every one is on screen and in the improvement plan CSV.
pub const PRINTED_ACTIONS: usize = 2;

/// A report with more notes than this prints one action per priority domain
/// ([`PRINTED_ACTIONS_BRIEF`]), so that it still fits on three A4 pages.
pub const BRIEF_AFTER_FINDINGS: usize = 12;

/// Actions per priority domain on paper for a report with many notes.
pub const PRINTED_ACTIONS_BRIEF: usize = 1;

/// How many actions per priority domain this report prints.
pub fn printed_actions(a: &Analysis) -> usize {
    if a.findings.len() > BRIEF_AFTER_FINDINGS {
        PRINTED_ACTIONS_BRIEF
    } else {
        PRINTED_ACTIONS
    }
}

/// A score for display: one decimal, or a dash when not assessed.
pub fn score(s: Option<f64>) -> String {
    s.map(format1).unwrap_or_else(|| "—".into())
}

/// A difference of scores for display, with its sign (`+1.5`, `−0.5`, `±0.0`).
pub(super) fn signed(d: f64) -> String {
    let d = round1(d);
    if d > 0.0 {
        format!("+{d:.1}")
    } else if d < 0.0 {
        format!("−{:.1}", -d)
    } else {
        "±0.0".into()
    }
}

/// The whole report page.
pub fn render(p: &ReportPage) -> Markup {
    let ui = p.lang.ui();
    let lang = p.lang;
    let a = p.analysis;
    let q = a.q;
    let company = p.record.company_name().unwrap_or("");
    let submitted = super::analysis::submitted_day(p.record);
    let grade = a.scores.grade.as_deref().unwrap_or("—");
    let comparison = comparison_name(a, lang);
    let previous = matches!(a.comparison, Some(Comparison::Previous { .. }));
    let title = format!("{} — {}", ui.report_title, company);
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                @if p.self_contained {
                    style { (PreEscaped(crate::assets::STYLE_CSS)) }
                } @else {
                    link rel="stylesheet" href=(crate::assets::style_href());
                    link rel="icon" type="image/svg+xml" href=(crate::assets::FAVICON_PATH);
                }
            }
            body.report {
                @if !p.self_contained {
                    header.site {
                        a.brand href="/" { (ui.brand) }
                        nav.lang aria-label=(ui.language) {
                            a href=(format!("{}?lang={}", p.path, lang.other().code())) hreflang=(lang.other().code()) lang=(lang.other().code()) {
                                (lang.other().ui().language_name)
                            }
                        }
                    }
                }
                main {
                    header.report-head {
                        p.questionnaire-title { (q.title.get(lang)) (ui.separator) (ui.version) " " (q.version) }
                        h1 { (ui.report_title) }
                        dl.meta {
                            @if !company.is_empty() { dt { (ui.company) } dd.company { (company) } }
                            dt { (ui.submitted_on) } dd { (submitted) }
                            dt { (ui.report_id) } dd { code { (p.record.id) } }
                        }
                    }
                    section.summary.card {
                        div.summary-text {
                            p.overall {
                                span.label { (ui.overall) }
                                span.value { (score(a.scores.overall)) }
                                span.grade { (ui.grade) " " (grade) }
                            }
                            p.grade-meaning { (grade_meaning(lang, &q.grades, grade)) }
                            @if let Some(Comparison::Peers { band: Some(band), companies, segment, as_of, .. }) = &a.comparison {
                                @let among = match segment {
                                    Some(s) => ui.rank_among_segment.replace("{segment}", &super::segment_label(a, s, lang)),
                                    None => ui.rank_among.to_string(),
                                };
                                @let among = among.replace("{n}", &companies.to_string()).replace("{date}", &as_of.format("%Y-%m-%d").to_string());
                                @let (before, after) = among.split_once("{rank}").unwrap_or((&among, ""));
                                p.rank {
                                    (before)
                                    strong { (super::band_words(*band, lang)) }
                                    (after)
                                }
                            }
                            @if let (Some(Comparison::Previous { overall: Some(before), .. }), Some(now)) = (&a.comparison, a.scores.overall) {
                                p.rank { (ui.change_since.replace("{from}", &score(Some(*before))).replace("{to}", &score(Some(now))).replace("{diff}", &signed(now - before))) }
                            }
                        }
                        figure.radar {
                            (PreEscaped(p.radar))
                        }
                    }
                    section.card.domains {
                        h2 { (ui.by_domain) }
                        div.table-scroll {
                            table.scores {
                                thead { tr {
                                    th scope="col" { (ui.domain) }
                                    th scope="col" class="num" { (ui.score) }
                                    th scope="col" { (ui.level) }
                                    @if comparison.is_some() {
                                        th scope="col" class="num" { @if previous { (ui.previous_short) } @else { (ui.peer_short) } }
                                        th scope="col" class="num" { (ui.difference) }
                                    }
                                    th scope="col" class="num" { (ui.answered) }
                                    th scope="col" class="num" { (ui.not_applicable_short) }
                                } }
                                tbody {
                                    @for (i, (d, s)) in q.domains.iter().zip(&a.scores.domains).enumerate() {
                                        @let level = Level::of(s.score);
                                        tr {
                                            th scope="row" { (d.label.get(lang)) }
                                            td.num { (score(s.score)) }
                                            td { span class=(format!("level level-{level:?}").to_lowercase()) { (level.word(lang)) } }
                                            @if let Some(c) = &a.comparison {
                                                @let other = c.values().get(i).copied().flatten();
                                                td.num { (score(other)) }
                                                td.num { @match (s.score, other) { (Some(x), Some(y)) => (signed(x - y)), _ => "—" } }
                                            }
                                            td.num { (s.answered) }
                                            td.num { (s.not_applicable) }
                                        }
                                    }
                                }
                            }
                        }
                        @if let Some(name) = &comparison { p.note { (ui.comparison_note.replace("{name}", name)) } }
                        @if let Some(Comparison::Peers { as_of, .. }) = &a.comparison {
                            p.note.peer-note { (ui.peer_note.replace("{date}", &as_of.format("%Y-%m-%d").to_string()).replace("{step}", &crate::peers::COUNT_STEP.to_string())) }
                        }
                    }
                    div.columns {
                        section.card.strengths {
                            h2 { (ui.strengths) }
                            @if a.strengths.is_empty() { p { (ui.no_strengths) } }
                            ul {
                                @for &i in &a.strengths {
                                    li { (q.domains[i].label.get(lang)) " " span.score { (score(a.scores.domains[i].score)) } }
                                }
                            }
                        }
                        @let printed = printed_actions(a);
                        section.card.priorities.brief[printed == PRINTED_ACTIONS_BRIEF] {
                            h2 { (ui.priorities) }
                            @if a.priorities.is_empty() { p { (ui.no_actions) } }
                            @for &i in &a.priorities {
                                h3 { (q.domains[i].label.get(lang)) " " span.score { (score(a.scores.domains[i].score)) } }
                                @let count = a.priority_actions(i).count();
                                ol.plan {
                                    @for action in a.priority_actions(i) {
                                        li {
                                            p.question { (action.question.text.get(lang)) }
                                            p.given { (ui.current_answer) (ui.label_separator) (action.question.options[action.given].label.get(lang)) }
                                            @if let Some(r) = &action.question.recommendation { p.recommendation { (r.get(lang)) } }
                                            p.gain { (ui.gain.replace("{n}", &format1(action.overall_gain))) }
                                        }
                                    }
                                }
                                @if count > printed {
                                    p.more { (ui.more_actions_line(count - printed)) }
                                }
                            }
                            @if let (Some((to, to_grade)), Some(from)) = (&a.projection, a.scores.overall) {
                                @let steps = a.actions.iter().filter(|x| a.priorities.contains(&x.domain_index)).count();
                                @let template = if to_grade == grade { ui.projection_same_grade } else { ui.projection };
                                p.projection {
                                    (template
                                        .replace("{k}", &steps.to_string())
                                        .replace("{from}", &score(Some(from)))
                                        .replace("{to}", &score(Some(*to)))
                                        .replace("{g1}", grade)
                                        .replace("{g2}", to_grade))
                                }
                            }
                        }
                    }
                    (insurance(lang, a))
                    (super::basics::render(lang, a))
                    @if !p.self_contained {
                        section.card.downloads {
                            h2 { (ui.downloads) }
                            ul.download-links {
                                li { a href=(format!("{}.pdf?lang={}", p.path, lang.code())) download { (ui.dl_pdf) } }
                                li { a href=(format!("{}/download?lang={}", p.path, lang.code())) { (ui.dl_html) } }
                                li { a href=(format!("{}/radar.svg?lang={}", p.path, lang.code())) { (ui.dl_svg) } }
                                li { a href=(format!("{}.csv?lang={}", p.path, lang.code())) { (ui.dl_csv) } }
                                li { a href=(format!("{}/actions.csv?lang={}", p.path, lang.code())) { (ui.dl_actions) } }
                                li { a href=(p.path.replacen("/r/", "/api/v1/reports/", 1)) { (ui.dl_json) } }
                            }
                            p.note { (ui.print_hint) }
                        }
                    }
                }
            }
        }
    }
}

/// Coverage items with the domains that protect them, the notes of the questionnaire's
/// findings by kind, and the timeline to the policy start.
fn insurance(lang: Lang, a: &Analysis) -> Markup {
    let ui = lang.ui();
    let q = a.q;
    html! {
        section.card.insurance {
            h2 { (ui.insurance) }
            @if a.coverage.iter().any(|r| !r.domains.is_empty()) {
                div.table-scroll {
                    table.coverage {
                        thead { tr {
                            th scope="col" { (ui.coverage_item) }
                            th.related scope="col" { (ui.related_domains) }
                            th scope="col" { (ui.weakest_domain) }
                        } }
                        tbody {
                            @for row in a.coverage.iter().filter(|r| !r.domains.is_empty()) {
                                tr {
                                    th scope="row" { (coverage_text(lang, row.item)) }
                                    td.related { @if row.domains.is_empty() { "—" } @else {
                                        (row.domains.iter().map(|&i| q.domains[i].label.get(lang)).collect::<Vec<_>>().join(ui.list_separator))
                                    } }
                                    td { @match row.weakest {
                                        Some((i, s)) => { (q.domains[i].label.get(lang)) " " span.score { (score(Some(s))) } },
                                        None => { (ui.not_assessed) },
                                    } }
                                }
                            }
                        }
                    }
                }
            }
            @for (kind, heading) in [(FindingKind::Exclusion, ui.finding_exclusion_heading), (FindingKind::Discount, ui.finding_discount_heading), (FindingKind::Coverage, ui.finding_coverage_heading), (FindingKind::Info, ui.finding_info_heading)] {
                @let items: Vec<_> = a.findings_of(kind).collect();
                @if !items.is_empty() {
                    h3 { (heading) }
                    ul.findings { @for f in items { li id=(super::basics::finding_anchor(&f.id)) { (f.text.get(lang)) } } }
                }
            }
            h3 { (ui.timeline) }
            ul.findings {
                @if let (Some(start), Some(days)) = (a.policy_start, a.days_to_start) {
                    @let date = start.format("%Y-%m-%d").to_string();
                    @if days < 0 {
                        li.warning { (ui.policy_start_past.replace("{date}", &date)) }
                    } @else {
                        li { (ui.policy_start_in.replace("{date}", &date).replace("{n}", &days.to_string())) }
                    }
                    @let deadline = (start - chrono::Duration::days(super::analysis::PROCEDURE_DEADLINE_DAYS)).format("%Y-%m-%d").to_string();
                    @match super::analysis::Deadline::of(Some(days)) {
                        super::analysis::Deadline::Missed => {
                            li.warning { (ui.procedure_missed.replace("{deadline}", &deadline)) }
                        }
                        super::analysis::Deadline::Soon => {
                            li.warning { (ui.procedure_soon.replace("{deadline}", &deadline)) }
                        }
                        _ => {}
                    }
                }
                li { (ui.procedure_rule) }
                li { (ui.release_exclusion) }
            }
        }
    }
}

/// One sentence on what a grade means, by its rank in the questionnaire's grades (the
/// best letter, the second...), whatever the letters are; below every threshold is the
/// lowest sentence.
pub fn grade_meaning(lang: Lang, grades: &Grades, grade: &str) -> &'static str {
    let ui = lang.ui();
    let ranked = [ui.grade_a, ui.grade_b, ui.grade_c, ui.grade_d];
    match grades
        .thresholds()
        .iter()
        .position(|(letter, _)| letter == grade)
    {
        Some(i) => ranked[i.min(ranked.len() - 1)],
        None if grade == "—" => ui.grade_other,
        None => ui.grade_e,
    }
}

/// The seed page's words for a coverage item.
pub fn coverage_text(lang: Lang, item: Coverage) -> &'static str {
    let ui = lang.ui();
    match item {
        Coverage::A => ui.coverage_a,
        Coverage::B => ui.coverage_b,
        Coverage::C => ui.coverage_c,
        Coverage::D => ui.coverage_d,
    }
}
