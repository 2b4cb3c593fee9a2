//! `monrs cmd`: a moncmd-compatible client of the mon protocol (protocol.md §8.1): the same
//! flags, input handling, login flow, output and exit statuses.
//!
//! Blocking and single-threaded, like moncmd: one request, then read up to its status line.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;

/// The options moncmd takes (`getopts("ahf:l:s:p:rd")`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Opts {
    login: bool,
    help: bool,
    file: Option<String>,
    user: Option<String>,
    server: Option<String>,
    port: Option<String>,
    words: Vec<String>,
}

/// Perl Getopt::Std rules: clustered flags, values attached or in the next argument,
/// options end at the first non-option or `--`; an unknown option is reported and ignored.
fn getopts(args: &[String], warn: &mut dyn Write) -> Opts {
    let mut o = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a.len() < 2 {
            break;
        }
        let chars: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            match c {
                'a' => o.login = true,
                'h' => o.help = true,
                'r' | 'd' => {}
                'f' | 'l' | 's' | 'p' => {
                    let rest: String = chars[j + 1..].iter().collect();
                    let value = if !rest.is_empty() {
                        Some(rest)
                    } else {
                        i += 1;
                        args.get(i).cloned()
                    };
                    match c {
                        'f' => o.file = value,
                        'l' => o.user = value,
                        's' => o.server = value,
                        _ => o.port = value,
                    }
                    break;
                }
                other => {
                    let _ = writeln!(warn, "Unknown option: {other}");
                }
            }
            j += 1;
        }
        i += 1;
    }
    o.words = args[i.min(args.len())..].to_vec();
    o
}

const USAGE: &str = "
usage: monrs cmd [-a] [-l login] [-s host] [-p port] [-f file] [command words...]

Sends one request (the command words) or one request per input line (-f FILE,
'-' or no words: standard input) to a mon server and prints each reply.
  -a        log in first (password from the terminal, or pass=... input lines)
  -l USER   user name for -a (default: the effective user)
  -s HOST   server (default: $MONHOST, else localhost)
  -p PORT   port number or service name (default: mon in /etc/services, else 2583)

Requests:
  list state|watch|opstatus [G,S ...]|failures|successes|warnings|disabled
  list group G | aliases [NAME...] | aliasgroups | deps | descriptions | views
  list alerthist | failurehist | dtlog | pids
  enable|disable watch G | service G S | host H [H...]
  ack G S COMMENT          test monitor G S          test config
  test alert|upalert|startupalert|ackalert|disablealert G S RETVAL PERIOD
  set G S VAR VALUE        get G S VAR               set maxkeep N / get maxkeep
  clear timers G S         stop / start              reset [stopped] [keepstate]
  reload auth              loadstate|savestate disabled|opstatus|all
  checkauth CMD            setview [VIEW] / getview  servertime version protid N
  login USER PASS          term                      quit
";

/// A fatal error: its message (printed with a newline) and exit status.
struct Fatal(String, u8);

/// `monrs cmd ARGS...` with moncmd's flags and output.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let stdin = std::io::stdin();
    let env = Env {
        monhost: std::env::var("MONHOST").ok(),
        stdin_tty: stdin.is_terminal(),
    };
    let code = run_with(
        &args,
        &env,
        &mut stdin.lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    );
    ExitCode::from(code)
}

/// What the client reads from its environment besides the arguments.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `$MONHOST`.
    pub monhost: Option<String>,
    /// Whether standard input is a terminal.
    pub stdin_tty: bool,
}

/// `monrs cmd` with its input, output and environment passed in; returns the exit status.
pub fn run_with(
    args: &[String],
    env: &Env,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    match run(args, env, stdin, out, err) {
        Ok(()) => {
            let _ = out.flush();
            0
        }
        Err(Fatal(msg, code)) => {
            let _ = out.flush();
            if !msg.is_empty() {
                let _ = writeln!(err, "{msg}");
            }
            code
        }
    }
}

