//! The real `monrs` daemon on real mon.cf files: SIGHUP with broken and good configs,
//! kill -9 and restart, TERM and `term`, `-f`, and an example config from the spec run end
//! to end with Debian's http.monitor. Clients talk the mon protocol over TCP.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::engine::*;
use crate::support::monrs_bin;
use crate::support::protocol::field;

fn cf(services: &str) -> String {
    format!(
        "serverbind = 127.0.0.1\ntrapbind = 127.0.0.1\nauthtype = trustlocal\nhistoricfile = history\n\n\
         hostgroup g1 hostA hostB\n\nwatch g1\n{services}"
    )
}

fn flag_service(lab: &Lab, name: &str, period_extra: &str) -> String {
    format!(
        "    service {name}\n        FLAGDIR={}\n        RECDIR={}\n        interval 1s\n\
         \x20       monitor flag.monitor\n        period wd {{Sun-Sat}}\n\
         \x20           alert rec.alert X\n            upalert rec.alert up-X\n{period_extra}",
        lab.path("flags").display(),
        lab.path("rec").display()
    )
}

fn wait<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kinds(lab: &Lab) -> Vec<String> {
    lab.recs().iter().map(|r| r.kind().to_string()).collect()
}

#[test]
fn sighup_keeps_old_config_on_error_and_state_on_success() {
    let lab = Lab::new();
    let syslog = Syslog::bind(&lab.path("syslog.sock"));
    lab.flag("s1", 1, "down\n");
    let s1 = flag_service(&lab, "s1", "            numalerts 1\n");
    let d = Daemon::start(&monrs_bin(), &lab, &cf(&s1), &[]);
    wait(15, "the failure alert", || {
        (kinds(&lab) == ["failure"]).then_some(())
    });
    assert_eq!(
        d.cmd("ack g1 s1 'on it'").last().map(String::as_str),
        Some("220 ack completed")
    );
    assert!(syslog.has("mon server started"));
    assert!(syslog.has("failure for g1 s1 "));
    assert!(syslog.has("calling alert rec.alert for g1/s1"));

    // A broken config: logged, the old one keeps running and serving.
    std::fs::write(lab.path("mon.cf"), "bogusvar = 1\n").expect("write");
    d.signal(Signal::SIGHUP);
    wait(15, "the config error in syslog", || {
        syslog.has("error reading config file").then_some(())
    });
    let n = lab.runs("s1");
    wait(15, "two more runs", || {
        (lab.runs("s1") >= n + 2).then_some(())
    });
    assert_ne!(field(&d.opstatus("g1", "s1"), "ack"), Some("0"));

    // A good config with one more service: s1 keeps its ack and "alert sent".
    let s2 = flag_service(&lab, "s2", "");
    std::fs::write(lab.path("mon.cf"), cf(&format!("{s1}{s2}"))).expect("write");
    d.signal(Signal::SIGHUP);
    wait(15, "the new service", || {
        d.cmd("list watch")
            .iter()
            .any(|l| l == "g1 s2")
            .then_some(())
    });
    let rec = d.opstatus("g1", "s1");
    assert_ne!(field(&rec, "ack"), Some("0"), "{rec}");
    assert_eq!(field(&rec, "ackcomment"), Some(":\\20on\\20it"), "{rec}");
    assert_eq!(field(&rec, "alerts_sent"), Some("1"), "{rec}");
    let n = lab.runs("s1");
    wait(15, "s1 still running", || {
        (lab.runs("s1") >= n + 2).then_some(())
    });
    assert_eq!(
        kinds(&lab),
        ["failure"],
        "no repeat: still acked and numalerts met"
    );
}

