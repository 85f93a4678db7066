//! The TLS client configuration shared by IMAP and SMTP: rustls with the ring
//! provider given explicitly, the webpki roots, and an optional PEM `ca_file`.
//!
//! # What `ca_file` trusts
//!
//! Each certificate in `ca_file` is used in two ways:
//!
//! - **As a trust anchor** (a private CA), when it can be one: a server
//!   whose certificate chains to it is verified in full, like a server with
//!   a public certificate: chain, validity period, key usage and host name.
//! - **As a pinned certificate**: a server that presents exactly this
//!   certificate (byte for byte) as its own is accepted. This is for the
//!   many small Dovecot and Postfix installations that use one self-signed
//!   certificate made with openssl's defaults. Such a certificate says
//!   `CA:TRUE`, so full verification refuses it as a server certificate
//!   (`CaUsedAsEndEntity`) even when it is a trust anchor; Thunderbird and
//!   Python accept it once trusted, and so does postbud now.
//!
//! A pinned certificate is still checked for its validity period (expired
//! or not yet valid: refused), and the handshake signatures are verified
//! with its public key (ring's algorithms), so only a server holding its
//! private key can present it. Its names are **not** checked against the
//! configured host: whoever put it in `ca_file` named exactly this
//! certificate for this server (`ca_file` belongs to one `[mailbox]` or
//! `[outgoing]`), which is a stronger statement than any name in it. This
//! is the choice Thunderbird makes for a certificate exception, and the
//! one such certificates need: openssl's defaults give them a CN only, and
//! the CN is not a name TLS clients match any more. Basic constraints and
//! key usages are not checked for a pinned certificate either, for the
//! same reason. Every certificate that is not pinned gets full webpki
//! verification.
//!
//! A certificate in `ca_file` that cannot be a trust anchor (an old version
//! 1 certificate, say) no longer makes the configuration fail: it can still
//! be pinned, and a handshake with it says what is wrong.
//!
//! # Plain words
//!
//! A refused certificate fails the handshake with an error whose text says
//! what is wrong and what to do about it: expired (and when), for which
//! names it is (and which host was asked for), self-signed or signed by an
//! unknown CA (put it, or its CA, in `ca_file`). [`explain`] gives the same
//! words for any rustls error, and [`explain_error`] finds a rustls error
//! in an error chain (an `io::Error` from tokio-rustls, lettre's error) and
//! explains it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, OtherError,
    RootCertStore, SignatureScheme,
};

/// Why a TLS client configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read CA file `{path}`: {source}")]
    CaFile {
        path: PathBuf,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error("CA file `{path}` holds no certificate")]
    CaFileEmpty { path: PathBuf },
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("TLS setup: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
    #[error("`{0}` is not a valid host name or IP address for TLS")]
    ServerName(String),
}

