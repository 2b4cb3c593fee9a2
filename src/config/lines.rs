//! Stage 1 of the reader: physical lines to logical lines, exactly as mon joins them
//! (config.md §2), keeping a map back to physical lines and columns for messages.

use super::words::is_perl_space;

/// The config text split into physical lines (without their `\n`), for locating and
/// quoting source text in messages.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    lines: Vec<(usize, usize)>,
    text: String,
}

impl Source {
    pub(crate) fn new(text: &str) -> Source {
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                lines.push((start, i));
                start = i + 1;
            }
        }
        if start < text.len() {
            lines.push((start, text.len()));
        }
        Source {
            lines,
            text: text.to_string(),
        }
    }

    /// Physical line `n` (1-based) without its newline, or "" past the end.
    pub(crate) fn line(&self, n: u32) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.lines.get(i as usize))
            .and_then(|&(s, e)| self.text.get(s..e))
            .unwrap_or("")
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .map(|&(s, e)| self.text.get(s..e).unwrap_or(""))
    }
}

/// One piece of a logical line: where it starts in the logical text and where that text
/// came from.
#[derive(Debug, Clone, Copy)]
struct Seg {
    /// Byte offset in the logical text.
    off: usize,
    /// Physical line (1-based).
    line: u32,
    /// Byte offset in that physical line.
    col: usize,
}

/// A logical line: what mon's reader loop works on.
#[derive(Debug, Clone)]
pub(crate) struct Logical {
    /// The joined, trimmed text. Empty for a blank line.
    pub(crate) text: String,
    /// The physical line the logical line ended on: mon's `line N` in messages.
    pub(crate) end_line: u32,
    segs: Vec<Seg>,
}

impl Logical {
    /// The physical (line, 1-based character column) of byte offset `off` of `text`.
    pub(crate) fn locate(&self, src: &Source, off: usize) -> (u32, u32) {
        let seg = self
            .segs
            .iter()
            .rev()
            .find(|s| s.off <= off)
            .or_else(|| self.segs.first());
        match seg {
            Some(s) => {
                let byte_col = s.col + (off - s.off.min(off));
                let line = src.line(s.line);
                let chars = line
                    .get(..byte_col.min(line.len()))
                    .map_or(byte_col, |p| p.chars().count());
                (s.line, u32::try_from(chars + 1).unwrap_or(u32::MAX))
            }
            None => (self.end_line, 1),
        }
    }

    /// The physical line where the logical line's text starts.
    pub(crate) fn start_line(&self) -> u32 {
        self.segs.first().map_or(self.end_line, |s| s.line)
    }
}

/// The result of stage 1, all at once (tests; the loader streams with `join_each`).
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct Joined {
    pub(crate) lines: Vec<Logical>,
    /// A continued line still open at the end of the file (mon drops it): its first
    /// physical line.
    pub(crate) dropped_tail: Option<u32>,
}

#[cfg(test)]
pub(crate) fn join(src: &Source) -> Joined {
    let mut lines = Vec::new();
    let dropped_tail = join_each(src, |l| {
        lines.push(l.clone());
        Ok::<(), ()>(())
    })
    .unwrap_or(None);
    Joined {
        lines,
        dropped_tail,
    }
}

