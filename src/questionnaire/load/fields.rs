//! Profile groups and fields of a questionnaire file: unique ids, both languages, known
//! kinds and groups, every group used.

use std::collections::HashSet;

use super::{Checker, RawGroup, RawProfile};
use crate::questionnaire::model::{FieldKind, FieldOption, ProfileField, ProfileGroup};

/// Profile groups and fields, with unique ids, both languages and known groups.
pub(super) fn parse_profile(
    c: &mut Checker,
    raw_groups: &[RawGroup],
    raw_fields: &[RawProfile],
) -> (Vec<ProfileGroup>, Vec<ProfileField>) {
    let mut groups = Vec::new();
    let mut seen = HashSet::new();
    for (i, g) in raw_groups.iter().enumerate() {
        let field = format!("profile_groups[{i}]");
        c.unique(&mut seen, &g.id, format!("{field}.id"));
        let label = c.text(g.label.as_ref(), g.id.span(), &format!("{field}.label"));
        let help = g
            .help
            .as_ref()
            .map(|h| c.text(Some(h), g.id.span(), &format!("{field}.help")));
        groups.push(ProfileGroup {
            id: g.id.get_ref().clone(),
            label,
            help,
        });
    }

    let mut profile = Vec::new();
    let mut seen = HashSet::new();
    for (i, p) in raw_fields.iter().enumerate() {
        let field = format!("profile[{i}]");
        c.unique(&mut seen, &p.id, format!("{field}.id"));
        let label = c.text(p.label.as_ref(), p.id.span(), &format!("{field}.label"));
        let help = p
            .help
            .as_ref()
            .map(|h| c.text(Some(h), p.id.span(), &format!("{field}.help")));
        let kind = FieldKind::parse(p.kind.get_ref()).unwrap_or_else(|| {
            c.report(
                Some(p.kind.span()),
                format!("{field}.kind"),
                "kind must be one of text, number, date, select, multiselect",
            );
            FieldKind::Text
        });
        let mut options = Vec::new();
        let mut seen_opt = HashSet::new();
        for (j, o) in p.options.iter().enumerate() {
            c.unique(&mut seen_opt, &o.id, format!("{field}.options[{j}].id"));
            let label = c.text(
                o.label.as_ref(),
                o.id.span(),
                &format!("{field}.options[{j}].label"),
            );
            options.push(FieldOption {
                id: o.id.get_ref().clone(),
                label,
            });
        }
        if matches!(kind, FieldKind::Select | FieldKind::Multiselect) && options.is_empty() {
            c.report(
                Some(p.kind.span()),
                format!("{field}.options"),
                "a select or multiselect field needs options",
            );
        }
        let group = p.group.as_ref().map(|g| {
            if !groups.iter().any(|x| &x.id == g.get_ref()) {
                c.report(
                    Some(g.span()),
                    format!("{field}.group"),
                    &format!("unknown profile group \"{}\"", g.get_ref()),
                );
            }
            g.get_ref().clone()
        });
        profile.push(ProfileField {
            id: p.id.get_ref().clone(),
            label,
            kind,
            required: p.required,
            options,
            help,
            group,
            application: p.application,
        });
    }
    for (i, g) in groups.iter().enumerate() {
        if !profile
            .iter()
            .any(|f| f.group.as_deref() == Some(g.id.as_str()))
        {
            c.report(
                Some(raw_groups[i].id.span()),
                format!("profile_groups[{i}]"),
                &format!("profile group \"{}\" has no field", g.id),
            );
        }
    }
    (groups, profile)
}
