//! `login USER PASS`: the `authtype` methods of protocol.md §3.2, tried in order.
//!
//! Every check is blocking (files, crypt, PAM); the server runs `login` on a blocking thread.

use std::net::IpAddr;
use std::path::PathBuf;

use super::sys;

/// The login settings from mon.cf (`authtype`, `userfile`, `pamservice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginMethods {
    /// Method names in order (`getpwnam`, `shadow`, `userfile`, `pam`, `trustlocal`).
    pub authtype: Vec<String>,
    /// The resolved `userfile` path (mon's default: `monusers.cf` in cfbasedir).
    pub userfile: PathBuf,
    /// The PAM service name (default `passwd`).
    pub pamservice: String,
}

impl Default for LoginMethods {
    fn default() -> Self {
        LoginMethods {
            authtype: vec!["getpwnam".to_string()],
            userfile: PathBuf::from("/etc/mon/monusers.cf"),
            pamservice: "passwd".to_string(),
        }
    }
}

/// What one login attempt found; `notes` are the messages mon would log on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginResult {
    /// The method that accepted the login, if any.
    pub accepted_by: Option<String>,
    pub notes: Vec<String>,
}

impl LoginResult {
    pub fn ok(&self) -> bool {
        self.accepted_by.is_some()
    }
}

/// Try each method in order; the first that accepts wins.
pub fn login(methods: &LoginMethods, user: &str, pass: &[u8], peer: IpAddr) -> LoginResult {
    let mut notes = Vec::new();
    for m in &methods.authtype {
        if user.is_empty() || (m != "trustlocal" && pass.is_empty()) {
            notes.push("an undef username or password supplied".to_string());
            continue;
        }
        let ok = match m.as_str() {
            "getpwnam" => check_getpwnam(user, pass),
            // mon 1.3.6 accepts `shadow` in mon.cf but never implemented it: it refuses
            // everyone. monrs keeps that, so a drop-in never grants more than mon did;
            // `getpwnam` already reads the shadow file when the daemon runs as root.
            "shadow" => {
                notes.push(
                    "authtype 'shadow' always fails (as in mon); use 'getpwnam', which reads /etc/shadow when running as root".to_string(),
                );
                false
            }
            "userfile" => check_userfile(&methods.userfile, user, pass, &mut notes),
            "pam" => check_pam(&methods.pamservice, user, pass, &mut notes),
            "trustlocal" => is_localhost(peer),
            other => {
                notes.push(format!("authentication type '{other}' not known"));
                false
            }
        };
        if ok {
            return LoginResult {
                accepted_by: Some(m.clone()),
                notes,
            };
        }
    }
    LoginResult {
        accepted_by: None,
        notes,
    }
}

/// mon's `crypt(PASS, HASH) eq HASH`; an empty or unusable hash never matches.
pub fn hash_matches(pass: &[u8], hash: &[u8]) -> bool {
    if hash.is_empty() {
        return false;
    }
    match sys::crypt(pass, hash) {
        Some(h) => {
            h.len() == hash.len() && h.iter().zip(hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        }
        None => false,
    }
}

/// `getpwnam`: the password field Perl's `getpwnam` returns, which is the shadow hash when
/// the process may read /etc/shadow (root) and the passwd field (`x`) otherwise.
fn check_getpwnam(user: &str, pass: &[u8]) -> bool {
    let hash = match sys::shadow_hash(user) {
        Some(h) => h,
        None => match nix::unistd::User::from_name(user) {
            Ok(Some(u)) => u.passwd.into_bytes(),
            _ => return false,
        },
    };
    hash_matches(pass, &hash)
}

/// `userfile`: `USER : HASH` lines, read on every login; the last line for a user wins.
fn check_userfile(
    path: &std::path::Path,
    user: &str,
    pass: &[u8],
    notes: &mut Vec<String>,
) -> bool {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) => {
            notes.push(format!(
                "could not open user file '{}': {e}",
                path.display()
            ));
            return false;
        }
    };
    match userfile_hash(&text, user) {
        Some(hash) => {
            if hash_matches(pass, &hash) {
                true
            } else {
                notes.push(format!("User '{user}' gave bad password"));
                false
            }
        }
        None => {
            notes.push(format!("User '{user}' not in file '{}'", path.display()));
            false
        }
    }
}

