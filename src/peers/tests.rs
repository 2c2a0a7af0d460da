use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 3, 0, 0).unwrap()
}

/// A submission of `company` with every domain and the overall at `score`.
fn sub(company: &str, segment: Option<&str>, score: f64, day: u32) -> Submission {
    Submission {
        questionnaire: "q".into(),
        version: "1".into(),
        company: CompanyKey::of(Some(company), Uuid::nil()),
        scores: CompanyScores {
            record: Uuid::new_v4(),
            submitted_at: Some(at(day)),
            segment: segment.map(str::to_string),
            domains: [("d1".to_string(), score), ("d2".to_string(), score / 2.0)]
                .into_iter()
                .collect(),
            overall: Some(score),
        },
    }
}

fn companies(n: usize, segment: Option<&str>, prefix: &str) -> Vec<Submission> {
    (0..n)
        .map(|i| sub(&format!("{prefix}{i}"), segment, 7.0 * i as f64, 1))
        .collect()
}

fn take(
    previous: Option<&PeerSnapshot>,
    subs: &[Submission],
) -> Result<PeerSnapshot, TooFewChanges> {
    next_snapshot(previous, subs.iter().cloned(), Uuid::new_v4(), at(20))
}

#[test]
fn company_names_fold_width_case_and_surrounding_space() {
    let id = Uuid::new_v4();
    let key = CompanyKey::of(Some("ＡＢＣ株式会社"), id);
    assert_eq!(key, CompanyKey::of(Some("  abc株式会社 "), Uuid::new_v4()));
    assert_eq!(key, CompanyKey::of(Some("Abc株式会社"), Uuid::new_v4()));
    assert_ne!(key, CompanyKey::of(Some("abc商事"), id));
    // No name: the assessment counts on its own.
    assert_ne!(
        CompanyKey::of(None, id),
        CompanyKey::of(None, Uuid::new_v4())
    );
    assert_eq!(CompanyKey::of(Some("  "), id), CompanyKey::of(None, id));
}

#[test]
fn the_first_snapshot_needs_five_companies_and_each_counts_once() {
    let mut subs = companies(4, None, "c");
    // Twelve submissions of one company are one change.
    for day in 1..=12 {
        subs.push(sub("Repeat", None, day as f64, day));
    }
    assert_eq!(take(None, &subs[..4]), Err(TooFewChanges { most: 4 }));
    let s = take(None, &subs).expect("five companies");
    assert_eq!(s.companies(), 5);
    let section = s.section("q", "1").unwrap();
    let repeat = &section.companies[&CompanyKey::of(Some("repeat"), Uuid::nil())];
    assert_eq!(repeat.overall, Some(12.0), "the latest submission counts");
}

#[test]
fn a_version_with_fewer_than_five_changes_is_carried_over_unchanged() {
    let mut subs = companies(12, None, "c");
    let first = take(None, &subs).unwrap();
    subs.extend(companies(4, None, "new"));
    assert_eq!(take(Some(&first), &subs), Err(TooFewChanges { most: 4 }));
    // Another version changes enough: a new snapshot, with "q 1" exactly as it was.
    let mut other = companies(5, None, "o");
    for s in &mut other {
        s.version = "2".into();
    }
    subs.extend(other);
    let second = take(Some(&first), &subs).unwrap();
    assert_eq!(second.section("q", "1"), first.section("q", "1"));
    assert_eq!(second.section("q", "2").unwrap().companies.len(), 5);
    // A fifth change refreshes it.
    subs.push(sub("new4", None, 50.0, 2));
    let third = take(Some(&second), &subs).unwrap();
    let section = third.section("q", "1").unwrap();
    assert_eq!(section.companies.len(), 17);
    assert_eq!(section.revision, third.id);
    assert_eq!(third.section("q", "2"), second.section("q", "2"));
}

#[test]
fn a_segment_is_published_only_with_ten_and_never_leaves_a_small_rest() {
    let mut subs = companies(10, Some("si"), "si");
    subs.extend(companies(9, Some("web"), "web"));
    let s = take(None, &subs).unwrap();
    // "si" alone would leave the nine "web" companies to be found by subtraction.
    assert!(s.section("q", "1").unwrap().segments.is_empty());
    subs.push(sub("web9", Some("web"), 1.0, 1));
    subs.extend(companies(5, Some("si"), "si-more"));
    let s = take(Some(&s), &subs).unwrap();
    assert_eq!(s.section("q", "1").unwrap().segments, ["si", "web"]);
}

