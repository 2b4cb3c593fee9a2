//! Native tcp, http and mysql checks against real servers. Golden outputs are what Debian's
//! scripts (`/usr/lib/mon/mon.d`) print for the same arguments against the same server,
//! run side by side in each test. Normalised: http.monitor's per-host block order (Perl
//! hash order, random) and libmariadb's left-over errno after a lost handshake.

use std::process::Command;
use std::thread;
use std::time::Duration;

use crate::support::native::*;
use crate::support::{free_port, monrs_bin, repo_root};

/// Run several golden comparisons at once (each is two short-lived processes).
fn golden_all(name: &str, cases: Vec<Vec<String>>, http_blocks: bool) {
    let name = name.to_string();
    let handles: Vec<_> = cases
        .into_iter()
        .map(|args| {
            let name = name.clone();
            thread::spawn(move || {
                let a: Vec<&str> = args.iter().map(String::as_str).collect();
                let (mut s, mut n) = both(&name, &a);
                if http_blocks {
                    s.output = sort_http_blocks(&s.output);
                    n.output = sort_http_blocks(&n.output);
                }
                (args, s, n)
            })
        })
        .collect();
    for h in handles {
        let (args, s, n) = h.join().expect("case thread");
        assert_same(&format!("{name} {args:?}"), &s, &n);
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// === tcp.monitor ===

#[test]
fn tcp_matches_script_for_refused_accepted_and_unresolvable_hosts() {
    let open = AcceptServer::start();
    let closed = refused_port().to_string();
    let open_p = open.port.to_string();
    let cases = vec![
        strings(&["-p", &open_p, "127.0.0.1", "localhost"]),
        strings(&[
            "-p",
            &closed,
            "localhost",
            "127.0.0.1",
            "nonexistent.invalid",
        ]),
        // Duplicates kept; inet_aton's numeric forms; IPv6 and blanks are not IPv4 names.
        strings(&[
            "-p",
            &closed,
            "127.1",
            "127.0.0.1",
            "127.0.0.1",
            "::1",
            "",
            "08.0.0.1",
            "127.0.0.1 ",
        ]),
        strings(&[
            "-p",
            &open_p,
            "-t",
            "2",
            "127.0.0.1",
            "nonexistent.invalid",
            "0x7f.0.0.1",
        ]),
        strings(&["-p", &open_p]),
    ];
    golden_all("tcp.monitor", cases, false);
    assert!(
        open.accepted.load(std::sync::atomic::Ordering::SeqCst) >= 6,
        "both connected"
    );
}

#[test]
fn tcp_matches_script_for_option_quirks() {
    let closed = refused_port().to_string();
    let c = closed.as_str();
    let cases = vec![
        // Unknown options are reported by Getopt::Std and ignored.
        strings(&["-x", "-p", c, "127.0.0.1"]),
        strings(&["--foo", "-p", c, "127.0.0.1"]),
        // A service name is not a number: Perl warns once and connects to port 0.
        strings(&[
            "-p",
            "http",
            "127.0.0.1",
            "nonexistent.invalid",
            "127.0.0.2",
        ]),
        // Port out of range: truncated to 16 bits, warned for every host.
        strings(&["-p", "70000", "127.0.0.1", "127.0.0.2"]),
        strings(&["-p", "-5", "-t", "-3", "127.0.0.1"]),
        strings(&["-p", "1e20", "-t", "1e20", "127.0.0.1", "127.0.0.1"]),
        strings(&["-p", c, "-t", "abc", "127.0.0.1", "127.0.0.2"]),
        strings(&["-p", " 1x", "127.0.0.1"]),
        // Options after the first host are hosts; -- and - end the options.
        strings(&["-p", c, "127.0.0.1", "-t", "3"]),
        strings(&["--", "-p", c, "127.0.0.1"]),
        strings(&["-p", c, "-", "127.0.0.1"]),
        strings(&["-p0", "-t0", "127.0.0.1"]),
        strings(&["-pt", "127.0.0.1"]),
        strings(&["-p"]),
        strings(&["--help", "-p", "http", "127.0.0.1"]),
        strings(&["--version"]),
        strings(&[]),
    ];
    golden_all("tcp.monitor", cases, false);
}

#[test]
fn tcp_hung_connects_time_out_and_hosts_are_checked_concurrently() {
    let hang = BacklogServer::start();
    let p = hang.port.to_string();
    let (s, n) = both(
        "tcp.monitor",
        &["-p", &p, "-t", "2", "127.0.0.1", "localhost", "127.0.0.1"],
    );
    assert_same("tcp.monitor on a full backlog", &s, &n);
    assert!(n.text().contains("127.0.0.1 timeout\n"), "{}", n.text());
    // The script waits 2 s per host (6 s); the native check waits once.
    assert!(s.took >= Duration::from_secs(6), "script took {:?}", s.took);
    assert!(n.took >= Duration::from_secs(2), "native took {:?}", n.took);
    assert!(
        n.took < Duration::from_millis(4500),
        "native took {:?}",
        n.took
    );
}

/// Network errors (no route, unreachable, prohibited) need a network namespace of their own.
#[test]
fn tcp_matches_script_for_routing_errors_in_a_network_namespace() {
    if !can_unshare() {
        eprintln!("SKIPPED: cannot create a network namespace (unshare -n) here");
        return;
    }
    let hosts = "10.0.0.1 10.1.0.1 192.168.1.1 127.0.0.1";
    let setup = "ip link set lo up; ip route add unreachable 10.0.0.0/8; \
                 ip route add prohibit 10.1.0.0/16;";
    let run = |cmd: String| {
        let mut c = Command::new("unshare");
        c.args(["-n", "sh", "-c", &format!("{setup} {cmd}")]);
        run_merged(c)
    };
    let s = run(format!("{MON_D}/tcp.monitor -p 80 {hosts}"));
    let n = run(format!(
        "{} check tcp.monitor -p 80 {hosts}",
        monrs_bin().display()
    ));
    assert_same("tcp.monitor in a netns", &s, &n);
    for want in [
        "No route to host",
        "Permission denied",
        "Network is unreachable",
        "Connection refused",
    ] {
        assert!(n.text().contains(want), "{want} missing from {}", n.text());
    }
}

#[test]
fn tcp_send_expect_extension() {
    let web = HttpServer::start();
    let p = web.port.to_string();
    let ok = run_merged(native(
        "tcp",
        &[
            "-p",
            &p,
            "-s",
            r"GET /code/200 HTTP/1.0\r\n\r\n",
            "-e",
            r"^HTTP/1\.1 200 ",
            "127.0.0.1",
        ],
    ));
    assert_eq!((ok.text().as_str(), ok.exit), ("", 0));
    let bad = run_merged(native(
        "tcp",
        &[
            "-p",
            &p,
            "-s",
            r"GET /code/500 HTTP/1.0\r\n\r\n",
            "-e",
            "^HTTP/1.1 200",
            "127.0.0.1",
        ],
    ));
    assert_eq!(bad.exit, 1);
    assert!(
        bad.text()
            .starts_with("127.0.0.1\n\n127.0.0.1 expect failed, got: HTTP/1.1\\20500\\20Internal"),
        "{}",
        bad.text()
    );
    let slow = run_merged(native(
        "tcp",
        &[
            "-p",
            &p,
            "-t",
            "1",
            "-s",
            r"GET /hang HTTP/1.0\r\n\r\n",
            "-e",
            "x",
            "127.0.0.1",
        ],
    ));
    assert_eq!(
        slow.text(),
        "127.0.0.1\n\n127.0.0.1 expect timeout, got: \n"
    );
    // A regex the regex crate cannot compile is refused up front.
    let re = run_merged(native("tcp", &["-p", &p, "-e", "(?<=a)b", "127.0.0.1"]));
    assert_eq!(re.exit, 1);
    assert!(
        re.text().starts_with("tcp.monitor: -e: invalid regex"),
        "{}",
        re.text()
    );
}

// === http.monitor ===

#[test]
fn http_matches_script_for_status_codes() {
    let web = HttpServer::start();
    let p = web.port.to_string();
    let cases = [200, 204, 301, 302, 303, 307, 401, 404, 500]
        .iter()
        .map(|c| {
            strings(&[
                "-p",
                &p,
                "-u",
                &format!("/code/{c}"),
                "127.0.0.1",
                "localhost",
            ])
        })
        .collect();
    golden_all("http.monitor", cases, true);
}

#[test]
fn http_matches_script_for_odd_responses_and_options() {
    let web = HttpServer::start();
    let p = web.port.to_string();
    let closed = refused_port().to_string();
    let case = |v: &[&str]| {
        let mut a = strings(&["-p", &p]);
        a.extend(strings(v));
        a
    };
    let cases = vec![
        case(&["-u", "/noblank", "127.0.0.1"]),
        case(&["-u", "/lf", "127.0.0.1"]),
        case(&["-u", "/bin", "127.0.0.1"]),
        case(&["-u", "/empty", "127.0.0.1"]),
        case(&["-u", "/echo", "-a", "agent with blanks", "127.0.0.1"]),
        case(&["-u", "/code/302", "-o", "127.0.0.1", "localhost"]),
        case(&["-u", "/code/404", "-o", "127.0.0.1"]),
        // -m replaces the status check, over headers and body.
        case(&["-u", "/code/500", "-m", r"body 5\d+$", "127.0.0.1"]),
        case(&["-u", "/code/200", "-m", "nomatch", "127.0.0.1"]),
        case(&["-u", "/big", "-m", "END-OF-BODY", "127.0.0.1"]),
        case(&["-u", "/code/200", "-m", "", "127.0.0.1"]),
        // Timeouts: partial data is still judged; the message repeats -t as written.
        case(&["-u", "/keepopen/200", "-t", "2", "127.0.0.1"]),
        case(&["-u", "/keepopen/500", "-t", "2", "127.0.0.1"]),
        case(&["-u", "/hang", "-t", "1.7", "127.0.0.1"]),
        case(&["-u", "/slow", "-t", "1", "127.0.0.1"]),
        // Connect and resolution errors read as a response code failure.
        strings(&[
            "-p",
            &closed,
            "127.0.0.1",
            "nonexistent.invalid",
            "0x7f.0.0.1",
        ]),
        strings(&["-p", "bogus-service", "127.0.0.1"]),
        strings(&["-p", &format!("{p}x"), "127.0.0.1"]),
        // Perl's own warnings.
        case(&["-u", "/code/200", "-t", "-1", "127.0.0.1", "localhost"]),
        case(&["-x", "-u", "/code/200", "127.0.0.1"]),
        // Duplicates collapse (hash keys).
        case(&["-u", "/code/200", "127.0.0.1", "127.0.0.1"]),
        strings(&["--help"]),
        strings(&["-p", &p]),
    ];
    golden_all("http.monitor", cases, true);
}

#[test]
fn http_sends_the_scripts_request_bytes() {
    let web = HttpServer::start();
    let p = web.port.to_string();
    let args = [
        "-p",
        p.as_str(),
        "-u",
        "/code/200?a b",
        "-a",
        "Agent/1",
        "127.0.0.1",
    ];
    let s = run_merged(script("http.monitor", &args));
    let n = run_merged(native("http.monitor", &args));
    assert_same("request", &s, &n);
    let reqs = web.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0], reqs[1], "script and native requests differ");
    assert_eq!(
        reqs[0],
        b"GET /code/200?a b HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: Agent/1\r\n\r\n".to_vec()
    );
}

