//! Request framing: turning the bytes a client sends into request lines, mon's way
//! (protocol.md §1.1), with a hard cap on the length of a line.
//!
//! Rules: a line ends at the first CR or LF; the whole run of CR/LF bytes after it is
//! swallowed, even when the run arrives in later reads (mon's result depends on how the
//! bytes happened to be split; ours does not). A CR/LF run at the very start of a
//! connection is an empty request, which mon answers with `520 invalid command`. Every
//! complete line is returned, in order (mon answers only one per read: not copied).

/// The longest request line accepted, in bytes (terminator not counted). No stock client
/// comes close: moncmd and Mon::Client send one command per line, and even `list opstatus`
/// with a thousand `group,service` specs stays far below it.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// What the framer found in the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// One complete request line (without its terminator).
    Line(Vec<u8>),
    /// The unterminated line grew beyond the cap; the connection should be dropped.
    TooLong,
}

/// Accumulates bytes and yields complete request lines.
#[derive(Debug)]
pub struct LineFramer {
    buf: Vec<u8>,
    max_line: usize,
    /// The last thing consumed was a terminator: CR/LF bytes that follow are swallowed.
    after_terminator: bool,
    /// How many bytes at the front of `buf` were already searched for a terminator.
    scanned: usize,
}

impl LineFramer {
    pub fn new(max_line: usize) -> Self {
        LineFramer {
            buf: Vec::new(),
            max_line,
            after_terminator: false,
            scanned: 0,
        }
    }

    /// Add received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes held that do not yet form a complete line.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete line, if any.
    pub fn next_frame(&mut self) -> Option<Frame> {
        if self.after_terminator {
            let skip = self
                .buf
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .unwrap_or(self.buf.len());
            if skip > 0 {
                self.buf.drain(..skip);
                self.scanned = 0;
            }
            if self.buf.is_empty() {
                return None;
            }
        }
        let from = self.scanned.min(self.buf.len());
        match self.buf[from..]
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
        {
            Some(off) => {
                let end = from + off;
                if end > self.max_line {
                    return Some(Frame::TooLong);
                }
                let mut run = end;
                while run < self.buf.len() && (self.buf[run] == b'\r' || self.buf[run] == b'\n') {
                    run += 1;
                }
                let line = self.buf[..end].to_vec();
                self.buf.drain(..run);
                self.scanned = 0;
                self.after_terminator = true;
                Some(Frame::Line(line))
            }
            None => {
                self.scanned = self.buf.len();
                if self.buf.len() > self.max_line {
                    Some(Frame::TooLong)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(framer: &mut LineFramer) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(f) = framer.next_frame() {
            match f {
                Frame::Line(l) => out.push(l),
                Frame::TooLong => panic!("unexpected TooLong"),
            }
        }
        out
    }

    #[test]
    fn every_pipelined_line_in_order() {
        let mut f = LineFramer::new(DEFAULT_MAX_LINE);
        f.push(b"list state\nversion\nquit\n");
        assert_eq!(
            lines(&mut f),
            vec![
                b"list state".to_vec(),
                b"version".to_vec(),
                b"quit".to_vec()
            ]
        );
    }

    #[test]
    fn crlf_bare_cr_and_blank_runs() {
        let mut f = LineFramer::new(DEFAULT_MAX_LINE);
        f.push(b"list state\r\nversion\rquit\r\r\n\n");
        assert_eq!(
            lines(&mut f),
            vec![
                b"list state".to_vec(),
                b"version".to_vec(),
                b"quit".to_vec()
            ]
        );
    }

    #[test]
    fn terminator_run_split_across_reads_is_still_one_terminator() {
        let mut f = LineFramer::new(DEFAULT_MAX_LINE);
        f.push(b"version\r");
        assert_eq!(lines(&mut f), vec![b"version".to_vec()]);
        f.push(b"\n\nquit\n");
        assert_eq!(lines(&mut f), vec![b"quit".to_vec()]);
    }

    #[test]
    fn leading_empty_line_is_an_empty_request() {
        // transcript 08 "leading empty line": `\nversion\n` gives 520, then the version reply
        let mut f = LineFramer::new(DEFAULT_MAX_LINE);
        f.push(b"\n\nversion\n");
        assert_eq!(lines(&mut f), vec![b"".to_vec(), b"version".to_vec()]);
    }

    #[test]
    fn partial_line_waits() {
        let mut f = LineFramer::new(DEFAULT_MAX_LINE);
        f.push(b"vers");
        assert!(f.next_frame().is_none());
        f.push(b"ion\n");
        assert_eq!(lines(&mut f), vec![b"version".to_vec()]);
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn over_long_line_is_reported_without_waiting_for_a_newline() {
        let mut f = LineFramer::new(16);
        f.push(&[b'x'; 10]);
        assert!(f.next_frame().is_none());
        f.push(&[b'x'; 10]);
        assert_eq!(f.next_frame(), Some(Frame::TooLong));
        let mut g = LineFramer::new(16);
        g.push(&[b'y'; 17]);
        g.push(b"\n");
        assert_eq!(g.next_frame(), Some(Frame::TooLong));
        let mut h = LineFramer::new(16);
        h.push(&[b'z'; 16]);
        h.push(b"\n");
        assert_eq!(h.next_frame(), Some(Frame::Line(vec![b'z'; 16])));
    }
}
