//! Running one alert.d script for an `AlertCall`: mon's argv (`-s -g -h -t [FLAG] ARGS`),
//! the call's environment, the output on stdin, a deadline after which the script's process
//! group is killed, and the exit status and output logged.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use super::{AlertCall, Outcome};
use crate::logging::{Prio, mon};
use crate::monitors::RunStatus;
use crate::monitors::external::{ProcSpec, run_process};

/// Default deadline of an alert run when `alert_timeout` is not set. mon has none; a
/// minute is ample for mail or a failover command, and a hung alert only delays later
/// alerts of the same service (never monitoring or other services).
pub const DEFAULT_ALERT_TIMEOUT: Duration = Duration::from_secs(60);

/// The process spec for running `path` for `call`.
pub fn spec(path: &Path, call: &AlertCall, timeout: Duration) -> ProcSpec {
    let mut argv: Vec<OsString> = vec![path.as_os_str().to_os_string()];
    argv.extend(call.argv().into_iter().map(OsString::from));
    ProcSpec {
        argv,
        env: call
            .env
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect(),
        stdin: Some(call.stdin.clone()),
        timeout,
        label: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| call.name.clone()),
    }
}

/// Run the alert script and report how it went (also logged).
pub async fn run(path: &Path, call: &AlertCall, timeout: Duration) -> Outcome {
    let r = run_process(spec(path, call, timeout), None, None).await;
    let who = format!(
        "{} {} for {}/{}",
        call.kind.history_word(),
        call.name,
        call.group,
        call.service
    );
    let out = String::from_utf8_lossy(&r.output);
    let out = out.trim_end();
    let (ok, detail) = match r.status {
        RunStatus::Exited(0) => (true, "exit 0".to_string()),
        RunStatus::Exited(c) => (false, format!("exit {c}")),
        RunStatus::Signaled(s) => (false, format!("killed by signal {s}")),
        RunStatus::TimedOut => (
            false,
            format!(
                "timed out after {}s, process group killed",
                timeout.as_secs()
            ),
        ),
        RunStatus::SpawnFailed => (
            false,
            r.error
                .clone()
                .unwrap_or_else(|| "could not be started".to_string()),
        ),
    };
    let prio = if ok { Prio::Info } else { Prio::Err };
    if out.is_empty() {
        mon(prio, &format!("alert {who} finished: {detail}"));
    } else {
        mon(
            prio,
            &format!("alert {who} finished: {detail}; output: {out}"),
        );
    }
    Outcome { ok, detail }
}
