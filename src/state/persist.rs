//! The monrs state file (`STATEDIR/monrs-state.json`): every service's runtime state, the
//! disabled hosts and watches and the scheduler's stopped flag, so that a restart (even
//! after kill -9) brings back opstatus, acks, disables, counters and "down alert sent".
//!
//! Matching on load is by identity: group + service name, and period label within a
//! service. Unknown entries are ignored; a service new in the config starts fresh.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ServiceState;

/// The file name inside statedir.
pub const STATE_FILE: &str = "monrs-state.json";

/// The current format number; a file with another number is ignored (and logged).
pub const FORMAT: u32 = 1;

/// One saved service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedService {
    pub group: String,
    pub service: String,
    /// The labels of `state.periods`, in order.
    pub periods: Vec<String>,
    pub state: ServiceState,
}

/// Everything the state file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedState {
    pub format: u32,
    /// Unix time of the save.
    pub saved_at: i64,
    /// `Some(since)` when the scheduler was stopped.
    pub stopped_since: Option<i64>,
    pub disabled_hosts: Vec<String>,
    pub disabled_watches: Vec<String>,
    pub services: Vec<SavedService>,
}

impl SavedState {
    /// The saved state of `group`/`service`, with its periods rearranged to `labels`
    /// (periods matched by label; new periods start fresh).
    pub fn service_state(
        &self,
        group: &str,
        service: &str,
        labels: &[&str],
    ) -> Option<ServiceState> {
        let s = self
            .services
            .iter()
            .find(|s| s.group == group && s.service == service)?;
        Some(remap_periods(&s.state, &s.periods, labels))
    }
}

/// `state` with its period slots (labelled `old`) rearranged to the labels `new`.
pub fn remap_periods<S: AsRef<str>>(state: &ServiceState, old: &[S], new: &[&str]) -> ServiceState {
    let mut st = state.clone();
    st.periods = new
        .iter()
        .map(|label| {
            old.iter()
                .position(|o| o.as_ref() == *label)
                .and_then(|i| state.periods.get(i).cloned())
                .unwrap_or_default()
        })
        .collect();
    st
}

/// The state file path for `statedir`.
pub fn path_in(statedir: &Path) -> PathBuf {
    statedir.join(STATE_FILE)
}

/// Serialise for writing.
pub fn encode(s: &SavedState) -> Result<Vec<u8>, String> {
    serde_json::to_vec(s).map_err(|e| e.to_string())
}

/// Load a state file: `Ok(None)` when there is none.
pub fn load(path: &Path) -> Result<Option<SavedState>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("could not read state file {}: {e}", path.display())),
    };
    let s: SavedState = serde_json::from_slice(&bytes)
        .map_err(|e| format!("could not parse state file {}: {e}", path.display()))?;
    if s.format != FORMAT {
        return Err(format!(
            "state file {} has format {}, expected {FORMAT}",
            path.display(),
            s.format
        ));
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{OpStatus, PeriodState};

    #[test]
    fn round_trip_and_period_remap() -> Result<(), String> {
        let mut st = ServiceState::new(2);
        st.op_status = OpStatus::FAIL;
        st.periods[0].alert_sent = 3;
        st.periods[1].last_alert = 42;
        let saved = SavedState {
            format: FORMAT,
            saved_at: 1,
            stopped_since: None,
            disabled_hosts: vec!["h1".into()],
            disabled_watches: vec![],
            services: vec![SavedService {
                group: "g".into(),
                service: "s".into(),
                periods: vec!["p1".into(), "p2".into()],
                state: st,
            }],
        };
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = path_in(dir.path());
        std::fs::write(&path, encode(&saved)?).map_err(|e| e.to_string())?;
        let back = load(&path)?.ok_or("missing")?;
        assert_eq!(back, saved);
        let st = back
            .service_state("g", "s", &["p2", "new"])
            .ok_or("service not found")?;
        assert_eq!(st.op_status, OpStatus::FAIL);
        assert_eq!(st.periods[0].last_alert, 42);
        assert_eq!(st.periods[1], PeriodState::default());
        assert!(back.service_state("g", "other", &[]).is_none());
        assert_eq!(load(&dir.path().join("none"))?, None);
        std::fs::write(&path, "{garbage").map_err(|e| e.to_string())?;
        assert!(load(&path).is_err());
        Ok(())
    }
}
