//! Deliveries assembled from events: outcomes, expiry linking, causes, re-queue rules.

pub mod assemble;
pub mod basket;
pub mod causes;
pub mod requeue;
pub mod requeue_export;
pub use assemble::{
    Assembler, AttemptRecord, DeliveryRow, DeliveryState, MessageSink, MessageState, SETTLED_KEPT,
    SourceRef,
};

/// Share of the queue lifetime after which a still-deferred delivery is "at risk".
pub const AT_RISK_FRACTION: f64 = 0.5;

/// The MTA's default queue lifetime, in seconds: how long a deferred message is retried
/// before it expires (Postfix `maximal_queue_lifetime` 5d, Exchange 2d, Exim's default
/// retry rule 4d).
pub fn default_queue_lifetime(format: &str) -> i64 {
    match format {
        "exchange" | "m365" => 2 * 86_400,
        "exim" => 4 * 86_400,
        _ => 5 * 86_400,
    }
}
