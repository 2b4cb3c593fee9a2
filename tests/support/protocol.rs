//! Helpers for the protocol tests: the lab config of the transcripts as a typed model, a
//! real `/usr/sbin/mon` started on free ports, a raw protocol client, a monrs server over
//! `MemoryBackend`, transcript replay, and runners for Debian's stock clients (moncmd,
//! monshow, monfailures, mon.cgi) against any host:port.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use monrs::auth::{AuthConfig, LoadMode, LoginMethods};
use monrs::config::{
    AlertLine, Alias, Config, Globals, HostGroup, MonitorLine, Period, Schedule, Service, View,
    Watch,
};
use monrs::server::memory::MemoryBackend;
use monrs::server::{ServerOptions, session};

use super::repo_root;

/// `tests/fixtures/transcripts`.
pub fn transcripts() -> PathBuf {
    repo_root().join("tests/fixtures/transcripts")
}

/// A lab file from `transcripts/files` (`a__b` there stands for `a/b`).
pub fn lab_file(name: &str) -> Vec<u8> {
    let p = transcripts().join("files").join(name.replace('/', "__"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn alert(raw: &str, line: u32) -> AlertLine {
    let (name, args) = raw.split_once(' ').unwrap_or((raw, ""));
    AlertLine {
        raw: raw.into(),
        exit_range: None,
        name: name.into(),
        args: args.into(),
        line,
    }
}

fn monitor(raw: &str) -> MonitorLine {
    let (name, args) = raw.split_once(' ').unwrap_or((raw, ""));
    MonitorLine {
        raw: raw.into(),
        name: name.into(),
        args: args.trim_start().into(),
    }
}

fn period(label: &str, spec: &str, alerts: &[&str]) -> Period {
    let mut p = Period::new(label, spec, 1);
    p.alerts = alerts.iter().map(|a| alert(a, 1)).collect();
    p
}

/// The typed model of `transcripts/files/mon.cf`, built by hand (the config loader is a
/// separate work stream; this mirrors what it must produce for that file).
pub fn lab_config() -> Config {
    let globals = Globals {
        authfile: Some("auth.cf".into()),
        authtype: vec!["userfile".into()],
        userfile: Some("monusers.cf".into()),
        serverbind: Some("127.0.0.1".into()),
        trapbind: Some("127.0.0.1".into()),
        dtlogging: true,
        dtlogfile: Some("downtime.log".into()),
        historicfile: Some("alerthistory.log".into()),
        histlength: 50,
        cltimeout: Duration::from_secs(60),
        ..Globals::default()
    };
    let hg = |name: &str, hosts: &[&str], line: u32, auto: bool| HostGroup {
        name: name.into(),
        hosts: hosts.iter().map(|s| s.to_string()).collect(),
        line,
        auto,
    };
    let hour = Duration::from_secs(3600);

    let mut s1 = Service::new("s1", 31);
    s1.description = Some("first test service".into());
    s1.env = vec![("FLAGDIR".into(), "flags".into())];
    s1.schedule = Schedule::Interval(hour);
    s1.monitor = Some(monitor(r#"flag.monitor -x "quoted arg""#));
    let mut p = period("wd {Sun-Sat}", "wd {Sun-Sat}", &["log.alert -m one"]);
    p.upalerts = vec![alert("log.alert -m up", 38)];
    p.ackalerts = vec![alert("log.alert -m ack", 39)];
    p.disablealerts = vec![alert("log.alert -m dis", 40)];
    p.startupalerts = vec![alert("log.alert -m startup", 41)];
    s1.periods = vec![p];

    let mut s2 = Service::new("s2", 42);
    s2.env = vec![("FLAGDIR".into(), "flags".into())];
    s2.schedule = Schedule::Interval(hour);
    s2.monitor = Some(monitor("flag.monitor"));
    s2.depend = Some("g1:s1".into());
    s2.exclude_hosts = vec!["h3".into()];
    s2.periods = vec![period("p1", "wd {Sun-Sat}", &["log.alert -m s2"])];

    let mut trapsvc = Service::new("trapsvc", 52);
    trapsvc.description = Some("trap receiver".into());
    let mut p = period("wd {Sun-Sat}", "wd {Sun-Sat}", &["log.alert -m trap"]);
    p.upalerts = vec![alert("log.alert -m trapup", 57)];
    trapsvc.periods = vec![p];

    let mut tdur = Service::new("tdur", 58);
    tdur.trapduration = Some(Duration::from_secs(3));
    tdur.periods = vec![period(
        "wd {Sun-Sat}",
        "wd {Sun-Sat}",
        &["log.alert -m tdur"],
    )];

    let mut ping = Service::new("ping", 65);
    ping.env = vec![("FLAGDIR".into(), "flags".into())];
    ping.schedule = Schedule::Interval(hour);
    ping.monitor = Some(monitor("flag.monitor"));
    ping.periods = vec![period(
        "wd {Sun-Sat}",
        "wd {Sun-Sat}",
        &["log.alert -m solo"],
    )];

    let mut default = Service::new("default", 74);
    default.periods = vec![period(
        "wd {Sun-Sat}",
        "wd {Sun-Sat}",
        &["log.alert -m default"],
    )];

    Config {
        source: "mon.cf".into(),
        globals,
        hostgroups: vec![
            hg("g1", &["h1", "h2", "h3"], 13, false),
            hg("solo", &["onlyhost"], 16, false),
            hg("g2", &["g2"], 51, true),
            hg("default", &["default"], 72, true),
        ],
        aliases: vec![Alias {
            name: "myalias".into(),
            lines: vec![
                "service web".into(),
                "watch g1 service s1 items h1 h2".into(),
                "url http://example.invalid/".into(),
            ],
            line: 18,
        }],
        views: vec![
            View {
                name: "v1".into(),
                items: vec!["g1".into()],
                line: 23,
            },
            View {
                name: "v2".into(),
                items: vec!["g2:trapsvc".into()],
                line: 24,
            },
        ],
        watches: vec![
            Watch {
                name: "g1".into(),
                line: 26,
                services: vec![s1, s2],
            },
            Watch {
                name: "g2".into(),
                line: 51,
                services: vec![trapsvc, tdur],
            },
            Watch {
                name: "solo".into(),
                line: 64,
                services: vec![ping],
            },
            Watch {
                name: "default".into(),
                line: 72,
                services: vec![default],
            },
        ],
    }
}

/// The lab auth.cf and monusers.cf, written into `dir` and loaded.
pub fn lab_auth(dir: &Path) -> AuthConfig {
    let auth = dir.join("auth.cf");
    std::fs::write(&auth, lab_file("auth.cf")).expect("write auth.cf");
    let users = dir.join("monusers.cf");
    std::fs::write(&users, lab_file("monusers.cf")).expect("write monusers.cf");
    let (table, _) = monrs::auth::file::load(&auth, LoadMode::Startup).expect("lab auth.cf");
    AuthConfig {
        table,
        login: LoginMethods {
            authtype: vec!["userfile".into()],
            userfile: users,
            pamservice: "passwd".into(),
        },
    }
}

/// A MemoryBackend over the lab config and auth, with `reload auth` reading `dir/auth.cf`.
pub fn lab_backend(dir: &Path) -> MemoryBackend {
    let auth = lab_auth(dir);
    MemoryBackend::new(Arc::new(lab_config()), auth).with_auth_file(dir.join("auth.cf"))
}

// === transcripts ===

/// One request and the reply lines the transcript shows for it.
#[derive(Debug, Clone)]
pub struct Step {
    pub request: String,
    pub expect: Vec<String>,
}

/// The sessions (`# connect` ... `# close`) of a transcript file, in order.
pub fn transcript_sessions(name: &str) -> Vec<Vec<Step>> {
    let text = std::fs::read_to_string(transcripts().join(name)).expect("read transcript");
    let mut sessions = Vec::new();
    let mut cur: Option<Vec<Step>> = None;
    for l in text.lines() {
        if l == "# connect" {
            cur = Some(Vec::new());
        } else if l == "# close" {
            if let Some(s) = cur.take() {
                sessions.push(s);
            }
        } else if let Some(req) = l.strip_prefix("C: ") {
            if let Some(s) = cur.as_mut() {
                s.push(Step {
                    request: req.to_string(),
                    expect: Vec::new(),
                });
            }
        } else if let Some(rep) = l.strip_prefix("S: ").or_else(|| (l == "S:").then_some(""))
            && let Some(step) = cur.as_mut().and_then(|s| s.last_mut())
        {
            step.expect.push(rep.to_string());
        }
    }
    sessions
}

/// Replace the value of `timer=` (it counts down between requests in the transcripts).
pub fn mask_timer(l: &str) -> String {
    static RE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"timer=\d+").expect("regex"));
    RE.replace_all(l, "timer=T").into_owned()
}

/// Requests whose data lines come in Perl hash order in mon (compared as a set).
fn hash_ordered(req: &str) -> bool {
    let r = req.to_ascii_lowercase();
    r.starts_with("list ")
        && ![
            "state",
            "group",
            "alerthist",
            "failurehist",
            "dtlog",
            "pids",
            "views",
            "aliasgroups",
        ]
        .iter()
        .any(|w| r[5..].starts_with(w))
}

/// What a replayed step must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// What the transcript shows.
    Transcript,
    /// These lines instead (a documented monrs deviation).
    Lines(Vec<String>),
    /// Do not send this request (it needs the engine: a monitor run, a state file).
    Skip,
}

/// Replay `steps` through one session on `backend`. Before each step `before` may adjust
/// the backend (clock, states) and say what to expect. Panics at the first mismatch.
pub async fn replay(
    backend: &MemoryBackend,
    steps: &[Step],
    mut before: impl FnMut(&Step, &MemoryBackend) -> Expect,
) {
    let tz = jiff::tz::TimeZone::UTC;
    let mut sess = session::Session::new("127.0.0.1:40000".parse().expect("addr"));
    for step in steps {
        let expect = match before(step, backend) {
            Expect::Transcript => step.expect.clone(),
            Expect::Lines(l) => l,
            Expect::Skip => continue,
        };
        let mut out = Vec::new();
        session::handle(&mut sess, backend, step.request.as_bytes(), &mut out, &tz).await;
        let got: Vec<String> = String::from_utf8_lossy(&out)
            .lines()
            .map(mask_timer)
            .collect();
        let mut want: Vec<String> = expect.iter().map(|l| mask_timer(l)).collect();
        if got == want {
            continue;
        }
        let mut got_sorted = got.clone();
        if hash_ordered(&step.request) && got.last() == want.last() {
            got_sorted.sort();
            want.sort();
            if got_sorted == want {
                continue;
            }
        }
        panic!(
            "request {:?}\n--- expected\n{}\n--- got\n{}",
            step.request,
            expect.join("\n"),
            got.join("\n")
        );
    }
}

// === a raw protocol client ===

/// A lock-step raw client: one request, then every line up to the status line.
pub struct Raw {
    rd: BufReader<TcpStream>,
    wr: TcpStream,
}

impl Raw {
    pub fn connect(port: u16) -> std::io::Result<Raw> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        Ok(Raw {
            rd: BufReader::new(s.try_clone()?),
            wr: s,
        })
    }

    /// Send raw bytes.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.wr.write_all(bytes)
    }

    /// Read one line (without LF); `None` at EOF.
    pub fn line(&mut self) -> std::io::Result<Option<String>> {
        let mut buf = Vec::new();
        let n = self.rd.read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }

    /// Lines up to and including the next status line.
    pub fn reply(&mut self) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        while let Some(l) = self.line()? {
            let done = monrs::client::is_status_line(&l);
            out.push(l);
            if done {
                return Ok(out);
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("connection closed after {out:?}"),
        ))
    }

    pub fn request(&mut self, line: &str) -> std::io::Result<Vec<String>> {
        self.send(format!("{line}\n").as_bytes())?;
        self.reply()
    }
}

