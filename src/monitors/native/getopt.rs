//! Option parsing exactly as the stock scripts do it: Perl's `Getopt::Std::getopts` 1.13
//! (tcp.monitor, http.monitor) and `Getopt::Long::GetOptions` 2.52 with its default
//! configuration (msql-mysql.monitor), including the messages they print on stderr.
//!
//! Arguments are bytes: Perl sees argv as byte strings, and so do the messages.

use std::collections::BTreeMap;

/// What `getopts` left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StdOpts {
    /// Option letter → value (`None`: an argument option given last with nothing after it;
    /// boolean options hold `Some("1")`).
    pub opts: BTreeMap<u8, Option<Vec<u8>>>,
    /// What remains of argv (the hosts).
    pub operands: Vec<Vec<u8>>,
    /// Everything getopts printed on stderr, in order.
    pub stderr: Vec<u8>,
}

impl StdOpts {
    /// The value of option `c`, when given with a value.
    pub fn get(&self, c: u8) -> Option<&[u8]> {
        self.opts.get(&c).and_then(|v| v.as_deref())
    }

    /// Whether option `c` was given at all.
    pub fn has(&self, c: u8) -> bool {
        self.opts.contains_key(&c)
    }
}

/// `getopts(SPEC, \%opt)` over `argv`. `program` is the script's `$0` and `script_spec` the
/// script's own spec (both used by `--help` and `--version`, which Getopt::Std answers on
/// stderr before carrying on); `spec` may add monrs's extension letters.
pub fn std_getopts(spec: &str, script_spec: &str, argv: &[&[u8]], program: &str) -> StdOpts {
    let spec_b = spec.as_bytes();
    // `split(/ */, $spec)`: one element per character.
    let mut out = StdOpts::default();
    let mut args: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    let mut idx = 0;
    while idx < args.len() {
        let cur = args[idx].clone();
        if cur.len() < 2 || cur[0] != b'-' {
            break;
        }
        let first = cur[1];
        let rest = cur[2..].to_vec();
        if cur == b"--" {
            idx += 1;
            break;
        }
        if let Some(pos) = spec_b.iter().position(|&c| c == first) {
            if spec_b.get(pos + 1) == Some(&b':') {
                idx += 1;
                let val = if rest.is_empty() {
                    let v = args.get(idx).cloned();
                    if v.is_some() {
                        idx += 1;
                    }
                    v
                } else {
                    Some(rest)
                };
                out.opts.insert(first, val);
            } else {
                out.opts.insert(first, Some(b"1".to_vec()));
                if rest.is_empty() {
                    idx += 1;
                } else {
                    let mut next = vec![b'-'];
                    next.extend_from_slice(&rest);
                    args[idx] = next;
                }
            }
        } else if first == b'-' && rest == b"help" {
            version_mess(&mut out.stderr, program);
            help_mess(&mut out.stderr, script_spec, program);
            try_exit(&mut out.stderr);
            idx += 1;
        } else if first == b'-' && rest == b"version" {
            version_mess(&mut out.stderr, program);
            try_exit(&mut out.stderr);
            idx += 1;
        } else {
            out.stderr.extend_from_slice(b"Unknown option: ");
            out.stderr.push(first);
            out.stderr.push(b'\n');
            if rest.is_empty() {
                idx += 1;
            } else {
                let mut next = vec![b'-'];
                next.extend_from_slice(&rest);
                args[idx] = next;
            }
        }
    }
    out.operands = args.split_off(idx.min(args.len()));
    out
}

fn version_mess(out: &mut Vec<u8>, program: &str) {
    out.extend_from_slice(
        format!(
            "{program} version [unknown] calling Getopt::Std::getopts (version 1.13 [paranoid]),\n\
             running under Perl version 5.36.0.\n"
        )
        .as_bytes(),
    );
}

