//! Sending traps: the packet Mon::Client `send_trap` builds (traps.md §6.1), and
//! `monrs trap`, a command-line sender modelled on Mon::Client and `trap.alert`.

use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;

use clap::Parser;

use crate::escape::{Mode, escape};
use crate::state::OpStatus;

/// One trap to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingTrap {
    /// `usr` (always sent, possibly empty); `pas` is only sent with a non-empty user.
    pub user: String,
    pub password: String,
    pub group: String,
    pub service: String,
    /// `sta`: the exit value, a non-negative integer as in Mon::Client.
    pub retval: u64,
    /// `spc` (sent twice, ignored by mon).
    pub opstatus: OpStatus,
    pub summary: Vec<u8>,
    pub detail: Vec<u8>,
    /// `tsp`: the sender's clock.
    pub timestamp: i64,
}

/// The datagram, byte for byte as Mon::Client `send_trap` writes it.
pub fn encode(t: &OutgoingTrap) -> Vec<u8> {
    let q = |b: &[u8]| escape(b, Mode::Quoted);
    let mut p = String::new();
    p.push_str("pro='0.3807'\n");
    p.push_str(&format!("usr='{}'\n", q(t.user.as_bytes())));
    if !t.user.is_empty() {
        p.push_str(&format!("pas='{}'\n", q(t.password.as_bytes())));
    }
    let spc = t.opstatus.0;
    p.push_str(&format!(
        "spc='{spc}'\nseq='0'\ntyp='trap'\ngrp='{}'\nsvc='{}'\nsta='{}'\nspc='{spc}'\ntsp='{}'\nsum='{}'\ndtl='{}'\n",
        q(t.group.as_bytes()),
        q(t.service.as_bytes()),
        t.retval,
        t.timestamp,
        q(&t.summary),
        q(&t.detail),
    ));
    p.into_bytes()
}

/// Send `t` to each address; the errors of the ones that failed.
pub fn send_to(t: &OutgoingTrap, targets: &[SocketAddr]) -> Vec<(SocketAddr, std::io::Error)> {
    let pkt = encode(t);
    let mut errors = Vec::new();
    for &addr in targets {
        let bind: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().unwrap_or(addr)
        } else {
            "[::]:0".parse().unwrap_or(addr)
        };
        let r = UdpSocket::bind(bind).and_then(|s| s.send_to(&pkt, addr).map(|_| ()));
        if let Err(e) = r {
            errors.push((addr, e));
        }
    }
    errors
}

/// The port of a service name in /etc/services (`mon` → 2583).
pub fn service_port(name: &str, proto: &str) -> Option<u16> {
    service_port_in(&std::fs::read_to_string("/etc/services").ok()?, name, proto)
}

/// `service_port` over the text of a services file.
pub fn service_port_in(text: &str, name: &str, proto: &str) -> Option<u16> {
    text.lines().find_map(|l| {
        let l = l.split('#').next().unwrap_or("");
        let mut it = l.split_whitespace();
        let svc = it.next()?;
        let (port, pr) = it.next()?.split_once('/')?;
        let names_match = svc == name || it.any(|alias| alias == name);
        (names_match && pr == proto)
            .then(|| port.parse().ok())
            .flatten()
    })
}

/// A name from Mon::Client's `%OPSTAT`, or a number.
fn parse_opstatus(s: &str) -> Result<OpStatus, String> {
    if let Some(o) = OpStatus::from_name(s) {
        return Ok(o);
    }
    if s == "dependency" {
        return Ok(OpStatus::DEPEND);
    }
    s.parse::<u8>()
        .map(OpStatus)
        .map_err(|_| format!("unknown opstatus '{s}' (a name like fail, ok, or a number)"))
}

