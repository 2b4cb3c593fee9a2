//! The few Perl built-ins whose exact behaviour mon's protocol exposes: `split(/\s+/, S, N)`,
//! numeric conversion of a string, and Text::ParseWords `parse_line('\s+', 0, S)`.
//!
//! These are re-implementations from the documented Perl semantics, checked against
//! `perl` on the reference machine (the test tables note the Perl results).

use crate::config::words::is_perl_space;

/// Perl's `split(/\s+/, s, limit)`; `limit == 0` means no limit (trailing empty fields
/// are then dropped, as Perl does). An empty string gives no fields at all.
pub fn split_ws(s: &str, limit: usize) -> Vec<&str> {
    let mut out = Vec::new();
    if s.is_empty() {
        return out;
    }
    let mut rest = s;
    loop {
        if limit != 0 && out.len() + 1 == limit {
            out.push(rest);
            break;
        }
        match rest.find(is_perl_space) {
            Some(i) => {
                out.push(&rest[..i]);
                let after = &rest[i..];
                let skip = after
                    .find(|c: char| !is_perl_space(c))
                    .unwrap_or(after.len());
                rest = &after[skip..];
                if rest.is_empty() {
                    // A separator at the very end leaves one empty trailing field.
                    out.push(rest);
                    break;
                }
            }
            None => {
                out.push(rest);
                break;
            }
        }
    }
    if limit == 0 {
        while out.last().is_some_and(|f| f.is_empty()) {
            out.pop();
        }
    }
    out
}

/// Perl's numeric value of a string: leading whitespace, then the longest decimal number
/// prefix (`9745abc` is 9745, `0x2611` is 0, `""` is 0, `1e3` is 1000, `inf`/`nan` too).
pub fn numify(s: &str) -> f64 {
    let t = s.trim_start_matches(|c: char| is_perl_space(c));
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let lower = t[i..].to_ascii_lowercase();
    if lower.starts_with("inf") || lower.starts_with("nan") {
        let v = if lower.starts_with("nan") {
            f64::NAN
        } else {
            f64::INFINITY
        };
        return if b.first() == Some(&b'-') { -v } else { v };
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut int_digits = i - digits_start;
    if i < b.len() && b[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if int_digits > 0 || j > frac_start {
            int_digits += j - frac_start;
            i = j;
        }
    }
    if int_digits == 0 {
        return 0.0;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    t[..i].parse::<f64>().unwrap_or(0.0)
}

/// Text::ParseWords `parse_line('\s+', 0, line)`: the words of `line`, or `None` when the
/// line cannot be parsed (an unbalanced quote or a trailing lone backslash), in which case
/// Perl returns an empty list. A word is `None` where Perl yields `undef` (the end after a
/// trailing separator); a leading separator yields an empty first word.
pub fn parse_line(line: &str) -> Option<Vec<Option<String>>> {
    let chars: Vec<char> = line.chars().collect();
    let mut pos = 0;
    let mut pieces = Vec::new();
    let mut word: Option<String> = None;
    while pos < chars.len() {
        let (text, next, delim_len) = match chars[pos] {
            q @ ('"' | '\'') => match quoted(&chars, pos, q) {
                Some((body, end)) => {
                    let text = if q == '"' { unbackslash(&body) } else { body };
                    (text, end, 0)
                }
                // The unquoted alternative cannot start at a quote either: no match.
                None => return None,
            },
            _ => {
                let (body, end, delim_len) = unquoted(&chars, pos)?;
                (unbackslash(&body), end, delim_len)
            }
        };
        word.get_or_insert_with(String::new).push_str(&text);
        pos = next + delim_len;
        if delim_len > 0 {
            pieces.push(word.take());
        }
        if pos >= chars.len() {
            pieces.push(word.take());
        }
    }
    Some(pieces)
}

/// The first word `parse_line` yields, with Perl's `undef` and failure both read as `""`
/// (what mon stores for `set` values and `ack` comments).
pub fn first_shell_word(s: &str) -> String {
    parse_line(s)
        .and_then(|p| p.into_iter().next().flatten())
        .unwrap_or_default()
}

/// A quoted string starting at `start` (the opening quote `q`): its raw body and the index
/// after the closing quote. A backslash protects the next character inside both kinds of
/// quotes (it is only removed later, and only for double quotes).
fn quoted(chars: &[char], start: usize, q: char) -> Option<(String, usize)> {
    let mut i = start + 1;
    let mut body = String::new();
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let next = *chars.get(i + 1)?;
                body.push('\\');
                body.push(next);
                i += 2;
            }
            c if c == q => return Some((body, i + 1)),
            c => {
                body.push(c);
                i += 1;
            }
        }
    }
    None
}

