//! Black-box tests: the real application on a random port, spoken to over HTTP.

mod abuse;
mod bad_input;
mod broker_api;
mod broker_cli;
mod broker_pages;
mod crash;
mod headers;
mod helpers;
mod html_flow;
mod json_flow;
mod metrics;
mod openapi;
mod pdf;
mod peers;
mod private_files;
mod process;
mod questionnaires;
mod report;
mod restore;
mod storage_faults;
mod tidy;
mod versions;
