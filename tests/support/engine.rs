//! Helpers for the engine tests: a lab directory with mon.d/alert.d, a flag-controlled
//! monitor, a recording alert, configs built in code, and polling with deadlines.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use monrs::config::paths::Paths;
use monrs::config::{
    AlertLine, Config, Globals, HostGroup, MonitorLine, Period, Schedule, Service, Watch,
};
use monrs::engine::{self, EngineHandle, EngineOptions, Setup};

/// A monitor driven by a flag file `$FLAGDIR/$MON_SERVICE`: first line = exit code, the rest
/// = output. It also records its argv and some MON_* variables to `$FLAGDIR/$MON_SERVICE.argv`.
pub const FLAG_MONITOR: &str = r#"#!/bin/sh
f="$FLAGDIR/$MON_SERVICE"
printf '%s\n' "$*" > "$f.argv.tmp"; mv "$f.argv.tmp" "$f.argv"
printf '%s' "${#MON_LAST_OUTPUT}" > "$f.lastlen"
echo run >> "$f.runs"
[ -f "$f" ] || { echo "no flag"; exit 0; }
code=$(head -n 1 "$f")
tail -n +2 "$f"
exit "$code"
"#;

/// An alert that records each call as one directory in `$RECDIR` holding `argv` and `env`
/// (NUL-separated) and `stdin`. `$ALERT_SLEEP` makes it take that long.
pub const REC_ALERT: &str = r#"#!/bin/sh
rec="$RECDIR/$(date +%s%N).$$"
mkdir "$rec.tmp"
cat > "$rec.tmp/stdin"
[ -n "$ALERT_SLEEP" ] && sleep "$ALERT_SLEEP"
for a in "$@"; do printf '%s\0' "$a"; done > "$rec.tmp/argv"
env -0 > "$rec.tmp/env"
mv "$rec.tmp" "$rec"
"#;

/// One recorded alert call.
#[derive(Debug, Clone)]
pub struct Rec {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub stdin: String,
    pub file: String,
}

