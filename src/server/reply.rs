//! Reply formatting (protocol.md §4–§6): every data line and status line the server sends,
//! byte for byte as mon sends it, built from a `Snapshot` and the parsed command.
//!
//! Pure: the caller supplies the snapshot, the session's view and, for `list dtlog`, the
//! file's text. Every line ends with a single LF.

use crate::config::Config;
use crate::escape::{Mode, escape_into};
use crate::server::command::{Get, List, OpstatusSpec, PROTOCOL_VERSION};
use crate::server::vars;
use crate::server::view::{Scheduler, ServiceRef, Snapshot};

/// The reply to any command that is unknown or that the session may not run (Q2).
pub const UNKNOWN_COMMAND: &str = "520 command could not be executed, unknown command";
/// An unparseable request line.
pub const INVALID_COMMAND: &str = "520 invalid command";
/// A request line longer than the server accepts (monrs only; the connection is closed).
pub const LINE_TOO_LONG: &str = "520 line too long";

/// Append `text` and a LF.
pub fn line(out: &mut Vec<u8>, text: impl AsRef<[u8]>) {
    out.extend_from_slice(text.as_ref());
    out.push(b'\n');
}

/// Whether `group` (and `service`, when given) is inside `view`; no view selects everything.
pub fn in_view(config: &Config, view: Option<&str>, group: &str, service: Option<&str>) -> bool {
    let Some(name) = view else {
        return true;
    };
    let Some(v) = config.views.iter().find(|v| v.name == name) else {
        // A view that vanished with a reset selects nothing, as in mon.
        return false;
    };
    v.items.iter().any(|item| {
        item == group
            || service.is_some_and(|s| {
                item.len() == group.len() + 1 + s.len() && *item == format!("{group}:{s}")
            })
    })
}

/// The opstatus record of one service (§6), with its LF.
pub fn opstatus(out: &mut Vec<u8>, r: &ServiceRef<'_>, now: i64) {
    let st = r.state();
    let svc = r.service;
    let mut s = String::with_capacity(512);
    let q = |s: &mut String, b: &[u8]| escape_into(s, b, Mode::Quoted);
    let opt = |v: Option<i64>| v.map(|t| t.to_string()).unwrap_or_default();
    s.push_str("group=");
    s.push_str(r.group());
    s.push_str(" service=");
    s.push_str(r.name());
    s.push_str(&format!(
        " opstatus={} last_opstatus={} exitval={} timer={} last_success={} last_trap={} last_traphost={} last_check={} ack={} ackcomment=",
        st.op_status.0,
        st.last_op_status.0,
        st.exitval.as_deref().unwrap_or("undef"),
        r.view.timer,
        st.last_success,
        st.last_trap,
        st.last_traphost,
        opt(st.last_check),
        st.ack,
    ));
    if st.ack != 0 {
        q(&mut s, st.ack_comment.as_bytes());
    }
    let (alerts_sent, last_alert) = alert_counters(r);
    s.push_str(&format!(" alerts_sent={alerts_sent} depstatus="));
    if let Some(d) = st.depend_status {
        s.push(if d { '1' } else { '0' });
    }
    for (key, value) in [
        ("depend", &svc.depend),
        ("hostdepend", &svc.hostdepend),
        ("monitordepend", &svc.monitordepend),
        ("alertdepend", &svc.alertdepend),
    ] {
        s.push(' ');
        s.push_str(key);
        s.push('=');
        if let Some(v) = value {
            q(&mut s, v.as_bytes());
        }
    }
    s.push_str(" monitor=");
    if let Some(m) = &svc.monitor {
        q(&mut s, m.raw.as_bytes());
    }
    s.push_str(" last_summary=");
    if let Some(b) = &st.last_summary {
        q(&mut s, b);
    }
    s.push_str(" last_detail=");
    if let Some(b) = &st.last_detail {
        q(&mut s, b);
    }
    if st.last_failure != 0 {
        s.push_str(&format!(" last_failure={}", st.last_failure));
    }
    if let Some(iv) = vars::effective_interval(r) {
        s.push_str(&format!(
            " interval={} monitor_duration={} monitor_running={}",
            iv.as_secs(),
            st.monitor_duration,
            u8::from(r.view.running)
        ));
    }
    if let Some(p) = svc.exclude_period.as_deref().filter(|p| !p.is_empty()) {
        s.push_str(" exclude_period=");
        escape_into(&mut s, p.as_bytes(), Mode::Plain);
    }
    if !svc.exclude_hosts.is_empty() {
        s.push_str(" exclude_hosts=");
        escape_into(&mut s, svc.exclude_hosts.join(" ").as_bytes(), Mode::Plain);
    }
    if let Some(rs) = svc.randskew.map(|d| d.as_secs()).filter(|&n| n != 0) {
        s.push_str(&format!(" randskew={rs}"));
    }
    if last_alert != 0 {
        s.push_str(&format!(" last_alert={last_alert}"));
    }
    if let Some(ff) = st.first_failure.filter(|&t| t != 0) {
        s.push_str(&format!(
            " first_failure={ff} failure_duration={}",
            now - ff
        ));
    }
    line(out, s);
}

