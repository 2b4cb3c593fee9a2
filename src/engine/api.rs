//! The engine's client API: the handle every other task (protocol server, trap listener,
//! daemon signals) uses, the operations it offers, and the snapshot types for listing.
//!
//! Every operation is a message to the engine task with a oneshot reply; the engine never
//! shares its state, so there are no locks. Snapshots are built on request and are cheap
//! (outputs are `Bytes`, names are `Arc<str>`, the config is shared).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

use crate::alerts::AlertKind;
use crate::config::paths::Paths;
use crate::config::{Config, Service, Watch};
use crate::state::{OpStatus, ServiceState};

/// Why an operation was refused. The texts are ours; the protocol server maps each variant
/// to mon's reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown group {0}")]
    UnknownGroup(String),
    #[error("unknown service {0}/{1}")]
    UnknownService(String, String),
    #[error("unknown watch {0}")]
    UnknownWatch(String),
    #[error("host(s) {} do not exist", .0.join(" "))]
    UnknownHosts(Vec<String>),
    #[error("period not defined")]
    UnknownPeriod,
    #[error("service is in a non-failure state")]
    NotFailing,
    /// A value that does not fit (`set G S _op_status fail`).
    #[error("{0}")]
    Invalid(String),
    /// The new configuration could not be loaded; the old one stays in force.
    #[error("{0}")]
    Config(String),
    #[error("the engine has stopped")]
    Gone,
}

/// What to disable or enable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Watch(String),
    Service(String, String),
    Hosts(Vec<String>),
}

/// What a disable/enable changed, as mon's `monremote` argument lists (`disable watch g`,
/// `disable host h`, ...), in the order mon runs them. Empty when nothing was found to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub actions: Vec<String>,
}

/// A trap result for a service (routing to `default/default` is done by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapResult {
    pub group: String,
    pub service: String,
    /// The trap's `sta` as received (Perl truth decides failure: "" and "0" are success).
    pub sta: String,
    /// The result's output: `sum + "\n" + dtl`, as mon builds it.
    pub output: Bytes,
    /// `group:service` the trap was meant for, when it was caught by `default/default`.
    pub intended: Option<String>,
}

/// mon's saved state to apply (`loadstate`, `-l`), already parsed by the protocol stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonState {
    /// `disable host|watch|service` lines, replayed in order.
    pub disabled: Vec<Target>,
    /// opstatus records.
    pub opstatus: Vec<OpstatusRecord>,
}

/// One line of mon's `STATEDIR/opstatus` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpstatusRecord {
    pub group: String,
    pub service: String,
    /// `name=value` fields (values unescaped); a name `LABEL:var` addresses a period.
    pub fields: Vec<(String, String)>,
}

/// `list pids`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pids {
    /// The daemon's pid.
    pub server: u32,
    /// `(group, service, pid)` of every running monitor process.
    pub running: Vec<(String, String, u32)>,
}

/// A `reset` request (`SIGHUP` is `keepstate: true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reset {
    /// Stop the scheduler (`reset stopped`).
    pub stopped: bool,
    /// Keep runtime state (`reset keepstate`, SIGHUP).
    pub keepstate: bool,
}

/// One service as seen by a client.
#[derive(Debug, Clone)]
pub struct ServiceView {
    pub group: Arc<str>,
    pub service: Arc<str>,
    /// Index of the watch in `Snapshot::config.watches` and of the service in it.
    pub watch_index: usize,
    pub service_index: usize,
    pub state: ServiceState,
    /// Seconds until the monitor is next due (mon's `timer`): 0 while due, held or running,
    /// and 0 for services without an interval.
    pub timer: i64,
    pub running: bool,
    /// The running monitor's pid (external scripts only).
    pub pid: Option<u32>,
    /// The interval in force (`failure_interval` while it applies), if any.
    pub interval: Option<Duration>,
    pub watch_disabled: bool,
}

