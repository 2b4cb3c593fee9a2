//! Helpers every native action shares: option parsing (Perl's Getopt::Std and our own
//! long/short options), `MONRS_*` settings lookup, bounded child processes, the host rule.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::alerts::{AlertCall, AlertKind};

// === Getopt::Std ===

/// What Perl's `getopts(SPEC)` leaves behind: the options seen (last value wins, as in
/// Perl), the remaining arguments, and the "Unknown option" warnings it would print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StdOpts {
    pub(crate) opts: Vec<(char, Option<String>)>,
    pub(crate) rest: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

impl StdOpts {
    /// The value of `-c` (the last one given), if it was given with a value.
    pub(crate) fn value(&self, c: char) -> Option<&str> {
        self.opts
            .iter()
            .rev()
            .find(|(k, _)| *k == c)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether `-c` was given (a flag or an option with a value).
    pub(crate) fn has(&self, c: char) -> bool {
        self.opts.iter().any(|(k, _)| *k == c)
    }
}

/// Parse `argv` the way Perl's `Getopt::Std::getopts(spec)` does: options stop at the
/// first word that is not `-X...` (a lone `-` included) or after `--`; flags may be
/// clustered (`-uS subj`); an option's value is the rest of its word or the next word;
/// unknown letters are reported and skipped.
pub(crate) fn getopts_std(spec: &str, argv: &[String]) -> StdOpts {
    let takes_value = |c: char| -> Option<bool> {
        if c == ':' {
            return None;
        }
        let mut it = spec.chars().peekable();
        while let Some(s) = it.next() {
            if s == ':' {
                continue;
            }
            if s == c {
                return Some(it.peek() == Some(&':'));
            }
        }
        None
    };
    let mut out = StdOpts::default();
    let mut args: Vec<String> = argv.to_vec();
    let mut i = 0;
    while i < args.len() {
        let word = args[i].clone();
        let mut chars = word.chars();
        if chars.next() != Some('-') {
            break;
        }
        let Some(first) = chars.next() else { break };
        let rest: String = chars.collect();
        if word == "--" {
            i += 1;
            break;
        }
        match takes_value(first) {
            Some(true) => {
                i += 1;
                let value = if rest.is_empty() {
                    let v = args.get(i).cloned();
                    if v.is_some() {
                        i += 1;
                    }
                    v
                } else {
                    Some(rest)
                };
                out.opts.push((first, value));
            }
            Some(false) => {
                out.opts.push((first, None));
                if rest.is_empty() {
                    i += 1;
                } else {
                    args[i] = format!("-{rest}");
                }
            }
            None => {
                if first == '-' && (rest == "help" || rest == "version") {
                    i += 1;
                    continue;
                }
                out.warnings.push(format!("Unknown option: {first}"));
                if rest.is_empty() {
                    i += 1;
                } else {
                    args[i] = format!("-{rest}");
                }
            }
        }
    }
    out.rest = args.split_off(i.min(args.len()));
    out
}

// === Options of our own actions ===

/// One option an action accepts: `-s`/`--long`, with or without a value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptSpec {
    pub(crate) short: Option<char>,
    pub(crate) long: &'static str,
    pub(crate) value: bool,
}

pub(crate) const fn opt(short: char, long: &'static str, value: bool) -> OptSpec {
    OptSpec {
        short: Some(short),
        long,
        value,
    }
}

pub(crate) const fn long_opt(long: &'static str, value: bool) -> OptSpec {
    OptSpec {
        short: None,
        long,
        value,
    }
}

/// Parsed options of our own actions, keyed by the long name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) opts: Vec<(&'static str, Option<String>)>,
    pub(crate) positional: Vec<String>,
}

impl Parsed {
    pub(crate) fn last(&self, long: &str) -> Option<&str> {
        self.opts
            .iter()
            .rev()
            .find(|(k, _)| *k == long)
            .and_then(|(_, v)| v.as_deref())
    }

    pub(crate) fn all(&self, long: &str) -> Vec<&str> {
        self.opts
            .iter()
            .filter(|(k, _)| *k == long)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }

    pub(crate) fn flag(&self, long: &str) -> bool {
        self.opts.iter().any(|(k, _)| *k == long)
    }
}

