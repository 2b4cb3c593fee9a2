//! Two-node heartbeat and Pacemaker/corosync clusters on one machine: each node is a
//! network + UTS + mount namespace joined to its peer by a veth pair whose both ends are
//! in our namespaces. Names, subnet and ports come from `ClusterOptions`; every step has a
//! time limit; `Drop` stops every process by PID and deletes the namespaces, even after a
//! failed assertion.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Proc, run, scripts_dir, unique_tag};

/// Names and addresses of a test cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Short unique part of namespace and interface names.
    pub tag: String,
    /// The /24 the two nodes share, without the last octet (node a .1, node b .2,
    /// the VIP .100). Both veth ends live in our namespaces, so it never reaches a real
    /// network; keep it away from the host's own subnets anyway.
    pub subnet: String,
    /// Port of the application the monitor watches, on each node's loopback.
    pub app_port: u16,
}

impl ClusterOptions {
    pub fn heartbeat() -> Self {
        ClusterOptions {
            tag: unique_tag(),
            subnet: "10.254.77".to_string(),
            app_port: 18999,
        }
    }

    pub fn pacemaker() -> Self {
        ClusterOptions {
            tag: unique_tag(),
            subnet: "10.254.78".to_string(),
            app_port: 18998,
        }
    }
}

/// One node: its namespace, hostname, address and the PID whose namespaces it uses.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub netns: String,
    pub ip: String,
    pub dir: PathBuf,
}

impl Node {
    /// PID of a process inside the node's namespaces (written by the node script).
    pub fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.join("pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// `nsenter` words that run a command inside this node (network, UTS, mount).
    pub fn exec_prefix(&self) -> Vec<String> {
        let pid = self.pid().unwrap_or(0);
        ["nsenter", "-t", &pid.to_string(), "-n", "-u", "-m", "--"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Run a command inside the node, with a time limit.
    pub fn exec(&self, argv: &[&str], limit: Duration) -> (i32, String, String) {
        let prefix = self.exec_prefix();
        let mut all: Vec<&str> = prefix.iter().map(String::as_str).collect();
        all.extend_from_slice(argv);
        run(&all, limit)
    }

    /// Start a long-running process inside the node (stopped when the Proc drops).
    pub fn spawn(&self, argv: &[&str], name: &str) -> Proc {
        let prefix = self.exec_prefix();
        let child = Command::new(&prefix[0])
            .args(&prefix[1..])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} in {}: {e}", self.name));
        Proc {
            child,
            name: name.to_string(),
        }
    }

    /// Like `spawn`, with stdout and stderr appended to `log`.
    pub fn spawn_logged(&self, argv: &[&str], name: &str, log: &Path) -> Proc {
        let prefix = self.exec_prefix();
        let file = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("log file")
        };
        let child = Command::new(&prefix[0])
            .args(&prefix[1..])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(Stdio::from(file()))
            .stderr(Stdio::from(file()))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} in {}: {e}", self.name));
        Proc {
            child,
            name: name.to_string(),
        }
    }

    /// Whether the node's interface holds `ip`.
    pub fn has_ip(&self, ip: &str) -> bool {
        let (_, out, _) = run(
            &["ip", "-n", &self.netns, "-4", "addr", "show", "dev", "hb0"],
            Duration::from_secs(5),
        );
        out.contains(&format!("inet {ip}/"))
    }

    /// Whether something accepts TCP connections on the node's 127.0.0.1:`port`.
    pub fn port_open(&self, port: u16) -> bool {
        let (code, _, _) = self.exec(
            &["bash", "-c", &format!("exec 3<>/dev/tcp/127.0.0.1/{port}")],
            Duration::from_secs(5),
        );
        code == 0
    }
}

/// Two network namespaces joined by a veth pair (renamed `hb0` inside), deleted on drop
/// after every process inside them is killed.
pub struct NetPair {
    pub nodes: [Node; 2],
}

