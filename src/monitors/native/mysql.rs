//! msql-mysql.monitor in MySQL mode: log in to every host (TCP, or the local socket for
//! `localhost`) within `--timeout`, and fail unless the database lists at least one table.
//!
//! Error texts copy DBD::mysql over Debian 12's libmariadb where the client library writes
//! them; server messages are passed through. Extensions: `--query=SQL` replaces the table
//! listing and `--rows=N` sets how many rows it must return (default 1).

use std::net::IpAddr;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use tokio::time::Instant;

use super::getopt::{LongType, long_getoptions};
use super::perl::{self, Num};
use super::{HostReport, Kind, Report};

const SPEC: &[(&str, LongType)] = &[
    ("mode", LongType::Str),
    ("port", LongType::Int),
    ("username", LongType::Str),
    ("password", LongType::Str),
    ("database", LongType::Str),
    ("timeout", LongType::Int),
    // monrs extensions
    ("query", LongType::Str),
    ("rows", LongType::Int),
];

/// libmariadb's default socket (`MARIADB_UNIX_ADDR` on Debian).
pub const DEFAULT_SOCKET: &str = "/run/mysqld/mysqld.sock";

/// Whether the script would run in mSQL mode: `$0 =~ m/\/msql\.monitor$/ || mode =~ /msql/i`.
pub fn is_msql_mode(program: &str, argv: &[&[u8]]) -> bool {
    if program.ends_with("/msql.monitor") {
        return true;
    }
    let o = long_getoptions(SPEC, argv);
    o.str("mode").is_some_and(|m| contains_ci(m, b"msql"))
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Perl's stringification of a number (`"$n"`).
fn perl_str(n: Num) -> String {
    match n {
        Num::Int(v) => v.to_string(),
        Num::Float(f) if f.is_infinite() => if f > 0.0 { "Inf" } else { "-Inf" }.to_string(),
        Num::Float(f) if f.is_nan() => "NaN".to_string(),
        Num::Float(f) if f == f.trunc() && f.abs() < 1e15 => format!("{f:.0}"),
        Num::Float(f) => {
            // %.15g
            let s = format!("{f:.14e}");
            let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
            let mant = mant.trim_end_matches('0').trim_end_matches('.');
            let exp: i32 = exp.parse().unwrap_or(0);
            if (-5..15).contains(&exp) {
                let v = format!("{f:.*}", (14 - exp).max(0) as usize);
                if v.contains('.') {
                    v.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    v
                }
            } else {
                format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
            }
        }
    }
}

fn num_true(n: Option<Num>) -> bool {
    match n {
        None => false,
        Some(Num::Int(v)) => v != 0,
        Some(Num::Float(f)) => f != 0.0,
    }
}

/// The parts of `DBI:mysql:DB:HOST:PORT` after DBD::mysql's `_OdbcParse`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dsn {
    pub database: Option<Vec<u8>>,
    pub host: Option<Vec<u8>>,
    pub port: Option<Vec<u8>>,
    pub socket: Option<Vec<u8>>,
}

/// DBD::mysql's DSN splitting: fields separated by `:` or `;`, `[...]` kept together (IPv6),
/// `key=value` fields set that key, the rest fill database, host, port in turn.
pub fn odbc_parse(dsn: &[u8]) -> Dsn {
    let mut out = Dsn::default();
    let mut dsn = dsn.to_vec();
    while !dsn.is_empty() {
        let seg_end = dsn.iter().position(|&b| b == b':' || b == b';');
        let (val, rest) = match split_field(&dsn, seg_end) {
            Some((val, rest)) => {
                let val: Vec<u8> = val
                    .into_iter()
                    .filter(|&b| b != b'[' && b != b']')
                    .collect();
                (val, rest)
            }
            None => (std::mem::take(&mut dsn), Vec::new()),
        };
        dsn = rest;
        if let Some(eq) = val.iter().position(|&b| b == b'=') {
            let key = &val[..eq];
            let value = line(&val[eq + 1..]).to_vec();
            match key {
                b"host" | b"hostname" => out.host = Some(value),
                b"db" | b"dbname" | b"database" => out.database = Some(value),
                b"port" => out.port = Some(value),
                b"mysql_socket" => out.socket = Some(value),
                _ => {}
            }
        } else if out.database.is_none() {
            out.database = Some(val);
        } else if out.host.is_none() {
            out.host = Some(val);
        } else if out.port.is_none() {
            out.port = Some(val);
        }
    }
    out
}

