//! Shell-style word splitting exactly as mon does it: Perl's
//! `Text::ParseWords::quotewords('\s+', 0, STRING)` (config.md §9, protocol.md §5.3).
//!
//! Used for monitor and alert argument vectors, the `;;` rule, and the first-word
//! arguments of the `set` and `ack` client commands.

/// Perl's `\s`: space, TAB, LF, VT, FF, CR.
pub fn is_perl_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// Split `s` into words, or `None` when a quote is unbalanced (mon then gets no words at all).
///
/// Rules: runs of whitespace separate words; `"..."` keeps blanks and turns `\x` into `x`;
/// `'...'` keeps blanks and backslashes verbatim; outside quotes `\x` is `x`; adjacent
/// quoted and unquoted pieces join; `""` is an empty word. Perl also yields an empty first
/// word for leading whitespace and an undef last word for trailing whitespace; mon never
/// passes such strings (its monitor and alert argument strings come from trimmed lines), so
/// both are dropped here.
pub fn quotewords(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    // Whether `cur` is a word in progress (it may be empty, for `""`).
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if is_perl_space(c) => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                while chars.peek().is_some_and(|&n| is_perl_space(n)) {
                    chars.next();
                }
            }
            '"' => {
                in_word = true;
                let mut closed = false;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some(e) => cur.push(e),
                            None => return None,
                        },
                        other => cur.push(other),
                    }
                }
                if !closed {
                    return None;
                }
            }
            '\'' => {
                in_word = true;
                let mut closed = false;
                // Perl keeps backslashes inside single quotes, but a backslash still
                // protects the next character from ending the quote (`'a\'b'` is `a\'b`).
                while let Some(q) = chars.next() {
                    match q {
                        '\'' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            cur.push('\\');
                            match chars.next() {
                                Some(e) => cur.push(e),
                                None => return None,
                            }
                        }
                        other => cur.push(other),
                    }
                }
                if !closed {
                    return None;
                }
            }
            '\\' => {
                in_word = true;
                // A trailing lone backslash: Perl's regex cannot match it as an escape and
                // the line fails to parse, like an unbalanced quote.
                match chars.next() {
                    Some(e) => cur.push(e),
                    None => return None,
                }
            }
            other => {
                in_word = true;
                cur.push(other);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// The first shell word of `s` (what `set` and `ack` keep), or `""` when there is none or
/// the quotes are unbalanced.
pub fn first_word(s: &str) -> String {
    quotewords(s)
        .and_then(|w| w.into_iter().next())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_quotewords() {
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("a b  c", Some(&["a", "b", "c"])),
            ("  lead trail  ", Some(&["lead", "trail"])),
            (
                r#"-x "quoted arg" 'single q'"#,
                Some(&["-x", "quoted arg", "single q"]),
            ),
            (r"'a\.b'", Some(&[r"a\.b"])),
            (r"'a\'b'", Some(&[r"a\'b"])),
            (r"'x\\y'", Some(&[r"x\\y"])),
            (r"a\.b", Some(&["a.b"])),
            (r"b\ c", Some(&["b c"])),
            (r#"a"b c"d"#, Some(&["ab cd"])),
            (r#""""#, Some(&[""])),
            (r#"x "" y"#, Some(&["x", "", "y"])),
            (r#""a\"b""#, Some(&[r#"a"b"#])),
            (r#"-x "unbalanced"#, None),
            ("'open", None),
            ("", Some(&[])),
            ("tab\there", Some(&["tab", "here"])),
        ];
        for (input, want) in cases {
            let got = quotewords(input);
            let want = want.map(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "input {input:?}");
        }
    }

    #[test]
    fn first_word_rules() {
        assert_eq!(first_word("looking into it 'now'"), "looking");
        assert_eq!(first_word(r"'quoted\20comment' more"), r"quoted\20comment");
        assert_eq!(first_word(r"hello\20world and more"), "hello20world");
        assert_eq!(first_word(r#""double quoted""#), "double quoted");
        assert_eq!(first_word(""), "");
        assert_eq!(first_word("'unbalanced"), "");
    }
}