// === a real mon ===

/// A port on 127.0.0.1 free for TCP and UDP a moment ago. It is drawn below Linux's
/// ephemeral range (32768+), so the kernel does not hand it to another test's client
/// socket or `bind(0)` listener before mon binds it.
pub fn free_tcp_udp_port() -> u16 {
    for _ in 0..200 {
        let port = fastrand::u16(20000..32000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    panic!("no free port");
}

/// `/usr/sbin/mon` running in a temporary lab directory on free ports, killed on drop.
pub struct RealMon {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub trapport: u16,
    child: Child,
}

impl RealMon {
    /// The transcripts' lab: mon.cf, auth.cf, monusers.cf, the flag monitor and log alert,
    /// started as the capture script did (`-b . -B .`, relative directories).
    pub fn lab() -> RealMon {
        RealMon::start(&String::from_utf8_lossy(&lab_file("mon.cf")), &[])
    }

    /// A lab directory with `mon_cf` and the lab's other files, plus `extra` files.
    pub fn start(mon_cf: &str, extra: &[(&str, &[u8])]) -> RealMon {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        for sub in ["alert.d", "mon.d", "log", "state", "flags"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        std::fs::write(d.join("mon.cf"), mon_cf).expect("write mon.cf");
        for f in ["auth.cf", "monusers.cf"] {
            std::fs::write(d.join(f), lab_file(f)).expect("write lab file");
        }
        for (f, mode) in [("alert.d/log.alert", 0o755), ("mon.d/flag.monitor", 0o755)] {
            let p = d.join(f);
            std::fs::write(&p, lab_file(f)).expect("write script");
            set_mode(&p, mode);
        }
        for (name, body) in extra {
            std::fs::write(d.join(name), body).expect("write extra file");
        }
        let port = free_tcp_udp_port();
        let trapport = free_tcp_udp_port();
        let child = Command::new("/usr/sbin/mon")
            .args([
                "-b", ".", "-B", ".", "-c", "mon.cf", "-a", "alert.d", "-s", "mon.d",
            ])
            .args(["-L", "log", "-D", "state", "-P", "mon.pid"])
            .args(["-p", &port.to_string(), "-t", &trapport.to_string()])
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("mon.stderr")).expect("stderr file"))
            .spawn()
            .expect("start /usr/sbin/mon (Debian package mon)");
        let mut mon = RealMon {
            dir,
            port,
            trapport,
            child,
        };
        mon.wait_ready();
        mon
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let stderr = |m: &RealMon| {
            std::fs::read_to_string(m.dir.path().join("mon.stderr")).unwrap_or_default()
        };
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "mon exited ({status}) before answering; stderr:\n{}",
                    stderr(self)
                );
            }
            // mon serves a new connection within a tick or two; a busy machine may need
            // more, so each try waits a few seconds and the whole wait is bounded.
            if let Ok(s) = TcpStream::connect(("127.0.0.1", self.port))
                && s.set_read_timeout(Some(Duration::from_secs(3))).is_ok()
                && let Ok(rd) = s.try_clone()
            {
                let mut c = Raw {
                    rd: BufReader::new(rd),
                    wr: s,
                };
                if c.request("version")
                    .is_ok_and(|r| r.last().is_some_and(|l| l.starts_with("220")))
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "mon did not answer on port {} within 30 s; stderr:\n{}",
            self.port,
            stderr(self)
        );
    }

    /// A raw connection to this mon.
    pub fn raw(&self) -> Raw {
        Raw::connect(self.port).expect("connect to mon")
    }

    /// The opstatus record of `group`/`service` (one line).
    pub fn opstatus(&self, group: &str, service: &str) -> String {
        let r = self
            .raw()
            .request(&format!("list opstatus {group},{service}"))
            .expect("list opstatus");
        r.first().cloned().unwrap_or_default()
    }
}

