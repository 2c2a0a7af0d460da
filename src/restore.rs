//! Restoring a backup, trusting nothing in it. The whole file is read and checked before
//! anything is written: the store checks its own structure (`store::read_backup`: the
//! header, every line's shape, tokens, brokers and portfolio entries against their
//! records); this module checks what the records mean. Every archived questionnaire's text
//! must have the content hash it is filed under and load; every submitted record must be
//! one its archived questionnaire could have produced, and its scores and findings are
//! computed again from that questionnaire and its answers (stored ones are never believed:
//! scores of another shape refuse the file, other values are replaced and reported). Any
//! problem refuses the whole file, naming each line and record; otherwise the store writes
//! the contents into a new directory and renames it into place (`Store::restore_into`).
//!
//! Holds no rule of its own about assessments: it applies `assessment::recompute`,
//! `scoring` and the name rules. Its only I/O is reading the given input.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use crate::accounts;
use crate::assessment::{self, MAX_CLIENT_NAME_CHARS, MAX_PROPOSAL_REF_CHARS};
use crate::names;
use crate::questionnaire::{content_hash, parse_file, Questionnaire};
use crate::store::{
    read_backup, record_subject, AssessmentRecord, BackupContents, BackupProblem, Lined, Status,
    Store, StoreError, SCHEMA_VERSION,
};

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// How many assessments were restored.
    pub records: usize,
    /// Records whose stored scores or findings were not what their answers give, restored
    /// with the recomputed ones: one note per record, naming its line.
    pub corrected: Vec<BackupProblem>,
}

/// Restores the backup read from `input` into `data_dir` (absent or empty), or changes
/// nothing and returns every problem found.
pub fn restore(input: impl BufRead, data_dir: &Path) -> Result<Restored, StoreError> {
    Store::check_restore_target(data_dir)?;
    let (mut contents, mut problems) = read_backup(input);
    let corrected = verify(&mut contents, &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(StoreError::InvalidBackup(problems));
    }
    let records = Store::restore_into(data_dir, &contents)?;
    Ok(Restored { records, corrected })
}

/// Checks the meaning of what a backup holds, adding to `problems`; replaces every
/// submitted record's scores and findings by recomputed ones and returns a note for each
/// record where they differed.
pub fn verify(
    contents: &mut BackupContents,
    problems: &mut Vec<BackupProblem>,
) -> Vec<BackupProblem> {
    let archived = load_questionnaires(contents, problems);
    let submitted: HashMap<String, String> = contents
        .records
        .iter()
        .filter(|r| r.value.status == Status::Submitted)
        .map(|r| {
            (
                r.value.report_token.clone(),
                r.value.questionnaire.id.clone(),
            )
        })
        .collect();
    let mut corrected = Vec::new();
    for Lined { line, value: r } in &mut contents.records {
        let line = *line;
        let subject = record_subject(r);
        let mut bad = |message: String| problems.push(BackupProblem::new(line, &subject, message));
        if r.schema > SCHEMA_VERSION {
            bad(format!(
                "schema {} is newer than this program's ({SCHEMA_VERSION})",
                r.schema
            ));
        }
        if let Some(previous) = &r.previous {
            if submitted.get(previous) != Some(&r.questionnaire.id) {
                bad(
                    "its previous assessment is not a submitted assessment of the same \
                     questionnaire in this backup"
                        .into(),
                );
            }
        }
        if let Some(inv) = &r.invitation {
            if !is_clean(&inv.client_name, MAX_CLIENT_NAME_CHARS)
                || inv
                    .proposal_ref
                    .as_deref()
                    .is_some_and(|p| !is_clean(p, MAX_PROPOSAL_REF_CHARS))
            {
                bad("its client name or proposal reference breaks the name rules".into());
            }
        }
        let outcome = match r.status {
            Status::Submitted => rescore(&archived, r),
            Status::Draft => check_draft(&archived, r).map(|()| None),
        };
        match outcome {
            Ok(Some(note)) => corrected.push(BackupProblem::new(line, &subject, note)),
            Ok(None) => {}
            Err(message) => bad(message),
        }
    }
    for Lined { line, value: b } in contents.brokers() {
        if accounts::parse_name(&b.name).ok().as_deref() != Some(b.name.as_str()) {
            problems.push(BackupProblem::new(
                *line,
                format!("broker {}", b.id),
                "its name breaks the name rules",
            ));
        }
    }
    corrected
}

