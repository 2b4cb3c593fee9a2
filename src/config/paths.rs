//! Effective directories and files: mon's defaults, the command-line overrides and the
//! path normalisation of config.md §8.1 / daemon-cli-and-files.md §1.

use std::path::PathBuf;

/// Command-line values that override mon.cf (`-a -A -b -B -D -L -P -s -k -m -p -t -r`).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub alertdir: Option<String>,
    pub authfile: Option<String>,
    pub basedir: Option<String>,
    pub cfbasedir: Option<String>,
    pub statedir: Option<String>,
    pub logdir: Option<String>,
    pub pidfile: Option<String>,
    pub mondir: Option<String>,
    pub maxkeep: Option<usize>,
    pub maxprocs: Option<u32>,
    pub serverport: Option<u16>,
    pub trapport: Option<u16>,
    pub randstart: Option<std::time::Duration>,
}

/// Every path the daemon uses, absolute or relative to the cwd as mon would use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub basedir: PathBuf,
    pub cfbasedir: PathBuf,
    pub statedir: PathBuf,
    pub logdir: PathBuf,
    /// Monitor search path, in order.
    pub mondir: Vec<PathBuf>,
    /// Alert search path, in order.
    pub alertdir: Vec<PathBuf>,
    pub authfile: PathBuf,
    pub userfile: PathBuf,
    pub dtlogfile: PathBuf,
    pub historicfile: Option<PathBuf>,
    /// None = no pid file.
    pub pidfile: Option<PathBuf>,
    pub monerrfile: PathBuf,
}
