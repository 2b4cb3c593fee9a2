//! The mon client protocol server (TCP 2583): accepting connections (`clientallow`, a
//! connection cap), reading request lines, idle timeouts, and graceful shutdown.
//!
//! Parsing (`command`), replies (`reply`, `vars`) and per-request logic (`session`) are
//! pure or backend-driven; only this file touches sockets. The engine plugs in through
//! `Backend`; `memory::MemoryBackend` is a small stand-in over static data for tests.

pub mod command;
pub mod framing;
pub mod memory;
pub mod perl;
pub mod reply;
pub mod session;
pub mod vars;
pub mod view;

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::AuthConfig;
use framing::{Frame, LineFramer};
use session::{Flow, Session};
pub use view::{Op, Outcome, Snapshot};

/// What the protocol needs from the daemon. The engine implements it; every method may be
/// called from many connections at once.
pub trait Backend: Send + Sync + 'static {
    /// A consistent view of the daemon for read-only replies.
    fn snapshot(&self) -> impl Future<Output = Arc<Snapshot>> + Send;
    /// Apply one change and say how it went.
    fn apply(&self, op: Op) -> impl Future<Output = Outcome> + Send;
    /// The auth tables and login methods in force now (`reload auth` replaces them).
    fn auth(&self) -> Arc<AuthConfig>;
}

/// How the server behaves; built from mon.cf globals by the daemon.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub clientallow: ClientAllow,
    /// Close a connection this long after the last data received from it (mon's
    /// `cltimeout`); also the limit for writing one reply to a client that does not read.
    pub cltimeout: Duration,
    /// The longest request line; a longer one gets `520 line too long` and a close.
    pub max_line: usize,
    /// At most this many connections at once (lowered to fit the process's fd limit).
    pub max_clients: usize,
    /// The zone `servertime` prints local time in.
    pub tz: jiff::tz::TimeZone,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            clientallow: ClientAllow::new(&[]),
            cltimeout: Duration::from_secs(30),
            max_line: framing::DEFAULT_MAX_LINE,
            max_clients: DEFAULT_MAX_CLIENTS,
            tz: jiff::tz::TimeZone::system(),
        }
    }
}

/// Default connection cap. mon has none; each connection costs one file descriptor and a
/// few KiB, and the cap keeps descriptors free for monitors and alerts.
pub const DEFAULT_MAX_CLIENTS: usize = 4096;

/// Reply sizes above which a batch of pipelined replies is flushed before the next line is
/// handled, so a client that pipelines many large requests cannot pile up output.
const FLUSH_AT: usize = 64 * 1024;

/// mon's `clientallow`: patterns matched against the whole dotted-quad peer address, after
/// every `.` not preceded by `[` or `\` is made literal.
#[derive(Debug, Clone)]
pub struct ClientAllow {
    patterns: Vec<(String, Option<regex::Regex>)>,
}

impl ClientAllow {
    /// From the `clientallow` words; none means mon's default `\d+.\d+.\d+.\d+` (everyone).
    pub fn new(patterns: &[String]) -> Self {
        let default = [r"\d+.\d+.\d+.\d+".to_string()];
        let list = if patterns.is_empty() {
            &default[..]
        } else {
            patterns
        };
        ClientAllow {
            patterns: list
                .iter()
                .map(|p| {
                    let re = regex::Regex::new(&format!("^{}$", literal_dots(p))).ok();
                    (p.clone(), re)
                })
                .collect(),
        }
    }

    /// Patterns that are not valid regular expressions (they never match).
    pub fn invalid(&self) -> Vec<&str> {
        self.patterns
            .iter()
            .filter(|(_, re)| re.is_none())
            .map(|(p, _)| p.as_str())
            .collect()
    }

    /// Whether a client at `ip` may talk to the server.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let text = canonical_ip(ip).to_string();
        self.patterns
            .iter()
            .any(|(_, re)| re.as_ref().is_some_and(|re| re.is_match(&text)))
    }
}