fn help_mess(out: &mut Vec<u8>, spec: &str, program: &str) {
    let chars: Vec<char> = spec.chars().collect();
    let mut witharg = Vec::new();
    let mut rest = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == ':' || c.is_whitespace() {
            continue;
        }
        if chars.get(i + 1) == Some(&':') {
            witharg.push(c);
        } else {
            rest.push(c);
        }
    }
    let mut help = String::new();
    let mut arg = "";
    if !witharg.is_empty() {
        help.push_str("\n\tWith arguments: -");
        help.push_str(&join_chars(&witharg, " -"));
        arg = "\nSpace is not required between options and their arguments.";
    }
    if !rest.is_empty() {
        help.push_str("\n\tBoolean (without arguments): -");
        help.push_str(&join_chars(&rest, " -"));
    }
    let scr = program.rsplit(['/', '\\']).next().unwrap_or(program);
    out.extend_from_slice(
        format!(
            "\nUsage: {scr} [-OPTIONS [-MORE_OPTIONS]] [--] [PROGRAM_ARG1 ...]\n\
             \nThe following single-character options are accepted:{help}\n\
             \nOptions may be merged together.  -- stops processing of options.{arg}\n"
        )
        .as_bytes(),
    );
}

fn join_chars(cs: &[char], sep: &str) -> String {
    cs.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

fn try_exit(out: &mut Vec<u8>) {
    out.extend_from_slice(
        b"  [Now continuing due to backward compatibility and excessive paranoia.\n   \
          See 'perldoc Getopt::Std' about $Getopt::Std::STANDARD_HELP_VERSION.]\n",
    );
}

/// The value type of a Getopt::Long option (`name=s` or `name=i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongType {
    Str,
    Int,
}

/// A Getopt::Long option value.
#[derive(Debug, Clone, PartialEq)]
pub enum LongVal {
    Str(Vec<u8>),
    /// `=i` values: Perl's `0+$arg`, kept as its decimal text when it is an integer that fits
    /// 64 bits, else the float Perl would hold.
    Int(super::perl::Num),
}

/// What `GetOptions(\%options, ...)` left behind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LongOpts {
    pub opts: BTreeMap<&'static str, LongVal>,
    /// `@ARGV` afterwards: the non-options in order (permuted), then whatever followed `--`.
    pub operands: Vec<Vec<u8>>,
    /// Warnings printed on stderr, in order.
    pub stderr: Vec<u8>,
}