impl NetPair {
    fn create(root: &Path, opts: &ClusterOptions, kind: &str, hostnames: [&str; 2]) -> NetPair {
        let mk = |i: usize, suffix: &str| {
            let dir = root.join(suffix);
            std::fs::create_dir_all(&dir).expect("node dir");
            Node {
                name: hostnames[i].to_string(),
                netns: format!("monrs-{kind}{}{suffix}", opts.tag),
                ip: format!("{}.{}", opts.subnet, i + 1),
                dir,
            }
        };
        let pair = NetPair {
            nodes: [mk(0, "a"), mk(1, "b")],
        };
        let t = Duration::from_secs(10);
        let veth = [
            format!("m{kind}{}a", opts.tag),
            format!("m{kind}{}b", opts.tag),
        ];
        for n in &pair.nodes {
            must(&["ip", "netns", "add", &n.netns], t);
        }
        must(
            &[
                "ip", "link", "add", &veth[0], "type", "veth", "peer", "name", &veth[1],
            ],
            t,
        );
        for (n, v) in pair.nodes.iter().zip(&veth) {
            must(&["ip", "link", "set", v, "netns", &n.netns], t);
            must(&["ip", "-n", &n.netns, "link", "set", v, "name", "hb0"], t);
            // `brd +`: heartbeat's bcast needs a broadcast address on the interface.
            must(
                &[
                    "ip",
                    "-n",
                    &n.netns,
                    "addr",
                    "add",
                    &format!("{}/24", n.ip),
                    "brd",
                    "+",
                    "dev",
                    "hb0",
                ],
                t,
            );
            must(&["ip", "-n", &n.netns, "link", "set", "hb0", "up"], t);
            must(&["ip", "-n", &n.netns, "link", "set", "lo", "up"], t);
        }
        pair
    }

    /// Kill whatever still runs in a node's namespace (by PID), then delete it.
    fn destroy_node(n: &Node) {
        for _ in 0..3 {
            let (_, out, _) = run(&["ip", "netns", "pids", &n.netns], Duration::from_secs(5));
            let pids: Vec<i32> = out
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            if pids.is_empty() {
                break;
            }
            for p in pids {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(p),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let _ = run(&["ip", "netns", "del", &n.netns], Duration::from_secs(10));
    }
}

impl Drop for NetPair {
    fn drop(&mut self) {
        for n in &self.nodes {
            NetPair::destroy_node(n);
        }
    }
}

fn must(argv: &[&str], limit: Duration) {
    let (code, out, err) = run(argv, limit);
    assert_eq!(code, 0, "{argv:?} failed: {out}{err}");
}

/// Start a node's daemon script inside fresh UTS and mount namespaces of its netns.
fn start_node(n: &Node, script: &str, extra: &[&str]) -> Proc {
    let mut cmd = Command::new("setsid");
    cmd.args(["ip", "netns", "exec", &n.netns])
        .args([
            "unshare",
            "--uts",
            "--mount",
            "--propagation",
            "private",
            "--fork",
        ])
        .arg(scripts_dir().join(script))
        .arg(&n.dir)
        .arg(&n.name)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::from(
            std::fs::File::create(n.dir.join("console.log")).expect("console log"),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(n.dir.join("console.err")).expect("console err"),
        ));
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {script} for {}: {e}", n.name));
    Proc {
        child,
        name: format!("{script} {}", n.name),
    }
}

/// Poll `f` (every 100 ms) until true or `limit`; the time it took, or None.
pub fn within(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f().then(|| start.elapsed())
}

// === heartbeat ===

/// heartbeat 3 (v1 haresources mode): resource group = IPaddr2 VIP + `testsvc`, preferred
/// on node a, `auto_failback off`.
pub struct HeartbeatCluster {
    pub root: PathBuf,
    pub vip: String,
    pub opts: ClusterOptions,
    procs: Vec<Proc>,
    net: NetPair,
}

impl HeartbeatCluster {
    pub fn start(root: &Path, opts: ClusterOptions) -> HeartbeatCluster {
        let names = ["hbnode-a".to_string(), "hbnode-b".to_string()];
        let net = NetPair::create(root, &opts, "hb", [&names[0], &names[1]]);
        let vip = format!("{}.100", opts.subnet);
        for (i, n) in net.nodes.iter().enumerate() {
            let peer = &net.nodes[1 - i];
            let etc = n.dir.join("etc-ha.d");
            let varlib = n.dir.join("varlib");
            must(
                &["cp", "-a", "/etc/ha.d/.", &etc.display().to_string()],
                Duration::from_secs(10),
            );
            must(
                &[
                    "cp",
                    "-a",
                    "/var/lib/heartbeat/.",
                    &varlib.display().to_string(),
                ],
                Duration::from_secs(10),
            );
            std::fs::write(
                etc.join("ha.cf"),
                format!(
                    "logfile {}\nkeepalive 500ms\nwarntime 2\ndeadtime 4\ninitdead 8\nudpport 694\n\
                     ucast hb0 {}\nauto_failback off\nnode {}\nnode {}\ncrm no\nrealtime off\ncoredumps false\n",
                    n.dir.join("ha.log").display(),
                    peer.ip,
                    names[0],
                    names[1]
                ),
            )
            .expect("ha.cf");
            std::fs::write(
                etc.join("haresources"),
                format!("{} IPaddr2::{vip}/24/hb0 testsvc\n", names[0]),
            )
            .expect("haresources");
            let authkeys = etc.join("authkeys");
            std::fs::write(&authkeys, "auth 1\n1 sha1 monrs-test-key\n").expect("authkeys");
            set_mode(&authkeys, 0o600);
            let svc = std::fs::read_to_string(scripts_dir().join("testsvc"))
                .expect("testsvc")
                .replace("@STATEDIR@", &root.display().to_string());
            let svc_path = etc.join("resource.d/testsvc");
            std::fs::write(&svc_path, svc).expect("testsvc");
            set_mode(&svc_path, 0o755);
        }
        let mut procs = Vec::new();
        for n in &net.nodes {
            procs.push(start_node(n, "hbnode.sh", &[]));
        }
        let c = HeartbeatCluster {
            root: root.to_path_buf(),
            vip,
            opts,
            procs,
            net,
        };
        for n in c.nodes() {
            let ok = within(Duration::from_secs(15), || n.pid().is_some());
            assert!(
                ok.is_some(),
                "heartbeat on {} did not start: {}",
                n.name,
                c.logs()
            );
        }
        c
    }