#[test]
fn a_segment_that_changed_by_fewer_than_five_is_not_published_again() {
    let mut subs = companies(12, Some("si"), "si");
    subs.extend(companies(12, Some("web"), "web"));
    let first = take(None, &subs).unwrap();
    assert_eq!(first.section("q", "1").unwrap().segments, ["si", "web"]);
    // Two "si" companies and five "web" companies resubmit.
    for name in ["si0", "si1"] {
        subs.push(sub(name, Some("si"), 99.0, 5));
    }
    for i in 0..5 {
        subs.push(sub(&format!("web{i}"), Some("web"), 99.0, 5));
    }
    let second = take(Some(&first), &subs).unwrap();
    let section = second.section("q", "1").unwrap();
    assert_eq!(section.segments, ["web"]);
    assert_eq!(section.earlier_segments["si"].len(), 12);
    // Three more "si" changes: five since its last publication, so it is published again.
    for name in ["si2", "si3", "si4"] {
        subs.push(sub(name, Some("si"), 99.0, 6));
    }
    // "web" needs five changes of its own too.
    subs.extend(companies(5, Some("web"), "web-new"));
    let third = take(Some(&second), &subs).unwrap();
    let section = third.section("q", "1").unwrap();
    assert_eq!(section.segments, ["si", "web"]);
    assert!(section.earlier_segments.is_empty());
}

fn published(s: &PeerSnapshot) -> PublishedSection {
    Published::of(s).section("q", "1").unwrap().clone()
}

#[test]
fn a_reader_sees_peers_only_with_ten_others() {
    let subs = companies(10, None, "c");
    let p = published(&take(None, &subs).unwrap());
    let inside = CompanyKey::of(Some("c0"), Uuid::nil());
    let outside = CompanyKey::of(Some("newcomer"), Uuid::nil());
    assert_eq!(
        p.view(&inside, subs[0].scores.record, None),
        None,
        "nine others"
    );
    let v = p.view(&outside, Uuid::nil(), None).expect("ten others");
    assert_eq!(v.band, None, "a newcomer is not ranked");
    assert_eq!(v.companies, 10);
    // 7 * (0 + 1 + ... + 9) / 10
    assert_eq!(v.averages["d1"], 31.5);
    assert_eq!(v.averages["d2"], 15.75);
    assert_eq!(v.overall_average, Some(31.5));
    assert_eq!(v.segment, None);
    assert_eq!(v.as_of, at(20));
}

#[test]
fn the_held_assessment_is_ranked_among_the_others_in_bands_of_twenty_percent() {
    // Fourteen companies scoring 0, 7, ..., 91.
    let subs = companies(14, None, "c");
    let p = published(&take(None, &subs).unwrap());
    let band = |i: usize| {
        let own = CompanyKey::of(Some(&format!("c{i}")), Uuid::nil());
        p.view(&own, subs[i].scores.record, None)
            .unwrap()
            .band
            .unwrap()
    };
    // c13 (91): none of the thirteen others above; c0 (0): all of them.
    assert_eq!(band(13), Band::of(0, 13));
    assert_eq!(band(13).index(), 1);
    assert_eq!(band(0).index(), 5);
    assert!(band(0).is_bottom());
    let own = CompanyKey::of(Some("c0"), Uuid::nil());
    assert_eq!(
        p.view(&own, subs[0].scores.record, None).unwrap().companies,
        10
    );
}

#[test]
fn only_the_assessment_the_snapshot_holds_is_ranked() {
    let subs = companies(11, None, "c");
    let p = published(&take(None, &subs).unwrap());
    let own = CompanyKey::of(Some("c10"), Uuid::nil());
    // c10's newer assessment, not yet in a snapshot: averages, no rank.
    let newer = p.view(&own, Uuid::new_v4(), None).unwrap();
    assert_eq!(newer.band, None);
    // A company that never submitted before: the same.
    let newcomer = CompanyKey::of(Some("newcomer"), Uuid::nil());
    assert_eq!(p.view(&newcomer, Uuid::nil(), None).unwrap().band, None);
    // The held one (70): none of the ten others (0 ... 63) above.
    let held = p.view(&own, subs[10].scores.record, None).unwrap();
    assert_eq!(held.band.unwrap().index(), 1);
    // The published average is the same for every reader: all eleven companies.
    assert_eq!(held.overall_average, Some(35.0));
    assert_eq!(newer.overall_average, Some(35.0));
    assert_eq!(held.companies, 10);
}

#[test]
fn the_segment_is_used_only_when_it_alone_has_ten_others() {
    let mut subs = companies(11, Some("si"), "si");
    subs.extend(companies(10, Some("web"), "web"));
    let p = published(&take(None, &subs).unwrap());
    let newcomer = CompanyKey::of(Some("newcomer"), Uuid::nil());
    let v = p.view(&newcomer, Uuid::nil(), Some("si")).unwrap();
    assert_eq!((v.segment.as_deref(), v.companies), (Some("si"), 10));
    // A member of "web" has nine others there: compared with everyone.
    let member = CompanyKey::of(Some("web0"), Uuid::nil());
    let v = p.view(&member, Uuid::nil(), Some("web")).unwrap();
    assert_eq!((v.segment, v.companies), (None, 20));
    // An unpublished segment: everyone.
    let v = p.view(&newcomer, Uuid::nil(), Some("saas")).unwrap();
    assert_eq!(v.segment, None);
}

