//! Failover actions end to end on real two-node clusters built in network namespaces:
//! heartbeat 3 (`hb_standby`) and Pacemaker 2.1 + corosync 3 (`crm_standby`). The action
//! runs its cluster commands inside the primary node (`--exec-prefix nsenter ...`), as
//! monrs running on that node would; the failing check is Debian's own tcp.monitor run
//! inside the node against the killed application.

use std::time::{Duration, Instant};

use monrs::alerts::{AlertCall, AlertKind};

use crate::support::actions::cluster::{ClusterOptions, HeartbeatCluster, Node, start_app, within};
use crate::support::actions::{CallBuilder, action, is_root};

/// Run Debian's tcp.monitor inside `n` against its app port: (exit code, output).
fn tcp_monitor(n: &Node, port: u16) -> (i32, String) {
    let (code, out, err) = n.exec(
        &[
            "/usr/lib/mon/mon.d/tcp.monitor",
            "-p",
            &port.to_string(),
            "127.0.0.1",
        ],
        Duration::from_secs(20),
    );
    (code, out + &err)
}

fn failure_call(name: &str, output: &str, statedir: &std::path::Path) -> AlertCall {
    CallBuilder::new(AlertKind::Failure, "app", "tcp", name)
        .hosts(&["127.0.0.1"])
        .output(output)
        .env("MON_STATEDIR", &statedir.display().to_string())
        .build()
}

#[tokio::test]
async fn heartbeat_failover_with_window_peer_and_dry_run_guards() {
    assert!(
        is_root(),
        "cluster tests need root (namespaces, bind mounts)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ClusterOptions::heartbeat();
    let port = opts.app_port;
    let hb = HeartbeatCluster::start(dir.path(), opts);
    let took = hb.wait_resources_on(hb.a(), Duration::from_secs(45));
    eprintln!("heartbeat: resources on node a {took:?} after start");
    let held = hb.cl_status(hb.a(), &["rscstatus"]);
    assert!(held == "local" || held == "all", "rscstatus {held}");
    hb.settle();
    let _app = start_app(hb.a(), port);

    let statedir = dir.path().join("state-a");
    let prefix = hb.a().exec_prefix().join(" ");
    let act = |extra: &[&str]| {
        let mut args = vec!["--exec-prefix", prefix.as_str(), "--window", "10m"];
        args.extend_from_slice(extra);
        action("monrs-hb-standby", &args)
    };

    // 1. Dry run: says what it would do, moves nothing, leaves the real window alone.
    let o = act(&["--dry-run"])
        .deliver(&failure_call("monrs-hb-standby", "127.0.0.1\n", &statedir))
        .await;
    assert!(o.ok, "{}", o.detail);
    assert!(
        o.detail.contains("dry-run: would run") && o.detail.contains("hb_standby all"),
        "{}",
        o.detail
    );
    assert!(o.detail.contains("healthy peer hbnode-b"), "{}", o.detail);
    std::thread::sleep(Duration::from_secs(2));
    assert!(hb.holds(hb.a()), "a dry run moved resources");

    // 1b. A request that moves nothing (exit 1, or exit 0 but heartbeat dropped it) does
    //     not use up the window: the next alert may try again.
    for (fake, why) in [
        ("/bin/false", "exit 1"),
        ("/bin/true", "resources still here"),
    ] {
        let o = act(&["--hb-standby", fake, "--settle", "1s"])
            .deliver(&failure_call("monrs-hb-standby", "127.0.0.1\n", &statedir))
            .await;
        assert!(!o.ok, "{}", o.detail);
        assert!(
            o.detail.contains(why) && o.detail.contains("window not used"),
            "{}",
            o.detail
        );
    }
    assert!(hb.holds(hb.a()));

    // 2. The application dies; the monitor fails; the action moves everything to b.
    drop(_app);
    let killed = Instant::now();
    let (code, out) = tcp_monitor(hb.a(), port);
    assert_eq!(code, 1, "tcp.monitor should fail: {out}");
    let o = act(&[])
        .deliver(&failure_call("monrs-hb-standby", &out, &statedir))
        .await;
    assert!(o.ok, "{}\n{}", o.detail, hb.logs());
    eprintln!("heartbeat: outcome: {}", o.detail);
    assert!(
        o.detail.contains("read-back: rscstatus none"),
        "{}",
        o.detail
    );
    hb.wait_resources_on(hb.b(), Duration::from_secs(15));
    let moved = killed.elapsed();
    eprintln!("heartbeat: app killed -> VIP+testsvc on hbnode-b in {moved:?}");
    assert_eq!(
        hb.log_count(hb.a(), "hbnode-a wants to go standby [all]"),
        1,
        "{}",
        hb.logs()
    );

    // 3. A flapping check keeps alerting: the window allows no second request.
    for _ in 0..3 {
        let o = act(&[])
            .deliver(&failure_call("monrs-hb-standby", &out, &statedir))
            .await;
        assert!(o.ok && o.detail.starts_with("suppressed"), "{}", o.detail);
    }
    // 4. The operator moves the resources back to a; the app flaps again at once: still
    //    inside the window, so the resources stay on a (no ping-pong).
    hb.settle();
    let (code, _, err) = hb.b().exec(
        &["/usr/share/heartbeat/hb_standby", "all"],
        Duration::from_secs(10),
    );
    assert_eq!(code, 0, "{err}");
    hb.wait_resources_on(hb.a(), Duration::from_secs(20));
    let o = act(&[])
        .deliver(&failure_call("monrs-hb-standby", &out, &statedir))
        .await;
    assert!(o.detail.starts_with("suppressed"), "{}", o.detail);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        hb.holds(hb.a()),
        "the window guard let a second failover through"
    );
    assert_eq!(
        hb.log_count(hb.a(), "hbnode-a wants to go standby [all]"),
        1,
        "{}",
        hb.logs()
    );

    // 5. An upalert never fails back.
    let up = CallBuilder::new(AlertKind::Up, "app", "tcp", "monrs-hb-standby")
        .hosts(&["127.0.0.1"])
        .env("MON_STATEDIR", &statedir.display().to_string())
        .build();
    let o = act(&[]).deliver(&up).await;
    assert!(o.ok && o.detail.contains("no failback"), "{}", o.detail);

    // 6. The peer dies: a failover request would leave nobody holding the resources.
    hb.settle();
    hb.crash(hb.b());
    let dead = within(Duration::from_secs(20), || {
        hb.cl_status(hb.a(), &["nodestatus", "hbnode-b"]) == "dead"
    });
    assert!(dead.is_some(), "a never saw b dead:\n{}", hb.logs());
    let fresh = dir.path().join("state-fresh");
    let o = act(&[])
        .deliver(&failure_call("monrs-hb-standby", &out, &fresh))
        .await;
    assert!(!o.ok, "{}", o.detail);
    assert!(o.detail.contains("no healthy peer"), "{}", o.detail);
    assert!(hb.holds(hb.a()));
    assert_eq!(
        hb.log_count(hb.a(), "hbnode-a wants to go standby [all]"),
        1,
        "{}",
        hb.logs()
    );
}

