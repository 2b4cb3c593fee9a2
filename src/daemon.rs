//! The daemon: startup order, `-f` daemonising, the pid file, signals, reload and a clean
//! shutdown around the engine task.
//!
//! Order (mon's, daemon-cli-and-files.md §2.1): parse mon.cf (fatal errors exit 255),
//! apply the command line, resolve paths, load auth.cf (fatal), bind the client (TCP) and
//! trap (UDP) sockets (fatal; before `-f`, so errors show in the foreground), daemonise
//! with `-f`, write the pid file, start the runtime and the engine (history, `-l` state,
//! the monrs state file, `mon server started`, startup alerts), the protocol server and
//! the trap listener, then serve signals: HUP reloads keeping state, TERM/INT shut down
//! cleanly, PIPE is ignored (Rust ignores it already).
//!
//! Exit status: 0 for `term`; 1 after SIGTERM/SIGINT, as mon (systemd units should list
//! `SuccessExitStatus=1`); 255 for a config that cannot be loaded.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs as _};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthConfig, LoadMode, LoginMethods};
use crate::cli::DaemonArgs;
use crate::config::paths::{self, Overrides, Paths};
use crate::config::{self, Config, Globals, LoadOptions};
use crate::engine::backend::EngineBackend;
use crate::engine::{self, EngineHandle, EngineOptions, Loader, SHUTDOWN_GRACE, Setup};
use crate::history;
use crate::logging::{self, LogOptions, Prio};
use crate::server::{self, ClientAllow, ServerOptions};
use crate::state::persist;
use crate::trap;

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
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let cf = paths::config_file(args.configfile.as_deref(), args.cfbasedir.as_deref(), &cwd);
    if !cf.is_file() {
        eprintln!("config file {} does not exist", cf.display());
        return ExitCode::from(255);
    }
    if let Some(b) = args.basedir.as_deref()
        && paths::perl_true(Some(b))
        && !Path::new(b).is_dir()
    {
        eprintln!("basedir {b} does not exist");
        return ExitCode::from(255);
    }
    let load_opts = LoadOptions {
        m4: args.m4.clone(),
        ..LoadOptions::default()
    };
    let loaded = match config::load(&cf, &load_opts) {
        Ok(l) => l,
        Err(e) => {
            eprint!("{}", e.render());
            return ExitCode::from(255);
        }
    };
    for w in &loaded.warnings {
        eprintln!("{}", w.render());
    }
    let setup = match setup_from(loaded.config, &args, true) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(255);
        }
    };
    let auth = match load_auth(&setup) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // Both sockets are bound before daemonising, so bind errors show in the foreground.
    let sockets = match bind_sockets(&setup.config.globals) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
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
    let code = runtime.block_on(serve(setup, args, cf, load_opts, auth, sockets));
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    // Do not wait for detached tasks (alert helpers, a hung writer): the state is saved.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code)
}

