//! Pool actions: HAProxy for real (traffic stops reaching a failed server and comes back),
//! LVS through the real ipvsadm's argv recorded by a PATH shim (this kernel has no IPVS).

use monrs::alerts::AlertKind;
use monrs::alerts::actions::PoolState;

use crate::support::actions::haproxy::Haproxy;
use crate::support::actions::{CallBuilder, action};

const FMAINT: u32 = 0x01;
const FDRAIN: u32 = 0x08;

fn web_call(kind: AlertKind, output: &str) -> monrs::alerts::AlertCall {
    CallBuilder::new(kind, "web", "http", "monrs-haproxy")
        .hosts(&["srv1", "srv2", "srv3"])
        .output(output)
        .build()
}

fn v(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn haproxy_failing_server_leaves_the_pool_and_returns_on_upalert() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hap = Haproxy::start(dir.path(), &["srv1", "srv2", "srv3"]);
    let sock = hap.socket.display().to_string();
    let (d, err) = hap.distribution(30);
    assert_eq!((d["srv1"], d["srv2"], d["srv3"], err), (10, 10, 10, 0));

    let a = action("monrs-haproxy", &["-s", &sock, "-b", "be"]);
    // http.monitor lists the failing hosts in its summary.
    let o = a
        .deliver(&web_call(AlertKind::Failure, "srv2\nHTTP/1.1 500\n"))
        .await;
    assert!(o.ok, "{}", o.detail);
    assert!(o.detail.contains("be/srv2 -> maint"), "{}", o.detail);
    let (d, err) = hap.distribution(30);
    assert_eq!((d["srv1"], d["srv2"], d["srv3"], err), (15, 0, 15, 0));

    // mon repeats the alert (alertevery, every failed check): nothing changes.
    let o = a.deliver(&web_call(AlertKind::Failure, "srv2\n")).await;
    assert!(
        o.ok && o.detail.contains("be/srv2 already maint"),
        "{}",
        o.detail
    );

    let o = a.deliver(&web_call(AlertKind::Up, "srv2\n")).await;
    assert!(o.ok, "{}", o.detail);
    assert!(o.detail.contains("be/srv2 -> ready"), "{}", o.detail);
    let (d, err) = hap.distribution(30);
    assert_eq!((d["srv1"], d["srv2"], d["srv3"], err), (10, 10, 10, 0));
}

#[tokio::test]
async fn haproxy_host_map_tcp_api_drain_and_test_dry_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hap = Haproxy::start(dir.path(), &["srv1", "srv2", "srv3"]);
    let a = action(
        "monrs-haproxy",
        &[
            "-s",
            &format!("ipv4@{}", hap.tcp_api),
            "-b",
            "be",
            "-m",
            "web1.example=srv1,web3.example=srv3",
            "--down-state",
            "drain",
        ],
    );
    let call = |kind, out: &str| {
        CallBuilder::new(kind, "web", "http", "monrs-haproxy")
            .hosts(&["web1.example", "web3.example"])
            .output(out)
            .build()
    };
    // `moncmd test alert` must not touch the pool: it reports what it would do.
    let o = a.deliver(&call(AlertKind::Test, "web3.example\n")).await;
    assert!(o.ok && o.detail.starts_with("dry-run"), "{}", o.detail);
    assert!(
        o.detail.contains("set server be/srv3 state drain"),
        "{}",
        o.detail
    );
    assert_eq!(hap.admin_states()["srv3"], 0);

    let o = a.deliver(&call(AlertKind::Failure, "web3.example\n")).await;
    assert!(o.ok, "{}", o.detail);
    hap.wait_admin_state("srv3", FDRAIN);
    let (d, err) = hap.distribution(30);
    assert_eq!((d["srv1"], d["srv2"], d["srv3"], err), (15, 15, 0, 0));
}

#[tokio::test]
async fn haproxy_reconcile_converges_a_stale_pool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hap = Haproxy::start(dir.path(), &["srv1", "srv2", "srv3"]);
    // As left behind by a daemon that stopped mid-outage: srv1 and srv3 still out.
    assert_eq!(hap.api("set server be/srv1 state maint").trim(), "");
    assert_eq!(hap.api("set server be/srv3 state maint").trim(), "");
    let a = action(
        "monrs-haproxy",
        &["-s", &hap.socket.display().to_string(), "-b", "be"],
    );
    assert!(a.reconciles());
    let hosts = v(&["srv1", "srv2", "srv3"]);
    let down = v(&["srv2"]);
    let o = a
        .reconcile(&PoolState {
            group: "web",
            service: "http",
            hosts: &hosts,
            down: &down,
            env: &[],
        })
        .await;
    assert!(o.ok, "{}", o.detail);
    let st = hap.admin_states();
    assert_eq!(
        (st["srv1"], st["srv2"] & FMAINT, st["srv3"]),
        (0, FMAINT, 0),
        "{st:?}"
    );
    let (d, err) = hap.distribution(30);
    assert_eq!((d["srv1"], d["srv2"], d["srv3"], err), (15, 0, 15, 0));
    // A second reconcile finds nothing to change.
    let o = a
        .reconcile(&PoolState {
            group: "web",
            service: "http",
            hosts: &hosts,
            down: &down,
            env: &[],
        })
        .await;
    assert!(o.ok && !o.detail.contains("->"), "{}", o.detail);
}

