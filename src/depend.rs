//! mon's dependency expressions (`depend`, `alertdepend`, `monitordepend`, `hostdepend`):
//! Perl boolean expressions over `group:service` tokens, parsed and evaluated safely.
//!
//! mon replaces every `[a-zA-Z0-9_.-]+:[a-zA-Z0-9_.-]+` token by 1 or 0 and `eval`s the
//! result as Perl under `use strict`. We accept the subset a dependency needs (tokens,
//! integer literals, `!`, `&&`, `||`, `not`, `and`, `or`, parentheses, blanks and `#`
//! comments) with Perl's precedence, and report anything else as an error with a column,
//! where mon would get an eval error and leave the dependency status unchanged.

use std::convert::Infallible;
use std::ops::Range;

/// A parsed dependency expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    text: String,
    /// Distinct `group:service` tokens in order of appearance (comments included, as mon
    /// looks them all up).
    refs: Vec<(String, String)>,
    root: Root,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Root {
    /// An empty expression: mon does not evaluate it and counts it as satisfied.
    Empty,
    /// Only blanks or comments: Perl's `eval` yields undef, which is false.
    Nothing,
    Node(Node),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Const(bool),
    /// Index into `refs`.
    Ref(usize),
    Not(Box<Node>),
    All(Vec<Node>),
    Any(Vec<Node>),
}

impl Node {
    fn eval(&self, vals: &[bool]) -> bool {
        match self {
            Node::Const(b) => *b,
            Node::Ref(i) => vals.get(*i).copied().unwrap_or(false),
            Node::Not(n) => !n.eval(vals),
            Node::All(ns) => ns.iter().all(|n| n.eval(vals)),
            Node::Any(ns) => ns.iter().any(|n| n.eval(vals)),
        }
    }
}

/// Why an expression cannot be evaluated (mon: a Perl eval error, status left unchanged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {col}: {message}")]
pub struct DependError {
    /// 1-based column in the expression text.
    pub col: u32,
    pub message: String,
}

/// Nesting allowed for parentheses, `!` and `not` (keeps evaluation off the stack limit).
const MAX_DEPTH: usize = 200;