#[tokio::test]
async fn pacemaker_failover_with_window_peer_and_dry_run_guards() {
    use crate::support::actions::cluster::PacemakerCluster;
    assert!(
        is_root(),
        "cluster tests need root (namespaces, bind mounts)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ClusterOptions::pacemaker();
    let port = opts.app_port;
    let pc = PacemakerCluster::start(dir.path(), opts);
    let took = pc.wait_resources_on(pc.a(), Duration::from_secs(45));
    eprintln!("pacemaker: group on node a {took:?} after start");
    let _app = start_app(pc.a(), port);

    let statedir = dir.path().join("state-a");
    let prefix = pc.a().exec_prefix().join(" ");
    let act = |extra: &[&str]| {
        let mut args = vec![
            "--exec-prefix",
            prefix.as_str(),
            "--window",
            "10m",
            "--resource",
            "g_test",
        ];
        args.extend_from_slice(extra);
        action("monrs-crm-standby", &args)
    };

    // 1. Dry run.
    let o = act(&["-n"])
        .deliver(&failure_call("monrs-crm-standby", "127.0.0.1\n", &statedir))
        .await;
    assert!(o.ok, "{}", o.detail);
    assert!(
        o.detail.contains("dry-run: would run") && o.detail.contains("crm_standby -v on"),
        "{}",
        o.detail
    );
    assert!(o.detail.contains("healthy peer pcnode-b"), "{}", o.detail);
    assert_eq!(pc.standby(pc.a()), "off");

    // 2. The application dies; the action puts node a in standby; the group moves.
    drop(_app);
    let killed = Instant::now();
    let (code, out) = tcp_monitor(pc.a(), port);
    assert_eq!(code, 1, "tcp.monitor should fail: {out}");
    let o = act(&[])
        .deliver(&failure_call("monrs-crm-standby", &out, &statedir))
        .await;
    assert!(o.ok, "{}\n{}", o.detail, pc.logs());
    eprintln!("pacemaker: outcome: {}", o.detail);
    assert!(o.detail.contains("standby=on"), "{}", o.detail);
    assert!(
        o.detail.contains("resource g_test is running on: pcnode-b"),
        "{}",
        o.detail
    );
    pc.wait_resources_on(pc.b(), Duration::from_secs(15));
    eprintln!(
        "pacemaker: app killed -> g_test on pcnode-b in {:?}",
        killed.elapsed()
    );

    // 3. Flapping: the window holds further requests back.
    for _ in 0..3 {
        let o = act(&[])
            .deliver(&failure_call("monrs-crm-standby", &out, &statedir))
            .await;
        assert!(o.ok && o.detail.starts_with("suppressed"), "{}", o.detail);
    }
    // 4. The operator brings a back and moves the group home; the app flaps at once:
    //    inside the window nothing moves.
    pc.set_standby(pc.a(), false);
    pc.set_standby(pc.b(), true);
    pc.wait_resources_on(pc.a(), Duration::from_secs(20));
    pc.set_standby(pc.b(), false);
    let o = act(&[])
        .deliver(&failure_call("monrs-crm-standby", &out, &statedir))
        .await;
    assert!(o.detail.starts_with("suppressed"), "{}", o.detail);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        pc.holds(pc.a()),
        "the window guard let a second failover through"
    );
    assert_eq!(pc.standby(pc.a()), "off");

    // 5. An upalert never fails back.
    let up = CallBuilder::new(AlertKind::Up, "app", "tcp", "monrs-crm-standby")
        .hosts(&["127.0.0.1"])
        .build();
    let o = act(&[]).deliver(&up).await;
    assert!(o.ok && o.detail.contains("no failback"), "{}", o.detail);

    // 6. The peer is in standby (cannot take resources): refused, nothing moves.
    pc.set_standby(pc.b(), true);
    let fresh = dir.path().join("state-fresh");
    let o = act(&[])
        .deliver(&failure_call("monrs-crm-standby", &out, &fresh))
        .await;
    assert!(!o.ok, "{}", o.detail);
    assert!(o.detail.contains("no healthy peer"), "{}", o.detail);
    assert_eq!(pc.standby(pc.a()), "off");
    assert!(pc.holds(pc.a()));
}

