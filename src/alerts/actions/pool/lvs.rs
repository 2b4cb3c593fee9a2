//! LVS pool through `ipvsadm`, with mon-contrib ipvs.alert's options: realservers are
//! deleted (`-d`) on failure and added (`-a`, or `-e` when already there) on recovery,
//! for every configured virtual service. Idempotent, so replays and reconciles are safe.

use std::time::Duration;

use super::Plan;
use crate::alerts::Outcome;
use crate::alerts::actions::common::{
    OptSpec, long_opt, one_line, opt, parse_duration, parse_opts, run_cmd, setting,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvsPool {
    /// `(-t|-u, VIP:PORT)` per virtual service.
    pub(crate) services: Vec<(String, String)>,
    /// ipvs.alert's `-R`: a fixed realserver (`HOST[:PORT]`) instead of the `-h` hosts.
    pub(crate) realserver: Option<String>,
    /// Realserver port when the host has none (default: the virtual service's port).
    pub(crate) rport: Option<u16>,
    pub(crate) weight: i32,
    /// `-g` (dr), `-m` (nat) or `-i` (tun).
    pub(crate) forward: &'static str,
    pub(crate) ipvsadm: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) dry_run: bool,
}

const SPECS: &[OptSpec] = &[
    opt('V', "virtual", true),
    opt('P', "protocol", true),
    opt('R', "realserver", true),
    opt('p', "port", true),
    opt('W', "weight", true),
    opt('F', "forward", true),
    long_opt("ipvsadm", true),
    opt('n', "dry-run", false),
    long_opt("timeout", true),
];

impl LvsPool {
    pub fn parse(args: &[String]) -> Result<LvsPool, String> {
        let p = parse_opts(SPECS, args)?;
        if !p.positional.is_empty() {
            return Err(format!("unexpected arguments: {}", p.positional.join(" ")));
        }
        let flag = match p.last("protocol").unwrap_or("tcp") {
            "tcp" => "-t",
            "udp" => "-u",
            other => return Err(format!("-P '{other}' is not tcp or udp")),
        };
        let mut services = Vec::new();
        for v in p.all("virtual") {
            for vip in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if split_port(vip).is_none() {
                    return Err(format!("-V '{vip}' is not VIP:PORT"));
                }
                services.push((flag.to_string(), vip.to_string()));
            }
        }
        if services.is_empty() {
            return Err("no virtual service: give -V VIP:PORT".to_string());
        }
        let rport = match p.last("port") {
            Some(s) => Some(
                s.parse::<u16>()
                    .map_err(|_| format!("-p '{s}' is not a port"))?,
            ),
            None => None,
        };
        let weight = match p.last("weight") {
            Some(w) => w
                .parse::<i32>()
                .ok()
                .filter(|w| *w >= 0)
                .ok_or_else(|| format!("-W '{w}' is not a weight"))?,
            None => 1,
        };
        let forward = match p.last("forward").unwrap_or("dr") {
            "dr" | "gate" | "direct" => "-g",
            "nat" | "masq" => "-m",
            "tun" | "ipip" => "-i",
            other => return Err(format!("-F '{other}' is not dr, nat or tun")),
        };
        Ok(LvsPool {
            services,
            realserver: p.last("realserver").map(str::to_string),
            rport,
            weight,
            forward,
            ipvsadm: p.last("ipvsadm").map(str::to_string),
            timeout: match p.last("timeout") {
                Some(t) => parse_duration("--timeout", t)?,
                None => Duration::from_secs(10),
            },
            dry_run: p.flag("dry-run"),
        })
    }

    fn realserver_addr(&self, host: &str, vip: &str) -> String {
        if split_port(host).is_some() {
            return host.to_string();
        }
        let port = self
            .rport
            .map(|p| p.to_string())
            .or_else(|| split_port(vip).map(|(_, p)| p.to_string()))
            .unwrap_or_default();
        if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    }

    /// The ipvsadm argv (without the program) for taking `host` out of / into `vip`.
    pub(crate) fn argv(&self, add: bool, proto: &str, vip: &str, host: &str) -> Vec<String> {
        let rs = self.realserver_addr(host, vip);
        if add {
            vec![
                "-a".into(),
                proto.into(),
                vip.into(),
                "-r".into(),
                rs,
                self.forward.into(),
                "-w".into(),
                self.weight.to_string(),
            ]
        } else {
            vec!["-d".into(), proto.into(), vip.into(), "-r".into(), rs]
        }
    }

    pub(crate) async fn apply(&self, plan: &Plan, env: &[(String, String)]) -> Outcome {
        let (remove, keep): (Vec<String>, Vec<String>) = match &self.realserver {
            Some(rs) if plan.remove.is_empty() => (Vec::new(), vec![rs.clone()]),
            Some(rs) => (vec![rs.clone()], Vec::new()),
            None => (plan.remove.clone(), plan.keep.clone()),
        };
        let program = self
            .ipvsadm
            .clone()
            .or_else(|| setting(env, "MONRS_IPVSADM"))
            .unwrap_or_else(|| "ipvsadm".to_string());
        let dry_run = self.dry_run || plan.dry_run;
        let mut done = Vec::new();
        let mut failed = Vec::new();
        for (proto, vip) in &self.services {
            for (add, host) in remove
                .iter()
                .map(|h| (false, h))
                .chain(keep.iter().map(|h| (true, h)))
            {
                let mut argv = vec![program.clone()];
                argv.extend(self.argv(add, proto, vip, host));
                if dry_run {
                    done.push(format!("would run {}", argv.join(" ")));
                    continue;
                }
                match self.run_one(&argv, add, env).await {
                    Ok(text) => done.push(text),
                    Err(text) => failed.push(text),
                }
            }
        }
        let mut detail = if dry_run {
            "dry-run: ".to_string()
        } else {
            String::new()
        };
        if done.is_empty() && failed.is_empty() {
            detail.push_str("no realserver to change");
        }
        detail.push_str(
            &failed
                .iter()
                .chain(done.iter())
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
        );
        Outcome {
            ok: failed.is_empty(),
            detail,
        }
    }

    /// One change; "already in/out" answers of the kernel count as success.
    async fn run_one(
        &self,
        argv: &[String],
        add: bool,
        env: &[(String, String)],
    ) -> Result<String, String> {
        let shown = argv.join(" ");
        let out = run_cmd(argv, env, None, self.timeout)
            .await
            .map_err(|e| format!("{shown}: {e}"))?;
        if out.success() {
            return Ok(format!("{shown}: ok"));
        }
        let err = one_line(&out.stderr);
        if !add && err.contains("No such destination") {
            return Ok(format!("{shown}: already out"));
        }
        if add && err.contains("already exists") {
            // Already in the pool: make weight and forwarding what we were asked for.
            let mut edit = argv.to_vec();
            if let Some(a) = edit.get_mut(1) {
                *a = "-e".to_string();
            }
            let shown_e = edit.join(" ");
            let out = run_cmd(&edit, env, None, self.timeout)
                .await
                .map_err(|e| format!("{shown_e}: {e}"))?;
            return if out.success() {
                Ok(format!("{shown}: already in; {shown_e}: ok"))
            } else {
                Err(format!("{shown_e}: {}", out.describe(self.timeout)))
            };
        }
        Err(format!("{shown}: {}", out.describe(self.timeout)))
    }
}

