//! A TCP proxy on 127.0.0.1 for chaos tests: it sits in front of a server
//! (Dovecot's IMAP port, Postfix's SMTP port) and, when told to, cuts a
//! connection at a chosen moment or refuses new ones.
//!
//! Rules are checked against what the client sends (a command such as
//! `UID FETCH`, `UID MOVE`, `IDLE`, SMTP `DATA` or the `\r\n.\r\n` that ends
//! a message) or against byte counts. Each rule fires a given number of
//! times, on whichever connections reach it first, then is gone. A cut
//! closes both sides at once: the client sees its connection closed in the
//! middle of whatever it was doing, the server sees its client go.
//!
//! Only plain connections can be watched by command: use `tls = "none"`
//! (allowed to 127.0.0.1) for the client behind a proxy.
//!
//! ```ignore
//! let proxy = Proxy::start(stack.imap_port()).await;
//! proxy.rule(Rule::on("UID MOVE", Cut::AfterReply(0)));   // moved, but the client never hears so
//! proxy.refuse(true);                                       // connection refused until refuse(false)
//! ```
//!
//! The proxy runs on the test's tokio runtime and stops when dropped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// When a rule matching a client command cuts the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The command never reaches the server (the bytes before it do).
    Before,
    /// The command reaches the server; the connection is closed right
    /// after, before any answer. The server may or may not act on it.
    Forwarded,
    /// The command reaches the server; the connection is cut once the
    /// server has answered this many bytes more, which the client does get.
    /// `AfterReply(0)`: the server acted and answered, the client never
    /// hears it.
    AfterReply(usize),
    /// The command reaches the server, and this many bytes the client
    /// sends after it (the middle of a message's data); then the cut.
    AfterMore(usize),
}

/// What a rule waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum On {
    /// This text (ASCII case ignored) in what the client sends.
    Client(String),
    /// The server has sent this many bytes on one connection: exactly that
    /// many reach the client, then the cut.
    ServerBytes(u64),
    /// The client has sent this many bytes on one connection: exactly that
    /// many reach the server, then the cut.
    ClientBytes(u64),
}

/// A cut to make, `times` times (once by default). A rule on a command
/// applies to every connection; one on a byte count only to connections
/// opened after it was added (their bytes are counted from the start).
#[derive(Debug, Clone)]
pub struct Rule {
    pub on: On,
    pub cut: Cut,
    pub times: usize,
    /// The first connection a byte rule applies to (set by `Proxy::rule`).
    from_connection: u64,
}

impl Rule {
    /// A cut when the client sends `pattern` (e.g. `"UID FETCH"`, `"DATA\r\n"`).
    pub fn on(pattern: &str, cut: Cut) -> Rule {
        Rule {
            on: On::Client(pattern.to_string()),
            cut,
            times: 1,
            from_connection: 0,
        }
    }
    /// A cut once the server has sent `n` bytes on a new connection.
    pub fn server_bytes(n: u64) -> Rule {
        Rule {
            on: On::ServerBytes(n),
            cut: Cut::Before,
            times: 1,
            from_connection: 0,
        }
    }
    /// A cut once the client has sent `n` bytes on a new connection.
    pub fn client_bytes(n: u64) -> Rule {
        Rule {
            on: On::ClientBytes(n),
            cut: Cut::Before,
            times: 1,
            from_connection: 0,
        }
    }
    /// Fires `n` times instead of once.
    pub fn times(mut self, n: usize) -> Rule {
        self.times = n;
        self
    }
}

/// What the proxy did so far.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Connections passed on to the server.
    pub accepted: usize,
    /// Connections refused (reset at once) while refusing.
    pub refused: usize,
    /// Connections the server itself would not take.
    pub upstream_failed: usize,
    /// One line per cut made: which rule, on which connection.
    pub cuts: Vec<String>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    refuse: bool,
    stats: Stats,
    /// The id of the last connection accepted.
    last_connection: u64,
}

struct Shared {
    upstream: u16,
    state: Mutex<State>,
    /// Bumped by `cut_all`: every connection open then is cut.
    generation: watch::Sender<u64>,
}