impl Expr {
    /// Parse `text` (after `SELF:` substitution).
    pub fn parse(text: &str) -> Result<Expr, DependError> {
        let spans = token_spans(text);
        let mut refs: Vec<(String, String)> = Vec::new();
        for span in &spans {
            let (g, s) = split_token(&text[span.clone()]);
            if !refs.iter().any(|(rg, rs)| rg == g && rs == s) {
                refs.push((g.to_string(), s.to_string()));
            }
        }
        let lexemes = lex(text, &spans, &refs)?;
        let root = if text.is_empty() {
            Root::Empty
        } else if lexemes.len() == 1 {
            Root::Nothing
        } else {
            let mut p = Parser {
                text,
                lexemes: &lexemes,
                pos: 0,
                depth: 0,
            };
            let node = p.expr()?;
            let next = p.peek();
            if next.tok != Tok::End {
                return Err(p.error_at(next, p.unexpected_after(next)));
            }
            Root::Node(node)
        };
        Ok(Expr {
            text: text.to_string(),
            refs,
            root,
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every `group:service` token, in order of appearance (duplicates kept once).
    pub fn refs(&self) -> Vec<(String, String)> {
        self.refs.clone()
    }

    /// Evaluate with `value(group, service)` giving each token's truth.
    pub fn eval(&self, value: &mut dyn FnMut(&str, &str) -> bool) -> bool {
        let r: Result<bool, Infallible> = self.try_eval(|g, s| Ok(value(g, s)));
        match r {
            Ok(b) => b,
            Err(never) => match never {},
        }
    }

    /// Evaluate as mon does: look every token up first, in order (each distinct token
    /// once), stopping at the first error (mon: recursion too deep, or an eval error in
    /// a parent's own dependency), then evaluate the expression.
    pub fn try_eval<E>(
        &self,
        mut value: impl FnMut(&str, &str) -> Result<bool, E>,
    ) -> Result<bool, E> {
        let mut vals = Vec::with_capacity(self.refs.len());
        for (g, s) in &self.refs {
            vals.push(value(g, s)?);
        }
        Ok(match &self.root {
            Root::Empty => true,
            Root::Nothing => false,
            Root::Node(n) => n.eval(&vals),
        })
    }
}

/// Every `group:service` token of `text` as mon's `/[a-zA-Z0-9_.-]+:[a-zA-Z0-9_.-]+/g`
/// finds it, duplicates included (the `cmp` line of `list deps`). Works on any text,
/// including expressions that do not parse.
pub fn tokens(text: &str) -> Vec<&str> {
    token_spans(text)
        .into_iter()
        .map(|span| &text[span])
        .collect()
}

/// `dep_behavior hm` / `hostdepend`: the hosts to pass to the monitor. A host is left
/// out when its name occurs (case-sensitively, anywhere) in the summary of a failing
/// parent, as mon's `grep /\Q$host\E/, @summaries` does.
pub fn hosts_remaining<'h, H: AsRef<str>, S: AsRef<str>>(
    hosts: &'h [H],
    failing_summaries: &[S],
) -> Vec<&'h str> {
    hosts
        .iter()
        .map(AsRef::as_ref)
        .filter(|h| !failing_summaries.iter().any(|s| s.as_ref().contains(h)))
        .collect()
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Perl's whitespace in source code.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn split_token(t: &str) -> (&str, &str) {
    t.split_once(':').unwrap_or((t, ""))
}

/// Leftmost, greedy, non-overlapping matches of mon's token pattern.
fn token_spans(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let n = b.len();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < n {
        if !is_token_byte(b[i]) {
            i += 1;
            continue;
        }
        let mut colon = i;
        while colon < n && is_token_byte(b[colon]) {
            colon += 1;
        }
        if colon < n && b[colon] == b':' {
            let mut end = colon + 1;
            while end < n && is_token_byte(b[end]) {
                end += 1;
            }
            if end > colon + 1 {
                spans.push(i..end);
                i = end;
                continue;
            }
        }
        // Starting later inside the same run fails the same way.
        i = colon;
    }
    spans
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ref(usize),
    Int(bool),
    AndAnd,
    OrOr,
    Bang,
    And,
    Or,
    Not,
    LParen,
    RParen,
    End,
}

#[derive(Debug, Clone)]
struct Lexeme {
    tok: Tok,
    span: Range<usize>,
}

fn col_of(text: &str, byte: usize) -> u32 {
    let chars = text.get(..byte).map_or(byte, |s| s.chars().count());
    u32::try_from(chars + 1).unwrap_or(u32::MAX)
}

fn lex_error(text: &str, at: usize, message: String) -> DependError {
    DependError {
        col: col_of(text, at),
        message,
    }
}

/// The text of one char starting at byte `at`, for messages.
fn char_at(text: &str, at: usize) -> &str {
    let len = text
        .get(at..)
        .and_then(|s| s.chars().next())
        .map_or(1, char::len_utf8);
    text.get(at..at + len).unwrap_or("?")
}

fn lex(
    text: &str,
    spans: &[Range<usize>],
    refs: &[(String, String)],
) -> Result<Vec<Lexeme>, DependError> {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut next_token = 0;
    let mut i = 0;
    loop {
        while i < n && is_blank(b[i]) {
            i += 1;
        }
        if i < n && b[i] == b'#' {
            // A Perl comment runs to the end of the line.
            while i < n && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        while next_token < spans.len() && spans[next_token].start < i {
            next_token += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        if let Some(span) = spans.get(next_token).filter(|s| s.start == i) {
            let t = &text[span.clone()];
            if t.starts_with(['.', '-']) || t.ends_with(['.', '-']) {
                return Err(lex_error(
                    text,
                    start,
                    format!(
                        "'{t}' starts or ends with '.' or '-': mon cannot substitute such a \
                         group:service, so the expression never evaluates"
                    ),
                ));
            }
            let (g, s) = split_token(t);
            let idx = refs
                .iter()
                .position(|(rg, rs)| rg == g && rs == s)
                .unwrap_or(0);
            out.push(Lexeme {
                tok: Tok::Ref(idx),
                span: span.clone(),
            });
            i = span.end;
            continue;
        }
        let two = b.get(i..i + 2);
        let (tok, len) = match b[i] {
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'!' => (Tok::Bang, 1),
            b'&' if two == Some(b"&&") => (Tok::AndAnd, 2),
            b'|' if two == Some(b"||") => (Tok::OrOr, 2),
            c if c.is_ascii_digit() => {
                let mut j = i;
                while j < n && (b[j].is_ascii_digit() || b[j] == b'_') {
                    j += 1;
                }
                let lit = &text[i..j];
                // A leading 0 makes a Perl octal literal.
                if lit.starts_with('0')
                    && let Some(bad) = lit.chars().find(|c| matches!(c, '8' | '9'))
                {
                    return Err(lex_error(
                        text,
                        start,
                        format!("illegal octal digit '{bad}' in '{lit}'"),
                    ));
                }
                let nonzero = lit.bytes().any(|d| matches!(d, b'1'..=b'9'));
                (Tok::Int(nonzero), j - i)
            }
            c if is_word_byte(c) => {
                let mut j = i;
                while j < n && is_word_byte(b[j]) {
                    j += 1;
                }
                let tok = match &text[i..j] {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    w => {
                        return Err(lex_error(
                            text,
                            start,
                            format!(
                                "unknown word '{w}' (a dependency is made of group:service, \
                                 0, 1, !, &&, ||, not, and, or and parentheses)"
                            ),
                        ));
                    }
                };
                (tok, j - i)
            }
            _ => {
                return Err(lex_error(
                    text,
                    start,
                    format!(
                        "unexpected '{}' (a dependency is made of group:service, 0, 1, !, \
                         &&, ||, not, and, or and parentheses)",
                        char_at(text, i)
                    ),
                ));
            }
        };
        out.push(Lexeme {
            tok,
            span: i..i + len,
        });
        i += len;
    }
    out.push(Lexeme {
        tok: Tok::End,
        span: n..n,
    });
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    lexemes: &'a [Lexeme],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &'a Lexeme {
        let last = self.lexemes.len().saturating_sub(1);
        &self.lexemes[self.pos.min(last)]
    }

    fn bump(&mut self) -> &'a Lexeme {
        let l = self.peek();
        self.pos += 1;
        l
    }

    fn error_at(&self, l: &Lexeme, message: String) -> DependError {
        lex_error(self.text, l.span.start, message)
    }

    fn shown(&self, l: &Lexeme) -> String {
        if l.tok == Tok::End {
            "the end".to_string()
        } else {
            format!("'{}'", &self.text[l.span.clone()])
        }
    }

    /// The message for a lexeme that cannot follow a complete operand.
    fn unexpected_after(&self, l: &Lexeme) -> String {
        match l.tok {
            Tok::Ref(_) | Tok::Int(_) | Tok::Bang | Tok::Not | Tok::LParen => format!(
                "missing operator before {} (join dependencies with && or ||)",
                self.shown(l)
            ),
            Tok::RParen => "unmatched ')'".to_string(),
            _ => format!("unexpected {}", self.shown(l)),
        }
    }

    fn enter(&mut self, l: &Lexeme) -> Result<(), DependError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(l, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// A chain of `sub` operands joined by `op` (left-associative, kept flat).
    fn chain(
        &mut self,
        op: Tok,
        all: bool,
        sub: fn(&mut Self) -> Result<Node, DependError>,
    ) -> Result<Node, DependError> {
        let first = sub(self)?;
        if self.peek().tok != op {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek().tok == op {
            self.bump();
            items.push(sub(self)?);
        }
        Ok(if all {
            Node::All(items)
        } else {
            Node::Any(items)
        })
    }

    /// Lowest precedence: `or`.
    fn expr(&mut self) -> Result<Node, DependError> {
        self.chain(Tok::Or, false, Self::low_and)
    }

    fn low_and(&mut self) -> Result<Node, DependError> {
        self.chain(Tok::And, true, Self::oror)
    }

    fn oror(&mut self) -> Result<Node, DependError> {
        self.chain(Tok::OrOr, false, Self::andand)
    }

    fn andand(&mut self) -> Result<Node, DependError> {
        self.chain(Tok::AndAnd, true, Self::unary)
    }

    fn unary(&mut self) -> Result<Node, DependError> {
        let l = self.peek();
        if l.tok != Tok::Bang {
            return self.primary();
        }
        self.bump();
        self.enter(l)?;
        let operand = self.unary()?;
        self.depth -= 1;
        Ok(Node::Not(Box::new(operand)))
    }

    fn primary(&mut self) -> Result<Node, DependError> {
        let l = self.bump();
        match l.tok {
            Tok::Ref(i) => Ok(Node::Ref(i)),
            Tok::Int(b) => Ok(Node::Const(b)),
            Tok::LParen => {
                self.enter(l)?;
                let inner = self.parenthesized(l)?;
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Not => {
                self.enter(l)?;
                // `not (...)` is a function call in Perl; otherwise `not` takes
                // everything up to the next `and`/`or`/`)`.
                let operand = if self.peek().tok == Tok::LParen {
                    let open = self.bump();
                    self.parenthesized(open)?
                } else {
                    self.oror()?
                };
                self.depth -= 1;
                Ok(Node::Not(Box::new(operand)))
            }
            Tok::End => Err(self.error_at(
                l,
                "the expression ends where a group:service, 0/1, '!', 'not' or '(' is needed"
                    .to_string(),
            )),
            _ => Err(self.error_at(
                l,
                format!(
                    "expected a group:service, 0/1, '!', 'not' or '(' but found {}",
                    self.shown(l)
                ),
            )),
        }
    }

    /// The inside of `( ... )` after the `(` was taken.
    fn parenthesized(&mut self, open: &Lexeme) -> Result<Node, DependError> {
        if self.peek().tok == Tok::RParen {
            // Perl's empty list: false.
            self.bump();
            return Ok(Node::Const(false));
        }
        let inner = self.expr()?;
        let close = self.peek();
        match close.tok {
            Tok::RParen => {
                self.bump();
                Ok(inner)
            }
            Tok::End => Err(self.error_at(open, "'(' is never closed".to_string())),
            _ => Err(self.error_at(close, self.unexpected_after(close))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluate with the named tokens true and every other one false.
    fn value_with(text: &str, up: &[&str]) -> Result<bool, DependError> {
        let e = Expr::parse(text)?;
        Ok(e.eval(&mut |g, s| up.contains(&format!("{g}:{s}").as_str())))
    }

    fn err_col(text: &str) -> u32 {
        match Expr::parse(text) {
            Ok(e) => panic!("{text:?} parsed as {e:?}"),
            Err(e) => e.col,
        }
    }

    #[test]
    fn operators_and_precedence() -> Result<(), DependError> {
        let up = ["a:b", "c:d"];
        assert!(value_with("a:b && c:d", &up)?);
        assert!(!value_with("a:b && x:y", &up)?);
        assert!(value_with("x:y || c:d", &up)?);
        assert!(value_with("!x:y", &up)?);
        assert!(value_with("a:b and not x:y", &up)?);
        // `!` binds tighter than `&&`, `not` looser than `||`.
        assert!(value_with("! x:y || x:y", &up)?);
        assert!(!value_with("not x:y || a:b", &up)?);
        // `not` in an operand takes the rest of the `||` chain with it.
        assert!(!value_with("1 && not 0 || 1", &[])?);
        assert!(value_with("not (0) || 0", &[])?);
        assert!(value_with("1 or 1 and 0", &[])?);
        assert!(!value_with("0 or 1 and 0", &[])?);
        assert!(value_with("((a:b))", &up)?);
        assert!(value_with("2", &[])?);
        assert!(!value_with("00", &[])?);
        assert!(value_with("010", &[])?);
        assert!(value_with("1and 1", &[])?);
        assert!(value_with("a:b # x:y && 0", &up)?);
        assert!(value_with("", &[])?);
        assert!(!value_with("()", &[])?);
        assert!(value_with("not ()", &[])?);
        assert!(!value_with("  # only a comment", &up)?);
        Ok(())
    }

    #[test]
    fn errors_have_columns() {
        // mon's own example.cf style: a Perl syntax error.
        assert_eq!(err_col("a:b c:d"), 5);
        assert_eq!(err_col("a:b &&"), 7);
        assert_eq!(err_col("(a:b"), 1);
        assert_eq!(err_col("a:b)"), 4);
        assert_eq!(err_col("a:b & c:d"), 5);
        assert_eq!(err_col("a:b AND c:d"), 5);
        assert_eq!(err_col("08"), 1);
        assert_eq!(err_col("1.5"), 2);
        assert_eq!(err_col("-a:b"), 1);
        assert_eq!(err_col("1 && a:b."), 6);
        assert_eq!(err_col("é && a:b,"), 1);
        assert_eq!(err_col("a:b &&é"), 7);
        assert!(
            Expr::parse("a:b c:d")
                .err()
                .is_some_and(|e| e.message.contains("&&")),
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(Expr::parse(&deep).is_err());
        assert!(Expr::parse(&"!".repeat(100_000)).is_err());
        let long = vec!["1"; 100_000].join(" && ");
        assert_eq!(value_with(&long, &[]), Ok(true));
    }

    #[test]
    fn refs_and_tokens() -> Result<(), DependError> {
        let e = Expr::parse("web:http && (db.1:my-sql || web:http) # spare:x")?;
        assert_eq!(
            e.refs(),
            vec![
                ("web".to_string(), "http".to_string()),
                ("db.1".to_string(), "my-sql".to_string()),
                ("spare".to_string(), "x".to_string()),
            ]
        );
        assert_eq!(tokens("a:b c:d a:b x::y z:"), vec!["a:b", "c:d", "a:b"]);
        assert_eq!(tokens("a:b:c"), vec!["a:b"]);
        // Every token is looked up, in order, even those a short circuit would skip.
        let mut seen = Vec::new();
        let r: Result<bool, String> = e.try_eval(|g, s| {
            seen.push(format!("{g}:{s}"));
            Ok(false)
        });
        assert_eq!(r, Ok(false));
        assert_eq!(seen, ["web:http", "db.1:my-sql", "spare:x"]);
        let r = e.try_eval(|g, _| {
            if g == "db.1" {
                Err("too deep")
            } else {
                Ok(true)
            }
        });
        assert_eq!(r, Err("too deep"));
        Ok(())
    }

    #[test]
    fn hm_drops_hosts_named_in_failing_summaries() {
        let hosts = ["h1", "h2", "h3", "h22"];
        assert_eq!(hosts_remaining(&hosts, &["h2 down"]), ["h1", "h3", "h22"]);
        assert_eq!(hosts_remaining(&hosts, &["h22 down"]), ["h1", "h3"]);
        assert_eq!(hosts_remaining(&hosts, &["H2 down", ""]), hosts);
        let none: [&str; 0] = [];
        assert_eq!(hosts_remaining(&hosts, &none), hosts);
        // The host name is a literal, not a pattern.
        assert_eq!(hosts_remaining(&["a.b"], &["axb"]), ["a.b"]);
    }
}
