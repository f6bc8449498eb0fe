//! Reaching past the store's API, for tests only: to make SQLite fail on purpose, to grow
//! a table for a benchmark, or to hold rows no import would write.

use rusqlite::Connection;

use super::Store;

impl Store {
    /// The connection itself. Not for the program: everything it stores and reads goes
    /// through the store's methods.
    #[doc(hidden)]
    pub fn connection_for_tests(&self) -> &Connection {
        &self.conn
    }

    /// One expired 4.4.7 delivery of message 1 (`Q` on `h`) to `a@b`, whose domain,
    /// sending host, typo suggestion and last deferral are the given text.
    #[cfg(test)]
    pub(crate) fn add_expired_delivery_for_test(
        &self,
        domain: &str,
        host: &str,
        typo_of: &str,
        last_deferral_text: &str,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO messages (id, host, queue_id, first_seen, last_seen, format)
             VALUES (1, 'h', 'Q', 0, 0, 'postfix')",
            [],
        )?;
        self.conn.execute(
            "INSERT INTO deliveries (message_ref, recipient, domain, host, status, code, cause,
               typo_of, attempts, deferrals, last_deferral_text)
             VALUES (1, 'a@b', ?1, ?2, 'expired', '4.4.7', 'networkerror', ?3, 1, 1, ?4)",
            rusqlite::params![domain, host, typo_of, last_deferral_text],
        )?;
        Ok(())
    }
}
