//! Engine tests on tokio's paused clock: cadence, overruns, failure_interval, maxprocs
//! fairness, randskew/randstart, stop/start, traps, client operations, reload and the state
//! file. Monitors and alerts run through the in-process hooks (real processes cannot run
//! under a paused clock); the integration tests run real scripts.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::*;
use crate::alerts::{AlertCall, AlertKind};
use crate::config::{
    AlertLine, EveryMode, Globals, HostGroup, MonitorLine, Period, Schedule, Service, Watch,
};
use crate::state::OpStatus;

const T0: i64 = 1_795_315_000;

fn paths(dir: &Path) -> Paths {
    Paths {
        basedir: dir.to_path_buf(),
        cfbasedir: dir.to_path_buf(),
        statedir: dir.to_path_buf(),
        logdir: dir.to_path_buf(),
        mondir: vec![dir.join("mon.d")],
        alertdir: vec![dir.join("alert.d")],
        authfile: dir.join("auth.cf"),
        userfile: dir.join("userfile"),
        dtlogfile: dir.join("downtime.log"),
        historicfile: None,
        pidfile: None,
        monerrfile: dir.join("monerr"),
    }
}

fn line(raw: &str) -> AlertLine {
    let (name, args) = raw.split_once(' ').unwrap_or((raw, ""));
    AlertLine {
        raw: raw.to_string(),
        exit_range: None,
        name: name.to_string(),
        args: args.to_string(),
        line: 1,
    }
}

fn service(name: &str, interval: Option<u64>) -> Service {
    let mut s = Service::new(name, 1);
    if let Some(i) = interval {
        s.schedule = Schedule::Interval(Duration::from_secs(i));
        s.monitor = Some(MonitorLine {
            raw: "noop".into(),
            name: "noop".into(),
            args: String::new(),
        });
    }
    let mut p = Period::new("wd {Sun-Sat}", "wd {Sun-Sat}", 1);
    p.alerts = vec![line("rec.alert X")];
    p.upalerts = vec![line("rec.alert up-X")];
    s.periods = vec![p];
    s
}

fn config(groups: &[(&str, &[&str])], watches: Vec<(&str, Vec<Service>)>) -> Config {
    Config {
        source: PathBuf::from("/test/mon.cf"),
        globals: Globals::default(),
        hostgroups: groups
            .iter()
            .map(|(n, h)| HostGroup {
                name: n.to_string(),
                hosts: h.iter().map(|s| s.to_string()).collect(),
                line: 1,
                auto: false,
            })
            .collect(),
        aliases: Vec::new(),
        views: Vec::new(),
        watches: watches
            .into_iter()
            .map(|(n, services)| Watch {
                name: n.to_string(),
                line: 1,
                services,
            })
            .collect(),
    }
}

/// What a monitor run returns, decided from the time since the engine started.
type Plan = Arc<dyn Fn(&str, Duration) -> (i32, String, Duration) + Send + Sync>;

