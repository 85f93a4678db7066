//! The SMTP transport (lettre over our own TCP connection with TCP_NODELAY):
//! TLS modes, AUTH when a username is set, connections reused.
//!
//! lettre's `AsyncSmtpTransport` never sets `TCP_NODELAY` and so manages
//! about 23 messages a second on one connection; we connect the socket
//! ourselves and hand it to `AsyncSmtpConnection::connect_with_transport`.
//! TLS is ours too, in both modes (for STARTTLS we speak the plain part,
//! `starttls`), so that a certificate named in `ca_file` is pinned as for
//! IMAP (`crate::tls`): lettre's own TLS cannot take a custom verifier.
//!
//! Errors: a 5xx answer to MAIL, RCPT or the message is permanent; a 4xx,
//! a lost connection, a TLS failure or a timeout is temporary. Failures
//! while connecting (greeting, EHLO, STARTTLS, AUTH) are temporary even when
//! the server says 5xx: a wrong password or a server refusing us is not the
//! message's fault, and the message must wait until an admin fixes it.
//!
//! A transaction is driven step by step (MAIL, RCPT, DATA, the message), so
//! that a lost connection is judged by how far it got:
//! - before the message data was handed over (MAIL, RCPT, DATA, or a write
//!   of the data that failed), nothing was delivered: the message is tried
//!   once more at once on a new connection (a server restarted between two
//!   sends goes unnoticed), then it is a temporary failure;
//! - once the data was written and the server's answer is missing (the
//!   connection closed, reset or timed out while we waited for it), the
//!   server may have queued it: the send is *uncertain* and must never be
//!   repeated (see `uncertain` below).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::{Address, Envelope as SmtpEnvelope};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf,
};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tracing::{debug, warn};

use super::{Envelope, SendError, Transport};
use crate::config::{self, Tls};
use crate::tls;

/// How long a connect (TCP, TLS, greeting, EHLO, AUTH) or one send may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A connection idle longer than this is checked with NOOP before reuse; one
/// used just now is trusted, which saves a round trip per message in a burst.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Sends over SMTP, keeping one connection open between sends.
pub struct SmtpTransport {
    cfg: config::Outgoing,
    /// The open connection, if any.
    conn: Option<Open>,
    /// A connection `begin` took to DATA for this row, waiting for `send`.
    begun: Option<(i64, Open)>,
    /// The rustls config (`ca_file` trusted or pinned, see `tls`), built on
    /// first use.
    tls_config: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
}

/// An open connection, when it was last used, and how many writes on its
/// socket have failed.
struct Open {
    conn: AsyncSmtpConnection,
    last_used: Instant,
    write_errors: Arc<AtomicUsize>,
}

/// The send may have been delivered, or not: the data went out and the
/// server's answer never came. Such a send must never be repeated.
///
/// The row becomes `unknown`, as one found `sending` after a crash: never
/// sent again, shown to admins in the digest.
fn uncertain(why: String) -> SendError {
    SendError::Uncertain(format!(
        "{UNCERTAIN}: {why}; not sent again, it may or may not have been delivered"
    ))
}

/// How an uncertain send's error begins (for tests and admins).
pub const UNCERTAIN: &str = "interrupted after the message was handed over";

impl SmtpTransport {
    /// Takes a checked config (`kind = "smtp"`, paths absolute, password resolved).
    pub fn new(cfg: &config::Outgoing) -> Self {
        SmtpTransport {
            cfg: cfg.clone(),
            conn: None,
            begun: None,
            tls_config: None,
        }
    }

    fn tls_mode(&self) -> Tls {
        self.cfg.tls.unwrap_or(Tls::Starttls)
    }

    fn host(&self) -> Result<&str, SendError> {
        self.cfg
            .host
            .as_deref()
            .ok_or_else(|| SendError::Temporary("smtp: no host configured".into()))
    }

    fn port(&self) -> u16 {
        self.cfg.port.unwrap_or(match self.tls_mode() {
            Tls::Implicit => 465,
            Tls::Starttls => 587,
            Tls::None => 25,
        })
    }

