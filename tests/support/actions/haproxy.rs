//! A real HAProxy 2.6 on loopback in front of small HTTP realservers, with its runtime
//! API on a unix socket and on TCP, and a way to see where requests go.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{PYTHON, Proc, scripts_dir, spawn_until_line, wait_for};
use crate::support::free_port;

pub struct Haproxy {
    /// Frontend port (round robin over the backend `be`).
    pub port: u16,
    /// `stats socket ... level admin` (unix).
    pub socket: PathBuf,
    /// The same API over TCP (`127.0.0.1:PORT`).
    pub tcp_api: String,
    pub servers: Vec<String>,
    haproxy: Proc,
    _realservers: Proc,
}

impl Haproxy {
    /// HAProxy with backend `be` = one realserver per name (no health checks, so only
    /// the API changes membership, like a bare LVS table).
    pub fn start(dir: &Path, names: &[&str]) -> Haproxy {
        let mut cmd = Command::new(PYTHON);
        cmd.arg(scripts_dir().join("name_server.py")).args(names);
        let (realservers, line) =
            spawn_until_line(cmd, "name_server.py", "READY", Duration::from_secs(15));
        let ports: Vec<u16> = line
            .split_whitespace()
            .skip(1)
            .map(|p| p.parse().expect("port"))
            .collect();
        let root = dir.join("haproxy");
        std::fs::create_dir_all(&root).expect("haproxy dir");
        let socket = root.join("admin.sock");
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let api = free_port();
            let mut cfg = format!(
                "global\n  stats socket {} mode 600 level admin\n  stats socket ipv4@127.0.0.1:{api} level admin\n\
                 defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
                 frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
                 backend be\n  balance roundrobin\n",
                socket.display()
            );
            for (n, p) in names.iter().zip(&ports) {
                cfg.push_str(&format!("  server {n} 127.0.0.1:{p}\n"));
            }
            let conf = root.join("haproxy.cfg");
            std::fs::write(&conf, cfg).expect("haproxy.cfg");
            let child = Command::new("haproxy")
                .arg("-db")
                .arg("-f")
                .arg(&conf)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("haproxy runs");
            let mut proc = Proc {
                child,
                name: "haproxy".to_string(),
            };
            let tcp_api = format!("127.0.0.1:{api}");
            let up = (0..100).any(|_| {
                if let Ok(Some(_)) = proc.child.try_wait() {
                    return false;
                }
                if api_command(&tcp_api, "show info").contains("Name: HAProxy") {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(100));
                false
            });
            if up {
                return Haproxy {
                    port,
                    socket,
                    tcp_api,
                    servers: names.iter().map(|s| s.to_string()).collect(),
                    haproxy: proc,
                    _realservers: realservers,
                };
            }
            proc.stop();
            last = "did not answer on its API (port taken?)".to_string();
        }
        panic!("haproxy: {last}");
    }

    /// Send `n` requests through the frontend; how many each realserver answered, and
    /// how many failed.
    pub fn distribution(&self, n: usize) -> (BTreeMap<String, usize>, usize) {
        let mut counts: BTreeMap<String, usize> =
            self.servers.iter().map(|s| (s.clone(), 0)).collect();
        let mut errors = 0;
        for _ in 0..n {
            match http_get(self.port) {
                Some(body) => *counts.entry(body).or_insert(0) += 1,
                None => errors += 1,
            }
        }
        (counts, errors)
    }

    /// `show servers state be` as (name, srv_admin_state).
    pub fn admin_states(&self) -> BTreeMap<String, u32> {
        let text = api_command(&self.tcp_api, "show servers state be");
        let mut out = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 6 {
                out.insert(f[3].to_string(), f[6].parse().unwrap_or(u32::MAX));
            }
        }
        out
    }

    /// Run a runtime API command directly (to set up a stale state, for instance).
    pub fn api(&self, cmd: &str) -> String {
        api_command(&self.tcp_api, cmd)
    }

    /// Wait until `server` gets no traffic and the others share it.
    pub fn wait_admin_state(&self, server: &str, state: u32) {
        wait_for(
            &format!("{server} admin state {state}"),
            Duration::from_secs(10),
            || (self.admin_states().get(server) == Some(&state)).then_some(()),
        );
    }
}

fn api_command(addr: &str, cmd: &str) -> String {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.write_all(format!("{cmd}\n").as_bytes());
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn http_get(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n").ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    if !resp.starts_with("HTTP/1.0 200") && !resp.starts_with("HTTP/1.1 200") {
        return None;
    }
    resp.split("\r\n\r\n").nth(1).map(str::to_string)
}