async fn serve(
    setup: Setup,
    args: DaemonArgs,
    cf: PathBuf,
    load_opts: LoadOptions,
    auth: AuthConfig,
    sockets: Sockets,
) -> u8 {
    let globals = setup.config.globals.clone();
    let auth_file = setup.paths.authfile.clone();
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
        .map(|what| engine::monstate::read(&statedir, what));
    let loader: Loader = {
        let args = args.clone();
        Arc::new(move || {
            let loaded = config::load(&cf, &load_opts).map_err(|e| e.render())?;
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
    let backend = Arc::new(EngineBackend::new(
        handle.clone(),
        auth,
        auth_file,
        control.exit.clone(),
    ));
    let stop = CancellationToken::new();
    let mut servers = Vec::new();
    match (
        tokio::net::TcpListener::from_std(sockets.tcp),
        tokio::net::UdpSocket::from_std(sockets.udp),
    ) {
        (Ok(tcp), Ok(udp)) => {
            let _ = server::raise_fd_limit();
            let opts = ServerOptions {
                clientallow: ClientAllow::new(&globals.clientallow),
                cltimeout: globals.cltimeout,
                ..ServerOptions::default()
            };
            servers.push(tokio::spawn(server::serve(
                tcp,
                backend.clone(),
                opts,
                stop.clone().cancelled_owned(),
            )));
            let (trap_tx, trap_rx) = mpsc::channel(1024);
            servers.push(tokio::spawn(trap::listen(
                udp,
                backend.clone(),
                trap_tx,
                stop.clone().cancelled_owned(),
            )));
            tokio::spawn(engine::backend::feed_traps(handle.clone(), trap_rx));
        }
        (Err(e), _) | (_, Err(e)) => {
            logging::mon(
                Prio::Err,
                &format!("could not use the listening sockets: {e}"),
            );
            let _ = handle.shutdown(SHUTDOWN_GRACE).await;
            return 1;
        }
    }

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
    stop.cancel();
    for s in servers {
        let _ = s.await;
    }
    let _ = handle.shutdown(SHUTDOWN_GRACE).await;
    let _ = task.await;
    code
}

/// auth.cf and the login methods; a file that cannot be used is fatal, as in mon.
fn load_auth(setup: &Setup) -> Result<AuthConfig, String> {
    let g = &setup.config.globals;
    let (table, skipped) = crate::auth::file::load(&setup.paths.authfile, LoadMode::Startup)
        .map_err(|e| e.to_string())?;
    for s in skipped {
        eprintln!("{}: {}", setup.paths.authfile.display(), s.message);
    }
    Ok(AuthConfig {
        table,
        login: LoginMethods {
            authtype: g.authtype.clone(),
            userfile: setup.paths.userfile.clone(),
            pamservice: g.pamservice.clone(),
        },
    })
}

/// The client and trap sockets, bound (as std sockets: before the runtime and `-f`).
struct Sockets {
    tcp: std::net::TcpListener,
    udp: std::net::UdpSocket,
}

fn bind_sockets(g: &Globals) -> Result<Sockets, String> {
    let port = g
        .serverport
        .or_else(|| crate::trap::send::service_port("mon", "tcp"))
        .unwrap_or(2583);
    let trapport = g
        .trapport
        .or_else(|| crate::trap::send::service_port("mon", "udp"))
        .unwrap_or(2583);
    let addr = |bind: Option<&str>, port: u16| -> Result<SocketAddr, String> {
        match bind {
            None => Ok(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))),
            Some(host) => {
                let addrs: Vec<SocketAddr> = (host, port)
                    .to_socket_addrs()
                    .map_err(|e| format!("cannot resolve {host}: {e}"))?
                    .collect();
                addrs
                    .iter()
                    .find(|a| a.is_ipv4())
                    .or(addrs.first())
                    .copied()
                    .ok_or_else(|| format!("{host}: no address"))
            }
        }
    };
    let tcp = std::net::TcpListener::bind(addr(g.serverbind.as_deref(), port)?)
        .map_err(|e| format!("fatal, could not bind TCP server port {port}: {e}"))?;
    let udp = std::net::UdpSocket::bind(addr(g.trapbind.as_deref(), trapport)?)
        .map_err(|e| format!("fatal, could not bind UDP trap port {trapport}: {e}"))?;
    tcp.set_nonblocking(true).map_err(|e| e.to_string())?;
    udp.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(Sockets { tcp, udp })
}

/// Everything derived from a loaded config and the command line. At startup the command
/// line wins over mon.cf; on a reset mon.cf wins for every key it sets (mon applies the
/// file on top of the running values).
fn setup_from(config: Config, args: &DaemonArgs, first: bool) -> Result<Setup, String> {
    let mut ov = Overrides::from_args(args)?;
    if !first {
        ov = reset_overrides(ov, &config.globals);
    }
    let mut globals = config.globals.clone();
    ov.apply(&mut globals);
    let paths = Paths::resolve(&globals, &ov);
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

/// On a reset mon applies mon.cf on top of the running values: a key the file sets wins
/// over the command-line flag from then on (daemon-cli-and-files.md §1).
fn reset_overrides(mut ov: Overrides, g: &Globals) -> Overrides {
    let set = |v: &Option<String>| paths::perl_true(v.as_deref());
    if set(&g.alertdir) {
        ov.alertdir = None;
    }
    if set(&g.authfile) {
        ov.authfile = None;
    }
    if set(&g.basedir) {
        ov.basedir = None;
    }
    if set(&g.statedir) {
        ov.statedir = None;
    }
    if set(&g.logdir) {
        ov.logdir = None;
    }
    if set(&g.mondir) {
        ov.mondir = None;
    }
    if g.pidfile.is_some() {
        ov.pidfile = None;
    }
    let dflt = Globals::default();
    if g.histlength != dflt.histlength {
        ov.maxkeep = None;
    }
    if g.maxprocs != dflt.maxprocs {
        ov.maxprocs = None;
    }
    if g.randstart.is_some() {
        ov.randstart = None;
    }
    ov
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
