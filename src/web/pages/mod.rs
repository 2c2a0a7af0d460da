//! Page markup: plain functions returning maud `Markup`, testable without a server.
//! maud escapes every interpolated value, so user text can never become markup.

pub mod broker;
pub mod error;
pub mod landing;
pub mod layout;
pub mod report;
pub mod steps;
