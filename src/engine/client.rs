//! Client operations on the engine (protocol.md §4): disable/enable, ack, test, set/get,
//! clear timers, stop/start, traps, mon's saved state, and the dispatch of every `Op`.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::api::{Changes, EngineError, MonState, Op, Pids, Target, TrapResult};
use super::core::Core;
use crate::alerts::AlertKind;
use crate::alerts::decide::{self, AckError, ResultIn, perl_num};
use crate::logging::{self, Prio};
use crate::schedule::TimerKind;

impl Core {
    pub(crate) fn on_op(&mut self, op: Op) {
        match op {
            Op::Snapshot(r) => {
                let _ = r.send(Arc::new(self.snapshot()));
            }
            Op::Disable(t, user, r) => {
                let _ = r.send(self.disable(t, &user));
            }
            Op::Enable(t, r) => {
                let _ = r.send(self.enable(t));
            }
            Op::Ack {
                group,
                service,
                comment,
                reply,
            } => {
                let _ = reply.send(self.ack(&group, &service, &comment));
            }
            Op::TestMonitor(g, s, r) => {
                let _ = r.send(self.test_monitor(&g, &s));
            }
            Op::TestAlert {
                list,
                group,
                service,
                retval,
                period,
                reply,
            } => {
                let _ = reply.send(self.test_alert(list, &group, &service, &retval, &period));
            }
            Op::TestConfig(r) => match self.loader.clone() {
                Some(load) => {
                    tokio::task::spawn_blocking(move || {
                        let _ = r.send(load().map(|_| ()));
                    });
                }
                None => {
                    let _ = r.send(Err("no configuration file to test".to_string()));
                }
            },
            Op::Reset(req, r) => self.begin_reload(req, r),
            Op::Stop(r) => {
                self.stop_scheduler();
                let _ = r.send(());
            }
            Op::Start(r) => {
                self.start_scheduler();
                let _ = r.send(());
            }
            Op::SetVar {
                group,
                service,
                var,
                value,
                reply,
            } => {
                let r = self
                    .lookup(&group, &service)
                    .and_then(|i| self.set_var(i, &var, &value).map_err(EngineError::Invalid));
                let _ = reply.send(r);
            }
            Op::SetOpStatus(g, s, status, r) => {
                let res = self.lookup(&g, &s).map(|i| {
                    decide::set_op_status(&mut self.svcs[i].st, status);
                    self.mark_dirty();
                });
                let _ = r.send(res);
            }
            Op::SetMaxkeep(n, r) => {
                self.history.set_maxkeep(n);
                let _ = r.send(());
            }
            Op::ClearTimers(g, s, r) => {
                let res = self.lookup(&g, &s).map(|i| self.clear_timers(i));
                let _ = r.send(res);
            }
            Op::Trap(t, r) => {
                let _ = r.send(self.trap(t));
            }
            Op::Pids(r) => {
                let pids = self
                    .svcs
                    .iter()
                    .filter_map(|s| {
                        let pid = s.run.as_ref()?.pid?;
                        Some((s.group.to_string(), s.name.to_string(), pid))
                    })
                    .collect();
                let _ = r.send(Pids {
                    server: self.pid,
                    running: pids,
                });
            }
            Op::LoadMonState(state, r) => {
                let _ = r.send(self.load_mon_state(state));
            }
            Op::Stats(r) => {
                let mut s = self.stats.clone();
                s.running = self.running;
                s.services = self.svcs.len();
                let _ = r.send(s);
            }
            Op::Shutdown(grace, r) => self.begin_shutdown(grace, r),
        }
    }

    /// The service, or mon's complaint about the group or the service.
    pub(crate) fn lookup(&self, group: &str, service: &str) -> Result<usize, EngineError> {
        match self.index.get(group) {
            None => Err(EngineError::UnknownGroup(group.to_string())),
            Some(m) => m
                .get(service)
                .copied()
                .ok_or_else(|| EngineError::UnknownService(group.to_string(), service.to_string())),
        }
    }

