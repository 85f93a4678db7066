//! The configuration file (SPEC section 12): TOML into typed sections, with
//! every error naming the file, the line and the key. Secrets come from files
//! or environment variables, never from the config text.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole configuration, as loaded and checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub organisation: Organisation,
    #[serde(default)]
    pub register: Register,
    pub mailbox: Mailbox,
    #[serde(default)]
    pub outgoing: Outgoing,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub lists: Lists,
    #[serde(default)]
    pub retention: Retention,
    #[serde(default)]
    pub schedule: Schedule,
    /// Directory the relative paths above are resolved against (the config
    /// file's directory's parent when the file sits in `config/`, else its
    /// own directory). Not a key in the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Where the config was read from, for messages.
    #[serde(skip)]
    pub source: PathBuf,
}

/// `[organisation]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    /// postbud's own address: From of every reply.
    pub address: String,
    #[serde(default)]
    pub admins: Vec<String>,
    #[serde(default = "default_language")]
    pub language: Language,
    #[serde(default = "default_timezone")]
    pub timezone: String,
}

pub use postbud_commands::facts::Language;

fn default_language() -> Language {
    Language::Nb
}
fn default_timezone() -> String {
    "Europe/Oslo".into()
}

/// `[register]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    #[serde(default = "default_db")]
    pub path: PathBuf,
}
impl Default for Register {
    fn default() -> Self {
        Register { path: default_db() }
    }
}
fn default_db() -> PathBuf {
    "var/postbud.db".into()
}

/// How to talk TLS to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    Implicit,
    Starttls,
    /// Plain text: only allowed to 127.0.0.1 / ::1 / localhost.
    None,
}

/// `[mailbox]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    pub kind: MailboxKind,
    /// Maildir root (maildir only).
    pub path: Option<PathBuf>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<Tls>,
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    #[serde(default = "default_folder")]
    pub folder: String,
    #[serde(default = "yes")]
    pub idle: bool,
    #[serde(default = "default_processed")]
    pub processed_folder: String,
    #[serde(default = "default_quarantine")]
    pub quarantine_folder: String,
    #[serde(default = "default_poll")]
    pub poll_seconds: u64,
    /// Messages handled per transaction (one durable commit per batch).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Secret resolved from password_file / password_env at load time.
    #[serde(skip)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailboxKind {
    Maildir,
    Imap,
}

fn default_folder() -> String {
    "INBOX".into()
}
fn default_processed() -> String {
    "Behandlet".into()
}
fn default_quarantine() -> String {
    "Karantene".into()
}
fn default_poll() -> u64 {
    30
}
fn default_batch() -> usize {
    500
}
fn yes() -> bool {
    true
}

