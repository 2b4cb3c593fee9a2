//! Reading auth.cf (protocol.md §3.3, traps.md §3): the command section (who may run which
//! command) and the trap section (who may send traps), with mon's line rules.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::path::{Path, PathBuf};

/// Whether a file is read at startup (a bad command line is fatal) or by `reload auth`
/// (a bad line is only logged and skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    Startup,
    Reload,
}

/// Why auth.cf could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFileError {
    /// mon: `could not open FILE: REASON`.
    #[error("could not open {}: {reason}", path.display())]
    Open { path: PathBuf, reason: String },
    /// mon: `could not parse line N of auth file` (fatal at startup only).
    #[error("{}:{line}: could not parse line {line} of auth file (a command line needs `COMMAND: USER[, USER...]`)", path.display())]
    Parse { path: PathBuf, line: u32 },
}

/// The tables read from one auth.cf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthTable {
    /// Command (lower case) → entries that allow it (`all`, `AUTH_ANY` or user names).
    pub allow: BTreeMap<String, BTreeSet<String>>,
    /// Command (lower case) → names listed as `!NAME` (`AUTH_ANY` denies every user).
    pub deny: BTreeMap<String, BTreeSet<String>>,
    /// Trap section: host key (`*` or a dotted quad) → user (`*` = anyone) → crypt hash.
    pub traps: BTreeMap<String, BTreeMap<String, String>>,
}

/// A line mon would only log, kept for the caller's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: u32,
    pub message: String,
}

/// Read auth.cf from `path`.
pub fn load(path: &Path, mode: LoadMode) -> Result<(AuthTable, Vec<Skipped>), AuthFileError> {
    let text = std::fs::read(path).map_err(|e| AuthFileError::Open {
        path: path.to_path_buf(),
        reason: io_reason(&e),
    })?;
    parse(&String::from_utf8_lossy(&text), path, mode)
}

/// The C library's text for an I/O error, as Perl's `$!` prints it.
fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    // std appends " (os error N)"; Perl's `$!` does not.
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Parse auth.cf text (`path` only names the file in messages).
pub fn parse(
    text: &str,
    path: &Path,
    mode: LoadMode,
) -> Result<(AuthTable, Vec<Skipped>), AuthFileError> {
    let mut t = AuthTable::default();
    let mut skipped = Vec::new();
    let mut trap_section = false;
    let perl_ws = |c: char| crate::config::words::is_perl_space(c);
    for (idx, raw) in text.split('\n').enumerate() {
        let line_no = idx as u32 + 1;
        let l = raw.trim_matches(perl_ws);
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(rest) = l.strip_prefix("command")
            && rest.starts_with(perl_ws)
            && rest.trim_start_matches(perl_ws).starts_with("section")
        {
            trap_section = false;
            continue;
        }
        if let Some(rest) = l.strip_prefix("trap")
            && rest.starts_with(perl_ws)
            && rest.trim_start_matches(perl_ws).starts_with("section")
        {
            trap_section = true;
            continue;
        }
        if trap_section {
            parse_trap_line(&mut t, l, line_no, &mut skipped);
            continue;
        }
        let Some((cmd, users)) = l.split_once(':') else {
            match mode {
                LoadMode::Startup => {
                    return Err(AuthFileError::Parse {
                        path: path.to_path_buf(),
                        line: line_no,
                    });
                }
                LoadMode::Reload => {
                    skipped.push(Skipped {
                        line: line_no,
                        message: format!("could not parse line {line_no} of auth file"),
                    });
                    continue;
                }
            }
        };
        let cmd = cmd.trim_end_matches(perl_ws).to_lowercase();
        let users = users.trim_start_matches(perl_ws);
        let mut entries: Vec<&str> = users.split(',').map(|u| u.trim_matches(perl_ws)).collect();
        // Perl's split drops trailing empty fields.
        while entries.last().is_some_and(|u| u.is_empty()) {
            entries.pop();
        }
        for u in entries {
            if let Some(name) = u.strip_prefix('!') {
                t.deny
                    .entry(cmd.clone())
                    .or_default()
                    .insert(name.to_string());
            } else {
                t.allow
                    .entry(cmd.clone())
                    .or_default()
                    .insert(u.to_string());
            }
        }
    }
    Ok((t, skipped))
}

