//! The route that serves the static assets of `crate::assets`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::assets;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/style.css", web::get().to(style));
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(assets::STYLE_CSS)
}
