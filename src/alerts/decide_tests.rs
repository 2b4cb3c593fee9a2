//! Acceptance tables for `decide`: every row of scheduling-and-alerts.md §13 Scenarios A, B
//! and C, and the §8 table, replayed against the decision functions.
//!
//! Tick quantisation: mon decides at whole seconds. Each scenario is fed the result times
//! the real daemon produced (whole seconds after start, as listed in §13 and §6: in
//! Scenario A the third failure came at 11 s, not 10 s, which is what the `alertafter 2`
//! and `alertafter 2 5s` rows show). The scheduler's own timing is tested in `schedule`.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::config::{AlertEvery, ExitRange};

const T0: i64 = 1_795_315_000;

fn line(raw: &str) -> AlertLine {
    let (exit_range, rest) = match raw.strip_prefix("exit=") {
        Some(r) => {
            let (range, rest) = r.split_once(' ').unwrap_or((r, ""));
            let (lo, hi) = range.split_once('-').unwrap_or((range, range));
            (
                Some(ExitRange {
                    lo: lo.parse().unwrap_or(0),
                    hi: hi.parse().unwrap_or(0),
                }),
                rest,
            )
        }
        None => (None, raw),
    };
    let (name, args) = rest.split_once(' ').unwrap_or((rest, ""));
    AlertLine {
        raw: raw.to_string(),
        exit_range,
        name: name.to_string(),
        args: args.to_string(),
        line: 1,
    }
}

fn period(label: &str, alerts: &[&str], upalerts: &[&str]) -> Period {
    let mut p = Period::new(label, "wd {Sun-Sat}", 1);
    p.alerts = alerts.iter().map(|a| line(a)).collect();
    p.upalerts = upalerts.iter().map(|a| line(a)).collect();
    p
}

fn svc_with(periods: Vec<Period>) -> Service {
    let mut s = Service::new("s1", 1);
    s.schedule = crate::config::Schedule::Interval(Duration::from_secs(2));
    s.monitor = Some(crate::config::MonitorLine {
        raw: "flag.monitor".into(),
        name: "flag.monitor".into(),
        args: String::new(),
    });
    s.periods = periods;
    s
}

/// One replayed service: config, state and the knobs of the world around it.
struct H {
    svc: Service,
    st: ServiceState,
    active: Vec<bool>,
    stopped: bool,
    watch_disabled: bool,
    dep_gated: bool,
    dtlog: bool,
    hosts: Vec<String>,
    /// Everything called so far: (time offset, call).
    calls: Vec<(i64, AlertCall)>,
    hist: Vec<String>,
    notes: Vec<Note>,
}