#[test]
fn http_server_closing_at_once_is_a_response_code_failure() {
    // The script may die of SIGPIPE here (which mon counts as success); monrs reports it.
    let s = AcceptServer::start();
    let n = run_merged(native("http", &["-p", &s.port.to_string(), "127.0.0.1"]));
    assert_eq!(
        n.text(),
        "127.0.0.1\nHOST 127.0.0.1: HTTP response code failure\n\n"
    );
    assert_eq!(n.exit, 1);
}

#[test]
fn http_extensions_codes_method_redirects_host_header_body_regex() {
    let web = HttpServer::start();
    let p = web.port.to_string();
    let run = |v: &[&str]| {
        let mut a = vec!["-p", p.as_str()];
        a.extend_from_slice(v);
        run_merged(native("http", &a))
    };
    // 204 fails the script's codes but passes an explicit list.
    let r = run(&["-u", "/code/204", "-c", "200-299", "127.0.0.1"]);
    assert_eq!(r.exit, 0, "{}", r.text());
    assert!(
        r.text()
            .contains("HOST 127.0.0.1: ok\nHTTP/1.1 204 No Content\r\n"),
        "{}",
        r.text()
    );
    let r = run(&["-u", "/code/302", "-c", "200", "127.0.0.1"]);
    assert_eq!(
        r.text().lines().nth(1),
        Some("HOST 127.0.0.1: HTTP response code failure")
    );
    // Following redirects lands on /code/200.
    let r = run(&["-u", "/code/302", "-c", "200", "-r", "3", "127.0.0.1"]);
    assert_eq!(r.exit, 0, "{}", r.text());
    // Method and Host header as sent.
    let before = web.requests().len();
    let r = run(&[
        "-M",
        "HEAD",
        "-H",
        "www.example.test",
        "-u",
        "/code/200",
        "127.0.0.1",
    ]);
    assert_eq!(r.exit, 0, "{}", r.text());
    let req = String::from_utf8_lossy(&web.requests()[before]).to_ascii_lowercase();
    assert!(req.starts_with("head /code/200 http/1.1\r\n"), "{req}");
    assert!(req.contains("\r\nhost: www.example.test\r\n"), "{req}");
    // Body regex in addition to the status check.
    let r = run(&["-b", "^body 200$", "-u", "/code/200", "127.0.0.1"]);
    assert_eq!(r.exit, 0, "{}", r.text());
    let r = run(&["-b", "nomatch", "-u", "/code/200", "127.0.0.1"]);
    assert_eq!(
        r.text().lines().nth(1),
        Some("HOST 127.0.0.1: Body regex match failed")
    );
    // Timeout in extension mode.
    let r = run(&["-c", "200", "-t", "1", "-u", "/hang", "127.0.0.1"]);
    assert_eq!(
        r.text(),
        "127.0.0.1\nHOST 127.0.0.1: timeout after 1 seconds\n\n"
    );
    // Bad extension values are refused with a clear message.
    let r = run(&["-c", "abc", "127.0.0.1"]);
    assert_eq!(r.exit, 1);
    assert!(
        r.text().starts_with("http.monitor: -c: expected codes"),
        "{}",
        r.text()
    );
    let r = run(&["-m", "(", "127.0.0.1"]);
    assert_eq!(r.exit, 1);
    assert!(
        r.text().starts_with("http.monitor: -m: invalid regex"),
        "{}",
        r.text()
    );
}

