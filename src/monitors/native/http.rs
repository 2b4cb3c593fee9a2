//! http.monitor: `GET PATH HTTP/1.0` to every host, read until the server closes, judge the
//! raw response with the script's status regex (or `-m REGEX`), report headers.
//!
//! With only the script's options the exchange is done on a raw socket, byte for byte as the
//! script does it (headers with their CRs, partial data on timeout). Extension options (see
//! `EXT_LETTERS` and docs/native.md) switch to reqwest over rustls: https, method, Host
//! header, accepted codes, body regex, redirects, certificate expiry.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::LazyLock;
use std::time::Duration;

use regex::bytes::{Regex, RegexBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::getopt::{StdOpts, std_getopts};
use super::perl::{self, is_true};
use super::{HostReport, Kind, Report, budget};

/// The script's Getopt::Std spec.
const SCRIPT_SPEC: &str = "p:t:u:a:m:o";
/// The script's spec plus monrs's extension letters.
const SPEC: &str = "p:t:u:a:m:osM:H:c:b:r:w:kC:";
/// Extension letters: any of them selects the reqwest client.
const EXT_LETTERS: &[u8] = b"sMHcbrwkC";

/// The most response bytes kept per host (the script keeps everything).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// `^HTTP/([\d.]+)\s+(200|30[12]|401)\b`, on bytes, ASCII classes (as Perl on byte strings).
static STATUS_OK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    RegexBuilder::new(r"\AHTTP/[0-9.]+\s+(?:200|30[12]|401)\b")
        .unicode(false)
        .build()
        .ok()
});

/// Compile a Perl regex (as given to `-m`) for bytes the way the script applies it:
/// `/RE/s` on a byte string. `$` and `\Z` keep Perl's "end, or before a final newline".
pub fn perl_regex(re: &str) -> Result<Regex, String> {
    RegexBuilder::new(&translate_perl_regex(re))
        .unicode(false)
        .dot_matches_new_line(true)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| match e {
            regex::Error::Syntax(s) => format!("invalid regex {re:?}: {}", s.trim()),
            other => format!("invalid regex {re:?}: {other}"),
        })
}