impl H {
    fn new(svc: Service) -> H {
        let n = svc.periods.len();
        H {
            svc,
            st: ServiceState::new(n),
            active: vec![true; n],
            stopped: false,
            watch_disabled: false,
            dep_gated: false,
            dtlog: false,
            hosts: vec!["hostA".into(), "hostB".into()],
            calls: Vec::new(),
            hist: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn with<R>(&mut self, t: i64, f: impl FnOnce(&Ctx<'_>, &mut ServiceState) -> R) -> R {
        let active = self.active.clone();
        let in_period = move |i: usize| active.get(i).copied().unwrap_or(false);
        let resolve = |name: &str, _args: &[String]| {
            (name != "missing.alert")
                .then(|| AlertTarget::Script(PathBuf::from(format!("/alert.d/{name}"))))
        };
        let base_env = vec![("MON_STATEDIR".to_string(), "/state".to_string())];
        let hosts = self.hosts.clone();
        let hosts = move || hosts.clone();
        let ctx = Ctx {
            now: T0 + t,
            group: "g1",
            svc: &self.svc,
            stopped: self.stopped,
            watch_disabled: self.watch_disabled,
            hosts: &hosts,
            in_period: &in_period,
            resolve: &resolve,
            base_env: &base_env,
            dep_gated: self.dep_gated,
            intended: None,
            dtlog_start: self.dtlog.then_some(T0),
            interval_secs: 2,
        };
        f(&ctx, &mut self.st)
    }

    fn absorb(&mut self, t: i64, fx: Effects) -> Effects {
        for a in &fx.alerts {
            self.calls.push((t, a.call.clone()));
        }
        self.hist.extend(fx.alert_hist.iter().cloned());
        self.notes.extend(fx.notes.iter().cloned());
        fx
    }

    fn result(&mut self, t: i64, exit: i32, out: &str) -> Effects {
        let r = ResultIn::monitor(exit, Bytes::from(out.to_string()));
        let fx = self.with(t, |c, st| process_result(c, st, &r));
        self.absorb(t, fx)
    }

    fn ack(&mut self, t: i64, user: &str, comment: &str) -> Result<Effects, AckError> {
        let full = format!("{user}: {comment}");
        let fx = self.with(t, |c, st| ack(c, st, &full))?;
        Ok(self.absorb(t, fx))
    }

    fn startup(&mut self, t: i64) -> Effects {
        let fx = self.with(t, startup);
        self.absorb(t, fx)
    }

    /// (time, first user argument, summary) of the counted calls of one kind.
    fn of(&self, kind: AlertKind) -> Vec<(i64, String, String)> {
        self.calls
            .iter()
            .filter(|(_, c)| c.kind == kind && !c.redistribute)
            .map(|(t, c)| {
                (
                    *t,
                    c.args.first().cloned().unwrap_or_default(),
                    c.summary.clone(),
                )
            })
            .collect()
    }

    fn times(&self, kind: AlertKind) -> Vec<i64> {
        self.of(kind).into_iter().map(|(t, _, _)| t).collect()
    }
}

fn env_of<'a>(c: &'a AlertCall, k: &str) -> Option<&'a str> {
    c.env
        .iter()
        .rev()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------- Scenario A

/// Scenario A's results: ok until 3.5 s, `A\nd1` until 11.5, `A\nd2` until 15.5, `B\nd2`
/// until 19.5, ok until 23.5, `A\nd1` until 27.5, then ok.
const SCENARIO_A: &[(i64, i32, &str)] = &[
    (2, 0, "all ok\n"),
    (6, 1, "A\nd1\n"),
    (8, 1, "A\nd1\n"),
    (11, 1, "A\nd1\n"),
    (13, 1, "A\nd2\n"),
    (15, 1, "A\nd2\n"),
    (17, 1, "B\nd2\n"),
    (21, 0, "all ok\n"),
    (25, 1, "A\nd1\n"),
    (30, 0, "all ok\n"),
];

fn scenario_a(tune: impl FnOnce(&mut Period)) -> H {
    let mut p = period("wd {Sun-Sat}", &["rec.alert X"], &["rec.alert up-X"]);
    tune(&mut p);
    let mut h = H::new(svc_with(vec![p]));
    for &(t, exit, out) in SCENARIO_A {
        h.result(t, exit, out);
    }
    h
}

fn every(secs: u64, mode: EveryMode) -> Option<AlertEvery> {
    Some(AlertEvery {
        every: Duration::from_secs(secs),
        mode,
    })
}

#[test]
fn scenario_a_rows() {
    type Tune = fn(&mut Period);
    type Row<'a> = (&'a str, Tune, &'a [(i64, &'a str)], &'a [i64]);
    let rows: &[Row<'_>] = &[
        (
            "(none)",
            |_| {},
            &[
                (6, "A"),
                (8, "A"),
                (11, "A"),
                (13, "A"),
                (15, "A"),
                (17, "B"),
                (25, "A"),
            ],
            &[21, 30],
        ),
        (
            "alertafter 2",
            |p| p.alertafter_consec = Some(2),
            &[(8, "A"), (11, "A"), (13, "A"), (15, "A"), (17, "B")],
            &[21],
        ),
        (
            "alertafter 2 + alertevery 600s",
            |p| {
                p.alertafter_consec = Some(2);
                p.alertevery = every(600, EveryMode::Summary);
            },
            &[(8, "A"), (17, "B")],
            &[21],
        ),
        (
            "alertevery 600s",
            |p| p.alertevery = every(600, EveryMode::Summary),
            &[(6, "A"), (17, "B"), (25, "A")],
            &[21, 30],
        ),
        (
            "alertevery 600s observe_detail",
            |p| p.alertevery = every(600, EveryMode::ObserveDetail),
            &[(6, "A"), (13, "A"), (17, "B"), (25, "A")],
            &[21, 30],
        ),
        (
            "alertevery 600s strict",
            |p| p.alertevery = every(600, EveryMode::Strict),
            &[(6, "A"), (25, "A")],
            &[21, 30],
        ),
        (
            "alertevery 600s ignore_summary",
            |p| p.alertevery = every(600, EveryMode::IgnoreSummary),
            &[(6, "A"), (25, "A")],
            &[21, 30],
        ),
        (
            "numalerts 1",
            |p| p.numalerts = 1,
            &[(6, "A"), (25, "A")],
            &[21, 30],
        ),
        (
            "alertafter 5s",
            |p| p.alertafter_time = Some(Duration::from_secs(5)),
            &[(13, "A"), (15, "A"), (17, "B")],
            &[21],
        ),
        (
            "alertafter 2 5s",
            |p| {
                p.alertafter_count = Some(2);
                p.alertafter_time = Some(Duration::from_secs(5));
            },
            &[(8, "A"), (11, "A"), (15, "A"), (17, "B")],
            &[21],
        ),
        (
            "alertafter 10",
            |p| p.alertafter_consec = Some(10),
            &[],
            &[],
        ),
        (
            "alertafter 10 + no_comp_alerts",
            |p| {
                p.alertafter_consec = Some(10);
                p.no_comp_alerts = true;
            },
            &[],
            &[21],
        ),
    ];
    for (name, tune, alerts, ups) in rows {
        let h = scenario_a(*tune);
        let got: Vec<(i64, String)> = h
            .of(AlertKind::Failure)
            .into_iter()
            .map(|(t, arg, sum)| {
                assert_eq!(arg, "X", "{name}");
                (t, sum)
            })
            .collect();
        let want: Vec<(i64, String)> = alerts.iter().map(|(t, s)| (*t, s.to_string())).collect();
        assert_eq!(got, want, "failure alerts, row {name}");
        assert_eq!(h.times(AlertKind::Up), ups.to_vec(), "upalerts, row {name}");
        for (_, arg, _) in h.of(AlertKind::Up) {
            assert_eq!(arg, "up-X", "{name}");
        }
    }
}

