//! Native (in-process) versions of Debian's tcp.monitor, http.monitor and
//! msql-mysql.monitor, selected from a service's `monitor` line.

use std::path::Path;
use std::time::Duration;

use super::MonitorOutput;
use crate::config::Globals;

/// A native check parsed from a `monitor` line's name and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeCheck {
    _private: (),
}

/// The native check for `monitor NAME ARGS...`, if monrs has one for NAME and should use
/// it. `args` are the quotewords-split arguments (without hosts); `script` is where the
/// mondir lookup found a script of that name, if anywhere. `Some(Err(text))` means the
/// options are invalid: the run fails with `text` as its output, as the script would.
pub fn select(
    _name: &str,
    _args: &[String],
    _script: Option<&Path>,
    _globals: &Globals,
) -> Option<Result<NativeCheck, String>> {
    None
}

impl NativeCheck {
    /// Check every host (concurrently) and produce the script's summary, detail and exit.
    pub async fn run(&self, _hosts: &[String], deadline: Duration) -> MonitorOutput {
        MonitorOutput::new(1, "native check not written yet\n", deadline)
    }
}
