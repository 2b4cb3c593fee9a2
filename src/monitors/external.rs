//! External monitors (mon.d scripts) and the child-process runner shared with alert
//! scripts: script lookup on a search path, mon's argv and `MON_*` environment, one pipe for
//! stdout+stderr, its own process group, a deadline, and no blocking of the caller.
//!
//! Differences from mon (see docs/engine.md): a run has a deadline after which its whole
//! process group is killed (mon has none); a monitor killed by a signal is a failure with
//! exit value 128+signal (mon counts it as a success); `MON_LAST_*` values are cut to
//! `decide::ENV_VALUE_MAX` bytes (mon's full values break `exec` past ~128 KiB).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{MonitorOutput, RunStatus};
use crate::config::Service;
use crate::config::words::quotewords;
use crate::state::ServiceState;

/// Default deadline of a monitor run when neither the service nor the globals set
/// `monitor_timeout`. mon has none; five minutes is longer than any sane check and short
/// enough that a hung script does not silence a service for good.
pub const DEFAULT_MONITOR_TIMEOUT: Duration = Duration::from_secs(300);

/// Output beyond this is read and thrown away (a runaway script must not eat the memory).
pub const OUTPUT_MAX: usize = 16 * 1024 * 1024;

/// Where scripts of one kind (monitors or alerts) are found: the first directory of the
/// search path that holds an executable regular file of that name.
#[derive(Debug, Clone, Default)]
pub struct ScriptTable {
    dirs: Vec<PathBuf>,
    found: HashMap<String, PathBuf>,
}

impl ScriptTable {
    /// Look every name up once (mon builds its tables at load time and on reset).
    /// Returns the table and the names that were not found.
    pub fn build<'a>(
        dirs: &[PathBuf],
        names: impl IntoIterator<Item = &'a str>,
    ) -> (ScriptTable, Vec<String>) {
        let mut t = ScriptTable {
            dirs: dirs.to_vec(),
            found: HashMap::new(),
        };
        let mut missing = Vec::new();
        for name in names {
            if t.found.contains_key(name) || missing.iter().any(|m| m == name) {
                continue;
            }
            match find_script(dirs, name) {
                Some(p) => {
                    t.found.insert(name.to_string(), p);
                }
                None => missing.push(name.to_string()),
            }
        }
        (t, missing)
    }

    pub fn get(&self, name: &str) -> Option<&Path> {
        self.found.get(name).map(PathBuf::as_path)
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// mon's load-time message for a missing script.
    pub fn missing_message(&self, name: &str) -> String {
        let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        format!("{name} not found in one of ({})", dirs.join(" "))
    }
}

/// The first `dir/name` that is an executable regular file.
pub fn find_script(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    if name.starts_with('/') {
        return is_executable(Path::new(name)).then(|| PathBuf::from(name));
    }
    dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// How a monitor run is to be started (§4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgvPlan {
    /// Run this argv (argv[0] is the script's full path).
    Run {
        argv: Vec<String>,
        /// The hosts that were appended (empty with `;;`).
        hosts: Vec<String>,
    },
    /// The host list is empty and the service lacks `allow_empty_group`: do not run.
    NoHosts,
    /// The monitor arguments have unbalanced quotes: mon then execs the host list itself,
    /// which fails; the result is a failure with empty output.
    Unbalanced,
}

