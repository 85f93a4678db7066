//! The `postbud` command: parses the command line, starts logging, loads the
//! config and calls into the library. Errors are printed here, with the
//! exit statuses of `postbud::error` (1 a command that said no, 2 the config
//! or usage, 3 the register).

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use postbud::clock::{Clock, Random};
use postbud::error::{Error, Result};
use postbud::store::Store;
use postbud::store::import::{ImportKind, ImportOptions, import_with, read_file};
use postbud::{admin, config, daemon, demo, pipeline};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "postbud",
    version,
    about = "A membership register run by email"
)]
struct Cli {
    /// Config file (else $POSTBUD_CONFIG, else config/postbud.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Run {
        /// Handle every message now in the mailbox, send what is queued, exit.
        #[arg(long)]
        once: bool,
    },
    /// Set up a sample register and messages under ./postbud-demo/ and run once.
    Demo {
        #[arg(long, default_value = "postbud-demo")]
        dir: PathBuf,
    },
    /// Load and check the config, print a summary.
    CheckConfig,
    /// Import a CSV file into the register (all or nothing).
    Import {
        kind: ImportKind,
        file: PathBuf,
        /// Check the file and print what it would change; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// One-time codes.
    Code {
        #[command(subcommand)]
        action: CodeAction,
    },
    /// Messages that could not be handled.
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// Changes waiting for an admin.
    Pending,
    /// Approve (carry out) a pending change.
    Approve { reference: String },
    /// Reject a pending change.
    Reject {
        reference: String,
        /// Why, told to whoever asked for it.
        #[arg(long)]
        why: Option<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Write the manual pages (postbud.1, postbud-run.1, ...) into DIR:
    /// `postbud man /usr/local/share/man/man1`.
    Man { dir: PathBuf },
    /// Mail that failed or whose delivery is uncertain.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// The scheduled jobs: letters, reminders, digest, retention.
    Jobs {
        #[command(subcommand)]
        action: JobsAction,
    },
    /// Everything the register holds on one person (GDPR article 15).
    Person {
        #[command(subcommand)]
        action: PersonAction,
    },
    /// An online backup of the register.
    Backup { file: PathBuf },
    /// What happened in the last 24 hours, and what waits for an admin.
    Stats,
    /// Measure throughput (see README, "Benchmarks").
    Bench(postbud::bench::Args),
}

#[derive(Subcommand)]
enum CodeAction {
    /// Exit 0 and print "ok" when the code is right and unused (it is used up).
    Verify { address: String, code: String },
}

#[derive(Subcommand)]
enum OutboxAction {
    /// Mail that failed, or was interrupted after it was handed over.
    List,
    /// Send one of them again (its id from `outbox list`).
    Resend { id: i64 },
}

#[derive(Subcommand)]
enum JobsAction {
    /// Each job, its schedule, the slot it last ran for and the next.
    List,
    /// Run a job now, as an extra run (it takes no slot).
    Run {
        /// letters, reminders, digest or retention.
        name: String,
        /// Print what it would do and send; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum PersonAction {
    /// Print it, part by part.
    Show {
        /// An address or a member number.
        who: String,
    },
    /// Write it as an .xlsx with one sheet per part.
    Export {
        /// An address or a member number.
        who: String,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum QuarantineAction {
    List,
    Show { id: i64 },
    Retry { id: i64 },
}

/// Logs to stderr, or, under systemd with stderr going to the journal, to
/// the journal itself with each event's fields as journal fields (`MESSAGE_KEY`,
/// `OUTCOME`, `KIND`, `RESULT`, `REFERENCE`, ...), so that
/// `journalctl -u postbud OUTCOME=quarantined` finds them. `POSTBUD_LOG`
/// sets the level (`warn` when unset, `default` here).
fn init_logging(default: &str) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_env("POSTBUD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let journal = stderr_is_journal()
        .then(|| {
            tracing_journald::layer()
                .map(|l| {
                    l.with_field_prefix(None)
                        .with_syslog_identifier("postbud".into())
                })
                .ok()
        })
        .flatten();
    let terminal = journal
        .is_none()
        .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    tracing_subscriber::registry()
        .with(filter)
        .with(journal)
        .with(terminal)
        .init();
}

/// Whether stderr is the stream systemd opened into the journal:
/// `$JOURNAL_STREAM` is "device:inode" of that stream (systemd.exec(5)).
fn stderr_is_journal() -> bool {
    use std::os::fd::AsFd as _;
    use std::os::unix::fs::MetadataExt as _;
    let Ok(v) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata());
    match (v.split_once(':'), stderr) {
        (Some((dev, ino)), Ok(m)) => dev.parse() == Ok(m.dev()) && ino.parse() == Ok(m.ino()),
        _ => false,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A closed stdout (`postbud stats | head`) ends a command that prints
    // quietly, as for any Unix tool, instead of a panic in println!. Not
    // `run` nor `bench`: they talk to mail servers, and a write to a
    // connection the server has just closed (a restart) must be an EPIPE
    // error that reconnects, not a SIGPIPE that kills the daemon. rustls
    // writes with writev, which raises SIGPIPE where send() would not; Rust
    // ignores SIGPIPE unless told otherwise, so those commands keep that.
    if !matches!(cli.command, Command::Run { .. } | Command::Bench(_)) {
        // SAFETY: called before any thread is started; SIG_DFL is always valid.
        #[allow(unsafe_code)]
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    // The demo explains what happened in its own words; the log would repeat it.
    let default_level = match cli.command {
        Command::Demo { .. } => "error",
        _ => "warn",
    };
    init_logging(default_level);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("postbud: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("postbud: {e}");
            e.exit_code()
        }
    }
}

/// Writes `cmd`'s manual page and each subcommand's (`postbud-jobs-run.1`)
/// into `dir`; returns how many.
fn man_pages(cmd: &clap::Command, dir: &std::path::Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    std::fs::write(dir.join(format!("{name}.1")), out)?;
    let mut n = 1;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let sub = sub.clone().name(format!("{name}-{}", sub.get_name()));
        n += man_pages(&sub, dir)?;
    }
    Ok(n)
}

/// Opens the register, every failure a register error (exit status 3).
fn open(cfg: &config::Config) -> Result<Store> {
    Store::open(&cfg.register.path).map_err(Error::register)
}

async fn run(cli: Cli) -> Result<()> {
    let load = || config::load(&config::locate(cli.config.as_deref()));
    let clock = Clock::from_env()?;
    let mut fresh = Random::from_env()?;
    let now = clock.now();
    match cli.command {
        Command::Demo { dir } => print!("{}", demo::run(&dir, &mut fresh).await?),
        Command::Bench(args) => postbud::bench::run(args).await?,
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "postbud",
                &mut std::io::stdout(),
            );
        }
        Command::Man { dir } => {
            use clap::CommandFactory as _;
            let pages = man_pages(&Cli::command(), &dir).map_err(anyhow::Error::from)?;
            println!("{pages} manual pages in {}", dir.display());
        }
        Command::CheckConfig => {
            let cfg = load()?;
            let problems = pipeline::Context::from_config(&cfg).renderer.check();
            if !problems.is_empty() {
                return Err(Error::Config(config::ConfigError::Templates(problems)));
            }
            println!("{} is valid", cfg.source.display());
            println!(
                "  organisation  {} <{}>",
                cfg.organisation.name, cfg.organisation.address
            );
            println!("  register      {}", cfg.register.path.display());
            println!(
                "  mailbox       {:?} {}",
                cfg.mailbox.kind,
                describe_mailbox(&cfg)
            );
            println!(
                "  outgoing      {:?} {}",
                cfg.outgoing.kind,
                describe_outgoing(&cfg)
            );
        }
        Command::Run { once } => {
            let cfg = load()?;
            if once {
                let r = daemon::run_once(&cfg, &clock, &mut fresh).await?;
                println!(
                    "handled {} messages; sent {} replies ({} to retry, {} failed)",
                    r.handled.len(),
                    r.drained.sent,
                    r.drained.retry,
                    r.drained.failed
                );
            } else {
                let shutdown = daemon::Shutdown::default();
                shutdown.on_signals();
                daemon::run(&cfg, &clock, &mut fresh, shutdown).await?;
            }
        }
        Command::Import {
            kind,
            file,
            dry_run,
        } => {
            let cfg = load()?;
            let text = read_file(&file)?;
            let mut store = open(&cfg)?;
            // Drawn on a terminal only: indicatif hides it otherwise.
            let bar = indicatif::ProgressBar::new(0);
            let done = import_with(
                &mut store.conn,
                kind,
                &file.display().to_string(),
                &text,
                now,
                &|i, total| {
                    bar.set_length(total as u64);
                    bar.set_position(i as u64);
                },
                ImportOptions {
                    dry_run,
                    allow_synthetic_ids: cfg.lists.allow_synthetic_ids,
                },
            );
            bar.finish_and_clear();
            print!("{}", done?);
        }
        Command::Code {
            action: CodeAction::Verify { address, code },
        } => {
            let cfg = load()?;
            let mut store = open(&cfg)?;
            if admin::code_verify(&mut store, &address, &code, now).map_err(Error::register)? {
                println!("ok");
            } else {
                return Err(Error::No("wrong, used or expired code".into()));
            }
        }
        Command::Quarantine { action } => {
            let cfg = load()?;
            let mut store = open(&cfg)?;
            let out = match action {
                QuarantineAction::List => admin::quarantine_list(&store)?,
                QuarantineAction::Show { id } => admin::quarantine_show(&store, id)?,
                QuarantineAction::Retry { id } => {
                    let ctx = pipeline::Context::from_config(&cfg);
                    admin::quarantine_retry(&mut store, &ctx, id, now, &mut fresh)?
                }
            };
            print!("{out}");
        }
        Command::Outbox { action } => {
            let cfg = load()?;
            let store = open(&cfg)?;
            match action {
                OutboxAction::List => print!("{}", admin::outbox_list(&store)?),
                OutboxAction::Resend { id } => {
                    if admin::outbox_resend(&store, id, now)? {
                        println!(
                            "mail {id} is queued again; the daemon (or `postbud run --once`) sends it"
                        );
                    } else {
                        return Err(Error::No(format!(
                            "mail {id} is not one that failed or is uncertain (see `postbud outbox list`)"
                        )));
                    }
                }
            }
        }
        Command::Jobs { action } => {
            let cfg = load()?;
            let mut store = open(&cfg)?;
            let scheduled =
                postbud::jobs::schedule(&cfg).map_err(|e| Error::No(format!("{e:#}")))?;
            match action {
                JobsAction::List => print!("{}", postbud::jobs::list(&store, &scheduled, now)?),
                JobsAction::Run { name, dry_run } => {
                    let job = postbud::commands::jobs::Job::parse(&name).ok_or_else(|| {
                        Error::No(format!(
                            "no job `{name}`: letters, reminders, digest or retention"
                        ))
                    })?;
                    let ctx = pipeline::Context::from_config(&cfg);
                    let runner = postbud::jobs::Runner::from(&ctx, &cfg);
                    let ran = runner.run(&mut store, job, None, now, &mut fresh, dry_run)?;
                    if dry_run {
                        print!("{}", ran.plans);
                        println!("(dry run: nothing was changed or sent)");
                    } else {
                        println!(
                            "{}: {} items, {} mails queued (sent by the daemon, or `postbud run --once`)",
                            ran.job, ran.items, ran.mails
                        );
                    }
                }
            }
        }
        Command::Person { action } => {
            let cfg = load()?;
            let store = open(&cfg)?;
            let ctx = pipeline::Context::from_config(&cfg);
            let out = match action {
                PersonAction::Show { who } => admin::person_show(&store, &ctx, &who, now),
                PersonAction::Export { who, file } => {
                    admin::person_export(&store, &ctx, &who, &file, now)
                }
            };
            print!("{}", out.map_err(|e| Error::No(format!("{e:#}")))?);
        }
        Command::Pending => {
            let cfg = load()?;
            print!("{}", admin::pending_list(&open(&cfg)?)?);
        }
        command @ (Command::Approve { .. } | Command::Reject { .. }) => {
            let (reference, approve, why) = match command {
                Command::Reject { reference, why } => (reference, false, why),
                Command::Approve { reference } => (reference, true, None),
                _ => unreachable!("matched above"),
            };
            let cfg = load()?;
            let mut store = open(&cfg)?;
            let ctx = pipeline::Context::from_config(&cfg);
            print!(
                "{}",
                admin::decide_pending(
                    &mut store,
                    &ctx,
                    &reference,
                    approve,
                    why.as_deref(),
                    now,
                    &mut fresh
                )?
            );
        }
        Command::Backup { file } => {
            let cfg = load()?;
            let store = open(&cfg)?;
            admin::backup(&store, &file).context("backup")?;
            println!("backup written to {}", file.display());
        }
        Command::Stats => {
            let cfg = load()?;
            let store = open(&cfg)?;
            print!("{}", admin::stats(&store, now)?);
        }
    }
    Ok(())
}

fn describe_mailbox(cfg: &config::Config) -> String {
    let m = &cfg.mailbox;
    match m.kind {
        config::MailboxKind::Maildir => m
            .path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        config::MailboxKind::Imap => format!(
            "{}:{} ({:?}) folder {}",
            m.host.as_deref().unwrap_or(""),
            m.port.unwrap_or(0),
            m.tls,
            m.folder
        ),
    }
}

fn describe_outgoing(cfg: &config::Config) -> String {
    let o = &cfg.outgoing;
    match o.kind {
        config::OutgoingKind::File => o
            .path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        config::OutgoingKind::Smtp => format!(
            "{}:{} ({:?}){}",
            o.host.as_deref().unwrap_or(""),
            o.port.unwrap_or(0),
            o.tls,
            if o.username.is_some() {
                ", with AUTH"
            } else {
                ""
            }
        ),
    }
}