/// mon's rewrite `s/([^[\\])\./$1\\./g`: each match consumes the character before the dot,
/// so in `a..b` only the first dot becomes literal, and a leading dot stays a wildcard.
fn literal_dots(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    while i < c.len() {
        if i + 1 < c.len() && c[i] != '[' && c[i] != '\\' && c[i + 1] == '.' {
            out.push(c[i]);
            out.push_str("\\.");
            i += 2;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// IPv4-mapped IPv6 addresses as IPv4, so patterns and `trustlocal` see dotted quads.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Bind the client port: `serverbind` (a name or address; IPv4 preferred, as mon uses
/// IPv4 only) or every IPv4 address.
pub async fn bind(serverbind: Option<&str>, port: u16) -> io::Result<TcpListener> {
    let addr = match serverbind {
        None => SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
        Some(host) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
            addrs
                .iter()
                .find(|a| a.is_ipv4())
                .or(addrs.first())
                .copied()
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("serverbind {host}: no address"),
                    )
                })?
        }
    };
    TcpListener::bind(addr).await
}

/// The soft limit on open files (1024 when it cannot be read).
fn fd_soft_limit() -> usize {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| usize::try_from(soft).unwrap_or(usize::MAX))
        .unwrap_or(1024)
}

/// Raise the soft limit on open files to the hard limit (each client holds one
/// descriptor; the common default soft limit of 1024 is too low for 1000 clients).
/// Returns the soft limit in force afterwards.
pub fn raise_fd_limit() -> io::Result<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(io::Error::from)?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard).map_err(io::Error::from)?;
        return Ok(hard);
    }
    Ok(soft)
}

/// The connection cap actually used: the configured one, but never more than three
/// quarters of the fd limit, so monitors, alerts and logs keep descriptors.
pub fn effective_max_clients(configured: usize) -> usize {
    configured.min(fd_soft_limit() * 3 / 4).max(1)
}

/// Serve clients on `listener` until `shutdown` resolves; then stop accepting, let each
/// connection finish the request it is handling, and return.
pub async fn serve<B: Backend>(
    listener: TcpListener,
    backend: Arc<B>,
    opts: ServerOptions,
    shutdown: impl Future<Output = ()>,
) {
    let max = effective_max_clients(opts.max_clients);
    let slots = Arc::new(Semaphore::new(max));
    let opts = Arc::new(opts);
    let tracker = TaskTracker::new();
    let cancel = CancellationToken::new();
    tokio::pin!(shutdown);
    let mut refused_total: u64 = 0;
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE/ENFILE and friends: back off instead of spinning; the pending
                // connections wait in the listen backlog.
                tracing::error!("accept returned error: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = canonical_ip(peer.ip());
        tracing::info!("client connection from {ip}:{}", peer.port());
        if !opts.clientallow.allows(ip) {
            tracing::warn!("closing unwanted client: {ip}");
            drop(stream);
            continue;
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            refused_total += 1;
            if refused_total.is_power_of_two() {
                tracing::warn!(
                    "refusing client {ip}: {max} connections open ({refused_total} refused so far)"
                );
            }
            // Tell the client why instead of leaving it hanging; it reads this as the
            // status line of its first request.
            let _ = stream.try_write(b"520 too many connections\n");
            drop(stream);
            continue;
        };
        let backend = backend.clone();
        let opts = opts.clone();
        let cancel = cancel.clone();
        tracker.spawn(async move {
            connection(stream, peer, ip, &*backend, &opts, cancel).await;
            drop(permit);
        });
    }
    cancel.cancel();
    tracker.close();
    // Connections finish their current request; a stuck write is bounded by cltimeout.
    let _ = tokio::time::timeout(opts.cltimeout + Duration::from_secs(1), tracker.wait()).await;
}