#[test]
fn https_certificates_verification_and_expiry() {
    let certs = Certs::make();
    let ca = certs.path("ca.pem").display().to_string();
    let key = certs.path("leaf.key");
    let valid = TlsServer::start(&certs.path("valid.pem"), &key);
    let soon = TlsServer::start(&certs.path("soon.pem"), &key);
    let expired = TlsServer::start(&certs.path("expired.pem"), &key);
    let selfsigned = TlsServer::start(&certs.path("self.pem"), &certs.path("self.key"));
    let run = |port: u16, v: &[&str]| {
        let p = port.to_string();
        let mut a = vec!["-p", p.as_str()];
        a.extend_from_slice(v);
        run_merged(native("https", &a))
    };
    let second = |r: &Run| r.text().lines().nth(1).unwrap_or_default().to_string();

    let r = run(
        valid.port,
        &["-C", &ca, "-w", "7", "localhost", "127.0.0.1"],
    );
    assert_eq!(r.exit, 0, "{}", r.text());
    assert!(
        r.text()
            .contains("HOST localhost: ok\nHTTP/1.0 200 OK\r\ncontent-type: text/html\n"),
        "{}",
        r.text()
    );
    // Not signed by a trusted CA: refused unless -k.
    let r = run(selfsigned.port, &["localhost"]);
    assert!(
        second(&r).starts_with("HOST localhost: TLS: invalid peer certificate"),
        "{}",
        r.text()
    );
    let r = run(selfsigned.port, &["-k", "localhost"]);
    assert_eq!(r.exit, 0, "{}", r.text());
    // Expiring within -w days.
    let r = run(soon.port, &["-C", &ca, "-w", "10", "localhost"]);
    assert!(
        second(&r).starts_with("HOST localhost: certificate expires in 3 days ("),
        "{}",
        r.text()
    );
    let r = run(soon.port, &["-C", &ca, "-w", "2", "localhost"]);
    assert_eq!(r.exit, 0, "{}", r.text());
    // Expired: the handshake fails; with -k the expiry check says how long ago.
    let r = run(expired.port, &["-C", &ca, "localhost"]);
    assert!(
        second(&r).contains("TLS: invalid peer certificate: certificate expired: "),
        "{}",
        r.text()
    );
    let r = run(expired.port, &["-k", "-w", "1", "localhost"]);
    assert!(
        second(&r).starts_with("HOST localhost: certificate expired 10 days ago ("),
        "{}",
        r.text()
    );
    // Plain http.monitor -s with a wrong name.
    let r = run_merged(native(
        "http.monitor",
        &["-s", "-p", &valid.port.to_string(), "-C", &ca, "127.0.0.2"],
    ));
    assert!(
        second(&r).contains("TLS: invalid peer certificate"),
        "{}",
        r.text()
    );
}

