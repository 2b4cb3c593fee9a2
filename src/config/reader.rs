//! Stage 2 of the reader: mon's line-state machine over logical lines (config.md §3–§5),
//! building the typed `Config` and stopping at the first error, as mon does.
//!
//! Each check runs in mon's order; each error carries mon's exact `cf error:` text next to
//! our located message. Lint findings that need the whole file live in `lint`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use jiff::Zoned;

use super::diag::Snippet;
use super::grammar::{self, AlertAfter, Part};
use super::lines::{Logical, Source};
use super::model::*;
use super::words::is_perl_space;
use super::{ConfigError, Severity, Warning, cron, timeval};
use crate::period::{Membership, PeriodSpec};

/// The longest time value monrs accepts (mon has no limit; a larger one is surely a typo
/// and would overflow timers).
const MAX_TIMEVAL_SECS: f64 = 100.0 * 365.0 * 86400.0;

/// Where a dependency expression was written, for the lints that parse it.
#[derive(Debug, Clone)]
pub(crate) struct DependSite {
    pub(crate) watch: usize,
    pub(crate) service: usize,
    pub(crate) keyword: &'static str,
    /// Physical line and 1-based column of the expression text.
    pub(crate) line: u32,
    pub(crate) col: u32,
    /// For each byte of the substituted text, the column offset into the written text
    /// (`SELF:` substitution changes lengths).
    pub(crate) col_map: Vec<u32>,
}

/// Where a piece of text was written: physical line, column and length in characters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlertSite {
    pub(crate) line: u32,
    pub(crate) col: u32,
    pub(crate) len: u32,
}

/// Where an alert-type line is in the config (indices, to avoid copying lines).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlertRef {
    pub(crate) watch: usize,
    pub(crate) service: usize,
    /// `alert`, `upalert`, `startupalert`, `ackalert`, `disablealert` or `redistribute`.
    pub(crate) keyword: &'static str,
    pub(crate) period: usize,
    pub(crate) index: usize,
    pub(crate) site: AlertSite,
}

impl AlertRef {
    /// The line this refers to.
    pub(crate) fn line<'c>(&self, cfg: &'c Config) -> Option<&'c AlertLine> {
        let svc = cfg.watches.get(self.watch)?.services.get(self.service)?;
        if self.keyword == "redistribute" {
            return svc.redistribute.as_ref();
        }
        let p = svc.periods.get(self.period)?;
        let list = match self.keyword {
            "alert" => &p.alerts,
            "upalert" => &p.upalerts,
            "startupalert" => &p.startupalerts,
            "ackalert" => &p.ackalerts,
            _ => &p.disablealerts,
        };
        list.get(self.index)
    }
}

/// What the lints need besides the config.
#[derive(Debug, Default)]
pub(crate) struct Side {
    pub(crate) depends: Vec<DependSite>,
    /// (watch, service) → position of the `service` name.
    pub(crate) services: HashMap<(usize, usize), (u32, u32, u32)>,
    /// (watch, service) → position of the `monitor` arguments.
    pub(crate) monitors: HashMap<(usize, usize), AlertSite>,
    /// Alert-type and redistribute lines in config order.
    pub(crate) alerts: Vec<AlertRef>,
    /// (watch, service, period) → position of the period spec.
    pub(crate) periods: HashMap<(usize, usize, usize), AlertSite>,
    /// Global `mondir` / `alertdir` / `exclude_period` positions, last one wins.
    pub(crate) globals: HashMap<&'static str, AlertSite>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    None,
    HostGroup(usize),
    Alias(usize),
    View(usize),
    Watch(usize),
}

/// Lines that mon skipped silently at top level, collected for one warning per run.
#[derive(Debug, Clone)]
struct Ignored {
    first: u32,
    last: u32,
    first_text: String,
    first_col: u32,
    /// The watch the blank line before this run ended, and that blank line.
    after_watch: Option<(String, u32)>,
}

