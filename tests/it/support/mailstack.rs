//! A private Dovecot + Postfix on 127.0.0.1 for one test (tests/mailstack.sh),
//! on free ports in a temporary directory, stopped on drop.
//!
//! Any address logs in to IMAP with the password `"pw"` and receives mail
//! over LMTP. Postfix takes mail for example.test, example.no,
//! forbund.example, ffm.example and bedrift.example, refuses every other
//! domain at RCPT (554 relay access denied) and never sends anything off the
//! machine.
//!
//! Blocking or async: `start`, `send` and the Dovecot controls are blocking
//! (a script, a short SMTP dialogue); `wait_for`, `messages` and `append`
//! talk IMAP and are async, so a daemon task spawned on the test's runtime
//! keeps running while a test waits for its replies. Use `#[tokio::test]`.
//!
//! ```ignore
//! let stack = MailStack::start();
//! stack.send(raw, "a@example.test", &["post@forbund.example"]);
//! let got = stack.wait_for("post@forbund.example", "INBOX", 1, Duration::from_secs(10)).await;
//! ```
//!
//! Set `MAILSTACK_KEEP=1` to keep the directory (configs, logs, mail) after
//! the test; its path is printed. Stacks live in /dev/shm when there is one
//! (`MAILSTACK_TMPDIR` to choose).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use postbud::config::{self, Tls};

/// The password of every user.
pub const PASSWORD: &str = "pw";

/// A running mail stack. Dropping it stops both servers.
pub struct MailStack {
    dir: tempfile::TempDir,
    ports: Ports,
}

#[derive(Debug, Clone, Copy)]
struct Ports {
    imap: u16,
    imaps: u16,
    lmtp: u16,
    smtp: u16,
    submission: u16,
    auth: u16,
    smtps: u16,
}

impl Ports {
    /// Seven distinct free ports: bound together on 127.0.0.1:0, then released.
    fn pick() -> Ports {
        let listeners: Vec<TcpListener> = (0..7)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
            .collect();
        let p: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().expect("local_addr").port())
            .collect();
        Ports {
            imap: p[0],
            imaps: p[1],
            lmtp: p[2],
            smtp: p[3],
            submission: p[4],
            auth: p[5],
            smtps: p[6],
        }
    }
}

/// Where stacks live: `MAILSTACK_TMPDIR`, else /dev/shm when there is one
/// (a file written and renamed takes ~60 µs there, ~1.2 ms on this
/// machine's disk: Dovecot appends and Postfix queues 3-20 times faster),
/// else the system's temporary directory.
fn base_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MAILSTACK_TMPDIR") {
        return d.into();
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() && tempfile::tempdir_in(shm).is_ok() {
        return shm.to_path_buf();
    }
    std::env::temp_dir()
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mailstack.sh")
}

impl MailStack {
    /// Starts Dovecot and Postfix on free ports. Panics with the script's
    /// output when they do not come up (never skips: a missing server fails
    /// the test). A port taken by someone else between picking and binding
    /// is retried with new ports, twice.
    pub fn start() -> MailStack {
        MailStack::start_serving(None)
    }

    /// Like `start`, but Dovecot and Postfix serve `cert` (PEM: the
    /// certificate, maybe followed by its chain) with `key` instead of a
    /// certificate from the stack's own CA. There is no CA then: `ca_file`
    /// names no file, and configs from `imap_config`/`smtp_config` need
    /// their `ca_file` set by the test.
    pub fn start_with_cert(cert: &Path, key: &Path) -> MailStack {
        MailStack::start_serving(Some((cert, key)))
    }

