//! Native mail: Debian's mail.alert message (same subject and body), sent over SMTP with
//! lettre (smarthost, STARTTLS or implicit TLS, AUTH) or through sendmail, with retries.
//!
//! Settings come from `MONRS_SMTP_*`/`MONRS_MAIL_*` variables: the service's `VAR=value`
//! lines first, then monrs's own environment (docs/ACTIONS.md lists them).

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use lettre::address::{Address, Envelope};
use lettre::message::Body;
use lettre::message::header::{ContentTransferEncoding, HeaderName, HeaderValue, Headers};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::common::{
    getopts_std, hostname, one_line, parse_bool, parse_duration, run_cmd, setting,
};
use crate::alerts::{AlertCall, Outcome};

/// Where Debian installs mon's mail.alert (the script the native action stands in for).
pub const STOCK_MAIL_ALERT: &str = "/usr/lib/mon/alert.d/mail.alert";

/// mail.alert's options (Getopt::Std spec of the script).
const MAIL_ALERT_SPEC: &str = "S:s:g:h:t:l:f:u";

/// A native mail action (as `mail.alert` or `monrs-mail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAction {
    /// The `X-Mailer` value: the stock script's path when standing in for it (mail
    /// filters written for mon match on it), else the action's name.
    pub(crate) mailer: String,
}

impl MailAction {
    pub(crate) fn new(mailer: impl Into<String>) -> Self {
        MailAction {
            mailer: mailer.into(),
        }
    }

    pub(crate) async fn deliver(&self, call: &AlertCall) -> Outcome {
        let msg = match Composed::from_call(call, &self.mailer) {
            Ok(m) => m,
            Err(e) => return fail(e),
        };
        let settings = match Settings::from_env(&call.env, msg.from.as_deref()) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        send_with_retries(&msg, &settings, &call.env).await
    }
}

fn fail(detail: String) -> Outcome {
    Outcome { ok: false, detail }
}

// === The message ===

/// The mail mail.alert would write, split into the parts each transport needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Composed {
    pub(crate) to: Vec<String>,
    pub(crate) subject: String,
    pub(crate) mailer: String,
    /// `-f`: envelope sender (and the sendmail full name, as mail.alert passes `-F`).
    pub(crate) from: Option<String>,
    /// The body, starting with mail.alert's empty line; LF line ends.
    pub(crate) body: Vec<u8>,
    /// Options mail.alert would complain about (`Unknown option: a`).
    pub(crate) warnings: Vec<String>,
}

impl Composed {
    /// Build the message from mon's argv and stdin exactly as mail.alert does.
    pub(crate) fn from_call(call: &AlertCall, mailer: &str) -> Result<Composed, String> {
        let o = getopts_std(MAIL_ALERT_SPEC, &call.argv());
        let input: &[u8] = &call.stdin;
        let (first, rest) = match input.iter().position(|&b| b == b'\n') {
            Some(i) => (&input[..i], &input[i + 1..]),
            None => (input, &input[input.len()..]),
        };
        let summary = match o.value('S') {
            Some(s) => s.to_string(),
            None => String::from_utf8_lossy(first).into_owned(),
        };
        let word = if o.has('u') { "UPALERT" } else { "ALERT" };
        let t = perl_localtime(perl_num(o.value('t').unwrap_or("")));
        let short: Vec<&str> = t.split_whitespace().take(4).collect();
        let group = o.value('g').unwrap_or("");
        let service = o.value('s').unwrap_or("");
        let subject = format!("{word} {group}/{service}: {summary} ({})", short.join(" "));

        let mut body = Vec::with_capacity(rest.len() + 256);
        body.extend_from_slice(
            format!(
                "\nGroup                 : {group}\nService               : {service}\n\
                 Time noticed          : {t}\nSecs until next alert : {}\n",
                o.value('l').unwrap_or("")
            )
            .as_bytes(),
        );
        let members = format!("Members               : {}", o.value('h').unwrap_or(""));
        body.extend_from_slice(text_wrap("", "\t\t\t", &members).as_bytes());
        body.extend_from_slice(
            b"\n\nDetailed text (if any) follows:\n-------------------------------\n",
        );
        body.extend_from_slice(rest);

        Ok(Composed {
            to: o.rest.clone(),
            subject,
            mailer: mailer.to_string(),
            from: o.value('f').map(str::to_string),
            body,
            warnings: o.warnings,
        })
    }

