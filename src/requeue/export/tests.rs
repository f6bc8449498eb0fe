use super::files::numbered;
use super::*;
use std::path::Path;

fn record(host: &str, qid: &str, rcpt: &str, domain: &str) -> ExportRecord {
    ExportRecord {
        batch: 3,
        recipient: rcpt.into(),
        sender: Some("=HYPERLINK(\"http://x\")".into()),
        message_id: Some("abc.123@mta.example".into()),
        queue_id: qid.into(),
        host: host.into(),
        subject: Some("-2+3".into()),
        status: DeliveryStatus::Deferred,
        code: "4.7.650".into(),
        cause: Some(Reason::BadReputation),
        domain: domain.into(),
        provider: None,
        last_attempt: None,
        resolution_note: "@SUM(A1) delisted".into(),
        resolved_at: "2026-11-25T10:00:00Z".into(),
    }
}

fn text(format: RequeueFormat, records: &[ExportRecord]) -> String {
    let mut out = Vec::new();
    write(format, 3, 1_790_000_000, records, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn csv_free_text_is_neutralised_and_addresses_stay_exact() {
    let out = text(
        RequeueFormat::Csv,
        &[record("mta1", "ABC", "+1@example.com", "example.com")],
    );
    let mut rd = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        ExportRecord::FIELDS
    );
    let row = rd.records().next().unwrap().unwrap();
    assert_eq!(&row[1], "+1@example.com");
    assert_eq!(&row[2], "=HYPERLINK(\"http://x\")");
    assert_eq!(&row[6], "'-2+3");
    assert_eq!(&row[13], "'@SUM(A1) delisted");
    assert_eq!(&row[3], "abc.123@mta.example");
}

#[test]
fn postfix_script_has_one_line_per_queue_file_per_host() {
    let out = text(
        RequeueFormat::Postfix,
        &[
            record(
                "mta2/postfix-out2",
                "9C5F661548",
                "a@x.example",
                "x.example",
            ),
            record(
                "mta2/postfix-out2",
                "9C5F661548",
                "b\n rm -rf /@x.example",
                "x.example",
            ),
            record("mta1", "D093AA5982", "c@y.example", "y.example"),
            record("mta1", "BAD;ID", "d@y.example", "y.example"),
        ],
    );
    assert!(out.starts_with("#!/bin/sh\n"));
    assert!(
        out.contains(": 2 messages still in the Postfix queue."),
        "{out}"
    );
    let commands: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("post"))
        .collect();
    assert_eq!(
        commands,
        [
            "postqueue -i D093AA5982",
            "postmulti -i postfix-out2 -x postqueue -i 9C5F661548"
        ]
    );
    // The hostile recipient stays inside its comment line.
    assert!(
        out.lines()
            .any(|l| l.trim() == "# a@x.example, b\\x0a rm -rf /@x.example"),
        "{out}"
    );
    assert!(out.contains("mta1)\n") && out.contains("mta2)\n"));
    assert!(!out.contains("BAD;ID"));
}

