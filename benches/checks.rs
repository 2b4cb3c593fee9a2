//! CPU cost of one check: native tcp and http checks (in-process, sequential, on loopback)
//! next to the raw connect floor (std connect + close) and next to Debian's tcp.monitor and
//! http.monitor run as mon runs them (fork + exec per check, Perl start-up included).
//!
//! Run: `cargo bench --bench checks` (sizes: MONRS_BENCH_N, MONRS_BENCH_FORKS).
//! CPU seconds come from getrusage: RUSAGE_SELF for in-process work, RUSAGE_CHILDREN plus
//! our own fork/exec cost for the scripts. The servers run in child processes, so their CPU
//! is not counted (they are reaped only at the end).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use monrs::monitors::native::{Kind, NativeCheck};
use nix::sys::resource::{UsageWho, getrusage};

fn cpu(who: UsageWho) -> f64 {
    match getrusage(who) {
        Ok(u) => {
            let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
            t(u.user_time()) + t(u.system_time())
        }
        Err(_) => f64::NAN,
    }
}

/// `--serve-tcp` / `--serve-http` child: accept, (answer), close, forever.
fn serve(http: bool) -> ! {
    // A deep accept queue, so a briefly descheduled server does not make clients retry SYNs.
    let l = match deep_listener() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("bench server: {e}");
            std::process::exit(1)
        }
    };
    let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
    println!("{port}");
    let _ = std::io::stdout().flush();
    let mut buf = [0u8; 1024];
    for c in l.incoming() {
        let Ok(mut c) = c else { continue };
        if http {
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = c.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n");
        }
        drop(c);
    }
    std::process::exit(0)
}

fn deep_listener() -> std::io::Result<TcpListener> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let _g = rt.enter();
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.bind(([127, 0, 0, 1], 0).into())?;
    let l = sock.listen(4096)?.into_std()?;
    l.set_nonblocking(false)?;
    Ok(l)
}

struct Server {
    port: u16,
    child: Child,
}

impl Server {
    fn start(http: bool) -> Server {
        let me = std::env::current_exe().unwrap_or_default();
        let mut child = Command::new(me)
            .arg(if http { "--serve-http" } else { "--serve-tcp" })
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start bench server: {e}"));
        let mut line = String::new();
        if let Some(out) = child.stdout.as_mut() {
            let mut b = [0u8; 1];
            while out.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
                line.push(b[0] as char);
            }
        }
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("bench server port: {line:?}"));
        Server { port, child }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Row {
    what: &'static str,
    n: usize,
    cpu: f64,
    wall: Duration,
}

/// Several rounds of one phase: the median is what we report (the machine is shared).
struct Phase {
    what: &'static str,
    rounds: Vec<Row>,
}

fn report(phases: &[Phase]) {
    println!();
    println!(
        "{:<54} {:>6} {:>7} {:>12} {:>9} {:>9} {:>12}",
        "check (loopback)", "rounds", "runs", "CPU-s/1000", "min", "max", "wall/run"
    );
    for p in phases {
        let mut per1000: Vec<f64> = p
            .rounds
            .iter()
            .map(|r| r.cpu / r.n as f64 * 1000.0)
            .collect();
        per1000.sort_by(f64::total_cmp);
        let mut walls: Vec<f64> = p
            .rounds
            .iter()
            .map(|r| r.wall.as_secs_f64() / r.n as f64 * 1e6)
            .collect();
        walls.sort_by(f64::total_cmp);
        let mid = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or(f64::NAN);
        let n = p.rounds.first().map(|r| r.n).unwrap_or(0);
        println!(
            "{:<54} {:>6} {:>7} {:>12.4} {:>9.4} {:>9.4} {:>9.1} µs",
            p.what,
            p.rounds.len(),
            n,
            mid(&per1000),
            per1000.first().copied().unwrap_or(f64::NAN),
            per1000.last().copied().unwrap_or(f64::NAN),
            mid(&walls),
        );
    }
}

fn measure_self(what: &'static str, n: usize, mut f: impl FnMut()) -> Row {
    // Warm up (page faults, lazy statics).
    for _ in 0..n.min(200) / 10 {
        f();
    }
    let c0 = cpu(UsageWho::RUSAGE_SELF);
    let t0 = Instant::now();
    for _ in 0..n {
        f();
    }
    Row {
        what,
        n,
        cpu: cpu(UsageWho::RUSAGE_SELF) - c0,
        wall: t0.elapsed(),
    }
}

