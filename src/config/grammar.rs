//! The pest grammar (`grammar/mon.pest`) behind small functions that return plain string
//! slices with their byte offsets: pest types stay in this file.

use pest::Parser as _;
use pest::iterators::Pair;

use super::model::EveryMode;

#[derive(pest_derive::Parser)]
#[grammar = "grammar/mon.pest"]
struct MonParser;

/// A matched piece of the input and its byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    pub(crate) text: &'a str,
    pub(crate) off: usize,
}

impl<'a> Part<'a> {
    fn of(p: &Pair<'a, Rule>) -> Part<'a> {
        Part {
            text: p.as_str(),
            off: p.as_span().start(),
        }
    }

    /// This part as seen from a string in which the parsed text started at `base`.
    pub(crate) fn shift(self, base: usize) -> Part<'a> {
        Part {
            text: self.text,
            off: self.off + base,
        }
    }
}

/// The named sub-matches of `rule` on `input`, in order, if it matches.
fn matches<'a>(rule: Rule, input: &'a str, want: &[Rule]) -> Option<Vec<(Rule, Part<'a>)>> {
    let pairs = MonParser::parse(rule, input).ok()?;
    let mut out = Vec::new();
    for top in pairs {
        for p in top.into_inner().flatten() {
            if want.contains(&p.as_rule()) {
                out.push((p.as_rule(), Part::of(&p)));
            }
        }
    }
    Some(out)
}

fn first<'a>(found: &[(Rule, Part<'a>)], rule: Rule) -> Option<Part<'a>> {
    found.iter().find(|(r, _)| *r == rule).map(|(_, p)| *p)
}

fn two<'a>(input: &'a str, rule: Rule, a: Rule, b: Rule) -> Option<(Part<'a>, Part<'a>)> {
    let found = matches(rule, input, &[a, b])?;
    Some((first(&found, a)?, first(&found, b)?))
}

/// `name = value` (mon: `^(\w+)\s*=\s*(.*)$`).
pub(crate) fn global_assign(line: &str) -> Option<(Part<'_>, Part<'_>)> {
    // Cheap pre-check: most lines have no `=` at all.
    if !line.contains('=') {
        return None;
    }
    two(line, Rule::global_assign, Rule::gname, Rule::rest)
}

/// `hostgroup NAME HOSTS...` → (name, hosts text).
pub(crate) fn hostgroup_hdr(line: &str) -> Option<(Part<'_>, Part<'_>)> {
    if !line.starts_with("hostgroup") {
        return None;
    }
    two(line, Rule::hostgroup_hdr, Rule::tag, Rule::rest)
}

/// `alias NAME`.
pub(crate) fn alias_hdr(line: &str) -> Option<Part<'_>> {
    if !line.starts_with("alias") {
        return None;
    }
    first(&matches(Rule::alias_hdr, line, &[Rule::tag])?, Rule::tag)
}

/// `view NAME ITEMS...` → (name, items text).
pub(crate) fn view_hdr(line: &str) -> Option<(Part<'_>, Part<'_>)> {
    if !line.starts_with("view") {
        return None;
    }
    two(line, Rule::view_hdr, Rule::tag, Rule::rest)
}

/// `watch NAME [ignored...]` → (name, ignored rest).
pub(crate) fn watch_hdr(line: &str) -> Option<(Part<'_>, Part<'_>)> {
    if !line.starts_with("watch") {
        return None;
    }
    two(line, Rule::watch_hdr, Rule::tag, Rule::rest)
}

/// `NAME=value` inside a watch (upper-case name, no blank before `=`).
pub(crate) fn env_assign(line: &str) -> Option<(Part<'_>, Part<'_>)> {
    if !line.contains('=') {
        return None;
    }
    two(line, Rule::env_assign, Rule::env_name, Rule::rest)
}

/// `keyword args...` (mon: `^(\w+)\s*(.*)$`).
///
/// This is the rule every line of every watch goes through, so it is done by hand here:
/// the split is trivially the `keyword_line` rule of the grammar, and the unit test
/// `keyword_line_is_the_grammar_rule` checks the two against each other on random input.
/// (A pest parse costs about a microsecond; a 10,000-service config has 100,000 lines.)
pub(crate) fn keyword_line(line: &str) -> Option<(Part<'_>, Part<'_>)> {
    let end = line
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(line.len());
    if end == 0 {
        return None;
    }
    let rest = line[end..].trim_start_matches(super::words::is_perl_space);
    Some((
        Part {
            text: &line[..end],
            off: 0,
        },
        Part {
            text: rest,
            off: line.len() - rest.len(),
        },
    ))
}

/// `keyword_line` through pest, for the equivalence test.
#[cfg(test)]
fn keyword_line_pest(line: &str) -> Option<(Part<'_>, Part<'_>)> {
    two(line, Rule::keyword_line, Rule::keyword, Rule::rest)
}

/// Whether `s` is a valid service name (`^[a-zA-Z0-9_.-]+$`).
pub(crate) fn is_service_name(s: &str) -> bool {
    MonParser::parse(Rule::service_name, s).is_ok()
}

