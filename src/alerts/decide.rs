//! mon's alert decisions (scheduling-and-alerts.md §5–§7) as pure functions: given a
//! service's config, its runtime state, an event and the time, update the state and say
//! which alerts to call, what to append to the histories and what to log. No I/O, no clock.
//!
//! The code follows mon 1.3.6's `process_event` / `do_alert` / `call_alert` step by step,
//! including the quirks users rely on (startup alerts count as sent, an upalert undoes
//! `alertevery strict`, `alertafter N` alerts on every failure from the N-th on, ...).
//! Deliberate differences, each logged and documented in docs/engine.md:
//! * `upalertafter` works as documented (mon ignores it);
//! * a dependency that could not be evaluated (malformed, or never evaluated) does not
//!   mute the service forever; only a dependency evaluated as failing suppresses alerts.

use bytes::Bytes;

use super::dispatch::{AlertTarget, PlannedAlert};
use super::{AlertCall, AlertKind};
use crate::config::words::quotewords;
use crate::config::{AlertLine, EveryMode, Period, Service};
use crate::logging::{Note, Prio};
use crate::state::{OpStatus, ServiceState};

/// `MON_LAST_OUTPUT` / `MON_LAST_SUMMARY` are cut to this many bytes: mon passes them
/// whole, and an output over ~128 KiB then makes every later `exec` fail with E2BIG.
pub const ENV_VALUE_MAX: usize = 32 * 1024;

/// The literal mon uses for a blank summary.
pub const NO_SUMMARY: &str = "(NO SUMMARY)";

/// Where a result came from (`process_event`'s type: `m`, `t`, `T`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    Monitor,
    Trap,
    TrapTimeout,
}

/// One result to process.
#[derive(Debug, Clone)]
pub struct ResultIn {
    pub kind: ResultKind,
    /// The exit value as mon stores it (`exitval`): the exit code, or a trap's `sta` text.
    pub exitval: String,
    /// Whether mon reads `exitval` as a failure (non-zero / Perl-true).
    pub failed: bool,
    /// `exitval` as a number, for `exit=` ranges and `alertexitrange`.
    pub retval: i64,
    pub output: Bytes,
}

impl ResultIn {
    /// A monitor's result (exit value non-zero = failure).
    pub fn monitor(exit: i32, output: impl Into<Bytes>) -> Self {
        ResultIn {
            kind: ResultKind::Monitor,
            exitval: exit.to_string(),
            failed: exit != 0,
            retval: i64::from(exit),
            output: output.into(),
        }
    }

    /// A trap with status `sta` (Perl truth: anything but "" and "0" is a failure).
    pub fn trap(sta: &str, output: impl Into<Bytes>) -> Self {
        ResultIn {
            kind: ResultKind::Trap,
            exitval: sta.to_string(),
            failed: !(sta.is_empty() || sta == "0"),
            retval: perl_num(sta),
            output: output.into(),
        }
    }

    /// A trap timeout (exit value 1).
    pub fn trap_timeout(output: impl Into<Bytes>) -> Self {
        ResultIn {
            kind: ResultKind::TrapTimeout,
            exitval: "1".to_string(),
            failed: true,
            retval: 1,
            output: output.into(),
        }
    }
}

/// Perl's numeric reading of a string: optional sign and leading digits, else 0.
pub fn perl_num(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    let v: i64 = digits[..end].parse().unwrap_or(0);
    if neg { -v } else { v }
}

/// Everything about the world a decision needs besides the service's own state.
pub struct Ctx<'a> {
    /// Unix time of the decision (mon's `time()`).
    pub now: i64,
    pub group: &'a str,
    pub svc: &'a Service,
    /// The scheduler is stopped (`stop`, `-S`): no alert decisions at all.
    pub stopped: bool,
    /// The service's watch is disabled.
    pub watch_disabled: bool,
    /// `-h`: the group's hosts minus disabled hosts (computed only when an alert is called).
    pub hosts: &'a dyn Fn() -> Vec<String>,
    /// Whether period `i` of the service is active now (`inPeriod` != 0).
    pub in_period: &'a dyn Fn(usize) -> bool,
    /// Alert lookup: the target for alert NAME with split ARGS, or None (mon: "no alert
    /// found while trying to run NAME").
    pub resolve: &'a dyn Fn(&str, &[String]) -> Option<AlertTarget>,
    /// `MON_STATEDIR`, `MON_LOGDIR`, `MON_CFBASEDIR`.
    pub base_env: &'a [(String, String)],
    /// The service has an alert-type dependency (`depend` with `dep_behavior a`, or
    /// `alertdepend`); its last evaluation is `state.depend_status`.
    pub dep_gated: bool,
    /// `MON_TRAP_INTENDED` (a trap caught by `default/default`).
    pub intended: Option<&'a str>,
    /// Downtime logging: `Some(server start time)` when `dtlogging` is on.
    pub dtlog_start: Option<i64>,
    /// The interval in force, in seconds (0 for trap-only services), for the downtime log.
    pub interval_secs: u64,
}