#[test]
fn alertevery_summary_mode_is_the_default_word() {
    // `alertevery 600s summary` is the same as plain `alertevery 600s`.
    let h = scenario_a(|p| p.alertevery = every(600, EveryMode::Summary));
    assert_eq!(h.times(AlertKind::Failure), vec![6, 17, 25]);
}

// ---------------------------------------------------------------- Scenario B

/// Scenario B: failing from the start, exit 1 → 2 (5.5 s) → 4 (9.5 s) → 0 (13.5 s) →
/// 3 (17.5 s) → 0 (21.5 s).
const SCENARIO_B: &[(i64, i32)] = &[
    (3, 1),
    (5, 1),
    (8, 2),
    (10, 2),
    (13, 4),
    (15, 0),
    (17, 0),
    (19, 3),
    (21, 3),
    (23, 0),
];

fn scenario_b(periods: Vec<Period>, with_startup: bool) -> H {
    let mut h = H::new(svc_with(periods));
    if with_startup {
        h.startup(0);
    }
    for &(t, exit) in SCENARIO_B {
        let out = if exit == 0 {
            "ok\n".to_string()
        } else {
            format!("rv{exit}\n")
        };
        h.result(t, exit, &out);
    }
    h
}

fn by_arg(h: &H, arg: &str) -> Vec<i64> {
    h.of(AlertKind::Failure)
        .into_iter()
        .filter(|(_, a, _)| a == arg)
        .map(|(t, _, _)| t)
        .collect()
}

#[test]
fn scenario_b_exit_filters() {
    let p = period(
        "wd {Sun-Sat}",
        &[
            "exit=2 rec.alert X2",
            "exit=3-5 rec.alert X35",
            "rec.alert X",
        ],
        &["rec.alert up-X"],
    );
    let h = scenario_b(vec![p], false);
    assert_eq!(by_arg(&h, "X2"), vec![8, 10]);
    assert_eq!(by_arg(&h, "X35"), vec![13, 19, 21]);
    assert_eq!(by_arg(&h, "X"), vec![3, 5, 8, 10, 13, 19, 21]);
    assert_eq!(h.times(AlertKind::Up), vec![15, 23]);
    // Several lines in one decision count once for numalerts / alerts_sent.
    assert_eq!(h.st.periods[0].alert_sent, 0, "reset by the last success");
}

#[test]
fn scenario_b_alertexitrange() {
    let mut p = period("wd {Sun-Sat}", &["rec.alert X"], &["rec.alert up-X"]);
    p.alertexitrange = Some(ExitRange { lo: 3, hi: 4 });
    let h = scenario_b(vec![p], false);
    assert_eq!(h.times(AlertKind::Failure), vec![13, 19, 21]);
    assert_eq!(h.times(AlertKind::Up), vec![15, 23]);
    let rvs: Vec<_> = h
        .calls
        .iter()
        .filter(|(_, c)| c.kind == AlertKind::Failure)
        .map(|(_, c)| env_of(c, "MON_RETVAL").unwrap_or_default().to_string())
        .collect();
    assert_eq!(rvs, vec!["4", "3", "3"]);
}

#[test]
fn scenario_b_strict_without_upalert_holds_across_recovery() {
    let mut p = period("wd {Sun-Sat}", &["rec.alert X"], &[]);
    p.alertevery = every(600, EveryMode::Strict);
    let h = scenario_b(vec![p], false);
    assert_eq!(h.times(AlertKind::Failure), vec![3]);
    assert!(h.times(AlertKind::Up).is_empty());
}

#[test]
fn scenario_b_startup_alert_counts_for_numalerts() {
    let mut p = period("wd {Sun-Sat}", &["rec.alert X"], &["rec.alert up-X"]);
    p.startupalerts = vec![line("rec.alert start")];
    p.numalerts = 1;
    let h = scenario_b(vec![p], true);
    assert_eq!(h.times(AlertKind::Startup), vec![0]);
    assert_eq!(h.times(AlertKind::Failure), vec![19]);
    assert_eq!(h.times(AlertKind::Up), vec![15, 23]);
}

