//! Running monitors: what happens when a service is due (overruns, holds, the maxprocs
//! queue), building the run (hosts, argv, environment, native or in-process checks) and
//! spawning it; results come back to `core` as events.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::api::Stats;
use super::core::{Core, Event, RECHECK, Running, in_period};
use super::deps::DepKind;
use super::table::MonitorKind;
use crate::config::Schedule;
use crate::logging::{self, Prio};
use crate::monitors::external::{self, ArgvPlan, ProcSpec};
use crate::monitors::{MonitorOutput, RunStatus};
use crate::schedule;
use crate::state::OpStatus;

impl Core {
    pub(crate) fn on_due(&mut self, i: usize, due: Instant) {
        let svc = &mut self.svcs[i];
        svc.due = None;
        if svc.run.is_some() || svc.held || svc.queued {
            // Still running (or already waiting): skip this slot, take the next one.
            if svc.run.is_some() {
                self.stats.skipped += 1;
                if !svc.overrun_logged {
                    svc.overrun_logged = true;
                    logging::mon(
                        Prio::Notice,
                        &format!(
                            "{}/{}: monitor still running at its next slot; skipping it",
                            svc.group, svc.name
                        ),
                    );
                }
            }
            let next = self.next_slot_after(i, due);
            self.set_due(i, next);
            return;
        }
        self.svcs[i].waiting_since = Some(due);
        self.try_start(i);
    }

    /// The slot after `due` on the service's cadence (used when a slot is skipped).
    pub(crate) fn next_slot_after(&mut self, i: usize, due: Instant) -> Option<Instant> {
        let cfg = self.cfg.clone();
        let svc_cfg = &cfg.watches[self.svcs[i].w].services[self.svcs[i].s];
        match (&svc_cfg.schedule, self.svcs[i].tab.cron.clone()) {
            (Schedule::Cron(_), Some(c)) => self.cron_next(&c, due),
            (Schedule::Interval(_), _) => {
                let iv = self.svcs[i].interval(svc_cfg)?;
                Some(schedule::skip_slot(
                    iv,
                    svc_cfg.randskew,
                    due,
                    &mut self.rng,
                ))
            }
            _ => None,
        }
    }