// === msql-mysql.monitor ===

#[test]
fn mysql_matches_script_on_the_machines_mariadb() {
    let db = ScratchDb::create("g");
    let n = db.name.as_str();
    let user = format!("--username={n}");
    let full = format!("--database={n}_full");
    let empty = format!("--database={n}_empty");
    let closed = format!("--port={}", refused_port());
    let m = ["--mode", "mysql"];
    let case = |v: &[&str]| {
        let mut a = strings(&m);
        a.extend(strings(v));
        a
    };
    let cases = vec![
        case(&[&user, "--password=pw", &full, "127.0.0.1", "localhost"]),
        case(&[&user, "--password=pw", &empty, "127.0.0.1", "localhost"]),
        case(&[&user, "--password=wrong", &full, "127.0.0.1", "localhost"]),
        case(&[&user, "--password=pw", "--database=nosuchdb", "127.0.0.1"]),
        case(&[&user, "--password=pw", "127.0.0.1"]),
        case(&[&user, &full, "127.0.0.1"]),
        case(&[&user, "--password=0", &full, "127.0.0.1"]),
        case(&["--password=pw", &full, "127.0.0.1"]),
        case(&[
            &closed,
            &full,
            "127.0.0.1",
            "localhost",
            "nonexistent.invalid",
            "[::1]",
            "10.0.0.1x",
        ]),
        case(&[
            "--port=-1",
            "nonexistent.invalid",
            "127.0.0.1x",
            "localhost",
        ]),
        case(&[
            "--port=+3306",
            "--timeout=-1",
            &user,
            "--password=pw",
            &full,
            "127.0.0.1",
        ]),
        // Getopt::Long messages, abbreviations, case, permutation.
        case(&["--p=3306", "127.0.0.1"]),
        case(&[
            "--port=abc",
            &user,
            "--pass=pw",
            "--data",
            &format!("{n}_full"),
            "127.0.0.1",
        ]),
        case(&["--bogus", "-USER", n, "-pa", "pw", &full, "127.0.0.1"]),
        strings(&[
            "127.0.0.1",
            "--mode",
            "MySQL",
            &user,
            "--password=pw",
            &full,
        ]),
        case(&["--database"]),
        case(&["--database", "127.0.0.1"]),
        // No mode.
        strings(&[&user, "127.0.0.1"]),
        strings(&[]),
    ];
    golden_all("msql-mysql.monitor", cases, false);
}