#[test]
fn scenario_b_upalerts_pair_per_period() {
    let p1 = period("p1", &["rec.alert p1"], &[]);
    let p2 = period("p2", &[], &["rec.alert up-p2"]);
    let p3 = period("p3", &["rec.alert p3"], &["rec.alert up-p3"]);
    let h = scenario_b(vec![p1, p2, p3], false);
    let ups = h.of(AlertKind::Up);
    assert!(ups.iter().all(|(_, a, _)| a == "up-p3"), "{ups:?}");
    assert_eq!(h.times(AlertKind::Up), vec![15, 23]);
    assert_eq!(by_arg(&h, "p1"), vec![3, 5, 8, 10, 13, 19, 21]);
}

#[test]
fn scenario_b_inactive_period_contributes_nothing() {
    let p = period("hr {other hour}", &["rec.alert X"], &["rec.alert up-X"]);
    let mut h = H::new(svc_with(vec![p]));
    h.active = vec![false];
    for &(t, exit) in SCENARIO_B {
        h.result(t, exit, if exit == 0 { "ok\n" } else { "bad\n" });
    }
    assert!(h.calls.is_empty());
    // Nothing is remembered for the period: alert_sent never moved.
    assert_eq!(h.st.periods[0].alert_sent, 0);
}

// ---------------------------------------------------------------- Scenario C

fn scenario_c_service() -> Service {
    let mut p = period("wd {Sun-Sat}", &["rec.alert X"], &["rec.alert up-X"]);
    p.ackalerts = vec![line("rec.alert ack-X")];
    p.disablealerts = vec![line("rec.alert dis-X")];
    let mut s = svc_with(vec![p]);
    s.redistribute = Some(line("rec.alert redist"));
    s
}

#[test]
fn scenario_c_disable_service_while_failing() {
    let mut h = H::new(scenario_c_service());
    h.result(2, 1, "A\n");
    assert_eq!(h.times(AlertKind::Failure), vec![2]);
    h.st.disabled = true;
    let fx = h.with(3, |c, st| disable(c, st, ""));
    let fx = h.absorb(3, fx);
    // disablealert never fires; redistribute still runs, with the -D flag.
    assert_eq!(fx.alerts.len(), 1);
    let c = &fx.alerts[0].call;
    assert!(c.redistribute);
    assert_eq!(c.kind, AlertKind::Disable);
    assert!(c.argv().contains(&"-D".to_string()));
    assert!(
        fx.notes
            .iter()
            .any(|n| n.text == "ignoring alert for g1,s1")
    );
    h.result(4, 1, "A\n");
    h.result(6, 0, "ok\n");
    // Failure and up alerts dropped while disabled (the state still changes).
    assert_eq!(h.times(AlertKind::Failure), vec![2]);
    assert!(h.times(AlertKind::Up).is_empty());
    assert_eq!(h.st.op_status, OpStatus::OK);
    let redist: Vec<_> = h.calls.iter().filter(|(_, c)| c.redistribute).collect();
    assert_eq!(redist.len(), 4, "every decision is redistributed");
}

#[test]
fn scenario_c_ack() -> Result<(), AckError> {
    let mut h = H::new(scenario_c_service());
    h.result(2, 1, "A\n");
    let fx = h.ack(3, "", "looking")?;
    let acks: Vec<_> = fx.alerts.iter().filter(|a| !a.call.redistribute).collect();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].call.kind, AlertKind::Ack);
    assert_eq!(acks[0].call.args, vec!["ack-X"]);
    assert_eq!(&acks[0].call.stdin[..], b": looking");
    assert!(acks[0].call.argv().contains(&"-a".to_string()));
    assert_eq!(env_of(&acks[0].call, "MON_RETVAL"), None);
    h.result(4, 1, "A\n");
    h.result(6, 1, "A\n");
    assert_eq!(h.times(AlertKind::Failure), vec![2], "failure alerts stop");
    h.result(8, 0, "ok\n");
    let up = h
        .calls
        .iter()
        .find(|(_, c)| c.kind == AlertKind::Up && !c.redistribute)
        .map(|(_, c)| c.clone());
    let up = up.expect("an upalert on recovery");
    assert_eq!(env_of(&up, "MON_ACK"), Some(": looking"));
    assert_eq!(h.st.ack, 0, "cleared by the success");
    Ok(())
}

#[test]
fn scenario_c_ack_refused_when_not_failing() {
    let mut h = H::new(scenario_c_service());
    assert_eq!(
        h.with(1, |c, st| ack(c, st, ": x")).err(),
        Some(AckError::NotFailing)
    );
    h.result(2, 0, "ok\n");
    assert!(h.with(3, |c, st| ack(c, st, ": x")).is_err());
}

