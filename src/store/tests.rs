use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::portfolio;
use super::*;
use crate::tokens::{EditToken, ReportToken};

fn record(created_offset_secs: i64) -> (AssessmentRecord, EditToken, ReportToken) {
    let edit = EditToken::generate().unwrap();
    let report = ReportToken::generate().unwrap();
    let now = Utc::now() + Duration::seconds(created_offset_secs);
    let r = AssessmentRecord {
        schema: SCHEMA_VERSION,
        id: Uuid::new_v4(),
        questionnaire: QuestionnaireRef {
            id: "q".into(),
            version: "1".into(),
            hash: "sha256:00".into(),
        },
        edit_token_sha256: edit.digest().to_hex(),
        report_token: report.expose().into(),
        status: Status::Draft,
        profile: BTreeMap::new(),
        answers: BTreeMap::new(),
        created_at: now,
        updated_at: now,
        submitted_at: None,
        scores: None,
        findings: Vec::new(),
        previous: None,
        invitation: None,
    };
    (r, edit, report)
}

#[test]
fn a_record_is_found_by_id_and_by_either_token_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (r, edit, report) = record(0);
    store.insert(&r).unwrap();
    assert_eq!(store.get(r.id).unwrap().as_ref(), Some(&r));
    assert_eq!(
        store.find_by_edit(&edit.digest()).unwrap().as_ref(),
        Some(&r)
    );
    assert_eq!(
        store.find_by_report(&report.digest()).unwrap().as_ref(),
        Some(&r)
    );
    // One token is no key to the other index.
    assert!(store.find_by_report(&edit.digest()).unwrap().is_none());
    assert!(store.find_by_edit(&report.digest()).unwrap().is_none());
    assert!(store.get(Uuid::new_v4()).unwrap().is_none());
}

#[test]
fn records_come_back_oldest_first_whatever_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ids: Vec<Uuid> = [30, 10, 20]
        .into_iter()
        .map(|offset| {
            let (r, _, _) = record(offset);
            store.insert(&r).unwrap();
            r.id
        })
        .collect();
    let listed: Vec<Uuid> = store.records().map(|r| r.unwrap().id).collect();
    assert_eq!(listed, [ids[1], ids[2], ids[0]]);
    assert_eq!(store.count(), 3);
}

#[test]
fn update_applies_a_change_or_leaves_the_record_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (r, _, _) = record(0);
    store.insert(&r).unwrap();
    let changed = store
        .update(r.id, |r| {
            r.answers.insert("q1".into(), "yes".into());
            Ok::<(), ()>(())
        })
        .unwrap();
    assert_eq!(changed.answers["q1"], "yes");
    let refused = store.update(r.id, |r| {
        r.answers.clear();
        Err("no")
    });
    assert!(matches!(refused, Err(UpdateError::Refused("no"))));
    assert_eq!(store.get(r.id).unwrap().unwrap().answers["q1"], "yes");
    assert!(matches!(
        store.update(Uuid::new_v4(), |_| Ok::<(), ()>(())),
        Err(UpdateError::NotFound)
    ));
}

#[test]
fn a_second_open_of_the_same_directory_is_refused_as_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    match Store::open(dir.path()) {
        Err(StoreError::InUse(path)) => assert_eq!(path, dir.path()),
        Err(other) => panic!("expected InUse, got {other}"),
        Ok(_) => panic!("expected InUse, got a second store"),
    }
}

#[test]
fn export_then_import_restores_records_and_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let made: Vec<_> = (0..5).map(record).collect();
    for (r, _, _) in &made {
        store.insert(r).unwrap();
    }
    store
        .archive_questionnaire("sha256:00", "id = \"q\"\n")
        .unwrap();
    let mut file = Vec::new();
    assert_eq!(store.export(&mut file).unwrap(), 5);

    let other = tempfile::tempdir().unwrap();
    let restored = Store::open(other.path()).unwrap();
    assert_eq!(restored.import(file.as_slice()).unwrap(), 5);
    for (r, edit, report) in &made {
        assert_eq!(restored.get(r.id).unwrap().as_ref(), Some(r));
        assert_eq!(
            restored.find_by_edit(&edit.digest()).unwrap().as_ref(),
            Some(r)
        );
        assert_eq!(
            restored.find_by_report(&report.digest()).unwrap().as_ref(),
            Some(r)
        );
    }
    assert_eq!(
        restored
            .archived_questionnaire("sha256:00")
            .unwrap()
            .as_deref(),
        Some("id = \"q\"\n")
    );
    assert!(matches!(
        restored.import(file.as_slice()),
        Err(StoreError::NotEmpty)
    ));
}