#[test]
fn counts_are_rounded_down_to_a_multiple_of_five() {
    for (n, shown) in [
        (0, 0),
        (4, 0),
        (10, 10),
        (14, 10),
        (15, 15),
        (19, 15),
        (1003, 1000),
    ] {
        assert_eq!(floor_to_step(n), shown, "{n}");
    }
}

#[test]
fn bands_name_their_edges() {
    assert_eq!(Band::of(0, 9).code(), "top_20");
    assert_eq!(Band::of(0, 9).top_percent(), 20);
    assert_eq!(Band::of(2, 9).code(), "top_40");
    assert_eq!(Band::of(9, 9).code(), "bottom_20");
    assert_eq!(Band::of(5, 9).index(), 3);
}

proptest! {
    /// A band is the fifth of the ranking the company falls in: ranks 1 to n+1 over n+1
    /// places, the best the top band (with five places or more) and the worst the bottom
    /// one, never better for a lower rank.
    #[test]
    fn bands_are_monotonic_fifths(others in 1usize..500, above in 0usize..500) {
        let above = above.min(others);
        let b = Band::of(above, others);
        prop_assert!((1..=BANDS).contains(&b.index()));
        let share = (above + 1) as f64 / (others + 1) as f64;
        prop_assert!(f64::from(b.top_percent()) / 100.0 >= share - 1e-9);
        prop_assert!(f64::from(b.top_percent() - 20) / 100.0 < share);
        if above < others {
            prop_assert!(Band::of(above + 1, others) >= b);
        }
        if others + 1 >= usize::from(BANDS) {
            prop_assert_eq!(Band::of(0, others).index(), 1);
        }
        prop_assert_eq!(Band::of(others, others).index(), BANDS);
    }

    #[test]
    fn rounded_counts_never_overstate_and_are_within_a_step(n in 0usize..100_000) {
        let shown = floor_to_step(n);
        prop_assert!(shown <= n && n - shown < COUNT_STEP && shown.is_multiple_of(COUNT_STEP));
    }

    /// Whatever the sequence of submissions and snapshots, a group published twice (all
    /// of a version, or a segment) changed by none or at least five companies in between,
    /// and the companies outside the published segments are none or at least ten.
    #[test]
    fn nothing_published_differs_by_fewer_than_five_companies(
        rounds in prop::collection::vec(
            prop::collection::vec((0usize..60, 0usize..4, 0u8..=100), 0..30),
            1..8,
        )
    ) {
        let segments = ["si", "web", "saas", "hosting"];
        let mut subs: Vec<Submission> = Vec::new();
        let mut previous: Option<PeerSnapshot> = None;
        // Per group: members at its last publication.
        let mut last: BTreeMap<String, BTreeMap<CompanyKey, Uuid>> = BTreeMap::new();
        for (day, round) in rounds.iter().enumerate() {
            for &(company, segment, score) in round {
                subs.push(sub(&format!("c{company}"), Some(segments[segment]), f64::from(score), day as u32 + 1));
            }
            let Ok(s) = take(previous.as_ref(), &subs) else { continue };
            let section = s.section("q", "1").unwrap();
            let mut groups = vec![("*".to_string(), members_of(section, |_| true))];
            for seg in &section.segments {
                groups.push((seg.clone(), members_of(section, |c| c.segment.as_deref() == Some(seg))));
            }
            let rest = members_of(section, |c| !c.segment.as_ref().is_some_and(|x| section.segments.contains(x)));
            prop_assert!(section.segments.is_empty() || rest.is_empty() || rest.len() >= MIN_SEGMENT);
            groups.push(("rest".to_string(), rest));
            for (name, now) in groups {
                if name != "*" && name != "rest" {
                    prop_assert!(now.len() >= MIN_SEGMENT);
                }
                if let Some(before) = last.get(&name) {
                    if section.revision == s.id {
                        let d = before.iter().filter(|(k, r)| now.get(*k) != Some(*r)).count()
                            + now.keys().filter(|k| !before.contains_key(*k)).count();
                        prop_assert!(d == 0 || d >= MIN_CHANGES, "{name} changed by {d}");
                    }
                }
                last.insert(name, now);
            }
            previous = Some(s);
        }
    }
}

fn members_of(
    section: &Section,
    keep: impl Fn(&CompanyScores) -> bool,
) -> BTreeMap<CompanyKey, Uuid> {
    section
        .companies
        .iter()
        .filter(|(_, c)| keep(c))
        .map(|(k, c)| (k.clone(), c.record))
        .collect()
}
