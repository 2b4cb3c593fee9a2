//! Reading a spec the way Time::Period 1.25 reads it: Perl's whitespace, `split` and regex
//! rules and its numeric quirks, decided once per spec so that evaluation only tests bits.
//!
//! Every range's validity is independent of the time, so a sub-period is either fully
//! valid (a set of allowed values per scale) or malformed; only the order of sub-periods
//! decides whether `inPeriod` would reach a malformed one.

use std::ops::Range;

/// Perl's `\s` on a byte string (space, TAB, LF, VT, FF, CR).
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Perl's `\w` on a byte string.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The nine scales, by their code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scale {
    Yr,
    Mo,
    Wk,
    Yd,
    Md,
    Wd,
    Hr,
    Min,
    Sec,
}

impl Scale {
    /// Time::Period's name rule: more than 3 letters must be a long name, 2 or 3 a code.
    fn from_name(name: &[u8]) -> Option<Scale> {
        let scale = match name {
            b"year" | b"yr" => Scale::Yr,
            b"month" | b"mo" => Scale::Mo,
            b"week" | b"wk" => Scale::Wk,
            b"yday" | b"yd" => Scale::Yd,
            b"mday" | b"md" => Scale::Md,
            b"wday" | b"wd" => Scale::Wd,
            b"hour" | b"hr" => Scale::Hr,
            b"minute" | b"min" => Scale::Min,
            b"second" | b"sec" => Scale::Sec,
            _ => return None,
        };
        Some(scale)
    }

    fn code(self) -> &'static str {
        match self {
            Scale::Yr => "yr",
            Scale::Mo => "mo",
            Scale::Wk => "wk",
            Scale::Yd => "yd",
            Scale::Md => "md",
            Scale::Wd => "wd",
            Scale::Hr => "hr",
            Scale::Min => "min",
            Scale::Sec => "sec",
        }
    }

    /// The values `localtime` can give for this scale (Time::Period's internal numbering).
    fn domain(self) -> Range<u64> {
        match self {
            // Years are kept as ranges, not as a set of values.
            Scale::Yr => 0..0,
            Scale::Mo => 0..12,
            Scale::Wk => 0..6,
            Scale::Yd => 0..366,
            Scale::Md => 1..32,
            Scale::Wd => 0..7,
            Scale::Hr => 0..24,
            Scale::Min | Scale::Sec => 0..60,
        }
    }
}

/// A set of small integers (up to 383), one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Bits([u64; 6]);

impl Bits {
    pub(super) const FULL: Bits = Bits([u64::MAX; 6]);

    #[inline]
    pub(super) fn has(&self, v: u32) -> bool {
        let (w, b) = ((v / 64) as usize, v % 64);
        self.0.get(w).is_some_and(|word| word >> b & 1 != 0)
    }

    fn set(&mut self, v: u64) {
        let (w, b) = ((v / 64) as usize, v % 64);
        if let Some(word) = self.0.get_mut(w) {
            *word |= 1 << b;
        }
    }

    /// The first 64 values, for the scales that fit in one word (hr, min, sec).
    pub(super) fn low(&self) -> u64 {
        self.0[0]
    }
}

/// A `yr` value or range as written; 0–99 are read in the century of the instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct YearRange {
    pub lo: u64,
    pub hi: u64,
}

impl YearRange {
    /// Time::Period's `yr`: map 0–99 into the year's century, then swap reversed ends.
    pub(super) fn contains(&self, year: i64) -> bool {
        let century = 100 * perl_year_prefix(year);
        let map = |v: u64| {
            if v <= 99 {
                century + v as i64
            } else {
                i64::try_from(v).unwrap_or(i64::MAX)
            }
        };
        let (a, b) = (map(self.lo), map(self.hi));
        let (lo, hi) = if a > b { (b, a) } else { (a, b) };
        lo <= year && year <= hi
    }
}

/// `substr($yr, 0, 2)` read as a number: the first two characters of the year as printed.
fn perl_year_prefix(year: i64) -> i64 {
    if year < 0 {
        let mut a = year.unsigned_abs();
        while a >= 10 {
            a /= 10;
        }
        -(a as i64)
    } else {
        let mut y = year;
        while y >= 100 {
            y /= 10;
        }
        y
    }
}