    /// Opens a new connection: TCP with TCP_NODELAY, TLS as configured, EHLO,
    /// AUTH when a username is set.
    async fn connect(&mut self) -> Result<Open, SendError> {
        let host = self.host()?.to_string();
        let port = self.port();
        let mode = self.tls_mode();
        let temp = |what: &str, e: &dyn std::fmt::Display| {
            SendError::Temporary(format!("smtp {host}:{port}: {what}: {e}"))
        };
        if mode == Tls::None && !tls::is_loopback(&host) {
            return Err(SendError::Temporary(format!(
                "smtp {host}:{port}: tls = \"none\" is only allowed to 127.0.0.1, ::1 or localhost"
            )));
        }
        let hello = ClientId::default();
        let tcp = timeout(TIMEOUT, TcpStream::connect((host.as_str(), port)))
            .await
            .map_err(|e| temp("connect", &e))?
            .map_err(|e| temp("connect", &e))?;
        tcp.set_nodelay(true).map_err(|e| temp("TCP_NODELAY", &e))?;
        let write_errors = Arc::new(AtomicUsize::new(0));

        let setup = async {
            // TLS is ours in both modes, so that `ca_file` is read the same
            // way (pinned or a CA, see `tls`): for STARTTLS the plain part
            // is spoken here, and lettre starts on the TLS stream as on a
            // new connection (the greeting it waits for is given to it).
            let mut conn = match mode {
                Tls::None => {
                    let plain = Watched::new(tcp, write_errors.clone());
                    AsyncSmtpConnection::connect_with_transport(Box::new(plain), &hello).await
                }
                Tls::Implicit | Tls::Starttls => {
                    let tcp = match mode {
                        Tls::Starttls => starttls(tcp, &hello.to_string())
                            .await
                            .map_err(|e| temp("STARTTLS", &e))?,
                        _ => tcp,
                    };
                    let stream = self.handshake(tcp, &host, port).await?;
                    let mut watched = Watched::new(stream, write_errors.clone());
                    if mode == Tls::Starttls {
                        // The server said its 220 before TLS and says
                        // nothing now: lettre waits for one.
                        watched = watched.greeted();
                    }
                    AsyncSmtpConnection::connect_with_transport(Box::new(watched), &hello).await
                }
            }
            .map_err(|e| temp("greeting", &e))?;
            if let Some(user) = &self.cfg.username {
                let creds =
                    Credentials::new(user.clone(), self.cfg.password.clone().unwrap_or_default());
                conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds)
                    .await
                    .map_err(|e| temp("AUTH", &e))?;
            }
            Ok::<_, SendError>(conn)
        };
        let conn = timeout(TIMEOUT, setup)
            .await
            .map_err(|e| temp("connection setup", &e))??;
        debug!(host, port, ?mode, "smtp connected");
        Ok(Open {
            conn,
            last_used: Instant::now(),
            write_errors,
        })
    }

    /// The TLS handshake on `tcp`, with `ca_file` trusted or pinned; a
    /// refused certificate is said in plain words (`tls::explain_error`).
    async fn handshake(
        &mut self,
        tcp: TcpStream,
        host: &str,
        port: u16,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, SendError> {
        let temp = |what: &str, e: String| {
            SendError::Temporary(format!("smtp {host}:{port}: {what}: {e}"))
        };
        if self.tls_config.is_none() {
            self.tls_config = Some(
                tls::client_config(self.cfg.ca_file.as_deref())
                    .map_err(|e| temp("TLS config", e.to_string()))?,
            );
        }
        let config = self.tls_config.clone().expect("set just above");
        let name = tls::server_name(host).map_err(|e| temp("TLS", e.to_string()))?;
        TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| {
                let words = tls::explain_error(&e).unwrap_or_else(|| e.to_string());
                temp("TLS handshake", words)
            })
    }

    /// The open connection if it still works, else a new one. Returns
    /// whether it is new.
    async fn connection(&mut self) -> Result<(Open, bool), SendError> {
        if let Some(mut open) = self.conn.take() {
            if !open.conn.has_broken()
                && (open.last_used.elapsed() < CHECK_AFTER_IDLE
                    || timeout(TIMEOUT, open.conn.test_connected())
                        .await
                        .unwrap_or(false))
            {
                return Ok((open, false));
            }
            debug!("smtp connection gone; reconnecting");
        }
        Ok((self.connect().await?, true))
    }

    /// Closes the connection politely (QUIT), if one is open.
    pub async fn close(&mut self) {
        if let Some(mut open) = self.conn.take() {
            let _ = timeout(Duration::from_secs(5), open.conn.quit()).await;
        }
    }
}