#[tokio::test]
async fn haproxy_errors_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hap = Haproxy::start(dir.path(), &["srv1", "srv2"]);
    let sock = hap.socket.display().to_string();
    let call = CallBuilder::new(AlertKind::Failure, "web", "http", "monrs-haproxy")
        .hosts(&["nosuch"])
        .output("nosuch\n")
        .build();
    let o = action("monrs-haproxy", &["-s", &sock, "-b", "be"])
        .deliver(&call)
        .await;
    assert!(
        !o.ok && o.detail.contains("no server for host nosuch"),
        "{}",
        o.detail
    );

    let o = action("monrs-haproxy", &["-s", &sock, "-b", "nobackend"])
        .deliver(&web_call(AlertKind::Failure, "srv1\n"))
        .await;
    assert!(!o.ok, "{}", o.detail);

    let gone = dir.path().join("nothing.sock").display().to_string();
    let o = action("monrs-haproxy", &["-s", &gone, "-b", "be"])
        .deliver(&web_call(AlertKind::Failure, "srv1\n"))
        .await;
    assert!(!o.ok && o.detail.contains("connect"), "{}", o.detail);
    // Nothing changed on the real pool.
    assert!(hap.admin_states().values().all(|s| *s == 0));
}

// === LVS (ipvsadm) ===

use crate::support::actions::ipvs::IpvsShim;

fn lvs_call(
    kind: AlertKind,
    hosts: &[&str],
    output: &str,
    shim: &IpvsShim,
) -> monrs::alerts::AlertCall {
    CallBuilder::new(kind, "www", "http", "monrs-ipvs")
        .hosts(hosts)
        .output(output)
        .env("PATH", &shim.path())
        .build()
}

#[tokio::test]
async fn lvs_failure_deletes_and_upalert_adds_on_every_virtual_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shim = IpvsShim::new(dir.path());
    let a = action(
        "monrs-ipvs",
        &[
            "-V",
            "10.254.1.100:80,10.254.1.100:443",
            "-P",
            "tcp",
            "-F",
            "nat",
            "-W",
            "2",
        ],
    );
    let o = a
        .deliver(&lvs_call(AlertKind::Failure, &["www2"], "www2\n", &shim))
        .await;
    assert!(o.ok, "{}", o.detail);
    assert_eq!(
        shim.calls(),
        vec![
            v(&["-d", "-t", "10.254.1.100:80", "-r", "www2:80"]),
            v(&["-d", "-t", "10.254.1.100:443", "-r", "www2:443"]),
        ]
    );
    let o = a
        .deliver(&lvs_call(AlertKind::Up, &["www2"], "www2\n", &shim))
        .await;
    assert!(o.ok, "{}", o.detail);
    assert_eq!(
        shim.calls()[2..],
        [
            v(&[
                "-a",
                "-t",
                "10.254.1.100:80",
                "-r",
                "www2:80",
                "-m",
                "-w",
                "2"
            ]),
            v(&[
                "-a",
                "-t",
                "10.254.1.100:443",
                "-r",
                "www2:443",
                "-m",
                "-w",
                "2"
            ]),
        ]
    );
}

#[tokio::test]
async fn lvs_ipvs_alert_style_fixed_realserver_udp_and_dr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shim = IpvsShim::new(dir.path());
    // mon-contrib ipvs.alert's options: -P -V -R -W -F.
    let a = action(
        "monrs-ipvs",
        &[
            "-P",
            "udp",
            "-V",
            "10.254.1.53:53",
            "-R",
            "10.254.1.11:5353",
            "-F",
            "dr",
        ],
    );
    let o = a
        .deliver(&lvs_call(AlertKind::Failure, &["dns1"], "timeout\n", &shim))
        .await;
    assert!(o.ok, "{}", o.detail);
    let o = a
        .deliver(&lvs_call(AlertKind::Up, &["dns1"], "timeout\n", &shim))
        .await;
    assert!(o.ok, "{}", o.detail);
    assert_eq!(
        shim.calls(),
        vec![
            v(&["-d", "-u", "10.254.1.53:53", "-r", "10.254.1.11:5353"]),
            v(&[
                "-a",
                "-u",
                "10.254.1.53:53",
                "-r",
                "10.254.1.11:5353",
                "-g",
                "-w",
                "1"
            ]),
        ]
    );
}

