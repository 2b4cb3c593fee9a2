//! The engine with real processes on the real clock: a flag-controlled monitor and a
//! recording alert, Debian's tcp/http/mysql scripts against real servers, timeouts that
//! kill process groups, big outputs, and alerts that hang or fail.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use monrs::config::{AlertEvery, EveryMode};
use monrs::engine::Target;

use crate::support::engine::*;

// The daemon binary on real mon.cf files.
mod daemon;
// The same config and timeline in /usr/sbin/mon and monrs.
mod differential;

const S: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flag_monitor_alerts_argv_env_and_stdin() {
    let lab = Lab::new();
    let mut s = service(
        "s1",
        S,
        r#"flag.monitor -x "quoted arg" 'single q'"#,
        lab.env(),
    );
    s.description = Some("My service desc".into());
    s.env.push(("FOO".into(), "bar value".into()));
    s.periods[0].alerts = vec![line(r#"rec.alert -S "sub ject" addr1"#)];
    s.periods[0].upalerts = vec![line("rec.alert up1")];
    s.periods[0].alertevery = Some(AlertEvery {
        every: Duration::from_secs(600),
        mode: EveryMode::Summary,
    });
    lab.flag("s1", 0, "all good\nfine detail\n");
    let (h, _t) = lab.start(config(
        &[("g1", &["hostA", "hostB"])],
        vec![("g1", vec![s])],
    ));
    wait_for(10, "a first run", || (lab.runs("s1") >= 1).then_some(())).await;
    assert_eq!(lab.argv("s1"), "-x quoted arg single q hostA hostB");
    lab.flag("s1", 1, "to stderr\nsum1\n");
    let rec = wait_for(10, "a failure alert", || {
        lab.recs().into_iter().find(|r| r.kind() == "failure")
    })
    .await;
    assert_eq!(
        rec.argv[0..6],
        ["-s", "s1", "-g", "g1", "-h", "hostA hostB"]
    );
    assert_eq!(rec.argv[6], "-t");
    assert_eq!(rec.user_args(), vec!["-S", "sub ject", "addr1"]);
    assert_eq!(rec.stdin, "to stderr\nsum1\n");
    assert_eq!(rec.env["MON_RETVAL"], "1");
    assert_eq!(rec.env["MON_OPSTATUS"], "0");
    assert_eq!(rec.env["MON_LAST_SUMMARY"], "to stderr");
    assert_eq!(rec.env["MON_DESCRIPTION"], "My service desc");
    assert_eq!(rec.env["MON_FIRST_SUCCESS"], "");
    assert_eq!(
        rec.env["MON_STATEDIR"],
        lab.path("state").display().to_string()
    );
    // Repeats with the same summary are held back by alertevery; recovery sends the
    // upalert with the failing output on stdin.
    wait_for(10, "two more failing runs", || {
        let st = std::fs::read_to_string(lab.path("flags/s1.runs")).unwrap_or_default();
        (st.lines().count() >= 4).then_some(())
    })
    .await;
    lab.flag("s1", 0, "back\n");
    let up = wait_for(10, "an upalert", || {
        lab.recs().into_iter().find(|r| r.kind() == "up")
    })
    .await;
    assert_eq!(up.argv[8], "-u");
    assert_eq!(up.user_args(), vec!["up1"]);
    assert_eq!(up.stdin, "to stderr\nsum1\n");
    assert_eq!(up.env["MON_LAST_OUTPUT"], "to stderr\nsum1\n");
    let failures = lab.recs().iter().filter(|r| r.kind() == "failure").count();
    assert_eq!(failures, 1, "alertevery held the repeats back");
    // Disabling a host drops it from the monitor's argv and from -h.
    h.disable(Target::Hosts(vec!["hostB".into()]), "")
        .await
        .expect("disable host");
    let n = lab.runs("s1");
    wait_for(10, "a run after disable", || {
        (lab.runs("s1") > n + 1).then_some(())
    })
    .await;
    assert_eq!(lab.argv("s1"), "-x quoted arg single q hostA");
    let snap = h.snapshot().await.expect("snapshot");
    assert!(
        snap.alert_history
            .iter()
            .any(|l| l.starts_with("alert g1 s1 ")
                && l.contains(&format!(
                    "{} (-S \"sub ject\" addr1) to stderr",
                    lab.path("alert.d/rec.alert").display()
                )))
    );
    let hist = std::fs::read_to_string(lab.path("log/history")).expect("historicfile");
    assert_eq!(hist.lines().count(), 2, "alert + upalert appended: {hist}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_monitor_is_killed_with_its_children_at_its_timeout() {
    let lab = Lab::new();
    let marker = format!(
        "{}.{}",
        1000 + std::process::id() % 1000,
        std::process::id()
    );
    lab.script(
        "mon.d",
        "hang.monitor",
        &format!("#!/bin/sh\necho started\nsleep {marker} & sleep {marker}\n"),
    );
    let mut s = service("hang", S, "hang.monitor", lab.env());
    s.monitor_timeout = Some(Duration::from_secs(1));
    s.periods[0].alerts = vec![line("rec.alert X")];
    let (h, _t) = lab.start(config(&[("g", &["h1"])], vec![("g", vec![s])]));
    wait_for(10, "the monitor to start", || {
        process_alive(&marker).then_some(())
    })
    .await;
    let rec = wait_for(15, "a failure alert", || {
        lab.recs().into_iter().find(|r| r.kind() == "failure")
    })
    .await;
    assert_eq!(
        rec.stdin,
        "hang.monitor timed out after 1s, process group killed\nstarted\n"
    );
    assert_eq!(
        rec.env["MON_LAST_SUMMARY"],
        "hang.monitor timed out after 1s, process group killed"
    );
    let st = h.stats().await.expect("stats");
    assert!(st.timed_out >= 1);
    // The service is not stuck: it times out again on its next runs.
    wait_async(15, "a second timed-out run", || async {
        let n = h.snapshot().await.ok()?.failure_history.len();
        (n >= 2).then_some(())
    })
    .await;
    h.shutdown(Duration::from_secs(1)).await.expect("shutdown");
    wait_for(10, "no monitor processes left after shutdown", || {
        (!process_alive(&marker)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn megabyte_output_then_normal_runs() {
    let lab = Lab::new();
    let big = "x".repeat(1024 * 1024);
    lab.flag("big", 1, &format!("{big}\n"));
    let mut s = service("big", S, "flag.monitor", lab.env());
    s.periods[0].alerts = vec![line("rec.alert X")];
    let (h, _t) = lab.start(config(&[("g", &["h1"])], vec![("g", vec![s])]));
    let rec = wait_for(15, "the failure alert", || {
        lab.recs().into_iter().find(|r| r.kind() == "failure")
    })
    .await;
    assert_eq!(
        rec.stdin.len(),
        1024 * 1024 + 1,
        "the whole output on stdin"
    );
    lab.flag("big", 0, "small\n");
    let n = lab.runs("big");
    wait_for(15, "two more runs", || {
        (lab.runs("big") >= n + 2).then_some(())
    })
    .await;
    // The run after the big one got a cut MON_LAST_OUTPUT (mon's would fail with E2BIG).
    let len: usize = std::fs::read_to_string(lab.path("flags/big.lastlen"))
        .expect("lastlen")
        .parse()
        .expect("a number");
    assert!(len < 64 * 1024, "MON_LAST_OUTPUT was {len} bytes");
    let snap = h.snapshot().await.expect("snapshot");
    assert_eq!(snap.services[0].state.op_status.0, 1);
    assert_eq!(
        snap.services[0].state.last_summary.as_deref(),
        Some(&b"small"[..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_and_failing_alerts_block_nothing_and_keep_order() {
    let lab = Lab::new();
    lab.script(
        "alert.d",
        "hang.alert",
        "#!/bin/sh\ncat >/dev/null\nsleep 1000\n",
    );
    lab.script(
        "alert.d",
        "fail.alert",
        "#!/bin/sh\necho broken >&2\nexit 3\n",
    );
    let mut a = service("a", S, "flag.monitor", lab.env());
    a.periods[0].alerts = vec![line("hang.alert"), line("rec.alert down-a")];
    a.periods[0].upalerts = vec![line("rec.alert up-a")];
    a.periods[0].numalerts = 1;
    let mut b = service("b", S, "flag.monitor", lab.env());
    b.periods[0].alerts = vec![line("fail.alert"), line("rec.alert down-b")];
    b.periods[0].numalerts = 1;
    let mut cfg = config(&[("g", &["h1"])], vec![("g", vec![a, b])]);
    cfg.globals.alert_timeout = Some(Duration::from_secs(3));
    lab.flag("a", 1, "a down\n");
    let (_h, _t) = lab.start(cfg);
    let down_a = wait_for(10, "a's down alert", || {
        lab.recs().into_iter().find(|r| r.user_args() == ["down-a"])
    })
    .await;
    // a's hung alert does not hold b (another service) or monitoring.
    lab.flag("b", 1, "b down\n");
    wait_for(10, "b's down alert", || {
        lab.recs().into_iter().find(|r| r.user_args() == ["down-b"])
    })
    .await;
    // a recovers at once, but its upalert waits until the hung alert of the previous
    // decision is killed at alert_timeout: a down alert and its upalert never swap.
    lab.flag("a", 0, "a up\n");
    let up_a = wait_for(15, "a's upalert", || {
        lab.recs().into_iter().find(|r| r.user_args() == ["up-a"])
    })
    .await;
    let t = |r: &Rec| {
        r.file
            .split('.')
            .next()
            .and_then(|n| n.parse::<u128>().ok())
            .unwrap_or(0)
    };
    let gap = Duration::from_nanos(u64::try_from(t(&up_a) - t(&down_a)).unwrap_or(0));
    assert!(
        gap >= Duration::from_millis(2500),
        "upalert came {gap:?} after the down alert"
    );
}

/// Debian's tcp.monitor against a listener that goes away and comes back, shaped like
/// aggregate-mysql-failover.cf (`alertafter 2`, which alerts on every failure from the 2nd).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debian_tcp_monitor_down_and_up() {
    let lab = Lab::new();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut s = service(
        "agg-tcp",
        S,
        &format!("tcp.monitor -p {port} -t 2"),
        lab.env(),
    );
    s.periods[0].alerts = vec![line("rec.alert ha-down")];
    s.periods[0].upalerts = vec![line("rec.alert ha-up")];
    s.periods[0].alertafter_consec = Some(2);
    let (h, _t) = lab.start(config(
        &[("aggregate", &["127.0.0.1"])],
        vec![("aggregate", vec![s])],
    ));
    wait_async(10, "an ok result", || async {
        let snap = h.snapshot().await.ok()?;
        (snap.services[0].state.op_status.0 == 1).then_some(())
    })
    .await;
    drop(listener);
    let recs = wait_for(15, "two ha-down alerts", || {
        let r: Vec<Rec> = lab
            .recs()
            .into_iter()
            .filter(|r| r.kind() == "failure")
            .collect();
        (r.len() >= 2).then_some(r)
    })
    .await;
    assert_eq!(recs[0].stdin.lines().next(), Some("127.0.0.1"));
    assert!(
        recs[0]
            .stdin
            .contains("127.0.0.1 could not connect: Connection refused")
    );
    assert_eq!(recs[0].env["MON_LAST_SUMMARY"], "127.0.0.1");
    assert_eq!(recs[0].arg_after("-h"), Some("127.0.0.1"));
    let _again = TcpListener::bind(("127.0.0.1", port)).expect("re-bind the same port");
    let up = wait_for(15, "the upalert", || {
        lab.recs().into_iter().find(|r| r.kind() == "up")
    })
    .await;
    assert_eq!(up.user_args(), vec!["ha-up"]);
    let failures = lab.recs().iter().filter(|r| r.kind() == "failure").count();
    let fh = h.snapshot().await.expect("snapshot").failure_history.len();
    assert_eq!(
        failures + 1,
        fh,
        "alertafter 2: every failure but the first alerts"
    );
}

/// A tiny HTTP server: answers 200 while `up`, 500 otherwise.
fn http_server(up: Arc<AtomicBool>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            // Read the whole request before answering.
            let mut req = Vec::new();
            let mut buf = [0u8; 2048];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let reply = if up.load(Ordering::SeqCst) {
                "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>ok</html>\n"
            } else {
                "HTTP/1.0 500 Internal Server Error\r\n\r\nbroken\n"
            };
            let _ = c.write_all(reply.as_bytes());
        }
    });
    port
}

/// Debian's http.monitor, shaped like lvs-director.cf (alert and upalert take the
/// realserver from -h; alertevery 600s; alertafter 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debian_http_monitor_lvs_shape() {
    let lab = Lab::new();
    let up = Arc::new(AtomicBool::new(true));
    let port = http_server(up.clone());
    let mut s = service(
        "http",
        S,
        &format!("http.monitor -p {port} -u /index.html -t 5"),
        lab.env(),
    );
    s.periods[0].alerts = vec![line("rec.alert -V 192.0.2.100:80 -P tcp")];
    s.periods[0].upalerts = vec![line("rec.alert -V 192.0.2.100:80 -P tcp -W 1 -F dr")];
    s.periods[0].alertevery = Some(AlertEvery {
        every: Duration::from_secs(600),
        mode: EveryMode::Summary,
    });
    s.periods[0].alertafter_consec = Some(1);
    let (h, _t) = lab.start(config(&[("www1", &["127.0.0.1"])], vec![("www1", vec![s])]));
    wait_async(10, "an ok result", || async {
        let snap = h.snapshot().await.ok()?;
        (snap.services[0].state.op_status.0 == 1).then_some(())
    })
    .await;
    up.store(false, Ordering::SeqCst);
    let down = wait_for(15, "the down alert", || {
        lab.recs().into_iter().find(|r| r.kind() == "failure")
    })
    .await;
    assert_eq!(down.arg_after("-h"), Some("127.0.0.1"), "{down:#?}");
    assert_eq!(down.user_args(), vec!["-V", "192.0.2.100:80", "-P", "tcp"]);
    assert_eq!(down.stdin.lines().next(), Some("127.0.0.1"), "{down:#?}");
    wait_async(15, "a second failure", || async {
        (h.snapshot().await.ok()?.failure_history.len() >= 2).then_some(())
    })
    .await;
    up.store(true, Ordering::SeqCst);
    let upr = wait_for(15, "the upalert", || {
        lab.recs().into_iter().find(|r| r.kind() == "up")
    })
    .await;
    assert_eq!(
        upr.user_args(),
        vec!["-V", "192.0.2.100:80", "-P", "tcp", "-W", "1", "-F", "dr"]
    );
    let downs: Vec<Rec> = lab
        .recs()
        .into_iter()
        .filter(|r| r.kind() == "failure")
        .collect();
    assert_eq!(
        downs.len(),
        1,
        "alertevery 600s held the repeat back: {downs:#?}"
    );
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

fn mysql(sql: &str) -> bool {
    std::process::Command::new("mysql")
        .args(["-h127.0.0.1", "-uroot", "-e", sql])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Debian's msql-mysql.monitor against the machine's MariaDB, in a test-owned database,
/// shaped like mysql-failover.cf (two alerts in one period, numalerts 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debian_mysql_monitor_failover_shape() {
    let lab = Lab::new();
    let db = format!("monrs_engine_{}", std::process::id());
    let user = format!("mon_{}", std::process::id());
    let _cleanup = DbGuard(db.clone(), user.clone());
    let ok = mysql(&format!(
        "CREATE DATABASE IF NOT EXISTS {db}; CREATE TABLE IF NOT EXISTS {db}.t (i INT); \
         CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY 'pw-{user}'; \
         CREATE USER IF NOT EXISTS '{user}'@'localhost' IDENTIFIED BY 'pw-{user}'; \
         GRANT ALL ON {db}.* TO '{user}'@'%'; GRANT ALL ON {db}.* TO '{user}'@'localhost';"
    ));
    assert!(
        ok,
        "MariaDB at 127.0.0.1:3306 (root, no password) is needed"
    );
    let pwfile = lab.path("mysql.pw");
    std::fs::write(&pwfile, format!("pw-{user}\n")).expect("pw file");
    let mut s = service(
        "mysql",
        S,
        &format!(
            "msql-mysql.monitor --mode mysql --port=3306 --username={user} --password={} --database={db} --timeout=15",
            pwfile.display()
        ),
        lab.env(),
    );
    s.periods[0].alerts = vec![
        line("rec.alert failover"),
        line(r#"rec.alert -S "MySQL failover on db1" dba@example.com"#),
    ];
    s.periods[0].upalerts = vec![line("rec.alert back")];
    s.periods[0].numalerts = 1;
    let (h, _t) = lab.start(config(
        &[("dbcluster", &["127.0.0.1"])],
        vec![("dbcluster", vec![s])],
    ));
    let healthy = wait_async(20, "a first result", || async {
        let snap = h.snapshot().await.ok()?;
        let st = &snap.services[0].state;
        st.exitval.is_some().then_some(st.op_status.0)
    })
    .await;
    // Break it inside the test-owned database only: no tables means failure.
    mysql(&format!("DROP TABLE {db}.t"));
    let downs = wait_for(20, "both alerts of the period", || {
        let r: Vec<Rec> = lab
            .recs()
            .into_iter()
            .filter(|r| r.kind() == "failure")
            .collect();
        (r.len() >= 2).then_some(r)
    })
    .await;
    let mut args: Vec<Vec<String>> = downs.iter().map(Rec::user_args).collect();
    args.sort();
    assert_eq!(
        args,
        vec![
            vec![
                "-S".to_string(),
                "MySQL failover on db1".into(),
                "dba@example.com".into()
            ],
            vec!["failover".to_string()],
        ]
    );
    assert_eq!(
        downs[0].stdin,
        format!("127.0.0.1\n127.0.0.1: No tables found for database {db}\n")
    );
    // numalerts 1: the next failures send nothing more.
    let fh = wait_async(15, "two more failures", || async {
        let n = h.snapshot().await.ok()?.failure_history.len();
        (n >= 3).then_some(n)
    })
    .await;
    assert_eq!(lab.recs().len(), 2, "after {fh} failures");
    mysql(&format!("CREATE TABLE {db}.t (i INT)"));
    wait_for(20, "the upalert", || {
        lab.recs().into_iter().find(|r| r.kind() == "up")
    })
    .await;
    assert_eq!(healthy, 1, "the first result was a success");
}

/// `hostdepend`: hosts named in a failing parent's summary leave the child's argv (and
/// come back when the parent recovers); `-h` of alerts is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_dependency_drops_hosts_named_by_a_failing_parent() {
    let lab = Lab::new();
    let parent = service("parent", S, "flag.monitor", lab.env());
    let mut child = service("child", S, "flag.monitor", lab.env());
    child.hostdepend = Some("g1:parent".into());
    child.periods[0].alerts = vec![line("rec.alert X")];
    lab.flag("parent", 1, "h2 down\n");
    lab.flag("child", 1, "child down\n");
    let (_h, _t) = lab.start(config(
        &[("g1", &["h1", "h2", "h3"])],
        vec![("g1", vec![parent, child])],
    ));
    wait_for(15, "the child run without h2", || {
        (lab.argv("child") == "h1 h3").then_some(())
    })
    .await;
    let rec = wait_for(10, "the child's alert", || lab.recs().into_iter().next()).await;
    assert_eq!(
        rec.arg_after("-h"),
        Some("h1 h2 h3"),
        "-h keeps every enabled host"
    );
    lab.flag("parent", 0, "fine\n");
    wait_for(15, "h2 back in the child's argv", || {
        (lab.argv("child") == "h1 h2 h3").then_some(())
    })
    .await;
}

/// Scenario C: `disable host onlyhost` on a single-host group disables the watch; its
/// service without `allow_empty_group` stops running (logged), the one with it runs with no
/// host arguments; `enable host` brings both back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_the_only_host_of_a_group() {
    let lab = Lab::new();
    let plain = service("plain", S, "flag.monitor", lab.env());
    let mut empty_ok = service("emptyok", S, "flag.monitor", lab.env());
    empty_ok.allow_empty_group = true;
    let (h, _t) = lab.start(config(
        &[("solo", &["onlyhost"])],
        vec![("solo", vec![plain, empty_ok])],
    ));
    wait_for(10, "both running", || {
        (lab.runs("plain") >= 1 && lab.runs("emptyok") >= 1).then_some(())
    })
    .await;
    assert_eq!(lab.argv("plain"), "onlyhost");
    let c = h
        .disable(Target::Hosts(vec!["onlyhost".into()]), "")
        .await
        .expect("disable host");
    assert_eq!(c.actions, ["disable watch solo", "disable host onlyhost"]);
    let (p, e) = (lab.runs("plain"), lab.runs("emptyok"));
    wait_for(
        10,
        "three more runs of the allow_empty_group service",
        || (lab.runs("emptyok") >= e + 3).then_some(()),
    )
    .await;
    assert!(
        lab.runs("plain") <= p + 1,
        "the plain service stopped running"
    );
    assert_eq!(lab.argv("emptyok"), "", "no host arguments");
    let snap = h.snapshot().await.expect("snapshot");
    assert!(snap.disabled_watches.contains("solo"));
    h.enable(Target::Hosts(vec!["onlyhost".into()]))
        .await
        .expect("enable");
    let p = lab.runs("plain");
    wait_for(10, "the plain service again", || {
        (lab.runs("plain") > p).then_some(())
    })
    .await;
    assert_eq!(lab.argv("plain"), "onlyhost");
}

/// A shutdown kills running monitors without recording their death as a failure, even
/// while it waits for an alert that is still running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_record_killed_runs() {
    let lab = Lab::new();
    let mut env = lab.env();
    env.push(("ALERT_SLEEP".into(), "3".into()));
    let mut a = service("a", S, "flag.monitor", env);
    a.periods[0].alerts = vec![line("rec.alert X")];
    lab.script("mon.d", "slow.monitor", "#!/bin/sh\nsleep 30\n");
    let b = service("b", S, "slow.monitor", lab.env());
    lab.flag("a", 1, "a down\n");
    let (h, task) = lab.start(config(&[("g", &["h1"])], vec![("g", vec![a, b])]));
    wait_async(10, "b running and a's alert started", || async {
        let pids = h.pids().await.ok()?;
        let alert_started = std::fs::read_dir(lab.path("rec")).ok()?.count() > 0;
        (pids.running.iter().any(|(_, s, _)| s == "b") && alert_started).then_some(())
    })
    .await;
    h.shutdown(Duration::from_secs(10)).await.expect("shutdown");
    task.await.expect("engine task");
    let saved = monrs::state::persist::load(&lab.path("state/monrs-state.json"))
        .expect("load")
        .expect("saved at shutdown");
    let b = saved
        .services
        .iter()
        .find(|s| s.service == "b")
        .expect("b saved");
    assert_eq!(b.state.failure_count, 0, "b's killed run is not a failure");
    assert_eq!(b.state.op_status.0, 7);
    assert_eq!(lab.recs().len(), 1, "a's alert finished within the grace");
}
