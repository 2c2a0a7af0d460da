//! shindan: IT liability insurance risk self-assessment.
//!
//! Data flows one way: questionnaire files -> answers -> scores -> stored record -> report.
//! `questionnaire`, `scoring` and `peers` are the pure core, `store` owns sled, `web` owns
//! HTTP.
//! [`startup::Application`] wires them together; `main.rs` and the tests both use it.

pub mod accounts;
pub mod assessment;
pub mod assets;
pub mod config;
pub mod i18n;
pub mod metrics;
pub mod names;
pub mod peers;
pub mod questionnaire;
pub mod record;
pub mod report;
pub mod restore;
pub mod scoring;
pub mod startup;
pub mod store;
pub mod tokens;
pub mod web;
