//! The mon.cf loader against mon's behaviour: the error fixtures (mon's exact text and our
//! located message), the example fixtures (what real mon made of them), the line-state
//! machine quirks, the lint warnings, the monrs extensions, and real mon run side by side.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use monrs::config::words::quotewords;
use monrs::config::{
    DepBehavior, EveryMode, ExitRange, LoadOptions, Schedule, Severity, Warning, load_str_with,
};

use crate::support::config::*;

mod errors {
    use super::*;

    /// Every error fixture is refused with mon's exact `cf error:` text.
    #[test]
    fn mon_text_for_every_error_fixture() {
        let files = cf_files(&example("errors"));
        assert_eq!(files.len(), 27, "error fixtures");
        for f in files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            let e = match load(&read(&f), &format!("errors/{name}")) {
                Ok(_) => panic!("{name}: loaded, but mon refuses it"),
                Err(e) => e,
            };
            assert_eq!(
                e.mon_message.as_deref(),
                Some(expected_mon_error(&f).as_str()),
                "{name}: mon's text\n{}",
                e.render()
            );
            assert!(
                e.line >= 1 && e.col >= 1,
                "{name}: located at {}:{}",
                e.line,
                e.col
            );
        }
    }

    /// Our own message (file:line:col, found/expected, caret, help) for each fixture, as
    /// reviewed snapshots under tests/fixtures/config/snapshots.
    #[test]
    fn located_message_for_every_error_fixture() {
        for f in cf_files(&example("errors")) {
            let name = f.file_stem().and_then(|n| n.to_str()).unwrap_or("?");
            let e = load(&read(&f), &format!("errors/{name}.cf")).err();
            let rendered = e.map(|e| e.render()).unwrap_or_default();
            assert_snapshot(&format!("error-{name}"), &rendered);
        }
    }

    /// mon reports the physical line where a continued logical line ends; we point at the
    /// offending text, which may be on an earlier physical line.
    #[test]
    fn continued_lines_report_mons_end_line() {
        let e = err("hostgroup g h\n\nwatch g\n    service a\n        interval \\\n    30\n");
        assert_eq!(
            e.mon_message.as_deref(),
            Some(
                "cf error: invalid time interval '' (syntax: interval = {positive number}{smhd}), line 6"
            )
        );
        assert_eq!((e.line, e.col), (6, 5));
        let e = err("hostgroup g h\n\nwatch g\n    service a\n        frob \\\n  x\n");
        assert_eq!(
            e.mon_message.as_deref(),
            Some("cf error: unknown syntax [frob x], line 6")
        );
        assert_eq!((e.line, e.col), (5, 9));
    }

    #[test]
    fn other_mon_errors() {
        let cases: &[(&str, &str)] = &[
            (
                "historictime = 5",
                "cf error: bad value '5' for historictime command (syntax: historictime = timeval), line 1",
            ),
            (
                "cltimeout = 30",
                "cf error: bad value '30' for cltimeout command (syntax: cltimeout = secs), line 1",
            ),
            (
                "dep_memory = x",
                "cf error: bad value 'x' for dep_memory option (syntax: dep_memory = timeval), line 1",
            ),
            (
                "unack_summary = 2",
                "cf error: invalid unack_summary value '2' (syntax: unack_summary [0|1|y|yes|n|no])",
            ),
            (
                "watch w\n service s\n  failure_interval 0s",
                "cf error: invalid interval '0' (syntax: failure_interval = {positive number}{smhd}), line 3",
            ),
            (
                "watch w\n service s\n  traptimeout 5",
                "cf error: invalid traptimeout interval '' (syntax: traptimeout = {positive number}{smhd}), line 3",
            ),
            (
                "watch w\n service s\n  trapduration x",
                "cf error: invalid trapduration interval '' (syntax: trapduration = {positive number}{smhd}), line 3",
            ),
            (
                "watch w\n service s\n  randskew 0m",
                "cf error: invalid randskew time interval '0' (syntax: randskew = {positive number}{smhd}), line 3",
            ),
            (
                "watch w\n service s\n  dep_behavior x",
                "cf error: unknown dependency behavior 'x' (syntax: dep_behavior = {m|a}), line 3",
            ),
            (
                "watch w\n service s\n  dep_memory 0s",
                "cf error: bad value '0' for dep_memory option (syntax: dep_memory = timeval), line 3",
            ),
            (
                "watch w\n service s\n  period\n   upalertafter 1x",
                "cf error: invalid upalertafter specification '' (syntax: upalertafter = {positive number}{smhd}), line 4",
            ),
            (
                "watch w\n service s\n  period\n   alertexitrange 1-x",
                "cf error: invalid exit code range '1-x', line 4",
            ),
            (
                "watch w\n service s\n  period\n   alertafter 0s",
                "cf error: invalid time interval '0s' (syntax: alertafter = [{positive integer}] [{positive number}{smhd}]), line 4",
            ),
            (
                "watch w\n service\n",
                "cf error: invalid service tag '', line 2",
            ),
            (
                "watch w\n -x\n",
                "cf error: need to specify service in watch record, line 2",
            ),
        ];
        for (text, want) in cases {
            let e = err(text);
            assert_eq!(
                e.mon_message.as_deref(),
                Some(*want),
                "{text}\n{}",
                e.render()
            );
        }
    }

    #[test]
    fn authfile_and_userfile_are_checked_when_read() {
        let e = err("authfile = /nonexistent/auth.cf\n");
        assert_eq!(
            e.mon_message.as_deref(),
            Some(
                "cf error: authfile '/nonexistent/auth.cf' does not exist or is not readable, line 1"
            )
        );
        let e = err("\nuserfile = /nonexistent/users\n");
        assert_eq!(
            e.mon_message.as_deref(),
            Some(
                "cf error: userfile '/nonexistent/users' does not exist or is not readable, line 2"
            )
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let auth = dir.path().join("auth.cf");
        std::fs::write(&auth, "command section\n").expect("write");
        let l = ok(&format!("authfile = {}\n", auth.display()));
        assert_eq!(
            l.config.globals.authfile.as_deref(),
            Some(auth.to_str().unwrap_or(""))
        );
        // The check is injectable for tests that must not depend on the file system.
        let opts = LoadOptions {
            readable: Some(|_| true),
            ..LoadOptions::default()
        };
        assert!(load_str_with("userfile = /nowhere\n", Path::new("t.cf"), &opts).is_ok());
    }

    #[test]
    fn errors_that_only_monrs_reports() {
        for text in [
            "serverport = http",
            "trapport = 70000",
            "native_monitors = maybe",
            "monitor_timeout = 0s",
            "watch w\n service s\n  interval 99999999999d",
        ] {
            let e = err(text);
            assert_eq!(e.mon_message, None, "{text}");
            assert!(e.line >= 1);
        }
    }

    #[test]
    fn unknown_global_suggests_a_name() {
        let e = err("maxproc = 5");
        assert_eq!(e.hint.as_deref(), Some("did you mean `maxprocs`?"));
        assert_eq!((e.line, e.col), (1, 1));
    }
}

