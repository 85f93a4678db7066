//! The IMAP mailbox (async-imap): TLS modes, IDLE or polling, UIDVALIDITY and
//! UIDs, MOVE or copy/delete/expunge, reconnect with backoff.
//!
//! A message's key is `"<uidvalidity>:<uid>"`. UIDs handed out by `fetch` and
//! not yet settled are not handed out again by the same connection; after a
//! reconnect they may be, which is safe because the register's exactly-once
//! check is by Message-ID. Keys whose UIDVALIDITY is no longer the folder's
//! are skipped by `settle` (the message is fetched again under its new UID).
//!
//! Connection errors drop the session. The next call reconnects, waiting
//! 0.5 s after the first failed attempt, doubling up to 60 s; a command that
//! fails on a session that was open before the call is retried once on a new
//! connection, so a server restart between two calls goes unnoticed.
//! A `wait` cancelled in the middle of an IDLE (shutdown) loses its session;
//! the next call simply reconnects. A BYE during IDLE (a server shutting
//! down) ends the session at once, without writing DONE into a connection
//! the server is closing. A write to a connection the server has closed is
//! an EPIPE error like any other: `postbud run` leaves SIGPIPE ignored.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::error::Error as ImapError;
use async_imap::extensions::idle::IdleResponse;
use async_imap::imap_proto::{Response, Status};
use async_imap::types::UnsolicitedResponse;
use futures::{Stream as FuturesStream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tracing::{debug, info, warn};

use super::{Destination, Fetched, Mailbox, MailboxError};
use crate::config::{self, Tls};
use crate::tls;

/// How long one command (or one response of a long FETCH) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Messages per UID FETCH command.
const FETCH_BATCH: usize = 200;
/// Bytes returned by one `fetch` call (at least one message is returned).
const CALL_BYTES: u64 = 256 << 20;
/// UIDs per MOVE / COPY command.
const SETTLE_BATCH: usize = 1000;
/// Longest single IDLE: servers may drop a client idle for 30 minutes.
const MAX_IDLE: Duration = Duration::from_secs(25 * 60);
/// First wait after a failed connect, doubled on each failure up to `BACKOFF_MAX`.
const BACKOFF_START: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// An IMAP inbox. Connects lazily and reconnects with backoff.
pub struct ImapMailbox {
    cfg: config::Mailbox,
    /// The logged-in session with the inbox selected, if connected.
    conn: Option<Conn>,
    /// UIDVALIDITY of the inbox as last selected: the first half of every key.
    uidvalidity: Option<u32>,
    /// UIDs handed out by `fetch` on this connection and not yet settled.
    handed_out: HashSet<u32>,
    /// The server said EXISTS or RECENT since the last `fetch`: `wait` returns at once.
    new_mail: bool,
    /// Failed connect attempts in a row, for the backoff.
    failures: u32,
    /// Not before this instant may the next connect be tried.
    retry_at: Option<Instant>,
    /// The rustls config, built on first connect.
    tls_config: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    /// Use MOVE when the server has it (off only in tests of the other path).
    use_move: bool,
}

/// One logged-in session and what its server can do.
struct Conn {
    session: async_imap::Session<Stream>,
    can_move: bool,
    can_idle: bool,
    uidplus: bool,
}

/// Why an operation failed, and whether the connection is gone with it.
struct Failure {
    what: String,
    source: anyhow::Error,
    /// The session can no longer be used (network, TLS, timeout, protocol).
    broken: bool,
}

impl Failure {
    fn imap(what: impl Into<String>, e: ImapError) -> Self {
        // NO and BAD answers leave the session usable; anything else does not.
        let broken = !matches!(
            e,
            ImapError::No(_) | ImapError::Bad(_) | ImapError::Validate(_)
        );
        Failure {
            what: what.into(),
            source: e.into(),
            broken,
        }
    }
    fn broken(what: impl Into<String>, e: impl Into<anyhow::Error>) -> Self {
        Failure {
            what: what.into(),
            source: e.into(),
            broken: true,
        }
    }
}

/// Runs one command with the command timeout; a timeout breaks the session.
async fn cmd<T>(what: &str, fut: impl Future<Output = Result<T, ImapError>>) -> Result<T, Failure> {
    match timeout(COMMAND_TIMEOUT, fut).await {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(Failure::imap(what, e)),
        Err(_) => Err(Failure::broken(
            what,
            anyhow::anyhow!("no answer within {} s", COMMAND_TIMEOUT.as_secs()),
        )),
    }
}

/// Collects a response stream, each response within the command timeout (a
/// large FETCH may take long as a whole).
async fn collect<T>(
    what: &str,
    stream: impl FuturesStream<Item = Result<T, ImapError>>,
) -> Result<Vec<T>, Failure> {
    let mut stream = std::pin::pin!(stream);
    let mut out = Vec::new();
    loop {
        match timeout(COMMAND_TIMEOUT, stream.next()).await {
            Ok(None) => return Ok(out),
            Ok(Some(Ok(item))) => out.push(item),
            Ok(Some(Err(e))) => return Err(Failure::imap(what, e)),
            Err(_) => {
                return Err(Failure::broken(
                    what,
                    anyhow::anyhow!("no answer within {} s", COMMAND_TIMEOUT.as_secs()),
                ));
            }
        }
    }
}

impl ImapMailbox {
    /// Takes a checked config (`kind = "imap"`, paths absolute, password resolved).
    pub fn new(cfg: &config::Mailbox) -> Self {
        ImapMailbox {
            cfg: cfg.clone(),
            conn: None,
            uidvalidity: None,
            handed_out: HashSet::new(),
            new_mail: false,
            failures: 0,
            retry_at: None,
            tls_config: None,
            use_move: true,
        }
    }

    /// Tests only: settle with COPY, STORE \Deleted and EXPUNGE even when the
    /// server offers MOVE.
    #[doc(hidden)]
    pub fn set_use_move(&mut self, on: bool) {
        self.use_move = on;
    }

    /// Logs out and closes the connection, if one is open.
    pub async fn logout(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = timeout(Duration::from_secs(5), conn.session.logout()).await;
        }
    }

    fn tls_mode(&self) -> Tls {
        self.cfg.tls.unwrap_or(Tls::Implicit)
    }

    fn port(&self) -> u16 {
        self.cfg.port.unwrap_or(match self.tls_mode() {
            Tls::Implicit => 993,
            Tls::Starttls | Tls::None => 143,
        })
    }

    fn endpoint(&self) -> String {
        format!(
            "imap {}:{}",
            self.cfg.host.as_deref().unwrap_or("?"),
            self.port()
        )
    }

    /// The error the caller sees: where, what was being done, why.
    fn error(&self, f: Failure) -> MailboxError {
        MailboxError::new(format!("{}: {}", self.endpoint(), f.what), f.source)
    }

    /// Connects unless connected, honouring the backoff. Returns whether a
    /// new connection was made.
    async fn ensure_connected(&mut self) -> Result<bool, Failure> {
        if self.conn.is_some() {
            return Ok(false);
        }
        if let Some(at) = self.retry_at {
            sleep_until(at).await;
        }
        match self.connect().await {
            Ok(conn) => {
                if self.failures > 0 {
                    info!(endpoint = %self.endpoint(), "imap reconnected");
                }
                self.failures = 0;
                self.retry_at = None;
                self.conn = Some(conn);
                Ok(true)
            }
            Err(f) => {
                self.failures += 1;
                let delay = BACKOFF_START
                    .saturating_mul(1 << (self.failures - 1).min(10))
                    .min(BACKOFF_MAX);
                self.retry_at = Some(Instant::now() + delay);
                warn!(
                    endpoint = %self.endpoint(),
                    error = format!("{}: {:#}", f.what, f.source),
                    retry_in_ms = delay.as_millis() as u64,
                    "imap connect failed"
                );
                Err(f)
            }
        }
    }

    /// Drops a broken session; the next call reconnects.
    fn drop_conn(&mut self, f: &Failure) {
        if self.conn.take().is_some() {
            warn!(
                endpoint = %self.endpoint(),
                error = format!("{}: {:#}", f.what, f.source),
                "imap connection lost"
            );
        }
    }

    /// TCP, TLS as configured, greeting, LOGIN, CAPABILITY, SELECT, and the
    /// processed and quarantine folders created when missing.
    async fn connect(&mut self) -> Result<Conn, Failure> {
        let endpoint = self.endpoint();
        let fail = |what: &str, e: anyhow::Error| Failure::broken(what, e);
        let host = self
            .cfg
            .host
            .clone()
            .ok_or_else(|| fail("config", anyhow::anyhow!("no host configured")))?;
        let port = self.port();
        let mode = self.tls_mode();
        if mode == Tls::None && !tls::is_loopback(&host) {
            return Err(fail(
                "config",
                anyhow::anyhow!(
                    "tls = \"none\" is only allowed to 127.0.0.1, ::1 or localhost, not `{host}`"
                ),
            ));
        }
        let username = self
            .cfg
            .username
            .clone()
            .ok_or_else(|| fail("config", anyhow::anyhow!("no username configured")))?;
        let password = self.cfg.password.clone().unwrap_or_default();
        if mode != Tls::None && self.tls_config.is_none() {
            self.tls_config = Some(
                tls::client_config(self.cfg.ca_file.as_deref())
                    .map_err(|e| fail("TLS config", e.into()))?,
            );
        }
        let tls_config = self.tls_config.clone();
        let tls_connect = async |tcp: TcpStream| -> Result<Stream, Failure> {
            let config = tls_config.clone().expect("built above for TLS modes");
            let name = tls::server_name(&host).map_err(|e| fail("TLS", e.into()))?;
            let tls = TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| fail("TLS handshake", e.into()))?;
            Ok(Stream::tls(tls))
        };

        let setup = async {
            let tcp = TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| fail("connect", e.into()))?;
            tcp.set_nodelay(true)
                .map_err(|e| fail("TCP_NODELAY", e.into()))?;
            let client = match mode {
                Tls::Implicit => {
                    let mut client = async_imap::Client::new(tls_connect(tcp).await?);
                    greeting(&mut client)
                        .await
                        .map_err(|e| fail("greeting", e))?;
                    client
                }
                Tls::Starttls => {
                    let mut client = async_imap::Client::new(Stream::plain(tcp));
                    greeting(&mut client)
                        .await
                        .map_err(|e| fail("greeting", e))?;
                    client
                        .run_command_and_check_ok("STARTTLS", None)
                        .await
                        .map_err(|e| fail("STARTTLS", e.into()))?;
                    let Inner::Plain(tcp) = client.into_inner().inner else {
                        unreachable!("the client was built on a plain stream")
                    };
                    async_imap::Client::new(tls_connect(tcp).await?)
                }
                Tls::None => {
                    let mut client = async_imap::Client::new(Stream::plain(tcp));
                    greeting(&mut client)
                        .await
                        .map_err(|e| fail("greeting", e))?;
                    client
                }
            };
            let session = client
                .login(&username, &password)
                .await
                .map_err(|(e, _)| fail(&format!("login as {username}"), e.into()))?;
            Ok::<_, Failure>(session)
        };
        let mut session = match timeout(COMMAND_TIMEOUT, setup).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(fail(
                    "connect",
                    anyhow::anyhow!("no answer within {} s", COMMAND_TIMEOUT.as_secs()),
                ));
            }
        };

        let caps = cmd("CAPABILITY", session.capabilities()).await?;
        check_open(&session, "CAPABILITY")?;
        let mut conn = Conn {
            can_move: caps.has_str("MOVE"),
            can_idle: caps.has_str("IDLE"),
            uidplus: caps.has_str("UIDPLUS"),
            session,
        };
        drop(caps);
        let folder = mailbox_name(&self.cfg.folder);
        let selected = cmd(
            &format!("select folder {}", self.cfg.folder),
            conn.session.select(&folder),
        )
        .await
        .map_err(|mut f| {
            f.broken = true;
            f
        })?;
        check_open(&conn.session, "SELECT")?;
        let validity = selected.uid_validity.ok_or_else(|| {
            fail(
                "SELECT",
                anyhow::anyhow!("server gave no UIDVALIDITY for {}", self.cfg.folder),
            )
        })?;
        for name in [&self.cfg.processed_folder, &self.cfg.quarantine_folder] {
            ensure_folder(&mut conn.session, name)
                .await
                .map_err(|mut f| {
                    f.broken = true;
                    f
                })?;
        }
        if self.uidvalidity.is_some_and(|v| v != validity) {
            warn!(
                folder = %self.cfg.folder,
                old = self.uidvalidity,
                new = validity,
                "UIDVALIDITY changed: every message will be fetched again"
            );
        }
        self.uidvalidity = Some(validity);
        // A new connection: whatever was handed out and not settled may come
        // again (the register recognises it by Message-ID).
        self.handed_out.clear();
        debug!(
            endpoint,
            folder = %self.cfg.folder,
            uidvalidity = validity,
            exists = selected.exists,
            can_move = conn.can_move,
            can_idle = conn.can_idle,
            uidplus = conn.uidplus,
            "imap connected"
        );
        Ok(conn)
    }

    /// Reads what the server said on its own: EXISTS and RECENT mean new
    /// mail; BYE means the session is over.
    fn drain(&mut self) {
        let mut bye = false;
        if let Some(conn) = &self.conn {
            while let Ok(r) = conn.session.unsolicited_responses.try_recv() {
                match r {
                    UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_) => {
                        self.new_mail = true;
                    }
                    UnsolicitedResponse::Other(d) => {
                        debug!(response = ?d.parsed(), "imap unsolicited");
                        if let Response::Data {
                            status: Status::Bye,
                            outcome,
                            ..
                        } = d.parsed()
                        {
                            warn!(
                                reason = outcome.information.as_deref().unwrap_or(""),
                                "imap server said BYE"
                            );
                            bye = true;
                        }
                    }
                    _ => {}
                }
            }
        }
        if bye {
            // The server is closing this session; the next call reconnects.
            self.conn = None;
        }
    }

    async fn try_fetch(&mut self, max: usize) -> Result<Vec<Fetched>, Failure> {
        let validity = self.uidvalidity.expect("set on connect");
        self.new_mail = false;
        let conn = self.conn.as_mut().expect("connected");
        let found = cmd("UID SEARCH", conn.session.uid_search("UNDELETED")).await?;
        check_open(&conn.session, "UID SEARCH")?;
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        self.handed_out.retain(|u| uids.binary_search(u).is_ok());
        let candidates: Vec<u32> = uids
            .into_iter()
            .filter(|u| !self.handed_out.contains(u))
            .take(max)
            .collect();

        // Batches of FETCH_BATCH. Past CALL_BYTES (a run of huge messages)
        // the rest of the answer is read and dropped, not kept: those
        // messages come with the next call. Memory stays near CALL_BYTES
        // without asking for sizes first, which would cost a round trip.
        let mut out = Vec::with_capacity(candidates.len());
        let mut total = 0u64;
        let mut full = false;
        for batch in candidates.chunks(FETCH_BATCH) {
            if full {
                break;
            }
            let what = "UID FETCH BODY.PEEK[]";
            // Unpin, so it is dropped (and the session free again) below.
            let mut stream = cmd(
                what,
                conn.session.uid_fetch(uid_set(batch), "(UID BODY.PEEK[])"),
            )
            .await?;
            let mut bodies: HashMap<u32, Vec<u8>> = HashMap::with_capacity(batch.len());
            loop {
                let item = match timeout(COMMAND_TIMEOUT, stream.next()).await {
                    Ok(None) => break,
                    Ok(Some(Ok(item))) => item,
                    Ok(Some(Err(e))) => return Err(Failure::imap(what, e)),
                    Err(_) => {
                        return Err(Failure::broken(
                            what,
                            anyhow::anyhow!("no answer within {} s", COMMAND_TIMEOUT.as_secs()),
                        ));
                    }
                };
                let (Some(uid), Some(body)) = (item.uid, item.body()) else {
                    continue; // a flag update or the like, not ours
                };
                let len = body.len() as u64;
                if full || (!(out.is_empty() && bodies.is_empty()) && total + len > CALL_BYTES) {
                    full = true;
                    continue;
                }
                total += len;
                bodies.insert(uid, body.to_vec());
            }
            drop(stream);
            check_open(&conn.session, what)?;
            // A UID not answered was expunged meanwhile by someone else.
            for &uid in batch {
                if let Some(raw) = bodies.remove(&uid) {
                    self.handed_out.insert(uid);
                    out.push(Fetched {
                        key: format!("{validity}:{uid}"),
                        raw,
                    });
                }
            }
        }
        self.drain();
        if !out.is_empty() {
            debug!(count = out.len(), bytes = total, "imap fetched");
        }
        Ok(out)
    }

    async fn try_settle(&mut self, moves: &[(String, Destination)]) -> Result<(), Failure> {
        let validity = self.uidvalidity.expect("set on connect");
        let mut groups: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (key, dest) in moves {
            let Some((v, uid)) = parse_key(key) else {
                warn!(key, "settle: not an IMAP key; skipped");
                continue;
            };
            if v != validity {
                warn!(
                    key,
                    uidvalidity = validity,
                    "settle: UIDVALIDITY changed since fetch; skipped"
                );
                continue;
            }
            let folder = match dest {
                Destination::Processed => self.cfg.processed_folder.as_str(),
                Destination::Quarantine => self.cfg.quarantine_folder.as_str(),
            };
            groups.entry(folder).or_default().push(uid);
        }
        let conn = self.conn.as_mut().expect("connected");
        let use_move = conn.can_move && self.use_move;
        for (folder, mut uids) in groups {
            uids.sort_unstable();
            uids.dedup();
            let target = mailbox_name(folder);
            for chunk in uids.chunks(SETTLE_BATCH) {
                let set = uid_set(chunk);
                if use_move {
                    cmd(
                        &format!("UID MOVE to {folder}"),
                        conn.session.uid_mv(&set, &target),
                    )
                    .await?;
                } else {
                    cmd(
                        &format!("UID COPY to {folder}"),
                        conn.session.uid_copy(&set, &target),
                    )
                    .await?;
                    let stream = cmd(
                        "UID STORE \\Deleted",
                        conn.session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)"),
                    )
                    .await?;
                    collect("UID STORE \\Deleted", stream).await?;
                    if conn.uidplus {
                        let stream = cmd("UID EXPUNGE", conn.session.uid_expunge(&set)).await?;
                        collect("UID EXPUNGE", stream).await?;
                    } else {
                        let stream = cmd("EXPUNGE", conn.session.expunge()).await?;
                        collect("EXPUNGE", stream).await?;
                    }
                }
                check_open(&conn.session, "settle")?;
                for uid in chunk {
                    self.handed_out.remove(uid);
                }
            }
            debug!(folder, count = uids.len(), use_move, "imap settled");
        }
        self.drain();
        Ok(())
    }

    /// IDLE until the server says something or `max_wait` passes.
    async fn idle(&mut self, conn: Conn, max_wait: Duration) -> Result<(), Failure> {
        let Conn {
            session,
            can_move,
            can_idle,
            uidplus,
        } = conn;
        let mut handle = session.idle();
        cmd("IDLE", handle.init()).await?;
        let (wait, stop) = handle.wait_with_timeout(max_wait.min(MAX_IDLE));
        let r = wait.await;
        drop(stop);
        match &r {
            Ok(IdleResponse::NewData(d)) => {
                debug!(response = ?d.parsed(), "imap idle: new data");
                // A server shutting down says BYE and closes: no DONE into
                // a closing connection, the session is over.
                if let Response::Data {
                    status: Status::Bye,
                    outcome,
                    ..
                } = d.parsed()
                {
                    let why = outcome.information.as_deref().unwrap_or("").to_string();
                    return Err(Failure::broken(
                        "IDLE",
                        anyhow::anyhow!("server said BYE: {why}"),
                    ));
                }
            }
            Ok(IdleResponse::Timeout) => debug!("imap idle: timeout"),
            Ok(IdleResponse::ManualInterrupt) => debug!("imap idle: stream ended"),
            Err(_) => {}
        }
        r.map_err(|e| Failure::imap("IDLE", e))?;
        let session = cmd("DONE", handle.done()).await?;
        self.conn = Some(Conn {
            session,
            can_move,
            can_idle,
            uidplus,
        });
        self.drain();
        Ok(())
    }
}

