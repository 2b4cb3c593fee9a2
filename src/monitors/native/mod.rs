//! Native (in-process) versions of Debian's tcp.monitor, http.monitor and
//! msql-mysql.monitor, selected from a service's `monitor` line.
//!
//! Each check parses its argv exactly as the script does (Getopt::Std / Getopt::Long, with
//! the hosts appended as mon appends them), checks every host concurrently, and assembles
//! the script's output (stderr text first, then stdout) byte for byte. See docs/native.md.

pub mod getopt;
pub mod http;
pub mod mysql;
pub mod perl;
pub mod tcp;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::MonitorOutput;
use crate::config::Globals;

/// Where Debian installs the scripts the native checks replace.
pub const STOCK_MONDIR: &str = "/usr/lib/mon/mon.d";

/// A marker line in the wrapper scripts monrs ships in `mon.d/` (they exec `monrs check`).
pub const WRAPPER_MARKER: &str = "monrs-native-wrapper";

/// Which script a native check stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Tcp,
    Http,
    Mysql,
}

impl Kind {
    /// The kind for a `monitor` name (`tcp.monitor`, ...) or a `monrs check` word (`tcp`).
    pub fn from_name(name: &str) -> Option<Kind> {
        let base = name.rsplit('/').next().unwrap_or(name);
        match base {
            "tcp.monitor" | "tcp" => Some(Kind::Tcp),
            "http.monitor" | "http" | "https" => Some(Kind::Http),
            "msql-mysql.monitor" | "mysql.monitor" | "msql.monitor" | "mysql" => Some(Kind::Mysql),
            _ => None,
        }
    }

    /// Debian's script for this kind.
    pub fn stock_script(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp.monitor",
            Kind::Http => "http.monitor",
            Kind::Mysql => "msql-mysql.monitor",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Http => "http",
            Kind::Mysql => "mysql",
        }
    }
}

/// A native check parsed from a `monitor` line's name and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeCheck {
    kind: Kind,
    /// The arguments after the name (hosts are appended at run time, as mon appends them).
    args: Vec<String>,
    /// The script's `$0`: the path mon would have executed. It appears in Perl's messages.
    program: String,
}

/// The outcome for one host, for `--json` and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostReport {
    pub host: String,
    pub ok: bool,
    /// The script's detail text for this host (empty when it is fine).
    pub detail: String,
    /// Time spent on this host.
    pub latency: Duration,
}

/// A whole run: what the script would have written, and per-host results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub kind: Kind,
    /// What the script prints on stderr (Perl warnings, Getopt messages, `die` texts).
    /// mon merges it ahead of stdout, since the scripts print their results at the end.
    pub stderr: Vec<u8>,
    pub stdout: Vec<u8>,
    pub exit: i32,
    pub hosts: Vec<HostReport>,
    pub duration: Duration,
}

impl Report {
    /// A report with only a message (option errors and the like).
    pub(crate) fn message(kind: Kind, stderr: Vec<u8>, stdout: Vec<u8>, exit: i32) -> Report {
        Report {
            kind,
            stderr,
            stdout,
            exit,
            hosts: Vec::new(),
            duration: Duration::ZERO,
        }
    }

    /// stderr then stdout, as mon reads the merged pipe.
    pub fn merged(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.stderr.len() + self.stdout.len());
        out.extend_from_slice(&self.stderr);
        out.extend_from_slice(&self.stdout);
        out
    }

    /// The summary line (first line of the merged output).
    pub fn summary(&self) -> String {
        let all = self.merged();
        let end = all.iter().position(|&b| b == b'\n').unwrap_or(all.len());
        String::from_utf8_lossy(&all[..end]).into_owned()
    }
}

/// How the monitor name and the mondir lookup decide between native and script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Run in-process; the text says why.
    Native(String),
    /// Run the script; the text says why.
    Script(String),
}

/// The selection rule, with its reason (for the log line at config load and `--check`).
///
/// Native is used for `tcp.monitor`, `http.monitor`, `msql-mysql.monitor`, `mysql.monitor`
/// and `msql.monitor` when `native_monitors` is on (the default) and the script found on the
/// mondir path is Debian's own (the file under /usr/lib/mon/mon.d, a symlink or hard link
/// to it, or a byte-identical copy), monrs's wrapper, or no script at all. Any other script
/// of that name is the user's own and wins. `None`: monrs has no native check of that name.
pub fn choose(name: &str, script: Option<&Path>, globals: &Globals) -> Option<Choice> {
    if name.contains('/') {
        return None;
    }
    let kind = Kind::from_name(name).filter(|_| name.ends_with(".monitor"))?;
    if !globals.native_monitors {
        return Some(Choice::Script(format!(
            "{name}: native_monitors = no, running the script"
        )));
    }
    let Some(path) = script else {
        return Some(Choice::Native(format!(
            "{name}: no script of that name on the mondir path, using the native {} check",
            kind.as_str()
        )));
    };
    if is_wrapper(path) {
        return Some(Choice::Native(format!(
            "{name}: {} is monrs's wrapper, using the native {} check in-process",
            path.display(),
            kind.as_str()
        )));
    }
    if is_stock(kind, path) {
        return Some(Choice::Native(format!(
            "{name}: {} is Debian's stock script, using the native {} check",
            path.display(),
            kind.as_str()
        )));
    }
    Some(Choice::Script(format!(
        "{name}: {} is not Debian's stock script, running it (a site-local script wins)",
        path.display()
    )))
}

