//! The report as a PDF file, typeset in-process by typst: the same content as the printed
//! page (`page.rs` with the print stylesheet), for brokers' systems that file reports with
//! proposals. The template (`assets/report.typ`) reads every text from a JSON file built
//! here (`data.rs`), one string per paragraph, and never from generated markup, so no
//! text can be read as typst syntax; the fonts are compiled into the binary.
//!
//! Pure like the rest of `report`: no I/O, no clock; the same input gives the same bytes.

mod data;
mod world;

use std::sync::atomic::{AtomicUsize, Ordering};

use typst::diag::{SourceDiagnostic, Warned};
use typst::foundations::Smart;
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use super::analysis::Analysis;
use crate::i18n::Lang;
use crate::record::AssessmentRecord;

pub use world::FONT_FAMILY;

/// The SHA-256 of the template, for the PDF's ETag: a changed template changes the PDF,
/// even within one release. Computed once.
pub fn template_digest() -> &'static [u8] {
    use sha2::{Digest, Sha256};
    static DIGEST: std::sync::LazyLock<[u8; 32]> =
        std::sync::LazyLock::new(|| Sha256::digest(world::TEMPLATE).into());
    DIGEST.as_slice()
}

/// What the PDF needs: what the page needs, less its links.
pub struct ReportPdf<'a> {
    pub lang: Lang,
    pub analysis: &'a Analysis<'a>,
    pub record: &'a AssessmentRecord,
    /// The radar chart (SVG markup, from [`super::radar_svg`]).
    pub radar: &'a str,
}

/// Typesetting failed: a bug in the template or its data, never the user's text.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the report template did not compile: {0}")]
    Compile(String),
    #[error("the report could not be written as PDF: {0}")]
    Export(String),
    #[error("the report data could not be encoded: {0}")]
    Data(#[from] serde_json::Error),
}

/// Typesets the report as an A4 PDF.
pub fn render(p: &ReportPdf) -> Result<Vec<u8>, PdfError> {
    let data = serde_json::to_vec(&data::build(p))?;
    let world = world::ReportWorld::new(data, radar_for_pdf(p.radar).into_bytes());
    let ident = format!("shindan-report-{}-{}", p.record.id, p.lang.code());
    // Counted until the function returns, also when the compile panics.
    let _running = Running::start();
    compile(&world, ident)
}

/// Compiles running at this moment, in every thread.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
/// Compiles finished since typst's memoisation was last evicted.
static SINCE_EVICTION: AtomicUsize = AtomicUsize::new(0);
/// Compiles after which the memoisation is evicted even though another compile is running.
const EVICT_AT_LEAST_EVERY: usize = 4;

/// One compile, counted while it runs. typst memoises every compile in one cache per
/// process; without eviction memory grows by megabytes with each report (200 reports in a
/// row took the server to 924 MiB). Reports share almost nothing it memoises (their data
/// differs from the first file read on): keeping the last 8 compiles' results made a new
/// report slower, 47 ms instead of 41 (`cargo bench --bench core -- report/pdf`). So the
/// cache is emptied when the last running compile ends, where it would not empty it under
/// another compile (which lays its pages out more than once), and at least every
/// [`EVICT_AT_LEAST_EVERY`] compiles while compiles overlap without pause.
struct Running;

impl Running {
    fn start() -> Self {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let others = RUNNING.fetch_sub(1, Ordering::SeqCst) - 1;
        let since = SINCE_EVICTION.fetch_add(1, Ordering::SeqCst) + 1;
        if others == 0 || since >= EVICT_AT_LEAST_EVERY {
            SINCE_EVICTION.store(0, Ordering::SeqCst);
            typst::comemo::evict(0);
        }
    }
}

fn compile(world: &world::ReportWorld, ident: String) -> Result<Vec<u8>, PdfError> {
    let Warned { output, .. } = typst::compile::<PagedDocument>(world);
    let document = output.map_err(|e| PdfError::Compile(describe(&e)))?;
    let options = PdfOptions {
        ident: Smart::Custom(ident),
        creator: Smart::Custom(Some("shindan".into())),
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|e| PdfError::Export(describe(&e)))
}

/// The chart names web fonts the PDF does not have: it names the embedded one first, so
/// its labels are typeset with the same face as the text around it.
fn radar_for_pdf(svg: &str) -> String {
    svg.replace("font-family=\"", &format!("font-family=\"{FONT_FAMILY}, "))
}

fn describe(diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| d.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
