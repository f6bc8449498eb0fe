//! Documented reply texts per reason (case-insensitive regexes), kept by reason family.
//! A reason's texts are only consulted where the rules' decision order asks for them.

mod content;
mod recipient;
mod sender;
mod transport;

use crate::model::Reason;

/// Every family's table; each reason appears in exactly one.
pub(super) const FAMILIES: &[&[(Reason, &[&str])]] = &[
    recipient::PHRASES,
    sender::PHRASES,
    content::PHRASES,
    transport::PHRASES,
];