/// mon's command line for a monitor: quotewords(`PATH ARGS`) + HOSTS, with the `;;` rule
/// (a command ending in `;;` gets no hosts and skips the empty-group check).
pub fn monitor_argv(path: &str, args: &str, hosts: Vec<String>, allow_empty: bool) -> ArgvPlan {
    let cmd = if args.is_empty() {
        path.to_string()
    } else {
        format!("{path} {args}")
    };
    let trimmed = cmd.trim_end_matches(crate::config::words::is_perl_space);
    if let Some(stripped) = trimmed.strip_suffix(";;") {
        let stripped = stripped.trim_end_matches(crate::config::words::is_perl_space);
        return match quotewords(stripped) {
            Some(argv) if !argv.is_empty() => ArgvPlan::Run {
                argv,
                hosts: Vec::new(),
            },
            _ => ArgvPlan::Unbalanced,
        };
    }
    if hosts.is_empty() && !allow_empty {
        return ArgvPlan::NoHosts;
    }
    match quotewords(&cmd) {
        Some(mut argv) if !argv.is_empty() => {
            argv.extend(hosts.iter().cloned());
            ArgvPlan::Run { argv, hosts }
        }
        _ => ArgvPlan::Unbalanced,
    }
}

/// The environment of a monitor run (§4.2), in the order it is applied on top of the
/// daemon's own: the service's `VAR=value` lines, then the `MON_*` variables.
pub fn monitor_env(
    group: &str,
    svc: &Service,
    st: &ServiceState,
    base_env: &[(String, String)],
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = svc
        .env
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect();
    let mut set = |k: &str, v: OsString| env.push((OsString::from(k), v));
    set("MON_GROUP", group.into());
    set("MON_SERVICE", svc.name.as_str().into());
    if let Some(v) = &st.last_summary {
        set("MON_LAST_SUMMARY", env_bytes(v));
    }
    if let Some(v) = &st.last_output {
        set("MON_LAST_OUTPUT", env_bytes(v));
    }
    set("MON_LAST_FAILURE", st.last_failure.to_string().into());
    if let Some(v) = st.first_failure {
        set("MON_FIRST_FAILURE", v.to_string().into());
    }
    if let Some(d) = st.depend_status {
        set("MON_DEPEND_STATUS", if d { "1" } else { "0" }.into());
    }
    set("MON_LAST_SUCCESS", st.last_success.to_string().into());
    if let Some(d) = &svc.description {
        set("MON_DESCRIPTION", d.as_str().into());
    }
    for (k, v) in base_env {
        set(k, v.into());
    }
    env
}

/// Raw bytes as an environment value, cut like `env_value` (the kernel takes any bytes but
/// NUL; a NUL would make the spawn fail, so the value stops there).
fn env_bytes(b: &[u8]) -> OsString {
    let cut = &b[..b.len().min(crate::alerts::decide::ENV_VALUE_MAX)];
    let cut = match cut.iter().position(|&c| c == 0) {
        Some(i) => &cut[..i],
        None => cut,
    };
    OsStr::from_bytes(cut).to_os_string()
}

/// One child process to run.
#[derive(Debug, Clone)]
pub struct ProcSpec {
    /// argv[0] is the program.
    pub argv: Vec<OsString>,
    /// Added to the daemon's environment, in order.
    pub env: Vec<(OsString, OsString)>,
    /// Written to stdin (then closed); `None` = `/dev/null`.
    pub stdin: Option<Bytes>,
    pub timeout: Duration,
    /// Names the run in the timeout line (`tcp.monitor timed out after 5s`).
    pub label: String,
}

/// How a child process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcResult {
    pub status: RunStatus,
    /// stdout and stderr, interleaved in write order.
    pub output: Bytes,
    pub duration: Duration,
    /// Why the spawn failed, when it did.
    pub error: Option<String>,
}

/// The first line of a timed-out run's output (the summary says what happened).
pub fn timeout_line(label: &str, timeout: Duration) -> String {
    format!(
        "{label} timed out after {}s, process group killed\n",
        fmt_secs(timeout)
    )
}

fn fmt_secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        d.as_secs().to_string()
    } else {
        format!("{:.3}", d.as_secs_f64())
            .trim_end_matches('0')
            .to_string()
    }
}