pub(crate) struct Reader<'a> {
    src: &'a Source,
    path: &'a Path,
    now: Zoned,
    readable: &'a dyn Fn(&Path) -> bool,
    pub(crate) cfg: Config,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) side: Side,
    mode: Mode,
    service: Option<usize>,
    period: Option<usize>,
    dep_behavior: DepBehavior,
    dep_memory: Option<Duration>,
    unack_summary: bool,
    groups: HashMap<String, usize>,
    watches: HashMap<String, usize>,
    services: HashMap<(usize, String), usize>,
    /// Watches that have had a `service` line (mon's "already defined" test).
    watch_has_services: HashSet<usize>,
    /// The current hostgroup record already has a "swallowed" warning.
    swallow_warned: bool,
    /// The last record that a blank line ended, if it was a watch: (name, blank line).
    ended_watch: Option<(String, u32)>,
    ignored: Option<Ignored>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(
        src: &'a Source,
        path: &'a Path,
        now: Zoned,
        readable: &'a dyn Fn(&Path) -> bool,
    ) -> Self {
        Reader {
            src,
            path,
            now,
            readable,
            cfg: Config {
                source: path.to_path_buf(),
                globals: Globals::default(),
                hostgroups: Vec::new(),
                aliases: Vec::new(),
                views: Vec::new(),
                watches: Vec::new(),
            },
            warnings: Vec::new(),
            side: Side::default(),
            mode: Mode::None,
            service: None,
            period: None,
            dep_behavior: DepBehavior::Alert,
            dep_memory: None,
            unack_summary: false,
            groups: HashMap::new(),
            watches: HashMap::new(),
            services: HashMap::new(),
            watch_has_services: HashSet::new(),
            swallow_warned: false,
            ended_watch: None,
            ignored: None,
        }
    }

    // === locations and findings ===

    /// Physical line, column and character length of `len` bytes at byte offset `off` of
    /// the logical line.
    fn pos(&self, l: &Logical, off: usize, len: usize) -> AlertSite {
        let off = off.min(l.text.len());
        let (line, col) = l.locate(self.src, off);
        let chars = l
            .text
            .get(off..(off + len).min(l.text.len()))
            .map_or(1, |s| s.chars().count());
        AlertSite {
            line,
            col,
            len: u32::try_from(chars.max(1)).unwrap_or(u32::MAX),
        }
    }

    /// `pos` plus the snippet to render.
    fn loc(&self, l: &Logical, off: usize, len: usize) -> (u32, u32, Snippet) {
        let p = self.pos(l, off, len);
        let snippet = Snippet {
            text: self.src.line(p.line).to_string(),
            col: p.col,
            len: p.len,
        };
        (p.line, p.col, snippet)
    }

    fn error(
        &self,
        l: &Logical,
        span: (usize, usize),
        message: String,
        hint: Option<String>,
        mon: Option<String>,
    ) -> ConfigError {
        let (line, col, snippet) = self.loc(l, span.0, span.1);
        ConfigError {
            path: self.path.to_path_buf(),
            line,
            col,
            message,
            mon_message: mon,
            hint,
            snippet: Some(Box::new(snippet)),
        }
    }

    /// mon's `cf error: WHAT, line N` (N = the physical line the logical line ended on).
    fn mon(l: &Logical, what: impl std::fmt::Display) -> Option<String> {
        Some(format!("cf error: {what}, line {}", l.end_line))
    }

    fn warn(
        &mut self,
        l: &Logical,
        span: (usize, usize),
        severity: Severity,
        message: String,
        suggestion: Option<String>,
    ) {
        let (line, col, snippet) = self.loc(l, span.0, span.1);
        self.warnings.push(Warning {
            path: self.path.to_path_buf(),
            line,
            col,
            message,
            suggestion,
            severity,
            mon_message: None,
            snippet: Some(snippet),
        });
    }

    fn site(&self, l: &Logical, p: Part<'_>) -> AlertSite {
        self.pos(l, p.off, p.text.len())
    }

    // === the main loop ===

    /// After the last line: findings that wait for the end of a run of lines.
    pub(crate) fn finish(&mut self) {
        self.flush_ignored();
    }

    /// Read one logical line (mon's loop body).
    pub(crate) fn line(&mut self, l: &Logical) -> Result<(), ConfigError> {
        let text = l.text.as_str();
        let in_watch = matches!(self.mode, Mode::Watch(_));

        // 1. A global assignment, anywhere but inside a watch.
        if !in_watch && let Some((name, value)) = grammar::global_assign(text) {
            self.flush_ignored();
            return self.global(l, name, value);
        }

        // 2. A blank line ends the record.
        if text.is_empty() {
            self.flush_ignored();
            if let Mode::Watch(w) = self.mode {
                self.ended_watch = Some((self.cfg.watches[w].name.clone(), l.end_line));
            } else if !matches!(self.mode, Mode::None) {
                self.ended_watch = None;
            }
            self.mode = Mode::None;
            self.service = None;
            self.period = None;
            return Ok(());
        }

        // 3. A hostgroup header, in any state.
        if let Some((name, hosts)) = grammar::hostgroup_hdr(text) {
            self.flush_ignored();
            self.ended_watch = None;
            self.hostgroup(l, name, hosts);
            return Ok(());
        }

        // 4. Inside a hostgroup, every other line is more hosts.
        if let Mode::HostGroup(g) = self.mode {
            self.more_hosts(l, g);
            return Ok(());
        }

        // 5, 6. Alias header; alias lines are kept verbatim.
        if let Some(name) = grammar::alias_hdr(text) {
            self.flush_ignored();
            self.ended_watch = None;
            let idx = match self.cfg.aliases.iter().position(|a| a.name == name.text) {
                Some(i) => i,
                None => {
                    self.cfg.aliases.push(Alias {
                        name: name.text.to_string(),
                        lines: Vec::new(),
                        line: l.start_line(),
                    });
                    self.cfg.aliases.len() - 1
                }
            };
            self.mode = Mode::Alias(idx);
            self.period = None;
            return Ok(());
        }
        if let Mode::Alias(a) = self.mode {
            self.cfg.aliases[a].lines.push(text.to_string());
            return Ok(());
        }

        // 7, 8. View header; view lines add words.
        if let Some((name, items)) = grammar::view_hdr(text) {
            self.flush_ignored();
            self.ended_watch = None;
            let view = View {
                name: name.text.to_string(),
                items: Vec::new(),
                line: l.start_line(),
            };
            // A view defined again starts over (mon: `$new_views{$curview} = {}`).
            let idx = match self.cfg.views.iter().position(|v| v.name == name.text) {
                Some(i) => {
                    self.cfg.views[i] = view;
                    i
                }
                None => {
                    self.cfg.views.push(view);
                    self.cfg.views.len() - 1
                }
            };
            add_words(&mut self.cfg.views[idx].items, items.text, true);
            self.mode = Mode::View(idx);
            self.period = None;
            return Ok(());
        }
        if let Mode::View(v) = self.mode {
            add_words(&mut self.cfg.views[v].items, text, true);
            return Ok(());
        }

        // 9. Watch header.
        if let Some((name, _ignored)) = grammar::watch_hdr(text) {
            self.flush_ignored();
            self.ended_watch = None;
            return self.watch(l, name);
        }

        // 10. Inside a watch: a service, period or keyword line.
        if let Mode::Watch(w) = self.mode {
            return self.watch_body(l, w);
        }

        // 11. Anything else is silently ignored by mon.
        self.ignore(l);
        Ok(())
    }

    // === records ===

    fn hostgroup(&mut self, l: &Logical, name: Part<'_>, hosts: Part<'_>) {
        let mut list = Vec::new();
        add_words(&mut list, hosts.text, false);
        let group = HostGroup {
            name: name.text.to_string(),
            hosts: list,
            line: l.start_line(),
            auto: false,
        };
        let idx = match self.groups.get(name.text) {
            Some(&i) => {
                self.cfg.hostgroups[i] = group;
                i
            }
            None => {
                self.cfg.hostgroups.push(group);
                self.groups
                    .insert(name.text.to_string(), self.cfg.hostgroups.len() - 1);
                self.cfg.hostgroups.len() - 1
            }
        };
        self.mode = Mode::HostGroup(idx);
        self.period = None;
        self.swallow_warned = false;
        // `hostgroup my@group h1` defines `my` with hosts `@group h1`.
        let after = &l.text[name.off + name.text.len()..];
        if after.starts_with(|c: char| !is_perl_space(c)) {
            let off = name.off + name.text.len();
            self.warn(
                l,
                (off, 1),
                Severity::Warning,
                format!(
                    "hostgroup name stops at `{}`: mon defines hostgroup `{}` and reads the rest as host names",
                    after.chars().next().unwrap_or(' '),
                    name.text
                ),
                Some("hostgroup names may contain only letters, digits, `_`, `.` and `-`".into()),
            );
        }
        self.check_swallowed(l, idx, hosts.text, hosts.off);
    }

    fn more_hosts(&mut self, l: &Logical, g: usize) {
        add_words(&mut self.cfg.hostgroups[g].hosts, &l.text, false);
        self.check_swallowed(l, g, &l.text, 0);
    }

    /// Warn once per hostgroup record when it took in words that belong to a watch.
    fn check_swallowed(&mut self, l: &Logical, g: usize, words: &str, base: usize) {
        if self.swallow_warned || words.is_empty() {
            return;
        }
        let first = words.split(is_perl_space).next().unwrap_or("");
        let suspicious = WATCH_WORDS.contains(&first)
            || first == "watch"
            || first == "alias"
            || first == "view"
            || words.contains('{')
            || words.contains('}');
        if !suspicious || base != 0 && !words.contains('{') && !words.contains('}') {
            // On the hostgroup line itself only braces are suspicious: `hostgroup g watch`
            // is an odd but valid host name.
            if !(base == 0 && suspicious) {
                return;
            }
        }
        self.swallow_warned = true;
        let group = self.cfg.hostgroups[g].name.clone();
        let line = l.start_line();
        self.warn(
            l,
            (base, words.len()),
            Severity::Warning,
            format!(
                "hostgroup `{group}` takes this line as host names: a hostgroup record ends only at a blank line"
            ),
            Some(format!(
                "insert a blank line before line {line} (mon reads everything up to the next blank line as hosts of `{group}`)"
            )),
        );
    }

    fn watch(&mut self, l: &Logical, name: Part<'_>) -> Result<(), ConfigError> {
        let wname = name.text.to_string();
        if !self.groups.contains_key(&wname) {
            self.cfg.hostgroups.push(HostGroup {
                name: wname.clone(),
                hosts: vec![wname.clone()],
                line: l.start_line(),
                auto: true,
            });
            self.groups
                .insert(wname.clone(), self.cfg.hostgroups.len() - 1);
            let (line, col, snippet) = self.loc(l, name.off, name.text.len());
            self.warnings.push(Warning {
                path: self.path.to_path_buf(),
                line,
                col,
                message: format!(
                    "watch `{wname}` has no hostgroup of that name: mon creates one whose only host is `{wname}`"
                ),
                suggestion: Some(format!(
                    "define `hostgroup {wname} HOST...` before the watch if the hosts differ"
                )),
                severity: Severity::Warning,
                mon_message: Some(format!(
                    "Warning: watch group {wname} defined with no corresponding hostgroup."
                )),
                snippet: Some(snippet),
            });
        }
        let idx = match self.watches.get(&wname) {
            Some(&w) if self.watch_has_services.contains(&w) => {
                return Err(self.error(
                    l,
                    (name.off, name.text.len()),
                    format!(
                        "duplicate watch: expected a watch name not used before, found `{wname}` again (first at line {})",
                        self.cfg.watches[w].line
                    ),
                    Some("add the services to the first `watch` block instead".into()),
                    Self::mon(l, format_args!("watch '{wname}' already defined")),
                ));
            }
            Some(&w) => w,
            None => {
                self.cfg.watches.push(Watch {
                    name: wname.clone(),
                    line: l.start_line(),
                    services: Vec::new(),
                });
                self.watches.insert(wname, self.cfg.watches.len() - 1);
                self.cfg.watches.len() - 1
            }
        };
        self.mode = Mode::Watch(idx);
        self.service = None;
        self.period = None;
        Ok(())
    }

    fn ignore(&mut self, l: &Logical) {
        let line = l.start_line();
        match &mut self.ignored {
            Some(run) => run.last = l.end_line,
            None => {
                let (_, col) = l.locate(self.src, 0);
                self.ignored = Some(Ignored {
                    first: line,
                    last: l.end_line,
                    first_text: l.text.clone(),
                    first_col: col,
                    after_watch: self.ended_watch.clone(),
                });
            }
        }
    }

    /// Turn a run of silently ignored lines into one warning.
    fn flush_ignored(&mut self) {
        let Some(run) = self.ignored.take() else {
            return;
        };
        let word: String = run
            .first_text
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let lines = if run.first == run.last {
            format!("line {}", run.first)
        } else {
            format!("lines {}-{}", run.first, run.last)
        };
        let body_kw = WATCH_WORDS.contains(&word.as_str());
        let (message, suggestion) = match (&run.after_watch, body_kw) {
            (Some((watch, blank)), true) => (
                format!(
                    "mon ignores {lines}: the blank line {blank} ended watch `{watch}`, so these settings belong to no watch"
                ),
                Some(format!(
                    "remove the blank line {blank} (or any blank line inside the watch); a comment line does not end a record"
                )),
            ),
            (None, true) => (
                format!("mon ignores {lines}: `{word}` outside a watch record"),
                Some("put it inside a `watch GROUP` block, after a `service` line".into()),
            ),
            _ => {
                let hint = top_level_hint(&word, &run.first_text);
                (
                    format!(
                        "mon ignores {lines}: expected a `name = value` setting or a `hostgroup`, `watch`, `alias` or `view` record, found `{}`",
                        ellipsis(&run.first_text, 40)
                    ),
                    hint,
                )
            }
        };
        let text = self.src.line(run.first).to_string();
        let len = u32::try_from(text.trim_matches(is_perl_space).chars().count())
            .unwrap_or(1)
            .max(1);
        self.warnings.push(Warning {
            path: self.path.to_path_buf(),
            line: run.first,
            col: run.first_col,
            message,
            suggestion,
            severity: Severity::Warning,
            mon_message: None,
            snippet: Some(Snippet {
                text,
                col: run.first_col,
                len,
            }),
        });
    }

    // === globals (§4) ===

    fn global(&mut self, l: &Logical, name: Part<'_>, value: Part<'_>) -> Result<(), ConfigError> {
        let v = value.text;
        let vspan = (value.off, v.len().max(1));
        match name.text {
            "alertdir" => {
                self.cfg.globals.alertdir = Some(v.to_string());
                let site = self.site(l, value);
                self.side.globals.insert("alertdir", site);
            }
            "mondir" => {
                self.cfg.globals.mondir = Some(v.to_string());
                let site = self.site(l, value);
                self.side.globals.insert("mondir", site);
            }
            "basedir" => self.cfg.globals.basedir = Some(v.to_string()),
            "cfbasedir" => self.cfg.globals.cfbasedir = Some(v.to_string()),
            "logdir" => self.cfg.globals.logdir = Some(v.to_string()),
            "statedir" => self.cfg.globals.statedir = Some(v.to_string()),
            "histlength" => self.cfg.globals.histlength = self.perl_count(l, name.text, value),
            "maxprocs" => {
                self.cfg.globals.maxprocs =
                    u32::try_from(self.perl_count(l, name.text, value)).unwrap_or(u32::MAX)
            }
            "dep_recur_limit" => {
                self.cfg.globals.dep_recur_limit =
                    u32::try_from(self.perl_count(l, name.text, value)).unwrap_or(u32::MAX)
            }
            "serverport" | "trapport" => {
                let port = v.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    self.error(
                        l,
                        vspan,
                        format!(
                            "invalid {}: expected a port number 1-65535, found `{v}`",
                            name.text
                        ),
                        None,
                        None,
                    )
                })?;
                if name.text == "serverport" {
                    self.cfg.globals.serverport = Some(port);
                } else {
                    self.cfg.globals.trapport = Some(port);
                }
            }
            "serverbind" => self.cfg.globals.serverbind = Some(v.to_string()),
            "trapbind" => self.cfg.globals.trapbind = Some(v.to_string()),
            "clientallow" => {
                self.cfg.globals.clientallow = v
                    .split(is_perl_space)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }
            "pidfile" => self.cfg.globals.pidfile = Some(v.to_string()),
            "randstart" => {
                let secs = self.global_timeval(l, value, || {
                    format!("bad value '{v}' for randstart option (syntax: randstart = timeval)")
                })?;
                self.cfg.globals.randstart = (secs > 0.0).then(|| Duration::from_secs_f64(secs));
            }
            "authfile" | "userfile" => {
                // mon tests the value as written, relative to the working directory, at
                // the moment it reads the line.
                if !(self.readable)(Path::new(v)) {
                    return Err(self.error(
                        l,
                        vspan,
                        format!(
                            "{} not readable: expected a readable file (checked relative to the working directory, as mon does), found `{v}`",
                            name.text
                        ),
                        Some("give an absolute path, or run from the directory the path is relative to".into()),
                        Self::mon(l, format_args!("{} '{v}' does not exist or is not readable", name.text)),
                    ));
                }
                if name.text == "authfile" {
                    self.cfg.globals.authfile = Some(v.to_string());
                } else {
                    self.cfg.globals.userfile = Some(v.to_string());
                }
            }
            "authtype" => {
                self.cfg.globals.authtype = v
                    .split(is_perl_space)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }
            "pamservice" => self.cfg.globals.pamservice = v.to_string(),
            "historicfile" => self.cfg.globals.historicfile = Some(v.to_string()),
            "historictime" => {
                let secs = self.global_timeval(l, value, || {
                    format!(
                        "bad value '{v}' for historictime command (syntax: historictime = timeval)"
                    )
                })?;
                self.cfg.globals.historictime = Duration::from_secs_f64(secs);
            }
            "cltimeout" => {
                let secs = self.global_timeval(l, value, || {
                    format!("bad value '{v}' for cltimeout command (syntax: cltimeout = secs)")
                })?;
                self.cfg.globals.cltimeout = Duration::from_secs_f64(secs);
            }
            "monerrfile" => self.cfg.globals.monerrfile = Some(v.to_string()),
            "dtlogfile" => self.cfg.globals.dtlogfile = Some(v.to_string()),
            "dtlogging" => {
                // `$2 == 1 || $2 eq "yes" || $2 eq "true"`
                let on = perl_num(v) == 1.0 || v == "yes" || v == "true";
                self.cfg.globals.dtlogging = on;
                if !on && !matches!(v, "0" | "no" | "false") {
                    self.warn(
                        l,
                        vspan,
                        Severity::Warning,
                        format!("dtlogging = {v} turns the downtime log off: mon turns it on only for 1, yes or true"),
                        Some("write `dtlogging = yes` (case matters)".into()),
                    );
                }
            }
            "dep_behavior" => {
                self.dep_behavior = dep_behavior(v).ok_or_else(|| {
                    self.error(
                        l,
                        vspan,
                        format!("unknown dependency behavior: expected a, m or hm, found `{v}`"),
                        None,
                        Self::mon(l, format_args!("unknown dependency behavior '{v}'")),
                    )
                })?;
            }
            "dep_memory" => {
                let secs = self.global_timeval(l, value, || {
                    format!("bad value '{v}' for dep_memory option (syntax: dep_memory = timeval)")
                })?;
                self.dep_memory = (secs > 0.0).then(|| Duration::from_secs_f64(secs));
            }
            "unack_summary" => {
                // Unanchored `/y(es)?/i`, then `/n(o)?/i`, then 0 or 1.
                let lower = v.to_ascii_lowercase();
                let value = if lower.contains('y') {
                    true
                } else if lower.contains('n') {
                    false
                } else if v == "0" || v == "1" {
                    v == "1"
                } else {
                    return Err(self.error(
                        l,
                        vspan,
                        format!("invalid unack_summary: expected 0, 1, yes or no, found `{v}`"),
                        None,
                        Some(format!(
                            "cf error: invalid unack_summary value '{v}' (syntax: unack_summary [0|1|y|yes|n|no])"
                        )),
                    ));
                };
                if !matches!(lower.as_str(), "y" | "yes" | "n" | "no" | "0" | "1") {
                    self.warn(
                        l,
                        vspan,
                        Severity::Warning,
                        format!(
                            "unack_summary = {v} means {}: mon looks for any `y`, then any `n`",
                            if value { "yes" } else { "no" }
                        ),
                        Some("write yes or no".into()),
                    );
                }
                self.unack_summary = value;
            }
            "syslog_facility" => self.cfg.globals.syslog_facility = Some(v.to_string()),
            "startupalerts_on_reset" => {
                // `/^1|yes|true|on$/i`: unanchored for yes and true.
                let lower = v.to_ascii_lowercase();
                self.cfg.globals.startupalerts_on_reset = lower.starts_with('1')
                    || lower.contains("yes")
                    || lower.contains("true")
                    || lower.ends_with("on");
            }
            "monremote" => self.cfg.globals.monremote = Some(v.to_string()),
            "exclude_period" => {
                if self.period_malformed(v) {
                    return Err(self.error(
                        l,
                        vspan,
                        format!("malformed exclude_period: expected a Time::Period spec such as `wd {{Sat-Sun}}` or `hr {{1am-5am}}`, found `{v}`"),
                        None,
                        Self::mon(l, format_args!("malformed exclude_period '{v}' (the specified time period is not valid as per Time::Period::inPeriod)")),
                    ));
                }
                self.cfg.globals.exclude_period = Some(v.to_string());
                let site = self.site(l, value);
                self.side.globals.insert("exclude_period", site);
            }
            // monrs extensions.
            "monitor_timeout" | "alert_timeout" => {
                let d = self.positive_timeval(l, value, name.text, None)?;
                if name.text == "monitor_timeout" {
                    self.cfg.globals.monitor_timeout = Some(d);
                } else {
                    self.cfg.globals.alert_timeout = Some(d);
                }
            }
            "native_monitors" => {
                self.cfg.globals.native_monitors = match v.to_ascii_lowercase().as_str() {
                    "yes" | "1" | "true" | "on" => true,
                    "no" | "0" | "false" | "off" => false,
                    _ => {
                        return Err(self.error(
                            l,
                            vspan,
                            format!("invalid native_monitors: expected yes or no, found `{v}`"),
                            None,
                            None,
                        ));
                    }
                };
            }
            other => {
                let hint = if other == "snmpport" {
                    Some("mon has no SNMP trap listener; `trapport` is the UDP port of mon's own traps".into())
                } else {
                    suggest(other, GLOBALS).map(|s| format!("did you mean `{s}`?"))
                };
                return Err(self.error(
                    l,
                    (name.off, other.len()),
                    format!("unknown global variable: expected a mon.cf setting (such as maxprocs, mondir, alertdir), found `{other}`"),
                    hint,
                    Self::mon(l, format_args!("unknown variable '{other}'")),
                ));
            }
        }
        Ok(())
    }

    /// A global timeval that may be 0 (mon: `dhmstos` must be defined).
    fn global_timeval(
        &self,
        l: &Logical,
        value: Part<'_>,
        mon: impl FnOnce() -> String,
    ) -> Result<f64, ConfigError> {
        match timeval::parse_secs(value.text) {
            Some(s) if s <= MAX_TIMEVAL_SECS => Ok(s),
            Some(_) => Err(self.too_long(l, value)),
            None => Err(self.error(
                l,
                (value.off, value.text.len().max(1)),
                format!(
                    "invalid time value: expected a number with a unit s, m, h or d (such as 30s or 5m), found `{}`",
                    value.text
                ),
                timeval_hint(value.text),
                Self::mon(l, mon()),
            )),
        }
    }

    fn too_long(&self, l: &Logical, value: Part<'_>) -> ConfigError {
        self.error(
            l,
            (value.off, value.text.len().max(1)),
            format!(
                "time value too large: expected at most 100 years, found `{}`",
                value.text
            ),
            None,
            None,
        )
    }

    /// A keyword's timeval that mon requires to be true in Perl's sense: not undefined and
    /// not 0. `mon_what` is mon's message with `{}` standing for the converted value.
    fn positive_timeval(
        &mut self,
        l: &Logical,
        value: Part<'_>,
        keyword: &str,
        mon_what: Option<&str>,
    ) -> Result<Duration, ConfigError> {
        let text = value.text;
        let secs = timeval::parse_secs(text);
        let truthy = perl_true_timeval(text);
        match secs {
            Some(s) if s > MAX_TIMEVAL_SECS => Err(self.too_long(l, value)),
            Some(s) if truthy => {
                if s == 0.0 {
                    self.warn(
                        l,
                        (value.off, text.len()),
                        if keyword == "interval" {
                            Severity::Reject
                        } else {
                            Severity::Warning
                        },
                        format!(
                            "{keyword} {text} is zero: mon accepts it only because Perl reads `{}` as true",
                            text.trim_end_matches(|c: char| c.is_ascii_alphabetic())
                        ),
                        Some("use a positive time value".into()),
                    );
                }
                Ok(Duration::from_secs_f64(s))
            }
            _ => {
                let shown = timeval::perl_value(text);
                Err(self.error(
                    l,
                    (value.off, text.len().max(1)),
                    format!(
                        "invalid {keyword}: expected a positive time value such as 30s, 5m, 1h or 2d, found `{text}`"
                    ),
                    timeval_hint(text),
                    mon_what.and_then(|w| Self::mon(l, w.replace("{}", &shown))),
                ))
            }
        }
    }

    /// mon's integer globals are read as Perl numbers; warn when that is not what was meant.
    fn perl_count(&mut self, l: &Logical, name: &str, value: Part<'_>) -> usize {
        let v = value.text;
        let n = perl_num(v);
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            self.warn(
                l,
                (value.off, v.len().max(1)),
                Severity::Warning,
                format!(
                    "{name} = {v} is not a whole number: mon reads it as {}",
                    n.max(0.0).trunc()
                ),
                Some(format!("write `{name} = N` with N a whole number")),
            );
        }
        if n.is_finite() && n > 0.0 {
            n.trunc().min(usize::MAX as f64) as usize
        } else {
            0
        }
    }

    fn period_malformed(&self, spec: &str) -> bool {
        PeriodSpec::new(spec).eval(&self.now) == Membership::Malformed
    }

    // === watch bodies (§5) ===

    fn watch_body(&mut self, l: &Logical, w: usize) -> Result<(), ConfigError> {
        let text = l.text.as_str();

        if let Some((name, value)) = grammar::env_assign(text) {
            let Some(s) = self.service else {
                return Err(self.error(
                    l,
                    (name.off, name.text.len()),
                    format!(
                        "environment variable before any service: expected a `service NAME` line first, found `{}=`",
                        name.text
                    ),
                    Some("move the line below the `service` it belongs to".into()),
                    Self::mon(l, "environment variable defined without a service"),
                ));
            };
            self.cfg.watches[w].services[s]
                .env
                .push((name.text.to_string(), value.text.to_string()));
            return Ok(());
        }

        let (kw, args) = grammar::keyword_line(text)
            .unwrap_or((Part { text: "", off: 0 }, Part { text, off: 0 }));

        if kw.text == "service" {
            return self.service(l, w, args);
        }
        let Some(s) = self.service else {
            return Err(self.error(
                l,
                (0, if kw.text.is_empty() { text.len() } else { kw.text.len() }),
                format!(
                    "setting before any service: expected `service NAME` as the first line of watch `{}`, found `{}`",
                    self.cfg.watches[w].name,
                    ellipsis(text, 40)
                ),
                Some("every setting in a watch belongs to a service: add a `service NAME` line".into()),
                Self::mon(l, "need to specify service in watch record"),
            ));
        };
        if kw.text == "period" {
            return self.period(l, w, s, args);
        }
        if let Some(p) = self.period {
            return self.period_keyword(l, w, s, p, kw, args);
        }
        self.service_keyword(l, w, s, kw, args)
    }

    fn unknown_syntax(&self, l: &Logical, kw: Part<'_>, in_period: bool) -> ConfigError {
        let word = kw.text;
        let (expected, hint) = if word.is_empty() {
            (
                "a keyword".to_string(),
                Some("lines inside a watch start with a keyword such as `interval`".to_string()),
            )
        } else {
            let hint = keyword_hint(word, &l.text, in_period);
            let expected = if in_period {
                "a period keyword (alert, upalert, alertevery, alertafter, numalerts, ...), `period` or `service`"
            } else {
                "a service keyword (interval, monitor, description, depend, ...), `period` or `service`"
            };
            (expected.to_string(), hint)
        };
        let span = if word.is_empty() {
            (0, l.text.len())
        } else {
            (kw.off, word.len())
        };
        self.error(
            l,
            span,
            format!(
                "unknown syntax: expected {expected}, found `{}`",
                if word.is_empty() {
                    ellipsis(&l.text, 40)
                } else {
                    word.to_string()
                }
            ),
            hint,
            Self::mon(l, format_args!("unknown syntax [{}]", l.text)),
        )
    }

    fn service(&mut self, l: &Logical, w: usize, args: Part<'_>) -> Result<(), ConfigError> {
        let name = args.text;
        let watch = self.cfg.watches[w].name.clone();
        if !grammar::is_service_name(name) {
            return Err(self.error(
                l,
                (args.off, name.len().max(1)),
                format!(
                    "invalid service name: expected letters, digits, `_`, `.` or `-`, found `{name}`"
                ),
                None,
                Self::mon(l, format_args!("invalid service tag '{name}'")),
            ));
        }
        self.watch_has_services.insert(w);
        if let Some(&first) = self.services.get(&(w, name.to_string())) {
            return Err(self.error(
                l,
                (args.off, name.len()),
                format!(
                    "duplicate service: expected a service name not used before in watch `{watch}`, found `{name}` again (first at line {})",
                    self.cfg.watches[w].services[first].line
                ),
                None,
                Self::mon(l, format_args!("service {name} already defined for watch group {watch}")),
            ));
        }
        let mut svc = Service::new(name, l.start_line());
        svc.dep_behavior = self.dep_behavior;
        svc.dep_memory = self.dep_memory;
        svc.unack_summary = self.unack_summary;
        let services = &mut self.cfg.watches[w].services;
        services.push(svc);
        let s = services.len() - 1;
        self.services.insert((w, name.to_string()), s);
        let at = self.pos(l, args.off, name.len());
        self.side.services.insert((w, s), (at.line, at.col, at.len));
        self.service = Some(s);
        self.period = None;
        Ok(())
    }

    fn period(
        &mut self,
        l: &Logical,
        w: usize,
        s: usize,
        args: Part<'_>,
    ) -> Result<(), ConfigError> {
        let (label, spec) = grammar::period_args(args.text);
        let spec = spec.shift(args.off);
        let key = label.map_or(spec.text, |p| p.text).to_string();
        let watch = self.cfg.watches[w].name.clone();
        let svc = &self.cfg.watches[w].services[s];
        if let Some(first) = svc.periods.iter().find(|p| p.label == key) {
            let span = label.map_or((spec.off, spec.text.len()), |p| {
                (p.off + args.off, p.text.len())
            });
            return Err(self.error(
                l,
                (span.0, span.1.max(1)),
                format!(
                    "duplicate period: expected a period key not used before in service `{}`, found `{key}` again (first at line {})",
                    svc.name, first.line
                ),
                Some("give one of them a label: `period LABEL: SPEC`".into()),
                Self::mon(
                    l,
                    format_args!(
                        "period '{key}' already defined for watch group {watch} service {}",
                        svc.name
                    ),
                ),
            ));
        }
        if self.period_malformed(spec.text) {
            let hint = if label.is_none() && spec.text.contains(':') {
                Some("a period label must start with a letter or `_`: the whole text was read as the period spec".into())
            } else {
                Some("scales are yr, mo, wk, yd, md, wd, hr, min, sec, e.g. `wd {Mon-Fri} hr {9am-5pm}`".into())
            };
            return Err(self.error(
                l,
                (spec.off, spec.text.len().max(1)),
                format!(
                    "malformed period: expected a Time::Period spec such as `wd {{Mon-Fri}} hr {{7am-10pm}}`, found `{}`",
                    spec.text
                ),
                hint,
                Self::mon(l, format_args!("malformed period '{}' (the specified time period is not valid as per Time::Period::inPeriod)", spec.text)),
            ));
        }
        let periods = &mut self.cfg.watches[w].services[s].periods;
        periods.push(Period::new(key, spec.text, l.start_line()));
        let p = periods.len() - 1;
        let site = self.site(l, spec);
        self.side.periods.insert((w, s, p), site);
        self.period = Some(p);
        Ok(())
    }

    fn period_keyword(
        &mut self,
        l: &Logical,
        w: usize,
        s: usize,
        p: usize,
        kw: Part<'_>,
        args: Part<'_>,
    ) -> Result<(), ConfigError> {
        let a = args.text;
        let aspan = (args.off, a.len().max(1));
        match kw.text {
            "alert" | "upalert" | "startupalert" | "ackalert" | "disablealert" => {
                let keyword: &'static str = match kw.text {
                    "alert" => "alert",
                    "upalert" => "upalert",
                    "startupalert" => "startupalert",
                    "ackalert" => "ackalert",
                    _ => "disablealert",
                };
                let line = self.alert_line(l, args, true);
                let site = self.site(l, args);
                let period = &mut self.cfg.watches[w].services[s].periods[p];
                let list = match keyword {
                    "alert" => &mut period.alerts,
                    "upalert" => &mut period.upalerts,
                    "startupalert" => &mut period.startupalerts,
                    "ackalert" => &mut period.ackalerts,
                    _ => &mut period.disablealerts,
                };
                list.push(line);
                let index = list.len() - 1;
                self.side.alerts.push(AlertRef {
                    watch: w,
                    service: s,
                    keyword,
                    period: p,
                    index,
                    site,
                });
            }
            "alertevery" => {
                let (time, mode) = grammar::alertevery(a);
                let time = time.shift(args.off);
                let secs = timeval::parse_secs(time.text);
                let every = match secs {
                    Some(v) if v > MAX_TIMEVAL_SECS => return Err(self.too_long(l, time)),
                    Some(v) if perl_true_timeval(time.text) => Duration::from_secs_f64(v),
                    _ => {
                        return Err(self.error(
                            l,
                            (time.off, time.text.len().max(1)),
                            format!(
                                "invalid alertevery: expected a positive time value and an optional strict, observe_detail or ignore_summary, found `{a}`"
                            ),
                            timeval_hint(time.text),
                            Self::mon(l, format_args!(
                                "invalid time interval '{}' (syntax: alertevery {{positive number}}{{smhd}} [ strict | observe_detail | ignore_summary ])",
                                timeval::perl_value(time.text)
                            )),
                        ));
                    }
                };
                let period = &mut self.cfg.watches[w].services[s].periods[p];
                // mon: an alertevery of 0 (written `00s`) means no alertevery.
                period.alertevery = (every > Duration::ZERO).then_some(AlertEvery { every, mode });
            }
            "alertafter" => {
                let interval = self.cfg.watches[w].services[s].interval();
                match grammar::alertafter(a) {
                    AlertAfter::Count(n) => {
                        self.cfg.watches[w].services[s].periods[p].alertafter_consec =
                            Some(sat_u32(n.text));
                    }
                    AlertAfter::Time(t) => {
                        if !perl_true_timeval(t.text) {
                            return Err(self.error(
                                l,
                                aspan,
                                format!("invalid alertafter: expected a positive time value, found `{a}`"),
                                None,
                                Self::mon(l, format_args!(
                                    "invalid time interval '{a}' (syntax: alertafter = [{{positive integer}}] [{{positive number}}{{smhd}}])"
                                )),
                            ));
                        }
                        let d = timeval::parse(t.text).unwrap_or_default();
                        self.cfg.watches[w].services[s].periods[p].alertafter_time = Some(d);
                    }
                    AlertAfter::CountTime(n, t) => {
                        let count = sat_u32(n.text);
                        let secs = timeval::parse_secs(t.text).unwrap_or(0.0);
                        let iv = interval.map_or(0.0, |d| d.as_secs_f64());
                        if (f64::from(count) - 1.0) * iv >= secs {
                            return Err(self.error(
                                l,
                                aspan,
                                format!(
                                    "alertafter {} {} cannot be reached: expected {} failures within {}, but with interval {} they take at least {}",
                                    n.text,
                                    t.text,
                                    n.text,
                                    t.text,
                                    human(iv),
                                    human((f64::from(count) - 1.0) * iv)
                                ),
                                Some("make the time longer than (N-1) × interval, or lower N".into()),
                                Self::mon(l, " interval & alertafter not sensible. No alerts can be generated with those parameters"),
                            ));
                        }
                        if n.off > 0 {
                            self.warn(
                                l,
                                (args.off, n.off),
                                Severity::Warning,
                                format!(
                                    "mon ignores `{}` before `{} {}` in alertafter",
                                    a[..n.off].trim_matches(is_perl_space),
                                    n.text,
                                    t.text
                                ),
                                Some(format!("write `alertafter {} {}`", n.text, t.text)),
                            );
                        }
                        let period = &mut self.cfg.watches[w].services[s].periods[p];
                        period.alertafter_count = Some(count);
                        period.alertafter_time = Some(Duration::from_secs_f64(secs));
                    }
                    AlertAfter::Invalid => {
                        return Err(self.error(
                            l,
                            aspan,
                            format!(
                                "invalid alertafter: expected N, TIME or N TIME (TIME is whole s, m or h, e.g. `3`, `30m`, `2 30m`), found `{a}`"
                            ),
                            if a.ends_with('d') || a.contains('.') {
                                Some("alertafter takes no `d` unit and no fractions: write 72h instead of 3d".into())
                            } else {
                                None
                            },
                            Self::mon(l, format_args!("invalid interval specification '{a}'")),
                        ));
                    }
                }
            }
            "upalertafter" => {
                let d = self.positive_timeval(
                    l,
                    args,
                    "upalertafter",
                    Some("invalid upalertafter specification '{}' (syntax: upalertafter = {positive number}{smhd})"),
                )?;
                self.cfg.watches[w].services[s].periods[p].upalertafter = Some(d);
            }
            "numalerts" => {
                if !grammar::is_numalerts(a) {
                    return Err(self.error(
                        l,
                        aspan,
                        format!("invalid numalerts: expected a whole number, found `{a}`"),
                        None,
                        Self::mon(
                            l,
                            format_args!(
                                "-numeric arg '{a}' (syntax: numalerts = {{positive integer}}"
                            ),
                        ),
                    ));
                }
                self.cfg.watches[w].services[s].periods[p].numalerts = sat_u32(a);
            }
            "no_comp_alerts" => self.cfg.watches[w].services[s].periods[p].no_comp_alerts = true,
            "alerts_dont_count" => {
                self.cfg.watches[w].services[s].periods[p].alerts_dont_count = true
            }
            "alertexitrange" => {
                let range = grammar::exit_range_arg(a).ok_or_else(|| {
                    self.error(
                        l,
                        aspan,
                        format!("invalid alertexitrange: expected N or N-M, found `{a}`"),
                        None,
                        Self::mon(l, format_args!("invalid exit code range '{a}'")),
                    )
                })?;
                self.cfg.watches[w].services[s].periods[p].alertexitrange =
                    Some(exit_range(range.text));
            }
            _ => return Err(self.unknown_syntax(l, kw, true)),
        }
        Ok(())
    }

    /// Parse an alert line with mon's runtime rules; warn about `exit = N` with blanks.
    fn alert_line(&mut self, l: &Logical, args: Part<'_>, filter: bool) -> AlertLine {
        let raw = args.text;
        let line = l.start_line();
        if filter && let Some(range) = grammar::alert_exit(raw) {
            // mon: `(split (/\s+/, $line, 3))[1,2]`: the second word is the name.
            let (first_word, rest) = split_first_word(raw);
            let (name, args_text) = split_first_word(rest);
            if !first_word.eq_ignore_ascii_case(&format!("exit={}", range.text)) {
                self.warn(
                    l,
                    (args.off, range.off + range.text.len()),
                    Severity::Warning,
                    format!(
                        "`{}` with blanks: mon looks up an alert named `{}` at startup but calls `{name}`, so this alert never runs",
                        &raw[..range.off + range.text.len()],
                        first_word
                    ),
                    Some(format!("write `exit={}` without blanks", range.text)),
                );
            }
            return AlertLine {
                raw: raw.to_string(),
                exit_range: Some(exit_range(range.text)),
                name: name.to_string(),
                args: args_text.to_string(),
                line,
            };
        }
        let (name, args_text) = split_first_word(raw);
        AlertLine {
            raw: raw.to_string(),
            exit_range: None,
            name: name.to_string(),
            args: args_text.to_string(),
            line,
        }
    }

    fn service_keyword(
        &mut self,
        l: &Logical,
        w: usize,
        s: usize,
        kw: Part<'_>,
        args: Part<'_>,
    ) -> Result<(), ConfigError> {
        let a = args.text;
        let aspan = (args.off, a.len().max(1));
        match kw.text {
            "interval" => {
                let d = self.positive_timeval(
                    l,
                    args,
                    "interval",
                    Some("invalid time interval '{}' (syntax: interval = {positive number}{smhd})"),
                )?;
                if matches!(self.cfg.watches[w].services[s].schedule, Schedule::Cron(_)) {
                    return Err(self.both_schedules(l, kw));
                }
                self.cfg.watches[w].services[s].schedule = Schedule::Interval(d);
            }
            "failure_interval" => {
                let d = self.positive_timeval(
                    l,
                    args,
                    "failure_interval",
                    Some("invalid interval '{}' (syntax: failure_interval = {positive number}{smhd})"),
                )?;
                self.cfg.watches[w].services[s].failure_interval = Some(d);
            }
            "monitor" => {
                let (name, rest) = split_first_word(a);
                self.cfg.watches[w].services[s].monitor = Some(MonitorLine {
                    raw: a.to_string(),
                    name: name.to_string(),
                    args: rest.to_string(),
                });
                let site = self.site(l, args);
                self.side.monitors.insert((w, s), site);
                if name.is_empty() {
                    self.warn(
                        l,
                        (kw.off, kw.text.len()),
                        Severity::Warning,
                        "`monitor` without a script name: mon tries to run nothing and the service fails".into(),
                        Some("write `monitor SCRIPT [ARGS...]`".into()),
                    );
                }
            }
            "redistribute" => {
                let line = self.alert_line(l, args, false);
                let site = self.site(l, args);
                self.cfg.watches[w].services[s].redistribute =
                    if a.is_empty() { None } else { Some(line) };
                if !a.is_empty() {
                    self.side.alerts.push(AlertRef {
                        watch: w,
                        service: s,
                        keyword: "redistribute",
                        period: 0,
                        index: 0,
                        site,
                    });
                }
            }
            "allow_empty_group" => {
                self.cfg.watches[w].services[s].allow_empty_group = true;
                if !a.is_empty() {
                    self.warn(
                        l,
                        aspan,
                        Severity::Warning,
                        format!(
                            "allow_empty_group {a}: mon turns it on whatever the argument (even 0)"
                        ),
                        Some(
                            "write `allow_empty_group` alone, or remove the line to keep it off"
                                .into(),
                        ),
                    );
                }
            }
            "description" => self.cfg.watches[w].services[s].description = Some(a.to_string()),
            "unack_summary" => {
                let lower = a.to_ascii_lowercase();
                let value = if lower.contains('y') {
                    "1"
                } else if lower.contains('n') {
                    "0"
                } else {
                    a
                };
                if value != "0" && value != "1" {
                    let mut e = self.error(
                        l,
                        if a.is_empty() {
                            (kw.off, kw.text.len())
                        } else {
                            aspan
                        },
                        if a.is_empty() {
                            "invalid unack_summary: expected 0, 1, yes or no, found no argument"
                                .to_string()
                        } else {
                            format!("invalid unack_summary: expected 0, 1, yes or no, found `{a}`")
                        },
                        if a.is_empty() {
                            Some(
                                "`unack_summary` needs an argument: write `unack_summary yes`"
                                    .into(),
                            )
                        } else {
                            None
                        },
                        None,
                    );
                    // mon's message for this one has no line number.
                    e.mon_message = Some(format!(
                        "cf error: invalid unack_summary value '{a}' (syntax: unack_summary [0|1|y|yes|n|no])"
                    ));
                    return Err(e);
                }
                self.cfg.watches[w].services[s].unack_summary = value == "1";
            }
            "traptimeout" => {
                let d = self.positive_timeval(
                    l,
                    args,
                    "traptimeout",
                    Some("invalid traptimeout interval '{}' (syntax: traptimeout = {positive number}{smhd})"),
                )?;
                self.cfg.watches[w].services[s].traptimeout = Some(d);
            }
            "trapduration" => {
                let d = self.positive_timeval(
                    l,
                    args,
                    "trapduration",
                    Some("invalid trapduration interval '{}' (syntax: trapduration = {positive number}{smhd})"),
                )?;
                self.cfg.watches[w].services[s].trapduration = Some(d);
            }
            "randskew" => {
                let d = self.positive_timeval(
                    l,
                    args,
                    "randskew",
                    Some("invalid randskew time interval '{}' (syntax: randskew = {positive number}{smhd})"),
                )?;
                self.cfg.watches[w].services[s].randskew = Some(d);
            }
            "dep_behavior" => {
                let b = dep_behavior(a).ok_or_else(|| {
                    self.error(
                        l,
                        aspan,
                        format!("unknown dependency behavior: expected a, m or hm, found `{a}`"),
                        None,
                        Self::mon(
                            l,
                            format_args!(
                                "unknown dependency behavior '{a}' (syntax: dep_behavior = {{m|a}})"
                            ),
                        ),
                    )
                })?;
                self.cfg.watches[w].services[s].dep_behavior = b;
            }
            "dep_memory" => {
                // mon: `if (!$timeval)`, the same truth test as the other positive values.
                let d = self.positive_timeval(
                    l,
                    args,
                    "dep_memory",
                    Some("bad value '{}' for dep_memory option (syntax: dep_memory = timeval)"),
                )?;
                self.cfg.watches[w].services[s].dep_memory = Some(d);
            }
            "depend" | "alertdepend" | "monitordepend" | "hostdepend" => {
                let keyword: &'static str = match kw.text {
                    "depend" => "depend",
                    "alertdepend" => "alertdepend",
                    "monitordepend" => "monitordepend",
                    _ => "hostdepend",
                };
                let watch = self.cfg.watches[w].name.clone();
                let (text, map) = replace_self(a, &watch);
                let AlertSite { line, col, .. } = self.pos(l, args.off, a.len());
                self.side.depends.push(DependSite {
                    watch: w,
                    service: s,
                    keyword,
                    line,
                    col,
                    col_map: map,
                });
                let svc = &mut self.cfg.watches[w].services[s];
                match keyword {
                    "depend" => svc.depend = Some(text),
                    "alertdepend" => svc.alertdepend = Some(text),
                    "monitordepend" => svc.monitordepend = Some(text),
                    _ => svc.hostdepend = Some(text),
                }
            }
            "exclude_hosts" => {
                let mut hosts = Vec::new();
                add_words(&mut hosts, a, true);
                self.cfg.watches[w].services[s].exclude_hosts = hosts;
            }
            "exclude_period" => {
                if self.period_malformed(a) {
                    return Err(self.error(
                        l,
                        aspan,
                        format!("malformed exclude_period: expected a Time::Period spec such as `wd {{Sat-Sun}}` or `hr {{1am-5am}}`, found `{a}`"),
                        None,
                        Self::mon(l, format_args!("malformed exclude_period '{a}' (the specified time period is not valid as per Time::Period::inPeriod)")),
                    ));
                }
                self.cfg.watches[w].services[s].exclude_period = Some(a.to_string());
            }
            // monrs extensions.
            "cron" => {
                if matches!(
                    self.cfg.watches[w].services[s].schedule,
                    Schedule::Interval(_)
                ) {
                    return Err(self.both_schedules(l, kw));
                }
                let expr = cron::parse(a).map_err(|e| {
                    let (off, len) = e.span.unwrap_or((0, a.len()));
                    self.error(
                        l,
                        (args.off + off, len.max(1)),
                        format!("invalid cron expression: {}", e.message),
                        Some("write 5 fields in quotes: cron \"MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK\", e.g. cron \"*/5 * * * *\"".into()),
                        None,
                    )
                })?;
                if expr.dom_and_dow {
                    self.warn(
                        l,
                        aspan,
                        Severity::Warning,
                        "both day-of-month and day-of-week are restricted: monrs runs only on days matching both (classic cron runs on days matching either)".into(),
                        Some("restrict only one of the two day fields, or use two services".into()),
                    );
                }
                self.cfg.watches[w].services[s].schedule = Schedule::Cron(expr.schedule);
            }
            "monitor_timeout" => {
                let d = self.positive_timeval(l, args, "monitor_timeout", None)?;
                self.cfg.watches[w].services[s].monitor_timeout = Some(d);
            }
            _ => return Err(self.unknown_syntax(l, kw, false)),
        }
        Ok(())
    }

    fn both_schedules(&self, l: &Logical, kw: Part<'_>) -> ConfigError {
        self.error(
            l,
            (kw.off, kw.text.len()),
            format!(
                "conflicting schedules: expected either `interval` or `cron` in a service, found `{}` after the other",
                kw.text
            ),
            Some("keep one of them".into()),
            None,
        )
    }
}