/// `alerts_sent` (periods marked `alerts_dont_count` left out) and the newest `last_alert`.
fn alert_counters(r: &ServiceRef<'_>) -> (u64, i64) {
    let mut sent = 0u64;
    let mut last = 0i64;
    for (i, ps) in r.state().periods.iter().enumerate() {
        let counts = r
            .service
            .periods
            .get(i)
            .is_none_or(|p| !p.alerts_dont_count);
        if counts {
            sent += u64::from(ps.alert_sent);
        }
        last = last.max(ps.last_alert);
    }
    (sent, last)
}

/// The `list` replies that need nothing but the snapshot (everything except `dtlog`).
pub fn list(out: &mut Vec<u8>, snap: &Snapshot, view: Option<&str>, what: &List) {
    let cfg = &*snap.config;
    let visible = |r: &ServiceRef<'_>| in_view(cfg, view, r.group(), Some(r.name()));
    match what {
        List::State => {
            match snap.scheduler {
                Scheduler::Running => line(out, "scheduler running"),
                Scheduler::Stopped { since } => {
                    line(out, format!("scheduler stopped since {since}"))
                }
            }
            line(out, "220 list state completed");
        }
        List::Watch => {
            for r in snap.iter().filter(visible) {
                line(out, format!("{} {}", r.group(), r.name()));
            }
            line(out, "220 list watch completed");
        }
        List::Group(name) => match cfg.hostgroup(name) {
            Some(g) => {
                let disabled = snap.disabled_hosts.get(&g.name);
                let mut s = format!("hostgroup {name}");
                for h in &g.hosts {
                    s.push(' ');
                    if disabled.is_some_and(|d| d.contains(h)) {
                        s.push('*');
                    }
                    s.push_str(h);
                }
                line(out, s);
                line(out, "220 list group completed");
            }
            None => line(out, "520 list group error, undefined group"),
        },
        List::Aliases(names) => {
            let mut write_alias = |name: &str| {
                line(out, format!("alias {name}"));
                if let Some(a) = cfg.aliases.iter().find(|a| a.name == name) {
                    for l in &a.lines {
                        line(out, l);
                    }
                }
                line(out, "");
            };
            if names.is_empty() {
                for a in &cfg.aliases {
                    write_alias(&a.name);
                }
            } else {
                for n in names {
                    write_alias(n);
                }
            }
            line(out, "220 list aliases completed");
        }
        List::Aliasgroups => {
            if !cfg.aliases.is_empty() {
                let names: Vec<&str> = cfg.aliases.iter().map(|a| a.name.as_str()).collect();
                line(out, names.join(" "));
            }
            line(out, "220 list aliasgroups completed");
        }
        List::Opstatus(specs) => list_opstatus(out, snap, view, specs),
        List::Failures | List::Successes | List::Warnings => {
            for r in snap.iter().filter(visible) {
                let code = r.state().op_status;
                let hit = match what {
                    List::Failures => code.is_failure_class(),
                    List::Successes => code.is_success_class(),
                    _ => code.is_warning_class(),
                };
                if hit {
                    opstatus(out, &r, snap.now);
                }
            }
            // Q1: mon ends `list warnings` with the successes status line.
            line(
                out,
                if matches!(what, List::Failures) {
                    "220 list failures completed"
                } else {
                    "220 list successes completed"
                },
            );
        }
        List::Disabled => {
            for g in &cfg.hostgroups {
                if !in_view(cfg, view, &g.name, None) {
                    continue;
                }
                let Some(d) = snap.disabled_hosts.get(&g.name) else {
                    continue;
                };
                let hosts: Vec<&str> = g
                    .hosts
                    .iter()
                    .filter(|h| d.contains(*h))
                    .map(String::as_str)
                    .collect();
                if !hosts.is_empty() {
                    line(out, format!("group {}: {}", g.name, hosts.join(" ")));
                }
            }
            for w in &cfg.watches {
                if in_view(cfg, view, &w.name, None) && snap.disabled_watches.contains(&w.name) {
                    line(out, format!("watch {}", w.name));
                }
                for r in snap.iter().filter(|r| r.group() == w.name) {
                    if visible(&r) && r.state().disabled {
                        line(out, format!("watch {} service {}", w.name, r.name()));
                    }
                }
            }
            line(out, "220 list disabled completed");
        }
        List::Alerthist | List::Failurehist => {
            let (hist, done) = if matches!(what, List::Alerthist) {
                (&snap.alerthist, "220 list alerthist completed")
            } else {
                (&snap.failurehist, "220 list failurehist completed")
            };
            let mut s = String::new();
            for entry in hist.iter() {
                s.clear();
                escape_into(&mut s, entry, Mode::Plain);
                line(out, &s);
            }
            line(out, done);
        }
        List::Pids => {
            line(out, format!("server {}", snap.server_pid));
            for p in &snap.pids {
                line(out, format!("{} {} {}", p.group, p.service, p.pid));
            }
            line(out, "220 list pids completed");
        }
        List::Deps => {
            // mon tests the view with the wrong variables and prints nothing once a view is
            // selected; monrs filters by the view.
            for r in snap.iter().filter(visible) {
                let dep = r.service.depend.as_deref().unwrap_or("");
                let mut s = format!("exp {} {} '", r.group(), r.name());
                if dep.is_empty() {
                    s.push_str("NONE");
                } else {
                    escape_into(&mut s, dep.as_bytes(), Mode::Quoted);
                }
                s.push('\'');
                line(out, s);
                let toks = dep_tokens(dep);
                if toks.is_empty() {
                    line(out, format!("cmp {} {} NONE", r.group(), r.name()));
                } else {
                    line(
                        out,
                        format!("cmp {} {} {}", r.group(), r.name(), toks.join(" ")),
                    );
                }
            }
            line(out, "220 list deps completed");
        }
        List::Descriptions => {
            for r in snap.iter().filter(visible) {
                let mut s = format!("{} {} ", r.group(), r.name());
                if let Some(d) = vars::description(&r) {
                    escape_into(&mut s, d.as_bytes(), Mode::Quoted);
                }
                line(out, s);
            }
            line(out, "220 list descriptions completed");
        }
        List::Views => {
            let mut names: Vec<&str> = cfg.views.iter().map(|v| v.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            line(out, format!("views {}", names.join(" ")));
            // Q1: mon's status line for `list views`.
            line(out, "220 list group completed");
        }
        // `list dtlog` reads a file; the session calls `dtlog` for it.
        List::Dtlog => line(out, "520 list dtlog error, cannot open dtlog"),
        List::Unknown => line(out, "520 unknown list command"),
    }
}

fn list_opstatus(out: &mut Vec<u8>, snap: &Snapshot, view: Option<&str>, specs: &[OpstatusSpec]) {
    if specs.is_empty() {
        for r in snap.iter() {
            if in_view(&snap.config, view, r.group(), Some(r.name())) {
                opstatus(out, &r, snap.now);
            }
        }
        line(out, "220 list opstatus completed");
        return;
    }
    // mon names the last spec it parsed, not the bad one (Q9); monrs names the first bad one.
    if let Some(bad) = specs.iter().find(|s| {
        s.service
            .as_deref()
            .is_some_and(|svc| snap.find(&s.group, svc).is_none())
    }) {
        let svc = bad.service.as_deref().unwrap_or("");
        line(out, format!("520 {},{} does not exist", bad.group, svc));
        return;
    }
    for spec in specs {
        match &spec.service {
            Some(svc) => {
                if let Some(r) = snap.find(&spec.group, svc) {
                    opstatus(out, &r, snap.now);
                }
            }
            None => {
                for r in snap.iter().filter(|r| r.group() == spec.group) {
                    opstatus(out, &r, snap.now);
                }
            }
        }
    }
    line(out, "220 list opstatus completed");
}

/// Every `word:word` token of a dependency expression (`cmp` lines of `list deps`).
pub fn dep_tokens(expr: &str) -> Vec<&str> {
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !is_name(b[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && is_name(b[j]) {
            j += 1;
        }
        if j < b.len() && b[j] == b':' {
            let mut k = j + 1;
            while k < b.len() && is_name(b[k]) {
                k += 1;
            }
            if k > j + 1 {
                out.push(&expr[i..k]);
                i = k;
                continue;
            }
        }
        i = j;
    }
    out
}

/// `list dtlog` from the file's contents: every line that is neither a comment nor blank,
/// verbatim (a last line without LF gets one).
pub fn dtlog(out: &mut Vec<u8>, content: &[u8]) {
    for l in content.split_inclusive(|&b| b == b'\n') {
        let body = l.strip_suffix(b"\n").unwrap_or(l);
        if body.first() == Some(&b'#')
            || body
                .iter()
                .all(|&c| crate::config::words::is_perl_space(c as char))
        {
            continue;
        }
        line(out, body);
    }
    line(out, "220 list dtlog completed");
}

/// `get` replies.
pub fn get(out: &mut Vec<u8>, snap: &Snapshot, what: &Get) {
    match what {
        Get::Maxkeep => {
            line(out, format!("maxkeep = {}", snap.maxkeep));
            // Q1: mon's status line for `get maxkeep`.
            line(out, "220 set completed");
        }
        Get::Var {
            group,
            service,
            var,
        } => match snap.find(group, service) {
            Some(r) => {
                let mut s = format!("{group} {service} {var}='");
                if let Some(v) = vars::get_var(&r, var) {
                    escape_into(&mut s, &v, Mode::Quoted);
                }
                s.push('\'');
                line(out, s);
                line(out, "220 get completed");
            }
            None => line(out, format!("520 {group},{service} not defined")),
        },
    }
}

/// `version`.
pub fn version(out: &mut Vec<u8>) {
    line(out, format!("version {PROTOCOL_VERSION}"));
    line(out, "220 version completed");
}

/// `servertime`: the epoch and the local time the way Perl's `scalar localtime` prints it.
pub fn servertime(out: &mut Vec<u8>, now: i64, tz: &jiff::tz::TimeZone) {
    line(out, format!("{now} {}", ctime(now, tz)));
    line(out, "220 servertime completed");
}

/// `Sun Nov 22 03:13:02 2026` (Perl's `scalar localtime`, a one-digit day space-padded).
pub fn ctime(epoch: i64, tz: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_second(epoch) {
        Ok(ts) => ts
            .to_zoned(tz.clone())
            .strftime("%a %b %e %H:%M:%S %Y")
            .to_string(),
        Err(_) => epoch.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_tokens_like_mon_regex() {
        assert_eq!(dep_tokens("g1:s1"), vec!["g1:s1"]);
        assert_eq!(
            dep_tokens("g1:s1 && (g2:s-2 || !x.y:z_1)"),
            vec!["g1:s1", "g2:s-2", "x.y:z_1"]
        );
        assert_eq!(dep_tokens("a: b:c :d"), vec!["b:c"]);
        assert_eq!(dep_tokens(""), Vec::<&str>::new());
    }

    #[test]
    fn ctime_pads_the_day() -> Result<(), jiff::Error> {
        let tz = jiff::tz::TimeZone::get("UTC")?;
        assert_eq!(ctime(1795317182, &tz), "Sun Nov 22 03:13:02 2026");
        assert_eq!(ctime(1793581200, &tz), "Mon Nov  2 01:00:00 2026");
        Ok(())
    }

    #[test]
    fn dtlog_skips_comments_and_blank_lines() {
        let mut out = Vec::new();
        dtlog(
            &mut out,
            b"#\n# downtime log start 1\n\n  \n1795317196 g1 s1 1795317189 7 3600 a\tb\nlast",
        );
        assert_eq!(
            out,
            b"1795317196 g1 s1 1795317189 7 3600 a\tb\nlast\n220 list dtlog completed\n"
        );
    }
}
