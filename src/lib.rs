//! monrs: a drop-in successor to mon, the service-monitoring and alert daemon.
//!
//! # Layout
//! Each module owns one concern; find a behaviour by its name.
//!
//! - `cli`: mon's command line (every mon 1.3.6 flag) and monrs's subcommands.
//! - `config`: reading mon.cf exactly as mon does (`config::model` is the typed result).
//! - `period`: Time::Period evaluation for `period` and `exclude_period`.
//! - `depend`: dependency expressions over `group:service` tokens.
//! - `escape`: mon's `\xx` value encoding, shared by the protocol, state files and traps.
//! - `state`: the per-service and per-period runtime state mon keeps.
//! - `schedule`: when each service runs (interval, randskew, randstart, cron, failure_interval).
//! - `engine`: the single owner of state; applies results, client commands and traps.
//! - `monitors`: running one check (mon.d scripts, native tcp/http/mysql).
//! - `alerts`: mon's alert decisions and alert delivery (scripts and native actions).
//! - `history`: alert and failure history, the downtime log, `historicfile`.
//! - `logging`: mon's syslog messages and priorities over tracing, and the syslog sink.
//! - `server`: the client protocol on TCP 2583 (moncmd, monshow, mon.cgi).
//! - `auth`: auth.cf and login methods.
//! - `trap`: mon traps over UDP, received and sent.
//! - `client`: `monrs cmd`, a moncmd-compatible client.
//! - `daemon`: startup, signals, reload and shutdown order.

pub mod alerts;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod daemon;
pub mod depend;
pub mod engine;
pub mod escape;
pub mod history;
pub mod logging;
pub mod monitors;
pub mod period;
pub mod schedule;
pub mod server;
pub mod state;
pub mod trap;

/// The whole program behind the thin binary (argument parsing and dispatch).
pub fn main() -> std::process::ExitCode {
    use std::io::Write as _;
    use std::process::ExitCode;

    // Before any TLS client is built (reqwest, mysql_async, lettre need a provider). An
    // error only means a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();

    match cli::parse(std::env::args_os().skip(1).collect()) {
        cli::Invocation::Version => {
            print!("{}", cli::version_text());
            ExitCode::SUCCESS
        }
        cli::Invocation::Help => {
            print!("{}", cli::usage_text());
            ExitCode::SUCCESS
        }
        cli::Invocation::BadOptions(errors) => {
            // mon: Getopt::Long's messages on stderr, the usage on stdout, exit status 0.
            let mut err = std::io::stderr().lock();
            for e in errors {
                let _ = writeln!(err, "{e}");
            }
            print!("{}", cli::usage_text());
            ExitCode::SUCCESS
        }
        cli::Invocation::Invalid(message) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
        cli::Invocation::Daemon(args) if args.check => config::check::run_check(&args),
        cli::Invocation::Daemon(args) if args.dump_config => config::check::run_dump(&args),
        cli::Invocation::Daemon(args) => daemon::run(*args),
        cli::Invocation::Check(args) => monitors::cli::main(args),
        cli::Invocation::Cmd(args) => client::main(args),
        cli::Invocation::Trap(args) => trap::send_main(args),
    }
}