#[test]
fn kill_9_and_restart_restore_state_and_the_upalert_follows() {
    let lab = Lab::new();
    lab.flag("s1", 1, "down before the crash\n");
    let mon_cf = cf(&flag_service(&lab, "s1", ""));
    let mut d = Daemon::start(&monrs_bin(), &lab, &mon_cf, &[]);
    wait(15, "the failure alert", || {
        (kinds(&lab).len() == 1).then_some(())
    });
    d.cmd("ack g1 s1 noted");
    d.cmd("disable host hostB");
    let statefile = lab.path("state/monrs-state.json");
    wait(10, "the state file", || {
        let s = std::fs::read_to_string(&statefile).unwrap_or_default();
        (s.contains("noted") && s.contains("hostB")).then_some(())
    });
    let (port, trapport) = (d.port, d.trapport);
    d.signal(Signal::SIGKILL);
    assert!(d.wait_exit(10).is_some());
    assert!(
        lab.path("mon.pid").exists(),
        "kill -9 leaves the pid file, as for mon"
    );
    let d = Daemon::run(&monrs_bin(), lab.dir.path(), port, trapport, &[]);
    let rec = d.opstatus("g1", "s1");
    assert_eq!(field(&rec, "opstatus"), Some("0"), "{rec}");
    assert_eq!(field(&rec, "ackcomment"), Some(":\\20noted"), "{rec}");
    assert_eq!(field(&rec, "alerts_sent"), Some("1"), "{rec}");
    assert!(
        d.cmd("list disabled")
            .iter()
            .any(|l| l == "group g1: hostB")
    );
    lab.flag("s1", 0, "fine again\n");
    let up = wait(15, "the upalert after the restart", || {
        lab.recs().into_iter().find(|r| r.kind() == "up")
    });
    assert_eq!(up.stdin, "down before the crash\n");
    assert_eq!(up.arg_after("-h"), Some("hostA"));
    assert_eq!(up.env.get("MON_ACK").map(String::as_str), Some(": noted"));
}

#[test]
fn term_kills_monitors_removes_the_pid_file_and_exits_1_term_command_exits_0() {
    let lab = Lab::new();
    let syslog = Syslog::bind(&lab.path("syslog.sock"));
    let marker = format!(
        "{}.{}",
        2000 + std::process::id() % 1000,
        std::process::id()
    );
    lab.script(
        "mon.d",
        "hang.monitor",
        &format!("#!/bin/sh\nsleep {marker} & sleep {marker}\n"),
    );
    let svc = "    service hang\n        interval 1s\n        monitor hang.monitor\n";
    let mut d = Daemon::start(&monrs_bin(), &lab, &cf(svc), &[]);
    wait(10, "the monitor to run", || {
        process_alive(&marker).then_some(())
    });
    let pid = std::fs::read_to_string(lab.path("mon.pid")).expect("pid file");
    assert_eq!(pid, format!("{}\n", d.child.id()));
    assert!(d.cmd("list pids").iter().any(|l| l.starts_with("g1 hang ")));
    d.signal(Signal::SIGTERM);
    let status = d.wait_exit(15).expect("exited");
    assert_eq!(status.code(), Some(1));
    assert!(!lab.path("mon.pid").exists());
    assert!(syslog.has("caught TERM signal, exiting"));
    wait(10, "the monitor's processes to be gone", || {
        (!process_alive(&marker)).then_some(())
    });
    // `term` from a client: exit 0.
    let mut d = Daemon::run(&monrs_bin(), lab.dir.path(), d.port, d.trapport, &[]);
    assert_eq!(
        d.cmd("term").last().map(String::as_str),
        Some("220 terminating server")
    );
    assert_eq!(d.wait_exit(15).and_then(|s| s.code()), Some(0));
    assert!(!lab.path("mon.pid").exists());
}

#[test]
fn fork_mode_detaches_and_writes_the_daemons_pid() {
    let lab = Lab::new();
    lab.flag("s1", 0, "ok\n");
    let mut d = Daemon::start(
        &monrs_bin(),
        &lab,
        &cf(&flag_service(&lab, "s1", "")),
        &["-f"],
    );
    // The process we started exits 0 at once; the daemon lives on.
    assert_eq!(d.wait_exit(10).and_then(|s| s.code()), Some(0));
    let pid: i32 = std::fs::read_to_string(lab.path("mon.pid"))
        .expect("pid file")
        .trim()
        .parse()
        .expect("a pid");
    assert_ne!(pid, i32::try_from(d.child.id()).unwrap_or(0));
    assert!(d.cmd("list state").iter().any(|l| l == "scheduler running"));
    let sid = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(!sid.is_empty(), "the daemon runs");
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM);
    wait(15, "the daemon to exit", || {
        (!lab.path("mon.pid").exists()).then_some(())
    });
}