/// The hash for `user` in userfile text: split at the first `:`, blanks around it ignored.
/// Unlike mon, blanks at the ends of a line are ignored too (mon keeps them in the name or
/// the hash, so such a line can never match; a CRLF file would lock everyone out).
pub fn userfile_hash(text: &[u8], user: &str) -> Option<Vec<u8>> {
    let ws = |b: &u8| crate::config::words::is_perl_space(*b as char);
    let mut found = None;
    for raw in text.split(|&b| b == b'\n') {
        let start = raw.iter().position(|b| !ws(b)).unwrap_or(raw.len());
        let end = raw.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
        let l = &raw[start..end.max(start)];
        if l.is_empty() || l[0] == b'#' {
            continue;
        }
        let (name, hash) = match l.iter().position(|&b| b == b':') {
            Some(i) => (&l[..i], &l[i + 1..]),
            None => (l, &l[l.len()..]),
        };
        let name_end = name.iter().rposition(|b| !ws(b)).map_or(0, |i| i + 1);
        let hash_start = hash.iter().position(|b| !ws(b)).unwrap_or(hash.len());
        if &name[..name_end] == user.as_bytes() {
            found = Some(hash[hash_start..].to_vec());
        }
    }
    found
}

/// `trustlocal`: the peer is 127.0.0.1 (IPv4, or IPv4-mapped IPv6).
fn is_localhost(peer: IpAddr) -> bool {
    match peer {
        IpAddr::V4(v4) => v4 == std::net::Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => v6.to_ipv4_mapped() == Some(std::net::Ipv4Addr::LOCALHOST),
    }
}

#[cfg(feature = "pam")]
fn check_pam(service: &str, user: &str, pass: &[u8], notes: &mut Vec<String>) -> bool {
    match super::pam::authenticate(service, user, pass) {
        Ok(()) => true,
        Err(e) => {
            notes.push(format!("PAM authentication of '{user}' failed: {e}"));
            false
        }
    }
}