/// How the monitor interval changes after a result (§3.6 failure_interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalSwitch {
    /// Switched to `failure_interval`; reschedule from now.
    ToFailure,
    /// Back to the configured interval; reschedule from now.
    Restored,
}

/// What a decision produced, for the engine to carry out in order.
#[derive(Debug, Default)]
pub struct Effects {
    /// Alerts to deliver, in decision order (one delivery batch).
    pub alerts: Vec<PlannedAlert>,
    /// A failure-history line `G S TIME SUMMARY`.
    pub failure_hist: Option<String>,
    /// Alert-history lines `TYPE G S TIME PATH (ARGS) SUMMARY` (also for `historicfile`).
    pub alert_hist: Vec<String>,
    /// A downtime-log line.
    pub dtlog: Option<String>,
    pub notes: Vec<Note>,
    pub interval: Option<IntervalSwitch>,
    /// The result changed the operational status.
    pub status_changed: bool,
}

impl Effects {
    fn note(&mut self, prio: Prio, text: String) {
        self.notes.push(Note::new(prio, text));
    }
}

/// mon's split of an output into summary and detail (`split("\n", $output, 2)`): an empty
/// output has neither; an output without a newline has no detail.
pub fn mon_split(output: &Bytes) -> (Option<Bytes>, Option<Bytes>) {
    if output.is_empty() {
        return (None, None);
    }
    match output.iter().position(|&b| b == b'\n') {
        Some(i) => (Some(output.slice(..i)), Some(output.slice(i + 1..))),
        None => (Some(output.clone()), None),
    }
}

