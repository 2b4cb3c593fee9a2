//! Logging: tracing events carrying mon's syslog priorities and wording, a syslog sink that
//! writes mon-compatible lines (`mon[PID]: ...`) to `/dev/log`, and the stderr output.
//!
//! mon logs with eight syslog priorities (`crit` for failures, `alert` for `calling ...`);
//! tracing has five levels, so every event from the engine carries a `prio` field and the
//! syslog sink uses it. Events without one are mapped from their level.

use std::fmt::Write as _;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

/// Syslog priorities, in mon's vocabulary (`syslog('crit', ...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prio {
    Emerg,
    Alert,
    Crit,
    Err,
    Warning,
    Notice,
    Info,
    Debug,
}

impl Prio {
    /// The syslog severity number.
    pub fn severity(self) -> u8 {
        match self {
            Prio::Emerg => 0,
            Prio::Alert => 1,
            Prio::Crit => 2,
            Prio::Err => 3,
            Prio::Warning => 4,
            Prio::Notice => 5,
            Prio::Info => 6,
            Prio::Debug => 7,
        }
    }

    /// The name mon uses in its source (and we put in the `prio` field).
    pub fn name(self) -> &'static str {
        match self {
            Prio::Emerg => "emerg",
            Prio::Alert => "alert",
            Prio::Crit => "crit",
            Prio::Err => "err",
            Prio::Warning => "warning",
            Prio::Notice => "notice",
            Prio::Info => "info",
            Prio::Debug => "debug",
        }
    }

    fn from_name(s: &str) -> Option<Prio> {
        Some(match s {
            "emerg" => Prio::Emerg,
            "alert" => Prio::Alert,
            "crit" => Prio::Crit,
            "err" => Prio::Err,
            "warning" => Prio::Warning,
            "notice" => Prio::Notice,
            "info" => Prio::Info,
            "debug" => Prio::Debug,
            _ => return None,
        })
    }

    fn from_level(l: &Level) -> Prio {
        match *l {
            Level::ERROR => Prio::Err,
            Level::WARN => Prio::Warning,
            Level::INFO => Prio::Info,
            _ => Prio::Debug,
        }
    }
}

/// A message for mon's log, with its priority (the engine's pure parts return these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub prio: Prio,
    pub text: String,
}

impl Note {
    pub fn new(prio: Prio, text: impl Into<String>) -> Self {
        Note {
            prio,
            text: text.into(),
        }
    }
}

/// Emit one message in mon's wording at mon's priority (target `mon`).
pub fn mon(prio: Prio, text: &str) {
    let p = prio.name();
    match prio {
        Prio::Emerg | Prio::Alert | Prio::Crit | Prio::Err => {
            tracing::error!(target: "mon", prio = p, "{text}")
        }
        Prio::Warning => tracing::warn!(target: "mon", prio = p, "{text}"),
        Prio::Notice | Prio::Info => tracing::info!(target: "mon", prio = p, "{text}"),
        Prio::Debug => tracing::debug!(target: "mon", prio = p, "{text}"),
    }
}

/// Emit a note.
pub fn note(n: &Note) {
    mon(n.prio, &n.text);
}

/// syslog facility numbers by name (`-O` / `syslog_facility`).
pub fn facility_code(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "kern" => 0,
        "user" => 1,
        "mail" => 2,
        "daemon" => 3,
        "auth" => 4,
        "syslog" => 5,
        "lpr" => 6,
        "news" => 7,
        "uucp" => 8,
        "cron" => 9,
        "authpriv" => 10,
        "ftp" => 11,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    })
}

/// Where and how to log.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// mon's `-d` count: 0 = info and above, 1+ = debug.
    pub debug: u32,
    /// Human-readable lines on stderr (foreground mode).
    pub stderr: bool,
    /// The syslog socket; `None` = no syslog. Default `/dev/log`; the environment variable
    /// `MONRS_SYSLOG_SOCKET` overrides it (tests point it at their own socket).
    pub syslog: Option<PathBuf>,
    /// syslog facility number (3 = daemon).
    pub facility: u8,
    /// The tag (mon uses `mon`).
    pub ident: String,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            debug: 0,
            stderr: true,
            syslog: Some(
                std::env::var_os("MONRS_SYSLOG_SOCKET")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("/dev/log")),
            ),
            facility: 3,
            ident: "mon".to_string(),
        }
    }
}

