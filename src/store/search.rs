//! Global search: every delivery of every status, by recipient, sender, domain, queue id,
//! Message-ID, subject and reply text, through the `search` FTS5 index (a schema migration), with
//! `status:` and `code:` read from the deliveries themselves so they are always current.
//! Newest first, keyset paged on the delivery id like the other lists.

use rusqlite::types::Value;

use super::load::Load;
use super::{Result, Store};
use crate::model::DeliveryStatus;
pub use crate::model::delivery::SearchHit;

/// One field a term is looked for in, as the index's column filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    To,
    From,
    Id,
    Subject,
    Reply,
}

impl Field {
    fn columns(self) -> &'static str {
        match self {
            Field::To => "recipient",
            Field::From => "sender",
            Field::Id => "ids",
            Field::Subject => "subject",
            Field::Reply => "reply",
        }
    }
}

/// A query as typed, read: words for the index, statuses and codes for the deliveries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// The FTS5 match expression, built from the words alone (never the user's syntax), or
    /// None when the query names only statuses or codes.
    matching: Option<String>,
    statuses: Vec<DeliveryStatus>,
    /// `5` matches 5.x.x, `5.7` matches 5.7.x, `5.7.1` itself.
    codes: Vec<String>,
}

/// Why a query cannot run, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "nothing to search for: give a word, or to:, from:, id:, subject:, reply:, status:, code:"
    )]
    Empty,
    #[error("{0:?} is no status: use sent, deferred, bounced or expired")]
    Status(String),
    #[error("{0:?} is no status code: use one such as 5.7.1, 5.7 or 5")]
    Code(String),
}