    fn start_serving(cert: Option<(&Path, &Path)>) -> MailStack {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::Builder::new()
                .prefix("mailstack-")
                .tempdir_in(base_dir())
                .expect("create a temporary directory");
            if let Some((cert, key)) = cert {
                // mailstack.sh serves a cert.pem and key.pem it finds in place.
                use std::os::unix::fs::PermissionsExt;
                let (to_cert, to_key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
                std::fs::copy(cert, &to_cert)
                    .unwrap_or_else(|e| panic!("copy {}: {e}", cert.display()));
                std::fs::copy(key, &to_key)
                    .unwrap_or_else(|e| panic!("copy {}: {e}", key.display()));
                std::fs::set_permissions(&to_key, std::fs::Permissions::from_mode(0o600))
                    .expect("chmod 600 key.pem");
            }
            let stack = MailStack {
                dir,
                ports: Ports::pick(),
            };
            match stack.run("start") {
                Ok(_) => {
                    if std::env::var_os("MAILSTACK_KEEP").is_some() {
                        eprintln!("mailstack: kept in {}", stack.dir.path().display());
                    }
                    return stack;
                }
                Err(out) => {
                    let port_trouble = out.contains("not listening")
                        || out.contains("in use")
                        || out.contains("did not start");
                    failures.push(out);
                    drop(stack);
                    if !port_trouble {
                        break;
                    }
                }
            }
        }
        panic!(
            "mail stack did not start ({}):\n{}",
            script().display(),
            failures.join("\n---- next attempt ----\n")
        );
    }

