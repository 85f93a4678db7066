//! Self-signed servers and private CAs against the real Dovecot and Postfix:
//! a certificate named in `ca_file` is pinned (exactly that certificate),
//! anything else is verified in full, and a refused handshake says in plain
//! words what is wrong.

use std::path::{Path, PathBuf};
use std::time::Duration;

use postbud::config::Tls;
use postbud::intake::Mailbox;
use postbud::intake::imap::ImapMailbox;
use postbud::outbox::smtp::SmtpTransport;
use postbud::outbox::{SendError, Transport};

use crate::support::{MailStack, init_logging};
use crate::transport::envelope;

const USER: &str = "post@forbund.example";
const WAIT: Duration = Duration::from_secs(15);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// The stack serving what `openssl req -x509` makes by default (CA:TRUE, for
/// mail.example.test, no subjectAltName), as small installations do.
fn self_signed_stack() -> MailStack {
    MailStack::start_with_cert(&fixture("selfsigned.pem"), &fixture("selfsigned-key.pem"))
}

fn message() -> Vec<u8> {
    b"From: Medlem <medlem@example.no>\r\nTo: <post@forbund.example>\r\n\
      Subject: KODE\r\nMessage-ID: <tls-1@example.no>\r\n\r\nKODE\r\n"
        .to_vec()
}

async fn fetch_one(stack: &MailStack, tls: Tls, ca: &Path) -> Result<usize, String> {
    let mut cfg = stack.imap_config(USER, tls);
    cfg.ca_file = Some(ca.to_path_buf());
    let mut mb = ImapMailbox::new(&cfg);
    mb.fetch(10)
        .await
        .map(|got| got.len())
        .map_err(|e| format!("{e:#}"))
}

async fn send_one(stack: &MailStack, tls: Tls, ca: &Path, to: &str) -> Result<(), SendError> {
    let mut cfg = stack.smtp_config(tls, Some(USER));
    cfg.ca_file = Some(ca.to_path_buf());
    let mut t = SmtpTransport::new(&cfg);
    let sent = t.send(&envelope(1, USER, to)).await;
    t.close().await;
    sent
}

#[tokio::test]
async fn a_pinned_self_signed_certificate_is_trusted_by_imap_and_smtp() {
    init_logging();
    let stack = self_signed_stack();
    stack.append_all(USER, "INBOX", &[&message()]).await;
    let pin = fixture("selfsigned.pem");
    assert_eq!(fetch_one(&stack, Tls::Implicit, &pin).await, Ok(1));
    for (tls, to) in [
        (Tls::Starttls, "a@example.test"),
        (Tls::Implicit, "b@example.test"),
    ] {
        send_one(&stack, tls, &pin, to)
            .await
            .unwrap_or_else(|e| panic!("send over {tls:?} to a pinned server: {e}"));
        assert_eq!(stack.wait_for(to, "INBOX", 1, WAIT).await.len(), 1);
    }
}

#[tokio::test]
async fn a_self_signed_certificate_that_is_not_pinned_is_refused_in_plain_words() {
    init_logging();
    let stack = self_signed_stack();
    stack.append_all(USER, "INBOX", &[&message()]).await;
    // Another self-signed certificate in ca_file: pinned, but not this one.
    let other = fixture("other.pem");
    let err = fetch_one(&stack, Tls::Starttls, &other)
        .await
        .expect_err("another certificate is pinned");
    assert!(err.contains("self-signed"), "{err}");
    assert!(err.contains("ca_file"), "{err}");
    assert!(!err.contains("CaUsedAsEndEntity"), "{err}");
    match send_one(&stack, Tls::Starttls, &other, "a@example.test").await {
        Err(SendError::Temporary(m)) => {
            assert!(m.contains("self-signed") && m.contains("ca_file"), "{m}")
        }
        other => panic!("expected a temporary refusal in words, got {other:?}"),
    }
    // Nothing was taken from the mailbox.
    assert_eq!(stack.messages(USER, "INBOX").await.len(), 1);
}