#[tokio::test]
async fn lvs_multi_host_group_converges_and_kernel_answers_are_understood() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shim = IpvsShim::new(dir.path());
    // What the kernel answers (through ipvsadm) when the table already is as wanted.
    shim.answer("-d -t 10.254.1.100:80 -r w1:80", 255, "No such destination");
    shim.answer(
        "-a -t 10.254.1.100:80 -r w3:80",
        255,
        "Destination already exists",
    );
    let a = action("monrs-ipvs", &["-V", "10.254.1.100:80", "-F", "nat"]);
    // One hostgroup for the whole pool: the summary names the failing hosts.
    let o = a
        .deliver(&lvs_call(
            AlertKind::Failure,
            &["w1", "w2", "w3"],
            "w1 w2\n",
            &shim,
        ))
        .await;
    assert!(o.ok, "{}", o.detail);
    assert!(o.detail.contains("already out"), "{}", o.detail);
    assert!(o.detail.contains("already in"), "{}", o.detail);
    assert_eq!(
        shim.calls(),
        vec![
            v(&["-d", "-t", "10.254.1.100:80", "-r", "w1:80"]),
            v(&["-d", "-t", "10.254.1.100:80", "-r", "w2:80"]),
            v(&[
                "-a",
                "-t",
                "10.254.1.100:80",
                "-r",
                "w3:80",
                "-m",
                "-w",
                "1"
            ]),
            // already there: weight and forwarding are set to what was asked
            v(&[
                "-e",
                "-t",
                "10.254.1.100:80",
                "-r",
                "w3:80",
                "-m",
                "-w",
                "1"
            ]),
        ]
    );
}

#[tokio::test]
async fn lvs_reconcile_and_test_alert() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shim = IpvsShim::new(dir.path());
    let a = action("monrs-ipvs", &["-V", "10.254.1.100:80"]);
    let hosts = v(&["w1", "w2"]);
    let down = v(&["w2"]);
    let env = vec![("PATH".to_string(), shim.path())];
    let o = a
        .reconcile(&PoolState {
            group: "www",
            service: "http",
            hosts: &hosts,
            down: &down,
            env: &env,
        })
        .await;
    assert!(o.ok, "{}", o.detail);
    assert_eq!(
        shim.calls(),
        vec![
            v(&["-d", "-t", "10.254.1.100:80", "-r", "w2:80"]),
            v(&[
                "-a",
                "-t",
                "10.254.1.100:80",
                "-r",
                "w1:80",
                "-g",
                "-w",
                "1"
            ]),
        ]
    );
    // A test alert only says what it would run.
    let o = a
        .deliver(&lvs_call(AlertKind::Test, &["w1"], "test\n", &shim))
        .await;
    assert!(
        o.ok && o.detail.contains("would run ipvsadm -d"),
        "{}",
        o.detail
    );
    assert_eq!(shim.calls().len(), 2);
}

#[tokio::test]
async fn lvs_errors_from_ipvsadm_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shim = IpvsShim::new(dir.path());
    shim.answer("-d", 255, "Service not defined");
    let a = action("monrs-ipvs", &["-V", "10.254.1.100:80"]);
    let o = a
        .deliver(&lvs_call(AlertKind::Failure, &["w1"], "w1\n", &shim))
        .await;
    assert!(!o.ok);
    assert!(
        o.detail.contains("exit 255: Service not defined"),
        "{}",
        o.detail
    );

    // The real ipvsadm on this machine: no IPVS in the kernel, and the action says so.
    if crate::support::actions::have("/usr/sbin/ipvsadm") {
        let real = action(
            "monrs-ipvs",
            &["-V", "10.254.1.100:80", "--ipvsadm", "/usr/sbin/ipvsadm"],
        );
        let call = CallBuilder::new(AlertKind::Failure, "www", "http", "monrs-ipvs")
            .hosts(&["10.254.1.11"])
            .output("10.254.1.11\n")
            .build();
        let o = real.deliver(&call).await;
        assert!(!o.ok, "{}", o.detail);
        assert!(o.detail.contains("/usr/sbin/ipvsadm -d"), "{}", o.detail);
    }
}