/// A running proxy. Dropping it stops accepting and cuts what is open.
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards to
    /// 127.0.0.1:`upstream`.
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy: bind 127.0.0.1:0");
        let port = listener.local_addr().expect("proxy: local_addr").port();
        let shared = Arc::new(Shared {
            upstream,
            state: Mutex::new(State::default()),
            generation: watch::channel(0).0,
        });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            let mut id = 0u64;
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                id += 1;
                let refuse = {
                    let mut st = s.state.lock().unwrap();
                    st.last_connection = id;
                    st.refuse
                };
                if refuse {
                    s.state.lock().unwrap().stats.refused += 1;
                    // A reset at once: what a client sees from a port nobody
                    // listens on, give or take the handshake.
                    reset(client);
                    continue;
                }
                tokio::spawn(serve(s.clone(), id, client));
            }
        });
        Proxy {
            port,
            shared,
            accept,
        }
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Adds a rule.
    pub fn rule(&self, mut rule: Rule) {
        let mut st = self.shared.state.lock().unwrap();
        rule.from_connection = st.last_connection + 1;
        st.rules.push(rule);
    }

    /// Rules not yet used up.
    pub fn pending_rules(&self) -> usize {
        self.shared.state.lock().unwrap().rules.len()
    }

    /// While on, every new connection is reset at once.
    pub fn refuse(&self, on: bool) {
        self.shared.state.lock().unwrap().refuse = on;
    }

    /// Cuts every connection open now.
    pub fn cut_all(&self) {
        self.shared
            .state
            .lock()
            .unwrap()
            .stats
            .cuts
            .push("every open connection".into());
        self.shared.generation.send_modify(|g| *g += 1);
    }

    pub fn stats(&self) -> Stats {
        self.shared.state.lock().unwrap().stats.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.generation.send_modify(|g| *g += 1);
    }
}

/// Per connection: counts, and what is pending after a rule fired.
#[derive(Default)]
struct Conn {
    /// Cut once the server has sent this many bytes more.
    cut_after_server: Option<usize>,
    /// Cut once the client has sent this many bytes more.
    cut_after_client: Option<usize>,
    client_total: u64,
    server_total: u64,
    /// The last bytes from the client, for patterns split across reads.
    tail: Vec<u8>,
}

/// Closes with a reset (RST) instead of an orderly close. A zero linger
/// never blocks on drop (the reason tokio deprecates `set_linger`).
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Finds `needle` in `hay`, ASCII case ignored: the index of its start.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// What to do with a chunk read from one side.
enum Step {
    /// Forward it all.
    Forward,
    /// Forward the first n bytes, then cut.
    CutAfter(usize),
}

/// Waits until the connection is to be cut.
async fn cut_signal(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|cut| *cut).await;
}

async fn serve(shared: Arc<Shared>, id: u64, client: TcpStream) {
    // Subscribed before anything else: a `cut_all` from now on reaches us.
    let mut generation = shared.generation.subscribe();
    let server = match TcpStream::connect(("127.0.0.1", shared.upstream)).await {
        Ok(s) => s,
        Err(_) => {
            shared.state.lock().unwrap().stats.upstream_failed += 1;
            reset(client);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    shared.state.lock().unwrap().stats.accepted += 1;
    let conn = Mutex::new(Conn::default());
    let (cut_tx, cut_rx) = watch::channel(false);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();

    // Client to server: rules on commands and client bytes.
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = tokio::select! {
                r = cr.read(&mut buf) => match r { Ok(0) | Err(_) => break, Ok(n) => n },
                _ = cut_signal(cut_rx.clone()) => break,
            };
            let chunk = &buf[..n];
            match client_step(&shared, &conn, id, chunk) {
                Step::Forward => {
                    if sw.write_all(chunk).await.is_err() {
                        break;
                    }
                }
                Step::CutAfter(k) => {
                    let _ = sw.write_all(&chunk[..k]).await;
                    break;
                }
            }
        }
        cut_tx.send_replace(true);
    };
    // Server to client: cuts after a reply, server bytes.
    let down = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = tokio::select! {
                r = sr.read(&mut buf) => match r { Ok(0) | Err(_) => break, Ok(n) => n },
                _ = cut_signal(cut_rx.clone()) => break,
            };
            let chunk = &buf[..n];
            match server_step(&shared, &conn, id, chunk) {
                Step::Forward => {
                    if cw.write_all(chunk).await.is_err() {
                        break;
                    }
                }
                Step::CutAfter(k) => {
                    let _ = cw.write_all(&chunk[..k]).await;
                    break;
                }
            }
        }
        cut_tx.send_replace(true);
    };
    // `cut_all`, or the proxy dropped.
    let watch = async {
        tokio::select! {
            _ = generation.changed() => {}
            _ = cut_signal(cut_rx.clone()) => {}
        }
        cut_tx.send_replace(true);
    };
    tokio::join!(up, down, watch);
    // Both connections close as their halves drop here.
}