mod examples {
    use super::*;

    fn fixture(name: &str) -> monrs::config::Loaded {
        let path = example(name);
        match load(&read(&path), name) {
            Ok(l) => l,
            Err(e) => panic!("{name} should load:\n{}", e.render()),
        }
    }

    fn mon_warnings(ws: &[Warning]) -> BTreeSet<String> {
        ws.iter().filter_map(|w| w.mon_message.clone()).collect()
    }

    fn hosts(l: &monrs::config::Loaded, g: &str) -> Vec<String> {
        l.config
            .hostgroup(g)
            .map(|g| g.hosts.clone())
            .unwrap_or_default()
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_example_loads() {
        for f in cf_files(&example("")) {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            if let Err(e) = load(&read(&f), name) {
                panic!("{name}:\n{}", e.render());
            }
        }
    }

    #[test]
    fn aggregate_mysql_failover() {
        let l = fixture("aggregate-mysql-failover.cf");
        let g = &l.config.globals;
        assert_eq!(
            g.alertdir.as_deref(),
            Some("/usr/lib/mon/alert.d:/usr/local/lib/mon/alert.d")
        );
        assert_eq!((g.maxprocs, g.histlength, g.dtlogging), (20, 100, true));
        assert_eq!(g.clientallow, strs(&["127.0.0.1"]));
        assert_eq!(hosts(&l, "aggregate"), strs(&["localhost"]));
        assert_eq!(hosts(&l, "mysql"), strs(&["127.0.0.1"]));
        let agg = l.config.watch("aggregate").expect("watch aggregate");
        let names: Vec<&str> = agg.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["agg-6450", "agg-6460", "agg-6480", "agg-8443"]);
        for s in &agg.services {
            assert_eq!(s.schedule, Schedule::Interval(Duration::from_secs(30)));
            let m = s.monitor.as_ref().expect("monitor");
            assert_eq!(m.name, "tcp.monitor");
            assert_eq!(s.periods.len(), 1);
            let p = &s.periods[0];
            assert_eq!(
                (p.label.as_str(), p.spec.as_str()),
                ("wd {Sun-Sat}", "wd {Sun-Sat}")
            );
            assert_eq!(p.alerts[0].name, "ha-down.alert");
            assert_eq!(p.alertafter_consec, Some(2));
        }
        let my = l.config.service("mysql", "mysql").expect("mysql/mysql");
        assert_eq!(my.schedule, Schedule::Interval(Duration::from_secs(10)));
        assert_eq!(
            quotewords(&my.monitor.as_ref().expect("monitor").args).unwrap_or_default()[0],
            "--mode"
        );
        assert!(mon_warnings(&l.warnings).is_empty());
    }

    #[test]
    fn lvs_director() {
        let l = fixture("lvs-director.cf");
        assert_eq!(l.config.globals.randstart, Some(Duration::from_secs(10)));
        assert_eq!(l.config.globals.histlength, 500);
        assert_eq!(l.config.watches.len(), 6);
        for (i, w) in l.config.watches.iter().enumerate() {
            assert_eq!(w.name, format!("www{}", i + 1));
            assert_eq!(hosts(&l, &w.name), vec![format!("192.0.2.{}", 11 + i)]);
            let s = &w.services[0];
            let p = &s.periods[0];
            assert_eq!(
                p.alertevery.map(|a| (a.every, a.mode)),
                Some((Duration::from_secs(600), EveryMode::Summary))
            );
            assert_eq!(p.alertafter_consec, Some(1));
            assert_eq!(p.upalerts[0].name, "lvs.alert");
            assert_eq!(p.upalerts[0].args, "-V 192.0.2.100:80 -P tcp -W 1 -F dr");
        }
    }

    #[test]
    fn mysql_failover() {
        let l = fixture("mysql-failover.cf");
        let s = l.config.service("dbcluster", "mysql").expect("service");
        assert_eq!(s.randskew, Some(Duration::from_secs(5)));
        let p = &s.periods[0];
        assert_eq!(p.spec, "hr {12am-11pm}");
        assert_eq!(p.numalerts, 1);
        assert_eq!(p.alerts.len(), 2);
        assert_eq!(p.alerts[0].name, "mysql-failover.alert");
        assert_eq!(
            quotewords(&p.alerts[1].args),
            Some(strs(&["-S", "MySQL failover on db1", "dba@example.com"]))
        );
    }

    #[test]
    fn edge_01_missing_blank_line() {
        let l = fixture("edge-01-missing-blank-line.cf");
        assert_eq!(
            hosts(&l, "web"),
            strs(&[
                "web1",
                "web2",
                "watch",
                "web",
                "service",
                "http",
                "interval",
                "1m",
                "monitor",
                "http.monitor",
                "period",
                "wd",
                "{Sun-Sat}",
                "alert",
                "mail.alert",
                "root@localhost"
            ])
        );
        assert!(l.config.watches.is_empty());
        assert_eq!(
            mon_warnings(&l.warnings),
            BTreeSet::from(["Warning: hostgroup web has no watch assigned to it!".to_string()])
        );
        let w = l
            .warnings
            .iter()
            .find(|w| w.message.contains("takes this line as host names"))
            .expect("a warning about the swallowed watch");
        assert_eq!((w.line, w.col), (19, 1));
    }

    #[test]
    fn edge_02_blank_line_inside_watch() {
        let l = fixture("edge-02-blank-line-inside-watch.cf");
        let w = l.config.watch("mail").expect("watch mail");
        assert_eq!(w.services.len(), 1);
        assert_eq!(w.services[0].name, "ping");
        assert!(mon_warnings(&l.warnings).is_empty());
        let warn = l
            .warnings
            .iter()
            .find(|w| w.message.contains("mon ignores lines 24-28"))
            .expect("a warning naming the ignored lines");
        assert!(
            warn.message.contains("blank line 23 ended watch `mail`"),
            "{}",
            warn.message
        );
        assert_eq!(warn.line, 24);
    }

