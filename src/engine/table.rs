//! Runtime tables built once per configuration (at start and on every reset): script
//! lookups on mondir/alertdir, parsed periods and dependency expressions, and what kind of
//! check each service runs. The hot path only reads these.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::words::quotewords;
use crate::config::{Config, DepBehavior, Schedule, Service};
use crate::depend::Expr;
use crate::logging::{Note, Prio};
use crate::monitors::external::{DEFAULT_MONITOR_TIMEOUT, ScriptTable};
use crate::monitors::native::{self, NativeCheck};
use crate::period::PeriodSpec;
use crate::schedule::Cron;

/// Configuration-wide tables.
pub(crate) struct Tables {
    pub monitors: ScriptTable,
    pub alerts: ScriptTable,
    pub global_exclude: Option<PeriodSpec>,
    /// `MON_STATEDIR`, `MON_LOGDIR`, `MON_CFBASEDIR`.
    pub base_env: Vec<(String, String)>,
}

/// What a service's monitor is.
#[derive(Clone)]
pub(crate) enum MonitorKind {
    /// No `monitor` line (trap-only services).
    None,
    /// The script was not found on mondir.
    Missing,
    /// A mon.d script: full path and the raw argument text.
    External { path: PathBuf, args: String },
    /// An in-process check.
    Native(Arc<NativeCheck>),
    /// A native check whose options are invalid: every run fails with this text.
    NativeError(String),
    /// Benchmarks only: succeed at once.
    Noop,
}

/// A dependency expression, parsed (or why it could not be).
pub(crate) type Parsed = Result<Expr, String>;

/// Per-service dependencies, by the type of check that uses them.
#[derive(Default)]
pub(crate) struct Deps {
    /// Alert-time check (`depend` with `dep_behavior a`, else `alertdepend`).
    pub a: Option<(String, Parsed)>,
    /// Monitor-time check (`depend` with `dep_behavior m`, else `monitordepend`).
    pub m: Option<(String, Parsed)>,
    /// Host exclusion (`depend` with `dep_behavior hm`, else `hostdepend`): the parents.
    pub h: Option<Vec<(String, String)>>,
}

/// The per-service runtime tables.
pub(crate) struct SvcTable {
    pub monitor: MonitorKind,
    /// The monitor's name (logs, the timeout line).
    pub monitor_name: String,
    pub timeout: Duration,
    pub periods: Vec<PeriodSpec>,
    pub exclude: Option<PeriodSpec>,
    pub deps: Deps,
    pub cron: Option<Cron>,
}

/// Build the configuration-wide tables; returns them and what mon logs at load time.
pub(crate) fn tables(
    cfg: &Config,
    paths: &crate::config::paths::Paths,
    bench_noop: bool,
) -> (Tables, Vec<Note>) {
    let mut notes = Vec::new();
    let mon_names = cfg.services().filter_map(|(_, s)| {
        s.monitor
            .as_ref()
            .map(|m| m.name.as_str())
            .filter(|n| !(bench_noop && *n == "noop"))
    });
    let (monitors, missing) = ScriptTable::build(&paths.mondir, mon_names);
    for m in &missing {
        notes.push(Note::new(Prio::Err, monitors.missing_message(m)));
    }
    let alert_names = cfg.services().flat_map(|(_, s)| {
        s.periods
            .iter()
            .flat_map(|p| {
                p.alerts
                    .iter()
                    .chain(&p.upalerts)
                    .chain(&p.startupalerts)
                    .chain(&p.ackalerts)
                    .chain(&p.disablealerts)
            })
            .chain(s.redistribute.iter())
            .map(|l| l.name.as_str())
    });
    let (alerts, missing) = ScriptTable::build(&paths.alertdir, alert_names);
    for m in &missing {
        if crate::alerts::actions::select(m, &[], None).is_none() {
            notes.push(Note::new(Prio::Err, alerts.missing_message(m)));
        }
    }
    let base_env = vec![
        (
            "MON_STATEDIR".to_string(),
            paths.statedir.display().to_string(),
        ),
        ("MON_LOGDIR".to_string(), paths.logdir.display().to_string()),
        (
            "MON_CFBASEDIR".to_string(),
            cfg.globals
                .cfbasedir
                .clone()
                .unwrap_or_else(|| paths.cfbasedir.display().to_string()),
        ),
    ];
    let global_exclude = cfg
        .globals
        .exclude_period
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(PeriodSpec::new);
    (
        Tables {
            monitors,
            alerts,
            global_exclude,
            base_env,
        },
        notes,
    )
}

