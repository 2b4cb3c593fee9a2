//! mon traps: the UDP packet format, the listener and the sender (traps.md).
//!
//! `decode` reads a datagram, `validate` applies auth.cf, the version and `sta` checks,
//! `route` finds the target service (or `default/default`), `listen` runs all three on a
//! UDP socket and hands each accepted trap to a channel; `send` builds and sends traps.

pub mod send;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::auth::{AuthConfig, AuthTable, TrapAuthError};
use crate::config::Config;
use crate::escape::unescape;

pub use send::send_main;

/// The oldest trap protocol version mon accepts (`pro`).
pub const TRAP_PRO_VERSION: f64 = 0.3807;

/// The largest datagram read, as mon's `recv(..., 65536)`.
pub const MAX_DATAGRAM: usize = 65536;

/// A decoded datagram: the `key=value` fields (quotes stripped, `\xx` decoded, last one
/// wins) and the lines that were not fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packet {
    pub fields: BTreeMap<String, Vec<u8>>,
    /// Lines that did not match `^\w+=` (mon logs `unspecified tag in trap: LINE`).
    pub junk: Vec<Vec<u8>>,
}

impl Packet {
    /// A field as text (invalid UTF-8 replaced), if present.
    pub fn text(&self, key: &str) -> Option<String> {
        self.fields
            .get(key)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// Decode one datagram the way mon's `handle_trap` does (traps.md §2).
pub fn decode(buf: &[u8]) -> Packet {
    let mut p = Packet::default();
    let mut lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
    // Perl's split drops trailing empty fields.
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for line in lines {
        let key_len = line
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or(line.len());
        if key_len == 0 || line.get(key_len) != Some(&b'=') {
            p.junk.push(line.to_vec());
            continue;
        }
        let key = String::from_utf8_lossy(&line[..key_len]).into_owned();
        let mut val = &line[key_len + 1..];
        if val.len() >= 2 && val[0] == b'\'' && val[val.len() - 1] == b'\'' {
            val = &val[1..val.len() - 1];
        }
        p.fields.insert(key, unescape(val));
    }
    p
}

/// A trap that passed every check, ready for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    /// The service it is for (after routing to `default`).
    pub group: String,
    pub service: String,
    /// `grp:svc` as sent, when the trap was routed to the `default` watch
    /// (`MON_TRAP_INTENDED` for its alerts).
    pub intended: Option<String>,
    /// `sta` as sent: the exit value (`exitval`, `MON_RETVAL`); "0" or "" is success.
    pub sta: String,
    /// The monitor-style output: `sum` (ending in LF) + LF + `dtl`.
    pub output: Bytes,
    /// `typ` and `spc`, for the log line only.
    pub typ: String,
    pub spc: String,
    pub from: SocketAddr,
}

impl Trap {
    /// Perl truth of `sta`: `"0"` and `""` are success, anything else (even `"00"`) fails.
    pub fn is_failure(&self) -> bool {
        !(self.sta.is_empty() || self.sta == "0")
    }

    /// mon's info log line for an accepted trap.
    pub fn log_line(&self) -> String {
        format!(
            "trap {} {} from {} grp={} svc={}, sta={}",
            self.typ,
            self.spc,
            self.from.ip(),
            self.group,
            self.service,
            self.sta
        )
    }
}

/// Why a trap was dropped; `Display` is mon's syslog text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrapReject {
    #[error(transparent)]
    Auth(#[from] TrapAuthError),
    #[error("cannot handle traps from version less than {TRAP_PRO_VERSION}")]
    OldVersion,
    #[error("no trap sta value specified from {from}")]
    NoSta { from: IpAddr },
    #[error("trap received for undefined group {group}")]
    UndefinedGroup { group: String },
    #[error("trap received for undefined service type {group}/{service}")]
    UndefinedService { group: String, service: String },
    /// monrs only: traps arrive over IPv4 in mon; an IPv6 sender has no auth.cf key.
    #[error("received trap from non-IPv4 address {from}")]
    NotIpv4 { from: IpAddr },
}

/// Where a trap goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub group: String,
    pub service: String,
    pub intended: Option<String>,
}