/// `period` arguments → (label, spec). An unlabelled period has no label part.
pub(crate) fn period_args(args: &str) -> (Option<Part<'_>>, Part<'_>) {
    let found = matches(
        Rule::period_args,
        args,
        &[Rule::period_label, Rule::period_spec],
    );
    match found {
        Some(f) => (
            first(&f, Rule::period_label),
            first(&f, Rule::period_spec).unwrap_or(Part { text: args, off: 0 }),
        ),
        None => (None, Part { text: args, off: 0 }),
    }
}

/// The forms of `alertafter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlertAfter<'a> {
    /// `N`
    Count(Part<'a>),
    /// `TIME` (`\d+[hms]`)
    Time(Part<'a>),
    /// `[junk] N TIME`
    CountTime(Part<'a>, Part<'a>),
    Invalid,
}

pub(crate) fn alertafter(args: &str) -> AlertAfter<'_> {
    if let Some(f) = matches(Rule::alertafter_n, args, &[Rule::digits])
        && let Some(n) = first(&f, Rule::digits)
    {
        return AlertAfter::Count(n);
    }
    if let Some(f) = matches(Rule::alertafter_t, args, &[Rule::af_time])
        && let Some(t) = first(&f, Rule::af_time)
    {
        return AlertAfter::Time(t);
    }
    if let Some(f) = matches(Rule::alertafter_nt, args, &[Rule::digits, Rule::af_time]) {
        // af_time's own digits are inside it; the first `digits` pair is N.
        if let (Some(n), Some(t)) = (first(&f, Rule::digits), first(&f, Rule::af_time)) {
            return AlertAfter::CountTime(n, t);
        }
    }
    AlertAfter::Invalid
}

/// `alertevery` arguments → (the time text, the mode), in mon's order of tests.
pub(crate) fn alertevery(args: &str) -> (Part<'_>, EveryMode) {
    // Every mode form needs a blank before the mode word.
    if !args.contains(super::words::is_perl_space) {
        return (Part { text: args, off: 0 }, EveryMode::Summary);
    }
    let tries = [
        (Rule::alertevery_observe, EveryMode::ObserveDetail),
        (Rule::alertevery_ignore, EveryMode::IgnoreSummary),
        (Rule::alertevery_summary, EveryMode::Summary),
        (Rule::alertevery_strict, EveryMode::Strict),
    ];
    for (rule, mode) in tries {
        if let Some(f) = matches(rule, args, &[Rule::av_time])
            && let Some(t) = first(&f, Rule::av_time)
        {
            return (t, mode);
        }
    }
    (Part { text: args, off: 0 }, EveryMode::Summary)
}

/// The `exit=RANGE` filter at the start of an alert line, if mon's runtime regex sees one.
pub(crate) fn alert_exit(args: &str) -> Option<Part<'_>> {
    if !args
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("exit"))
    {
        return None;
    }
    first(
        &matches(Rule::alert_exit, args, &[Rule::exit_range])?,
        Rule::exit_range,
    )
}

/// `alertexitrange` argument → the range text.
pub(crate) fn exit_range_arg(args: &str) -> Option<Part<'_>> {
    first(
        &matches(Rule::exitrange_arg, args, &[Rule::exit_range])?,
        Rule::exit_range,
    )
}

/// Whether `numalerts`'s argument is all digits.
pub(crate) fn is_numalerts(args: &str) -> bool {
    MonParser::parse(Rule::numalerts_arg, args).is_ok()
}

