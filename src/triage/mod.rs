//! Deliveries assembled from events: outcomes, expiry linking, causes.

pub mod assemble;
pub use assemble::{
    Assembler, AttemptRecord, DeliveryRow, DeliveryState, MessageSink, MessageState, SourceRef,
};

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
