//! The daemon: startup order, `-f` daemonising, the pid file, signals, reload and a clean
//! shutdown around the engine task.
//!
//! Order (mon's, daemon-cli-and-files.md §2.1): parse mon.cf (fatal errors exit 255),
//! apply the command line, resolve paths, [bind the client and trap sockets: the protocol
//! stream's listeners], daemonise with `-f`, write the pid file, start the runtime and the
//! engine (history, `-l` state, the monrs state file, `mon server started`, startup alerts),
//! then serve signals: HUP reloads keeping state, TERM/INT shut down cleanly, PIPE is
//! ignored (Rust ignores it already).
//!
//! Exit status: 0 for `term`; 1 after SIGTERM/SIGINT, as mon (systemd units should list
//! `SuccessExitStatus=1`); 255 for a config that cannot be loaded.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::cli::DaemonArgs;
use crate::config::paths::Paths;
use crate::config::{self, Config, Globals, LoadOptions};
use crate::engine::{
    self, EngineHandle, EngineOptions, Loader, MonState, OpstatusRecord, SHUTDOWN_GRACE, Setup,
    Target,
};
use crate::history;
use crate::logging::{self, LogOptions, Prio};
use crate::state::persist;

/// What the protocol server (and anything else started with the daemon) gets: the engine
/// handle and a way to end the daemon (`term`).
#[derive(Clone)]
pub struct Control {
    pub handle: EngineHandle,
    exit: mpsc::UnboundedSender<u8>,
}

impl Control {
    /// End the daemon with `code` after a clean shutdown (`term` uses 0).
    pub fn exit(&self, code: u8) {
        let _ = self.exit.send(code);
    }
}

