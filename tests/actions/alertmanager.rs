//! The Alertmanager action against real prometheus-alertmanager 0.25 instances (alone and
//! as a two-member gossip cluster) with a webhook receiver recording notifications.

use std::time::{Duration, Instant};

use monrs::alerts::AlertKind;

use crate::support::actions::alertmanager::{Alertmanager, WebhookSink, wait_events};
use crate::support::actions::{CallBuilder, action};

fn call(kind: AlertKind, output: &str) -> monrs::alerts::AlertCall {
    CallBuilder::new(kind, "db-servers", "mysql", "monrs-alertmanager")
        .hosts(&["db1", "db2"])
        .output(output)
        .env("MON_FIRST_FAILURE", "1700000000")
        .env("MON_DESCRIPTION", "MySQL on the db pair")
        .build()
}

fn firing(events: &[(String, String)], host: &str) -> usize {
    events
        .iter()
        .filter(|(s, h)| s == "firing" && h == host)
        .count()
}

fn resolved(events: &[(String, String)], host: &str) -> usize {
    events
        .iter()
        .filter(|(s, h)| s == "resolved" && h == host)
        .count()
}

#[tokio::test]
async fn failure_fires_per_failing_host_and_upalert_resolves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = WebhookSink::start(dir.path());
    let am = Alertmanager::start(dir.path(), "am", &sink, false, &[]);
    let a = action("monrs-alertmanager", &["-u", &am.url, "-l", "team=dba"]);

    let o = a
        .deliver(&call(
            AlertKind::Failure,
            "db2\nERROR 2003: Can't connect\n",
        ))
        .await;
    assert!(o.ok, "{}", o.detail);
    assert!(o.detail.contains("1/1 Alertmanagers"), "{}", o.detail);

    let active: Vec<serde_json::Value> = am
        .alerts()
        .into_iter()
        .filter(|x| x["status"]["state"] == "active")
        .collect();
    assert_eq!(active.len(), 1, "{active:?}");
    let al = &active[0];
    assert_eq!(al["labels"]["alertname"], "MonServiceFailure");
    assert_eq!(al["labels"]["watch"], "db-servers");
    assert_eq!(al["labels"]["service"], "mysql");
    assert_eq!(al["labels"]["host"], "db2");
    assert_eq!(al["labels"]["severity"], "critical");
    assert_eq!(al["labels"]["team"], "dba");
    assert_eq!(al["annotations"]["summary"], "db2");
    assert_eq!(al["annotations"]["detail"], "ERROR 2003: Can't connect\n");
    assert_eq!(al["annotations"]["description"], "MySQL on the db pair");
    assert_eq!(al["startsAt"], "2023-11-14T22:13:20.000Z");

    let ev = wait_events(&sink, 1, Duration::from_secs(15));
    assert_eq!(firing(&ev, "db2"), 1, "{ev:?}");
    assert!(
        ev.iter().all(|(_, h)| h != "db1"),
        "db1 never failed, so it is not in any notification: {ev:?}"
    );

    let o = a.deliver(&call(AlertKind::Up, "db2\n")).await;
    assert!(o.ok, "{}", o.detail);
    assert!(o.detail.starts_with("resolved"), "{}", o.detail);
    let ev = crate::support::actions::wait_for("db2 resolved", Duration::from_secs(15), || {
        let e = sink.events();
        (resolved(&e, "db2") == 1).then_some(e)
    });
    assert_eq!(firing(&ev, "db2"), 1, "{ev:?}");
    assert!(
        am.alerts().iter().all(|x| x["status"]["state"] != "active"),
        "an alert stayed active after the upalert"
    );
}

