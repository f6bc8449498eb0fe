//! Delivery: the outcome, its cause, the message's facts and the attempt timeline.

use crate::wording::plural_with;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::state::AppState;
use crate::classify::EnhancedCode;
use crate::sanitize::for_terminal;

use super::text::time;
use super::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true));
    let Some(d) = &state.delivery.detail else {
        frame.render_widget(Paragraph::new("loading…").block(block), area);
        return;
    };
    let clean = |s: &Option<String>| for_terminal(s.as_deref().unwrap_or("-")).into_owned();
    let field = |name: &str, value: String| -> Line<'static> {
        Line::from(vec![
            Span::styled(format!("{name:<14}"), theme.heading()),
            Span::raw(value),
        ])
    };
    let label = d
        .code
        .parse::<EnhancedCode>()
        .map(|c| c.label())
        .unwrap_or("");
    let status_style = if d.status == crate::model::DeliveryStatus::Expired {
        theme.expired()
    } else {
        theme.base()
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<14}", "Outcome"), theme.heading()),
            Span::styled(d.status.as_str(), status_style),
            Span::raw(format!(" · {} {label}", for_terminal(&d.code))),
        ]),
        field(
            "Cause",
            match (&d.cause, &d.reason) {
                (Some(c), _) => for_terminal(c.as_str()).into_owned(),
                (None, Some(r)) => for_terminal(r.as_str()).into_owned(),
                _ => "-".into(),
            },
        ),
    ];
    if d.last_deferral_text.is_some() {
        lines.push(field(
            "Last deferral",
            format!(
                "{} {}",
                clean(&d.last_deferral_code),
                clean(&d.last_deferral_text)
            ),
        ));
        // A cause this message did not meet itself (its lines are suspensions or the
        // expiry line, which repeat an earlier error) is said to come from elsewhere; the
        // message's own attempts are listed below.
        if let Some(origin) = crate::model::delivery::CauseOrigin::find(
            &d.attempts,
            d.last_deferral_text.as_deref(),
            d.expired_source.as_deref(),
        )
        .filter(|o| !o.own_attempt)
        {
            lines.push(field(
                "Cause from",
                for_terminal(&origin.describe_at(&time(Some(origin.ts), true))).into_owned(),
            ));
        }
    }
    if d.final_text.is_some() {
        lines.push(field("Final reply", clean(&d.final_text)));
    }
    if let Some(at) = d.expired_at {
        lines.push(field(
            "Expired",
            format!("{} ({})", time(Some(at), true), clean(&d.expired_source)),
        ));
    }
    lines.push(field("Recipient", for_terminal(&d.recipient).into_owned()));
    if let Some(t) = &d.typo_of {
        lines.push(field(
            "Typo?",
            format!(
                "{} looks like {}: {}",
                for_terminal(&d.domain),
                for_terminal(t),
                for_terminal(&crate::classify::typo::why(&d.domain, t))
            ),
        ));
    }
    lines.push(field("Sender", clean(&d.sender)));
    // A delivery known only from a bounce report is keyed by its Message-ID: that is no
    // queue id, and showing it as one would send the user looking in the wrong queue.
    let queue = if d.queue_id.contains('@') || d.message_id.as_deref() == Some(d.queue_id.as_str())
    {
        "queue id unknown (no log line)".to_string()
    } else {
        format!("queue id {}", for_terminal(&d.queue_id))
    };
    lines.push(field(
        "Message",
        format!("{queue} · Message-ID {}", clean(&d.message_id)),
    ));
    if d.subject.is_some() {
        lines.push(field("Subject", clean(&d.subject)));
    }
    lines.push(field(
        "Route",
        format!(
            "from {} to {} ({})",
            for_terminal(&d.host),
            clean(&d.relay),
            clean(&d.provider)
        ),
    ));
    lines.push(field("Decided at", clean(&d.source)));
    if d.bounces.is_empty() {
        lines.push(field(
            "Bounce report",
            "none linked to this delivery".into(),
        ));
    }
    for b in &d.bounces {
        let mut summary = vec![for_terminal(&b.kind).into_owned()];
        match (b.reply_code, &b.status) {
            (Some(r), Some(s)) => summary.push(format!("{r} {}", for_terminal(s))),
            (Some(r), None) => summary.push(r.to_string()),
            (None, Some(s)) => summary.push(for_terminal(s).into_owned()),
            (None, None) => {}
        }
        summary.push(for_terminal(b.reason.as_str()).into_owned());
        summary.push(if b.linked_by == "none" {
            "bounce only: no logged delivery matched".to_string()
        } else {
            format!("matched by {}", for_terminal(&b.linked_by))
        });
        if b.reported_at.is_some() {
            summary.push(time(b.reported_at, true));
        }
        lines.push(field("Bounce report", summary.join(" · ")));
        if let Some(c) = &b.conflict {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<14}", "  Conflict"), theme.heading()),
                Span::styled(
                    format!("{} (the log's outcome stands)", for_terminal(c)),
                    theme.error(),
                ),
            ]));
        }
        lines.push(field("  File", for_terminal(&b.report).into_owned()));
        if let Some(mta) = &b.remote_mta {
            // The Remote-MTA is the receiving server that gave the error, not the
            // server that wrote the report.
            lines.push(field("  Remote MTA", for_terminal(mta).into_owned()));
        }
        lines.push(field(
            "  Diagnostic",
            for_terminal(&b.diagnostic).into_owned(),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            "Timeline ({})",
            plural_with(
                d.attempts.iter().map(|a| u64::from(a.repeats)).sum(),
                "log line",
                "log lines"
            )
        ),
        theme.heading(),
    ));
    for a in &d.attempts {
        let code = match (&a.code, a.reply_code) {
            (Some(c), Some(r)) => format!("{r} {}", for_terminal(c)),
            (Some(c), None) => for_terminal(c).into_owned(),
            (None, Some(r)) => r.to_string(),
            (None, None) => "-".into(),
        };
        let style = if a.status == crate::model::AttemptStatus::Deferred {
            theme.base()
        } else {
            theme.expired()
        };
        // A report's "last error" is what the report quotes, not an attempt of this log.
        let quoted = a.status == crate::model::AttemptStatus::Deferred
            && a.source
                .as_deref()
                .is_some_and(|src| d.bounces.iter().any(|b| src.starts_with(b.report.as_str())));
        let status = if quoted {
            "reported"
        } else {
            a.status.as_str()
        };
        let mut row = vec![
            Span::raw(format!("{}  ", time(Some(a.ts), true))),
            Span::styled(format!("{status:<9}"), style),
            Span::raw(format!("{code:<10} {}", clean(&a.relay))),
        ];
        if a.repeats > 1 {
            // The same reply again and again: one line, with how often and until when.
            row.push(Span::styled(
                format!("  ×{} until {}", a.repeats, time(Some(a.last_ts), true)),
                theme.heading(),
            ));
        }
        lines.push(Line::from(row));
        lines.push(Line::styled(
            format!("    {}", clean(&a.text)),
            theme.muted(),
        ));
    }
    // The lines as the log has them, read back from the files (control sequences escaped).
    lines.push(Line::raw(""));
    match &state.delivery.raw {
        None => lines.push(Line::styled("Log lines: reading…", theme.muted())),
        Some(raw) => {
            lines.push(Line::styled(
                format!(
                    "Log lines ({})",
                    plural_with(raw.lines.len() as u64, "line", "lines")
                ),
                theme.heading(),
            ));
            for note in &raw.notes {
                lines.push(Line::styled(for_terminal(note).into_owned(), theme.error()));
            }
            for (source, text) in &raw.lines {
                lines.push(Line::styled(
                    for_terminal(source).into_owned(),
                    theme.muted(),
                ));
                lines.push(Line::raw(format!("    {}", for_terminal(text))));
            }
        }
    }
    let paragraph = super::text::scrolled(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        area,
        state.delivery.scroll.offset,
        &state.delivery.scroll.max,
    );
    frame.render_widget(
        paragraph.block(block.title(Line::styled(
            format!(" {} ", for_terminal(&d.recipient)),
            theme.title(),
        ))),
        area,
    );
}
