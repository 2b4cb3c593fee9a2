//! The engine task: its state, the main loop (timers, run results, client operations),
//! applying results through `alerts::decide` and carrying out their effects, trap timers,
//! the state file and shutdown.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::api::{EngineError, Op, Reset, Stats};
use super::deps::DepKind;
use super::table::{self, SvcTable, Tables};
use super::{EngineOptions, Loader, Setup};
use crate::alerts::decide::{self, Ctx, Effects, ResultIn};
use crate::alerts::dispatch::{AlertTarget, Delivered, DeliveryOptions, Dispatcher};
use crate::alerts::script::DEFAULT_ALERT_TIMEOUT;
use crate::config::paths::Paths;
use crate::config::{Config, Schedule, Service};
use crate::history::{FileWriter, History, dtlog_header};
use crate::logging::{self, Note, Prio};
use crate::monitors::{MonitorOutput, RunStatus};
use crate::schedule::{self, TimerKind, Timers, WallClock};
use crate::state::persist::{SavedService, SavedState};
use crate::state::{OpStatus, ServiceState};

/// How long a held service (exclude_period, `m` dependency) waits before it is re-checked.
pub(crate) const RECHECK: Duration = Duration::from_secs(1);

/// State-file writes are debounced by this much.
pub(crate) const PERSIST_DELAY: Duration = Duration::from_secs(1);

/// Messages from tasks the engine started.
pub(crate) enum Event {
    Pid {
        id: u64,
        pid: u32,
    },
    Done {
        id: u64,
        out: MonitorOutput,
        error: Option<String>,
    },
    Alert(Delivered),
    Reloaded {
        req: Reset,
        result: Box<Result<Setup, String>>,
        reply: oneshot::Sender<Result<(), EngineError>>,
    },
}

/// A monitor run in progress.
pub(crate) struct Running {
    pub id: u64,
    pub pid: Option<u32>,
    pub cancel: CancellationToken,
}

/// One service at runtime.
pub(crate) struct Svc {
    pub group: Arc<str>,
    pub name: Arc<str>,
    /// Indices into `config.watches` and the watch's `services`.
    pub w: usize,
    pub s: usize,
    pub st: ServiceState,
    pub tab: SvcTable,
    /// When the monitor is next due (None: not scheduled).
    pub due: Option<Instant>,
    /// The due time of a run that is waiting (held or queued), for lateness and re-anchoring.
    pub waiting_since: Option<Instant>,
    pub held: bool,
    pub queued: bool,
    pub run: Option<Running>,
    /// `test monitor` arrived while a run was going: run again when it ends.
    pub run_again: bool,
    /// An overrun was logged for the current episode.
    pub overrun_logged: bool,
    /// A missing monitor was logged since the last load.
    pub missing_logged: bool,
    /// A dependency evaluation error was logged and has not cleared since.
    pub dep_error_logged: bool,
    /// Generation counters invalidating armed timers, per kind.
    pub gen_due: u64,
    pub gen_recheck: u64,
    pub gen_trap: u64,
    pub gen_dur: u64,
    pub trap_at: Option<Instant>,
    pub dur_at: Option<Instant>,
    /// `set G S interval N` override.
    pub interval_override: Option<Duration>,
}

impl Svc {
    /// The interval in force (`failure_interval` while it applies).
    pub fn interval(&self, svc: &Service) -> Option<Duration> {
        let base = self.interval_override.or_else(|| svc.interval())?;
        Some(if self.st.saved_interval.is_some() {
            svc.failure_interval.unwrap_or(base)
        } else {
            base
        })
    }
}