fn parse_trap_line(t: &mut AuthTable, l: &str, line_no: u32, skipped: &mut Vec<Skipped>) {
    let fields: Vec<&str> = l
        .split(|c: char| crate::config::words::is_perl_space(c))
        .filter(|f| !f.is_empty())
        .collect();
    let [host, user, pass] = fields[..] else {
        skipped.push(Skipped {
            line: line_no,
            message: format!("invalid entry in trap sect of auth file, line {line_no}"),
        });
        return;
    };
    let key = if host == "*" {
        "*".to_string()
    } else {
        match resolve_trap_host(host) {
            Some(ip) => ip.to_string(),
            None => {
                skipped.push(Skipped {
                    line: line_no,
                    message: format!("invalid host in auth file, line {line_no}"),
                });
                return;
            }
        }
    };
    t.traps
        .entry(key)
        .or_default()
        .insert(user.to_string(), pass.to_string());
}

/// A trap-section host as mon takes it: a dotted quad, or a name resolved once to its first
/// IPv4 address. Other shapes are rejected.
fn resolve_trap_host(host: &str) -> Option<Ipv4Addr> {
    let quad = host.split('.').count() == 4
        && host
            .split('.')
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    if quad {
        return host.parse().ok();
    }
    let b = host.as_bytes();
    let name_ok = b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'['));
    if !name_ok {
        return None;
    }
    (host, 0u16)
        .to_socket_addrs()
        .ok()?
        .find_map(|a| match a.ip() {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = include_str!("../../tests/fixtures/transcripts/files/auth.cf");

    #[test]
    fn lab_file() -> Result<(), AuthFileError> {
        let (t, skipped) = parse(LAB, Path::new("auth.cf"), LoadMode::Startup)?;
        assert!(skipped.is_empty());
        assert!(t.allow["list"].contains("all"));
        assert!(t.allow["disable"].contains("AUTH_ANY"));
        assert!(t.deny["disable"].contains("eve"));
        assert_eq!(
            t.allow["stop"]
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            vec!["admin", "bob"]
        );
        assert_eq!(t.traps["127.0.0.1"]["trapuser"], "efqZQsz2CINrw");
        Ok(())
    }

    #[test]
    fn section_switches_and_case() -> Result<(), AuthFileError> {
        let text = "  # c\n\nLIST : alice ,  bob,\ntrap   section\n* * *\n10.0.0.1 u\nbad!host u p\ncommand section\nlist: carol\n";
        let (t, skipped) = parse(text, Path::new("a.cf"), LoadMode::Startup)?;
        assert_eq!(
            t.allow["list"]
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            vec!["alice", "bob", "carol"]
        );
        assert_eq!(t.traps["*"]["*"], "*");
        assert_eq!(skipped.len(), 2);
        assert_eq!(skipped[0].line, 6);
        Ok(())
    }

    #[test]
    fn missing_colon_is_fatal_only_at_startup() {
        let text = "list: all\nreset admin\n";
        assert_eq!(
            parse(text, Path::new("a.cf"), LoadMode::Startup),
            Err(AuthFileError::Parse {
                path: PathBuf::from("a.cf"),
                line: 2
            })
        );
        let ok = parse(text, Path::new("a.cf"), LoadMode::Reload);
        assert!(matches!(ok, Ok((_, ref s)) if s.len() == 1 && s[0].line == 2));
    }

    #[test]
    fn missing_file_reason() {
        let e = load(Path::new("/nonexistent/monrs/auth.cf"), LoadMode::Startup);
        assert_eq!(
            e.map(|_| ()).map_err(|e| e.to_string()),
            Err("could not open /nonexistent/monrs/auth.cf: No such file or directory".to_string())
        );
    }

    #[test]
    fn trap_hosts_resolve() {
        assert_eq!(resolve_trap_host("127.0.0.1"), Some(Ipv4Addr::LOCALHOST));
        assert_eq!(resolve_trap_host("localhost"), Some(Ipv4Addr::LOCALHOST));
        assert_eq!(resolve_trap_host("999.1.1.1"), None);
        assert_eq!(resolve_trap_host("-bad"), None);
    }
}