/// Join physical lines into logical lines the way mon's reader does, and hand each one
/// to `f` (the same buffer is reused, so nothing is kept per line): comment lines (first
/// non-blank `#`) are skipped even inside a continued line; a line ending in `\` (plus
/// optional blanks) continues on the next one, whose leading blanks are dropped and which
/// is appended with nothing in between; the result is trimmed. Blank results are passed
/// too: they end records. Returns the first physical line of a continued line still open
/// at the end of the file (mon drops it), or `f`'s first error.
pub(crate) fn join_each<E>(
    src: &Source,
    mut f: impl FnMut(&Logical) -> Result<(), E>,
) -> Result<Option<u32>, E> {
    let mut acc = String::new();
    let mut segs: Vec<Seg> = Vec::new();
    let mut out = Logical {
        text: String::new(),
        end_line: 0,
        segs: Vec::new(),
    };
    let mut continuing = false;
    let mut open_since = None;
    for (i, phys) in src.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if phys.trim_start_matches(is_perl_space).starts_with('#') {
            continue;
        }
        let mut piece = phys;
        let mut col = 0;
        if continuing {
            let trimmed = piece.trim_start_matches(is_perl_space);
            col = piece.len() - trimmed.len();
            piece = trimmed;
        }
        let body = piece.trim_end_matches(is_perl_space);
        if let Some(before) = body.strip_suffix('\\') {
            segs.push(Seg {
                off: acc.len(),
                line: n,
                col,
            });
            acc.push_str(before);
            continuing = true;
            open_since.get_or_insert(n);
            continue;
        }
        segs.push(Seg {
            off: acc.len(),
            line: n,
            col,
        });
        acc.push_str(piece);
        let lead = acc.len() - acc.trim_start_matches(is_perl_space).len();
        out.text.clear();
        out.text.push_str(acc.trim_matches(is_perl_space));
        out.end_line = n;
        // Shift to offsets in the trimmed text; the blanks trimmed off the front move the
        // first piece's column.
        out.segs.clear();
        out.segs.extend(segs.drain(..).map(|s| Seg {
            off: s.off.saturating_sub(lead),
            line: s.line,
            col: s.col + lead.saturating_sub(s.off),
        }));
        // Drop pieces that contributed nothing but leading blanks, so locate() maps the
        // first character of the text to the physical line it is on.
        while out.segs.len() > 1 && out.segs[1].off == 0 {
            out.segs.remove(0);
        }
        f(&out)?;
        acc.clear();
        continuing = false;
        open_since = None;
    }
    Ok(if continuing { open_since } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<(String, u32)> {
        join(&Source::new(src))
            .lines
            .into_iter()
            .map(|l| (l.text, l.end_line))
            .collect()
    }

    #[test]
    fn joins_like_mon() {
        let got = texts("hostgroup ga a \\\n     b c\\\nd\n");
        assert_eq!(got, vec![("hostgroup ga a b cd".to_string(), 3)]);
    }

    #[test]
    fn comments_inside_continuation_are_skipped() {
        let got = texts("hostgroup gb x\\\n# c\n    y \\\n   z\n");
        assert_eq!(got, vec![("hostgroup gb xy z".to_string(), 4)]);
    }

    #[test]
    fn blank_after_continuation_completes_the_line() {
        let got = texts("a \\\n\nb\n");
        assert_eq!(got, vec![("a".to_string(), 2), ("b".to_string(), 3)]);
    }

    #[test]
    fn blank_lines_are_kept_and_crlf_trimmed() {
        let got = texts("a\r\n  \t\r\nb");
        assert_eq!(
            got,
            vec![
                ("a".to_string(), 1),
                (String::new(), 2),
                ("b".to_string(), 3)
            ]
        );
    }

    #[test]
    fn trailing_continuation_is_dropped() {
        let j = join(&Source::new("a\nb \\\nc \\\n"));
        assert_eq!(j.lines.len(), 1);
        assert_eq!(j.dropped_tail, Some(2));
    }

    #[test]
    fn double_backslash_keeps_one() {
        assert_eq!(texts("a\\\\\nb\n"), vec![("a\\b".to_string(), 2)]);
    }

    #[test]
    fn hash_after_text_is_data() {
        assert_eq!(texts("  x # y  \n"), vec![("x # y".to_string(), 1)]);
    }

    #[test]
    fn locate_maps_offsets_to_physical_positions() {
        let src = Source::new("hostgroup g a \\\n     b c\\\nd\n");
        let j = join(&src);
        let l = &j.lines[0];
        assert_eq!(l.text, "hostgroup g a b cd");
        assert_eq!(l.locate(&src, 0), (1, 1));
        assert_eq!(l.locate(&src, 12), (1, 13));
        // "b" is the first character of physical line 2 after its 5 blanks.
        assert_eq!(l.locate(&src, 14), (2, 6));
        assert_eq!(l.locate(&src, 17), (3, 1));
        let src = Source::new("    interval 30s\n");
        let j = join(&src);
        assert_eq!(j.lines[0].locate(&src, 9), (1, 14));
    }
}
