//! Causes: each underlying cause (reason × destination × sending host) with its evidence
//! and resolution state; host-wide problems called out above the list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::app::state::{AppState, ChecksView};
use crate::sanitize::for_terminal;
use crate::triage::causes::{Cause, CauseState};

use super::text::time;
use super::theme::Theme;
use crate::wording::thousands;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let block = |title: &str| theme.panel(title);
    let Some(view) = &state.causes.view else {
        frame.render_widget(Paragraph::new("loading…").block(block("Causes")), area);
        return;
    };
    let wide_lines: Vec<Line> = view
        .widespread
        .iter()
        .map(|w| {
            Line::from(vec![
                Span::styled("! ", theme.expired()),
                Span::raw(for_terminal(&w.describe()).into_owned()),
            ])
        })
        .collect();
    let wide_height = if wide_lines.is_empty() {
        0
    } else {
        (wide_lines.len() as u16 * 2 + 2)
            .min(area.height / 4)
            .max(3)
    };
    let list_height = (view.causes.len() as u16 + 3).max(4).min(area.height / 2);
    let [wide_area, list_area, detail_area] = Layout::vertical([
        Constraint::Length(wide_height),
        Constraint::Length(list_height),
        Constraint::Fill(1),
    ])
    .areas(area);
    if wide_height > 0 {
        frame.render_widget(
            Paragraph::new(wide_lines)
                .wrap(Wrap { trim: true })
                .block(block("Widespread: one sending host's problem")),
            wide_area,
        );
    }
    if view.causes.is_empty() {
        frame.render_widget(
            Paragraph::new("no failed delivery has a known cause").block(block("Causes")),
            list_area,
        );
        return;
    }
    let rows: Vec<Row> = view
        .causes
        .iter()
        .map(|c| {
            Row::new(vec![
                Cell::from(Line::from(thousands(c.count)).right_aligned()),
                Cell::from(for_terminal(c.reason.as_str()).into_owned()),
                Cell::from(for_terminal(&c.destination).into_owned()),
                Cell::from(for_terminal(&c.host).into_owned()),
                Cell::from(state_text(c)).style(state_style(c.state, theme)),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(5),
            Constraint::Fill(2),
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Length(16),
        ],
    )
    .header(
        Row::new(["count", "reason", "destination", "sending host", "state"])
            .style(theme.heading()),
    )
    .row_highlight_style(theme.selected())
    .highlight_symbol("▶ ")
    .block(block(&format!("Causes ({})", view.causes.len())));
    let mut ts = TableState::default().with_selected(Some(state.causes.cursor.index()));
    frame.render_stateful_widget(table, list_area, &mut ts);

    if let Some(c) = state.causes.selected_cause() {
        frame.render_widget(
            Paragraph::new(evidence(
                c,
                state.triage.typos.get(&c.destination),
                &state.causes.checks,
                theme,
            ))
            .wrap(Wrap { trim: false })
            .block(block("Evidence")),
            detail_area,
        );
    }
}

fn state_text(c: &Cause) -> String {
    match c.state {
        CauseState::Unresolved => "unresolved".into(),
        CauseState::PartlyResolved => format!("{}/{} resolved", c.resolved, c.count),
        CauseState::Resolved => "resolved".into(),
        CauseState::FailedAgain => "failed again".into(),
    }
}

fn state_style(s: CauseState, theme: Theme) -> ratatui::style::Style {
    match s {
        CauseState::Unresolved | CauseState::FailedAgain => theme.expired(),
        CauseState::PartlyResolved => theme.hit(),
        CauseState::Resolved => theme.base(),
    }
}

fn evidence(
    c: &Cause,
    typo_of: Option<&String>,
    checks: &ChecksView,
    theme: Theme,
) -> Vec<Line<'static>> {
    let field = |name: &str, value: String| -> Line<'static> {
        Line::from(vec![
            Span::styled(format!("{name:<13}"), theme.heading()),
            Span::raw(value),
        ])
    };
    let destination_kind = if c.destination_is_provider {
        "provider"
    } else {
        "domain"
    };
    let domains: Vec<String> = c
        .top_domains
        .iter()
        .map(|(d, n)| format!("{} {n}", for_terminal(d)))
        .collect();
    let mut lines = vec![
        field(
            "Cause",
            format!(
                "{} at {} ({destination_kind}) from {}",
                for_terminal(c.reason.as_str()),
                for_terminal(&c.destination),
                for_terminal(&c.host)
            ),
        ),
        field(
            "Deliveries",
            format!(
                "{} failed: {} expired, {} deferred, {} bounced",
                thousands(c.count),
                thousands(c.expired),
                thousands(c.deferred),
                thousands(c.bounced)
            ),
        ),
        field(
            "Domains",
            format!("{}: {}", thousands(c.domain_count), domains.join(", ")),
        ),
        field(
            "Seen",
            format!(
                "{} to {}",
                time(c.first_seen, true),
                time(c.last_seen, true)
            ),
        ),
    ];
    let resolution = match &c.resolution {
        Some(r) => {
            let mut s = format!(
                "{} at {}",
                c.state.as_str(),
                time(Some(r.resolved_at), true)
            );
            if !r.note.is_empty() {
                s.push_str(&format!(" — {}", for_terminal(&r.note)));
            }
            s.push_str(&format!(
                " · {} covered, {} failed again after it",
                c.resolved, c.failed_after_resolution
            ));
            s
        }
        None => "unresolved: r records its fix".into(),
    };
    if let Some(meant) = typo_of {
        // No fix on the receiving side helps a mistyped address.
        lines.push(Line::from(Span::styled(
            format!(
                "{} looks like a typo of {}: correct the addresses; re-sending as is will fail again",
                for_terminal(&c.destination),
                for_terminal(meant)
            ),
            theme.expired(),
        )));
    }
    lines.push(field("Resolution", resolution));
    lines.extend(
        checked(c, checks)
            .into_iter()
            .enumerate()
            .map(|(i, text)| field(if i == 0 { "Checked" } else { "" }, text)),
    );
    for (i, e) in c.examples.iter().enumerate() {
        lines.push(field(
            if i == 0 { "Examples" } else { "" },
            for_terminal(e).into_owned(),
        ));
    }
    lines
}