/// The certificates in a PEM file (one or more `CERTIFICATE` blocks).
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::CaFile {
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::CaFileEmpty {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// A rustls client configuration: ring, TLS 1.2 and 1.3, and a
/// [`ServerVerifier`] for the webpki roots and the certificates in
/// `ca_file` when given.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(ServerVerifier::with_provider(ca_file, provider.clone())?);
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Checks servers' certificates as the module documentation says: a
/// certificate pinned in `ca_file` is accepted while it is valid, any other
/// gets full webpki verification against the webpki roots and the
/// certificates in `ca_file`; refusals in plain words.
#[derive(Debug)]
pub struct ServerVerifier {
    /// Every certificate in `ca_file`, as it is there.
    pinned: Vec<CertificateDer<'static>>,
    webpki: Arc<WebPkiServerVerifier>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerVerifier {
    /// A verifier with ring's algorithms.
    pub fn new(ca_file: Option<&Path>) -> Result<ServerVerifier, TlsError> {
        Self::with_provider(ca_file, Arc::new(rustls::crypto::ring::default_provider()))
    }

    fn with_provider(
        ca_file: Option<&Path>,
        provider: Arc<CryptoProvider>,
    ) -> Result<ServerVerifier, TlsError> {
        let pinned = match ca_file {
            Some(path) => read_ca_file(path)?,
            None => Vec::new(),
        };
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in &pinned {
            // Not every certificate can be a trust anchor; each can be pinned.
            if let Err(e) = roots.add(cert.clone()) {
                tracing::warn!(
                    ca_file = %ca_file.map(Path::display).map(|d| d.to_string()).unwrap_or_default(),
                    error = %e,
                    "certificate in ca_file is not a trust anchor; it is only pinned"
                );
            }
        }
        let algorithms = provider.signature_verification_algorithms;
        let webpki =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build()?;
        Ok(ServerVerifier {
            pinned,
            webpki,
            algorithms,
        })
    }

    fn is_pinned(&self, cert: &CertificateDer<'_>) -> bool {
        self.pinned.iter().any(|p| p.as_ref() == cert.as_ref())
    }
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.is_pinned(end_entity) {
            return check_validity(end_entity, now)
                .map(|()| ServerCertVerified::assertion())
                .map_err(|e| refuse(e, true));
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| refuse(e, false))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
            .map_err(|e| refuse(e, self.is_pinned(cert)))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
            .map_err(|e| refuse(e, self.is_pinned(cert)))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.webpki.root_hint_subjects()
    }
}

/// A pinned certificate's validity period against `now`, refused as webpki
/// refuses it (`now` after notAfter, or before notBefore).
fn check_validity(cert: &CertificateDer<'_>, now: UnixTime) -> Result<(), rustls::Error> {
    let Some((not_before, not_after)) = der::validity(cert.as_ref()) else {
        return Err(CertificateError::BadEncoding.into());
    };
    let at = |secs: i64| UnixTime::since_unix_epoch(Duration::from_secs(secs.max(0) as u64));
    let time = now.as_secs();
    if not_before > 0 && time < not_before as u64 {
        return Err(CertificateError::NotValidYetContext {
            time: now,
            not_before: at(not_before),
        }
        .into());
    }
    if not_after < 0 || time > not_after as u64 {
        return Err(CertificateError::ExpiredContext {
            time: now,
            not_after: at(not_after),
        }
        .into());
    }
    Ok(())
}

/// The text for a certificate that is self-signed or from an unknown CA.
const UNTRUSTED: &str = "the server's certificate is self-signed (or signed by a CA postbud \
                         does not trust); to trust it, put that certificate (or its CA) in ca_file";

/// A refused certificate in plain words, inside rustls's error: the text is
/// what the handshake error says, the rustls error it stands for is its
/// source.
#[derive(Clone)]
struct Refusal {
    text: String,
    cause: rustls::Error,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The text alone: rustls shows `CertificateError::Other` with `{:?}`.
impl fmt::Debug for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// `err` in plain words when there are some for it (`pinned`: the server's
/// certificate is the one in ca_file), else `err` as it is.
fn refuse(err: rustls::Error, pinned: bool) -> rustls::Error {
    let rustls::Error::InvalidCertificate(cert_err) = &err else {
        return err;
    };
    let Some(mut text) = certificate_words(cert_err) else {
        return err;
    };
    if pinned {
        match cert_err {
            CertificateError::ExpiredContext { .. } | CertificateError::Expired => text.push_str(
                "; it is the certificate pinned in ca_file: make a new one on the server \
                 and put it in ca_file in place of the old one",
            ),
            CertificateError::BadSignature => text.push_str(
                "; the server showed the certificate pinned in ca_file without holding its key",
            ),
            _ => {}
        }
    }
    tracing::debug!(error = %err, pinned, "server certificate refused");
    CertificateError::Other(OtherError(Arc::new(Refusal { text, cause: err }))).into()
}

/// A handshake error in plain words: for a refused server certificate, what
/// is wrong with it and what to do; for anything else, rustls's own text.
pub fn explain(err: &rustls::Error) -> String {
    if let rustls::Error::InvalidCertificate(cert_err) = err {
        if let CertificateError::Other(OtherError(inner)) = cert_err
            && let Some(refusal) = inner.downcast_ref::<Refusal>()
        {
            return refusal.text.clone();
        }
        if let Some(text) = certificate_words(cert_err) {
            return text;
        }
    }
    err.to_string()
}

/// The first rustls error in `err`'s chain (also inside an `io::Error`, as
/// tokio-rustls and lettre give it), explained; `None` when there is none.
pub fn explain_error(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(explain(r));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(explain(r));
        }
        next = e.source();
    }
    None
}

/// Plain words for the certificate errors a user can do something about.
fn certificate_words(err: &CertificateError) -> Option<String> {
    Some(match err {
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("the server's certificate expired on {}", date(*not_after))
        }
        CertificateError::Expired => "the server's certificate has expired".to_string(),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "the server's certificate is not valid until {}; is this machine's clock right?",
            date(*not_before)
        ),
        CertificateError::NotValidYet => {
            "the server's certificate is not valid yet; is this machine's clock right?".to_string()
        }
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let host = expected.to_str();
            if presented.is_empty() {
                format!(
                    "the server's certificate names no host (it has no subjectAltName), \
                     not {host}"
                )
            } else {
                let names: Vec<&str> = presented.iter().map(|n| presented_name(n)).collect();
                format!(
                    "the server's certificate is for {}, not {host}",
                    names.join(", ")
                )
            }
        }
        CertificateError::NotValidForName => {
            "the server's certificate is not for the host postbud connected to".to_string()
        }
        CertificateError::UnknownIssuer => UNTRUSTED.to_string(),
        CertificateError::BadSignature => {
            "the server's signature does not match its certificate".to_string()
        }
        CertificateError::Other(OtherError(inner)) => {
            if let Some(refusal) = inner.downcast_ref::<Refusal>() {
                return Some(refusal.text.clone());
            }
            // webpki's errors without a rustls counterpart come as `Other`;
            // rustls does not export their type, so they go by name.
            match format!("{inner:?}").as_str() {
                "CaUsedAsEndEntity" => UNTRUSTED.to_string(),
                "UnsupportedCertVersion" => "the server's certificate is an old version 1 \
                                             certificate, which postbud cannot use; make a new one \
                                             (openssl req -x509 makes version 3)"
                    .to_string(),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// `DnsName("a.example")` and `IpAddress(127.0.0.1)`, as webpki lists a
/// certificate's names, as `a.example` and `127.0.0.1`.
fn presented_name(name: &str) -> &str {
    name.strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(name)
}

fn date(t: UnixTime) -> String {
    i64::try_from(t.as_secs())
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| format!("{} s after 1970", t.as_secs()))
}

/// The little DER reading the pinned check needs: a certificate's validity.
mod der {
    /// One DER element at the start of `input`: tag, contents, what follows.
    fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let (bytes, rest) = rest.split_at(n);
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, rest)
        };
        if rest.len() < len {
            return None;
        }
        let (contents, rest) = rest.split_at(len);
        Some((tag, contents, rest))
    }

    /// The element at the start of `input` if it has tag `tag`.
    fn expect(tag: u8, input: &[u8]) -> Option<(&[u8], &[u8])> {
        let (t, contents, rest) = element(input)?;
        (t == tag).then_some((contents, rest))
    }

    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const VERSION: u8 = 0xa0; // [0] EXPLICIT
    const UTC_TIME: u8 = 0x17;
    const GENERALIZED_TIME: u8 = 0x18;

    /// notBefore and notAfter of an X.509 certificate, in seconds since
    /// 1970 (RFC 5280 section 4.1).
    pub(super) fn validity(cert: &[u8]) -> Option<(i64, i64)> {
        let (cert, _) = expect(SEQUENCE, cert)?;
        let (mut tbs, _) = expect(SEQUENCE, cert)?;
        if tbs.first() == Some(&VERSION) {
            tbs = element(tbs)?.2;
        }
        let (_serial, rest) = expect(INTEGER, tbs)?;
        let (_signature, rest) = expect(SEQUENCE, rest)?;
        let (_issuer, rest) = expect(SEQUENCE, rest)?;
        let (validity, _) = expect(SEQUENCE, rest)?;
        let (tag, not_before, rest) = element(validity)?;
        let not_before = time(tag, not_before)?;
        let (tag, not_after, _) = element(rest)?;
        Some((not_before, time(tag, not_after)?))
    }

    /// UTCTime `YYMMDDHHMMSSZ` (years 1950-2049) or GeneralizedTime
    /// `YYYYMMDDHHMMSSZ`, as RFC 5280 section 4.1.2.5 allows them.
    pub(super) fn time(tag: u8, value: &[u8]) -> Option<i64> {
        let digits = value.strip_suffix(b"Z")?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let number = |d: &[u8]| d.iter().fold(0u32, |n, &b| n * 10 + u32::from(b - b'0'));
        let (year, rest) = match (tag, digits.len()) {
            (UTC_TIME, 12) => {
                let yy = number(&digits[..2]);
                (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
            }
            (GENERALIZED_TIME, 14) => (number(&digits[..4]), &digits[4..]),
            _ => return None,
        };
        let part = |i: usize| number(&rest[i..i + 2]);
        let when = chrono::NaiveDate::from_ymd_opt(year as i32, part(0), part(2))?.and_hms_opt(
            part(4),
            part(6),
            part(8),
        )?;
        Some(when.and_utc().timestamp())
    }
}