struct Rig {
    h: EngineHandle,
    t0: Instant,
    starts: Arc<Mutex<Vec<(String, Duration)>>>,
    alerts: Arc<Mutex<Vec<(Duration, AlertCall)>>>,
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Rig {
    fn starts_of(&self, svc: &str) -> Vec<f64> {
        self.starts
            .lock()
            .map(|v| {
                v.iter()
                    .filter(|(s, _)| s == svc)
                    .map(|(_, d)| d.as_secs_f64())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// (seconds, kind, first user arg, summary) of every alert so far.
    fn alert_log(&self) -> Vec<(u64, AlertKind, String, String)> {
        self.alerts
            .lock()
            .map(|v| {
                v.iter()
                    .filter(|(_, c)| !c.redistribute)
                    .map(|(d, c)| {
                        (
                            d.as_secs(),
                            c.kind,
                            c.args.first().cloned().unwrap_or_default(),
                            c.summary.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn at(&self, secs: f64) {
        tokio::time::sleep_until(self.t0 + Duration::from_secs_f64(secs)).await;
    }
}

struct RigOpts {
    seed: Option<u64>,
    loader: Option<Loader>,
    state_file: bool,
    restore: Option<crate::state::persist::SavedState>,
    maxprocs: u32,
    randstart: Option<Duration>,
    dir: Option<tempfile::TempDir>,
}

impl Default for RigOpts {
    fn default() -> Self {
        RigOpts {
            seed: Some(1),
            loader: None,
            state_file: false,
            restore: None,
            maxprocs: 0,
            randstart: None,
            dir: None,
        }
    }
}

fn rig(cfg: Config, plan: Plan, o: RigOpts) -> Rig {
    let dir = match o.dir {
        Some(d) => d,
        None => tempfile::tempdir().expect("tempdir"),
    };
    let dpath = dir.path().to_path_buf();
    let t0 = Instant::now();
    let starts: Arc<Mutex<Vec<(String, Duration)>>> = Arc::default();
    let alerts: Arc<Mutex<Vec<(Duration, AlertCall)>>> = Arc::default();
    let (s2, a2) = (starts.clone(), alerts.clone());
    let hooks = Hooks {
        monitor: Some(Arc::new(move |_g, s| {
            let el = Instant::now() - t0;
            if let Ok(mut v) = s2.lock() {
                v.push((s.to_string(), el));
            }
            let (exit, out, takes) = plan(s, el);
            Box::pin(async move {
                if !takes.is_zero() {
                    tokio::time::sleep(takes).await;
                }
                (exit, Bytes::from(out))
            })
        })),
        alerts: Some(Arc::new(move |c: &AlertCall| {
            if let Ok(mut v) = a2.lock() {
                v.push((Instant::now() - t0, c.clone()));
            }
        })),
    };
    let setup = Setup {
        config: Arc::new(cfg),
        paths: paths(&dpath),
        maxkeep: 100,
        maxprocs: o.maxprocs,
        randstart: o.randstart,
        historic: None,
    };
    let (h, _task) = start(
        setup,
        EngineOptions {
            clock: WallClock::fixed(T0),
            tz: jiff::tz::TimeZone::UTC,
            seed: o.seed,
            stopped: false,
            loader: o.loader,
            restore: o.restore,
            mon_state: None,
            state_file: o.state_file.then(|| dpath.join("monrs-state.json")),
            pid: 4242,
            hooks,
            startup_alerts: true,
        },
    );
    Rig {
        h,
        t0,
        starts,
        alerts,
        _dir: dir,
        dir: dpath,
    }
}

/// The state file as soon as the writer thread (real time) has written what `ready` wants.
fn wait_for_state(
    path: &Path,
    ready: impl Fn(&crate::state::persist::SavedState) -> bool,
) -> crate::state::persist::SavedState {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(s)) = crate::state::persist::load(path)
            && ready(&s)
        {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no state file at {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn ok_plan() -> Plan {
    Arc::new(|_, _| (0, "ok\n".into(), Duration::ZERO))
}

#[tokio::test(start_paused = true)]
async fn fixed_rate_one_second_never_slips() {
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![service("s", Some(1))])]),
        // Each run takes 300 ms: the cadence must not drift by it.
        Arc::new(|_, _| (0, "ok\n".into(), Duration::from_millis(300))),
        RigOpts::default(),
    );
    r.at(10.5).await;
    let want: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(r.starts_of("s"), want);
    let st = r.h.stats().await.expect("stats");
    assert_eq!(st.runs, 10);
    assert_eq!(st.lateness_quantile(0.99), Stats::BUCKET, "no lateness");
}

#[tokio::test(start_paused = true)]
async fn overrun_skips_slots_and_never_runs_twice() {
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![service("s", Some(1))])]),
        Arc::new(|_, _| (0, "ok\n".into(), Duration::from_millis(2500))),
        RigOpts::default(),
    );
    r.at(10.9).await;
    assert_eq!(r.starts_of("s"), vec![1.0, 4.0, 7.0, 10.0]);
    let st = r.h.stats().await.expect("stats");
    assert_eq!(st.skipped, 6);
}

#[tokio::test(start_paused = true)]
async fn failure_interval_switches_and_restores() {
    let mut s = service("s", Some(6));
    s.failure_interval = Some(Duration::from_secs(2));
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![s])]),
        Arc::new(|_, el| {
            let t = el.as_secs_f64();
            if (10.0..15.0).contains(&t) {
                (1, "down\n".into(), Duration::ZERO)
            } else {
                (0, "ok\n".into(), Duration::ZERO)
            }
        }),
        RigOpts::default(),
    );
    r.at(29.0).await;
    assert_eq!(r.starts_of("s"), vec![6.0, 12.0, 14.0, 16.0, 22.0, 28.0]);
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(snap.services[0].interval, Some(Duration::from_secs(6)));
}

