//! A real SMTP server (Debian's aiosmtpd, driven by smtp_server.py) and a self-signed
//! certificate for its TLS modes; msmtp configuration for sendmail-based senders.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{PYTHON, Proc, scripts_dir, spawn_until_line};

/// How the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    Plain,
    StartTls,
    Smtps,
}

#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// `Some((user, password))`: AUTH required.
    pub auth: Option<(String, String)>,
    /// Answer the first N DATA commands with 451.
    pub tempfail: u32,
    /// Answer every DATA with 550.
    pub reject: bool,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The DATA as received (CRLF line ends, dot-stuffing removed).
    pub raw: Vec<u8>,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub auth: Option<String>,
    pub tls: bool,
}

impl Received {
    /// Header block and body, split at the first empty line, with LF line ends.
    pub fn split(&self) -> (String, Vec<u8>) {
        let lf: Vec<u8> = lf_only(&self.raw);
        let pos = lf
            .windows(2)
            .position(|w| w == b"\n\n")
            .expect("a header/body separator");
        (
            String::from_utf8_lossy(&lf[..pos + 1]).into_owned(),
            lf[pos + 2..].to_vec(),
        )
    }

    /// The value of header `name` (first occurrence), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = self.split();
        let mut out: Option<String> = None;
        let mut in_it = false;
        for line in headers.lines() {
            if line.starts_with([' ', '\t']) {
                if in_it && let Some(v) = out.as_mut() {
                    v.push_str(line);
                }
                continue;
            }
            if out.is_some() {
                in_it = false;
                continue;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                out = Some(v.trim_start().to_string());
                in_it = true;
            }
        }
        out
    }
}

pub fn lf_only(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

pub struct SmtpServer {
    pub port: u16,
    pub dir: PathBuf,
    /// The CA that signed the server's certificate (TLS modes), for MONRS_SMTP_CA_FILE.
    pub cert: Option<PathBuf>,
    proc: Proc,
}

impl SmtpServer {
    pub fn start(dir: &Path, mode: SmtpMode, opts: &SmtpOptions) -> SmtpServer {
        let out = dir.join("mail");
        let mut cmd = Command::new(PYTHON);
        cmd.arg(scripts_dir().join("smtp_server.py"))
            .arg("--outdir")
            .arg(&out)
            .arg("--mode")
            .arg(match mode {
                SmtpMode::Plain => "plain",
                SmtpMode::StartTls => "starttls",
                SmtpMode::Smtps => "smtps",
            });
        let mut cert = None;
        if mode != SmtpMode::Plain {
            let (ca, c, k) = test_certs(dir);
            cmd.arg("--cert").arg(&c).arg("--key").arg(&k);
            cert = Some(ca);
        }
        if let Some((u, p)) = &opts.auth {
            cmd.arg("--auth").arg(format!("{u}:{p}"));
        }
        if opts.tempfail > 0 {
            cmd.arg("--tempfail").arg(opts.tempfail.to_string());
        }
        if opts.reject {
            cmd.arg("--reject");
        }
        let (proc, line) =
            spawn_until_line(cmd, "smtp_server.py", "READY ", Duration::from_secs(20));
        let port = line
            .trim_start_matches("READY ")
            .trim()
            .parse()
            .expect("a port after READY");
        SmtpServer {
            port,
            dir: out,
            cert,
            proc,
        }
    }

    /// Messages received so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let raw = std::fs::read(&p).expect("message file");
                let meta: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(p.with_extension("json")).expect("meta file"),
                )
                .expect("meta json");
                Received {
                    raw,
                    mail_from: meta["mail_from"].as_str().unwrap_or("").to_string(),
                    rcpt_tos: meta["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    auth: meta["auth"].as_str().map(str::to_string),
                    tls: meta["tls"].as_bool().unwrap_or(false),
                }
            })
            .collect()
    }

    /// How many DATA commands the server answered (accepted or not).
    pub fn data_attempts(&self) -> u32 {
        std::fs::read_to_string(self.dir.join("attempts"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    pub fn stop(&mut self) {
        self.proc.stop();
    }
}

/// A private CA and a server certificate it signed for `localhost` and `127.0.0.1`, in
/// `dir`: (ca.pem, cert.pem, key.pem). rustls refuses a CA certificate used as the server's
/// own, so the server gets a leaf certificate, as real deployments do.
pub fn test_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca = dir.join("ca.pem");
    let ca_key = dir.join("ca-key.pem");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let csr = dir.join("cert.csr");
    let ext = dir.join("cert.ext");
    if ca.exists() && cert.exists() && key.exists() {
        return (ca, cert, key);
    }
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=monrs test CA",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "cert.csr",
    ]);
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("ext file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "cert.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "cert.ext",
        "-out",
        "cert.pem",
    ]);
    let _ = (ca_key, csr);
    (ca, cert, key)
}

/// Write an msmtp configuration that sends to 127.0.0.1:`port` (plain, no auth) and
/// return the directory to use as XDG_CONFIG_HOME for sendmail (msmtp) runs.
pub fn msmtp_config(dir: &Path, port: u16) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let xdg = dir.join("xdg");
    let conf_dir = xdg.join("msmtp");
    std::fs::create_dir_all(&conf_dir).expect("msmtp config dir");
    let conf = conf_dir.join("config");
    std::fs::write(
        &conf,
        format!(
            "defaults\nauth off\ntls off\naccount default\nhost 127.0.0.1\nport {port}\nfrom mon@localhost\n"
        ),
    )
    .expect("msmtp config");
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    xdg
}