#[cfg(not(feature = "pam"))]
fn check_pam(_service: &str, _user: &str, _pass: &[u8], notes: &mut Vec<String>) -> bool {
    notes.push("authtype 'pam' needs monrs built with the `pam` feature".to_string());
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LAB_USERS: &[u8] = include_bytes!("../../tests/fixtures/transcripts/files/monusers.cf");

    fn lab_methods(dir: &std::path::Path, authtype: &[&str]) -> std::io::Result<LoginMethods> {
        let path = dir.join("monusers.cf");
        std::fs::write(&path, LAB_USERS)?;
        Ok(LoginMethods {
            authtype: authtype.iter().map(|s| s.to_string()).collect(),
            userfile: path,
            pamservice: "passwd".into(),
        })
    }

    #[test]
    fn userfile_logins_from_transcript_02() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let m = lab_methods(dir.path(), &["userfile"])?;
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(login(&m, "admin", b"adminpw", lo).ok());
        assert!(!login(&m, "admin", b"wrongpw", lo).ok());
        assert!(login(&m, "bob", b"bobpw", lo).ok());
        assert!(!login(&m, "bob", b"bobpw extra words", lo).ok());
        assert!(login(&m, "sha", b"x", lo).ok());
        assert!(login(&m, "eve", b"bobpw", lo).ok());
        let r = login(&m, "nosuchuser", b"pw", lo);
        assert!(!r.ok());
        assert!(r.notes[0].starts_with("User 'nosuchuser' not in file"));
        let r = login(&m, "admin", b"", lo);
        assert_eq!(
            r.notes,
            vec!["an undef username or password supplied".to_string()]
        );
        Ok(())
    }

    #[test]
    fn trustlocal_shadow_and_unknown_methods() {
        // transcript 13: authtype = shadow getpwnam trustlocal
        let m = LoginMethods {
            authtype: vec!["shadow".into(), "getpwnam".into(), "trustlocal".into()],
            ..LoginMethods::default()
        };
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(!login(&m, "", b"", lo).ok());
        assert_eq!(
            login(&m, "anyone", b"", lo).accepted_by.as_deref(),
            Some("trustlocal")
        );
        assert!(login(&m, "other", b"whatever pw", lo).ok());
        assert!(!login(&m, "other", b"pw", IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))).ok());
        let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
        assert!(login(&m, "other", b"pw", mapped).ok());
        let bogus = LoginMethods {
            authtype: vec!["kerberos".into()],
            ..LoginMethods::default()
        };
        let r = login(&bogus, "u", b"p", lo);
        assert_eq!(
            r.notes,
            vec!["authentication type 'kerberos' not known".to_string()]
        );
    }

    #[test]
    fn getpwnam_refuses_locked_and_unknown_accounts() {
        // root's hash on this kind of machine is `*` (locked): nothing matches it.
        assert!(!check_getpwnam("root", b"*"));
        assert!(!check_getpwnam("no-such-user-monrs", b"pw"));
    }

    #[test]
    fn userfile_parsing_rules() {
        let text = b"# comment\n  \nadmin : abc \r\nbob:def:ghi\nnocolon\nadmin:second\n";
        assert_eq!(userfile_hash(text, "admin"), Some(b"second".to_vec()));
        assert_eq!(userfile_hash(text, "bob"), Some(b"def:ghi".to_vec()));
        assert_eq!(userfile_hash(text, "nocolon"), Some(Vec::new()));
        assert_eq!(userfile_hash(text, "carol"), None);
    }

    #[test]
    fn hash_formats_debian_writes() {
        // Generated once with `mkpasswd -m des|md5crypt|sha256crypt|sha512crypt|bcrypt|
        // yescrypt monrs-pw` (whois 5.5.17) and `openssl passwd -1|-5|-6|-apr1 monrs-pw`;
        // `$apr1$` (Apache MD5) is not a crypt(3) format and never matches, as in mon.
        for h in HASHES {
            assert!(hash_matches(b"monrs-pw", h.as_bytes()), "{h}");
            assert!(!hash_matches(b"monrs-pX", h.as_bytes()), "{h}");
        }
        assert!(!hash_matches(b"monrs-pw", APR1.as_bytes()));
        assert!(!hash_matches(b"", b""));
    }

    /// Manual check against a real system account (it needs root and a user created for
    /// it, so it does not run by default):
    /// `MONRS_PROBE_USER=u MONRS_PROBE_PASS=p [MONRS_PROBE_PAM=login] cargo test [--features pam]
    /// --lib probe_system_account -- --ignored`.
    #[test]
    #[ignore]
    fn probe_system_account() {
        let user = std::env::var("MONRS_PROBE_USER").expect("MONRS_PROBE_USER");
        let pass = std::env::var("MONRS_PROBE_PASS").expect("MONRS_PROBE_PASS");
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut m = LoginMethods {
            authtype: vec!["getpwnam".into()],
            ..LoginMethods::default()
        };
        assert!(
            login(&m, &user, pass.as_bytes(), lo).ok(),
            "getpwnam accepts"
        );
        assert!(!login(&m, &user, b"wrong", lo).ok(), "getpwnam refuses");
        if let Ok(service) = std::env::var("MONRS_PROBE_PAM") {
            m.authtype = vec!["pam".into()];
            m.pamservice = service;
            let r = login(&m, &user, pass.as_bytes(), lo);
            assert!(r.ok(), "pam accepts: {:?}", r.notes);
            assert!(!login(&m, &user, b"wrong", lo).ok(), "pam refuses");
        }
    }

    const HASHES: &[&str] = &[
        "Opq31b08VfA/6",
        "$1$ip8e6ddY$xIyvPRhCsuKQuHke6MTau0",
        "$5$flKZpramIkrY4AF5$laRL1PCJsTDm2saJo9W7nqYa4XPwuCLh75AGuvjYEqA",
        "$6$tG4Ll5DX0E4f6La6$DXSQaKVA1gOlp5UAgqhixQsJIQH/u46BtadLh1tzLpEsHaOvZjOj05T20N71jwtTdmmSF5seH.c7s4wYHSPeL1",
        "$2b$05$aO2y55MGJMO6EtiOwVLCT.ZoNWKb0Ft19KhwxWdcwy9.I7JjqbeXm",
        "$y$j9T$qoT4EJxbZnYM61cNLn5ht0$89Ekipa13rT5nX.z5gjwgJHpkAeBo9P4waAld/SKni6",
        "$1$W9Fp2dHW$ae.GFqvSEP5z0EQFryQ0s0",
        "$5$4PB0Q5Aow4a.H5N2$FK6coDTwjqvnKK7Gtln06YSW0szyeVrtuxL2Lnlo16/",
        "$6$UcmQ3RgATPg4Tf2m$6.CTRnFL1u/UQECC.cWPNM55xV0U0D9ILPF6.5VDS0C8X/AEEq5zjYV7aNBSP00buY8pS5JV83WLehSAg4aTL/",
    ];
    const APR1: &str = "$apr1$JyjgT5pi$fedZjceczX.Wp/FmdPd6E.";
}
