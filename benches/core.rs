//! In-process benchmarks of the core: scoring the shipped questionnaire, parsing answers,
//! durable batched inserts into the sled store, the radar chart, the report page and its
//! PDF, and a page of a broker's portfolio with its thumbnails.
//!
//! Run with `cargo bench --bench core` (about three minutes on two cores); one benchmark with
//! `cargo bench --bench core -- score/it-liability-full`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::{json, Value};
use shindan::assessment::{new_draft, submit_record, Changes};
use shindan::questionnaire::{parse_file, Answers, FieldKind, Questionnaire};
use shindan::report::radar;
use shindan::scoring;
use shindan::store::{AssessmentRecord, Invitation, PortfolioItem, RecordSummary, Store};

const QUESTIONNAIRE: &str = "questionnaires/it-liability-2026.1.toml";
/// The questionnaire new assessments use, for the PDF benchmark.
const LATEST: &str = "questionnaires/it-liability-2026.2.toml";
/// Records inserted per durable flush in the store benchmark.
const BATCH: usize = 32;

fn questionnaire() -> Questionnaire {
    questionnaire_at(QUESTIONNAIRE)
}

fn questionnaire_at(file: &str) -> Questionnaire {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_file(&path, &source).unwrap_or_else(|problems| {
        for p in &problems {
            eprintln!("{p}");
        }
        panic!("{} does not validate", path.display())
    })
}

/// Every question answered, with a deterministic mix of options (option `i % len`).
fn raw_answers(q: &Questionnaire) -> BTreeMap<String, String> {
    q.questions
        .iter()
        .enumerate()
        .map(|(i, question)| {
            let option = &question.options[i % question.options.len()];
            (question.id.clone(), option.id.clone())
        })
        .collect()
}

/// A valid value for every profile field, required or not.
fn profile(q: &Questionnaire) -> BTreeMap<String, Value> {
    q.profile
        .iter()
        .map(|field| {
            let value = match field.kind {
                FieldKind::Text => json!("Bench KK"),
                FieldKind::Number => json!(30),
                FieldKind::Date => json!("2027-04-01"),
                FieldKind::Select => json!(field.options[0].id),
                FieldKind::Multiselect => json!([field.options[0].id]),
            };
            (field.id.clone(), value)
        })
        .collect()
}

/// A valid profile and every question answered, as changes to a new draft.
fn complete_changes(q: &Questionnaire) -> Changes {
    Changes {
        profile: profile(q),
        answers: raw_answers(q)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    }
}

fn submitted_record(q: &Questionnaire, changes: &Changes) -> AssessmentRecord {
    let mut created = new_draft(q, changes).expect("the bench changes fit the questionnaire");
    submit_record(q, &mut created.record).expect("the bench draft is complete");
    created.record
}

fn bench_score(c: &mut Criterion) {
    let q = questionnaire();
    let raw = raw_answers(&q);
    assert_eq!(raw.len(), q.questions.len());
    let answers = Answers::parse(&q, &raw).expect("the bench answers fit the questionnaire");
    assert!(answers.first_unanswered(&q).is_none());
    let profile = profile(&q);
    // Profile values as the store keeps them (canonical form), like submit_record sees them.
    let changes = Changes {
        profile: profile.clone(),
        answers: BTreeMap::new(),
    };
    let stored_profile = new_draft(&q, &changes)
        .expect("the bench profile fits the questionnaire")
        .record
        .profile;

    let mut group = c.benchmark_group("score");
    group
        .sample_size(100)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("it-liability-full", |b| {
        b.iter(|| scoring::score(black_box(&q), black_box(&answers)))
    });
    group.bench_function("parse-and-score", |b| {
        b.iter(|| {
            let answers = Answers::parse(black_box(&q), black_box(&raw)).unwrap();
            let scores = scoring::score(&q, &answers);
            let findings = scoring::findings(&q, &answers, black_box(&stored_profile));
            (scores, findings.len())
        })
    });
    group.finish();
}