/// Keywords that only make sense inside a watch (used to explain ignored lines).
pub(crate) const WATCH_WORDS: &[&str] = &[
    "service",
    "interval",
    "failure_interval",
    "monitor",
    "description",
    "allow_empty_group",
    "exclude_hosts",
    "exclude_period",
    "randskew",
    "depend",
    "dep_behavior",
    "alertdepend",
    "monitordepend",
    "hostdepend",
    "dep_memory",
    "redistribute",
    "unack_summary",
    "traptimeout",
    "trapduration",
    "period",
    "alert",
    "upalert",
    "startupalert",
    "ackalert",
    "disablealert",
    "alertevery",
    "alertafter",
    "numalerts",
    "no_comp_alerts",
    "upalertafter",
    "alertexitrange",
    "alerts_dont_count",
    "cron",
    "monitor_timeout",
];

const SERVICE_KEYWORDS: &[&str] = &[
    "interval",
    "failure_interval",
    "monitor",
    "description",
    "allow_empty_group",
    "exclude_hosts",
    "exclude_period",
    "randskew",
    "depend",
    "dep_behavior",
    "alertdepend",
    "monitordepend",
    "hostdepend",
    "dep_memory",
    "redistribute",
    "unack_summary",
    "traptimeout",
    "trapduration",
    "cron",
    "monitor_timeout",
];

