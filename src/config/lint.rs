//! Findings that need the whole file: mon's own end-of-read warnings, dependency
//! references, services that can never run, lookup quirks, and (given the effective
//! search paths) monitor and alert scripts that do not exist.

use std::collections::HashSet;
use std::path::Path;

use jiff::Zoned;

use super::diag::Snippet;
use super::lines::Source;
use super::model::{Config, Schedule};
use super::paths::Paths;
use super::reader::{AlertRef, AlertSite, Reader};
use super::words::{is_perl_space, quotewords};
use super::{Severity, Warning};
use crate::depend::Expr;

/// What `post` found.
pub(crate) struct Post {
    pub(crate) warnings: Vec<Warning>,
    /// `s:` findings for `mondir` and `alertdir`, kept apart (a command-line option may
    /// replace the value).
    pub(crate) path_lists: Vec<(&'static str, Warning)>,
}

/// A monitor or alert line of the config, by position in it (nothing copied).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScriptRef {
    Monitor {
        watch: usize,
        service: usize,
        site: AlertSite,
    },
    Alert(AlertRef),
}

impl ScriptRef {
    /// (is a monitor, name, unsplit arguments, where the name is) of the referenced line.
    fn resolve<'c>(&self, cfg: &'c Config) -> Option<(bool, &'c str, &'c str, AlertSite)> {
        match self {
            ScriptRef::Monitor {
                watch,
                service,
                site,
            } => {
                let m = cfg
                    .watches
                    .get(*watch)?
                    .services
                    .get(*service)?
                    .monitor
                    .as_ref()?;
                let len = u32::try_from(m.name.chars().count()).unwrap_or(1);
                Some((true, &m.name, &m.args, AlertSite { len, ..*site }))
            }
            ScriptRef::Alert(a) => {
                let line = a.line(cfg)?;
                let off = line.raw.find(&line.name).unwrap_or(0);
                let col = a.site.col + u32::try_from(line.raw[..off].chars().count()).unwrap_or(0);
                let len = u32::try_from(line.name.chars().count()).unwrap_or(1);
                Some((
                    false,
                    &line.name,
                    &line.args,
                    AlertSite {
                        line: a.site.line,
                        col,
                        len,
                    },
                ))
            }
        }
    }
}

struct Out<'a> {
    path: &'a Path,
    src: &'a Source,
    warnings: Vec<Warning>,
}

impl Out<'_> {
    fn push(
        &mut self,
        at: (u32, u32, u32),
        severity: Severity,
        message: String,
        suggestion: Option<String>,
        mon_message: Option<String>,
    ) {
        self.warnings.push(make(
            self.path,
            self.src,
            at,
            severity,
            message,
            suggestion,
            mon_message,
        ));
    }
}

fn make(
    path: &Path,
    src: &Source,
    (line, col, len): (u32, u32, u32),
    severity: Severity,
    message: String,
    suggestion: Option<String>,
    mon_message: Option<String>,
) -> Warning {
    Warning {
        path: path.to_path_buf(),
        line,
        col,
        message,
        suggestion,
        severity,
        mon_message,
        snippet: (line > 0).then(|| Snippet {
            text: src.line(line).to_string(),
            col,
            len: len.max(1),
        }),
    }
}

/// The column (1-based, characters) of `needle` in physical line `line`, and its length.
fn find_in_line(src: &Source, line: u32, needle: &str) -> (u32, u32, u32) {
    let text = src.line(line);
    let len = u32::try_from(needle.chars().count()).unwrap_or(1);
    match text.find(needle) {
        Some(i) => (
            line,
            u32::try_from(text[..i].chars().count() + 1).unwrap_or(1),
            len,
        ),
        None => {
            let lead = text.len() - text.trim_start_matches(is_perl_space).len();
            (
                line,
                u32::try_from(text[..lead].chars().count() + 1).unwrap_or(1),
                u32::try_from(text.trim_matches(is_perl_space).chars().count()).unwrap_or(1),
            )
        }
    }
}

