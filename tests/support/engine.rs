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
