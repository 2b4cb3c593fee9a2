//! The engine: one task that owns all runtime state (the config, every service's state,
//! disabled hosts and watches, histories, the scheduler) and applies monitor results,
//! trap results, timers and client operations to it. Everything else talks to it through
//! an `EngineHandle` (messages with oneshot replies), so no state is ever locked.
//!
//! Files: `api` (the handle, operations, snapshots), `core` (the loop, results, effects,
//! traps, persistence, shutdown), `run` (due services, holds, maxprocs, starting runs),
//! `deps` (dependency evaluation), `snapshot` (listing), `table` (per-service runtime
//! tables built from a config), `client` (client operations),
//! `reload` (reset/SIGHUP), `backend` (the protocol server's and trap listener's view of
//! the engine), `monstate` (mon's `disabled`/`opstatus` state files).

mod api;
pub mod backend;
mod client;
mod core;
mod deps;
pub mod monstate;
mod reload;
mod run;
mod snapshot;
mod table;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use api::{
    Changes, EngineError, EngineHandle, MonState, OpstatusRecord, Pids, Reset, ServiceView,
    Snapshot, Stats, Target, TrapResult,
};

use crate::config::Config;
use crate::config::paths::Paths;
use crate::schedule::WallClock;
use crate::state::persist::SavedState;

/// How long a shutdown waits for queued alerts by default (daemon TERM/INT).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A loaded configuration with everything derived from it that a reset re-reads.
#[derive(Debug, Clone)]
pub struct Setup {
    pub config: Arc<Config>,
    pub paths: Paths,
    /// History length (`-k` at start, `histlength` after a reset).
    pub maxkeep: usize,
    /// 0 = unlimited.
    pub maxprocs: u32,
    pub randstart: Option<Duration>,
    /// The alert history read from `historicfile` (None = keep the current one).
    pub historic: Option<Vec<String>>,
}

/// Loads the configuration again (reset, SIGHUP, `test config`). Runs on a blocking thread.
pub type Loader = Arc<dyn Fn() -> Result<Setup, String> + Send + Sync>;

/// How the engine runs, beyond the configuration.
pub struct EngineOptions {
    /// Maps monotonic time to Unix time (`WallClock::fixed` in paused-clock tests).
    pub clock: WallClock,
    /// The zone periods are evaluated in (`jiff::tz::TimeZone::system()` in the daemon).
    pub tz: jiff::tz::TimeZone,
    /// Seed for randstart/randskew (None = random).
    pub seed: Option<u64>,
    /// Start with the scheduler stopped (`-S`).
    pub stopped: bool,
    pub loader: Option<Loader>,
    /// State restored from the state file.
    pub restore: Option<SavedState>,
    /// mon's saved state to apply before the startup alerts (`-l`).
    pub mon_state: Option<MonState>,
    /// Where to write the state file (None = do not persist).
    pub state_file: Option<PathBuf>,
    /// The daemon's pid, for `list pids` and replies.
    pub pid: u32,
    /// Benchmarks and paused-clock tests only (see `Hooks`).
    #[doc(hidden)]
    pub hooks: Hooks,
    /// Send startup alerts when the engine starts (mon always does).
    pub startup_alerts: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            clock: WallClock::system(),
            tz: jiff::tz::TimeZone::system(),
            seed: None,
            stopped: false,
            loader: None,
            restore: None,
            mon_state: None,
            state_file: None,
            pid: std::process::id(),
            hooks: Hooks::default(),
            startup_alerts: true,
        }
    }
}

/// An in-process monitor: `(group, service)` to a future of `(exit, output)`.
pub type InProcMonitor = Arc<
    dyn Fn(
            &str,
            &str,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = (i32, bytes::Bytes)> + Send>>
        + Send
        + Sync,
>;

/// Receives alert calls instead of delivering them.
pub type AlertSink = Arc<dyn Fn(&crate::alerts::AlertCall) + Send + Sync>;

/// Test and benchmark hooks. Not for production: they replace real processes, which
/// cannot run under tokio's paused clock (its auto-advance would fire every deadline).
#[doc(hidden)]
#[derive(Clone, Default)]
pub struct Hooks {
    /// Services whose monitor is `noop` run this in-process instead of a mon.d script.
    pub monitor: Option<InProcMonitor>,
    /// Alerts go here instead of to scripts or actions; every alert name resolves.
    pub alerts: Option<AlertSink>,
}

impl Hooks {
    /// The scheduler benchmark's hook: `monitor noop` succeeds at once, with no output.
    pub fn noop() -> Hooks {
        Hooks {
            monitor: Some(Arc::new(|_, _| {
                Box::pin(async { (0, bytes::Bytes::new()) })
            })),
            alerts: None,
        }
    }
}

/// Start the engine task on the current tokio runtime.
pub fn start(setup: Setup, opts: EngineOptions) -> (EngineHandle, JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let (cfg_tx, cfg_rx) = tokio::sync::watch::channel(setup.config.clone());
    let core = core::Core::new(setup, opts, ev_tx, cfg_tx);
    let task = tokio::spawn(core.run(rx, ev_rx));
    (EngineHandle { tx, config: cfg_rx }, task)
}

#[cfg(test)]
mod tests;