/// Perl's `\s` for bytes (space, TAB, LF, VT, FF, CR).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The first line of `output`, or `(NO SUMMARY)` when it is missing or blank.
pub fn summary_of(output: &[u8]) -> Bytes {
    let first = match output.iter().position(|&b| b == b'\n') {
        Some(i) => &output[..i],
        None => output,
    };
    if first.iter().all(|&b| is_space(b)) {
        Bytes::from_static(NO_SUMMARY.as_bytes())
    } else {
        Bytes::copy_from_slice(first)
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An environment value from output bytes, cut to `ENV_VALUE_MAX` bytes.
pub fn env_value(b: &[u8]) -> String {
    let cut = &b[..b.len().min(ENV_VALUE_MAX)];
    lossy(cut)
}

fn strip_ws(b: &[u8]) -> Vec<u8> {
    b.iter().copied().filter(|&c| !is_space(c)).collect()
}

/// Process one monitor, trap or trap-timeout result (mon's `process_event`).
pub fn process_result(ctx: &Ctx<'_>, st: &mut ServiceState, r: &ResultIn) -> Effects {
    let mut fx = Effects::default();
    let now = ctx.now;
    let (summary, detail) = mon_split(&r.output);
    st.exitval = Some(r.exitval.clone());

    let summary = if r.failed {
        // ---- failure ----
        st.failure_count += 1;
        st.consec_failures += 1;
        st.last_failure = now;
        if matches!(
            st.op_status,
            OpStatus::OK | OpStatus::UNKNOWN | OpStatus::UNTESTED
        ) {
            st.first_failure = Some(now);
        }
        set_op_status(st, OpStatus::FAIL);
        let summary = summary_of(summary.as_deref().unwrap_or_default());
        st.last_summary = Some(summary.clone());
        st.last_detail = detail.clone();
        let line = format!("{} {} {} {}", ctx.group, ctx.svc.name, now, lossy(&summary));
        fx.note(Prio::Crit, format!("failure for {line}"));
        fx.failure_hist = Some(line);
        let flag = match r.kind {
            ResultKind::Monitor => AlertKind::Failure,
            ResultKind::Trap => AlertKind::Trap,
            ResultKind::TrapTimeout => AlertKind::TrapTimeout,
        };
        do_alert(
            ctx,
            st,
            &mut fx,
            flag,
            &r.output,
            Some(r.exitval.as_str()),
            r.retval,
        );
        if r.kind == ResultKind::Monitor
            && ctx.svc.failure_interval.is_some()
            && st.saved_interval.is_none()
        {
            st.saved_interval = ctx.svc.interval();
            fx.interval = Some(IntervalSwitch::ToFailure);
        }
        st.failure_output = Some(r.output.clone());
        Some(summary)
    } else {
        // ---- success ----
        if let Some(start) = ctx.dtlog_start
            && st.op_status == OpStatus::FAIL
        {
            let first = match st.first_failure {
                Some(t) if t != 0 => t,
                _ => start,
            };
            fx.dtlog = Some(format!(
                "{now} {} {} {first} {} {} {}",
                ctx.group,
                ctx.svc.name,
                now - first,
                ctx.interval_secs,
                lossy(st.last_summary.as_deref().unwrap_or_default()),
            ));
        }
        let old = st.op_status;
        set_op_status(st, OpStatus::OK);
        let has_upalert = ctx.svc.periods.iter().any(|p| !p.upalerts.is_empty());
        if ctx.svc.redistribute.is_some() || (old == OpStatus::FAIL && has_upalert) {
            // The upalert describes the failure: its output is the previous result's.
            let prev = st.last_output.clone().unwrap_or_default();
            do_alert(ctx, st, &mut fx, AlertKind::Up, &prev, Some("0"), 0);
        }
        st.ack = 0;
        st.ack_comment.clear();
        st.first_failure = Some(0);
        st.last_failure = 0;
        st.consec_failures = 0;
        st.failure_output = Some(Bytes::new());
        for (p, ps) in ctx.svc.periods.iter().zip(st.periods.iter_mut()) {
            if !is_strict(p) {
                ps.last_alert = 0;
            }
            ps.first_fail_time = 0;
            ps.alert_sent = 0;
        }
        if st.saved_interval.take().is_some() {
            fx.interval = Some(IntervalSwitch::Restored);
        }
        st.last_success = now;
        summary
    };

    st.last_output = Some(r.output.clone());
    st.last_summary = summary;
    st.last_detail = detail;
    fx.status_changed = st.last_op_status != st.op_status;
    fx
}

/// mon's `set_op_status`: the previous status becomes `last_op_status`.
pub fn set_op_status(st: &mut ServiceState, s: OpStatus) {
    st.last_op_status = st.op_status;
    st.op_status = s;
}

fn is_strict(p: &Period) -> bool {
    p.alertevery.is_some_and(|e| e.mode == EveryMode::Strict)
}

/// Startup alerts for one service (at start, and on reset with `startupalerts_on_reset`).
pub fn startup(ctx: &Ctx<'_>, st: &mut ServiceState) -> Effects {
    let mut fx = Effects::default();
    do_alert(
        ctx,
        st,
        &mut fx,
        AlertKind::Startup,
        &Bytes::new(),
        Some("0"),
        0,
    );
    fx
}

/// Why an `ack` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    #[error("service is in a non-failure state")]
    NotFailing,
}

/// `ack G S COMMENT`: acknowledge a failing service and run the period `ackalert`s.
/// `comment` is stored as given (mon's is `USER: COMMENT`, the first shell word of the
/// request, unescaped).
pub fn ack(ctx: &Ctx<'_>, st: &mut ServiceState, comment: &str) -> Result<Effects, AckError> {
    if matches!(st.op_status, OpStatus::OK | OpStatus::UNTESTED) {
        return Err(AckError::NotFailing);
    }
    st.ack = ctx.now;
    st.ack_comment = comment.to_string();
    let mut fx = Effects::default();
    let out = Bytes::from(st.ack_comment.clone());
    do_alert(ctx, st, &mut fx, AlertKind::Ack, &out, None, 0);
    Ok(fx)
}

/// The decision mon makes right after `disable service` (the service is already disabled,
/// so only `redistribute` can fire: mon 1.3.6 never sends a disablealert).
pub fn disable(ctx: &Ctx<'_>, st: &mut ServiceState, user: &str) -> Effects {
    let mut fx = Effects::default();
    let out = Bytes::from(user.to_string());
    do_alert(ctx, st, &mut fx, AlertKind::Disable, &out, None, 0);
    fx
}

/// `test alert|upalert|startupalert|ackalert|disablealert G S RETVAL PERIOD`: run every
/// line of that list of period `period` now, uncounted and unrecorded, with the output
/// `test\ntest detail\n`. `list` is the alert type whose lines run (`Failure` = `alert`).
pub fn test_alert(
    ctx: &Ctx<'_>,
    st: &mut ServiceState,
    list: AlertKind,
    retval: &str,
    period: usize,
) -> Effects {
    let mut fx = Effects::default();
    let Some(p) = ctx.svc.periods.get(period) else {
        return fx;
    };
    // The call's type: `test alert` is MON_ALERTTYPE=test, the others keep their type.
    let kind = if list == AlertKind::Failure {
        AlertKind::Test
    } else {
        list
    };
    let out = Bytes::from_static(b"test\ntest detail\n");
    for line in lines_of(p, list) {
        let _ = call_alert(
            ctx,
            st,
            &mut fx,
            Call {
                kind,
                counted: false,
                redistribute: false,
                period: Some(&p.label),
                name: &line.name,
                args: &line.args,
                output: &out,
                retval: Some(retval),
            },
        );
    }
    fx
}

fn lines_of(p: &Period, kind: AlertKind) -> &[AlertLine] {
    match kind {
        AlertKind::Up => &p.upalerts,
        AlertKind::Startup => &p.startupalerts,
        AlertKind::Disable => &p.disablealerts,
        AlertKind::Ack => &p.ackalerts,
        _ => &p.alerts,
    }
}

fn is_failure_kind(k: AlertKind) -> bool {
    matches!(
        k,
        AlertKind::Failure | AlertKind::Trap | AlertKind::TrapTimeout
    )
}

/// mon's `do_alert`: decide, per period, whether to call the alerts for this event.
fn do_alert(
    ctx: &Ctx<'_>,
    st: &mut ServiceState,
    fx: &mut Effects,
    flag: AlertKind,
    output: &Bytes,
    retval: Option<&str>,
    retval_num: i64,
) {
    let (g, s, now) = (ctx.group, ctx.svc.name.as_str(), ctx.now);
    if ctx.stopped {
        fx.note(
            Prio::Notice,
            format!("ignoring alert for {g},{s} because the mon scheduler is stopped"),
        );
        return;
    }
    if let Some(rd) = &ctx.svc.redistribute {
        let _ = call_alert(
            ctx,
            st,
            fx,
            Call {
                kind: flag,
                counted: false,
                redistribute: true,
                period: None,
                name: &rd.name,
                args: &rd.args,
                output,
                retval,
            },
        );
    }
    if ctx.watch_disabled || st.disabled {
        fx.note(Prio::Notice, format!("ignoring alert for {g},{s}"));
        return;
    }
    if !matches!(flag, AlertKind::Startup | AlertKind::Up)
        && ctx.dep_gated
        && st.depend_status == Some(false)
    {
        fx.note(
            Prio::Debug,
            format!("alert for {g},{s} suppressed because of dependency failure"),
        );
        return;
    }

    let summary = summary_of(output);
    let prevsumm = summary_of(st.failure_output.as_deref().unwrap_or_default());
    let ack_exempt = matches!(flag, AlertKind::Up | AlertKind::Ack | AlertKind::Disable);
    if st.ack != 0
        && ctx.svc.unack_summary
        && strip_ws(&summary) != strip_ws(&prevsumm)
        && !ack_exempt
    {
        fx.note(
            Prio::Info,
            format!(
                "Unacking {g}/{s}: summary changed from {:?} to {:?}",
                lossy(&prevsumm),
                lossy(&summary)
            ),
        );
        st.ack = 0;
        st.ack_comment.clear();
        st.consec_failures = 1;
        for ps in &mut st.periods {
            ps.last_alert = 0;
            ps.first_fail_time = 0;
            ps.fail_count = 0;
        }
    }
    if st.ack != 0 && !ack_exempt {
        fx.note(
            Prio::Debug,
            format!("no alert for {g}.{s} because of ack'd failure"),
        );
        return;
    }

    for (pi, p) in ctx.svc.periods.iter().enumerate() {
        if !(ctx.in_period)(pi) {
            continue;
        }
        let label = p.label.as_str();
        let Some(ps) = st.periods.get(pi) else {
            continue;
        };
        if !p.no_comp_alerts && matches!(flag, AlertKind::Up | AlertKind::Ack) && ps.alert_sent == 0
        {
            let what = if flag == AlertKind::Up {
                "upalert"
            } else {
                "ackalert"
            };
            fx.note(
                Prio::Debug,
                format!("{g}/{s}/{label}: Suppressing {what} since no down alert was sent."),
            );
            continue;
        }
        if p.no_comp_alerts && flag == AlertKind::Up && ps.nca_upalert_sent > 0 {
            continue;
        }
        if flag == AlertKind::Up
            && let Some(min) = p.upalertafter
        {
            // monrs: mon documents upalertafter but never applies it.
            let down_for = match st.first_failure {
                Some(t) if t != 0 => now - t,
                _ => 0,
            };
            if down_for < secs(min) {
                fx.note(
                    Prio::Debug,
                    format!(
                        "{g}/{s}/{label}: Suppressing upalert since the outage ({down_for}s) \
                         was shorter than upalertafter."
                    ),
                );
                continue;
            }
        }

        if is_failure_kind(flag)
            && !throttle_passes(ctx, st, fx, pi, &summary, &prevsumm, output, retval_num)
        {
            continue;
        }

        let mut called = 0u32;
        for line in lines_of(p, flag) {
            if let Some(r) = line.exit_range
                && !r.contains(retval_num)
            {
                continue;
            }
            if call_alert(
                ctx,
                st,
                fx,
                Call {
                    kind: flag,
                    counted: true,
                    redistribute: false,
                    period: Some(label),
                    name: &line.name,
                    args: &line.args,
                    output,
                    retval,
                },
            ) {
                if let Some(ps) = st.periods.get_mut(pi) {
                    ps.last_alert = now;
                }
                called += 1;
            }
        }
        if called > 0
            && let Some(ps) = st.periods.get_mut(pi)
        {
            if flag == AlertKind::Up {
                ps.alert_sent = 0;
                ps.last_alert = 0;
            } else {
                ps.alert_sent += 1;
                if p.no_comp_alerts {
                    ps.nca_upalert_sent = 0;
                }
            }
            if p.no_comp_alerts && flag == AlertKind::Up {
                ps.nca_upalert_sent += 1;
            }
        }
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The failure-only checks of one period: alertexitrange, numalerts, alertevery, alertafter.
#[allow(clippy::too_many_arguments)]
fn throttle_passes(
    ctx: &Ctx<'_>,
    st: &mut ServiceState,
    fx: &mut Effects,
    pi: usize,
    summary: &[u8],
    prevsumm: &[u8],
    output: &Bytes,
    retval: i64,
) -> bool {
    let (g, s, now) = (ctx.group, ctx.svc.name.as_str(), ctx.now);
    let Some(p) = ctx.svc.periods.get(pi) else {
        return false;
    };
    let label = p.label.as_str();
    let consec = st.consec_failures;
    let same_output = st.failure_output.as_deref() == Some(&output[..]);
    let Some(ps) = st.periods.get_mut(pi) else {
        return false;
    };
    if let Some(r) = p.alertexitrange
        && !r.contains(retval)
    {
        return false;
    }
    if p.numalerts > 0 && ps.alert_sent >= p.numalerts {
        fx.note(
            Prio::Debug,
            format!("{g}/{s}/{label}: Suppressing alert since numalerts is met."),
        );
        return false;
    }
    if let Some(every) = p.alertevery {
        let within = now - ps.last_alert < secs(every.every);
        let suppress = match every.mode {
            EveryMode::Strict | EveryMode::IgnoreSummary => true,
            EveryMode::ObserveDetail => same_output,
            EveryMode::Summary => prevsumm == summary,
        };
        if secs(every.every) != 0 && within && suppress {
            fx.note(
                Prio::Debug,
                format!("{g}/{s}/{label}: Suppressing alert for now due to alertevery."),
            );
            return false;
        }
    }
    // The same if/elsif chain as mon: a satisfied `alertafter N` falls through to the
    // timed forms (a period can carry both when it has two alertafter lines).
    if p.alertafter_consec.is_some_and(|n| consec < n) {
        fx.note(
            Prio::Debug,
            format!(
                "{g}/{s}/{label}: Suppressing alert for now due to alertafter consecutive failures."
            ),
        );
        return false;
    } else if let (None, Some(t)) = (p.alertafter_count, p.alertafter_time) {
        // alertafter TIMEVAL
        if ps.first_fail_time == 0 {
            ps.first_fail_time = now;
        }
        if now - ps.first_fail_time <= secs(t) {
            fx.note(
                Prio::Debug,
                format!("{g}/{s}/{label}: Suppressing alert for now due to alertafter numval."),
            );
            return false;
        }
    } else if let Some(n) = p.alertafter_count {
        // alertafter N TIMEVAL
        let t = p.alertafter_time.map(secs).unwrap_or(0);
        ps.fail_count += 1;
        let msg =
            format!("{g}/{s}/{label}: Suppressing alert for now due to alertafter num timeval.");
        if now - ps.first_fail_time <= t && ps.fail_count < n {
            fx.note(Prio::Debug, msg);
            return false;
        }
        if now - ps.first_fail_time > t {
            ps.fail_count = 1;
        }
        if ps.fail_count == 1 {
            ps.first_fail_time = now;
        }
        if ps.fail_count < n {
            fx.note(Prio::Debug, msg);
            return false;
        }
    }
    true
}

/// The arguments of one `call_alert`.
struct Call<'a> {
    kind: AlertKind,
    /// Counted in alert_count and the history (false for test and redistribute).
    counted: bool,
    redistribute: bool,
    period: Option<&'a str>,
    name: &'a str,
    args: &'a str,
    output: &'a Bytes,
    retval: Option<&'a str>,
}

/// mon's `call_alert`: look the alert up, prepare the call, tally it. Returns "called".
fn call_alert(ctx: &Ctx<'_>, st: &mut ServiceState, fx: &mut Effects, c: Call<'_>) -> bool {
    let args = if c.args.is_empty() {
        Vec::new()
    } else {
        quotewords(c.args).unwrap_or_default()
    };
    let Some(target) = (ctx.resolve)(c.name, &args) else {
        fx.note(
            Prio::Err,
            format!("no alert found while trying to run {}", c.name),
        );
        return false;
    };
    let summary = lossy(&summary_of(c.output));
    let path = target.display_path(c.name);
    let word = c.kind.history_word();
    let (g, s, now) = (ctx.group, ctx.svc.name.as_str(), ctx.now);
    if !c.redistribute {
        let base = path.rsplit('/').next().unwrap_or(&path);
        fx.note(
            Prio::Alert,
            format!(
                "calling {word} {base} for {g}/{s} ({path},{}) {summary}",
                c.args
            ),
        );
    }
    let call = AlertCall {
        kind: c.kind,
        redistribute: c.redistribute,
        group: g.to_string(),
        service: s.to_string(),
        period: c.period.map(str::to_string),
        name: c.name.to_string(),
        raw_args: c.args.to_string(),
        args,
        hosts: (ctx.hosts)(),
        time: now,
        stdin: c.output.clone(),
        summary: summary.clone(),
        env: alert_env(ctx, st, c.kind, c.retval),
    };
    fx.alerts.push(PlannedAlert { call, target });
    if c.counted {
        st.alert_count += 1;
        fx.alert_hist.push(format!(
            "{word} {g} {s} {now} {path} ({}) {summary}",
            c.args
        ));
    }
    true
}

/// The environment of an alert call (§7.3), in the order it is applied.
fn alert_env(
    ctx: &Ctx<'_>,
    st: &ServiceState,
    kind: AlertKind,
    retval: Option<&str>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = ctx.svc.env.clone();
    let mut set = |k: &str, v: String| env.push((k.to_string(), v));
    if let Some(v) = &st.last_summary {
        set("MON_LAST_SUMMARY", env_value(v));
    }
    if let Some(v) = &st.last_output {
        set("MON_LAST_OUTPUT", env_value(v));
    }
    set("MON_LAST_FAILURE", st.last_failure.to_string());
    if let Some(v) = st.first_failure {
        set("MON_FIRST_FAILURE", v.to_string());
    }
    // mon 1.3.6 always sets it, empty (its value was never computed).
    set("MON_FIRST_SUCCESS", String::new());
    set("MON_LAST_SUCCESS", st.last_success.to_string());
    if let Some(d) = &ctx.svc.description {
        set("MON_DESCRIPTION", d.clone());
    }
    set("MON_GROUP", ctx.group.to_string());
    set("MON_SERVICE", ctx.svc.name.clone());
    if let Some(r) = retval {
        set("MON_RETVAL", r.to_string());
    }
    set("MON_OPSTATUS", st.op_status.0.to_string());
    if st.ack != 0 && !st.ack_comment.is_empty() {
        set("MON_ACK", st.ack_comment.clone());
    }
    set("MON_ALERTTYPE", kind.env_name().to_string());
    for (k, v) in ctx.base_env {
        set(k, v.clone());
    }
    if let Some(i) = ctx.intended {
        set("MON_TRAP_INTENDED", i.to_string());
    }
    env
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