/// mon's monitor lookup (config.md §8.2): the first directory on the mondir path that
/// holds an executable file of that name.
pub fn find_script(name: &str, mondir: &[PathBuf]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    mondir.iter().map(|d| d.join(name)).find(|p| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// One line per distinct native-capable `monitor` name in `config`, saying whether it runs
/// natively or as a script and why (for the log at config load and for `--check`).
pub fn describe(config: &crate::config::Config, mondir: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<&str> = config
        .services()
        .filter_map(|(_, s)| s.monitor.as_ref().map(|m| m.name.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let script = find_script(name, mondir);
            match choose(name, script.as_deref(), &config.globals)? {
                Choice::Native(why) | Choice::Script(why) => Some(why),
            }
        })
        .collect()
}

fn stock_path(kind: Kind) -> PathBuf {
    Path::new(STOCK_MONDIR).join(kind.stock_script())
}

/// Whether `path` is Debian's script for `kind`: the same file (path, symlink, hard link)
/// or a byte-identical copy.
fn is_stock(kind: Kind, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let stock = stock_path(kind);
    let (Ok(a), Ok(b)) = (std::fs::metadata(path), std::fs::metadata(&stock)) else {
        return false;
    };
    if a.dev() == b.dev() && a.ino() == b.ino() {
        return true;
    }
    if a.len() != b.len() {
        return false;
    }
    matches!((std::fs::read(path), std::fs::read(&stock)), (Ok(x), Ok(y)) if x == y)
}

/// Whether `path` is one of the wrappers monrs ships (small shell scripts with the marker).
fn is_wrapper(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(m) if m.len() < 16 * 1024 => {}
        _ => return false,
    }
    std::fs::read(path).is_ok_and(|t| {
        t.starts_with(b"#!")
            && t.windows(WRAPPER_MARKER.len())
                .any(|w| w == WRAPPER_MARKER.as_bytes())
    })
}

/// The native check for `monitor NAME ARGS...`, if monrs has one for NAME and should use
/// it. `args` are the quotewords-split arguments (without hosts); `script` is where the
/// mondir lookup found a script of that name, if anywhere. `Some(Err(text))` means the
/// options are invalid: the run fails with `text` as its output, as the script would.
pub fn select(
    name: &str,
    args: &[String],
    script: Option<&Path>,
    globals: &Globals,
) -> Option<Result<NativeCheck, String>> {
    match choose(name, script, globals)? {
        Choice::Script(why) => {
            log_once(why);
            return None;
        }
        Choice::Native(why) => log_once(why),
    }
    let kind = Kind::from_name(name)?;
    let program = match script {
        Some(p) => p.display().to_string(),
        None => format!("{STOCK_MONDIR}/{name}"),
    };
    let check = NativeCheck {
        kind,
        args: args.to_vec(),
        program,
    };
    // msql mode needs DBD::mSQL; only the script can do (or fail at) that.
    if kind == Kind::Mysql && check.mysql_mode_is_msql() {
        return None;
    }
    Some(check.validate().map(|()| check))
}

impl NativeCheck {
    /// A check of `kind` run as the script at `program` would run it (used by `monrs check`).
    pub fn new(kind: Kind, args: Vec<String>, program: impl Into<String>) -> NativeCheck {
        NativeCheck {
            kind,
            args,
            program: program.into(),
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Whether the mysql script would run in mSQL mode for these arguments.
    pub fn mysql_mode_is_msql(&self) -> bool {
        let argv: Vec<&[u8]> = self.args.iter().map(|a| a.as_bytes()).collect();
        mysql::is_msql_mode(&self.program, &argv)
    }

    /// Reject extension option values that can never work (a bad regex, a bad code list).
    /// Options the script itself accepts are never rejected here.
    pub fn validate(&self) -> Result<(), String> {
        let argv: Vec<&[u8]> = self.args.iter().map(|a| a.as_bytes()).collect();
        match self.kind {
            Kind::Tcp => tcp::validate(&self.program, &argv),
            Kind::Http => http::validate(&self.program, &argv),
            Kind::Mysql => Ok(()),
        }
    }

    /// Check every host (concurrently) and produce the script's summary, detail and exit.
    pub async fn run(&self, hosts: &[String], deadline: Duration) -> MonitorOutput {
        let report = self.run_report(hosts, deadline).await;
        MonitorOutput::new(report.exit, report.merged(), report.duration)
    }

    /// Like `run`, with per-host results and stderr and stdout kept apart.
    pub async fn run_report(&self, hosts: &[String], deadline: Duration) -> Report {
        let started = Instant::now();
        // A deadline too far out to represent is no deadline.
        let until = started
            .checked_add(deadline)
            .unwrap_or_else(|| started + Duration::from_secs(100 * 365 * 86_400));
        let argv: Vec<&[u8]> = self
            .args
            .iter()
            .chain(hosts.iter())
            .map(|a| a.as_bytes())
            .collect();
        let mut report = match self.kind {
            Kind::Tcp => tcp::run(&self.program, &argv, until).await,
            Kind::Http => http::run(&self.program, &argv, until).await,
            Kind::Mysql => mysql::run(&self.program, &argv, until).await,
        };
        report.duration = started.elapsed();
        report
    }
}

/// Log a selection decision at info level the first time it is made in this process
/// (select may be called for every run; the decision is news only once).
fn log_once(why: String) {
    static SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let fresh = SEEN
        .lock()
        .map(|mut s| s.insert(why.clone()))
        .unwrap_or(true);
    if fresh {
        tracing::info!("{why}");
    } else {
        tracing::debug!("{why}");
    }
}

/// At most this many hosts of one check are in flight at once (file descriptors are finite).
pub const MAX_PARALLEL_HOSTS: usize = 256;

/// Run one future per host, concurrently (bounded), results in host order.
pub(crate) async fn per_host<F: std::future::Future>(
    futs: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    use futures_util::StreamExt;
    let mut futs: Vec<F> = futs.into_iter().collect();
    if futs.len() == 1
        && let Some(only) = futs.pop()
    {
        // The common single-host service: no stream machinery.
        return vec![only.await];
    }
    futures_util::stream::iter(futs)
        .buffered(MAX_PARALLEL_HOSTS)
        .collect()
        .await
}

/// Install rustls's ring provider once per process (reqwest and mysql_async need one).
pub fn ensure_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means a provider is already installed, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// How long is left until `until`, never negative.
pub(crate) fn remaining(until: Instant) -> Duration {
    until.saturating_duration_since(Instant::now())
}

/// The per-host time budget: the script's own alarm, capped by the service deadline.
pub(crate) fn budget(alarm: Option<u32>, until: Instant) -> Duration {
    let left = remaining(until);
    match alarm {
        Some(s) => left.min(Duration::from_secs(u64::from(s))),
        None => left,
    }
}

/// IPv4 addresses for a host name, as Perl's `inet_aton`/`gethostbyname` find them:
/// a numeric address is parsed (no lookup), anything else goes to the resolver.
pub(crate) async fn resolve_v4(host: &[u8]) -> Option<std::net::Ipv4Addr> {
    if let Some(ip) = perl::inet_aton(host) {
        return Some(ip);
    }
    let name = std::str::from_utf8(host).ok()?;
    if name.is_empty() || name.contains('\0') {
        return None;
    }
    let addrs = tokio::net::lookup_host((name, 0)).await.ok()?;
    addrs.into_iter().find_map(|a| match a.ip() {
        std::net::IpAddr::V4(v4) => Some(v4),
        std::net::IpAddr::V6(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names() {
        assert_eq!(Kind::from_name("tcp.monitor"), Some(Kind::Tcp));
        assert_eq!(Kind::from_name("/x/y/mysql.monitor"), Some(Kind::Mysql));
        assert_eq!(Kind::from_name("https"), Some(Kind::Http));
        assert_eq!(Kind::from_name("fping.monitor"), None);
    }

    #[test]
    fn mondir_lookup_takes_the_first_executable() {
        use std::os::unix::fs::PermissionsExt;
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let plain = a.path().join("tcp.monitor");
        std::fs::write(&plain, "#!/bin/sh\n").expect("write");
        let exe = b.path().join("tcp.monitor");
        std::fs::write(&exe, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let path = [a.path().to_path_buf(), b.path().to_path_buf()];
        assert_eq!(find_script("tcp.monitor", &path), Some(exe));
        assert_eq!(find_script("http.monitor", &path), None);
    }

    #[test]
    fn describe_reports_each_native_name_once() {
        use crate::config::{Config, MonitorLine, Service, Watch};
        let svc = |n: &str, mon: &str| {
            let mut s = Service::new(n, 1);
            s.monitor = Some(MonitorLine {
                raw: mon.to_string(),
                name: mon.to_string(),
                args: String::new(),
            });
            s
        };
        let config = Config {
            source: PathBuf::from("mon.cf"),
            globals: Globals::default(),
            hostgroups: Vec::new(),
            aliases: Vec::new(),
            views: Vec::new(),
            watches: vec![Watch {
                name: "g".into(),
                line: 1,
                services: vec![
                    svc("a", "tcp.monitor"),
                    svc("b", "tcp.monitor"),
                    svc("c", "fping.monitor"),
                    svc("d", "http.monitor"),
                ],
            }],
        };
        let lines = describe(&config, &[]);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("http.monitor: no script"), "{lines:?}");
        assert!(lines[1].starts_with("tcp.monitor: no script"), "{lines:?}");
    }

    #[test]
    fn choice_rules() {
        let g = Globals::default();
        let dir = tempfile::tempdir().expect("tempdir");
        // No script found: native.
        assert!(matches!(
            choose("tcp.monitor", None, &g),
            Some(Choice::Native(_))
        ));
        // Not ours.
        assert_eq!(choose("fping.monitor", None, &g), None);
        assert_eq!(choose("tcp", None, &g), None);
        // native_monitors = no.
        let off = Globals {
            native_monitors: false,
            ..Globals::default()
        };
        assert!(matches!(
            choose("tcp.monitor", None, &off),
            Some(Choice::Script(_))
        ));
        // A user's own script wins.
        let own = dir.path().join("tcp.monitor");
        std::fs::write(&own, "#!/bin/sh\necho mine\n").expect("write");
        assert!(matches!(
            choose("tcp.monitor", Some(&own), &g),
            Some(Choice::Script(_))
        ));
        // monrs's wrapper is native.
        let wrap = dir.path().join("http.monitor");
        std::fs::write(
            &wrap,
            format!("#!/bin/sh\n# {WRAPPER_MARKER}\nexec monrs check \"$0\" \"$@\"\n"),
        )
        .expect("write");
        assert!(matches!(
            choose("http.monitor", Some(&wrap), &g),
            Some(Choice::Native(_))
        ));
        // A symlink to, or a copy of, the stock script is native (when Debian's is installed).
        let stock = stock_path(Kind::Mysql);
        if stock.exists() {
            let link = dir.path().join("mysql.monitor");
            std::os::unix::fs::symlink(&stock, &link).expect("symlink");
            assert!(matches!(
                choose("mysql.monitor", Some(&link), &g),
                Some(Choice::Native(_))
            ));
            let copy = dir.path().join("msql-mysql.monitor");
            std::fs::copy(&stock, &copy).expect("copy");
            assert!(matches!(
                choose("msql-mysql.monitor", Some(&copy), &g),
                Some(Choice::Native(_))
            ));
        }
    }
}

/// Arbitrary input never panics the parsers that see user-controlled text.
#[cfg(test)]
mod robustness {
    use proptest::prelude::*;

    fn args() -> impl Strategy<Value = Vec<Vec<u8>>> {
        let word = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..12),
            proptest::sample::select(vec![
                b"-p".to_vec(),
                b"-t".to_vec(),
                b"--".to_vec(),
                b"-".to_vec(),
                b"--help".to_vec(),
                b"--port".to_vec(),
                b"--mode=mysql".to_vec(),
                b"-pt".to_vec(),
                b"--p=1".to_vec(),
            ]),
        ];
        proptest::collection::vec(word, 0..8)
    }

    proptest! {
        #[test]
        fn parsers_never_panic(argv in args(), text in proptest::collection::vec(any::<u8>(), 0..40)) {
            let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            let _ = super::getopt::std_getopts("p:t:u:a:m:osM:H:c:b:r:w:kC:", "p:t:u:a:m:o", &refs, "/x/http.monitor");
            let _ = super::getopt::long_getoptions(&[("port", super::getopt::LongType::Int), ("mode", super::getopt::LongType::Str)], &refs);
            let (n, _) = super::perl::numify(&text);
            let _ = (n.iv(), n.uv(), super::perl::alarm_secs(n), super::perl::pack_port(n));
            let _ = super::perl::inet_aton(&text);
            let _ = super::perl::display(&text);
            let _ = super::mysql::odbc_parse(&text);
            let _ = super::http::extract_header(&text);
            let _ = super::http::cert_not_after(&text);
            let _ = super::http::perl_regex(&String::from_utf8_lossy(&text));
            let _ = super::tcp::unescape(&text);
        }
    }
}
