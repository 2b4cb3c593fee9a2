//! One client session: its login and view, and the handling of one request line from
//! parsing through authorization to the reply (protocol.md §2–§4).
//!
//! The backend supplies snapshots, applies changes and holds the auth tables; everything
//! else about a request is decided here.

use std::net::SocketAddr;

use crate::server::Backend;
use crate::server::command::{self, Clear, Command, Disen, List, Set, Setview, Test};
use crate::server::reply::{self, INVALID_COMMAND, UNKNOWN_COMMAND, line};
use crate::server::view::{Op, Outcome};

/// Per-connection state.
#[derive(Debug, Clone)]
pub struct Session {
    /// The logged-in user; a failed `login` keeps the previous one.
    pub user: Option<String>,
    /// The view selected with `setview`.
    pub view: Option<String>,
    pub peer: SocketAddr,
}

impl Session {
    pub fn new(peer: SocketAddr) -> Self {
        Session {
            user: None,
            view: None,
            peer,
        }
    }
}

/// What the connection does after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// `quit`: send the reply, then close; later input is thrown away.
    Close,
    /// `term`: send the reply, close, then tell the backend to terminate.
    Terminate,
}

/// Handle one request line, appending the reply to `out`.
pub async fn handle<B: Backend>(
    sess: &mut Session,
    backend: &B,
    raw: &[u8],
    out: &mut Vec<u8>,
    tz: &jiff::tz::TimeZone,
) -> Flow {
    let cmd = command::parse(raw);
    // The login line carries a password: it stays out of the log.
    let shown = (!cmd.is_secret()).then(|| String::from_utf8_lossy(raw).into_owned());
    if let Some(line) = &shown {
        tracing::info!(peer = %sess.peer, "client command \"{line}\"");
    }
    let flow = dispatch(sess, backend, cmd, out, tz).await;
    if let Some(line) = &shown {
        tracing::debug!(peer = %sess.peer, "finished client command \"{line}\"");
    }
    flow
}

