//! The JSON the template reads: every text of the printed report, already in the
//! report's language and with its numbers formatted, so the template only lays out.
//! Each paragraph is one string; none is ever markup.

use serde_json::{json, Value};

use super::super::analysis::{self, Comparison, Deadline, Level};
use super::super::page::{coverage_text, grade_meaning, printed_actions, score, signed};
use super::super::{band_words, comparison_name, segment_label};
use super::ReportPdf;
use crate::i18n::Lang;
use crate::questionnaire::{FindingKind, GeneralExclusion};
use crate::scoring::format1;

/// The whole document's data.
pub fn build(p: &ReportPdf) -> Value {
    let lang = p.lang;
    let ui = lang.ui();
    let a = p.analysis;
    let q = a.q;
    let company = p.record.company_name().unwrap_or("");
    let submitted = analysis::submitted_day(p.record);
    let mut meta = Vec::new();
    if !company.is_empty() {
        meta.push(json!({ "label": ui.company, "value": company }));
    }
    meta.push(json!({ "label": ui.submitted_on, "value": submitted }));
    meta.push(json!({ "label": ui.report_id, "value": p.record.id.to_string() }));
    let title = if company.is_empty() {
        ui.report_title.to_string()
    } else {
        format!("{} — {}", ui.report_title, company)
    };
    json!({
        "lang": lang.code(),
        "region": if lang == Lang::Ja { "JP" } else { "GB" },
        "font": super::FONT_FAMILY,
        "title": title,
        "footer": format!("{}{}{}", ui.report_title, ui.separator, p.record.id),
        "questionnaire": format!("{}{}{} {}", q.title.get(lang), ui.separator, ui.version, q.version),
        "report_title": ui.report_title,
        "meta": meta,
        "summary": summary(p),
        "domains": domains(p),
        "strengths": strengths(p),
        "priorities": priorities(p),
        "insurance": insurance(p),
        "basics": basics(p),
    })
}

fn summary(p: &ReportPdf) -> Value {
    let lang = p.lang;
    let ui = lang.ui();
    let a = p.analysis;
    let grade = a.scores.grade.as_deref().unwrap_or("—");
    // A rank is three strings, the band in the middle printed bold.
    let rank = match &a.comparison {
        Some(Comparison::Peers {
            band: Some(band),
            companies,
            segment,
            as_of,
            ..
        }) => {
            let among = match segment {
                Some(s) => ui
                    .rank_among_segment
                    .replace("{segment}", &segment_label(a, s, lang)),
                None => ui.rank_among.to_string(),
            };
            let among = among
                .replace("{n}", &companies.to_string())
                .replace("{date}", &as_of.format("%Y-%m-%d").to_string());
            let (before, after) = among.split_once("{rank}").unwrap_or((&among, ""));
            json!([before, band_words(*band, lang), after])
        }
        _ => Value::Null,
    };
    let change = match (&a.comparison, a.scores.overall) {
        (
            Some(Comparison::Previous {
                overall: Some(before),
                ..
            }),
            Some(now),
        ) => json!(ui
            .change_since
            .replace("{from}", &score(Some(*before)))
            .replace("{to}", &score(Some(now)))
            .replace("{diff}", &signed(now - before))),
        _ => Value::Null,
    };
    json!({
        "overall_label": ui.overall,
        "overall": score(a.scores.overall),
        "grade_label": ui.grade,
        "grade": grade,
        "meaning": grade_meaning(lang, &a.q.grades, grade),
        "rank": rank,
        "change": change,
        "radar_alt": ui.by_domain,
    })
}

fn level_key(level: Level) -> String {
    format!("{level:?}").to_lowercase()
}