/// `.*` without `/s`: up to the first newline.
fn line(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == b'\n') {
        Some(p) => &s[..p],
        None => s,
    }
}

/// `/([^:;]*\[.*]|[^:;]*)[:;](.*)/` at its leftmost match: (field, rest).
fn split_field(dsn: &[u8], seg_end: Option<usize>) -> Option<(Vec<u8>, Vec<u8>)> {
    let first_seg = &dsn[..seg_end.unwrap_or(dsn.len())];
    // Alternative 1: a '[' inside the first segment, then the last ']' (same line) that is
    // directly followed by ':' or ';'.
    if let Some(open) = first_seg.iter().rposition(|&b| b == b'[') {
        let after = &dsn[open + 1..];
        let after_line = line(after);
        let mut best = None;
        for (k, &b) in after_line.iter().enumerate() {
            if b == b']' && matches!(after_line.get(k + 1), Some(b':' | b';')) {
                best = Some(k);
            }
        }
        if let Some(k) = best {
            let close = open + 1 + k;
            let val = dsn[..=close].to_vec();
            let rest = line(&dsn[close + 2..]).to_vec();
            return Some((val, rest));
        }
    }
    let end = seg_end?;
    Some((dsn[..end].to_vec(), line(&dsn[end + 1..]).to_vec()))
}

/// C's `atoi` truncated to `int`, as DBD::mysql reads the DSN port.
fn atoi(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && perl_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    while let Some(d) = s.get(i).filter(|d| d.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        i += 1;
    }
    let v = if neg { -v } else { v };
    v as i32
}

fn perl_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// The OS user libmariadb logs in as when no user name is given.
fn os_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_default()
}

/// getaddrinfo's error codes, recovered from the resolver's message.
fn gai_code(e: &std::io::Error) -> i32 {
    let msg = e.to_string();
    const CODES: &[(&str, i32)] = &[
        ("Bad value for ai_flags", -1),
        ("Name or service not known", -2),
        ("Temporary failure in name resolution", -3),
        ("Non-recoverable failure in name resolution", -4),
        ("No address associated with hostname", -5),
        ("ai_family not supported", -6),
        ("ai_socktype not supported", -7),
        ("Servname not supported for ai_socktype", -8),
        ("Memory allocation failure", -10),
        ("System error", -11),
    ];
    CODES
        .iter()
        .find(|(text, _)| msg.contains(text))
        .map(|(_, c)| *c)
        .unwrap_or(-2)
}

struct Settings {
    program: String,
    port_str: String,
    user: String,
    password: String,
    database: String,
    query: Option<String>,
    min_rows: u64,
    alarm: Option<u32>,
}

enum Outcome {
    Ok,
    /// `Could not connect ...: TEXT` (TEXT already complete, may end in "\n").
    ConnectFailed(String),
    Timeout,
    NoTables,
    ListTimeout,
    QueryFailed(String),
    TooFewRows(u64),
}