#[test]
fn mysql_matches_script_for_servers_that_are_not_mysql() {
    let closer = AcceptServer::start();
    let http = BannerServer::start(b"HTTP/1.0 400 Bad Request\r\n\r\n", false);
    let ssh = BannerServer::start(b"SSH-2.0-OpenSSH_9.2\r\n", true);
    let hang = BacklogServer::start();
    let handles: Vec<_> = [closer.port, http.port, ssh.port, hang.port]
        .into_iter()
        .map(|port| {
            thread::spawn(move || {
                let p = format!("--port={port}");
                let (mut s, mut n) = both(
                    "msql-mysql.monitor",
                    &["--mode=mysql", &p, "--timeout=2", "127.0.0.1"],
                );
                s.output = mask_system_error(&s.output);
                n.output = mask_system_error(&n.output);
                (port, s, n)
            })
        })
        .collect();
    for h in handles {
        let (port, s, n) = h.join().expect("case thread");
        assert_same(&format!("mysql against port {port}"), &s, &n);
    }
}

#[test]
fn mysql_password_files_and_mode_from_the_name() {
    let db = ScratchDb::create("p");
    let n = db.name.as_str();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, body: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).expect("write");
        p.display().to_string()
    };
    let good = file("good", b"pw\nsecond line\n");
    let crlf = file("crlf", b"pw\r\n");
    let nonl = file("nonl", b"pw");
    let empty = file("empty", b"");
    let missing = dir.path().join("missing").display().to_string();
    let user = format!("--username={n}");
    let full = format!("--database={n}_full");
    let mut cases = Vec::new();
    for pw in [&good, &crlf, &nonl, &empty, &missing] {
        cases.push(strings(&[
            "--mode=mysql",
            &user,
            &format!("--password={pw}"),
            &full,
            "127.0.0.1",
        ]));
    }
    // The file is read before the mode is looked at, even with no hosts.
    cases.push(strings(&[&format!("--password={missing}")]));
    golden_all("msql-mysql.monitor", cases, false);

    // Named mysql.monitor (a link to the script), the mode comes from the name.
    let link = dir.path().join("mysql.monitor");
    std::os::unix::fs::symlink(format!("{MON_D}/msql-mysql.monitor"), &link).expect("symlink");
    let args = [
        user.as_str(),
        "--password=pw",
        full.as_str(),
        "--port=1",
        "127.0.0.1",
        "localhost",
    ];
    let mut s = Command::new(&link);
    s.args(args);
    let s = run_merged(s);
    let nat = run_merged(native(&link.display().to_string(), &args));
    assert_same("mysql.monitor link", &s, &nat);
    assert!(
        nat.text()
            .contains("mysql server on 1: Can't connect to server on '127.0.0.1' (115)")
    );
}

#[test]
fn mysql_throwaway_server_socket_tcp_hang_and_death() {
    let mut server = MariaDb::start();
    let port = format!("--port={}", server.port);
    let sock = server.socket().display().to_string();
    let env = [("MYSQL_UNIX_PORT", sock.as_str())];
    let args = [
        "--mode",
        "mysql",
        &port,
        "--database=d",
        "--timeout=2",
        "127.0.0.1",
        "localhost",
    ];
    // Up: TCP and the socket both work (any login: no grant tables).
    let (s, n) = both_with("msql-mysql.monitor", &args, &env);
    assert_same("throwaway server up", &s, &n);
    assert_eq!((n.text().as_str(), n.exit), ("", 0));
    let (s, n) = both_with(
        "msql-mysql.monitor",
        &["--mode=mysql", &port, "--database=e", "127.0.0.1"],
        &env,
    );
    assert_same("empty database", &s, &n);

    // Stopped: connections are accepted by the kernel but never greeted.
    server.pause();
    let (s, n) = both_with("msql-mysql.monitor", &args, &env);
    server.resume();
    assert_same("throwaway server stopped", &s, &n);
    assert!(
        n.text()
            .contains("127.0.0.1: Could not connect to mysql server on ")
            && n.text().contains(
                ": connect timeout at /usr/lib/mon/mon.d/msql-mysql.monitor line 63.\n\n"
            ),
        "{}",
        n.text()
    );
    assert!(
        n.took < Duration::from_millis(3500),
        "hosts in parallel: {:?}",
        n.took
    );

    // Killed: nothing on the port, a dead socket file left behind.
    server.kill();
    let (s, n) = both_with("msql-mysql.monitor", &args, &env);
    assert_same("throwaway server killed", &s, &n);
    assert!(
        n.text().contains(&format!("through socket '{sock}' (111)")),
        "{}",
        n.text()
    );
}

