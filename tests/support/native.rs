//! Real servers for the native-check tests: TCP listeners that refuse, accept or hang, a
//! scriptable HTTP/1.x server, TLS servers (`openssl s_server` with certificates made by the
//! openssl CLI), a throwaway `mariadbd`, and a scratch database on the machine's MariaDB.
//! Plus helpers that run a Debian script and `monrs check` on the same arguments.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{free_port, monrs_bin};

/// Debian's scripts, the oracle.
pub const MON_D: &str = "/usr/lib/mon/mon.d";

/// What a monitor printed (stderr and stdout through one pipe, as mon reads them) and
/// how it exited, plus how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub output: Vec<u8>,
    pub exit: i32,
    pub took: Duration,
}

impl Run {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

/// Run `cmd` with stderr and stdout on one pipe.
pub fn run_merged(mut cmd: Command) -> Run {
    let (mut reader, writer) = std::io::pipe().expect("pipe");
    let writer2 = writer.try_clone().expect("clone pipe");
    cmd.stdin(Stdio::null()).stdout(writer).stderr(writer2);
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn monitor");
    // The Command still holds the write ends; drop them so EOF arrives.
    drop(cmd);
    let mut output = Vec::new();
    reader
        .read_to_end(&mut output)
        .expect("read monitor output");
    let status = child.wait().expect("wait monitor");
    Run {
        output,
        exit: status.code().unwrap_or(-1),
        took: start.elapsed(),
    }
}

/// Debian's `SCRIPT ARGS...`.
pub fn script(name: &str, args: &[&str]) -> Command {
    let mut c = Command::new(format!("{MON_D}/{name}"));
    c.args(args);
    c
}

/// `monrs check CHECK ARGS...`.
pub fn native(check: &str, args: &[&str]) -> Command {
    let mut c = Command::new(monrs_bin());
    c.arg("check").arg(check).args(args);
    c
}

/// Run the Debian script and `monrs check` on the same arguments at the same time.
pub fn both(name: &str, args: &[&str]) -> (Run, Run) {
    both_with(name, args, &[])
}

/// Like `both`, with extra environment variables for both processes.
pub fn both_with(name: &str, args: &[&str], env: &[(&str, &str)]) -> (Run, Run) {
    let mut s = script(name, args);
    let mut n = native(name, args);
    for (k, v) in env {
        s.env(k, v);
        n.env(k, v);
    }
    let t = thread::spawn(move || run_merged(s));
    let native_run = run_merged(n);
    let script_run = t.join().expect("script thread");
    (script_run, native_run)
}

/// Assert byte equality with a readable diff.
pub fn assert_same(what: &str, script: &Run, native: &Run) {
    assert_eq!(
        (script.text(), script.exit),
        (native.text(), native.exit),
        "{what}: Debian script (left) vs monrs (right)"
    );
    assert_eq!(script.output, native.output, "{what}: bytes differ");
}

/// http.monitor prints its per-host blocks in Perl hash order (random); put them in
/// sorted order so outputs can be compared. The first line (sorted summary) is kept.
pub fn sort_http_blocks(out: &[u8]) -> Vec<u8> {
    let text = out.to_vec();
    // Warnings from Perl (stderr) come first and never start with "HOST ".
    let Some(first_block) = find(&text, b"\nHOST ") else {
        return text;
    };
    let (head, rest) = text.split_at(first_block + 1);
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    for line in rest.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"HOST ") && !cur.is_empty() {
            blocks.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(line);
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    // Bad blocks come before good ones in the script; keep that split.
    let (mut bad, mut good): (Vec<_>, Vec<_>) = blocks.into_iter().partition(|b| !first_line_ok(b));
    bad.sort();
    good.sort();
    let mut out = head.to_vec();
    for b in bad.into_iter().chain(good) {
        out.extend_from_slice(&b);
    }
    out
}

fn first_line_ok(block: &[u8]) -> bool {
    let end = block
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(block.len());
    block[..end].ends_with(b": ok")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A port on 127.0.0.1 where nothing listens (connections are refused).
pub fn refused_port() -> u16 {
    free_port()
}

/// Poll until something accepts TCP connections on 127.0.0.1:`port`.
pub fn wait_listening(port: u16, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .is_ok()
        {
            return true;
        }
        thread::sleep(Duration::from_millis(50));
    }
    false
}

// === TCP listeners ===

/// Accepts every connection and closes it at once.
pub struct AcceptServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    pub accepted: Arc<AtomicUsize>,
}