impl ServiceView {
    /// The service's configuration.
    pub fn config<'a>(&self, snap: &'a Snapshot) -> Option<&'a Service> {
        snap.config
            .watches
            .get(self.watch_index)
            .and_then(|w| w.services.get(self.service_index))
    }

    /// Its watch.
    pub fn watch<'a>(&self, snap: &'a Snapshot) -> Option<&'a Watch> {
        snap.config.watches.get(self.watch_index)
    }

    /// `alerts_sent` of the opstatus record: the per-period counters summed, leaving out
    /// periods with `alerts_dont_count`.
    pub fn alerts_sent(&self, snap: &Snapshot) -> u64 {
        let Some(svc) = self.config(snap) else {
            return 0;
        };
        svc.periods
            .iter()
            .zip(&self.state.periods)
            .filter(|(p, _)| !p.alerts_dont_count)
            .map(|(_, ps)| u64::from(ps.alert_sent))
            .sum()
    }

    /// `last_alert` of the opstatus record: the newest over all periods (0 = none).
    pub fn last_alert(&self) -> i64 {
        self.state
            .periods
            .iter()
            .map(|p| p.last_alert)
            .max()
            .unwrap_or(0)
    }

    /// The description in force (`set G S description ...` overrides the config's).
    pub fn description(&self, snap: &Snapshot) -> Option<String> {
        self.state
            .vars
            .get("description")
            .cloned()
            .or_else(|| self.config(snap).and_then(|s| s.description.clone()))
    }
}

/// Everything a client may list, as of one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Unix time the snapshot was taken.
    pub time: i64,
    pub config: Arc<Config>,
    pub paths: Paths,
    /// The daemon's pid (`list pids`, `reset` replies).
    pub pid: u32,
    /// Unix time the server started.
    pub start_time: i64,
    /// `Some(since)` while the scheduler is stopped.
    pub stopped_since: Option<i64>,
    pub disabled_hosts: BTreeSet<String>,
    pub disabled_watches: BTreeSet<String>,
    /// In config order.
    pub services: Vec<ServiceView>,
    /// Oldest first, unescaped (`TYPE G S TIME PATH (ARGS) SUMMARY`).
    pub alert_history: Vec<String>,
    /// Oldest first, unescaped (`G S TIME SUMMARY`).
    pub failure_history: Vec<String>,
    pub maxkeep: usize,
    pub dtlogging: bool,
}

impl Snapshot {
    pub fn service(&self, group: &str, service: &str) -> Option<&ServiceView> {
        self.services
            .iter()
            .find(|v| &*v.group == group && &*v.service == service)
    }

    /// A hostgroup's members as `list group` shows them (`*` before disabled hosts).
    pub fn group_members(&self, group: &str) -> Option<Vec<String>> {
        let g = self.config.hostgroup(group)?;
        Some(
            g.hosts
                .iter()
                .map(|h| {
                    if self.disabled_hosts.contains(h) {
                        format!("*{h}")
                    } else {
                        h.clone()
                    }
                })
                .collect(),
        )
    }
}

/// Scheduling statistics (visibility and the scheduler benchmark).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Monitor runs started.
    pub runs: u64,
    /// Due slots skipped because the previous run was still going.
    pub skipped: u64,
    /// Runs that hit their deadline.
    pub timed_out: u64,
    /// Start lateness histogram: bucket i counts starts `[i, i+1) × 100 µs` late; the
    /// last bucket counts everything later.
    pub lateness: Vec<u64>,
    pub running: usize,
    pub services: usize,
}

impl Stats {
    /// Width of one lateness bucket.
    pub const BUCKET: Duration = Duration::from_micros(100);
    /// Number of buckets (the last one is open-ended: ≥ 100 ms).
    pub const BUCKETS: usize = 1001;