    #[test]
    fn edge_03_continuation_and_comments() {
        let l = fixture("edge-03-continuation-and-comments.cf");
        assert_eq!(hosts(&l, "ga"), strs(&["a", "b", "cd"]));
        assert_eq!(hosts(&l, "gb"), strs(&["xy", "z"]));
        assert_eq!(hosts(&l, "gc"), strs(&["p", "q"]));
        assert_eq!(hosts(&l, "gd"), strs(&["h1", "h2"]));
        assert_eq!(l.config.globals.maxprocs, 7);
        let m = l
            .config
            .service("gc", "tcp")
            .and_then(|s| s.monitor.clone())
            .expect("monitor");
        assert_eq!(m.raw, "tcp.monitor -p 80 # not a comment");
        assert_eq!(
            quotewords(&m.args),
            Some(strs(&["-p", "80", "#", "not", "a", "comment"]))
        );
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("`# not a comment` is not a comment"))
        );
    }

    #[test]
    fn edge_04_periods() {
        let l = fixture("edge-04-periods.cf");
        let s = l.config.service("g", "any").expect("service");
        let keys: Vec<(&str, &str)> = s
            .periods
            .iter()
            .map(|p| (p.label.as_str(), p.spec.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("", ""),
                ("Work_1", "wd {Mon-Fri} hr {9am-5pm}"),
                ("none", "none"),
                ("wd {Sun-Sat}, hr {bogus}", "wd {Sun-Sat}, hr {bogus}"),
                ("lbl", ""),
                ("night", "hr {10pm-6am}"),
            ]
        );
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("period `none`") && w.message.contains("never"))
        );
    }

    #[test]
    fn edge_05_monitor_and_alert_args() {
        let l = fixture("edge-05-monitor-and-alert-args.cf");
        let svc = |n| l.config.service("g", n).expect("service");
        let q = svc("quoted");
        assert_eq!(
            quotewords(&q.monitor.as_ref().expect("monitor").args),
            Some(strs(&["-x", "quoted arg", "single q"]))
        );
        assert_eq!(
            q.env,
            vec![
                ("FOO".to_string(), "bar value".to_string()),
                ("BAR_BAZ".to_string(), String::new())
            ]
        );
        assert_eq!(svc("noargs").monitor.as_ref().expect("m").args, "-a ;;");
        assert_eq!(svc("excl").exclude_hosts, strs(&["h2"]));
        let u = svc("unbal");
        assert_eq!(quotewords(&u.monitor.as_ref().expect("m").args), None);
        assert_eq!(quotewords(&u.periods[0].alerts[0].args), None);
        let e = &svc("exitr").periods[0].alerts;
        let ranges: Vec<Option<ExitRange>> = e.iter().map(|a| a.exit_range).collect();
        assert_eq!(
            ranges,
            [
                Some(ExitRange { lo: 2, hi: 2 }),
                Some(ExitRange { lo: 3, hi: 5 }),
                None
            ]
        );
        assert!(e.iter().all(|a| a.name == "mail.alert"));
        assert_eq!(e[1].args, "sev3@example.com");
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("unbalanced quote"))
        );
    }

    #[test]
    fn edge_06_watch_without_hostgroup() {
        let l = fixture("edge-06-watch-without-hostgroup.cf");
        let g = l.config.hostgroup("db1.example.com").expect("auto group");
        assert!(g.auto);
        assert_eq!(g.hosts, strs(&["db1.example.com"]));
        assert_eq!(
            mon_warnings(&l.warnings),
            BTreeSet::from([
                "Warning: watch group db1.example.com defined with no corresponding hostgroup."
                    .to_string(),
                "Warning: watch group traps defined with no corresponding hostgroup.".to_string(),
            ])
        );
        let hb = l
            .config
            .service("traps", "heartbeat")
            .expect("trap service");
        assert_eq!(hb.schedule, Schedule::None);
        assert!(hb.monitor.is_none());
        assert_eq!(hb.traptimeout, Some(Duration::from_secs(600)));
        assert!(l.warnings.iter().all(|w| w.severity == Severity::Warning));
    }
}

mod state_machine {
    use super::*;

