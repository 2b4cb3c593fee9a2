//! Rendering located findings the way pest and rustc do: `file:line:col: kind: message`,
//! the source line, a caret under the offending text, then help and mon's own words.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

/// The piece of source a finding points at, kept so it can be rendered without the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snippet {
    /// The physical line, as in the file (without its newline).
    pub text: String,
    /// 1-based character column where the offending text starts.
    pub col: u32,
    /// How many characters to underline (at least 1).
    pub len: u32,
}

/// Write `path:line:col: kind: message`, the snippet, and `= label: note` lines.
pub(crate) fn render(
    path: &Path,
    line: u32,
    col: u32,
    kind: &str,
    message: &str,
    snippet: Option<&Snippet>,
    notes: &[(&str, &str)],
) -> String {
    let mut out = String::new();
    if line == 0 {
        let _ = writeln!(out, "{}: {kind}: {message}", path.display());
    } else {
        let _ = writeln!(out, "{}:{line}:{col}: {kind}: {message}", path.display());
    }
    let width = line.to_string().len();
    let pad = " ".repeat(width);
    if let Some(s) = snippet.filter(|_| line > 0) {
        let (shown, start, len) = expand(&s.text, s.col, s.len);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{line} | {shown}");
        let _ = writeln!(
            out,
            "{pad} | {}{}",
            " ".repeat(start),
            "^".repeat(len.max(1))
        );
    }
    for (label, note) in notes {
        let _ = writeln!(out, "{pad} = {label}: {note}");
    }
    out
}

/// The line with tabs expanded to 4 columns and control characters shown as `?`, and the
/// display start and width of characters `col .. col+len` (1-based).
fn expand(text: &str, col: u32, len: u32) -> (String, usize, usize) {
    let first = col.saturating_sub(1) as usize;
    let last = first + len.max(1) as usize;
    let mut shown = String::new();
    let (mut start, mut end) = (None, None);
    let mut width = 0;
    for (i, c) in text.chars().enumerate() {
        if i == first {
            start = Some(width);
        }
        if i == last {
            end = Some(width);
        }
        let w = match c {
            '\t' => {
                shown.push_str("    ");
                4
            }
            c if c.is_control() => {
                shown.push('?');
                1
            }
            c => {
                shown.push(c);
                1
            }
        };
        width += w;
    }
    let start = start.unwrap_or(width);
    let end = end.unwrap_or(width.max(start + 1));
    (shown, start, end.saturating_sub(start).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let s = Snippet {
            text: "\tinterval 30s # x".to_string(),
            col: 11,
            len: 7,
        };
        let out = render(
            Path::new("m.cf"),
            11,
            11,
            "error",
            "bad",
            Some(&s),
            &[("help", "h")],
        );
        assert_eq!(
            out,
            "m.cf:11:11: error: bad\n   |\n11 |     interval 30s # x\n   |              ^^^^^^^\n   = help: h\n"
        );
    }
}