pub(crate) struct Core {
    pub cfg: Arc<Config>,
    pub paths: Paths,
    pub tables: Tables,
    pub svcs: Vec<Svc>,
    pub index: HashMap<String, HashMap<String, usize>>,
    pub disabled_hosts: BTreeSet<String>,
    pub disabled_watches: BTreeSet<String>,
    /// `(wall, instant)` the scheduler was stopped at.
    pub stopped: Option<(i64, Instant)>,
    pub timers: Timers,
    pub fifo: VecDeque<usize>,
    pub running: usize,
    pub runs: HashMap<u64, usize>,
    pub next_run_id: u64,
    pub maxprocs: u32,
    pub randstart: Option<Duration>,
    pub history: History,
    pub writer: FileWriter,
    pub dispatcher: Dispatcher,
    pub alerts_in_flight: usize,
    pub clock: WallClock,
    pub tz: TimeZone,
    pub rng: fastrand::Rng,
    pub events: mpsc::UnboundedSender<Event>,
    pub loader: Option<Loader>,
    pub state_file: Option<PathBuf>,
    pub persist_at: Option<Instant>,
    pub stats: Stats,
    pub start_time: i64,
    pub pid: u32,
    pub hooks: super::Hooks,
    pub throttle_logged: bool,
    /// `(deadline, reply)` once a shutdown was asked for.
    pub shutdown: Option<(Instant, oneshot::Sender<()>)>,
    pub reload_busy: bool,
    /// Publishes the configuration in force (trap routing reads it).
    pub config_tx: tokio::sync::watch::Sender<Arc<Config>>,
}

impl Core {
    pub(crate) fn new(
        setup: Setup,
        opts: EngineOptions,
        events: mpsc::UnboundedSender<Event>,
        config_tx: tokio::sync::watch::Sender<Arc<Config>>,
    ) -> Core {
        let now = Instant::now();
        let start_time = opts.clock.now_secs();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let fwd = events.clone();
        tokio::spawn(async move {
            while let Some(d) = done_rx.recv().await {
                if fwd.send(Event::Alert(d)).is_err() {
                    break;
                }
            }
        });
        let alert_timeout = setup
            .config
            .globals
            .alert_timeout
            .unwrap_or(DEFAULT_ALERT_TIMEOUT);
        let (tables, notes) =
            table::tables(&setup.config, &setup.paths, opts.hooks.monitor.is_some());
        for n in &notes {
            logging::note(n);
        }
        let mut history = History::new(setup.maxkeep);
        if let Some(lines) = setup.historic.clone() {
            history.replace_alerts(lines);
        }
        let mut core = Core {
            cfg: setup.config.clone(),
            paths: setup.paths.clone(),
            tables,
            svcs: Vec::new(),
            index: HashMap::new(),
            disabled_hosts: BTreeSet::new(),
            disabled_watches: BTreeSet::new(),
            stopped: opts.stopped.then_some((start_time, now)),
            timers: Timers::new(),
            fifo: VecDeque::new(),
            running: 0,
            runs: HashMap::new(),
            next_run_id: 1,
            maxprocs: setup.maxprocs,
            randstart: setup.randstart,
            history,
            writer: FileWriter::spawn(),
            dispatcher: Dispatcher::new(
                DeliveryOptions {
                    timeout: alert_timeout,
                },
                done_tx,
            ),
            alerts_in_flight: 0,
            clock: opts.clock,
            tz: opts.tz,
            rng: opts.seed.map(fastrand::Rng::with_seed).unwrap_or_default(),
            events,
            loader: opts.loader,
            state_file: opts.state_file,
            persist_at: None,
            stats: Stats {
                lateness: vec![0; Stats::BUCKETS],
                ..Stats::default()
            },
            start_time,
            pid: opts.pid,
            hooks: opts.hooks.clone(),
            throttle_logged: false,
            shutdown: None,
            reload_busy: false,
            config_tx,
        };
        core.svcs = core.build_services(&mut Vec::new());
        core.rebuild_index();
        if let Some(saved) = &opts.restore {
            core.restore(saved);
        }
        if let Some(ms) = opts.mon_state {
            core.load_mon_state(ms);
        }
        if core.cfg.globals.dtlogging {
            core.writer.append(
                &core.paths.dtlogfile,
                dtlog_header(start_time),
                "downtime log",
            );
        }
        core.arm_all(now, false);
        logging::mon(Prio::Info, "mon server started");
        if opts.startup_alerts {
            core.startup_alerts();
        }
        core
    }