/// mon's routing (traps.md §4): an unknown group goes to the `default` watch (remembering
/// the intended `grp:svc`), and there an unknown service goes to `default/default`. A known
/// group with an unknown service is dropped.
pub fn route(config: &Config, grp: &str, svc: &str) -> Result<Route, TrapReject> {
    let mut group = grp.to_string();
    let mut service = svc.to_string();
    let mut intended = None;
    if config.watch(grp).is_none() && config.watch("default").is_some() {
        intended = Some(format!("{grp}:{svc}"));
        group = "default".to_string();
    }
    if group == "default"
        && config.service("default", &service).is_none()
        && config.service("default", "default").is_some()
    {
        service = "default".to_string();
    }
    if config.hostgroup(&group).is_none() {
        return Err(TrapReject::UndefinedGroup { group });
    }
    if config.service(&group, &service).is_none() {
        return Err(TrapReject::UndefinedService { group, service });
    }
    Ok(Route {
        group,
        service,
        intended,
    })
}

/// Authenticate, check and route a decoded trap from `from` (traps.md §2–§4, in mon's
/// order: auth.cf first, then `pro`, then `sta`, then the target). Blocking: it may run
/// crypt(3) on the password.
pub fn validate(
    p: &Packet,
    from: SocketAddr,
    auth: &AuthTable,
    config: &Config,
) -> Result<Trap, TrapReject> {
    let ip = crate::server::canonical_ip(from.ip());
    let IpAddr::V4(v4) = ip else {
        return Err(TrapReject::NotIpv4 { from: ip });
    };
    let usr = p.text("usr");
    auth.check_trap(v4, usr.as_deref(), p.fields.get("pas").map(Vec::as_slice))?;
    let pro = p
        .text("pro")
        .map(|s| crate::server::perl::numify(&s))
        .unwrap_or(0.0);
    // A NaN `pro` compares false in Perl too, so it passes, as there.
    if pro < TRAP_PRO_VERSION {
        return Err(TrapReject::OldVersion);
    }
    let Some(sta) = p.text("sta") else {
        return Err(TrapReject::NoSta { from: ip });
    };
    let r = route(
        config,
        &p.text("grp").unwrap_or_default(),
        &p.text("svc").unwrap_or_default(),
    )?;
    let mut output = p.fields.get("sum").cloned().unwrap_or_default();
    if output.last() != Some(&b'\n') {
        output.push(b'\n');
    }
    output.push(b'\n');
    output.extend_from_slice(p.fields.get("dtl").map(Vec::as_slice).unwrap_or(b""));
    Ok(Trap {
        group: r.group,
        service: r.service,
        intended: r.intended,
        sta,
        output: Bytes::from(output),
        typ: p.text("typ").unwrap_or_default(),
        spc: p.text("spc").unwrap_or_default(),
        from: SocketAddr::new(IpAddr::V4(v4), from.port()),
    })
}

/// What the trap listener reads from the daemon: the tables in force right now (the same
/// `AuthConfig` the protocol server uses; its trap section decides).
pub trait TrapContext: Send + Sync + 'static {
    fn auth(&self) -> Arc<AuthConfig>;
    fn config(&self) -> Arc<Config>;
}

/// Bind the trap port: `trapbind` (a name or address, IPv4 preferred) or every IPv4 address.
pub async fn bind(trapbind: Option<&str>, port: u16) -> std::io::Result<UdpSocket> {
    let addr = match trapbind {
        None => SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
        Some(host) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
            addrs
                .iter()
                .find(|a| a.is_ipv4())
                .or(addrs.first())
                .copied()
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("trapbind {host}: no address"),
                    )
                })?
        }
    };
    UdpSocket::bind(addr).await
}

