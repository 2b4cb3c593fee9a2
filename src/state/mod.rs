//! Runtime state of every service and period (scheduling-and-alerts.md §2): the fields
//! mon keeps, with mon's names. The engine is the only code that mutates it.
//!
//! Outputs are kept as `Bytes` (monitor output need not be UTF-8) so snapshots are cheap.

use std::collections::BTreeMap;
use std::time::Duration;

pub mod persist;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// mon's operational status codes (protocol.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpStatus(pub u8);

impl OpStatus {
    pub const FAIL: OpStatus = OpStatus(0);
    pub const OK: OpStatus = OpStatus(1);
    pub const COLDSTART: OpStatus = OpStatus(2);
    pub const WARMSTART: OpStatus = OpStatus(3);
    pub const LINKDOWN: OpStatus = OpStatus(4);
    pub const UNKNOWN: OpStatus = OpStatus(5);
    pub const TIMEOUT: OpStatus = OpStatus(6);
    pub const UNTESTED: OpStatus = OpStatus(7);
    pub const DEPEND: OpStatus = OpStatus(8);
    pub const WARN: OpStatus = OpStatus(9);

    /// Codes that count as success for dependencies (1, 2, 3, 5, 7).
    pub fn is_dep_success(self) -> bool {
        matches!(self.0, 1 | 2 | 3 | 5 | 7)
    }

    /// `list failures` class: 0, 4, 6.
    pub fn is_failure_class(self) -> bool {
        matches!(self.0, 0 | 4 | 6)
    }

    /// `list successes` class: 1, 2, 3, 5, 7.
    pub fn is_success_class(self) -> bool {
        matches!(self.0, 1 | 2 | 3 | 5 | 7)
    }

    /// `list warnings` class: 2, 3, 5, 9.
    pub fn is_warning_class(self) -> bool {
        matches!(self.0, 2 | 3 | 5 | 9)
    }

    /// The names `set G S opstatus WORD` accepts (Mon::Client `%OPSTAT` order).
    pub fn from_name(name: &str) -> Option<OpStatus> {
        Some(OpStatus(match name {
            "fail" => 0,
            "ok" => 1,
            "coldstart" => 2,
            "warmstart" => 3,
            "linkdown" => 4,
            "unknown" => 5,
            "timeout" => 6,
            "untested" => 7,
            _ => return None,
        }))
    }
}

/// Per-period alert bookkeeping (scheduling-and-alerts.md §2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodState {
    /// Epoch of the last alert sent from this period (0 = none).
    pub last_alert: i64,
    /// Alerts sent in this failure episode (numalerts, upalert pairing).
    pub alert_sent: u32,
    /// `_1stfailtime`: start of the alertafter TIME window.
    pub first_fail_time: i64,
    /// `_failcount` for `alertafter N TIME`.
    pub fail_count: u32,
    /// `no_comp_alerts` upalerts sent since the last down alert.
    pub nca_upalert_sent: u32,
}

/// Per-service runtime state. Times are integer Unix seconds, as mon uses them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceState {
    pub op_status: OpStatus,
    pub last_op_status: OpStatus,
    /// `None` prints as `undef` (no result yet). A trap's `sta` is kept as its string.
    pub exitval: Option<String>,
    pub consec_failures: u32,
    pub failure_count: u64,
    pub alert_count: u64,
    /// Start of the current failure episode (None = never set, 0 after a success).
    pub first_failure: Option<i64>,
    pub last_failure: i64,
    pub last_success: i64,
    /// Epoch at which the latest monitor run started.
    pub last_check: Option<i64>,
    /// Whole seconds the last run took; -1 = never run.
    pub monitor_duration: i64,
    /// Full output of the previous result.
    #[serde(with = "opt_bytes")]
    pub last_output: Option<Bytes>,
    #[serde(with = "opt_bytes")]
    pub last_summary: Option<Bytes>,
    #[serde(with = "opt_bytes")]
    pub last_detail: Option<Bytes>,
    /// Output of the latest failure in the current episode (`""` after a success).
    #[serde(with = "opt_bytes")]
    pub failure_output: Option<Bytes>,
    /// Epoch of the acknowledgement, 0 = not acknowledged.
    pub ack: i64,
    pub ack_comment: String,
    /// Result of the last dependency evaluation (None = never evaluated).
    pub depend_status: Option<bool>,
    /// Disabled by a client (`disable service`). Monitors keep running; alerts are dropped.
    pub disabled: bool,
    pub last_trap: i64,
    /// Always empty in mon 1.3.6 (kept for the state file).
    pub last_traphost: String,
    /// The configured interval while `failure_interval` is in force.
    pub saved_interval: Option<Duration>,
    /// Per-period state, parallel to `Service::periods`.
    pub periods: Vec<PeriodState>,
    /// Variables stored with `set G S VAR VALUE` that have no field of their own.
    pub vars: BTreeMap<String, String>,
}