async fn connection<B: Backend>(
    stream: TcpStream,
    peer: SocketAddr,
    ip: IpAddr,
    backend: &B,
    opts: &ServerOptions,
    cancel: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut sess = Session::new(SocketAddr::new(ip, peer.port()));
    let mut framer = LineFramer::new(opts.max_line);
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::new();
    let fd = format!("{ip}:{}", peer.port());
    loop {
        let read = tokio::select! {
            _ = cancel.cancelled() => break,
            r = tokio::time::timeout(opts.cltimeout, rd.read(&mut buf)) => r,
        };
        let n = match read {
            Err(_) => {
                tracing::info!(
                    "closing client {fd}: timeout after {}s",
                    opts.cltimeout.as_secs()
                );
                break;
            }
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                tracing::info!("closing client {fd}: read error: {e}");
                break;
            }
        };
        framer.push(&buf[..n]);
        let mut flow = Flow::Continue;
        while let Some(frame) = framer.next_frame() {
            match frame {
                Frame::TooLong => {
                    tracing::warn!(
                        "closing client {fd}: request longer than {} bytes",
                        opts.max_line
                    );
                    reply::line(&mut out, reply::LINE_TOO_LONG);
                    flow = Flow::Close;
                }
                Frame::Line(l) => {
                    flow = session::handle(&mut sess, backend, &l, &mut out, &opts.tz).await;
                }
            }
            if flow != Flow::Continue {
                break;
            }
            if out.len() >= FLUSH_AT && !write_out(&mut wr, &mut out, opts, &fd).await {
                return;
            }
        }
        if !write_out(&mut wr, &mut out, opts, &fd).await {
            return;
        }
        match flow {
            Flow::Continue => {}
            Flow::Close => break,
            Flow::Terminate => {
                let _ = wr.shutdown().await;
                tracing::info!("terminating by user command");
                backend.apply(Op::Term).await;
                return;
            }
        }
    }
    let _ = wr.shutdown().await;
}

/// Write and clear `out`; false when the client is gone or does not read within cltimeout.
async fn write_out(
    wr: &mut tokio::net::tcp::OwnedWriteHalf,
    out: &mut Vec<u8>,
    opts: &ServerOptions,
    fd: &str,
) -> bool {
    if out.is_empty() {
        return true;
    }
    let r = tokio::time::timeout(opts.cltimeout, wr.write_all(out)).await;
    out.clear();
    match r {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::info!("closing client {fd}: write error: {e}");
            false
        }
        Err(_) => {
            tracing::info!("closing client {fd}: not reading replies");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clientallow_rewrite_like_mon() {
        assert_eq!(literal_dots(r"\d+.\d+.\d+.\d+"), r"\d+\.\d+\.\d+\.\d+");
        assert_eq!(literal_dots("10.1.2.3"), r"10\.1\.2\.3");
        // Checked with perl: the `.` after an escaped dot is preceded by `.`, so mon makes it
        // literal too and `192\.168\..*` ends up matching no address at all.
        assert_eq!(literal_dots(r"192\.168\..*"), r"192\.168\.\.*");
        assert_eq!(literal_dots("a..b"), r"a\..b");
        assert_eq!(literal_dots("..."), r".\..");
        assert_eq!(literal_dots(".x"), ".x");
        assert_eq!(literal_dots("[.]"), "[.]");
    }

    #[test]
    fn clientallow_matches_whole_address() {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(ClientAllow::new(&[]).allows(lo));
        // transcript 13: `clientallow = 10.1.2.3 192\.168\..*` refuses 127.0.0.1
        let a = ClientAllow::new(&["10.1.2.3".into(), r"192\.168\..*".into()]);
        assert!(!a.allows(lo));
        let ip = |s: &str| s.parse::<IpAddr>().expect("test address");
        // As in mon (see the rewrite test): this pattern refuses every 192.168 address.
        assert!(!a.allows(ip("192.168.7.9")));
        assert!(ClientAllow::new(&[r"192.168.\d+.\d+".into()]).allows(ip("192.168.7.9")));
        assert!(a.allows(ip("10.1.2.3")));
        assert!(!a.allows(ip("10.1.2.33")));
        assert!(!a.allows(ip("10.11.2.3")));
        let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
        assert!(ClientAllow::new(&["127.0.0.1".into()]).allows(mapped));
        let bad = ClientAllow::new(&["(".into()]);
        assert_eq!(bad.invalid(), vec!["("]);
        assert!(!bad.allows(lo));
    }
}