#[tokio::test(start_paused = true)]
async fn maxprocs_is_fair() {
    let mut cfg = config(
        &[("g", &["h"])],
        vec![(
            "g",
            vec![
                service("a", Some(2)),
                service("b", Some(2)),
                service("c", Some(2)),
            ],
        )],
    );
    cfg.globals.maxprocs = 1;
    let r = rig(
        cfg,
        Arc::new(|_, _| (0, "ok\n".into(), Duration::from_millis(1500))),
        RigOpts {
            maxprocs: 1,
            ..RigOpts::default()
        },
    );
    r.at(60.0).await;
    let counts: Vec<usize> = ["a", "b", "c"]
        .iter()
        .map(|s| r.starts_of(s).len())
        .collect();
    // 60 s of capacity at 1.5 s per run is 40 runs; each service gets its share
    // (mon starved one of them entirely in the same setup).
    assert!(counts.iter().all(|&c| c >= 12), "{counts:?}");
    assert!(counts.iter().sum::<usize>() >= 38, "{counts:?}");
    let st = r.h.stats().await.expect("stats");
    assert!(st.running <= 1);
}

#[tokio::test(start_paused = true)]
async fn randskew_gaps_and_randstart() {
    let mut s = service("s", Some(6));
    s.randskew = Some(Duration::from_secs(2));
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![s])]),
        ok_plan(),
        RigOpts {
            seed: Some(9),
            randstart: Some(Duration::from_secs(10)),
            ..RigOpts::default()
        },
    );
    r.at(600.0).await;
    let starts = r.starts_of("s");
    assert!(starts[0] < 10.0, "randstart: first run at {}", starts[0]);
    let mut gaps = std::collections::BTreeSet::new();
    for w in starts.windows(2) {
        gaps.insert(((w[1] - w[0]) * 1000.0).round() as i64);
    }
    assert_eq!(
        gaps.into_iter().collect::<Vec<_>>(),
        vec![4000, 5000, 7000, 8000]
    );
}

#[tokio::test(start_paused = true)]
async fn stop_freezes_countdowns_and_decisions() {
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![service("s", Some(10))])]),
        Arc::new(|_, _| (1, "bad\n".into(), Duration::ZERO)),
        RigOpts::default(),
    );
    r.at(3.0).await;
    r.h.stop().await.expect("stop");
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(snap.stopped_since, Some(T0 + 3));
    assert_eq!(snap.services[0].timer, 7);
    r.at(23.0).await;
    assert!(r.starts_of("s").is_empty(), "nothing runs while stopped");
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(snap.services[0].timer, 7, "the countdown is frozen");
    r.h.start().await.expect("start");
    r.at(31.0).await;
    assert_eq!(r.starts_of("s"), vec![30.0]);
    assert_eq!(r.alert_log().len(), 1);
}

/// Scenario A (§13) end to end through the engine at a 2 s interval: the alert order and
/// summaries mon produced, on monrs's exact cadence (runs at 2, 4, 6, ... s).
#[tokio::test(start_paused = true)]
async fn scenario_a_through_the_engine() {
    let plan: Plan = Arc::new(|_, el| {
        let t = el.as_secs_f64();
        let out = if t < 3.5 {
            "all ok\n"
        } else if t < 11.5 {
            "A\nd1\n"
        } else if t < 15.5 {
            "A\nd2\n"
        } else if t < 19.5 {
            "B\nd2\n"
        } else if t < 23.5 {
            "all ok\n"
        } else if t < 27.5 {
            "A\nd1\n"
        } else {
            "all ok\n"
        };
        (
            i32::from(!out.starts_with("all")),
            out.into(),
            Duration::ZERO,
        )
    });
    let mut s = service("s", Some(2));
    s.periods[0].alertevery = Some(crate::config::AlertEvery {
        every: Duration::from_secs(600),
        mode: EveryMode::Summary,
    });
    let r = rig(
        config(&[("g", &["hostA", "hostB"])], vec![("g", vec![s])]),
        plan,
        RigOpts::default(),
    );
    r.at(31.0).await;
    let log = r.alert_log();
    let got: Vec<(u64, AlertKind, &str)> = log
        .iter()
        .map(|(t, k, a, _)| (*t, *k, a.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (4, AlertKind::Failure, "X"),
            (16, AlertKind::Failure, "X"),
            (20, AlertKind::Up, "up-X"),
            (24, AlertKind::Failure, "X"),
            (28, AlertKind::Up, "up-X"),
        ]
    );
    let sums: Vec<&str> = log.iter().map(|(_, _, _, s)| s.as_str()).collect();
    assert_eq!(
        sums,
        vec!["A", "B", "B", "A", "A"],
        "upalerts carry the failure's summary"
    );
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(snap.alert_history.len(), 5);
    assert_eq!(snap.failure_history.len(), 10);
    assert!(snap.alert_history[0].starts_with(&format!("alert g s {} rec.alert (X) A", T0 + 4)));
}

