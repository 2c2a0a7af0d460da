//! Run-time configuration of the server, with the embedded defaults that make
//! `cargo run --release` work with no arguments.

use std::path::PathBuf;

/// Where the server listens when nothing else is said.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The data directory when nothing else is said.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// The questionnaires folder when nothing else is said.
pub const DEFAULT_QUESTIONNAIRES: &str = "./questionnaires";
/// The largest request body accepted, JSON or form.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub data_dir: PathBuf,
    pub questionnaires: PathBuf,
    /// actix worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// The address users reach the site at (`https://shindan.example.jp`), for the private
    /// links shown on pages; `None` takes it from the request.
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: DEFAULT_BIND.into(),
            data_dir: DEFAULT_DATA_DIR.into(),
            questionnaires: DEFAULT_QUESTIONNAIRES.into(),
            workers: None,
            public_url: None,
        }
    }
}