const PERIOD_KEYWORDS: &[&str] = &[
    "alert",
    "upalert",
    "startupalert",
    "ackalert",
    "disablealert",
    "alertevery",
    "alertafter",
    "numalerts",
    "no_comp_alerts",
    "upalertafter",
    "alertexitrange",
    "alerts_dont_count",
];

/// Every global variable name mon (and monrs) accepts.
pub(crate) const GLOBALS: &[&str] = &[
    "alertdir",
    "mondir",
    "basedir",
    "cfbasedir",
    "logdir",
    "statedir",
    "histlength",
    "maxprocs",
    "dep_recur_limit",
    "serverport",
    "trapport",
    "serverbind",
    "trapbind",
    "clientallow",
    "pidfile",
    "randstart",
    "authfile",
    "userfile",
    "authtype",
    "pamservice",
    "historicfile",
    "historictime",
    "cltimeout",
    "monerrfile",
    "dtlogfile",
    "dtlogging",
    "dep_behavior",
    "dep_memory",
    "unack_summary",
    "syslog_facility",
    "startupalerts_on_reset",
    "monremote",
    "exclude_period",
    "monitor_timeout",
    "alert_timeout",
    "native_monitors",
];

const RECORDS: &[&str] = &["hostgroup", "watch", "alias", "view"];