/// Run the daemon with mon's options until it is told to stop.
pub fn run(args: DaemonArgs) -> ExitCode {
    let cf = config_path(&args);
    if !cf.is_file() {
        eprintln!("config file {} does not exist", cf.display());
        return ExitCode::from(255);
    }
    let load_opts = LoadOptions {
        m4: args.m4.clone(),
    };
    let loaded = match config::load(&cf, &load_opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(255);
        }
    };
    for w in &loaded.warnings {
        eprintln!(
            "{}:{}:{}: warning: {}",
            w.path.display(),
            w.line,
            w.col,
            w.message
        );
    }
    let setup = match setup_from(loaded.config, &args, true) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(255);
        }
    };
    if args.fork
        && let Err(e) = daemonize(&setup.paths.monerrfile)
    {
        eprintln!("could not become a daemon: {e}");
        return ExitCode::from(1);
    }
    let facility = setup
        .config
        .globals
        .syslog_facility
        .as_deref()
        .or(args.syslogfacility.as_deref())
        .and_then(logging::facility_code)
        .unwrap_or(3);
    logging::init(&LogOptions {
        debug: args.debug,
        stderr: !args.fork,
        facility,
        ..LogOptions::default()
    });
    if args.fork {
        logging::mon(Prio::Info, "running as daemon");
    }
    let pidfile = setup.paths.pidfile.clone();
    if let Some(p) = &pidfile {
        // mon carries on silently when the pid file cannot be written.
        let _ = std::fs::write(p, format!("{}\n", std::process::id()));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("monrs")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            logging::mon(Prio::Err, &format!("could not start the runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(serve(setup, args, cf, load_opts));
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    // Do not wait for detached tasks (alert helpers, a hung writer): the state is saved.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code)
}

async fn serve(setup: Setup, args: DaemonArgs, cf: PathBuf, load_opts: LoadOptions) -> u8 {
    let statedir = setup.paths.statedir.clone();
    let state_file = if statedir.is_dir() {
        Some(persist::path_in(&statedir))
    } else {
        logging::mon(
            Prio::Err,
            &format!(
                "statedir {} does not exist: runtime state will not survive a restart",
                statedir.display()
            ),
        );
        None
    };
    let restore = state_file.as_deref().and_then(|p| match persist::load(p) {
        Ok(s) => s,
        Err(e) => {
            logging::mon(Prio::Err, &format!("{e}; starting with a fresh state"));
            None
        }
    });
    let mon_state = args
        .loadstate
        .as_deref()
        .map(|what| read_mon_state(&statedir, what));
    let loader: Loader = {
        let args = args.clone();
        Arc::new(move || {
            let loaded = config::load(&cf, &load_opts).map_err(|e| e.to_string())?;
            setup_from(loaded.config, &args, false)
        })
    };
    let (handle, task) = engine::start(
        setup,
        EngineOptions {
            stopped: args.stopped,
            loader: Some(loader),
            restore,
            state_file,
            mon_state,
            ..EngineOptions::default()
        },
    );
    let (exit_tx, mut exit_rx) = mpsc::unbounded_channel();
    let control = Control {
        handle: handle.clone(),
        exit: exit_tx,
    };
    // The client protocol server and the trap listener are started here with `control`.
    let _ = &control;

    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        logging::mon(Prio::Err, "could not install signal handlers");
        return 1;
    };
    let code = loop {
        tokio::select! {
            _ = hup.recv() => {
                let h = handle.clone();
                tokio::spawn(async move {
                    // Errors are logged by the engine ("error reading config file: ...").
                    let _ = h.reload().await;
                });
            }
            _ = term.recv() => {
                logging::mon(Prio::Info, "caught TERM signal, exiting");
                break 1;
            }
            _ = int.recv() => {
                logging::mon(Prio::Info, "caught INT signal, exiting");
                break 1;
            }
            code = exit_rx.recv() => break code.unwrap_or(0),
        }
    };
    let _ = handle.shutdown(SHUTDOWN_GRACE).await;
    let _ = task.await;
    code
}

/// The config file: `-c` (relative to the cwd), else `CFBASEDIR/mon.cf`.
fn config_path(args: &DaemonArgs) -> PathBuf {
    match &args.configfile {
        Some(c) => PathBuf::from(c),
        None => Path::new(args.cfbasedir.as_deref().unwrap_or("/etc/mon")).join("mon.cf"),
    }
}

/// Everything derived from a loaded config and the command line. At startup the command
/// line wins over mon.cf; on a reset mon.cf wins for every key it sets (mon applies the
/// file on top of the running values).
fn setup_from(config: Config, args: &DaemonArgs, first: bool) -> Result<Setup, String> {
    let mut globals = config.globals.clone();
    let ov = Ov::from_args(args, &globals, first)?;
    if let Some(k) = ov.maxkeep {
        globals.histlength = k;
    }
    if let Some(m) = ov.maxprocs {
        globals.maxprocs = m;
    }
    if let Some(r) = ov.randstart {
        globals.randstart = Some(r);
    }
    let paths = resolve_paths(&globals, &ov);
    let historic = paths.historicfile.as_deref().and_then(|p| {
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
        )
        .unwrap_or(0);
        let keep = i64::try_from(globals.historictime.as_secs()).unwrap_or(0);
        history::read_historic(p, now, keep, globals.histlength)
    });
    let mut config = config;
    config.globals = globals.clone();
    Ok(Setup {
        config: Arc::new(config),
        paths,
        maxkeep: globals.histlength,
        maxprocs: globals.maxprocs,
        randstart: globals.randstart.filter(|r| !r.is_zero()),
        historic,
    })
}

/// The command-line overrides in force (see `setup_from`).
#[derive(Debug, Default)]
struct Ov {
    alertdir: Option<String>,
    basedir: Option<String>,
    cfbasedir: Option<String>,
    statedir: Option<String>,
    logdir: Option<String>,
    authfile: Option<String>,
    mondir: Option<String>,
    pidfile: Option<String>,
    maxkeep: Option<usize>,
    maxprocs: Option<u32>,
    randstart: Option<std::time::Duration>,
}

impl Ov {
    fn from_args(a: &DaemonArgs, g: &Globals, first: bool) -> Result<Ov, String> {
        // On a reset, a key set in mon.cf beats the flag.
        let keep = |flag: &Option<String>, cf: &Option<String>| {
            flag.clone()
                .filter(|v| !v.is_empty() && v != "0")
                .filter(|_| first || cf.is_none())
        };
        let randstart = match a.randstart.as_deref() {
            Some(r) if !r.is_empty() && r != "0" => {
                Some(config::timeval::parse(r).ok_or_else(|| "bad randstart value".to_string())?)
            }
            _ => None,
        };
        Ok(Ov {
            alertdir: keep(&a.alertdir, &g.alertdir),
            basedir: keep(&a.basedir, &g.basedir),
            cfbasedir: a.cfbasedir.clone(),
            statedir: keep(&a.statedir, &g.statedir),
            logdir: keep(&a.logdir, &g.logdir),
            authfile: keep(&a.authfile, &g.authfile),
            mondir: keep(&a.scriptdir, &g.mondir),
            // `-P ''` means "no pid file".
            pidfile: a.pidfile.clone().filter(|_| first || g.pidfile.is_none()),
            maxkeep: a
                .maxkeep
                .filter(|k| *k > 0 && (first || g.histlength == 100)),
            maxprocs: a.maxprocs.filter(|m| *m > 0 && (first || g.maxprocs == 0)),
            randstart: randstart.filter(|_| first || g.randstart.is_none()),
        })
    }
}