impl Rec {
    pub fn kind(&self) -> &str {
        self.env
            .get("MON_ALERTTYPE")
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The user arguments (after `-s S -g G -h H -t T [FLAG]`).
    pub fn user_args(&self) -> Vec<String> {
        let mut a = self.argv.iter().skip(8).cloned().collect::<Vec<_>>();
        if a.first()
            .is_some_and(|f| ["-u", "-a", "-D", "-T", "-O"].contains(&f.as_str()))
        {
            a.remove(0);
        }
        a
    }

    pub fn arg_after(&self, flag: &str) -> Option<&str> {
        let i = self.argv.iter().position(|a| a == flag)?;
        self.argv.get(i + 1).map(String::as_str)
    }
}

/// A temporary lab: `mon.d`, `alert.d`, `flags`, `rec`, `state`, `log`.
pub struct Lab {
    pub dir: tempfile::TempDir,
}

impl Lab {
    pub fn new() -> Lab {
        let dir = tempfile::tempdir().expect("tempdir");
        for d in ["mon.d", "alert.d", "flags", "rec", "state", "log"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
        }
        let lab = Lab { dir };
        lab.script("mon.d", "flag.monitor", FLAG_MONITOR);
        lab.script("alert.d", "rec.alert", REC_ALERT);
        lab
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn script(&self, sub: &str, name: &str, body: &str) -> PathBuf {
        let p = self.path(sub).join(name);
        std::fs::write(&p, body).expect("write script");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    /// Set what the flag monitor of `service` returns next.
    pub fn flag(&self, service: &str, exit: i32, output: &str) {
        let p = self.path("flags").join(service);
        let tmp = p.with_extension("tmp");
        std::fs::write(&tmp, format!("{exit}\n{output}")).expect("write flag");
        std::fs::rename(&tmp, &p).expect("rename flag");
    }

    pub fn runs(&self, service: &str) -> usize {
        std::fs::read_to_string(self.path("flags").join(format!("{service}.runs")))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    pub fn argv(&self, service: &str) -> String {
        std::fs::read_to_string(self.path("flags").join(format!("{service}.argv")))
            .unwrap_or_default()
            .trim_end()
            .to_string()
    }

    /// Every recorded alert, oldest first.
    pub fn recs(&self) -> Vec<Rec> {
        let mut names: Vec<String> = std::fs::read_dir(self.path("rec"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.ends_with(".tmp"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .into_iter()
            .map(|n| read_rec(&self.path("rec").join(&n), n))
            .collect()
    }

    /// Paths for a config whose scripts live in this lab (then Debian's directories).
    pub fn paths(&self) -> Paths {
        let d = self.dir.path();
        Paths {
            basedir: d.into(),
            cfbasedir: d.into(),
            statedir: d.join("state"),
            logdir: d.join("log"),
            mondir: vec![d.join("mon.d"), "/usr/lib/mon/mon.d".into()],
            alertdir: vec![d.join("alert.d"), "/usr/lib/mon/alert.d".into()],
            authfile: d.join("auth.cf"),
            userfile: d.join("users.cf"),
            dtlogfile: d.join("log/downtime.log"),
            historicfile: Some(d.join("log/history")),
            pidfile: None,
            monerrfile: "/dev/null".into(),
        }
    }

    /// The environment every service in a lab config gets.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("FLAGDIR".into(), self.path("flags").display().to_string()),
            ("RECDIR".into(), self.path("rec").display().to_string()),
        ]
    }

    /// Start the library engine on the real clock with `cfg`.
    pub fn start(&self, cfg: Config) -> (EngineHandle, tokio::task::JoinHandle<()>) {
        let setup = Setup {
            config: Arc::new(cfg),
            paths: self.paths(),
            maxkeep: 100,
            maxprocs: 0,
            randstart: None,
            historic: None,
        };
        engine::start(
            setup,
            EngineOptions {
                state_file: Some(self.path("state/monrs-state.json")),
                ..EngineOptions::default()
            },
        )
    }
}

fn read_rec(dir: &std::path::Path, file: String) -> Rec {
    let read = |n: &str| std::fs::read(dir.join(n)).unwrap_or_default();
    let split = |b: Vec<u8>| -> Vec<String> {
        b.split(|&c| c == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    };
    let argv = split(read("argv"));
    let env = split(read("env"))
        .into_iter()
        .filter(|kv| kv.starts_with("MON_"))
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    Rec {
        argv,
        env,
        stdin: String::from_utf8_lossy(&read("stdin")).into_owned(),
        file,
    }
}

/// An alert line.
pub fn line(raw: &str) -> AlertLine {
    let (exit_range, rest) = (None, raw);
    let (name, args) = rest.split_once(' ').unwrap_or((rest, ""));
    AlertLine {
        raw: raw.to_string(),
        exit_range,
        name: name.to_string(),
        args: args.to_string(),
        line: 1,
    }
}

/// A service running `monitor` every `interval`, with one always-active period.
pub fn service(
    name: &str,
    interval: Duration,
    monitor: &str,
    env: Vec<(String, String)>,
) -> Service {
    let mut s = Service::new(name, 1);
    s.schedule = Schedule::Interval(interval);
    let (mname, margs) = monitor.split_once(' ').unwrap_or((monitor, ""));
    s.monitor = Some(MonitorLine {
        raw: monitor.to_string(),
        name: mname.to_string(),
        args: margs.to_string(),
    });
    s.env = env;
    s.periods = vec![Period::new("wd {Sun-Sat}", "wd {Sun-Sat}", 1)];
    s
}

/// A config with the given hostgroups and watches (Debian's scripts, not native checks).
pub fn config(groups: &[(&str, &[&str])], watches: Vec<(&str, Vec<Service>)>) -> Config {
    Config {
        source: PathBuf::from("test.cf"),
        globals: Globals {
            native_monitors: false,
            ..Globals::default()
        },
        hostgroups: groups
            .iter()
            .map(|(n, h)| HostGroup {
                name: n.to_string(),
                hosts: h.iter().map(|s| s.to_string()).collect(),
                line: 1,
                auto: false,
            })
            .collect(),
        aliases: Vec::new(),
        views: Vec::new(),
        watches: watches
            .into_iter()
            .map(|(n, services)| Watch {
                name: n.to_string(),
                line: 1,
                services,
            })
            .collect(),
    }
}

/// Poll `f` every 50 ms until it returns Some or `secs` pass.
pub async fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Poll the async `f` every 50 ms until it returns Some or `secs` pass.
pub async fn wait_async<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a process whose command line contains `marker` is alive (not a zombie).
pub fn process_alive(marker: &str) -> bool {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return false;
    };
    rd.filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .any(|e| {
            let p = e.path();
            let cmd = std::fs::read(p.join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
            let zombie = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                == Some("Z");
            cmd.contains(marker) && !zombie
        })
}

// === the daemon binaries (monrs and mon) on a lab ===

/// Every auth.cf command granted to everyone (the lab logs in with `trustlocal`).
pub const OPEN_AUTH: &str = "list: all\nack: all\ndisable: all\nenable: all\ntest: all\n\
reset: all\nset: all\nget: all\nstop: all\nstart: all\nterm: all\nservertime: all\n\
savestate: all\nloadstate: all\nclear: all\nreload: all\ncheckauth: all\n";

/// A syslog socket in the lab that collects what the daemon logs.
pub struct Syslog {
    lines: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Syslog {
    pub fn bind(path: &std::path::Path) -> Syslog {
        let sock = std::os::unix::net::UnixDatagram::bind(path).expect("bind syslog socket");
        let lines: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
        let l2 = lines.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = sock.recv(&mut buf) {
                if let Ok(mut v) = l2.lock() {
                    v.push(String::from_utf8_lossy(&buf[..n]).into_owned());
                }
            }
        });
        Syslog { lines }
    }

    /// The message parts (after `mon[PID]: `) logged so far.
    pub fn messages(&self) -> Vec<String> {
        self.lines
            .lock()
            .map(|v| {
                v.iter()
                    .map(|l| l.split_once("]: ").map(|x| x.1).unwrap_or(l).to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn has(&self, needle: &str) -> bool {
        self.messages().iter().any(|m| m.contains(needle))
    }
}

/// A daemon (`monrs`, or `/usr/sbin/mon` for differential runs) on a lab directory.
pub struct Daemon {
    pub port: u16,
    pub trapport: u16,
    pub child: std::process::Child,
    pub dir: PathBuf,
}

impl Daemon {
    /// Write `mon_cf` and an open auth.cf into the lab and start `program` on it the way
    /// the transcripts started mon (`-b DIR -B DIR -c mon.cf -a alert.d -s mon.d ...`).
    pub fn start(program: &std::path::Path, lab: &Lab, mon_cf: &str, extra: &[&str]) -> Daemon {
        let d = lab.dir.path();
        std::fs::write(d.join("mon.cf"), mon_cf).expect("write mon.cf");
        std::fs::write(d.join("auth.cf"), OPEN_AUTH).expect("write auth.cf");
        let port = super::protocol::free_tcp_udp_port();
        let trapport = super::protocol::free_tcp_udp_port();
        Daemon::run(program, d, port, trapport, extra)
    }

    /// Start `program` again on the same lab and ports (a restart).
    pub fn run(
        program: &std::path::Path,
        d: &std::path::Path,
        port: u16,
        trapport: u16,
        extra: &[&str],
    ) -> Daemon {
        let dir = d.display().to_string();
        let child = std::process::Command::new(program)
            .args([
                "-b", &dir, "-B", &dir, "-c", "mon.cf", "-a", "alert.d", "-s", "mon.d",
            ])
            .args(["-L", "log", "-D", "state", "-P", "mon.pid"])
            .args(["-p", &port.to_string(), "-t", &trapport.to_string()])
            .args(extra)
            .current_dir(d)
            .env("MONRS_SYSLOG_SOCKET", d.join("syslog.sock"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(d.join("daemon.stderr"))
                    .expect("stderr file"),
            )
            .spawn()
            .expect("start the daemon");
        let mut dmn = Daemon {
            port,
            trapport,
            child,
            dir: d.to_path_buf(),
        };
        // With -f the process we started exits 0 once the daemon has detached.
        dmn.wait_ready(extra.contains(&"-f"));
        dmn
    }

    fn wait_ready(&mut self, detaches: bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait()
                && !(detaches && status.success())
            {
                panic!("the daemon exited ({status}): {}", self.stderr());
            }
            if let Ok(mut c) = super::protocol::Raw::connect(self.port)
                && c.request("version")
                    .is_ok_and(|r| r.last().is_some_and(|l| l.starts_with("220")))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the daemon did not answer within 30 s: {}", self.stderr());
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.stderr")).unwrap_or_default()
    }

    /// One request, its reply lines.
    pub fn cmd(&self, line: &str) -> Vec<String> {
        super::protocol::Raw::connect(self.port)
            .and_then(|mut c| c.request(line))
            .unwrap_or_else(|e| panic!("`{line}`: {e}; stderr: {}", self.stderr()))
    }

    /// The opstatus record of `group`/`service`.
    pub fn opstatus(&self, group: &str, service: &str) -> String {
        self.cmd(&format!("list opstatus {group},{service}"))
            .first()
            .cloned()
            .unwrap_or_default()
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(0)),
            sig,
        );
    }

    /// Wait up to `secs` for the daemon to exit.
    pub fn wait_exit(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(nix::sys::signal::Signal::SIGTERM);
            if self.wait_exit(10).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}