/// Help for an unknown keyword inside a watch.
fn keyword_hint(word: &str, line: &str, in_period: bool) -> Option<String> {
    let all: Vec<&str> = SERVICE_KEYWORDS
        .iter()
        .chain(PERIOD_KEYWORDS)
        .chain(&["service", "period"])
        .copied()
        .collect();
    let lower = word.to_ascii_lowercase();
    if lower != word && all.contains(&lower.as_str()) {
        return Some(format!("keywords are case-sensitive: write `{lower}`"));
    }
    if in_period && SERVICE_KEYWORDS.contains(&word) {
        return Some(format!(
            "`{word}` is a service setting: move it above the service's first `period` line"
        ));
    }
    if !in_period && PERIOD_KEYWORDS.contains(&word) {
        return Some(format!(
            "`{word}` belongs in a period: add a `period` line (e.g. `period wd {{Sun-Sat}}`) above it"
        ));
    }
    if GLOBALS.contains(&word) && line.contains('=') {
        return Some(
            "global settings are not read inside a watch: move it above the watch, before a blank line"
                .into(),
        );
    }
    if line.contains('=') && word.chars().any(|c| c.is_ascii_lowercase()) {
        let upper = line.split('=').next().unwrap_or("").to_ascii_uppercase();
        return Some(format!(
            "environment variables must be upper case with no blank before `=`: `{upper}=...`"
        ));
    }
    let pool: &[&str] = if in_period {
        PERIOD_KEYWORDS
    } else {
        SERVICE_KEYWORDS
    };
    suggest(word, pool)
        .or_else(|| suggest(word, &all))
        .map(|s| format!("did you mean `{s}`?"))
}