/// The words of a value as the index's tokenizer sees them: runs of letters and digits.
fn words(value: &str) -> Vec<&str> {
    value
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// A value as one phrase whose last word is a prefix, so `jane@exa` finds
/// jane@example.com. The words are letters and digits only, so quoting them is enough to
/// keep every FTS5 operator out.
fn phrase(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    format!("{} *", quoted.join(" + "))
}

impl SearchQuery {
    pub fn parse(text: &str) -> std::result::Result<SearchQuery, QueryError> {
        let mut query = SearchQuery::default();
        let mut terms: Vec<String> = Vec::new();
        for token in text.split_whitespace() {
            let (field, value) = match token.split_once(':') {
                Some((prefix, value)) => match prefix.to_ascii_lowercase().as_str() {
                    "to" | "domain" => (Some(Field::To), value),
                    "from" => (Some(Field::From), value),
                    "id" => (Some(Field::Id), value),
                    "subject" => (Some(Field::Subject), value),
                    "reply" => (Some(Field::Reply), value),
                    "status" => {
                        let status = value
                            .trim()
                            .to_ascii_lowercase()
                            .parse()
                            .map_err(|_| QueryError::Status(value.to_string()))?;
                        query.statuses.push(status);
                        continue;
                    }
                    "code" => {
                        let code = value.trim();
                        let parts: Vec<&str> = code.split('.').collect();
                        let well_formed = parts.len() <= 3
                            && matches!(parts[0], "2" | "4" | "5")
                            && parts.iter().all(|p| {
                                !p.is_empty()
                                    && p.len() <= 3
                                    && p.bytes().all(|b| b.is_ascii_digit())
                            });
                        if !well_formed {
                            return Err(QueryError::Code(value.to_string()));
                        }
                        query.codes.push(code.to_string());
                        continue;
                    }
                    // A colon in a reply ("host:25") or a word is part of the word.
                    _ => (None, token),
                },
                None => (None, token),
            };
            let ws = words(value);
            if ws.is_empty() {
                continue;
            }
            terms.push(match field {
                Some(f) => format!("{{{}}} : ({})", f.columns(), phrase(&ws)),
                None => format!("({})", phrase(&ws)),
            });
        }
        if terms.is_empty() && query.statuses.is_empty() && query.codes.is_empty() {
            return Err(QueryError::Empty);
        }
        if !terms.is_empty() {
            query.matching = Some(terms.join(" AND "));
        }
        Ok(query)
    }
}

/// Deliveries a search by status or code alone reads in id order before it turns to the
/// index (see `Store::search`).
const NEWEST_READ_FIRST: i64 = 20_000;

const HIT_COLUMNS: &str = "d.id, d.recipient, m.sender, m.queue_id, m.message_id, m.subject,
     d.status, d.code, d.last_attempt, coalesce(d.final_text, d.last_deferral_text)";

impl Store {
    /// Up to `limit` deliveries matching `query`, newest first, with ids below `before`
    /// (the last id of the previous page; None for the first).
    pub fn search(
        &self,
        query: &SearchQuery,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<SearchHit>> {
        self.search_reading_first(query, before, limit, NEWEST_READ_FIRST)
    }

    /// `search`, reading `newest` deliveries in id order first when the query has no words.
    fn search_reading_first(
        &self,
        query: &SearchQuery,
        before: Option<i64>,
        limit: u32,
        newest: i64,
    ) -> Result<Vec<SearchHit>> {
        // The statement's shape depends on how many statuses and codes were given; every
        // value in it is bound.
        let mut params: Vec<Value> = vec![
            Value::Integer(before.unwrap_or(i64::MAX)),
            Value::Integer(i64::from(limit)),
        ];
        let mut filters = String::new();
        if !query.statuses.is_empty() {
            let mut marks = Vec::new();
            for s in &query.statuses {
                params.push(Value::Text(s.as_str().to_string()));
                marks.push(format!("?{}", params.len()));
            }
            filters.push_str(&format!(" AND d.status IN ({})", marks.join(", ")));
        }
        if !query.codes.is_empty() {
            let mut alternatives = Vec::new();
            for c in &query.codes {
                params.push(Value::Text(c.clone()));
                let n = params.len();
                alternatives.push(format!("d.code = ?{n} OR d.code GLOB ?{n} || '.*'"));
            }
            filters.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
        }
        let run = |sql: &str, params: &[Value]| -> rusqlite::Result<Vec<SearchHit>> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok(SearchHit {
                    id: r.get(0)?,
                    recipient: r.get(1)?,
                    sender: r.get(2)?,
                    queue_id: r.get(3)?,
                    message_id: r.get(4)?,
                    subject: r.get(5)?,
                    status: r.get(6)?,
                    code: r.get(7)?,
                    last_attempt: r.get(8)?,
                    reply: r.get(9)?,
                })
            })?;
            rows.collect()
        };
        let through_index = format!(
            "SELECT {HIT_COLUMNS} FROM deliveries d
             JOIN messages m ON m.id = d.message_ref
             WHERE d.id < ?1{filters} ORDER BY d.id DESC LIMIT ?2"
        );
        let search = || -> rusqlite::Result<Vec<SearchHit>> {
            if let Some(m) = &query.matching {
                let mut params = params.clone();
                params.push(Value::Text(m.clone()));
                let sql = format!(
                    "SELECT {HIT_COLUMNS} FROM search
                     JOIN deliveries d ON d.id = search.rowid
                     JOIN messages m ON m.id = d.message_ref
                     WHERE search MATCH ?{} AND search.rowid < ?1{filters}
                     ORDER BY search.rowid DESC LIMIT ?2",
                    params.len()
                );
                return run(&sql, &params);
            }
            // Statuses and codes alone. Through the status index SQLite reads every row of
            // the status and sorts them, which for a common one (`status:sent`, nine rows
            // in ten) is the whole store: seconds on a million. So the newest deliveries
            // are read first, in id order, where a common status fills the page at once;
            // what that window does not fill comes through the index from below it, where a
            // rare status has few rows to read.
            let window = format!(
                "SELECT {HIT_COLUMNS}
                 FROM (SELECT id, message_ref, recipient, status, code, last_attempt, final_text,
                              last_deferral_text
                       FROM deliveries WHERE id < ?1 ORDER BY id DESC LIMIT {newest}) d
                 JOIN messages m ON m.id = d.message_ref
                 WHERE 1{filters} ORDER BY d.id DESC LIMIT ?2"
            );
            let mut hits = run(&window, &params)?;
            if hits.len() >= limit as usize {
                return Ok(hits);
            }
            let (lowest, read): (Option<i64>, i64) = self.conn.query_row(
                &format!(
                    "SELECT min(id), count(*) FROM
                     (SELECT id FROM deliveries WHERE id < ?1 ORDER BY id DESC LIMIT {newest})"
                ),
                [&params[0]],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if let Some(lowest) = lowest.filter(|_| read == newest) {
                let mut rest = params.clone();
                rest[0] = Value::Integer(lowest);
                rest[1] = Value::Integer(i64::from(limit) - hits.len() as i64);
                hits.extend(run(&through_index, &rest)?);
            }
            Ok(hits)
        };
        search().map_err(|e| self.err(e))
    }
}

/// The highest delivery id the search index holds: every delivery above it is still to be
/// indexed, none at or below it is (a rewritten delivery takes its index row with it, see
/// `MessageWriter`), so this one number says what the index lacks.
const INDEXED_UP_TO: &str = "coalesce((SELECT rowid FROM search ORDER BY rowid DESC LIMIT 1), 0)";

/// Adds the deliveries above `INDEXED_UP_TO` to the search index in id order, at most
/// `at_most` of them (all with None), in one insert-select; how many.
fn index_new_deliveries(
    conn: &rusqlite::Connection,
    at_most: Option<u64>,
) -> rusqlite::Result<u64> {
    let limit = at_most.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
    conn.execute(
        &format!(
            "INSERT INTO search(rowid, recipient, sender, ids, subject, reply)
             SELECT d.id,
                    d.recipient || ' ' || coalesce(d.orig_recipient, ''),
                    coalesce(m.sender, ''),
                    m.queue_id || ' ' || coalesce(m.message_id, ''),
                    coalesce(m.subject, ''),
                    concat_ws(' ', d.final_text, d.last_deferral_text)
             FROM deliveries d JOIN messages m ON m.id = d.message_ref
             WHERE d.id > {INDEXED_UP_TO}
             ORDER BY d.id LIMIT ?1"
        ),
        [limit],
    )
    .map(|n| n as u64)
}