/// tests/fixtures/examples/lvs-director.cf with the realserver on a local port, 1 s
/// intervals and the site's lvs.alert replaced by the recording alert: the down alert and
/// the upalert name the realserver in -h and carry the lvs.alert arguments.
#[test]
fn lvs_director_example_end_to_end() {
    let lab = Lab::new();
    let up = Arc::new(AtomicBool::new(true));
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let up2 = up.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let reply: &[u8] = if up2.load(Ordering::SeqCst) {
                b"HTTP/1.0 200 OK\r\n\r\nok\n"
            } else {
                b"HTTP/1.0 503 Service Unavailable\r\n\r\ndown\n"
            };
            let _ = c.write_all(reply);
        }
    });
    let fixture = std::fs::read_to_string(
        crate::support::repo_root().join("tests/fixtures/examples/lvs-director.cf"),
    )
    .expect("fixture");
    let mut text = String::new();
    for line in fixture.lines() {
        let t = line.trim_start();
        let l = if t.starts_with("alertdir") || t.starts_with("mondir") {
            continue;
        } else if t.starts_with("hostgroup www1 ") {
            "hostgroup www1 127.0.0.1".to_string()
        } else if t.starts_with("randstart") {
            "randstart = 1s".to_string()
        } else if t.starts_with("interval") {
            line.replace("15s", "1s")
        } else if t.starts_with("monitor http.monitor") {
            line.replace("-p 80", &format!("-p {port}"))
        } else if t.starts_with("alert lvs.alert") || t.starts_with("upalert lvs.alert") {
            line.replace("lvs.alert", "rec.alert")
        } else if t.starts_with("description") && line.contains("realserver 1 ") {
            format!(
                "{line}\n        RECDIR={}\n        FLAGDIR={}",
                lab.path("rec").display(),
                lab.path("flags").display()
            )
        } else {
            line.to_string()
        };
        text.push_str(&l);
        text.push('\n');
    }
    // Only www1 is real here: drop the other five watches.
    let text = text
        .split("\nwatch ")
        .filter(|b| {
            !["www2", "www3", "www4", "www5", "www6"]
                .iter()
                .any(|w| b.starts_with(w))
        })
        .collect::<Vec<_>>()
        .join("\nwatch ");
    let text = format!("native_monitors = no\nauthtype = trustlocal\n{text}");
    let d = Daemon::start(
        &monrs_bin(),
        &lab,
        &text,
        &["-s", "/usr/lib/mon/mon.d", "-a", "alert.d"],
    );
    wait(15, "an ok check", || {
        (field(&d.opstatus("www1", "http"), "opstatus") == Some("1")).then_some(())
    });
    up.store(false, Ordering::SeqCst);
    let down = wait(15, "the down alert", || {
        lab.recs().into_iter().find(|r| r.kind() == "failure")
    });
    assert_eq!(down.arg_after("-h"), Some("127.0.0.1"));
    assert_eq!(down.user_args(), ["-V", "192.0.2.100:80", "-P", "tcp"]);
    let n = d.cmd("list failurehist").len();
    wait(15, "more failures", || {
        (d.cmd("list failurehist").len() >= n + 2).then_some(())
    });
    up.store(true, Ordering::SeqCst);
    let upr = wait(15, "the upalert", || {
        lab.recs().into_iter().find(|r| r.kind() == "up")
    });
    assert_eq!(
        upr.user_args(),
        ["-V", "192.0.2.100:80", "-P", "tcp", "-W", "1", "-F", "dr"]
    );
    assert_eq!(
        kinds(&lab),
        ["failure", "up"],
        "alertevery 600s held the repeats back"
    );
}

