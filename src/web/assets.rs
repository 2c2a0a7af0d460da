//! Static assets, compiled into the binary so that one file deploys.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The stylesheet of every page (screen and print).
pub const STYLE_CSS: &str = include_str!("../../assets/style.css");

/// The stylesheet's address, versioned by its content so that a browser never keeps an
/// old copy after an upgrade.
pub fn style_href() -> &'static str {
    static HREF: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(STYLE_CSS.as_bytes());
        let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        format!("/assets/style.css?v={hex}")
    });
    &HREF
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/style.css", web::get().to(style));
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(STYLE_CSS)
}