fn site(s: &AlertSite) -> (u32, u32, u32) {
    (s.line, s.col, s.len)
}

pub(crate) fn post(r: &Reader<'_>, src: &Source, path: &Path, now: &Zoned) -> Post {
    let cfg = &r.cfg;
    let mut out = Out {
        path,
        src,
        warnings: Vec::new(),
    };

    // mon's "Warning: hostgroup G has no watch assigned to it!" (a watch counts only if
    // it has a service).
    let used: HashSet<&str> = cfg
        .watches
        .iter()
        .filter(|w| !w.services.is_empty())
        .map(|w| w.name.as_str())
        .collect();
    for g in &cfg.hostgroups {
        if used.contains(g.name.as_str()) {
            continue;
        }
        let at = find_in_line(src, g.line, &g.name);
        out.push(
            at,
            Severity::Warning,
            format!(
                "hostgroup `{}` is not used by any watch with services",
                g.name
            ),
            None,
            Some(format!(
                "Warning: hostgroup {} has no watch assigned to it!",
                g.name
            )),
        );
    }

    dependencies(r, &mut out);

    for (wi, w) in cfg.watches.iter().enumerate() {
        for (si, s) in w.services.iter().enumerate() {
            let at = r
                .side
                .services
                .get(&(wi, si))
                .copied()
                .unwrap_or_else(|| find_in_line(src, s.line, &s.name));
            if s.monitor.is_some() && s.schedule == Schedule::None {
                out.push(
                    at,
                    Severity::Reject,
                    format!(
                        "service {}/{} has a monitor but neither `interval` nor `cron`: mon never runs it",
                        w.name, s.name
                    ),
                    Some("add `interval 5m` (or `cron \"*/5 * * * *\"`); a trap-only service has no `monitor` line".into()),
                    None,
                );
            }
            if s.alertdepend.is_some() && s.depend.is_none() && s.monitordepend.is_none() {
                out.push(
                    at,
                    Severity::Warning,
                    format!(
                        "service {}/{} has `alertdepend` without `depend` or `monitordepend`: mon never evaluates it and suppresses every failure alert of this service",
                        w.name, s.name
                    ),
                    Some("use `depend EXPR` (with the default dep_behavior a) instead".into()),
                    None,
                );
            }
            if let (Some(m), Some(pos)) = (&s.monitor, r.side.monitors.get(&(wi, si))) {
                monitor_args(&mut out, m.raw.as_str(), pos);
            }
            for (pi, p) in s.periods.iter().enumerate() {
                if period_never_active(&p.spec, now) {
                    let at = r
                        .side
                        .periods
                        .get(&(wi, si, pi))
                        .map(site)
                        .unwrap_or_else(|| find_in_line(src, p.line, &p.spec));
                    out.push(
                        at,
                        Severity::Warning,
                        format!(
                            "period `{}` of {}/{} can never be active: its alerts never run",
                            p.label, w.name, s.name
                        ),
                        None,
                        None,
                    );
                }
            }
        }
    }

    redistribute(r, &mut out);

    let mut path_lists = Vec::new();
    for which in ["mondir", "alertdir"] {
        let value = match which {
            "mondir" => cfg.globals.mondir.as_deref(),
            _ => cfg.globals.alertdir.as_deref(),
        };
        if let (Some(v), Some(pos)) = (value, r.side.globals.get(which))
            && let Some((msg, help)) = s_colon_quirk(v)
        {
            path_lists.push((
                which,
                make(
                    path,
                    src,
                    site(pos),
                    Severity::Warning,
                    format!("{which}: {msg}"),
                    Some(help),
                    None,
                ),
            ));
        }
    }
    out.warnings
        .extend(path_lists.iter().map(|(_, w)| w.clone()));

    Post {
        warnings: out.warnings,
        path_lists,
    }
}

