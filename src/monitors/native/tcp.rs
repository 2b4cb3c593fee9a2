//! tcp.monitor: connect to `-p PORT` on every host within `-t SECS`, report failures.
//!
//! Extensions (not in Debian's script): `-s TEXT` sends TEXT after connecting (with `\r`,
//! `\n`, `\t`, `\\` and `\xHH` escapes) and `-e REGEX` waits for a reply matching REGEX.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use regex::bytes::Regex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::getopt::std_getopts;
use super::perl::{self, is_true};
use super::{HostReport, Kind, Report, budget, resolve_v4};

/// Getopt::Std spec: the script's `p:t:` plus the send/expect extension.
const SPEC: &str = "p:t:s:e:";

/// errno for an I/O error that carries none (never seen from connect or write).
const EIO: i32 = nix::errno::Errno::EIO as i32;

/// Largest reply kept while waiting for `-e`.
const EXPECT_LIMIT: usize = 64 * 1024;

/// What happened to one host.
enum Outcome {
    Ok,
    NoAton,
    Timeout,
    ConnectErr(i32),
    SendErr(i32),
    ExpectFailed(Vec<u8>),
    ExpectTimeout(Vec<u8>),
}

/// Reject extension values that can never work.
pub fn validate(program: &str, argv: &[&[u8]]) -> Result<(), String> {
    let o = std_getopts(SPEC, "p:t:", argv, program);
    if let Some(re) = o.get(b'e') {
        compile_expect(re).map_err(|e| format!("tcp.monitor: -e: {e}"))?;
    }
    Ok(())
}

fn compile_expect(re: &[u8]) -> Result<Regex, String> {
    let text = std::str::from_utf8(re).map_err(|_| "regex is not UTF-8".to_string())?;
    super::http::perl_regex(text)
}

/// Run tcp.monitor over `argv` (options then hosts).
pub async fn run(program: &str, argv: &[&[u8]], until: Instant) -> Report {
    let o = std_getopts(SPEC, "p:t:", argv, program);
    let mut stderr = o.stderr.clone();

    let port_src: &[u8] = if is_true(o.get(b'p')) {
        o.get(b'p').unwrap_or(b"23")
    } else {
        b"23"
    };
    let (port_num, port_numeric) = perl::numify(port_src);
    let (port, trunc_warning) = perl::pack_port(port_num);

    let t_src: &[u8] = if is_true(o.get(b't')) {
        o.get(b't').unwrap_or(b"10")
    } else {
        b"10"
    };
    let (t_num, t_numeric) = perl::numify(t_src);
    let (alarm, negative) = perl::alarm_secs(t_num);

    let send = o.get(b's').map(unescape);
    let expect = match o.get(b'e').map(compile_expect) {
        Some(Ok(re)) => Some(re),
        Some(Err(e)) => {
            stderr.extend_from_slice(format!("tcp.monitor: -e: {e}\n").as_bytes());
            return Report::message(Kind::Tcp, stderr, Vec::new(), 1);
        }
        None => None,
    };

    let checks = o
        .operands
        .iter()
        .map(|host| check_host(host, port, alarm, until, send.as_deref(), expect.as_ref()));
    let results = super::per_host(checks).await;

    // Perl's warnings, in the order the script would meet them host by host: the port's
    // numification warns once, its truncation on every sockaddr_in; then the alarm.
    let mut port_warned = false;
    let mut alarm_warned = false;
    let mut failures: Vec<&[u8]> = Vec::new();
    let mut details: Vec<Vec<u8>> = Vec::new();
    let mut hosts = Vec::with_capacity(results.len());
    for (host, (outcome, latency)) in o.operands.iter().zip(&results) {
        if !matches!(outcome, Outcome::NoAton) {
            if !port_numeric && !port_warned {
                port_warned = true;
                stderr.extend_from_slice(&perl::not_numeric_warning(
                    port_src,
                    "subroutine entry",
                    &perl::socket_pm_path(),
                    172,
                ));
            }
            if let Some(w) = &trunc_warning {
                stderr.extend_from_slice(w);
            }
            if !t_numeric && !alarm_warned {
                alarm_warned = true;
                stderr.extend_from_slice(&perl::not_numeric_warning(t_src, "alarm", program, 74));
            }
            if negative {
                stderr.extend_from_slice(
                    format!("alarm() with negative argument at {program} line 74.\n").as_bytes(),
                );
            }
        }
        let detail = detail_for(host, outcome);
        let ok = detail.is_none();
        if let Some(d) = &detail {
            failures.push(host);
            details.push(d.clone());
        }
        hosts.push(HostReport {
            host: String::from_utf8_lossy(host).into_owned(),
            ok,
            detail: detail
                .map(|d| String::from_utf8_lossy(&d).into_owned())
                .unwrap_or_default(),
            latency: *latency,
        });
    }

    let mut stdout = Vec::new();
    let exit = if failures.is_empty() {
        0
    } else {
        failures.sort();
        stdout.extend_from_slice(&failures.join(&b' '));
        stdout.extend_from_slice(b"\n\n");
        stdout.extend_from_slice(&details.join(&b'\n'));
        stdout.push(b'\n');
        1
    };
    Report {
        kind: Kind::Tcp,
        stderr,
        stdout,
        exit,
        hosts,
        duration: Duration::ZERO,
    }
}

