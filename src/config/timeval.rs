//! mon's time values ("timeval", config.md §7): `^\s*(\d+(?:\.\d+)?)([dhms])\s*$`,
//! case-insensitive, unit required, fractions allowed (`1.5m` = 90 s).

use std::time::Duration;

/// Parse a timeval into seconds, or `None` when `s` is not one.
pub fn parse_secs(s: &str) -> Option<f64> {
    let t = s.trim_matches(super::words::is_perl_space);
    let unit = t.chars().last()?;
    let mult = match unit.to_ascii_lowercase() {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        'd' => 86400.0,
        _ => return None,
    };
    let num = &t[..t.len() - 1];
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (num, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    num.parse::<f64>().ok().map(|n| n * mult)
}

/// Parse a timeval into a `Duration`.
pub fn parse(s: &str) -> Option<Duration> {
    parse_secs(s).and_then(|secs| Duration::try_from_secs_f64(secs).ok())
}

/// How mon prints a converted value in error messages: `''` when it did not parse, else
/// the number of seconds as Perl would print it (`0`, `90`, `1.5`).
pub fn perl_value(s: &str) -> String {
    match parse_secs(s) {
        None => String::new(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        Some(v) => format!("{v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mon_timevals() {
        assert_eq!(parse_secs("30s"), Some(30.0));
        assert_eq!(parse_secs("5m"), Some(300.0));
        assert_eq!(parse_secs("1.5m"), Some(90.0));
        assert_eq!(parse_secs("2H"), Some(7200.0));
        assert_eq!(parse_secs("1d"), Some(86400.0));
        assert_eq!(parse_secs("  10s \t"), Some(10.0));
        assert_eq!(parse_secs("0s"), Some(0.0));
    }

    #[test]
    fn rejects_what_mon_rejects() {
        for bad in [
            "30", "30 s", "30sec", "= 30s", "", "s", ".5s", "5.s", "-5s", "30s # x", "1w",
        ] {
            assert_eq!(parse_secs(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn perl_value_matches_mon_messages() {
        assert_eq!(perl_value("30"), "");
        assert_eq!(perl_value("0s"), "0");
        assert_eq!(perl_value("1.5m"), "90");
        assert_eq!(perl_value("1.5s"), "1.5");
    }
}
