//! What may be shown from a snapshot: the published aggregates of each questionnaire
//! version (all companies, and each published segment), derived from the snapshot alone,
//! and the view of one reader: the group it is compared with, with at least
//! [`MIN_OTHERS`] companies other than its own, averages, a rank band and a rounded count.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{CompanyKey, CompanyScores, PeerSnapshot, BANDS, COUNT_STEP, MIN_OTHERS};

/// `n` rounded down to a multiple of [`COUNT_STEP`]: 14 companies are shown as "10 or more".
pub fn floor_to_step(n: usize) -> usize {
    n / COUNT_STEP * COUNT_STEP
}

/// An overall score in tenths of a point (0 to 1000): ranks compare scores as they are
/// shown, so two companies with the same shown score tie.
fn tenths(overall: f64) -> u16 {
    // Clamped to 0..=1000, so the cast cannot truncate.
    (overall.clamp(0.0, 100.0) * 10.0).round() as u16
}

/// The aggregates of one group of companies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    /// Companies in the group.
    pub companies: usize,
    /// Per domain id: the sum of the assessed scores and how many companies assessed it.
    domains: BTreeMap<String, (f64, usize)>,
    /// The sum of the overall scores and how many companies have one.
    overall: (f64, usize),
    /// The overall scores in tenths of a point, ascending.
    tenths: Vec<u16>,
}

impl Group {
    fn of<'a>(companies: impl Iterator<Item = &'a CompanyScores>) -> Group {
        let mut g = Group::default();
        for c in companies {
            g.companies += 1;
            for (id, s) in &c.domains {
                let e = g.domains.entry(id.clone()).or_insert((0.0, 0));
                e.0 += s;
                e.1 += 1;
            }
            if let Some(o) = c.overall {
                g.overall.0 += o;
                g.overall.1 += 1;
                g.tenths.push(tenths(o));
            }
        }
        g.tenths.sort_unstable();
        g
    }
}

/// A rank band: 1 is the top 20%, [`BANDS`] the bottom 20%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Band(u8);

impl Band {
    /// The band of a company with `above` of `others` companies scoring strictly higher:
    /// its rank is `above + 1` of `others + 1`, ties counting in its favour, and the band
    /// is the fifth of that ranking it falls in (rounded up: the best of six is the top
    /// 20%, the worst the bottom 20%).
    pub fn of(above: usize, others: usize) -> Band {
        let rank = above.min(others) + 1;
        let total = others + 1;
        let band = (usize::from(BANDS) * rank).div_ceil(total);
        Band(band.clamp(1, usize::from(BANDS)) as u8)
    }

    /// 1 (top 20%) to 5 (bottom 20%).
    pub fn index(self) -> u8 {
        self.0
    }

    /// The band's upper edge: "top 20%", "top 40%" ... ; 100 for the bottom band.
    pub fn top_percent(self) -> u8 {
        self.0 * (100 / BANDS)
    }

    /// Whether this is the bottom 20%.
    pub fn is_bottom(self) -> bool {
        self.0 == BANDS
    }

    /// A stable name for the API: `top_20` ... `top_80`, `bottom_20`.
    pub fn code(self) -> String {
        if self.is_bottom() {
            format!("bottom_{}", 100 / BANDS)
        } else {
            format!("top_{}", self.top_percent())
        }
    }
}

/// One questionnaire version's published aggregates.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedSection {
    pub questionnaire: String,
    pub version: String,
    pub revision: Uuid,
    pub taken_at: DateTime<Utc>,
    pub all: Group,
    /// Only the segments the snapshot publishes.
    pub segments: BTreeMap<String, Group>,
    companies: BTreeMap<CompanyKey, CompanyScores>,
}

/// What a snapshot publishes, derived once when it is loaded or taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// Companies over every questionnaire version.
    pub companies: usize,
    sections: Vec<PublishedSection>,
}

