//! Real prometheus-alertmanager instances on loopback (alone or as a gossiping HA
//! cluster) routing everything to a webhook sink that records each notification.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{PYTHON, Proc, scripts_dir, spawn_until_line, wait_for};
use crate::support::free_port;

pub const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// The webhook receiver: one JSON line per notification.
pub struct WebhookSink {
    pub port: u16,
    pub file: PathBuf,
    proc: Proc,
}

impl WebhookSink {
    pub fn start(dir: &Path) -> WebhookSink {
        let file = dir.join("notifications.jsonl");
        let mut cmd = Command::new(PYTHON);
        cmd.arg(scripts_dir().join("webhook_sink.py")).arg(&file);
        let (proc, line) =
            spawn_until_line(cmd, "webhook_sink.py", "READY ", Duration::from_secs(15));
        let port = line
            .trim_start_matches("READY ")
            .trim()
            .parse()
            .expect("port");
        WebhookSink { port, file, proc }
    }

    /// Every notification received so far.
    pub fn notifications(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// (status, host label) of every alert in every notification, in order.
    pub fn events(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for n in self.notifications() {
            for a in n["alerts"].as_array().into_iter().flatten() {
                out.push((
                    a["status"].as_str().unwrap_or("").to_string(),
                    a["labels"]["host"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
        out
    }
}

pub struct Alertmanager {
    pub port: u16,
    pub cluster_port: Option<u16>,
    pub url: String,
    proc: Proc,
}

impl Alertmanager {
    /// Start one instance sending to `sink`; `peers` are cluster addresses of other
    /// instances (empty with `cluster = false`: no gossip at all).
    pub fn start(
        dir: &Path,
        name: &str,
        sink: &WebhookSink,
        cluster: bool,
        peers: &[u16],
    ) -> Alertmanager {
        let root = dir.join(name);
        std::fs::create_dir_all(root.join("data")).expect("am dir");
        let conf = root.join("alertmanager.yml");
        std::fs::write(
            &conf,
            format!(
                "route:\n  receiver: sink\n  group_by: ['alertname', 'watch', 'service']\n  \
                 group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
                 receivers:\n  - name: sink\n    webhook_configs:\n      - url: http://127.0.0.1:{}/hook\n        send_resolved: true\n",
                sink.port
            ),
        )
        .expect("am config");
        let mut last_err = String::new();
        for _ in 0..3 {
            let port = free_port();
            let cluster_port = cluster.then(free_port);
            let mut cmd = Command::new(ALERTMANAGER);
            cmd.arg(format!("--config.file={}", conf.display()))
                .arg(format!("--storage.path={}", root.join("data").display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--log.level=warn");
            match cluster_port {
                Some(cp) => {
                    cmd.arg(format!("--cluster.listen-address=127.0.0.1:{cp}"))
                        .arg(format!("--cluster.advertise-address=127.0.0.1:{cp}"))
                        .arg("--cluster.gossip-interval=50ms")
                        .arg("--cluster.pushpull-interval=1s")
                        .arg("--cluster.peer-timeout=3s")
                        .arg("--cluster.settle-timeout=5s");
                    for p in peers {
                        cmd.arg(format!("--cluster.peer=127.0.0.1:{p}"));
                    }
                }
                None => {
                    cmd.arg("--cluster.listen-address=");
                }
            }
            cmd.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let child = cmd.spawn().expect("prometheus-alertmanager runs");
            let mut proc = Proc {
                child,
                name: format!("alertmanager {name}"),
            };
            let url = format!("http://127.0.0.1:{port}");
            let ready = wait_ready(&url, &mut proc);
            match ready {
                Ok(()) => {
                    return Alertmanager {
                        port,
                        cluster_port,
                        url,
                        proc,
                    };
                }
                Err(e) => last_err = e,
            }
        }
        panic!("alertmanager {name} did not start: {last_err}");
    }

    /// GET /api/v2/alerts (active and resolved-but-kept alerts).
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        let (code, out, _) = super::run(
            &["curl", "-sf", &format!("{}/api/v2/alerts", self.url)],
            Duration::from_secs(10),
        );
        assert_eq!(code, 0, "GET /api/v2/alerts failed");
        serde_json::from_str::<serde_json::Value>(&out)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }

    /// Number of cluster members this instance sees.
    pub fn cluster_size(&self) -> usize {
        let (_, out, _) = super::run(
            &["curl", "-sf", &format!("{}/api/v2/status", self.url)],
            Duration::from_secs(10),
        );
        serde_json::from_str::<serde_json::Value>(&out)
            .ok()
            .and_then(|v| v["cluster"]["peers"].as_array().map(Vec::len))
            .unwrap_or(0)
    }
}

fn wait_ready(url: &str, proc: &mut Proc) -> Result<(), String> {
    let ready = format!("{url}/-/ready");
    let end = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < end {
        if let Ok(Some(st)) = proc.child.try_wait() {
            return Err(format!("exited with {st} (port taken?)"));
        }
        let (code, _, _) = super::run(&["curl", "-sf", &ready], Duration::from_secs(5));
        if code == 0 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    proc.stop();
    Err("not ready within 20s".to_string())
}

/// Wait until `sink` has recorded at least `n` alert events.
pub fn wait_events(sink: &WebhookSink, n: usize, limit: Duration) -> Vec<(String, String)> {
    wait_for(&format!("{n} webhook events"), limit, || {
        let e = sink.events();
        (e.len() >= n).then_some(e)
    })
}
