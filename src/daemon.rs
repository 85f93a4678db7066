//! The running daemon: an intake loop (fetch a batch, handle it in one
//! transaction, settle the moves) and a sender thread draining the outbox,
//! with shutdown on SIGTERM after the batch in hand and systemd readiness
//! and watchdog. No parsing and no SQL here beyond calling the library.

use crate::clock::Clock;
use crate::config::{Config, MailboxKind, OutgoingKind};
use crate::intake::imap::ImapMailbox;
use crate::intake::maildir::MaildirMailbox;
use crate::intake::{Destination, Fetched, Mailbox, MailboxError};
use crate::outbox::file::FileTransport;
use crate::outbox::smtp::SmtpTransport;
use crate::outbox::{self, Drained, Envelope, SendError, Transport};
use crate::pipeline::{self, Context, Handled};
use crate::store::Store;
use anyhow::{Context as _, Result};
use postbud_commands::Fresh;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Either mailbox, chosen by config. One per daemon: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnyMailbox {
    Maildir(MaildirMailbox),
    Imap(ImapMailbox),
}

impl AnyMailbox {
    pub fn open(cfg: &Config) -> Result<AnyMailbox> {
        let mb = &cfg.mailbox;
        Ok(match mb.kind {
            MailboxKind::Maildir => AnyMailbox::Maildir(MaildirMailbox::open(
                mb.path.as_deref().context("mailbox.path")?,
                &mb.processed_folder,
                &mb.quarantine_folder,
            )?),
            MailboxKind::Imap => AnyMailbox::Imap(ImapMailbox::new(mb)),
        })
    }
}

impl Mailbox for AnyMailbox {
    async fn fetch(&mut self, max: usize) -> Result<Vec<Fetched>, MailboxError> {
        match self {
            AnyMailbox::Maildir(m) => m.fetch(max).await,
            AnyMailbox::Imap(m) => m.fetch(max).await,
        }
    }
    async fn settle(&mut self, moves: &[(String, Destination)]) -> Result<(), MailboxError> {
        match self {
            AnyMailbox::Maildir(m) => m.settle(moves).await,
            AnyMailbox::Imap(m) => m.settle(moves).await,
        }
    }
    async fn wait(&mut self, max_wait: Duration) -> Result<(), MailboxError> {
        match self {
            AnyMailbox::Maildir(m) => m.wait(max_wait).await,
            AnyMailbox::Imap(m) => m.wait(max_wait).await,
        }
    }
}

/// Either transport, chosen by config. A few per daemon: their size does not
/// matter.
#[allow(clippy::large_enum_variant)]
pub enum AnyTransport {
    File(FileTransport),
    Smtp(SmtpTransport),
}

impl AnyTransport {
    pub fn open(cfg: &Config) -> Result<AnyTransport> {
        let o = &cfg.outgoing;
        Ok(match o.kind {
            OutgoingKind::File => {
                let dir = o.path.as_deref().context("outgoing.path")?;
                AnyTransport::File(FileTransport::new(dir).with_context(|| {
                    format!("cannot create outbox directory `{}`", dir.display())
                })?)
            }
            OutgoingKind::Smtp => AnyTransport::Smtp(SmtpTransport::new(o)),
        })
    }

    /// One transport per connection the sender may keep open at once
    /// (`outgoing.connections` for SMTP; one writer for the file outbox).
    pub fn pool(cfg: &Config) -> Result<Vec<AnyTransport>> {
        let n = match cfg.outgoing.kind {
            OutgoingKind::File => 1,
            OutgoingKind::Smtp => cfg.outgoing.connections.max(1),
        };
        (0..n).map(|_| AnyTransport::open(cfg)).collect()
    }
}