/// `cron` arguments → the fields (quotes removed).
pub(crate) fn cron_fields(args: &str) -> Option<Vec<Part<'_>>> {
    let f = matches(Rule::cron_args, args, &[Rule::cron_field])?;
    Some(f.into_iter().map(|(_, p)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t<'a>(p: Option<Part<'a>>) -> Option<&'a str> {
        p.map(|p| p.text)
    }

    #[test]
    fn top_level_lines() {
        let (n, v) = global_assign("maxprocs   =  5 x").expect("global");
        assert_eq!((n.text, v.text, v.off), ("maxprocs", "5 x", 14));
        assert!(global_assign("service = x").is_some());
        assert!(global_assign("a b = c").is_none());
        let (g, h) = hostgroup_hdr("hostgroup my@group h1").expect("hostgroup");
        assert_eq!((g.text, h.text), ("my", "@group h1"));
        assert!(hostgroup_hdr("hostgroups g").is_none());
        assert_eq!(t(alias_hdr("alias a.b")), Some("a.b"));
        assert!(alias_hdr("alias a b").is_none());
        assert!(view_hdr("view v").is_none());
        assert_eq!(
            view_hdr("view v g1 g2").map(|(v, r)| (v.text, r.text)),
            Some(("v", "g1 g2"))
        );
        assert_eq!(
            watch_hdr("watch db1.example.com this text").map(|(w, _)| w.text),
            Some("db1.example.com")
        );
        assert!(watch_hdr("Watch g").is_none());
    }

    #[test]
    fn watch_body_lines() {
        assert_eq!(
            env_assign("FOO=bar value").map(|(n, v)| (n.text, v.text)),
            Some(("FOO", "bar value"))
        );
        assert!(env_assign("foo=bar").is_none());
        assert!(env_assign("FOO =bar").is_none());
        assert_eq!(
            keyword_line("interval\t30s").map(|(k, a)| (k.text, a.text, a.off)),
            Some(("interval", "30s", 9))
        );
        assert_eq!(
            keyword_line("no_comp_alerts").map(|(k, a)| (k.text, a.text)),
            Some(("no_comp_alerts", ""))
        );
        assert!(keyword_line("-x").is_none());
        assert!(is_service_name("a.b-c_1"));
        assert!(!is_service_name("a:b"));
        assert!(!is_service_name(""));
    }

    proptest::proptest! {
        #[test]
        fn keyword_line_is_the_grammar_rule(line in "[a-zA-Z0-9_ \t\r\x0b\x0c=#{}.:-]{0,12}") {
            proptest::prop_assert_eq!(keyword_line(&line), keyword_line_pest(&line));
        }
    }

    #[test]
    fn period_labels() {
        let (l, s) = period_args("Work_1: wd {Mon-Fri}");
        assert_eq!((t(l), s.text, s.off), (Some("Work_1"), "wd {Mon-Fri}", 8));
        let (l, s) = period_args("1x: wd {Sun-Sat}");
        assert_eq!((t(l), s.text), (None, "1x: wd {Sun-Sat}"));
        let (l, s) = period_args("lbl:");
        assert_eq!((t(l), s.text), (Some("lbl"), ""));
        let (l, s) = period_args("");
        assert_eq!((t(l), s.text), (None, ""));
        let (l, s) = period_args("wd {Sun-Sat}, hr {bogus}");
        assert_eq!((t(l), s.text), (None, "wd {Sun-Sat}, hr {bogus}"));
    }

    #[test]
    fn alertafter_forms() {
        assert!(matches!(alertafter("3"), AlertAfter::Count(p) if p.text == "3"));
        assert!(matches!(alertafter("30m"), AlertAfter::Time(p) if p.text == "30m"));
        assert!(matches!(alertafter("2 30m"),
            AlertAfter::CountTime(n, t) if n.text == "2" && t.text == "30m"));
        assert!(matches!(alertafter("foo 2 30m"),
            AlertAfter::CountTime(n, t) if n.text == "2" && t.text == "30m"));
        assert!(matches!(alertafter("x12 30m"),
            AlertAfter::CountTime(n, _) if n.text == "12"));
        assert!(matches!(alertafter("1 2 30m"),
            AlertAfter::CountTime(n, _) if n.text == "2"));
        assert_eq!(alertafter("3d"), AlertAfter::Invalid);
        assert_eq!(alertafter("2 1.5m"), AlertAfter::Invalid);
        assert_eq!(alertafter("30M"), AlertAfter::Invalid);
        assert_eq!(alertafter(""), AlertAfter::Invalid);
    }

    #[test]
    fn alertevery_modes() {
        let m = |s| {
            let (p, m) = alertevery(s);
            (p.text, m)
        };
        assert_eq!(m("10m"), ("10m", EveryMode::Summary));
        assert_eq!(m("10m observe_detail"), ("10m", EveryMode::ObserveDetail));
        assert_eq!(m("10m IGNORE_SUMMARY"), ("10m", EveryMode::IgnoreSummary));
        assert_eq!(m("10m strict"), ("10m", EveryMode::Strict));
        assert_eq!(m("10m summary"), ("10m", EveryMode::Summary));
        assert_eq!(m("a 10m summary"), ("10m", EveryMode::Summary));
        assert_eq!(m("10 strict"), ("10", EveryMode::Strict));
        assert_eq!(m("x 10m strict"), ("10m", EveryMode::Strict));
        assert_eq!(m("10m bogus"), ("10m bogus", EveryMode::Summary));
    }

    #[test]
    fn exit_filters() {
        assert_eq!(t(alert_exit("exit=2 mail.alert x")), Some("2"));
        assert_eq!(t(alert_exit("EXIT = 3-5 mail.alert")), Some("3-5"));
        assert_eq!(t(alert_exit("exit=2")), None);
        assert_eq!(t(alert_exit("exit=3-x y")), None);
        assert_eq!(t(alert_exit("mail.alert exit=2 y")), None);
        assert_eq!(t(exit_range_arg("3-5")), Some("3-5"));
        assert_eq!(t(exit_range_arg("3 - 5")), None);
        assert!(is_numalerts("12"));
        assert!(!is_numalerts("two"));
    }

    #[test]
    fn cron_argument_fields() {
        let f = |s| cron_fields(s).map(|v| v.iter().map(|p| p.text).collect::<Vec<_>>());
        assert_eq!(
            f("\"*/5 * * * 1-5\""),
            Some(vec!["*/5", "*", "*", "*", "1-5"])
        );
        assert_eq!(f("0 3 * * *"), Some(vec!["0", "3", "*", "*", "*"]));
        assert_eq!(f("@daily"), Some(vec!["@daily"]));
        assert_eq!(f("\"0 3 * *"), None);
        assert_eq!(f(""), None);
    }
}
