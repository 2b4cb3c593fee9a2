//! `get G S VAR` and `set G S VAR VALUE`: the variable names mon's service table uses,
//! mapped onto the typed config and `ServiceState`.
//!
//! mon keeps every service as one Perl hash, so `get`/`set` reach config keys (`interval`,
//! `description`) and runtime keys (`_op_status`, `_last_summary`) alike. monrs keeps the
//! same names: runtime keys map to `ServiceState` fields, and every other name is stored in
//! `ServiceState::vars`, where it shadows the config value of the same name for `get` and
//! for the fields the protocol shows (`description`).

use crate::config::DepBehavior;
use crate::server::view::ServiceRef;
use crate::state::{OpStatus, ServiceState};

/// The value `get` shows for `var`, unescaped; `None` prints as `''` (mon: undef).
pub fn get_var(r: &ServiceRef<'_>, var: &str) -> Option<Vec<u8>> {
    let st = r.state();
    let text = |s: String| Some(s.into_bytes());
    let secs = |d: Option<std::time::Duration>| d.map(|d| d.as_secs().to_string().into_bytes());
    let bytes = |b: &Option<bytes::Bytes>| b.as_ref().map(|b| b.to_vec());
    if let Some(v) = st.vars.get(var) {
        return Some(v.clone().into_bytes());
    }
    let svc = r.service;
    match var {
        "service" => text(svc.name.clone()),
        "interval" => secs(effective_interval(r)),
        "failure_interval" => secs(svc.failure_interval),
        "randskew" => text(svc.randskew.map(|d| d.as_secs()).unwrap_or(0).to_string()),
        "redistribute" => text(
            svc.redistribute
                .as_ref()
                .map(|a| a.raw.clone())
                .unwrap_or_default(),
        ),
        "dep_behavior" => text(
            match svc.dep_behavior {
                DepBehavior::Alert => "a",
                DepBehavior::Monitor => "m",
                DepBehavior::Host => "hm",
            }
            .to_string(),
        ),
        "dep_memory" => secs(svc.dep_memory),
        "exclude_period" => text(svc.exclude_period.clone().unwrap_or_default()),
        // mon prints a Perl hash reference here (`HASH(0x...)`); the host list is useful.
        "exclude_hosts" => text(svc.exclude_hosts.join(" ")),
        "description" => svc.description.clone().map(String::into_bytes),
        "monitor" => svc.monitor.as_ref().map(|m| m.raw.clone().into_bytes()),
        "depend" => svc.depend.clone().map(String::into_bytes),
        "hostdepend" => svc.hostdepend.clone().map(String::into_bytes),
        "monitordepend" => svc.monitordepend.clone().map(String::into_bytes),
        "alertdepend" => svc.alertdepend.clone().map(String::into_bytes),
        "traptimeout" => secs(svc.traptimeout),
        "trapduration" => secs(svc.trapduration),
        "unack_summary" => text(u8::from(svc.unack_summary).to_string()),
        "allow_empty_group" => svc.allow_empty_group.then(|| b"1".to_vec()),
        "disable" => st.disabled.then(|| b"1".to_vec()),
        "_op_status" => text(st.op_status.0.to_string()),
        "_last_op_status" => text(st.last_op_status.0.to_string()),
        "_exitval" => text(st.exitval.clone().unwrap_or_else(|| "undef".to_string())),
        "_consec_failures" => text(st.consec_failures.to_string()),
        "_failure_count" => text(st.failure_count.to_string()),
        "_alert_count" => text(st.alert_count.to_string()),
        "_first_failure" => st.first_failure.map(|t| t.to_string().into_bytes()),
        "_last_failure" => text(st.last_failure.to_string()),
        "_last_success" => text(st.last_success.to_string()),
        "_last_check" => st.last_check.map(|t| t.to_string().into_bytes()),
        "_monitor_duration" => text(st.monitor_duration.to_string()),
        "_monitor_running" => text(u8::from(r.view.running).to_string()),
        "_timer" => text(r.view.timer.to_string()),
        "_last_output" => bytes(&st.last_output),
        "_last_summary" => bytes(&st.last_summary),
        "_last_detail" => bytes(&st.last_detail),
        "_failure_output" => bytes(&st.failure_output),
        "_ack" => text(st.ack.to_string()),
        "_ack_comment" => text(st.ack_comment.clone()),
        "_depend_status" => st
            .depend_status
            .map(|b| u8::from(b).to_string().into_bytes()),
        "_last_trap" => text(st.last_trap.to_string()),
        "_last_traphost" => text(st.last_traphost.clone()),
        _ => None,
    }
}

