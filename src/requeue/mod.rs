//! The re-send workflow's services, between the pure rules (`triage`) and the store: the
//! basket (judging, resolving, marking and exporting against the store) and the export
//! writers (the files and scripts a batch becomes).

pub mod basket;
pub mod export;