    /// The text mail.alert pipes into `sendmail -oi -t`.
    pub(crate) fn sendmail_text(&self) -> Vec<u8> {
        let mut m = format!(
            "To: {}\nSubject: {}\nX-Mailer: {}\n\n",
            self.to.join(","),
            self.subject,
            self.mailer
        )
        .into_bytes();
        m.extend_from_slice(&self.body);
        m
    }

    /// The RFC 5322 message for SMTP: mail.alert's headers plus From, Date and
    /// Message-ID (which sendmail would add), CRLF line ends. A body that is plain short
    /// ASCII lines goes as is; anything else is sent as UTF-8 quoted-printable.
    pub(crate) fn smtp_text(&self, from: &str, now: Timestamp) -> Vec<u8> {
        let mut h = Headers::new();
        let mut put = |name: &str, value: String| {
            if let Ok(n) = HeaderName::new_from_ascii(name.to_string()) {
                h.insert_raw(HeaderValue::new(n, value));
            }
        };
        put("From", from.to_string());
        put("To", self.to.join(","));
        put("Subject", self.subject.clone());
        put("Date", rfc2822_date(now));
        put("Message-ID", message_id(now));
        put("X-Mailer", self.mailer.clone());
        let plain =
            self.body.is_ascii() && self.body.split(|&b| b == b'\n').all(|l| l.len() <= 998);
        let body: Vec<u8> = if plain {
            crlf(&self.body)
        } else {
            put("MIME-Version", "1.0".to_string());
            put("Content-Type", "text/plain; charset=utf-8".to_string());
            put("Content-Transfer-Encoding", "quoted-printable".to_string());
            let text = String::from_utf8_lossy(&self.body).into_owned();
            match Body::new_with_encoding(text, ContentTransferEncoding::QuotedPrintable) {
                Ok(b) => b.into_vec(),
                Err(raw) => crlf(&raw),
            }
        };
        let mut out = h.to_string().into_bytes();
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        // lettre ends DATA with CRLF . CRLF itself; a final CRLF of ours would add a line.
        if out.ends_with(b"\r\n") {
            out.truncate(out.len() - 2);
        }
        out
    }
}

fn crlf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + b.len() / 30);
    let mut prev = 0u8;
    for &c in b {
        if c == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(c);
        prev = c;
    }
    out
}

fn rfc2822_date(now: Timestamp) -> String {
    let z = now.to_zoned(TimeZone::system());
    jiff::fmt::rfc2822::to_string(&z).unwrap_or_else(|_| now.to_string())
}

fn message_id(now: Timestamp) -> String {
    format!(
        "<{}.{}.{}.{:08x}@{}>",
        now.as_second(),
        now.subsec_nanosecond(),
        std::process::id(),
        fastrand::u32(..),
        hostname()
    )
}

/// Perl's numification of a string (`"17x"` is 17, `"abc"` and `""` are 0).
fn perl_num(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits[..end].parse().unwrap_or(0);
    if neg { -n } else { n }
}

/// Perl's scalar `localtime(t)`: `Sat Nov  4 00:00:00 2023`.
pub(crate) fn perl_localtime(t: i64) -> String {
    match Timestamp::from_second(t) {
        Ok(ts) => ts
            .to_zoned(TimeZone::system())
            .strftime("%a %b %e %H:%M:%S %Y")
            .to_string(),
        Err(_) => String::new(),
    }
}

