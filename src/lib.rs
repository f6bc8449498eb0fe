//! sendlog: outbound mail failures from sends logs and bounce emails, grouped by enhanced
//! status code, with the real cause behind every expiry.
//!
//! Layering (arrows point one way): `model` is the shared vocabulary (statuses, reasons,
//! delivery and resolution types) with no I/O; `ingest`, `classify`, `pipeline`, `store`, `triage`,
//! `requeue`, `knowledge` never touch the terminal; `store` imports nothing from `triage`,
//! and `triage` nothing from `store`; `app` is pure state; `ui` renders state only;
//! `worker` and `tui` drive them; `cache_hint` and `linear_probing` are leaves anyone may use
//! (they import nothing of ours). README's code map says where to start reading.

pub mod app;
pub mod cache_hint;
pub mod check;
pub mod classify;
pub mod cli;
pub mod ingest;
pub mod knowledge;
pub mod linear_probing;
pub mod model;
pub mod pipeline;
pub mod requeue;
pub mod sanitize;
pub mod store;
pub mod triage;
pub mod tui;
pub mod ui;
pub mod wording;
pub mod worker;