/// MAIL's parameters: SMTPUTF8 for non-ASCII addresses, 8BITMIME for a
/// non-ASCII message. A server without them can never take this message
/// as it is: permanent (lettre's `send` refuses it the same way).
fn mail_options(
    conn: &AsyncSmtpConnection,
    envelope: &SmtpEnvelope,
    body: &[u8],
) -> Result<Vec<MailParameter>, SendError> {
    let mut options = Vec::new();
    let ascii = |a: &Address| AsRef::<str>::as_ref(a).is_ascii();
    let non_ascii =
        envelope.from().is_some_and(|a| !ascii(a)) || envelope.to().iter().any(|a| !ascii(a));
    if non_ascii {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(SendError::Permanent(
                "the envelope has non-ASCII addresses but the server has no SMTPUTF8".into(),
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !body.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(SendError::Permanent(
                "the message is not ASCII but the server has no 8BITMIME".into(),
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    Ok(options)
}

/// The part of a transaction before the message: MAIL, RCPT for each
/// recipient, DATA (answered 354). Nothing is handed over yet.
async fn envelope_steps(
    conn: &mut AsyncSmtpConnection,
    envelope: &SmtpEnvelope,
    options: Vec<MailParameter>,
) -> Result<(), lettre::transport::smtp::Error> {
    conn.command(Mail::new(envelope.from().cloned(), options))
        .await?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![])).await?;
    }
    conn.command(Data).await?;
    Ok(())
}

impl Transport for SmtpTransport {
    /// Connects if need be (greeting, TLS, EHLO, AUTH), then MAIL, RCPT and
    /// DATA: the sender marks the row `sending` only after this, so that
    /// dying here leaves nothing uncertain. A connection that breaks on the
    /// way is replaced once, at once.
    async fn begin(&mut self, env: &Envelope) -> Result<(), SendError> {
        self.begun = None;
        let envelope = smtp_envelope(env)?;
        let body = wire_body(&env.raw);
        for try_no in 1..=2 {
            let (mut open, fresh) = match self.connection().await {
                Ok(c) => c,
                Err(e) => {
                    warn!(id = env.id, error = %e, "smtp connect failed");
                    return Err(e);
                }
            };
            let options = match mail_options(&open.conn, &envelope, &body) {
                Ok(o) => o,
                Err(e) => {
                    self.conn = Some(open);
                    return Err(e);
                }
            };
            let error =
                match timeout(TIMEOUT, envelope_steps(&mut open.conn, &envelope, options)).await {
                    Ok(Ok(())) => {
                        self.begun = Some((env.id, open));
                        return Ok(());
                    }
                    Ok(Err(error)) => error,
                    Err(_) => {
                        warn!(id = env.id, "smtp envelope timed out");
                        return Err(SendError::Temporary(format!(
                            "smtp: no answer within {} s",
                            TIMEOUT.as_secs()
                        )));
                    }
                };
            if let Some(code) = error.status() {
                // A refused MAIL, RCPT or DATA: certain. The transaction is
                // reset and the connection stays.
                if timeout(TIMEOUT, open.conn.command(Rset))
                    .await
                    .is_ok_and(|r| r.is_ok())
                {
                    open.last_used = Instant::now();
                    self.conn = Some(open);
                }
                let err = classify(&error);
                warn!(id = env.id, %code, error = %err, "smtp send refused");
                return Err(err);
            }
            // The connection is gone (closed, reset, garbled): drop it.
            drop(open);
            if try_no == 2 {
                let err = SendError::Temporary(error.to_string());
                warn!(id = env.id, error = %err, "smtp send failed");
                return Err(err);
            }
            warn!(id = env.id, error = %error, fresh, "smtp connection lost before the message was handed over; trying a new one");
        }
        unreachable!("the second try returns")
    }

    /// Hands over the message `begin` made ready for (beginning it first
    /// when it was not). A connection lost once the data was written is
    /// uncertain; one whose write of the data failed delivered nothing, and
    /// the message is sent once more at once on a new connection.
    async fn send(&mut self, env: &Envelope) -> Result<(), SendError> {
        let body = wire_body(&env.raw);
        for try_no in 1..=2 {
            let mut open = match self.begun.take() {
                Some((id, open)) if id == env.id => open,
                _ => {
                    self.begin(env).await?;
                    self.begun.take().expect("begun just above").1
                }
            };
            let before = open.write_errors.load(Ordering::SeqCst);
            let error = match timeout(TIMEOUT, open.conn.message(&body)).await {
                Ok(Ok(response)) => {
                    debug!(id = env.id, code = %response.code(), "smtp sent");
                    open.last_used = Instant::now();
                    self.conn = Some(open);
                    return Ok(());
                }
                Ok(Err(error)) => error,
                Err(_) => {
                    // The connection is dropped; the data may have been taken.
                    warn!(id = env.id, "smtp send timed out");
                    return Err(uncertain(format!(
                        "no answer within {} s",
                        TIMEOUT.as_secs()
                    )));
                }
            };
            if let Some(code) = error.status() {
                // The message was refused: certain, and the connection stays.
                open.last_used = Instant::now();
                self.conn = Some(open);
                let err = classify(&error);
                warn!(id = env.id, %code, error = %err, "smtp message refused");
                return Err(err);
            }
            let write_failed = open.write_errors.load(Ordering::SeqCst) != before;
            drop(open);
            if !write_failed {
                warn!(id = env.id, error = %error, "smtp connection lost after the message was handed over");
                return Err(uncertain(error.to_string()));
            }
            // The data never fully left: nothing was delivered.
            if try_no == 2 {
                let err = SendError::Temporary(error.to_string());
                warn!(id = env.id, error = %err, "smtp send failed");
                return Err(err);
            }
            warn!(id = env.id, error = %error, "smtp connection lost before the message was handed over; trying a new one");
        }
        unreachable!("the second try returns")
    }

    fn abandon(&mut self) {
        // The half transaction goes with its connection.
        self.begun = None;
    }
}

/// MAIL FROM and RCPT TO from our envelope. An empty `from` is the null
/// sender `<>`. An address lettre cannot parse will never send: permanent.
fn smtp_envelope(env: &Envelope) -> Result<SmtpEnvelope, SendError> {
    let parse = |a: &str| {
        a.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .parse::<Address>()
            .map_err(|e| SendError::Permanent(format!("bad address `{a}`: {e}")))
    };
    let from = match env.from.trim() {
        "" | "<>" => None,
        f => Some(parse(f)?),
    };
    let to = env
        .to
        .iter()
        .map(|a| parse(a))
        .collect::<Result<Vec<_>, _>>()?;
    SmtpEnvelope::new(from, to).map_err(|e| SendError::Permanent(format!("envelope: {e}")))
}

/// The message as it goes between DATA and the final dot: CRLF line ends
/// (a bare LF becomes CRLF, so a line with a single dot can never end the
/// data early), without the final CRLF that lettre adds itself.
fn wire_body(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let bare_lf = raw
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || raw[i - 1] != b'\r'));
    let mut body = if bare_lf {
        let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
        for (i, &b) in raw.iter().enumerate() {
            if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
                out.push(b'\r');
            }
            out.push(b);
        }
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(raw)
    };
    if body.ends_with(b"\r\n") {
        let n = body.len() - 2;
        match &mut body {
            std::borrow::Cow::Borrowed(b) => *b = &b[..n],
            std::borrow::Cow::Owned(v) => v.truncate(n),
        }
    }
    body
}

