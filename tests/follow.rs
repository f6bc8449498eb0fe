//! `import --follow` against a log written while it runs: after each step (lines appended,
//! a rename-and-create rotation, a copy-truncate, a file that appears only later, stdin
//! arriving in bursts) the store holds what a one-shot import of everything written so far
//! gives; other readers read the store meanwhile; SIGTERM ends it with exit 0 and nothing
//! lost.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempStore, fixture};

const LOG: &str = "postfix/postfix_log_analysis__mail2.log";

fn lines() -> Vec<String> {
    std::fs::read_to_string(fixture(LOG))
        .unwrap()
        .lines()
        .take(8000)
        .map(|l| format!("{l}\n"))
        .collect()
}

fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(lines.concat().as_bytes()).unwrap();
}

/// Deliveries without `source` and `cause_source` (they name a file and line, which differ
/// between a followed, rotated log and one file holding all of it), sorted.
fn outcomes(store: &TempStore) -> Vec<String> {
    let out = store.run(&["export", "deliveries", "--format", "jsonl"]);
    if !out.status.success() {
        // No store yet: the follower has not committed its first import.
        return Vec::new();
    }
    let mut v: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut d: serde_json::Value = serde_json::from_str(l).unwrap();
            let d_fields = d.as_object_mut().unwrap();
            d_fields.remove("source");
            d_fields.remove("cause_source");
            d.to_string()
        })
        .collect();
    v.sort();
    v
}

/// What a one-shot import of `written` into a fresh store gives.
fn one_shot(written: &[String]) -> Vec<String> {
    let store = TempStore::new();
    let log = store.dir.path().join("all.log");
    std::fs::write(&log, written.concat()).unwrap();
    store.run_ok(&["import", log.to_str().unwrap()]);
    outcomes(&store)
}