#[test]
fn scenario_c_unack_summary() -> Result<(), AckError> {
    let mut s = scenario_c_service();
    s.unack_summary = true;
    s.redistribute = None;
    let mut h = H::new(s);
    h.result(2, 1, "A\n");
    h.ack(3, "admin", "busy")?;
    h.result(4, 1, "A  \n");
    assert_ne!(h.st.ack, 0, "a whitespace-only change keeps the ack");
    h.result(6, 1, "B\n");
    assert_eq!(h.st.ack, 0, "a new summary drops the ack");
    assert_eq!(h.times(AlertKind::Failure), vec![2, 6], "alerts resume");
    assert!(h.notes.iter().any(|n| n.text.starts_with("Unacking g1/s1")));
    Ok(())
}

// ---------------------------------------------------------------- §8 table

#[test]
fn table8_upalert_throttled_only_by_disable() {
    let mut p = period("wd {Sun-Sat}", &["exit=9 rec.alert X"], &["rec.alert up-X"]);
    p.numalerts = 1;
    p.alertevery = every(600, EveryMode::Strict);
    p.alertafter_consec = Some(1);
    p.alertexitrange = Some(ExitRange { lo: 9, hi: 9 });
    let mut h = H::new(svc_with(vec![p]));
    h.dep_gated = true;
    h.result(2, 9, "A\n");
    h.st.depend_status = Some(false);
    h.st.ack = T0;
    h.st.ack_comment = ": x".into();
    h.result(4, 0, "ok\n");
    assert_eq!(
        h.times(AlertKind::Up),
        vec![4],
        "not blocked by deps, ack or throttles"
    );
    // ...but disable blocks it.
    let mut p = period("wd {Sun-Sat}", &["rec.alert X"], &["rec.alert up-X"]);
    p.numalerts = 0;
    let mut h = H::new(svc_with(vec![p]));
    h.result(2, 1, "A\n");
    h.watch_disabled = true;
    h.result(4, 0, "ok\n");
    assert!(h.times(AlertKind::Up).is_empty());
}

#[test]
fn table8_up_needs_down_alert_in_same_period_unless_no_comp_alerts() {
    let mut p = period("wd {Sun-Sat}", &["rec.alert X"], &["rec.alert up-X"]);
    p.alertafter_consec = Some(3);
    let mut h = H::new(svc_with(vec![p]));
    h.result(2, 1, "A\n");
    h.result(4, 0, "ok\n");
    assert!(h.times(AlertKind::Up).is_empty());
    assert!(h.notes.iter().any(|n| {
        n.text
            .contains("Suppressing upalert since no down alert was sent")
    }));
}

#[test]
fn table8_startup_blocked_by_disable_period_and_stop() {
    let mut p = period("wd {Sun-Sat}", &[], &[]);
    p.startupalerts = vec![line("rec.alert start")];
    for (disabled, active, stopped, want) in [
        (false, true, false, 1),
        (true, true, false, 0),
        (false, false, false, 0),
        (false, true, true, 0),
    ] {
        let mut h = H::new(svc_with(vec![p.clone()]));
        h.st.disabled = disabled;
        h.active = vec![active];
        h.stopped = stopped;
        h.startup(0);
        assert_eq!(h.times(AlertKind::Startup).len(), want);
    }
    let mut h = H::new(svc_with(vec![p]));
    let fx = h.startup(0);
    let c = &fx.alerts[0].call;
    assert!(c.stdin.is_empty());
    assert_eq!(env_of(c, "MON_RETVAL"), Some("0"));
    assert_eq!(env_of(c, "MON_OPSTATUS"), Some("7"));
    assert_eq!(env_of(c, "MON_LAST_SUMMARY"), None);
    assert_eq!(env_of(c, "MON_LAST_OUTPUT"), None);
    assert_eq!(env_of(c, "MON_FIRST_FAILURE"), None);
    assert_eq!(env_of(c, "MON_LAST_FAILURE"), Some("0"));
    assert_eq!(env_of(c, "MON_FIRST_SUCCESS"), Some(""));
    assert_eq!(c.argv().iter().filter(|a| a.starts_with('-')).count(), 4);
    assert_eq!(
        h.st.periods[0].alert_sent, 1,
        "startup alerts count as sent"
    );
    assert_eq!(h.st.periods[0].last_alert, T0);
    assert_eq!(h.hist.len(), 1);
    assert!(h.hist[0].starts_with(&format!(
        "startupalert g1 s1 {T0} /alert.d/rec.alert (start) (NO SUMMARY)"
    )));
}