/// Run msql-mysql.monitor (mysql mode) over `argv` (options then hosts).
pub async fn run(program: &str, argv: &[&[u8]], until: Instant) -> Report {
    let o = long_getoptions(SPEC, argv);
    let mut stderr = o.stderr.clone();

    let mut password: Option<Vec<u8>> = o.str("password").map(<[u8]>::to_vec);
    if let Some(pw) = password.as_deref()
        && pw.first() == Some(&b'/')
    {
        // Perl's 2-argument open strips surrounding blanks from the file name.
        let name: Vec<u8> = pw.to_vec();
        let trimmed = String::from_utf8_lossy(&name).trim().to_string();
        match std::fs::read(&trimmed) {
            Ok(content) => {
                if content.is_empty() {
                    password = None;
                } else {
                    let end = content
                        .iter()
                        .position(|&b| b == b'\n')
                        .map(|p| p + 1)
                        .unwrap_or(content.len());
                    let mut first = content[..end].to_vec();
                    if first.last() == Some(&b'\n') {
                        first.pop();
                    }
                    password = Some(first);
                }
            }
            Err(e) => {
                stderr.extend_from_slice(b"can't open ");
                stderr.extend_from_slice(&name);
                stderr.extend_from_slice(format!(" at {program} line 78.\n").as_bytes());
                let code = e
                    .raw_os_error()
                    .filter(|c| (1..=255).contains(c))
                    .unwrap_or(255);
                return Report::message(Kind::Mysql, stderr, Vec::new(), code);
            }
        }
    }

    let timeout = match o.int("timeout") {
        t if num_true(t) => t.unwrap_or(Num::Int(60)),
        _ => Num::Int(60),
    };
    if is_msql_mode(program, argv) {
        stderr.extend_from_slice(b"monrs: mSQL mode needs DBD::mSQL; only the script can run it\n");
        return Report::message(Kind::Mysql, stderr, Vec::new(), 1);
    }
    let mysql_mode = program.contains("/mysql.monitor")
        || o.str("mode").is_some_and(|m| contains_ci(m, b"mysql"));
    if !mysql_mode {
        return Report::message(Kind::Mysql, stderr, b"invalid mode !\n".to_vec(), 1);
    }
    let port = match o.int("port") {
        p if num_true(p) => p.unwrap_or(Num::Int(3306)),
        _ => Num::Int(3306),
    };
    let (alarm, negative) = perl::alarm_secs(timeout);
    let perlish = |v: Option<&[u8]>| -> String {
        match v {
            Some(s) if !s.is_empty() && s != b"0" => String::from_utf8_lossy(s).into_owned(),
            _ => String::new(),
        }
    };
    let rows = o.int("rows").map(|n| n.iv().max(0) as u64).unwrap_or(1);
    let settings = Settings {
        program: program.to_string(),
        port_str: perl_str(port),
        user: perlish(o.str("username")),
        password: perlish(password.as_deref()),
        database: String::from_utf8_lossy(o.str("database").unwrap_or_default()).into_owned(),
        query: o
            .str("query")
            .map(|q| String::from_utf8_lossy(q).into_owned()),
        min_rows: rows,
        alarm,
    };

    let checks = o.operands.iter().map(|h| check_host(h, &settings, until));
    let results = super::per_host(checks).await;

    let mut failures: Vec<&[u8]> = Vec::new();
    let mut details: Vec<Vec<u8>> = Vec::new();
    let mut hosts = Vec::with_capacity(results.len());
    for (host, (outcome, latency)) in o.operands.iter().zip(&results) {
        if negative {
            stderr.extend_from_slice(
                format!("alarm() with negative argument at {program} line 102.\n").as_bytes(),
            );
        }
        let detail = detail_for(host, outcome, &settings);
        if let Some(d) = &detail {
            failures.push(host);
            details.push(d.clone());
        }
        hosts.push(HostReport {
            host: String::from_utf8_lossy(host).into_owned(),
            ok: detail.is_none(),
            detail: detail
                .map(|d| String::from_utf8_lossy(&d).trim_end().to_string())
                .unwrap_or_default(),
            latency: *latency,
        });
    }
    let mut stdout = Vec::new();
    let exit = if failures.is_empty() {
        0
    } else {
        failures.sort();
        details.sort();
        stdout.extend_from_slice(&failures.join(&b' '));
        stdout.push(b'\n');
        for d in &details {
            stdout.extend_from_slice(d);
        }
        1
    };
    Report {
        kind: Kind::Mysql,
        stderr,
        stdout,
        exit,
        hosts,
        duration: Duration::ZERO,
    }
}