#[test]
fn mysql_query_extension() {
    let server = MariaDb::start();
    let port = format!("--port={}", server.port);
    let run = |v: &[&str]| {
        let mut a = vec!["--mode=mysql", port.as_str(), "--database=d"];
        a.extend_from_slice(v);
        a.push("127.0.0.1");
        run_merged(native("msql-mysql.monitor", &a))
    };
    let r = run(&["--query=SELECT 1 UNION SELECT 2", "--rows=2"]);
    assert_eq!((r.text().as_str(), r.exit), ("", 0));
    let r = run(&["--query=SELECT 1", "--rows=2"]);
    assert_eq!(
        r.text(),
        "127.0.0.1\n127.0.0.1: Query returned 1 rows, expected at least 2\n"
    );
    let r = run(&["--query=SELECT nonsense FROM nowhere"]);
    assert_eq!(r.exit, 1);
    assert!(
        r.text()
            .contains("127.0.0.1: Query failed: Table 'd.nowhere' doesn't exist"),
        "{}",
        r.text()
    );
}

// === selection, deadlines, the command line, wrappers ===

#[tokio::test]
async fn the_service_deadline_caps_the_scripts_timeout() {
    use monrs::monitors::native::{Kind, NativeCheck};
    let hang = BacklogServer::start();
    let check = NativeCheck::new(
        Kind::Tcp,
        vec!["-p".into(), hang.port.to_string(), "-t".into(), "60".into()],
        "/usr/lib/mon/mon.d/tcp.monitor",
    );
    let hosts = vec!["127.0.0.1".to_string(), "localhost".to_string()];
    let out = check.run(&hosts, Duration::from_secs(1)).await;
    assert_eq!(
        &out.output[..],
        b"127.0.0.1 localhost\n\n127.0.0.1 timeout\nlocalhost timeout\n"
    );
    assert_eq!(out.status.exit_value(), 1);
    assert!(
        out.duration >= Duration::from_secs(1) && out.duration < Duration::from_secs(4),
        "{:?}",
        out.duration
    );
}

#[test]
fn select_uses_native_for_stock_scripts_and_leaves_others_alone() {
    use monrs::config::Globals;
    use monrs::monitors::native::select;
    let g = Globals::default();
    let args = vec!["-p".to_string(), "80".to_string()];
    let stock = std::path::PathBuf::from(format!("{MON_D}/tcp.monitor"));
    assert!(matches!(
        select("tcp.monitor", &args, Some(&stock), &g),
        Some(Ok(_))
    ));
    assert!(matches!(
        select("http.monitor", &args, None, &g),
        Some(Ok(_))
    ));
    let ours = repo_root().join("mon.d/http.monitor");
    assert!(matches!(
        select("http.monitor", &args, Some(&ours), &g),
        Some(Ok(_))
    ));
    let off = Globals {
        native_monitors: false,
        ..Globals::default()
    };
    assert!(select("tcp.monitor", &args, Some(&stock), &off).is_none());
    let dir = tempfile::tempdir().expect("tempdir");
    let own = dir.path().join("tcp.monitor");
    std::fs::write(&own, "#!/bin/sh\nexit 0\n").expect("write");
    assert!(select("tcp.monitor", &args, Some(&own), &g).is_none());
    assert!(select("fping.monitor", &args, None, &g).is_none());
    // msql mode stays with the script.
    let msql = vec!["--mode=msql".to_string()];
    assert!(select("msql-mysql.monitor", &msql, None, &g).is_none());
    assert!(select("msql.monitor", &[], None, &g).is_none());
    // Extension values that can never work are a config error.
    let bad = vec!["-c".to_string(), "abc".to_string()];
    assert!(matches!(select("http.monitor", &bad, None, &g), Some(Err(e)) if e.contains("-c")));
}