    fn host_exists(&self, h: &str) -> bool {
        self.cfg
            .hostgroups
            .iter()
            .any(|g| g.hosts.iter().any(|x| x == h))
    }

    /// Hostgroups made of `h` alone (their watch follows the host).
    fn singleton_groups(&self, h: &str) -> Vec<String> {
        self.cfg
            .hostgroups
            .iter()
            .filter(|g| g.hosts.len() == 1 && g.hosts[0] == h)
            .map(|g| g.name.clone())
            .collect()
    }

    fn disable(&mut self, t: Target, user: &str) -> Result<Changes, EngineError> {
        let mut c = Changes::default();
        match t {
            Target::Watch(g) => {
                if self.cfg.watch(&g).is_none() {
                    return Err(EngineError::UnknownWatch(g));
                }
                self.disabled_watches.insert(g.clone());
                c.actions.push(format!("disable watch {g}"));
            }
            Target::Service(g, s) => {
                let i = self
                    .find(&g, &s)
                    .ok_or_else(|| EngineError::UnknownService(g.clone(), s.clone()))?;
                self.svcs[i].st.disabled = true;
                c.actions.push(format!("disable service {g} {s}"));
                // mon runs the disable alerts after marking the service disabled, so only
                // `redistribute` can fire.
                let fx = self.decide(i, None, |ctx, st| decide::disable(ctx, st, user));
                self.apply(i, fx);
            }
            Target::Hosts(hosts) => {
                let missing: Vec<String> = hosts
                    .iter()
                    .filter(|h| !self.host_exists(h))
                    .cloned()
                    .collect();
                if !missing.is_empty() {
                    return Err(EngineError::UnknownHosts(missing));
                }
                for h in hosts {
                    for g in self.singleton_groups(&h) {
                        if self.cfg.watch(&g).is_some() {
                            self.disabled_watches.insert(g.clone());
                        }
                        c.actions.push(format!("disable watch {g}"));
                    }
                    self.disabled_hosts.insert(h.clone());
                    c.actions.push(format!("disable host {h}"));
                }
            }
        }
        self.mark_dirty();
        Ok(c)
    }

    fn enable(&mut self, t: Target) -> Result<Changes, EngineError> {
        let mut c = Changes::default();
        match t {
            Target::Watch(g) => {
                if self.cfg.watch(&g).is_none() {
                    return Err(EngineError::UnknownWatch(g));
                }
                self.disabled_watches.remove(&g);
                c.actions.push(format!("enable watch {g}"));
            }
            Target::Service(g, s) => {
                let i = self
                    .find(&g, &s)
                    .ok_or_else(|| EngineError::UnknownService(g.clone(), s.clone()))?;
                self.svcs[i].st.disabled = false;
                c.actions.push(format!("enable service {g} {s}"));
            }
            Target::Hosts(hosts) => {
                for h in hosts {
                    for g in self.singleton_groups(&h) {
                        self.disabled_watches.remove(&g);
                        c.actions.push(format!("enable watch {g}"));
                    }
                    self.disabled_hosts.remove(&h);
                    c.actions.push(format!("enable host {h}"));
                }
            }
        }
        self.mark_dirty();
        Ok(c)
    }

    fn ack(&mut self, g: &str, s: &str, comment: &str) -> Result<(), EngineError> {
        let i = self.lookup(g, s)?;
        let fx = self
            .decide(i, None, |ctx, st| decide::ack(ctx, st, comment))
            .map_err(|e| match e {
                AckError::NotFailing => EngineError::NotFailing,
            })?;
        self.apply(i, fx);
        self.mark_dirty();
        Ok(())
    }

