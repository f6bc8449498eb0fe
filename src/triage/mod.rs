//! Deliveries assembled from events: outcomes, expiry linking, causes, re-queue rules.

pub(crate) mod assemble;
pub mod causes;
pub mod requeue;
pub use assemble::Assembler;

/// Share of the queue lifetime after which a still-deferred delivery is "at risk".
pub const AT_RISK_FRACTION: f64 = 0.5;

pub use crate::model::default_queue_lifetime;