#[tokio::test]
async fn an_ha_pair_of_monitors_is_deduplicated_by_an_alertmanager_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = WebhookSink::start(dir.path());
    let am1 = Alertmanager::start(dir.path(), "am1", &sink, true, &[]);
    let am2 = Alertmanager::start(
        dir.path(),
        "am2",
        &sink,
        true,
        &[am1.cluster_port.expect("cluster port")],
    );
    crate::support::actions::wait_for("a 2-member cluster", Duration::from_secs(20), || {
        (am1.cluster_size() == 2 && am2.cluster_size() == 2).then_some(())
    });
    // Two monrs instances (one per cluster node) see the same failure and each posts it
    // to both Alertmanagers, as Prometheus servers of an HA pair do.
    let both = format!("{},{}", am1.url, am2.url);
    let mon_a = action("monrs-alertmanager", &["-u", &both]);
    let mon_b = action("monrs-alertmanager", &["-u", &both]);
    let mut fail_b = call(AlertKind::Failure, "db2\n");
    fail_b.time += 3; // the other monitor noticed a little later
    let fail_a = call(AlertKind::Failure, "db2\n");
    let (oa, ob) = tokio::join!(mon_a.deliver(&fail_a), mon_b.deliver(&fail_b));
    assert!(oa.ok && ob.ok, "{} / {}", oa.detail, ob.detail);
    assert!(oa.detail.contains("2/2"), "{}", oa.detail);

    let ev = wait_events(&sink, 1, Duration::from_secs(20));
    // Give the second member time to (wrongly) notify too: it waits one peer timeout
    // (3 s) for the first member's notification log before sending its own.
    std::thread::sleep(Duration::from_secs(6));
    let ev_after = sink.events();
    assert_eq!(
        firing(&ev_after, "db2"),
        1,
        "duplicates: {ev_after:?} (first {ev:?})"
    );

    let up = call(AlertKind::Up, "db2\n");
    let (ua, ub) = tokio::join!(mon_a.deliver(&up), mon_b.deliver(&up));
    assert!(ua.ok && ub.ok, "{} / {}", ua.detail, ub.detail);
    crate::support::actions::wait_for("db2 resolved", Duration::from_secs(20), || {
        (resolved(&sink.events(), "db2") >= 1).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    // Every notification is about one and the same alert (same fingerprint), whichever
    // monitor or member it came from. (Exactly-once for the resolution is not asserted:
    // a member whose group flush started just before the resolve arrived may still send
    // its stale "firing" after its peer-timeout wait; that race is Alertmanager's own.)
    let notes = sink.notifications();
    let prints: std::collections::BTreeSet<String> = notes
        .iter()
        .flat_map(|n| n["alerts"].as_array().cloned().unwrap_or_default())
        .map(|a| a["fingerprint"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(prints.len(), 1, "{notes:#?}");
    let last = notes
        .iter()
        .flat_map(|n| n["alerts"].as_array().cloned().unwrap_or_default())
        .last()
        .expect("notifications");
    assert_eq!(last["status"], "resolved", "{notes:#?}");
    for am in [&am1, &am2] {
        assert!(
            am.alerts().iter().all(|x| x["status"]["state"] != "active"),
            "{} still has an active alert",
            am.url
        );
    }
}

#[tokio::test]
async fn unreachable_alertmanagers_are_reported_and_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = WebhookSink::start(dir.path());
    let am = Alertmanager::start(dir.path(), "am", &sink, false, &[]);
    let dead = format!("http://127.0.0.1:{}", crate::support::free_port());

    let start = Instant::now();
    let o = action("monrs-alertmanager", &["-u", &dead, "--timeout", "2s"])
        .deliver(&call(AlertKind::Failure, "db1\n"))
        .await;
    assert!(!o.ok);
    assert!(o.detail.contains("0/1"), "{}", o.detail);
    assert!(start.elapsed() < Duration::from_secs(8));

    // One member of two answering is enough (the cluster gossips the alert).
    let o = action("monrs-alertmanager", &["-u", &format!("{dead},{}", am.url)])
        .deliver(&call(AlertKind::Failure, "db1\n"))
        .await;
    assert!(o.ok, "{}", o.detail);
    assert!(
        o.detail.contains("1/2") && o.detail.contains(&dead),
        "{}",
        o.detail
    );

    // No URL anywhere is a clear failure.
    let o = action("monrs-alertmanager", &[])
        .deliver(&call(AlertKind::Failure, "db1\n"))
        .await;
    assert!(
        !o.ok && o.detail.contains("MONRS_ALERTMANAGER_URL"),
        "{}",
        o.detail
    );
    // ...and the URL may come from the service's environment instead.
    let mut c = call(AlertKind::Failure, "db1\n");
    c.env
        .push(("MONRS_ALERTMANAGER_URL".into(), am.url.clone()));
    let o = action("monrs-alertmanager", &[]).deliver(&c).await;
    assert!(o.ok, "{}", o.detail);
}