    fn test_monitor(&mut self, g: &str, s: &str) -> Result<(), EngineError> {
        let i = self.lookup(g, s)?;
        let now = Instant::now();
        let svc = &mut self.svcs[i];
        if svc.run.is_some() {
            svc.run_again = true;
        } else if svc.held || svc.queued {
            // Already waiting to run.
        } else if self.stopped.is_some() {
            // Runs as soon as the scheduler starts again (mon leaves its timer at 0).
            self.set_due(i, Some(now));
        } else {
            // mon also clears the fixed-rate anchor: the cadence restarts from this run.
            self.set_due(i, None);
            self.svcs[i].waiting_since = Some(now);
            self.try_start(i);
        }
        Ok(())
    }

    fn test_alert(
        &mut self,
        list: AlertKind,
        g: &str,
        s: &str,
        retval: &str,
        period: &str,
    ) -> Result<(), EngineError> {
        let i = self.lookup(g, s)?;
        let pi = self
            .conf(i)
            .periods
            .iter()
            .position(|p| p.label == period)
            .ok_or(EngineError::UnknownPeriod)?;
        let fx = self.decide(i, None, |ctx, st| {
            decide::test_alert(ctx, st, list, retval, pi)
        });
        for n in &fx.notes {
            logging::note(n);
        }
        if let Some(sink) = &self.hooks.alerts {
            for a in &fx.alerts {
                sink(&a.call);
            }
            return Ok(());
        }
        self.alerts_in_flight += fx.alerts.len();
        self.dispatcher.submit_unordered(fx.alerts);
        Ok(())
    }

    pub(crate) fn stop_scheduler(&mut self) {
        let wall = self.clock.now_secs();
        self.stopped = Some(match self.stopped {
            // The time shown is that of the latest `stop`; timers froze at the first.
            Some((_, at)) => (wall, at),
            None => (wall, Instant::now()),
        });
        self.mark_dirty();
    }

    pub(crate) fn start_scheduler(&mut self) {
        let Some((_, at)) = self.stopped.take() else {
            return;
        };
        // Every countdown resumes where it froze.
        let delta = Instant::now().saturating_duration_since(at);
        for t in self.timers.drain() {
            self.timers.push(t.at + delta, t.svc, t.kind, t.generation);
        }
        for s in &mut self.svcs {
            s.due = s.due.map(|d| d + delta);
            s.trap_at = s.trap_at.map(|d| d + delta);
            s.dur_at = s.dur_at.map(|d| d + delta);
        }
        self.mark_dirty();
    }

    fn clear_timers(&mut self, i: usize) {
        let now = Instant::now();
        let cfg = self.cfg.clone();
        let svc_cfg = &cfg.watches[self.svcs[i].w].services[self.svcs[i].s];
        if svc_cfg.traptimeout.is_some() {
            self.rearm(
                i,
                TimerKind::TrapTimeout,
                svc_cfg.traptimeout.map(|t| now + t),
            );
        }
        if svc_cfg.trapduration.is_some() {
            self.rearm(
                i,
                TimerKind::TrapDuration,
                svc_cfg.trapduration.map(|t| now + t),
            );
        }
        if self.svcs[i].tab.cron.is_none()
            && let Some(iv) = self.svcs[i].interval(svc_cfg)
            && self.svcs[i].run.is_none()
            && !self.svcs[i].held
            && !self.svcs[i].queued
        {
            self.set_due(i, Some(now + iv));
        }
        let st = &mut self.svcs[i].st;
        st.consec_failures = 0;
        for (p, ps) in svc_cfg.periods.iter().zip(st.periods.iter_mut()) {
            if p.alertevery.is_some() {
                ps.last_alert = 0;
            }
            if p.alertafter_time.is_some() {
                ps.first_fail_time = 0;
            }
        }
        self.mark_dirty();
    }

