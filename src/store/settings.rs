//! Work an import owes the store after its loads, remembered across a crash.

use rusqlite::OptionalExtension;

use super::load::Load;
use super::{Result, Store};

impl Store {
    /// The delivery id from which an earlier, interrupted import still owes its follow-up
    /// work, if it does; records `first_new` as owed otherwise (the earlier id is kept).
    pub(crate) fn follow_up_owed(&self, first_new: i64) -> Result<Option<i64>> {
        let owed: Option<i64> = self
            .conn
            .query_row(
                "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'follow_up_from'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if owed.is_none() {
            self.conn
                .execute(
                    "INSERT INTO settings (key, value) VALUES ('follow_up_from', ?1)",
                    [first_new.to_string()],
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(owed)
    }

    /// The follow-up work is done.
    pub(crate) fn follow_up_done(&self) -> Result<()> {
        self.conn
            .execute(FOLLOW_UP_DONE, [])
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

impl Load<'_> {
    /// The follow-up work is done in this load's transaction: it commits with it.
    pub(crate) fn follow_up_done(&self) -> Result<()> {
        self.tx
            .execute(FOLLOW_UP_DONE, [])
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

const FOLLOW_UP_DONE: &str = "DELETE FROM settings WHERE key = 'follow_up_from'";
