//! Whether a mail server answers: connect, read the banner, `EHLO`, `QUIT`. Never
//! `MAIL FROM`: a check must not look like, or be, a sending attempt.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// What one address did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// It answered with this reply code, and this first line of its banner.
    Banner {
        code: u16,
        line: String,
    },
    Refused,
    /// No route, network or host unreachable, or another connect error.
    Unreachable(std::io::ErrorKind),
    TimedOut,
    /// It accepted the connection and then said nothing SMTP.
    NoBanner(String),
}

impl Probe {
    pub fn answers_220(&self) -> bool {
        matches!(self, Probe::Banner { code: 220, .. })
    }

    /// Whether this says something of the host, not of this machine's own network (no
    /// route out at all says nothing about the receiver).
    pub fn is_about_the_host(&self) -> bool {
        !matches!(
            self,
            Probe::Unreachable(
                std::io::ErrorKind::NetworkUnreachable | std::io::ErrorKind::NetworkDown
            )
        )
    }

    /// "answers 220", "refused the connection" … (after a host name).
    pub fn describe(&self) -> String {
        match self {
            Probe::Banner { code, line } if line.is_empty() => format!("answers {code}"),
            Probe::Banner { code, line } => format!("answers {code} ({line})"),
            Probe::Refused => "refused the connection".into(),
            Probe::Unreachable(e) => format!("is unreachable ({e})"),
            Probe::TimedOut => "did not answer in time".into(),
            Probe::NoBanner(e) => format!("sent no SMTP banner ({e})"),
        }
    }
}

/// The longest reply line read, and the most lines of one reply: a server that sends more
/// is not answering SMTP.
const MAX_LINE: usize = 512;
const MAX_LINES: usize = 64;

/// Connects to `addr`, reads its banner, greets it and says goodbye, within `limit` for
/// the connection and `limit` for each reply.
pub async fn probe(addr: SocketAddr, limit: Duration) -> Probe {
    let stream = match timeout(limit, TcpStream::connect(addr)).await {
        Err(_) => return Probe::TimedOut,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Probe::Refused,
        Ok(Err(e)) => return Probe::Unreachable(e.kind()),
        Ok(Ok(s)) => s,
    };
    // An address literal of our own end: a greeting that claims no name it does not own.
    let ehlo = match stream.local_addr().map(|a| a.ip()) {
        Ok(std::net::IpAddr::V4(ip)) => format!("EHLO [{ip}]\r\n"),
        Ok(std::net::IpAddr::V6(ip)) => format!("EHLO [IPv6:{ip}]\r\n"),
        Err(_) => "EHLO [127.0.0.1]\r\n".to_string(),
    };
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let (code, line) = match timeout(limit, reply(&mut read)).await {
        Err(_) => return Probe::NoBanner("no banner in time".into()),
        Ok(Err(e)) => return Probe::NoBanner(e),
        Ok(Ok(r)) => r,
    };
    // The banner is the answer; the greeting and goodbye are manners, and their failure
    // changes nothing.
    if code == 220 && write.write_all(ehlo.as_bytes()).await.is_ok() {
        let _ = timeout(limit, reply(&mut read)).await;
    }
    if write.write_all(b"QUIT\r\n").await.is_ok() {
        let _ = timeout(limit, reply(&mut read)).await;
    }
    Probe::Banner { code, line }
}

/// One SMTP reply: its code and its first line's text (cleaned of anything a terminal
/// would act on), reading every continuation line.
async fn reply<R: AsyncBufReadExt + Unpin>(read: &mut R) -> Result<(u16, String), String> {
    let mut first: Option<(u16, String)> = None;
    for _ in 0..MAX_LINES {
        let mut buf = Vec::new();
        let n = (&mut *read)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|e| e.kind().to_string())?;
        if n == 0 {
            return Err("the connection closed".into());
        }
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim_end_matches(['\r', '\n']);
        let code = text
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| (200..600).contains(c))
            .ok_or_else(|| "not an SMTP reply".to_string())?;
        let rest = text.get(4..).unwrap_or("");
        if first.is_none() {
            first = Some((code, crate::sanitize::for_terminal(rest.trim()).to_string()));
        }
        if text.as_bytes().get(3) != Some(&b'-') {
            return first.ok_or_else(|| "empty reply".into());
        }
    }
    Err("a reply of too many lines".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_reply(bytes: &[u8]) -> Result<(u16, String), String> {
        let mut r = BufReader::new(bytes);
        reply(&mut r).await
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn replies() {
        assert_eq!(
            block(read_reply(b"220 mx1.example ESMTP\r\n")),
            Ok((220, "mx1.example ESMTP".into()))
        );
        assert_eq!(
            block(read_reply(
                b"250-mx1 hello\r\n250-SIZE 10\r\n250 8BITMIME\r\n"
            )),
            Ok((250, "mx1 hello".into()))
        );
        assert!(block(read_reply(b"HTTP/1.1 400 Bad\r\n")).is_err());
        assert!(block(read_reply(b"")).is_err());
        let endless = b"220-x\r\n".repeat(100);
        assert!(block(read_reply(&endless)).is_err());
    }
}