fn measure_forks(what: &'static str, n: usize, program: &str, args: &[String]) -> Row {
    let s0 = cpu(UsageWho::RUSAGE_SELF);
    let c0 = cpu(UsageWho::RUSAGE_CHILDREN);
    let t0 = Instant::now();
    for _ in 0..n {
        let st = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !st.is_ok_and(|s| s.success()) {
            panic!("{program} {args:?} failed");
        }
    }
    Row {
        what,
        n,
        cpu: (cpu(UsageWho::RUSAGE_SELF) - s0) + (cpu(UsageWho::RUSAGE_CHILDREN) - c0),
        wall: t0.elapsed(),
    }
}

fn env_n(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve-tcp") {
        serve(false);
    }
    if args.iter().any(|a| a == "--serve-http") {
        serve(true);
    }
    // `cargo test --benches` runs us once in test mode: stay quick there.
    let quick = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    let n = if quick {
        50
    } else {
        env_n("MONRS_BENCH_N", 5000)
    };
    let forks = if quick {
        3
    } else {
        env_n("MONRS_BENCH_FORKS", 100)
    };

    // MONRS_BENCH_ONLY=floor,tcp,http,scripts,cli picks phases (for profiling).
    let only = std::env::var("MONRS_BENCH_ONLY").unwrap_or_default();
    let want = |phase: &str| only.is_empty() || only.split(',').any(|p| p == phase);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    let deadline = Duration::from_secs(10);
    let hosts = vec!["127.0.0.1".to_string()];
    let rounds = if quick {
        1
    } else {
        env_n("MONRS_BENCH_ROUNDS", 5)
    };
    let monrs = env!("CARGO_BIN_EXE_monrs");
    let script = |name: &str| format!("/usr/lib/mon/mon.d/{name}");
    let have_scripts = std::path::Path::new(&script("tcp.monitor")).exists();
    if want("scripts") && !have_scripts {
        println!("(Debian's mon.d scripts are not installed: script rows skipped)");
    }

    // Phases interleave round by round, so a burst of load elsewhere hits all of them.
    // A fresh server (a fresh 4-tuple space) per measurement keeps TIME_WAIT out of the way.
    let mut phases: Vec<Phase> = Vec::new();
    let mut record = |row: Row| match phases.iter_mut().find(|p| p.what == row.what) {
        Some(p) => p.rounds.push(row),
        None => phases.push(Phase {
            what: row.what,
            rounds: vec![row],
        }),
    };
    for _ in 0..rounds {
        if want("floor") {
            let srv = Server::start(false);
            let addr = ("127.0.0.1", srv.port);
            record(measure_self(
                "raw floor: std TcpStream::connect + close",
                n,
                || {
                    if TcpStream::connect(addr).is_err() {
                        panic!("floor connect failed");
                    }
                },
            ));
        }
        if want("tcp") {
            let srv = Server::start(false);
            let check = NativeCheck::new(
                Kind::Tcp,
                vec!["-p".into(), srv.port.to_string()],
                "/usr/lib/mon/mon.d/tcp.monitor",
            );
            record(measure_self(
                "native tcp.monitor -p PORT 127.0.0.1",
                n,
                || {
                    let out = rt.block_on(check.run(&hosts, deadline));
                    if !out.status.is_success() {
                        panic!("native tcp check failed: {:?}", out.output);
                    }
                },
            ));
        }
        if want("http") {
            let srv = Server::start(true);
            let check = NativeCheck::new(
                Kind::Http,
                vec!["-p".into(), srv.port.to_string(), "-t".into(), "5".into()],
                "/usr/lib/mon/mon.d/http.monitor",
            );
            record(measure_self(
                "native http.monitor -p PORT 127.0.0.1",
                n,
                || {
                    let out = rt.block_on(check.run(&hosts, deadline));
                    if !out.status.is_success() {
                        panic!("native http check failed: {:?}", out.output);
                    }
                },
            ));
        }
        if want("scripts") && have_scripts {
            let srv = Server::start(false);
            let a = vec![
                "-p".to_string(),
                srv.port.to_string(),
                "127.0.0.1".to_string(),
            ];
            record(measure_forks(
                "Debian tcp.monitor, fork+exec per check",
                forks,
                &script("tcp.monitor"),
                &a,
            ));
            let srv = Server::start(true);
            let a = vec![
                "-p".to_string(),
                srv.port.to_string(),
                "127.0.0.1".to_string(),
            ];
            record(measure_forks(
                "Debian http.monitor, fork+exec per check",
                forks,
                &script("http.monitor"),
                &a,
            ));
        }
        if want("cli") {
            let srv = Server::start(false);
            let a = vec![
                "check".to_string(),
                "tcp".to_string(),
                "-p".to_string(),
                srv.port.to_string(),
                "127.0.0.1".to_string(),
            ];
            record(measure_forks(
                "monrs check tcp, fork+exec per check",
                forks,
                monrs,
                &a,
            ));
        }
    }
    report(&phases);
}