/// An unquoted run starting at `start`, ended by the end of the line, a whitespace run
/// (returned as its length) or a quote. `None` when a lone backslash ends the line.
fn unquoted(chars: &[char], start: usize) -> Option<(String, usize, usize)> {
    let mut i = start;
    let mut body = String::new();
    loop {
        if i >= chars.len() {
            return Some((body, i, 0));
        }
        match chars[i] {
            c if is_perl_space(c) => {
                let mut j = i;
                while j < chars.len() && is_perl_space(chars[j]) {
                    j += 1;
                }
                return Some((body, i, j - i));
            }
            // A quote ends the run only when the run is not empty (Perl's `(?!^)`), and a
            // run can only be empty here if it started at a quote, which the caller handles.
            '"' | '\'' => return Some((body, i, 0)),
            '\\' => {
                let next = *chars.get(i + 1)?;
                body.push('\\');
                body.push(next);
                i += 2;
            }
            c => {
                body.push(c);
                i += 1;
            }
        }
    }
}

/// `s/\\(.)/$1/sg`.
fn unbackslash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_perl() {
        // perl -le 'print join "|", map { defined ? "<$_>" : "U" } split(/\s+/, $ARGV[0], N)'
        assert_eq!(split_ws("g1 s2 myvar ", 4), vec!["g1", "s2", "myvar", ""]);
        assert_eq!(split_ws("g1 s2 myvar", 4), vec!["g1", "s2", "myvar"]);
        assert_eq!(split_ws("g1 s2 v a  b ", 4), vec!["g1", "s2", "v", "a  b "]);
        assert_eq!(split_ws("a  b\tc ", 0), vec!["a", "b", "c"]);
        assert_eq!(split_ws(" a", 0), vec!["", "a"]);
        assert_eq!(split_ws("", 3), Vec::<&str>::new());
        assert_eq!(split_ws("abc", 2), vec!["abc"]);
        assert_eq!(split_ws("abc ", 2), vec!["abc", ""]);
    }

    #[test]
    fn numify_matches_perl() {
        // perl -le 'print 0 + $ARGV[0]'
        let cases = [
            ("9745", 9745.0),
            ("9745abc", 9745.0),
            ("9745.9", 9745.9),
            ("0x2611", 0.0),
            ("", 0.0),
            ("  12", 12.0),
            ("+3", 3.0),
            ("-3.5x", -3.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1e", 1.0),
            ("0.3807", 0.3807),
            ("abc", 0.0),
            (".", 0.0),
        ];
        for (s, want) in cases {
            assert_eq!(numify(s), want, "{s:?}");
        }
        assert!(numify("nan").is_nan());
        assert_eq!(numify("-inf"), f64::NEG_INFINITY);
    }

    #[test]
    fn parse_line_matches_perl() {
        // perl -MText::ParseWords -le 'print join "|", map { defined ? "<$_>" : "U" }
        //   parse_line(q{\s+}, 0, $ARGV[0])'
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            parse_line("looking into it 'now'"),
            Some(vec![s("looking"), s("into"), s("it"), s("now")])
        );
        assert_eq!(parse_line("abc "), Some(vec![s("abc"), None]));
        assert_eq!(parse_line("  x"), Some(vec![s(""), s("x")]));
        assert_eq!(parse_line(r"'a\'b'"), Some(vec![s(r"a\'b")]));
        assert_eq!(parse_line(r#""a\"b""#), Some(vec![s(r#"a"b"#)]));
        assert_eq!(parse_line(r#"a"b c"d"#), Some(vec![s("ab cd")]));
        assert_eq!(parse_line(r"'a\\b'"), Some(vec![s(r"a\\b")]));
        assert_eq!(
            parse_line(r"hello\20world x"),
            Some(vec![s("hello20world"), s("x")])
        );
        assert_eq!(parse_line("hello 'unbalanced"), None);
        assert_eq!(parse_line(r"trailing\"), None);
        assert_eq!(parse_line(r#""""#), Some(vec![s("")]));
        assert_eq!(parse_line(""), Some(vec![]));
    }

    #[test]
    fn first_word_as_mon_stores_it() {
        assert_eq!(first_shell_word("looking into it 'now'"), "looking");
        assert_eq!(
            first_shell_word(r"'quoted\20comment' more"),
            r"quoted\20comment"
        );
        assert_eq!(first_shell_word("x 'unbalanced"), "");
        assert_eq!(first_shell_word(""), "");
        assert_eq!(first_shell_word(r"'it\'s' x"), r"it\'s");
    }
}