#[tokio::test]
async fn a_private_ca_is_verified_in_full_names_included() {
    init_logging();
    // The stack's own CA signed a certificate for localhost and 127.0.0.1.
    let stack = MailStack::start();
    stack.append_all(USER, "INBOX", &[&message()]).await;
    assert_eq!(
        fetch_one(&stack, Tls::Implicit, &stack.ca_file()).await,
        Ok(1)
    );
    send_one(&stack, Tls::Starttls, &stack.ca_file(), "c@example.test")
        .await
        .expect("the private CA's certificate for 127.0.0.1");
    drop(stack);

    // A certificate from a private CA for another host: the CA is trusted,
    // the name is still checked, and the refusal names both hosts.
    let stack = MailStack::start_with_cert(&fixture("leaf.pem"), &fixture("leaf-key.pem"));
    let ca = fixture("ca.pem");
    let err = fetch_one(&stack, Tls::Implicit, &ca)
        .await
        .expect_err("certificate for another host");
    assert!(
        err.contains("mail.example.test") && err.contains("127.0.0.1"),
        "{err}"
    );
    match send_one(&stack, Tls::Implicit, &ca, "d@example.test").await {
        Err(SendError::Temporary(m)) => assert!(m.contains("mail.example.test"), "{m}"),
        other => panic!("expected a temporary refusal naming the host, got {other:?}"),
    }
}

/// A server on 127.0.0.1 that greets, answers EHLO with `ehlo` and, if
/// asked, STARTTLS with `starttls` (all in one write); returns its port and
/// everything the client sent.
async fn fake_smtp(
    ehlo: &'static str,
    starttls: &'static str,
) -> (u16, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heard = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        let mut heard = String::new();
        let mut line = String::new();
        while r.read_line(&mut line).await.unwrap_or(0) > 0 {
            heard.push_str(&line);
            let answer = match line.to_ascii_uppercase().split_whitespace().next() {
                Some("EHLO") => ehlo,
                Some("STARTTLS") => starttls,
                _ => "250 ok\r\n",
            };
            line.clear();
            if w.write_all(answer.as_bytes()).await.is_err() {
                break;
            }
        }
        heard
    });
    (port, heard)
}

fn outgoing(port: u16) -> postbud::config::Outgoing {
    let text = format!(
        "kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"starttls\"\n\
         username = \"post@forbund.example\"\n"
    );
    let mut cfg: postbud::config::Outgoing = toml::from_str(&text).unwrap();
    cfg.password = Some("secret-password".into());
    cfg
}

#[tokio::test]
async fn starttls_is_never_skipped_and_nothing_goes_out_in_the_clear() {
    init_logging();
    // A server (or a man in the middle) that strips STARTTLS from EHLO.
    let (port, heard) = fake_smtp("250-fake\r\n250 AUTH PLAIN LOGIN\r\n", "").await;
    let mut t = SmtpTransport::new(&outgoing(port));
    match t.send(&envelope(1, USER, "a@example.test")).await {
        Err(SendError::Temporary(m)) => assert!(m.contains("does not offer STARTTLS"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    drop(t);
    let heard = heard.await.unwrap();
    assert!(heard.starts_with("EHLO"), "{heard}");
    for secret in ["AUTH", "MAIL", "secret-password", "Svar nummer"] {
        assert!(
            !heard.contains(secret),
            "{secret} sent in the clear: {heard}"
        );
    }
}

#[tokio::test]
async fn bytes_after_the_starttls_answer_are_refused_not_read_as_tls() {
    init_logging();
    // RFC 3207 response injection: more after "220", in the same write.
    let (port, heard) = fake_smtp(
        "250-fake\r\n250 STARTTLS\r\n",
        "220 go ahead\r\n250 injected before TLS\r\n",
    )
    .await;
    let mut t = SmtpTransport::new(&outgoing(port));
    match t.send(&envelope(1, USER, "a@example.test")).await {
        Err(SendError::Temporary(m)) => assert!(m.contains("sent more after its STARTTLS"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    drop(t);
    let heard = heard.await.unwrap();
    assert!(
        !heard.contains("secret-password") && !heard.contains("MAIL"),
        "{heard}"
    );
}