impl Published {
    /// The aggregates of a snapshot.
    pub fn of(snapshot: &PeerSnapshot) -> Published {
        Published {
            id: snapshot.id,
            created_at: snapshot.created_at,
            companies: snapshot.companies(),
            sections: snapshot
                .sections
                .iter()
                .map(|s| PublishedSection {
                    questionnaire: s.questionnaire.clone(),
                    version: s.version.clone(),
                    revision: s.revision,
                    taken_at: s.taken_at,
                    all: Group::of(s.companies.values()),
                    segments: s
                        .segments
                        .iter()
                        .map(|seg| {
                            let members = s
                                .companies
                                .values()
                                .filter(|c| c.segment.as_deref() == Some(seg.as_str()));
                            (seg.clone(), Group::of(members))
                        })
                        .collect(),
                    companies: s.companies.clone(),
                })
                .collect(),
        }
    }

    /// The section of one questionnaire version.
    pub fn section(&self, questionnaire: &str, version: &str) -> Option<&PublishedSection> {
        self.sections
            .iter()
            .find(|s| s.questionnaire == questionnaire && s.version == version)
    }
}

/// What one report shows of its peers.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerView {
    /// When that revision was taken (the date the report prints).
    pub as_of: DateTime<Utc>,
    /// The business type compared with, when the segment alone is enough.
    pub segment: Option<String>,
    /// Companies in the group, rounded down to a multiple of [`COUNT_STEP`].
    pub companies: usize,
    /// Average score per domain id, where at least [`MIN_OTHERS`] other companies assessed
    /// the domain.
    pub averages: BTreeMap<String, f64>,
    pub overall_average: Option<f64>,
    /// The reader's rank band: only for the assessment the snapshot holds for its company
    /// (a band for any newly submitted score would let anyone find the scores at the band
    /// edges by submitting chosen answers), when [`MIN_OTHERS`] other companies have an
    /// overall score.
    pub band: Option<Band>,
}

impl PublishedSection {
    /// What the assessment `record` of company `own` (in `own_segment`) may see: its
    /// segment when that alone has [`MIN_OTHERS`] companies besides its own, else all
    /// companies when they have, else nothing. Its company's entry in the snapshot, if any,
    /// is left out of every count and of the ranking, never out of the published averages;
    /// it is ranked only if that entry is this very assessment.
    pub fn view(
        &self,
        own: &CompanyKey,
        record: Uuid,
        own_segment: Option<&str>,
    ) -> Option<PeerView> {
        let mine = self.companies.get(own);
        let others =
            |g: &Group, me: Option<&CompanyScores>| g.companies - usize::from(me.is_some());
        let segment = own_segment.and_then(|s| {
            let (name, g) = self.segments.get_key_value(s)?;
            let me = mine.filter(|m| m.segment.as_deref() == Some(s));
            (others(g, me) >= MIN_OTHERS).then_some((Some(name.clone()), g, me))
        });
        let (segment, group, me) = match segment {
            Some(found) => found,
            None if others(&self.all, mine) >= MIN_OTHERS => (None, &self.all, mine),
            None => return None,
        };
        let averages = group
            .domains
            .iter()
            .filter(|(id, (_, n))| {
                n - usize::from(me.is_some_and(|m| m.domains.contains_key(*id))) >= MIN_OTHERS
            })
            .map(|(id, (sum, n))| (id.clone(), sum / *n as f64))
            .collect();
        let my_overall = me.and_then(|m| m.overall).map(tenths);
        let (sum, n) = group.overall;
        let rated_others = n - usize::from(my_overall.is_some());
        let overall_average = (rated_others >= MIN_OTHERS).then(|| sum / n as f64);
        let held = me.filter(|m| m.record == record).and_then(|m| m.overall);
        let band = held.filter(|_| rated_others >= MIN_OTHERS).map(|o| {
            let t = tenths(o);
            // Its own entry equals `t`, so it is never counted above itself.
            let above = group.tenths.len() - group.tenths.partition_point(|&x| x <= t);
            Band::of(above, rated_others)
        });
        Some(PeerView {
            as_of: self.taken_at,
            segment,
            companies: floor_to_step(group.companies),
            averages,
            overall_average,
            band,
        })
    }
}