    /// Why a due run must wait (mon holds the timer at 0 and re-checks every tick).
    pub(crate) fn hold_reason(&mut self, i: usize, now_wall: i64) -> Option<&'static str> {
        if let Some(p) = &self.tables.global_exclude
            && in_period(p, now_wall, &self.tz)
        {
            return Some("global exclude_period");
        }
        if let Some(p) = &self.svcs[i].tab.exclude
            && in_period(p, now_wall, &self.tz)
        {
            return Some("exclude_period");
        }
        if self.svcs[i].tab.deps.m.is_some() {
            // An expression that cannot be evaluated does not hold the monitor (mon's
            // would never run it again).
            if let Some(Ok(false)) = self.eval_dep(i, DepKind::M) {
                return Some("depend");
            }
        }
        None
    }

    pub(crate) fn try_start(&mut self, i: usize) {
        let now_wall = self.clock.now_secs();
        if let Some(why) = self.hold_reason(i, now_wall) {
            let svc = &mut self.svcs[i];
            if !svc.held {
                svc.held = true;
                logging::mon(
                    Prio::Debug,
                    &format!("not running {},{} because of {why}", svc.group, svc.name),
                );
            }
            self.arm_recheck(i, Instant::now() + RECHECK);
            return;
        }
        self.svcs[i].held = false;
        if self.maxprocs != 0 && self.running >= self.maxprocs as usize {
            if !self.svcs[i].queued {
                self.svcs[i].queued = true;
                self.fifo.push_back(i);
                if !self.throttle_logged {
                    self.throttle_logged = true;
                    logging::mon(
                        Prio::Info,
                        &format!("throttled at {} processes", self.running),
                    );
                }
            }
            return;
        }
        self.start_run(i);
    }

    pub(crate) fn on_recheck(&mut self, i: usize) {
        if self.svcs[i].held && self.svcs[i].run.is_none() {
            self.try_start(i);
        }
    }

    /// Start queued services while there is room under maxprocs (FIFO: no starvation).
    pub(crate) fn drain_fifo(&mut self) {
        while self.maxprocs == 0 || self.running < self.maxprocs as usize {
            let Some(i) = self.fifo.pop_front() else {
                self.throttle_logged = false;
                return;
            };
            if i >= self.svcs.len() || !self.svcs[i].queued {
                continue;
            }
            self.svcs[i].queued = false;
            if self.svcs[i].run.is_none() {
                self.try_start(i);
            }
        }
    }

    /// Hosts passed to a monitor: the group's hosts minus disabled hosts, the service's
    /// `exclude_hosts` and hosts named by failing `hm` parents.
    pub(crate) fn run_hosts(&self, i: usize) -> Vec<String> {
        let svc = self.conf(i);
        let parents: Vec<&Bytes> = self.svcs[i]
            .tab
            .deps
            .h
            .iter()
            .flatten()
            .filter_map(|(g, s)| self.find(g, s))
            .filter(|&j| self.svcs[j].st.op_status == OpStatus::FAIL)
            .filter_map(|j| self.svcs[j].st.last_summary.as_ref())
            .collect();
        self.alert_hosts(&self.svcs[i].group)
            .into_iter()
            .filter(|h| !svc.exclude_hosts.contains(h))
            .filter(|h| !parents.iter().any(|sum| contains_bytes(sum, h.as_bytes())))
            .collect()
    }

    /// `-h` for alerts: the group's hosts minus disabled hosts.
    pub(crate) fn alert_hosts(&self, group: &str) -> Vec<String> {
        self.cfg
            .hostgroup(group)
            .map(|g| {
                g.hosts
                    .iter()
                    .filter(|h| !self.disabled_hosts.contains(*h))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn start_run(&mut self, i: usize) {
        let now = Instant::now();
        let due = self.svcs[i].waiting_since.take().unwrap_or(now);
        self.svcs[i].held = false;
        self.svcs[i].queued = false;
        // The next slot: fixed rate from the due time, or from now when this run is late.
        let cfg = self.cfg.clone();
        let svc_cfg = &cfg.watches[self.svcs[i].w].services[self.svcs[i].s];
        let next = match (&svc_cfg.schedule, self.svcs[i].tab.cron.clone()) {
            (Schedule::Cron(_), Some(c)) => self.cron_next(&c, now),
            (Schedule::Interval(_), _) => self.svcs[i]
                .interval(svc_cfg)
                .map(|iv| schedule::next_due(iv, svc_cfg.randskew, due, now, &mut self.rng)),
            _ => None,
        };
        let monitor = self.svcs[i].tab.monitor.clone();
        let group = self.svcs[i].group.clone();
        let name = self.svcs[i].name.clone();
        let job = match monitor {
            MonitorKind::None | MonitorKind::Missing => {
                if !self.svcs[i].missing_logged {
                    self.svcs[i].missing_logged = true;
                    let m = &self.svcs[i].tab.monitor_name;
                    logging::mon(
                        Prio::Err,
                        &format!("no monitor found while trying to run [{m}]"),
                    );
                }
                self.set_due(i, next);
                return;
            }
            MonitorKind::External { path, args } => {
                let hosts = self.run_hosts(i);
                match external::monitor_argv(
                    &path.display().to_string(),
                    &args,
                    hosts,
                    self.conf(i).allow_empty_group,
                ) {
                    ArgvPlan::NoHosts => {
                        logging::mon(
                            Prio::Err,
                            &format!(
                                "monitor for {group}/{name} not called because of no host arguments"
                            ),
                        );
                        // mon resets the countdown: the next try is one interval from now.
                        let iv = self.svcs[i].interval(self.conf(i));
                        let at = match &self.svcs[i].tab.cron {
                            Some(_) => next,
                            None => iv.map(|iv| now + iv),
                        };
                        self.set_due(i, at);
                        return;
                    }
                    ArgvPlan::Unbalanced => Job::Immediate(MonitorOutput {
                        status: RunStatus::SpawnFailed,
                        output: Bytes::new(),
                        duration: Duration::ZERO,
                    }),
                    ArgvPlan::Run { argv, .. } => Job::Process(ProcSpec {
                        argv: argv.into_iter().map(Into::into).collect(),
                        env: external::monitor_env(
                            &group,
                            self.conf(i),
                            &self.svcs[i].st,
                            &self.tables.base_env,
                        ),
                        stdin: None,
                        timeout: self.svcs[i].tab.timeout,
                        label: self.svcs[i].tab.monitor_name.clone(),
                    }),
                }
            }
            MonitorKind::Native(check) => {
                let hosts = self.run_hosts(i);
                if hosts.is_empty() && !self.conf(i).allow_empty_group {
                    logging::mon(
                        Prio::Err,
                        &format!(
                            "monitor for {group}/{name} not called because of no host arguments"
                        ),
                    );
                    let at = self.svcs[i].interval(self.conf(i)).map(|iv| now + iv);
                    self.set_due(i, at);
                    return;
                }
                Job::Native(check, hosts, self.svcs[i].tab.timeout)
            }
            MonitorKind::NativeError(text) => Job::Immediate(MonitorOutput {
                status: RunStatus::Exited(1),
                output: Bytes::from(text),
                duration: Duration::ZERO,
            }),
            MonitorKind::Noop => match self.hooks.monitor.clone() {
                Some(f) => Job::InProc(f(&group, &name)),
                None => Job::Immediate(MonitorOutput::new(0, Bytes::new(), Duration::ZERO)),
            },
        };
        // Lateness of this start against its due time.
        let late = now.saturating_duration_since(due);
        let b = (late.as_micros() / Stats::BUCKET.as_micros()) as usize;
        self.stats.lateness[b.min(Stats::BUCKETS - 1)] += 1;
        self.stats.runs += 1;
        let id = self.next_run_id;
        self.next_run_id += 1;
        let cancel = CancellationToken::new();
        let wall = self.clock.now_secs();
        let svc = &mut self.svcs[i];
        svc.st.last_check = Some(wall);
        svc.overrun_logged = false;
        svc.run = Some(Running {
            id,
            pid: None,
            cancel: cancel.clone(),
        });
        self.runs.insert(id, i);
        self.running += 1;
        self.set_due(i, next);
        spawn_job(id, job, cancel, self.events.clone());
    }
}

/// What a run does.
enum Job {
    Process(ProcSpec),
    Native(
        Arc<crate::monitors::native::NativeCheck>,
        Vec<String>,
        Duration,
    ),
    /// A result known without running anything (unbalanced quotes, bad native options).
    Immediate(MonitorOutput),
    /// The in-process hook (benchmarks, paused-clock tests).
    InProc(std::pin::Pin<Box<dyn std::future::Future<Output = (i32, Bytes)> + Send>>),
}

fn spawn_job(id: u64, job: Job, cancel: CancellationToken, tx: mpsc::UnboundedSender<Event>) {
    match job {
        Job::Immediate(out) => {
            let _ = tx.send(Event::Done {
                id,
                out,
                error: None,
            });
        }
        Job::InProc(fut) => {
            tokio::spawn(async move {
                let out = tokio::select! {
                    (exit, output) = fut => MonitorOutput::new(exit, output, Duration::ZERO),
                    () = cancel.cancelled() => MonitorOutput {
                        status: RunStatus::Signaled(9),
                        output: Bytes::new(),
                        duration: Duration::ZERO,
                    },
                };
                let _ = tx.send(Event::Done {
                    id,
                    out,
                    error: None,
                });
            });
        }
        Job::Process(spec) => {
            tokio::spawn(async move {
                let (pid_tx, pid_rx) = oneshot::channel();
                let fwd_tx = tx.clone();
                let fwd = async move {
                    if let Ok(pid) = pid_rx.await {
                        let _ = fwd_tx.send(Event::Pid { id, pid });
                    }
                };
                let ((out, error), ()) =
                    tokio::join!(external::run_monitor(spec, Some(pid_tx), Some(cancel)), fwd);
                let _ = tx.send(Event::Done { id, out, error });
            });
        }
        Job::Native(check, hosts, timeout) => {
            tokio::spawn(async move {
                let started = Instant::now();
                let out = tokio::select! {
                    r = tokio::time::timeout(timeout, check.run(&hosts, timeout)) => match r {
                        Ok(o) => o,
                        Err(_) => MonitorOutput {
                            status: RunStatus::TimedOut,
                            output: Bytes::from(external::timeout_line("native check", timeout)),
                            duration: started.elapsed(),
                        },
                    },
                    () = cancel.cancelled() => MonitorOutput {
                        status: RunStatus::Signaled(9),
                        output: Bytes::new(),
                        duration: started.elapsed(),
                    },
                };
                let _ = tx.send(Event::Done {
                    id,
                    out,
                    error: None,
                });
            });
        }
    }
}

fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}