fn detail_for(host: &[u8], outcome: &Outcome) -> Option<Vec<u8>> {
    let mut d = host.to_vec();
    match outcome {
        Outcome::Ok => return None,
        Outcome::NoAton => d.extend_from_slice(b" could not inet_aton"),
        Outcome::Timeout => d.extend_from_slice(b" timeout"),
        Outcome::ConnectErr(e) => {
            d.extend_from_slice(format!(" could not connect: {}", perl::strerror(*e)).as_bytes())
        }
        Outcome::SendErr(e) => {
            d.extend_from_slice(format!(" could not send: {}", perl::strerror(*e)).as_bytes())
        }
        Outcome::ExpectFailed(got) => {
            d.extend_from_slice(b" expect failed, got: ");
            d.extend_from_slice(crate::escape::escape(got, crate::escape::Mode::Plain).as_bytes());
        }
        Outcome::ExpectTimeout(got) => {
            d.extend_from_slice(b" expect timeout, got: ");
            d.extend_from_slice(crate::escape::escape(got, crate::escape::Mode::Plain).as_bytes());
        }
    }
    Some(d)
}

async fn check_host(
    host: &[u8],
    port: u16,
    alarm: Option<u32>,
    until: Instant,
    send: Option<&[u8]>,
    expect: Option<&Regex>,
) -> (Outcome, Duration) {
    let start = Instant::now();
    // The script resolves outside its alarm; the service deadline still bounds us.
    let ip: Option<Ipv4Addr> = match perl::inet_aton(host) {
        Some(ip) => Some(ip),
        None => match tokio::time::timeout(super::remaining(until), resolve_v4(host)).await {
            Ok(ip) => ip,
            Err(_) => return (Outcome::Timeout, start.elapsed()),
        },
    };
    let Some(ip) = ip else {
        return (Outcome::NoAton, start.elapsed());
    };
    let limit_at = Instant::now() + budget(alarm, until);
    let addr = SocketAddr::from((ip, port));
    (talk(addr, limit_at, send, expect).await, start.elapsed())
}

/// A connected socket: still outside the reactor when the kernel finished at once.
enum Connected {
    Plain(socket2::Socket),
    Registered(TcpStream),
}

impl Connected {
    fn into_stream(self) -> std::io::Result<TcpStream> {
        match self {
            Connected::Plain(s) => TcpStream::from_std(std::net::TcpStream::from(s)),
            Connected::Registered(s) => Ok(s),
        }
    }
}

/// `connect()` as tokio does it, minus the reactor round trip when the handshake is
/// complete by the time connect returns (loopback, mostly): socket, connect,
/// getpeername, close instead of seven system calls.
async fn connect(addr: SocketAddr) -> std::io::Result<Connected> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    match sock.connect(&addr.into()) {
        Ok(()) => return Ok(Connected::Plain(sock)),
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => {}
        Err(e) => return Err(e),
    }
    if sock.peer_addr().is_ok() {
        return Ok(Connected::Plain(sock));
    }
    if let Some(e) = sock.take_error()? {
        return Err(e);
    }
    let stream = TcpStream::from_std(std::net::TcpStream::from(sock))?;
    stream.writable().await?;
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    Ok(Connected::Registered(stream))
}

async fn talk(
    addr: SocketAddr,
    limit_at: Instant,
    send: Option<&[u8]>,
    expect: Option<&Regex>,
) -> Outcome {
    use tokio::time::timeout_at;
    let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(EIO);
    let conn = match timeout_at(limit_at, connect(addr)).await {
        Err(_) => return Outcome::Timeout,
        Ok(Err(e)) => return Outcome::ConnectErr(errno(e)),
        Ok(Ok(c)) => c,
    };
    if send.is_none() && expect.is_none() {
        return Outcome::Ok;
    }
    let mut stream = match conn.into_stream() {
        Ok(s) => s,
        Err(e) => return Outcome::ConnectErr(errno(e)),
    };
    if let Some(data) = send {
        match timeout_at(limit_at, stream.write_all(data)).await {
            Err(_) => return Outcome::Timeout,
            Ok(Err(e)) => return Outcome::SendErr(e.raw_os_error().unwrap_or(EIO)),
            Ok(Ok(())) => {}
        }
    }
    let Some(re) = expect else {
        return Outcome::Ok;
    };
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if re.is_match(&got) {
            return Outcome::Ok;
        }
        if got.len() >= EXPECT_LIMIT {
            return Outcome::ExpectFailed(got);
        }
        match timeout_at(limit_at, stream.read(&mut buf)).await {
            Err(_) => return Outcome::ExpectTimeout(got),
            Ok(Ok(0)) | Ok(Err(_)) => return Outcome::ExpectFailed(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// `-s` text with C-style escapes: `\r \n \t \0 \\ \xHH`; anything else stays as written.
pub fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() {
            let c = s[i + 1];
            let simple = match c {
                b'r' => Some(b'\r'),
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'0' => Some(0),
                b'\\' => Some(b'\\'),
                _ => None,
            };
            if let Some(b) = simple {
                out.push(b);
                i += 2;
                continue;
            }
            if c == b'x'
                && let Some(hex) = s.get(i + 2..i + 4)
                && let Ok(h) = std::str::from_utf8(hex)
                && let Ok(v) = u8::from_str_radix(h, 16)
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_send_text() {
        assert_eq!(
            unescape(br"GET / HTTP/1.0\r\n\r\n"),
            b"GET / HTTP/1.0\r\n\r\n"
        );
        assert_eq!(unescape(br"a\x41\\b\q"), b"aA\\b\\q");
        assert_eq!(unescape(br"end\"), b"end\\");
    }
}
