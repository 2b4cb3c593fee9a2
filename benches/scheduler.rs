//! Scheduler benchmark: the real engine with N services at a 1 s interval running the
//! in-process no-op check, on the real clock. Reports start lateness (p50/p99/max bucket),
//! checks per second and the CPU time the process used.
//!
//! Run: `cargo bench --bench scheduler` (env: BENCH_SERVICES=10000, BENCH_SECS=30).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use monrs::config::paths::Paths;
use monrs::config::{Config, Globals, HostGroup, MonitorLine, Schedule, Service, Watch};
use monrs::engine::{self, EngineOptions, Hooks, Setup, Stats};

fn config(n: usize) -> Config {
    let per_watch = 100;
    let watches = n.div_ceil(per_watch);
    let mut cfg = Config {
        source: "bench.cf".into(),
        globals: Globals::default(),
        hostgroups: Vec::new(),
        aliases: Vec::new(),
        views: Vec::new(),
        watches: Vec::new(),
    };
    for w in 0..watches {
        let name = format!("g{w}");
        cfg.hostgroups.push(HostGroup {
            name: name.clone(),
            hosts: vec![format!("h{w}")],
            line: 1,
            auto: false,
        });
        let services = (0..per_watch.min(n - w * per_watch))
            .map(|s| {
                let mut svc = Service::new(format!("s{s}"), 1);
                svc.schedule = Schedule::Interval(Duration::from_secs(1));
                svc.monitor = Some(MonitorLine {
                    raw: "noop".into(),
                    name: "noop".into(),
                    args: String::new(),
                });
                svc
            })
            .collect();
        cfg.watches.push(Watch {
            name,
            line: 1,
            services,
        });
    }
    cfg
}

fn paths(dir: &Path) -> Paths {
    Paths {
        basedir: dir.into(),
        cfbasedir: dir.into(),
        statedir: dir.into(),
        logdir: dir.into(),
        mondir: vec![dir.into()],
        alertdir: vec![dir.into()],
        authfile: dir.join("auth.cf"),
        userfile: dir.join("users"),
        dtlogfile: dir.join("downtime.log"),
        historicfile: None,
        pidfile: None,
        monerrfile: "/dev/null".into(),
    }
}

/// user+system CPU seconds of this process so far (from /proc/self/stat).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // After the command name: state is field 3, utime 14, stime 15 (1-based).
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(14) + ticks(15)) / 100.0
}

fn diff(a: &Stats, b: &Stats) -> Stats {
    Stats {
        runs: b.runs - a.runs,
        skipped: b.skipped - a.skipped,
        timed_out: b.timed_out - a.timed_out,
        lateness: b
            .lateness
            .iter()
            .zip(&a.lateness)
            .map(|(x, y)| x - y)
            .collect(),
        running: b.running,
        services: b.services,
    }
}

async fn run(n: usize, secs: u64, randstart: Option<Duration>, label: &str) {
    let dir = std::env::temp_dir().join(format!("monrs-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let setup = Setup {
        config: Arc::new(config(n)),
        paths: paths(&dir),
        maxkeep: 100,
        maxprocs: 0,
        randstart,
        historic: None,
    };
    let (h, task) = engine::start(
        setup,
        EngineOptions {
            hooks: Hooks::noop(),
            // As the daemon runs: with the state file.
            state_file: Some(dir.join("monrs-state.json")),
            ..EngineOptions::default()
        },
    );
    // Warm up past the first runs (with randstart they spread over the first second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (Ok(s0), c0, t0) = (h.stats().await, cpu_secs(), std::time::Instant::now()) else {
        eprintln!("engine gone");
        return;
    };
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (Ok(s1), c1, el) = (h.stats().await, cpu_secs(), t0.elapsed()) else {
        eprintln!("engine gone");
        return;
    };
    let d = diff(&s0, &s1);
    let wall = el.as_secs_f64();
    let over = d.lateness.last().copied().unwrap_or(0);
    println!("{label}: {n} services at 1 s, {secs} s measured");
    println!(
        "  checks: {} ({:.0}/s), skipped slots: {}",
        d.runs,
        d.runs as f64 / wall,
        d.skipped
    );
    println!(
        "  start lateness: p50 < {:?}, p99 < {:?}, p99.9 < {:?}, starts >= 100 ms late: {over}",
        d.lateness_quantile(0.50),
        d.lateness_quantile(0.99),
        d.lateness_quantile(0.999),
    );
    println!(
        "  CPU: {:.2} s user+sys over {wall:.2} s wall ({:.0}% of one core)",
        c1 - c0,
        (c1 - c0) / wall * 100.0
    );
    let _ = h.shutdown(Duration::ZERO).await;
    let _ = task.await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let n: usize = std::env::var("BENCH_SERVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return;
        }
    };
    rt.block_on(run(
        n,
        secs,
        Some(Duration::from_secs(1)),
        "randstart 1s (first runs spread over a second)",
    ));
    rt.block_on(run(
        n,
        secs,
        None,
        "no randstart (every service due at the same instant)",
    ));
}
