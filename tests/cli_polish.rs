//! The command line as a newcomer meets it: mistakes answered with what was meant and
//! where to read more, pipes closed early, notes only when they apply.

mod common;

use common::TempStore;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_mistyped_subcommand_is_answered_with_did_you_mean() {
    let s = TempStore::new();
    let out = s.run(&["improt", "mail.log"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(
        err.trim(),
        "sendlog: unrecognized subcommand 'improt': did you mean 'import'? (see sendlog --help)"
    );
    // Nothing was imported under the name of the typo.
    assert!(!std::path::Path::new(&s.db()).exists());
    for (typo, meant) in [
        ("reprot", "report"),
        ("explian", "explain"),
        ("rsolve", "resolve"),
    ] {
        let err = stderr(&s.run(&[typo]));
        assert!(
            err.contains(&format!("did you mean '{meant}'?")),
            "{typo}: {err}"
        );
    }
    // Below the top level, clap's own suggestions, on the one line.
    let err = stderr(&s.run(&["requeue", "mrak"]));
    assert!(err.contains("did you mean 'unmark' or 'mark'?"), "{err}");
    assert!(err.contains("(see sendlog requeue --help)"), "{err}");
}

#[test]
fn a_file_named_like_a_typo_is_still_a_file() {
    let s = TempStore::new();
    let file = s.dir.path().join("improt");
    std::fs::copy(
        common::fixture("postfix/postfix_log_analysis__mail2.log"),
        &file,
    )
    .unwrap();
    let out = s.run(&["import", "--year", "2015", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // And at the top level (stdout is not a terminal: import, then the report).
    let dir = s.dir.path().to_str().unwrap().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .current_dir(&dir)
        .args(["--db", &s.db(), "improt"])
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_flag_error_points_to_the_subcommands_help_and_suggests_the_flag() {
    let s = TempStore::new();
    for (args, help, tip) in [
        (
            vec!["report", "--jsno"],
            "(see sendlog report --help)",
            Some("did you mean '--json'?"),
        ),
        (
            vec!["requeue", "export", "--formt", "csv"],
            "(see sendlog requeue export --help)",
            Some("did you mean '--format'?"),
        ),
        (
            vec!["import", "--year", "19x", "x.log"],
            "(see sendlog import --help)",
            None,
        ),
        (vec!["--bogus"], "(see sendlog --help)", None),
    ] {
        let out = s.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.trim_end().ends_with(help), "{args:?}: {err}");
        if let Some(tip) = tip {
            assert!(err.contains(tip), "{args:?}: {err}");
        }
    }
}

#[test]
fn requeue_mark_without_a_choice_names_both_ways_to_choose() {
    let s = TempStore::new();
    s.run_ok(&["import", "--year", "2026", "sample-data/mail.log"]);
    let err = stderr(&s.run(&["requeue", "mark"]));
    assert!(err.contains("--eligible"), "{err}");
    assert!(err.contains("--id"), "{err}");
    assert!(err.contains("(see sendlog requeue mark --help)"), "{err}");
    let err = stderr(&s.run(&["requeue", "mark", "--eligible", "--id", "1"]));
    assert!(err.contains("cannot be used with"), "{err}");
}

/// `sendlog … | true`: the reader is gone before sendlog writes. Nothing on stderr, exit 0,
/// as ripgrep does.
#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let s = TempStore::new();
    s.run_ok(&[
        "import",
        "--year",
        "2026",
        "sample-data/mail.log",
        "sample-data/bounces/",
    ]);
    for cmd in [
        "report",
        "report --json",
        "export deliveries --format csv",
        "requeue causes",
        "requeue list --all",
        "explain 4.4.7",
        "classify sample-data/bounces",
        "--help",
    ] {
        let err = s.dir.path().join("err");
        // The pipe's reader (`true`) has exited by the time sendlog writes.
        let script = format!(
            "{{ sleep 0.3; {} --db {} {cmd} 2>{err}; echo $? >{err}.rc; }} | true",
            env!("CARGO_BIN_EXE_sendlog"),
            s.db(),
            err = err.display()
        );
        let status = std::process::Command::new("sh")
            .args(["-c", &script])
            .env("TZ", "UTC")
            .status()
            .unwrap();
        assert!(status.success());
        let text = std::fs::read_to_string(&err).unwrap();
        assert_eq!(text, "", "{cmd}: stderr");
        let rc = std::fs::read_to_string(format!("{}.rc", err.display())).unwrap();
        assert_eq!(rc.trim(), "0", "{cmd}: exit status");
    }
}

/// The sample's lines split by host and day: a log of another host that starts earlier
/// cannot split any stored message, one of the same host can.
#[test]
fn the_older_log_note_only_when_the_same_host_has_newer_mail() {
    let s = TempStore::new();
    let sample = std::fs::read_to_string("sample-data/mail.log").unwrap();
    let part = |host: &str, days: &[&str]| -> String {
        sample
            .lines()
            .filter(|l| l.split_whitespace().nth(3) == Some(host))
            .filter(|l| days.iter().any(|d| l.starts_with(d)))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let write = |name: &str, text: String| {
        assert!(!text.is_empty());
        let p = s.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let late = ["Nov 23", "Nov 24", "Nov 25"];
    let early = ["Nov 20", "Nov 21", "Nov 22"];
    let newer = write("mta1-late.log", part("mta1", &late));
    let other = write("mta2-early.log", part("mta2", &early));
    let same = write("mta1-early.log", part("mta1", &early));
    let out = s.run_ok(&["import", "--year", "2026", &newer]);
    assert!(!out.contains("import older logs first"), "{out}");
    let out = s.run_ok(&["import", "--year", "2026", &other]);
    assert!(
        !out.contains("import older logs first"),
        "another host: {out}"
    );
    let out = s.run_ok(&["import", "--year", "2026", &same]);
    assert!(
        out.contains("import older logs first"),
        "the same host: {out}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_command_line_definitions() {
    let s = TempStore::new();
    let subcommands = [
        "import",
        "report",
        "explain",
        "classify",
        "resolve",
        "requeue",
        "export",
        "completions",
        "man",
    ];
    for (shell, marker) in [
        ("bash", "_sendlog()"),
        ("zsh", "#compdef sendlog"),
        ("fish", "complete -c sendlog"),
    ] {
        let script = s.run_ok(&["completions", shell]);
        assert!(script.contains(marker), "{shell}");
        for sub in subcommands {
            assert!(script.contains(sub), "{shell} completes {sub}");
        }
        // Flags of a subcommand, not only the top level's.
        assert!(script.contains("queue-lifetime") && script.contains("eligible"));
    }
    // The bash script is valid bash, when there is a bash to ask.
    let bash = s.run_ok(&["completions", "bash"]);
    let path = s.dir.path().join("sendlog.bash");
    std::fs::write(&path, bash).unwrap();
    if let Ok(out) = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
    {
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let err = stderr(&s.run(&["completions", "tcsh"]));
    assert!(err.contains("(see sendlog completions --help)"), "{err}");

    let man = s.run_ok(&["man"]);
    assert!(man.contains(".TH sendlog 1"), "{man}");
    for sub in subcommands {
        assert!(man.contains(&format!("sendlog\\-{sub}(1)")), "{sub}");
    }
    assert!(man.contains("\\-\\-db"));
    // The pages it refers to, written on request.
    let out = s.run_ok(&["man", "--dir", s.dir.path().to_str().unwrap()]);
    assert!(out.contains("manual pages written"), "{out}");
    for page in ["sendlog.1", "sendlog-import.1", "sendlog-requeue-mark.1"] {
        let text = std::fs::read_to_string(s.dir.path().join(page)).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
    }
    let mark = std::fs::read_to_string(s.dir.path().join("sendlog-requeue-mark.1")).unwrap();
    assert!(mark.contains("eligible"));
}

/// Typo domains: a domain whose own mail server answered exists (its failure is about the
/// mailbox), a name of two letters is too short to judge, a domain with no mail host that
/// is one edit from a provider is flagged, and the report says why.
#[test]
fn typo_detection_spares_domains_whose_mail_server_answered() {
    let s = TempStore::new();
    let sample = std::fs::read_to_string("sample-data/mail.log").unwrap();
    // The sample's own lines for a Gmail user unknown and a DNS failure, re-addressed.
    let user_unknown = sample
        .lines()
        .find(|l| l.contains("to=<j.doe.old@gmail.com>") && l.contains("status=bounced"))
        .unwrap();
    let no_host = sample
        .lines()
        .find(|l| l.contains("to=<mike.chen@gmial.com>"))
        .unwrap();
    let mut log = String::new();
    log.push_str(
        &user_unknown
            .replace("j.doe.old@gmail.com", "pat@bmx.com")
            .replace("gmail-smtp-in.l.google.com", "mx00.bmx.com")
            .replace("5E1B22D104", "5E1B22D105"),
    );
    log.push('\n');
    log.push_str(
        &no_host
            .replace("mike.chen@gmial.com", "kai@gm.de")
            .replace("gmial.com", "gm.de")
            .replace("CF82994871", "CF82994872"),
    );
    log.push('\n');
    log.push_str(no_host);
    log.push('\n');
    let path = s.dir.path().join("typos.log");
    std::fs::write(&path, log).unwrap();
    s.run_ok(&["import", "--year", "2026", path.to_str().unwrap()]);
    let typo_of = |domain: &str| -> Option<String> {
        s.deliveries()
            .into_iter()
            .find(|d| d["domain"] == domain)
            .unwrap_or_else(|| panic!("{domain} imported"))["typo_of"]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(typo_of("bmx.com"), None, "its mail server answered");
    assert_eq!(typo_of("gm.de"), None, "too short to judge");
    assert_eq!(typo_of("gmial.com").as_deref(), Some("gmail.com"));
    let report = s.run_ok(&["report"]);
    let line = report
        .lines()
        .find(|l| l.contains("gmial.com → gmail.com"))
        .unwrap();
    assert!(
        line.contains("one edit from gmail.com (a mailbox provider)")
            && line.contains("no mail server of its own answered"),
        "{line}"
    );
}

/// A folder given to `import` is walked, subfolders too: logs as logs (`.gz` too), email
/// files and Maildirs as bounces, a line says what was found and skipped; links are not
/// followed (a loop would never end).
#[test]
fn a_folder_is_imported_recursively_and_says_what_it_found() {
    let s = TempStore::new();
    let root = s.dir.path().join("tree");
    let sub = |p: &str| {
        let d = root.join(p);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    std::fs::copy("sample-data/mail.log", sub("logs").join("mail.log")).unwrap();
    {
        use std::io::Write;
        let text = std::fs::read("tests/fixtures/postfix/postfix_log_analysis__mail2.log").unwrap();
        let f = std::fs::File::create(sub("logs/old").join("mail.log.2.gz")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        gz.finish().unwrap();
    }
    std::fs::copy(
        "sample-data/bounces/exchange-online-expired.eml",
        sub("bounces").join("ndr.eml"),
    )
    .unwrap();
    sub("Maildir/new");
    std::fs::copy(
        "sample-data/bounces/postfix-dsn-gmail.eml",
        sub("Maildir/cur").join("1700000000.M1.host:2,S"),
    )
    .unwrap();
    std::fs::write(root.join("notes.txt"), "call the ISP on Monday\n").unwrap();
    std::fs::write(root.join(".DS_Store"), [0u8, 1, 2]).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&root, root.join("loop")).unwrap();

    let out = s.run_ok(&["import", "--year", "2026", root.to_str().unwrap()]);
    for file in [
        "logs/mail.log: postfix",
        "logs/old/mail.log.2.gz: postfix",
        "bounces/ndr.eml: eml",
        "Maildir: eml",
    ] {
        assert!(out.contains(file), "{file} in:\n{out}");
    }
    let folder = out
        .lines()
        .find(|l| l.contains("folder ("))
        .expect("the folder's line");
    assert!(
        folder.contains("found 2 logs, 1 email file, 1 Maildir"),
        "{folder}"
    );
    assert!(
        folder.contains("skipped 1 file neither a log nor an email")
            && folder.contains("notes.txt"),
        "{folder}"
    );
    assert!(!folder.contains(".DS_Store"), "{folder}");
    #[cfg(unix)]
    assert!(
        folder.contains("not entered") && folder.contains("loop"),
        "{folder}"
    );
    // The bounce that stands alone names its file, not the folder.
    let sources: Vec<String> = s
        .deliveries()
        .iter()
        .filter_map(|d| d["source"].as_str().map(str::to_string))
        .filter(|src| src.contains(".eml"))
        .collect();
    assert!(
        sources.iter().any(|src| src.ends_with("bounces/ndr.eml:1")),
        "{sources:?}"
    );
}

/// A bounce's source names the file, and within an mbox, the message's number.
#[test]
fn a_bounces_source_names_its_file_and_its_message_in_an_mbox() {
    let s = TempStore::new();
    let mut mbox = Vec::new();
    for f in [
        "sample-data/bounces/postfix-dsn-gmail.eml",
        "sample-data/bounces/exchange-online-expired.eml",
    ] {
        mbox.extend_from_slice(b"From MAILER-DAEMON Fri Nov 20 09:30:00 2026\n");
        mbox.extend_from_slice(&std::fs::read(f).unwrap());
        mbox.extend_from_slice(b"\n");
    }
    let path = s.dir.path().join("bounces.mbox");
    std::fs::write(&path, mbox).unwrap();
    s.run_ok(&["import", path.to_str().unwrap()]);
    let sources: Vec<String> = s
        .deliveries()
        .iter()
        .filter_map(|d| d["source"].as_str().map(str::to_string))
        .collect();
    let expected = format!("{}:2", path.display());
    assert!(sources.contains(&expected), "{expected} in {sources:?}");
}

/// A report whose Date: is garbage or years ahead is not dated 1970 or next year: the
/// time the mailbox got it stands in, and the import says so.
#[test]
fn implausible_bounce_dates_are_flagged_not_used() {
    let s = TempStore::new();
    let original =
        std::fs::read_to_string("sample-data/bounces/exchange-online-expired.eml").unwrap();
    let without_attempt: String = original
        .lines()
        .filter(|l| !l.starts_with("Last-Attempt-Date:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let garbage = without_attempt.replacen(
        "Date: Mon, 23 Nov 2026 10:12:31 +0000",
        "Date: the day after tomorrow",
        1,
    );
    let future = without_attempt
        .replacen(
            "Date: Mon, 23 Nov 2026 10:12:31 +0000",
            "Date: Mon, 23 Nov 2099 10:12:31 +0000",
            1,
        )
        .replace("kim.lee@", "lee.kim@");
    assert_ne!(garbage, without_attempt);
    let dir = s.dir.path().join("cur");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(s.dir.path().join("new")).unwrap();
    // A Maildir's names carry the delivery time.
    std::fs::write(dir.join("1763892000.M1.mx:2,S"), garbage).unwrap();
    std::fs::write(dir.join("1763892600.M2.mx:2,S"), future).unwrap();
    let out = s.run_ok(&["import", s.dir.path().to_str().unwrap()]);
    assert!(
        out.contains("2 reports had no usable Date: header"),
        "{out}"
    );
    let deliveries = s.deliveries();
    assert!(!deliveries.is_empty());
    for d in &deliveries {
        for field in ["first_attempt", "last_attempt"] {
            let t = d[field].as_str().unwrap_or_default();
            assert!(
                t.starts_with("2025-11-23"),
                "{field} {t} of {}",
                d["recipient"]
            );
        }
    }
    let report = s.run_ok(&["report"]);
    assert!(
        !report.contains("1970") && !report.contains("2099"),
        "{report}"
    );
}