/// Whether a period spec can never be active from `now` on (`none`, `yr {2019}`,
/// `mo {feb} md {30}`...). A malformed spec is reported elsewhere, not here.
fn period_never_active(spec: &str, now: &Zoned) -> bool {
    crate::period::PeriodSpec::new(spec).can_match(now) == Some(false)
}

fn monitor_args(out: &mut Out<'_>, raw: &str, pos: &AlertSite) {
    let hash = raw
        .split(is_perl_space)
        .position(|w| w.starts_with('#'))
        .and_then(|_| raw.find(" #").or_else(|| raw.find("\t#")).map(|i| i + 1));
    if let Some(i) = hash {
        let col = pos.col + u32::try_from(raw[..i].chars().count()).unwrap_or(0);
        out.push(
            (
                pos.line,
                col,
                u32::try_from(raw[i..].chars().count()).unwrap_or(1),
            ),
            Severity::Warning,
            format!(
                "`{}` is not a comment: mon passes it to the monitor as arguments",
                &raw[i..]
            ),
            Some("move the comment to a line of its own starting with `#`".into()),
            None,
        );
    }
    if quotewords(raw).is_none() {
        out.push(
            site(pos),
            Severity::Warning,
            "unbalanced quote in the monitor line: mon splits it into no words at all, runs the first host name as the command, and the service always fails".into(),
            Some("close the quote (use '...' for text with backslashes)".into()),
            None,
        );
    }
}

fn dependencies(r: &Reader<'_>, out: &mut Out<'_>) {
    let cfg = &r.cfg;
    // A keyword given twice: the last line is the one in force.
    let mut seen = HashSet::new();
    let sites: Vec<_> = r
        .side
        .depends
        .iter()
        .rev()
        .filter(|d| seen.insert((d.watch, d.service, d.keyword)))
        .collect();
    for d in sites.into_iter().rev() {
        let Some(svc) = cfg
            .watches
            .get(d.watch)
            .and_then(|w| w.services.get(d.service))
        else {
            continue;
        };
        let text = match d.keyword {
            "depend" => svc.depend.as_deref(),
            "alertdepend" => svc.alertdepend.as_deref(),
            "monitordepend" => svc.monitordepend.as_deref(),
            _ => svc.hostdepend.as_deref(),
        };
        let Some(text) = text else { continue };
        // In the `hm` role mon does not evaluate the expression: it only takes the
        // group:service tokens out of it.
        let host_role = d.keyword == "hostdepend"
            || (d.keyword == "depend" && svc.dep_behavior == super::model::DepBehavior::Host);
        let col_of = |byte: usize| -> u32 {
            d.col
                + d.col_map
                    .get(byte)
                    .or(d.col_map.last())
                    .copied()
                    .unwrap_or(0)
        };
        match Expr::parse(text) {
            Err(_) if host_role => {}
            Err(e) => {
                let byte = (e.col.saturating_sub(1)) as usize;
                let words: Vec<&str> = text
                    .split(is_perl_space)
                    .filter(|t| !t.is_empty())
                    .collect();
                let looks_like_list = words.len() > 1 && words.iter().all(|t| t.contains(':'));
                out.push(
                    (d.line, col_of(byte), 1),
                    Severity::Warning,
                    format!(
                        "{} expression is not valid ({}): mon evaluates it as Perl, gets an error, and the dependency never passes{}",
                        d.keyword,
                        e.message,
                        if d.keyword == "monitordepend" || svc.dep_behavior == super::model::DepBehavior::Monitor {
                            " (the monitor never runs)"
                        } else {
                            " (every failure alert is suppressed)"
                        }
                    ),
                    looks_like_list.then(|| {
                        "join the services with `&&` (all must be up) or `||` (any)".to_string()
                    }),
                    None,
                );
            }
            Ok(expr) => {
                for (g, s) in expr.refs() {
                    if cfg.service(&g, &s).is_some() {
                        continue;
                    }
                    let token = format!("{g}:{s}");
                    let byte = text.find(&token).unwrap_or(0);
                    let suggestion = cfg
                        .watch(&g)
                        .and_then(|w| {
                            let names: Vec<&str> =
                                w.services.iter().map(|s| s.name.as_str()).collect();
                            super::reader::suggest(&s, &names)
                                .map(|n| format!("did you mean `{g}:{n}`?"))
                        })
                        .or_else(|| {
                            let names: Vec<&str> =
                                cfg.watches.iter().map(|w| w.name.as_str()).collect();
                            super::reader::suggest(&g, &names)
                                .map(|n| format!("did you mean `{n}:{s}`?"))
                        });
                    out.push(
                        (
                            d.line,
                            col_of(byte),
                            u32::try_from(token.chars().count()).unwrap_or(1),
                        ),
                        Severity::Warning,
                        format!(
                            "{} refers to `{token}`, which is not defined: {}",
                            d.keyword,
                            if host_role {
                                "it never fails, so it never removes a host"
                            } else {
                                "mon counts it as failing forever"
                            }
                        ),
                        suggestion,
                        None,
                    );
                }
            }
        }
    }
}