/// Perl's `Text::Wrap::wrap($ip, $xp, $text)` with its defaults (76 columns, tab stops
/// every 8, `unexpand` on): break at whitespace so lines stay under 76 columns, cut
/// words longer than a line, and turn runs of blanks that reach a tab stop into TABs.
pub(crate) fn text_wrap(ip: &str, xp: &str, text: &str) -> String {
    const COLUMNS: usize = 76;
    let t: Vec<char> = expand_tabs(text).chars().collect();
    let first_ll = COLUMNS.saturating_sub(expand_tabs(ip).chars().count() + 1);
    let next_ll = COLUMNS
        .saturating_sub(expand_tabs(xp).chars().count() + 1)
        .max(1);
    let mut ll = first_ll;
    let mut lead = ip;
    let mut out = String::new();
    let mut nl = "";
    let mut remainder = String::new();
    let mut pos = 0;
    while pos < t.len() && !t[pos..].iter().all(|c| c.is_whitespace()) {
        // The longest run of at most `ll` characters (no newline inside) that is
        // followed by whitespace or the end of the text.
        let run = t[pos..]
            .iter()
            .take(ll + 1)
            .position(|&c| c == '\n')
            .unwrap_or(ll + 1)
            .min(t.len() - pos);
        let fit = (0..=run.min(ll))
            .rev()
            .find(|&n| pos + n == t.len() || t[pos + n].is_whitespace());
        let line: String;
        match fit {
            Some(n) => {
                line = t[pos..pos + n].iter().collect();
                pos += n;
                remainder = if pos < t.len() {
                    let r = if t[pos] == '\r' && t.get(pos + 1) == Some(&'\n') {
                        "\r\n".to_string()
                    } else {
                        t[pos].to_string()
                    };
                    pos += r.chars().count();
                    r
                } else {
                    String::new()
                };
            }
            None => {
                line = t[pos..pos + ll].iter().collect();
                pos += ll;
                remainder = "\n".to_string();
            }
        }
        out.push_str(nl);
        out.push_str(&unexpand_line(&format!("{lead}{line}")));
        lead = xp;
        ll = next_ll;
        nl = "\n";
    }
    out.push_str(&remainder);
    out
}

fn expand_tabs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut col = 0;
    for c in s.chars() {
        match c {
            '\t' => {
                let pad = 8 - col % 8;
                out.extend(std::iter::repeat_n(' ', pad));
                col += pad;
            }
            '\n' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}

/// Text::Tabs::unexpand of one line: in every full 8-column chunk, two or more blanks at
/// the end become one TAB.
fn unexpand_line(line: &str) -> String {
    let chars: Vec<char> = expand_tabs(line).chars().collect();
    let mut out = String::with_capacity(line.len());
    let full = chars.len() / 8;
    for chunk in chars.chunks(8).take(full) {
        let s: String = chunk.iter().collect();
        let trimmed = s.trim_end_matches(' ');
        if s.len() - trimmed.len() >= 2 {
            out.push_str(trimmed);
            out.push('\t');
        } else {
            out.push_str(&s);
        }
    }
    out.extend(&chars[full * 8..]);
    out
}

// === Settings ===

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    None,
    StartTls,
    Implicit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SmtpSettings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: TlsMode,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    /// Header and envelope sender when mail.alert's `-f` is not given.
    pub(crate) from: String,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) verify: bool,
    pub(crate) helo: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transport {
    Smtp(SmtpSettings),
    Sendmail(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) transport: Transport,
    /// Deadline of one attempt (connect to QUIT, or one sendmail run).
    pub(crate) timeout: Duration,
    pub(crate) attempts: u32,
    /// Pause before the second attempt; doubled before each further one.
    pub(crate) backoff: Duration,
    /// Bound on the whole delivery, retries and pauses included.
    pub(crate) deadline: Duration,
}

const SENDMAILS: [&str; 2] = ["/usr/lib/sendmail", "/usr/sbin/sendmail"];

