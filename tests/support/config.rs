//! Helpers for the config tests: fixtures, snapshots, and running the real mon on a
//! config to compare what it says.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use monrs::config::{self, ConfigError, Loaded};

use super::{free_port, repo_root};

/// `tests/fixtures/examples/NAME`.
pub fn example(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/examples").join(name)
}

/// Every file in `dir` ending in `.cf`, sorted.
pub fn cf_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "cf"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Load config text as if read from `name` (a short, stable path for messages).
pub fn load(text: &str, name: &str) -> Result<Loaded, ConfigError> {
    config::load_str(text, Path::new(name))
}

/// Load config text that must load.
pub fn ok(text: &str) -> Loaded {
    match load(text, "t.cf") {
        Ok(l) => l,
        Err(e) => panic!("config should load, got:\n{}", e.render()),
    }
}

/// Load config text that must fail.
pub fn err(text: &str) -> ConfigError {
    match load(text, "t.cf") {
        Ok(_) => panic!("config should be refused:\n{text}"),
        Err(e) => e,
    }
}

/// The `# expect-error:` text of an error fixture.
pub fn expected_mon_error(path: &Path) -> String {
    read(path)
        .lines()
        .find_map(|l| l.strip_prefix("# expect-error: "))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{} has no expect-error line", path.display()))
}

/// Compare `actual` with `tests/fixtures/config/snapshots/NAME.txt`; with
/// `MONRS_UPDATE_SNAPSHOTS=1` in the environment, write it instead.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = repo_root()
        .join("tests/fixtures/config/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("MONRS_UPDATE_SNAPSHOTS").is_some() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the snapshot directory");
        }
        std::fs::write(&path, actual).expect("write the snapshot");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {} (run with MONRS_UPDATE_SNAPSHOTS=1 to create it); actual:\n{actual}",
            path.display()
        )
    });
    assert_eq!(actual, want, "snapshot {name} differs");
}

/// Whether the reference mon is installed here.
pub fn have_mon() -> bool {
    Path::new("/usr/sbin/mon").is_file()
}

/// What real mon did with a config: its stderr and how it ended.
pub struct MonRun {
    pub stderr: String,
    /// `None` when mon was still running (it accepted the config) and was stopped.
    pub status: Option<i32>,
}

/// Start `/usr/sbin/mon` on `cf` with private ports and directories and wait until it
/// either exits (a config error) or accepts connections on its client port, which it
/// binds only after reading the config and printing its warnings; then stop it. `limit`
/// bounds the wait on a loaded machine.
pub fn run_mon(cf: &Path, limit: Duration) -> MonRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    for sub in ["state", "log", "mon.d", "alert.d"] {
        std::fs::create_dir_all(d.join(sub)).expect("create a mon directory");
    }
    let auth = d.join("auth.cf");
    std::fs::write(&auth, "command section\nlist: all\n\ntrap section\n").expect("auth.cf");
    let port_num = free_port();
    let port = port_num.to_string();
    let mut child = Command::new("/usr/sbin/mon")
        .arg("-c")
        .arg(cf)
        .args(["-P", "", "-p", &port, "-t", &port])
        .arg("-b")
        .arg(d)
        .arg("-L")
        .arg(d.join("log"))
        .arg("-D")
        .arg(d.join("state"))
        .arg("-s")
        .arg(d.join("mon.d"))
        .arg("-a")
        .arg(d.join("alert.d"))
        .arg("-A")
        .arg(&auth)
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start /usr/sbin/mon");
    let start = Instant::now();
    let listening = || std::net::TcpStream::connect(("127.0.0.1", port_num)).is_ok();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s.code(),
            Ok(None) if !listening() && start.elapsed() < limit => {
                std::thread::sleep(Duration::from_millis(50))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read as _;
        let _ = e.read_to_string(&mut stderr);
    }
    MonRun { stderr, status }
}
