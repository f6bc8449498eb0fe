//! Explanation panels: what a code means, who sends it, why, how to fix it, the cold-email
//! angle, FAQ and references. One TOML file per code in `assets/knowledge/`, embedded at
//! build (build.rs lists the directory). A user directory — `SENDLOG_KNOWLEDGE_DIR`, else
//! `knowledge/` in the platform config dir (`~/.config/sendlog/knowledge/`) — may add
//! panels or replace built-in ones whole; a file there that does not parse is reported and
//! ignored, never fatal.
//!
//! The panels are read once, where a command starts (`Knowledge::for_user`), and handed to
//! what needs them: nothing here is global, so a test can pass the built-in panels alone.
//!
//! A code without a panel is never left blank: the panel of the same detail in the other
//! failure class stands in (4.1.1 → 5.1.1), else the RFC 3463 meaning of its class and
//! subject.

pub mod doc;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::classify::{EnhancedCode, Reason};

pub use doc::{DocError, Evidence, PanelDoc};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/knowledge_files.rs"));
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    pub code: String,
    pub title: String,
    pub sections: Vec<Section>,
    /// True when no panel was written for this exact code.
    pub fallback: bool,
}

/// Paragraphs, bullets or numbered steps, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub lines: Vec<String>,
}

/// A title up to its first `: ` outside parentheses (`Protocol status, unspecified
/// (Microsoft: mailbox unavailable)` stays whole).
fn title_head(title: &str) -> &str {
    let mut depth = 0i32;
    for (i, c) in title.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ':' if depth == 0 && title[i + 1..].starts_with(' ') => return &title[..i],
            _ => {}
        }
    }
    title
}

/// Environment variable naming the user's panel directory (overrides the config dir).
pub const DIR_ENV: &str = "SENDLOG_KNOWLEDGE_DIR";

/// Where the user's own panels live, if anywhere.
pub fn user_dir() -> Option<PathBuf> {
    match std::env::var_os(DIR_ENV) {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
        None => directories::ProjectDirs::from("", "", "sendlog")
            .map(|d| d.config_dir().join("knowledge")),
    }
}

/// Files bigger than this in the user's directory are not panels.
const MAX_USER_FILE: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    User(PathBuf),
}

/// Every panel sendlog can show: built-in ones and the user's.
#[derive(Debug, Clone)]
pub struct Knowledge {
    panels: BTreeMap<EnhancedCode, (PanelDoc, Origin)>,
    pub problems: Vec<String>,
}

impl Knowledge {
    /// The built-in panels only. An error names the first file that does not parse.
    pub fn builtin() -> Result<Knowledge, String> {
        let mut k = Knowledge {
            panels: BTreeMap::new(),
            problems: Vec::new(),
        };
        for (name, text) in embedded::BUILTIN {
            let (code, doc) = PanelDoc::parse(text).map_err(|e| format!("{name}: {e}"))?;
            if k.panels.insert(code, (doc, Origin::Builtin)).is_some() {
                return Err(format!("{name}: a second panel for {code}"));
            }
        }
        Ok(k)
    }

    /// Built-in panels, then the user's directory on top. Never fails: problems are kept
    /// in `problems`.
    pub fn load(user_dir: Option<&Path>) -> Knowledge {
        let mut k = Knowledge::builtin().unwrap_or_else(|e| Knowledge {
            panels: BTreeMap::new(),
            problems: vec![format!("built-in panels: {e}")],
        });
        if let Some(dir) = user_dir {
            k.add_user_dir(dir);
        }
        k
    }