/// Run one child: its own process group, stdin from `spec.stdin` or /dev/null, stdout and
/// stderr on one pipe. Returns when the child has exited (what is left in the pipe is read
/// without waiting for the pipe to close, so a background grandchild cannot hold us), when
/// the deadline passes, or when `cancel` fires; the last two kill the whole process group.
/// The pid is sent on `pid_tx` as soon as the child runs.
pub async fn run_process(
    spec: ProcSpec,
    pid_tx: Option<oneshot::Sender<u32>>,
    cancel: Option<CancellationToken>,
) -> ProcResult {
    let started = Instant::now();
    let failed = |e: String| ProcResult {
        status: RunStatus::SpawnFailed,
        output: Bytes::new(),
        duration: started.elapsed(),
        error: Some(e),
    };
    let Some((prog, rest)) = spec.argv.split_first() else {
        return failed("empty command".to_string());
    };
    let (reader, writer) = match std::io::pipe() {
        Ok(p) => p,
        Err(e) => return failed(format!("pipe: {e}")),
    };
    let writer2 = match writer.try_clone() {
        Ok(w) => w,
        Err(e) => return failed(format!("pipe: {e}")),
    };
    let mut cmd = tokio::process::Command::new(prog);
    cmd.args(rest)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer2))
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .process_group(0);
    ignore_sigpipe_in_child(&mut cmd);
    let spawned = cmd.spawn();
    // The Command holds the parent's copies of the pipe's write end: drop them now, or the
    // pipe would never report EOF.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return failed(format!("could not exec {}: {e}", prog.to_string_lossy())),
    };
    let pid = child.id().unwrap_or(0);
    if let Some(tx) = pid_tx {
        let _ = tx.send(pid);
    }
    if let (Some(data), Some(mut stdin)) = (spec.stdin.clone(), child.stdin.take()) {
        // Written from its own task: a script that never reads its stdin must not hold us.
        tokio::spawn(async move {
            let _ = stdin.write_all(&data).await;
            let _ = stdin.shutdown().await;
        });
    }
    let rx = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(reader)).ok();
    let mut buf = BytesMut::new();
    let mut pipe_open = rx.is_some();
    let deadline = started + spec.timeout;
    let cancel = cancel.unwrap_or_default();

    enum End {
        Exited(std::process::ExitStatus),
        WaitError,
        TimedOut,
        Cancelled,
    }
    let end = loop {
        tokio::select! {
            st = child.wait() => break match st {
                Ok(s) => End::Exited(s),
                Err(_) => End::WaitError,
            },
            r = read_some(rx.as_ref(), &mut buf), if pipe_open => {
                if !r {
                    pipe_open = false;
                }
            }
            _ = tokio::time::sleep_until(deadline) => break End::TimedOut,
            _ = cancel.cancelled() => break End::Cancelled,
        }
    };
    if matches!(end, End::TimedOut | End::Cancelled) {
        kill_group(pid);
        // Reap the leader; the group is dead, so this is immediate.
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    }
    if let Some(rx) = rx.as_ref() {
        drain_now(rx, &mut buf);
    }
    let duration = started.elapsed();
    let (status, output) = match end {
        End::Exited(s) => (
            match (s.code(), s.signal()) {
                (Some(c), _) => RunStatus::Exited(c),
                (None, Some(sig)) => RunStatus::Signaled(sig),
                (None, None) => RunStatus::Exited(1),
            },
            buf.freeze(),
        ),
        End::WaitError => (RunStatus::Exited(1), buf.freeze()),
        End::TimedOut => {
            let mut out = BytesMut::from(timeout_line(&spec.label, spec.timeout).as_bytes());
            out.extend_from_slice(&buf);
            (RunStatus::TimedOut, out.freeze())
        }
        End::Cancelled => (RunStatus::Signaled(9), buf.freeze()),
    };
    ProcResult {
        status,
        output,
        duration,
        error: None,
    }
}