    /// Arm (or disarm) a trap timer of service `i`.
    pub(crate) fn rearm(&mut self, i: usize, kind: TimerKind, at: Option<Instant>) {
        let svc = &mut self.svcs[i];
        let g = match kind {
            TimerKind::TrapTimeout => {
                svc.gen_trap += 1;
                svc.trap_at = at;
                svc.gen_trap
            }
            TimerKind::TrapDuration => {
                svc.gen_dur += 1;
                svc.dur_at = at;
                svc.gen_dur
            }
            TimerKind::Due | TimerKind::Recheck => return,
        };
        if let Some(at) = at {
            self.timers.push(at, i, kind, g);
        }
    }

    fn trap(&mut self, t: TrapResult) -> Result<(), EngineError> {
        let i = self.lookup(&t.group, &t.service)?;
        let now = Instant::now();
        let cfg = self.cfg.clone();
        let svc_cfg = &cfg.watches[self.svcs[i].w].services[self.svcs[i].s];
        if let Some(tt) = svc_cfg.traptimeout {
            self.rearm(i, TimerKind::TrapTimeout, Some(now + tt));
        }
        self.svcs[i].st.last_trap = self.clock.now_secs();
        if let Some(d) = svc_cfg.trapduration {
            self.rearm(i, TimerKind::TrapDuration, Some(now + d));
        }
        let r = ResultIn::trap(&t.sta, t.output.clone());
        let fx = self.process(i, &r, t.intended.as_deref());
        self.apply(i, fx);
        Ok(())
    }

    pub(crate) fn load_mon_state(&mut self, state: MonState) -> Vec<String> {
        let mut msgs = Vec::new();
        for t in state.disabled {
            match t {
                Target::Hosts(hosts) => {
                    for h in hosts {
                        if self.host_exists(&h) {
                            self.disabled_hosts.insert(h);
                        }
                    }
                }
                Target::Watch(g) => {
                    if self.cfg.watch(&g).is_some() {
                        self.disabled_watches.insert(g);
                    } else {
                        msgs.push(format!(
                            "undefined watch reading state file: disable watch {g}"
                        ));
                    }
                }
                Target::Service(g, s) => match self.find(&g, &s) {
                    Some(i) => self.svcs[i].st.disabled = true,
                    None => msgs.push(format!(
                        "undefined group or service reading state file: disable service {g} {s}"
                    )),
                },
            }
        }
        for rec in state.opstatus {
            let Some(i) = self.find(&rec.group, &rec.service) else {
                continue;
            };
            for (name, value) in rec.fields {
                match name.rsplit_once(':') {
                    Some((label, var)) => {
                        let Some(pi) = self.conf(i).periods.iter().position(|p| p.label == label)
                        else {
                            continue;
                        };
                        if let Some(ps) = self.svcs[i].st.periods.get_mut(pi) {
                            let v = perl_num(&value);
                            match var {
                                "last_alert" => ps.last_alert = v,
                                "alert_sent" => ps.alert_sent = u32::try_from(v).unwrap_or(0),
                                "1stfailtime" => ps.first_fail_time = v,
                                "failcount" => ps.fail_count = u32::try_from(v).unwrap_or(0),
                                _ => {}
                            }
                        }
                    }
                    None => {
                        // mon copies each field as it is; values that do not parse are
                        // left out rather than stored wrong.
                        let _ = self.set_var(i, &format!("_{name}"), &value);
                    }
                }
            }
        }
        for m in &msgs {
            logging::mon(Prio::Err, m);
        }
        self.mark_dirty();
        msgs
    }

    /// `set G S VAR VALUE`: the protocol's `vars::apply_set` (mon's internal names update
    /// the typed fields, any other name is stored as a variable); `interval` also changes
    /// the schedule from the next run on.
    pub(crate) fn set_var(&mut self, i: usize, var: &str, value: &str) -> Result<(), String> {
        crate::server::vars::apply_set(&mut self.svcs[i].st, var, value)?;
        if var == "interval" {
            self.svcs[i].interval_override = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| *v > 0.0)
                .and_then(|v| Duration::try_from_secs_f64(v).ok());
        }
        self.mark_dirty();
        Ok(())
    }
}