    /// Build the runtime services of the current config (fresh state).
    pub(crate) fn build_services(&self, notes: &mut Vec<Note>) -> Vec<Svc> {
        let mut out = Vec::new();
        for (w, watch) in self.cfg.watches.iter().enumerate() {
            for (s, svc) in watch.services.iter().enumerate() {
                let who = format!("{}/{}", watch.name, svc.name);
                let inproc = self.hooks.monitor.is_some();
                let tab = table::service(&self.cfg, &self.tables, svc, inproc, notes, &who);
                out.push(Svc {
                    group: Arc::from(watch.name.as_str()),
                    name: Arc::from(svc.name.as_str()),
                    w,
                    s,
                    st: ServiceState::new(svc.periods.len()),
                    tab,
                    due: None,
                    waiting_since: None,
                    held: false,
                    queued: false,
                    run: None,
                    run_again: false,
                    overrun_logged: false,
                    missing_logged: false,
                    dep_error_logged: false,
                    gen_due: 0,
                    gen_recheck: 0,
                    gen_trap: 0,
                    gen_dur: 0,
                    trap_at: None,
                    dur_at: None,
                    interval_override: None,
                });
            }
        }
        for n in notes.iter() {
            logging::note(n);
        }
        out
    }

    pub(crate) fn rebuild_index(&mut self) {
        self.index.clear();
        for (i, s) in self.svcs.iter().enumerate() {
            self.index
                .entry(s.group.to_string())
                .or_default()
                .insert(s.name.to_string(), i);
        }
    }

    pub(crate) fn find(&self, group: &str, service: &str) -> Option<usize> {
        self.index.get(group)?.get(service).copied()
    }

    pub(crate) fn conf(&self, i: usize) -> &Service {
        &self.cfg.watches[self.svcs[i].w].services[self.svcs[i].s]
    }

    /// Apply a saved state file (restart).
    pub(crate) fn restore(&mut self, saved: &SavedState) {
        let mut restored = 0;
        for i in 0..self.svcs.len() {
            let labels: Vec<&str> = self
                .conf(i)
                .periods
                .iter()
                .map(|p| p.label.as_str())
                .collect();
            if let Some(st) = saved.service_state(&self.svcs[i].group, &self.svcs[i].name, &labels)
            {
                self.svcs[i].st = st;
                restored += 1;
            }
        }
        for h in &saved.disabled_hosts {
            if self.cfg.hostgroups.iter().any(|g| g.hosts.contains(h)) {
                self.disabled_hosts.insert(h.clone());
            }
        }
        for w in &saved.disabled_watches {
            if self.cfg.watch(w).is_some() {
                self.disabled_watches.insert(w.clone());
            }
        }
        if let Some(since) = saved.stopped_since
            && self.stopped.is_none()
        {
            self.stopped = Some((since, Instant::now()));
        }
        logging::mon(
            Prio::Info,
            &format!("restored the state of {restored} services from the state file"),
        );
    }

    /// Arm every service's first run and trap timer. `keep_due` keeps already-known due
    /// times (used by reload for unchanged services).
    pub(crate) fn arm_all(&mut self, now: Instant, keep_due: bool) {
        for i in 0..self.svcs.len() {
            if !(keep_due && self.svcs[i].due.is_some()) {
                self.arm_first(i, now);
            }
            self.arm_trap(i, now);
        }
    }

    pub(crate) fn arm_first(&mut self, i: usize, now: Instant) {
        let svc = &self.cfg.watches[self.svcs[i].w].services[self.svcs[i].s];
        let at = match (&svc.schedule, &self.svcs[i].tab.cron) {
            (Schedule::Cron(_), Some(c)) => self.cron_next(c, now),
            (Schedule::Cron(_), None) => None,
            _ => self.svcs[i]
                .interval(svc)
                .map(|iv| schedule::first_due(now, iv, self.randstart, &mut self.rng)),
        };
        self.set_due(i, at);
    }

    pub(crate) fn cron_next(&self, c: &schedule::Cron, after: Instant) -> Option<Instant> {
        let wall = self.clock.wall_at(after);
        c.next_after(wall).map(|w| after + w.saturating_sub(wall))
    }