#[test]
fn check_json_report() {
    let open = AcceptServer::start();
    let r = std::process::Command::new(monrs_bin())
        .args([
            "check",
            "--json",
            "tcp",
            "-p",
            &open.port.to_string(),
            "127.0.0.1",
            "nonexistent.invalid",
        ])
        .output()
        .expect("run monrs check");
    assert_eq!(r.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
    assert_eq!(v["check"], "tcp");
    assert_eq!(v["exit"], 1);
    assert_eq!(v["summary"], "nonexistent.invalid");
    assert_eq!(
        v["output"],
        "nonexistent.invalid\n\nnonexistent.invalid could not inet_aton\n"
    );
    assert_eq!(v["hosts"][0]["host"], "127.0.0.1");
    assert_eq!(v["hosts"][0]["status"], "ok");
    assert_eq!(v["hosts"][1]["status"], "failed");
    assert_eq!(
        v["hosts"][1]["detail"],
        "nonexistent.invalid could not inet_aton"
    );
    assert!(
        v["hosts"][0]["latency_ms"]
            .as_f64()
            .is_some_and(|l| l >= 0.0)
    );
}

#[test]
fn wrappers_run_the_native_check_as_the_script_would() {
    let closed = refused_port().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    // Copy Debian's script next to a copy of our wrapper, so both print the same $0.
    for (name, from) in [
        ("deb/tcp.monitor", format!("{MON_D}/tcp.monitor")),
        (
            "ours/tcp.monitor",
            repo_root().join("mon.d/tcp.monitor").display().to_string(),
        ),
    ] {
        let to = dir.path().join(name);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&from, &to).expect("copy");
    }
    let args = [
        "-p",
        "http",
        "-t",
        "x",
        closed.as_str(),
        "127.0.0.1",
        "nonexistent.invalid",
    ];
    let mut deb = Command::new(dir.path().join("deb/tcp.monitor"));
    deb.args(args);
    let mut ours = Command::new(dir.path().join("ours/tcp.monitor"));
    ours.args(args).env("MONRS", monrs_bin());
    let d = run_merged(deb);
    let o = run_merged(ours);
    let norm = |r: &Run| r.text().replace("/deb/", "/X/").replace("/ours/", "/X/");
    assert_eq!((norm(&d), d.exit), (norm(&o), o.exit));
    assert!(
        o.text().contains("isn't numeric in alarm at"),
        "{}",
        o.text()
    );
    // Without monrs on PATH the wrapper says so, as a summary mon can show.
    let mut lost = Command::new(dir.path().join("ours/tcp.monitor"));
    lost.arg("127.0.0.1").env("MONRS", "/nonexistent/monrs");
    let l = run_merged(lost);
    assert_eq!(l.exit, 1);
    assert!(
        l.text()
            .ends_with("tcp.monitor: monrs not found (set MONRS or PATH)\n"),
        "{}",
        l.text()
    );
}

/// Real mon 1.3.6 runs our mon.d wrapper and alerts with its output.
#[test]
fn classic_mon_runs_the_wrappers() {
    let lab = tempfile::tempdir().expect("tempdir");
    let d = lab.path();
    for sub in ["alert.d", "log", "state"] {
        std::fs::create_dir(d.join(sub)).expect("mkdir");
    }
    // mon refuses to start without an auth file.
    std::fs::write(d.join("auth.cf"), "").expect("write auth.cf");
    let closed = refused_port();
    std::fs::write(
        d.join("alert.d/record.alert"),
        "#!/bin/sh\ncat > \"$MON_LOGDIR/alert.$$.tmp\" && mv \"$MON_LOGDIR/alert.$$.tmp\" \"$MON_LOGDIR/alert.$$\"\n",
    )
    .expect("write alert");
    std::process::Command::new("chmod")
        .args(["+x", &d.join("alert.d/record.alert").display().to_string()])
        .status()
        .expect("chmod");
    std::fs::write(
        d.join("mon.cf"),
        format!(
            "serverbind = 127.0.0.1\ntrapbind = 127.0.0.1\n\nhostgroup lab 127.0.0.1 nonexistent.invalid\n\n\
             watch lab\n    service port\n        interval 1s\n        monitor tcp.monitor -p {closed} -t 2\n\
             \x20       period wd {{Sun-Sat}}\n            alert record.alert\n"
        ),
    )
    .expect("write mon.cf");
    let mondir = repo_root().join("mon.d");
    let mut mon = std::process::Command::new("/usr/sbin/mon")
        .current_dir(d)
        .args([
            "-b", ".", "-B", ".", "-c", "mon.cf", "-a", "alert.d", "-L", "log", "-D", "state",
            "-P", "mon.pid",
        ])
        .arg("-s")
        .arg(&mondir)
        .args([
            "-p",
            &free_port().to_string(),
            "-t",
            &free_port().to_string(),
        ])
        .env("MONRS", monrs_bin())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start /usr/sbin/mon");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut alert = None;
    while std::time::Instant::now() < deadline && alert.is_none() {
        thread::sleep(Duration::from_millis(200));
        alert = std::fs::read_dir(d.join("log")).ok().and_then(|mut it| {
            it.find_map(|e| {
                let e = e.ok()?;
                let n = e.file_name().to_string_lossy().into_owned();
                (n.starts_with("alert.") && !n.ends_with(".tmp")).then(|| e.path())
            })
        });
    }
    let _ = mon.kill();
    let _ = mon.wait();
    let alert = alert.expect("mon sent no alert within 30 s");
    let body = std::fs::read_to_string(alert).expect("read alert");
    assert_eq!(
        body,
        "127.0.0.1 nonexistent.invalid\n\n127.0.0.1 could not connect: Connection refused\n\
         nonexistent.invalid could not inet_aton\n"
    );
}