    pub fn nodes(&self) -> &[Node; 2] {
        &self.net.nodes
    }

    pub fn a(&self) -> &Node {
        &self.net.nodes[0]
    }

    pub fn b(&self) -> &Node {
        &self.net.nodes[1]
    }

    /// Whether `n` holds the whole resource group (VIP and testsvc).
    pub fn holds(&self, n: &Node) -> bool {
        n.has_ip(&self.vip) && self.root.join(format!("{}.testsvc", n.name)).exists()
    }

    /// Whether `n` holds no part of the group.
    pub fn free(&self, n: &Node) -> bool {
        !n.has_ip(&self.vip) && !self.root.join(format!("{}.testsvc", n.name)).exists()
    }

    /// Wait until `n` holds everything and its peer nothing; the time it took.
    pub fn wait_resources_on(&self, n: &Node, limit: Duration) -> Duration {
        let peer = if n.name == self.a().name {
            self.b()
        } else {
            self.a()
        };
        within(limit, || self.holds(n) && self.free(peer)).unwrap_or_else(|| {
            panic!(
                "resources not on {} within {limit:?}:\n{}",
                n.name,
                self.logs()
            )
        })
    }

    /// `cl_status ARGS` on node `n`.
    pub fn cl_status(&self, n: &Node, args: &[&str]) -> String {
        let mut argv = vec!["cl_status"];
        argv.extend_from_slice(args);
        n.exec(&argv, Duration::from_secs(10)).1.trim().to_string()
    }

    /// Wait until both nodes have finished any transition (heartbeat drops standby
    /// requests while either side is "in flux").
    pub fn settle(&self) {
        std::thread::sleep(Duration::from_millis(1500));
    }

    /// Crash a node's heartbeat (SIGKILL to everything in its namespace).
    pub fn crash(&self, n: &Node) {
        NetPair::destroy_node_processes(n);
    }

    /// Occurrences of `needle` in node `n`'s heartbeat log.
    pub fn log_count(&self, n: &Node, needle: &str) -> usize {
        std::fs::read_to_string(n.dir.join("ha.log"))
            .unwrap_or_default()
            .matches(needle)
            .count()
    }