/// mon's path rules (config.md §8.1, daemon-cli-and-files.md §1).
fn resolve_paths(g: &Globals, ov: &Ov) -> Paths {
    let pick = |cli: &Option<String>, cf: &Option<String>, dflt: &str| {
        cli.clone()
            .or_else(|| cf.clone().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| dflt.to_string())
    };
    let basedir = pick(&ov.basedir, &g.basedir, "/usr/lib/mon");
    let cfbasedir = g
        .cfbasedir
        .clone()
        .or_else(|| ov.cfbasedir.clone())
        .unwrap_or_else(|| "/etc/mon".to_string());
    let under = |base: &str, p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            Path::new(base).join(p)
        }
    };
    let first_dir = |cands: &[&str], dflt: &str| {
        cands
            .iter()
            .find(|d| Path::new(d).is_dir())
            .map(|d| d.to_string())
            .unwrap_or_else(|| dflt.to_string())
    };
    let statedir = under(
        &basedir,
        &ov.statedir
            .clone()
            .or_else(|| g.statedir.clone())
            .unwrap_or_else(|| first_dir(&["/var/state/mon", "/var/lib/mon"], "state.d")),
    );
    let logdir = under(
        &basedir,
        &ov.logdir
            .clone()
            .or_else(|| g.logdir.clone())
            .unwrap_or_else(|| first_dir(&["/var/log/mon"], "log.d")),
    );
    let list = |s: String| -> Vec<PathBuf> {
        s.split(':')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| under(&basedir, d.trim_end_matches('/')))
            .collect()
    };
    let mondir = list(pick(
        &ov.mondir,
        &g.mondir,
        "/usr/local/lib/mon/mon.d:mon.d",
    ));
    let alertdir = list(pick(
        &ov.alertdir,
        &g.alertdir,
        "/usr/local/lib/mon/alert.d:alert.d",
    ));
    let logs = logdir.display().to_string();
    let pidfile = match ov.pidfile.clone().or_else(|| g.pidfile.clone()) {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(PathBuf::from(p)),
        None => Some(PathBuf::from(if Path::new("/run/mon").is_dir() {
            "/run/mon/mon.pid"
        } else if Path::new("/run").is_dir() {
            "/run/mon.pid"
        } else {
            "/etc/mon.pid"
        })),
    };
    Paths {
        authfile: under(&cfbasedir, &pick(&ov.authfile, &g.authfile, "auth.cf")),
        userfile: under(&cfbasedir, g.userfile.as_deref().unwrap_or("monusers.cf")),
        dtlogfile: under(&logs, g.dtlogfile.as_deref().unwrap_or("downtime.log")),
        historicfile: g
            .historicfile
            .as_deref()
            .filter(|h| !h.is_empty())
            .map(|h| under(&logs, h)),
        monerrfile: PathBuf::from(g.monerrfile.as_deref().unwrap_or("/dev/null")),
        basedir: PathBuf::from(basedir.clone()),
        cfbasedir: PathBuf::from(cfbasedir.clone()),
        statedir,
        logdir,
        mondir,
        alertdir,
        pidfile,
    }
}

/// Read mon's `STATEDIR/disabled` and/or `STATEDIR/opstatus` (`-l disabled|opstatus|all`).
/// Missing files are only logged, as mon does.
pub fn read_mon_state(statedir: &Path, what: &str) -> MonState {
    let mut st = MonState::default();
    let what = if what.is_empty() { "disabled" } else { what };
    if what == "disabled" || what == "all" {
        match std::fs::read_to_string(statedir.join("disabled")) {
            Ok(text) => st.disabled = parse_disabled(&text),
            Err(e) => logging::mon(Prio::Err, &format!("could not read state file: {e}")),
        }
    }
    if what == "opstatus" || what == "all" {
        match std::fs::read(statedir.join("opstatus")) {
            Ok(b) => st.opstatus = parse_opstatus(&String::from_utf8_lossy(&b)),
            Err(e) => logging::mon(Prio::Err, &format!("could not read state file: {e}")),
        }
    }
    st
}

