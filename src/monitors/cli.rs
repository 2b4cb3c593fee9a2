//! `monrs check tcp|http|mysql [options] HOST...`: one native check from the command line.

use std::ffi::OsString;
use std::process::ExitCode;

/// Run one check; prints and exits like the mon script.
pub fn main(_args: Vec<OsString>) -> ExitCode {
    eprintln!("monrs check: not written yet");
    ExitCode::from(1)
}