/// Wait for the pipe and read what is there. Returns false at EOF or on error.
async fn read_some(rx: Option<&tokio::net::unix::pipe::Receiver>, buf: &mut BytesMut) -> bool {
    let Some(rx) = rx else {
        return false;
    };
    if rx.readable().await.is_err() {
        return false;
    }
    let mut chunk = [0u8; 65536];
    loop {
        match rx.try_read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => {
                if buf.len() < OUTPUT_MAX {
                    let take = n.min(OUTPUT_MAX - buf.len());
                    buf.extend_from_slice(&chunk[..take]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

/// Read whatever is in the pipe right now, without waiting.
fn drain_now(rx: &tokio::net::unix::pipe::Receiver, buf: &mut BytesMut) {
    let mut chunk = [0u8; 65536];
    loop {
        match rx.try_read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                if buf.len() < OUTPUT_MAX {
                    let take = n.min(OUTPUT_MAX - buf.len());
                    buf.extend_from_slice(&chunk[..take]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

/// mon ignores SIGPIPE and its children inherit that across exec (verified on mon 1.3.6:
/// monitors and alerts run with `SigIgn: 0x1000`), so a script writing to a closed pipe
/// or socket gets EPIPE instead of dying. Rust resets SIGPIPE to the default in children;
/// this puts mon's disposition back.
#[allow(unsafe_code)]
fn ignore_sigpipe_in_child(cmd: &mut tokio::process::Command) {
    // SAFETY: the closure runs in the child between fork and exec and only calls
    // signal(2), which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            Ok(())
        });
    }
}

/// SIGKILL the process group led by `pid`.
pub fn kill_group(pid: u32) {
    if let Ok(p) = i32::try_from(pid)
        && p > 0
    {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(p),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Run one monitor script and report it the way the engine wants it.
pub async fn run_monitor(
    spec: ProcSpec,
    pid_tx: Option<oneshot::Sender<u32>>,
    cancel: Option<CancellationToken>,
) -> (MonitorOutput, Option<String>) {
    let r = run_process(spec, pid_tx, cancel).await;
    (
        MonitorOutput {
            status: r.status,
            output: r.output,
            duration: r.duration,
        },
        r.error,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MonitorLine;

    fn sh(script: &str, timeout: Duration) -> ProcSpec {
        ProcSpec {
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            env: Vec::new(),
            stdin: None,
            timeout,
            label: "t.monitor".into(),
        }
    }

    fn hosts(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn argv_rules() {
        let run = |argv: &[&str], h: &[&str]| ArgvPlan::Run {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            hosts: hosts(h),
        };
        assert_eq!(
            monitor_argv(
                "/m/ctl.monitor",
                r#"-x "quoted arg" 'single q'"#,
                hosts(&["hostA", "hostB"]),
                false
            ),
            run(
                &[
                    "/m/ctl.monitor",
                    "-x",
                    "quoted arg",
                    "single q",
                    "hostA",
                    "hostB"
                ],
                &["hostA", "hostB"]
            )
        );
        // `;;`: no hosts, and no empty-group check.
        assert_eq!(
            monitor_argv("/m/x.monitor", "-a b ;;", hosts(&["h1"]), false),
            run(&["/m/x.monitor", "-a", "b"], &[])
        );
        assert_eq!(
            monitor_argv("/m/x.monitor", "-a;;  ", Vec::new(), false),
            run(&["/m/x.monitor", "-a"], &[])
        );
        assert_eq!(
            monitor_argv("/m/x.monitor", "", Vec::new(), false),
            ArgvPlan::NoHosts
        );
        assert_eq!(
            monitor_argv("/m/x.monitor", "", Vec::new(), true),
            run(&["/m/x.monitor"], &[])
        );
        assert_eq!(
            monitor_argv("/m/x.monitor", r#"-x "open"#, hosts(&["h"]), false),
            ArgvPlan::Unbalanced
        );
    }

    #[test]
    fn env_rules() {
        let mut svc = Service::new("s1", 1);
        svc.env = vec![
            ("MON_GROUP".into(), "user-value".into()),
            ("FOO".into(), "bar".into()),
        ];
        svc.monitor = Some(MonitorLine {
            raw: "x".into(),
            name: "x".into(),
            args: String::new(),
        });
        let base = vec![("MON_STATEDIR".to_string(), "/s".to_string())];
        let st = ServiceState::new(0);
        let env = monitor_env("g1", &svc, &st, &base);
        let get = |k: &str| {
            env.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        assert_eq!(
            get("MON_GROUP").as_deref(),
            Some("g1"),
            "MON_* wins over the user's"
        );
        assert_eq!(get("FOO").as_deref(), Some("bar"));
        assert_eq!(get("MON_LAST_FAILURE").as_deref(), Some("0"));
        assert_eq!(get("MON_LAST_SUCCESS").as_deref(), Some("0"));
        assert_eq!(get("MON_LAST_SUMMARY"), None, "no result yet");
        assert_eq!(get("MON_LAST_OUTPUT"), None);
        assert_eq!(get("MON_FIRST_FAILURE"), None);
        assert_eq!(get("MON_DEPEND_STATUS"), None);
        assert_eq!(get("MON_FIRST_SUCCESS"), None, "never set for monitors");
        assert_eq!(get("MON_STATEDIR").as_deref(), Some("/s"));
        let mut st = ServiceState::new(0);
        st.last_output = Some(Bytes::from(vec![b'x'; 300 * 1024]));
        st.last_summary = Some(Bytes::from_static(b"sum"));
        st.depend_status = Some(false);
        let env = monitor_env("g1", &svc, &st, &base);
        let out = env
            .iter()
            .find(|(k, _)| k == "MON_LAST_OUTPUT")
            .map(|(_, v)| v.len());
        assert_eq!(out, Some(crate::alerts::decide::ENV_VALUE_MAX));
        assert!(
            env.iter()
                .any(|(k, v)| k == "MON_DEPEND_STATUS" && v == "0")
        );
    }

    #[test]
    fn script_lookup_first_executable_wins() -> std::io::Result<()> {
        let a = tempfile::tempdir()?;
        let b = tempfile::tempdir()?;
        let write = |d: &Path, name: &str, mode: u32| -> std::io::Result<()> {
            let p = d.join(name);
            std::fs::write(&p, "#!/bin/sh\n")?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
        };
        write(a.path(), "x.monitor", 0o644)?; // not executable: skipped
        write(b.path(), "x.monitor", 0o755)?;
        write(a.path(), "y.monitor", 0o755)?;
        write(b.path(), "y.monitor", 0o755)?;
        let dirs = vec![a.path().to_path_buf(), b.path().to_path_buf()];
        let (t, missing) = ScriptTable::build(&dirs, ["x.monitor", "y.monitor", "nope.monitor"]);
        assert_eq!(
            t.get("x.monitor"),
            Some(b.path().join("x.monitor").as_path())
        );
        assert_eq!(
            t.get("y.monitor"),
            Some(a.path().join("y.monitor").as_path())
        );
        assert_eq!(missing, vec!["nope.monitor"]);
        assert!(
            t.missing_message("nope.monitor")
                .starts_with("nope.monitor not found in one of (")
        );
        Ok(())
    }

    #[tokio::test]
    async fn stderr_and_stdout_share_one_pipe_in_order() {
        let r = run_process(
            sh(
                "echo to stderr >&2; echo sum1; echo detail >&2; exit 3",
                Duration::from_secs(10),
            ),
            None,
            None,
        )
        .await;
        assert_eq!(r.status, RunStatus::Exited(3));
        assert_eq!(&r.output[..], b"to stderr\nsum1\ndetail\n");
    }

    #[tokio::test]
    async fn stdin_is_dev_null_and_env_is_passed() {
        let mut spec = sh("cat; echo \"[$MON_X]\"", Duration::from_secs(10));
        spec.env = vec![("MON_X".into(), "v a l".into())];
        let r = run_process(spec, None, None).await;
        assert_eq!(&r.output[..], b"[v a l]\n");
        let mut spec = sh("cat", Duration::from_secs(10));
        spec.stdin = Some(Bytes::from_static(b"fed\n"));
        let r = run_process(spec, None, None).await;
        assert_eq!(&r.output[..], b"fed\n");
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("bg.pid");
        let script = format!(
            "echo partial; sleep 1000 & echo $! > {}; sleep 1000",
            pidfile.display()
        );
        let (tx, rx) = oneshot::channel();
        let started = std::time::Instant::now();
        let r = run_process(sh(&script, Duration::from_millis(500)), Some(tx), None).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(r.status, RunStatus::TimedOut);
        assert_eq!(
            &r.output[..],
            b"t.monitor timed out after 0.5s, process group killed\npartial\n"
        );
        let leader = rx.await.expect("pid reported");
        assert!(leader > 0);
        let bg: i32 = std::fs::read_to_string(&pidfile)
            .expect("background pid written")
            .trim()
            .parse()
            .expect("a pid");
        // The background sleep was in the group: it is gone (or a zombie being reaped by init).
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{bg}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            if stat.is_empty() || state == Some("Z") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "background child survived: {stat}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[tokio::test]
    async fn large_output_is_read_whole() {
        let r = run_process(
            sh(
                "head -c 1048576 /dev/zero | tr '\\0' x; echo",
                Duration::from_secs(30),
            ),
            None,
            None,
        )
        .await;
        assert_eq!(r.status, RunStatus::Exited(0));
        assert_eq!(r.output.len(), 1024 * 1024 + 1);
    }

    #[tokio::test]
    async fn exit_does_not_wait_for_background_holders_of_the_pipe() {
        let started = std::time::Instant::now();
        let r = run_process(
            sh("sleep 30 & echo done", Duration::from_secs(60)),
            None,
            None,
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(r.status, RunStatus::Exited(0));
        assert_eq!(&r.output[..], b"done\n");
    }

    #[tokio::test]
    async fn signals_and_spawn_failures() {
        let r = run_process(sh("kill -TERM $$", Duration::from_secs(10)), None, None).await;
        assert_eq!(r.status, RunStatus::Signaled(15));
        assert_eq!(r.status.exit_value(), 143);
        let spec = ProcSpec {
            argv: vec!["/nonexistent/x.monitor".into()],
            env: Vec::new(),
            stdin: None,
            timeout: Duration::from_secs(1),
            label: "x".into(),
        };
        let r = run_process(spec, None, None).await;
        assert_eq!(r.status, RunStatus::SpawnFailed);
        assert!(r.output.is_empty());
        assert!(r.error.unwrap_or_default().contains("could not exec"));
    }

    #[tokio::test]
    async fn children_run_with_sigpipe_ignored_like_mons() {
        let r = run_process(
            sh("grep SigIgn /proc/self/status", Duration::from_secs(10)),
            None,
            None,
        )
        .await;
        let text = String::from_utf8_lossy(&r.output).to_string();
        let mask = text
            .split_whitespace()
            .nth(1)
            .and_then(|m| u64::from_str_radix(m, 16).ok())
            .expect("a SigIgn mask");
        assert_ne!(mask & (1 << 12), 0, "{text}");
        // So a writer into a closed pipe sees EPIPE instead of dying.
        let r = run_process(
            sh(
                "yes | head -n 1 >/dev/null; echo done",
                Duration::from_secs(10),
            ),
            None,
            None,
        )
        .await;
        assert_eq!(r.status, RunStatus::Exited(0));
        assert!(String::from_utf8_lossy(&r.output).ends_with("done\n"));
    }

    #[tokio::test]
    async fn cancel_kills() {
        let token = CancellationToken::new();
        let t2 = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            t2.cancel();
        });
        let started = std::time::Instant::now();
        let r = run_process(
            sh("sleep 1000", Duration::from_secs(600)),
            None,
            Some(token),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!r.status.is_success());
    }
}