/// Parse an action's own arguments strictly: `-x VALUE`, `-xVALUE`, `--long VALUE`,
/// `--long=VALUE`, clustered flags, `--` ends the options. Unknown options are errors,
/// because a misspelt guard option must not silently turn a guard off.
pub(crate) fn parse_opts(specs: &[OptSpec], args: &[String]) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_positional || a == "-" || !a.starts_with('-') {
            out.positional.push(a.clone());
            continue;
        }
        if a == "--" {
            only_positional = true;
            continue;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let spec = specs
                .iter()
                .find(|s| s.long == name)
                .ok_or_else(|| format!("unknown option --{name}"))?;
            if spec.value {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        let v = args
                            .get(i)
                            .cloned()
                            .ok_or_else(|| format!("option --{name} needs a value"))?;
                        i += 1;
                        v
                    }
                };
                out.opts.push((spec.long, Some(v)));
            } else {
                if inline.is_some() {
                    return Err(format!("option --{name} takes no value"));
                }
                out.opts.push((spec.long, None));
            }
            continue;
        }
        let mut chars: Vec<char> = a.chars().skip(1).collect();
        while !chars.is_empty() {
            let c = chars.remove(0);
            let spec = specs
                .iter()
                .find(|s| s.short == Some(c))
                .ok_or_else(|| format!("unknown option -{c}"))?;
            if spec.value {
                let v = if chars.is_empty() {
                    let v = args
                        .get(i)
                        .cloned()
                        .ok_or_else(|| format!("option -{c} needs a value"))?;
                    i += 1;
                    v
                } else {
                    let v: String = chars.drain(..).collect();
                    v
                };
                out.opts.push((spec.long, Some(v)));
            } else {
                out.opts.push((spec.long, None));
            }
        }
    }
    Ok(out)
}

/// A mon time value (`30s`, `10m`, `1.5h`) or a plain number of seconds.
pub(crate) fn parse_duration(what: &str, s: &str) -> Result<Duration, String> {
    if let Ok(n) = s.trim().parse::<f64>()
        && n.is_finite()
        && n >= 0.0
    {
        return Ok(Duration::from_secs_f64(n));
    }
    crate::config::timeval::parse(s)
        .ok_or_else(|| format!("{what}: '{s}' is not a time value (like 30s, 10m, 1h)"))
}

// === Settings from the environment ===

/// A setting as an alert script would see it: the service's `VAR=value` lines (the last
/// one wins), else monrs's own environment.
pub(crate) fn setting(call_env: &[(String, String)], key: &str) -> Option<String> {
    call_env
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var(key).ok())
        .filter(|v| !v.is_empty())
}

/// A yes/no setting (`1/yes/true/on`, `0/no/false/off`).
pub(crate) fn parse_bool(what: &str, v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" => Ok(false),
        _ => Err(format!("{what}: '{v}' is not yes or no")),
    }
}

// === The host rule ===

/// Which of the call's hosts are failing and which are fine, for actions that act per
/// host (pools, Alertmanager). An upalert means every host is fine. A failure means the
/// hosts named as words in the summary are failing (mon's monitors list the failing
/// hosts there); when the summary names none of them, all of them are.
pub(crate) fn split_hosts(call: &AlertCall) -> (Vec<String>, Vec<String>) {
    let hosts = dedup(&call.hosts);
    match call.kind {
        AlertKind::Up => (Vec::new(), hosts),
        _ => {
            let words: Vec<&str> = call.summary.split_whitespace().collect();
            let named: Vec<String> = hosts
                .iter()
                .filter(|h| words.contains(&h.as_str()))
                .cloned()
                .collect();
            if named.is_empty() {
                (hosts, Vec::new())
            } else {
                let fine = hosts.into_iter().filter(|h| !named.contains(h)).collect();
                (named, fine)
            }
        }
    }
}

/// Keep the first occurrence of each host (mon keeps duplicates in `-h`).
pub(crate) fn dedup(hosts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(hosts.len());
    for h in hosts {
        if !h.is_empty() && !out.contains(h) {
            out.push(h.clone());
        }
    }
    out
}

/// Squash text into one line for an `Outcome` detail.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::new();
    for part in s.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push_str(" | ");
        }
        out.push_str(part);
    }
    const MAX: usize = 600;
    if out.len() > MAX {
        let mut cut = MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

/// The host name as `uname -n` prints it (for Message-IDs and default senders).
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

// === Child processes with a deadline ===

/// What a finished (or killed) command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CmdOutput {
    /// Exit code; None when killed by a signal or at the deadline.
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) timed_out: bool,
}