impl AcceptServer {
    pub fn start() -> AcceptServer {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind accept server");
        let port = l.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (s, a) = (stop.clone(), accepted.clone());
        thread::spawn(move || {
            for c in l.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(c) = c {
                    a.fetch_add(1, Ordering::SeqCst);
                    let _ = c.shutdown(Shutdown::Both);
                }
            }
        });
        AcceptServer {
            port,
            stop,
            accepted,
        }
    }
}

impl Drop for AcceptServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Writes a fixed banner to every connection, then closes it or keeps it open (a server
/// that is not what the client expects: an SSH or HTTP server where MySQL should be).
pub struct BannerServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl BannerServer {
    pub fn start(banner: &'static [u8], keep_open: bool) -> BannerServer {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind banner server");
        let port = l.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        thread::spawn(move || {
            for c in l.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut c) = c else { continue };
                let s = s.clone();
                thread::spawn(move || {
                    let _ = c.write_all(banner);
                    if keep_open {
                        linger(&s, Duration::from_secs(30));
                    } else {
                        // Let the client read the banner before the FIN.
                        thread::sleep(Duration::from_millis(100));
                    }
                    let _ = c.shutdown(Shutdown::Both);
                });
            }
        });
        BannerServer { port, stop }
    }
}

impl Drop for BannerServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// libmariadb prints whatever errno was left over after a lost handshake (11 or 115 for
/// the same case, run to run): compare those messages without the number.
pub fn mask_system_error(out: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(out);
    let mut res = String::with_capacity(text.len());
    let mut rest = text.as_ref();
    const KEY: &str = "system error: ";
    while let Some(p) = rest.find(KEY) {
        res.push_str(&rest[..p + KEY.len()]);
        rest = rest[p + KEY.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        res.push('N');
    }
    res.push_str(rest);
    res.into_bytes()
}

/// A listener whose accept queue is full, so a new `connect()` hangs (SYNs are dropped).
/// This is how the spec's captures made tcp.monitor time out. The listener lives on a
/// thread of its own (it needs a tokio runtime for `listen(0)`, which std lacks).
pub struct BacklogServer {
    pub port: u16,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl BacklogServer {
    pub fn start() -> BacklogServer {
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let _g = rt.enter();
            let sock = tokio::net::TcpSocket::new_v4().expect("socket");
            sock.bind(([127, 0, 0, 1], 0).into()).expect("bind");
            let listener = sock.listen(0).expect("listen(0)");
            let port = listener.local_addr().expect("addr").port();
            let mut fillers = Vec::new();
            for _ in 0..8 {
                let addr = ([127, 0, 0, 1], port).into();
                match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                    Ok(s) => fillers.push(s),
                    Err(_) => break,
                }
            }
            let _ = port_tx.send(port);
            let _ = stop_rx.recv();
            drop((listener, fillers));
        });
        let port = port_rx.recv().expect("backlog server port");
        BacklogServer {
            port,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for BacklogServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// === HTTP ===

/// A small HTTP server with canned behaviours chosen by the request path. It records
/// every request's raw bytes.
pub struct HttpServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    pub requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}

/// The canned response for a code: mixed line ends and a trailing blank in a header value,
/// as real servers send them.
fn canned(code: u16) -> Vec<u8> {
    let extra = if (300..400).contains(&code) {
        "Location: /code/200\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.1 {code} {}\r\nServer: monrs-test \r\nContent-Type: text/plain\n{extra}Connection: close\r\n\r\nbody {code}\n",
        reason(code)
    )
    .into_bytes()
}

impl HttpServer {
    pub fn start() -> HttpServer {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind http server");
        let port = l.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (stop.clone(), requests.clone());
        thread::spawn(move || {
            for c in l.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(c) = c else { continue };
                let (s, r) = (s.clone(), r.clone());
                thread::spawn(move || serve(c, &s, &r));
            }
        });
        HttpServer {
            port,
            stop,
            requests,
        }
    }

    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Sleep up to `d`, waking early when the server stops.
fn linger(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(50));
    }
}