/// 5xx -> permanent; a client-side refusal (SMTPUTF8 or 8BITMIME missing)
/// -> permanent; everything else -> temporary.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() || e.is_client() {
        SendError::Permanent(e.to_string())
    } else {
        SendError::Temporary(e.to_string())
    }
}

/// The plain part of STARTTLS (RFC 3207): the greeting, EHLO, STARTTLS and
/// its 220; returns the socket to start TLS on. Anything the server sent
/// beyond the 220 is refused (it would be read as if it came over TLS).
async fn starttls(tcp: TcpStream, client: &str) -> io::Result<TcpStream> {
    let mut conn = BufReader::new(tcp);
    reply(&mut conn, "220", "greeting").await?;
    conn.get_mut()
        .write_all(format!("EHLO {client}\r\n").as_bytes())
        .await?;
    let ehlo = reply(&mut conn, "250", "EHLO").await?;
    if !ehlo.iter().any(|l| {
        l.get(4..)
            .is_some_and(|k| k.trim().eq_ignore_ascii_case("STARTTLS"))
    }) {
        return Err(io::Error::other(
            "the server does not offer STARTTLS (tls = \"implicit\" on port 465, or \"none\" to 127.0.0.1)",
        ));
    }
    conn.get_mut().write_all(b"STARTTLS\r\n").await?;
    reply(&mut conn, "220", "STARTTLS").await?;
    if !conn.buffer().is_empty() {
        return Err(io::Error::other(
            "the server sent more after its STARTTLS answer (refused: it could be injected)",
        ));
    }
    Ok(conn.into_inner())
}