fn domains(p: &ReportPdf) -> Value {
    let lang = p.lang;
    let ui = lang.ui();
    let a = p.analysis;
    let previous = matches!(a.comparison, Some(Comparison::Previous { .. }));
    let mut columns = vec![ui.domain, ui.score, ui.level];
    if a.comparison.is_some() {
        columns.push(if previous {
            ui.previous_short
        } else {
            ui.peer_short
        });
        columns.push(ui.difference);
    }
    columns.extend([ui.answered, ui.not_applicable_short]);
    let rows: Vec<Value> =
        a.q.domains
            .iter()
            .zip(&a.scores.domains)
            .enumerate()
            .map(|(i, (d, s))| {
                let level = Level::of(s.score);
                let mut cells = vec![
                    json!(d.label.get(lang)),
                    json!(score(s.score)),
                    json!(level.word(lang)),
                ];
                if let Some(c) = &a.comparison {
                    let other = c.values().get(i).copied().flatten();
                    cells.push(json!(score(other)));
                    cells.push(json!(match (s.score, other) {
                        (Some(x), Some(y)) => signed(x - y),
                        _ => "—".into(),
                    }));
                }
                cells.push(json!(s.answered.to_string()));
                cells.push(json!(s.not_applicable.to_string()));
                json!({ "cells": cells, "level": level_key(level) })
            })
            .collect();
    let mut notes = Vec::new();
    if let Some(name) = comparison_name(a, lang) {
        notes.push(ui.comparison_note.replace("{name}", &name));
    }
    if let Some(Comparison::Peers { as_of, .. }) = &a.comparison {
        notes.push(
            ui.peer_note
                .replace("{date}", &as_of.format("%Y-%m-%d").to_string())
                .replace("{step}", &crate::peers::COUNT_STEP.to_string()),
        );
    }
    json!({ "heading": ui.by_domain, "columns": columns, "rows": rows, "notes": notes })
}

fn strengths(p: &ReportPdf) -> Value {
    let lang = p.lang;
    let ui = lang.ui();
    let a = p.analysis;
    let items: Vec<Value> = a
        .strengths
        .iter()
        .map(|&i| {
            json!({
                "label": a.q.domains[i].label.get(lang),
                "score": score(a.scores.domains[i].score),
            })
        })
        .collect();
    json!({
        "heading": ui.strengths,
        "empty": if items.is_empty() { Some(ui.no_strengths) } else { None },
        "items": items,
    })
}

fn priorities(p: &ReportPdf) -> Value {
    let lang = p.lang;
    let ui = lang.ui();
    let a = p.analysis;
    let printed = printed_actions(a);
    let domains: Vec<Value> = a
        .priorities
        .iter()
        .map(|&i| {
            let count = a.priority_actions(i).count();
            let actions: Vec<Value> = a
                .priority_actions(i)
                .take(printed)
                .map(|action| {
                    json!({
                        "question": action.question.text.get(lang),
                        "recommendation": action.question.recommendation.as_ref().map(|r| r.get(lang)),
                    })
                })
                .collect();
            json!({
                "label": a.q.domains[i].label.get(lang),
                "score": score(a.scores.domains[i].score),
                "actions": actions,
                "more": (count > printed).then(|| ui.more_actions_line(count - printed)),
            })
        })
        .collect();
    let grade = a.scores.grade.as_deref().unwrap_or("—");
    let projection = match (&a.projection, a.scores.overall) {
        (Some((to, to_grade)), Some(from)) => {
            let steps = a
                .actions
                .iter()
                .filter(|x| a.priorities.contains(&x.domain_index))
                .count();
            let template = if to_grade == grade {
                ui.projection_same_grade
            } else {
                ui.projection
            };
            Some(
                template
                    .replace("{k}", &steps.to_string())
                    .replace("{from}", &score(Some(from)))
                    .replace("{to}", &score(Some(*to)))
                    .replace("{g1}", grade)
                    .replace("{g2}", to_grade),
            )
        }
        _ => None,
    };
    json!({
        "heading": ui.priorities,
        "empty": if domains.is_empty() { Some(ui.no_actions) } else { None },
        "domains": domains,
        "projection": projection,
    })
}