/// Runs the Postfix script under `sh` on a machine whose `hostname` prints `name`, with
/// stand-ins for postqueue and postmulti that log their arguments.
#[cfg(unix)]
fn run_postfix_script(script: &str, name: &str) -> (i32, String, String) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ran");
    for (tool, body) in [
        ("hostname", format!("echo '{name}'")),
        (
            "postqueue",
            format!("echo postqueue \"$@\" >> '{}'", log.display()),
        ),
        (
            "postmulti",
            format!("echo postmulti \"$@\" >> '{}'", log.display()),
        ),
    ] {
        let p = dir.path().join(tool);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("PATH", path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        std::fs::read_to_string(&log).unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn postfix_script_matches_the_short_name_in_any_case_and_says_when_it_skips() {
    let script = text(
        RequeueFormat::Postfix,
        &[
            record(
                "MTA2.Example.NET/postfix-out2",
                "9C5F661548",
                "a@x.example",
                "x.example",
            ),
            record("mta1", "D093AA5982", "c@y.example", "y.example"),
        ],
    );
    for name in ["mta2", "MTA2", "mta2.example.net", "Mta2.Other.Example"] {
        let (code, ran, _) = run_postfix_script(&script, name);
        assert_eq!(code, 0, "{name}");
        assert_eq!(
            ran, "postmulti -i postfix-out2 -x postqueue -i 9C5F661548\n",
            "{name}"
        );
    }
    let (code, ran, _) = run_postfix_script(&script, "MTA1.example.org");
    assert_eq!((code, ran.as_str()), (0, "postqueue -i D093AA5982\n"));
    let (code, ran, said) = run_postfix_script(&script, "mail3.example.org");
    assert_eq!(code, 2);
    assert_eq!(ran, "");
    assert!(
        said.contains("SKIPPED EVERYTHING") && said.contains("'mail3'"),
        "{said}"
    );
    assert!(said.contains("mta1 mta2"), "{said}");
}

#[test]
fn exchange_script_retries_queues_and_resumes_messages() {
    let out = text(
        RequeueFormat::Exchange,
        &[record(
            "EX01",
            "1234",
            "a@contoso.example",
            "contoso.example",
        )],
    );
    assert!(out.contains(
        "Retry-Queue -Server 'EX01' -Filter \"NextHopDomain -eq 'contoso.example' -and Status -eq 'Retry'\" -Confirm:$false"
    ));
    assert!(out.contains("InternetMessageId -eq '<abc.123@mta.example>'"));
    assert!(
        out.contains(": 1 delivery still in Exchange queues."),
        "{out}"
    );
    let hostile = ExportRecord {
        message_id: Some("x'; Remove-Item C:\\ -Recurse; '".into()),
        ..record("EX01", "1", "a@contoso.example", "contoso.example")
    };
    assert!(!text(RequeueFormat::Exchange, &[hostile]).contains("Remove-Item"));
}

/// The mode a file created the ordinary way gets in `dir` under this process's umask.
#[cfg(unix)]
fn ordinary_mode(dir: &Path, executable: bool) -> u32 {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let probe = dir.join("probe");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if executable { 0o777 } else { 0o666 })
        .open(&probe)
        .unwrap();
    let mode = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
    std::fs::remove_file(probe).unwrap();
    mode
}

#[cfg(unix)]
#[test]
fn a_written_batch_has_an_ordinary_files_mode_not_a_temp_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for (format, existing) in [
        (RequeueFormat::Csv, Existing::NextFree),
        (RequeueFormat::Jsonl, Existing::Replace),
        (RequeueFormat::Exchange, Existing::NextFree),
    ] {
        let path = dir.path().join(format!("b.{}", format.extension()));
        write_file(format, &path, b"x\n", existing).unwrap();
        assert_eq!(mode(&path), ordinary_mode(dir.path(), false), "{format:?}");
    }
    let script = dir.path().join("requeue.sh");
    write_file(
        RequeueFormat::Postfix,
        &script,
        b"#!/bin/sh\n",
        Existing::NextFree,
    )
    .unwrap();
    assert_eq!(mode(&script), ordinary_mode(dir.path(), true));
    assert_eq!(mode(&script) & 0o100, 0o100, "the script runs");
}

#[test]
fn a_batch_file_is_whole_and_files_already_there_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sendlog-batch-1.csv");
    std::fs::write(&path, "mine\n").unwrap();
    let second = dir.path().join("sendlog-batch-1-2.csv");
    assert_eq!(
        write_file(RequeueFormat::Csv, &path, b"new\n", Existing::NextFree).unwrap(),
        second
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine\n");
    assert_eq!(std::fs::read_to_string(&second).unwrap(), "new\n");
    assert_eq!(
        write_file(RequeueFormat::Csv, &path, b"third\n", Existing::NextFree).unwrap(),
        dir.path().join("sendlog-batch-1-3.csv")
    );
    assert_eq!(
        write_file(RequeueFormat::Csv, &path, b"new\n", Existing::Replace).unwrap(),
        path
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    // No temporary file is left behind either way.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    assert_eq!(
        numbered(Path::new("out/requeue"), 2),
        Path::new("out/requeue-2")
    );
}

#[cfg(unix)]
#[test]
fn links_directories_and_devices_are_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.csv");
    std::fs::write(&target, "theirs\n").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    for (path, what) in [
        (link.as_path(), "symbolic link"),
        (sub.as_path(), "directory"),
        (Path::new("/dev/null"), "device"),
    ] {
        let err = write_file(RequeueFormat::Csv, path, b"batch\n", Existing::Replace).unwrap_err();
        assert!(err.to_string().contains(what), "{path:?}: {err}");
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs\n");
    assert!(sub.is_dir());
    // Only the three entries made above: no temporary file was left.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn a_failed_write_leaves_nothing_and_names_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/x.csv");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under_a_file = file.join("x.csv");
    for (path, existing) in [
        (&missing, Existing::Replace),
        (&missing, Existing::NextFree),
        (&under_a_file, Existing::Replace),
    ] {
        let err = write_file(RequeueFormat::Csv, path, b"x", existing).unwrap_err();
        let text = err.to_string();
        assert!(
            !text.contains(".tmp") && !text.contains("at path"),
            "{text}"
        );
        assert!(!path.exists());
    }
}
