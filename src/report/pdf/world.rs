//! The typst `World` of one report: the template compiled into the binary, the fonts
//! compiled into the binary, and two virtual files (`data.json`, `radar.svg`). Nothing
//! else exists in it: no file system, no packages, no clock.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The report template.
/// The report template, compiled in.
pub(super) const TEMPLATE: &str = include_str!("../../../assets/report.typ");

/// The font files compiled into the binary (BIZ UDPGothic, OFL-1.1: `assets/fonts/`).
static FONT_FILES: [&[u8]; 2] = [
    include_bytes!("../../../assets/fonts/BIZUDPGothic-Regular.ttf"),
    include_bytes!("../../../assets/fonts/BIZUDPGothic-Bold.ttf"),
];

/// The family name of the embedded fonts, as the template and the radar chart name it.
pub const FONT_FAMILY: &str = "BIZ UDPGothic";

/// The virtual files the template reads.
pub const DATA_FILE: &str = "/data.json";
pub const RADAR_FILE: &str = "/radar.svg";
const MAIN_FILE: &str = "/report.typ";

/// Fonts parsed once per process and shared by every compile.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = FONT_FILES
        .iter()
        .flat_map(|b| Font::iter(Bytes::new(*b)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// The standard library, built once so that typst's caches see the same value from one
/// compile to the next.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

/// The main source, parsed once.
static MAIN: LazyLock<Source> = LazyLock::new(|| Source::new(file_id(MAIN_FILE), TEMPLATE.into()));

fn file_id(path: &str) -> FileId {
    // The paths are the constants above: always valid.
    let vpath = VirtualPath::new(path).unwrap_or_else(|_| unreachable!("fixed path {path}"));
    FileId::new(RootedPath::new(VirtualRoot::Project, vpath))
}

/// One compile's world: the shared template, library and fonts, and this report's files.
pub struct ReportWorld {
    files: [(FileId, Bytes); 2],
}

impl ReportWorld {
    pub fn new(data_json: Vec<u8>, radar_svg: Vec<u8>) -> Self {
        ReportWorld {
            files: [
                (file_id(DATA_FILE), Bytes::new(data_json)),
                (file_id(RADAR_FILE), Bytes::new(radar_svg)),
            ],
        }
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        MAIN.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == MAIN.id() {
            Ok(MAIN.clone())
        } else {
            // One source file: an `#import` or `#include` is refused.
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
            .iter()
            .find(|(f, _)| *f == id)
            .map(|(_, b)| b.clone())
            .ok_or(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // A report shows its assessment's date, passed in the data; same input, same bytes.
        None
    }
}