fn detail_for(host: &[u8], outcome: &Outcome, s: &Settings) -> Option<Vec<u8>> {
    let mut d = host.to_vec();
    let prefix = format!(": Could not connect to mysql server on {}: ", s.port_str);
    match outcome {
        Outcome::Ok => return None,
        Outcome::ConnectFailed(text) => {
            d.extend_from_slice(prefix.as_bytes());
            d.extend_from_slice(text.as_bytes());
            d.push(b'\n');
        }
        Outcome::Timeout => {
            d.extend_from_slice(prefix.as_bytes());
            d.extend_from_slice(
                format!("connect timeout at {} line 63.\n\n", s.program).as_bytes(),
            );
        }
        Outcome::NoTables => {
            d.extend_from_slice(
                format!(": No tables found for database {}\n", s.database).as_bytes(),
            );
        }
        Outcome::ListTimeout => {
            d.extend_from_slice(
                format!(": timeout listing the tables of database {}\n", s.database).as_bytes(),
            );
        }
        Outcome::QueryFailed(e) => {
            d.extend_from_slice(format!(": Query failed: {e}\n").as_bytes());
        }
        Outcome::TooFewRows(n) => {
            d.extend_from_slice(
                format!(
                    ": Query returned {n} rows, expected at least {}\n",
                    s.min_rows
                )
                .as_bytes(),
            );
        }
    }
    Some(d)
}

/// Where one host's connection goes.
enum Target {
    Socket(String),
    Tcp {
        host: String,
        ips: Vec<IpAddr>,
        port: u16,
    },
}

async fn check_host(host: &[u8], s: &Settings, until: Instant) -> (Outcome, Duration) {
    let start = Instant::now();
    let mut dsn = s.database.as_bytes().to_vec();
    dsn.push(b':');
    dsn.extend_from_slice(host);
    dsn.push(b':');
    dsn.extend_from_slice(s.port_str.as_bytes());
    let parts = odbc_parse(&dsn);

    let limit_at = start + super::budget(s.alarm, until);
    let connect = async {
        let target = target_for(&parts).await?;
        connect(target, &parts, s).await
    };
    let conn = match tokio::time::timeout_at(limit_at, connect).await {
        Err(_) => return (Outcome::Timeout, start.elapsed()),
        Ok(Err(text)) => return (Outcome::ConnectFailed(text), start.elapsed()),
        Ok(Ok(conn)) => conn,
    };
    // The script lists tables without an alarm; only the service deadline bounds it.
    let outcome = match tokio::time::timeout_at(until, list(conn, s)).await {
        Ok(o) => o,
        Err(_) => {
            if s.query.is_some() {
                Outcome::QueryFailed("timeout".to_string())
            } else {
                Outcome::ListTimeout
            }
        }
    };
    (outcome, start.elapsed())
}

async fn target_for(parts: &Dsn) -> Result<Target, String> {
    let host = parts.host.as_deref().unwrap_or_default();
    if host.is_empty() || host == b"localhost" {
        let socket = match &parts.socket {
            Some(s) if !s.is_empty() => String::from_utf8_lossy(s).into_owned(),
            _ => std::env::var("MYSQL_UNIX_PORT")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_SOCKET.to_string()),
        };
        return Ok(Target::Socket(socket));
    }
    let host_s = String::from_utf8_lossy(host).into_owned();
    let c_port = atoi(parts.port.as_deref().unwrap_or_default());
    let unknown = |code: i32| format!("Unknown server host '{host_s}' ({code})");
    if c_port < 0 {
        return Err(unknown(-8));
    }
    let port = if c_port == 0 {
        3306
    } else {
        (c_port & 0xFFFF) as u16
    };
    let ips: Vec<IpAddr> = if let Some(v4) = perl::inet_aton(host) {
        vec![IpAddr::V4(v4)]
    } else if let Ok(v6) = host_s.parse::<std::net::Ipv6Addr>() {
        vec![IpAddr::V6(v6)]
    } else if host_s.contains('\0') {
        return Err(unknown(-2));
    } else {
        match tokio::net::lookup_host((host_s.as_str(), port)).await {
            Ok(addrs) => addrs.map(|a| a.ip()).collect(),
            Err(e) => return Err(unknown(gai_code(&e))),
        }
    };
    if ips.is_empty() {
        return Err(unknown(-2));
    }
    Ok(Target::Tcp {
        host: host_s,
        ips,
        port,
    })
}