/// `ADDR:PORT` (or `[V6]:PORT`) split, when the port is a number.
fn split_port(s: &str) -> Option<(&str, u16)> {
    let (a, p) = s.rsplit_once(':')?;
    if a.is_empty() || (a.contains(':') && !(a.starts_with('[') && a.ends_with(']'))) {
        return None;
    }
    Some((a, p.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn argv_follows_ipvsadm_syntax() {
        let p = LvsPool::parse(&v(&[
            "-V",
            "10.0.0.1:80,10.0.0.1:443",
            "-F",
            "nat",
            "-W",
            "3",
        ]))
        .expect("valid");
        assert_eq!(p.services.len(), 2);
        assert_eq!(
            p.argv(true, "-t", "10.0.0.1:80", "web1"),
            v(&["-a", "-t", "10.0.0.1:80", "-r", "web1:80", "-m", "-w", "3"])
        );
        assert_eq!(
            p.argv(false, "-t", "10.0.0.1:443", "10.0.0.7:8443"),
            v(&["-d", "-t", "10.0.0.1:443", "-r", "10.0.0.7:8443"])
        );
        let u =
            LvsPool::parse(&v(&["-P", "udp", "-V", "10.0.0.1:53", "-p", "5353"])).expect("valid");
        assert_eq!(
            u.argv(true, "-u", "10.0.0.1:53", "fe80::1"),
            v(&[
                "-a",
                "-u",
                "10.0.0.1:53",
                "-r",
                "[fe80::1]:5353",
                "-g",
                "-w",
                "1"
            ])
        );
    }

    #[test]
    fn bad_options_are_reported() {
        for bad in [
            &["-V", "10.0.0.1"][..],
            &[][..],
            &["-V", "1.2.3.4:80", "-F", "bridge"][..],
            &["-V", "1.2.3.4:80", "-W", "-1"][..],
            &["-V", "1.2.3.4:80", "-P", "sctp"][..],
            &["-V", "1.2.3.4:80", "extra"][..],
        ] {
            assert!(LvsPool::parse(&v(bad)).is_err(), "{bad:?} accepted");
        }
    }
}