#[tokio::test(start_paused = true)]
async fn trap_timeout_and_trap_duration() {
    let mut tt = service("tt", None);
    tt.traptimeout = Some(Duration::from_secs(5));
    let mut td = service("td", None);
    td.trapduration = Some(Duration::from_secs(3));
    let r = rig(
        config(&[("g", &["g"])], vec![("g", vec![tt, td])]),
        ok_plan(),
        RigOpts::default(),
    );
    r.at(11.0).await;
    let log = r.alert_log();
    assert_eq!(
        log.iter().map(|(t, k, _, _)| (*t, *k)).collect::<Vec<_>>(),
        vec![(5, AlertKind::TrapTimeout), (10, AlertKind::TrapTimeout)]
    );
    let first = r.alerts.lock().map(|v| v[0].1.clone()).expect("lock");
    assert_eq!(first.argv()[8], "-O");
    assert_eq!(
        String::from_utf8_lossy(&first.stdin),
        "trap timeout\ntrap timeout after 5s at Sun Nov 22 02:36:45 2026\n"
    );
    // A trap restarts the countdown: the next timeout is 5 s after it.
    r.h.trap(TrapResult {
        group: "g".into(),
        service: "tt".into(),
        sta: "0".into(),
        output: "fine\n".into(),
        intended: None,
    })
    .await
    .expect("trap");
    r.at(15.5).await;
    assert_eq!(
        r.alert_log().len(),
        3,
        "an upalert for the recovery, no timeout yet"
    );
    r.at(16.5).await;
    assert_eq!(r.alert_log().len(), 4);
    // trapduration: a failing trap is reset to ok 3 s later, silently.
    r.h.trap(TrapResult {
        group: "g".into(),
        service: "td".into(),
        sta: "1".into(),
        output: "tdur fail\n\n".into(),
        intended: Some("x:y".into()),
    })
    .await
    .expect("trap");
    let snap = r.h.snapshot().await.expect("snapshot");
    let td = snap.service("g", "td").expect("td");
    assert_eq!(td.state.op_status, OpStatus::FAIL);
    // `sum` ends in LF, so the detail of a trap without `dtl` is a lone LF (mon's `\0a`).
    assert_eq!(td.state.last_detail.as_deref(), Some(&b"\n"[..]));
    let trap_alert = r
        .alerts
        .lock()
        .map(|v| v.last().map(|a| a.1.clone()))
        .expect("lock");
    let trap_alert = trap_alert.expect("a trap alert");
    assert_eq!(trap_alert.kind, AlertKind::Trap);
    assert!(
        trap_alert
            .env
            .contains(&("MON_TRAP_INTENDED".into(), "x:y".into()))
    );
    let n = r.alert_log().len();
    r.at(20.0).await;
    let snap = r.h.snapshot().await.expect("snapshot");
    let td = snap.service("g", "td").expect("td");
    assert_eq!(td.state.op_status, OpStatus::OK);
    assert_eq!(td.state.last_op_status, OpStatus::FAIL);
    assert_eq!(
        td.state.last_success, 0,
        "trapduration does not count as a success"
    );
    assert_eq!(r.alert_log().len(), n, "no upalert");
}

#[tokio::test(start_paused = true)]
async fn disable_enable_rules() {
    let r = rig(
        config(
            &[
                ("g1", &["h1", "h2", "h3"]),
                ("solo", &["onlyhost"]),
                ("g3", &["h3", "onlyhost"]),
            ],
            vec![
                ("g1", vec![service("s1", Some(100))]),
                ("solo", vec![service("ping", Some(100))]),
            ],
        ),
        ok_plan(),
        RigOpts::default(),
    );
    let e =
        r.h.disable(
            Target::Hosts(vec!["h1".into(), "nope".into(), "zz".into()]),
            "",
        )
        .await;
    assert_eq!(
        e,
        Err(EngineError::UnknownHosts(vec!["nope".into(), "zz".into()]))
    );
    let c =
        r.h.disable(Target::Hosts(vec!["onlyhost".into()]), "")
            .await
            .expect("disable");
    assert_eq!(
        c.actions,
        vec!["disable watch solo", "disable host onlyhost"]
    );
    let snap = r.h.snapshot().await.expect("snapshot");
    assert!(snap.disabled_watches.contains("solo"));
    assert_eq!(
        snap.group_members("g3"),
        Some(vec!["h3".into(), "*onlyhost".into()])
    );
    assert!(snap.service("solo", "ping").expect("svc").watch_disabled);
    let c =
        r.h.enable(Target::Hosts(vec!["onlyhost".into(), "unknown".into()]))
            .await
            .expect("enable");
    assert_eq!(
        c.actions,
        vec![
            "enable watch solo",
            "enable host onlyhost",
            "enable host unknown"
        ]
    );
    assert_eq!(
        r.h.disable(Target::Watch("nosuch".into()), "").await,
        Err(EngineError::UnknownWatch("nosuch".into()))
    );
    assert_eq!(
        r.h.disable(Target::Service("g1".into(), "nosuch".into()), "")
            .await,
        Err(EngineError::UnknownService("g1".into(), "nosuch".into()))
    );
    r.h.disable(Target::Service("g1".into(), "s1".into()), "u")
        .await
        .expect("disable");
    let snap = r.h.snapshot().await.expect("snapshot");
    assert!(snap.service("g1", "s1").expect("svc").state.disabled);
}