/// One valid sub-period: per scale, the allowed values. A scale that is not written
/// allows everything; a scale written with no ranges (`wd {}`) allows nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SubPeriod {
    pub has_yr: bool,
    pub yr: Vec<YearRange>,
    pub mo: Bits,
    pub wk: Bits,
    pub yd: Bits,
    pub md: Bits,
    pub wd: Bits,
    pub hr: Bits,
    pub min: Bits,
    pub sec: Bits,
}

impl SubPeriod {
    /// The value set of a scale; `None` for years, which are kept as ranges.
    fn bits_mut(&mut self, scale: Scale) -> Option<&mut Bits> {
        Some(match scale {
            Scale::Yr => return None,
            Scale::Mo => &mut self.mo,
            Scale::Wk => &mut self.wk,
            Scale::Yd => &mut self.yd,
            Scale::Md => &mut self.md,
            Scale::Wd => &mut self.wd,
            Scale::Hr => &mut self.hr,
            Scale::Min => &mut self.min,
            Scale::Sec => &mut self.sec,
        })
    }

    /// The `yr` scale: absent, or one of its ranges holds `year`.
    #[inline]
    pub(super) fn year_ok(&self, year: i64) -> bool {
        !self.has_yr || self.yr.iter().any(|r| r.contains(year))
    }
}

/// Why a sub-period is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Defect {
    pub reason: String,
}

/// One comma-separated sub-period: its place in the text and what it reads as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Sub {
    pub span: Range<usize>,
    pub body: Result<SubPeriod, Defect>,
}

/// A whole spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Parsed {
    /// Blank: every time is inside.
    Always,
    /// `none`: no time is inside.
    Never,
    /// The sub-periods in order, up to and including the first malformed one (later ones
    /// can never be reached by `inPeriod`).
    Subs(Vec<Sub>),
}

/// Read `text` as Time::Period does.
pub(super) fn parse(text: &str) -> Parsed {
    let raw = text.as_bytes();
    let start = raw.iter().position(|&b| !is_space(b)).unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |i| i + 1);
    let spec = raw[start..end].to_ascii_lowercase();
    if spec.is_empty() {
        return Parsed::Always;
    }
    if spec == b"none" {
        return Parsed::Never;
    }
    let mut subs = Vec::new();
    for field in split_commas(&spec) {
        let body = parse_sub(&spec[field.clone()]);
        let bad = body.is_err();
        subs.push(Sub {
            span: field.start + start..field.end + start,
            body,
        });
        if bad {
            break;
        }
    }
    Parsed::Subs(subs)
}

/// Drop trailing empty fields, as Perl's `split` does.
fn drop_trailing_empty(fields: &mut Vec<Range<usize>>) {
    while fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
}

/// `split(/\s*,\s*/, $period)`.
fn split_commas(s: &[u8]) -> Vec<Range<usize>> {
    let mut fields = Vec::new();
    let mut field_start = 0;
    let mut pos = 0;
    while let Some(comma) = s[pos..].iter().position(|&b| b == b',').map(|i| i + pos) {
        let mut m = comma;
        while m > pos && is_space(s[m - 1]) {
            m -= 1;
        }
        let mut e = comma + 1;
        while e < s.len() && is_space(s[e]) {
            e += 1;
        }
        fields.push(field_start..m);
        field_start = e;
        pos = e;
    }
    fields.push(field_start..s.len());
    drop_trailing_empty(&mut fields);
    fields
}

/// `split(/}\s*/, $subPeriod)`.
fn split_braces(s: &[u8]) -> Vec<Range<usize>> {
    let mut fields = Vec::new();
    let mut field_start = 0;
    let mut pos = 0;
    while let Some(close) = s[pos..].iter().position(|&b| b == b'}').map(|i| i + pos) {
        let mut e = close + 1;
        while e < s.len() && is_space(s[e]) {
            e += 1;
        }
        fields.push(field_start..close);
        field_start = e;
        pos = e;
    }
    fields.push(field_start..s.len());
    drop_trailing_empty(&mut fields);
    fields
}