    #[test]
    fn hostgroup_name_stops_at_a_bad_character() {
        let l = ok("hostgroup my@group h1\n");
        assert_eq!(
            l.config.hostgroup("my").map(|g| g.hosts.clone()),
            Some(vec!["@group".to_string(), "h1".to_string()])
        );
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("name stops at `@`"))
        );
    }

    #[test]
    fn alias_and_view_records() {
        // Checked with real mon (`moncmd list aliases`): the watch and view lines are
        // alias text, the global is a global, a hostgroup line ends the alias.
        let l = ok(
            "alias a1\nline one\nwatch w1\nview v1 g1\nmaxprocs = 3\nhostgroup g h\n\n\
             view v2 g\nwatch foo\nalias a3\nz\n",
        );
        let a1 = &l.config.aliases[0];
        assert_eq!(a1.lines, ["line one", "watch w1", "view v1 g1"]);
        assert_eq!(l.config.globals.maxprocs, 3);
        assert_eq!(l.config.views[0].items, ["g", "watch", "foo"]);
        assert_eq!(l.config.aliases[1].name, "a3");
        assert!(l.config.watches.is_empty());
    }

    #[test]
    fn new_records_end_a_watch_without_a_blank_line() {
        let l = ok(
            "watch a\n service s\n  interval 1m\nwatch b\n service t\n  interval 1m\n\
             hostgroup c h\nwatch c\n",
        );
        assert_eq!(l.config.watch("a").map(|w| w.services.len()), Some(1));
        assert_eq!(l.config.watch("b").map(|w| w.services.len()), Some(1));
        // `watch c` was read as a host of the hostgroup record.
        assert_eq!(
            l.config.hostgroup("c").map(|g| g.hosts.clone()),
            Some(vec!["h".into(), "watch".into(), "c".into()])
        );
    }

    #[test]
    fn a_watch_without_services_can_be_reopened() {
        let l = ok("hostgroup g h\n\nwatch g\n\nwatch g\n service s\n  interval 1m\n");
        assert_eq!(l.config.watches.len(), 1);
        assert_eq!(l.config.watches[0].services.len(), 1);
    }

    #[test]
    fn a_blank_line_after_watch_leaves_it_empty() {
        let l = ok("hostgroup g h\n\nwatch g\n\n service s\n  interval 1m\n");
        assert!(l.config.watch("g").is_some_and(|w| w.services.is_empty()));
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("blank line 4 ended watch `g`"))
        );
        assert!(l.warnings.iter().any(|w| w.mon_message.as_deref()
            == Some("Warning: hostgroup g has no watch assigned to it!")));
    }

    #[test]
    fn hostgroups_can_be_redefined() {
        let l = ok("hostgroup g a\n\nhostgroup g b c\n\nwatch g\n service s\n");
        assert_eq!(l.config.hostgroups.len(), 1);
        assert_eq!(l.config.hostgroups[0].hosts, ["b", "c"]);
    }

    #[test]
    fn environment_variables_and_period_keywords() {
        let l = ok(
            "watch w\n service s\n  interval 1m\n  period p1: wd {Sun-Sat}\n   A_1=x y \n   alert a.alert\n   B==\n",
        );
        let s = l.config.service("w", "s").expect("service");
        assert_eq!(
            s.env,
            [("A_1".into(), "x y".into()), ("B".into(), "=".into())]
        );
    }

    #[test]
    fn globals_apply_to_the_services_that_follow() {
        let l = ok(
            "watch w\n service a\n\ndep_behavior = m\nunack_summary = yes\ndep_memory = 1m\n\
             watch x\n service b\n  dep_behavior hm\n service c\n",
        );
        let a = l.config.service("w", "a").expect("a");
        let b = l.config.service("x", "b").expect("b");
        let c = l.config.service("x", "c").expect("c");
        assert_eq!(
            (a.dep_behavior, a.unack_summary, a.dep_memory),
            (DepBehavior::Alert, false, None)
        );
        assert_eq!(b.dep_behavior, DepBehavior::Host);
        assert_eq!(
            (c.dep_behavior, c.unack_summary, c.dep_memory),
            (DepBehavior::Monitor, true, Some(Duration::from_secs(60)))
        );
    }

    #[test]
    fn perl_truth_quirks() {
        // unack_summary: any `y` means yes; `maybe` is yes.
        let l = ok("unack_summary = maybe\nwatch w\n service s\n  unack_summary Nope\n");
        assert!(!l.config.service("w", "s").expect("s").unack_summary);
        assert!(l.warnings.iter().any(|w| w.message.contains("maybe")));
        // allow_empty_group: any argument, 0 included, turns it on.
        let l = ok("watch w\n service s\n  allow_empty_group 0\n");
        assert!(l.config.service("w", "s").expect("s").allow_empty_group);
        // dtlogging: only 1, yes, true.
        assert!(!ok("dtlogging = on\n").config.globals.dtlogging);
        assert!(ok("dtlogging = 1.0\n").config.globals.dtlogging);
        // startupalerts_on_reset: /^1|yes|true|on$/i
        assert!(
            ok("startupalerts_on_reset = moon\n")
                .config
                .globals
                .startupalerts_on_reset
        );
        assert!(
            !ok("startupalerts_on_reset = 0\n")
                .config
                .globals
                .startupalerts_on_reset
        );
        // Numbers are Perl numbers.
        let l = ok("maxprocs = 12abc\n");
        assert_eq!(l.config.globals.maxprocs, 12);
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("not a whole number"))
        );
    }

    #[test]
    fn zero_time_values_mon_accepts() {
        // Checked with real mon: `00s` and `0.0s` are true strings in Perl.
        let l = ok(
            "watch g\n service a\n  interval 00s\n  period\n   alertevery 0.0s\n   alertafter 00s\n",
        );
        let s = l.config.service("g", "a").expect("a");
        assert_eq!(s.schedule, Schedule::Interval(Duration::ZERO));
        assert_eq!(s.periods[0].alertevery, None);
        assert!(
            l.warnings
                .iter()
                .any(|w| w.severity == Severity::Reject && w.message.contains("interval 00s"))
        );
    }

    #[test]
    fn alertafter_forms() {
        let l = ok(
            "watch g\n service a\n  interval 1m\n  period\n   alertafter foo 2 30m\n  period b:\n   alertafter 3\n  period c:\n   alertafter 10m\n",
        );
        let s = l.config.service("g", "a").expect("a");
        assert_eq!(s.periods[0].alertafter_count, Some(2));
        assert_eq!(
            s.periods[0].alertafter_time,
            Some(Duration::from_secs(1800))
        );
        assert_eq!(s.periods[1].alertafter_consec, Some(3));
        assert_eq!(s.periods[2].alertafter_time, Some(Duration::from_secs(600)));
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("ignores `foo`"))
        );
    }

    #[test]
    fn alertevery_modes() {
        let l = ok(
            "watch g\n service a\n  period\n   alertevery 5m observe_detail\n  period b:\n   alertevery 1h STRICT\n  period c:\n   alertevery 90s ignore_summary\n",
        );
        let modes: Vec<_> = l
            .config
            .service("g", "a")
            .expect("a")
            .periods
            .iter()
            .map(|p| p.alertevery.map(|a| (a.every.as_secs(), a.mode)))
            .collect();
        assert_eq!(
            modes,
            [
                Some((300, EveryMode::ObserveDetail)),
                Some((3600, EveryMode::Strict)),
                Some((90, EveryMode::IgnoreSummary))
            ]
        );
    }

    #[test]
    fn self_is_replaced_in_dependencies() {
        let l = ok("watch g\n service a\n service b\n  depend SELF:a && other:x\n");
        assert_eq!(
            l.config
                .service("g", "b")
                .and_then(|s| s.depend.clone())
                .as_deref(),
            Some("g:a && other:x")
        );
    }

    #[test]
    fn a_trailing_continuation_is_dropped() {
        let l = ok("hostgroup g a\nb \\\n");
        assert_eq!(l.config.hostgroups[0].hosts, ["a"]);
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("ends inside a continued line"))
        );
    }

    #[test]
    fn crlf_files_read_like_unix_files() {
        let l = ok("hostgroup g a b\r\n\r\nwatch g\r\n service s\r\n  interval 1m\r\n");
        assert_eq!(l.config.hostgroups[0].hosts, ["a", "b"]);
        assert_eq!(
            l.config.service("g", "s").map(|s| s.schedule.clone()),
            Some(Schedule::Interval(Duration::from_secs(60)))
        );
    }
}

mod warnings {
    use super::*;