impl Settings {
    pub(crate) fn from_env(
        env: &[(String, String)],
        dash_f: Option<&str>,
    ) -> Result<Settings, String> {
        let get = |k: &str| setting(env, k);
        let num = |k: &str, default: u64| -> Result<u64, String> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{k}: '{v}' is not a number")),
            }
        };
        let dur = |k: &str, default: Duration| -> Result<Duration, String> {
            get(k).map_or(Ok(default), |v| parse_duration(k, &v))
        };
        let timeout = dur("MONRS_SMTP_TIMEOUT", Duration::from_secs(10))?;
        let attempts = u32::try_from(num("MONRS_MAIL_ATTEMPTS", 3)?.clamp(1, 20)).unwrap_or(3);
        let backoff = dur("MONRS_MAIL_BACKOFF", Duration::from_secs(2))?;
        let deadline = dur("MONRS_MAIL_DEADLINE", Duration::from_secs(60))?;

        let host = get("MONRS_SMTP_HOST");
        let sendmail = get("MONRS_SENDMAIL").map(PathBuf::from).or_else(|| {
            SENDMAILS
                .iter()
                .map(Path::new)
                .find(|p| super::common::is_executable(p))
                .map(Path::to_path_buf)
        });
        let transport = match get("MONRS_MAIL_TRANSPORT").as_deref() {
            Some("sendmail") => Transport::Sendmail(
                sendmail.ok_or("MONRS_MAIL_TRANSPORT=sendmail but no sendmail was found")?,
            ),
            Some("smtp") => Transport::Smtp(smtp_settings(env, host, dash_f)?),
            Some(other) => {
                return Err(format!(
                    "MONRS_MAIL_TRANSPORT: '{other}' is neither smtp nor sendmail"
                ));
            }
            None => match (host, sendmail) {
                (None, Some(path)) => Transport::Sendmail(path),
                (host, _) => Transport::Smtp(smtp_settings(env, host, dash_f)?),
            },
        };
        Ok(Settings {
            transport,
            timeout,
            attempts,
            backoff,
            deadline,
        })
    }
}

fn smtp_settings(
    env: &[(String, String)],
    host: Option<String>,
    dash_f: Option<&str>,
) -> Result<SmtpSettings, String> {
    let get = |k: &str| setting(env, k);
    let host = host.unwrap_or_else(|| "localhost".to_string());
    let loopback = host == "localhost" || host.starts_with("127.") || host == "::1";
    let tls = match get("MONRS_SMTP_TLS")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        None if loopback => TlsMode::None,
        None => TlsMode::StartTls,
        Some("none" | "no" | "off" | "plain") => TlsMode::None,
        Some("starttls") => TlsMode::StartTls,
        Some("tls" | "smtps" | "implicit") => TlsMode::Implicit,
        Some(other) => {
            return Err(format!(
                "MONRS_SMTP_TLS: '{other}' is not none, starttls or tls"
            ));
        }
    };
    let port = match get("MONRS_SMTP_PORT") {
        Some(p) => p
            .trim()
            .parse()
            .map_err(|_| format!("MONRS_SMTP_PORT: '{p}' is not a port"))?,
        None => match tls {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Implicit => 465,
        },
    };
    let password = match (get("MONRS_SMTP_PASSWORD"), get("MONRS_SMTP_PASSWORD_FILE")) {
        (Some(p), _) => Some(p),
        (None, Some(f)) => Some(
            std::fs::read_to_string(&f)
                .map_err(|e| format!("MONRS_SMTP_PASSWORD_FILE {f}: {e}"))?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
        ),
        (None, None) => None,
    };
    let user = get("MONRS_SMTP_USER");
    if user.is_some() != password.is_some() {
        return Err("MONRS_SMTP_USER and MONRS_SMTP_PASSWORD(_FILE) go together".to_string());
    }
    let verify = match get("MONRS_SMTP_TLS_VERIFY") {
        Some(v) => parse_bool("MONRS_SMTP_TLS_VERIFY", &v)?,
        None => true,
    };
    let me = hostname();
    let from = dash_f
        .map(str::to_string)
        .or_else(|| get("MONRS_SMTP_FROM"))
        .unwrap_or_else(|| format!("mon@{me}"));
    Ok(SmtpSettings {
        host,
        port,
        tls,
        user,
        password,
        from,
        ca_file: get("MONRS_SMTP_CA_FILE").map(PathBuf::from),
        verify,
        helo: get("MONRS_SMTP_HELO").unwrap_or(me),
    })
}