fn serve(mut c: TcpStream, stop: &AtomicBool, requests: &Mutex<Vec<Vec<u8>>>) {
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while find(&req, b"\r\n\r\n").is_none() {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    if let Ok(mut r) = requests.lock() {
        r.push(req.clone());
    }
    let line_end = req.iter().position(|&b| b == b'\r').unwrap_or(req.len());
    let line = String::from_utf8_lossy(&req[..line_end]).into_owned();
    let path = line.split(' ').nth(1).unwrap_or("/").to_string();
    let mut send = |b: &[u8]| {
        let _ = c.write_all(b);
    };
    if let Some(code) = path
        .strip_prefix("/code/")
        .and_then(|c| c.parse::<u16>().ok())
    {
        send(&canned(code));
    } else if let Some(code) = path
        .strip_prefix("/keepopen/")
        .and_then(|c| c.parse::<u16>().ok())
    {
        send(&canned(code));
        linger(stop, Duration::from_secs(30));
    } else {
        match path.as_str() {
            "/noblank" => send(b"HTTP/1.0 200 OK\r\nX-Only: header\r\n"),
            "/lf" => send(b"HTTP/1.0 200 OK\nA: b\n\nbody\n"),
            "/bin" => send(b"HTTP/1.0 200 OK\r\nA: \xff\xfe\x01\r\n\r\n\x00\x01"),
            "/echo" => {
                let mut r = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
                r.extend_from_slice(&req);
                send(&r);
            }
            "/hang" => linger(stop, Duration::from_secs(30)),
            "/slow" => {
                send(b"HTTP/1.0 200 OK\r\n");
                linger(stop, Duration::from_secs(3));
                send(b"X: late\r\n\r\nbody");
            }
            "/big" => {
                let mut r = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n".to_vec();
                r.extend(std::iter::repeat_n(b'x', 300_000));
                r.extend_from_slice(b"\nEND-OF-BODY\n");
                send(&r);
            }
            "/empty" => {}
            _ => send(&canned(404)),
        }
    }
    let _ = c.shutdown(Shutdown::Both);
}

// === TLS ===

/// Certificates made with the openssl CLI: a CA, leaves it signed (valid, expiring soon,
/// expired) and a self-signed leaf, all for `localhost` and 127.0.0.1, EC P-256 keys.
pub struct Certs {
    pub dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Certs {
    pub fn make() -> Certs {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let write = |name: &str, text: &str| std::fs::write(d.join(name), text).expect("write");
        write(
            "req.cnf",
            "[req]\ndistinguished_name=dn\nx509_extensions=ss\n[dn]\n\
             [ss]\nbasicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n\
             [ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\n",
        );
        write(
            "ca.cnf",
            "[ca]\ndefault_ca=CA_default\n[CA_default]\ndir=.\ndatabase=index.txt\n\
             new_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=any\n\
             x509_extensions=leaf\nunique_subject=no\n[any]\ncommonName=supplied\n\
             [leaf]\nbasicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n\
             extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n\
             authorityKeyIdentifier=keyid\n",
        );
        write("index.txt", "");
        write("serial", "01\n");
        let mut ca = vec!["req", "-x509", "-config", "req.cnf", "-extensions", "ca"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=monrs test CA",
        ]);
        openssl(d, &ca);
        let mut ss = vec!["req", "-x509", "-config", "req.cnf", "-extensions", "ss"];
        ss.extend(ec);
        ss.extend([
            "-keyout",
            "self.key",
            "-out",
            "self.pem",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(d, &ss);
        let mut csr = vec!["req", "-new", "-config", "req.cnf"];
        csr.extend(ec);
        csr.extend([
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(d, &csr);
        let now = jiff::Timestamp::now();
        let fmt = |t: jiff::Timestamp| t.strftime("%Y%m%d%H%M%SZ").to_string();
        let hours = |h: i64| jiff::SignedDuration::from_hours(h);
        for (name, start, end) in [
            ("valid.pem", now - hours(24), now + hours(24 * 30)),
            ("soon.pem", now - hours(24), now + hours(24 * 3 + 12)),
            ("expired.pem", now - hours(24 * 60), now - hours(24 * 10)),
        ] {
            openssl(
                d,
                &[
                    "ca",
                    "-batch",
                    "-config",
                    "ca.cnf",
                    "-cert",
                    "ca.pem",
                    "-keyfile",
                    "ca.key",
                    "-in",
                    "leaf.csr",
                    "-out",
                    name,
                    "-notext",
                    "-startdate",
                    &fmt(start),
                    "-enddate",
                    &fmt(end),
                ],
            );
        }
        Certs { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// `openssl s_server -www` with one certificate: a real TLS server process.
pub struct TlsServer {
    pub port: u16,
    child: Child,
}

impl TlsServer {
    pub fn start(cert: &Path, key: &Path) -> TlsServer {
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new("openssl")
                .args(["s_server", "-quiet", "-www", "-accept"])
                .arg(port.to_string())
                .arg("-cert")
                .arg(cert)
                .arg("-key")
                .arg(key)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start openssl s_server");
            let mut server = TlsServer { port, child };
            if wait_listening(port, Duration::from_secs(5)) {
                return server;
            }
            let _ = server.child.kill();
        }
        panic!("openssl s_server did not start");
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// === MariaDB ===

/// Run SQL as root on the machine's MariaDB: over TCP (127.0.0.1:3306, root without a
/// password, as the project machine is set up), else over its socket as the OS root user
/// (Debian's default unix_socket login for root).
pub fn machine_sql(sql: &str) -> Result<(), String> {
    let mut errors = String::new();
    for conn in [&["-h127.0.0.1", "-P3306"][..], &["--protocol=socket"][..]] {
        let out = Command::new("mysql")
            .args(conn)
            .args(["-uroot", "--batch", "-e", sql])
            .output()
            .map_err(|e| format!("run mysql: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        errors.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    Err(errors)
}

/// A user and three databases on the machine's MariaDB, named for this test process, with
/// password `pw`: `NAME_full` (one table), `NAME_empty`, and no access to anything else.
pub struct ScratchDb {
    pub name: String,
}

impl ScratchDb {
    pub fn create(tag: &str) -> ScratchDb {
        let name = format!(
            "monrs_{tag}_{}_{}",
            std::process::id(),
            fastrand::u32(..) % 100_000
        );
        let n = &name;
        let sql = format!(
            "CREATE DATABASE {n}_full; CREATE DATABASE {n}_empty; CREATE TABLE {n}_full.t (a INT);\
             CREATE USER '{n}'@'localhost' IDENTIFIED BY 'pw';\
             CREATE USER '{n}'@'127.0.0.1' IDENTIFIED BY 'pw';\
             GRANT ALL ON {n}_full.* TO '{n}'@'localhost'; GRANT ALL ON {n}_empty.* TO '{n}'@'localhost';\
             GRANT ALL ON {n}_full.* TO '{n}'@'127.0.0.1'; GRANT ALL ON {n}_empty.* TO '{n}'@'127.0.0.1';"
        );
        machine_sql(&sql).unwrap_or_else(|e| {
            panic!("the machine's MariaDB (127.0.0.1:3306, root) is needed: {e}")
        });
        ScratchDb { name }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let n = &self.name;
        let _ = machine_sql(&format!(
            "DROP DATABASE IF EXISTS {n}_full; DROP DATABASE IF EXISTS {n}_empty;\
             DROP USER IF EXISTS '{n}'@'localhost'; DROP USER IF EXISTS '{n}'@'127.0.0.1';"
        ));
    }
}

/// A throwaway `mariadbd` (no grant tables: any login works) on a free port and a socket
/// in its own temporary directory, with database `d` holding table `t`.
pub struct MariaDb {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl MariaDb {
    pub fn start() -> MariaDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("datadir");
        let port = free_port();
        let child = Command::new("mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.path().join("sock").display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!("--port={port}"))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-grant-tables",
                "--user=root",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=8M",
                "--innodb-log-file-size=1M",
                "--skip-name-resolve",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        let db = MariaDb { port, dir, child };
        assert!(
            wait_listening(port, Duration::from_secs(30)),
            "throwaway mariadbd did not come up"
        );
        let out = Command::new("mysql")
            .arg(format!("--socket={}", db.socket().display()))
            .args([
                "-uroot",
                "-e",
                "CREATE DATABASE d; CREATE TABLE d.t (a INT); CREATE DATABASE e;",
            ])
            .output()
            .expect("run mysql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        db
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    /// SIGSTOP: the kernel still completes TCP handshakes, the server never greets.
    pub fn pause(&self) {
        let _ = nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGSTOP);
    }

    pub fn resume(&self) {
        let _ = nix::sys::signal::kill(self.pid(), nix::sys::signal::Signal::SIGCONT);
    }

    /// SIGKILL: the socket file stays behind with nobody listening on it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.resume();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether this machine lets us make a network namespace and set routes in it
/// (`unshare -n`, `ip`, root).
pub fn can_unshare() -> bool {
    Command::new("unshare")
        .args([
            "-n",
            "sh",
            "-c",
            "ip link set lo up && ip route add unreachable 10.0.0.0/8",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