fn parse_dep(text: &Option<String>) -> Option<(String, Parsed)> {
    let t = text.as_deref()?.trim();
    if t.is_empty() {
        return None;
    }
    Some((t.to_string(), Expr::parse(t).map_err(|e| e.to_string())))
}

/// Build one service's runtime table.
pub(crate) fn service(
    cfg: &Config,
    tables: &Tables,
    svc: &Service,
    bench_noop: bool,
    notes: &mut Vec<Note>,
    who: &str,
) -> SvcTable {
    let (monitor, monitor_name) = match &svc.monitor {
        None => (MonitorKind::None, String::new()),
        Some(m) if bench_noop && m.name == "noop" => (MonitorKind::Noop, m.name.clone()),
        Some(m) => {
            let script = tables.monitors.get(&m.name).map(|p| p.to_path_buf());
            let native = quotewords(&m.args)
                .and_then(|args| native::select(&m.name, &args, script.as_deref(), &cfg.globals));
            let kind = match (native, script) {
                (Some(Ok(check)), _) => MonitorKind::Native(Arc::new(check)),
                (Some(Err(text)), _) => MonitorKind::NativeError(text),
                (None, Some(path)) => MonitorKind::External {
                    path,
                    args: m.args.clone(),
                },
                (None, None) => MonitorKind::Missing,
            };
            (kind, m.name.clone())
        }
    };
    let timeout = svc
        .monitor_timeout
        .or(cfg.globals.monitor_timeout)
        .unwrap_or(DEFAULT_MONITOR_TIMEOUT);
    let deps = Deps {
        a: match svc.dep_behavior {
            DepBehavior::Alert if svc.depend.is_some() => parse_dep(&svc.depend),
            _ => parse_dep(&svc.alertdepend),
        },
        m: match svc.dep_behavior {
            DepBehavior::Monitor if svc.depend.is_some() => parse_dep(&svc.depend),
            _ => parse_dep(&svc.monitordepend),
        },
        h: match svc.dep_behavior {
            DepBehavior::Host if svc.depend.is_some() => parse_dep(&svc.depend),
            _ => parse_dep(&svc.hostdepend),
        }
        .map(|(text, _)| refs_of(&text)),
    };
    for (text, p) in [&deps.a, &deps.m].into_iter().flatten() {
        for (g, sv) in refs_of(text) {
            if cfg.service(&g, &sv).is_none() {
                notes.push(Note::new(
                    Prio::Notice,
                    format!(
                        "{who}: dependency {text:?} refers to {g}:{sv}, which is not defined;                          monrs counts it as up (mon would mute this service for good)"
                    ),
                ));
            }
        }
        if let Err(e) = p {
            notes.push(Note::new(
                Prio::Notice,
                format!(
                    "eval error for dependency starting at {text}: {e} ({who}; monrs does not \
                     apply this dependency)"
                ),
            ));
        }
    }
    let cron = match &svc.schedule {
        Schedule::Cron(expr) => match Cron::parse(expr) {
            Ok(c) => Some(c),
            Err(e) => {
                notes.push(Note::new(
                    Prio::Err,
                    format!("{who}: bad cron expression {expr:?}: {e}; the service will not run"),
                ));
                None
            }
        },
        _ => None,
    };
    SvcTable {
        monitor,
        monitor_name,
        timeout,
        periods: svc
            .periods
            .iter()
            .map(|p| PeriodSpec::new(&p.spec))
            .collect(),
        exclude: svc
            .exclude_period
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(PeriodSpec::new),
        deps,
        cron,
    }
}

/// The `group:service` tokens of an expression, the way mon finds them
/// (`[a-zA-Z0-9_.-]+:[a-zA-Z0-9_.-]+`): the parents `hm` dependencies look at.
pub(crate) fn refs_of(text: &str) -> Vec<(String, String)> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let mut out: Vec<(String, String)> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if ok(chars[i]) {
            let start = i;
            while i < chars.len() && ok(chars[i]) {
                i += 1;
            }
            if i < chars.len() && chars[i] == ':' && i + 1 < chars.len() && ok(chars[i + 1]) {
                let g: String = chars[start..i].iter().collect();
                i += 1;
                let s_start = i;
                while i < chars.len() && ok(chars[i]) {
                    i += 1;
                }
                let s: String = chars[s_start..i].iter().collect();
                if !out.iter().any(|(a, b)| *a == g && *b == s) {
                    out.push((g, s));
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_like_mon() {
        assert_eq!(
            refs_of("g1:s1 && (g2:s.2 || !x)"),
            vec![("g1".into(), "s1".into()), ("g2".into(), "s.2".into())]
        );
        assert!(refs_of("nothing here").is_empty());
    }
}
