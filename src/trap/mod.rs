//! mon traps: the UDP packet format, the listener and the sender.

use std::ffi::OsString;
use std::process::ExitCode;

/// `monrs trap ARGS...`: send one mon trap (like Mon::Client `send_trap`).
pub fn send_main(_args: Vec<OsString>) -> ExitCode {
    eprintln!("monrs trap: not written yet");
    ExitCode::from(1)
}
