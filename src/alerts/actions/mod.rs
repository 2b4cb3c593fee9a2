//! Native alert actions: mail over SMTP, heartbeat/Pacemaker failover, LVS and HAProxy
//! pools, Alertmanager. Each takes an `AlertCall` and reports an `Outcome`.

use std::path::Path;

use super::{AlertCall, Outcome};

/// A native action selected for an alert line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    _private: (),
}

/// The native action for `alert NAME ARGS...`, if monrs has one for NAME and should use it
/// (`script` is where the alertdir lookup found a script of that name, if anywhere).
pub fn select(_name: &str, _args: &[String], _script: Option<&Path>) -> Option<Action> {
    None
}

impl Action {
    /// Deliver one alert; never panics, reports what happened.
    pub async fn deliver(&self, _call: &AlertCall) -> Outcome {
        Outcome {
            ok: false,
            detail: "native action not written yet".to_string(),
        }
    }
}
