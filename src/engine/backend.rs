//! The engine behind the protocol server and the trap listener: `server::Backend`
//! (snapshots in the protocol's shape, every client change as an engine operation, the
//! auth tables) and `trap::TrapContext`, plus what mon does around those changes: rewriting
//! `STATEDIR/disabled`, `savestate`/`loadstate`, running `monremote`, `term`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::api::{EngineError, EngineHandle, Reset, Target, TrapResult};
use super::monstate;
use crate::auth::{AuthConfig, LoadMode};
use crate::config::Config;
use crate::logging::{Prio, mon};
use crate::server::view::{self, Op, Outcome, RunningMonitor, Scheduler};

/// The engine as the protocol server and the trap listener see it.
pub struct EngineBackend {
    handle: EngineHandle,
    auth: RwLock<Arc<AuthConfig>>,
    auth_file: PathBuf,
    /// Ends the daemon (`term`).
    exit: mpsc::UnboundedSender<u8>,
    hostname: String,
}

impl EngineBackend {
    pub fn new(
        handle: EngineHandle,
        auth: AuthConfig,
        auth_file: PathBuf,
        exit: mpsc::UnboundedSender<u8>,
    ) -> Self {
        EngineBackend {
            handle,
            auth: RwLock::new(Arc::new(auth)),
            auth_file,
            exit,
            hostname: view::hostname(),
        }
    }

    /// The protocol's snapshot, built from the engine's.
    pub async fn protocol_snapshot(&self) -> Option<view::Snapshot> {
        let s = self.handle.snapshot().await.ok()?;
        let s = Arc::unwrap_or_clone(s);
        let mut disabled_hosts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for g in &s.config.hostgroups {
            for h in g.hosts.iter().filter(|h| s.disabled_hosts.contains(*h)) {
                disabled_hosts
                    .entry(g.name.clone())
                    .or_default()
                    .insert(h.clone());
            }
        }
        let pids = s
            .services
            .iter()
            .filter_map(|v| {
                Some(RunningMonitor {
                    group: v.group.to_string(),
                    service: v.service.to_string(),
                    pid: v.pid?,
                })
            })
            .collect();
        let to_bytes =
            |v: Vec<String>| -> Arc<[Bytes]> { v.into_iter().map(Bytes::from).collect() };
        Some(view::Snapshot {
            config: s.config.clone(),
            services: s
                .services
                .into_iter()
                .map(|v| view::ServiceView {
                    state: Arc::new(v.state),
                    timer: v.timer,
                    running: v.running,
                })
                .collect(),
            disabled_watches: s.disabled_watches,
            disabled_hosts,
            scheduler: match s.stopped_since {
                Some(since) => Scheduler::Stopped { since },
                None => Scheduler::Running,
            },
            alerthist: to_bytes(s.alert_history),
            failurehist: to_bytes(s.failure_history),
            pids,
            maxkeep: s.maxkeep,
            dtlog: s.dtlogging.then(|| s.paths.dtlogfile.clone()),
            server_pid: s.pid,
            hostname: self.hostname.clone(),
            now: s.time,
        })
    }

