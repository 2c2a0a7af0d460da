//! The questionnaire file format: its types, loading a folder, and validation with precise
//! errors (file, line where known, field).
//!
//! Also parses applicants' input (profile values and answers) against a questionnaire, so
//! the rest of the program only ever sees values that the questionnaire allows.
//! Must not know HTTP or storage.

mod answers;
mod load;
mod model;
mod profile;

pub use answers::{AnswerError, Answers, Choice, NA};
pub use load::{content_hash, load_dir, parse_file, Catalog, Problem};
pub use model::*;
pub use profile::{has_value, parse_profile_value, ProfileError, MAX_TEXT_CHARS};

#[cfg(test)]
mod tests;