#[test]
fn table8_ack_blocked_by_deps_and_needs_down_alert() -> Result<(), AckError> {
    let mut p = period("wd {Sun-Sat}", &["rec.alert X"], &[]);
    p.ackalerts = vec![line("rec.alert ack")];
    p.alertafter_consec = Some(5);
    let mut h = H::new(svc_with(vec![p.clone()]));
    h.result(2, 1, "A\n");
    h.ack(3, "", "x")?;
    assert!(h.times(AlertKind::Ack).is_empty(), "no down alert yet");
    p.no_comp_alerts = true;
    let mut h = H::new(svc_with(vec![p.clone()]));
    h.result(2, 1, "A\n");
    h.ack(3, "", "x")?;
    assert_eq!(
        h.times(AlertKind::Ack),
        vec![3],
        "no_comp_alerts lifts the pairing"
    );
    let mut h = H::new(svc_with(vec![p]));
    h.dep_gated = true;
    h.result(2, 1, "A\n");
    h.st.depend_status = Some(false);
    h.ack(3, "", "x")?;
    assert!(
        h.times(AlertKind::Ack).is_empty(),
        "dependency failure blocks it"
    );
    Ok(())
}

#[test]
fn table8_trap_and_traptimeout_alert_like_failures() {
    let mut h = H::new(svc_with(vec![period(
        "p",
        &["rec.alert X"],
        &["rec.alert up"],
    )]));
    let r = ResultIn::trap("2", Bytes::from_static(b"trap sum\n\ndetail"));
    let fx = h.with(5, |c, st| process_result(c, st, &r));
    let c = &fx.alerts[0].call;
    assert_eq!(c.kind, AlertKind::Trap);
    assert!(c.argv().contains(&"-T".to_string()));
    assert_eq!(env_of(c, "MON_RETVAL"), Some("2"));
    assert!(fx.alert_hist[0].starts_with("trapalert g1 s1"));
    assert_eq!(h.st.last_detail.as_deref(), Some(&b"\ndetail"[..]));
    let r = ResultIn::trap_timeout(Bytes::from_static(b"trap timeout\nafter 5s\n"));
    let fx = h.with(10, |c, st| process_result(c, st, &r));
    let c = &fx.alerts[0].call;
    assert_eq!(c.kind, AlertKind::TrapTimeout);
    assert!(c.argv().contains(&"-O".to_string()));
    assert_eq!(env_of(c, "MON_RETVAL"), Some("1"));
    assert_eq!(env_of(c, "MON_OPSTATUS"), Some("0"));
    // sta "0" is a success.
    let r = ResultIn::trap("0", Bytes::from_static(b"fine\n\n"));
    let fx = h.with(12, |c, st| process_result(c, st, &r));
    assert_eq!(fx.alerts[0].call.kind, AlertKind::Up);
}

#[test]
fn table8_test_alert_bypasses_everything() {
    let mut p = period("wd {Sun-Sat}", &["exit=2 rec.alert X"], &["rec.alert up"]);
    p.numalerts = 1;
    let mut h = H::new(svc_with(vec![p]));
    h.st.disabled = true;
    h.watch_disabled = true;
    h.stopped = true;
    h.active = vec![false];
    let fx = h.with(1, |c, st| test_alert(c, st, AlertKind::Failure, "7", 0));
    assert_eq!(fx.alerts.len(), 1, "exit= filters are ignored too");
    let c = &fx.alerts[0].call;
    assert_eq!(c.kind, AlertKind::Test);
    assert_eq!(&c.stdin[..], b"test\ntest detail\n");
    assert_eq!(env_of(c, "MON_ALERTTYPE"), Some("test"));
    assert_eq!(env_of(c, "MON_RETVAL"), Some("7"));
    assert!(fx.alert_hist.is_empty(), "not recorded");
    assert_eq!(h.st.alert_count, 0, "not counted");
    let fx = h.with(1, |c, st| test_alert(c, st, AlertKind::Up, "0", 0));
    let c = &fx.alerts[0].call;
    assert!(c.argv().contains(&"-u".to_string()));
    assert_eq!(env_of(c, "MON_ALERTTYPE"), Some("up"));
}

#[test]
fn table8_redistribute_only_stopped_blocks_it() {
    let mut s = svc_with(vec![period("p", &["rec.alert X"], &[])]);
    s.redistribute = Some(line("rec.alert rd"));
    let mut h = H::new(s);
    // The first success goes through the upalert path with the previous output ("").
    let fx = h.result(1, 0, "ok\n");
    assert_eq!(fx.alerts.len(), 1);
    assert!(fx.alerts[0].call.redistribute);
    assert_eq!(fx.alerts[0].call.kind, AlertKind::Up);
    assert!(fx.alerts[0].call.stdin.is_empty());
    assert!(fx.alert_hist.is_empty(), "redistribute is not counted");
    h.st.disabled = true;
    let fx = h.result(2, 1, "bad\n");
    assert_eq!(fx.alerts.len(), 1, "not blocked by disable");
    assert_eq!(&fx.alerts[0].call.stdin[..], b"bad\n");
    assert!(fx.notes.iter().all(|n| !n.text.starts_with("calling")));
    h.stopped = true;
    let fx = h.result(3, 1, "bad\n");
    assert!(fx.alerts.is_empty());
}

