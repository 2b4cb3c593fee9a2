//! The slice of Perl's run-time behaviour the stock scripts expose on their output:
//! string-to-number conversion and its warnings, `inet_aton`, `getservbyname`, strerror.
//!
//! Everything here was checked against Debian 12's perl 5.36 (see the unit tests, whose
//! expected values were printed by `perl -we ...` on that system).

use std::net::Ipv4Addr;

/// A Perl scalar's numeric value after conversion from a string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An integer that fits Perl's IV (negative) or UV (non-negative).
    Int(i128),
    /// Anything else (fractions, exponents, huge integers, inf, nan, non-numeric prefixes).
    Float(f64),
}

/// Perl's `\s` for bytes: space, TAB, LF, VT, FF, CR.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// Convert a string the way Perl numifies it. The flag says whether Perl considers the whole
/// string a number; when it does not, Perl warns `Argument "..." isn't numeric` (once per
/// variable) and uses the longest numeric prefix (0 when there is none).
pub fn numify(s: &[u8]) -> (Num, bool) {
    if s == b"0 but true" {
        return (Num::Int(0), true);
    }
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let num_start = i;
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    // inf / infinity / nan, case-insensitive.
    let rest = &s[i..];
    let lower: Vec<u8> = rest.iter().take(8).map(u8::to_ascii_lowercase).collect();
    for (word, val) in [
        (&b"infinity"[..], f64::INFINITY),
        (&b"inf"[..], f64::INFINITY),
        (&b"nan"[..], f64::NAN),
    ] {
        if lower.starts_with(word) {
            let end = i + word.len();
            let v = if neg { -val } else { val };
            let numeric = s[end..].iter().all(|&b| is_space(b));
            return (Num::Float(v), numeric);
        }
    }
    let int_start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    let mut is_float = false;
    if s.get(i) == Some(&b'.') {
        let mut j = i + 1;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        frac_digits = j - i - 1;
        if int_digits + frac_digits > 0 {
            i = j;
            is_float = true;
        }
    }
    if int_digits + frac_digits == 0 {
        return (Num::Int(0), false);
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_start = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
            is_float = true;
        }
    }
    let num_end = i;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let numeric = i == s.len();
    let text = String::from_utf8_lossy(&s[num_start..num_end]);
    if !is_float {
        let digits = &s[int_start..int_start + int_digits];
        let mut v: i128 = 0;
        let mut overflow = false;
        for &d in digits {
            v = v * 10 + i128::from(d - b'0');
            if v > i128::from(u64::MAX) {
                overflow = true;
                break;
            }
        }
        if !overflow {
            let v = if neg { -v } else { v };
            if v >= i128::from(i64::MIN) {
                return (Num::Int(v), numeric);
            }
        }
    }
    let v = text.parse::<f64>().unwrap_or(0.0);
    (Num::Float(v), numeric)
}

impl Num {
    /// Perl's `SvIV` (`cast_iv` for floats).
    pub fn iv(self) -> i64 {
        match self {
            Num::Int(v) => v as i64,
            Num::Float(f) => {
                const IV_MAX_P1: f64 = 9_223_372_036_854_775_808.0;
                const UV_MAX_P1: f64 = 18_446_744_073_709_551_616.0;
                if f < IV_MAX_P1 {
                    if f < i64::MIN as f64 {
                        i64::MIN
                    } else {
                        f as i64
                    }
                } else if f < UV_MAX_P1 {
                    (f as u64) as i64
                } else if f > 0.0 {
                    -1
                } else {
                    0
                }
            }
        }
    }

    /// Perl's `SvUV` (`cast_uv` for floats).
    pub fn uv(self) -> u64 {
        match self {
            Num::Int(v) => v as u64,
            Num::Float(f) => {
                const UV_MAX_P1: f64 = 18_446_744_073_709_551_616.0;
                if f < 0.0 {
                    if f < i64::MIN as f64 {
                        i64::MIN as u64
                    } else {
                        (f as i64) as u64
                    }
                } else if f < UV_MAX_P1 {
                    f as u64
                } else if f > 0.0 {
                    u64::MAX
                } else {
                    0
                }
            }
        }
    }
}

/// Perl's truth of a string: false for `""` and `"0"` only.
pub fn is_true(s: Option<&[u8]>) -> bool {
    matches!(s, Some(v) if !v.is_empty() && v != b"0")
}