    fn find<'a>(ws: &'a [Warning], needle: &str) -> &'a Warning {
        ws.iter()
            .find(|w| w.message.contains(needle))
            .unwrap_or_else(|| panic!("no warning with `{needle}` in {ws:#?}"))
    }

    #[test]
    fn unknown_top_level_lines_with_suggestions() {
        let l = ok("Watch g\n service s\n\nhostgrop x y\n\nmaxprocs 5\n");
        let w = find(&l.warnings, "mon ignores lines 1-2");
        assert_eq!(
            w.suggestion.as_deref(),
            Some("keywords are case-sensitive: write `watch`; mon ignores this record entirely")
        );
        assert_eq!(
            find(&l.warnings, "mon ignores line 4")
                .suggestion
                .as_deref(),
            Some("did you mean `hostgroup`?")
        );
        assert_eq!(
            find(&l.warnings, "mon ignores line 6")
                .suggestion
                .as_deref(),
            Some("global settings need `=`: `maxprocs = 5`")
        );
    }

    #[test]
    fn errors_inside_a_watch_explain_themselves() {
        let hint = |t: &str| err(t).hint.unwrap_or_default();
        assert_eq!(
            hint("watch w\n service s\n  Interval 5m\n"),
            "keywords are case-sensitive: write `interval`"
        );
        assert!(hint("watch w\n service s\n  alert x\n").contains("belongs in a period"));
        assert!(
            hint("watch w\n service s\n  period\n  interval 1m\n")
                .contains("above the service's first `period`")
        );
        assert!(hint("watch w\n service s\n  maxprocs = 5\n").contains("global settings"));
        assert!(hint("watch w\n service s\n  foo=bar\n").contains("upper case"));
        assert_eq!(
            hint("watch w\n service s\n  period\n   comp_alerts\n"),
            "did you mean `no_comp_alerts`?"
        );
        assert!(hint("watch w\n service s\n  interval 30s # c\n").contains("no trailing comments"));
    }

    #[test]
    fn exit_filter_written_with_blanks() {
        let l = ok("watch w\n service s\n  period\n   alert exit = 2 mail.alert x\n");
        let a = &l.config.service("w", "s").expect("s").periods[0].alerts[0];
        // mon's runtime regex still sees the filter, and the name is the second word.
        assert_eq!(a.exit_range, Some(ExitRange { lo: 2, hi: 2 }));
        assert_eq!((a.name.as_str(), a.args.as_str()), ("=", "2 mail.alert x"));
        assert_eq!(a.table_name(), "exit");
        let w = find(&l.warnings, "with blanks");
        assert_eq!(
            w.suggestion.as_deref(),
            Some("write `exit=2` without blanks")
        );
    }

    #[test]
    fn monitor_without_schedule_is_rejected_by_check_only() {
        let l = ok("watch w\n service s\n  monitor x.monitor\n service trap\n  traptimeout 1m\n");
        let rejects: Vec<&Warning> = l
            .warnings
            .iter()
            .filter(|w| w.severity == Severity::Reject)
            .collect();
        assert_eq!(rejects.len(), 1, "{rejects:#?}");
        assert!(rejects[0].message.contains("w/s has a monitor but neither"));
        assert_eq!((rejects[0].line, rejects[0].col), (2, 10));
    }

    #[test]
    fn redistribute_with_arguments() {
        let l = ok("watch w\n service s\n  redistribute r.alert -x\n");
        find(&l.warnings, "this redistribute never runs");
        let l = ok("watch w\n service s\n  redistribute r.alert -x\n  period\n   alert r.alert\n");
        assert!(
            !l.warnings
                .iter()
                .any(|w| w.message.contains("redistribute never runs"))
        );
    }

    #[test]
    fn mondir_s_colon_quirk() {
        let l = ok("mondir = /opt/mon/tests:/usr/lib/mon/mon.d\n");
        let w = find(&l.warnings, "`/opt/mon/test` instead of `/opt/mon/tests`");
        assert_eq!((w.line, w.col), (1, 10));
        let overrides = monrs::config::paths::Overrides {
            mondir: Some("/x".into()),
            ..Default::default()
        };
        assert!(l.path_list_warnings(&overrides).is_empty());
        assert_eq!(l.path_list_warnings(&Default::default()).len(), 1);
    }

    /// Needs the depend stream's parser (`crate::depend::Expr`); the skeleton's stub
    /// accepts everything and names no services.
    #[test]
    fn dependency_expressions() {
        let l = ok(
            "watch g\n service a\n service b\n  depend SELF:a SELF:c\n service c\n  depend g:aa && other:x\n service d\n  hostdepend (g:a ||\n",
        );
        let w = find(&l.warnings, "depend expression is not valid");
        assert_eq!((w.line, w.col), (4, 17));
        assert_eq!(
            w.suggestion.as_deref(),
            Some("join the services with `&&` (all must be up) or `||` (any)")
        );
        let w = find(&l.warnings, "refers to `g:aa`");
        assert_eq!((w.line, w.col), (6, 10));
        assert_eq!(w.suggestion.as_deref(), Some("did you mean `g:a`?"));
        find(&l.warnings, "refers to `other:x`");
        // mon does not evaluate hostdepend expressions; a syntax error there is harmless.
        assert!(
            !l.warnings
                .iter()
                .any(|w| w.message.contains("hostdepend expression"))
        );
        let about_depend = l
            .warnings
            .iter()
            .filter(|w| w.message.contains("depend"))
            .count();
        assert_eq!(about_depend, 3, "{:#?}", l.warnings);
    }

    #[test]
    fn alertdepend_alone() {
        let l = ok("watch w\n service a\n service b\n  alertdepend w:a\n");
        find(
            &l.warnings,
            "alertdepend` without `depend` or `monitordepend`",
        );
    }

    #[test]
    fn periods_that_can_never_be_active() {
        let l = ok(concat!(
            "watch w\n service a\n",
            "  period none\n   alert mail.alert x\n",
            "  period yr {2019}\n   alert mail.alert x\n",
            "  period p: mo {feb} md {30}\n   alert mail.alert x\n",
            "  period wd {Mon-Fri}\n   alert mail.alert x\n",
        ));
        let never: Vec<u32> = l
            .warnings
            .iter()
            .filter(|w| w.message.contains("can never be active"))
            .map(|w| w.line)
            .collect();
        assert_eq!(never, [3, 5, 7], "{:#?}", l.warnings);
    }

    #[test]
    fn every_warning_is_located_and_renders() {
        for f in cf_files(&example("")) {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            let Ok(l) = load(&read(&f), name) else {
                continue;
            };
            for w in &l.warnings {
                assert!(w.line >= 1, "{name}: {w:?}");
                let r = w.render();
                assert!(
                    r.starts_with(&format!("{name}:{}:{}: ", w.line, w.col)),
                    "{r}"
                );
            }
        }
    }
}