async fn dispatch<B: Backend>(
    sess: &mut Session,
    backend: &B,
    cmd: Command,
    out: &mut Vec<u8>,
    tz: &jiff::tz::TimeZone,
) -> Flow {
    if let Some(word) = cmd.auth_word() {
        let decision = backend.auth().table.check(sess.user.as_deref(), word);
        if !decision.allowed() {
            tracing::warn!(peer = %sess.peer, "{decision}");
            line(out, UNKNOWN_COMMAND);
            return Flow::Continue;
        }
    }
    match cmd {
        Command::Invalid => line(out, INVALID_COMMAND),
        Command::Quit => {
            line(out, "220 quitting");
            return Flow::Close;
        }
        Command::Version => reply::version(out),
        Command::Protid { matches } => line(
            out,
            if matches {
                "220 protocol match"
            } else {
                "520 protocol mismatch"
            },
        ),
        Command::Login { user, pass } => {
            let auth = backend.auth();
            let peer = sess.peer.ip();
            let who = user.clone();
            let result = tokio::task::spawn_blocking(move || {
                crate::auth::login::login(&auth.login, &who, &pass, peer)
            })
            .await;
            match result {
                Ok(r) => {
                    for note in &r.notes {
                        tracing::warn!(peer = %sess.peer, "{note}");
                    }
                    if r.ok() {
                        tracing::info!(peer = %sess.peer, "authenticated {user}");
                        sess.user = Some(user);
                        line(out, "220 login accepted");
                    } else {
                        line(out, "530 login unsuccessful");
                    }
                }
                Err(e) => {
                    tracing::error!("login check failed: {e}");
                    line(out, "530 login unsuccessful");
                }
            }
        }
        // mon (with -d) dumps its tables to stderr and sends nothing, which hangs every
        // lock-step client; monrs always answers as for an unknown command (Q14).
        Command::Dump => line(out, UNKNOWN_COMMAND),
        Command::Checkauth { word } => {
            if backend
                .auth()
                .table
                .check(sess.user.as_deref(), &word)
                .allowed()
            {
                line(out, "220 command authorized");
            } else {
                line(out, "520 command could not be executed");
            }
        }
        Command::Setview(sv) => match sv {
            Setview::Clear => {
                sess.view = None;
                line(out, "no view selected -- all groups will be displayed");
                line(out, "220 setview completed");
            }
            Setview::Select(name) => {
                let snap = backend.snapshot().await;
                if snap.config.views.iter().any(|v| v.name == name) {
                    line(out, format!("selecting view {name}"));
                    line(out, "220 setview completed");
                    sess.view = Some(name);
                } else {
                    line(out, format!("504 unknown view {name}"));
                }
            }
            Setview::TooMany => line(out, "500 Unknown setview command"),
        },
        Command::Getview => {
            match &sess.view {
                Some(v) => line(out, format!("view {v} selected")),
                None => line(out, "no view selected -- all groups will be displayed"),
            }
            line(out, "220 getview completed");
        }
        Command::Servertime => {
            let snap = backend.snapshot().await;
            reply::servertime(out, snap.now, tz);
        }
        Command::List(List::Dtlog) => {
            let snap = backend.snapshot().await;
            match &snap.dtlog {
                None => line(out, "520 list dtlog error, dtlogging is not turned on"),
                Some(path) => match tokio::fs::read(path).await {
                    Ok(content) => reply::dtlog(out, &content),
                    Err(_) => line(out, "520 list dtlog error, cannot open dtlog"),
                },
            }
        }
        Command::List(what) => {
            let snap = backend.snapshot().await;
            reply::list(out, &snap, sess.view.as_deref(), &what);
        }
        Command::Get(what) => {
            let snap = backend.snapshot().await;
            reply::get(out, &snap, &what);
        }
        Command::Set(set) => handle_set(backend, set, out).await,
        Command::Ack {
            group,
            service,
            comment,
        } => {
            let full = format!("{}: {comment}", sess.user.as_deref().unwrap_or(""));
            let o = backend
                .apply(Op::Ack {
                    group,
                    service,
                    comment: full,
                })
                .await;
            // mon sends `520 unknown group` *and* `220 ack completed` here (Q4); one
            // status line per request is what every client expects.
            line(
                out,
                match o {
                    Outcome::Done => "220 ack completed",
                    Outcome::UnknownGroup => "520 unknown group",
                    Outcome::UnknownService => "520 unknown service",
                    Outcome::NotFailing => "520 service is in a non-failure state",
                    _ => "520 ack failed",
                },
            );
        }
        Command::Disable(d) => handle_disen(backend, d, true, out).await,
        Command::Enable(d) => handle_disen(backend, d, false, out).await,
        Command::Test(t) => handle_test(backend, t, out).await,
        Command::Clear(c) => match c {
            Clear::Timers { group, service } => {
                let o = backend.apply(Op::ClearTimers { group, service }).await;
                line(
                    out,
                    if o == Outcome::Done {
                        "220 clear timers completed"
                    } else {
                        "520 unknown group"
                    },
                );
            }
            Clear::Other => line(out, "520 unknown clear command"),
        },
        Command::Stop => {
            backend.apply(Op::Stop).await;
            line(out, "220 stop completed");
        }
        Command::Start => {
            backend.apply(Op::Start).await;
            line(out, "220 start completed");
        }
        Command::Reset { stopped, keepstate } => {
            let o = backend.apply(Op::Reset { stopped, keepstate }).await;
            let snap = backend.snapshot().await;
            let who = format!("{}@{}", snap.server_pid, snap.hostname);
            match o {
                Outcome::Done => line(out, format!("220 reset PID {who}")),
                _ => line(
                    out,
                    format!("520 reset PID {who} failed, error in config file"),
                ),
            }
        }
        Command::Reload { reloads, bad } => {
            let mut failure = None;
            if reloads > 0
                && let Outcome::Failed(why) = backend.apply(Op::ReloadAuth).await
            {
                failure = Some(why);
            }
            match (bad, failure) {
                (true, _) => line(out, "520 unknown reload command"),
                // mon empties its tables first and answers 220 even when the file cannot
                // be read; monrs keeps the old tables and says so.
                (false, Some(why)) => line(out, format!("520 reload failed, {why}")),
                (false, None) => line(out, "220 reload completed"),
            }
        }
        Command::Loadstate(types) => {
            backend.apply(Op::LoadState(types)).await;
            line(out, "220 loadstate completed");
        }
        Command::Savestate(None) => line(out, "520 savestate error, arguments required"),
        Command::Savestate(Some(types)) => {
            backend.apply(Op::SaveState(types)).await;
            line(out, "220 savestate completed");
        }
        Command::Term => {
            line(out, "220 terminating server");
            return Flow::Terminate;
        }
    }
    Flow::Continue
}