impl Drop for RealMon {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The value of `key=` in an opstatus record.
pub fn field<'a>(record: &'a str, key: &str) -> Option<&'a str> {
    record
        .split(' ')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

// === monrs over MemoryBackend ===

/// A monrs protocol server (the real server shell over `MemoryBackend`, not the engine) on
/// a free port, in its own runtime thread; stopped on drop.
pub struct MonrsServer {
    pub port: u16,
    pub backend: Arc<MemoryBackend>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MonrsServer {
    pub fn start(backend: MemoryBackend, opts: ServerOptions) -> MonrsServer {
        let backend = Arc::new(backend);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let b = backend.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let port = listener.local_addr().expect("addr").port();
                let _ = port_tx.send(port);
                monrs::server::serve(listener, b, opts, async {
                    let _ = stop_rx.await;
                })
                .await;
            });
        });
        let port = port_rx.recv().expect("server port");
        MonrsServer {
            port,
            backend,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.port).expect("connect to monrs")
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

impl Drop for MonrsServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// === stock clients ===

/// What a client run printed and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

fn run(mut cmd: Command, stdin: &[u8]) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn client");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin);
    }
    let out = child.wait_with_output().expect("client output");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

/// Debian's `moncmd ARGS` (stdin fed from `stdin`; MONHOST unset unless in `env`).
pub fn moncmd(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    let mut c = Command::new("/usr/bin/moncmd");
    c.args(args).env_remove("MONHOST");
    for (k, v) in env {
        c.env(k, v);
    }
    run(c, stdin)
}