// === Delivery ===

enum AttemptError {
    /// Worth another attempt (connection trouble, 4xx, sendmail EX_TEMPFAIL...).
    Transient(String),
    /// Another attempt would get the same answer (5xx, bad address, bad setup).
    Permanent(String),
}

async fn send_with_retries(msg: &Composed, s: &Settings, env: &[(String, String)]) -> Outcome {
    if msg.to.is_empty() {
        return fail("mail: no recipient addresses in the alert arguments".to_string());
    }
    let start = tokio::time::Instant::now();
    let end = start + s.deadline;
    let via = match &s.transport {
        Transport::Smtp(smtp) => format!("smtp {}:{}", smtp.host, smtp.port),
        Transport::Sendmail(p) => format!("sendmail {}", p.display()),
    };
    let mut pause = s.backoff;
    let mut last = String::new();
    for attempt in 1..=s.attempts {
        let now = tokio::time::Instant::now();
        if now >= end {
            break;
        }
        let limit = s.timeout.min(end - now);
        let result = match &s.transport {
            Transport::Smtp(smtp) => {
                match tokio::time::timeout(limit, send_smtp(msg, smtp, limit)).await {
                    Ok(r) => r,
                    Err(_) => Err(AttemptError::Transient(format!(
                        "no answer within {}s",
                        limit.as_secs_f64()
                    ))),
                }
            }
            Transport::Sendmail(path) => send_sendmail(msg, path, env, limit).await,
        };
        match result {
            Ok(reply) => {
                let retried = if attempt > 1 {
                    format!(" after {attempt} attempts")
                } else {
                    String::new()
                };
                return Outcome {
                    ok: true,
                    detail: format!("mail to {} via {via}{retried}: {reply}", msg.to.join(",")),
                };
            }
            Err(AttemptError::Permanent(e)) => {
                return fail(format!(
                    "mail to {} via {via} refused (attempt {attempt}, not retried): {e}",
                    msg.to.join(",")
                ));
            }
            Err(AttemptError::Transient(e)) => {
                tracing::warn!(
                    "mail to {} via {via}: attempt {attempt}/{} failed: {e}",
                    msg.to.join(","),
                    s.attempts
                );
                last = e;
                if attempt < s.attempts {
                    let now = tokio::time::Instant::now();
                    if now + pause >= end {
                        break;
                    }
                    tokio::time::sleep(pause).await;
                    pause = pause.saturating_mul(2).min(Duration::from_secs(60));
                }
            }
        }
    }
    fail(format!(
        "mail to {} via {via} given up after {:.1}s: {last}",
        msg.to.join(","),
        start.elapsed().as_secs_f64()
    ))
}