    /// Runs `mailstack.sh <what>`; `Err` holds the exit status and output.
    fn run(&self, what: &str) -> Result<String, String> {
        let p = self.ports;
        let out = Command::new("bash")
            .arg(script())
            .arg(what)
            .env("MAILSTACK_DIR", self.dir.path())
            .env("IMAP_PORT", p.imap.to_string())
            .env("IMAPS_PORT", p.imaps.to_string())
            .env("LMTP_PORT", p.lmtp.to_string())
            .env("SMTP_PORT", p.smtp.to_string())
            .env("SUBMISSION_PORT", p.submission.to_string())
            .env("AUTH_PORT", p.auth.to_string())
            .env("SMTPS_PORT", p.smtps.to_string())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()));
        let text = format!(
            "mailstack.sh {what}: {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(text)
        }
    }

    fn run_or_panic(&self, what: &str) {
        if let Err(out) = self.run(what) {
            panic!("{out}");
        }
    }

    /// IMAP with STARTTLS (plain login also allowed).
    pub fn imap_port(&self) -> u16 {
        self.ports.imap
    }
    /// IMAP with implicit TLS.
    pub fn imaps_port(&self) -> u16 {
        self.ports.imaps
    }
    /// Postfix SMTP, no TLS needed, no AUTH: takes mail for the test domains.
    pub fn smtp_port(&self) -> u16 {
        self.ports.smtp
    }
    /// Postfix submission: STARTTLS required, then AUTH (any user, "pw").
    pub fn submission_port(&self) -> u16 {
        self.ports.submission
    }
    /// Postfix submission with implicit TLS and AUTH.
    pub fn smtps_port(&self) -> u16 {
        self.ports.smtps
    }
    /// The CA that signed the servers' certificate (for `localhost` and
    /// 127.0.0.1): use it as `ca_file`. (None with `start_with_cert`.)
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
    /// The stack's directory: configs, logs (`dovecot/dovecot.log`,
    /// `postfix/maillog`), mail.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A `[mailbox]` config for `user` on this stack: IMAP on 127.0.0.1 with
    /// the given TLS mode (port chosen to match), this stack's CA, password
    /// "pw", INBOX, IDLE on, poll every second.
    pub fn imap_config(&self, user: &str, tls: Tls) -> config::Mailbox {
        let (mode, port) = match tls {
            Tls::Implicit => ("implicit", self.imaps_port()),
            Tls::Starttls => ("starttls", self.imap_port()),
            Tls::None => ("none", self.imap_port()),
        };
        // Through serde, so that keys added to the config later get their defaults.
        let text = format!(
            "kind = \"imap\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{mode}\"\n\
             ca_file = {ca:?}\nusername = {user:?}\nfolder = \"INBOX\"\nidle = true\n\
             processed_folder = \"Behandlet\"\nquarantine_folder = \"Karantene\"\n\
             poll_seconds = 1\n",
            ca = self.ca_file().display().to_string(),
        );
        let mut cfg: config::Mailbox =
            toml::from_str(&text).unwrap_or_else(|e| panic!("test [mailbox] config: {e}\n{text}"));
        cfg.password = Some(PASSWORD.into());
        cfg
    }

    /// An `[outgoing]` SMTP config for this stack. `user: None`: the plain
    /// port, no TLS, no AUTH (`tls` is ignored). `Some(user)`: submission
    /// (`Starttls`) or implicit TLS (`Implicit`) with AUTH as `user`/"pw".
    pub fn smtp_config(&self, tls: Tls, user: Option<&str>) -> config::Outgoing {
        let (mode, port) = match (user, tls) {
            (None, _) => ("none", self.smtp_port()),
            (Some(_), Tls::Implicit) => ("implicit", self.smtps_port()),
            (Some(_), _) => ("starttls", self.submission_port()),
        };
        let mut text = format!(
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{mode}\"\n\
             ca_file = {ca:?}\nconnections = 2\n",
            ca = self.ca_file().display().to_string(),
        );
        if let Some(user) = user {
            text.push_str(&format!("username = {user:?}\n"));
        }
        let mut cfg: config::Outgoing =
            toml::from_str(&text).unwrap_or_else(|e| panic!("test [outgoing] config: {e}\n{text}"));
        cfg.password = user.map(|_| PASSWORD.to_string());
        cfg
    }

    /// Hands a message to Postfix's plain port (blocking) and returns once
    /// Postfix has queued it (250 after the data). Delivery to Dovecot
    /// follows within milliseconds: use `wait_for` to see it. Panics on any
    /// refusal, with Postfix's answer.
    pub fn send(&self, raw: &[u8], from: &str, to: &[&str]) {
        if let Err(e) = self.try_send(raw, from, to) {
            panic!("mailstack send to {to:?}: {e}");
        }
    }

    /// Like `send`, but returns Postfix's refusal (e.g. `554 5.7.1 ...`).
    pub fn try_send(&self, raw: &[u8], from: &str, to: &[&str]) -> Result<(), String> {
        let stream = TcpStream::connect(("127.0.0.1", self.smtp_port()))
            .map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .and_then(|_| stream.set_write_timeout(Some(Duration::from_secs(30))))
            .and_then(|_| stream.set_nodelay(true))
            .map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        let mut w = stream;
        let mut reply = |expect: &str| -> Result<(), String> {
            let mut all = String::new();
            loop {
                let mut line = String::new();
                let n = reader.read_line(&mut line).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err(format!("connection closed; so far: {all}"));
                }
                all.push_str(&line);
                if line.len() < 4 || line.as_bytes()[3] != b'-' {
                    break;
                }
            }
            if all.starts_with(expect) {
                Ok(())
            } else {
                Err(all.trim_end().to_string())
            }
        };
        let cmd = |w: &mut TcpStream, line: String| -> Result<(), String> {
            w.write_all(line.as_bytes()).map_err(|e| e.to_string())
        };
        reply("220")?;
        cmd(&mut w, "EHLO test.example.test\r\n".into())?;
        reply("250")?;
        cmd(&mut w, format!("MAIL FROM:<{from}>\r\n"))?;
        reply("250")?;
        for rcpt in to {
            cmd(&mut w, format!("RCPT TO:<{rcpt}>\r\n"))?;
            reply("250")?;
        }
        cmd(&mut w, "DATA\r\n".into())?;
        reply("354")?;
        w.write_all(&dot_stuff(raw)).map_err(|e| e.to_string())?;
        w.write_all(b".\r\n").map_err(|e| e.to_string())?;
        reply("250")?;
        let _ = cmd(&mut w, "QUIT\r\n".into());
        Ok(())
    }

    /// Logs in as `user` over the plain IMAP port (Dovecot allows it here).
    async fn imap(&self, user: &str) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port()))
            .await
            .unwrap_or_else(|e| panic!("imap connect: {e}"));
        tcp.set_nodelay(true).expect("TCP_NODELAY");
        let mut client = async_imap::Client::new(tcp);
        client
            .read_response()
            .await
            .expect("imap greeting")
            .expect("imap greeting");
        client
            .login(user, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap_or_else(|e| panic!("imap login as {user}: {e}"))
    }

    /// Every message in `user`'s `folder`, oldest UID first; empty when the
    /// folder does not exist.
    pub async fn messages(&self, user: &str, folder: &str) -> Vec<Vec<u8>> {
        let mut s = self.imap(user).await;
        let mailbox = match s.examine(folder).await {
            Ok(m) => m,
            Err(async_imap::error::Error::No(_)) => {
                let _ = s.logout().await;
                return Vec::new();
            }
            Err(e) => panic!("imap examine {folder} as {user}: {e}"),
        };
        let mut out: Vec<(u32, Vec<u8>)> = Vec::new();
        if mailbox.exists > 0 {
            let fetches: Vec<_> = s
                .uid_fetch("1:*", "(UID BODY.PEEK[])")
                .await
                .unwrap_or_else(|e| panic!("imap fetch {folder} as {user}: {e}"))
                .try_collect()
                .await
                .unwrap_or_else(|e| panic!("imap fetch {folder} as {user}: {e}"));
            out = fetches
                .iter()
                .map(|f| {
                    (
                        f.uid.expect("UID in UID FETCH"),
                        f.body().expect("BODY[]").to_vec(),
                    )
                })
                .collect();
        }
        let _ = s.logout().await;
        out.sort_by_key(|(uid, _)| *uid);
        out.into_iter().map(|(_, raw)| raw).collect()
    }

    /// Polls `user`'s `folder` every 100 ms until it holds at least `n`
    /// messages, then returns them all (oldest first). Panics after
    /// `timeout`, with what is there and the tail of Postfix's log.
    pub async fn wait_for(
        &self,
        user: &str,
        folder: &str,
        n: usize,
        timeout: Duration,
    ) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let got = self.messages(user, folder).await;
            if got.len() >= n {
                return got;
            }
            if start.elapsed() > timeout {
                let log =
                    std::fs::read_to_string(self.dir().join("postfix/maillog")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                panic!(
                    "{user}/{folder}: {} of {n} messages after {timeout:?}\npostfix log (newest first):\n{}",
                    got.len(),
                    tail.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// IMAP APPEND of `raw` to `user`'s `folder` (created when missing):
    /// fast setup without going through Postfix.
    pub async fn append(&self, user: &str, folder: &str, raw: &[u8]) {
        self.append_all(user, folder, &[raw]).await;
    }

    /// Several APPENDs on one connection, in order, pipelined (LITERAL+):
    /// thousands of messages a second, for bulk setup.
    pub async fn append_all(&self, user: &str, folder: &str, raws: &[&[u8]]) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port()))
            .await
            .unwrap_or_else(|e| panic!("imap connect: {e}"));
        tcp.set_nodelay(true).expect("TCP_NODELAY");
        let (r, mut w) = tcp.into_split();
        let mut r = tokio::io::BufReader::new(r);
        let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        // Reads up to the answer tagged `tag`; returns that line.
        async fn answer(
            r: &mut tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
            tag: &str,
        ) -> String {
            let mut line = String::new();
            loop {
                line.clear();
                let n = r.read_line(&mut line).await.expect("imap append: read");
                if n == 0 || line.starts_with(&format!("{tag} ")) {
                    return line.trim_end().to_string();
                }
            }
        }
        // Log in first: imap-login drops a client that pipelines megabytes
        // behind its LOGIN.
        let login = format!("L LOGIN {} {}\r\n", quote(user), quote(PASSWORD));
        w.write_all(login.as_bytes())
            .await
            .expect("imap append: write");
        let ok = answer(&mut r, "L").await;
        assert!(ok.starts_with("L OK"), "imap login as {user}: {ok}");
        if folder != "INBOX" {
            let create = format!("C CREATE {}\r\n", quote(folder));
            w.write_all(create.as_bytes())
                .await
                .expect("imap append: write");
            answer(&mut r, "C").await; // NO when it exists: fine
        }
        let mut out = Vec::new();
        for (i, raw) in raws.iter().enumerate() {
            let cmd = format!("A{i} APPEND {} {{{}+}}\r\n", quote(folder), raw.len());
            out.extend_from_slice(cmd.as_bytes());
            out.extend_from_slice(raw);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"Z LOGOUT\r\n");
        // Write and read at once: the answers would otherwise fill the
        // socket buffers and stall both sides.
        let write = async move {
            w.write_all(&out).await.expect("imap append: write");
            w
        };
        let read = async {
            let mut failures = Vec::new();
            let mut line = String::new();
            loop {
                line.clear();
                let n = r.read_line(&mut line).await.expect("imap append: read");
                if n == 0 || line.starts_with("Z ") {
                    break;
                }
                if line.starts_with('A') && line.split(' ').nth(1) != Some("OK") {
                    failures.push(line.trim_end().to_string());
                }
            }
            failures
        };
        let (_w, failures) = tokio::join!(write, read);
        assert!(
            failures.is_empty(),
            "imap append to {folder} as {user}: {failures:?}"
        );
    }

    /// Deletes `user`'s `folder` (not INBOX). Recreating it gives a new
    /// UIDVALIDITY. A session that has it selected is not reliably told
    /// (Dovecot's indexes just go wrong for it): `restart_dovecot` after.
    pub async fn delete_folder(&self, user: &str, folder: &str) {
        let mut s = self.imap(user).await;
        s.delete(folder)
            .await
            .unwrap_or_else(|e| panic!("imap delete {folder} as {user}: {e}"));
        let _ = s.logout().await;
    }

    /// Stops Dovecot and starts it again on the same ports (blocking, under
    /// a second). Each open IMAP connection is told `BYE Server shutting
    /// down` and cut.
    pub fn restart_dovecot(&self) {
        self.run_or_panic("restart-dovecot");
    }

    /// Stops Dovecot (IMAP, LMTP, auth); Postfix queues mail meanwhile and
    /// retries every second or two.
    pub fn stop_dovecot(&self) {
        self.run_or_panic("stop-dovecot");
    }

    /// Starts Dovecot again after `stop_dovecot`.
    pub fn start_dovecot(&self) {
        self.run_or_panic("start-dovecot");
    }

    /// Stops Postfix and starts it again on the same ports (blocking, under
    /// a second). Open SMTP sessions are cut, as by a crash.
    pub fn restart_postfix(&self) {
        self.run_or_panic("restart-postfix");
    }

    /// Stops Postfix: its ports refuse connections, open sessions are cut.
    /// Mail in its queue waits there.
    pub fn stop_postfix(&self) {
        self.run_or_panic("stop-postfix");
    }

    /// Starts Postfix again after `stop_postfix`.
    pub fn start_postfix(&self) {
        self.run_or_panic("start-postfix");
    }
}

impl Drop for MailStack {
    fn drop(&mut self) {
        let _ = self.run("stop");
        if std::env::var_os("MAILSTACK_KEEP").is_some() {
            self.dir.disable_cleanup(true);
        }
    }
}

/// CRLF line ends and SMTP dot-stuffing, ending with CRLF (the caller sends
/// the final dot).
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 64);
    let mut at_line_start = true;
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}
