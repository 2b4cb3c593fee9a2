//! Native mail against a real SMTP server (aiosmtpd), golden-tested against Debian's own
//! `/usr/lib/mon/alert.d/mail.alert` delivered through msmtp-as-sendmail to the same server.

use std::path::Path;
use std::time::{Duration, Instant};

use monrs::alerts::AlertKind;
use monrs::alerts::actions::{STOCK_MAIL_ALERT, select};

use crate::support::actions::smtp::{SmtpMode, SmtpOptions, SmtpServer, msmtp_config};
use crate::support::actions::{CallBuilder, action, wait_for_async};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Run Debian's mail.alert exactly as mon would (argv, stdin), with msmtp as sendmail.
fn run_stock_script(call: &monrs::alerts::AlertCall, xdg: &Path) {
    use std::io::Write;
    let mut child = std::process::Command::new(STOCK_MAIL_ALERT)
        .args(call.argv())
        .env("XDG_CONFIG_HOME", xdg)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mail.alert runs (is the mon package installed?)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&call.stdin)
        .expect("write stdin");
    let status = child.wait().expect("mail.alert exits");
    assert!(status.success(), "mail.alert failed: {status}");
}

/// The alert situations the golden test covers.
fn golden_cases() -> Vec<monrs::alerts::AlertCall> {
    let many: Vec<String> = (1..=9).map(|i| format!("h{i:02}.example.com")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    vec![
        // Failure with -S and two recipients; a single-digit day (Sat Nov  4): the
        // subject drops the double blank, "Time noticed" keeps it.
        CallBuilder::new(AlertKind::Failure, "db-servers", "mysql", "mail.alert")
            .hosts(&["db1", "db2"])
            .args(&["-S", "sub ject", "ops@example.test", "dba@example.test"])
            .time(1_699_056_000)
            .output("db1 db2\nline two\n.a line starting with a dot\n")
            .build(),
        // Upalert; a member list long enough to wrap onto TAB-indented lines.
        CallBuilder::new(AlertKind::Up, "web", "http", "mail.alert")
            .hosts(&many)
            .args(&["ops@example.test"])
            .time(1_700_000_000)
            .output("h03.example.com\nHTTP 500 on /index.html\n\n   indented\n")
            .build(),
        // Ack alert: mail.alert does not know -a (warns, then mails an ALERT).
        CallBuilder::new(AlertKind::Ack, "g", "s", "mail.alert")
            .hosts(&["hostA"])
            .args(&["ops@example.test"])
            .output("jim: looking at it")
            .build(),
        // No output at all.
        CallBuilder::new(AlertKind::Failure, "g", "s", "mail.alert")
            .hosts(&[])
            .args(&["ops@example.test"])
            .build(),
    ]
}

#[tokio::test]
async fn golden_native_mail_matches_debian_mail_alert() {
    assert!(
        Path::new("/usr/lib/sendmail").exists(),
        "the golden test needs msmtp-mta (/usr/lib/sendmail)"
    );
    let dir = tmp();
    let server = SmtpServer::start(dir.path(), SmtpMode::Plain, &SmtpOptions::default());
    let xdg = msmtp_config(dir.path(), server.port);
    let stock = select("mail.alert", &[], Some(Path::new(STOCK_MAIL_ALERT))).expect("native");
    let cases = golden_cases();
    let mut expected_count = 0;
    for (i, case) in cases.iter().enumerate() {
        // 1. Debian's script through msmtp.
        run_stock_script(case, &xdg);
        // 2. Native over SMTP.
        let mut smtp_call = case.clone();
        smtp_call.env.extend([
            ("MONRS_SMTP_HOST".to_string(), "127.0.0.1".to_string()),
            ("MONRS_SMTP_PORT".to_string(), server.port.to_string()),
        ]);
        let o = stock.deliver(&smtp_call).await;
        assert!(o.ok, "case {i}: native smtp: {}", o.detail);
        // 3. Native through sendmail (msmtp), as when no smarthost is configured.
        let mut sm_call = case.clone();
        sm_call
            .env
            .push(("XDG_CONFIG_HOME".to_string(), xdg.display().to_string()));
        let o = stock.deliver(&sm_call).await;
        assert!(o.ok, "case {i}: native sendmail: {}", o.detail);
        assert!(o.detail.contains("sendmail"), "case {i}: {}", o.detail);

        expected_count += 3;
        let msgs = wait_for_async("3 messages", Duration::from_secs(20), || {
            let m = server.messages();
            (m.len() >= expected_count).then_some(m)
        })
        .await;
        let [script, native, via_sendmail] = &msgs[expected_count - 3..] else {
            panic!("three messages");
        };
        for (what, m) in [("smtp", native), ("sendmail", via_sendmail)] {
            for h in ["Subject", "To", "X-Mailer"] {
                assert_eq!(
                    m.header(h),
                    script.header(h),
                    "case {i} ({what}): header {h}"
                );
            }
            assert_eq!(
                String::from_utf8_lossy(&m.split().1),
                String::from_utf8_lossy(&script.split().1),
                "case {i} ({what}): body"
            );
            assert_eq!(m.rcpt_tos, script.rcpt_tos, "case {i} ({what}): recipients");
        }
    }
    // Spot-check the reference itself, so a broken capture cannot pass unnoticed.
    let first = &server.messages()[0];
    assert_eq!(
        first.header("Subject").as_deref(),
        Some("ALERT db-servers/mysql: sub ject (Sat Nov 4 00:00:00)")
    );
    let body = String::from_utf8_lossy(&first.split().1).into_owned();
    assert!(
        body.starts_with("\nGroup                 : db-servers\n"),
        "{body}"
    );
    assert!(body.contains("Members \t      : db1 db2\n"), "{body}");
    assert!(
        body.ends_with("line two\n.a line starting with a dot\n"),
        "{body}"
    );
    let wrapped = String::from_utf8_lossy(&server.messages()[3].split().1).into_owned();
    assert!(
        wrapped.contains("\n\t\t\th0"),
        "members wrap with TABs: {wrapped}"
    );
}

#[tokio::test]
async fn starttls_with_auth_delivers_and_authenticates() {
    let dir = tmp();
    let opts = SmtpOptions {
        auth: Some(("monuser".to_string(), "s3cret pass".to_string())),
        ..Default::default()
    };
    let server = SmtpServer::start(dir.path(), SmtpMode::StartTls, &opts);
    let cert = server.cert.clone().expect("cert");
    let pwfile = dir.path().join("pw");
    std::fs::write(&pwfile, "s3cret pass\n").expect("pw file");
    let call = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .hosts(&["h1"])
        .args(&["-f", "monitor@example.test", "ops@example.test"])
        .output("h1\ndetail\n")
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", &server.port.to_string())
        .env("MONRS_SMTP_TLS", "starttls")
        .env("MONRS_SMTP_CA_FILE", &cert.display().to_string())
        .env("MONRS_SMTP_USER", "monuser")
        .env("MONRS_SMTP_PASSWORD_FILE", &pwfile.display().to_string())
        .build();
    let o = action("monrs-mail", &[]).deliver(&call).await;
    assert!(o.ok, "{}", o.detail);
    let m = &server.messages()[0];
    assert_eq!(m.auth.as_deref(), Some("monuser"));
    assert!(m.tls, "STARTTLS was used");
    assert_eq!(m.mail_from, "monitor@example.test");
    assert_eq!(m.header("From").as_deref(), Some("monitor@example.test"));
    assert_eq!(m.header("X-Mailer").as_deref(), Some("monrs-mail"));
    assert!(m.header("Message-ID").is_some() && m.header("Date").is_some());
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let dir = tmp();
    let server = SmtpServer::start(dir.path(), SmtpMode::Smtps, &SmtpOptions::default());
    let cert = server.cert.clone().expect("cert");
    let call = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .args(&["ops@example.test"])
        .output("down\n")
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", &server.port.to_string())
        .env("MONRS_SMTP_TLS", "tls")
        .env("MONRS_SMTP_CA_FILE", &cert.display().to_string())
        .build();
    let o = action("monrs-mail", &[]).deliver(&call).await;
    assert!(o.ok, "{}", o.detail);
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn untrusted_certificate_is_refused_unless_verification_is_off() {
    let dir = tmp();
    let server = SmtpServer::start(dir.path(), SmtpMode::StartTls, &SmtpOptions::default());
    let base = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .args(&["ops@example.test"])
        .output("down\n")
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", &server.port.to_string())
        .env("MONRS_SMTP_TLS", "starttls")
        .env("MONRS_MAIL_ATTEMPTS", "1")
        .build();
    let o = action("monrs-mail", &[]).deliver(&base).await;
    assert!(
        !o.ok,
        "a self-signed certificate was accepted: {}",
        o.detail
    );
    assert!(server.messages().is_empty());
    let mut lax = base.clone();
    lax.env.push(("MONRS_SMTP_TLS_VERIFY".into(), "no".into()));
    let o = action("monrs-mail", &[]).deliver(&lax).await;
    assert!(o.ok, "{}", o.detail);
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn temporary_failures_are_retried_with_backoff() {
    let dir = tmp();
    let opts = SmtpOptions {
        tempfail: 2,
        ..Default::default()
    };
    let server = SmtpServer::start(dir.path(), SmtpMode::Plain, &opts);
    let call = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .args(&["ops@example.test"])
        .output("down\n")
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", &server.port.to_string())
        .env("MONRS_MAIL_ATTEMPTS", "3")
        .env("MONRS_MAIL_BACKOFF", "0.2")
        .build();
    let start = Instant::now();
    let o = action("monrs-mail", &[]).deliver(&call).await;
    assert!(o.ok, "{}", o.detail);
    assert!(o.detail.contains("after 3 attempts"), "{}", o.detail);
    // Pauses of 0.2 s and 0.4 s between the attempts.
    assert!(start.elapsed() >= Duration::from_millis(600));
    assert_eq!(server.data_attempts(), 3);
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn permanent_refusals_are_not_retried() {
    let dir = tmp();
    let opts = SmtpOptions {
        reject: true,
        ..Default::default()
    };
    let server = SmtpServer::start(dir.path(), SmtpMode::Plain, &opts);
    let call = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .args(&["ops@example.test"])
        .output("down\n")
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", &server.port.to_string())
        .env("MONRS_MAIL_ATTEMPTS", "3")
        .build();
    let o = action("monrs-mail", &[]).deliver(&call).await;
    assert!(!o.ok);
    assert!(
        o.detail.contains("not retried") && o.detail.contains("550"),
        "{}",
        o.detail
    );
    assert_eq!(server.data_attempts(), 1);
}

#[tokio::test]
async fn wrong_password_fails_at_once() {
    let dir = tmp();
    let opts = SmtpOptions {
        auth: Some(("u".to_string(), "right".to_string())),
        ..Default::default()
    };
    let server = SmtpServer::start(dir.path(), SmtpMode::StartTls, &opts);
    let cert = server.cert.clone().expect("cert");
    let call = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .args(&["ops@example.test"])
        .output("down\n")
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", &server.port.to_string())
        .env("MONRS_SMTP_TLS", "starttls")
        .env("MONRS_SMTP_CA_FILE", &cert.display().to_string())
        .env("MONRS_SMTP_USER", "u")
        .env("MONRS_SMTP_PASSWORD", "wrong")
        .env("MONRS_MAIL_BACKOFF", "5")
        .build();
    let start = Instant::now();
    let o = action("monrs-mail", &[]).deliver(&call).await;
    assert!(!o.ok);
    assert!(o.detail.contains("535"), "{}", o.detail);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "a 535 was retried"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn unreachable_server_gives_up_within_its_bounds() {
    let port = crate::support::free_port();
    let call = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .args(&["ops@example.test"])
        .output("down\n")
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", &port.to_string())
        .env("MONRS_MAIL_ATTEMPTS", "3")
        .env("MONRS_MAIL_BACKOFF", "0.2")
        .build();
    let start = Instant::now();
    let o = action("monrs-mail", &[]).deliver(&call).await;
    assert!(!o.ok);
    assert!(o.detail.contains("given up"), "{}", o.detail);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_silent_server_cannot_hold_the_delivery() {
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let _hold = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming().take(10) {
            conns.push(c);
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    let call = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .args(&["ops@example.test"])
        .output("down\n")
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", &port.to_string())
        .env("MONRS_SMTP_TIMEOUT", "1s")
        .env("MONRS_MAIL_ATTEMPTS", "5")
        .env("MONRS_MAIL_BACKOFF", "0.5")
        .env("MONRS_MAIL_DEADLINE", "3s")
        .build();
    let start = Instant::now();
    let o = action("monrs-mail", &[]).deliver(&call).await;
    let took = start.elapsed();
    assert!(!o.ok);
    assert!(took < Duration::from_secs(5), "delivery took {took:?}");
}

#[tokio::test]
async fn non_ascii_output_is_sent_as_utf8_quoted_printable() {
    let dir = tmp();
    let server = SmtpServer::start(dir.path(), SmtpMode::Plain, &SmtpOptions::default());
    let long = "x".repeat(1200);
    let detail = format!("Störung: Verbindung verweigert\n{long}\n");
    let call = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .args(&["ops@example.test"])
        .output(&format!("dienst gestört\n{detail}"))
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", &server.port.to_string())
        .build();
    let o = action("monrs-mail", &[]).deliver(&call).await;
    assert!(o.ok, "{}", o.detail);
    let m = &server.messages()[0];
    assert_eq!(
        m.header("Content-Transfer-Encoding").as_deref(),
        Some("quoted-printable")
    );
    // Python's email package is the independent decoder.
    let eml = dir.path().join("m.eml");
    std::fs::write(&eml, &m.raw).expect("write");
    let out = std::process::Command::new(crate::support::actions::PYTHON)
        .arg("-c")
        .arg(
            "import email,sys,email.policy\n\
             m=email.message_from_binary_file(open(sys.argv[1],'rb'),policy=email.policy.default)\n\
             sys.stdout.write(str(m['subject'])+'\\n'+m.get_content())",
        )
        .arg(&eml)
        .output()
        .expect("python");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ALERT g/s: dienst gestört ("), "{text}");
    assert!(text.ends_with(&detail), "{text}");
}

#[tokio::test]
async fn no_recipients_is_an_error_not_a_send() {
    let call = CallBuilder::new(AlertKind::Failure, "g", "s", "monrs-mail")
        .output("down\n")
        .env("MONRS_SMTP_HOST", "127.0.0.1")
        .env("MONRS_SMTP_PORT", "1")
        .build();
    let o = action("monrs-mail", &[]).deliver(&call).await;
    assert!(!o.ok);
    assert!(o.detail.contains("no recipient"), "{}", o.detail);
}