impl CmdOutput {
    pub(crate) fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// `exit 0`, `exit 2: <stderr>`, `killed after 10s`, for Outcome details.
    pub(crate) fn describe(&self, limit: Duration) -> String {
        let mut s = match (self.code, self.timed_out) {
            (_, true) => format!("killed after {}s (deadline)", limit.as_secs_f64()),
            (Some(c), _) => format!("exit {c}"),
            (None, _) => "killed by a signal".to_string(),
        };
        let err = one_line(&self.stderr);
        if !err.is_empty() {
            s.push_str(": ");
            s.push_str(&err);
        }
        s
    }
}

/// Find `program` the way a shell would, using `PATH` from the service's environment
/// lines when they set one (alert scripts see that PATH too).
pub(crate) fn find_program(program: &str, call_env: &[(String, String)]) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let path = setting(call_env, "PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| is_executable(p))
}

pub(crate) fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Kills the whole process group of a command that is still running when its future is
/// dropped (deadline reached, or the caller gave up on the delivery).
struct GroupGuard(Option<i32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

const OUTPUT_CAP: u64 = 256 * 1024;

/// Run `argv` (program first) with extra environment and optional stdin, in its own
/// process group, killed (the whole group) at `limit`. Err only when it cannot start.
pub(crate) async fn run_cmd(
    argv: &[String],
    env: &[(String, String)],
    stdin: Option<&[u8]>,
    limit: Duration,
) -> Result<CmdOutput, String> {
    let Some(prog) = argv.first() else {
        return Err("empty command".to_string());
    };
    let path = find_program(prog, env).ok_or_else(|| format!("{prog}: command not found"))?;
    let mut cmd = Command::new(&path);
    cmd.args(&argv[1..])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{}: cannot run: {e}", path.display()))?;
    let mut guard = GroupGuard(child.id().and_then(|p| i32::try_from(p).ok()));

    let input = stdin.map(<[u8]>::to_vec);
    let mut child_in = child.stdin.take();
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let work = async {
        let feed = async {
            if let (Some(w), Some(data)) = (child_in.as_mut(), input.as_deref()) {
                // A command that exits without reading its stdin is not an error here.
                let _ = w.write_all(data).await;
            }
            drop(child_in.take());
        };
        let read_out = async {
            let mut buf = Vec::new();
            if let Some(r) = out.as_mut() {
                let _ = r.take(OUTPUT_CAP).read_to_end(&mut buf).await;
            }
            buf
        };
        let read_err = async {
            let mut buf = Vec::new();
            if let Some(r) = err.as_mut() {
                let _ = r.take(OUTPUT_CAP).read_to_end(&mut buf).await;
            }
            buf
        };
        let ((), o, e) = tokio::join!(feed, read_out, read_err);
        let status = child.wait().await;
        (status, o, e)
    };
    match tokio::time::timeout(limit, work).await {
        Ok((status, o, e)) => {
            let code = status.ok().and_then(|s| s.code());
            guard.0 = None;
            Ok(CmdOutput {
                code,
                stdout: String::from_utf8_lossy(&o).into_owned(),
                stderr: String::from_utf8_lossy(&e).into_owned(),
                timed_out: false,
            })
        }
        Err(_) => {
            // The guard kills the group when it goes out of scope, right after this.
            Ok(CmdOutput {
                code: None,
                stdout: String::new(),
                stderr: String::new(),
                timed_out: true,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn getopts_std_matches_perl_for_mon_argv() {
        // mon's argv for `alert mail.alert -S "sub ject" a b`, upalert flag included.
        let o = getopts_std(
            "S:s:g:h:t:l:f:u",
            &v(&[
                "-s", "svc", "-g", "grp", "-h", "h1 h2", "-t", "17", "-u", "-S", "sub ject", "a",
                "b",
            ]),
        );
        assert_eq!(o.value('s'), Some("svc"));
        assert_eq!(o.value('h'), Some("h1 h2"));
        assert_eq!(o.value('S'), Some("sub ject"));
        assert!(o.has('u'));
        assert_eq!(o.rest, v(&["a", "b"]));
        assert!(o.warnings.is_empty());
    }

    #[test]
    fn getopts_std_clusters_unknown_and_stops() {
        let o = getopts_std("S:s:g:h:t:l:f:u", &v(&["-aS", "x", "-", "-u"]));
        assert_eq!(o.warnings, vec!["Unknown option: a".to_string()]);
        assert_eq!(o.value('S'), Some("x"));
        assert_eq!(o.rest, v(&["-", "-u"]));
        let o = getopts_std("uf:", &v(&["-uffrom@x", "--", "-u"]));
        assert_eq!(o.value('f'), Some("from@x"));
        assert_eq!(o.rest, v(&["-u"]));
        // A value option at the very end gets no value, like Perl's undef.
        let o = getopts_std("S:", &v(&["-S"]));
        assert_eq!(o.value('S'), None);
        assert!(o.has('S'));
    }

    #[test]
    fn own_options_are_strict() {
        let specs = [opt('w', "window", true), opt('n', "dry-run", false)];
        let p = parse_opts(&specs, &v(&["-nw", "10m", "--window=5m", "all"])).expect("valid");
        assert!(p.flag("dry-run"));
        assert_eq!(p.last("window"), Some("5m"));
        assert_eq!(p.all("window"), vec!["10m", "5m"]);
        assert_eq!(p.positional, v(&["all"]));
        assert!(parse_opts(&specs, &v(&["--windw", "1m"])).is_err());
        assert!(parse_opts(&specs, &v(&["-w"])).is_err());
        assert!(parse_opts(&specs, &v(&["--dry-run=yes"])).is_err());
    }

    #[test]
    fn durations_accept_timevals_and_seconds() {
        assert_eq!(parse_duration("x", "10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("x", "2.5"), Ok(Duration::from_millis(2500)));
        assert!(parse_duration("x", "soon").is_err());
    }

    fn call(kind: AlertKind, hosts: &[&str], summary: &str) -> AlertCall {
        AlertCall {
            kind,
            redistribute: false,
            group: "g".into(),
            service: "s".into(),
            period: None,
            name: "x".into(),
            raw_args: String::new(),
            args: Vec::new(),
            hosts: v(hosts),
            time: 0,
            stdin: bytes::Bytes::new(),
            summary: summary.into(),
            env: Vec::new(),
        }
    }

    #[test]
    fn host_rule_uses_summary_words() {
        let c = call(AlertKind::Failure, &["w1", "w2", "w3"], "w2 w3");
        assert_eq!(split_hosts(&c), (v(&["w2", "w3"]), v(&["w1"])));
        // Nothing named: every host is failing (one realserver per hostgroup setups).
        let c = call(AlertKind::Failure, &["w1"], "connection refused");
        assert_eq!(split_hosts(&c), (v(&["w1"]), v(&[])));
        // "w1x" is not "w1".
        let c = call(AlertKind::Failure, &["w1", "w2"], "w1x w2");
        assert_eq!(split_hosts(&c), (v(&["w2"]), v(&["w1"])));
        let c = call(AlertKind::Up, &["w1", "w2", "w1"], "w1");
        assert_eq!(split_hosts(&c), (v(&[]), v(&["w1", "w2"])));
    }

    #[test]
    fn one_line_joins_and_caps() {
        assert_eq!(one_line("a\n\n b \nc\n"), "a | b | c");
        assert!(one_line(&"x".repeat(2000)).len() < 700);
    }

    #[tokio::test]
    async fn run_cmd_feeds_stdin_and_reports_exit() {
        let out = run_cmd(
            &v(&["sh", "-c", "cat; echo oops >&2; exit 3"]),
            &[],
            Some(b"hello"),
            Duration::from_secs(10),
        )
        .await
        .expect("sh runs");
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout, "hello");
        assert_eq!(out.describe(Duration::from_secs(10)), "exit 3: oops");
    }

    #[tokio::test]
    async fn run_cmd_kills_the_group_at_the_deadline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let marker = dir.path().join("survivor");
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let start = std::time::Instant::now();
        let out = run_cmd(
            &v(&["sh", "-c", &script]),
            &[],
            None,
            Duration::from_millis(200),
        )
        .await
        .expect("sh runs");
        assert!(out.timed_out);
        assert!(start.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(
            !marker.exists(),
            "a background child of the killed command survived"
        );
    }

    #[tokio::test]
    async fn run_cmd_reports_missing_programs() {
        let err = run_cmd(
            &v(&["no-such-program-monrs"]),
            &[],
            None,
            Duration::from_secs(1),
        )
        .await
        .expect_err("missing program");
        assert!(err.contains("command not found"), "{err}");
    }
}