/// `monrs cmd ARGS` run in-process (the binary's `cmd` dispatch belongs to the CLI stream).
pub fn monrs_cmd(args: &[&str], stdin: &[u8], monhost: Option<&str>) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env = monrs::client::Env {
        monhost: monhost.map(str::to_string),
        stdin_tty: false,
    };
    let mut input: &[u8] = stdin;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = monrs::client::run_with(&args, &env, &mut input, &mut out, &mut err);
    Run {
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        code: i32::from(code),
    }
}

/// Debian's `monshow` against host:port with an empty rcfile, plus `args`.
pub fn monshow(port: u16, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let rc = dir.path().join("empty.rc");
    std::fs::write(&rc, "").expect("rcfile");
    let mut c = Command::new("/usr/bin/monshow");
    c.args([
        "--server",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--rcfile",
    ])
    .arg(&rc)
    .args(args)
    .env_remove("REQUEST_METHOD")
    .env_remove("MONHOST");
    run(c, b"")
}

/// Debian's `monfailures` against host:port.
pub fn monfailures(port: u16) -> Run {
    let mut c = Command::new("/usr/bin/monfailures");
    c.args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .env_remove("MONHOST");
    run(c, b"")
}

/// Debian's mon.cgi run as a GET CGI (`perl -T`) against host:port with `query` appended.
pub fn mon_cgi(port: u16, query: &str) -> Run {
    let mut q = format!("h=127.0.0.1&p={port}");
    if !query.is_empty() {
        q.push('&');
        q.push_str(query);
    }
    let mut c = Command::new("/usr/bin/perl");
    c.args(["-T", "/usr/lib/cgi-bin/mon.cgi"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("REQUEST_METHOD", "GET")
        .env("QUERY_STRING", q)
        .env("SCRIPT_NAME", "/cgi-bin/mon.cgi")
        .env("SERVER_NAME", "localhost")
        .env("SERVER_PORT", "80")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("REMOTE_ADDR", "127.0.0.1");
    run(c, b"")
}
