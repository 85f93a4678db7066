//! The service as installed (SPEC section 12): `systemd/postbud.service`
//! read the way systemd reads it, its header's install steps followed, and
//! the config it ships (`config/postbud.service.toml`) loaded with the real
//! loader from where the unit reads it. Every path postbud would write must
//! be under the unit's `StateDirectory` (nothing under `/etc` or `/usr`,
//! read-only under `ProtectSystem=strict`), and every credential the unit
//! loads must be one the config reads, and the other way round.
//!
//! `systemd-analyze verify` and the exposure score (`systemd-analyze
//! security --offline`) are checked by `.ci/run`.

use postbud::config::{self, Config, MailboxKind, OutgoingKind};
use std::path::{Component, Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const UNIT: &str = "systemd/postbud.service";
const SERVICE_CONFIG: &str = "config/postbud.service.toml";

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(rel))
        .unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// A unit file as systemd reads it: its header (the comment lines before the
/// first section) and its `Key=value` settings, in order.
struct Unit {
    header: Vec<String>,
    settings: Vec<(String, String, String)>,
}

impl Unit {
    fn parse(text: &str) -> Unit {
        let mut header = Vec::new();
        let mut settings = Vec::new();
        let mut section: Option<String> = None;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with('[') && t.ends_with(']') {
                section = Some(t.trim_matches(['[', ']']).to_string());
            } else if let Some(comment) = t.strip_prefix('#').or_else(|| t.strip_prefix(';')) {
                if section.is_none() {
                    header.push(comment.trim().to_string());
                }
            } else if let Some((k, v)) = t.split_once('=') {
                let section = section.clone().expect("a setting before any section");
                settings.push((section, k.trim().to_string(), v.trim().to_string()));
            }
        }
        Unit { header, settings }
    }

    /// Every value of `key` in `[section]`, in order.
    fn all(&self, section: &str, key: &str) -> Vec<&str> {
        self.settings
            .iter()
            .filter(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.as_str())
            .collect()
    }

    /// The one value of `key` in `[Service]`.
    fn service(&self, key: &str) -> &str {
        match self.all("Service", key).as_slice() {
            [v] => v,
            vs => panic!("{UNIT}: expected one {key}=, found {vs:?}"),
        }
    }

    /// `ExecStart=`, split into words.
    fn exec_start(&self) -> Vec<&str> {
        self.service("ExecStart").split_whitespace().collect()
    }

    /// The file `--config` names in `ExecStart=`.
    fn config_path(&self) -> PathBuf {
        let words = self.exec_start();
        let at = words
            .iter()
            .position(|w| *w == "--config")
            .expect("ExecStart= passes --config");
        PathBuf::from(words[at + 1])
    }

    /// `LoadCredential=name:source`, as (name, source).
    fn credentials(&self) -> Vec<(String, PathBuf)> {
        self.all("Service", "LoadCredential")
            .into_iter()
            .map(|v| {
                let (name, src) = v
                    .split_once(':')
                    .unwrap_or_else(|| panic!("LoadCredential={v}: give name:path"));
                (name.to_string(), PathBuf::from(src))
            })
            .collect()
    }

    /// Where the service may write: `/var/lib/<dir>` for each
    /// `StateDirectory=`, and each `ReadWritePaths=`.
    fn writable_roots(&self) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = self
            .all("Service", "StateDirectory")
            .into_iter()
            .flat_map(str::split_whitespace)
            .map(|d| Path::new("/var/lib").join(d))
            .collect();
        roots.extend(
            self.all("Service", "ReadWritePaths")
                .into_iter()
                .flat_map(str::split_whitespace)
                .map(|p| PathBuf::from(p.trim_start_matches(['-', '+'])))
                .filter(|p| !p.as_os_str().is_empty()),
        );
        roots
    }

    /// The destination of the header's `install … SOURCE DEST` line for
    /// `source`.
    fn installed(&self, source: &str) -> PathBuf {
        let lines: Vec<&String> = self
            .header
            .iter()
            .filter(|l| l.starts_with("install ") && l.split_whitespace().any(|w| w == source))
            .collect();
        match lines.as_slice() {
            [l] => PathBuf::from(l.split_whitespace().last().expect("a destination")),
            ls => panic!("{UNIT}: the header should install {source} once, found {ls:?}"),
        }
    }
}

/// The unit's name, as `/run/credentials/<name>/` is named: the file name the
/// header installs it under.
fn unit_name(unit: &Unit) -> String {
    unit.installed(UNIT)
        .file_name()
        .expect("a unit file name")
        .to_string_lossy()
        .into_owned()
}

