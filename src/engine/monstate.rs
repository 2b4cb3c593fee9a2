//! mon's own state files (daemon-cli-and-files.md §4.4): `STATEDIR/disabled` (`disable
//! host|watch|service` lines) and `STATEDIR/opstatus` (one TAB-separated line of
//! plain-escaped `name=value` pairs per service), written by `savestate` (and after every
//! disable/enable) and read by `loadstate` and `-l`.

use std::fmt::Write as _;
use std::path::Path;

use super::api::{MonState, OpstatusRecord, Snapshot, Target};
use crate::escape::{Mode, escape, unescape_str};
use crate::logging::{Prio, mon};

/// The `disabled` file for a snapshot: hosts by hostgroup, then per watch its `watch`
/// line and its `service` lines.
pub fn disabled_text(snap: &Snapshot) -> String {
    let mut out = String::new();
    for g in &snap.config.hostgroups {
        for h in g.hosts.iter().filter(|h| snap.disabled_hosts.contains(*h)) {
            let _ = writeln!(out, "disable host {h}");
        }
    }
    for w in &snap.config.watches {
        if snap.disabled_watches.contains(&w.name) {
            let _ = writeln!(out, "disable watch {}", w.name);
        }
        for v in snap.services.iter().filter(|v| *v.group == w.name) {
            if v.state.disabled {
                let _ = writeln!(out, "disable service {} {}", v.group, v.service);
            }
        }
    }
    out
}

/// The `opstatus` file for a snapshot.
pub fn opstatus_text(snap: &Snapshot) -> String {
    let mut out = String::new();
    for v in &snap.services {
        let st = &v.state;
        let e = |b: &[u8]| escape(b, Mode::Plain);
        let opt = |b: &Option<bytes::Bytes>| b.as_deref().map(e).unwrap_or_default();
        let n = |x: Option<i64>| x.map(|x| x.to_string()).unwrap_or_default();
        let _ = write!(out, "group={}\tservice={}", v.group, v.service);
        let fields: [(&str, String); 22] = [
            ("op_status", st.op_status.0.to_string()),
            ("failure_count", st.failure_count.to_string()),
            ("alert_count", st.alert_count.to_string()),
            ("last_success", st.last_success.to_string()),
            ("first_success", String::new()),
            ("consec_failures", st.consec_failures.to_string()),
            ("last_failure", st.last_failure.to_string()),
            ("first_failure", n(st.first_failure)),
            ("last_summary", opt(&st.last_summary)),
            ("last_failure_time", String::new()),
            ("last_failure_summary", String::new()),
            ("last_failure_detail", String::new()),
            ("last_detail", opt(&st.last_detail)),
            ("ack", st.ack.to_string()),
            ("ack_comment", e(st.ack_comment.as_bytes())),
            ("last_trap", st.last_trap.to_string()),
            ("last_traphost", e(st.last_traphost.as_bytes())),
            (
                "exitval",
                e(st.exitval.as_deref().unwrap_or("undef").as_bytes()),
            ),
            ("last_check", n(st.last_check)),
            ("last_op_status", st.last_op_status.0.to_string()),
            ("failure_output", opt(&st.failure_output)),
            ("trap_timer", String::new()),
        ];
        for (k, val) in fields {
            let _ = write!(out, "\t{k}={val}");
        }
        if let Some(cfg) = v.config(snap) {
            for (p, ps) in cfg.periods.iter().zip(&st.periods) {
                let _ = write!(
                    out,
                    "\t{l}:last_alert={}\t{l}:alert_sent={}\t{l}:1stfailtime={}\t{l}:failcount={}",
                    ps.last_alert,
                    ps.alert_sent,
                    ps.first_fail_time,
                    ps.fail_count,
                    l = p.label
                );
            }
        }
        out.push('\n');
    }
    out
}

/// Read `STATEDIR/disabled` and/or `STATEDIR/opstatus` for `-l`/`loadstate` TYPE
/// (`disabled`, `opstatus`, `all`; an empty TYPE is `disabled`). Missing files are only
/// logged, as mon does.
pub fn read(statedir: &Path, what: &str) -> MonState {
    let mut st = MonState::default();
    let what = if what.is_empty() { "disabled" } else { what };
    if what == "disabled" || what == "all" {
        match std::fs::read_to_string(statedir.join("disabled")) {
            Ok(text) => st.disabled = parse_disabled(&text),
            Err(e) => mon(Prio::Err, &format!("could not read state file: {e}")),
        }
    }
    if what == "opstatus" || what == "all" {
        match std::fs::read(statedir.join("opstatus")) {
            Ok(b) => st.opstatus = parse_opstatus(&String::from_utf8_lossy(&b)),
            Err(e) => mon(Prio::Err, &format!("could not read state file: {e}")),
        }
    }
    st
}

/// `disable host H` / `disable watch G` / `disable service G S` lines; others ignored.
pub fn parse_disabled(text: &str) -> Vec<Target> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            if w.next()? != "disable" {
                return None;
            }
            match w.next()? {
                "host" => Some(Target::Hosts(w.map(str::to_string).collect())),
                "watch" => Some(Target::Watch(w.collect::<Vec<_>>().join(" "))),
                "service" => Some(Target::Service(
                    w.next()?.to_string(),
                    w.next()?.to_string(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// mon's opstatus state file: one line per service of TAB-separated `name=value` pairs,
/// values `\xx`-escaped.
pub fn parse_opstatus(text: &str) -> Vec<OpstatusRecord> {
    text.lines()
        .filter_map(|l| {
            let mut rec = OpstatusRecord::default();
            for f in l.split('\t') {
                let (k, v) = f.split_once('=')?;
                let v = unescape_str(v);
                match k {
                    "group" => rec.group = v,
                    "service" => rec.service = v,
                    // Runtime values mon saves but does not restore usefully.
                    "trap_timer"
                    | "first_success"
                    | "last_failure_time"
                    | "last_failure_summary"
                    | "last_failure_detail" => {}
                    _ => rec.fields.push((k.to_string(), v)),
                }
            }
            (!rec.group.is_empty() && !rec.service.is_empty()).then_some(rec)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_mon_state_files() {
        let d = parse_disabled(
            "disable host onlyhost\ndisable watch g2\nbogus line\ndisable service g1 s2\n",
        );
        assert_eq!(
            d,
            vec![
                Target::Hosts(vec!["onlyhost".into()]),
                Target::Watch("g2".into()),
                Target::Service("g1".into(), "s2".into()),
            ]
        );
        let o = parse_opstatus(
            "group=g1\tservice=s1\top_status=0\tlast_summary=h1\\20down\ttrap_timer=\twd {Sun-Sat}:alert_sent=1\n",
        );
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].group, "g1");
        assert_eq!(
            o[0].fields,
            vec![
                ("op_status".to_string(), "0".to_string()),
                ("last_summary".to_string(), "h1 down".to_string()),
                ("wd {Sun-Sat}:alert_sent".to_string(), "1".to_string()),
            ]
        );
    }
}