/// Whether deliveries are missing from the search index.
pub(super) fn search_index_behind(conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM deliveries WHERE id > {INDEXED_UP_TO})"),
        [],
        |r| r.get(0),
    )
}

impl Store {
    /// How many deliveries the search index does not hold yet: a bulk load leaves them to
    /// the first search (`catch_up_search_index`).
    pub fn search_index_lag(&self) -> Result<u64> {
        self.conn
            .query_row(
                &format!("SELECT count(*) FROM deliveries WHERE id > {INDEXED_UP_TO}"),
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Whether the search index lacks deliveries (cheaper than counting them).
    pub fn search_index_behind(&self) -> Result<bool> {
        search_index_behind(&self.conn).map_err(|e| self.err(e))
    }

    /// Indexes the deliveries a bulk load left out, the oldest first, at most `at_most` of
    /// them (all with None), in one transaction; how many.
    pub fn catch_up_search_index(&mut self, at_most: Option<u64>) -> Result<u64> {
        let path = self.path.clone();
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<u64> {
            let tx = conn.transaction()?;
            let added = index_new_deliveries(&tx, at_most)?;
            tx.commit()?;
            Ok(added)
        };
        run(&mut self.conn).map_err(|e| super::sql_error(&path, e))
    }
}

impl Load<'_> {
    /// Adds what this load wrote and did not index row by row (a bounce joined to its
    /// delivery, a follow-up's rewrite) to the search index — when the index is kept current
    /// during this load at all (`Load::indexes_search`).
    pub(crate) fn index_for_search(&self) -> Result<()> {
        if !self.indexes_search {
            return Ok(());
        }
        index_new_deliveries(&self.tx, None)
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_alone_page_the_same_whether_the_window_fills_the_page_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db").display().to_string();
        let mut store = Store::open(&path).unwrap();
        let log = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/postfix/postfix_log_analysis__mail2.log"
        );
        crate::pipeline::import_files(
            &mut store,
            &[log.to_string()],
            &crate::pipeline::ImportOptions {
                year: Some(2015),
                ..Default::default()
            },
            &mut |_| {},
        )
        .unwrap();
        let ids = |q: &str, window: i64, limit: u32| -> Vec<i64> {
            let q = SearchQuery::parse(q).unwrap();
            let mut all = Vec::new();
            let mut before = None;
            loop {
                let page = store
                    .search_reading_first(&q, before, limit, window)
                    .unwrap();
                all.extend(page.iter().map(|h| h.id));
                if page.len() < limit as usize {
                    return all;
                }
                before = page.last().map(|h| h.id);
            }
        };
        for q in [
            "status:sent",
            "status:bounced",
            "status:expired status:deferred",
            "code:5",
            "code:4.4.7",
        ] {
            // The whole store at once (the window covers it), against windows that fill a
            // page, or fall short of one, or hold nothing that matches.
            let whole = ids(q, 1_000_000, 100_000);
            assert!(!whole.is_empty(), "{q}");
            assert!(whole.windows(2).all(|w| w[0] > w[1]), "{q}");
            for (window, limit) in [(1, 7), (7, 7), (50, 3), (3, 50), (200, 1)] {
                assert_eq!(
                    ids(q, window, limit),
                    whole,
                    "{q} window {window} limit {limit}"
                );
            }
        }
    }

    #[test]
    fn words_become_quoted_phrases_and_operators_stay_out() {
        let q = SearchQuery::parse("to:jane@exa \"OR\" NEAR(x) status:Bounced code:5.7").unwrap();
        assert_eq!(
            q.matching.as_deref(),
            Some("{recipient} : (\"jane\" + \"exa\" *) AND (\"OR\" *) AND (\"NEAR\" + \"x\" *)")
        );
        assert_eq!(q.statuses, vec![DeliveryStatus::Bounced]);
        assert_eq!(q.codes, vec!["5.7".to_string()]);
    }

    #[test]
    fn bad_statuses_codes_and_empty_queries_are_refused() {
        assert_eq!(SearchQuery::parse("  "), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("to:@@"), Err(QueryError::Empty));
        assert!(matches!(
            SearchQuery::parse("status:lost"),
            Err(QueryError::Status(_))
        ));
        assert!(matches!(
            SearchQuery::parse("code:9.9.9"),
            Err(QueryError::Code(_))
        ));
        assert!(matches!(
            SearchQuery::parse("code:5.7.1.1"),
            Err(QueryError::Code(_))
        ));
        // An unknown prefix is part of the word.
        assert!(SearchQuery::parse("host:25").unwrap().matching.is_some());
    }
}