/// `[outgoing]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outgoing {
    pub kind: OutgoingKind,
    /// Outbox directory (file only).
    pub path: Option<PathBuf>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<Tls>,
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    /// Connections kept open to the SMTP server at once.
    #[serde(default = "default_connections")]
    pub connections: usize,
    /// Secret resolved from password_file / password_env at load time.
    #[serde(skip)]
    pub password: Option<String>,
}
impl Default for Outgoing {
    fn default() -> Self {
        Outgoing {
            kind: OutgoingKind::File,
            path: Some("var/outbox".into()),
            host: None,
            port: None,
            tls: None,
            ca_file: None,
            username: None,
            password_file: None,
            password_env: None,
            connections: default_connections(),
            password: None,
        }
    }
}
fn default_connections() -> usize {
    4
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutgoingKind {
    File,
    Smtp,
}

/// `[security]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    pub trusted_authserv_id: Option<String>,
    pub registration_secret_file: Option<PathBuf>,
    pub registration_secret_env: Option<String>,
    #[serde(default = "default_code_ttl")]
    pub code_ttl_minutes: i64,
    #[serde(default = "default_max_replies")]
    pub max_replies_per_hour: i64,
    /// Secret resolved at load time.
    #[serde(skip)]
    pub registration_secret: Option<String>,
}
impl Default for Security {
    fn default() -> Self {
        Security {
            trusted_authserv_id: None,
            registration_secret_file: None,
            registration_secret_env: None,
            code_ttl_minutes: default_code_ttl(),
            max_replies_per_hour: default_max_replies(),
            registration_secret: None,
        }
    }
}
fn default_code_ttl() -> i64 {
    15
}
fn default_max_replies() -> i64 {
    20
}

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default = "d_msg")]
    pub max_message_bytes: u64,
    #[serde(default = "d_att")]
    pub max_attachments: usize,
    #[serde(default = "d_unc")]
    pub max_uncompressed_bytes: u64,
    /// Rows per list.
    #[serde(default = "d_rows")]
    pub max_rows: u64,
    /// Rows in all the lists of one message.
    #[serde(default = "d_rows")]
    pub max_rows_per_message: u64,
    /// MIME parts nested deeper than this: the message is quarantined.
    #[serde(default = "d_nesting")]
    pub max_nesting: usize,
    /// Bytes of HTML read per part.
    #[serde(default = "d_html")]
    pub max_html_bytes: usize,
}
impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: d_msg(),
            max_attachments: d_att(),
            max_uncompressed_bytes: d_unc(),
            max_rows: d_rows(),
            max_rows_per_message: d_rows(),
            max_nesting: d_nesting(),
            max_html_bytes: d_html(),
        }
    }
}
fn d_nesting() -> usize {
    30
}
fn d_html() -> usize {
    2_097_152
}
fn d_msg() -> u64 {
    26_214_400
}
fn d_att() -> usize {
    20
}
fn d_unc() -> u64 {
    104_857_600
}
fn d_rows() -> u64 {
    1_000_000
}

/// `[retention]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Raw message bodies are kept this many days; the record that a
    /// message was handled stays.
    #[serde(default = "d_raw_body_days")]
    pub raw_body_days: i64,
}
impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw_body_days: d_raw_body_days(),
        }
    }
}
fn d_raw_body_days() -> i64 {
    90
}

/// `[lists]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lists {
    #[serde(default)]
    pub allow_synthetic_ids: bool,
}

/// `[schedule]`: cron expressions with seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    #[serde(default = "s_letters")]
    pub letters: String,
    #[serde(default = "s_reminders")]
    pub reminders: String,
    #[serde(default = "s_digest")]
    pub digest: String,
    #[serde(default = "s_retention")]
    pub retention: String,
}
impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            letters: s_letters(),
            reminders: s_reminders(),
            digest: s_digest(),
            retention: s_retention(),
        }
    }
}
fn s_letters() -> String {
    "0 0 7 1 * *".into()
}
fn s_reminders() -> String {
    "0 0 7 20 * *".into()
}
fn s_digest() -> String {
    "0 0 6 * * *".into()
}
fn s_retention() -> String {
    "0 30 3 * * *".into()
}

impl Config {
    /// The parts of the config decisions read.
    pub fn settings(&self) -> postbud_commands::Settings {
        postbud_commands::Settings {
            org_name: self.organisation.name.clone(),
            org_address: self.organisation.address.to_lowercase(),
            language: self.organisation.language,
            code_ttl_minutes: self.security.code_ttl_minutes,
            max_replies_per_hour: self.security.max_replies_per_hour,
            max_attachments: self.limits.max_attachments,
            // Checked when the config was loaded.
            timezone: self
                .organisation
                .timezone
                .parse()
                .unwrap_or(chrono_tz::Europe::Oslo),
            trusted_authserv_id: self.security.trusted_authserv_id.clone(),
            registration_secret: self.security.registration_secret.clone(),
            list_limits: postbud_core::lists::Limits {
                max_uncompressed_bytes: self.limits.max_uncompressed_bytes,
                max_rows: self.limits.max_rows,
                allow_synthetic_ids: self.lists.allow_synthetic_ids,
            },
            max_message_bytes: self.limits.max_message_bytes,
            max_rows_per_message: self.limits.max_rows_per_message,
            bounds: postbud_core::message::Bounds {
                max_depth: self.limits.max_nesting,
                max_html_bytes: self.limits.max_html_bytes,
            },
        }
    }

