//! `MemoryBackend`: a small in-memory stand-in for the engine, over a static config and
//! states. It is NOT the engine: it runs no monitors and no alerts and writes no state
//! files; it applies each `Op` to its snapshot the way mon's tables change, so the server
//! shell, the stock clients and `monrs cmd` can be exercised before the engine is wired in.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::watch;

use crate::auth::{AuthConfig, LoadMode};
use crate::config::Config;
use crate::server::Backend;
use crate::server::vars;
use crate::server::view::{Op, Outcome, Scheduler, ServiceView, Snapshot};
use crate::state::{OpStatus, ServiceState};

/// See the module documentation.
#[derive(Debug)]
pub struct MemoryBackend {
    snap: Mutex<Arc<Snapshot>>,
    auth: RwLock<Arc<AuthConfig>>,
    auth_file: Option<PathBuf>,
    /// A fixed clock for deterministic replies; the system clock when `SYSTEM_CLOCK`.
    clock: AtomicI64,
    test_config_error: Option<String>,
    term_tx: watch::Sender<bool>,
}

const SYSTEM_CLOCK: i64 = i64::MIN;

fn epoch_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl MemoryBackend {
    /// A daemon that just started with `config`: every service untested.
    pub fn new(config: Arc<Config>, auth: AuthConfig) -> Self {
        let (term_tx, _) = watch::channel(false);
        MemoryBackend {
            snap: Mutex::new(Arc::new(Snapshot::fresh(config, epoch_now()))),
            auth: RwLock::new(Arc::new(auth)),
            auth_file: None,
            clock: AtomicI64::new(SYSTEM_CLOCK),
            test_config_error: None,
            term_tx,
        }
    }

    /// `reload auth` rereads this file.
    pub fn with_auth_file(mut self, path: PathBuf) -> Self {
        self.auth_file = Some(path);
        self
    }

    /// Freeze the clock at `now`.
    pub fn with_clock(self, now: i64) -> Self {
        self.set_clock(now);
        self
    }

    /// Move the frozen clock to `now`.
    pub fn set_clock(&self, now: i64) {
        self.clock.store(now, Ordering::SeqCst);
        self.update(|s| s.now = now);
    }

    /// `test config` reports this error text.
    pub fn with_test_config_error(mut self, msg: impl Into<String>) -> Self {
        self.test_config_error = Some(msg.into());
        self
    }

    fn now(&self) -> i64 {
        match self.clock.load(Ordering::SeqCst) {
            SYSTEM_CLOCK => epoch_now(),
            t => t,
        }
    }

    /// Change the snapshot directly (tests set up states this way).
    pub fn update<R>(&self, f: impl FnOnce(&mut Snapshot) -> R) -> R {
        let mut g = self.snap.lock().unwrap_or_else(|e| e.into_inner());
        f(Arc::make_mut(&mut g))
    }

    /// Change the state of `group`/`service`; false when there is no such service.
    pub fn update_service(
        &self,
        group: &str,
        service: &str,
        f: impl FnOnce(&mut ServiceView),
    ) -> bool {
        self.update(|s| match index_of(s, group, service) {
            Some(i) => {
                f(&mut s.services[i]);
                true
            }
            None => false,
        })
    }

    /// Resolves once a client has sent an authorized `term`.
    pub async fn terminated(&self) {
        let mut rx = self.term_tx.subscribe();
        let _ = rx.wait_for(|t| *t).await;
    }

    fn apply_now(&self, op: Op) -> Outcome {
        let now = self.now();
        if let Op::ReloadAuth = op {
            return self.reload_auth();
        }
        if let Op::TestConfig = op {
            return match &self.test_config_error {
                Some(e) => Outcome::Failed(e.clone()),
                None => Outcome::Done,
            };
        }
        if let Op::Term = op {
            self.term_tx.send_replace(true);
            return Outcome::Done;
        }
        self.update(|s| apply(s, op, now))
    }

    fn reload_auth(&self) -> Outcome {
        let Some(path) = &self.auth_file else {
            return Outcome::Done;
        };
        match crate::auth::file::load(path, LoadMode::Reload) {
            Ok((table, skipped)) => {
                for s in skipped {
                    tracing::warn!("{}: {}", path.display(), s.message);
                }
                let mut g = self.auth.write().unwrap_or_else(|e| e.into_inner());
                let login = g.login.clone();
                *g = Arc::new(AuthConfig { table, login });
                Outcome::Done
            }
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

fn index_of(s: &Snapshot, group: &str, service: &str) -> Option<usize> {
    s.config
        .services()
        .position(|(w, sv)| w.name == group && sv.name == service)
}

/// Look up a service for an op: which error when it is missing.
fn locate(s: &Snapshot, group: &str, service: &str) -> Result<usize, Outcome> {
    if s.config.watch(group).is_none() {
        return Err(Outcome::UnknownGroup);
    }
    index_of(s, group, service).ok_or(Outcome::UnknownService)
}

fn state_mut(s: &mut Snapshot, i: usize) -> &mut ServiceState {
    Arc::make_mut(&mut s.services[i].state)
}

fn host_exists(s: &Snapshot, h: &str) -> bool {
    s.config
        .hostgroups
        .iter()
        .any(|g| g.hosts.iter().any(|x| x == h))
}

fn singleton_groups(s: &Snapshot, h: &str) -> Vec<String> {
    s.config
        .hostgroups
        .iter()
        .filter(|g| g.hosts.len() == 1 && g.hosts[0] == h)
        .map(|g| g.name.clone())
        .collect()
}

fn set_disabled(s: &mut Snapshot, group: &str, service: &str, disabled: bool) -> Outcome {
    match locate(s, group, service) {
        Ok(i) => {
            state_mut(s, i).disabled = disabled;
            Outcome::Done
        }
        Err(o) => o,
    }
}

fn apply(s: &mut Snapshot, op: Op, now: i64) -> Outcome {
    match op {
        Op::SetMaxkeep(n) => {
            s.maxkeep = n;
            Outcome::Done
        }
        Op::SetOpStatus {
            group,
            service,
            status,
        } => match locate(s, &group, &service) {
            Ok(i) => {
                let st = state_mut(s, i);
                st.last_op_status = st.op_status;
                st.op_status = status;
                Outcome::Done
            }
            Err(o) => o,
        },
        Op::SetVar {
            group,
            service,
            var,
            value,
        } => match locate(s, &group, &service) {
            Ok(i) => match vars::apply_set(state_mut(s, i), &var, &value) {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Failed(e),
            },
            Err(o) => o,
        },
        Op::Ack {
            group,
            service,
            comment,
        } => match locate(s, &group, &service) {
            Ok(i) => {
                let st = state_mut(s, i);
                if st.op_status == OpStatus::OK || st.op_status == OpStatus::UNTESTED {
                    return Outcome::NotFailing;
                }
                st.ack = now;
                st.ack_comment = comment;
                Outcome::Done
            }
            Err(o) => o,
        },
        Op::DisableWatch(w) | Op::EnableWatch(w) if s.config.watch(&w).is_none() => {
            Outcome::UnknownGroup
        }
        Op::DisableWatch(w) => {
            s.disabled_watches.insert(w);
            Outcome::Done
        }
        Op::EnableWatch(w) => {
            s.disabled_watches.remove(&w);
            Outcome::Done
        }
        Op::DisableService { group, service } => set_disabled(s, &group, &service, true),
        Op::EnableService { group, service } => set_disabled(s, &group, &service, false),
        Op::DisableHosts(hosts) => {
            let missing: Vec<String> = hosts
                .iter()
                .filter(|h| !host_exists(s, h))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Outcome::UnknownHosts(missing);
            }
            for h in hosts {
                for g in singleton_groups(s, &h) {
                    s.disabled_watches.insert(g);
                }
                let groups: Vec<String> = s
                    .config
                    .hostgroups
                    .iter()
                    .filter(|g| g.hosts.contains(&h))
                    .map(|g| g.name.clone())
                    .collect();
                for g in groups {
                    s.disabled_hosts.entry(g).or_default().insert(h.clone());
                }
            }
            Outcome::Done
        }
        Op::EnableHosts(hosts) => {
            for h in hosts {
                for g in singleton_groups(s, &h) {
                    s.disabled_watches.remove(&g);
                }
                for set in s.disabled_hosts.values_mut() {
                    set.remove(&h);
                }
            }
            s.disabled_hosts.retain(|_, v| !v.is_empty());
            Outcome::Done
        }
        Op::TestMonitor { group, service } => match locate(s, &group, &service) {
            Ok(i) => {
                s.services[i].timer = 0;
                Outcome::Done
            }
            Err(o) => o,
        },
        Op::TestAlert {
            group,
            service,
            period,
            ..
        } => match locate(s, &group, &service) {
            Ok(i) => {
                let has = s
                    .config
                    .services()
                    .nth(i)
                    .is_some_and(|(_, sv)| sv.periods.iter().any(|p| p.label == period));
                if has {
                    Outcome::Done
                } else {
                    Outcome::UnknownPeriod
                }
            }
            Err(o) => o,
        },
        Op::ClearTimers { group, service } => match locate(s, &group, &service) {
            Ok(_) => Outcome::Done,
            Err(_) => Outcome::UnknownGroup,
        },
        Op::Stop => {
            s.scheduler = Scheduler::Stopped { since: now };
            Outcome::Done
        }
        Op::Start => {
            s.scheduler = Scheduler::Running;
            Outcome::Done
        }
        Op::Reset { stopped, keepstate } => {
            if stopped {
                s.scheduler = Scheduler::Stopped { since: now };
            }
            if !keepstate {
                let fresh = Snapshot::fresh(s.config.clone(), now);
                s.services = fresh.services;
            }
            Outcome::Done
        }
        Op::LoadState(_) | Op::SaveState(_) => Outcome::Done,
        // Handled before the snapshot is locked.
        Op::ReloadAuth | Op::TestConfig | Op::Term => Outcome::Done,
    }
}

impl Backend for MemoryBackend {
    async fn snapshot(&self) -> Arc<Snapshot> {
        let now = self.now();
        let mut g = self.snap.lock().unwrap_or_else(|e| e.into_inner());
        if g.now != now {
            Arc::make_mut(&mut g).now = now;
        }
        g.clone()
    }

    async fn apply(&self, op: Op) -> Outcome {
        self.apply_now(op)
    }

    fn auth(&self) -> Arc<AuthConfig> {
        self.auth.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