/// `monrs trap`: send one mon trap to each HOST. Every value defaults to the `MON_*`
/// variable mon gives alert programs, and mon's alert arguments (`-h -t -l` with a value,
/// `-u -a -D -T -O` alone) are accepted and ignored, so it also works as the body of an
/// alert script (like trap.alert).
#[derive(Debug, Parser)]
#[command(name = "monrs trap", disable_help_flag = true)]
struct TrapArgs {
    /// Watch group the trap is for [default: $MON_GROUP]
    #[arg(short = 'g', long)]
    group: Option<String>,
    /// Service the trap is for [default: $MON_SERVICE]
    #[arg(short = 's', long)]
    service: Option<String>,
    /// Result: 0 is success, anything else a failure [default: $MON_RETVAL, else 0]
    #[arg(short = 'r', long)]
    retval: Option<String>,
    /// Opstatus name or code, sent as `spc` (mon ignores it) [default: $MON_OPSTATUS, else
    /// ok for retval 0 and fail otherwise]
    #[arg(short = 'o', long)]
    opstatus: Option<String>,
    /// Trap user from auth.cf's trap section [default: $MON_TRAP_USER]
    #[arg(short = 'U', long)]
    user: Option<String>,
    /// Trap password (sent in clear text, as mon's traps are) [default: $MON_TRAP_PASS]
    #[arg(short = 'P', long)]
    password: Option<String>,
    /// UDP port [default: `mon` in /etc/services, else 2583]
    #[arg(short = 'p', long)]
    port: Option<String>,
    /// Summary line [default: the first line of stdin when stdin is not a terminal]
    #[arg(short = 'S', long)]
    summary: Option<String>,
    /// Detail text [default: the rest of stdin, its final newline removed]
    #[arg(long)]
    detail: Option<String>,
    #[arg(short = 'h', hide = true)]
    _hosts: Option<String>,
    #[arg(short = 't', hide = true)]
    _time: Option<String>,
    #[arg(short = 'l', hide = true)]
    _alertevery: Option<String>,
    #[arg(short = 'u', hide = true)]
    _up: bool,
    #[arg(short = 'T', hide = true)]
    _trap: bool,
    #[arg(short = 'O', hide = true)]
    _traptimeout: bool,
    #[arg(short = 'a', hide = true)]
    _ack: bool,
    #[arg(short = 'D', hide = true)]
    _disable: bool,
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// mon servers to send to (host or host:port)
    #[arg(required = true)]
    hosts: Vec<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn build(a: &TrapArgs) -> Result<(OutgoingTrap, u16), String> {
    let group = a
        .group
        .clone()
        .or_else(|| env("MON_GROUP"))
        .ok_or("no group: use -g GROUP")?;
    let service = a
        .service
        .clone()
        .or_else(|| env("MON_SERVICE"))
        .ok_or("no service: use -s SERVICE")?;
    let retval_s = a
        .retval
        .clone()
        .or_else(|| env("MON_RETVAL"))
        .unwrap_or_else(|| "0".into());
    let retval: u64 = retval_s
        .parse()
        .map_err(|_| format!("invalid value for retval '{retval_s}' (a non-negative integer)"))?;
    let opstatus = match a.opstatus.clone().or_else(|| env("MON_OPSTATUS")) {
        Some(o) => parse_opstatus(&o)?,
        None if retval == 0 => OpStatus::OK,
        None => OpStatus::FAIL,
    };
    let port = match &a.port {
        Some(p) => p
            .parse()
            .ok()
            .or_else(|| service_port(p, "udp"))
            .ok_or_else(|| format!("unknown port '{p}'"))?,
        None => service_port("mon", "udp").unwrap_or(2583),
    };
    let (summary, detail) = match (&a.summary, &a.detail) {
        (None, None) if !std::io::stdin().is_terminal() => {
            let mut input = Vec::new();
            std::io::stdin()
                .read_to_end(&mut input)
                .map_err(|e| format!("reading stdin: {e}"))?;
            split_stdin(&input)
        }
        (s, d) => (
            s.clone().unwrap_or_default().into_bytes(),
            d.clone().unwrap_or_default().into_bytes(),
        ),
    };
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok((
        OutgoingTrap {
            user: a
                .user
                .clone()
                .or_else(|| env("MON_TRAP_USER"))
                .unwrap_or_default(),
            password: a
                .password
                .clone()
                .or_else(|| env("MON_TRAP_PASS"))
                .unwrap_or_default(),
            group,
            service,
            retval,
            opstatus,
            summary,
            detail,
            timestamp,
        },
        port,
    ))
}

/// trap.alert's reading of stdin: the first line is the summary, the rest the detail with
/// its final newline removed.
pub fn split_stdin(input: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (first, rest) = match input.iter().position(|&b| b == b'\n') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (input, &input[input.len()..]),
    };
    let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
    (first.to_vec(), rest.to_vec())
}

/// `monrs trap ARGS...`: send one mon trap (like Mon::Client `send_trap`).
pub fn send_main(args: Vec<OsString>) -> ExitCode {
    ExitCode::from(send_cli(args, &mut std::io::stderr()))
}