    /// The lateness below which a fraction `q` of starts fall (upper bucket bound).
    pub fn lateness_quantile(&self, q: f64) -> Duration {
        let total: u64 = self.lateness.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        let want = (q * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.lateness.iter().enumerate() {
            seen += n;
            if seen >= want {
                return Self::BUCKET * u32::try_from(i + 1).unwrap_or(u32::MAX);
            }
        }
        Self::BUCKET * u32::try_from(Self::BUCKETS).unwrap_or(u32::MAX)
    }
}

/// An operation sent to the engine task.
pub(crate) enum Op {
    Snapshot(oneshot::Sender<Arc<Snapshot>>),
    Disable(
        Target,
        String,
        oneshot::Sender<Result<Changes, EngineError>>,
    ),
    Enable(Target, oneshot::Sender<Result<Changes, EngineError>>),
    Ack {
        group: String,
        service: String,
        comment: String,
        reply: oneshot::Sender<Result<(), EngineError>>,
    },
    TestMonitor(String, String, oneshot::Sender<Result<(), EngineError>>),
    TestAlert {
        list: AlertKind,
        group: String,
        service: String,
        retval: String,
        period: String,
        reply: oneshot::Sender<Result<(), EngineError>>,
    },
    TestConfig(oneshot::Sender<Result<(), String>>),
    Reset(Reset, oneshot::Sender<Result<(), EngineError>>),
    Stop(oneshot::Sender<()>),
    Start(oneshot::Sender<()>),
    SetVar {
        group: String,
        service: String,
        var: String,
        value: String,
        reply: oneshot::Sender<Result<(), EngineError>>,
    },
    SetOpStatus(
        String,
        String,
        OpStatus,
        oneshot::Sender<Result<(), EngineError>>,
    ),
    SetMaxkeep(usize, oneshot::Sender<()>),
    ClearTimers(String, String, oneshot::Sender<Result<(), EngineError>>),
    Trap(TrapResult, oneshot::Sender<Result<(), EngineError>>),
    Pids(oneshot::Sender<Pids>),
    LoadMonState(MonState, oneshot::Sender<Vec<String>>),
    Stats(oneshot::Sender<Stats>),
    Shutdown(Duration, oneshot::Sender<()>),
}

/// A cloneable handle to the engine task.
#[derive(Clone)]
pub struct EngineHandle {
    pub(crate) tx: mpsc::UnboundedSender<Op>,
    pub(crate) config: watch::Receiver<Arc<Config>>,
}

impl EngineHandle {
    /// The configuration in force now (updated by every successful reload).
    pub fn config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Op) -> Result<T, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| EngineError::Gone)?;
        rx.await.map_err(|_| EngineError::Gone)
    }

    /// Everything a client may list.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, EngineError> {
        self.ask(Op::Snapshot).await
    }

    /// `disable watch|service|host ...` on behalf of `user` (used as the disablealert's
    /// stdin). mon's rules: a host is disabled in every group; a group made of that host
    /// alone has its watch disabled too; any unknown host refuses the whole request.
    pub async fn disable(&self, target: Target, user: &str) -> Result<Changes, EngineError> {
        let user = user.to_string();
        self.ask(|r| Op::Disable(target, user, r)).await?
    }

    /// `enable watch|service|host ...` (unknown hosts are accepted silently, as in mon).
    pub async fn enable(&self, target: Target) -> Result<Changes, EngineError> {
        self.ask(|r| Op::Enable(target, r)).await?
    }

    /// `ack G S COMMENT`: `comment` is stored as given; mon's is `USER: COMMENT`, where
    /// COMMENT is the first shell word of the request, unescaped.
    pub async fn ack(&self, group: &str, service: &str, comment: &str) -> Result<(), EngineError> {
        let (group, service, comment) =
            (group.to_string(), service.to_string(), comment.to_string());
        self.ask(|reply| Op::Ack {
            group,
            service,
            comment,
            reply,
        })
        .await?
    }

    /// `test monitor G S`: run the monitor now (unless held, exactly as a due run).
    pub async fn test_monitor(&self, group: &str, service: &str) -> Result<(), EngineError> {
        let (g, s) = (group.to_string(), service.to_string());
        self.ask(|r| Op::TestMonitor(g, s, r)).await?
    }

    /// `test alert|upalert|startupalert|ackalert|disablealert G S RETVAL PERIOD`. `list`
    /// picks the period's list (`Failure` = `alert`); `period` is the label.
    pub async fn test_alert(
        &self,
        list: AlertKind,
        group: &str,
        service: &str,
        retval: &str,
        period: &str,
    ) -> Result<(), EngineError> {
        let (group, service, retval, period) = (
            group.to_string(),
            service.to_string(),
            retval.to_string(),
            period.to_string(),
        );
        self.ask(|reply| Op::TestAlert {
            list,
            group,
            service,
            retval,
            period,
            reply,
        })
        .await?
    }

    /// `test config`: load the config without applying it; `Err` carries the error text.
    pub async fn test_config(&self) -> Result<(), EngineError> {
        self.ask(Op::TestConfig).await?.map_err(EngineError::Config)
    }

    /// `reset [stopped] [keepstate]`, and SIGHUP (`keepstate`). On a config error the old
    /// config stays in force and the error is returned.
    pub async fn reset(&self, reset: Reset) -> Result<(), EngineError> {
        self.ask(|r| Op::Reset(reset, r)).await?
    }

    /// SIGHUP: reload keeping state.
    pub async fn reload(&self) -> Result<(), EngineError> {
        self.reset(Reset {
            stopped: false,
            keepstate: true,
        })
        .await
    }

    /// `stop`: freeze the scheduler (and every alert decision).
    pub async fn stop(&self) -> Result<(), EngineError> {
        self.ask(Op::Stop).await
    }

    /// `start`.
    pub async fn start(&self) -> Result<(), EngineError> {
        self.ask(Op::Start).await
    }

    /// `set G S VAR VALUE` (`server::vars::apply_set`'s names and rules).
    pub async fn set_var(
        &self,
        group: &str,
        service: &str,
        var: &str,
        value: &str,
    ) -> Result<(), EngineError> {
        let (group, service, var, value) = (
            group.to_string(),
            service.to_string(),
            var.to_string(),
            value.to_string(),
        );
        self.ask(|reply| Op::SetVar {
            group,
            service,
            var,
            value,
            reply,
        })
        .await?
    }

    /// `set G S opstatus WORD` (the caller maps the word with `OpStatus::from_name`).
    pub async fn set_opstatus(
        &self,
        group: &str,
        service: &str,
        status: OpStatus,
    ) -> Result<(), EngineError> {
        let (g, s) = (group.to_string(), service.to_string());
        self.ask(|r| Op::SetOpStatus(g, s, status, r)).await?
    }

    /// `set maxkeep N`.
    pub async fn set_maxkeep(&self, n: usize) -> Result<(), EngineError> {
        self.ask(|r| Op::SetMaxkeep(n, r)).await
    }

    /// `clear timers G S`.
    pub async fn clear_timers(&self, group: &str, service: &str) -> Result<(), EngineError> {
        let (g, s) = (group.to_string(), service.to_string());
        self.ask(|r| Op::ClearTimers(g, s, r)).await?
    }

    /// A trap result (`trap` kind); also restarts the service's trap timers.
    pub async fn trap(&self, trap: TrapResult) -> Result<(), EngineError> {
        self.ask(|r| Op::Trap(trap, r)).await?
    }

    /// `list pids`: the server's pid and `(group, service, pid)` of running monitors.
    pub async fn pids(&self) -> Result<Pids, EngineError> {
        self.ask(Op::Pids).await
    }

    /// `loadstate` / `-l`: apply mon's saved state; returns the messages mon would log
    /// for entries that do not match (unknown watch or service).
    pub async fn load_mon_state(&self, state: MonState) -> Result<Vec<String>, EngineError> {
        self.ask(|r| Op::LoadMonState(state, r)).await
    }

    /// Scheduling statistics.
    pub async fn stats(&self) -> Result<Stats, EngineError> {
        self.ask(Op::Stats).await
    }

    /// Stop scheduling, kill running monitors, let queued alerts finish for up to `grace`,
    /// save the state file, then end the engine task.
    pub async fn shutdown(&self, grace: Duration) -> Result<(), EngineError> {
        self.ask(|r| Op::Shutdown(grace, r)).await
    }
}