#[tokio::test(start_paused = true)]
async fn ack_and_tests_through_the_handle() {
    let mut s = service("s", Some(2));
    s.periods[0].ackalerts = vec![line("rec.alert ack-X")];
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![s])]),
        Arc::new(|_, el| {
            if el < Duration::from_secs(9) {
                (1, "A\n".into(), Duration::ZERO)
            } else {
                (0, "ok\n".into(), Duration::ZERO)
            }
        }),
        RigOpts::default(),
    );
    assert_eq!(r.h.ack("g", "s", ": x").await, Err(EngineError::NotFailing));
    assert_eq!(
        r.h.ack("nog", "s", ": x").await,
        Err(EngineError::UnknownGroup("nog".into()))
    );
    r.at(2.5).await;
    r.h.ack("g", "s", "admin: looking").await.expect("ack");
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(snap.services[0].state.ack_comment, "admin: looking");
    r.at(9.5).await;
    let kinds: Vec<(u64, AlertKind)> = r.alert_log().iter().map(|(t, k, _, _)| (*t, *k)).collect();
    assert_eq!(
        kinds,
        vec![
            (2, AlertKind::Failure),
            (2, AlertKind::Ack),
            (10, AlertKind::Up)
        ]
        .into_iter()
        .filter(|(t, _)| *t < 10)
        .collect::<Vec<_>>()
    );
    // test alert: uncounted, not in the history.
    r.h.test_alert(AlertKind::Failure, "g", "s", "3", "wd {Sun-Sat}")
        .await
        .expect("test");
    assert_eq!(
        r.h.test_alert(AlertKind::Failure, "g", "s", "3", "nope")
            .await,
        Err(EngineError::UnknownPeriod)
    );
    let last = r
        .alerts
        .lock()
        .map(|v| v.last().map(|a| a.1.clone()))
        .expect("lock");
    assert_eq!(last.map(|c| c.kind), Some(AlertKind::Test));
    // test monitor: runs now and restarts the cadence from this run.
    r.at(10.3).await;
    r.h.test_monitor("g", "s").await.expect("test monitor");
    r.at(14.5).await;
    let starts = r.starts_of("s");
    assert_eq!(&starts[starts.len() - 3..], &[10.3, 12.3, 14.3]);
}

#[tokio::test(start_paused = true)]
async fn set_and_clear_timers() {
    let mut s = service("s", Some(10));
    s.description = Some("desc".into());
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![s])]),
        ok_plan(),
        RigOpts::default(),
    );
    r.h.set_var("g", "s", "myvar", "hello").await.expect("set");
    r.h.set_var("g", "s", "description", "new desc")
        .await
        .expect("set");
    assert_eq!(
        r.h.set_var("g", "s", "_op_status", "fail").await,
        Err(EngineError::Invalid(
            "_op_status needs a number, not 'fail'".into()
        ))
    );
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(
        snap.services[0].state.vars.get("myvar").map(String::as_str),
        Some("hello")
    );
    assert_eq!(
        snap.services[0].description(&snap).as_deref(),
        Some("new desc")
    );
    r.h.set_opstatus("g", "s", OpStatus::FAIL)
        .await
        .expect("set");
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(snap.services[0].state.op_status, OpStatus::FAIL);
    assert_eq!(snap.services[0].state.last_op_status, OpStatus::UNTESTED);
    assert_eq!(
        r.h.set_var("g", "x", "y", "z").await,
        Err(EngineError::UnknownService("g".into(), "x".into()))
    );
    r.at(6.0).await;
    r.h.clear_timers("g", "s").await.expect("clear");
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(snap.services[0].timer, 10, "countdown back to the interval");
    r.at(16.5).await;
    assert_eq!(r.starts_of("s"), vec![16.0]);
    // `set G S interval N` changes the cadence from the next run on (as in mon: the
    // countdown already running is kept).
    r.h.set_var("g", "s", "interval", "3").await.expect("set");
    r.at(29.5).await;
    assert_eq!(r.starts_of("s"), vec![16.0, 26.0, 29.0]);
}

