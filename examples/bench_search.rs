//! Latency of search, of a group's second level and of its causes on a store (benches/search.sh
//! makes one of ~1 M deliveries), each against a baseline measured first in the same run: for
//! search, the substring scan a search without the index would be; for the second level and
//! the causes, the same query with SQLite told not to use the failed-deliveries indexes.
//! Also what the search index costs an import: building it for every delivery of the store.
//!
//!   bench_search --db STORE [--groups-only]
//!
//! `--groups-only` measures the second level and causes alone: for a store whose biggest
//! group was grown by copying its rows (benches/search.sh does it with bench_tui), whose
//! copies the search index does not hold.

use std::time::Instant;

use rusqlite::{Connection, OpenFlags};
use sendlog::store::Store;
use sendlog::store::browse::Dimension;
use sendlog::store::search::SearchQuery;

const RUNS: usize = 7;

/// The median of `RUNS` timings, in milliseconds.
fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..RUNS)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[RUNS / 2]
}

fn plan(conn: &Connection, sql: &str, params: &[&dyn rusqlite::ToSql]) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = stmt
        .query_map(params, |r| r.get::<_, String>(3))
        .unwrap()
        .map(|r| r.unwrap())
        .collect::<Vec<_>>();
    rows.join("; ")
}

fn count(conn: &Connection, sql: &str, params: &[&dyn rusqlite::ToSql]) -> i64 {
    conn.query_row(sql, params, |r| r.get(0)).unwrap()
}