/// How Perl shows a string inside `Argument "..." isn't numeric` (sv.c `sv_display`):
/// control characters as `^X` or `\n`-style escapes, high bytes as `M-`, at most 56 bytes.
pub fn display(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut k = 0;
    while k < s.len() && out.len() < 56 {
        let mut ch = s[k];
        if !ch.is_ascii() {
            out.extend_from_slice(b"M-");
            ch &= 0x7F;
        }
        match ch {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x0C => out.extend_from_slice(b"\\f"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0 => out.extend_from_slice(b"\\0"),
            0x20..=0x7E => out.push(ch),
            _ => {
                out.push(b'^');
                out.push(ch ^ 64);
            }
        }
        k += 1;
    }
    if k < s.len() {
        out.extend_from_slice(b"...");
    }
    out
}

/// `Argument "S" isn't numeric in OP at FILE line N.\n`
pub fn not_numeric_warning(s: &[u8], op: &str, file: &str, line: u32) -> Vec<u8> {
    let mut w = b"Argument \"".to_vec();
    w.extend_from_slice(&display(s));
    w.extend_from_slice(format!("\" isn't numeric in {op} at {file} line {line}.\n").as_bytes());
    w
}

/// What `alarm EXPR` does with a value: the seconds it arms (None: no alarm) and whether
/// Perl warns `alarm() with negative argument` (pp_alarm casts the IV to a C int).
pub fn alarm_secs(n: Num) -> (Option<u32>, bool) {
    let anum = n.iv() as i32;
    if anum < 0 {
        (None, true)
    } else if anum == 0 {
        (None, false)
    } else {
        (Some(anum as u32), false)
    }
}

/// Where Debian's perl-base keeps Socket.pm (named in Socket's warnings).
pub fn socket_pm_path() -> String {
    let triplet = match std::env::consts::ARCH {
        "x86" => "i386-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        "powerpc64" => "powerpc64le-linux-gnu",
        arch => return format!("/usr/lib/{arch}-linux-gnu/perl-base/Socket.pm"),
    };
    format!("/usr/lib/{triplet}/perl-base/Socket.pm")
}

/// `Socket::pack_sockaddr_in`'s port handling: the 16-bit port, and its warning when the
/// value does not fit (printed on every call).
pub fn pack_port(n: Num) -> (u16, Option<Vec<u8>>) {
    let uv = n.uv();
    let port = (uv & 0xFFFF) as u16;
    if uv > 0xFFFF {
        let w = format!(
            "Port number above 0xFFFF, will be truncated to {port} for Socket::pack_sockaddr_in at {} line 172.\n",
            socket_pm_path()
        );
        (port, Some(w.into_bytes()))
    } else {
        (port, None)
    }
}

/// glibc's `inet_aton` as `getaddrinfo` applies it to numeric hosts (`__inet_aton_exact`):
/// one to four parts, each decimal, octal (`0…`) or hex (`0x…`), nothing after the last.
pub fn inet_aton(s: &[u8]) -> Option<Ipv4Addr> {
    let mut parts: [u64; 4] = [0; 4];
    let mut n = 0;
    let mut i = 0;
    loop {
        if n == 4 {
            return None;
        }
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (base, mut j) = if s[i] == b'0' {
            match s.get(i + 1) {
                Some(b'x' | b'X') => (16, i + 2),
                _ => (8, i + 1),
            }
        } else {
            (10, i)
        };
        let digits_start = j;
        let mut val: u64 = 0;
        while let Some(&c) = s.get(j) {
            let d = match c {
                b'0'..=b'9' => u64::from(c - b'0'),
                b'a'..=b'f' if base == 16 => u64::from(c - b'a' + 10),
                b'A'..=b'F' if base == 16 => u64::from(c - b'A' + 10),
                _ => break,
            };
            if d >= base {
                return None;
            }
            val = val.checked_mul(base)?.checked_add(d)?;
            if val > u64::from(u32::MAX) {
                return None;
            }
            j += 1;
        }
        if base == 16 && j == digits_start {
            // "0x" with no digits
            return None;
        }
        parts[n] = val;
        n += 1;
        i = j;
        match s.get(i) {
            Some(b'.') => {
                if n == 4 || val > 0xFF {
                    return None;
                }
                i += 1;
            }
            None => break,
            Some(_) => return None,
        }
    }
    let v: u64 = match n {
        1 => parts[0],
        2 => {
            if parts[1] > 0xFF_FFFF {
                return None;
            }
            (parts[0] << 24) | parts[1]
        }
        3 => {
            if parts[2] > 0xFFFF {
                return None;
            }
            (parts[0] << 24) | (parts[1] << 16) | parts[2]
        }
        _ => {
            if parts[3] > 0xFF {
                return None;
            }
            (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
        }
    };
    u32::try_from(v).ok().map(Ipv4Addr::from)
}

/// `getservbyname(NAME, "tcp")` over `/etc/services` (names and aliases, case-sensitive).
pub fn getservbyname_tcp(name: &[u8]) -> Option<u16> {
    let text = std::fs::read("/etc/services").ok()?;
    services_lookup(&text, name)
}

fn services_lookup(text: &[u8], name: &[u8]) -> Option<u16> {
    for line in text.split(|&b| b == b'\n') {
        let line = match line.iter().position(|&b| b == b'#') {
            Some(p) => &line[..p],
            None => line,
        };
        let mut fields = line
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty());
        let Some(svc) = fields.next() else { continue };
        let Some(portproto) = fields.next() else {
            continue;
        };
        let Some(slash) = portproto.iter().position(|&b| b == b'/') else {
            continue;
        };
        if &portproto[slash + 1..] != b"tcp" {
            continue;
        }
        if svc == name || fields.any(|a| a == name) {
            return std::str::from_utf8(&portproto[..slash]).ok()?.parse().ok();
        }
    }
    None
}

/// glibc's strerror text for an errno, as Perl's `$!` prints it.
pub fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(p) => s[..p].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> (Num, bool) {
        numify(s.as_bytes())
    }

    #[test]
    fn numify_matches_perl() {
        // Values printed by `perl -we 'print 0+$x'` on Debian 12.
        assert_eq!(n("18091"), (Num::Int(18091), true));
        assert_eq!(n(" 18091 "), (Num::Int(18091), true));
        assert_eq!(n("http"), (Num::Int(0), false));
        assert_eq!(n("80x"), (Num::Int(80), false));
        assert_eq!(n("1_000"), (Num::Int(1), false));
        assert_eq!(n(".5e1x"), (Num::Float(5.0), false));
        assert_eq!(n("0x1A"), (Num::Int(0), false));
        assert_eq!(n("1e5"), (Num::Float(100000.0), true));
        assert_eq!(n("-5"), (Num::Int(-5), true));
        assert_eq!(n("1.9"), (Num::Float(1.9), true));
        assert_eq!(n(""), (Num::Int(0), false));
        assert_eq!(n("0 but true"), (Num::Int(0), true));
        assert!(matches!(n("Inf"), (Num::Float(f), true) if f.is_infinite()));
        assert!(matches!(n("infinityx"), (Num::Float(f), false) if f.is_infinite()));
        assert!(matches!(n("99999999999999999999"), (Num::Float(f), true) if f == 1e20));
    }

    #[test]
    fn casts_match_perl() {
        // tcp.monitor -p -5 → "truncated to 65531"; -p -1.5 → 65535; -p Inf → 65535.
        assert_eq!(pack_port(n("-5").0).0, 65531);
        assert_eq!(pack_port(n("-1.5").0).0, 65535);
        assert_eq!(pack_port(n("Inf").0).0, 65535);
        assert_eq!(pack_port(n("70000").0).0, 4464);
        assert!(pack_port(n("70000").0).1.is_some());
        assert!(pack_port(n("65535").0).1.is_none());
        // alarm: -t 1e20 → negative warning; 4294967297 → 1 s; 2.9 → 2 s.
        assert_eq!(alarm_secs(n("1e20").0), (None, true));
        assert_eq!(alarm_secs(n("4294967297").0), (Some(1), false));
        assert_eq!(alarm_secs(n("2.9").0), (Some(2), false));
        assert_eq!(alarm_secs(n("-3").0), (None, true));
        assert_eq!(alarm_secs(n("abc").0), (None, false));
    }

    #[test]
    fn display_matches_sv_display() {
        assert_eq!(display(b"a\r\x7f\x80\"\\b"), b"a\\r^?M-\\0\"\\\\b".to_vec());
        assert_eq!(display(b"a\nb\tc\x01\xff"), b"a\\nb^Ic^AM-^?".to_vec());
        let long = vec![b'a'; 100];
        let mut want = vec![b'a'; 56];
        want.extend_from_slice(b"...");
        assert_eq!(display(&long), want);
        assert_eq!(display(&[b'a'; 56]), vec![b'a'; 56]);
    }

    #[test]
    fn inet_aton_matches_perl_socket() {
        // `perl -MSocket -e 'inet_aton(...)'` on Debian 12 (Socket 2.033).
        let ok =
            |s: &str, want: [u8; 4]| assert_eq!(inet_aton(s.as_bytes()), Some(want.into()), "{s}");
        ok("127.1", [127, 0, 0, 1]);
        ok("0x7f.1", [127, 0, 0, 1]);
        ok("010.0.0.1", [8, 0, 0, 1]);
        ok("2130706433", [127, 0, 0, 1]);
        ok("0xffffffff", [255, 255, 255, 255]);
        ok("1.2.3.4", [1, 2, 3, 4]);
        for bad in [
            "1.2.3.4.",
            " 127.0.0.1",
            "127.0.0.1 x",
            "08.0.0.1",
            "0x",
            "1.2.3.256",
            "4294967296",
            "127.0.0.1\n",
            "",
            "::1",
            "1..2",
        ] {
            assert_eq!(inet_aton(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn services_file_lookup() {
        let text = b"# comment\nhttp\t\t80/tcp\t\twww\t# WorldWideWeb\nfoo 99/udp\nbar 7/tcp alias1 alias2\n";
        assert_eq!(services_lookup(text, b"http"), Some(80));
        assert_eq!(services_lookup(text, b"www"), Some(80));
        assert_eq!(services_lookup(text, b"alias2"), Some(7));
        assert_eq!(services_lookup(text, b"foo"), None);
        assert_eq!(services_lookup(text, b"HTTP"), None);
    }

    #[test]
    fn strerror_texts() {
        assert_eq!(strerror(111), "Connection refused");
        assert_eq!(strerror(113), "No route to host");
        assert_eq!(strerror(101), "Network is unreachable");
    }
}
