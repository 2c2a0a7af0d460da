//! The routes that serve the static assets of `crate::assets`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::assets;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/style.css", web::get().to(style))
        .route(assets::FAVICON_PATH, web::get().to(favicon))
        .route("/favicon.ico", web::get().to(favicon));
}

/// The icon's address does not change with its content, so it is kept for a day only.
const ICON_CACHE_CONTROL: &str = "public, max-age=86400";

/// The icon. Browsers take an SVG icon by its content type, whatever the path says.
async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, ICON_CACHE_CONTROL))
        .body(assets::FAVICON_SVG)
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(assets::STYLE_CSS)
}