/// `disable host H` / `disable watch G` / `disable service G S` lines; others ignored.
pub fn parse_disabled(text: &str) -> Vec<Target> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            if w.next()? != "disable" {
                return None;
            }
            match w.next()? {
                "host" => Some(Target::Hosts(w.map(str::to_string).collect())),
                "watch" => Some(Target::Watch(w.collect::<Vec<_>>().join(" "))),
                "service" => Some(Target::Service(
                    w.next()?.to_string(),
                    w.next()?.to_string(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// mon's opstatus state file: one line per service of TAB-separated `name=value` pairs,
/// values `\xx`-escaped.
pub fn parse_opstatus(text: &str) -> Vec<OpstatusRecord> {
    text.lines()
        .filter_map(|l| {
            let mut rec = OpstatusRecord::default();
            for f in l.split('\t') {
                let (k, v) = f.split_once('=')?;
                let v = crate::escape::unescape_str(v);
                match k {
                    "group" => rec.group = v,
                    "service" => rec.service = v,
                    _ => rec.fields.push((k.to_string(), v)),
                }
            }
            (!rec.group.is_empty() && !rec.service.is_empty()).then_some(rec)
        })
        .collect()
}

/// mon's `-f`: fork, the parent exits 0; setsid; fork again, the middle process exits; umask
/// 022; stdin from /dev/null; stdout and stderr appended to `monerrfile`.
#[allow(unsafe_code)]
fn daemonize(monerrfile: &Path) -> Result<(), String> {
    use nix::unistd::{ForkResult, fork, setsid};
    // SAFETY: called from `run` before the tokio runtime, the file writer or any other
    // thread exists, so the child is a complete copy of a single-threaded process.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    setsid().map_err(|e| format!("setsid: {e}"))?;
    // SAFETY: as above; still single-threaded.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    let null = std::fs::File::open("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;
    let err = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(monerrfile)
        .map_err(|e| format!("{}: {e}", monerrfile.display()))?;
    nix::unistd::dup2_stdin(&null).map_err(|e| format!("dup2: {e}"))?;
    nix::unistd::dup2_stdout(&err).map_err(|e| format!("dup2: {e}"))?;
    nix::unistd::dup2_stderr(&err).map_err(|e| format!("dup2: {e}"))?;
    let stamp = jiff::Zoned::now()
        .strftime("%a %b %e %H:%M:%S %Y")
        .to_string();
    eprintln!("Mon starting at {stamp}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mon_state_files() {
        let d = parse_disabled(
            "disable host onlyhost\ndisable watch g2\nbogus line\ndisable service g1 s2\n",
        );
        assert_eq!(
            d,
            vec![
                Target::Hosts(vec!["onlyhost".into()]),
                Target::Watch("g2".into()),
                Target::Service("g1".into(), "s2".into()),
            ]
        );
        let o = parse_opstatus(
            "group=g1\tservice=s1\top_status=0\tlast_summary=h1\\20down\twd {Sun-Sat}:alert_sent=1\n",
        );
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].group, "g1");
        assert_eq!(
            o[0].fields,
            vec![
                ("op_status".to_string(), "0".to_string()),
                ("last_summary".to_string(), "h1 down".to_string()),
                ("wd {Sun-Sat}:alert_sent".to_string(), "1".to_string()),
            ]
        );
    }

    #[test]
    fn paths_follow_mon_rules() {
        let g = Globals {
            basedir: Some("/b".into()),
            statedir: Some("st".into()),
            mondir: Some("/m1/:m2".into()),
            historicfile: Some("hist".into()),
            logdir: Some("/logs".into()),
            ..Globals::default()
        };
        let ov = Ov {
            alertdir: Some("/a".into()),
            pidfile: Some(String::new()),
            ..Ov::default()
        };
        let p = resolve_paths(&g, &ov);
        assert_eq!(p.statedir, PathBuf::from("/b/st"));
        assert_eq!(p.mondir, vec![PathBuf::from("/m1"), PathBuf::from("/b/m2")]);
        assert_eq!(p.alertdir, vec![PathBuf::from("/a")]);
        assert_eq!(p.historicfile, Some(PathBuf::from("/logs/hist")));
        assert_eq!(p.dtlogfile, PathBuf::from("/logs/downtime.log"));
        assert_eq!(p.pidfile, None);
        assert_eq!(p.authfile, PathBuf::from("/etc/mon/auth.cf"));
    }
}