/// `split(/\s+/, $rangeData)`.
fn split_blanks(s: &[u8]) -> Vec<Range<usize>> {
    let mut fields = Vec::new();
    let mut field_start = 0;
    let mut pos = 0;
    while let Some(ws) = s[pos..].iter().position(|&b| is_space(b)).map(|i| i + pos) {
        let mut e = ws + 1;
        while e < s.len() && is_space(s[e]) {
            e += 1;
        }
        fields.push(field_start..ws);
        field_start = e;
        pos = e;
    }
    fields.push(field_start..s.len());
    drop_trailing_empty(&mut fields);
    fields
}

/// `s/(\w+)\s*-\s*(\w+)/$1-$2/g`: blanks around a dash between two words go away.
fn collapse_dashes(d: &[u8]) -> Vec<u8> {
    let n = d.len();
    let mut out = Vec::with_capacity(n);
    let mut copied = 0;
    let mut i = 0;
    while i < n {
        if !is_word(d[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < n && is_word(d[j]) {
            j += 1;
        }
        let mut k = j;
        while k < n && is_space(d[k]) {
            k += 1;
        }
        if k < n && d[k] == b'-' {
            let mut m = k + 1;
            while m < n && is_space(d[m]) {
                m += 1;
            }
            if m < n && is_word(d[m]) {
                let mut e = m;
                while e < n && is_word(d[e]) {
                    e += 1;
                }
                out.extend_from_slice(&d[copied..j]);
                out.push(b'-');
                out.extend_from_slice(&d[m..e]);
                copied = e;
                i = e;
                continue;
            }
        }
        // A match starting later inside the same word would fail the same way.
        i = j;
    }
    out.extend_from_slice(&d[copied..]);
    out
}

fn defect(reason: impl Into<String>) -> Defect {
    Defect {
        reason: reason.into(),
    }
}

fn shown(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn parse_sub(s: &[u8]) -> Result<SubPeriod, Defect> {
    let open = s.iter().filter(|&&b| b == b'{').count();
    let close = s.iter().filter(|&&b| b == b'}').count();
    if open == 0 {
        return Err(defect("no 'scale {range}' block"));
    }
    if open != close {
        return Err(defect(format!("{open} '{{' but {close} '}}'")));
    }
    let pieces = split_braces(s);
    if pieces.len() != open {
        return Err(defect("text outside the 'scale {range}' blocks"));
    }
    let mut sp = SubPeriod {
        has_yr: false,
        yr: Vec::new(),
        mo: Bits::FULL,
        wk: Bits::FULL,
        yd: Bits::FULL,
        md: Bits::FULL,
        wd: Bits::FULL,
        hr: Bits::FULL,
        min: Bits::FULL,
        sec: Bits::FULL,
    };
    let mut seen: [bool; 9] = [false; 9];
    for piece in pieces {
        parse_block(&s[piece], &mut sp, &mut seen)?;
    }
    Ok(sp)
}

/// One `scale {ranges` piece (the `}` was eaten by the split).
fn parse_block(p: &[u8], sp: &mut SubPeriod, seen: &mut [bool; 9]) -> Result<(), Defect> {
    let name_end = p
        .iter()
        .position(|b| !b.is_ascii_lowercase())
        .unwrap_or(p.len());
    let mut i = name_end;
    while i < p.len() && is_space(p[i]) {
        i += 1;
    }
    if p.get(i) != Some(&b'{') {
        return Err(defect(format!("'{}' is not 'scale {{range}}'", shown(p))));
    }
    i += 1;
    while i < p.len() && is_space(p[i]) {
        i += 1;
    }
    // `.*` stops at a newline.
    let rest = &p[i..];
    let data = &rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())];
    let name = &p[..name_end];
    let scale =
        Scale::from_name(name).ok_or_else(|| defect(format!("unknown scale '{}'", shown(name))))?;
    // Repeating a scale widens it: the first mention starts from the empty set.
    let slot = scale as usize;
    if !seen[slot] {
        seen[slot] = true;
        match sp.bits_mut(scale) {
            Some(bits) => *bits = Bits::default(),
            None => sp.has_yr = true,
        }
    }
    let data = collapse_dashes(data);
    for r in split_blanks(&data) {
        let range = &data[r];
        let bad = || {
            defect(format!(
                "'{}' is not a valid {} range",
                shown(range),
                scale.code()
            ))
        };
        if let Some(dash) = range.iter().rposition(|&b| b == b'-') {
            let (v1, v2) = (&range[..dash], &range[dash + 1..]);
            if !v1.iter().any(|&b| is_word(b)) || !v2.iter().any(|&b| is_word(b)) {
                return Err(bad());
            }
            apply_range(scale, v1, v2, sp).ok_or_else(bad)?;
        } else {
            if !range.iter().any(|&b| is_word(b)) {
                return Err(bad());
            }
            apply_single(scale, range, sp).ok_or_else(bad)?;
        }
    }
    Ok(())
}

/// An all-digit string as a number (`None` when Perl's `/\D/` matches). Huge values
/// saturate: they are out of every range anyway.
fn digits(v: &[u8]) -> Option<u64> {
    if !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// A number in `lo..=hi`, shifted down by `shift` (Time::Period's `$v--`).
fn number_in(v: &[u8], lo: u64, hi: u64, shift: u64) -> Option<u64> {
    digits(v)
        .filter(|n| (lo..=hi).contains(n))
        .map(|n| n - shift)
}

/// Months and weekdays: any lowercase letter makes it a name, of which only the first
/// `sig` bytes count; otherwise a 1-based number.
fn named(v: &[u8], names: &[&[u8]], sig: usize) -> Option<u64> {
    if v.iter().any(u8::is_ascii_lowercase) {
        let key = &v[..v.len().min(sig)];
        return names.iter().position(|n| *n == key).map(|i| i as u64);
    }
    number_in(v, 1, names.len() as u64, 1)
}

const MONTHS: [&[u8]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];
const WEEKDAYS: [&[u8]; 7] = [b"su", b"mo", b"tu", b"we", b"th", b"fr", b"sa"];

/// `Nam`, `Npm`, `12noon` or a plain hour, checked against 0–23 after conversion.
fn hour(v: &[u8]) -> Option<u64> {
    let with = |suffix: &[u8]| {
        v.strip_suffix(suffix)
            .filter(|d| !d.is_empty())
            .and_then(digits)
    };
    let h = if let Some(n) = with(b"am") {
        if n == 12 { 0 } else { n }
    } else if let Some(n) = with(b"pm") {
        if n == 12 { 12 } else { n.saturating_add(12) }
    } else if let Some(n) = with(b"noon") {
        if n != 12 {
            return None;
        }
        12
    } else {
        digits(v)?
    };
    (h <= 23).then_some(h)
}

/// One scale value (for range ends and for everything but `yd` singles).
fn value(scale: Scale, v: &[u8]) -> Option<u64> {
    match scale {
        Scale::Yr => digits(v).filter(|&n| n <= 99 || n >= 1970),
        Scale::Mo => named(v, &MONTHS, 3),
        Scale::Wk => number_in(v, 1, 6, 1),
        Scale::Yd => number_in(v, 1, 366, 1),
        Scale::Md => number_in(v, 1, 31, 0),
        Scale::Wd => named(v, &WEEKDAYS, 2),
        Scale::Hr => hour(v),
        Scale::Min | Scale::Sec => number_in(v, 0, 59, 0),
    }
}

fn apply_range(scale: Scale, v1: &[u8], v2: &[u8], sp: &mut SubPeriod) -> Option<()> {
    let a = value(scale, v1)?;
    let b = value(scale, v2)?;
    let Some(bits) = sp.bits_mut(scale) else {
        sp.yr.push(YearRange { lo: a, hi: b });
        return Some(());
    };
    for x in scale.domain() {
        // Reversed ends wrap around.
        let inside = if a > b {
            a <= x || x <= b
        } else {
            a <= x && x <= b
        };
        if inside {
            bits.set(x);
        }
    }
    Some(())
}

fn apply_single(scale: Scale, v: &[u8], sp: &mut SubPeriod) -> Option<()> {
    match scale {
        Scale::Yr => {
            let y = value(scale, v)?;
            sp.yr.push(YearRange { lo: y, hi: y });
        }
        Scale::Yd => {
            if let Some(day) = yday_single(v)? {
                sp.yd.set(day);
            }
        }
        _ => {
            let x = value(scale, v)?;
            sp.bits_mut(scale)?.set(x);
        }
    }
    Some(())
}

/// A single `yd` value. Time::Period decrements *before* its digits check, so Perl's
/// numeric reading of the string counts (`1x` is day 1, `6.4e1` day 64) and then the
/// printed result must be all digits. Returns the 0-based day, or `Some(None)` for a
/// value that is valid but equals no day (`64.00000000000001`), or `None` if invalid.
fn yday_single(v: &[u8]) -> Option<Option<u64>> {
    let r = perl_numify(v) - 1.0;
    if !(0.0..=365.0).contains(&r) || !perl_prints_digits(r) {
        return None;
    }
    Some((r.fract() == 0.0).then_some(r as u64))
}

/// Perl's numeric value of a string: its longest leading decimal number, else 0.
/// (Inf and NaN spellings read as 0 here; both end up invalid either way.)
fn perl_numify(s: &[u8]) -> f64 {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'+') => {
            i += 1;
            false
        }
        Some(b'-') => {
            i += 1;
            true
        }
        _ => false,
    };
    let int_start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let int = &s[int_start..i];
    let mut frac: &[u8] = b"";
    if s.get(i) == Some(&b'.') {
        let f = i + 1;
        let mut j = f;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        frac = &s[f..j];
        i = j;
    }
    if int.is_empty() && frac.is_empty() {
        return 0.0;
    }
    let mut exp: &[u8] = b"";
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let d = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > d {
            exp = &s[i + 1..j];
        }
    }
    let mut text = String::with_capacity(int.len() + frac.len() + exp.len() + 6);
    if neg {
        text.push('-');
    }
    let mut push = |part: &[u8]| {
        if part.is_empty() {
            text.push('0');
        } else {
            text.extend(part.iter().map(|&b| char::from(b)));
        }
    };
    push(int);
    push(b".");
    push(frac);
    push(b"e");
    push(exp);
    text.parse().unwrap_or(0.0)
}

