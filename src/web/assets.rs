//! Static assets, compiled into the binary so that one file deploys.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The stylesheet of every page (screen and print).
pub const STYLE_CSS: &str = include_str!("../../assets/style.css");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/style.css", web::get().to(style));
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLE_CSS)
}