/// Waits (bounded) until the following store holds what a one-shot import of `written`
/// gives.
fn wait_for_same(store: &TempStore, written: &[String], step: &str) {
    let want = one_shot(written);
    assert!(!want.is_empty());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = outcomes(store);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{step}: the followed store has {} deliveries, a one-shot import {}",
            got.len(),
            want.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn follow(store: &TempStore, args: &[&str], stdin: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .arg("--db")
        .arg(store.db())
        .arg("import")
        .arg("--follow")
        .args(args)
        .env("TZ", "UTC")
        .env_remove("SENDLOG_DB")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn terminate(child: Child) -> std::process::Output {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    child.wait_with_output().unwrap()
}

/// Kills the follower if a test fails before it is stopped.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn following_through_growth_rotation_and_copy_truncate_ends_like_a_one_shot_import() {
    let all = lines();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let store = TempStore::new();
    // The log does not exist yet when following starts.
    let mut guard = Guard(Some(follow(
        &store,
        &[log.to_str().unwrap()],
        Stdio::null(),
    )));
    let cuts = [0, 1500, 3000, 4500, 6000, 8000];
    let mut written: Vec<String> = Vec::new();

    // 1. The file appears.
    append(&log, &all[cuts[0]..cuts[1]]);
    written.extend_from_slice(&all[cuts[0]..cuts[1]]);
    wait_for_same(&store, &written, "the file appeared");

    // 2. Lines appended, in several writes.
    for chunk in all[cuts[1]..cuts[2]].chunks(500) {
        append(&log, chunk);
        written.extend_from_slice(chunk);
    }
    wait_for_same(&store, &written, "lines appended");

    // A second reader reads the store while it is being followed.
    let report = store.run_ok(&["report"]);
    assert!(report.contains("deliveries"), "{report}");

    // 3. Rename-and-create: the old file gets a last few lines through its open handle
    // (its writer has not reopened yet), then the new file starts.
    std::fs::rename(&log, dir.path().join("mail.log.1")).unwrap();
    let mid = cuts[2] + 300;
    append(&dir.path().join("mail.log.1"), &all[cuts[2]..mid]);
    written.extend_from_slice(&all[cuts[2]..mid]);
    wait_for_same(&store, &written, "the rotated-away file's last lines");
    append(&log, &all[mid..cuts[3]]);
    written.extend_from_slice(&all[mid..cuts[3]]);
    wait_for_same(&store, &written, "rename-and-create");

    // 4. Copy-truncate: the content is copied away, the file emptied and written anew.
    std::fs::copy(&log, dir.path().join("mail.log.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &all[cuts[3]..cuts[4]]);
    written.extend_from_slice(&all[cuts[3]..cuts[4]]);
    wait_for_same(&store, &written, "copy-truncate");

    // 5. More lines, the last one written in two halves (a writer caught mid-line).
    append(&log, &all[cuts[4]..cuts[5] - 1]);
    let last = &all[cuts[5] - 1];
    let (a, b) = last.split_at(last.len() / 2);
    append(&log, &[a.to_string()]);
    std::thread::sleep(Duration::from_millis(600));
    append(&log, &[b.to_string()]);
    written.extend_from_slice(&all[cuts[4]..cuts[5]]);
    wait_for_same(&store, &written, "the last lines");

    // Stopped by SIGTERM: exit 0, and the store holds everything.
    let out = terminate(guard.0.take().unwrap());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.contains("rotated"), "{stderr}");
    assert!(stderr.contains("stopped following"), "{stderr}");
    assert_eq!(outcomes(&store), one_shot(&written));
    // Importing the rotated copies afterwards adds nothing: they were read already.
    let again = store.run_ok(&[
        "import",
        dir.path().join("mail.log.1").to_str().unwrap(),
        dir.path().join("mail.log.2").to_str().unwrap(),
    ]);
    assert_eq!(outcomes(&store), one_shot(&written), "{again}");
}

#[test]
fn following_stdin_commits_each_burst_and_ends_with_the_input() {
    let all = lines();
    let store = TempStore::new();
    let mut child = follow(&store, &["-"], Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let mut guard = Guard(Some(child));
    stdin.write_all(all[..2000].concat().as_bytes()).unwrap();
    stdin.flush().unwrap();
    wait_for_same(&store, &all[..2000], "the first burst");
    // The next burst ends inside a line; it is read whole when the input ends.
    let tail = all[2000..4000].concat();
    stdin
        .write_all(&tail.as_bytes()[..tail.len() - 10])
        .unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stdin
        .write_all(&tail.as_bytes()[tail.len() - 10..])
        .unwrap();
    drop(stdin);
    let out = guard.0.take().unwrap().wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("-: postfix"), "{stdout}");
    assert_eq!(outcomes(&store), one_shot(&all[..4000]));
}

#[test]
fn the_screen_follows_a_log_and_flags_what_is_new_until_a_key() {
    if !common::tui::have_tmux() {
        return;
    }
    let (all, dir, log, store) = first_lines_logged(3000);
    let before = one_shot(&all[..3000]).len();
    let after = one_shot(&all).len();
    assert_ne!(before, after);
    let tmux = following_in_tmux(&dir, &store, &log);
    let first = format!("{before} deliveries");
    tmux.wait_until("the first count and the live marker", |s| {
        s.contains(&first) && s.contains("● live, last line")
    });
    append(&log, &all[3000..]);
    let grown = format!("{after} deliveries");
    let screen = tmux.wait_until("the grown count and the badge", |s| {
        s.contains(&grown) && s.contains("new since you looked")
    });
    assert!(screen.contains("expired"), "{screen}");
    // A key is a look: the badge goes, the live marker stays.
    tmux.keys(&["j"]);
    tmux.wait_until("the badge cleared", |s| {
        !s.contains("new since you looked") && s.contains("● live")
    });
}

/// The sample's lines, a log in a temporary folder holding the first `n` of them, and an
/// empty store to follow it into.
fn first_lines_logged(n: usize) -> (Vec<String>, tempfile::TempDir, PathBuf, TempStore) {
    let all = lines();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    append(&log, &all[..n]);
    (all, dir, log, TempStore::new())
}

/// A screen over a followed store, as `sendlog --follow` opens it.
fn live_state() -> sendlog::app::AppState {
    let mut state = sendlog::app::AppState::new(
        sendlog::app::Keymap::embedded().unwrap(),
        common::tui::builtin_knowledge(),
        true,
        (120, 40),
    );
    state.live = Some(sendlog::app::state::Live::default());
    state
}

/// `sendlog --follow LOG` on `store`, in tmux.
fn following_in_tmux(dir: &tempfile::TempDir, store: &TempStore, log: &Path) -> common::tui::Tmux {
    common::tui::Tmux::new(
        dir,
        &format!(
            "TZ=UTC SENDLOG_KEYMAP= {} --db {} --follow {}",
            env!("CARGO_BIN_EXE_sendlog"),
            store.db(),
            log.display()
        ),
    )
}

/// The sent list's position line, "1 / N": the rows it counts.
fn listed(screen: &str) -> Option<u64> {
    let at = screen
        .match_indices("1 / ")
        .map(|(i, _)| i)
        .find(|&i| !screen[..i].ends_with(|c: char| c.is_ascii_digit()))?;
    screen[at + 4..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

#[test]
fn an_open_list_grows_with_the_log_while_its_cursor_is_on_the_first_row() {
    if !common::tui::have_tmux() {
        return;
    }
    let (all, dir, log, store) = first_lines_logged(3000);
    let tmux = following_in_tmux(&dir, &store, &log);
    tmux.wait_until("the live marker", |s| s.contains("● live, last line"));
    tmux.keys(&["d"]);
    let first = tmux.wait_until("the sent list", |s| {
        s.contains("Every delivery · sent") && listed(s).is_some()
    });
    let before = listed(&first).unwrap();
    append(&log, &all[3000..]);
    let grown = tmux.wait_until("the sent list grown", |s| {
        listed(s).is_some_and(|n| n > before)
    });
    assert!(grown.contains("Every delivery · sent"), "{grown}");
}

#[test]
fn a_live_screen_runs_the_at_risk_countdown_on_and_a_key_clears_what_is_new() {
    use sendlog::app::{Effect, Msg, update};
    let mut state = live_state();
    // A commit refreshes the screens and says when the last lines came.
    let effects = update(
        &mut state,
        Msg::Followed {
            lines: 12,
            at: 10_000,
            log_now: Some(5_000),
        },
    );
    assert!(effects.contains(&Effect::LoadOverview), "{effects:?}");
    assert_eq!(state.live.as_ref().unwrap().last_read, Some(10_000));
    // A minute on with nothing written, at-risk is judged a minute after the last line.
    let effects = update(&mut state, Msg::Tick(10_060));
    assert_eq!(
        effects,
        vec![Effect::LoadAtRisk {
            queue_lifetime: None,
            now: Some(5_060)
        }]
    );
    // The first counts are the baseline; growth past them is new until a key is pressed.
    let live = state.live.as_mut().unwrap();
    live.expired_now(3);
    live.at_risk_now(1);
    live.widespread_now(0);
    assert_eq!(live.badge(), None);
    live.expired_now(5);
    live.at_risk_now(4);
    live.widespread_now(1);
    assert_eq!(
        live.badge().as_deref(),
        Some("new since you looked: 2 expired, 3 newly at risk, 1 widespread cause")
    );
    update(&mut state, common::tui::key('j'));
    let live = state.live.as_mut().unwrap();
    assert_eq!(live.badge(), None);
    live.expired_now(6);
    assert_eq!(
        live.badge().as_deref(),
        Some("new since you looked: 1 expired")
    );
    // `--now` fixes the time: no countdown.
    state.now = Some(1);
    assert!(update(&mut state, Msg::Tick(10_120)).is_empty());
}

#[test]
fn a_refreshed_second_level_keeps_the_row_under_the_cursor_by_its_value() {
    use sendlog::app::{Msg, update};
    use sendlog::model::delivery::{Breakdown, CodeCount, Overview};
    use sendlog::model::report::Totals;
    let mut state = live_state();
    let overview = |n: u64| Overview {
        totals: Totals {
            deliveries: n,
            deferred: n,
            ..Totals::default()
        },
        codes: vec![CodeCount {
            code: "4.7.0".into(),
            count: n,
        }],
    };
    let rows = |v: &[(&str, u64)]| -> Vec<Breakdown> {
        v.iter()
            .map(|(d, n)| Breakdown {
                value: Some(d.to_string()),
                count: *n,
            })
            .collect()
    };
    update(&mut state, Msg::Overview(overview(8)));
    let dim = state.triage.dim;
    update(
        &mut state,
        Msg::Breakdown {
            code: "4.7.0".into(),
            dim,
            rows: rows(&[("a.example", 5), ("b.example", 3)]),
        },
    );
    state.triage.breakdown_list.cursor.selected = 1;
    let value = |s: &sendlog::app::AppState| s.triage.selected_breakdown().unwrap().value.clone();
    assert_eq!(value(&state).as_deref(), Some("b.example"));
    // The log grew: b.example now leads; the cursor stays on it.
    update(&mut state, Msg::Overview(overview(15)));
    update(
        &mut state,
        Msg::Breakdown {
            code: "4.7.0".into(),
            dim,
            rows: rows(&[("b.example", 9), ("a.example", 5), ("c.example", 1)]),
        },
    );
    assert_eq!(value(&state).as_deref(), Some("b.example"));
}