fn run(
    args: &[String],
    env: &Env,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Fatal> {
    let o = getopts(args, err);
    let server = o
        .server
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| env.monhost.clone())
        .unwrap_or_else(|| "localhost".to_string());
    if o.help {
        let _ = out.write_all(USAGE.as_bytes());
        return Ok(());
    }
    let port = resolve_port(o.port.as_deref());

    let mut file_input: Option<Box<dyn BufRead>> = None;
    let use_lines = o.file.is_some() || o.words.is_empty();
    if let Some(f) = &o.file {
        if f != "-" {
            let fh = std::fs::File::open(f).map_err(|e| {
                Fatal(
                    format!("could not open input file: {}", os_text(&e)),
                    errno(&e),
                )
            })?;
            file_input = Some(Box::new(BufReader::new(fh)));
        }
    } else if o.words.is_empty() && env.stdin_tty {
        let _ = out.write_all(
            b"You gave neither a command on the command line nor a -f flag, and standard input\nis a terminal. Interactive use is not supported; exiting.\n",
        );
        return Err(Fatal(String::new(), 1));
    }
    let mut input: &mut dyn BufRead = match file_input.as_mut() {
        Some(f) => f.as_mut(),
        None => stdin,
    };

    // Credentials, read before connecting as moncmd does.
    let mut creds = None;
    // The first input line after `user=`/`pass=` lines: moncmd reads and then drops it.
    let mut after_creds: Option<String> = None;
    if o.login {
        let user = match &o.user {
            Some(u) => u.clone(),
            None => nix::unistd::User::from_uid(nix::unistd::geteuid())
                .ok()
                .flatten()
                .map(|u| u.name)
                .ok_or_else(|| Fatal("could not determine username".into(), 1))?,
        };
        let mut pass = String::new();
        if env.stdin_tty {
            pass = prompt_password(out)?;
            if pass.trim().is_empty() {
                return Err(Fatal("invalid password".into(), 1));
            }
        } else if o.words.is_empty() {
            while let Some(l) = read_line(&mut input) {
                let lower = l.to_ascii_lowercase();
                if !(lower.contains("user=") || lower.contains("pass=")) {
                    after_creds = Some(l);
                    break;
                }
                // `user=` never applies: a user is always known (-l or the euid).
                if lower.starts_with("pass=")
                    && !l[5..].is_empty()
                    && !l[5..].contains(char::is_whitespace)
                {
                    pass = l[5..].to_string();
                }
            }
        }
        if user.is_empty() || pass.is_empty() {
            return Err(Fatal(
                "inadequate authentication information supplied".into(),
                1,
            ));
        }
        creds = Some((user, pass));
    }

    let addr = resolve_server(&server, port)
        .ok_or_else(|| Fatal(format!("Unable to find server '{server}'"), 1))?;
    let stream = TcpStream::connect(addr)
        .map_err(|e| Fatal(format!("could not connect: {}", os_text(&e)), errno(&e)))?;
    let _ = stream.set_nodelay(true);
    let mut conn = Conn {
        rd: BufReader::new(
            stream
                .try_clone()
                .map_err(|e| Fatal(format!("could not connect: {}", os_text(&e)), errno(&e)))?,
        ),
        wr: stream,
    };

    if let Some((user, pass)) = creds {
        let (status, _) = conn.request(&format!("login {user} {pass}"));
        if status.as_deref().is_some_and(|s| s.starts_with("530")) {
            return Err(Fatal("Could not authenticate".into(), 1));
        }
    }

    if use_lines {
        // moncmd swallows the first line after the credentials (a bug scripts work around
        // with a blank line there). monrs runs that line unless it is blank, so both the
        // workaround and scripts without it behave sensibly.
        let mut next = match after_creds {
            Some(l) if l.trim().is_empty() => read_line(&mut input),
            Some(l) => Some(l),
            None => read_line(&mut input),
        };
        while let Some(cmd) = next {
            if is_blank(&cmd) {
                // moncmd prints two empty lines for a blank input line and sends nothing.
                let _ = out.write_all(b"\n\n");
            } else {
                let (status, data) = conn.request(&cmd);
                let Some(status) = status else {
                    break;
                };
                write_reply(out, &data, &status);
            }
            let _ = out.flush();
            next = read_line(&mut input);
        }
    } else {
        let cmd = o.words.join(" ");
        if is_blank(&cmd) {
            let _ = out.write_all(b"\n\n");
        } else {
            let (status, data) = conn.request(&cmd);
            write_reply(out, &data, status.as_deref().unwrap_or(""));
        }
    }
    let _ = out.flush();
    let _ = conn.request("quit");
    Ok(())
}

fn is_blank(s: &str) -> bool {
    s.chars().all(crate::config::words::is_perl_space)
}

fn write_reply(out: &mut dyn Write, data: &[String], status: &str) {
    for l in data {
        let _ = out.write_all(l.as_bytes());
        let _ = out.write_all(b"\n");
    }
    let _ = out.write_all(status.as_bytes());
    let _ = out.write_all(b"\n");
}

/// One input line without its LF (a CR stays, as with Perl's chomp).
fn read_line(input: &mut dyn BufRead) -> Option<String> {
    let mut buf = Vec::new();
    match input.read_until(b'\n', &mut buf) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if buf.last() == Some(&b'\n') {
                buf.pop();
            }
            Some(String::from_utf8_lossy(&buf).into_owned())
        }
    }
}

struct Conn {
    rd: BufReader<TcpStream>,
    wr: TcpStream,
}

