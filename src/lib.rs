//! sendlog: outbound mail failures from sends logs and bounce emails, grouped by enhanced
//! status code, with the real cause behind every expiry.
//!
//! Layering (arrows point one way): `ingest`, `classify`, `pipeline`, `store`, `triage`,
//! `knowledge` never touch the terminal; `app` is pure state; `ui` renders state only;
//! `worker` and `tui` drive them. README's code map says where to start reading.

pub mod app;
pub mod classify;
pub mod cli;
pub mod ingest;
pub mod knowledge;
pub mod pipeline;
pub mod sanitize;
pub mod store;
pub mod triage;
pub mod tui;
pub mod ui;
pub mod wording;
pub mod worker;
