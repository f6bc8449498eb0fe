//! The vocabulary every other module speaks: delivery and attempt statuses, reasons,
//! and the shapes of deliveries, attempts, causes and resolutions. No I/O here: the
//! store maps these types to columns, the screens and the CLI render them.
//!
//! The spelling of each status and reason (as stored, exported and typed by a user)
//! lives here and nowhere else.

pub mod cause;
pub mod check;
pub mod delivery;
pub mod message;
pub mod reason;
pub mod report;
pub mod resend;
pub mod status;
pub mod time;

pub use cause::{FailedRow, WIDESPREAD_MIN_DOMAINS};
pub use message::{
    AttemptKey, AttemptRecord, DeliveryOutcome, DeliveryState, MessageSink, MessageState,
    RecipientIndex, SETTLED_KEPT, SourceRef, default_queue_lifetime,
};
pub use reason::{Reason, UnknownReason};
pub use resend::{Candidate, Resolution, destination_matches, host_matches};
pub use status::{AttemptStatus, DeliveryStatus, UnknownStatus};