// === The shipped alert.d scripts under real Perl mon ===

fn script(name: &str) -> String {
    crate::support::repo_root()
        .join("alert.d")
        .join(name)
        .display()
        .to_string()
}

#[tokio::test]
async fn classic_mon_with_shipped_ha_down_alert_fails_over_once() {
    use crate::support::actions::cluster::ClassicMon;
    assert!(
        is_root(),
        "cluster tests need root (namespaces, bind mounts)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = ClusterOptions::heartbeat();
    opts.app_port = 18997;
    let port = opts.app_port;
    let hb = HeartbeatCluster::start(dir.path(), opts);
    hb.wait_resources_on(hb.a(), Duration::from_secs(45));
    hb.settle();
    let mut app = start_app(hb.a(), port);

    // Dry run, straight from the shell as mon would call it: nothing moves.
    let (code, _, err) = hb.a().exec(
        &[
            "env",
            "MONRS_FAILOVER_DRY_RUN=yes",
            &format!("MON_STATEDIR={}", dir.path().display()),
            "sh",
            "-c",
            &format!(
                "echo 127.0.0.1 | {} -s tcp -g app -h 127.0.0.1 -t 1",
                script("ha-down.alert")
            ),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("dry-run: would run /usr/share/heartbeat/hb_standby all"),
        "{err}"
    );
    assert!(hb.holds(hb.a()));
    // A request heartbeat ignores (here: a stand-in that does nothing) gives the window back.
    let stamp = dir.path().join("given-back.stamp");
    let (code, _, err) = hb.a().exec(
        &[
            "env",
            "HB_STANDBY=/bin/true",
            "MONRS_FAILOVER_SETTLE=1",
            &format!("MONRS_FAILOVER_STAMP={}", stamp.display()),
            "sh",
            "-c",
            &format!(
                "echo 127.0.0.1 | {} -s tcp -g app -h 127.0.0.1 -t 1",
                script("ha-down.alert")
            ),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("still holds resources") && err.contains("window not used"),
        "{err}"
    );
    assert!(
        !stamp.exists(),
        "the stamp of a request that moved nothing was kept"
    );

    let mon = ClassicMon::start(
        hb.a(),
        dir.path(),
        port,
        "ha-down.alert",
        &[("MONRS_FAILOVER_WINDOW", "600")],
    );
    std::thread::sleep(Duration::from_secs(3)); // mon sees the app up first
    app.stop();
    let killed = Instant::now();
    hb.wait_resources_on(hb.b(), Duration::from_secs(30));
    eprintln!(
        "classic mon + ha-down.alert: app killed -> resources on b in {:?}",
        killed.elapsed()
    );
    // mon keeps calling the alert on every failed check; the window holds them all.
    let suppressed = within(Duration::from_secs(15), || {
        mon.output().matches("suppressed").count() >= 2
    });
    assert!(suppressed.is_some(), "{}", mon.output());
    assert_eq!(
        hb.log_count(hb.a(), "hbnode-a wants to go standby [all]"),
        1,
        "{}",
        mon.output()
    );
    assert_eq!(
        mon.output()
            .matches("running /usr/share/heartbeat/hb_standby all")
            .count(),
        1
    );
    assert!(mon.output().contains("standby done"), "{}", mon.output());

    // The app comes back: the upalert does not fail back.
    let _app = start_app(hb.a(), port);
    let up = within(Duration::from_secs(15), || {
        mon.output().contains("no failback")
    });
    assert!(up.is_some(), "{}", mon.output());
    assert!(hb.holds(hb.b()));
}

#[tokio::test]
async fn classic_mon_with_shipped_crm_standby_alert_fails_over_once() {
    use crate::support::actions::cluster::{ClassicMon, PacemakerCluster};
    assert!(
        is_root(),
        "cluster tests need root (namespaces, bind mounts)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = ClusterOptions::pacemaker();
    opts.app_port = 18996;
    let port = opts.app_port;
    let pc = PacemakerCluster::start(dir.path(), opts);
    pc.wait_resources_on(pc.a(), Duration::from_secs(45));
    let mut app = start_app(pc.a(), port);

    let (code, _, err) = pc.a().exec(
        &[
            "env",
            "MONRS_FAILOVER_DRY_RUN=yes",
            &format!("MON_STATEDIR={}", dir.path().display()),
            "sh",
            "-c",
            &format!(
                "echo 127.0.0.1 | {} -s tcp -g app -h 127.0.0.1 -t 1",
                script("crm-standby.alert")
            ),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("dry-run: would run crm_standby -v on on pcnode-a (peer pcnode-b"),
        "{err}"
    );
    assert_eq!(pc.standby(pc.a()), "off");

    let mon = ClassicMon::start(
        pc.a(),
        dir.path(),
        port,
        "crm-standby.alert",
        &[
            ("MONRS_FAILOVER_WINDOW", "600"),
            ("MONRS_FAILOVER_RESOURCES", "g_test"),
        ],
    );
    std::thread::sleep(Duration::from_secs(3));
    app.stop();
    let killed = Instant::now();
    pc.wait_resources_on(pc.b(), Duration::from_secs(30));
    eprintln!(
        "classic mon + crm-standby.alert: app killed -> g_test on b in {:?}",
        killed.elapsed()
    );
    let suppressed = within(Duration::from_secs(15), || {
        mon.output().matches("suppressed").count() >= 2
    });
    assert!(suppressed.is_some(), "{}", mon.output());
    assert_eq!(
        mon.output().matches("running crm_standby -v on").count(),
        1,
        "{}",
        mon.output()
    );
    assert!(
        mon.output()
            .contains("resource g_test is running on: pcnode-b"),
        "{}",
        mon.output()
    );
    assert_eq!(pc.standby(pc.a()), "on");

    let _app = start_app(pc.a(), port);
    let up = within(Duration::from_secs(15), || {
        mon.output().contains("no failback")
    });
    assert!(up.is_some(), "{}", mon.output());
    assert!(pc.holds(pc.b()));
}
