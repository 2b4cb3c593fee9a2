//! Running one check for one service: external mon.d scripts and the native in-process
//! checks behind one result type. Scheduling lives in `schedule`; this module only runs.
//!
//! Contract shared by the engine (external scripts) and the native checks:
//! a run gets the argv mon would build and a deadline, and returns a `MonitorOutput`.

use std::time::Duration;

use bytes::Bytes;

/// What one monitor run produced, exactly as mon sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorOutput {
    /// How the run ended.
    pub status: RunStatus,
    /// All output (stdout and stderr merged, in write order), unchanged.
    pub output: Bytes,
    /// Wall-clock run time.
    pub duration: Duration,
}

/// How a monitor run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Exited with this code (0 = success).
    Exited(i32),
    /// Killed by this signal (mon counts it as success; monrs counts it as a failure,
    /// exit value 128+signal; see the README).
    Signaled(i32),
    /// Killed by monrs at its deadline: a failure.
    TimedOut,
    /// Could not be started (not found, not executable, E2BIG...): a failure, exit 1.
    SpawnFailed,
}

impl RunStatus {
    /// The exit value mon's decision logic and `MON_RETVAL` use (non-zero = failure).
    pub fn exit_value(self) -> i32 {
        match self {
            RunStatus::Exited(c) => c,
            RunStatus::Signaled(sig) => 128 + sig,
            RunStatus::TimedOut => 1,
            RunStatus::SpawnFailed => 1,
        }
    }

    pub fn is_success(self) -> bool {
        self.exit_value() == 0
    }
}

impl MonitorOutput {
    /// A result built in-process (native checks).
    pub fn new(exit: i32, output: impl Into<Bytes>, duration: Duration) -> Self {
        MonitorOutput {
            status: RunStatus::Exited(exit),
            output: output.into(),
            duration,
        }
    }
}

pub mod cli;
pub mod external;
pub mod native;