async fn handle_set<B: Backend>(backend: &B, set: Set, out: &mut Vec<u8>) {
    match set {
        Set::Maxkeep(n) => {
            backend.apply(Op::SetMaxkeep(n)).await;
            line(out, "220 set completed");
        }
        Set::BadOpStatus { group, service } => {
            let snap = backend.snapshot().await;
            if snap.find(&group, &service).is_some() {
                line(out, "520 undefined opstatus");
            } else {
                line(out, format!("520 {group},{service} not defined"));
            }
        }
        Set::OpStatus {
            group,
            service,
            status,
        } => {
            // mon stores the word (`opstatus=fail`, Q6); monrs stores the code.
            let o = backend
                .apply(Op::SetOpStatus {
                    group: group.clone(),
                    service: service.clone(),
                    status,
                })
                .await;
            match o {
                Outcome::Done => line(out, "220 set completed"),
                _ => line(out, format!("520 {group},{service} not defined")),
            }
        }
        Set::Var {
            group,
            service,
            var,
            value,
        } => {
            let o = backend
                .apply(Op::SetVar {
                    group: group.clone(),
                    service: service.clone(),
                    var: var.clone(),
                    value: value.clone(),
                })
                .await;
            match o {
                Outcome::Done => {
                    line(out, format!("{group} {service} {var}='{value}'"));
                    line(out, "220 set completed");
                }
                Outcome::Failed(why) => line(out, format!("520 set failed, {why}")),
                _ => line(out, format!("520 {group},{service} not defined")),
            }
        }
    }
}

async fn handle_disen<B: Backend>(backend: &B, d: Disen, disable: bool, out: &mut Vec<u8>) {
    match d {
        Disen::Watch(w) => {
            let op = if disable {
                Op::DisableWatch(w.clone())
            } else {
                Op::EnableWatch(w.clone())
            };
            let ok = backend.apply(op).await == Outcome::Done;
            line(
                out,
                match (disable, ok) {
                    (true, true) => "220 disable watch completed".to_string(),
                    (true, false) => format!("520 disable error, unknown watch \"{w}\""),
                    (false, true) => "220 enable watch completed".to_string(),
                    (false, false) => "520 enable error, unknown watch".to_string(),
                },
            );
        }
        Disen::Service { group, service } => {
            let op = if disable {
                Op::DisableService { group, service }
            } else {
                Op::EnableService { group, service }
            };
            let ok = backend.apply(op).await == Outcome::Done;
            line(
                out,
                match (disable, ok) {
                    (true, true) => "220 disable service completed",
                    (true, false) => "520 disable error, unknown service",
                    (false, true) => "220 enable completed",
                    (false, false) => "520 enable error, unknown group",
                },
            );
        }
        Disen::Hosts(hosts) => {
            if disable {
                match backend.apply(Op::DisableHosts(hosts)).await {
                    Outcome::UnknownHosts(missing) => line(
                        out,
                        format!(
                            "520 disable host failed, host(s) {} do not exist",
                            missing.join(" ")
                        ),
                    ),
                    _ => line(out, "220 disable host completed"),
                }
            } else {
                backend.apply(Op::EnableHosts(hosts)).await;
                line(out, "220 enable completed");
            }
        }
        Disen::Other => line(out, "520 command could not be executed"),
    }
}

async fn handle_test<B: Backend>(backend: &B, t: Test, out: &mut Vec<u8>) {
    match t {
        Test::Monitor { group, service } => {
            let o = backend
                .apply(Op::TestMonitor {
                    group: group.clone(),
                    service: service.clone(),
                })
                .await;
            if o != Outcome::Done {
                // Q3: mon's untagged data line, then success.
                line(out, format!("{group} {service} not defined"));
            }
            line(out, "220 test monitor completed");
        }
        Test::Alert {
            kind,
            group,
            service,
            retval,
            period,
        } => {
            let o = backend
                .apply(Op::TestAlert {
                    kind,
                    group: group.clone(),
                    service: service.clone(),
                    retval,
                    period,
                })
                .await;
            match o {
                Outcome::Done => line(out, "220 test alert completed"),
                Outcome::UnknownPeriod => line(out, "520 period not defined"),
                _ => line(out, format!("520 {group} {service} not defined")),
            }
        }
        Test::Config => match backend.apply(Op::TestConfig).await {
            Outcome::Failed(msg) => {
                out.extend_from_slice(msg.as_bytes());
                line(out, "");
                line(
                    out,
                    "520 test config completed, errors found in config file",
                );
            }
            _ => line(out, "220 test config completed OK, no errors found"),
        },
        Test::Other => line(out, "520 test error"),
    }
}