#[test]
fn dependency_gate() {
    let mut h = H::new(svc_with(vec![period(
        "p",
        &["rec.alert X"],
        &["rec.alert up"],
    )]));
    h.dep_gated = true;
    h.st.depend_status = Some(false);
    h.result(2, 1, "A\n");
    assert!(h.times(AlertKind::Failure).is_empty());
    h.st.depend_status = Some(true);
    h.result(4, 1, "A\n");
    assert_eq!(h.times(AlertKind::Failure), vec![4]);
    // Never evaluated (or malformed): mon mutes forever; monrs does not.
    let mut h = H::new(svc_with(vec![period("p", &["rec.alert X"], &[])]));
    h.dep_gated = true;
    h.result(2, 1, "A\n");
    assert_eq!(h.times(AlertKind::Failure), vec![2]);
}

// ---------------------------------------------------------------- contract details

#[test]
fn failure_env_and_argv_match_mon() {
    let mut s = svc_with(vec![period(
        "wd {Sun-Sat}",
        &[r#"mail.alert -S "sub ject" addr1 addr2"#],
        &["rec.alert up1"],
    )]);
    s.description = Some("My service desc".into());
    s.env = vec![("FOO".into(), "bar value".into())];
    let mut h = H::new(s);
    h.result(4, 0, "all good\nfine detail\n");
    let fx = h.result(8, 1, "to stderr\nsum1\n");
    let c = &fx.alerts[0].call;
    assert_eq!(
        c.argv(),
        [
            "-s",
            "s1",
            "-g",
            "g1",
            "-h",
            "hostA hostB",
            "-t",
            &(T0 + 8).to_string(),
            "-S",
            "sub ject",
            "addr1",
            "addr2"
        ]
    );
    assert_eq!(&c.stdin[..], b"to stderr\nsum1\n");
    assert_eq!(env_of(c, "MON_ALERTTYPE"), Some("failure"));
    assert_eq!(env_of(c, "MON_RETVAL"), Some("1"));
    assert_eq!(env_of(c, "MON_OPSTATUS"), Some("0"));
    assert_eq!(env_of(c, "MON_LAST_SUMMARY"), Some("to stderr"));
    assert_eq!(
        env_of(c, "MON_LAST_OUTPUT"),
        Some("all good\nfine detail\n")
    );
    let t8 = (T0 + 8).to_string();
    assert_eq!(env_of(c, "MON_FIRST_FAILURE"), Some(t8.as_str()));
    assert_eq!(env_of(c, "MON_LAST_FAILURE"), Some(t8.as_str()));
    assert_eq!(
        env_of(c, "MON_LAST_SUCCESS"),
        Some((T0 + 4).to_string().as_str())
    );
    assert_eq!(env_of(c, "MON_FIRST_SUCCESS"), Some(""));
    assert_eq!(env_of(c, "MON_DESCRIPTION"), Some("My service desc"));
    assert_eq!(env_of(c, "FOO"), Some("bar value"));
    assert_eq!(env_of(c, "MON_STATEDIR"), Some("/state"));
    assert_eq!(
        fx.failure_hist.as_deref(),
        Some(format!("g1 s1 {} to stderr", T0 + 8).as_str())
    );
    assert_eq!(
        fx.alert_hist,
        vec![format!(
            r#"alert g1 s1 {} /alert.d/mail.alert (-S "sub ject" addr1 addr2) to stderr"#,
            T0 + 8
        )]
    );
    assert!(fx.notes.iter().any(|n| n.prio == Prio::Alert
        && n.text
            == r#"calling alert mail.alert for g1/s1 (/alert.d/mail.alert,-S "sub ject" addr1 addr2) to stderr"#));
    // The upalert describes the failure, and its stdin is the failing output.
    let fx = h.result(10, 0, "back\n");
    let c = &fx.alerts[0].call;
    assert_eq!(c.argv()[8..], ["-u", "up1"]);
    assert_eq!(&c.stdin[..], b"to stderr\nsum1\n");
    assert_eq!(env_of(c, "MON_LAST_SUMMARY"), Some("to stderr"));
    assert_eq!(env_of(c, "MON_LAST_OUTPUT"), Some("to stderr\nsum1\n"));
    assert_eq!(
        env_of(c, "MON_LAST_SUCCESS"),
        Some((T0 + 4).to_string().as_str())
    );
    assert_eq!(env_of(c, "MON_OPSTATUS"), Some("1"));
    assert_eq!(env_of(c, "MON_RETVAL"), Some("0"));
}

#[test]
fn blank_summaries_and_state_fields() {
    let mut h = H::new(svc_with(vec![period("p", &["rec.alert X"], &[])]));
    let fx = h.result(2, 3, "   \ndetail\n");
    assert_eq!(h.st.last_summary.as_deref(), Some(&b"(NO SUMMARY)"[..]));
    assert_eq!(h.st.exitval.as_deref(), Some("3"));
    assert_eq!(fx.alerts[0].call.summary, "(NO SUMMARY)");
    assert_eq!(
        &fx.alerts[0].call.stdin[..],
        b"   \ndetail\n",
        "raw output on stdin"
    );
    h.result(4, 0, "");
    assert_eq!(h.st.last_summary, None, "an empty success has no summary");
    assert_eq!(h.st.last_detail, None);
    assert_eq!(h.st.first_failure, Some(0));
    assert_eq!(h.st.failure_output.as_deref(), Some(&b""[..]));
    assert_eq!(h.st.last_op_status, OpStatus::FAIL);
    let fx = h.result(6, 1, "x");
    assert_eq!(h.st.last_detail, None, "no newline: no detail");
    assert_eq!(fx.alerts.len(), 1);
}

#[test]
fn missing_alert_is_not_counted() {
    let mut p = period("p", &["missing.alert"], &["rec.alert up"]);
    p.numalerts = 1;
    let mut h = H::new(svc_with(vec![p]));
    let fx = h.result(2, 1, "A\n");
    assert!(fx.alerts.is_empty());
    assert!(
        fx.notes
            .iter()
            .any(|n| n.text == "no alert found while trying to run missing.alert")
    );
    assert_eq!(h.st.periods[0].alert_sent, 0);
    h.result(4, 0, "ok\n");
    assert!(h.times(AlertKind::Up).is_empty());
}

#[test]
fn failure_interval_switch_and_restore() {
    let mut s = svc_with(vec![]);
    s.failure_interval = Some(Duration::from_secs(1));
    let mut h = H::new(s);
    let fx = h.result(2, 1, "bad\n");
    assert_eq!(fx.interval, Some(IntervalSwitch::ToFailure));
    assert_eq!(h.st.saved_interval, Some(Duration::from_secs(2)));
    let fx = h.result(3, 1, "bad\n");
    assert_eq!(fx.interval, None, "already in force");
    let fx = h.result(4, 0, "ok\n");
    assert_eq!(fx.interval, Some(IntervalSwitch::Restored));
    assert_eq!(h.st.saved_interval, None);
    // Traps do not switch.
    let r = ResultIn::trap("1", Bytes::from_static(b"x\n\n"));
    let fx = h.with(5, |c, st| process_result(c, st, &r));
    assert_eq!(fx.interval, None);
}

#[test]
fn downtime_log_line() {
    let mut h = H::new(svc_with(vec![]));
    h.dtlog = true;
    h.result(5, 1, "h1 h2 failed\tx\n");
    h.result(7, 1, "h1 failed\n");
    let fx = h.result(12, 0, "ok\n");
    assert_eq!(
        fx.dtlog.as_deref(),
        Some(format!("{} g1 s1 {} 7 2 h1 failed", T0 + 12, T0 + 5).as_str())
    );
    let fx = h.result(14, 0, "ok\n");
    assert!(fx.dtlog.is_none(), "only after a failure");
}

#[test]
fn upalertafter_gates_short_outages() {
    let mut p = period("p", &["rec.alert X"], &["rec.alert up"]);
    p.upalertafter = Some(Duration::from_secs(10));
    let mut h = H::new(svc_with(vec![p]));
    h.result(2, 1, "A\n");
    h.result(4, 0, "ok\n");
    assert!(
        h.times(AlertKind::Up).is_empty(),
        "a 2 s blip sends no upalert"
    );
    h.result(10, 1, "A\n");
    h.result(22, 0, "ok\n");
    assert_eq!(h.times(AlertKind::Up), vec![22]);
}

#[test]
fn perl_numbers_and_trap_truth() {
    assert_eq!(perl_num("12abc"), 12);
    assert_eq!(perl_num(" -3"), -3);
    assert_eq!(perl_num("x"), 0);
    assert!(!ResultIn::trap("0", Bytes::new()).failed);
    assert!(!ResultIn::trap("", Bytes::new()).failed);
    assert!(
        ResultIn::trap("00", Bytes::new()).failed,
        "Perl: \"00\" is true"
    );
}

#[test]
fn env_values_are_cut() {
    let big = vec![b'x'; ENV_VALUE_MAX * 3];
    assert_eq!(env_value(&big).len(), ENV_VALUE_MAX);
}
