//! Static assets (the stylesheet and the icon), compiled into the binary so that one file deploys.
//! Shared by the pages of `web` and the self-contained report file of `report`.

/// The stylesheet of every page (screen and print).
pub const STYLE_CSS: &str = include_str!("../assets/style.css");

/// The stylesheet's address, versioned by its content so that a browser never keeps an
/// old copy after an upgrade.
pub fn style_href() -> &'static str {
    static HREF: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(STYLE_CSS.as_bytes());
        format!("/assets/style.css?v={}", hex::encode(&digest[..6]))
    });
    &HREF
}

/// The site's icon (SVG), served at [`FAVICON_PATH`] and at `/favicon.ico`, where browsers
/// look for it by default.
pub const FAVICON_SVG: &str = include_str!("../assets/favicon.svg");

/// The icon's address, named by every page.
pub const FAVICON_PATH: &str = "/assets/favicon.svg";