mod extensions {
    use super::*;

    #[test]
    fn globals() {
        let l = ok("monitor_timeout = 2m\nalert_timeout = 30s\nnative_monitors = no\n");
        let g = &l.config.globals;
        assert_eq!(g.monitor_timeout, Some(Duration::from_secs(120)));
        assert_eq!(g.alert_timeout, Some(Duration::from_secs(30)));
        assert!(!g.native_monitors);
        assert!(ok("").config.globals.native_monitors);
    }

    #[test]
    fn cron_schedules() {
        let l = ok(
            "watch w\n service a\n  cron \"*/5 * * * *\"\n  monitor_timeout 20s\n service b\n  cron \"0 9 * * mon-fri\"\n",
        );
        let a = l.config.service("w", "a").expect("a");
        assert_eq!(a.schedule, Schedule::Cron("0 */5 * * * *".into()));
        assert_eq!(a.monitor_timeout, Some(Duration::from_secs(20)));
        let b = l.config.service("w", "b").expect("b");
        assert_eq!(b.schedule, Schedule::Cron("0 0 9 * * 2,3,4,5,6".into()));
        for s in [&a.schedule, &b.schedule] {
            let Schedule::Cron(expr) = s else {
                unreachable!()
            };
            assert!(
                <cron::Schedule as std::str::FromStr>::from_str(expr).is_ok(),
                "{expr}"
            );
        }
    }

    #[test]
    fn cron_errors() {
        let e = err("watch w\n service a\n  cron \"61 * * * *\"\n");
        assert!(
            e.message.starts_with("invalid cron expression"),
            "{}",
            e.message
        );
        assert_eq!(e.mon_message, None);
        for text in [
            "watch w\n service a\n  interval 1m\n  cron \"* * * * *\"\n",
            "watch w\n service a\n  cron \"* * * * *\"\n  interval 1m\n",
        ] {
            let e = err(text);
            assert!(
                e.message.starts_with("conflicting schedules"),
                "{}",
                e.message
            );
            assert_eq!(e.line, 4);
        }
        let l = ok("watch w\n service a\n  cron \"0 0 13 * 5\"\n");
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("both day-of-month and day-of-week"))
        );
    }
}

/// Real mon, run on the same files: the fixtures' claims stay honest.
mod against_mon {
    use super::*;

