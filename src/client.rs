//! `monrs cmd`: a moncmd-compatible client of the mon protocol.

use std::ffi::OsString;
use std::process::ExitCode;

/// `monrs cmd ARGS...` with moncmd's flags and output.
pub fn main(_args: Vec<OsString>) -> ExitCode {
    eprintln!("monrs cmd: not written yet");
    ExitCode::from(1)
}