fn line(what: &str, baseline: f64, now: f64) {
    println!(
        "{what:<44} baseline {baseline:>9.2} ms   now {now:>8.2} ms   {:>7.1}× faster",
        baseline / now.max(0.001)
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let db = match (args.next().as_deref(), args.next()) {
        (Some("--db"), Some(db)) => db,
        _ => {
            eprintln!("usage: bench_search --db STORE [--groups-only]");
            std::process::exit(2);
        }
    };
    let groups_only = args.next().as_deref() == Some("--groups-only");
    let store = Store::open(&db).expect("open store");
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let deliveries = count(&conn, "SELECT count(*) FROM deliveries", &[]);
    println!("store: {db}, {deliveries} deliveries");

    // A recipient and a queue id from the middle of the store, the biggest failed code and its
    // biggest domain.
    let (recipient, queue_id): (String, String) = conn
        .query_row(
            "SELECT d.recipient, m.queue_id FROM deliveries d JOIN messages m ON m.id = d.message_ref
             WHERE d.id >= (SELECT max(id) / 2 FROM deliveries) ORDER BY d.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let code: String = conn
        .query_row(
            "SELECT code FROM deliveries WHERE status != 'sent' GROUP BY code ORDER BY count(*) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let group_rows = count(
        &conn,
        "SELECT count(*) FROM deliveries WHERE status != 'sent' AND code = ?1",
        &[&code],
    );
    println!(
        "recipient {recipient}, queue id {queue_id}, biggest failed code {code} ({group_rows} failed deliveries)"
    );
    if !groups_only {
        bench_search(&store, &conn, &recipient, &queue_id, &code);
    }
    bench_groups(&store, &conn, &code);
    if !groups_only {
        bench_index_cost(&db, deliveries);
    }
}

fn bench_search(store: &Store, conn: &Connection, recipient: &str, queue_id: &str, code: &str) {
    // Search: the scan over every delivery a LIKE would make, against the index.
    let like = format!("%{recipient}%");
    let scan_sql = "SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.message_ref
         WHERE d.recipient LIKE ?1 OR m.sender LIKE ?1 OR m.queue_id LIKE ?1
            OR m.message_id LIKE ?1 OR m.subject LIKE ?1 OR d.final_text LIKE ?1
         ORDER BY d.id DESC LIMIT 50";
    let base = median_ms(|| {
        let mut s = conn.prepare_cached(scan_sql).unwrap();
        let n = s
            .query_map([&like], |r| r.get::<_, i64>(0))
            .unwrap()
            .count();
        assert!(n > 0);
    });
    for q in [
        recipient.to_string(),
        format!("to:{recipient}"),
        format!("id:{queue_id}"),
        "reply:timed out".to_string(),
        format!("status:bounced code:{}", &code[..1]),
        format!("{} status:sent", recipient.split('@').nth(1).unwrap_or("x")),
    ] {
        let parsed = SearchQuery::parse(&q).unwrap();
        let mut hits = 0;
        let now = median_ms(|| {
            hits = store.search(&parsed, None, 50).unwrap().len();
        });
        line(&format!("search {q:?} ({hits} on page 1)"), base, now);
        // The next page, from the last id of the first.
        if let Some(last) = store.search(&parsed, None, 50).unwrap().last() {
            let id = last.id;
            let now = median_ms(|| {
                store.search(&parsed, Some(id), 50).unwrap();
            });
            line("  its second page", base, now);
        }
    }

    println!(
        "plan, search: {}",
        plan(
            conn,
            "SELECT rowid FROM search WHERE search MATCH ?1 AND rowid < ?2 ORDER BY rowid DESC LIMIT 50",
            &[&"\"timed\" + \"out\" *", &i64::MAX]
        )
    );
}

fn bench_groups(store: &Store, conn: &Connection, code: &str) {
    // Second level and causes: the store's own queries against the same with SQLite kept off
    // the failed-deliveries indexes (NOT INDEXED), i.e. a scan of the table.
    let scans = [
        (
            "second level by domain",
            "SELECT domain, count(*) FROM deliveries NOT INDEXED WHERE status != 'sent' AND code = ?1
             GROUP BY domain ORDER BY count(*) DESC, domain LIMIT 200",
        ),
        (
            "causes",
            "SELECT cause, count(*) FROM deliveries NOT INDEXED WHERE status != 'sent' AND code = ?1
             GROUP BY cause ORDER BY count(*) DESC, cause",
        ),
    ];
    let base_level = median_ms(|| {
        conn.prepare_cached(scans[0].1)
            .unwrap()
            .query_map([code], |_| Ok(()))
            .unwrap()
            .for_each(drop)
    });
    let base_causes = median_ms(|| {
        conn.prepare_cached(scans[1].1)
            .unwrap()
            .query_map([code], |_| Ok(()))
            .unwrap()
            .for_each(drop)
    });
    for dim in [Dimension::Domain, Dimension::Provider, Dimension::Host] {
        let now = median_ms(|| {
            store.breakdown(code, dim, 200).unwrap();
        });
        line(
            &format!("second level of {code} by {dim:?}"),
            base_level,
            now,
        );
    }
    let now = median_ms(|| {
        store.causes_of(code).unwrap();
    });
    line(&format!("causes of {code}"), base_causes, now);
    println!(
        "plan, causes: {}",
        plan(
            conn,
            "SELECT cause, count(*) FROM deliveries WHERE status != 'sent' AND code = ?1 GROUP BY cause",
            &[&code]
        )
    );
}

/// What the index adds to an import: the load's insert-select, for every delivery of the
/// store at once, into an index in memory (so the disk's write is not in it). The store is
/// attached to an in-memory database: a read-only connection could not create the index.
fn bench_index_cost(db: &str, deliveries: i64) {
    let mem = Connection::open_in_memory().unwrap();
    mem.execute("ATTACH ?1 AS st", [format!("file:{db}?mode=ro")])
        .unwrap();
    mem.execute_batch(
        "CREATE VIRTUAL TABLE s USING fts5(recipient, sender, ids, subject, reply,
             content = '', contentless_delete = 1);",
    )
    .unwrap();
    let t = Instant::now();
    mem.execute(
        "INSERT INTO s(rowid, recipient, sender, ids, subject, reply)
         SELECT d.id, d.recipient || ' ' || coalesce(d.orig_recipient, ''), coalesce(m.sender, ''),
                m.queue_id || ' ' || coalesce(m.message_id, ''), coalesce(m.subject, ''),
                concat_ws(' ', d.final_text, d.last_deferral_text)
         FROM st.deliveries d JOIN st.messages m ON m.id = d.message_ref",
        [],
    )
    .unwrap();
    println!(
        "search index for all {deliveries} deliveries built in {:.2} s",
        t.elapsed().as_secs_f64()
    );
}
