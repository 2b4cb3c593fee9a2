//! Snapshots: everything a client may list, built from the engine's state on request.

use tokio::time::Instant;

use super::api::{ServiceView, Snapshot};
use super::core::Core;

impl Core {
    pub(crate) fn snapshot(&self) -> Snapshot {
        let now = Instant::now();
        let frozen_at = self.stopped.map(|s| s.1).unwrap_or(now);
        let services = self
            .svcs
            .iter()
            .map(|s| {
                let cfg = &self.cfg.watches[s.w].services[s.s];
                let timer = match s.due {
                    Some(d) if s.run.is_none() && !s.held && !s.queued => {
                        let left = d.saturating_duration_since(frozen_at);
                        i64::try_from(left.as_secs()).unwrap_or(i64::MAX)
                            + i64::from(left.subsec_nanos() >= 500_000_000)
                    }
                    _ => 0,
                };
                ServiceView {
                    group: s.group.clone(),
                    service: s.name.clone(),
                    watch_index: s.w,
                    service_index: s.s,
                    state: s.st.clone(),
                    timer,
                    running: s.run.is_some(),
                    pid: s.run.as_ref().and_then(|r| r.pid),
                    interval: s.interval(cfg),
                    watch_disabled: self.disabled_watches.contains(&*s.group),
                }
            })
            .collect();
        Snapshot {
            time: self.clock.now_secs(),
            config: self.cfg.clone(),
            paths: self.paths.clone(),
            pid: self.pid,
            start_time: self.start_time,
            stopped_since: self.stopped.map(|s| s.0),
            disabled_hosts: self.disabled_hosts.clone(),
            disabled_watches: self.disabled_watches.clone(),
            services,
            alert_history: self.history.alerts().cloned().collect(),
            failure_history: self.history.failures().cloned().collect(),
            maxkeep: self.history.maxkeep(),
            dtlogging: self.cfg.globals.dtlogging,
        }
    }
}