/// mon builds its alert table from every alert-type line with `s/^(\S+=\S+ )*(\S+).*$/$2/`,
/// but from the *whole* `redistribute` value; at call time it looks up only the first
/// word. So `redistribute foo.alert ARGS` works only if `foo.alert` is named elsewhere.
fn redistribute(r: &Reader<'_>, out: &mut Out<'_>) {
    let cfg = &r.cfg;
    let with_args =
        r.side.alerts.iter().any(|a| {
            a.keyword == "redistribute" && a.line(cfg).is_some_and(|l| !l.args.is_empty())
        });
    if !with_args {
        return;
    }
    let lines = || {
        r.side
            .alerts
            .iter()
            .filter_map(|a| a.line(cfg).map(|l| (a, l)))
    };
    let table: HashSet<String> = lines()
        .map(|(a, line)| {
            if a.keyword == "redistribute" {
                line.raw.clone()
            } else {
                line.table_name()
            }
        })
        .collect();
    for (a, line) in lines() {
        if a.keyword != "redistribute" || line.args.is_empty() || table.contains(&line.name) {
            continue;
        }
        out.push(
            site(&a.site),
            Severity::Warning,
            format!(
                "mon looks up `{}` (the whole line) when it starts and `{}` when it calls it, so this redistribute never runs unless an alert line names `{}`",
                line.raw, line.name, line.name
            ),
            Some(format!(
                "name `{}` in some alert line too, or drop the arguments",
                line.name
            )),
            None,
        );
    }
}

/// mon splits `mondir`/`alertdir` on `s*:s*` (lost backslashes), so letters `s` next to
/// a colon vanish. Returns the message and help when mon's split differs from ours.
pub(crate) fn s_colon_quirk(value: &str) -> Option<(String, String)> {
    let ours: Vec<&str> = value.split(':').collect();
    let mons = mon_split(value);
    if ours == mons {
        return None;
    }
    let changed: Vec<String> = ours
        .iter()
        .zip(mons.iter())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("`{b}` instead of `{a}`"))
        .collect();
    Some((
        format!(
            "mon drops the letter `s` next to a colon here and searches {}; monrs splits on `:` and searches the directories as written",
            changed.join(", ")
        ),
        "to behave the same under mon, end such directories with `/` before the colon (e.g. `tests/:`)".into(),
    ))
}

/// Perl's `split(/s*:s*/, $v)`: trailing empty fields removed.
fn mon_split(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in value.match_indices(':') {
        let mut end = i;
        while end > start && value.as_bytes()[end - 1] == b's' {
            end -= 1;
        }
        out.push(&value[start..end]);
        let mut next = i + 1;
        while next < value.len() && value.as_bytes()[next] == b's' {
            next += 1;
        }
        start = next;
    }
    out.push(&value[start.min(value.len())..]);
    while out.last().is_some_and(|s| s.is_empty()) {
        out.pop();
    }
    out
}

