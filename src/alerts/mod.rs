//! Alerts: what mon decides to call (the decision logic), and how a call is delivered
//! (alert.d scripts, or a native action such as mail, failover, pools, Alertmanager).
//!
//! Contract shared by the engine (decisions, scripts, ordered delivery) and native actions:
//! every delivery gets one `AlertCall` and returns one `Outcome`.

use bytes::Bytes;

/// The kinds of alert mon knows (`MON_ALERTTYPE`, the argv flag, the history word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    Failure,
    Up,
    Startup,
    Ack,
    Disable,
    Trap,
    TrapTimeout,
    Test,
}

impl AlertKind {
    /// `MON_ALERTTYPE`.
    pub fn env_name(self) -> &'static str {
        match self {
            AlertKind::Failure => "failure",
            AlertKind::Up => "up",
            AlertKind::Startup => "startup",
            AlertKind::Ack => "ack",
            AlertKind::Disable => "disable",
            AlertKind::Trap => "trap",
            AlertKind::TrapTimeout => "traptimeout",
            AlertKind::Test => "test",
        }
    }

    /// The argv flag mon inserts after `-t`, if any.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            AlertKind::Up => Some("-u"),
            AlertKind::Ack => Some("-a"),
            AlertKind::Disable => Some("-D"),
            AlertKind::Trap => Some("-T"),
            AlertKind::TrapTimeout => Some("-O"),
            AlertKind::Failure | AlertKind::Startup | AlertKind::Test => None,
        }
    }

    /// The word in the alert history and in the `calling ...` syslog line.
    pub fn history_word(self) -> &'static str {
        match self {
            AlertKind::Failure => "alert",
            AlertKind::Up => "upalert",
            AlertKind::Startup => "startupalert",
            AlertKind::Ack => "ackalert",
            AlertKind::Disable => "disablealert",
            AlertKind::Trap => "trapalert",
            AlertKind::TrapTimeout => "traptimeoutalert",
            AlertKind::Test => "testalert",
        }
    }
}

/// One alert delivery, fully prepared: everything a script or a native action needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCall {
    pub kind: AlertKind,
    /// True for `redistribute` calls (not counted, not in the history).
    pub redistribute: bool,
    pub group: String,
    pub service: String,
    /// The period label the call came from (None for redistribute).
    pub period: Option<String>,
    /// The alert name from the config line (first word after any `exit=`).
    pub name: String,
    /// The alert arguments as written (for the history and `calling` log line).
    pub raw_args: String,
    /// The alert arguments split with quotewords (empty when the quotes were unbalanced).
    pub args: Vec<String>,
    /// `-h`: the group's enabled hosts.
    pub hosts: Vec<String>,
    /// `-t`: the time of this call.
    pub time: i64,
    /// What goes to the alert's stdin.
    pub stdin: Bytes,
    /// The summary used in logs and the history (`(NO SUMMARY)` when blank).
    pub summary: String,
    /// Environment to add on top of the daemon's: the service's `VAR=value` lines and
    /// the `MON_*` variables, in the order they are applied.
    pub env: Vec<(String, String)>,
}

impl AlertCall {
    /// The argv after the program path: `-s S -g G -h "H..." -t T [FLAG] ARGS...`.
    pub fn argv(&self) -> Vec<String> {
        let mut v = vec![
            "-s".to_string(),
            self.service.clone(),
            "-g".to_string(),
            self.group.clone(),
            "-h".to_string(),
            self.hosts.join(" "),
            "-t".to_string(),
            self.time.to_string(),
        ];
        if let Some(f) = self.kind.flag() {
            v.push(f.to_string());
        }
        v.extend(self.args.iter().cloned());
        v
    }
}

/// What a delivery did, for the log and the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// Exit status, API reply, or error text, one line.
    pub detail: String,
}

pub mod actions;
pub mod decide;
pub mod dispatch;
pub mod script;