impl Transport for AnyTransport {
    async fn send(&mut self, env: &Envelope) -> Result<(), SendError> {
        match self {
            AnyTransport::File(t) => t.send(env).await,
            AnyTransport::Smtp(t) => t.send(env).await,
        }
    }
    async fn begin(&mut self, env: &Envelope) -> Result<(), SendError> {
        match self {
            AnyTransport::File(t) => t.begin(env).await,
            AnyTransport::Smtp(t) => t.begin(env).await,
        }
    }
    fn checks_delivery(&self) -> bool {
        match self {
            AnyTransport::File(t) => t.checks_delivery(),
            AnyTransport::Smtp(t) => t.checks_delivery(),
        }
    }
    fn abandon(&mut self) {
        match self {
            AnyTransport::File(t) => t.abandon(),
            AnyTransport::Smtp(t) => t.abandon(),
        }
    }
    fn was_delivered(&self, id: i64) -> Option<bool> {
        match self {
            AnyTransport::File(t) => t.was_delivered(id),
            AnyTransport::Smtp(t) => t.was_delivered(id),
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    pub handled: Vec<Handled>,
    pub drained: Drained,
}

/// Stops the daemon: set by SIGTERM / SIGINT, read between batches.
#[derive(Clone, Default)]
pub struct Shutdown {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Shutdown {
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
    pub async fn wait(&self) {
        while !self.is_set() {
            let n = self.notify.notified();
            if self.is_set() {
                break;
            }
            n.await;
        }
    }
    /// Triggers on SIGTERM or SIGINT.
    pub fn on_signals(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("stopping: finishing the batch in hand");
            me.trigger();
        });
    }
}

/// `postbud run --once`: every message now in the mailbox, then everything
/// queued that is due, then return.
pub async fn run_once(cfg: &Config, clock: &Clock, fresh: &mut dyn Fresh) -> Result<Report> {
    let ctx = Context::from_config(cfg);
    let mut store = Store::open(&cfg.register.path)?;
    let mut mailbox = AnyMailbox::open(cfg)?;
    // Approved changes whose day has come; no scheduled job runs.
    crate::jobs::Runner::from(&ctx, cfg).apply_due(&mut store, clock.now())?;
    // The sender writes replies while the next batches are handled.
    let wake = Arc::new(Notify::new());
    let intake_done = Shutdown::default();
    let sender = start_sender(cfg, clock, Until::Empty(intake_done.clone()), &wake)?;
    let mut report = Report::default();
    let intake = async {
        loop {
            let batch = mailbox.fetch(cfg.mailbox.batch_size).await?;
            if batch.is_empty() {
                return Ok::<_, anyhow::Error>(());
            }
            report.handled.extend(
                handle_and_settle(&mut store, &ctx, &mut mailbox, &batch, clock, fresh).await?,
            );
            wake.notify_one();
        }
    }
    .await;
    intake_done.trigger();
    wake.notify_one();
    let drained = sender
        .join()
        .map_err(|_| anyhow::anyhow!("the sender stopped with a panic"))?;
    intake?;
    report.drained = drained?;
    Ok(report)
}

/// The one sender of a register: `recover` settles rows another sender left
/// claimed or in flight, which is right only when no other sender is alive
/// (a `postbud run --once` beside the daemon would send the daemon's claimed
/// replies a second time). Refuses plainly when one is.
fn sender_lock(register: &std::path::Path) -> Result<std::fs::File> {
    let mut path = register.as_os_str().to_owned();
    path.push(".sender.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open `{}`", std::path::Path::new(&path).display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another postbud (`postbud run` or `run --once`) is already sending from the register `{}`: \
             stop it first, or let it do the work",
            register.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(anyhow::Error::from(e).context(format!(
            "cannot lock `{}`",
            std::path::Path::new(&path).display()
        ))),
    }
}

/// When the sender thread ends.
enum Until {
    /// At shutdown (the daemon), after the send in hand.
    Shutdown(Shutdown),
    /// Once this is set and the outbox is then found empty (`run --once`).
    Empty(Shutdown),
}

/// The sender on a thread of its own, with its own connection to the
/// register: replies go out while intake handles the next batch (each
/// keeps one core busy). Drains the outbox whenever `wake` is notified, and
/// at least every 30 seconds for retries. Returns what it sent in all.
fn start_sender(
    cfg: &Config,
    clock: &Clock,
    until: Until,
    wake: &Arc<Notify>,
) -> Result<std::thread::JoinHandle<Result<Drained>>> {
    let cfg = cfg.clone();
    let clock = clock.clone();
    let wake = wake.clone();
    let lock = sender_lock(&cfg.register.path)?;
    let mut conn = Store::open(&cfg.register.path)?.conn;
    Ok(std::thread::Builder::new()
        .name("sender".into())
        .spawn(move || {
            // Held until the sender ends (and by the kernel only while the
            // process lives: a crash leaves no stale lock).
            let _lock = lock;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let mut transport = AnyTransport::pool(&cfg)?;
                outbox::recover(&conn, &transport[0])?;
                let mut total = Drained::default();
                let (flag, daemon) = match &until {
                    Until::Shutdown(s) => (s.clone(), true),
                    Until::Empty(s) => (s.clone(), false),
                };
                loop {
                    // Set before this drain: after it, the outbox is empty.
                    let last = !daemon && flag.is_set();
                    let stop = flag.clone();
                    let drained = outbox::drain(
                        &mut conn,
                        &mut transport,
                        || clock.now(),
                        move || daemon && stop.is_set(),
                    )
                    .await;
                    match drained {
                        Ok(d) => {
                            if d != Drained::default() {
                                tracing::info!(
                                    sent = d.sent,
                                    retry = d.retry,
                                    failed = d.failed,
                                    unknown = d.unknown,
                                    "outbox"
                                );
                            }
                            total.sent += d.sent;
                            total.retry += d.retry;
                            total.failed += d.failed;
                            total.unknown += d.unknown;
                        }
                        // The daemon goes on and tries again; `run --once` says it.
                        Err(e) if daemon => tracing::error!("outbox: {e:#}"),
                        Err(e) => return Err(e),
                    }
                    if last || (daemon && flag.is_set()) {
                        return Ok(total);
                    }
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                        _ = flag.wait() => {}
                    }
                }
            })
        })?)
}