fn bench_store(c: &mut Criterion) {
    let q = questionnaire();
    let changes = complete_changes(&q);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(dir.path()).expect("the store opens");

    let mut group = c.benchmark_group("store");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        // Each iteration leaves 32 records behind: sled's log grows by about 6 KiB per record,
        // so a longer measurement mostly costs temporary disk space (about 400 MB here).
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("insert+durable-batch32", |b| {
        b.iter_batched(
            // Building the records (tokens, scoring) is not timed: only the writes are.
            || {
                (0..BATCH)
                    .map(|_| submitted_record(&q, &changes))
                    .collect::<Vec<_>>()
            },
            |records| {
                for record in &records {
                    store.insert(record).expect("insert");
                }
                store.flush_now().expect("flush");
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    eprintln!(
        "store: {} records, {} bytes on disk",
        store.count(),
        store.size_on_disk().unwrap_or(0)
    );
    drop(store);
    drop(dir);
}

/// The radar chart alone (10 domains, two series) and the whole report page.
fn bench_report(c: &mut Criterion) {
    use shindan::i18n::Lang;
    use shindan::report;

    let labels = [
        "ガバナンス・認証",
        "アクセス管理",
        "データ保護・復旧",
        "マルウェア・脆弱性",
        "開発・テスト",
        "可用性・キャパシティ",
        "インシデント対応・事業継続",
        "契約・責任管理",
        "コンテンツ・知財",
        "サプライチェーン・委託先管理",
    ];
    let peers: Vec<Option<f64>> = (0..10).map(|i| Some(40.0 + 3.0 * i as f64)).collect();
    let chart = radar::Radar {
        lang: Lang::Ja,
        axes: labels
            .iter()
            .enumerate()
            .map(|(i, label)| radar::Axis {
                label,
                score: Some(20.0 + 7.5 * i as f64),
            })
            .collect(),
        name: "貴社",
        second: Some(radar::Series {
            name: "同業平均(n=12)",
            values: &peers,
        }),
    };
    c.bench_function("report/radar-10-domains-two-series", |b| {
        b.iter(|| radar::svg(black_box(&chart)))
    });

    let q = questionnaire();
    let (record, view) = report_inputs(&q, 0);
    c.bench_function("report/page-html", |b| {
        b.iter(|| {
            let a = report::analyse(&q, black_box(&record), Some(&view), None);
            let svg = report::radar_svg(&a, Lang::Ja);
            report::page::render(&report::page::ReportPage {
                lang: Lang::Ja,
                analysis: &a,
                record: &record,
                radar: &svg,
                path: "/r/token",
                self_contained: false,
            })
            .into_string()
        })
    });
}

/// Submitted record `n` of `q` (`n` shifts every answer and names the company), and the
/// peer comparison of twelve companies its report shows.
fn report_inputs(q: &Questionnaire, n: usize) -> (AssessmentRecord, shindan::peers::PeerView) {
    use shindan::peers::{next_snapshot, CompanyKey, CompanyScores, Published, Submission};

    let mut profile = profile(q);
    if n > 0 {
        profile.insert("company_name".into(), json!(format!("株式会社ベンチ{n}")));
    }
    let answers = q
        .questions
        .iter()
        .enumerate()
        .map(|(i, question)| {
            let option = &question.options[(i + n) % question.options.len()];
            (question.id.clone(), json!(option.id))
        })
        .collect();
    let record = submitted_record(q, &Changes { profile, answers });
    let scores = record.scores.as_ref().expect("submitted");
    let peers = (0..12).map(|i| Submission {
        questionnaire: record.questionnaire.id.clone(),
        version: record.questionnaire.version.clone(),
        company: CompanyKey::of(Some(&format!("peer {i}")), record.id),
        scores: CompanyScores::new(uuid::Uuid::new_v4(), record.submitted_at, None, scores),
    });
    let snapshot = next_snapshot(None, peers, uuid::Uuid::new_v4(), chrono::Utc::now())
        .expect("twelve companies");
    let published = Published::of(&snapshot);
    let view = published
        .section(&record.questionnaire.id, &record.questionnaire.version)
        .and_then(|s| s.view(&record.company(), record.id, None))
        .expect("twelve others");
    (record, view)
}

/// Distinct reports the PDF benchmark cycles through. The server typesets a report once
/// (its PDF is then cached), so one compile must not be measured serving the same report
/// again from typst's memoisation.
const PDF_REPORTS: usize = 32;

/// The report as a PDF, typeset in-process from the latest shipped questionnaire, in each
/// language (the analysis and the radar chart included, as the route makes them), each
/// iteration a different report.
fn bench_pdf(c: &mut Criterion) {
    use shindan::i18n::Lang;
    use shindan::report;

    let q = questionnaire_at(LATEST);
    let reports: Vec<_> = (0..PDF_REPORTS).map(|n| report_inputs(&q, n)).collect();
    let mut group = c.benchmark_group("report/pdf");
    // Tens of milliseconds each: fewer samples keep the run short.
    group.sample_size(30);
    for lang in [Lang::Ja, Lang::En] {
        let mut next = reports.iter().cycle();
        group.bench_function(lang.code(), |b| {
            b.iter(|| {
                let (record, view) = next.next().expect("a cycle never ends");
                let a = report::analyse(&q, black_box(record), Some(view), None);
                let svg = report::radar_svg(&a, lang);
                report::pdf::render(&report::pdf::ReportPdf {
                    lang,
                    analysis: &a,
                    record,
                    radar: &svg,
                })
                .expect("typeset")
            })
        });
    }
    group.finish();
}

/// A page of 25 from one broker's 1,000 invitations among 10,000 (the store's part of the
/// portfolio API), and the 25 thumbnails of a dashboard page.
fn bench_portfolio(c: &mut Criterion) {
    let q = questionnaire();
    let changes = complete_changes(&q);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(dir.path()).expect("the store opens");
    let mut brokers = Vec::new();
    for b in 0..10 {
        let (broker, _) = store.add_broker(&format!("broker {b}")).expect("broker");
        brokers.push(broker.id);
    }
    for i in 0..10_000 {
        let mut record = submitted_record(&q, &changes);
        record.invitation = Some(Invitation {
            broker: brokers[i % brokers.len()],
            client_name: format!("client {i}"),
            proposal_ref: None,
        });
        store.insert_invitation(&record).expect("insert");
    }
    store.flush_now().expect("flush");
    let broker = brokers[3];
    let all = |_: &PortfolioItem| true;
    c.bench_function("portfolio/first-page-25-of-1000", |b| {
        b.iter(|| {
            let page = store.portfolio_page(broker, None, 25, &all).expect("page");
            black_box(page.items.len())
        })
    });
    // Why a page decodes a RecordSummary: the answers and profile it skips are most of
    // a record's bytes.
    let stored = serde_json::to_vec(&submitted_record(&q, &changes)).expect("encode");
    c.bench_function("portfolio/decode-whole-record", |b| {
        b.iter(|| {
            let r: AssessmentRecord = serde_json::from_slice(black_box(&stored)).expect("decode");
            black_box(r)
        })
    });
    c.bench_function("portfolio/decode-record-summary", |b| {
        b.iter(|| {
            let r: RecordSummary = serde_json::from_slice(black_box(&stored)).expect("decode");
            black_box(r)
        })
    });
    let page = store.portfolio_page(broker, None, 25, &all).expect("page");
    c.bench_function("portfolio/25-thumbnails", |b| {
        b.iter(|| {
            for item in &page.items {
                let scores = item.record.scores.as_ref().expect("submitted");
                let values: Vec<Option<f64>> = scores.domains.iter().map(|d| d.score).collect();
                black_box(radar::thumbnail(&values, &item.entry.client_name));
            }
        })
    });
}

criterion_group!(
    benches,
    bench_score,
    bench_store,
    bench_report,
    bench_pdf,
    bench_portfolio
);
criterion_main!(benches);
