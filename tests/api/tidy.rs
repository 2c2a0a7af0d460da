//! The module boundaries of ARCHITECTURE.md, checked on the source text (as rust-analyzer's
//! "tidy" tests do): what a module must not import, it does not name.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Every line of the files under `dir` (or the file `dir`) that names one of `forbidden`.
fn offending_lines(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let files = if root.is_dir() {
        rust_files(&root)
    } else {
        vec![root]
    };
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source file");
        for (n, line) in text.lines().enumerate() {
            if forbidden.iter().any(|f| line.contains(f)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_report_never_names_the_store() {
    let found = offending_lines("src/report", &["crate::store", "sled"]);
    assert!(
        found.is_empty(),
        "report reads no storage:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_record_types_know_neither_storage_nor_http() {
    let found = offending_lines(
        "src/record.rs",
        &["crate::store", "sled", "crate::web", "actix"],
    );
    assert!(
        found.is_empty(),
        "record is below store and web:\n{}",
        found.join("\n")
    );
}