    fn add_user_dir(&mut self, dir: &Path) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            // No directory is the normal case: nothing to add.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                self.problems.push(format!("{}: {e}", dir.display()));
                return;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            match read_user_file(&path) {
                Ok((code, doc)) => {
                    self.panels.insert(code, (doc, Origin::User(path)));
                }
                Err(e) => self
                    .problems
                    .push(format!("{}: {e} (ignored)", path.display())),
            }
        }
    }

    /// The built-in panels with the user's directory (`user_dir`) laid over them.
    pub fn for_user() -> Knowledge {
        Knowledge::load(user_dir().as_deref())
    }

    /// What the panel of a code in `reply` says about how long the condition lasts (its
    /// FAQ's "How long…" answer), with the page it is drawn from: for causes no lookup can
    /// settle, the one thing worth reading while waiting. `None` when no panel says.
    pub fn how_long(&self, reply: &str) -> Option<String> {
        EnhancedCode::all_in(reply).find_map(|code| {
            let doc = self.doc(code)?;
            let faq = doc.faq.iter().find(|f| {
                f.q.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("how long")
            })?;
            // The receiver's own page rather than the registry or the RFC.
            let page = doc
                .references
                .iter()
                .filter(|r| !r.url.is_empty())
                .find(|r| !r.title.starts_with("IANA") && !r.title.starts_with("RFC"));
            Some(match page {
                Some(r) => format!(
                    "the {code} panel says ({}): {} (from {}, {})",
                    faq.q.trim(),
                    faq.a.trim(),
                    r.title.trim(),
                    r.url.trim()
                ),
                None => format!("the {code} panel says ({}): {}", faq.q.trim(), faq.a.trim()),
            })
        })
    }

    /// Problems met while loading the user's panels (one line each), for a warning.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The name of `code` in lists: its panel's title up to the first `: ` (the rest
    /// explains), so a list row reads as the head of the panel it opens; a code without a
    /// panel of its own goes by its registry label, as its fallback panel does.
    pub fn list_label(&self, code: &EnhancedCode) -> String {
        match self.panels.get(code) {
            Some((doc, _)) => title_head(&doc.title).to_string(),
            None => code.label().to_string(),
        }
    }

    /// Codes with a panel, in order.
    pub fn codes(&self) -> impl Iterator<Item = EnhancedCode> + '_ {
        self.panels.keys().copied()
    }

    pub fn doc(&self, code: EnhancedCode) -> Option<&PanelDoc> {
        self.panels.get(&code).map(|(d, _)| d)
    }

    pub fn origin(&self, code: EnhancedCode) -> Option<&Origin> {
        self.panels.get(&code).map(|(_, o)| o)
    }

    pub fn codes_for_reason(&self, reason: Reason) -> Vec<EnhancedCode> {
        self.panels
            .iter()
            .filter(|(_, (d, _))| d.reasons().any(|r| r == reason))
            .map(|(c, _)| *c)
            .collect()
    }

    /// The panel of `code`. Never empty: a code without a panel falls back to its
    /// RFC 3463 class and subject meaning.
    pub fn panel(&self, code: EnhancedCode) -> Panel {
        if let Some((doc, _)) = self.panels.get(&code) {
            return doc.to_panel(code);
        }
        if let Some(sibling) = sibling(code)
            && let Some((doc, _)) = self.panels.get(&sibling)
        {
            let mut panel = doc.to_panel(code);
            panel.fallback = true;
            panel.title = format!("{} (explained through {sibling})", code.label());
            panel.sections.insert(0, sibling_note(code, sibling));
            return panel;
        }
        class_and_subject_panel(code)
    }
}