/// Whether Perl prints the non-negative number `r` (`%.15g`) with digits only.
fn perl_prints_digits(r: f64) -> bool {
    if r == 0.0 {
        return !r.is_sign_negative();
    }
    if !r.is_finite() || r < 0.0 {
        return false;
    }
    let sci = format!("{r:.14e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return false;
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return false;
    };
    if !(0..15).contains(&exp) {
        // Exponent notation, or "0.000…" with a fraction.
        return false;
    }
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    digits[(exp as usize + 1)..].iter().all(|&d| d == b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(s: &'a [u8], f: &[Range<usize>]) -> Vec<&'a [u8]> {
        f.iter().map(|r| &s[r.clone()]).collect()
    }

    #[test]
    fn comma_split_keeps_leading_and_inner_empty_fields_only() {
        let s = b",a , b,,c ,, ";
        assert_eq!(
            fields(s, &split_commas(s)),
            vec![&b""[..], b"a", b"b", b"", b"c"]
        );
        assert!(split_commas(b", ,").is_empty());
    }

    #[test]
    fn dash_collapse_follows_perl_global_substitution() {
        assert_eq!(collapse_dashes(b"1 - 2 - 3"), b"1-2 - 3");
        assert_eq!(collapse_dashes(b"a b - c"), b"a b-c");
        assert_eq!(collapse_dashes(b"9am -5pm x- y"), b"9am-5pm x-y");
        assert_eq!(collapse_dashes(b"- 5"), b"- 5");
    }

    #[test]
    fn numify_and_print_rules() {
        assert_eq!(perl_numify(b"1x"), 1.0);
        assert_eq!(perl_numify(b"6.4e1"), 64.0);
        assert_eq!(perl_numify(b"1e"), 1.0);
        assert_eq!(perl_numify(b".5"), 0.5);
        assert_eq!(perl_numify(b"x1"), 0.0);
        assert!(perl_prints_digits(63.0));
        assert!(perl_prints_digits(63.000_000_000_000_01));
        assert!(!perl_prints_digits(63.5));
        assert!(!perl_prints_digits(0.000_01));
    }

    #[test]
    fn year_prefix_is_the_first_two_printed_characters() {
        assert_eq!(perl_year_prefix(2024), 20);
        assert_eq!(perl_year_prefix(1999), 19);
        assert_eq!(perl_year_prefix(987), 98);
        assert_eq!(perl_year_prefix(5), 5);
        assert_eq!(perl_year_prefix(-12), -1);
        assert_eq!(perl_year_prefix(i64::MIN), -9);
    }
}
