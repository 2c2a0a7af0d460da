//! Company profile values: parsed against the field's kind into one canonical JSON form
//! (text and dates as strings, numbers as numbers, selects as option ids).

use chrono::NaiveDate;
use serde_json::Value;
use thiserror::Error;

use super::model::{FieldKind, ProfileField};

/// The longest text a profile field accepts, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Why a profile value does not fit its field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProfileError {
    #[error("must be a text of at most {MAX_TEXT_CHARS} characters")]
    Text,
    #[error("must be a number, 0 or more")]
    Number,
    #[error("must be a date written YYYY-MM-DD")]
    Date,
    #[error("must be one of the field's options")]
    Select,
    #[error("must be a list of the field's options")]
    Multiselect,
}

/// Whether a stored profile value counts as answered: an empty list (a multiselect with
/// nothing ticked) does not.
pub fn has_value(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => true,
    }
}

/// Parses a value for a field. `Ok(None)` means "no value" (an empty string or `null`),
/// which clears an optional field.
pub fn parse_profile_value(
    field: &ProfileField,
    value: &Value,
) -> Result<Option<Value>, ProfileError> {
    if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
        return Ok(None);
    }
    match field.kind {
        FieldKind::Text => match value {
            Value::String(s) if s.chars().count() <= MAX_TEXT_CHARS && !s.contains('\0') => {
                Ok(Some(Value::String(s.trim().to_string())))
            }
            _ => Err(ProfileError::Text),
        },
        FieldKind::Number => {
            let n = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().replace([',', '_'], "").parse::<f64>().ok(),
                _ => None,
            };
            // Profile numbers count things (staff, revenue, customers): never below zero.
            match n.filter(|n| n.is_finite() && *n >= 0.0) {
                // Whole numbers stay integers, so "30" reads back as 30, not 30.0.
                Some(n) if n.fract() == 0.0 && n < 9.0e15 => {
                    Ok(Some(Value::Number((n as i64).into())))
                }
                Some(n) => serde_json::Number::from_f64(n)
                    .map(|n| Some(Value::Number(n)))
                    .ok_or(ProfileError::Number),
                None => Err(ProfileError::Number),
            }
        }
        FieldKind::Date => match value {
            Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map(|d| Some(Value::String(d.format("%Y-%m-%d").to_string())))
                .map_err(|_| ProfileError::Date),
            _ => Err(ProfileError::Date),
        },
        FieldKind::Select => match value {
            Value::String(s) if field.options.iter().any(|o| &o.id == s) => {
                Ok(Some(Value::String(s.clone())))
            }
            _ => Err(ProfileError::Select),
        },
        FieldKind::Multiselect => {
            let Value::Array(items) = value else {
                return Err(ProfileError::Multiselect);
            };
            let mut chosen = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) if field.options.iter().any(|o| o.id == s) => chosen.push(s),
                    _ => return Err(ProfileError::Multiselect),
                }
            }
            // Canonical order: the field's option order, each once.
            let canonical: Vec<Value> = field
                .options
                .iter()
                .filter(|o| chosen.contains(&o.id.as_str()))
                .map(|o| Value::String(o.id.clone()))
                .collect();
            Ok(Some(Value::Array(canonical)))
        }
    }
}