impl LongOpts {
    pub fn str(&self, name: &str) -> Option<&[u8]> {
        match self.opts.get(name) {
            Some(LongVal::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<super::perl::Num> {
        match self.opts.get(name) {
            Some(LongVal::Int(n)) => Some(*n),
            _ => None,
        }
    }
}

/// `GetOptions` with Getopt::Long's defaults: permute, ignore_case, auto_abbrev, no bundling,
/// prefixes `--` and `-`, `--name=value` only with `--`, `--` ends the options.
pub fn long_getoptions(spec: &[(&'static str, LongType)], argv: &[&[u8]]) -> LongOpts {
    let mut names: Vec<&'static str> = spec.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    let mut out = LongOpts::default();
    let mut args: std::collections::VecDeque<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    let mut nonopts: Vec<Vec<u8>> = Vec::new();
    while let Some(arg) = args.pop_front() {
        if arg == b"--" {
            break;
        }
        let (starter_len, long) = if arg.starts_with(b"--") {
            (2, true)
        } else if arg.starts_with(b"-") && arg.len() > 1 {
            (1, false)
        } else {
            nonopts.push(arg);
            continue;
        };
        let mut opt = arg[starter_len..].to_vec();
        let mut optarg: Option<Vec<u8>> = None;
        if long && let Some(p) = opt.iter().skip(1).position(|&b| b == b'=').map(|p| p + 1) {
            optarg = Some(opt[p + 1..].to_vec());
            opt.truncate(p);
        }
        let starter = if long { "--" } else { "-" };
        if opt.is_empty() {
            // Only "--=..." can get here ("--" itself ended the loop).
            out.stderr
                .extend_from_slice(format!("Missing option after {starter}\n").as_bytes());
            continue;
        }
        let lc: Vec<u8> = opt.iter().map(u8::to_ascii_lowercase).collect();
        let hits: Vec<&'static str> = names
            .iter()
            .copied()
            .filter(|n| n.as_bytes().starts_with(&lc))
            .collect();
        let exact = hits
            .iter()
            .filter(|h| h.as_bytes() == lc.as_slice())
            .count()
            == 1;
        if hits.len() > 1 && !exact {
            let mut w = b"Option ".to_vec();
            w.extend_from_slice(&lc);
            w.extend_from_slice(format!(" is ambiguous ({})\n", hits.join(", ")).as_bytes());
            out.stderr.extend_from_slice(&w);
            continue;
        }
        let name = if exact {
            hits.iter().copied().find(|h| h.as_bytes() == lc.as_slice())
        } else {
            hits.first().copied()
        };
        let Some(name) = name else {
            out.stderr.extend_from_slice(b"Unknown option: ");
            out.stderr.extend_from_slice(&lc);
            out.stderr.push(b'\n');
            continue;
        };
        let ty = spec
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .unwrap_or(LongType::Str);
        let missing = match &optarg {
            Some(v) => v.is_empty(),
            None => args.is_empty(),
        };
        if missing {
            out.stderr
                .extend_from_slice(format!("Option {name} requires an argument\n").as_bytes());
            continue;
        }
        let value = match optarg {
            Some(v) => v,
            None => args.pop_front().unwrap_or_default(),
        };
        match ty {
            LongType::Str => {
                out.opts.insert(name, LongVal::Str(value));
            }
            LongType::Int => {
                if is_pat_int(&value) {
                    let digits: Vec<u8> = value.iter().copied().filter(|&b| b != b'_').collect();
                    let (n, _) = super::perl::numify(&digits);
                    out.opts.insert(name, LongVal::Int(n));
                } else {
                    let mut w = b"Value \"".to_vec();
                    w.extend_from_slice(&value);
                    w.extend_from_slice(
                        format!("\" invalid for option {name} (number expected)\n").as_bytes(),
                    );
                    out.stderr.extend_from_slice(&w);
                }
            }
        }
    }
    nonopts.extend(args);
    out.operands = nonopts;
    out
}

/// `^[-+]?_*[0-9][0-9_]*$` (Getopt::Long's PAT_INT; `$` also allows one trailing newline).
fn is_pat_int(v: &[u8]) -> bool {
    let v = v.strip_suffix(b"\n").unwrap_or(v);
    let mut i = 0;
    if matches!(v.first(), Some(b'-' | b'+')) {
        i = 1;
    }
    while v.get(i) == Some(&b'_') {
        i += 1;
    }
    if !v.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    v[i..].iter().all(|&b| b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&'static str]) -> Vec<&'static [u8]> {
        s.iter().map(|a| a.as_bytes()).collect()
    }

    #[test]
    fn std_basic_and_errors() {
        let o = std_getopts(
            "p:t:",
            "p:t:",
            &argv(&["-x", "-p", "18091", "h1", "-t", "3"]),
            "tcp.monitor",
        );
        assert_eq!(o.get(b'p'), Some(&b"18091"[..]));
        assert_eq!(
            o.operands,
            vec![b"h1".to_vec(), b"-t".to_vec(), b"3".to_vec()]
        );
        assert_eq!(o.stderr, b"Unknown option: x\n");

        let o = std_getopts("p:t:", "p:t:", &argv(&["-p18091", "-t2", "h"]), "x");
        assert_eq!(o.get(b't'), Some(&b"2"[..]));
        // `-pt`: the rest of the word is the value.
        let o = std_getopts("p:t:", "p:t:", &argv(&["-pt", "h"]), "x");
        assert_eq!(o.get(b'p'), Some(&b"t"[..]));
        // `--` ends options; `-` is an operand.
        let o = std_getopts("p:t:", "p:t:", &argv(&["--", "-p", "1"]), "x");
        assert_eq!(o.operands.len(), 2);
        let o = std_getopts("p:t:", "p:t:", &argv(&["-p", "1", "-", "h"]), "x");
        assert_eq!(o.operands, vec![b"-".to_vec(), b"h".to_vec()]);
        // A trailing option with no value: present but undefined.
        let o = std_getopts("p:t:", "p:t:", &argv(&["-p"]), "x");
        assert!(o.has(b'p') && o.get(b'p').is_none());
        // `-:` is accepted as a boolean (index() finds ':' in the spec).
        let o = std_getopts("p:t:", "p:t:", &argv(&["-:", "h"]), "x");
        assert!(o.stderr.is_empty() && o.has(b':'));
        // Bundled booleans and unknown letters.
        let o = std_getopts("p:t:u:a:m:o", "p:t:u:a:m:o", &argv(&["--foo", "h"]), "x");
        assert_eq!(o.stderr, b"Unknown option: -\nUnknown option: f\n");
        assert!(o.has(b'o'));
    }

    #[test]
    fn std_help_text() {
        // Captured from `/usr/lib/mon/mon.d/http.monitor --help` (Debian 12).
        let o = std_getopts(
            "p:t:u:a:m:o",
            "p:t:u:a:m:o",
            &argv(&["--help"]),
            "/usr/lib/mon/mon.d/http.monitor",
        );
        let want = "/usr/lib/mon/mon.d/http.monitor version [unknown] calling Getopt::Std::getopts (version 1.13 [paranoid]),\n\
running under Perl version 5.36.0.\n\
\n\
Usage: http.monitor [-OPTIONS [-MORE_OPTIONS]] [--] [PROGRAM_ARG1 ...]\n\
\n\
The following single-character options are accepted:\n\
\tWith arguments: -p -t -u -a -m\n\
\tBoolean (without arguments): -o\n\
\n\
Options may be merged together.  -- stops processing of options.\n\
Space is not required between options and their arguments.\n\
\x20 [Now continuing due to backward compatibility and excessive paranoia.\n\
\x20  See 'perldoc Getopt::Std' about $Getopt::Std::STANDARD_HELP_VERSION.]\n";
        assert_eq!(String::from_utf8_lossy(&o.stderr), want);
    }

    const MYSQL: &[(&str, LongType)] = &[
        ("mode", LongType::Str),
        ("port", LongType::Int),
        ("username", LongType::Str),
        ("password", LongType::Str),
        ("database", LongType::Str),
        ("timeout", LongType::Int),
    ];

    #[test]
    fn long_matches_getopt_long() {
        // Each case below was run against msql-mysql.monitor on Debian 12.
        let o = long_getoptions(
            MYSQL,
            &argv(&[
                "--mode", "mysql", "--user=u", "--pass=p", "--data=d", "--bogus", "h",
            ]),
        );
        assert_eq!(o.stderr, b"Unknown option: bogus\n");
        assert_eq!(o.str("username"), Some(&b"u"[..]));
        assert_eq!(o.str("database"), Some(&b"d"[..]));
        assert_eq!(o.operands, vec![b"h".to_vec()]);

        let o = long_getoptions(MYSQL, &argv(&["--p=3306", "h"]));
        assert_eq!(o.stderr, b"Option p is ambiguous (password, port)\n");

        let o = long_getoptions(MYSQL, &argv(&["--port", "abc", "h"]));
        assert_eq!(
            o.stderr,
            b"Value \"abc\" invalid for option port (number expected)\n"
        );
        assert_eq!(o.operands, vec![b"h".to_vec()]);

        let o = long_getoptions(MYSQL, &argv(&["-MODE", "mysql", "-Port", "3399", "h"]));
        assert_eq!(o.str("mode"), Some(&b"mysql"[..]));
        assert!(matches!(
            o.int("port"),
            Some(crate::monitors::native::perl::Num::Int(3399))
        ));

        let o = long_getoptions(MYSQL, &argv(&["h1", "--mode", "mysql", "h2"]));
        assert_eq!(o.operands, vec![b"h1".to_vec(), b"h2".to_vec()]);

        let o = long_getoptions(MYSQL, &argv(&["--port=3399", "--", "--mode", "x"]));
        assert_eq!(o.operands, vec![b"--mode".to_vec(), b"x".to_vec()]);

        let o = long_getoptions(MYSQL, &argv(&["--database"]));
        assert_eq!(o.stderr, b"Option database requires an argument\n");
        let o = long_getoptions(MYSQL, &argv(&["--database=", "h"]));
        assert_eq!(o.stderr, b"Option database requires an argument\n");
        assert_eq!(o.operands, vec![b"h".to_vec()]);
        let o = long_getoptions(MYSQL, &argv(&["--database", "h"]));
        assert_eq!(o.str("database"), Some(&b"h"[..]));
        assert!(o.operands.is_empty());

        let o = long_getoptions(MYSQL, &argv(&["--port=+3399", "--timeout=1_0"]));
        assert!(matches!(
            o.int("port"),
            Some(crate::monitors::native::perl::Num::Int(3399))
        ));
        assert!(matches!(
            o.int("timeout"),
            Some(crate::monitors::native::perl::Num::Int(10))
        ));
        // Single dash takes no `=value`: the whole word is the option name.
        let o = long_getoptions(MYSQL, &argv(&["-port=1", "h"]));
        assert_eq!(o.stderr, b"Unknown option: port=1\n");
        // `-` alone is an operand.
        let o = long_getoptions(MYSQL, &argv(&["-", "h"]));
        assert_eq!(o.operands.len(), 2);
    }
}
