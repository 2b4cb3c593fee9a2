//! The resolved, typed mon.cf: plain data that the scheduler, the alert logic and the
//! protocol server read. No pest types, no I/O; built by `config::load`.
//!
//! Field names follow mon's own vocabulary so that `config.md` and this file can be read
//! side by side. Every item remembers the physical line it came from, for messages.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// A whole configuration, as one `mon.cf` (after m4, if any) produced it.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The file that was read (as given, made absolute against the cwd at load time).
    pub source: PathBuf,
    /// Global `name = value` settings, defaults applied, command-line overrides not applied.
    pub globals: Globals,
    /// Hostgroups in config order, including the ones auto-created for a watch without one.
    pub hostgroups: Vec<HostGroup>,
    /// `alias` records (protocol only).
    pub aliases: Vec<Alias>,
    /// `view` records (protocol only).
    pub views: Vec<View>,
    /// Watches in config order. A watch with no services is kept (mon keeps it too).
    pub watches: Vec<Watch>,
}

impl Config {
    /// The hostgroup called `name`.
    pub fn hostgroup(&self, name: &str) -> Option<&HostGroup> {
        self.hostgroups.iter().find(|g| g.name == name)
    }

    /// The watch called `name`.
    pub fn watch(&self, name: &str) -> Option<&Watch> {
        self.watches.iter().find(|w| w.name == name)
    }

    /// The service `group`/`service`.
    pub fn service(&self, group: &str, service: &str) -> Option<&Service> {
        self.watch(group)?
            .services
            .iter()
            .find(|s| s.name == service)
    }

    /// Every (watch, service) pair in config order.
    pub fn services(&self) -> impl Iterator<Item = (&Watch, &Service)> {
        self.watches
            .iter()
            .flat_map(|w| w.services.iter().map(move |s| (w, s)))
    }
}

/// Global settings (config.md §4). Values are as written in the file, or mon's default;
/// relative paths are *not* yet resolved against basedir/cfbasedir (see `config::paths`).
#[derive(Debug, Clone, Serialize)]
pub struct Globals {
    pub alertdir: Option<String>,
    pub mondir: Option<String>,
    pub basedir: Option<String>,
    pub cfbasedir: Option<String>,
    pub statedir: Option<String>,
    pub logdir: Option<String>,
    pub authfile: Option<String>,
    /// `authtype`, split on whitespace. Default `["getpwnam"]`.
    pub authtype: Vec<String>,
    pub pamservice: String,
    pub userfile: Option<String>,
    pub serverport: Option<u16>,
    pub trapport: Option<u16>,
    pub serverbind: Option<String>,
    pub trapbind: Option<String>,
    /// `clientallow` patterns, split on whitespace, as written (mon's `.` rewrite not applied).
    pub clientallow: Vec<String>,
    /// `pidfile`: `Some("")` means "no pid file".
    pub pidfile: Option<String>,
    /// 0 = no limit.
    pub maxprocs: u32,
    pub histlength: usize,
    pub historicfile: Option<String>,
    pub historictime: Duration,
    pub randstart: Option<Duration>,
    pub cltimeout: Duration,
    pub monerrfile: Option<String>,
    pub dtlogfile: Option<String>,
    pub dtlogging: bool,
    pub dep_recur_limit: u32,
    pub syslog_facility: Option<String>,
    pub startupalerts_on_reset: bool,
    pub monremote: Option<String>,
    /// Global `exclude_period` (Time::Period text).
    pub exclude_period: Option<String>,

    // ---- monrs extensions (not in mon; documented in the README) ----
    /// Default deadline of a monitor run (`monitor_timeout = 5m`). A monitor still running
    /// at its deadline has its process group killed and counts as a timed-out failure.
    pub monitor_timeout: Option<Duration>,
    /// Default deadline of an alert run (`alert_timeout = 5m`).
    pub alert_timeout: Option<Duration>,
    /// `native_monitors = no` runs Debian's scripts instead of the in-process checks.
    pub native_monitors: bool,
}

impl Default for Globals {
    fn default() -> Self {
        Globals {
            alertdir: None,
            mondir: None,
            basedir: None,
            cfbasedir: None,
            statedir: None,
            logdir: None,
            authfile: None,
            authtype: vec!["getpwnam".to_string()],
            pamservice: "passwd".to_string(),
            userfile: None,
            serverport: None,
            trapport: None,
            serverbind: None,
            trapbind: None,
            clientallow: Vec::new(),
            pidfile: None,
            maxprocs: 0,
            histlength: 100,
            historicfile: None,
            historictime: Duration::ZERO,
            randstart: None,
            cltimeout: Duration::from_secs(30),
            monerrfile: None,
            dtlogfile: None,
            dtlogging: false,
            dep_recur_limit: 10,
            syslog_facility: None,
            startupalerts_on_reset: false,
            monremote: None,
            exclude_period: None,
            monitor_timeout: None,
            alert_timeout: None,
            native_monitors: true,
        }
    }
}