/// Rewrite the few Perl constructs whose meaning differs in the regex crate.
fn translate_perl_regex(re: &str) -> String {
    const EOS: &str = r"(?:\n?\z)";
    let multiline = re.contains("(?m") || re.contains("(?sm") || re.contains("(?im");
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                match chars.get(i + 1) {
                    Some('Z') => out.push_str(EOS),
                    Some(&n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
                i += 2;
            }
            '$' if !multiline => {
                out.push_str(EOS);
                i += 1;
            }
            '{' => {
                // Perl takes a `{` that does not start a quantifier literally.
                let rest: String = chars[i..].iter().take(24).collect();
                let quant = rest.find('}').map(|end| &rest[1..end]).is_some_and(|body| {
                    let (a, b) = body.split_once(',').unwrap_or((body, ""));
                    !a.is_empty()
                        && a.bytes().all(|x| x.is_ascii_digit())
                        && b.bytes().all(|x| x.is_ascii_digit())
                });
                if quant && i > 0 {
                    out.push('{');
                } else {
                    out.push_str(r"\{");
                }
                i += 1;
            }
            '[' => {
                // Copy a character class; Perl has no nested classes or set operators.
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
                while i < chars.len() && chars[i] != ']' {
                    let k = chars[i];
                    if k == '\\' {
                        out.push('\\');
                        if let Some(&n) = chars.get(i + 1) {
                            out.push(n);
                        }
                        i += 2;
                        continue;
                    }
                    if k == '[' && chars.get(i + 1) == Some(&':') {
                        // POSIX class [:name:]
                        let tail: String = chars[i..].iter().collect();
                        if let Some(end) = tail.find(":]") {
                            out.push_str(&tail[..end + 2]);
                            i += tail[..end + 2].chars().count();
                            continue;
                        }
                    }
                    if matches!(k, '[' | '&' | '~') {
                        out.push('\\');
                    }
                    out.push(k);
                    i += 1;
                }
                if i < chars.len() {
                    out.push(']');
                    i += 1;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Reject extension values that can never work (bad regexes, code lists, numbers).
pub fn validate(program: &str, argv: &[&[u8]]) -> Result<(), String> {
    let o = std_getopts(SPEC, SCRIPT_SPEC, argv, program);
    Options::from_getopts(&o).map(|_| ())
}

/// The options of one run.
struct Options {
    port_src: Vec<u8>,
    /// Whether `-p` was given (https defaults to 443 otherwise).
    port_given: bool,
    timeout_src: Vec<u8>,
    path: Vec<u8>,
    agent: Vec<u8>,
    matchre: Option<Regex>,
    omit_ok: bool,
    ext: Option<Ext>,
}

/// Extension settings (reqwest client).
struct Ext {
    tls: bool,
    method: reqwest::Method,
    host_header: Option<String>,
    codes: Vec<(u16, u16)>,
    body_re: Option<Regex>,
    redirects: usize,
    expiry_days: Option<f64>,
    insecure: bool,
    ca: Option<Vec<u8>>,
}

fn text(v: &[u8], what: &str) -> Result<String, String> {
    String::from_utf8(v.to_vec()).map_err(|_| format!("http.monitor: {what} is not UTF-8"))
}

impl Options {
    fn from_getopts(o: &StdOpts) -> Result<Options, String> {
        let pick = |c: u8, default: &[u8]| -> Vec<u8> {
            if is_true(o.get(c)) {
                o.get(c).unwrap_or(default).to_vec()
            } else {
                default.to_vec()
            }
        };
        let matchre = match o.get(b'm') {
            Some(re) if !re.is_empty() => {
                Some(perl_regex(&text(re, "-m")?).map_err(|e| format!("http.monitor: -m: {e}"))?)
            }
            _ => None,
        };
        let ext = if EXT_LETTERS.iter().any(|&c| o.has(c)) {
            Some(Ext::from_getopts(o)?)
        } else {
            None
        };
        Ok(Options {
            port_src: pick(b'p', b"80"),
            port_given: is_true(o.get(b'p')),
            timeout_src: pick(b't', b"30"),
            path: pick(b'u', b"/"),
            agent: pick(b'a', b"mon.d/http.monitor"),
            matchre,
            omit_ok: o.has(b'o'),
            ext,
        })
    }
}

impl Ext {
    fn from_getopts(o: &StdOpts) -> Result<Ext, String> {
        let method = match o.get(b'M') {
            Some(m) => reqwest::Method::from_bytes(m).map_err(|_| {
                format!(
                    "http.monitor: -M: invalid method {:?}",
                    String::from_utf8_lossy(m)
                )
            })?,
            None => reqwest::Method::GET,
        };
        let codes = match o.get(b'c') {
            Some(list) => parse_codes(&text(list, "-c")?)?,
            None => vec![(200, 200), (301, 302), (401, 401)],
        };
        let body_re = match o.get(b'b') {
            Some(re) => {
                Some(perl_regex(&text(re, "-b")?).map_err(|e| format!("http.monitor: -b: {e}"))?)
            }
            None => None,
        };
        let redirects = match o.get(b'r') {
            Some(n) => text(n, "-r")?.trim().parse::<usize>().map_err(|_| {
                format!(
                    "http.monitor: -r: not a number: {}",
                    String::from_utf8_lossy(n)
                )
            })?,
            None => 0,
        };
        let expiry_days = match o.get(b'w') {
            Some(n) => Some(
                text(n, "-w")?
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|d| d.is_finite() && *d >= 0.0)
                    .ok_or_else(|| {
                        format!(
                            "http.monitor: -w: not a number of days: {}",
                            String::from_utf8_lossy(n)
                        )
                    })?,
            ),
            None => None,
        };
        let ca = match o.get(b'C') {
            Some(path) => {
                let p = text(path, "-C")?;
                let pem = std::fs::read(&p).map_err(|e| format!("http.monitor: -C {p}: {e}"))?;
                reqwest::Certificate::from_pem(&pem)
                    .map_err(|e| format!("http.monitor: -C {p}: {e}"))?;
                Some(pem)
            }
            None => None,
        };
        let host_header = match o.get(b'H') {
            Some(h) => Some(text(h, "-H")?),
            None => None,
        };
        Ok(Ext {
            tls: o.has(b's'),
            method,
            host_header,
            codes,
            body_re,
            redirects,
            expiry_days,
            insecure: o.has(b'k'),
            ca,
        })
    }

    fn accepts(&self, code: u16) -> bool {
        self.codes.iter().any(|&(lo, hi)| lo <= code && code <= hi)
    }
}

/// `200,204,300-399` → ranges.
fn parse_codes(list: &str) -> Result<Vec<(u16, u16)>, String> {
    let bad = || format!("http.monitor: -c: expected codes like 200,301-302, got {list:?}");
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (a, b) = item.split_once('-').unwrap_or((item, item));
        let lo: u16 = a.trim().parse().map_err(|_| bad())?;
        let hi: u16 = b.trim().parse().map_err(|_| bad())?;
        if !(100..=999).contains(&lo) || !(100..=999).contains(&hi) || lo > hi {
            return Err(bad());
        }
        out.push((lo, hi));
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// One host's result, in the script's terms.
struct HostResult {
    ok: bool,
    error: Vec<u8>,
    /// `($TheContent =~ /^(.*?)\r?\n\r?\n/s)`: None when there is no blank line.
    header: Option<Vec<u8>>,
    latency: Duration,
    /// Whether `alarm` was given a negative value (Perl warns once per host).
    negative_alarm: bool,
    /// sockaddr_in's truncation warning, when the script got that far.
    trunc_warning: Option<Vec<u8>>,
}

/// A failed host's error text and header, as printed.
type Failed<'a> = (&'a [u8], Option<&'a [u8]>);

/// Run http.monitor over `argv` (options then hosts).
pub async fn run(program: &str, argv: &[&[u8]], until: Instant) -> Report {
    let o = std_getopts(SPEC, SCRIPT_SPEC, argv, program);
    let mut stderr = o.stderr.clone();
    if o.operands.is_empty() {
        return Report::message(Kind::Http, stderr, Vec::new(), 0);
    }
    let opts = match Options::from_getopts(&o) {
        Ok(opts) => opts,
        Err(e) => {
            stderr.extend_from_slice(e.as_bytes());
            stderr.push(b'\n');
            return Report::message(Kind::Http, stderr, Vec::new(), 1);
        }
    };
    let (t_num, _) = perl::numify(&opts.timeout_src);
    let (alarm, negative) = perl::alarm_secs(t_num);

    let results: Vec<HostResult> = match &opts.ext {
        None => {
            let checks = o
                .operands
                .iter()
                .map(|h| raw_check(h, &opts, alarm, negative, until));
            super::per_host(checks).await
        }
        Some(ext) => match build_client(ext, &opts) {
            Ok(client) => {
                let checks = o
                    .operands
                    .iter()
                    .map(|h| ext_check(&client, h, &opts, ext, alarm, until));
                super::per_host(checks).await
            }
            Err(e) => {
                stderr.extend_from_slice(format!("http.monitor: {e}\n").as_bytes());
                return Report::message(Kind::Http, stderr, Vec::new(), 1);
            }
        },
    };

    let mut bad: BTreeMap<&[u8], Failed<'_>> = BTreeMap::new();
    let mut good: BTreeMap<&[u8], Option<&[u8]>> = BTreeMap::new();
    let mut hosts = Vec::with_capacity(results.len());
    for (host, r) in o.operands.iter().zip(&results) {
        if r.negative_alarm {
            stderr.extend_from_slice(
                format!("alarm() with negative argument at {program} line 123.\n").as_bytes(),
            );
        }
        if let Some(w) = &r.trunc_warning {
            stderr.extend_from_slice(w);
        }
        if r.ok {
            good.insert(host, r.header.as_deref());
        } else {
            bad.insert(host, (&r.error, r.header.as_deref()));
        }
        hosts.push(HostReport {
            host: String::from_utf8_lossy(host).into_owned(),
            ok: r.ok,
            detail: if r.ok {
                String::new()
            } else {
                String::from_utf8_lossy(&r.error).into_owned()
            },
            latency: r.latency,
        });
    }

    let mut stdout = Vec::new();
    let exit = if bad.is_empty() {
        stdout.push(b'\n');
        0
    } else {
        let keys: Vec<&[u8]> = bad.keys().copied().collect();
        stdout.extend_from_slice(&keys.join(&b' '));
        stdout.push(b'\n');
        1
    };
    // The script prints these blocks in Perl hash order (random); sorted is our order.
    for (h, (error, header)) in &bad {
        stdout.extend_from_slice(b"HOST ");
        stdout.extend_from_slice(h);
        stdout.extend_from_slice(b": ");
        stdout.extend_from_slice(error);
        stdout.push(b'\n');
        if let Some(hd) = header
            && !hd.is_empty()
        {
            stdout.extend_from_slice(hd);
            stdout.push(b'\n');
        }
        stdout.push(b'\n');
    }
    if !opts.omit_ok {
        for (h, header) in &good {
            stdout.extend_from_slice(b"HOST ");
            stdout.extend_from_slice(h);
            stdout.extend_from_slice(b": ok\n");
            stdout.extend_from_slice(header.unwrap_or_default());
            stdout.extend_from_slice(b"\n\n");
        }
    }
    Report {
        kind: Kind::Http,
        stderr,
        stdout,
        exit,
        hosts,
        duration: Duration::ZERO,
    }
}

/// The header as the script extracts it: everything before the first `\r?\n\r?\n`.
pub fn extract_header(content: &[u8]) -> Option<&[u8]> {
    let at = |i: usize| content.get(i).copied();
    for p in 0..content.len() {
        let mut q = p;
        if at(q) == Some(b'\r') {
            q += 1;
        }
        if at(q) != Some(b'\n') {
            continue;
        }
        q += 1;
        if at(q) == Some(b'\r') {
            q += 1;
        }
        if at(q) == Some(b'\n') {
            return Some(&content[..p]);
        }
    }
    None
}

/// The script's verdict on a response body (shared by both clients).
fn judge(content: &[u8], status_ok: bool, matchre: Option<&Regex>) -> (bool, &'static [u8]) {
    let mut ok = status_ok;
    let mut error: &'static [u8] = if ok {
        b""
    } else {
        b"HTTP response code failure"
    };
    if let Some(re) = matchre {
        ok = re.is_match(content);
        error = if ok { b"" } else { b"Regex match failed" };
    }
    (ok, error)
}

fn timeout_error(timeout_src: &[u8]) -> Vec<u8> {
    let mut e = b"timeout after ".to_vec();
    e.extend_from_slice(timeout_src);
    e.extend_from_slice(b" seconds");
    e
}

/// gethostbyname(3) for IPv4: numeric only when made of digits and dots, else the resolver.
async fn gethostbyname(host: &[u8]) -> Option<Ipv4Addr> {
    if host.iter().all(|&b| b.is_ascii_digit() || b == b'.') {
        return perl::inet_aton(host);
    }
    if perl::inet_aton(host).is_some() {
        // Hex and octal-with-letters forms: getaddrinfo takes them, gethostbyname does not.
        return None;
    }
    super::resolve_v4(host).await
}

/// The port OpenSocket connects to: digits as they are, else a service name.
fn conn_port(port_src: &[u8]) -> Option<Vec<u8>> {
    let digits = port_src.strip_suffix(b"\n").unwrap_or(port_src);
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        return Some(port_src.to_vec());
    }
    perl::getservbyname_tcp(port_src).map(|p| p.to_string().into_bytes())
}

async fn raw_check(
    host: &[u8],
    opts: &Options,
    alarm: Option<u32>,
    negative: bool,
    until: Instant,
) -> HostResult {
    let start = Instant::now();
    let limit_at = start + budget(alarm, until);
    let mut result = HostResult {
        ok: false,
        error: Vec::new(),
        header: None,
        latency: Duration::ZERO,
        negative_alarm: negative,
        trunc_warning: None,
    };
    let mut content = Vec::new();
    let mut timed_out = false;

    let exchange = async {
        let port_bytes = conn_port(&opts.port_src)?;
        let ip = gethostbyname(host).await?;
        let (port, warning) = perl::pack_port(perl::numify(&port_bytes).0);
        Some((SocketAddr::from((ip, port)), warning))
    };
    match tokio::time::timeout_at(limit_at, exchange).await {
        Err(_) => timed_out = true,
        Ok(None) => {}
        Ok(Some((addr, warning))) => {
            result.trunc_warning = warning;
            match fetch(addr, host, opts, limit_at, &mut content).await {
                Fetch::Done | Fetch::ConnectFailed => {}
                Fetch::TimedOut => timed_out = true,
            }
        }
    }

    result.header = extract_header(&content).map(<[u8]>::to_vec);
    let status_ok = STATUS_OK.as_ref().is_some_and(|re| re.is_match(&content));
    let (ok, error) = judge(&content, status_ok, opts.matchre.as_ref());
    result.ok = ok;
    result.error = error.to_vec();
    if !ok && timed_out {
        result.error = timeout_error(&opts.timeout_src);
    }
    result.latency = start.elapsed();
    result
}

enum Fetch {
    Done,
    ConnectFailed,
    TimedOut,
}

async fn fetch(
    addr: SocketAddr,
    host: &[u8],
    opts: &Options,
    limit_at: Instant,
    content: &mut Vec<u8>,
) -> Fetch {
    let mut stream = match tokio::time::timeout_at(limit_at, TcpStream::connect(addr)).await {
        Err(_) => return Fetch::TimedOut,
        Ok(Err(_)) => return Fetch::ConnectFailed,
        Ok(Ok(s)) => s,
    };
    let mut req = Vec::with_capacity(64 + opts.path.len() + host.len() + opts.agent.len());
    req.extend_from_slice(b"GET ");
    req.extend_from_slice(&opts.path);
    req.extend_from_slice(b" HTTP/1.0\r\nHost: ");
    req.extend_from_slice(host);
    req.extend_from_slice(b"\r\nUser-Agent: ");
    req.extend_from_slice(&opts.agent);
    req.extend_from_slice(b"\r\n\r\n");
    // A write error is not fatal to the script either (it goes on reading); a server
    // that closed early simply yields no data.
    if tokio::time::timeout_at(limit_at, stream.write_all(&req))
        .await
        .is_err()
    {
        return Fetch::TimedOut;
    }
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match tokio::time::timeout_at(limit_at, stream.read(&mut buf)).await {
            Err(_) => return Fetch::TimedOut,
            Ok(Ok(0)) | Ok(Err(_)) => return Fetch::Done,
            Ok(Ok(n)) => {
                content.extend_from_slice(&buf[..n]);
                if content.len() >= BODY_LIMIT {
                    return Fetch::Done;
                }
            }
        }
    }
}

/// What makes two extension clients different (everything else is per request).
#[derive(Clone, PartialEq, Eq)]
struct ClientKey {
    agent: Vec<u8>,
    redirects: usize,
    insecure: bool,
    ca: Option<Vec<u8>>,
}

/// Clients are reused across runs: building one loads the system's root certificates.
/// They keep no idle connections, so every check still opens its own.
fn build_client(ext: &Ext, opts: &Options) -> Result<reqwest::Client, String> {
    static CACHE: std::sync::Mutex<Vec<(ClientKey, reqwest::Client)>> =
        std::sync::Mutex::new(Vec::new());
    const CACHE_MAX: usize = 32;
    let key = ClientKey {
        agent: opts.agent.clone(),
        redirects: ext.redirects,
        insecure: ext.insecure,
        ca: ext.ca.clone(),
    };
    if let Ok(cache) = CACHE.lock()
        && let Some((_, c)) = cache.iter().find(|(k, _)| *k == key)
    {
        return Ok(c.clone());
    }
    super::ensure_crypto_provider();
    let agent = String::from_utf8_lossy(&opts.agent).into_owned();
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .user_agent(agent)
        .tls_info(true)
        .redirect(if ext.redirects == 0 {
            reqwest::redirect::Policy::none()
        } else {
            reqwest::redirect::Policy::limited(ext.redirects)
        });
    if ext.insecure {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    if let Some(pem) = &ext.ca {
        let cert = reqwest::Certificate::from_pem(pem).map_err(|e| format!("-C: {e}"))?;
        b = b.tls_certs_only([cert]);
    }
    let client = b
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= CACHE_MAX {
            cache.remove(0);
        }
        cache.push((key, client.clone()));
    }
    Ok(client)
}

async fn ext_check(
    client: &reqwest::Client,
    host: &[u8],
    opts: &Options,
    ext: &Ext,
    alarm: Option<u32>,
    until: Instant,
) -> HostResult {
    let start = Instant::now();
    let limit = budget(alarm, until);
    let mut result = HostResult {
        ok: false,
        error: Vec::new(),
        header: None,
        latency: Duration::ZERO,
        negative_alarm: false,
        trunc_warning: None,
    };
    let outcome = tokio::time::timeout(limit, ext_exchange(client, host, opts, ext)).await;
    match outcome {
        Err(_) => result.error = timeout_error(&opts.timeout_src),
        Ok(Err(e)) => result.error = e.into_bytes(),
        Ok(Ok((header, body, status, cert_end))) => {
            let status_ok = ext.accepts(status);
            let mut content = header.clone();
            content.extend_from_slice(b"\r\n\r\n");
            content.extend_from_slice(&body);
            let (mut ok, error) = judge(&content, status_ok, opts.matchre.as_ref());
            result.error = error.to_vec();
            if ok
                && let Some(re) = &ext.body_re
                && !re.is_match(&body)
            {
                ok = false;
                result.error = b"Body regex match failed".to_vec();
            }
            if ok && let Some(days) = ext.expiry_days {
                match cert_end {
                    Some(end) => {
                        if let Some(msg) = expiry_problem(end, days) {
                            ok = false;
                            result.error = msg.into_bytes();
                        }
                    }
                    None if ext.tls => {
                        ok = false;
                        result.error = b"no peer certificate to check".to_vec();
                    }
                    None => {}
                }
            }
            result.ok = ok;
            result.header = Some(header);
        }
    }
    result.latency = start.elapsed();
    result
}

type Exchange = (Vec<u8>, Vec<u8>, u16, Option<jiff::Timestamp>);

async fn ext_exchange(
    client: &reqwest::Client,
    host: &[u8],
    opts: &Options,
    ext: &Ext,
) -> Result<Exchange, String> {
    let host_s = std::str::from_utf8(host).map_err(|_| "host name is not UTF-8".to_string())?;
    let port: u16 = if opts.port_given || !ext.tls {
        let p = conn_port(&opts.port_src).ok_or_else(|| {
            format!(
                "could not getservbyname for {}",
                String::from_utf8_lossy(&opts.port_src)
            )
        })?;
        perl::pack_port(perl::numify(&p).0).0
    } else {
        443
    };
    let scheme = if ext.tls { "https" } else { "http" };
    let host_part = if host_s.contains(':') {
        format!("[{host_s}]")
    } else {
        host_s.to_string()
    };
    let path = String::from_utf8_lossy(&opts.path);
    let slash = if path.starts_with('/') { "" } else { "/" };
    let url = format!("{scheme}://{host_part}:{port}{slash}{path}");
    let mut req = client.request(ext.method.clone(), &url);
    if let Some(h) = &ext.host_header {
        req = req.header(reqwest::header::HOST, h.as_str());
    }
    let mut resp = req.send().await.map_err(|e| describe_error(&e))?;
    let cert_end = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .and_then(cert_not_after);
    let status = resp.status();
    let mut header = format!(
        "{:?} {} {}",
        resp.version(),
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in resp.headers() {
        header.extend_from_slice(b"\r\n");
        header.extend_from_slice(name.as_str().as_bytes());
        header.extend_from_slice(b": ");
        header.extend_from_slice(value.as_bytes());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe_error(&e))? {
        body.extend_from_slice(&chunk);
        if body.len() >= BODY_LIMIT {
            break;
        }
    }
    Ok((header, body, status.as_u16(), cert_end))
}

/// A one-line reason for a reqwest failure: the TLS or socket error underneath if any.
fn describe_error(e: &reqwest::Error) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut innermost = e.to_string();
    while let Some(err) = cur {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return format!("TLS: {tls}");
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            // io::Error hides its payload from source(): look inside (it nests).
            let mut inner_io = io;
            loop {
                if let Some(code) = inner_io.raw_os_error() {
                    return format!("connect: {}", perl::strerror(code));
                }
                let Some(payload) = inner_io.get_ref() else {
                    break;
                };
                if let Some(tls) = payload.downcast_ref::<rustls::Error>() {
                    return format!("TLS: {tls}");
                }
                match payload.downcast_ref::<std::io::Error>() {
                    Some(next) => inner_io = next,
                    None => break,
                }
            }
        }
        innermost = err.to_string();
        cur = err.source();
    }
    if e.is_connect() {
        format!("connect: {innermost}")
    } else {
        format!("request failed: {innermost}")
    }
}