/// Records that rule `i` fired; drops it when used up.
fn fired(st: &mut State, i: usize, id: u64) {
    let what = format!(
        "connection {id}: {:?} {:?}",
        st.rules[i].on, st.rules[i].cut
    );
    st.stats.cuts.push(what);
    st.rules[i].times -= 1;
    if st.rules[i].times == 0 {
        st.rules.remove(i);
    }
}

/// Checks a chunk the client sent against the rules and what is pending.
fn client_step(shared: &Shared, conn: &Mutex<Conn>, id: u64, chunk: &[u8]) -> Step {
    let mut c = conn.lock().unwrap();
    if let Some(left) = c.cut_after_client {
        if chunk.len() >= left {
            return Step::CutAfter(left);
        }
        c.cut_after_client = Some(left - chunk.len());
        return Step::Forward;
    }
    let before = c.client_total;
    c.client_total += chunk.len() as u64;
    let mut hay = std::mem::take(&mut c.tail);
    let tail_len = hay.len();
    hay.extend_from_slice(chunk);
    let mut st = shared.state.lock().unwrap();
    let mut step = Step::Forward;
    for i in 0..st.rules.len() {
        let rule = &st.rules[i];
        match &rule.on {
            On::Client(p) => {
                // Only a match that ends in this chunk: the tail alone was
                // checked with the chunk before.
                let from = (tail_len + 1).saturating_sub(p.len());
                let Some(at) = find(&hay[from..], p.as_bytes()).map(|i| i + from) else {
                    continue;
                };
                // Where the pattern starts and ends in this chunk.
                let start = at.saturating_sub(tail_len);
                let end = (at + p.len()).saturating_sub(tail_len);
                step = match rule.cut {
                    Cut::Before => Step::CutAfter(start),
                    Cut::Forwarded => Step::CutAfter(end),
                    Cut::AfterReply(n) => {
                        c.cut_after_server = Some(n);
                        Step::Forward
                    }
                    Cut::AfterMore(n) => {
                        let rest = chunk.len() - end;
                        if rest >= n {
                            Step::CutAfter(end + n)
                        } else {
                            c.cut_after_client = Some(n - rest);
                            Step::Forward
                        }
                    }
                };
                fired(&mut st, i, id);
                hay.clear();
                break;
            }
            On::ClientBytes(n) if id >= rule.from_connection && c.client_total >= *n => {
                step = Step::CutAfter((*n - before.min(*n)) as usize);
                fired(&mut st, i, id);
                break;
            }
            _ => {}
        }
    }
    let keep = hay.len().min(64);
    c.tail = hay[hay.len() - keep..].to_vec();
    step
}

/// Checks a chunk the server sent against the rules and what is pending.
fn server_step(shared: &Shared, conn: &Mutex<Conn>, id: u64, chunk: &[u8]) -> Step {
    let mut c = conn.lock().unwrap();
    if let Some(left) = c.cut_after_server {
        if chunk.len() >= left {
            return Step::CutAfter(left);
        }
        c.cut_after_server = Some(left - chunk.len());
    }
    let before = c.server_total;
    c.server_total += chunk.len() as u64;
    let mut st = shared.state.lock().unwrap();
    for i in 0..st.rules.len() {
        if let On::ServerBytes(n) = st.rules[i].on
            && id >= st.rules[i].from_connection
            && c.server_total >= n
        {
            fired(&mut st, i, id);
            return Step::CutAfter((n - before.min(n)) as usize);
        }
    }
    Step::Forward
}