/// The name a server certificate is checked against: a DNS name or an IP
/// address, as written in the config.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(h.to_string()).map_err(|_| TlsError::ServerName(host.to_string()))
}

/// Whether `host` is the loopback interface, the only place plain text
/// (`tls = "none"`) may go.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    matches!(h.parse::<std::net::IpAddr>(), Ok(ip) if ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
            "127.0.0.2",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "example.org",
            "localhost.example.org",
            "",
            "0.0.0.0",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn server_names() {
        assert!(matches!(
            server_name("127.0.0.1"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(server_name("[::1]"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(
            server_name("imap.forbund.example"),
            Ok(ServerName::DnsName(_))
        ));
        assert!(server_name("not a host").is_err());
    }

    #[test]
    fn config_without_ca_file() {
        client_config(None).unwrap();
    }

    #[test]
    fn missing_ca_file_names_the_path() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    // Fixtures: tests/fixtures/tls/make.sh. All but v1.pem are valid from
    // 2020-01-01 to 2120-01-01, v1.pem for 100 years from late 2026.

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name)
    }

    fn cert(name: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(fixture(name)).unwrap()
    }

    fn verifier(ca_file: Option<&str>) -> ServerVerifier {
        ServerVerifier::new(ca_file.map(fixture).as_deref()).unwrap()
    }

    /// Seconds since 1970 of a UTC date and time `YYYY-MM-DDTHH:MM:SSZ`.
    fn at(when: &str) -> UnixTime {
        let t: chrono::DateTime<chrono::Utc> = when.parse().unwrap();
        UnixTime::since_unix_epoch(Duration::from_secs(t.timestamp() as u64))
    }

    fn name(host: &str) -> ServerName<'static> {
        server_name(host).unwrap()
    }

    /// The server certificate `served` checked for `host` at `now`; `Err`
    /// holds the error in plain words.
    fn check(v: &ServerVerifier, served: &str, host: &str, now: &str) -> Result<(), String> {
        v.verify_server_cert(&cert(served), &[], &name(host), &[], at(now))
            .map(|_| ())
            .map_err(|e| explain(&e))
    }

    const NOW: &str = "2026-11-20T08:30:00Z";

    #[test]
    fn a_pinned_self_signed_certificate_is_accepted_whatever_its_name() {
        let v = verifier(Some("selfsigned.pem"));
        for host in [
            "mail.example.test",
            "127.0.0.1",
            "other.example.test",
            "::1",
        ] {
            check(&v, "selfsigned.pem", host, NOW).unwrap_or_else(|e| panic!("{host}: {e}"));
        }
    }

    #[test]
    fn a_pinned_certificate_is_refused_outside_its_validity_period() {
        let v = verifier(Some("selfsigned.pem"));
        let err = check(&v, "selfsigned.pem", "127.0.0.1", "2120-01-01T00:00:01Z").unwrap_err();
        assert!(
            err.starts_with("the server's certificate expired on 2120-01-01 00:00 UTC; "),
            "{err}"
        );
        assert!(err.contains("pinned in ca_file"), "{err}");
        // notAfter itself is still inside, as webpki has it.
        check(&v, "selfsigned.pem", "127.0.0.1", "2120-01-01T00:00:00Z").unwrap();
        let err = check(&v, "selfsigned.pem", "127.0.0.1", "2019-12-31T23:59:59Z").unwrap_err();
        assert!(
            err.starts_with("the server's certificate is not valid until 2020-01-01 00:00 UTC"),
            "{err}"
        );
    }

    #[test]
    fn a_self_signed_certificate_not_pinned_is_refused_in_plain_words() {
        // Nothing in ca_file; another certificate in ca_file; a CA.
        for ca_file in [None, Some("other.pem"), Some("ca.pem")] {
            let v = verifier(ca_file);
            let err = check(&v, "selfsigned.pem", "mail.example.test", NOW).unwrap_err();
            assert_eq!(err, UNTRUSTED, "{ca_file:?}");
            assert!(
                err.contains("self-signed")
                    && err.contains("put that certificate (or its CA) in ca_file")
            );
        }
    }

    #[test]
    fn a_certificate_from_the_private_ca_is_verified_in_full() {
        let v = verifier(Some("ca.pem"));
        check(&v, "leaf.pem", "mail.example.test", NOW).unwrap();
        check(&v, "leaf.pem", "imap.example.test", NOW).unwrap();
        let err = check(&v, "leaf.pem", "127.0.0.1", NOW).unwrap_err();
        assert_eq!(
            err,
            "the server's certificate is for mail.example.test, imap.example.test, not 127.0.0.1"
        );
        let err = check(&v, "leaf.pem", "pop.example.test", NOW).unwrap_err();
        assert!(err.ends_with("not pop.example.test"), "{err}");
        let err = check(&v, "leaf.pem", "mail.example.test", "2121-06-01T00:00:00Z").unwrap_err();
        assert_eq!(
            err,
            "the server's certificate expired on 2120-01-01 00:00 UTC"
        );
        // Without the CA: unknown issuer.
        let err = check(&verifier(None), "leaf.pem", "mail.example.test", NOW).unwrap_err();
        assert_eq!(err, UNTRUSTED);
    }

    #[test]
    fn a_pinned_leaf_needs_no_ca() {
        let v = verifier(Some("leaf.pem"));
        check(&v, "leaf.pem", "127.0.0.1", NOW).unwrap();
        // ... but does not make its CA's other certificates trusted.
        let err = check(&v, "selfsigned.pem", "mail.example.test", NOW).unwrap_err();
        assert_eq!(err, UNTRUSTED);
    }

    #[test]
    fn several_certificates_in_ca_file_are_each_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let both = dir.path().join("both.pem");
        let mut pem = std::fs::read(fixture("other.pem")).unwrap();
        pem.extend(std::fs::read(fixture("selfsigned.pem")).unwrap());
        pem.extend(std::fs::read(fixture("ca.pem")).unwrap());
        std::fs::write(&both, pem).unwrap();
        let v = ServerVerifier::new(Some(&both)).unwrap();
        check(&v, "selfsigned.pem", "127.0.0.1", NOW).unwrap();
        check(&v, "other.pem", "127.0.0.1", NOW).unwrap();
        check(&v, "leaf.pem", "mail.example.test", NOW).unwrap();
    }

    #[test]
    fn a_certificate_that_cannot_be_an_anchor_does_not_fail_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd.pem");
        let mut pem =
            b"-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n".to_vec();
        pem.extend(std::fs::read(fixture("selfsigned.pem")).unwrap());
        std::fs::write(&path, pem).unwrap();
        let certs = read_ca_file(&path).unwrap();
        assert!(RootCertStore::empty().add(certs[0].clone()).is_err());
        client_config(Some(&path)).unwrap();
        let v = ServerVerifier::new(Some(&path)).unwrap();
        check(&v, "selfsigned.pem", "127.0.0.1", NOW).unwrap();
    }

    #[test]
    fn a_version_1_certificate_is_refused_in_plain_words() {
        let err = check(&verifier(None), "v1.pem", "v1.example.test", NOW).unwrap_err();
        assert!(err.contains("old version 1 certificate"), "{err}");
        // Pinned: a trust anchor and in ca_file, yet webpki cannot check
        // the handshake signature with it.
        let err = handshake("v1.pem", "v1.pem", "v1-key.pem", "127.0.0.1", TLS13).unwrap_err();
        assert!(explain(&err).contains("old version 1 certificate"), "{err}");
    }

    #[test]
    fn explain_words() {
        let e = |c: CertificateError| explain(&rustls::Error::InvalidCertificate(c));
        assert_eq!(e(CertificateError::UnknownIssuer), UNTRUSTED);
        assert_eq!(
            e(CertificateError::ExpiredContext {
                time: at("2026-11-20T08:30:00Z"),
                not_after: at("2026-10-01T12:00:00Z"),
            }),
            "the server's certificate expired on 2026-10-01 12:00 UTC"
        );
        assert_eq!(
            e(CertificateError::NotValidForNameContext {
                expected: name("imap.forbund.example"),
                presented: vec![
                    "DnsName(\"mail.example.test\")".into(),
                    "IpAddress(192.0.2.7)".into(),
                ],
            }),
            "the server's certificate is for mail.example.test, 192.0.2.7, not imap.forbund.example"
        );
        assert_eq!(
            e(CertificateError::NotValidForNameContext {
                expected: name("127.0.0.1"),
                presented: vec![],
            }),
            "the server's certificate names no host (it has no subjectAltName), not 127.0.0.1"
        );
        // Not about the certificate: rustls's own words.
        let other = rustls::Error::DecryptError;
        assert_eq!(explain(&other), other.to_string());
    }

    #[test]
    fn explain_error_finds_rustls_inside_io_and_chains() {
        let refused = verifier(None)
            .verify_server_cert(
                &cert("selfsigned.pem"),
                &[],
                &name("127.0.0.1"),
                &[],
                at(NOW),
            )
            .unwrap_err();
        // Its own text already says it, as the handshake error shows it.
        assert!(refused.to_string().contains(UNTRUSTED), "{refused}");
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, refused);
        assert_eq!(explain_error(&io).as_deref(), Some(UNTRUSTED));
        let wrapped = anyhow::Error::new(io).context("TLS handshake");
        assert_eq!(explain_error(wrapped.as_ref()).as_deref(), Some(UNTRUSTED));
        let plain = std::io::Error::other("connection refused");
        assert_eq!(explain_error(&plain), None);
    }

    #[test]
    fn der_times_and_validity() {
        assert_eq!(
            der::time(0x17, b"200101000000Z"),
            Some(at("2020-01-01T00:00:00Z").as_secs() as i64)
        );
        assert_eq!(der::time(0x17, b"500101000000Z"), Some(-631_152_000));
        assert_eq!(
            der::time(0x18, b"21200101000000Z"),
            Some(at("2120-01-01T00:00:00Z").as_secs() as i64)
        );
        for bad in [
            &b"2001010000Z"[..],
            b"200101000000",
            b"201301000000Z",
            b"2001010000+0Z",
        ] {
            assert_eq!(der::time(0x17, bad), None, "{bad:?}");
        }
        assert_eq!(der::time(0x18, b"200101000000Z"), None);
        let (from, to) = der::validity(cert("selfsigned.pem").as_ref()).unwrap();
        assert_eq!(from, at("2020-01-01T00:00:00Z").as_secs() as i64);
        assert_eq!(to, at("2120-01-01T00:00:00Z").as_secs() as i64);
        assert!(der::validity(cert("v1.pem").as_ref()).is_some());
        assert_eq!(der::validity(b"\x30\x03\x02\x01"), None);
        let der = cert("leaf.pem");
        for cut in [0, 1, 10, 100, der.as_ref().len() / 2] {
            let _ = der::validity(&der.as_ref()[..cut]);
        }
    }

    /// A TLS handshake in memory: a server showing `served` (signing with
    /// `key`) at `versions`, a client with `client_config(ca_file)` asking
    /// for `host`.
    fn handshake(
        ca_file: &str,
        served: &str,
        key: &str,
        host: &str,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<(), rustls::Error> {
        use rustls::server::{ClientHello, ResolvesServerCert};
        use rustls::sign::CertifiedKey;
        use rustls_pki_types::PrivateKeyDer;

        /// Any certificate with any key: `with_single_cert` refuses a
        /// mismatch, a lying server does not.
        #[derive(Debug)]
        struct Fixed(Arc<CertifiedKey>);
        impl ResolvesServerCert for Fixed {
            fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
                Some(self.0.clone())
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = provider
            .key_provider
            .load_private_key(PrivateKeyDer::from_pem_file(fixture(key)).unwrap())
            .unwrap();
        let server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Fixed(Arc::new(CertifiedKey::new(
                vec![cert(served)],
                key,
            )))));
        let mut server = rustls::ServerConnection::new(Arc::new(server_config)).unwrap();
        let mut client = rustls::ClientConnection::new(
            client_config(Some(&fixture(ca_file))).unwrap(),
            name(host),
        )
        .unwrap();
        for _ in 0..20 {
            let mut buf = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut buf).unwrap();
            }
            if !buf.is_empty() {
                server.read_tls(&mut buf.as_slice()).unwrap();
                server.process_new_packets()?;
            }
            let mut buf = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut buf).unwrap();
            }
            if !buf.is_empty() {
                client.read_tls(&mut buf.as_slice()).unwrap();
                client.process_new_packets()?;
            }
            if !client.is_handshaking() && !server.is_handshaking() {
                return Ok(());
            }
        }
        panic!("handshake did not finish");
    }

    const TLS13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
    const TLS12: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

    #[test]
    fn handshakes_with_a_pinned_self_signed_certificate() {
        for versions in [TLS13, TLS12] {
            handshake(
                "selfsigned.pem",
                "selfsigned.pem",
                "selfsigned-key.pem",
                "127.0.0.1",
                versions,
            )
            .unwrap();
            handshake(
                "ca.pem",
                "leaf.pem",
                "leaf-key.pem",
                "mail.example.test",
                versions,
            )
            .unwrap();
            let err = handshake(
                "other.pem",
                "selfsigned.pem",
                "selfsigned-key.pem",
                "127.0.0.1",
                versions,
            )
            .unwrap_err();
            assert_eq!(explain(&err), UNTRUSTED);
        }
    }

    #[test]
    fn a_pinned_certificate_shown_without_its_key_is_refused() {
        for versions in [TLS13, TLS12] {
            let err = handshake(
                "selfsigned.pem",
                "selfsigned.pem",
                "leaf-key.pem",
                "127.0.0.1",
                versions,
            )
            .unwrap_err();
            let text = explain(&err);
            assert!(
                text.contains("without holding its key"),
                "{versions:?}: {text} ({err:?})"
            );
        }
    }
}