/// Install the global subscriber. Calling it twice is harmless (the second call does
/// nothing), so tests and the daemon can both call it.
pub fn init(opts: &LogOptions) {
    let level = if opts.debug > 0 {
        tracing_subscriber::filter::LevelFilter::DEBUG
    } else {
        tracing_subscriber::filter::LevelFilter::INFO
    };
    let fmt = opts.stderr.then(|| {
        // The `prio` field is for the syslog sink; on stderr the level says enough.
        let fields =
            tracing_subscriber::fmt::format::debug_fn(|w, field, value| match field.name() {
                "prio" => Ok(()),
                "message" => write!(w, "{value:?}"),
                name => write!(w, " {name}={value:?}"),
            });
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_target(false)
            .fmt_fields(fields)
    });
    let syslog = opts
        .syslog
        .as_ref()
        .map(|p| SyslogLayer::new(p.clone(), opts.facility, &opts.ident));
    let _ = tracing_subscriber::registry()
        .with(level)
        .with(fmt)
        .with(syslog)
        .try_init();
}

/// A tracing layer that sends each event to a syslog datagram socket in the format glibc's
/// `syslog(3)` uses: `<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE`.
pub struct SyslogLayer {
    path: PathBuf,
    facility: u8,
    ident: String,
    sock: Mutex<Option<UnixDatagram>>,
}

impl SyslogLayer {
    pub fn new(path: PathBuf, facility: u8, ident: &str) -> Self {
        SyslogLayer {
            path,
            facility,
            ident: ident.to_string(),
            sock: Mutex::new(None),
        }
    }

    fn send(&self, prio: Prio, msg: &str) {
        let Ok(mut guard) = self.sock.lock() else {
            return;
        };
        if guard.is_none() {
            // No syslog daemon is not an error for mon either: messages are dropped.
            let Ok(s) = UnixDatagram::unbound() else {
                return;
            };
            if s.connect(&self.path).is_err() {
                return;
            }
            let _ = s.set_nonblocking(true);
            *guard = Some(s);
        }
        let stamp = jiff::Zoned::now().strftime("%b %e %H:%M:%S").to_string();
        let pri = u32::from(self.facility) * 8 + u32::from(prio.severity());
        // mon strips '%' from its messages (a printf-format guard in its syslog wrapper).
        let clean: String = msg.chars().filter(|&c| c != '%').collect();
        // The pid is read per message: the daemon may have forked since the layer was built.
        let line = format!(
            "<{pri}>{stamp} {}[{}]: {clean}",
            self.ident,
            std::process::id()
        );
        if let Some(s) = guard.as_ref()
            && s.send(line.as_bytes()).is_err()
        {
            // The syslog daemon may have restarted: reconnect on the next message.
            *guard = None;
        }
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    prio: Option<String>,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "prio" => self.prio = Some(value.to_string()),
            name => {
                let _ = write!(self.rest, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "prio" => self.prio = Some(format!("{value:?}")),
            name => {
                let _ = write!(self.rest, " {name}={value:?}");
            }
        }
    }
}

impl<S: Subscriber> Layer<S> for SyslogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let prio = f
            .prio
            .as_deref()
            .and_then(Prio::from_name)
            .unwrap_or_else(|| Prio::from_level(event.metadata().level()));
        f.message.push_str(&f.rest);
        self.send(prio, &f.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_and_facilities() {
        assert_eq!(Prio::Crit.severity(), 2);
        assert_eq!(Prio::from_name("alert"), Some(Prio::Alert));
        assert_eq!(facility_code("daemon"), Some(3));
        assert_eq!(facility_code("LOCAL7"), Some(23));
        assert_eq!(facility_code("bogus"), None);
    }

    #[test]
    fn syslog_layer_writes_mon_format() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("log");
        let rx = UnixDatagram::bind(&path)?;
        let layer = SyslogLayer::new(path, 3, "mon");
        layer.send(Prio::Crit, "failure for g s 100 50% down");
        let mut buf = [0u8; 512];
        let n = rx.recv(&mut buf)?;
        let line = std::str::from_utf8(&buf[..n])?;
        assert!(line.starts_with("<26>"), "{line}");
        assert!(
            line.ends_with(&format!(
                "mon[{}]: failure for g s 100 50 down",
                std::process::id()
            )),
            "{line}"
        );
        Ok(())
    }
}