impl ServiceState {
    /// The state of a service that has never run, with `periods` period slots.
    pub fn new(periods: usize) -> Self {
        ServiceState {
            op_status: OpStatus::UNTESTED,
            last_op_status: OpStatus::UNTESTED,
            exitval: None,
            consec_failures: 0,
            failure_count: 0,
            alert_count: 0,
            first_failure: None,
            last_failure: 0,
            last_success: 0,
            last_check: None,
            monitor_duration: -1,
            last_output: None,
            last_summary: None,
            last_detail: None,
            failure_output: None,
            ack: 0,
            ack_comment: String::new(),
            depend_status: None,
            disabled: false,
            last_trap: 0,
            last_traphost: String::new(),
            saved_interval: None,
            periods: vec![PeriodState::default(); periods],
            vars: BTreeMap::new(),
        }
    }
}

/// The first line of an output and the rest (`None` when there is no newline).
pub fn split_output(output: &Bytes) -> (Bytes, Option<Bytes>) {
    match output.iter().position(|&b| b == b'\n') {
        Some(i) => (output.slice(..i), Some(output.slice(i + 1..))),
        None => (output.clone(), None),
    }
}

/// mon's `(NO SUMMARY)` rule: a missing or all-whitespace summary.
pub fn summary_or_none(summary: Option<&[u8]>) -> Bytes {
    match summary {
        Some(s) if !s.iter().all(|b| b.is_ascii_whitespace() || *b == 0x0b) => {
            Bytes::copy_from_slice(s)
        }
        _ => Bytes::from_static(b"(NO SUMMARY)"),
    }
}

mod opt_bytes {
    //! Outputs are serialised as strings when they are UTF-8 and as byte arrays otherwise.
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Raw(Vec<u8>),
    }

    pub(super) fn serialize<S: Serializer>(v: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|b| match std::str::from_utf8(b) {
                Ok(t) => Repr::Text(t.to_string()),
                Err(_) => Repr::Raw(b.to_vec()),
            })
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bytes>, D::Error> {
        Ok(Option::<Repr>::deserialize(d)?.map(|r| match r {
            Repr::Text(t) => Bytes::from(t),
            Repr::Raw(v) => Bytes::from(v),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_summary() {
        let (s, d) = split_output(&Bytes::from_static(b"A\nd1\n"));
        assert_eq!(&s[..], b"A");
        assert_eq!(d.as_deref(), Some(&b"d1\n"[..]));
        let (s, d) = split_output(&Bytes::from_static(b"no newline"));
        assert_eq!(&s[..], b"no newline");
        assert!(d.is_none());
        assert_eq!(&summary_or_none(Some(b"  \t"))[..], b"(NO SUMMARY)");
        assert_eq!(&summary_or_none(None)[..], b"(NO SUMMARY)");
        assert_eq!(&summary_or_none(Some(b"x"))[..], b"x");
    }

    #[test]
    fn state_round_trips_through_json() -> Result<(), serde_json::Error> {
        let mut st = ServiceState::new(2);
        st.last_output = Some(Bytes::from_static(b"\xff\xfe binary"));
        st.last_summary = Some(Bytes::from_static(b"text"));
        let back: ServiceState = serde_json::from_str(&serde_json::to_string(&st)?)?;
        assert_eq!(back, st);
        Ok(())
    }
}