    pub(crate) fn arm_trap(&mut self, i: usize, now: Instant) {
        let tt = self.conf(i).traptimeout;
        let svc = &mut self.svcs[i];
        svc.gen_trap += 1;
        svc.trap_at = tt.map(|t| now + t);
        if let Some(at) = svc.trap_at {
            let g = svc.gen_trap;
            self.timers.push(at, i, TimerKind::TrapTimeout, g);
        }
    }

    pub(crate) fn set_due(&mut self, i: usize, at: Option<Instant>) {
        let svc = &mut self.svcs[i];
        svc.gen_due += 1;
        svc.due = at;
        if let Some(at) = at {
            let g = svc.gen_due;
            self.timers.push(at, i, TimerKind::Due, g);
        }
    }

    pub(crate) fn arm_recheck(&mut self, i: usize, at: Instant) {
        let svc = &mut self.svcs[i];
        svc.gen_recheck += 1;
        let g = svc.gen_recheck;
        self.timers.push(at, i, TimerKind::Recheck, g);
    }

    pub(crate) fn mark_dirty(&mut self) {
        if self.state_file.is_some() && self.persist_at.is_none() {
            self.persist_at = Some(Instant::now() + PERSIST_DELAY);
        }
    }

    // === main loop ===

    pub(crate) async fn run(
        mut self,
        mut ops: mpsc::UnboundedReceiver<Op>,
        mut events: mpsc::UnboundedReceiver<Event>,
    ) {
        let far = || Instant::now() + Duration::from_secs(86400 * 365);
        let sleep = tokio::time::sleep_until(far());
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        loop {
            if self.finish_shutdown_if_ready().await {
                return;
            }
            let next = self.next_wakeup();
            if next != armed {
                sleep.as_mut().reset(next.unwrap_or_else(far));
                armed = next;
            }
            tokio::select! {
                biased;
                () = &mut sleep => {
                    armed = None;
                    self.on_wakeup();
                }
                ev = events.recv() => {
                    let Some(ev) = ev else { return };
                    self.on_event(ev);
                    // Take what else is queued in one go (results arrive in bursts).
                    for _ in 0..256 {
                        match events.try_recv() {
                            Ok(ev) => self.on_event(ev),
                            Err(_) => break,
                        }
                    }
                }
                op = ops.recv() => {
                    match op {
                        Some(op) => self.on_op(op),
                        None => {
                            // Every handle is gone: shut down as if asked, without grace.
                            let (tx, _rx) = oneshot::channel();
                            self.begin_shutdown(Duration::ZERO, tx);
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn next_wakeup(&self) -> Option<Instant> {
        let timers = if self.stopped.is_some() || self.shutdown.is_some() {
            None
        } else {
            self.timers.peek()
        };
        [timers, self.persist_at, self.shutdown.as_ref().map(|s| s.0)]
            .into_iter()
            .flatten()
            .min()
    }

    pub(crate) fn on_wakeup(&mut self) {
        let now = Instant::now();
        if let Some(j) = self.clock.check() {
            logging::mon(
                Prio::Warning,
                &format!("the system clock jumped by {j}s; wall-clock times follow it"),
            );
            // Cron instants are wall-clock instants: recompute them.
            for i in 0..self.svcs.len() {
                if self.svcs[i].tab.cron.is_some() && self.svcs[i].run.is_none() {
                    let c = self.svcs[i].tab.cron.clone();
                    let at = c.and_then(|c| self.cron_next(&c, now));
                    self.set_due(i, at);
                }
            }
        }
        if self.persist_at.is_some_and(|t| t <= now) {
            self.persist_at = None;
            self.persist();
        }
        if self.stopped.is_some() || self.shutdown.is_some() {
            return;
        }
        while let Some(t) = self.timers.pop_due(now) {
            let Some(svc) = self.svcs.get(t.svc) else {
                continue;
            };
            let current = match t.kind {
                TimerKind::Due => svc.gen_due,
                TimerKind::Recheck => svc.gen_recheck,
                TimerKind::TrapTimeout => svc.gen_trap,
                TimerKind::TrapDuration => svc.gen_dur,
            };
            if current != t.generation {
                continue;
            }
            match t.kind {
                TimerKind::Due => self.on_due(t.svc, t.at),
                TimerKind::Recheck => self.on_recheck(t.svc),
                TimerKind::TrapTimeout => self.on_trap_timeout(t.svc),
                TimerKind::TrapDuration => self.on_trap_duration(t.svc),
            }
        }
    }

    // === results ===

    pub(crate) fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Pid { id, pid } => {
                if let Some(&i) = self.runs.get(&id)
                    && let Some(r) = self.svcs[i].run.as_mut()
                    && r.id == id
                {
                    r.pid = Some(pid);
                }
            }
            Event::Done { id, out, error } => self.on_done(id, out, error),
            Event::Alert(d) => {
                self.alerts_in_flight = self.alerts_in_flight.saturating_sub(1);
                if !d.outcome.ok {
                    tracing::debug!(target: "mon", "alert {} for {}/{} failed: {}", d.name, d.group, d.service, d.outcome.detail);
                }
            }
            Event::Reloaded { req, result, reply } => {
                self.reload_busy = false;
                let r = self.apply_reload(req, *result);
                let _ = reply.send(r);
            }
        }
    }

    pub(crate) fn on_done(&mut self, id: u64, out: MonitorOutput, error: Option<String>) {
        let Some(i) = self.runs.remove(&id) else {
            return;
        };
        if self.svcs[i].run.as_ref().map(|r| r.id) != Some(id) {
            return;
        }
        self.svcs[i].run = None;
        self.running = self.running.saturating_sub(1);
        let wall = self.clock.now_secs();
        let st = &mut self.svcs[i].st;
        st.monitor_duration = st.last_check.map(|c| wall - c).unwrap_or(0);
        if let Some(e) = error {
            logging::mon(Prio::Err, &e);
        }
        if out.status == RunStatus::TimedOut {
            self.stats.timed_out += 1;
            logging::mon(
                Prio::Err,
                &format!(
                    "monitor for {}/{} timed out after {}s; its process group was killed",
                    self.svcs[i].group,
                    self.svcs[i].name,
                    self.svcs[i].tab.timeout.as_secs()
                ),
            );
        }
        let r = ResultIn::monitor(out.status.exit_value(), out.output);
        let fx = self.process(i, &r, None);
        if fx.interval.is_some() && self.svcs[i].tab.cron.is_none() {
            // failure_interval switched on or off: the next run is one (new) interval from
            // now, as mon's cleared anchor gives.
            let now = Instant::now();
            let at = self.svcs[i].interval(self.conf(i)).map(|iv| now + iv);
            self.set_due(i, at);
        }
        self.apply(i, fx);
        if std::mem::take(&mut self.svcs[i].run_again) {
            self.svcs[i].waiting_since = Some(Instant::now());
            self.try_start(i);
        }
        self.drain_fifo();
    }

    /// Evaluate the `a` dependency (when configured) and process one result.
    pub(crate) fn process(&mut self, i: usize, r: &ResultIn, intended: Option<&str>) -> Effects {
        if self.svcs[i].tab.deps.a.is_some()
            && let Some(Ok(v)) = self.eval_dep(i, DepKind::A)
        {
            self.svcs[i].st.depend_status = Some(v);
        }
        self.decide(i, intended, |ctx, st| decide::process_result(ctx, st, r))
    }

    /// Run a decision for service `i` with the world as it is now.
    pub(crate) fn decide<R>(
        &mut self,
        i: usize,
        intended: Option<&str>,
        f: impl FnOnce(&Ctx<'_>, &mut ServiceState) -> R,
    ) -> R {
        let now = self.clock.now_secs();
        let cfg = self.cfg.clone();
        let svc_cfg = &cfg.watches[self.svcs[i].w].services[self.svcs[i].s];
        let group = self.svcs[i].group.clone();
        // Hosts and local time are only needed when an alert is considered: most results
        // (repeated successes) never need them.
        let hostgroup = cfg.hostgroup(&group);
        let disabled = &self.disabled_hosts;
        let hosts = || -> Vec<String> {
            hostgroup
                .map(|g| {
                    g.hosts
                        .iter()
                        .filter(|h| !disabled.contains(*h))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        let interval_secs = self.svcs[i]
            .interval(svc_cfg)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let tz = self.tz.clone();
        let zoned = std::cell::OnceCell::new();
        let watch_disabled = self.disabled_watches.contains(&*group);
        let stopped = self.stopped.is_some();
        let tables = &self.tables;
        let fake = self.hooks.alerts.is_some();
        let Svc { st, tab, .. } = &mut self.svcs[i];
        let periods = &tab.periods;
        let in_period = |pi: usize| {
            let z = zoned.get_or_init(|| {
                jiff::Timestamp::from_second(now)
                    .ok()
                    .map(|t| t.to_zoned(tz.clone()))
            });
            match (z, periods.get(pi)) {
                (Some(z), Some(p)) => p.eval(z).is_active(),
                _ => true,
            }
        };
        let resolve = |name: &str, args: &[String]| {
            resolve_alert(tables, name, args)
                .or_else(|| fake.then(|| AlertTarget::Script(PathBuf::from(name))))
        };
        let ctx = Ctx {
            now,
            group: &group,
            svc: svc_cfg,
            stopped,
            watch_disabled,
            hosts: &hosts,
            in_period: &in_period,
            resolve: &resolve,
            base_env: &tables.base_env,
            dep_gated: tab.deps.a.is_some(),
            intended,
            dtlog_start: cfg.globals.dtlogging.then_some(self.start_time),
            interval_secs,
        };
        f(&ctx, st)
    }

    /// Carry out a decision's effects: logs, histories, files, alert delivery. The state
    /// file is rewritten only for changes that matter after a restart (a status change, a
    /// failure and its counters, alert bookkeeping), not for every repeated success.
    pub(crate) fn apply(&mut self, i: usize, fx: Effects) {
        let significant = fx.status_changed
            || fx.failure_hist.is_some()
            || fx.interval.is_some()
            || !fx.alert_hist.is_empty()
            || fx.alerts.iter().any(|a| !a.call.redistribute);
        for n in &fx.notes {
            logging::note(n);
        }
        if let Some(line) = fx.failure_hist {
            self.history.push_failure(line);
        }
        let historic = self.paths.historicfile.clone();
        for line in fx.alert_hist {
            if let Some(p) = &historic {
                self.writer.append(p, format!("{line}\n"), "alert history");
            }
            self.history.push_alert(line);
        }
        if let Some(line) = fx.dtlog {
            self.writer
                .append(&self.paths.dtlogfile, format!("{line}\n"), "downtime log");
        }
        if let Some(sink) = &self.hooks.alerts {
            for a in &fx.alerts {
                sink(&a.call);
            }
        } else if !fx.alerts.is_empty() {
            self.alerts_in_flight += fx.alerts.len();
            let (g, s) = (self.svcs[i].group.clone(), self.svcs[i].name.clone());
            self.dispatcher.submit(&g, &s, fx.alerts);
        }
        if significant {
            self.mark_dirty();
        }
    }

    /// Startup alerts for every service.
    pub(crate) fn startup_alerts(&mut self) {
        for i in 0..self.svcs.len() {
            let fx = self.decide(i, None, decide::startup);
            self.apply(i, fx);
        }
    }

    // === traps ===

    pub(crate) fn on_trap_timeout(&mut self, i: usize) {
        let Some(t) = self.conf(i).traptimeout else {
            return;
        };
        let now = Instant::now();
        let wall = self.clock.now_secs();
        if let Some(p) = &self.tables.global_exclude
            && in_period(p, wall, &self.tz)
        {
            // mon freezes trap timers during the global exclude_period: try again later.
            let g = self.svcs[i].gen_trap;
            self.timers
                .push(now + RECHECK, i, TimerKind::TrapTimeout, g);
            return;
        }
        let secs = t.as_secs();
        let stamp = ctime(wall, &self.tz);
        let out = format!("trap timeout\ntrap timeout after {secs}s at {stamp}\n");
        self.arm_trap(i, now);
        let fx = self.process(i, &ResultIn::trap_timeout(out), None);
        self.apply(i, fx);
    }

    pub(crate) fn on_trap_duration(&mut self, i: usize) {
        self.svcs[i].dur_at = None;
        decide::set_op_status(&mut self.svcs[i].st, OpStatus::OK);
        self.mark_dirty();
    }

    // === persistence ===

    pub(crate) fn saved_state(&self) -> SavedState {
        SavedState {
            format: crate::state::persist::FORMAT,
            saved_at: self.clock.now_secs(),
            stopped_since: self.stopped.map(|s| s.0),
            disabled_hosts: self.disabled_hosts.iter().cloned().collect(),
            disabled_watches: self.disabled_watches.iter().cloned().collect(),
            services: self
                .svcs
                .iter()
                .map(|s| SavedService {
                    group: s.group.to_string(),
                    service: s.name.to_string(),
                    periods: self.cfg.watches[s.w].services[s.s]
                        .periods
                        .iter()
                        .map(|p| p.label.clone())
                        .collect(),
                    state: s.st.clone(),
                })
                .collect(),
        }
    }

    pub(crate) fn persist(&mut self) {
        let Some(path) = self.state_file.clone() else {
            return;
        };
        let saved = self.saved_state();
        self.writer.replace_with(&path, move || {
            crate::state::persist::encode(&saved).unwrap_or_default()
        });
    }

    // === shutdown ===

    pub(crate) fn begin_shutdown(&mut self, grace: Duration, reply: oneshot::Sender<()>) {
        if self.shutdown.is_some() {
            return;
        }
        // Kill every running monitor and forget it: a run killed here is no result.
        for s in &mut self.svcs {
            if let Some(r) = s.run.take() {
                r.cancel.cancel();
            }
        }
        self.runs.clear();
        self.running = 0;
        self.timers.clear();
        self.shutdown = Some((Instant::now() + grace, reply));
    }

    pub(crate) async fn finish_shutdown_if_ready(&mut self) -> bool {
        let ready = match &self.shutdown {
            Some((deadline, _)) => self.alerts_in_flight == 0 || Instant::now() >= *deadline,
            None => false,
        };
        if !ready {
            return false;
        }
        if self.alerts_in_flight > 0 {
            logging::mon(
                Prio::Warning,
                &format!(
                    "shutting down with {} alert(s) still running",
                    self.alerts_in_flight
                ),
            );
        }
        self.persist_at = None;
        self.persist();
        self.writer.flush().await;
        if let Some((_, reply)) = self.shutdown.take() {
            let _ = reply.send(());
        }
        true
    }
}

/// Where alert `name` goes: a native action if monrs has one for it, else the alertdir
/// script.
pub(crate) fn resolve_alert(tables: &Tables, name: &str, args: &[String]) -> Option<AlertTarget> {
    let script = tables.alerts.get(name).map(|p| p.to_path_buf());
    if let Some(action) = crate::alerts::actions::select(name, args, script.as_deref()) {
        return Some(AlertTarget::Native {
            action: Arc::new(action),
            script,
        });
    }
    script.map(AlertTarget::Script)
}

/// `inPeriod(now, spec) != 0` in zone `tz`.
pub(crate) fn in_period(p: &crate::period::PeriodSpec, wall: i64, tz: &TimeZone) -> bool {
    match jiff::Timestamp::from_second(wall) {
        Ok(t) => p.eval(&t.to_zoned(tz.clone())).is_active(),
        Err(_) => true,
    }
}

/// Perl's scalar `localtime`: `Sun Nov 22 03:13:02 2026` (day padded with a space).
pub(crate) fn ctime(wall: i64, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_second(wall) {
        Ok(t) => t
            .to_zoned(tz.clone())
            .strftime("%a %b %e %H:%M:%S %Y")
            .to_string(),
        Err(_) => wall.to_string(),
    }
}
