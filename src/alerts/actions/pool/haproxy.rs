//! HAProxy pool through the runtime API (`stats socket ... level admin`, unix or TCP):
//! `set server BACKEND/SERVER state maint|drain|ready`, only where `show servers state`
//! says the server is not already in the wanted state, then read back.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Plan;
use crate::alerts::Outcome;
use crate::alerts::actions::common::{
    OptSpec, long_opt, one_line, opt, parse_duration, parse_opts, setting,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaproxyPool {
    /// `/path/admin.sock`, `unix@/path`, `HOST:PORT` or `ipv4@HOST:PORT`.
    pub(crate) socket: Option<String>,
    pub(crate) backends: Vec<String>,
    /// Explicit host → server names; otherwise a server named like the host, or whose
    /// address is the host, is used.
    pub(crate) map: Vec<(String, String)>,
    /// `maint` (default) or `drain` for failing hosts.
    pub(crate) down_state: String,
    pub(crate) timeout: Duration,
    pub(crate) dry_run: bool,
}

const SPECS: &[OptSpec] = &[
    opt('s', "socket", true),
    opt('b', "backend", true),
    opt('m', "map", true),
    long_opt("down-state", true),
    opt('n', "dry-run", false),
    long_opt("timeout", true),
];

/// srv_admin_state bits (HAProxy's SRV_ADMF_*): forced maintenance, forced drain.
const ADMF_FMAINT: u32 = 0x01;
const ADMF_FDRAIN: u32 = 0x08;

impl HaproxyPool {
    pub fn parse(args: &[String]) -> Result<HaproxyPool, String> {
        let p = parse_opts(SPECS, args)?;
        if !p.positional.is_empty() {
            return Err(format!("unexpected arguments: {}", p.positional.join(" ")));
        }
        let backends: Vec<String> = p
            .all("backend")
            .iter()
            .flat_map(|b| b.split(','))
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_string)
            .collect();
        if backends.is_empty() {
            return Err("no backend: give -b BACKEND".to_string());
        }
        let mut map = Vec::new();
        for m in p.all("map").iter().flat_map(|m| m.split(',')) {
            let m = m.trim();
            if m.is_empty() {
                continue;
            }
            let (h, s) = m
                .split_once('=')
                .filter(|(h, s)| !h.is_empty() && !s.is_empty())
                .ok_or_else(|| format!("-m '{m}' is not HOST=SERVER"))?;
            map.push((h.to_string(), s.to_string()));
        }
        let down_state = match p.last("down-state").unwrap_or("maint") {
            s @ ("maint" | "drain") => s.to_string(),
            other => return Err(format!("--down-state '{other}' is not maint or drain")),
        };
        Ok(HaproxyPool {
            socket: p.last("socket").map(str::to_string),
            backends,
            map,
            down_state,
            timeout: match p.last("timeout") {
                Some(t) => parse_duration("--timeout", t)?,
                None => Duration::from_secs(5),
            },
            dry_run: p.flag("dry-run"),
        })
    }

    pub(crate) async fn apply(&self, plan: &Plan, env: &[(String, String)]) -> Outcome {
        let Some(socket) = self
            .socket
            .clone()
            .or_else(|| setting(env, "MONRS_HAPROXY_SOCKET"))
        else {
            return Outcome {
                ok: false,
                detail: "no HAProxy socket: give -s or set MONRS_HAPROXY_SOCKET".to_string(),
            };
        };
        let dry_run = self.dry_run || plan.dry_run;
        let mut done = Vec::new();
        let mut failed = Vec::new();
        let mut states = Vec::new();
        for be in &self.backends {
            match show_state(&socket, be, self.timeout).await {
                Ok(rows) => states.push((be, rows)),
                Err(e) => failed.push(format!("show servers state {be}: {e}")),
            }
        }
        let wanted = plan
            .remove
            .iter()
            .map(|h| (h, self.down_state.as_str()))
            .chain(plan.keep.iter().map(|h| (h, "ready")));
        for (host, state) in wanted {
            let mut found = false;
            for (be, rows) in &states {
                let Some(row) = self.server_for(host, rows) else {
                    continue;
                };
                found = true;
                let target = format!("{be}/{}", row.name);
                if row.is_in(state) {
                    done.push(format!("{target} already {state}"));
                    continue;
                }
                let cmd = format!("set server {target} state {state}");
                if dry_run {
                    done.push(format!("would send '{cmd}'"));
                    continue;
                }
                match command(&socket, &cmd, self.timeout).await {
                    Ok(reply) if reply.trim().is_empty() => {
                        done.push(format!("{target} -> {state}"))
                    }
                    Ok(reply) => failed.push(format!("'{cmd}': {}", one_line(&reply))),
                    Err(e) => failed.push(format!("'{cmd}': {e}")),
                }
            }
            if !found && !states.is_empty() {
                failed.push(format!(
                    "no server for host {host} in backend {}",
                    self.backends.join(",")
                ));
            }
        }
        let mut detail = if dry_run {
            "dry-run: ".to_string()
        } else {
            String::new()
        };
        if done.is_empty() && failed.is_empty() {
            detail.push_str("no server to change");
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

    fn server_for<'a>(&self, host: &str, rows: &'a [ServerRow]) -> Option<&'a ServerRow> {
        if let Some((_, srv)) = self.map.iter().find(|(h, _)| h == host) {
            return rows.iter().find(|r| &r.name == srv);
        }
        rows.iter()
            .find(|r| r.name == host)
            .or_else(|| rows.iter().find(|r| r.addr == host))
    }
}