/// Every monitor and alert line the config uses.
pub(crate) fn script_refs(cfg: &Config, side: &super::reader::Side) -> Vec<ScriptRef> {
    let mut refs = Vec::new();
    for (wi, w) in cfg.watches.iter().enumerate() {
        for si in 0..w.services.len() {
            if let Some(site) = side.monitors.get(&(wi, si)) {
                refs.push(ScriptRef::Monitor {
                    watch: wi,
                    service: si,
                    site: *site,
                });
            }
        }
    }
    refs.extend(side.alerts.iter().copied().map(ScriptRef::Alert));
    refs
}

/// Monitors and alerts not found in the effective search paths (first executable file
/// wins, as mon's lookup), unless monrs runs them natively. Only directories that exist
/// are considered; with none, nothing is reported.
pub(crate) fn scripts(
    cfg: &Config,
    refs: &[ScriptRef],
    paths: &Paths,
    src: &Source,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    // Each name is looked up once: a big config names the same few scripts many times.
    let mut seen: HashSet<(bool, &str)> = HashSet::new();
    let existing_mondirs: Vec<&std::path::PathBuf> =
        paths.mondir.iter().filter(|d| d.is_dir()).collect();
    let existing_alertdirs: Vec<&std::path::PathBuf> =
        paths.alertdir.iter().filter(|d| d.is_dir()).collect();
    for r in refs {
        let Some((monitor, name, args, at)) = r.resolve(cfg) else {
            continue;
        };
        if name.is_empty() || name == "=" || !seen.insert((monitor, name)) {
            continue;
        }
        let (dirs, existing) = if monitor {
            (&paths.mondir, &existing_mondirs)
        } else {
            (&paths.alertdir, &existing_alertdirs)
        };
        if existing.is_empty() || existing.iter().any(|d| is_executable(&d.join(name))) {
            continue;
        }
        let words = quotewords(args).unwrap_or_default();
        let native = if monitor {
            crate::monitors::native::select(name, &words, None, &cfg.globals).is_some()
        } else {
            crate::alerts::actions::select(name, &words, None).is_some()
        };
        if native {
            continue;
        }
        let list = dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        let (what, effect, dirname, flag, mon_list) = if monitor {
            (
                "monitor",
                "mon logs it at startup and the service never runs",
                "mondir",
                "s",
                "scriptdirs",
            )
        } else {
            (
                "alert",
                "mon logs it at startup and every time the alert should run; it never runs",
                "alertdir",
                "a",
                // sic: mon's message spells it this way.
                "alerttdirs",
            )
        };
        warnings.push(make(
            &cfg.source,
            src,
            (at.line, at.col, at.len),
            Severity::Warning,
            format!("{what} `{name}` is not an executable file in {dirname} ({list}): {effect}"),
            Some(format!(
                "install it there, or set {dirname} (or the -{flag} option) to the directory that holds it"
            )),
            Some(format!(
                "{name} not found in one of (@{mon_list}[{}])",
                existing
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        ));
    }
    warnings
}

fn is_executable(p: &Path) -> bool {
    p.is_file() && nix::unistd::access(p, nix::unistd::AccessFlags::X_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_mons_broken_regex() {
        assert_eq!(
            mon_split("/opt/mon/tests:/usr/lib/mon/mon.d"),
            vec!["/opt/mon/test", "/usr/lib/mon/mon.d"]
        );
        assert_eq!(mon_split("a:b"), vec!["a", "b"]);
        assert_eq!(mon_split("/x/scripts:/y"), vec!["/x/script", "/y"]);
        assert_eq!(mon_split("/x:/y:"), vec!["/x", "/y"]);
        assert!(s_colon_quirk("/usr/lib/mon/mon.d:/usr/local/lib/mon/mon.d").is_none());
        assert!(s_colon_quirk("/opt/tests:/usr/lib/mon/mon.d").is_some());
        assert!(s_colon_quirk("/opt/tests/:/usr/lib/mon/mon.d").is_none());
        assert!(s_colon_quirk("/a:scripts").is_some());
    }
}