fn insurance(p: &ReportPdf) -> Value {
    let lang = p.lang;
    let ui = lang.ui();
    let a = p.analysis;
    let q = a.q;
    // The printed page leaves out the "related domains" column; so does the PDF.
    let coverage: Vec<Value> = a
        .coverage
        .iter()
        .filter(|r| !r.domains.is_empty())
        .map(|row| {
            let weakest = match row.weakest {
                Some((i, s)) => format!("{} {}", q.domains[i].label.get(lang), format1(s)),
                None => ui.not_assessed.to_string(),
            };
            json!([coverage_text(lang, row.item), weakest])
        })
        .collect();
    let findings: Vec<Value> = [
        (FindingKind::Exclusion, ui.finding_exclusion_heading),
        (FindingKind::Discount, ui.finding_discount_heading),
        (FindingKind::Coverage, ui.finding_coverage_heading),
        (FindingKind::Info, ui.finding_info_heading),
    ]
    .into_iter()
    .filter_map(|(kind, heading)| {
        let items: Vec<Value> = a
            .findings_of(kind)
            .map(|f| json!({ "id": f.id, "text": f.text.get(lang) }))
            .collect();
        (!items.is_empty()).then(|| json!({ "heading": heading, "items": items }))
    })
    .collect();
    let mut timeline = Vec::new();
    if let (Some(start), Some(days)) = (a.policy_start, a.days_to_start) {
        let date = start.format("%Y-%m-%d").to_string();
        if days < 0 {
            timeline.push(
                json!({ "text": ui.policy_start_past.replace("{date}", &date), "warning": true }),
            );
        } else {
            timeline.push(json!({ "text": ui.policy_start_in.replace("{date}", &date).replace("{n}", &days.to_string()), "warning": false }));
        }
        let deadline = (start - chrono::Duration::days(analysis::PROCEDURE_DEADLINE_DAYS))
            .format("%Y-%m-%d")
            .to_string();
        match Deadline::of(Some(days)) {
            Deadline::Missed => timeline.push(json!({ "text": ui.procedure_missed.replace("{deadline}", &deadline), "warning": true })),
            Deadline::Soon => timeline.push(json!({ "text": ui.procedure_soon.replace("{deadline}", &deadline), "warning": true })),
            _ => {}
        }
    }
    timeline.push(json!({ "text": ui.procedure_rule, "warning": false }));
    timeline.push(json!({ "text": ui.release_exclusion, "warning": false }));
    json!({
        "heading": ui.insurance,
        "coverage_columns": [ui.coverage_item, ui.weakest_domain],
        "coverage": coverage,
        "findings": findings,
        "timeline_heading": ui.timeline,
        "timeline": timeline,
    })
}

fn basics(p: &ReportPdf) -> Value {
    let lang = p.lang;
    let b = lang.basics();
    let a = p.analysis;
    let mut exclusions_lead = b.exclusions_lead.to_string();
    if a.findings.iter().any(|f| f.exclusion.is_some()) {
        if lang == Lang::En {
            exclusions_lead.push(' ');
        }
        exclusions_lead.push_str(b.related_lead);
    }
    let exclusions: Vec<Value> = GeneralExclusion::ALL
        .iter()
        .map(|&e| {
            let first = a.findings.iter().find(|f| f.exclusion == Some(e));
            json!({ "text": b.exclusion(e), "related": first.map(|f| f.id.as_str()) })
        })
        .collect();
    let costs: Vec<Value> = b
        .costs
        .iter()
        .map(|(name, what)| json!({ "name": name, "what": what }))
        .collect();
    json!({
        "heading": b.heading,
        "lead": b.lead,
        "basis_heading": b.basis_heading,
        "basis": b.basis,
        "items": b.items,
        "losses": b.losses,
        "costs_heading": b.costs_heading,
        "costs_lead": b.costs_lead,
        "costs": costs,
        "exclusions_heading": b.exclusions_heading,
        "exclusions_lead": exclusions_lead,
        "exclusions": exclusions,
        "related": b.related,
        "documents_heading": b.documents_heading,
        "documents": b.documents,
    })
}