/// The latest check of the cause, a line per domain it asked about: "3 min ago: fixed —
/// mx1.oldharbor.example answers 220"; "running…" while one runs; else how to run one.
fn checked(c: &Cause, checks: &ChecksView) -> Vec<String> {
    let running = checks.running.as_ref().is_some_and(|s| {
        s.reason == c.reason
            && s.destination.as_deref() == Some(c.destination.as_str())
            && s.host.as_deref() == Some(c.host.as_str())
    });
    let mine: Vec<_> = checks
        .latest
        .iter()
        .filter(|r| {
            r.cause == c.reason.as_str() && r.destination == c.destination && r.host == c.host
        })
        .collect();
    let mut lines: Vec<String> = mine
        .iter()
        .map(|r| {
            let age = checks
                .as_of
                .map_or(String::new(), |now| ago(now - r.checked_at));
            let domain = match &r.domain {
                Some(d) if !d.eq_ignore_ascii_case(&c.destination) => format!("{d}: "),
                _ => String::new(),
            };
            for_terminal(&format!(
                "{age}: {domain}{} — {}",
                r.result.as_str(),
                r.evidence
            ))
            .into_owned()
        })
        .collect();
    if running {
        lines.insert(0, "checking now…".into());
    } else if lines.is_empty() {
        lines.push("never: c checks it (DNS, MX, blocklists)".into());
    }
    lines
}

/// "just now", "3 min ago", "2h10m ago".
fn ago(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s => format!("{} ago", crate::wording::time_span(s)),
    }
}