/// `monrs trap` with its error output passed in; returns the exit status (0 sent, 1 a
/// send failed, 2 bad arguments).
pub fn send_cli(args: Vec<OsString>, err: &mut dyn std::io::Write) -> u8 {
    let argv = std::iter::once(OsString::from("monrs trap")).chain(args);
    let parsed = match TrapArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let (trap, port) = match build(&parsed) {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(err, "monrs trap: {e}");
            return 2;
        }
    };
    let mut failed = false;
    for host in &parsed.hosts {
        match target(host, port) {
            Ok(addr) => {
                for (_, e) in send_to(&trap, &[addr]) {
                    let _ = writeln!(err, "monrs trap: could not send trap to {host}: {e}");
                    failed = true;
                }
            }
            Err(e) => {
                let _ = writeln!(err, "monrs trap: could not send trap to {host}: {e}");
                failed = true;
            }
        }
    }
    u8::from(failed)
}

/// `HOST` or `HOST:PORT` as one address; like Mon::Client (inet_aton), IPv4 preferred.
fn target(host: &str, port: u16) -> Result<SocketAddr, String> {
    let with_port = host.matches(':').count() == 1 && !host.starts_with('[');
    let addrs: Vec<SocketAddr> = if with_port {
        host.to_socket_addrs()
    } else {
        (host, port).to_socket_addrs()
    }
    .map_err(|e| e.to_string())?
    .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| "no address".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_mon_client() {
        // transcripts/trap-packets.txt: Mon::Client send_trap with these values.
        let t = OutgoingTrap {
            user: "trapuser".into(),
            password: "trappw".into(),
            group: "g2".into(),
            service: "trapsvc".into(),
            retval: 1,
            opstatus: OpStatus::FAIL,
            summary: b"remote thing failed".to_vec(),
            detail: b"line one\nline two with 'quote' and \\ backslash\n".to_vec(),
            timestamp: 1795317390,
        };
        let want: &[u8] =
            include_bytes!("../../tests/fixtures/transcripts/trap-packet-sendtrap.bin");
        assert_eq!(
            String::from_utf8_lossy(&encode(&t)),
            String::from_utf8_lossy(want)
        );
    }

    #[test]
    fn encodes_like_trap_alert() {
        let (summary, detail) = split_stdin(b"sum line\ndetail 1\ndetail 2\n");
        let t = OutgoingTrap {
            user: "trapuser".into(),
            password: "trappw".into(),
            group: "g2".into(),
            service: "trapsvc".into(),
            retval: 1,
            opstatus: OpStatus::FAIL,
            summary,
            detail,
            timestamp: 1795317391,
        };
        let want: &[u8] =
            include_bytes!("../../tests/fixtures/transcripts/trap-packet-trapalert.bin");
        assert_eq!(encode(&t), want);
    }

    #[test]
    fn no_password_without_a_user() {
        let t = OutgoingTrap {
            user: String::new(),
            password: "secret".into(),
            group: "g".into(),
            service: "s".into(),
            retval: 0,
            opstatus: OpStatus::OK,
            summary: vec![],
            detail: vec![],
            timestamp: 1,
        };
        let p = String::from_utf8_lossy(&encode(&t)).into_owned();
        assert!(p.starts_with("pro='0.3807'\nusr=''\nspc='1'\n"), "{p}");
        assert!(!p.contains("secret"));
    }

    #[test]
    fn parses_mon_alert_arguments() {
        // An alert script `exec monrs trap -U u -P p "$@"` for `alert fwd.alert 10.0.0.2`
        // on a trap alert, as mon invokes it.
        let argv = [
            "monrs trap",
            "-U",
            "u",
            "-P",
            "p",
            "-s",
            "trapsvc",
            "-g",
            "g2",
            "-h",
            "g2 h9",
            "-t",
            "1795317204",
            "-T",
            "-a",
            "-D",
            "-u",
            "-O",
            "-l",
            "600",
            "10.0.0.2",
        ];
        let a = TrapArgs::try_parse_from(argv).expect("alert argv parses");
        assert_eq!(a.service.as_deref(), Some("trapsvc"));
        assert_eq!(a.group.as_deref(), Some("g2"));
        assert_eq!(a.user.as_deref(), Some("u"));
        assert_eq!(a.hosts, vec!["10.0.0.2".to_string()]);
        assert!(
            TrapArgs::try_parse_from(["monrs trap", "-g", "g"]).is_err(),
            "a host is required"
        );
    }

    #[test]
    fn services_file_lookup() {
        let text = "# x\nmon\t\t2583/tcp\t\t\t# MON traps\nmon\t\t2583/udp\nhttp 80/tcp www\n";
        assert_eq!(service_port_in(text, "mon", "udp"), Some(2583));
        assert_eq!(service_port_in(text, "www", "tcp"), Some(80));
        assert_eq!(service_port_in(text, "http", "udp"), None);
        assert_eq!(service_port_in(text, "no-such-service-monrs", "udp"), None);
    }
}
