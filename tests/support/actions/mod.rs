//! Real components for the action tests, reusable by daemon end-to-end tests: an SMTP
//! server (aiosmtpd), HAProxy, Alertmanager with a webhook sink, heartbeat and Pacemaker
//! clusters in network namespaces, and an ipvsadm argv recorder.

#![allow(dead_code)]

pub mod alertmanager;
pub mod cluster;
pub mod haproxy;
pub mod ipvs;
pub mod smtp;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use monrs::alerts::{AlertCall, AlertKind};

/// Directory of the harness's helper scripts (python servers, shell node runners).
pub fn scripts_dir() -> PathBuf {
    super::repo_root().join("tests/support/actions")
}

/// Debian's python3 (the one on PATH may be pyenv's, without Debian's aiosmtpd).
pub const PYTHON: &str = "/usr/bin/python3";

/// A child process that is stopped (TERM, then KILL) when dropped.
pub struct Proc {
    pub child: Child,
    pub name: String,
}

impl Proc {
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap_or(0)
    }

    /// Stop it now: SIGTERM, up to 3 s to exit, then SIGKILL.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = nix::unistd::Pid::from_raw(self.pid());
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Start `cmd` with stdout piped and wait (up to `limit`) for a stdout line starting
/// with `ready`; returns the process and that line.
pub fn spawn_until_line(
    mut cmd: Command,
    name: &str,
    ready: &str,
    limit: Duration,
) -> (Proc, String) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let prefix = ready.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.starts_with(&prefix) {
                let _ = tx.send(line);
            }
        }
    });
    let mut p = Proc {
        child,
        name: name.to_string(),
    };
    match rx.recv_timeout(limit) {
        Ok(line) => (p, line),
        Err(_) => {
            p.stop();
            panic!("{name} did not print '{ready}' within {limit:?}");
        }
    }
}

/// Poll `f` every 50 ms until it returns Some, or panic with `what` after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < end,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Poll `f` asynchronously (so in-process servers keep running) until Some or `limit`.
pub async fn wait_for_async<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < end,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Run a command to completion with a time limit; (exit code, stdout, stderr).
pub fn run(argv: &[&str], limit: Duration) -> (i32, String, String) {
    let mut cmd = Command::new("timeout");
    cmd.arg("-s")
        .arg("KILL")
        .arg(format!("{}", limit.as_secs_f64()))
        .args(argv);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {argv:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An alert call as the engine would prepare it.
pub struct CallBuilder {
    pub call: AlertCall,
}

impl CallBuilder {
    pub fn new(kind: AlertKind, group: &str, service: &str, name: &str) -> Self {
        CallBuilder {
            call: AlertCall {
                kind,
                redistribute: false,
                group: group.to_string(),
                service: service.to_string(),
                period: Some("wd {Sun-Sat}".to_string()),
                name: name.to_string(),
                raw_args: String::new(),
                args: Vec::new(),
                hosts: Vec::new(),
                time: 1_700_000_000,
                stdin: Bytes::new(),
                summary: "(NO SUMMARY)".to_string(),
                env: Vec::new(),
            },
        }
    }

    pub fn hosts(mut self, hosts: &[&str]) -> Self {
        self.call.hosts = hosts.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.call.args = args.iter().map(|s| s.to_string()).collect();
        self.call.raw_args = args.join(" ");
        self
    }

    pub fn time(mut self, t: i64) -> Self {
        self.call.time = t;
        self
    }

    /// Monitor output: the first line is the summary.
    pub fn output(mut self, out: &str) -> Self {
        self.call.stdin = Bytes::from(out.to_string());
        let first = out.lines().next().unwrap_or("").trim();
        self.call.summary = if first.is_empty() {
            "(NO SUMMARY)".to_string()
        } else {
            first.to_string()
        };
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.call.env.push((k.to_string(), v.to_string()));
        self
    }

    pub fn build(self) -> AlertCall {
        self.call
    }
}

/// Select the native action `name` with `args`, failing the test if there is none or
/// the arguments are rejected.
pub fn action(name: &str, args: &[&str]) -> monrs::alerts::actions::Action {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let a = monrs::alerts::actions::select(name, &args, None)
        .unwrap_or_else(|| panic!("{name} is not a native action"));
    assert_eq!(a.config_error(), None, "{name} {args:?} rejected");
    a
}

/// Whether we run as root (namespaces, bind mounts and cluster daemons need it).
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// A short unique tag for names that must not collide between concurrent tests or test
/// runs (network namespaces, interfaces): pid plus a per-process counter.
pub fn unique_tag() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{}{}", std::process::id() % 100_000, n)
}

/// Whether `path` exists and is executable.
pub fn have(path: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(Path::new(path))
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
