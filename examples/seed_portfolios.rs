//! Fills a stopped server's data directory with brokers and their clients' assessments, for
//! the portfolio load test (`scripts/load-broker.sh`): `BROKERS` brokers with `PER_BROKER`
//! invitations each, seven in ten of them answered and submitted with the shipped
//! questionnaire, the rest left as drafts. Prints one broker token per line.
//!
//! Usage: cargo run --release --example seed_portfolios -- DATA_DIR BROKERS PER_BROKER

use std::path::PathBuf;

use serde_json::{json, Value};
use shindan::assessment::{new_draft, submit_record, Changes};
use shindan::questionnaire::{load_dir, FieldKind};
use shindan::store::{Invitation, Store};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: seed_portfolios DATA_DIR BROKERS PER_BROKER";
    let dir = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!(usage))?);
    let brokers: usize = args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
    let per_broker: usize = args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;

    let catalog = load_dir(&PathBuf::from("questionnaires"))
        .map_err(|p| anyhow::anyhow!("questionnaires: {} problem(s)", p.len()))?;
    let q = catalog
        .find("it-liability", None)
        .ok_or_else(|| anyhow::anyhow!("no it-liability questionnaire"))?;
    let store = Store::open(&dir)?;
    store.archive_questionnaire(&q.hash, &q.source)?;

    let mut tokens = Vec::with_capacity(brokers);
    for b in 0..brokers {
        let (broker, token) = store.add_broker(&format!("代理店 {b:03}"))?;
        tokens.push(token.expose().to_string());
        for i in 0..per_broker {
            let client = format!("株式会社テスト{:04}", i % (per_broker / 2).max(1));
            let mut changes = Changes::default();
            for field in &q.profile {
                let first = field.options.first().map(|o| o.id.clone());
                let value = match field.kind {
                    FieldKind::Text => json!(client),
                    FieldKind::Number => json!(30),
                    FieldKind::Date => json!("2027-04-01"),
                    FieldKind::Select => json!(first),
                    FieldKind::Multiselect => json!([first]),
                };
                changes.profile.insert(field.id.clone(), value);
            }
            let submitted = (b + i) % 10 < 7;
            if submitted {
                for (n, question) in q.questions.iter().enumerate() {
                    let option = &question.options[(n + i + b) % question.options.len()];
                    changes
                        .answers
                        .insert(question.id.clone(), Value::String(option.id.clone()));
                }
            }
            let mut created = new_draft(&q, &changes)?;
            if submitted {
                submit_record(&q, &mut created.record)?;
            }
            created.record.invitation = Some(Invitation {
                broker: broker.id,
                client_name: client,
                proposal_ref: Some(format!("P-{b:03}-{i:05}")),
            });
            store.insert_invitation(&created.record)?;
        }
    }
    store.flush_now()?;
    for t in tokens {
        println!("{t}");
    }
    Ok(())
}