async fn connect(target: Target, parts: &Dsn, s: &Settings) -> Result<mysql_async::Conn, String> {
    super::ensure_crypto_provider();
    let user = if s.user.is_empty() {
        os_user()
    } else {
        s.user.clone()
    };
    let db = parts
        .database
        .as_deref()
        .filter(|d| !d.is_empty())
        .map(|d| String::from_utf8_lossy(d).into_owned());
    let pass = (!s.password.is_empty()).then(|| s.password.clone());
    let base = mysql_async::OptsBuilder::default()
        .user(Some(user))
        .pass(pass)
        .db_name(db)
        .prefer_socket(false)
        .max_allowed_packet(Some(16 * 1024 * 1024))
        .wait_timeout(Some(28_800))
        .stmt_cache_size(0);
    let (opts, where_) = match &target {
        Target::Socket(path) => (base.socket(Some(path.clone())), Where::Socket(path.clone())),
        Target::Tcp { host, ips, port } => (
            base.ip_or_hostname(host.clone())
                .tcp_port(*port)
                .resolved_ips(Some(ips.clone())),
            Where::Tcp(host.clone()),
        ),
    };
    mysql_async::Conn::new(opts)
        .await
        .map_err(|e| client_error(&e, &where_))
}

enum Where {
    Socket(String),
    Tcp(String),
}

/// DBI's errstr for a failed connect, in libmariadb's words.
fn client_error(e: &mysql_async::Error, where_: &Where) -> String {
    use mysql_async::{Error, IoError};
    const LOST: &str = "Lost connection to server at 'handshake: reading initial communication packet', system error:";
    match e {
        Error::Server(se) => se.message.clone(),
        Error::Io(IoError::Io(io)) => {
            let errno = io.raw_os_error();
            let connect_stage = matches!(
                errno,
                Some(1 | 2 | 11 | 13 | 20 | 40 | 91 | 99 | 101 | 110 | 111 | 113)
            );
            match (where_, errno) {
                (Where::Socket(path), Some(code)) if connect_stage => {
                    format!("Can't connect to local server through socket '{path}' ({code})")
                }
                (Where::Tcp(host), Some(code)) if connect_stage => {
                    // libmariadb connects without blocking: failures found after the
                    // SYN went out are reported as EINPROGRESS.
                    let shown = if matches!(code, 110 | 111) { 115 } else { code };
                    format!("Can't connect to server on '{host}' ({shown})")
                }
                (_, Some(104)) => format!("{LOST} 104"),
                _ => format!("{LOST} 11"),
            }
        }
        // A peer that is not a MySQL server (or went away mid-greeting) shows up as a
        // closed connection or a packet that cannot be parsed.
        Error::Io(_)
        | Error::Driver(
            mysql_async::DriverError::ConnectionClosed
            | mysql_async::DriverError::PacketOutOfOrder
            | mysql_async::DriverError::UnexpectedPacket { .. }
            | mysql_async::DriverError::PacketTooLarge
            | mysql_async::DriverError::CantParseServerVersion { .. },
        ) => format!("{LOST} 11"),
        other => other.to_string(),
    }
}