/// Whether a certificate ending at `end` is expired or expires within `days`.
fn expiry_problem(end: jiff::Timestamp, days: f64) -> Option<String> {
    let now = jiff::Timestamp::now();
    let left = end.as_second() - now.as_second();
    let when = end.strftime("%Y-%m-%d %H:%M:%S UTC");
    if left <= 0 {
        return Some(format!(
            "certificate expired {} days ago ({when})",
            (-left) / 86_400
        ));
    }
    if (left as f64) < days * 86_400.0 {
        return Some(format!(
            "certificate expires in {} days ({when})",
            left / 86_400
        ));
    }
    None
}

/// The notAfter of a DER X.509 certificate.
pub fn cert_not_after(der: &[u8]) -> Option<jiff::Timestamp> {
    let (_, cert, _) = der_next(der)?;
    let (_, tbs, _) = der_next(cert)?;
    let mut rest = tbs;
    let (tag, _, r) = der_next(rest)?;
    if tag == 0xA0 {
        rest = r; // explicit version
    }
    for _ in 0..3 {
        // serialNumber, signature, issuer
        let (_, _, r) = der_next(rest)?;
        rest = r;
    }
    let (_, validity, _) = der_next(rest)?;
    let (_, _, r) = der_next(validity)?;
    let (tag, time, _) = der_next(r)?;
    let s = std::str::from_utf8(time).ok()?;
    let s = s.strip_suffix('Z')?;
    let full = match tag {
        0x17 => {
            // UTCTime: YY >= 50 is 19YY (RFC 5280).
            let yy: i32 = s.get(0..2)?.parse().ok()?;
            let century = if yy >= 50 { "19" } else { "20" };
            format!("{century}{s}")
        }
        0x18 => s.to_string(),
        _ => return None,
    };
    let dt = jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", &full).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// One DER TLV: (tag, contents, rest).
fn der_next(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *buf.first()?;
    let first = *buf.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for k in 0..n {
            len = (len << 8) | usize::from(*buf.get(2 + k)?);
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    Some((tag, buf.get(hdr..end)?, buf.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_extraction_matches_perl() {
        // `($c =~ /^(.*?)\r?\n\r?\n/s)` in perl 5.36.
        assert_eq!(extract_header(b"A\r\n\r\nB"), Some(&b"A"[..]));
        assert_eq!(extract_header(b"A\r\nX: y\n\nB"), Some(&b"A\r\nX: y"[..]));
        assert_eq!(extract_header(b"A\n\r\nB"), Some(&b"A"[..]));
        assert_eq!(extract_header(b"\n\nB"), Some(&b""[..]));
        assert_eq!(extract_header(b"A\r\nB\r\n"), None);
        assert_eq!(extract_header(b"A\r\r\n\r\n"), Some(&b"A\r"[..]));
        assert_eq!(extract_header(b""), None);
    }

    #[test]
    fn status_regex() {
        let ok = |s: &[u8]| STATUS_OK.as_ref().is_some_and(|re| re.is_match(s));
        assert!(ok(b"HTTP/1.0 200 OK"));
        assert!(ok(b"HTTP/1.1 302 Found"));
        assert!(ok(b"HTTP/1.1 401"));
        assert!(ok(b"HTTP/1.0\n200 x"));
        assert!(!ok(b"HTTP/1.0 2000"));
        assert!(!ok(b"HTTP/1.0 303 See"));
        assert!(!ok(b" HTTP/1.0 200"));
        assert!(!ok(b"HTTP/ 200"));
    }

    #[test]
    fn perl_regex_semantics() {
        let m = |re: &str, s: &[u8]| perl_regex(re).expect("regex").is_match(s);
        assert!(m("foo$", b"x foo\n"));
        assert!(!m("foo$", b"x foo\n\n"));
        assert!(m(r"a.b", b"a\nb"));
        assert!(m(r"\d+", b"x12"));
        assert!(m(r"[[]", b"["));
        assert!(m(r"a{", b"a{"));
        assert!(m(r"a{2}", b"aa"));
        assert!(m(r"[[:digit:]]", b"5"));
        assert!(m(r"body 5\d+", b"body 500"));
        assert!(m("caf\u{e9}", "caf\u{e9}".as_bytes()));
        assert!(perl_regex("(?<=a)b").is_err());
        assert!(perl_regex("(").is_err());
    }

    #[test]
    fn code_lists() {
        assert_eq!(
            parse_codes("200,204, 300-399"),
            Ok(vec![(200, 200), (204, 204), (300, 399)])
        );
        assert!(parse_codes("abc").is_err());
        assert!(parse_codes("").is_err());
        assert!(parse_codes("399-300").is_err());
    }

    #[test]
    fn der_not_after() {
        // A certificate made by `openssl req -x509 -days 1 ...` whose notAfter is
        // 2026-11-23 05:00:00 UTC, trimmed to the fields the parser walks.
        let tbs_fields: Vec<u8> = [
            vec![0xA0, 0x03, 0x02, 0x01, 0x02], // [0] version 3
            vec![0x02, 0x01, 0x01],             // serial
            vec![0x30, 0x00],                   // signature alg
            vec![0x30, 0x00],                   // issuer
            {
                let mut v = vec![0x30, 30];
                v.extend_from_slice(&[0x17, 13]);
                v.extend_from_slice(b"261122050000Z");
                v.extend_from_slice(&[0x17, 13]);
                v.extend_from_slice(b"261123050000Z");
                v
            },
        ]
        .concat();
        let mut tbs = vec![0x30, tbs_fields.len() as u8];
        tbs.extend_from_slice(&tbs_fields);
        let mut cert = vec![0x30, tbs.len() as u8];
        cert.extend_from_slice(&tbs);
        let end = cert_not_after(&cert).expect("notAfter");
        assert_eq!(end.to_string(), "2026-11-23T05:00:00Z");
        assert_eq!(cert_not_after(&cert[..10]), None);
    }
}