fn reload_rig(cfg: Arc<Mutex<Result<Config, String>>>, o: RigOpts) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = paths(dir.path());
    let c2 = cfg.clone();
    let loader: Loader = Arc::new(move || {
        let c = c2.lock().map_err(|e| e.to_string())?.clone()?;
        Ok(Setup {
            config: Arc::new(c),
            paths: p.clone(),
            maxkeep: 50,
            maxprocs: 0,
            randstart: None,
            historic: None,
        })
    });
    let first = cfg.lock().expect("lock").clone().expect("a config");
    rig(
        first,
        Arc::new(|s, _| {
            if s == "bad" {
                (1, "down\n".into(), Duration::ZERO)
            } else {
                (0, "ok\n".into(), Duration::ZERO)
            }
        }),
        RigOpts {
            loader: Some(loader),
            dir: Some(dir),
            ..o
        },
    )
}

#[tokio::test(start_paused = true)]
async fn reload_keeps_state_reset_does_not_and_errors_keep_the_old_config() {
    let cfg = Arc::new(Mutex::new(Ok(config(
        &[("g", &["h"])],
        vec![("g", vec![service("bad", Some(2)), service("gone", Some(2))])],
    ))));
    let r = reload_rig(cfg.clone(), RigOpts::default());
    r.at(4.5).await;
    r.h.ack("g", "bad", ": mine").await.expect("ack");
    // A broken config: the old one stays.
    *cfg.lock().expect("lock") = Err("mon.cf:3:1: cf error".into());
    assert_eq!(
        r.h.reload().await,
        Err(EngineError::Config("mon.cf:3:1: cf error".into()))
    );
    r.at(6.5).await;
    assert_eq!(r.starts_of("bad"), vec![2.0, 4.0, 6.0]);
    // A good one, with `gone` removed and a new service: state of `bad` kept.
    *cfg.lock().expect("lock") = Ok(config(
        &[("g", &["h"])],
        vec![("g", vec![service("bad", Some(2)), service("new", Some(2))])],
    ));
    r.h.reload().await.expect("reload");
    let snap = r.h.snapshot().await.expect("snapshot");
    let bad = snap.service("g", "bad").expect("bad");
    assert_eq!(bad.state.ack_comment, ": mine");
    assert_eq!(bad.state.consec_failures, 3);
    assert_eq!(
        bad.state.periods[0].alert_sent, 2,
        "alerts at 2 and 4 s, then acked"
    );
    assert!(snap.service("g", "gone").is_none());
    assert_eq!(snap.maxkeep, 50);
    r.at(8.5).await;
    assert_eq!(r.starts_of("bad"), vec![2.0, 4.0, 6.0, 8.0], "cadence kept");
    // A plain reset: fresh state, countdowns restarted.
    r.h.reset(Reset::default()).await.expect("reset");
    let snap = r.h.snapshot().await.expect("snapshot");
    let bad = snap.service("g", "bad").expect("bad");
    assert_eq!(bad.state.op_status, OpStatus::UNTESTED);
    assert_eq!(bad.state.ack, 0);
    r.at(11.0).await;
    assert_eq!(r.starts_of("bad").last(), Some(&10.5));
}