/// `hostgroup NAME HOST...`
#[derive(Debug, Clone, Serialize)]
pub struct HostGroup {
    pub name: String,
    /// Hosts in config order; duplicates kept, as mon keeps them.
    pub hosts: Vec<String>,
    /// Physical line of the `hostgroup` (or `watch`, when auto-created) line.
    pub line: u32,
    /// Created by a `watch` line that named no hostgroup (the watch name is the only host).
    pub auto: bool,
}

/// `alias NAME` followed by verbatim lines.
#[derive(Debug, Clone, Serialize)]
pub struct Alias {
    pub name: String,
    pub lines: Vec<String>,
    pub line: u32,
}

/// `view NAME ITEM...` (a hostgroup name or `group:service`).
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub name: String,
    pub items: Vec<String>,
    pub line: u32,
}

/// `watch GROUP`
#[derive(Debug, Clone, Serialize)]
pub struct Watch {
    pub name: String,
    pub line: u32,
    pub services: Vec<Service>,
}

/// How a service is scheduled.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum Schedule {
    /// No `interval` and no `cron`: never run by the scheduler (trap-only service).
    None,
    /// `interval TIMEVAL`.
    Interval(Duration),
    /// `cron "EXPR"` (monrs extension): run at the instants of a cron expression, local time.
    Cron(String),
}

/// `dep_behavior`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub enum DepBehavior {
    /// `a`: suppress alerts while the dependency fails (mon's default).
    #[default]
    Alert,
    /// `m`: do not run the monitor while the dependency fails.
    Monitor,
    /// `hm`: drop hosts named in failing parents' summaries.
    Host,
}

/// One `watch`/`service` block.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    pub line: u32,
    pub schedule: Schedule,
    pub failure_interval: Option<Duration>,
    /// `randskew` (None = 0).
    pub randskew: Option<Duration>,
    pub monitor: Option<MonitorLine>,
    /// monrs extension: deadline of one monitor run for this service.
    pub monitor_timeout: Option<Duration>,
    pub description: Option<String>,
    pub allow_empty_group: bool,
    pub exclude_hosts: Vec<String>,
    /// Time::Period text.
    pub exclude_period: Option<String>,
    /// Dependency expressions, with `SELF:` already replaced by `GROUP:`.
    pub depend: Option<String>,
    pub alertdepend: Option<String>,
    pub monitordepend: Option<String>,
    pub hostdepend: Option<String>,
    pub dep_behavior: DepBehavior,
    /// Accepted, no effect (as in mon).
    pub dep_memory: Option<Duration>,
    pub redistribute: Option<AlertLine>,
    pub unack_summary: bool,
    pub traptimeout: Option<Duration>,
    pub trapduration: Option<Duration>,
    /// `NAME=value` lines, in order (a repeated name: the last one wins when applied).
    pub env: Vec<(String, String)>,
    pub periods: Vec<Period>,
}

impl Service {
    /// A service with mon's defaults, as a `service NAME` line creates it.
    pub fn new(name: impl Into<String>, line: u32) -> Self {
        Service {
            name: name.into(),
            line,
            schedule: Schedule::None,
            failure_interval: None,
            randskew: None,
            monitor: None,
            monitor_timeout: None,
            description: None,
            allow_empty_group: false,
            exclude_hosts: Vec::new(),
            exclude_period: None,
            depend: None,
            alertdepend: None,
            monitordepend: None,
            hostdepend: None,
            dep_behavior: DepBehavior::Alert,
            dep_memory: None,
            redistribute: None,
            unack_summary: false,
            traptimeout: None,
            trapduration: None,
            env: Vec::new(),
            periods: Vec::new(),
        }
    }

    /// The `interval`, when the service is interval-scheduled.
    pub fn interval(&self) -> Option<Duration> {
        match self.schedule {
            Schedule::Interval(d) => Some(d),
            _ => None,
        }
    }
}

/// `monitor NAME ARGS...`, kept raw: mon splits it with quotewords only when it runs it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MonitorLine {
    /// Everything after the keyword, as written (used in `list opstatus`).
    pub raw: String,
    /// The first whitespace-separated word: the script looked up in `mondir`.
    pub name: String,
    /// The rest after the name (leading whitespace removed), unsplit.
    pub args: String,
}