/// Traps through the daemon: `monrs trap` → the UDP listener → the engine → a trap alert
/// (`-T`); silence → a trap timeout alert (`-O`); an unknown group → `default/default`
/// with MON_TRAP_INTENDED.
#[test]
fn traps_alert_time_out_and_route_to_default() {
    let lab = Lab::new();
    let rec = lab.path("rec").display().to_string();
    let mon_cf = format!(
        "serverbind = 127.0.0.1\ntrapbind = 127.0.0.1\nauthtype = trustlocal\n\n\
         hostgroup g1 hostA\n\nwatch g1\n    service trapsvc\n        RECDIR={rec}\n\
         \x20       traptimeout 3s\n        period wd {{Sun-Sat}}\n            alert rec.alert T\n\
         \x20           upalert rec.alert up-T\n\n\
         watch default\n    service default\n        RECDIR={rec}\n        period wd {{Sun-Sat}}\n\
         \x20           alert rec.alert D\n"
    );
    let d = Daemon::start(&monrs_bin(), &lab, &mon_cf, &[]);
    let auth = format!("{OPEN_AUTH}\ntrap section\n127.0.0.1 trapuser efqZQsz2CINrw\n");
    std::fs::write(lab.path("auth.cf"), auth).expect("auth.cf");
    assert_eq!(
        d.cmd("reload auth").last().map(String::as_str),
        Some("220 reload completed")
    );
    let send = |grp: &str, sta: &str, sum: &str| {
        let st = std::process::Command::new(monrs_bin())
            .args(["trap", "-g", grp, "-s", "trapsvc", "-r", sta, "-S", sum])
            .args(["--detail", "line one", "-U", "trapuser", "-P", "trappw"])
            .args(["-p", &d.trapport.to_string(), "127.0.0.1"])
            .status()
            .expect("monrs trap");
        assert!(st.success());
    };
    send("g1", "2", "remote failed");
    let t = wait(10, "the trap alert", || {
        lab.recs().into_iter().find(|r| r.kind() == "trap")
    });
    assert_eq!(t.argv[8], "-T");
    assert_eq!(t.user_args(), ["T"]);
    assert_eq!(t.env["MON_RETVAL"], "2");
    assert!(t.stdin.starts_with("remote failed\n"), "{:?}", t.stdin);
    assert!(t.stdin.ends_with("line one"), "{:?}", t.stdin);
    let rec = d.opstatus("g1", "trapsvc");
    assert_eq!(field(&rec, "opstatus"), Some("0"));
    assert_eq!(field(&rec, "last_summary"), Some("remote\\20failed"));
    // No trap for 3 s: a trap timeout.
    let tt = wait(10, "the trap timeout alert", || {
        lab.recs().into_iter().find(|r| r.kind() == "traptimeout")
    });
    assert_eq!(tt.argv[8], "-O");
    assert!(
        tt.stdin
            .starts_with("trap timeout\ntrap timeout after 3s at "),
        "{:?}",
        tt.stdin
    );
    // An unknown group goes to default/default, which knows where it was meant to go.
    send("nosuchgroup", "1", "elsewhere");
    let dflt = wait(10, "the default/default alert", || {
        lab.recs().into_iter().find(|r| r.user_args() == ["D"])
    });
    assert_eq!(
        dflt.env.get("MON_TRAP_INTENDED").map(String::as_str),
        Some("nosuchgroup:trapsvc")
    );
}

/// `historicfile` is appended per counted alert and read back at start, keeping only
/// lines newer than `historictime` and at most `histlength`.
#[test]
fn historicfile_is_reloaded_with_historictime() {
    let lab = Lab::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let old = now - 7200;
    let recent = now - 60;
    std::fs::write(
        lab.path("log/history"),
        format!(
            "# comment\nalert g1 s1 {old} /x/rec.alert (X) too old\n\n\
             alert g1 s1 {recent} /x/rec.alert (X) recent one\n"
        ),
    )
    .expect("history");
    lab.flag("s1", 1, "fresh failure\n");
    let text = cf(&flag_service(&lab, "s1", "")).replace(
        "historicfile = history\n",
        "historicfile = history\nhistorictime = 1h\n",
    );
    let d = Daemon::start(&monrs_bin(), &lab, &text, &[]);
    let hist = wait(15, "the new alert in the history", || {
        let h = d.cmd("list alerthist");
        (h.len() >= 3).then_some(h)
    });
    assert!(hist[0].contains("recent\\20one"), "{hist:?}");
    assert!(!hist.iter().any(|l| l.contains("too\\20old")), "{hist:?}");
    assert!(hist[1].contains("fresh\\20failure"), "{hist:?}");
    let file = std::fs::read_to_string(lab.path("log/history")).expect("history");
    assert!(file.ends_with("(X) fresh failure\n"), "{file}");
}

