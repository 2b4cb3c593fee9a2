//! `reset [stopped] [keepstate]` and SIGHUP: load the new configuration off the engine task,
//! keep the old one on error, otherwise swap it in.
//!
//! With `keepstate` (SIGHUP) a service that still exists under the same group and service
//! name keeps its whole runtime state (periods matched by label), its schedule if its
//! schedule settings did not change, and its running monitor if the monitor line did not
//! change. mon instead kills every running monitor and restarts every countdown. A plain
//! `reset` does what mon does: fresh state, all monitors killed, all timers restarted.

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::Setup;
use super::api::{EngineError, Reset};
use super::core::{Core, Event};
use crate::history::dtlog_header;
use crate::logging::{self, Prio};
use crate::schedule::TimerKind;
use crate::state::persist::remap_periods;

impl Core {
    pub(crate) fn begin_reload(
        &mut self,
        req: Reset,
        reply: oneshot::Sender<Result<(), EngineError>>,
    ) {
        if req.stopped {
            // mon stops the scheduler before it even reads the file.
            self.stop_scheduler();
        }
        let Some(load) = self.loader.clone() else {
            let _ = reply.send(Err(EngineError::Config(
                "no configuration file to reload".to_string(),
            )));
            return;
        };
        logging::mon(
            Prio::Info,
            &format!(
                "resetting, and re-reading configuration {}",
                self.cfg.source.display()
            ),
        );
        self.reload_busy = true;
        let tx = self.events.clone();
        tokio::task::spawn_blocking(move || {
            let result = load();
            let _ = tx.send(Event::Reloaded {
                req,
                result: Box::new(result),
                reply,
            });
        });
    }

    pub(crate) fn apply_reload(
        &mut self,
        req: Reset,
        result: Result<Setup, String>,
    ) -> Result<(), EngineError> {
        let setup = match result {
            Ok(s) => s,
            Err(e) => {
                logging::mon(Prio::Err, &format!("error reading config file: {e}"));
                return Err(EngineError::Config(e));
            }
        };
        let now = Instant::now();
        let old_cfg = self.cfg.clone();
        let mut old: std::collections::HashMap<(String, String), super::core::Svc> = self
            .svcs
            .drain(..)
            .map(|s| ((s.group.to_string(), s.name.to_string()), s))
            .collect();
        self.cfg = setup.config.clone();
        self.config_tx.send_replace(self.cfg.clone());
        self.paths = setup.paths.clone();
        self.history.set_maxkeep(setup.maxkeep);
        self.maxprocs = setup.maxprocs;
        self.randstart = setup.randstart;
        if let Some(lines) = setup.historic {
            self.history.replace_alerts(lines);
        }
        let (tables, notes) =
            super::table::tables(&self.cfg, &self.paths, self.hooks.monitor.is_some());
        for n in &notes {
            logging::note(n);
        }
        self.tables = tables;
        self.svcs = self.build_services(&mut Vec::new());
        self.rebuild_index();
        self.timers.clear();
        self.fifo.clear();
        self.runs.clear();
        self.running = 0;
        let mut keep_due = vec![false; self.svcs.len()];
        for (j, keep) in keep_due.iter_mut().enumerate() {
            let key = (
                self.svcs[j].group.to_string(),
                self.svcs[j].name.to_string(),
            );
            let Some(mut o) = old.remove(&key) else {
                continue;
            };
            let new_cfg = &self.cfg.watches[self.svcs[j].w].services[self.svcs[j].s];
            let old_cfg_svc = &old_cfg.watches[o.w].services[o.s];
            let same_monitor = new_cfg.monitor == old_cfg_svc.monitor;
            let same_schedule = new_cfg.schedule == old_cfg_svc.schedule
                && new_cfg.randskew == old_cfg_svc.randskew
                && new_cfg.failure_interval == old_cfg_svc.failure_interval;
            if req.keepstate {
                let old_labels: Vec<&str> = old_cfg_svc
                    .periods
                    .iter()
                    .map(|p| p.label.as_str())
                    .collect();
                let new_labels: Vec<&str> =
                    new_cfg.periods.iter().map(|p| p.label.as_str()).collect();
                self.svcs[j].st = remap_periods(&o.st, &old_labels, &new_labels);
                self.svcs[j].interval_override = o.interval_override;
            }
            match o.run.take() {
                Some(r) if req.keepstate && same_monitor => {
                    self.runs.insert(r.id, j);
                    self.running += 1;
                    self.svcs[j].run = Some(r);
                    self.svcs[j].run_again = o.run_again;
                }
                Some(r) => {
                    r.cancel.cancel();
                    logging::mon(
                        Prio::Info,
                        &format!(
                            "reset killed the monitor of {}/{}{}",
                            o.group,
                            o.name,
                            r.pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
                        ),
                    );
                }
                None => {}
            }
            if req.keepstate && same_schedule && o.due.is_some() && !o.held && !o.queued {
                self.svcs[j].due = o.due;
                *keep = true;
            }
        }
        for (_, o) in old {
            if let Some(r) = o.run {
                r.cancel.cancel();
            }
            self.dispatcher.forget(&o.group, &o.name);
        }
        for (j, keep) in keep_due.into_iter().enumerate() {
            if keep {
                let at = self.svcs[j].due;
                self.set_due(j, at);
            }
        }
        self.arm_all(now, true);
        // Trap duration timers do not survive a reset in mon either.
        for j in 0..self.svcs.len() {
            self.rearm(j, TimerKind::TrapDuration, None);
        }
        let cfg = self.cfg.clone();
        self.disabled_hosts
            .retain(|h| cfg.hostgroups.iter().any(|g| g.hosts.contains(h)));
        self.disabled_watches.retain(|w| cfg.watch(w).is_some());
        if self.cfg.globals.dtlogging {
            self.writer.append(
                &self.paths.dtlogfile,
                dtlog_header(self.clock.now_secs()),
                "downtime log",
            );
        }
        if let Some(t) = self.cfg.globals.alert_timeout {
            self.dispatcher.set_timeout(t);
        }
        if self.cfg.globals.startupalerts_on_reset {
            self.startup_alerts();
        }
        self.mark_dirty();
        Ok(())
    }
}