/// The archived questionnaires that have the content hash they are filed under and load,
/// by hash, in file order; a problem for every other one.
fn load_questionnaires(
    contents: &BackupContents,
    problems: &mut Vec<BackupProblem>,
) -> Vec<(String, Arc<Questionnaire>)> {
    let mut loaded: Vec<(String, Arc<Questionnaire>)> = Vec::new();
    let mut seen = HashSet::new();
    for Lined { line, value: a } in &contents.questionnaires {
        let subject = format!("questionnaire {}", a.hash);
        let mut bad = |message: String| problems.push(BackupProblem::new(*line, &subject, message));
        let actual = content_hash(&a.source);
        if actual != a.hash {
            bad(format!(
                "its text has the content hash {actual}: it was changed"
            ));
            continue;
        }
        if !seen.insert(a.hash.clone()) {
            bad("appears twice".into());
            continue;
        }
        let name = format!("archive/{}", a.hash);
        match parse_file(Path::new(&name), &a.source) {
            Ok(q) => loaded.push((a.hash.clone(), Arc::new(q))),
            Err(found) => bad(format!(
                "does not load: {}",
                found.first().map(ToString::to_string).unwrap_or_default()
            )),
        }
    }
    loaded
}

/// Replaces a submitted record's scores and findings by what its archived questionnaire
/// and answers give; a note when they differed, an error when the record could not have
/// come from that questionnaire.
fn rescore(
    archived: &[(String, Arc<Questionnaire>)],
    r: &mut AssessmentRecord,
) -> Result<Option<String>, String> {
    let qr = &r.questionnaire;
    let Some((_, q)) = archived.iter().find(|(hash, _)| *hash == qr.hash) else {
        return Err(format!(
            "its questionnaire {} {} ({}) is not in this backup",
            qr.id, qr.version, qr.hash
        ));
    };
    if q.id != qr.id || q.version != qr.version {
        return Err(format!(
            "names questionnaire {} {} but {} is {} {}",
            qr.id, qr.version, qr.hash, q.id, q.version
        ));
    }
    if r.submitted_at.is_none() {
        return Err("is submitted but has no submission time".into());
    }
    let (scores, findings) = assessment::recompute(q, r).map_err(|e| e.to_string())?;
    let mut changed = Vec::new();
    match &r.scores {
        Some(stored) => {
            stored.check_shape(q).map_err(|e| e.to_string())?;
            if !stored.agrees_with(&scores) {
                changed.push(format!(
                    "scores (overall {} stored, {} from its answers)",
                    shown(stored.overall),
                    shown(scores.overall)
                ));
            }
        }
        None => changed.push("scores (none stored)".to_string()),
    }
    if r.findings != findings {
        changed.push("findings".into());
    }
    r.scores = Some(scores);
    r.findings = findings;
    Ok((!changed.is_empty()).then(|| {
        format!(
            "restored with its {} recomputed from its questionnaire and answers",
            changed.join(" and ")
        )
    }))
}

/// A stored draft: no scores, findings or submission time yet, and a profile and answers
/// that one archived file of its questionnaire version accepts (a file edited under the
/// same version keeps its drafts).
fn check_draft(
    archived: &[(String, Arc<Questionnaire>)],
    r: &AssessmentRecord,
) -> Result<(), String> {
    if r.scores.is_some() || !r.findings.is_empty() || r.submitted_at.is_some() {
        return Err("is a draft but has scores, findings or a submission time".into());
    }
    let qr = &r.questionnaire;
    let mut candidates: Vec<&Questionnaire> = archived
        .iter()
        .filter(|(_, q)| q.id == qr.id && q.version == qr.version)
        .map(|(_, q)| q.as_ref())
        .collect();
    // The file it was created with first, so that its error is the one reported.
    candidates.sort_by_key(|q| q.hash != qr.hash);
    let mut first_error = None;
    for q in candidates {
        match assessment::check_draft(q, r) {
            Ok(()) => return Ok(()),
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        format!(
            "its questionnaire {} {} is not in this backup",
            qr.id, qr.version
        )
    }))
}