#[tokio::test(start_paused = true)]
async fn state_file_restores_and_the_upalert_follows_the_restart() {
    let cfg = config(&[("g", &["h"])], vec![("g", vec![service("s", Some(2))])]);
    let r = rig(
        cfg.clone(),
        Arc::new(|_, _| (1, "down\n".into(), Duration::ZERO)),
        RigOpts {
            state_file: true,
            ..RigOpts::default()
        },
    );
    r.at(4.5).await;
    r.h.disable(Target::Hosts(vec!["h".into()]), "")
        .await
        .expect("disable");
    r.h.enable(Target::Hosts(vec!["h".into()]))
        .await
        .expect("enable");
    r.h.disable(Target::Watch("g".into()), "")
        .await
        .expect("disable");
    r.h.enable(Target::Watch("g".into())).await.expect("enable");
    r.h.ack("g", "s", ": noted").await.expect("ack");
    // Let the debounced write happen (no shutdown: as after kill -9).
    r.at(7.0).await;
    let path = r.dir.join("monrs-state.json");
    let saved = wait_for_state(&path, |s| s.services[0].state.ack != 0);
    let st = &saved.services[0].state;
    assert_eq!(st.op_status, OpStatus::FAIL);
    assert_eq!(st.periods[0].alert_sent, 2, "alerts at 2 and 4 s");
    assert_eq!(st.ack_comment, ": noted");
    assert!(saved.disabled_hosts.is_empty() && saved.disabled_watches.is_empty());
    drop(r);
    let r2 = rig(
        cfg,
        Arc::new(|_, _| (0, "fine\n".into(), Duration::ZERO)),
        RigOpts {
            restore: Some(saved),
            ..RigOpts::default()
        },
    );
    r2.at(2.5).await;
    let log = r2.alert_log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].1, AlertKind::Up);
    assert_eq!(
        log[0].3, "down",
        "the upalert describes the failure before the restart"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_saves_state() {
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![service("s", Some(2))])]),
        Arc::new(|_, _| (1, "down\n".into(), Duration::ZERO)),
        RigOpts {
            state_file: true,
            ..RigOpts::default()
        },
    );
    r.at(2.2).await;
    r.h.stop().await.expect("stop");
    r.h.shutdown(Duration::from_secs(1))
        .await
        .expect("shutdown");
    let saved = crate::state::persist::load(&r.dir.join("monrs-state.json"))
        .expect("load")
        .expect("saved at shutdown");
    assert_eq!(saved.services[0].state.op_status, OpStatus::FAIL);
    assert_eq!(saved.stopped_since, Some(T0 + 2));
    assert_eq!(r.h.snapshot().await.err(), Some(EngineError::Gone));
}

#[tokio::test(start_paused = true)]
async fn startup_alerts_and_pids() {
    let mut s = service("s", Some(100));
    s.periods[0].startupalerts = vec![line("rec.alert start")];
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![s])]),
        ok_plan(),
        RigOpts::default(),
    );
    r.at(0.1).await;
    let log = r.alert_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, AlertKind::Startup);
    let pids = r.h.pids().await.expect("pids");
    assert_eq!(pids.server, 4242);
    assert!(pids.running.is_empty());
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(snap.services[0].alerts_sent(&snap), 1);
    assert_eq!(snap.services[0].last_alert(), T0);
}

// T0 is Sunday 2026-11-22 02:36:40 UTC; the rigs evaluate periods in UTC.

#[tokio::test(start_paused = true)]
async fn exclude_period_holds_and_releases_promptly() {
    let mut s = service("s", Some(10));
    // 02:37:00-02:38:59 UTC = 20 s to 140 s after start.
    s.exclude_period = Some("min {37-38}".into());
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![s])]),
        ok_plan(),
        RigOpts::default(),
    );
    r.at(165.0).await;
    // Due at 20, held (re-checked each second) until the window ends at 140, then one
    // interval from that run.
    assert_eq!(r.starts_of("s"), vec![10.0, 140.0, 150.0, 160.0]);
}

#[tokio::test(start_paused = true)]
async fn global_exclude_period_holds_every_service() {
    let mut cfg = config(
        &[("g", &["h"])],
        vec![("g", vec![service("a", Some(10)), service("b", Some(15))])],
    );
    cfg.globals.exclude_period = Some("min {37-38}".into());
    let r = rig(cfg, ok_plan(), RigOpts::default());
    r.at(156.0).await;
    assert_eq!(r.starts_of("a"), vec![10.0, 140.0, 150.0]);
    assert_eq!(r.starts_of("b"), vec![15.0, 140.0, 155.0]);
}

#[tokio::test(start_paused = true)]
async fn monitor_dependency_holds_until_the_parent_recovers() {
    let parent = service("parent", Some(2));
    let mut child = service("child", Some(2));
    child.depend = Some("g:parent".into());
    child.dep_behavior = crate::config::DepBehavior::Monitor;
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![parent, child])]),
        Arc::new(|s, el| {
            if s == "parent" && el < Duration::from_millis(10_500) {
                (1, "parent down\n".into(), Duration::ZERO)
            } else {
                (0, "ok\n".into(), Duration::ZERO)
            }
        }),
        RigOpts::default(),
    );
    r.at(17.5).await;
    // At 2 s the parent is still untested (which counts as up); from 4 s it has failed, so
    // the child waits, re-checked each second, until the parent's ok result at 12 s.
    assert_eq!(r.starts_of("child"), vec![2.0, 13.0, 15.0, 17.0]);
    let snap = r.h.snapshot().await.expect("snapshot");
    assert_eq!(
        snap.service("g", "child")
            .and_then(|v| v.state.depend_status),
        Some(true)
    );
}