async fn list(mut conn: mysql_async::Conn, s: &Settings) -> Outcome {
    let outcome = match &s.query {
        None => match conn.query::<mysql_async::Row, _>("SHOW TABLES").await {
            Ok(rows) if !rows.is_empty() => Outcome::Ok,
            // DBI's tables() returns an empty list on any error (no database selected...).
            _ => Outcome::NoTables,
        },
        Some(q) => match conn.query::<mysql_async::Row, _>(q.as_str()).await {
            Ok(rows) if rows.len() as u64 >= s.min_rows => Outcome::Ok,
            Ok(rows) => Outcome::TooFewRows(rows.len() as u64),
            Err(mysql_async::Error::Server(se)) => Outcome::QueryFailed(se.message),
            Err(e) => Outcome::QueryFailed(e.to_string()),
        },
    };
    // Say goodbye properly so the server does not log an aborted connection.
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.disconnect()).await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Dsn {
        odbc_parse(s.as_bytes())
    }

    #[test]
    fn dsn_parsing_matches_dbd_mysql() {
        let d = p("db:127.0.0.1:3306");
        assert_eq!(d.database.as_deref(), Some(&b"db"[..]));
        assert_eq!(d.host.as_deref(), Some(&b"127.0.0.1"[..]));
        assert_eq!(d.port.as_deref(), Some(&b"3306"[..]));
        // An IPv6 literal without brackets falls apart (the script then uses the socket).
        let d = p("db:::1:3399");
        assert_eq!(d.host.as_deref(), Some(&b""[..]));
        assert_eq!(d.port.as_deref(), Some(&b""[..]));
        // With brackets it survives.
        let d = p("db:[::1]:3399");
        assert_eq!(d.host.as_deref(), Some(&b"::1"[..]));
        assert_eq!(d.port.as_deref(), Some(&b"3399"[..]));
        // key=value fields, and the port sliding into the host slot.
        let d = p("db:a=b:3399");
        assert_eq!(d.host.as_deref(), Some(&b"3399"[..]));
        let d = p("db:h;x:3399");
        assert_eq!(d.host.as_deref(), Some(&b"h"[..]));
        assert_eq!(d.port.as_deref(), Some(&b"x"[..]));
        let d = p(":127.0.0.1:3306");
        assert_eq!(d.database.as_deref(), Some(&b""[..]));
        let d = p("db:mysql_socket=/tmp/s:3306");
        assert_eq!(d.socket.as_deref(), Some(&b"/tmp/s"[..]));
        assert_eq!(d.host.as_deref(), Some(&b"3306"[..]));
        // --database=db:127.0.0.1 shifts the real host into the port slot.
        let d = p("db:127.0.0.1:127.0.0.2:3399");
        assert_eq!(d.host.as_deref(), Some(&b"127.0.0.1"[..]));
        assert_eq!(d.port.as_deref(), Some(&b"127.0.0.2"[..]));
    }

    #[test]
    fn numbers_print_like_perl() {
        assert_eq!(perl_str(Num::Int(3306)), "3306");
        assert_eq!(perl_str(Num::Int(-1)), "-1");
        assert_eq!(perl_str(Num::Float(1e20)), "1e+20");
        assert_eq!(perl_str(Num::Float(2.5)), "2.5");
        assert_eq!(atoi(b"70000"), 70000);
        assert_eq!(atoi(b"-1"), -1);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"12x"), 12);
    }

    #[test]
    fn msql_mode_detection() {
        let a = |s: &'static str| s.as_bytes();
        assert!(is_msql_mode("/usr/lib/mon/mon.d/msql.monitor", &[]));
        assert!(!is_msql_mode("/usr/lib/mon/mon.d/mysql.monitor", &[]));
        assert!(is_msql_mode(
            "/x/msql-mysql.monitor",
            &[a("--mode"), a("mSQL")]
        ));
        assert!(!is_msql_mode("/x/msql-mysql.monitor", &[a("--mode=mysql")]));
    }
}
