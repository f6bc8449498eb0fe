//! The path between the servers: DNS, connections, TLS, the receiving system and the SMTP dialogue.

use crate::model::Reason;

pub(super) const PHRASES: &[(Reason, &[&str])] = &[
    (
        Reason::HostUnknown,
        &[
            r"host or domain name not found",
            r"name service error",
            r"domain (?:name )?not found",
            r"\bnxdomain\b",
            r"no mx (?:record|host|or a\b)",
            r"dns query failed",
            r"dns lookup failure",
            r"unrouteable address",
            r"unroutable address",
            r"host not found",
            r"host unknown",
            r"unknown host",
            r"domain does not exist",
            // A domain named before "does not exist" ("553 sorry, domain example.com
            // does not exist"): the domain, not a mailbox in it.
            r"\bdomain (?:name )?<?[a-z0-9][a-z0-9.-]{0,252}>? (?:does not|doesn't) exist",
            r"domain is not reachable",
            r"no such domain",
            r"domain must exist",
            r"unable to lookup dns",
            r"name or service not known",
            r"mail domain mentioned in email address is unknown",
            r"recipient address rejected: unknown domain",
            r"the account or domain may not exist",
        ],
    ),
    (
        Reason::SystemError,
        &[
            r"unknown mail transport error",
            r"mail transport unavailable",
            r"local configuration error",
            r"local error in processing",
            r"internal (?:server )?error",
            r"system (?:config(?:uration)? )?error",
            // A bare "temporary failure" names no cause (onhold); a local one does.
            r"temporary local (?:problem|failure)",
            r"temporary problem",
            // Gmail's (and ezmlm's) "4.3.0 Temporary System Problem. Try again later".
            r"temporary system problem",
            r"service (?:is )?(?:temporarily |currently )?unavailable",
            r"server configuration",
            r"loops? back to myself",
            r"could not load drd",
            r"transaction failed",
            r"interrupted system call",
            r"queue file write error",
            r"misconfigured",
            r"timeout waiting for input",
        ],
    ),
    (
        Reason::NetworkError,
        &[
            r"connection timed out",
            r"connection refused",
            r"network is unreachable",
            r"no route to host",
            r"host is unreachable",
            r"host not reachable",
            r"lost connection with",
            r"conversation with .{0,120} timed out",
            r"timed out while",
            r"connection reset",
            r"broken pipe",
            r"server (?:dropped|closed) the connection",
            r"all hosts for .{0,80} have been failing",
            r"retry time not reached",
            r"could not connect",
            r"unable to connect",
            r"failed to connect",
            // Exchange names the socket error of a connection that never opened.
            r"\bwinsock error\b",
            r"\bsocket error code\b",
            r"tls is required, but was not offered",
            r"malformed (?:or unexpected )?name server reply",
            r"mail (?:forwarding )?loop",
            r"routing loop",
            r"too many hops",
            r"hop count exceeded",
        ],
    ),
    (
        Reason::SystemFull,
        &[
            r"insufficient system storage",
            r"out of (?:disk|storage) space",
            r"spool (?:is )?full",
            r"mail system full",
        ],
    ),
    (
        Reason::NotAccept,
        &[
            r"null mx",
            r"does not accept (?:any )?mail",
            r"accepts no mail",
            r"not accepting (?:any )?(?:mail|messages)",
        ],
    ),
    (
        Reason::FailedStartTls,
        &[
            r"starttls",
            r"tls (?:negotiation|handshake) failed",
            r"must issue a starttls",
            r"requiretls",
        ],
    ),
    (
        Reason::MailerError,
        &[
            r"\bexit (?:code|status)\b",
            r"mailer error",
            r"command (?:died|failed|output)",
            r"procmail",
            r"unknown mailer error",
            r"pipe to .{0,80} failed",
        ],
    ),
    (
        Reason::SyntaxError,
        &[
            r"syntax error",
            r"command (?:parameter )?not (?:implemented|recognized)",
            r"unrecognized command",
            r"bad sequence of commands",
            r"improper sequence of commands",
        ],
    ),
];
