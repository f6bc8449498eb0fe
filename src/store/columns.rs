//! How the model's enums sit in a column: as their names, the same text the CLI prints
//! and a user types. A value outside the enum (a store edited by hand) is an error when
//! read, not a guess.
//!
//! Fixed queries still spell `status != 'sent'` in their text: SQLite reads a partial
//! index (`WHERE status != 'sent'`) only for a query whose own condition matches it, which
//! a bound parameter never does.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::model::{AttemptStatus, DeliveryStatus, Reason};

fn parse<T: std::str::FromStr>(v: ValueRef<'_>) -> FromSqlResult<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    v.as_str()?
        .parse()
        .map_err(|e| FromSqlError::Other(Box::new(e)))
}

impl ToSql for DeliveryStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for DeliveryStatus {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        parse(v)
    }
}

impl ToSql for AttemptStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for AttemptStatus {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let status: DeliveryStatus = parse(v)?;
        AttemptStatus::try_from(status)
            .map_err(|s| FromSqlError::Other(format!("an attempt cannot be {s}").into()))
    }
}

impl ToSql for Reason {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for Reason {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        parse(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_a_column_and_refuse_strangers() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        for s in DeliveryStatus::ALL {
            let back: DeliveryStatus = c.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, s);
        }
        for r in Reason::ALL {
            let back: Reason = c.query_row("SELECT ?1", [r], |x| x.get(0)).unwrap();
            assert_eq!(back, r);
        }
        let odd: rusqlite::Result<DeliveryStatus> = c.query_row("SELECT 'lost'", [], |r| r.get(0));
        assert!(odd.is_err());
        let expired: rusqlite::Result<AttemptStatus> =
            c.query_row("SELECT 'expired'", [], |r| r.get(0));
        assert!(expired.is_err());
    }
}