impl Mailbox for ImapMailbox {
    async fn fetch(&mut self, max: usize) -> Result<Vec<Fetched>, MailboxError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        loop {
            let fresh = self.ensure_connected().await.map_err(|f| self.error(f))?;
            match self.try_fetch(max).await {
                Ok(v) => return Ok(v),
                Err(f) if f.broken => {
                    self.drop_conn(&f);
                    if fresh {
                        return Err(self.error(f));
                    }
                    // An old session died (server restarted, idle timeout):
                    // one new connection is tried at once.
                }
                Err(f) => return Err(self.error(f)),
            }
        }
    }

    async fn settle(&mut self, moves: &[(String, Destination)]) -> Result<(), MailboxError> {
        if moves.is_empty() {
            return Ok(());
        }
        loop {
            let fresh = self.ensure_connected().await.map_err(|f| self.error(f))?;
            match self.try_settle(moves).await {
                Ok(()) => return Ok(()),
                Err(f) if f.broken => {
                    self.drop_conn(&f);
                    if fresh {
                        return Err(self.error(f));
                    }
                }
                Err(f) => return Err(self.error(f)),
            }
        }
    }

    async fn wait(&mut self, max_wait: Duration) -> Result<(), MailboxError> {
        if std::mem::take(&mut self.new_mail) {
            return Ok(());
        }
        let poll = Duration::from_secs(self.cfg.poll_seconds.max(1));
        match self.conn.take() {
            Some(conn) if self.cfg.idle && conn.can_idle => {
                if let Err(f) = self.idle(conn, max_wait).await {
                    // The session went with the IDLE; the next fetch reconnects.
                    warn!(
                        endpoint = %self.endpoint(),
                        error = format!("{}: {:#}", f.what, f.source),
                        "imap connection lost while idle"
                    );
                }
            }
            conn => {
                self.conn = conn;
                sleep(max_wait.min(poll)).await;
            }
        }
        Ok(())
    }
}

