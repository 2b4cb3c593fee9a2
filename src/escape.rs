//! mon's value encoding (protocol.md §5): `esc_str` in quoted and plain mode and
//! `un_esc_str`. Shared by the protocol server, the state files and the trap codec.

use std::fmt::Write as _;

/// How backslashes are treated when escaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A backslash becomes `\\` (opstatus text fields, descriptions, `get`, traps).
    Quoted,
    /// A backslash passes through (histories, `exclude_*`, the opstatus state file).
    Plain,
}

/// Escape `bytes`: bytes ≤ 0x20, ≥ 0x7F, `"` and `'` become `\xx` (lower-case hex).
pub fn escape(bytes: &[u8], mode: Mode) -> String {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 4);
    escape_into(&mut out, bytes, mode);
    out
}

/// Append the escaped form of `bytes` to `out` (no allocation per byte on the hot path).
pub fn escape_into(out: &mut String, bytes: &[u8], mode: Mode) {
    // Copy runs of bytes that need no escaping in one go.
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let needs = b <= 0x20
            || b >= 0x7f
            || b == b'"'
            || b == b'\''
            || (b == b'\\' && mode == Mode::Quoted);
        if needs {
            // Everything in bytes[start..i] is printable ASCII, so valid UTF-8.
            out.push_str(ascii(&bytes[start..i]));
            if b == b'\\' {
                out.push_str("\\\\");
            } else {
                let _ = write!(out, "\\{b:02x}");
            }
            start = i + 1;
        }
    }
    out.push_str(ascii(&bytes[start..]));
}

fn ascii(b: &[u8]) -> &str {
    // Callers only pass runs of printable ASCII.
    std::str::from_utf8(b).unwrap_or_default()
}

/// Decode every `\` followed by two **lower-case** hex digits; nothing else changes.
pub fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\'
            && let (Some(h), Some(l)) = (
                s.get(i + 1).and_then(|&c| lower_hex(c)),
                s.get(i + 2).and_then(|&c| lower_hex(c)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// `unescape` for text known to be UTF-8 after decoding (lossy otherwise).
pub fn unescape_str(s: &str) -> String {
    String::from_utf8_lossy(&unescape(s.as_bytes())).into_owned()
}

fn lower_hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_mode_matches_transcript() {
        let summary = "h1 h2 failed 'sq' \"dq\" back\\slash tab\there";
        assert_eq!(
            escape(summary.as_bytes(), Mode::Quoted),
            r"h1\20h2\20failed\20\27sq\27\20\22dq\22\20back\\slash\20tab\09here"
        );
        assert_eq!(escape("café\n".as_bytes(), Mode::Quoted), r"caf\c3\a9\0a");
    }

    #[test]
    fn plain_mode_keeps_backslash() {
        assert_eq!(escape(br"a\b c", Mode::Plain), r"a\b\20c");
        assert_eq!(escape(b"hr {3am-4am}", Mode::Plain), r"hr\20{3am-4am}");
    }

    #[test]
    fn unescape_only_lower_hex() {
        assert_eq!(unescape(br"a\20b"), b"a b");
        assert_eq!(unescape(br"\41"), b"A");
        assert_eq!(unescape(br"\4A"), br"\4A");
        assert_eq!(unescape(br"back\\slash"), br"back\\slash");
        assert_eq!(unescape(br"end\2"), br"end\2");
        assert_eq!(unescape(br"\"), br"\");
    }

    #[test]
    fn round_trip_quoted_is_not_identity_for_backslash() {
        // mon's quirk: `\\` is not collapsed by un_esc_str.
        let e = escape(br"x\y", Mode::Quoted);
        assert_eq!(unescape(e.as_bytes()), br"x\\y");
    }
}