    /// Rewrite `STATEDIR/disabled` (mon does it after every disable/enable that worked),
    /// and with `opstatus` also `STATEDIR/opstatus`.
    async fn save_state(&self, disabled: bool, opstatus: bool) {
        let Ok(snap) = self.handle.snapshot().await else {
            return;
        };
        let dir = snap.paths.statedir.clone();
        let files: Vec<(PathBuf, String, &str)> = [
            disabled.then(|| {
                (
                    dir.join("disabled"),
                    monstate::disabled_text(&snap),
                    "state file",
                )
            }),
            opstatus.then(|| {
                (
                    dir.join("opstatus"),
                    monstate::opstatus_text(&snap),
                    "opstatus state file",
                )
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        let _ = tokio::task::spawn_blocking(move || {
            for (path, text, what) in files {
                if let Err(e) = std::fs::write(&path, text) {
                    mon(Prio::Err, &format!("could not write to {what}: {e}"));
                }
            }
        })
        .await;
    }

    async fn load_state(&self, types: &[String]) {
        let Ok(snap) = self.handle.snapshot().await else {
            return;
        };
        for t in types {
            if !matches!(t.as_str(), "disabled" | "opstatus" | "all") {
                continue;
            }
            let dir = snap.paths.statedir.clone();
            let what = t.clone();
            let Ok(state) = tokio::task::spawn_blocking(move || monstate::read(&dir, &what)).await
            else {
                continue;
            };
            let _ = self.handle.load_mon_state(state).await;
            mon(Prio::Info, &format!("state '{t}' loaded"));
        }
    }

    /// Run `monremote ARGS` through the shell, not waited for (mon's `mysystem`).
    fn monremote(&self, actions: &[String]) {
        let Some(prog) = self.handle.config().globals.monremote.clone() else {
            return;
        };
        for a in actions {
            let cmd = format!("{prog} {a}");
            match tokio::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(&cmd)
                .stdin(std::process::Stdio::null())
                .spawn()
            {
                Ok(mut child) => {
                    tokio::spawn(async move {
                        let _ = child.wait().await;
                    });
                }
                Err(e) => mon(Prio::Err, &format!("could not run monremote: {e}")),
            }
        }
    }

    fn reload_auth(&self) -> Outcome {
        match crate::auth::file::load(&self.auth_file, LoadMode::Reload) {
            Ok((table, skipped)) => {
                for s in skipped {
                    mon(
                        Prio::Warning,
                        &format!("{}: {}", self.auth_file.display(), s.message),
                    );
                }
                let mut g = self.auth.write().unwrap_or_else(|e| e.into_inner());
                let login = g.login.clone();
                *g = Arc::new(AuthConfig { table, login });
                Outcome::Done
            }
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }

    async fn changed(&self, r: Result<super::Changes, EngineError>) -> Outcome {
        match r {
            Ok(c) => {
                self.save_state(true, false).await;
                self.monremote(&c.actions);
                Outcome::Done
            }
            Err(e) => outcome(e),
        }
    }

    /// Apply one protocol operation.
    pub async fn apply_op(&self, op: Op) -> Outcome {
        let h = &self.handle;
        let done = |r: Result<(), EngineError>| r.map_or_else(outcome, |()| Outcome::Done);
        match op {
            Op::SetMaxkeep(n) => done(h.set_maxkeep(n).await),
            Op::SetOpStatus {
                group,
                service,
                status,
            } => done(h.set_opstatus(&group, &service, status).await),
            Op::SetVar {
                group,
                service,
                var,
                value,
            } => done(h.set_var(&group, &service, &var, &value).await),
            Op::Ack {
                group,
                service,
                comment,
            } => done(h.ack(&group, &service, &comment).await),
            Op::DisableWatch(g) => self.changed(h.disable(Target::Watch(g), "").await).await,
            Op::EnableWatch(g) => self.changed(h.enable(Target::Watch(g)).await).await,
            Op::DisableService { group, service } => {
                self.changed(h.disable(Target::Service(group, service), "").await)
                    .await
            }
            Op::EnableService { group, service } => {
                self.changed(h.enable(Target::Service(group, service)).await)
                    .await
            }
            Op::DisableHosts(hosts) => {
                self.changed(h.disable(Target::Hosts(hosts), "").await)
                    .await
            }
            Op::EnableHosts(hosts) => self.changed(h.enable(Target::Hosts(hosts)).await).await,
            Op::TestMonitor { group, service } => match h.test_monitor(&group, &service).await {
                Ok(()) => {
                    self.monremote(&[format!("test {group} {service}")]);
                    Outcome::Done
                }
                Err(e) => outcome(e),
            },
            Op::TestAlert {
                kind,
                group,
                service,
                retval,
                period,
            } => done(h.test_alert(kind, &group, &service, &retval, &period).await),
            Op::TestConfig => done(h.test_config().await),
            Op::ClearTimers { group, service } => done(h.clear_timers(&group, &service).await),
            Op::Stop => done(h.stop().await),
            Op::Start => done(h.start().await),
            Op::Reset { stopped, keepstate } => {
                if keepstate {
                    // mon saves both state files before a `reset keepstate`.
                    self.save_state(true, true).await;
                }
                done(h.reset(Reset { stopped, keepstate }).await)
            }
            Op::ReloadAuth => self.reload_auth(),
            Op::LoadState(types) => {
                self.load_state(&types).await;
                Outcome::Done
            }
            Op::SaveState(types) => {
                let all = types.iter().any(|t| t == "all");
                self.save_state(
                    all || types.iter().any(|t| t == "disabled"),
                    all || types.iter().any(|t| t == "opstatus"),
                )
                .await;
                Outcome::Done
            }
            Op::Term => {
                let _ = self.exit.send(0);
                Outcome::Done
            }
        }
    }
}

/// The protocol's outcome for an engine refusal.
fn outcome(e: EngineError) -> Outcome {
    match e {
        EngineError::UnknownGroup(_) | EngineError::UnknownWatch(_) => Outcome::UnknownGroup,
        EngineError::UnknownService(..) => Outcome::UnknownService,
        EngineError::UnknownHosts(h) => Outcome::UnknownHosts(h),
        EngineError::UnknownPeriod => Outcome::UnknownPeriod,
        EngineError::NotFailing => Outcome::NotFailing,
        EngineError::Config(t) | EngineError::Invalid(t) => Outcome::Failed(t),
        EngineError::Gone => Outcome::Failed("the engine has stopped".to_string()),
    }
}

impl crate::server::Backend for EngineBackend {
    async fn snapshot(&self) -> Arc<view::Snapshot> {
        match self.protocol_snapshot().await {
            Some(s) => Arc::new(s),
            None => Arc::new(view::Snapshot::fresh(self.handle.config(), 0)),
        }
    }

    async fn apply(&self, op: Op) -> Outcome {
        self.apply_op(op).await
    }

    fn auth(&self) -> Arc<AuthConfig> {
        self.auth.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl crate::trap::TrapContext for EngineBackend {
    fn auth(&self) -> Arc<AuthConfig> {
        self.auth.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn config(&self) -> Arc<Config> {
        self.handle.config()
    }
}

/// Feed accepted traps from the listener to the engine until the channel closes.
pub async fn feed_traps(handle: EngineHandle, mut rx: mpsc::Receiver<crate::trap::Trap>) {
    while let Some(t) = rx.recv().await {
        let r = handle
            .trap(TrapResult {
                group: t.group,
                service: t.service,
                sta: t.sta,
                output: t.output,
                intended: t.intended,
            })
            .await;
        if let Err(EngineError::Gone) = r {
            return;
        }
    }
}