#[test]
fn a_damaged_backup_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.insert(&record(0).0).unwrap();
    let mut file = Vec::new();
    store.export(&mut file).unwrap();
    let mut text = String::from_utf8(file).unwrap();
    text.push_str("{not json\n");
    let other = tempfile::tempdir().unwrap();
    let restored = Store::open(other.path()).unwrap();
    match restored.import(text.as_bytes()) {
        Err(StoreError::InvalidBackup(problems)) => assert_eq!(problems[0].line, 3),
        other => panic!("expected a backup error, got {other:?}"),
    }
    assert_eq!(restored.count(), 0);
}

#[tokio::test]
async fn an_unreadable_record_fails_its_own_submission_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (broken, _, _) = record(0);
    let (fine, _, _) = record(1);
    store.insert(&broken).unwrap();
    store.insert(&fine).unwrap();
    store
        .tree
        .insert(key(RECORD, &record_key(&broken)), b"not json".as_slice())
        .unwrap();
    let submit = |r: &mut AssessmentRecord| {
        r.status = Status::Submitted;
        Ok::<(), ()>(())
    };
    let (a, b) = tokio::join!(
        store.submit(broken.id, submit),
        store.submit(fine.id, submit)
    );
    assert!(matches!(a, Err(UpdateError::Store(StoreError::Corrupt(_)))));
    assert_eq!(b.unwrap().status, Status::Submitted);
}

#[test]
fn a_backup_naming_one_assessment_twice_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.insert(&record(0).0).unwrap();
    let mut file = Vec::new();
    store.export(&mut file).unwrap();
    let text = String::from_utf8(file).unwrap();
    let last = text.lines().last().unwrap().to_string();
    let doubled = format!("{text}{last}\n").replace("\"records\":1", "\"records\":2");
    let other = tempfile::tempdir().unwrap();
    let restored = Store::open(other.path()).unwrap();
    match restored.import(doubled.as_bytes()) {
        Err(StoreError::InvalidBackup(problems)) => {
            assert!(problems.iter().any(|p| p.message == "appears twice"))
        }
        other => panic!("expected a duplicate error, got {other:?}"),
    }
    assert_eq!(restored.count(), 0);
}

fn invited(broker: Uuid, offset: i64, client: &str) -> AssessmentRecord {
    let (mut r, _, _) = record(offset);
    r.invitation = Some(Invitation {
        broker,
        client_name: client.into(),
        proposal_ref: None,
    });
    r
}

#[test]
fn a_broker_token_works_until_rotated_or_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (b, token) = store.add_broker("ABC保険代理店").unwrap();
    assert_eq!(store.authenticate_broker(&token).unwrap().unwrap().id, b.id);
    assert!(!store.brokers().unwrap()[0]
        .token_sha256
        .contains(token.expose()));

    let (rotated, new_token) = store.rotate_broker(b.id).unwrap().unwrap();
    assert_eq!(rotated.generation, 1);
    assert!(store.authenticate_broker(&token).unwrap().is_none());
    assert_eq!(
        store.authenticate_broker(&new_token).unwrap().unwrap().id,
        b.id
    );

    let revoked = store.revoke_broker(b.id).unwrap().unwrap();
    assert_eq!(revoked.status(), BrokerStatus::Revoked);
    assert!(store.authenticate_broker(&new_token).unwrap().is_none());
    assert!(
        store.rotate_broker(b.id).unwrap().is_none(),
        "a revoked broker stays revoked"
    );
    assert!(store.revoke_broker(Uuid::new_v4()).unwrap().is_none());
}

#[test]
fn portfolio_pages_are_newest_first_and_belong_to_one_broker() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut mine = Vec::new();
    for i in 0..7 {
        let r = invited(a, i, &format!("client {i}"));
        store.insert_invitation(&r).unwrap();
        mine.push(r.id);
        store.insert_invitation(&invited(b, i, "other")).unwrap();
    }
    mine.reverse();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .portfolio_page(a, after, 3, &|_: &PortfolioItem| true)
            .unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|i| i.record.id));
        match page.next {
            Some(p) => after = Some(Position::from_cursor(&p.to_cursor()).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, mine);
    assert!(store.portfolio_item(b, mine[0]).unwrap().is_none());
    assert_eq!(
        store
            .portfolio_item(a, mine[0])
            .unwrap()
            .unwrap()
            .entry
            .membership,
        Membership::Invited
    );
    // A filter that matches the last item only ends with no next cursor.
    let page = store
        .portfolio_page(a, None, 1, &|i: &PortfolioItem| {
            i.entry.client_name == "client 0"
        })
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.next.is_none());
}

