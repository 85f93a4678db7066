//! The SMTP transport (lettre over our own TCP connection with TCP_NODELAY):
//! TLS modes, AUTH when a username is set, connections reused.
//!
//! lettre's `AsyncSmtpTransport` never sets `TCP_NODELAY` and so manages
//! about 23 messages a second on one connection; we connect the socket
//! ourselves and hand it to `AsyncSmtpConnection::connect_with_transport`.
//!
//! Errors: a 5xx answer to MAIL, RCPT or the message is permanent; a 4xx,
//! a lost connection, a TLS failure or a timeout is temporary. Failures
//! while connecting (greeting, EHLO, STARTTLS, AUTH) are temporary even when
//! the server says 5xx: a wrong password or a server refusing us is not the
//! message's fault, and the message must wait until an admin fixes it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::{Address, Envelope as SmtpEnvelope};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
    /// The open connection, if any, and when it was last used.
    conn: Option<(AsyncSmtpConnection, Instant)>,
    /// The rustls config for implicit TLS, built on first use.
    tls_config: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    /// lettre's TLS parameters for STARTTLS, built on first use.
    starttls: Option<TlsParameters>,
}

impl SmtpTransport {
    /// Takes a checked config (`kind = "smtp"`, paths absolute, password resolved).
    pub fn new(cfg: &config::Outgoing) -> Self {
        SmtpTransport {
            cfg: cfg.clone(),
            conn: None,
            tls_config: None,
            starttls: None,
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
    async fn connect(&mut self) -> Result<AsyncSmtpConnection, SendError> {
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

        let setup = async {
            let mut conn = match mode {
                Tls::Implicit => {
                    if self.tls_config.is_none() {
                        self.tls_config = Some(
                            tls::client_config(self.cfg.ca_file.as_deref())
                                .map_err(|e| temp("TLS config", &e))?,
                        );
                    }
                    let config = self.tls_config.clone().expect("set just above");
                    let name = tls::server_name(&host).map_err(|e| temp("TLS", &e))?;
                    let stream = TlsConnector::from(config)
                        .connect(name, tcp)
                        .await
                        .map_err(|e| temp("TLS handshake", &e))?;
                    AsyncSmtpConnection::connect_with_transport(
                        Box::new(TlsStreamWrapper(stream)),
                        &hello,
                    )
                    .await
                    .map_err(|e| temp("greeting", &e))?
                }
                Tls::Starttls | Tls::None => {
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                        .await
                        .map_err(|e| temp("greeting", &e))?
                }
            };
            if mode == Tls::Starttls {
                if self.starttls.is_none() {
                    self.starttls = Some(self.starttls_parameters(&host)?);
                }
                let params = self.starttls.clone().expect("set just above");
                conn.starttls(params, &hello)
                    .await
                    .map_err(|e| temp("STARTTLS", &e))?;
            }
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
        Ok(conn)
    }

    fn starttls_parameters(&self, host: &str) -> Result<TlsParameters, SendError> {
        let temp = |what: &str, e: &dyn std::fmt::Display| {
            SendError::Temporary(format!("smtp {host}: {what}: {e}"))
        };
        let mut builder = TlsParameters::builder(host.to_string());
        if let Some(path) = &self.cfg.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| temp(&format!("cannot read CA file `{}`", path.display()), &e))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| temp(&format!("CA file `{}`", path.display()), &e))?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build_rustls().map_err(|e| temp("TLS config", &e))
    }

    /// The open connection if it still works, else a new one.
    async fn connection(&mut self) -> Result<AsyncSmtpConnection, SendError> {
        if let Some((mut conn, last_used)) = self.conn.take() {
            if !conn.has_broken()
                && (last_used.elapsed() < CHECK_AFTER_IDLE
                    || timeout(TIMEOUT, conn.test_connected())
                        .await
                        .unwrap_or(false))
            {
                return Ok(conn);
            }
            debug!("smtp connection gone; reconnecting");
        }
        self.connect().await
    }

    /// Closes the connection politely (QUIT), if one is open.
    pub async fn close(&mut self) {
        if let Some((mut conn, _)) = self.conn.take() {
            let _ = timeout(Duration::from_secs(5), conn.quit()).await;
        }
    }
}

impl Transport for SmtpTransport {
    async fn send(&mut self, env: &Envelope) -> Result<(), SendError> {
        let envelope = smtp_envelope(env)?;
        let body = wire_body(&env.raw);
        let mut conn = self.connection().await?;
        let result = timeout(TIMEOUT, conn.send(&envelope, &body)).await;
        match result {
            Ok(Ok(response)) => {
                debug!(id = env.id, code = %response.code(), "smtp sent");
                self.conn = Some((conn, Instant::now()));
                Ok(())
            }
            Ok(Err(e)) => {
                // A rejected recipient aborts lettre's connection; a code on
                // the message itself leaves it usable.
                if e.status().is_some() && !conn.has_broken() {
                    self.conn = Some((conn, Instant::now()));
                }
                let err = classify(&e);
                warn!(id = env.id, error = %err, "smtp send failed");
                Err(err)
            }
            Err(_) => {
                warn!(id = env.id, "smtp send timed out");
                Err(SendError::Temporary(format!(
                    "smtp: no answer within {} s",
                    TIMEOUT.as_secs()
                )))
            }
        }
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

/// Implicit TLS for lettre: it has no public way to run its own TLS over a
/// stream we connected, so the rustls stream goes in as a plain stream.
#[derive(Debug)]
struct TlsStreamWrapper(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for TlsStreamWrapper {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStreamWrapper {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

impl AsyncTokioStream for TlsStreamWrapper {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
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
