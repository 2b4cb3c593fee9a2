//! mon's command line: every mon 1.3.6 flag with its meaning and default, and monrs's
//! subcommands (`check`, `cmd`, `trap`, `check-config`, `bench`) beside them.

use std::ffi::OsString;

/// The daemon's options, one field per mon flag (daemon-cli-and-files.md §1), plus monrs's
/// own. `None` means "not given": the config file or mon's default decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonArgs {
    /// `-a DIR[:DIR...]`
    pub alertdir: Option<String>,
    /// `-A FILE`
    pub authfile: Option<String>,
    /// `-b DIR`
    pub basedir: Option<String>,
    /// `-B DIR`
    pub cfbasedir: Option<String>,
    /// `-c FILE`
    pub configfile: Option<String>,
    /// `-d` (repeatable)
    pub debug: u32,
    /// `-D DIR`
    pub statedir: Option<String>,
    /// `-f`: become a daemon.
    pub fork: bool,
    /// `-i SECS`: tick length (accepted; monrs does not poll, see the README).
    pub sleep: Option<u64>,
    /// `-k NUM`
    pub maxkeep: Option<usize>,
    /// `-l [disabled|opstatus|all]`: `Some("disabled")` when given without a type.
    pub loadstate: Option<String>,
    /// `-L DIR`
    pub logdir: Option<String>,
    /// `-M [PATH]`: `Some("")` for a bare `-M` (mon's quirk: unusable), else the m4 program.
    pub m4: Option<String>,
    /// `-m NUM`
    pub maxprocs: Option<u32>,
    /// `-O FACILITY`
    pub syslogfacility: Option<String>,
    /// `-p NUM`
    pub port: Option<u16>,
    /// `-P FILE` (`Some("")` = no pid file)
    pub pidfile: Option<String>,
    /// `-r TIMEVAL`, as written
    pub randstart: Option<String>,
    /// `-s DIR[:DIR...]`
    pub scriptdir: Option<String>,
    /// `-S`: start with the scheduler stopped.
    pub stopped: bool,
    /// `-t NUM`
    pub trapport: Option<u16>,
    /// monrs: `--check`: load the config, report, exit.
    pub check: bool,
    /// monrs: `--dump-config`: print the resolved config as JSON, exit.
    pub dump_config: bool,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Run the daemon (or `--check` / `--dump-config` it).
    Daemon(Box<DaemonArgs>),
    /// `-v`: print mon's version line.
    Version,
    /// `-h`: print usage.
    Help,
    /// `monrs check ...`: one native check from the command line.
    Check(Vec<OsString>),
    /// `monrs cmd ...`: the moncmd-compatible client.
    Cmd(Vec<OsString>),
    /// `monrs trap ...`: send a mon trap.
    Trap(Vec<OsString>),
}