#[tokio::test(start_paused = true)]
async fn alert_dependency_gates_failure_alerts_not_upalerts() {
    let parent = service("parent", Some(2));
    let mut child = service("child", Some(2));
    child.depend = Some("g:parent".into());
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![parent, child])]),
        Arc::new(|s, el| {
            let t = el.as_secs_f64();
            match s {
                "parent" if (3.0..9.0).contains(&t) => (1, "parent down\n".into(), Duration::ZERO),
                "child" if t < 13.0 => (1, "child down\n".into(), Duration::ZERO),
                _ => (0, "ok\n".into(), Duration::ZERO),
            }
        }),
        RigOpts::default(),
    );
    r.at(14.5).await;
    let child: Vec<(u64, AlertKind)> = r
        .alerts
        .lock()
        .map(|v| {
            v.iter()
                .filter(|(_, c)| c.service == "child")
                .map(|(d, c)| (d.as_secs(), c.kind))
                .collect()
        })
        .expect("lock");
    // 2 s: the parent is untested (up): alert. 4-8 s: the parent is down: muted.
    // 10, 12 s: the parent is back: alerts again. 14 s: the upalert.
    assert_eq!(
        child,
        vec![
            (2, AlertKind::Failure),
            (10, AlertKind::Failure),
            (12, AlertKind::Failure),
            (14, AlertKind::Up)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn cron_service_runs_at_the_cron_instants() {
    let mut s = service("c", Some(1));
    s.schedule = Schedule::Cron("*/5 * * * * *".into());
    let r = rig(
        config(&[("g", &["h"])], vec![("g", vec![s])]),
        ok_plan(),
        RigOpts::default(),
    );
    r.at(21.0).await;
    // T0 is a multiple of 5 s: the instants strictly after it.
    assert_eq!(r.starts_of("c"), vec![5.0, 10.0, 15.0, 20.0]);
}

#[tokio::test(start_paused = true)]
async fn startup_alerts_again_on_reset_only_when_configured() {
    let mut s = service("s", Some(100));
    s.periods[0].startupalerts = vec![line("rec.alert start")];
    let mut with = config(&[("g", &["h"])], vec![("g", vec![s])]);
    with.globals.startupalerts_on_reset = true;
    let mut without = with.clone();
    without.globals.startupalerts_on_reset = false;
    for (cfg, want) in [(with, 2), (without, 1)] {
        let shared = Arc::new(Mutex::new(Ok(cfg)));
        let r = reload_rig(shared, RigOpts::default());
        r.at(1.0).await;
        r.h.reload().await.expect("reload");
        r.at(2.0).await;
        let n = r
            .alert_log()
            .iter()
            .filter(|(_, k, _, _)| *k == AlertKind::Startup)
            .count();
        assert_eq!(n, want);
    }
}

#[tokio::test(start_paused = true)]
async fn reload_keeps_unchanged_running_monitors_and_kills_removed_ones() {
    let slow = |name: &str| service(name, Some(10));
    let cfg = Arc::new(Mutex::new(Ok::<Config, String>(config(
        &[("g", &["h"])],
        vec![("g", vec![slow("kept"), slow("removed")])],
    ))));
    // Every run takes 5 s (reload_rig's plan would finish at once).
    let dir = tempfile::tempdir().expect("tempdir");
    let p = paths(dir.path());
    let c2 = cfg.clone();
    let loader: Loader = Arc::new(move || {
        Ok(Setup {
            config: Arc::new(c2.lock().map_err(|e| e.to_string())?.clone()?),
            paths: p.clone(),
            maxkeep: 100,
            maxprocs: 0,
            randstart: None,
            historic: None,
        })
    });
    let first = cfg.lock().expect("lock").clone().expect("config");
    let r = rig(
        first,
        Arc::new(|_, _| (1, "slow failure\n".into(), Duration::from_secs(5))),
        RigOpts {
            loader: Some(loader),
            dir: Some(dir),
            ..RigOpts::default()
        },
    );
    r.at(12.0).await;
    assert_eq!(r.h.stats().await.expect("stats").running, 2);
    *cfg.lock().expect("lock") = Ok(config(&[("g", &["h"])], vec![("g", vec![slow("kept")])]));
    r.h.reload().await.expect("reload");
    assert_eq!(
        r.h.stats().await.expect("stats").running,
        1,
        "the removed one was killed"
    );
    r.at(16.0).await;
    let snap = r.h.snapshot().await.expect("snapshot");
    let kept = snap.service("g", "kept").expect("kept");
    assert_eq!(
        kept.state.op_status,
        OpStatus::FAIL,
        "the run begun before the reload finished"
    );
    assert_eq!(kept.state.failure_count, 1);
    assert_eq!(
        r.starts_of("kept"),
        vec![10.0],
        "not restarted by the reload"
    );
}