/// Help for a line mon ignores at top level.
fn top_level_hint(word: &str, line: &str) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    if lower != word && RECORDS.contains(&lower.as_str()) {
        return Some(format!(
            "keywords are case-sensitive: write `{lower}`; mon ignores this record entirely"
        ));
    }
    if GLOBALS.contains(&word) {
        let value = line[word.len()..].trim_matches(is_perl_space);
        return Some(format!("global settings need `=`: `{word} = {value}`"));
    }
    if let Some(s) = suggest(word, RECORDS) {
        return Some(format!("did you mean `{s}`?"));
    }
    if let Some(s) = suggest(word, GLOBALS) {
        return Some(format!("did you mean the setting `{s} = ...`?"));
    }
    None
}

/// The closest candidate within a small edit distance (case-insensitive).
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    if word.is_empty() {
        return None;
    }
    let w = word.to_ascii_lowercase();
    let limit = match w.len() {
        0..=3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    candidates
        .iter()
        .map(|c| (levenshtein(&w, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn timeval_hint(text: &str) -> Option<String> {
    if text.contains('#') {
        Some(
            "there are no trailing comments in mon.cf: `#` after other text is part of the value"
                .into(),
        )
    } else if text.trim_start().starts_with('=') {
        Some("service keywords take no `=`: write `interval 30s`".into())
    } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        Some(format!("the unit is required: write `{text}s` for seconds"))
    } else {
        None
    }
}

fn dep_behavior(v: &str) -> Option<DepBehavior> {
    match v {
        "a" => Some(DepBehavior::Alert),
        "m" => Some(DepBehavior::Monitor),
        "hm" => Some(DepBehavior::Host),
        _ => None,
    }
}

/// Whether mon's `dhmstos` result is true in Perl: for the `s` unit it is the number as
/// written (`"00"` and `"0.0"` are true strings), for the others a computed number.
fn perl_true_timeval(text: &str) -> bool {
    let Some(secs) = timeval::parse_secs(text) else {
        return false;
    };
    let t = text.trim_matches(is_perl_space);
    if t.ends_with(['s', 'S']) {
        &t[..t.len() - 1] != "0"
    } else {
        secs != 0.0
    }
}

/// Perl's numeric value of a string (leading blanks, sign, digits, fraction, exponent).
pub(crate) fn perl_num(s: &str) -> f64 {
    let t = s.trim_start_matches(is_perl_space);
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut any = i > digits_start;
    if i < b.len() && b[i] == b'.' {
        let j = i + 1;
        let mut k = j;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if k > j || any {
            any = any || k > j;
            i = k;
        }
    }
    if !any {
        return 0.0;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut k = i + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        let ds = k;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if k > ds {
            i = k;
        }
    }
    t[..i].parse().unwrap_or(0.0)
}

/// Seconds as mon's units would write them (`30m`, `90s`, `1.5s`).
fn human(secs: f64) -> String {
    if secs > 0.0 && secs.fract() == 0.0 {
        let s = secs as u64;
        for (unit, n) in [("d", 86400), ("h", 3600), ("m", 60)] {
            if s.is_multiple_of(n) {
                return format!("{}{unit}", s / n);
            }
        }
    }
    format!("{secs}s")
}

fn sat_u32(digits: &str) -> u32 {
    digits
        .parse::<u32>()
        .unwrap_or(if digits.is_empty() { 0 } else { u32::MAX })
}

fn exit_range(text: &str) -> ExitRange {
    let num = |s: &str| s.trim().parse::<i64>().unwrap_or(i64::MAX);
    match text.split_once('-') {
        Some((lo, hi)) => ExitRange {
            lo: num(lo),
            hi: num(hi),
        },
        None => {
            let v = num(text);
            ExitRange { lo: v, hi: v }
        }
    }
}

/// The first blank-separated word and the rest (mon's `split(/\s+/, $x, 2)` on a trimmed
/// string).
fn split_first_word(s: &str) -> (&str, &str) {
    match s.find(is_perl_space) {
        Some(i) => (&s[..i], s[i..].trim_start_matches(is_perl_space)),
        None => (s, ""),
    }
}

/// Add the blank-separated words of `text`; `unique` drops repeats (mon keeps those in a
/// hash).
fn add_words(list: &mut Vec<String>, text: &str, unique: bool) {
    for w in text.split(is_perl_space).filter(|w| !w.is_empty()) {
        if unique && list.iter().any(|x| x == w) {
            continue;
        }
        list.push(w.to_string());
    }
}

/// `s/SELF:/WATCH:/g`, with a map from each byte of the result to its column offset in
/// the original text.
fn replace_self(text: &str, watch: &str) -> (String, Vec<u32>) {
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len());
    let mut rest = text;
    let mut col: u32 = 0;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("SELF:") {
            out.push_str(watch);
            out.push(':');
            for _ in 0..=watch.len() {
                map.push(col);
            }
            col += 5;
            rest = after;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        for _ in 0..c.len_utf8() {
            map.push(col);
        }
        col += 1;
        rest = &rest[c.len_utf8()..];
    }
    map.push(col);
    (out, map)
}

fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_numbers() {
        assert_eq!(perl_num("5"), 5.0);
        assert_eq!(perl_num(" 1.5x"), 1.5);
        assert_eq!(perl_num("abc"), 0.0);
        assert_eq!(perl_num("0x10"), 0.0);
        assert_eq!(perl_num("1e3"), 1000.0);
        assert_eq!(perl_num("-2"), -2.0);
        assert_eq!(perl_num(".5"), 0.5);
        assert_eq!(perl_num("1."), 1.0);
        assert_eq!(perl_num("."), 0.0);
    }

    #[test]
    fn perl_truth_of_timevals() {
        assert!(perl_true_timeval("30s"));
        assert!(!perl_true_timeval("0s"));
        assert!(perl_true_timeval("00s"));
        assert!(perl_true_timeval("0.0s"));
        assert!(!perl_true_timeval("0m"));
        assert!(!perl_true_timeval("0.0m"));
        assert!(!perl_true_timeval("30"));
    }

    #[test]
    fn self_substitution_keeps_a_column_map() {
        let (t, map) = replace_self("SELF:a && x:b", "grp");
        assert_eq!(t, "grp:a && x:b");
        assert_eq!(map[0], 0);
        assert_eq!(map[4], 5); // `a`
        assert_eq!(map[9], 10); // `x`
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("wacth", RECORDS), Some("watch"));
        assert_eq!(suggest("maxproc", GLOBALS), Some("maxprocs"));
        assert_eq!(suggest("zzzzzz", GLOBALS), None);
        assert_eq!(
            suggest("comp_alerts", PERIOD_KEYWORDS),
            Some("no_comp_alerts")
        );
    }
}