/// Handles every message now in the mailbox, batch by batch.
pub async fn intake_all(
    cfg: &Config,
    ctx: &Context,
    store: &mut Store,
    mailbox: &mut AnyMailbox,
    clock: &Clock,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Handled>> {
    let mut handled = Vec::new();
    loop {
        let batch = mailbox.fetch(cfg.mailbox.batch_size).await?;
        if batch.is_empty() {
            return Ok(handled);
        }
        handled.extend(handle_and_settle(store, ctx, mailbox, &batch, clock, fresh).await?);
    }
}

async fn handle_and_settle(
    store: &mut Store,
    ctx: &Context,
    mailbox: &mut AnyMailbox,
    batch: &[Fetched],
    clock: &Clock,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Handled>> {
    let handled = pipeline::handle(store, ctx, batch, clock.now(), fresh)?;
    let moves: Vec<(String, Destination)> =
        handled.iter().map(|h| (h.key.clone(), h.dest)).collect();
    mailbox.settle(&moves).await?;
    for h in &handled {
        // Fields, not words: under systemd each is a journal field.
        tracing::info!(
            message_key = %h.key,
            outcome = %h.outcome,
            kind = %h.kind,
            result = %h.result,
            reference = h.reference.as_deref().unwrap_or(""),
            replies = h.replies,
            "message handled"
        );
    }
    Ok(handled)
}

/// `postbud run`: the daemon, until `shutdown`.
pub async fn run(
    cfg: &Config,
    clock: &Clock,
    fresh: &mut dyn Fresh,
    shutdown: Shutdown,
) -> Result<()> {
    let ctx = Context::from_config(cfg);
    for problem in ctx.renderer.check() {
        tracing::error!(
            "template: {problem} (mail that needs it is quarantined until it is fixed)"
        );
    }
    let mut store = Store::open(&cfg.register.path)?;
    let mut mailbox = AnyMailbox::open(cfg)?;
    let wake_sender = Arc::new(Notify::new());

    let sender = start_sender(cfg, clock, Until::Shutdown(shutdown.clone()), &wake_sender)?;

    let intake = async {
        intake_loop(
            cfg,
            &ctx,
            &mut store,
            &mut mailbox,
            (clock, fresh),
            &shutdown,
            &wake_sender,
        )
        .await;
        wake_sender.notify_one();
    };
    let scheduler = start_scheduler(cfg, clock, &shutdown, &wake_sender)?;
    intake.await;
    shutdown.trigger();
    if sender.join().is_err() {
        tracing::error!("the sender stopped with a panic");
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    if scheduler.join().is_err() {
        tracing::error!("the scheduler stopped with a panic");
    }
    Ok(())
}

/// The scheduler on a thread of its own (a month's letters take a while,
/// and intake must not wait for them): carries out dated changes and runs
/// due jobs at once, then whenever a slot comes, and at least once a
/// minute; stops with `shutdown`, after the item in hand.
fn start_scheduler(
    cfg: &Config,
    clock: &Clock,
    shutdown: &Shutdown,
    wake_sender: &Arc<Notify>,
) -> Result<std::thread::JoinHandle<()>> {
    let cfg = cfg.clone();
    let clock = clock.clone();
    let shutdown = shutdown.clone();
    let wake = wake_sender.clone();
    let jobs = crate::jobs::schedule(&cfg)?;
    let mut store = Store::open(&cfg.register.path)?;
    Ok(std::thread::Builder::new()
        .name("scheduler".into())
        .spawn(move || {
            let ctx = Context::from_config(&cfg);
            let runner = crate::jobs::Runner::from(&ctx, &cfg);
            let mut fresh = crate::clock::Random::os();
            while !shutdown.is_set() {
                let now = clock.now();
                match runner.tick(&mut store, &jobs, now, &mut fresh) {
                    Ok(ran) if ran.iter().any(|r| r.mails > 0) => wake.notify_one(),
                    Ok(_) => {}
                    Err(e) => tracing::error!("scheduler: {e:#}"),
                }
                // Until the next slot, at most a minute; shutdown is looked
                // at every quarter second.
                let next = jobs
                    .iter()
                    .filter_map(|s| s.slots.next(now))
                    .map(|(_, at)| (at - now).to_std().unwrap_or_default())
                    .min()
                    .unwrap_or(Duration::from_secs(60))
                    .clamp(Duration::from_millis(250), Duration::from_secs(60));
                let until = Instant::now() + next;
                while !shutdown.is_set() && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(250).min(until - Instant::now()));
                }
            }
        })?)
}

async fn intake_loop(
    cfg: &Config,
    ctx: &Context,
    store: &mut Store,
    mailbox: &mut AnyMailbox,
    (clock, fresh): (&Clock, &mut dyn Fresh),
    shutdown: &Shutdown,
    wake_sender: &Notify,
) {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut last_ping = Instant::now();
    let mut failures = 0u32;
    let poll = Duration::from_secs(cfg.mailbox.poll_seconds);
    while !shutdown.is_set() {
        if let Some(every) = watchdog
            && last_ping.elapsed() >= every
        {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            last_ping = Instant::now();
        }
        // A SIGTERM while the mailbox reconnects stops at once.
        let fetched = tokio::select! {
            r = mailbox.fetch(cfg.mailbox.batch_size) => r,
            _ = shutdown.wait() => break,
        };
        let batch = match fetched {
            Ok(b) => {
                failures = 0;
                b
            }
            Err(e) => {
                failures += 1;
                // At most half a minute: the server is back, mail flows soon.
                let wait = Duration::from_millis(500 * (1 << failures.min(6)));
                tracing::warn!("mailbox: {e:#}; trying again in {wait:?}");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.wait() => {}
                }
                continue;
            }
        };
        if batch.is_empty() {
            let max_wait = watchdog.map(|w| w.min(poll)).unwrap_or(poll);
            tokio::select! {
                r = mailbox.wait(max_wait) => if let Err(e) = r { tracing::warn!("mailbox: {e:#}") },
                _ = shutdown.wait() => {}
            }
            continue;
        }
        match handle_and_settle(store, ctx, mailbox, &batch, clock, fresh).await {
            Ok(_) => wake_sender.notify_one(),
            Err(e) => {
                tracing::error!("batch: {e:#}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