/// One line of `show servers state BACKEND`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerRow {
    pub(crate) name: String,
    pub(crate) addr: String,
    pub(crate) op_state: u32,
    pub(crate) admin_state: u32,
}

impl ServerRow {
    fn is_in(&self, state: &str) -> bool {
        let maint = self.admin_state & ADMF_FMAINT != 0;
        let drain = self.admin_state & ADMF_FDRAIN != 0;
        match state {
            "maint" => maint,
            "drain" => drain && !maint,
            _ => !maint && !drain,
        }
    }
}

/// Parse `show servers state` output, finding columns by the header line's names.
pub(crate) fn parse_state(text: &str) -> Result<Vec<ServerRow>, String> {
    let header = text
        .lines()
        .find(|l| l.starts_with("# "))
        .ok_or_else(|| format!("unexpected reply: {}", one_line(text)))?;
    let cols: Vec<&str> = header[2..].split_whitespace().collect();
    let idx = |name: &str| {
        cols.iter()
            .position(|c| *c == name)
            .ok_or_else(|| format!("no {name} column in: {header}"))
    };
    let (i_name, i_addr, i_op, i_admin) = (
        idx("srv_name")?,
        idx("srv_addr")?,
        idx("srv_op_state")?,
        idx("srv_admin_state")?,
    );
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < cols.len().min(i_admin + 1) || f.len() <= i_admin {
            continue;
        }
        rows.push(ServerRow {
            name: f[i_name].to_string(),
            addr: f[i_addr].to_string(),
            op_state: f[i_op].parse().unwrap_or(0),
            admin_state: f[i_admin].parse().unwrap_or(0),
        });
    }
    Ok(rows)
}

pub(crate) async fn show_state(
    socket: &str,
    backend: &str,
    limit: Duration,
) -> Result<Vec<ServerRow>, String> {
    let reply = command(socket, &format!("show servers state {backend}"), limit).await?;
    if reply.trim_start().starts_with("Can't find backend") || reply.contains("No such backend") {
        return Err(one_line(&reply));
    }
    parse_state(&reply)
}

/// Send one runtime API command and read the whole reply (HAProxy closes the connection
/// after answering a non-interactive command).
pub async fn command(socket: &str, cmd: &str, limit: Duration) -> Result<String, String> {
    let work = async {
        let line = format!("{cmd}\n");
        let mut buf = Vec::new();
        let unix = socket.strip_prefix("unix@").or_else(|| {
            if socket.starts_with('/') || socket.starts_with('.') {
                Some(socket)
            } else {
                None
            }
        });
        if let Some(path) = unix {
            let mut s = tokio::net::UnixStream::connect(path)
                .await
                .map_err(|e| format!("connect {path}: {e}"))?;
            s.write_all(line.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        } else {
            let addr = socket
                .strip_prefix("ipv4@")
                .or_else(|| socket.strip_prefix("ipv6@"))
                .or_else(|| socket.strip_prefix("tcp@"))
                .unwrap_or(socket);
            let mut s = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connect {addr}: {e}"))?;
            s.write_all(line.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        }
        Ok::<String, String>(String::from_utf8_lossy(&buf).into_owned())
    };
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| format!("no answer within {}s", limit.as_secs_f64()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_show_servers_state() {
        // HAProxy 2.6.12 `show servers state be` (captured, columns abridged at the end).
        let text = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight\n\
                    3 be 1 srv1 127.0.0.1 2 0 1 1\n3 be 2 srv2 127.0.0.2 0 1 1 1\n\n";
        let rows = parse_state(text).expect("parses");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].name, "srv2");
        assert!(rows[1].is_in("maint"));
        assert!(rows[0].is_in("ready"));
        assert!(parse_state("Can't find backend.\n").is_err());
    }

    #[test]
    fn options() {
        let p = HaproxyPool::parse(&v(&[
            "-s",
            "/run/h.sock",
            "-b",
            "be,be2",
            "-m",
            "web1=srv1",
        ]))
        .expect("valid");
        assert_eq!(p.backends, v(&["be", "be2"]));
        assert_eq!(p.map, vec![("web1".to_string(), "srv1".to_string())]);
        assert!(HaproxyPool::parse(&v(&["-s", "x"])).is_err());
        assert!(HaproxyPool::parse(&v(&["-b", "be", "-m", "web1"])).is_err());
        assert!(HaproxyPool::parse(&v(&["-b", "be", "--down-state", "off"])).is_err());
    }
}