fn mysql(sql: &str) -> bool {
    std::process::Command::new("mysql")
        .args(["-h127.0.0.1", "-uroot", "-e", sql])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Drops the test's database and user however the test ends.
struct DbGuard(String, String);

impl Drop for DbGuard {
    fn drop(&mut self) {
        let (db, user) = (&self.0, &self.1);
        mysql(&format!(
            "DROP DATABASE IF EXISTS {db}; DROP USER IF EXISTS '{user}'@'%'; \
             DROP USER IF EXISTS '{user}'@'localhost';"
        ));
    }
}

/// tests/fixtures/examples/aggregate-mysql-failover.cf through the daemon, with monrs's
/// native tcp and mysql checks (the default), the four listeners on free local ports, the
/// MySQL check against a test-owned database, 1 s intervals, and ha-down.alert replaced by
/// the recording alert. As the example says: `alertafter 2` fires on the 2nd consecutive
/// failure and on every one after it, with `-s agg-6480 -g aggregate -h localhost`.
#[test]
fn aggregate_mysql_failover_example_end_to_end() {
    let lab = Lab::new();
    let listeners: Vec<TcpListener> = (0..4)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect();
    let tag = std::process::id();
    let (db, user) = (format!("monrs_agg_{tag}"), format!("monagg_{tag}"));
    let _cleanup = DbGuard(db.clone(), user.clone());
    assert!(
        mysql(&format!(
            "CREATE DATABASE IF NOT EXISTS {db}; CREATE TABLE IF NOT EXISTS {db}.t (i INT); \
             CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY 'pw{tag}'; \
             CREATE USER IF NOT EXISTS '{user}'@'localhost' IDENTIFIED BY 'pw{tag}'; \
             GRANT ALL ON {db}.* TO '{user}'@'%'; GRANT ALL ON {db}.* TO '{user}'@'localhost';"
        )),
        "MariaDB at 127.0.0.1:3306 (root, no password) is needed"
    );
    let pw = lab.path("mysql.pw");
    std::fs::write(&pw, format!("pw{tag}\n")).expect("pw");
    let fixture = std::fs::read_to_string(
        crate::support::repo_root().join("tests/fixtures/examples/aggregate-mysql-failover.cf"),
    )
    .expect("fixture");
    let rec = lab.path("rec").display().to_string();
    let mut text = String::from("authtype = trustlocal\n");
    for line in fixture.lines() {
        let t = line.trim_start();
        if ["alertdir", "mondir", "logdir", "statedir"]
            .iter()
            .any(|k| t.starts_with(k))
        {
            continue;
        }
        let mut l = line
            .replace("interval 30s", "interval 1s")
            .replace("interval 10s", "interval 1s");
        for (i, p) in ["6450", "6460", "6480", "8443"].iter().enumerate() {
            l = l.replace(&format!("-p {p} "), &format!("-p {} ", ports[i]));
        }
        if t.starts_with("monitor msql-mysql.monitor") {
            l = format!(
                "        monitor msql-mysql.monitor --mode mysql --port=3306 --username={user} \
                 --password={} --database={db} --timeout=8",
                pw.display()
            );
        }
        l = l.replace("ha-down.alert", "rec.alert");
        text.push_str(&l);
        text.push('\n');
        if t.starts_with("description") {
            text.push_str(&format!("        RECDIR={rec}\n"));
        }
    }
    let d = Daemon::start(&monrs_bin(), &lab, &text, &[]);
    wait(20, "every service ok", || {
        let ok = d
            .cmd("list opstatus")
            .iter()
            .filter(|l| l.contains(" opstatus=1 "))
            .count();
        (ok == 5).then_some(())
    });
    // Stop the 6480 listener (the third).
    let mut listeners = listeners;
    drop(listeners.remove(2));
    let recs = wait(20, "two ha-down alerts for agg-6480", || {
        let r: Vec<Rec> = lab
            .recs()
            .into_iter()
            .filter(|r| r.arg_after("-s") == Some("agg-6480"))
            .collect();
        (r.len() >= 2).then_some(r)
    });
    assert_eq!(
        recs[0].argv[0..6],
        ["-s", "agg-6480", "-g", "aggregate", "-h", "localhost"]
    );
    assert_eq!(
        recs[0].argv.len(),
        8,
        "no flag, no user arguments: {:?}",
        recs[0].argv
    );
    assert_eq!(recs[0].stdin.lines().next(), Some("localhost"));
    let fails = d.cmd("list failurehist");
    let n_6480 = fails.iter().filter(|l| l.contains("agg-6480")).count();
    assert!(
        n_6480 > recs.len(),
        "the first failure does not alert: {fails:?}"
    );
    // MySQL: no tables in the database is a failure of the check.
    mysql(&format!("DROP TABLE {db}.t"));
    let m = wait(20, "the mysql ha-down alert", || {
        lab.recs()
            .into_iter()
            .find(|r| r.arg_after("-s") == Some("mysql"))
    });
    assert_eq!(
        m.argv[0..6],
        ["-s", "mysql", "-g", "mysql", "-h", "127.0.0.1"]
    );
    assert_eq!(
        m.stdin,
        format!("127.0.0.1\n127.0.0.1: No tables found for database {db}\n")
    );
    let dt = std::fs::read_to_string(lab.path("log/downtime.log")).unwrap_or_default();
    assert!(dt.starts_with("#\n# downtime log start "), "{dt}");
}
