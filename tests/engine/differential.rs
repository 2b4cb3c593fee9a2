//! Differential run: the same mon.cf and the same timeline in `/usr/sbin/mon` (Debian mon
//! 1.3.6) and in `monrs`, each with the flag monitor and the recording alert. The alert
//! sequences must match in order, type, argv (except `-t`), stdin and the MON_*
//! environment (names, and values that do not depend on time or paths). Times differ:
//! mon works in 1 s ticks and runs "interval 1s" services about every 2 s.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::engine::*;
use crate::support::monrs_bin;

fn mon_cf(lab: &Lab) -> String {
    format!(
        "serverbind = 127.0.0.1\ntrapbind = 127.0.0.1\nauthtype = trustlocal\n\n\
         hostgroup g1 hostA hostB\n\n\
         watch g1\n    service s1\n        FLAGDIR={}\n        RECDIR={}\n\
         \x20       description differential\n        interval 1s\n        monitor flag.monitor -x \"quoted arg\"\n\
         \x20       period wd {{Sun-Sat}}\n\
         \x20           alert exit=2 rec.alert X2\n            alert rec.alert X\n\
         \x20           upalert rec.alert up-X\n            startupalert rec.alert start\n\
         \x20           alertevery 600s\n",
        lab.path("flags").display(),
        lab.path("rec").display()
    )
}

/// Phases of the timeline: from this many seconds on, the monitor returns this.
const TIMELINE: &[(u64, i32, &str)] = &[
    (0, 0, "all ok\ndetail ok\n"),
    (4, 1, "A\nd1\n"),
    (9, 2, "B\nd2\n"),
    (14, 0, "all ok\ndetail ok\n"),
    (19, 1, "A\nd1\n"),
    (24, 0, "all ok\n"),
];
const END: u64 = 29;

/// What must be equal between the two daemons for one alert call.
type Norm = (String, Vec<String>, String, BTreeMap<String, String>);

fn normalise(recs: Vec<Rec>, lab: &Path) -> Vec<Norm> {
    let mut v: Vec<(i64, Norm)> = recs
        .into_iter()
        .map(|r| {
            let t: i64 = r.arg_after("-t").and_then(|t| t.parse().ok()).unwrap_or(0);
            let argv: Vec<String> = r
                .argv
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    if i > 0 && r.argv[i - 1] == "-t" {
                        "T".to_string()
                    } else {
                        a.clone()
                    }
                })
                .collect();
            let lab = lab.display().to_string();
            let env = r
                .env
                .iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        // Times and paths differ between the runs; their presence must not.
                        "MON_FIRST_FAILURE" | "MON_LAST_FAILURE" | "MON_LAST_SUCCESS" => {
                            if v == "0" { "0" } else { "TIME" }.to_string()
                        }
                        "MON_STATEDIR" | "MON_LOGDIR" | "MON_CFBASEDIR" => v.replace(&lab, "LAB"),
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect();
            (t, (r.kind().to_string(), argv, r.stdin, env))
        })
        .collect();
    // The alerts of one decision run concurrently: order them by time, then by argv.
    v.sort_by(|a, b| (a.0, &a.1.1).cmp(&(b.0, &b.1.1)));
    v.into_iter().map(|x| x.1).collect()
}

#[test]
fn same_alerts_as_real_mon_on_the_same_timeline() {
    let mon_lab = Lab::new();
    let rs_lab = Lab::new();
    for lab in [&mon_lab, &rs_lab] {
        lab.flag("s1", TIMELINE[0].1, TIMELINE[0].2);
    }
    let _mon = Daemon::start(Path::new("/usr/sbin/mon"), &mon_lab, &mon_cf(&mon_lab), &[]);
    let _rs = Daemon::start(&monrs_bin(), &rs_lab, &mon_cf(&rs_lab), &[]);
    let t0 = Instant::now();
    for &(at, exit, out) in TIMELINE {
        let when = t0 + Duration::from_secs(at);
        if let Some(d) = when.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        mon_lab.flag("s1", exit, out);
        rs_lab.flag("s1", exit, out);
    }
    std::thread::sleep((t0 + Duration::from_secs(END)).saturating_duration_since(Instant::now()));
    let mon = normalise(mon_lab.recs(), mon_lab.dir.path());
    let rs = normalise(rs_lab.recs(), rs_lab.dir.path());
    let summary = |v: &[Norm]| -> Vec<(String, Vec<String>)> {
        v.iter()
            .map(|(k, argv, _, _)| (k.clone(), argv.iter().skip(8).cloned().collect()))
            .collect()
    };
    // The expected sequence, as mon's rules give it (alertevery 600s holds repeats with
    // the same summary; both exit=2 and the plain line fire for B).
    let want: Vec<(String, Vec<String>)> = [
        ("startup", vec!["start"]),
        ("failure", vec!["X"]),
        ("failure", vec!["X"]),
        ("failure", vec!["X2"]),
        ("up", vec!["-u", "up-X"]),
        ("failure", vec!["X"]),
        ("up", vec!["-u", "up-X"]),
    ]
    .into_iter()
    .map(|(k, a)| (k.to_string(), a.into_iter().map(str::to_string).collect()))
    .collect();
    assert_eq!(
        summary(&mon),
        want,
        "mon's sequence (the test's own assumption)"
    );
    assert_eq!(summary(&rs), want, "monrs's sequence");
    for (i, (m, r)) in mon.iter().zip(&rs).enumerate() {
        assert_eq!(m.1, r.1, "argv of alert {i}");
        assert_eq!(m.2, r.2, "stdin of alert {i}");
        assert_eq!(m.3, r.3, "environment of alert {i}");
    }
}