fn read_user_file(path: &Path) -> Result<(EnhancedCode, PanelDoc), String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_USER_FILE {
        return Err(format!("larger than {MAX_USER_FILE} bytes"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (code, doc) = PanelDoc::parse(&text).map_err(|e| {
        // toml's messages span several lines with a caret diagram; a warning is one line.
        e.to_string().lines().next().unwrap_or_default().to_string()
    })?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != code.to_string() {
        return Err(format!(
            "the file name says {stem:?} but the panel is for {code}; name it {code}.toml"
        ));
    }
    Ok((code, doc))
}

/// The same subject and detail in the other failure class: a 4.x.y and a 5.x.y describe
/// the same condition, once as "retry" and once as "give up".
fn sibling(code: EnhancedCode) -> Option<EnhancedCode> {
    let class = match code.class {
        4 => 5,
        5 => 4,
        _ => return None,
    };
    Some(EnhancedCode::new(class, code.subject, code.detail))
}

fn sibling_note(code: EnhancedCode, sibling: EnhancedCode) -> Section {
    let how = if code.class == 4 {
        "Here it is transient: the sending server keeps the message and retries, and only \
         if the condition lasts for the whole queue lifetime does the delivery expire (4.4.7)."
    } else {
        "Here it is permanent: the sending server has given up, and the same message sent \
         again unchanged will fail the same way."
    };
    Section {
        heading: "About this code".to_string(),
        lines: vec![
            format!(
                "sendlog has no panel for {code}; {sibling} names the same condition \
                 ({}) in the other class, so its panel follows.",
                code.label()
            ),
            how.to_string(),
        ],
    }
}

fn class_text(class: u8) -> &'static str {
    match class {
        2 => {
            "The action succeeded. A delivery status notification with a 2.x.x status \
              reports a delivery or a relay, not a failure."
        }
        4 => {
            "The failure is temporary. The receiver may accept the same message later, so \
              the sending server keeps it queued and retries; if every retry fails until the \
              queue lifetime runs out, the delivery expires and is reported as 4.4.7."
        }
        5 => {
            "The failure is permanent. The sending server does not retry, and sending the \
              same message again unchanged will fail the same way: the address, the message \
              or the sender has to change first."
        }
        _ => "RFC 3463 defines only classes 2, 4 and 5.",
    }
}

fn subject_text(subject: u16) -> &'static str {
    match subject {
        0 => {
            "The receiver did not say which part of the transaction failed; the reply text \
              usually says more than the code."
        }
        1 => {
            "The problem is with an address: the recipient's mailbox or domain, or the \
              envelope sender."
        }
        2 => {
            "The address exists but its mailbox cannot take the message (disabled, full, \
              or over a size limit)."
        }
        3 => {
            "The receiving mail system itself is the problem (full, down, misconfigured or \
              missing a feature the message needs)."
        }
        4 => "Something between the two servers failed: DNS, routing, connections or timing.",
        5 => "The SMTP conversation went wrong: a command, its arguments or the protocol.",
        6 => {
            "The content of the message or its encoding was refused or could not be \
              converted."
        }
        7 => {
            "A security or policy decision refused the message: authentication, \
              reputation, blocklists or site policy."
        }
        _ => "RFC 3463 defines subjects 0 to 7 only; this one is private to whoever sent it.",
    }
}

fn class_and_subject_panel(code: EnhancedCode) -> Panel {
    let label = code.label();
    let mut meaning = vec![format!(
        "{code}: {label}. sendlog has no panel for this exact code, so this is what its \
         structure (RFC 3463, class.subject.detail) says."
    )];
    meaning.push(format!(
        "Class {} — {}. {}",
        code.class,
        code.class_meaning(),
        class_text(code.class)
    ));
    meaning.push(format!(
        "Subject {} — {}. {}",
        code.subject,
        code.subject_meaning(),
        subject_text(code.subject)
    ));
    if label == code.subject_meaning() && code.detail != 0 {
        meaning.push(format!(
            "Detail {} is not in the IANA registry as sendlog knows it: a provider may use \
             it privately, so read the reply text and the provider's documentation.",
            code.detail
        ));
    }
    let next = match code.class {
        4 => {
            "Read the reply text behind these deliveries (the causes sendlog lists for this code): it names the \
              condition the receiver is waiting on. Fix that before the queue lifetime runs out."
        }
        5 => {
            "Read the reply text behind these deliveries (the causes sendlog lists for this code): it says what \
              must change before the message can be sent again."
        }
        _ => "Nothing failed; no action is needed.",
    };
    Panel {
        code: code.to_string(),
        title: label.to_string(),
        sections: vec![
            Section {
                heading: doc::WHAT_IT_MEANS.to_string(),
                lines: meaning,
            },
            Section {
                heading: doc::HOW_TO_FIX.to_string(),
                lines: vec![format!("1. {next}")],
            },
            Section {
                heading: doc::REFERENCES.to_string(),
                lines: vec![
                    "• RFC 3463, Enhanced Mail System Status Codes — https://www.rfc-editor.org/rfc/rfc3463"
                        .to_string(),
                    "• IANA, SMTP Enhanced Status Codes registry — https://www.iana.org/assignments/smtp-enhanced-status-codes"
                        .to_string(),
                ],
            },
        ],
        fallback: true,
    }
}