/// Receive traps on `socket` until `shutdown` resolves; every accepted trap goes to `tx`
/// (the listener waits when the channel is full), every rejected one is logged with mon's
/// text. Never replies to the sender.
pub async fn listen<C: TrapContext>(
    socket: UdpSocket,
    ctx: Arc<C>,
    tx: mpsc::Sender<Trap>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = tokio::select! {
            _ = &mut shutdown => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!("error trying to recv a trap: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let packet = decode(&buf[..n]);
        for junk in &packet.junk {
            tracing::error!("unspecified tag in trap: {}", String::from_utf8_lossy(junk));
        }
        let (auth, config) = (ctx.auth(), ctx.config());
        let checked =
            tokio::task::spawn_blocking(move || validate(&packet, from, &auth.table, &config))
                .await;
        match checked {
            Ok(Ok(trap)) => {
                tracing::info!("{}", trap.log_line());
                if tx.send(trap).await.is_err() {
                    return;
                }
            }
            Ok(Err(reject)) => tracing::error!("{reject}"),
            Err(e) => tracing::error!("trap check failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENDTRAP: &[u8] =
        include_bytes!("../../tests/fixtures/transcripts/trap-packet-sendtrap.bin");
    const TRAPALERT: &[u8] =
        include_bytes!("../../tests/fixtures/transcripts/trap-packet-trapalert.bin");

    #[test]
    fn decodes_the_captured_send_trap_packet() {
        let p = decode(SENDTRAP);
        assert!(p.junk.is_empty());
        let f = |k: &str| {
            p.fields
                .get(k)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(f("pro").as_deref(), Some("0.3807"));
        assert_eq!(f("usr").as_deref(), Some("trapuser"));
        assert_eq!(f("pas").as_deref(), Some("trappw"));
        assert_eq!(f("grp").as_deref(), Some("g2"));
        assert_eq!(f("svc").as_deref(), Some("trapsvc"));
        assert_eq!(f("sta").as_deref(), Some("1"));
        assert_eq!(f("spc").as_deref(), Some("0"));
        assert_eq!(f("sum").as_deref(), Some("remote thing failed"));
        // A doubled backslash is not collapsed (mon's un_esc_str).
        assert_eq!(
            f("dtl").as_deref(),
            Some("line one\nline two with 'quote' and \\\\ backslash\n")
        );
    }

    #[test]
    fn decodes_the_captured_trap_alert_packet() {
        let p = decode(TRAPALERT);
        assert_eq!(p.text("sum").as_deref(), Some("sum line"));
        assert_eq!(p.text("dtl").as_deref(), Some("detail 1\ndetail 2"));
    }

    fn config(with_default: bool) -> Config {
        use crate::config::{Globals, HostGroup, Service, Watch};
        let hg = |name: &str, hosts: &[&str], auto: bool| HostGroup {
            name: name.into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            line: 1,
            auto,
        };
        let watch = |name: &str, svcs: &[&str]| Watch {
            name: name.into(),
            line: 1,
            services: svcs.iter().map(|s| Service::new(*s, 1)).collect(),
        };
        let mut c = Config {
            source: "mon.cf".into(),
            globals: Globals::default(),
            hostgroups: vec![hg("g2", &["g2"], true), hg("lonely", &["h"], false)],
            aliases: vec![],
            views: vec![],
            watches: vec![watch("g2", &["trapsvc"])],
        };
        if with_default {
            c.hostgroups.push(hg("default", &["default"], true));
            c.watches.push(watch("default", &["default", "special"]));
        }
        c
    }

    #[test]
    fn routing_like_mon() {
        let c = config(true);
        let r = |g: &str, s: &str| route(&c, g, s).map(|r| (r.group, r.service, r.intended));
        assert_eq!(
            r("g2", "trapsvc"),
            Ok(("g2".into(), "trapsvc".into(), None))
        );
        assert_eq!(
            r("unknowngroup", "unknownsvc"),
            Ok((
                "default".into(),
                "default".into(),
                Some("unknowngroup:unknownsvc".into())
            ))
        );
        assert_eq!(
            r("elsewhere", "special"),
            Ok((
                "default".into(),
                "special".into(),
                Some("elsewhere:special".into())
            ))
        );
        assert_eq!(
            r("default", "nosuch"),
            Ok(("default".into(), "default".into(), None))
        );
        // A known group with an unknown service is not routed to default.
        assert_eq!(
            r("g2", "nosuchsvc"),
            Err(TrapReject::UndefinedService {
                group: "g2".into(),
                service: "nosuchsvc".into()
            })
        );
        let bare = config(false);
        assert_eq!(
            route(&bare, "nosuch", "x").map_err(|e| e.to_string()),
            Err("trap received for undefined group nosuch".to_string())
        );
        assert_eq!(
            route(&bare, "lonely", "x").map_err(|e| e.to_string()),
            Err("trap received for undefined service type lonely/x".to_string())
        );
    }

    #[test]
    fn validate_checks_in_mons_order() -> Result<(), crate::auth::AuthFileError> {
        let c = config(true);
        let (auth, _) = crate::auth::file::parse(
            include_str!("../../tests/fixtures/transcripts/files/auth.cf"),
            std::path::Path::new("auth.cf"),
            crate::auth::LoadMode::Startup,
        )?;
        let lo: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        let v = |pkt: &[u8]| validate(&decode(pkt), lo, &auth, &c);
        let t = v(SENDTRAP).expect("captured trap is accepted");
        assert_eq!(
            (t.group.as_str(), t.service.as_str(), t.sta.as_str()),
            ("g2", "trapsvc", "1")
        );
        assert!(t.is_failure());
        assert_eq!(
            &t.output[..],
            &b"remote thing failed\n\nline one\nline two with 'quote' and \\\\ backslash\n"[..]
        );
        assert_eq!(
            t.log_line(),
            "trap trap 0 from 127.0.0.1 grp=g2 svc=trapsvc, sta=1"
        );
        // transcript 07, raw unquoted trap
        let raw = v(b"pro=0.3807\nusr=trapuser\npas=trappw\ngrp=g2\nsvc=trapsvc\nsta=2\nsum=raw\\20unquoted\ndtl=d1\\0ad2\n")
            .expect("raw trap accepted");
        assert_eq!(&raw.output[..], b"raw unquoted\n\nd1\nd2");
        let no_dtl = v(b"pro=1\nusr=trapuser\npas=trappw\ngrp=g2\nsvc=trapsvc\nsta=0\nsum=ok\n")
            .expect("accepted");
        assert_eq!(&no_dtl.output[..], b"ok\n\n");
        assert!(!no_dtl.is_failure());
        // Auth comes before the version and sta checks.
        assert!(matches!(
            v(b"pro=0.1\nusr=trapuser\npas=wrong\nsta=1\n"),
            Err(TrapReject::Auth(_))
        ));
        assert_eq!(
            v(b"pro=0.3806\nusr=trapuser\npas=trappw\ngrp=g2\nsvc=trapsvc\nsta=0\n"),
            Err(TrapReject::OldVersion)
        );
        assert_eq!(
            v(b"usr=trapuser\npas=trappw\ngrp=g2\nsvc=trapsvc\nsta=0\n"),
            Err(TrapReject::OldVersion)
        );
        assert_eq!(
            v(b"pro=1\nusr=trapuser\npas=trappw\ngrp=g2\nsvc=trapsvc\nsum=no sta\n")
                .map_err(|e| e.to_string()),
            Err("no trap sta value specified from 127.0.0.1".to_string())
        );
        let intended = v(b"pro=1\nusr=trapuser\npas=trappw\ngrp=zz\nsvc=yy\nsta=00\n")
            .expect("routed to default");
        assert_eq!(intended.intended.as_deref(), Some("zz:yy"));
        assert!(intended.is_failure());
        Ok(())
    }

    #[test]
    fn decode_rules() {
        let p = decode(b"sta=2\nsum=raw\\20unquoted\n\nbogus line\n=x\nsta='3'\nq='\nk=''\n\n\n");
        assert_eq!(p.text("sta").as_deref(), Some("3"));
        assert_eq!(p.text("sum").as_deref(), Some("raw unquoted"));
        assert_eq!(p.text("q").as_deref(), Some("'"));
        assert_eq!(p.text("k").as_deref(), Some(""));
        assert_eq!(
            p.junk,
            vec![b"".to_vec(), b"bogus line".to_vec(), b"=x".to_vec()]
        );
    }
}