/// An inclusive exit-code range from `exit=N`, `exit=N-M` or `alertexitrange`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ExitRange {
    pub lo: i64,
    pub hi: i64,
}

impl ExitRange {
    pub fn contains(&self, v: i64) -> bool {
        self.lo <= v && v <= self.hi
    }
}

/// One `alert`/`upalert`/`startupalert`/`ackalert`/`disablealert`/`redistribute` line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AlertLine {
    /// Everything after the keyword, as written.
    pub raw: String,
    /// `exit=` filter, when the line starts with one (mon's runtime regex).
    pub exit_range: Option<ExitRange>,
    /// The alert program name looked up in `alertdir`.
    pub name: String,
    /// The arguments after the name, unsplit (split with quotewords at call time).
    pub args: String,
    pub line: u32,
}

impl AlertLine {
    /// The name mon's startup lookup table uses for this line:
    /// `s/^(\S+=\S+ )*(\S+).*$/$2/` (leading `k=v ` words skipped). It differs from
    /// `name` for `exit = N NAME` written with blanks (the table gets `exit`, the call
    /// looks up `=`), which is why such alerts never run in mon.
    pub fn table_name(&self) -> String {
        let s = self.raw.as_str();
        let is_space = crate::config::words::is_perl_space;
        // Starts of the `\S+=\S+ ` groups, taken greedily.
        let mut starts = vec![0];
        let mut pos = 0;
        loop {
            let rest = &s[pos..];
            let end = rest.find(is_space).unwrap_or(rest.len());
            let word = &rest[..end];
            let kv = word
                .char_indices()
                .any(|(i, c)| c == '=' && i > 0 && i + 1 < word.len());
            if kv && rest[end..].starts_with(' ') {
                pos += end + 1;
                starts.push(pos);
            } else {
                break;
            }
        }
        // Backtrack until `(\S+)` can match where the groups end.
        for &p in starts.iter().rev() {
            let rest = &s[p..];
            if rest.starts_with(|c: char| !is_space(c)) {
                let end = rest.find(is_space).unwrap_or(rest.len());
                return rest[..end].to_string();
            }
        }
        s.to_string()
    }
}

/// `alertevery` comparison mode.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub enum EveryMode {
    /// Re-alert within the window only when the summary changes (mon's default, `summary`).
    #[default]
    Summary,
    /// Compare the whole output.
    ObserveDetail,
    /// Suppress within the window whatever the output.
    IgnoreSummary,
    /// Like IgnoreSummary, and not reset by a success (but reset by a sent upalert).
    Strict,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct AlertEvery {
    pub every: Duration,
    pub mode: EveryMode,
}

/// One `period [LABEL:] SPEC` block.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// The key clients and the state file use: the label, or the spec text when unlabelled.
    pub label: String,
    /// Time::Period text ("" = always).
    pub spec: String,
    pub line: u32,
    pub alerts: Vec<AlertLine>,
    pub upalerts: Vec<AlertLine>,
    pub startupalerts: Vec<AlertLine>,
    pub ackalerts: Vec<AlertLine>,
    pub disablealerts: Vec<AlertLine>,
    pub alertevery: Option<AlertEvery>,
    /// `alertafter N`: alert from the N-th consecutive failure on.
    pub alertafter_consec: Option<u32>,
    /// `alertafter N TIME`: the N of it.
    pub alertafter_count: Option<u32>,
    /// `alertafter TIME` or the TIME of `alertafter N TIME`.
    pub alertafter_time: Option<Duration>,
    /// 0 = unlimited.
    pub numalerts: u32,
    pub no_comp_alerts: bool,
    /// Stored; mon ignores it (see the README for what monrs does).
    pub upalertafter: Option<Duration>,
    pub alertexitrange: Option<ExitRange>,
    pub alerts_dont_count: bool,
}

impl Period {
    pub fn new(label: impl Into<String>, spec: impl Into<String>, line: u32) -> Self {
        Period {
            label: label.into(),
            spec: spec.into(),
            line,
            alerts: Vec::new(),
            upalerts: Vec::new(),
            startupalerts: Vec::new(),
            ackalerts: Vec::new(),
            disablealerts: Vec::new(),
            alertevery: None,
            alertafter_consec: None,
            alertafter_count: None,
            alertafter_time: None,
            numalerts: 0,
            no_comp_alerts: false,
            upalertafter: None,
            alertexitrange: None,
            alerts_dont_count: false,
        }
    }
}