/// Random argument vectors (fixed seed) from each script's option vocabulary, against
/// closed ports: Getopt, Perl's number rules and the host handling must agree with the
/// scripts on every one.
#[test]
fn random_option_vectors_match_the_scripts() {
    let closed = refused_port().to_string();
    let c = closed.as_str();
    let pc = format!("-p{c}");
    let mport = format!("--port={c}");
    // Every word that can end up as a host is a loopback address or not an address at all
    // (a stray number would be a real IPv4 address, reached through whatever network this
    // machine has).
    let tcp_words = [
        "-p",
        "-t",
        "-x",
        "--",
        "-",
        "-pt",
        "-p0",
        "-t-1",
        "http",
        "-p70000",
        "-5",
        "1e3",
        "abc",
        " 12",
        &pc,
        &pc,
        &pc,
        "127.0.0.1",
        "127.1",
        "::1",
        "0x7f.1",
        "--help",
        "-tp",
        "2x",
        "-t2.5",
        "-p1e9",
    ];
    let http_words = [
        "-p",
        "-t",
        "-u",
        "-a",
        "-m",
        "-o",
        "-x",
        "--",
        "-",
        &pc,
        &pc,
        "/x",
        "x|y",
        "-1",
        "-t0",
        "-t2.5",
        "127.0.0.1",
        "127.2",
        "bogus",
        "-ot",
        "-o-p",
        "--version",
        "-pbogus",
    ];
    let mysql_words = [
        "--mode",
        "mysql",
        "--mode=mysql",
        "-m",
        "--port",
        "--port=",
        "--p",
        "--po",
        "-t",
        "--timeout=-1",
        "--user",
        "--database",
        "--data=x",
        "--bogus",
        "--",
        "-",
        "abc",
        "12x",
        &mport,
        &mport,
        "127.0.0.1",
        "127.0.0.2",
        "[127.0.0.1]",
        "h;x",
        "--MODE=MySQL",
        "--pass",
    ];
    // MONRS_FUZZ_SEED explores other vectors locally; CI keeps the fixed seed.
    let seed = std::env::var("MONRS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6d6f6e72);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut pick = |words: &[&str], port_first: bool| -> Vec<String> {
        let n = rng.usize(0..7);
        let mut v: Vec<String> = Vec::new();
        if port_first {
            v.extend(strings(&["-p", c]));
        }
        for _ in 0..n {
            v.push(words[rng.usize(..words.len())].to_string());
        }
        v
    };
    let mut tcp = Vec::new();
    let mut http = Vec::new();
    let mut mysql = Vec::new();
    for i in 0..30 {
        tcp.push(pick(&tcp_words, i % 2 == 0));
        // http always starts on the closed port: port 80 may be anybody's here.
        http.push(pick(&http_words, true));
        let mut m = pick(&mysql_words, false);
        if i % 2 == 0 {
            m.splice(0..0, strings(&["--mode=mysql", &mport]));
        }
        mysql.push(m);
    }
    golden_all("tcp.monitor", tcp, false);
    golden_all("http.monitor", http, true);
    golden_all("msql-mysql.monitor", mysql, false);
}

/// Every tcp/http/mysql `monitor` line in the spec's example configs is taken natively and
/// none is rejected as an invalid option set.
#[test]
fn example_configs_monitor_lines_select_native() {
    use monrs::config::Globals;
    use monrs::config::words::quotewords;
    use monrs::monitors::native::select;
    let dir = repo_root().join("tests/fixtures/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "cf") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read example");
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("monitor ") else {
                continue;
            };
            let first = rest.split_whitespace().next().unwrap_or_default();
            if monrs::monitors::native::Kind::from_name(first).is_none() {
                continue;
            }
            let words = quotewords(rest).expect("balanced quotes");
            let Some((name, args)) = words.split_first() else {
                continue;
            };
            seen += 1;
            let got = select(name, args, None, &Globals::default());
            assert!(
                matches!(got, Some(Ok(_))),
                "{}: {line}: {got:?}",
                path.display()
            );
        }
    }
    assert!(seen >= 10, "only {seen} monitor lines found");
}