/// Reads the server greeting; a BYE (server refusing us) is an error.
async fn greeting(client: &mut async_imap::Client<Stream>) -> anyhow::Result<()> {
    let resp = client
        .read_response()
        .await?
        .ok_or_else(|| anyhow::anyhow!("connection closed before the greeting"))?;
    if let Response::Data {
        status: Status::Bye,
        outcome,
        ..
    } = resp.parsed()
    {
        let why = outcome.information.as_deref().unwrap_or("");
        anyhow::bail!("server said BYE: {why}");
    }
    Ok(())
}

/// Creates `name` unless it exists (LIST first; a CREATE lost to a race is fine).
async fn ensure_folder(
    session: &mut async_imap::Session<Stream>,
    name: &str,
) -> Result<(), Failure> {
    let encoded = mailbox_name(name);
    let pattern = quoted(&encoded);
    let exists = async |session: &mut async_imap::Session<Stream>| -> Result<bool, Failure> {
        let stream = cmd("LIST", session.list(Some(""), Some(&pattern))).await?;
        let names = collect("LIST", stream).await?;
        check_open(session, "LIST")?;
        Ok(!names.is_empty())
    };
    if exists(session).await? {
        return Ok(());
    }
    match cmd(&format!("CREATE {name}"), session.create(&encoded)).await {
        Ok(()) => {
            info!(folder = name, "imap folder created");
            Ok(())
        }
        Err(f) if !f.broken && exists(session).await? => Ok(()),
        Err(f) => Err(f),
    }
}