/// One SMTP reply, all its lines; an error unless its code is `code`.
async fn reply(conn: &mut BufReader<TcpStream>, code: &str, what: &str) -> io::Result<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        // A line longer than any SMTP reply's is cut off, not buffered.
        let n = (&mut *conn).take(4096).read_line(&mut line).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the server closed the connection before its {what} answer"),
            ));
        }
        let line = line.trim_end().to_string();
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line);
        if last || lines.len() > 100 {
            break;
        }
    }
    match lines.last() {
        Some(l) if l.starts_with(code) => Ok(lines),
        _ => Err(io::Error::other(format!(
            "the server answered {what} with: {}",
            lines.join(" / ")
        ))),
    }
}

/// The socket under lettre: our TCP stream, or our rustls stream (lettre
/// has no public way to run its own TLS over a stream we connected). It
/// counts failed writes, so that a send can tell a
/// message that never fully left (a write failed) from one whose answer
/// was lost.
#[derive(Debug)]
struct Watched<S> {
    inner: S,
    write_errors: Arc<AtomicUsize>,
    /// Read before `inner`: the greeting lettre waits for after our STARTTLS.
    greeting: &'static [u8],
}

impl<S> Watched<S> {
    fn new(inner: S, write_errors: Arc<AtomicUsize>) -> Self {
        Watched {
            inner,
            write_errors,
            greeting: b"",
        }
    }
    /// Reads a greeting first: TLS began by STARTTLS, the server's own
    /// greeting came before it.
    fn greeted(mut self) -> Self {
        self.greeting = b"220 TLS started by STARTTLS\r\n";
        self
    }
    fn note<T>(&self, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if let Poll::Ready(Err(_)) = &r {
            self.write_errors.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.greeting.is_empty() {
            let n = self.greeting.len().min(buf.remaining());
            buf.put_slice(&self.greeting[..n]);
            self.greeting = &self.greeting[n..];
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note(r)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.note(r)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note(r)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl AsyncTokioStream for Watched<TcpStream> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

impl AsyncTokioStream for Watched<tokio_rustls::client::TlsStream<TcpStream>> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().0.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_body_keeps_crlf_and_drops_the_last_one() {
        assert_eq!(&*wire_body(b"A: b\r\n\r\nhi\r\n"), b"A: b\r\n\r\nhi");
        assert_eq!(&*wire_body(b"A: b\r\n\r\nhi"), b"A: b\r\n\r\nhi");
        assert_eq!(
            &*wire_body(b"A: b\n\nhi\n.\nx\n"),
            b"A: b\r\n\r\nhi\r\n.\r\nx"
        );
    }

    #[test]
    fn envelope_null_sender_and_bad_address() {
        let env = Envelope {
            id: 1,
            from: "".into(),
            to: vec!["<a@example.test>".into()],
            raw: vec![],
        };
        let e = smtp_envelope(&env).unwrap();
        assert!(e.from().is_none());
        let bad = Envelope {
            to: vec!["not an address".into()],
            ..env
        };
        assert!(matches!(smtp_envelope(&bad), Err(SendError::Permanent(_))));
    }
}