async fn send_smtp(
    msg: &Composed,
    s: &SmtpSettings,
    limit: Duration,
) -> Result<String, AttemptError> {
    let perm = AttemptError::Permanent;
    let from: Address = s
        .from
        .parse()
        .map_err(|e| perm(format!("sender '{}': {e}", s.from)))?;
    let mut to = Vec::with_capacity(msg.to.len());
    for r in &msg.to {
        // mail.alert puts its arguments in To: as written, so a list "a,b" is allowed.
        for addr in r.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let a: Address = addr
                .parse()
                .map_err(|e| perm(format!("recipient '{addr}': {e} (SMTP needs user@domain)")))?;
            to.push(a);
        }
    }
    let envelope = Envelope::new(Some(from), to).map_err(|e| perm(format!("envelope: {e}")))?;
    let tls_params = || -> Result<TlsParameters, AttemptError> {
        let mut b = TlsParameters::builder(s.host.clone());
        if let Some(ca) = &s.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| perm(format!("MONRS_SMTP_CA_FILE {}: {e}", ca.display())))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| perm(format!("MONRS_SMTP_CA_FILE {}: {e}", ca.display())))?;
            b = b.add_root_certificate(cert);
        }
        b.dangerous_accept_invalid_certs(!s.verify)
            .build_rustls()
            .map_err(|e| perm(format!("TLS setup: {e}")))
    };
    let tls = match s.tls {
        TlsMode::None => Tls::None,
        TlsMode::StartTls => Tls::Required(tls_params()?),
        TlsMode::Implicit => Tls::Wrapper(tls_params()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
        .port(s.port)
        .tls(tls)
        .timeout(Some(limit))
        .hello_name(ClientId::Domain(s.helo.clone()));
    if let (Some(u), Some(p)) = (&s.user, &s.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    let transport = builder.build();
    let text = msg.smtp_text(&s.from, Timestamp::now());
    match transport.send_raw(&envelope, &text).await {
        Ok(resp) => {
            let words: Vec<String> = resp.message().map(str::to_string).collect();
            Ok(format!("{} {}", resp.code(), one_line(&words.join(" "))))
        }
        // A certificate the server shows will not become valid by asking again.
        Err(e) if e.is_permanent() || error_chain(&e).contains("certificate") => {
            Err(perm(error_chain(&e)))
        }
        Err(e) => Err(AttemptError::Transient(error_chain(&e))),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    one_line(&s)
}

async fn send_sendmail(
    msg: &Composed,
    path: &Path,
    env: &[(String, String)],
    limit: Duration,
) -> Result<String, AttemptError> {
    let mut argv = vec![
        path.display().to_string(),
        "-oi".to_string(),
        "-t".to_string(),
    ];
    if let Some(f) = &msg.from {
        argv.extend(["-f".to_string(), f.clone(), "-F".to_string(), f.clone()]);
    }
    let out = run_cmd(&argv, env, Some(&msg.sendmail_text()), limit)
        .await
        .map_err(AttemptError::Permanent)?;
    match out.code {
        Some(0) => Ok("sendmail exit 0".to_string()),
        // sysexits: usage, data, no user, config errors do not get better by retrying.
        Some(64 | 65 | 67 | 68 | 78) => Err(AttemptError::Permanent(out.describe(limit))),
        _ => Err(AttemptError::Transient(out.describe(limit))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_matches_text_wrap_on_mail_alert_members() {
        // Captured from Perl 5.36 Text::Wrap (see tests/actions for the golden test).
        assert_eq!(
            text_wrap("", "\t\t\t", "Members               : web1 web2 web3"),
            "Members \t      : web1 web2 web3"
        );
        let hosts: Vec<String> = (1..=6).map(|i| format!("h0{i}.example.com")).collect();
        let text = format!("Members               : {}", hosts.join(" "));
        assert_eq!(
            text_wrap("", "\t\t\t", &text),
            "Members \t      : h01.example.com h02.example.com h03.example.com\n\
             \t\t\th04.example.com h05.example.com h06.example.com"
        );
    }

    #[test]
    fn wrap_cuts_words_longer_than_a_line() {
        let long = "x".repeat(120);
        let w = text_wrap("", "\t\t\t", &format!("Members               : {long}"));
        let lines: Vec<&str> = w.split('\n').collect();
        assert_eq!(lines[0], "Members \t      :");
        assert!(lines[1].starts_with("\t\t\t") && lines[1].len() == 3 + 51);
    }

    /// Differential test against Perl's own Text::Wrap (the oracle mail.alert uses) over
    /// random member lists: short and long names, single and many hosts.
    #[test]
    fn wrap_agrees_with_perl_text_wrap() {
        use std::io::Write;
        let mut rng = fastrand::Rng::with_seed(0x6d6f6e);
        let mut inputs = Vec::new();
        for _ in 0..300 {
            let n = rng.usize(0..25);
            let hosts: Vec<String> = (0..n)
                .map(|_| {
                    let len = if rng.u8(..) < 20 {
                        rng.usize(40..90)
                    } else {
                        rng.usize(1..20)
                    };
                    (0..len).map(|_| rng.alphanumeric()).collect()
                })
                .collect();
            inputs.push(format!("Members               : {}", hosts.join(" ")));
        }
        let mut child = std::process::Command::new("perl")
            .args([
                "-MText::Wrap",
                "-ne",
                r#"chomp; print wrap("", "\t\t\t", $_), "\0""#,
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("perl runs");
        let mut stdin = child.stdin.take().expect("stdin");
        let text = inputs.join("\n") + "\n";
        let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
        let out = child.wait_with_output().expect("perl output");
        writer.join().expect("writer").expect("write");
        let expected: Vec<&str> = std::str::from_utf8(&out.stdout)
            .expect("utf8")
            .split('\0')
            .collect();
        for (i, input) in inputs.iter().enumerate() {
            assert_eq!(
                text_wrap("", "\t\t\t", input),
                expected[i],
                "input: {input}"
            );
        }
    }

    #[test]
    fn perl_num_and_localtime() {
        assert_eq!(perl_num("17x"), 17);
        assert_eq!(perl_num("abc"), 0);
        assert_eq!(perl_num(" -5"), -5);
        assert!(perl_localtime(0).ends_with("1970"));
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn transport_and_tls_defaults() {
        // A smarthost means SMTP; loopback defaults to plain, others to STARTTLS on 587.
        let s = Settings::from_env(&env(&[("MONRS_SMTP_HOST", "127.0.0.1")]), None).expect("valid");
        let Transport::Smtp(smtp) = &s.transport else {
            panic!("smtp expected");
        };
        assert_eq!((smtp.tls, smtp.port), (TlsMode::None, 25));
        let s = Settings::from_env(&env(&[("MONRS_SMTP_HOST", "mail.example.org")]), None)
            .expect("valid");
        let Transport::Smtp(smtp) = &s.transport else {
            panic!("smtp expected");
        };
        assert_eq!((smtp.tls, smtp.port), (TlsMode::StartTls, 587));
        let s = Settings::from_env(
            &env(&[("MONRS_SMTP_HOST", "mx"), ("MONRS_SMTP_TLS", "tls")]),
            Some("ops@example.org"),
        )
        .expect("valid");
        let Transport::Smtp(smtp) = &s.transport else {
            panic!("smtp expected");
        };
        assert_eq!((smtp.tls, smtp.port), (TlsMode::Implicit, 465));
        assert_eq!(smtp.from, "ops@example.org");
        // No smarthost and a sendmail: the same path mail.alert takes.
        let s = Settings::from_env(&env(&[("MONRS_SENDMAIL", "/bin/true")]), None).expect("valid");
        assert_eq!(s.transport, Transport::Sendmail(PathBuf::from("/bin/true")));
        assert_eq!(s.attempts, 3);
        for bad in [
            &[("MONRS_SMTP_TLS", "maybe"), ("MONRS_SMTP_HOST", "x")][..],
            &[("MONRS_MAIL_TRANSPORT", "pigeon")][..],
            &[("MONRS_SMTP_HOST", "x"), ("MONRS_SMTP_PORT", "smtp")][..],
            &[("MONRS_SMTP_HOST", "x"), ("MONRS_SMTP_USER", "u")][..],
            &[("MONRS_SMTP_TIMEOUT", "soon")][..],
        ] {
            assert!(Settings::from_env(&env(bad), None).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn crlf_converts_bare_newlines_only() {
        assert_eq!(crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n".to_vec());
    }
}