/// `"..."` with backslashes and quotes escaped, for a LIST pattern.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `"<uidvalidity>:<uid>"` -> (uidvalidity, uid).
fn parse_key(key: &str) -> Option<(u32, u32)> {
    let (v, u) = key.split_once(':')?;
    Some((v.parse().ok()?, u.parse().ok()?))
}

/// A UID set with runs compressed: `[1,2,3,7,9,10]` -> `"1:3,7,9:10"`.
fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): `Søppel` ->
/// `S&APg-ppel`, `&` -> `&-`.
fn mailbox_name(name: &str) -> String {
    fn flush(out: &mut String, pending: &mut Vec<u16>) {
        if pending.is_empty() {
            return;
        }
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for k in 0..chars {
                out.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
            }
        }
        out.push('-');
        pending.clear();
    }
    let mut out = String::with_capacity(name.len());
    let mut pending = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut out, &mut pending);
    out
}

/// The connection under the IMAP client: plain TCP (loopback, or before
/// STARTTLS) or rustls. It remembers reaching end of file: async-imap ends a
/// response stream quietly when the connection closes before the tagged
/// answer, so a cut connection would look like an empty SEARCH or a short
/// FETCH; `check_open` after each command turns that into an error.
#[derive(Debug)]
struct Stream {
    inner: Inner,
    /// The server closed the connection (a read returned end of file).
    eof: bool,
}