/// `s` is already a clean name of at most `max` characters.
fn is_clean(s: &str, max: usize) -> bool {
    names::clean(s, max).as_deref() == Some(s)
}

/// A score as a note shows it.
fn shown(score: Option<f64>) -> String {
    score.map_or_else(|| "none".into(), crate::scoring::format1)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::assessment::{new_draft, submit_record, Changes};
    use crate::store::{BACKUP_FORMAT, BACKUP_VERSION};

    const SOURCE: &str = include_str!("../tests/fixtures/small/fixture-1.toml");

    fn fixture() -> Questionnaire {
        parse_file(Path::new("f.toml"), SOURCE).unwrap()
    }

    fn submitted(q: &Questionnaire) -> AssessmentRecord {
        let answers: BTreeMap<String, serde_json::Value> =
            [("q1", "yes"), ("q2", "partly"), ("q3", "na"), ("q4", "a")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
        let changes = Changes {
            profile: Default::default(),
            answers,
        };
        let mut r = new_draft(q, &changes).unwrap().record;
        submit_record(q, &mut r).unwrap();
        r
    }

    /// A backup holding the fixture's text (filed under `hash`) and these records.
    fn read(hash: &str, source: &str, records: &[AssessmentRecord]) -> BackupContents {
        let mut text = json!({"format": BACKUP_FORMAT, "version": BACKUP_VERSION,
            "records": records.len(), "questionnaires": 1, "brokers": 0, "portfolio_entries": 0})
        .to_string();
        text.push('\n');
        text.push_str(
            &json!({"archived_questionnaire": {"hash": hash, "source": source}}).to_string(),
        );
        for r in records {
            text.push('\n');
            text.push_str(&serde_json::to_string(r).unwrap());
        }
        let (contents, problems) = read_backup(text.as_bytes());
        assert_eq!(problems, []);
        contents
    }

    #[test]
    fn stored_scores_are_replaced_by_recomputed_ones_with_a_note() {
        let q = fixture();
        let honest = submitted(&q);
        let mut tampered = submitted(&q);
        tampered.scores.as_mut().unwrap().overall = Some(99.9);
        tampered.findings.push("f-planted".into());
        let mut contents = read(&q.hash, SOURCE, &[honest.clone(), tampered.clone()]);

        let mut problems = Vec::new();
        let notes = verify(&mut contents, &mut problems);
        assert_eq!(problems, []);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].line, 4);
        assert_eq!(notes[0].subject, format!("assessment {}", tampered.id));
        assert!(
            notes[0].message.contains("overall 99.9 stored, 80.0"),
            "{}",
            notes[0]
        );
        assert!(notes[0].message.contains("and findings"), "{}", notes[0]);
        let restored = &contents.records[1].value;
        assert_eq!(restored.scores, honest.scores);
        assert_eq!(restored.findings, honest.findings);
    }

    #[test]
    fn a_changed_questionnaire_text_refuses_it_and_the_records_scored_with_it() {
        let q = fixture();
        let r = submitted(&q);
        let changed = SOURCE.replace("score = 0", "score = 4");
        let mut contents = read(&q.hash, &changed, std::slice::from_ref(&r));
        let mut problems = Vec::new();
        verify(&mut contents, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].line, 2);
        assert!(problems[0]
            .message
            .starts_with("its text has the content hash sha256:"));
        assert_eq!(problems[1].line, 3);
        assert!(problems[1].message.contains("is not in this backup"));
    }

    #[test]
    fn a_draft_carrying_scores_or_unknown_answers_is_refused() {
        let q = fixture();
        let mut with_scores = new_draft(&q, &Changes::default()).unwrap().record;
        with_scores.scores = submitted(&q).scores;
        let mut unknown = new_draft(&q, &Changes::default()).unwrap().record;
        unknown.answers.insert("q1".into(), "perhaps".into());
        let mut contents = read(&q.hash, SOURCE, &[with_scores, unknown]);
        let mut problems = Vec::new();
        verify(&mut contents, &mut problems);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4], "{problems:?}");
        assert!(problems[1].message.contains("\"perhaps\""));
    }
}