impl Conn {
    /// Send one request; the data lines and the status line (`None` when the server closed
    /// the connection first).
    fn request(&mut self, cmd: &str) -> (Option<String>, Vec<String>) {
        let mut data = Vec::new();
        if self.wr.write_all(format!("{cmd}\n").as_bytes()).is_err() {
            return (None, data);
        }
        while let Some(l) = read_line(&mut self.rd) {
            if is_status_line(&l) {
                return (Some(l), data);
            }
            data.push(l);
        }
        (None, data)
    }
}

/// `^\d{3}\s`, the end of a reply for every stock client.
pub fn is_status_line(l: &str) -> bool {
    let b = l.as_bytes();
    b.len() >= 4
        && b[..3].iter().all(u8::is_ascii_digit)
        && crate::config::words::is_perl_space(b[3] as char)
}

fn resolve_port(p: Option<&str>) -> u16 {
    let default = || crate::trap::send::service_port("mon", "tcp").unwrap_or(2583);
    match p.filter(|p| !p.is_empty() && *p != "0") {
        None => default(),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse().unwrap_or(0),
        // A name is looked up in /etc/services; an unknown one gives port 0 (connect fails).
        Some(p) => crate::trap::send::service_port(p, "tcp").unwrap_or(0),
    }
}

fn resolve_server(host: &str, port: u16) -> Option<SocketAddr> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().ok()?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
}

fn prompt_password(out: &mut dyn Write) -> Result<String, Fatal> {
    let _ = std::process::Command::new("stty").arg("-echo").status();
    let _ = out.write_all(b"Password: ");
    let _ = out.flush();
    let mut line = String::new();
    let r = std::io::stdin().lock().read_line(&mut line);
    let _ = out.write_all(b"\n");
    let _ = std::process::Command::new("stty").arg("echo").status();
    r.map_err(|e| Fatal(format!("reading password: {e}"), 1))?;
    if line.ends_with('\n') {
        line.pop();
    }
    Ok(line)
}

/// An OS error's text without std's " (os error N)" suffix, as Perl's `$!` prints it.
fn os_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// moncmd dies with `$!` as its exit status; 1 when there is no errno.
fn errno(e: &std::io::Error) -> u8 {
    e.raw_os_error()
        .and_then(|n| u8::try_from(n).ok())
        .filter(|&n| n != 0)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> (Opts, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut warn = Vec::new();
        let o = getopts(&args, &mut warn);
        (o, String::from_utf8_lossy(&warn).into_owned())
    }

    #[test]
    fn getopts_like_perl() {
        let (o, w) = opts(&["-as", "127.0.0.1", "-p2583", "-ladmin", "list", "-s", "x"]);
        assert!(o.login);
        assert_eq!(o.server.as_deref(), Some("127.0.0.1"));
        assert_eq!(o.port.as_deref(), Some("2583"));
        assert_eq!(o.user.as_deref(), Some("admin"));
        assert_eq!(o.words, vec!["list", "-s", "x"]);
        assert!(w.is_empty());
        let (o, w) = opts(&["-x", "-d", "-r", "--", "-a"]);
        assert_eq!(w, "Unknown option: x\n");
        assert!(!o.login);
        assert_eq!(o.words, vec!["-a"]);
        let (o, _) = opts(&["-f"]);
        assert_eq!(o.file, None);
        assert!(o.words.is_empty());
    }

    #[test]
    fn status_lines() {
        assert!(is_status_line("220 list state completed"));
        assert!(is_status_line("520\tx"));
        assert!(!is_status_line("220"));
        assert!(!is_status_line("scheduler running"));
        assert!(!is_status_line("2200 x"));
    }

    fn run_args(args: &[&str], env: &Env, stdin: &[u8]) -> (u8, String, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut input = stdin;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_with(&args, env, &mut input, &mut out, &mut err);
        (
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn help_and_refusals_need_no_server() {
        let (code, out, _) = run_args(&["-h", "-s", "192.0.2.1"], &Env::default(), b"");
        assert_eq!(code, 0);
        assert!(out.contains("usage: monrs cmd") && out.contains("opstatus [G,S ...]"));
        let tty = Env {
            monhost: None,
            stdin_tty: true,
        };
        let (code, out, _) = run_args(&["-s", "127.0.0.1"], &tty, b"");
        assert_eq!(code, 1);
        assert!(out.contains("Interactive use is not supported"));
        let (code, _, err) = run_args(&["-f", "/nonexistent/monrs/cmds"], &Env::default(), b"");
        assert_eq!(
            (code, err.as_str()),
            (2, "could not open input file: No such file or directory\n")
        );
        let (code, _, err) = run_args(&["-a", "-l", "u", "list", "state"], &Env::default(), b"");
        assert_eq!(
            (code, err.as_str()),
            (1, "inadequate authentication information supplied\n")
        );
    }

    #[test]
    fn ports() {
        assert_eq!(resolve_port(Some("4000")), 4000);
        assert_eq!(resolve_port(Some("no-such-service-monrs")), 0);
    }
}