/// The interval the service runs at now: `failure_interval` while it is in force.
pub fn effective_interval(r: &ServiceRef<'_>) -> Option<std::time::Duration> {
    if let Some(v) = r.state().vars.get("interval")
        && let Ok(n) = v.trim().parse::<u64>()
    {
        return (n > 0).then(|| std::time::Duration::from_secs(n));
    }
    let base = r.service.interval()?;
    if r.state().saved_interval.is_some() {
        Some(r.service.failure_interval.unwrap_or(base))
    } else {
        Some(base)
    }
}

/// The description the protocol shows: a `set ... description` value, else the config's.
pub fn description(r: &ServiceRef<'_>) -> Option<String> {
    r.state()
        .vars
        .get("description")
        .cloned()
        .or_else(|| r.service.description.clone())
}

/// Store `value` under `var` the way `set G S VAR VALUE` does. Runtime names (`_op_status`
/// and the others `get_var` knows) update the typed field and must parse; every other name
/// goes into `vars`. On error nothing changes and the text says why.
pub fn apply_set(st: &mut ServiceState, var: &str, value: &str) -> Result<(), String> {
    fn num<T: std::str::FromStr>(var: &str, value: &str) -> Result<T, String> {
        value
            .trim()
            .parse()
            .map_err(|_| format!("{var} needs a number, not '{value}'"))
    }
    let b = |v: &str| Some(bytes::Bytes::copy_from_slice(v.as_bytes()));
    match var {
        "_op_status" => st.op_status = OpStatus(num(var, value)?),
        "_last_op_status" => st.last_op_status = OpStatus(num(var, value)?),
        "_exitval" => st.exitval = (value != "undef").then(|| value.to_string()),
        "_consec_failures" => st.consec_failures = num(var, value)?,
        "_failure_count" => st.failure_count = num(var, value)?,
        "_alert_count" => st.alert_count = num(var, value)?,
        "_first_failure" => st.first_failure = Some(num(var, value)?),
        "_last_failure" => st.last_failure = num(var, value)?,
        "_last_success" => st.last_success = num(var, value)?,
        "_last_check" => st.last_check = Some(num(var, value)?),
        "_monitor_duration" => st.monitor_duration = num(var, value)?,
        "_last_output" => st.last_output = b(value),
        "_last_summary" => st.last_summary = b(value),
        "_last_detail" => st.last_detail = b(value),
        "_failure_output" => st.failure_output = b(value),
        "_ack" => st.ack = num(var, value)?,
        "_ack_comment" => st.ack_comment = value.to_string(),
        "_depend_status" => st.depend_status = Some(num::<i64>(var, value)? != 0),
        "_last_trap" => st.last_trap = num(var, value)?,
        "_last_traphost" => st.last_traphost = value.to_string(),
        "disable" => st.disabled = num::<i64>(var, value)? == 1,
        _ => {
            st.vars.insert(var.to_string(), value.to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_fields_parse_and_others_go_to_vars() {
        let mut st = ServiceState::new(1);
        assert!(apply_set(&mut st, "_op_status", "1").is_ok());
        assert_eq!(st.op_status, OpStatus::OK);
        assert!(apply_set(&mut st, "_op_status", "fail").is_err());
        assert_eq!(st.op_status, OpStatus::OK);
        assert!(apply_set(&mut st, "myvar", "hello20world").is_ok());
        assert_eq!(
            st.vars.get("myvar").map(String::as_str),
            Some("hello20world")
        );
        assert!(apply_set(&mut st, "_last_summary", "x y").is_ok());
        assert_eq!(st.last_summary.as_deref(), Some(&b"x y"[..]));
    }
}