/// The config lines that count: comments taken out.
fn active(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

/// The shipped service config with the alternatives its comments offer
/// chosen: a Maildir instead of IMAP, a file outbox instead of SMTP.
fn local_variant(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.strip_prefix("# path = ") {
            Some(rest) => format!("path = {rest}"),
            None => line
                .replace("kind = \"imap\"", "kind = \"maildir\"")
                .replace("kind = \"smtp\"", "kind = \"file\""),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Loads `text` the way the unit would: from the path its `--config` names,
/// with each credential in `/run/credentials/<unit>/`, both under `root`
/// (only the credentials' prefix is rewritten in the text: every other path
/// is loaded as written). Returns the config with `root` taken back off the
/// paths the loader resolved itself (`base_dir`).
fn load_as_the_unit(unit: &Unit, text: &str, root: &Path) -> Config {
    let creds = format!("/run/credentials/{}/", unit_name(unit));
    let creds_dir = root.join(creds.trim_start_matches('/'));
    std::fs::create_dir_all(&creds_dir).unwrap();
    for (name, _) in unit.credentials() {
        std::fs::write(creds_dir.join(&name), format!("secret for {name}\n")).unwrap();
    }
    let path = root.join(unit.config_path().strip_prefix("/").unwrap());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = text.replace(&creds, &format!("{}/", creds_dir.display()));
    std::fs::write(&path, text).unwrap();
    let mut cfg = config::load(&path).unwrap_or_else(|e| panic!("{SERVICE_CONFIG}:\n{e}"));
    cfg.base_dir = Path::new("/").join(cfg.base_dir.strip_prefix(root).unwrap());
    cfg
}

/// Every path postbud writes with this config, and what it is.
fn written(cfg: &Config) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let db = &cfg.register.path;
    out.push(("register.path".into(), db.clone()));
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = db.clone().into_os_string();
        p.push(suffix);
        out.push((format!("register.path{suffix}"), p.into()));
    }
    if cfg.mailbox.kind == MailboxKind::Maildir {
        let root = cfg.mailbox.path.clone().expect("a maildir has a path");
        for folder in [
            &cfg.mailbox.processed_folder,
            &cfg.mailbox.quarantine_folder,
        ] {
            out.push((
                format!("mailbox.path .{folder}"),
                root.join(format!(".{folder}")),
            ));
        }
        out.push(("mailbox.path".into(), root));
    }
    if cfg.outgoing.kind == OutgoingKind::File {
        let dir = cfg.outgoing.path.clone().expect("a file outbox has a path");
        out.push(("outgoing.path".into(), dir));
    }
    out
}

/// Why `path` could not be written under the unit, if it could not.
fn unwritable(path: &Path, roots: &[PathBuf], base_dir: &Path) -> Option<String> {
    if !path.is_absolute() {
        return Some("is not absolute".into());
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Some("climbs with `..`".into());
    }
    for ro in ["/etc", "/usr", "/run/credentials"] {
        if path.starts_with(ro) {
            return Some(format!("is under {ro}, read-only for the service"));
        }
    }
    if path.starts_with(base_dir) {
        return Some(format!(
            "is under the config's own directory {}",
            base_dir.display()
        ));
    }
    if !roots.iter().any(|r| path.starts_with(r) && path != r) {
        return Some(format!("is not under any of {roots:?}"));
    }
    None
}

fn assert_all_writable(what: &str, cfg: &Config, roots: &[PathBuf]) {
    let bad: Vec<String> = written(cfg)
        .into_iter()
        .filter_map(|(key, p)| {
            unwritable(&p, roots, &cfg.base_dir).map(|why| format!("{key} `{}` {why}", p.display()))
        })
        .collect();
    assert!(bad.is_empty(), "{what}:\n{}", bad.join("\n"));
}

#[test]
fn the_shipped_service_config_writes_only_under_the_state_directory() {
    let unit = Unit::parse(&read(UNIT));
    assert_eq!(unit.service("ProtectSystem"), "strict");
    let roots = unit.writable_roots();
    assert_eq!(
        roots,
        [PathBuf::from("/var/lib/postbud")],
        "StateDirectory=postbud and nothing else writable"
    );
    assert_eq!(
        Path::new(unit.service("WorkingDirectory")),
        roots[0],
        "the working directory is the state directory"
    );

    let text = read(SERVICE_CONFIG);
    let tmp = tempfile::tempdir().unwrap();

    let cfg = load_as_the_unit(&unit, &text, &tmp.path().join("shipped"));
    assert_eq!(cfg.base_dir, Path::new("/etc/postbud"));
    assert_eq!(cfg.register.path, Path::new("/var/lib/postbud/postbud.db"));
    assert!(cfg.mailbox.password.is_some() && cfg.outgoing.password.is_some());
    assert!(cfg.security.registration_secret.is_some());
    assert_all_writable(SERVICE_CONFIG, &cfg, &roots);

    // The alternatives its comments offer: a Maildir and a file outbox.
    let local = load_as_the_unit(&unit, &local_variant(&text), &tmp.path().join("local"));
    assert_eq!(local.mailbox.kind, MailboxKind::Maildir);
    assert_eq!(local.outgoing.kind, OutgoingKind::File);
    assert_eq!(
        local.mailbox.path.as_deref(),
        Some(Path::new("/var/lib/postbud/mail"))
    );
    assert_eq!(
        local.outgoing.path.as_deref(),
        Some(Path::new("/var/lib/postbud/outbox"))
    );
    assert_all_writable(
        &format!("{SERVICE_CONFIG} with a Maildir and a file outbox"),
        &local,
        &roots,
    );

    // Backups, made by hand as the header and the config say.
    let backups: Vec<PathBuf> = unit
        .header
        .iter()
        .map(String::as_str)
        .chain(text.lines())
        .filter_map(|l| l.split_once(" backup /").map(|(_, p)| p))
        .map(|p| {
            let p = p.split([' ', ')']).next().unwrap_or_default();
            PathBuf::from(format!("/{p}"))
        })
        .collect();
    assert!(!backups.is_empty(), "the header shows where backups go");
    for b in &backups {
        if let Some(why) = unwritable(b, &roots, &cfg.base_dir) {
            panic!("backup `{}` {why}", b.display());
        }
    }
}

#[test]
fn the_unit_runs_the_config_its_header_installs() {
    let unit = Unit::parse(&read(UNIT));

    // The binary and the config, where the header puts them.
    assert_eq!(
        Path::new(unit.exec_start()[0]),
        unit.installed("target/release/postbud"),
        "ExecStart= runs the binary the header installs"
    );
    assert_eq!(
        unit.config_path(),
        unit.installed(SERVICE_CONFIG),
        "ExecStart= reads the service config where the header installs it"
    );
    assert_eq!(unit_name(&unit), "postbud.service");

    // Templates: where the loader looks for them (`templates/` in the base
    // directory of the config the unit reads), from a file that exists.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = load_as_the_unit(&unit, &read(SERVICE_CONFIG), tmp.path());
    let line = unit
        .header
        .iter()
        .find(|l| l.starts_with("install ") && l.contains(" templates/"))
        .expect("the header shows how to install a template");
    let words: Vec<&str> = line.split_whitespace().collect();
    let (src, dest) = (words[words.len() - 2], words[words.len() - 1]);
    assert!(Path::new(ROOT).join(src).is_file(), "{src} exists");
    assert_eq!(
        Path::new(dest),
        cfg.base_dir.join(src),
        "a template is installed where the loaded config reads templates"
    );

    // Credentials: each one the unit loads is put in place by the header and
    // read by the config; each secret file the config reads is loaded.
    let text = read(SERVICE_CONFIG);
    let creds = format!("/run/credentials/{}/", unit_name(&unit));
    let used: Vec<&str> = active(&text)
        .filter_map(|l| {
            l.split_once(&creds)
                .map(|(_, rest)| rest.trim_end_matches('"'))
        })
        .collect();
    let loaded = unit.credentials();
    assert!(!loaded.is_empty());
    for (name, src) in &loaded {
        assert!(
            used.contains(&name.as_str()),
            "LoadCredential={name}: {SERVICE_CONFIG} never reads {creds}{name}"
        );
        assert!(
            unit.header
                .iter()
                .any(|l| l.contains(&format!("> {}", src.display()))),
            "LoadCredential={name}: the header does not say how to write {}",
            src.display()
        );
        assert!(src.starts_with("/etc/postbud/credentials"));
    }
    for name in &used {
        assert!(
            loaded.iter().any(|(n, _)| n == name),
            "{SERVICE_CONFIG} reads {creds}{name}, which no LoadCredential= provides"
        );
    }
    // Secrets come from credentials only: no *_env (the unit sets none), and
    // no *_file anywhere else.
    for l in active(&text) {
        let key = l.split('=').next().unwrap_or_default().trim();
        assert!(!key.ends_with("_env"), "{SERVICE_CONFIG}: `{l}`");
        if key.ends_with("password_file") || key.ends_with("secret_file") {
            assert!(l.contains(&creds), "{SERVICE_CONFIG}: `{l}`");
        }
    }
}

#[test]
fn the_unit_keeps_its_sandbox() {
    // What the exposure score (2.0 or better; `.ci/run` measures it) rests
    // on. Changing one of these is a decision: make it here too.
    let unit = Unit::parse(&read(UNIT));
    for (key, value) in [
        ("Type", "notify"),
        ("DynamicUser", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("PrivateMounts", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("RestrictNamespaces", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("SystemCallArchitectures", "native"),
        ("UMask", "0077"),
    ] {
        assert_eq!(unit.service(key), value, "{UNIT}: {key}=");
    }
    assert_eq!(
        unit.all("Service", "SystemCallFilter"),
        ["@system-service", "~@privileged @resources"]
    );
    assert!(
        unit.all("Service", "ExecReload").is_empty(),
        "postbud has no reload: a restart re-reads the config"
    );
}