    #[test]
    fn mon_refuses_every_error_fixture_with_the_expected_text() {
        if !have_mon() {
            eprintln!("skipped: /usr/sbin/mon is not installed");
            return;
        }
        let files = cf_files(&example("errors"));
        let runs: Vec<(String, String, MonRun)> = std::thread::scope(|s| {
            let handles: Vec<_> = files
                .iter()
                .map(|f| {
                    s.spawn(move || {
                        (
                            f.display().to_string(),
                            expected_mon_error(f),
                            run_mon(f, Duration::from_secs(30)),
                        )
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        assert_eq!(runs.len(), 27);
        for (file, want, run) in runs {
            // mon exits with an errno-derived status: 255 in the spec's captures, 25
            // (ENOTTY) when stdin is not a terminal, as here. Never 0, never running.
            assert!(
                matches!(run.status, Some(s) if s != 0),
                "{file}: mon status {:?}",
                run.status
            );
            assert!(
                run.stderr.lines().any(|l| l == want),
                "{file}: mon said\n{}\nexpected\n{want}",
                run.stderr
            );
        }
    }

    #[test]
    fn mon_prints_the_same_warnings_for_the_examples() {
        if !have_mon() {
            eprintln!("skipped: /usr/sbin/mon is not installed");
            return;
        }
        let files = cf_files(&example(""));
        let runs: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = files
                .iter()
                .map(|f| s.spawn(move || (f.clone(), run_mon(f, Duration::from_secs(30)))))
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        for (file, run) in runs {
            assert_eq!(
                run.status,
                None,
                "{}: mon did not keep running:\n{}",
                file.display(),
                run.stderr
            );
            let theirs: BTreeSet<String> = run
                .stderr
                .lines()
                .filter(|l| l.starts_with("Warning: "))
                .map(str::to_string)
                .collect();
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            let ours: BTreeSet<String> = load(&read(&file), name)
                .map(|l| {
                    l.warnings
                        .into_iter()
                        .filter_map(|w| w.mon_message)
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(ours, theirs, "{}", file.display());
        }
    }
}

/// The real binary: mon's flags, `--check`, `--dump-config`, `check-config`.
mod cli {
    use assert_cmd::Command;

    use crate::support::monrs_bin;

    fn monrs() -> Command {
        Command::new(monrs_bin())
    }

    fn stdout(o: &std::process::Output) -> String {
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn stderr(o: &std::process::Output) -> String {
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    /// A directory with an auth file and a config, for `--check`.
    struct Dir {
        dir: tempfile::TempDir,
    }

    impl Dir {
        fn new(cf: &str) -> Dir {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join("auth.cf"), "command section\nlist: all\n")
                .expect("auth.cf");
            std::fs::write(dir.path().join("mon.cf"), cf).expect("mon.cf");
            let mondir = dir.path().join("mon.d");
            std::fs::create_dir(&mondir).expect("mon.d");
            let script = mondir.join("true.monitor");
            std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("script");
            std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .expect("chmod");
            Dir { dir }
        }

        fn cf(&self) -> String {
            self.dir.path().join("mon.cf").display().to_string()
        }

        fn check(&self, extra: &[&str]) -> std::process::Output {
            monrs()
                .current_dir(self.dir.path())
                .args(["--check", "-B", "."])
                .args(extra)
                .args(["-c", &self.cf()])
                .output()
                .expect("run monrs")
        }
    }

    /// Loads without findings: `true.monitor` is in `mon.d` under basedir `.`.
    const GOOD: &str = "basedir = .\nmondir = mon.d\n\nhostgroup g 127.0.0.1\n\nwatch g\n    service s\n        interval 1m\n        monitor true.monitor\n";

    #[test]
    fn version_starts_with_mons_line() {
        for flag in ["-v", "--version", "-version", "--ver"] {
            let o = monrs().arg(flag).output().expect("run");
            assert_eq!(o.status.code(), Some(0));
            assert!(
                stdout(&o).starts_with("mon-1.3.4\nmonrs "),
                "{}",
                stdout(&o)
            );
        }
    }

    #[test]
    fn help_and_unknown_options_exit_zero_like_mon() {
        let o = monrs().arg("-h").output().expect("run");
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).starts_with("usage: monrs [-a dir]"));
        // transcript 11: `mon -Z` prints the usage on stdout, the error on stderr, exit 0.
        let o = monrs().arg("-Z").output().expect("run");
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(stderr(&o), "Unknown option: Z\n");
        assert!(stdout(&o).starts_with("usage: monrs"));
        let o = monrs().args(["-k", "x", "--st"]).output().expect("run");
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(
            stderr(&o),
            "Value \"x\" invalid for option k (number expected)\nOption st is ambiguous (statedir, stopped)\n"
        );
    }

    #[test]
    fn out_of_range_values_fail() {
        let o = monrs()
            .args(["-p", "70000", "--check"])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("out of range"));
    }

    #[test]
    fn check_accepts_a_good_config() {
        let d = Dir::new(GOOD);
        let o = d.check(&[]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o).ends_with(": 1 watches, 1 services, 0 warnings: OK\n"),
            "{}",
            stdout(&o)
        );
        // check-config FILE is the same thing.
        let o = monrs()
            .current_dir(d.dir.path())
            .args(["check-config", &d.cf(), "-B", "."])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }

    #[test]
    fn check_reports_errors_with_location_and_mons_text() {
        let d = Dir::new(
            "hostgroup g h\n\nwatch g\n    service s\n        interval 30 # half a minute\n",
        );
        let o = d.check(&[]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!("{}:5:18: error: invalid interval", d.cf())),
            "{err}"
        );
        assert!(
            err.contains("5 |         interval 30 # half a minute\n"),
            "{err}"
        );
        assert!(
            err.contains("\n  |                  ^^^^^^^^^^^^^^^^^^\n"),
            "{err}"
        );
        assert!(
            err.contains("= mon prints: cf error: invalid time interval '' (syntax: interval = {positive number}{smhd}), line 5"),
            "{err}"
        );
        assert_eq!(stdout(&o), "config: INVALID (mon would refuse it too)\n");
    }

    #[test]
    fn check_rejects_what_mon_accepts_but_cannot_work() {
        let d = Dir::new("hostgroup g h\n\nwatch g\n    service s\n        monitor true.monitor\n");
        let o = d.check(&[]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("error (monrs --check): service g/s has a monitor but neither")
        );
        assert!(stdout(&o).ends_with("1 problem --check treats as fatal: REJECTED\n"));
    }

    #[test]
    fn check_looks_scripts_up_in_the_effective_paths() {
        let d = Dir::new(GOOD);
        let mondir = d.dir.path().join("other.d");
        std::fs::create_dir(&mondir).expect("other.d");
        let o = d.check(&["-s", mondir.to_str().unwrap_or("")]);
        assert_eq!(o.status.code(), Some(0));
        assert!(
            stderr(&o).contains("monitor `true.monitor` is not an executable file in mondir"),
            "{}",
            stderr(&o)
        );
        let script = mondir.join("true.monitor");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let o = d.check(&["-s", mondir.to_str().unwrap_or("")]);
        assert!(!stderr(&o).contains("true.monitor"), "{}", stderr(&o));
    }

    #[test]
    fn check_needs_the_auth_file_mon_opens() {
        let d = Dir::new(GOOD);
        let o = d.check(&["-A", "missing-auth.cf"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o)
                .contains("mon prints: could not open missing-auth.cf: No such file or directory"),
            "{}",
            stderr(&o)
        );
    }

    #[test]
    fn check_a_missing_file() {
        let o = monrs()
            .args(["--check", "-c", "/nonexistent/mon.cf"])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("mon prints: config file /nonexistent/mon.cf does not exist"));
    }

    #[test]
    fn dump_config_is_json() {
        let d = Dir::new(GOOD);
        let o = monrs()
            .current_dir(d.dir.path())
            .args(["--dump-config", "-B", ".", "-c", &d.cf(), "-s", "/x:rel"])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        assert_eq!(v["config"]["watches"][0]["services"][0]["name"], "s");
        assert_eq!(v["config"]["hostgroups"][0]["hosts"][0], "127.0.0.1");
        assert_eq!(v["paths"]["mondir"], serde_json::json!(["/x", "rel"]));
        assert_eq!(v["paths"]["authfile"], "auth.cf");
    }

    #[test]
    fn the_bundled_example_checks_clean() {
        let root = crate::support::repo_root();
        let o = monrs()
            .current_dir(&root)
            .args(["--check", "-c", "examples/mon.cf"])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    }
}

/// m4 preprocessing with the real m4.
mod m4 {
    use super::*;

    fn have_m4() -> bool {
        std::process::Command::new("m4")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    const INCLUDED: &str = "hostgroup g HOSTS\n\nwatch g\n    service s\n        interval 1m\n";

    #[test]
    fn dot_m4_files_go_through_m4() {
        if !have_m4() {
            eprintln!("skipped: no m4");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let cf = write(
            dir.path(),
            "mon.cf.m4",
            &format!("define(`HOSTS', `h1 h2')dnl\n{INCLUDED}"),
        );
        let l = monrs::config::load(&cf, &LoadOptions::default()).expect("loads");
        assert_eq!(l.config.hostgroups[0].hosts, ["h1", "h2"]);
    }

    #[test]
    fn dash_m_runs_the_given_program_and_includes_work() {
        if !have_m4() {
            eprintln!("skipped: no m4");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "part.cf", INCLUDED);
        let cf = write(
            dir.path(),
            "mon.cf",
            &format!(
                "define(`HOSTS', `a b')dnl\ninclude(`{}/part.cf')dnl\n",
                dir.path().display()
            ),
        );
        for prog in ["m4", "/usr/bin/m4", "", "m4 -P -DUNUSED"] {
            let opts = LoadOptions {
                m4: Some(prog.to_string()),
                ..LoadOptions::default()
            };
            // `m4 -P` prefixes builtins with m4_, so define/include stay text there.
            let l = monrs::config::load(&cf, &opts).expect("loads");
            if prog.contains("-P") {
                assert!(l.config.hostgroups.is_empty(), "{prog}");
            } else {
                assert_eq!(l.config.hostgroups[0].hosts, ["a", "b"], "{prog:?}");
            }
        }
        // Without m4 the text is read as it is: `include(...)` is just a line mon ignores.
        let l = monrs::config::load(&cf, &LoadOptions::default()).expect("loads");
        assert!(l.config.hostgroups.is_empty());
    }

    #[test]
    fn a_failing_preprocessor_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cf = write(dir.path(), "mon.cf", INCLUDED);
        for prog in ["/nonexistent/m4", "false"] {
            let opts = LoadOptions {
                m4: Some(prog.to_string()),
                ..LoadOptions::default()
            };
            let e = monrs::config::load(&cf, &opts).expect_err("must fail");
            assert!(e.message.contains("m4 preprocessor"), "{}", e.message);
            assert_eq!(
                e.mon_message.as_deref(),
                Some(
                    "Could not open pipe to m4 (check that m4 is properly installed and in your PATH): "
                )
            );
        }
    }
}

/// Random damage to real configs never panics the loader, and every error is located.
mod robustness {
    use super::*;
    use proptest::prelude::*;

    fn corpus() -> Vec<String> {
        let mut v: Vec<String> = cf_files(&example(""))
            .into_iter()
            .chain(cf_files(&example("errors")))
            .map(|p| read(&p))
            .collect();
        v.push(read(&crate::support::repo_root().join("examples/mon.cf")));
        v
    }

    #[derive(Debug, Clone)]
    enum Edit {
        DeleteLine(usize),
        DuplicateLine(usize),
        SwapLines(usize, usize),
        InsertText(usize, String),
        InsertLine(usize, String),
        Truncate(usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        let words = prop::sample::select(vec![
            "watch g",
            "service",
            "period",
            "hostgroup",
            "alert x",
            "interval 0s",
            "alertafter 2 1m",
            "alertevery 1h strict",
            "exit=",
            "\\",
            "#",
            "=",
            "{",
            "}",
            "depend g:s &&",
            "cron \"* * * * *\"",
            "X=1",
            "\t",
            "\r",
            "\u{0}",
            "é",
            "  ",
            "numalerts",
            "upalert",
            "alias a",
            "view v",
            "SELF:",
            "'",
            "\"",
        ]);
        prop_oneof![
            any::<usize>().prop_map(Edit::DeleteLine),
            any::<usize>().prop_map(Edit::DuplicateLine),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
            (any::<usize>(), words.clone()).prop_map(|(p, w)| Edit::InsertText(p, w.to_string())),
            (any::<usize>(), words).prop_map(|(p, w)| Edit::InsertLine(p, w.to_string())),
            (any::<usize>(), "[ -~\t]{0,30}").prop_map(|(p, s)| Edit::InsertText(p, s)),
            any::<usize>().prop_map(Edit::Truncate),
        ]
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for e in edits {
            let n = lines.len().max(1);
            match e {
                Edit::DeleteLine(i) if !lines.is_empty() => {
                    lines.remove(i % n);
                }
                Edit::DuplicateLine(i) if !lines.is_empty() => {
                    let l = lines[i % n].clone();
                    lines.insert(i % n, l);
                }
                Edit::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
                Edit::InsertLine(i, t) => lines.insert(i % (lines.len() + 1), t.clone()),
                Edit::InsertText(i, t) if !lines.is_empty() => {
                    let l = &mut lines[i % n];
                    let mut at = i % (l.len() + 1);
                    while !l.is_char_boundary(at) {
                        at -= 1;
                    }
                    l.insert_str(at, t);
                }
                Edit::Truncate(i) => lines.truncate(i % (lines.len() + 1)),
                _ => {}
            }
        }
        lines.join("\n")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn mutated_configs_load_or_fail_located(
            which in any::<usize>(),
            edits in prop::collection::vec(edit(), 1..6),
        ) {
            let corpus = corpus();
            let text = apply(&corpus[which % corpus.len()], &edits);
            match load(&text, "fuzz.cf") {
                Ok(l) => {
                    for w in &l.warnings {
                        let _ = w.render();
                    }
                }
                Err(e) => {
                    prop_assert!(e.line >= 1, "unlocated error: {e:?}");
                    let _ = e.render();
                }
            }
        }
    }
}

/// A big generated config: it loads with every service intact. Set `MONRS_BIG_CF=PATH`
/// to also write a 10,000-service version there, for timing the loader with e.g.
/// `hyperfine 'target/release/monrs --check -c PATH'` (see docs/config.md).
mod big {
    use super::*;

    fn generate(watches: usize, per_watch: usize) -> String {
        let mut t =
            String::from("mondir = /usr/lib/mon/mon.d\nalertdir = /usr/lib/mon/alert.d\n\n");
        for w in 0..watches {
            t += &format!(
                "hostgroup g{w} 10.0.{}.{} 10.1.{}.{}\n\n",
                w / 250,
                w % 250,
                w / 250,
                w % 250
            );
        }
        for w in 0..watches {
            t += &format!("watch g{w}\n");
            for s in 0..per_watch {
                t += &format!(
                    "    service s{s}\n        description service {s} of group {w}\n        interval {}s\n        monitor tcp.monitor -p {} -t 10\n",
                    30 + s,
                    8000 + s
                );
                if s > 0 {
                    t += &format!("        depend g{w}:s0\n");
                }
                t += "        period wd {Mon-Fri} hr {7am-10pm}\n            alert mail.alert -S \"down\" ops@example.com\n            upalert mail.alert -S \"up\" ops@example.com\n            alertevery 1h\n            alertafter 2\n";
            }
            t += "\n";
        }
        t
    }

    #[test]
    fn a_thousand_services_load_intact() {
        if let Some(path) = std::env::var_os("MONRS_BIG_CF") {
            std::fs::write(&path, generate(1000, 10)).expect("write the big config");
        }
        let l = ok(&generate(100, 10));
        assert_eq!(l.config.watches.len(), 100);
        assert_eq!(l.config.services().count(), 1000);
        assert!(l.warnings.is_empty(), "{:#?}", l.warnings);
        let s = l.config.service("g99", "s9").expect("last service");
        assert_eq!(s.schedule, Schedule::Interval(Duration::from_secs(39)));
        assert_eq!(s.depend.as_deref(), Some("g99:s0"));
        assert_eq!(s.periods[0].alerts[0].args, "-S \"down\" ops@example.com");
    }
}
