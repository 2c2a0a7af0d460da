//! The broker pages under `/broker`: sign-in, the portfolio dashboard, invitations, shared
//! reports and a client's history.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