#[derive(Debug)]
enum Inner {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    fn plain(tcp: TcpStream) -> Self {
        Stream {
            inner: Inner::Plain(tcp),
            eof: false,
        }
    }
    fn tls(tls: TlsStream<TcpStream>) -> Self {
        Stream {
            inner: Inner::Tls(Box::new(tls)),
            eof: false,
        }
    }
}

/// Fails when the server has closed the connection: whatever the last
/// command seemed to return is then incomplete.
fn check_open(session: &async_imap::Session<Stream>, what: &str) -> Result<(), Failure> {
    if session.get_ref().eof {
        return Err(Failure::broken(
            what,
            anyhow::anyhow!("connection closed by the server"),
        ));
    }
    Ok(())
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = match &mut this.inner {
            Inner::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        };
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() == before && buf.remaining() > 0 {
            this.eof = true;
        }
        r
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_flush(cx),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[10, 9, 9, 1]), "1,9:10");
    }

    #[test]
    fn keys() {
        assert_eq!(parse_key("1700000000:42"), Some((1_700_000_000, 42)));
        assert_eq!(parse_key("cur/1234.M5P6.host:2,S"), None);
        assert_eq!(parse_key("42"), None);
    }

    #[test]
    fn modified_utf7() {
        assert_eq!(mailbox_name("Behandlet"), "Behandlet");
        assert_eq!(mailbox_name("Søppel"), "S&APg-ppel");
        assert_eq!(mailbox_name("A&B"), "A&-B");
        assert_eq!(mailbox_name("日本語"), "&ZeVnLIqe-");
        assert_eq!(mailbox_name("Arkiv/Kø"), "Arkiv/K&APg-");
    }
}
