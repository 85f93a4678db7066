//! A postbud home for integration tests: a temp dir with a config, a real
//! SQLite register with the fixture units, employers and two members, an
//! empty Maildir and a file outbox; a pinned clock and seeded randomness,
//! so replies hold real references and codes instead of masks.

use postbud::clock::{Clock, Random};
use postbud::config::{self, Config};
use postbud::daemon;
use postbud::intake::maildir;
use postbud::store::Store;
use postbud::store::import::{ImportKind, import};
use std::cell::Cell;
use std::path::{Path, PathBuf};

/// The time every test home starts at: Friday 20 November 2026, 09:30 in Oslo.
pub const NOW: &str = "2026-11-20T08:30:00Z";

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(FIXTURES).join("mail").join(name)).unwrap()
}

pub const MEMBERS: &str = "medlemsnr,navn,fodselsdato,fodselsnummer,epost,telefon,arbeidsgiver_orgnr,arbeidssted,stilling,enhet,sprak,status
50001,Kari Nordmann,1984-12-06,06928401578,kari.nordmann@example.no,,923609016,Hovedkontoret,Operatør,Bergen,nb,active
50104,Per Hansen,1975-03-02,,per.hansen@example.no|per@privat.example,,923609016,Hovedkontoret,Operatør,Bergen,en,active
";

/// A postbud home in a temp dir: config, register with the fixture units and
/// employers and two members with addresses, an empty Maildir.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub cfg: Config,
    /// The clock every run of this home goes by; tests move it.
    pub clock: Clock,
    /// Runs so far: each run's randomness is seeded by its number.
    runs: Cell<u64>,
}

impl Home {
    /// Maildir in, file outbox out, and `extra` config sections.
    pub fn new(extra: &str) -> Home {
        Home::custom(&format!(
            "[mailbox]\nkind = \"maildir\"\npath = \"var/mail\"\n[outgoing]\nkind = \"file\"\npath = \"var/outbox\"\n{extra}"
        ))
    }

    /// `sections` gives [mailbox], [outgoing] and anything else.
    pub fn custom(sections: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        let path = dir.path().join("config/postbud.toml");
        std::fs::write(
            &path,
            format!(
                r#"
[organisation]
name = "Forbundet"
address = "post@forbund.example"
admins = ["kontor@forbund.example"]
{sections}
"#
            ),
        )
        .unwrap();
        let cfg = config::load(&path).unwrap();
        let mut store = Store::open(&cfg.register.path).unwrap();
        let clock = Clock::fixed(NOW.parse().unwrap());
        let now = clock.now();
        for (kind, file) in [
            (ImportKind::Units, "units.csv"),
            (ImportKind::Employers, "employers.csv"),
        ] {
            let text =
                std::fs::read_to_string(Path::new(FIXTURES).join("register").join(file)).unwrap();
            import(&mut store.conn, kind, file, &text, now, &|_, _| {}).unwrap();
        }
        import(
            &mut store.conn,
            ImportKind::Members,
            "members.csv",
            MEMBERS,
            now,
            &|_, _| {},
        )
        .unwrap();
        if let Some(p) = &cfg.mailbox.path {
            maildir::create(p).unwrap();
        }
        Home {
            dir,
            cfg,
            clock,
            runs: Cell::new(0),
        }
    }

    /// The time the home's clock shows.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Randomness for the next run: seeded by the run's number.
    pub fn random(&self) -> Random {
        self.runs.set(self.runs.get() + 1);
        Random::seeded(self.runs.get())
    }

    pub fn deliver(&self, raw: &[u8]) {
        maildir::deliver(self.cfg.mailbox.path.as_deref().unwrap(), raw).unwrap();
    }

    pub fn run(&self) -> daemon::Report {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(daemon::run_once(&self.cfg, &self.clock, &mut self.random()))
            .unwrap()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config/postbud.toml")
    }

    pub fn store(&self) -> Store {
        Store::open(&self.cfg.register.path).unwrap()
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.cfg.outgoing.path.clone().unwrap()
    }

    /// The replies written, in order, parsed.
    pub fn replies(&self) -> Vec<Reply> {
        let Ok(dir) = std::fs::read_dir(self.outbox_dir()) else {
            return Vec::new(); // nothing sent yet
        };
        let mut files: Vec<_> = dir
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| Reply::parse(&std::fs::read(f).unwrap()))
            .collect()
    }

    pub fn folder_count(&self, folder: &str) -> usize {
        let root = self.cfg.mailbox.path.clone().unwrap();
        let dir = if folder.is_empty() {
            root
        } else {
            root.join(format!(".{folder}"))
        };
        ["new", "cur"]
            .iter()
            .map(|s| {
                std::fs::read_dir(dir.join(s))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.store().conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// A reply as a recipient sees it.
#[derive(Debug)]
pub struct Reply {
    pub raw: Vec<u8>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Reply {
    pub fn parse(raw: &[u8]) -> Reply {
        let m = mail_parser::MessageParser::default().parse(raw).unwrap();
        Reply {
            raw: raw.to_vec(),
            to: m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or("")
                .to_string(),
            subject: m.subject().unwrap_or("").to_string(),
            text: m
                .body_text(0)
                .map(|t| t.replace("\r\n", "\n"))
                .unwrap_or_default()
                .to_string(),
            html: m.body_html(0).map(|t| t.to_string()).unwrap_or_default(),
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let m = mail_parser::MessageParser::default()
            .parse(&self.raw)
            .unwrap();
        m.header_raw(name).map(|v| v.trim().to_string())
    }

    /// Headers that matter and the text, for snapshots (no dates, no ids).
    pub fn snapshot(&self) -> String {
        let mut s = format!("To: {}\nSubject: {}\n", self.to, self.subject);
        for h in [
            "Auto-Submitted",
            "X-Auto-Response-Suppress",
            "X-Postbud-Kind",
            "X-Postbud-Result",
            "X-Postbud-Ref",
        ] {
            s.push_str(&format!("{h}: {}\n", self.header(h).unwrap_or_default()));
        }
        s.push('\n');
        s.push_str(&self.text);
        s
    }
}

pub fn code_in(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
        .expect("a 6-digit code in the reply")
        .to_string()
}
