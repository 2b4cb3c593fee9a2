//! auth.cf: who may run which command, trap authentication, and login methods.
//!
//! `file` reads auth.cf, `login` checks `login USER PASS` against the `authtype` methods,
//! `sys` holds the crate's only FFI (crypt(3), getspnam_r). Decisions are pure functions.

pub mod file;
pub mod login;
#[cfg(feature = "pam")]
mod pam;
pub mod sys;

use std::fmt;
use std::net::Ipv4Addr;

pub use file::{AuthFileError, AuthTable, LoadMode};
pub use login::LoginMethods;

/// What a client session consults: the auth.cf tables and mon.cf's login settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    pub table: AuthTable,
    pub login: LoginMethods,
}

/// The outcome of checking one command for one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// The user is listed as `!USER` (or `!AUTH_ANY`) for the command.
    Denied {
        user: String,
        command: String,
    },
    /// Nothing grants the command to this session.
    NotAuthenticated {
        user: Option<String>,
        command: String,
    },
}

impl Decision {
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allowed)
    }
}

impl fmt::Display for Decision {
    /// mon's syslog text for a refusal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allowed => f.write_str("allowed"),
            Decision::Denied { user, command } => {
                write!(f, "user '{user}' tried '{command}', denied")
            }
            Decision::NotAuthenticated { user, command } => write!(
                f,
                "user '{}' tried '{command}', not authenticated",
                user.as_deref().unwrap_or("")
            ),
        }
    }
}

impl AuthTable {
    /// mon's `check_auth` (protocol.md §3.3): denials first (they only hit logged-in users),
    /// then `all`, then `AUTH_ANY` and the user's own name for logged-in users.
    pub fn check(&self, user: Option<&str>, command: &str) -> Decision {
        let listed =
            |map: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
             who: &str| map.get(command).is_some_and(|s| s.contains(who));
        if let Some(u) = user
            && (listed(&self.deny, u) || listed(&self.deny, "AUTH_ANY"))
        {
            return Decision::Denied {
                user: u.to_string(),
                command: command.to_string(),
            };
        }
        if listed(&self.allow, "all") {
            return Decision::Allowed;
        }
        if let Some(u) = user
            && (listed(&self.allow, "AUTH_ANY") || listed(&self.allow, u))
        {
            return Decision::Allowed;
        }
        Decision::NotAuthenticated {
            user: user.map(str::to_string),
            command: command.to_string(),
        }
    }

    /// Trap authentication (traps.md §3) of a trap from `from` carrying `usr`/`pas`.
    pub fn check_trap(
        &self,
        from: Ipv4Addr,
        usr: Option<&str>,
        pas: Option<&[u8]>,
    ) -> Result<(), TrapAuthError> {
        let host_key = if self.traps.contains_key("*") {
            "*".to_string()
        } else {
            from.to_string()
        };
        let Some(users) = self.traps.get(&host_key) else {
            return Err(TrapAuthError::UnauthorizedHost { from });
        };
        if users.contains_key("*") {
            return Ok(());
        }
        let user = usr.unwrap_or("");
        let Some(hash) = users.get(user) else {
            return Err(TrapAuthError::UnknownUser {
                user: user.to_string(),
                host: host_key,
            });
        };
        if login::hash_matches(pas.unwrap_or(b""), hash.as_bytes()) {
            Ok(())
        } else {
            Err(TrapAuthError::BadPassword {
                user: user.to_string(),
                host: host_key,
            })
        }
    }
}

/// Why a trap was refused by auth.cf; `Display` gives mon's syslog text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrapAuthError {
    #[error("received trap from unauthorized host: {from}")]
    UnauthorizedHost { from: Ipv4Addr },
    #[error("received trap from unknown user {user}, host {host}")]
    UnknownUser { user: String, host: String },
    #[error("received trap with bad password from user {user}, host {host}")]
    BadPassword { user: String, host: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lab() -> AuthTable {
        let text = include_str!("../../tests/fixtures/transcripts/files/auth.cf");
        file::parse(text, Path::new("auth.cf"), LoadMode::Startup)
            .map(|(t, _)| t)
            .unwrap_or_default()
    }

    #[test]
    fn decisions_match_transcript_02() {
        let t = lab();
        assert!(t.check(None, "list").allowed());
        assert!(!t.check(None, "servertime").allowed());
        assert!(t.check(Some("admin"), "servertime").allowed());
        assert!(t.check(Some("admin"), "reset").allowed());
        assert!(!t.check(Some("bob"), "reset").allowed());
        assert!(t.check(Some("bob"), "stop").allowed());
        assert_eq!(
            t.check(Some("eve"), "disable"),
            Decision::Denied {
                user: "eve".into(),
                command: "disable".into()
            }
        );
        assert!(t.check(Some("eve"), "enable").allowed());
        assert!(!t.check(Some("admin"), "LIST").allowed());
        assert!(!t.check(Some("admin"), "").allowed());
        assert!(!t.check(Some("admin"), "bogus").allowed());
        assert_eq!(
            t.check(Some("bob"), "reset").to_string(),
            "user 'bob' tried 'reset', not authenticated"
        );
    }

    #[test]
    fn denials_only_hit_logged_in_users() -> Result<(), AuthFileError> {
        let (t, _) = file::parse(
            "list: all, !eve\nstop: AUTH_ANY, !AUTH_ANY\n",
            Path::new("a"),
            LoadMode::Startup,
        )?;
        assert!(t.check(None, "list").allowed());
        assert!(!t.check(Some("eve"), "list").allowed());
        assert!(t.check(Some("bob"), "list").allowed());
        assert!(!t.check(Some("bob"), "stop").allowed());
        Ok(())
    }

    #[test]
    fn trap_rules() -> Result<(), AuthFileError> {
        let t = lab();
        let lo = Ipv4Addr::LOCALHOST;
        assert_eq!(t.check_trap(lo, Some("trapuser"), Some(b"trappw")), Ok(()));
        assert_eq!(
            t.check_trap(lo, Some("trapuser"), Some(b"wrongpw")),
            Err(TrapAuthError::BadPassword {
                user: "trapuser".into(),
                host: "127.0.0.1".into()
            })
        );
        assert!(matches!(
            t.check_trap(lo, None, None),
            Err(TrapAuthError::UnknownUser { .. })
        ));
        assert_eq!(
            t.check_trap(
                Ipv4Addr::new(10, 0, 0, 1),
                Some("trapuser"),
                Some(b"trappw")
            )
            .map_err(|e| e.to_string()),
            Err("received trap from unauthorized host: 10.0.0.1".to_string())
        );
        let (star, _) = file::parse(
            "trap section\n* * *\n127.0.0.1 nobody xx\n",
            Path::new("a"),
            LoadMode::Startup,
        )?;
        assert_eq!(
            star.check_trap(Ipv4Addr::new(10, 9, 8, 7), None, None),
            Ok(())
        );
        let empty = AuthTable::default();
        assert!(empty.check_trap(lo, Some("u"), Some(b"p")).is_err());
        Ok(())
    }
}