    /// Resolves a path from the config against `base_dir`.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

/// One thing wrong with a config file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line, 0 when the problem is not on a line (a missing section).
    pub line: usize,
    /// `section.key` the problem is about.
    pub key: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.key,
            self.message
        )
    }
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read config at `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
    /// Templates that do not parse, each `file: line N: what`.
    #[error("{}", .0.join("\n"))]
    Templates(Vec<String>),
}

/// Where the config comes from: `--config FILE`, else `POSTBUD_CONFIG`, else
/// `config/postbud.toml`.
pub fn locate(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("POSTBUD_CONFIG") {
        return PathBuf::from(p);
    }
    PathBuf::from("config/postbud.toml")
}

/// Reads, parses and checks a config file; resolves relative paths and secrets.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text, |name| std::env::var(name).ok())
}

/// Parses and checks config text. `env` looks up environment variables (passed
/// in so tests need not touch the process environment).
pub fn parse(
    path: &Path,
    text: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut cfg: Config = toml::from_str(text).map_err(|e| {
        let (line, key) = match e.span() {
            Some(span) => locate_span(text, span.start),
            None => (0, String::new()),
        };
        ConfigError::Invalid(vec![Problem {
            file: path.to_path_buf(),
            line,
            key,
            message: e.message().trim().to_string(),
        }])
    })?;
    let base = base_dir(path);
    let mut problems = Vec::new();
    let mut problem = |section: &str, key: &str, message: String| {
        problems.push(Problem {
            file: path.to_path_buf(),
            line: key_line(text, section, key),
            key: format!("{section}.{key}"),
            message,
        });
    };

    let abs = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    cfg.register.path = abs(&cfg.register.path);

    if !cfg.organisation.address.contains('@') {
        problem(
            "organisation",
            "address",
            format!("`{}` is not a mail address", cfg.organisation.address),
        );
    }
    for a in &cfg.organisation.admins {
        if !a.contains('@') {
            problem(
                "organisation",
                "admins",
                format!("`{a}` is not a mail address"),
            );
        }
    }
    if cfg.organisation.timezone.parse::<chrono_tz::Tz>().is_err() {
        problem(
            "organisation",
            "timezone",
            format!(
                "`{}` is not a time zone (try \"Europe/Oslo\")",
                cfg.organisation.timezone
            ),
        );
    }

    // [mailbox]
    let mb = &mut cfg.mailbox;
    match mb.kind {
        MailboxKind::Maildir => match &mb.path {
            Some(p) => mb.path = Some(abs(p)),
            None => problem("mailbox", "path", "a maildir mailbox needs `path`".into()),
        },
        MailboxKind::Imap => {
            for (k, missing) in [
                ("host", mb.host.is_none()),
                ("username", mb.username.is_none()),
            ] {
                if missing {
                    problem("mailbox", k, format!("an imap mailbox needs `{k}`"));
                }
            }
            check_server(
                "mailbox",
                mb.host.as_deref(),
                mb.tls.get_or_insert(Tls::Implicit),
                &mut problem,
            );
            if mb.port.is_none() {
                mb.port = Some(match mb.tls {
                    Some(Tls::Implicit) => 993,
                    _ => 143,
                });
            }
            mb.ca_file = mb.ca_file.as_deref().map(abs);
            if let Some(ca) = &mb.ca_file
                && !ca.is_file()
            {
                problem(
                    "mailbox",
                    "ca_file",
                    format!("no file at `{}`", ca.display()),
                );
            }
            mb.password = secret(
                "mailbox",
                "password",
                mb.password_file.as_deref().map(abs),
                mb.password_env.as_deref(),
                true,
                &env,
                &mut problem,
            );
        }
    }
    if mb.batch_size == 0 {
        problem("mailbox", "batch_size", "must be at least 1".into());
    }
    if mb.poll_seconds == 0 {
        problem("mailbox", "poll_seconds", "must be at least 1".into());
    }

    // [outgoing]
    let out = &mut cfg.outgoing;
    match out.kind {
        OutgoingKind::File => match &out.path {
            Some(p) => out.path = Some(abs(p)),
            None => problem("outgoing", "path", "a file outbox needs `path`".into()),
        },
        OutgoingKind::Smtp => {
            if out.host.is_none() {
                problem("outgoing", "host", "an smtp outbox needs `host`".into());
            }
            check_server(
                "outgoing",
                out.host.as_deref(),
                out.tls.get_or_insert(Tls::Starttls),
                &mut problem,
            );
            if out.port.is_none() {
                out.port = Some(match out.tls {
                    Some(Tls::Implicit) => 465,
                    Some(Tls::Starttls) => 587,
                    _ => 25,
                });
            }
            out.ca_file = out.ca_file.as_deref().map(abs);
            if let Some(ca) = &out.ca_file
                && !ca.is_file()
            {
                problem(
                    "outgoing",
                    "ca_file",
                    format!("no file at `{}`", ca.display()),
                );
            }
            out.password = secret(
                "outgoing",
                "password",
                out.password_file.as_deref().map(abs),
                out.password_env.as_deref(),
                out.username.is_some(),
                &env,
                &mut problem,
            );
        }
    }
    if out.connections == 0 {
        problem("outgoing", "connections", "must be at least 1".into());
    }

    // [security]
    let sec = &mut cfg.security;
    sec.registration_secret = secret(
        "security",
        "registration_secret",
        sec.registration_secret_file.as_deref().map(abs),
        sec.registration_secret_env.as_deref(),
        false,
        &env,
        &mut problem,
    );
    if sec.code_ttl_minutes < 1 {
        problem("security", "code_ttl_minutes", "must be at least 1".into());
    }
    if sec.max_replies_per_hour < 1 {
        problem(
            "security",
            "max_replies_per_hour",
            "must be at least 1".into(),
        );
    }

    if cfg.retention.raw_body_days < 1 {
        problem(
            "retention",
            "raw_body_days",
            "must be at least 1 (a message's body is needed while it waits for BEKREFT)".into(),
        );
    }

    // [schedule]
    for (key, expr) in [
        ("letters", &cfg.schedule.letters),
        ("reminders", &cfg.schedule.reminders),
        ("digest", &cfg.schedule.digest),
        ("retention", &cfg.schedule.retention),
    ] {
        if let Err(e) = expr.parse::<cron::Schedule>() {
            problem(
                "schedule",
                key,
                format!("`{expr}` is not a cron expression with seconds (\"0 0 7 1 * *\"): {e}"),
            );
        }
    }

    if !problems.is_empty() {
        return Err(ConfigError::Invalid(problems));
    }
    cfg.base_dir = base;
    cfg.source = path.to_path_buf();
    Ok(cfg)
}

/// Relative paths in the config are relative to the directory that holds
/// `config/` (the project or install root) when the file sits in a `config`
/// directory, else to the file's own directory.
fn base_dir(path: &Path) -> PathBuf {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    if dir.file_name().is_some_and(|n| n == "config") {
        dir.parent().map(Path::to_path_buf).unwrap_or(dir)
    } else {
        dir
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "::1" | "[::1]" | "localhost") || host.starts_with("127.")
}

fn check_server(
    section: &str,
    host: Option<&str>,
    tls: &mut Tls,
    problem: &mut impl FnMut(&str, &str, String),
) {
    if *tls == Tls::None
        && let Some(h) = host
        && !is_loopback(h)
    {
        problem(
            section,
            "tls",
            format!("tls = \"none\" is only allowed to 127.0.0.1, not to `{h}`"),
        );
    }
}

/// Reads a secret from `<key>_file` or `<key>_env`.
fn secret(
    section: &str,
    key: &str,
    file: Option<PathBuf>,
    env_name: Option<&str>,
    required: bool,
    env: &impl Fn(&str) -> Option<String>,
    problem: &mut impl FnMut(&str, &str, String),
) -> Option<String> {
    match (file, env_name) {
        (Some(_), Some(_)) => {
            problem(
                section,
                &format!("{key}_file"),
                format!("give `{key}_file` or `{key}_env`, not both"),
            );
            None
        }
        (Some(f), None) => match std::fs::read_to_string(&f) {
            Ok(s) => Some(s.trim_end_matches(['\n', '\r']).to_string()),
            Err(e) => {
                problem(
                    section,
                    &format!("{key}_file"),
                    format!("cannot read secret file `{}`: {e}", f.display()),
                );
                None
            }
        },
        (None, Some(name)) => match env(name) {
            Some(v) if !v.is_empty() => Some(v),
            _ => {
                problem(
                    section,
                    &format!("{key}_env"),
                    format!("environment variable `{name}` is not set"),
                );
                None
            }
        },
        (None, None) => {
            if required {
                problem(
                    section,
                    &format!("{key}_file"),
                    format!(
                        "needs `{key}_file` or `{key}_env` (secrets are never written in the config itself)"
                    ),
                );
            }
            None
        }
    }
}

/// The 1-based line of a byte offset, and the `section.key` standing there.
fn locate_span(text: &str, offset: usize) -> (usize, String) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_no = before.matches('\n').count() + 1;
    let mut section = String::new();
    for l in before.lines() {
        if let Some(s) = header(l) {
            section = s;
        }
    }
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    if let Some(s) = header(line) {
        return (line_no, s);
    }
    let key = line
        .split('=')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches('"');
    let key = match (section.is_empty(), key.is_empty()) {
        (_, true) => section,
        (true, false) => key.to_string(),
        (false, false) => format!("{section}.{key}"),
    };
    (line_no, key)
}

fn header(line: &str) -> Option<String> {
    let t = line.trim();
    (t.starts_with('[') && t.ends_with(']'))
        .then(|| t.trim_matches(|c| c == '[' || c == ']').trim().to_string())
}

/// The line where `key` is set in `[section]`, or the section header's line,
/// or 0.
fn key_line(text: &str, section: &str, key: &str) -> usize {
    let mut current = String::new();
    let mut header_line = 0;
    for (i, l) in text.lines().enumerate() {
        if let Some(s) = header(l) {
            current = s;
            if current == section {
                header_line = i + 1;
            }
            continue;
        }
        if current == section && l.split('=').next().map(str::trim) == Some(key) && l.contains('=')
        {
            return i + 1;
        }
    }
    header_line
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[organisation]
name = "Forbundet"
address = "post@forbund.example"

[mailbox]
kind = "maildir"
path = "var/mail"
"#;

    fn errors(text: &str) -> String {
        let env = |name: &str| (name == "SET").then(|| "secret".to_string());
        match parse(Path::new("/etc/postbud/postbud.toml"), text, env) {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_shipped_config_is_valid() {
        let text = include_str!("../config/postbud.toml");
        assert_eq!(errors(text), "ok");
    }

    #[test]
    fn relative_paths_are_resolved_from_the_directory_holding_config() {
        let c = parse(Path::new("/srv/pb/config/postbud.toml"), GOOD, |_| None).unwrap();
        assert_eq!(c.register.path, Path::new("/srv/pb/var/postbud.db"));
        assert_eq!(
            c.mailbox.path.as_deref(),
            Some(Path::new("/srv/pb/var/mail"))
        );
    }

    #[test]
    fn unknown_key() {
        insta::assert_snapshot!(errors(&format!("{GOOD}pol_seconds = 5\n")));
    }

    #[test]
    fn bad_value() {
        insta::assert_snapshot!(errors(&GOOD.replace("\"maildir\"", "\"pop3\"")));
    }

    #[test]
    fn wrong_type() {
        insta::assert_snapshot!(errors(&format!("{GOOD}poll_seconds = \"often\"\n")));
    }

    #[test]
    fn missing_secret_file_and_plain_imap_to_a_remote_host_and_bad_cron() {
        let text = r#"
[organisation]
name = "Forbundet"
address = "post@forbund.example"

[mailbox]
kind = "imap"
host = "imap.forbund.example"
tls = "none"
username = "post"
password_file = "credentials/imap"

[security]
registration_secret_env = "UNSET"

[schedule]
digest = "every morning"
"#;
        insta::assert_snapshot!(errors(text));
    }

    #[test]
    fn secret_from_the_environment() {
        let text = format!("{GOOD}\n[security]\nregistration_secret_env = \"SET\"\n");
        let c = parse(Path::new("/x/postbud.toml"), &text, |n| {
            (n == "SET").then(|| "s3".into())
        })
        .unwrap();
        assert_eq!(c.security.registration_secret.as_deref(), Some("s3"));
    }
}
