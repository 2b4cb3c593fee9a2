//! The plain data the protocol formats its replies from: a `Snapshot` of the daemon taken at
//! one instant, and the `Op`/`Outcome` pair through which commands change it.
//!
//! The engine builds snapshots and applies ops; this module only defines the shapes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

use crate::alerts::AlertKind;
use crate::config::{Config, Service, Watch};
use crate::state::{OpStatus, ServiceState};

/// Whether the scheduler runs (`list state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduler {
    Running,
    /// Stopped by `stop`, `reset stopped` or `-S`, at this epoch.
    Stopped {
        since: i64,
    },
}

/// The runtime side of one service, as the protocol shows it.
#[derive(Debug, Clone)]
pub struct ServiceView {
    pub state: Arc<ServiceState>,
    /// Whole seconds until the monitor is next due; 0 while due or running, and for
    /// services without an interval.
    pub timer: i64,
    /// A monitor process for this service is alive.
    pub running: bool,
}

impl ServiceView {
    /// A service that has never run, due in `timer` seconds.
    pub fn fresh(periods: usize, timer: i64) -> Self {
        ServiceView {
            state: Arc::new(ServiceState::new(periods)),
            timer,
            running: false,
        }
    }
}

/// A monitor process that is running now (`list pids`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningMonitor {
    pub group: String,
    pub service: String,
    pub pid: u32,
}

/// Everything a read-only reply needs, taken at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub config: Arc<Config>,
    /// One entry per service, in the order of `config.services()`.
    pub services: Vec<ServiceView>,
    /// Watches disabled with `disable watch` (or `disable host` on a one-host group).
    pub disabled_watches: BTreeSet<String>,
    /// Hostgroup name → hosts of it that are disabled (shown with a `*`).
    pub disabled_hosts: BTreeMap<String, BTreeSet<String>>,
    pub scheduler: Scheduler,
    /// Alert history lines, oldest first, unescaped (`TYPE G S EPOCH PATH (ARGS) SUMMARY`).
    pub alerthist: Arc<[Bytes]>,
    /// Failure history lines, oldest first, unescaped (`G S EPOCH SUMMARY`).
    pub failurehist: Arc<[Bytes]>,
    pub pids: Vec<RunningMonitor>,
    /// The in-memory history limit (`get maxkeep`).
    pub maxkeep: usize,
    /// The downtime log file when `dtlogging` is on.
    pub dtlog: Option<PathBuf>,
    pub server_pid: u32,
    /// The host name as `reset` prints it (`220 reset PID N@HOST`).
    pub hostname: String,
    /// The epoch the snapshot was taken at.
    pub now: i64,
}

impl Snapshot {
    /// A snapshot of `config` right after startup: every service untested, nothing
    /// disabled, no history. `timer` is each interval service's countdown.
    pub fn fresh(config: Arc<Config>, now: i64) -> Self {
        let maxkeep = config.globals.histlength;
        let services: Vec<ServiceView> = config
            .services()
            .map(|(_, s)| {
                let timer = s.interval().map(|d| d.as_secs() as i64).unwrap_or(0);
                ServiceView::fresh(s.periods.len(), timer)
            })
            .collect();
        Snapshot {
            config,
            services,
            disabled_watches: BTreeSet::new(),
            disabled_hosts: BTreeMap::new(),
            scheduler: Scheduler::Running,
            alerthist: Arc::from(Vec::new()),
            failurehist: Arc::from(Vec::new()),
            pids: Vec::new(),
            maxkeep,
            dtlog: None,
            server_pid: std::process::id(),
            hostname: hostname(),
            now,
        }
    }

    /// Every service with its config, in config order.
    pub fn iter(&self) -> impl Iterator<Item = ServiceRef<'_>> {
        self.config
            .services()
            .zip(self.services.iter())
            .map(|((watch, service), view)| ServiceRef {
                watch,
                service,
                view,
            })
    }

    /// The service `group`/`service`.
    pub fn find(&self, group: &str, service: &str) -> Option<ServiceRef<'_>> {
        self.iter()
            .find(|r| r.watch.name == group && r.service.name == service)
    }

    /// Whether a watch called `group` exists.
    pub fn has_watch(&self, group: &str) -> bool {
        self.config.watch(group).is_some()
    }
}

/// One service as the protocol sees it: its watch, its config and its runtime view.
#[derive(Debug, Clone, Copy)]
pub struct ServiceRef<'a> {
    pub watch: &'a Watch,
    pub service: &'a Service,
    pub view: &'a ServiceView,
}

impl ServiceRef<'_> {
    pub fn group(&self) -> &str {
        &self.watch.name
    }
    pub fn name(&self) -> &str {
        &self.service.name
    }
    pub fn state(&self) -> &ServiceState {
        &self.view.state
    }
}

/// A change a client asks for. The engine applies it and answers with an `Outcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    SetMaxkeep(usize),
    /// Record a new opstatus (the previous one becomes last_opstatus).
    SetOpStatus {
        group: String,
        service: String,
        status: OpStatus,
    },
    /// Store VALUE under VAR (see `server::vars` for the names mon's state uses).
    SetVar {
        group: String,
        service: String,
        var: String,
        value: String,
    },
    /// Acknowledge a failure; `comment` is already `USER: COMMENT`.
    Ack {
        group: String,
        service: String,
        comment: String,
    },
    DisableWatch(String),
    EnableWatch(String),
    DisableService {
        group: String,
        service: String,
    },
    EnableService {
        group: String,
        service: String,
    },
    /// Disable hosts in every hostgroup; all must exist or nothing changes.
    DisableHosts(Vec<String>),
    EnableHosts(Vec<String>),
    /// Make the monitor due now.
    TestMonitor {
        group: String,
        service: String,
    },
    /// Run one alert list of one period with the test flag.
    TestAlert {
        kind: AlertKind,
        group: String,
        service: String,
        retval: String,
        period: String,
    },
    /// Parse the config again without applying it.
    TestConfig,
    ClearTimers {
        group: String,
        service: String,
    },
    Stop,
    Start,
    Reset {
        stopped: bool,
        keepstate: bool,
    },
    ReloadAuth,
    LoadState(Vec<String>),
    SaveState(Vec<String>),
    /// Exit the daemon (after this reply has been sent).
    Term,
}

/// What applying an `Op` came to. Each op uses the variants that make sense for it; the
/// reply texts are the protocol's business (`server::reply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    UnknownGroup,
    UnknownService,
    /// `disable host` named hosts that are in no hostgroup.
    UnknownHosts(Vec<String>),
    /// `ack` on a service whose opstatus is ok or untested.
    NotFailing,
    /// `test ... alert` naming a period the service does not have.
    UnknownPeriod,
    /// The operation failed; the text says why (for `test config`: mon's error message;
    /// for `reset`: the config error; for `reload auth`: why the file was not read).
    Failed(String),
}

/// The system host name, as Perl's Sys::Hostname reports it (`vm`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}
