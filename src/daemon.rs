//! The daemon: startup order, signals, reload and clean shutdown.

use std::process::ExitCode;

use crate::cli::DaemonArgs;

/// Run the daemon with mon's options until it is told to stop.
pub fn run(_args: DaemonArgs) -> ExitCode {
    eprintln!("monrs: the daemon is not written yet");
    ExitCode::from(1)
}