#[tokio::test]
async fn attaching_twice_files_the_assessment_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let broker = Uuid::new_v4();
    let (mut r, _, report) = record(0);
    r.status = Status::Submitted;
    store.insert(&r).unwrap();
    let name = |_: &AssessmentRecord| "client".to_string();
    let (item, added) = store
        .attach(broker, &report.digest(), |_| true, name, None)
        .await
        .unwrap()
        .unwrap();
    assert!(added);
    assert_eq!(item.entry.membership, Membership::Attached);
    let (_, again) = store
        .attach(broker, &report.digest(), |_| true, name, None)
        .await
        .unwrap()
        .unwrap();
    assert!(!again);
    assert_eq!(
        store
            .portfolio_page(broker, None, 10, &|_: &PortfolioItem| true)
            .unwrap()
            .items
            .len(),
        1
    );
    let refused = store
        .attach(Uuid::new_v4(), &report.digest(), |_| false, name, None)
        .await
        .unwrap();
    assert!(refused.is_none());
}

#[test]
fn brokers_and_portfolios_survive_a_backup_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (b, token) = store.add_broker("代理店").unwrap();
    store
        .insert_invitation(&invited(b.id, 0, "client"))
        .unwrap();
    let mut file = Vec::new();
    store.export(&mut file).unwrap();

    let dir2 = tempfile::tempdir().unwrap();
    let restored = Store::open(dir2.path()).unwrap();
    assert_eq!(restored.import(&file[..]).unwrap(), 1);
    assert_eq!(
        restored.authenticate_broker(&token).unwrap().unwrap().id,
        b.id
    );
    let page = restored
        .portfolio_page(b.id, None, 10, &|_: &PortfolioItem| true)
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].entry.client_name, "client");
}

#[test]
fn a_revoke_racing_rotations_leaves_the_broker_revoked_with_no_working_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for _ in 0..20 {
        let (b, first) = store.add_broker("x").unwrap();
        let tokens = std::sync::Mutex::new(vec![first]);
        std::thread::scope(|s| {
            s.spawn(|| store.revoke_broker(b.id).unwrap());
            for _ in 0..3 {
                s.spawn(|| {
                    if let Some((_, t)) = store.rotate_broker(b.id).unwrap() {
                        tokens.lock().unwrap().push(t);
                    }
                });
            }
        });
        assert_eq!(
            store.broker(b.id).unwrap().unwrap().status(),
            BrokerStatus::Revoked
        );
        for t in tokens.lock().unwrap().iter() {
            assert!(store.authenticate_broker(t).unwrap().is_none());
        }
    }
    // No token index entry is left behind for any revoked broker.
    assert_eq!(store.tree.scan_prefix([b'T']).count(), 0);
}

#[test]
fn a_backup_whose_portfolio_names_an_unknown_assessment_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (b, _) = store.add_broker("代理店").unwrap();
    let r = invited(b.id, 0, "client");
    store.insert_invitation(&r).unwrap();
    let mut file = Vec::new();
    store.export(&mut file).unwrap();
    let text = String::from_utf8(file).unwrap();
    let damaged = text.replace(&r.id.to_string(), &Uuid::new_v4().to_string());
    let other = text.replace(&r.id.simple().to_string(), "0");
    for bad in [damaged, other] {
        let dir2 = tempfile::tempdir().unwrap();
        let restored = Store::open(dir2.path()).unwrap();
        assert!(restored.import(bad.as_bytes()).is_err());
        assert_eq!(restored.count(), 0);
        assert!(restored.brokers().unwrap().is_empty());
    }
}

#[test]
fn a_filter_that_matches_little_ends_its_page_early_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let broker = Uuid::new_v4();
    let total = portfolio::MIN_SCAN + 500;
    let mut wanted = Vec::new();
    for i in 0..total {
        let name = if i % 700 == 0 { "match" } else { "other" };
        let r = invited(broker, i as i64, name);
        if name == "match" {
            wanted.push(r.id);
        }
        store.insert_invitation(&r).unwrap();
    }
    wanted.reverse();
    let keep = |i: &PortfolioItem| i.entry.client_name == "match";
    let first = store.portfolio_page(broker, None, 25, &keep).unwrap();
    assert!(
        first.items.len() < wanted.len(),
        "the budget ended the page early"
    );
    assert!(first.next.is_some());
    let mut seen: Vec<Uuid> = first.items.iter().map(|i| i.record.id).collect();
    let mut after = first.next;
    while let Some(a) = after {
        let page = store.portfolio_page(broker, Some(a), 25, &keep).unwrap();
        seen.extend(page.items.iter().map(|i| i.record.id));
        after = page.next;
    }
    assert_eq!(seen, wanted);
}