    pub fn logs(&self) -> String {
        let mut s = String::new();
        for n in self.nodes() {
            let log = std::fs::read_to_string(n.dir.join("ha.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(25).collect();
            s.push_str(&format!("--- {} ha.log (last lines) ---\n", n.name));
            for l in tail.iter().rev() {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }
}

impl Drop for HeartbeatCluster {
    fn drop(&mut self) {
        // No clean `heartbeat -k`: it can hang after a dropped request, and all a node's
        // state lives in its namespaces (tmpfs /run, bind-mounted temp dirs), so killing
        // every process by PID (NetPair's drop) leaves nothing behind.
        for p in &mut self.procs {
            p.stop();
        }
    }
}

impl NetPair {
    fn destroy_node_processes(n: &Node) {
        let (_, out, _) = run(&["ip", "netns", "pids", &n.netns], Duration::from_secs(5));
        for p in out.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A TCP listener standing in for the application mon watches, run inside a node.
pub fn start_app(n: &Node, port: u16) -> Proc {
    let code = format!(
        "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
         s.bind(('127.0.0.1',{port}))\ns.listen(16)\nwhile True:\n  c,_=s.accept()\n  c.close()\n"
    );
    let p = n.spawn(&[super::PYTHON, "-c", &code], "app");
    let up = within(Duration::from_secs(10), || n.port_open(port));
    assert!(up.is_some(), "app on {} did not listen on {port}", n.name);
    p
}

// === Pacemaker ===

/// Pacemaker 2.1 + corosync 3 (knet): group `g_test` = IPaddr2 VIP + ocf:pacemaker:Dummy,
/// preferring node a (score 50) with stickiness 100, STONITH off, dc-deadtime 2s.
pub struct PacemakerCluster {
    pub root: PathBuf,
    pub vip: String,
    pub opts: ClusterOptions,
    procs: Vec<Proc>,
    net: NetPair,
}

/// The resource group the cluster runs.
pub const PCMK_GROUP: &str = "g_test";

impl PacemakerCluster {
    pub fn start(root: &Path, opts: ClusterOptions) -> PacemakerCluster {
        let names = ["pcnode-a", "pcnode-b"];
        let net = NetPair::create(root, &opts, "pc", names);
        let vip = format!("{}.100", opts.subnet);
        let t = Duration::from_secs(10);
        for n in &net.nodes {
            let etc = n.dir.join("etc-corosync");
            let varco = n.dir.join("var-corosync");
            let varpc = n.dir.join("var-pacemaker");
            let log = n.dir.join("log");
            for d in [&etc, &varco, &log] {
                std::fs::create_dir_all(d).expect("node dir");
            }
            must(
                &["cp", "-a", "/etc/corosync/.", &etc.display().to_string()],
                t,
            );
            for sub in ["cib", "pengine", "blackbox", "cores"] {
                let d = varpc.join(sub);
                std::fs::create_dir_all(&d).expect("pacemaker dir");
                set_mode(&d, 0o750);
            }
            must(
                &[
                    "chown",
                    "-R",
                    "hacluster:haclient",
                    &varpc.display().to_string(),
                ],
                t,
            );
            must(
                &["chown", "hacluster:haclient", &log.display().to_string()],
                t,
            );
            let mut conf = String::from(
                "totem {\n  version: 2\n  cluster_name: monrstest\n  transport: knet\n  \
                 crypto_cipher: none\n  crypto_hash: none\n  token: 1000\n}\nnodelist {\n",
            );
            for (i, m) in net.nodes.iter().enumerate() {
                conf.push_str(&format!(
                    "  node {{\n    ring0_addr: {}\n    name: {}\n    nodeid: {}\n  }}\n",
                    m.ip,
                    m.name,
                    i + 1
                ));
            }
            conf.push_str(&format!(
                "}}\nquorum {{\n  provider: corosync_votequorum\n  two_node: 1\n}}\n\
                 logging {{\n  to_logfile: yes\n  logfile: {}\n  to_stderr: no\n  to_syslog: no\n  timestamp: on\n}}\n",
                log.join("corosync.log").display()
            ));
            std::fs::write(etc.join("corosync.conf"), conf).expect("corosync.conf");
            seed_cib(&varpc.join("cib/cib.xml"), &vip, names[0]);
        }
        let mut procs = Vec::new();
        for n in &net.nodes {
            procs.push(start_node(n, "pcmknode.sh", &[]));
        }
        let c = PacemakerCluster {
            root: root.to_path_buf(),
            vip,
            opts,
            procs,
            net,
        };
        for n in c.nodes() {
            let ok = within(Duration::from_secs(20), || n.pid().is_some());
            assert!(
                ok.is_some(),
                "pacemaker on {} did not start: {}",
                n.name,
                c.logs()
            );
        }
        c
    }

    pub fn nodes(&self) -> &[Node; 2] {
        &self.net.nodes
    }

    pub fn a(&self) -> &Node {
        &self.net.nodes[0]
    }

    pub fn b(&self) -> &Node {
        &self.net.nodes[1]
    }

    /// Where the group runs, as `crm_resource --locate` tells (None: nowhere / unknown).
    pub fn location(&self) -> Option<String> {
        let (code, out, _) = self.a().exec(
            &["crm_resource", "--locate", "--resource", PCMK_GROUP],
            Duration::from_secs(10),
        );
        if code != 0 {
            return None;
        }
        out.split("running on:")
            .nth(1)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// Whether `n` runs the whole group: the VIP on its interface and both members
    /// started there according to the cluster.
    pub fn holds(&self, n: &Node) -> bool {
        n.has_ip(&self.vip) && self.location().as_deref() == Some(n.name.as_str()) && {
            let (_, out, _) = n.exec(
                &["crm_resource", "--locate", "--resource", "dummy"],
                Duration::from_secs(10),
            );
            out.trim().ends_with(&n.name)
        }
    }

    pub fn wait_resources_on(&self, n: &Node, limit: Duration) -> Duration {
        let peer = if n.name == self.a().name {
            self.b()
        } else {
            self.a()
        };
        within(limit, || self.holds(n) && !peer.has_ip(&self.vip))
            .unwrap_or_else(|| panic!("group not on {} within {limit:?}:\n{}", n.name, self.logs()))
    }

    /// `crm_standby -G -q` for node `n` (on / off).
    pub fn standby(&self, n: &Node) -> String {
        let (_, out, _) = self.a().exec(
            &["crm_standby", "-G", "-q", "-N", &n.name],
            Duration::from_secs(10),
        );
        out.trim().to_string()
    }

    /// Set node `n`'s standby attribute (as an operator would).
    pub fn set_standby(&self, n: &Node, on: bool) {
        let (code, out, err) = self.a().exec(
            &[
                "crm_standby",
                "-N",
                &n.name,
                "-v",
                if on { "on" } else { "off" },
            ],
            Duration::from_secs(10),
        );
        assert_eq!(code, 0, "crm_standby: {out}{err}");
    }

    pub fn logs(&self) -> String {
        let mut s = String::new();
        for n in self.nodes() {
            let log = std::fs::read_to_string(n.dir.join("log/pacemaker.log")).unwrap_or_default();
            let tail: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("notice") || l.contains("error") || l.contains("warning"))
                .rev()
                .take(20)
                .collect();
            s.push_str(&format!(
                "--- {} pacemaker.log (last notices) ---\n",
                n.name
            ));
            for l in tail.iter().rev() {
                s.push_str(l);
                s.push('\n');
            }
            let (_, mon, _) = n.exec(&["crm_mon", "-1"], Duration::from_secs(10));
            s.push_str(&format!("--- crm_mon -1 on {} ---\n{mon}", n.name));
        }
        s
    }
}

impl Drop for PacemakerCluster {
    fn drop(&mut self) {
        // As for heartbeat: every piece of node state is in its namespaces, so NetPair's
        // drop kills the daemons by PID instead of waiting for a clean shutdown.
        for p in &mut self.procs {
            p.stop();
        }
    }
}

/// Write the initial CIB offline (no daemon needed): cluster options, the group, the
/// location preference and resource stickiness.
fn seed_cib(cib: &Path, vip: &str, preferred: &str) {
    let file = cib.display().to_string();
    let t = Duration::from_secs(20);
    let with_cib = |args: &[&str]| {
        let (code, out, err) = run(
            &[&["env", &format!("CIB_file={file}")][..], args].concat(),
            t,
        );
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    let empty = with_cib(&["cibadmin", "--empty"]);
    std::fs::write(cib, empty).expect("cib.xml");
    with_cib(&[
        "crm_attribute",
        "--type",
        "crm_config",
        "--name",
        "stonith-enabled",
        "--update",
        "false",
    ]);
    with_cib(&[
        "crm_attribute",
        "--type",
        "crm_config",
        "--name",
        "dc-deadtime",
        "--update",
        "2s",
    ]);
    with_cib(&[
        "cibadmin",
        "--create",
        "-o",
        "configuration",
        "--xml-text",
        "<rsc_defaults><meta_attributes id=\"rsc-options\"><nvpair id=\"rsc-options-resource-stickiness\" \
         name=\"resource-stickiness\" value=\"100\"/></meta_attributes></rsc_defaults>",
    ]);
    with_cib(&[
        "cibadmin",
        "--create",
        "-o",
        "resources",
        "--xml-text",
        &format!(
            "<group id=\"{PCMK_GROUP}\"><primitive id=\"vip\" class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr2\">\
             <instance_attributes id=\"vip-ia\"><nvpair id=\"vip-ip\" name=\"ip\" value=\"{vip}\"/>\
             <nvpair id=\"vip-nic\" name=\"nic\" value=\"hb0\"/><nvpair id=\"vip-cidr\" name=\"cidr_netmask\" value=\"24\"/>\
             </instance_attributes><operations><op id=\"vip-mon\" name=\"monitor\" interval=\"10s\"/></operations>\
             </primitive><primitive id=\"dummy\" class=\"ocf\" provider=\"pacemaker\" type=\"Dummy\"/></group>"
        ),
    ]);
    with_cib(&[
        "cibadmin",
        "--create",
        "-o",
        "constraints",
        "--xml-text",
        &format!(
            "<rsc_location id=\"loc-pref\" rsc=\"{PCMK_GROUP}\" node=\"{preferred}\" score=\"50\"/>"
        ),
    ]);
    let _ = run(&["chown", "hacluster:haclient", &file], t);
    set_mode(cib, 0o600);
}

/// A mon running inside a node, watching the app's port every second and calling `alert`
/// (looked up in the repository's alert.d first, then Debian's) from the 2nd failure on:
/// real Perl mon 1.3.6 (`start`), or any drop-in such as the monrs binary
/// (`start_program`, phase 2 of the failover tests).
pub struct ClassicMon {
    pub dir: PathBuf,
    /// mon's stdout and stderr, which alert scripts inherit.
    pub log: PathBuf,
    _proc: Proc,
}

impl ClassicMon {
    pub fn start(
        n: &Node,
        root: &Path,
        port: u16,
        alert: &str,
        env: &[(&str, &str)],
    ) -> ClassicMon {
        Self::start_program("/usr/sbin/mon", n, root, port, alert, env)
    }

    /// Like `start`, with another mon-compatible daemon (run as `PROGRAM -c CFG -P PIDFILE`).
    pub fn start_program(
        program: &str,
        n: &Node,
        root: &Path,
        port: u16,
        alert: &str,
        env: &[(&str, &str)],
    ) -> ClassicMon {
        let dir = root.join(format!("mon-{}", n.name));
        for d in ["state", "log"] {
            std::fs::create_dir_all(dir.join(d)).expect("mon dir");
        }
        let alertdir = super::super::repo_root().join("alert.d");
        let env_lines: String = env
            .iter()
            .map(|(k, v)| format!("        {k}={v}\n"))
            .collect();
        // A hostgroup line must be followed by a blank line (mon swallows the next line).
        let cf = format!(
            "alertdir = {}:/usr/lib/mon/alert.d\nmondir = /usr/lib/mon/mon.d\n\
             statedir = {}\nlogdir = {}\nserverbind = 127.0.0.1\ntrapbind = 127.0.0.1\n\n\
             hostgroup app 127.0.0.1\n\n\
             watch app\n    service tcp\n        interval 1s\n        monitor tcp.monitor -p {port}\n\
             {env_lines}        period wd {{Sun-Sat}}\n            alert {alert}\n            upalert {alert}\n\
                         alertafter 2\n",
            alertdir.display(),
            dir.join("state").display(),
            dir.join("log").display(),
        );
        let cfg = dir.join("mon.cf");
        std::fs::write(&cfg, cf).expect("mon.cf");
        let log = dir.join("mon.out");
        let pidfile = dir.join("mon.pid").display().to_string();
        let proc = n.spawn_logged(
            &[program, "-c", &cfg.display().to_string(), "-P", &pidfile],
            program,
            &log,
        );
        ClassicMon {
            dir,
            log,
            _proc: proc,
        }
    }

    /// mon's (and its alerts') output so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