/// Fails the store as a flush on a full disk does.
fn fill_disk(store: &Store) {
    let full = StoreError::Unavailable {
        fault: Fault::DiskFull,
        detail: "IO error: No space left on device (os error 28)".into(),
    };
    let _ = store.health.fail(&full);
}

fn is_disk_full(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Unavailable {
            fault: Fault::DiskFull,
            ..
        }
    )
}

#[tokio::test]
async fn a_failed_store_refuses_every_write_before_changing_anything_and_reads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (draft, _, report) = record(0);
    store.create(&draft).await.unwrap();
    assert_eq!(store.fault(), None);
    fill_disk(&store);
    assert_eq!(store.fault(), Some(Fault::DiskFull));

    let (other, _, _) = record(1);
    assert!(is_disk_full(&store.insert(&other).unwrap_err()));
    let mut submitted = other.clone();
    submitted.status = Status::Submitted;
    assert!(is_disk_full(&store.create(&submitted).await.unwrap_err()));
    match store.update(draft.id, |r| {
        r.answers.insert("q1".into(), "yes".into());
        Ok::<(), ()>(())
    }) {
        Err(UpdateError::Store(e)) => assert!(is_disk_full(&e)),
        _ => panic!("an update of a failed store was not refused"),
    }
    match store
        .submit(draft.id, |r| {
            r.status = Status::Submitted;
            Ok::<(), ()>(())
        })
        .await
    {
        Err(UpdateError::Store(e)) => assert!(is_disk_full(&e)),
        _ => panic!("a submission to a failed store was not refused"),
    }
    assert!(is_disk_full(&store.add_broker("A").unwrap_err()));
    assert!(is_disk_full(
        &store.archive_questionnaire("sha256:01", "x").unwrap_err()
    ));
    assert!(is_disk_full(&store.durable().await.unwrap_err()));
    assert!(is_disk_full(&store.flush_now().unwrap_err()));

    // Nothing changed, and what was stored before is still read.
    assert_eq!(store.get(draft.id).unwrap().as_ref(), Some(&draft));
    assert_eq!(
        store.find_by_report(&report.digest()).unwrap().as_ref(),
        Some(&draft)
    );
    assert!(store.get(other.id).unwrap().is_none());
    assert_eq!(store.count(), 1);
    assert!(store.brokers().unwrap().is_empty());
    assert!(store.archived_questionnaire("sha256:01").unwrap().is_none());
}

#[test]
fn a_full_disk_is_an_unavailable_store_not_a_generic_error() {
    let full = sled::Error::Io(std::io::Error::from_raw_os_error(28));
    assert!(is_disk_full(&StoreError::from(full)));
    let eio = sled::Error::Io(std::io::Error::from_raw_os_error(5));
    assert!(matches!(
        StoreError::from(eio),
        StoreError::Unavailable {
            fault: Fault::Io,
            ..
        }
    ));
    let bug = sled::Error::ReportableBug("x".into());
    assert!(matches!(StoreError::from(bug), StoreError::Storage(_)));
    assert!(is_disk_full(&StoreError::from(
        std::io::Error::from_raw_os_error(28)
    )));
}

#[tokio::test]
async fn below_the_reserve_writes_are_refused_and_what_was_written_still_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (kept, _, report) = record(0);
    store.insert(&kept).unwrap();
    store.archive_questionnaire("sha256:01", "x").unwrap();
    // More room than any disk has: the disk is "almost full".
    let store = store.with_reserve(u64::MAX);
    assert_eq!(store.fault(), Some(Fault::DiskFull));

    let (other, _, _) = record(1);
    match store.insert(&other).unwrap_err() {
        StoreError::Unavailable {
            fault: Fault::DiskFull,
            detail,
        } => assert!(detail.contains("less than the reserve"), "{detail}"),
        e => panic!("{e:?}"),
    }
    assert!(is_disk_full(&store.add_broker("A").unwrap_err()));
    assert!(is_disk_full(
        &store.archive_questionnaire("sha256:02", "y").unwrap_err()
    ));
    // An archive that is there already needs no write: a start on a full disk works.
    store.archive_questionnaire("sha256:01", "x").unwrap();
    // A write made before goes on to disk, and reads go on.
    store.durable().await.unwrap();
    assert_eq!(
        store.find_by_report(&report.digest()).unwrap().as_ref(),
        Some(&kept)
    );
    assert!(store.get(other.id).unwrap().is_none());
    // The reserve refuses; it does not fail the store: with room, writes are taken again.
    let store = store.with_reserve(0);
    assert_eq!(store.fault(), None);
    store.insert(&other).unwrap();
}
