//! mon's command line: every mon 1.3.6 flag with its meaning and default, and monrs's
//! subcommands (`check`, `cmd`, `trap`, `check-config`) beside them.
//!
//! mon parses its options with Perl's Getopt::Long (`no_ignore_case`, no bundling), and
//! scripts depend on its exact behaviour: long names with one or two dashes, `--opt=V` and
//! `--opt V`, unique prefixes, optional values that never swallow a following option,
//! mandatory values that take whatever comes next, its error texts, and exit status 0 with
//! the usage text on any error. clap cannot express those rules, so the parser is here.

use std::ffi::OsString;

/// The daemon's options, one field per mon flag (daemon-cli-and-files.md §1), plus monrs's
/// own. `None` means "not given": the config file or mon's default decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonArgs {
    /// `-a DIR[:DIR...]`
    pub alertdir: Option<String>,
    /// `-A FILE`
    pub authfile: Option<String>,
    /// `-b DIR`
    pub basedir: Option<String>,
    /// `-B DIR`
    pub cfbasedir: Option<String>,
    /// `-c FILE`
    pub configfile: Option<String>,
    /// `-d` (repeatable)
    pub debug: u32,
    /// `-D DIR`
    pub statedir: Option<String>,
    /// `-f`: become a daemon.
    pub fork: bool,
    /// `-i SECS`: tick length (accepted; monrs does not poll, see the README).
    pub sleep: Option<u64>,
    /// `-k NUM`
    pub maxkeep: Option<usize>,
    /// `-l [disabled|opstatus|all]`: `Some("disabled")` when given without a type.
    pub loadstate: Option<String>,
    /// `-L DIR`
    pub logdir: Option<String>,
    /// `-M [PATH]`: `Some("")` for a bare `-M` (monrs then runs `m4`), else the m4 program.
    pub m4: Option<String>,
    /// `-m NUM`
    pub maxprocs: Option<u32>,
    /// `-O FACILITY`
    pub syslogfacility: Option<String>,
    /// `-p NUM`
    pub port: Option<u16>,
    /// `-P FILE` (`Some("")` = no pid file)
    pub pidfile: Option<String>,
    /// `-r TIMEVAL`, as written
    pub randstart: Option<String>,
    /// `-s DIR[:DIR...]`
    pub scriptdir: Option<String>,
    /// `-S`: start with the scheduler stopped.
    pub stopped: bool,
    /// `-t NUM`
    pub trapport: Option<u16>,
    /// monrs: `--check`: load the config, report, exit.
    pub check: bool,
    /// monrs: `--dump-config`: print the resolved config as JSON, exit.
    pub dump_config: bool,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Run the daemon (or `--check` / `--dump-config` it).
    Daemon(Box<DaemonArgs>),
    /// `-v`: print mon's version line.
    Version,
    /// `-h`: print usage.
    Help,
    /// `monrs check ...`: one native check from the command line.
    Check(Vec<OsString>),
    /// `monrs cmd ...`: the moncmd-compatible client.
    Cmd(Vec<OsString>),
    /// `monrs trap ...`: send a mon trap.
    Trap(Vec<OsString>),
    /// Getopt::Long refused the options: print these lines on stderr, then the usage on
    /// stdout, and exit 0 (mon's behaviour).
    BadOptions(Vec<String>),
    /// An option value mon would accept but monrs cannot use (e.g. a port above 65535):
    /// print the message and exit 1.
    Invalid(String),
}

/// The version line mon prints (`mon -v`); scripts grep for it, so it comes first.
pub const MON_VERSION_LINE: &str = "mon-1.3.4";

/// What `-v` prints: mon's line, then ours.
pub fn version_text() -> String {
    format!(
        "{MON_VERSION_LINE}\nmonrs {} (drop-in successor to mon 1.3.6)\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// What `-h` (and any option error) prints on stdout: mon's usage, then monrs's additions.
pub fn usage_text() -> &'static str {
    "usage: monrs [-a dir] [-A file] [-b dir] [-B dir] [-c config] [-d]
             [-D dir] [-f] [-h] [-i secs] [-k num] [-l [type]] [-L dir]
             [-M [path]] [-m num] [-p num] [-P file] [-r num] [-s dir]
             [-S] [-t num] [--check | --dump-config]
       monrs -v
       monrs check-config FILE        (same as --check -c FILE)
       monrs check tcp|http|mysql ... (one native check)
       monrs cmd ...                  (a moncmd-compatible client)
       monrs trap ...                 (send a mon trap)

  -a dir\talert script dir
  -A file\tauthorization file
  -b dir\tbase directory for alerts and monitors (basedir)
  -B dir\tbase directory for configuration files (cfbasedir)
  -c config\tconfig file, defaults to \"mon.cf\"
  -d\t\tdebug
  -D dir\tstate directory (statedir)
  -f\t\tfork and become a daemon
  -h\t\tthis help
  -i secs\tsleep interval (seconds), defaults to 1
  -k num\tkeep history of last num events
  -l [type]\tload some types of old state from statedir.  type can
                be disabled (default), opstatus or all.
  -L dir\tlog directory (logdir)
  -M [path]\tpre-process config file with m4.  if m4 isn't in $PATH
                specify the path to m4 here
  -m num\tthrottle at maximum number of monitor processes
  -O facility\tsyslog facility to use
  -p num\tserver listens on port num
  -P file\tPID file
  -r num\trandomize startup schedule
  -s dir\tmonitor script dir
  -S\t\tstart with scheduler stopped
  -t port\ttrap port
  -v\t\tprint version
  --check\tload the config, print every error and warning, exit
\t\t(0 = ok, 1 = loads but --check rejects it, 2 = invalid)
  --dump-config\tprint the resolved config as JSON and exit
"
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No value (`-f`).
    Flag,
    /// No value, counted (`-d`).
    Count,
    /// A mandatory string (`=s`): takes the next argument whatever it is.
    Str,
    /// An optional string (`:s`): takes the next argument unless it looks like an option.
    OptStr,
    /// A mandatory integer (`=i`).
    Int,
}

/// (short name, long name, kind) for every option; `'\0'` = no short name.
const OPTIONS: &[(char, &str, Kind)] = &[
    ('A', "authfile", Kind::Str),
    ('B', "cfbasedir", Kind::Str),
    ('D', "statedir", Kind::Str),
    ('L', "logdir", Kind::Str),
    ('M', "m4", Kind::OptStr),
    ('O', "syslogfacility", Kind::Str),
    ('P', "pidfile", Kind::Str),
    ('S', "stopped", Kind::Flag),
    ('a', "alertdir", Kind::Str),
    ('b', "basedir", Kind::Str),
    ('c', "configfile", Kind::Str),
    ('d', "debug", Kind::Count),
    ('f', "fork", Kind::Flag),
    ('h', "help", Kind::Flag),
    ('i', "sleep", Kind::Int),
    ('k', "maxkeep", Kind::Int),
    ('l', "loadstate", Kind::OptStr),
    ('m', "maxprocs", Kind::Int),
    ('p', "port", Kind::Int),
    ('r', "randstart", Kind::Str),
    ('s', "scriptdir", Kind::Str),
    ('t', "trapport", Kind::Int),
    ('v', "version", Kind::Flag),
    // monrs's own (long names only).
    ('\0', "check", Kind::Flag),
    ('\0', "dump-config", Kind::Flag),
];

/// Find the option `name` names: an exact short or long name first, else a unique prefix
/// of long names. Returns the option and the name Getopt::Long uses in messages (the
/// exact name typed, or the long name a prefix resolved to). Errors are its texts.
fn lookup(name: &str) -> Result<(usize, String), String> {
    let exact = OPTIONS.iter().position(|(short, long, _)| {
        (*short != '\0' && name.len() == short.len_utf8() && name.starts_with(*short))
            || name == *long
    });
    if let Some(i) = exact {
        return Ok((i, name.to_string()));
    }
    let hits: Vec<(usize, &str)> = OPTIONS
        .iter()
        .enumerate()
        .filter(|(_, (_, long, _))| !name.is_empty() && long.starts_with(name))
        .map(|(i, (_, long, _))| (i, *long))
        .collect();
    match hits.as_slice() {
        [] => Err(format!("Unknown option: {name}")),
        [(i, long)] => Ok((*i, (*long).to_string())),
        many => {
            let mut names: Vec<&str> = many.iter().map(|(_, l)| *l).collect();
            names.sort_unstable();
            Err(format!("Option {name} is ambiguous ({})", names.join(", ")))
        }
    }
}

/// Getopt::Long's integer test: `^[-+]?\d+$`.
fn parse_int(v: &str) -> Option<i128> {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Values too long for i128 are clamped; the range check below rejects them.
    Some(v.parse::<i128>().unwrap_or(if v.starts_with('-') {
        i128::MIN
    } else {
        i128::MAX
    }))
}

/// Parse the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Invocation {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match args.first().map(String::as_str) {
        Some("check") => return Invocation::Check(os(&args[1..])),
        Some("cmd") => return Invocation::Cmd(os(&args[1..])),
        Some("trap") => return Invocation::Trap(os(&args[1..])),
        Some("check-config") => {
            return match parse_daemon(&args[1..]) {
                Ok((mut d, rest)) => {
                    if let Some(file) = rest.first() {
                        d.configfile = Some(file.clone());
                    }
                    d.check = true;
                    if rest.len() > 1 {
                        Invocation::Invalid(format!(
                            "check-config takes one config file, found: {}",
                            rest.join(" ")
                        ))
                    } else {
                        Invocation::Daemon(Box::new(d))
                    }
                }
                Err(inv) => inv,
            };
        }
        _ => {}
    }
    match parse_daemon(&args) {
        Ok((d, _)) => {
            if d.check && d.dump_config {
                return Invocation::Invalid(
                    "--check and --dump-config cannot be used together".into(),
                );
            }
            Invocation::Daemon(Box::new(d))
        }
        Err(inv) => inv,
    }
}

fn os(args: &[String]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// The daemon options and the leftover non-option arguments (mon ignores those), or what
/// to do instead (`-v`, `-h`, errors).
fn parse_daemon(args: &[String]) -> Result<(DaemonArgs, Vec<String>), Invocation> {
    let mut d = DaemonArgs::default();
    let mut rest = Vec::new();
    let mut errors = Vec::new();
    let mut invalid = None;
    let (mut version, mut help) = (false, false);
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            rest.extend(args[i..].iter().cloned());
            break;
        }
        let body = if let Some(b) = arg.strip_prefix("--") {
            b
        } else if let Some(b) = arg.strip_prefix('-').filter(|b| !b.is_empty()) {
            b
        } else {
            rest.push(arg.clone());
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) if !n.is_empty() => (n, Some(v)),
            _ => (body, None),
        };
        let (idx, shown) = match lookup(name) {
            Ok(found) => found,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let (short, long, kind) = OPTIONS[idx];
        let value: Option<String> = match kind {
            Kind::Flag | Kind::Count => {
                if inline.is_some() {
                    errors.push(format!("Option {shown} does not take an argument"));
                    continue;
                }
                None
            }
            Kind::Str | Kind::Int => match inline {
                Some("") => {
                    errors.push(format!("Option {shown} requires an argument"));
                    continue;
                }
                Some(v) => Some(v.to_string()),
                None if i < args.len() => {
                    i += 1;
                    Some(args[i - 1].clone())
                }
                None => {
                    errors.push(format!("Option {shown} requires an argument"));
                    continue;
                }
            },
            Kind::OptStr => match inline {
                Some(v) => Some(v.to_string()),
                None if i < args.len() && (args[i] == "-" || !args[i].starts_with('-')) => {
                    i += 1;
                    Some(args[i - 1].clone())
                }
                None => Some(String::new()),
            },
        };
        let int = if kind == Kind::Int {
            let v = value.clone().unwrap_or_default();
            match parse_int(&v) {
                Some(n) => Some((n, v)),
                None => {
                    errors.push(format!(
                        "Value \"{v}\" invalid for option {shown} (number expected)"
                    ));
                    continue;
                }
            }
        } else {
            None
        };
        let s = value.unwrap_or_default();
        match (short, long) {
            (_, "authfile") => d.authfile = Some(s),
            (_, "cfbasedir") => d.cfbasedir = Some(s),
            (_, "statedir") => d.statedir = Some(s),
            (_, "logdir") => d.logdir = Some(s),
            (_, "m4") => d.m4 = Some(s),
            (_, "syslogfacility") => d.syslogfacility = Some(s),
            (_, "pidfile") => d.pidfile = Some(s),
            (_, "stopped") => d.stopped = true,
            (_, "alertdir") => d.alertdir = Some(s),
            (_, "basedir") => d.basedir = Some(s),
            (_, "configfile") => d.configfile = Some(s),
            (_, "debug") => d.debug += 1,
            (_, "fork") => d.fork = true,
            (_, "help") => help = true,
            (_, "loadstate") => {
                // mon: `-l` without a (true) type loads the disabled state.
                d.loadstate = Some(if s.is_empty() || s == "0" {
                    "disabled".to_string()
                } else {
                    s
                })
            }
            (_, "randstart") => d.randstart = Some(s),
            (_, "scriptdir") => d.scriptdir = Some(s),
            (_, "version") => version = true,
            (_, "check") => d.check = true,
            (_, "dump-config") => d.dump_config = true,
            (_, numeric) => {
                let Some((n, text)) = int else { continue };
                let out_of_range = |max: i128| {
                    format!("monrs: option {shown}: value {text} is out of range (0 to {max})")
                };
                match numeric {
                    "sleep" => match u64::try_from(n) {
                        Ok(v) => d.sleep = Some(v),
                        Err(_) => invalid = Some(out_of_range(i128::from(u64::MAX))),
                    },
                    "maxkeep" => match usize::try_from(n) {
                        Ok(v) => d.maxkeep = Some(v),
                        Err(_) => invalid = Some(out_of_range(usize::MAX as i128)),
                    },
                    "maxprocs" => match u32::try_from(n) {
                        Ok(v) => d.maxprocs = Some(v),
                        Err(_) => invalid = Some(out_of_range(i128::from(u32::MAX))),
                    },
                    "port" => match u16::try_from(n) {
                        Ok(v) => d.port = Some(v),
                        Err(_) => invalid = Some(out_of_range(65535)),
                    },
                    _ => match u16::try_from(n) {
                        Ok(v) => d.trapport = Some(v),
                        Err(_) => invalid = Some(out_of_range(65535)),
                    },
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(Invocation::BadOptions(errors));
    }
    if version {
        return Err(Invocation::Version);
    }
    if help {
        return Err(Invocation::Help);
    }
    if let Some(msg) = invalid {
        return Err(Invocation::Invalid(msg));
    }
    Ok((d, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &str) -> Invocation {
        parse(args.split_whitespace().map(OsString::from).collect())
    }

    fn daemon(args: &str) -> DaemonArgs {
        match p(args) {
            Invocation::Daemon(d) => *d,
            other => panic!("{args}: expected daemon args, got {other:?}"),
        }
    }

    fn errors(args: &str) -> Vec<String> {
        match p(args) {
            Invocation::BadOptions(e) => e,
            other => panic!("{args}: expected option errors, got {other:?}"),
        }
    }

    #[test]
    fn lookup_resolves_like_getopt_long() {
        let shown = |n| lookup(n).map(|x| x.1);
        assert_eq!(shown("c"), Ok("c".to_string()));
        assert_eq!(shown("conf"), Ok("configfile".to_string()));
        assert_eq!(shown("cf"), Ok("cfbasedir".to_string()));
        assert_eq!(shown("m4"), Ok("m4".to_string()));
        assert_eq!(
            lookup("st"),
            Err("Option st is ambiguous (statedir, stopped)".to_string())
        );
        assert_eq!(
            lookup("lo"),
            Err("Option lo is ambiguous (loadstate, logdir)".to_string())
        );
        assert_eq!(lookup("Conf"), Err("Unknown option: Conf".to_string()));
        assert_eq!(lookup("cx"), Err("Unknown option: cx".to_string()));
    }

    #[test]
    fn every_short_flag() {
        let d = daemon(
            "-a A -A AF -b B -B CB -c C -d -d -D D -f -i 2 -k 7 -l all -L L -M m4 -m 3 \
             -O local0 -p 2583 -P PF -r 5s -s S -S -t 2584",
        );
        assert_eq!(
            d,
            DaemonArgs {
                alertdir: Some("A".into()),
                authfile: Some("AF".into()),
                basedir: Some("B".into()),
                cfbasedir: Some("CB".into()),
                configfile: Some("C".into()),
                debug: 2,
                statedir: Some("D".into()),
                fork: true,
                sleep: Some(2),
                maxkeep: Some(7),
                loadstate: Some("all".into()),
                logdir: Some("L".into()),
                m4: Some("m4".into()),
                maxprocs: Some(3),
                syslogfacility: Some("local0".into()),
                port: Some(2583),
                pidfile: Some("PF".into()),
                randstart: Some("5s".into()),
                scriptdir: Some("S".into()),
                stopped: true,
                trapport: Some(2584),
                check: false,
                dump_config: false,
            }
        );
    }

    #[test]
    fn long_names_values_and_prefixes() {
        let d = daemon("--configfile=x.cf -conf y.cf --sta st --fo --debug -debug --m4");
        assert_eq!(d.configfile, Some("y.cf".into()));
        assert_eq!(d.statedir, Some("st".into()));
        assert!(d.fork);
        assert_eq!(d.debug, 2);
        assert_eq!(d.m4, Some(String::new()));
        assert_eq!(daemon("-c=x").configfile, Some("x".into()));
        assert_eq!(daemon("--s x").scriptdir, Some("x".into()));
        assert_eq!(daemon("--cf x").cfbasedir, Some("x".into()));
        assert_eq!(daemon("-k=+5").maxkeep, Some(5));
        assert_eq!(daemon("-i 07").sleep, Some(7));
    }

    #[test]
    fn optional_values_never_take_an_option() {
        assert_eq!(daemon("-l").loadstate, Some("disabled".into()));
        let d = daemon("-l -d");
        assert_eq!((d.loadstate.as_deref(), d.debug), (Some("disabled"), 1));
        assert_eq!(
            daemon("-l opstatus -c x").loadstate,
            Some("opstatus".into())
        );
        assert_eq!(daemon("-l=all").loadstate, Some("all".into()));
        assert_eq!(daemon("-M").m4, Some(String::new()));
        let d = daemon("-M -d");
        assert_eq!((d.m4.as_deref(), d.debug), (Some(""), 1));
        assert_eq!(daemon("-M /usr/bin/m4 -c f").m4, Some("/usr/bin/m4".into()));
        assert_eq!(daemon("-M -").m4, Some("-".into()));
    }

    #[test]
    fn mandatory_values_take_anything() {
        assert_eq!(daemon("-c -d").configfile, Some("-d".into()));
        assert_eq!(daemon("-c --").configfile, Some("--".into()));
    }

    #[test]
    fn getopt_error_texts() {
        assert_eq!(errors("-Z"), vec!["Unknown option: Z"]);
        assert_eq!(errors("-cx"), vec!["Unknown option: cx"]);
        assert_eq!(errors("-fd"), vec!["Unknown option: fd"]);
        assert_eq!(errors("-dd"), vec!["Unknown option: dd"]);
        assert_eq!(errors("--no-fork"), vec!["Unknown option: no-fork"]);
        assert_eq!(errors("---c x"), vec!["Unknown option: -c"]);
        assert_eq!(errors("-c"), vec!["Option c requires an argument"]);
        assert_eq!(
            errors("--conf"),
            vec!["Option configfile requires an argument"]
        );
        assert_eq!(errors("-c="), vec!["Option c requires an argument"]);
        assert_eq!(
            errors("-k abc"),
            vec!["Value \"abc\" invalid for option k (number expected)"]
        );
        assert_eq!(
            errors("--maxk 1.5"),
            vec!["Value \"1.5\" invalid for option maxkeep (number expected)"]
        );
        assert_eq!(
            errors("-i -d"),
            vec!["Value \"-d\" invalid for option i (number expected)"]
        );
        assert_eq!(
            errors("--deb=1"),
            vec!["Option debug does not take an argument"]
        );
        assert_eq!(errors("-f=1"), vec!["Option f does not take an argument"]);
        assert_eq!(
            errors("--st"),
            vec!["Option st is ambiguous (statedir, stopped)"]
        );
        assert_eq!(errors("-l -5"), vec!["Unknown option: 5"]);
        assert_eq!(errors("--=x"), vec!["Unknown option: =x"]);
        // Errors win over -v, and every error is reported.
        assert_eq!(
            errors("-Z -v -Y"),
            vec!["Unknown option: Z", "Unknown option: Y"]
        );
    }

    #[test]
    fn version_help_and_leftovers() {
        assert_eq!(p("-v"), Invocation::Version);
        assert_eq!(p("--ve"), Invocation::Version);
        assert_eq!(p("-h -v"), Invocation::Version);
        assert_eq!(p("--he"), Invocation::Help);
        // mon ignores non-option arguments, wherever they are.
        assert_eq!(daemon("foo -c x bar").configfile, Some("x".into()));
        assert_eq!(daemon("-S -- -d").debug, 0);
        assert!(version_text().starts_with("mon-1.3.4\n"));
    }

    #[test]
    fn out_of_range_numbers() {
        assert!(matches!(p("-p 70000"), Invocation::Invalid(m) if m.contains("out of range")));
        assert!(matches!(p("-k -5"), Invocation::Invalid(_)));
        assert!(matches!(
            p("-k 99999999999999999999999999999999999999999"),
            Invocation::Invalid(_)
        ));
    }

    #[test]
    fn subcommands_and_monrs_flags() {
        assert_eq!(
            p("check tcp -p 80 h"),
            Invocation::Check(["tcp", "-p", "80", "h"].map(OsString::from).to_vec())
        );
        assert_eq!(
            p("cmd list pids"),
            Invocation::Cmd(["list", "pids"].map(OsString::from).to_vec())
        );
        assert_eq!(
            p("trap -s x"),
            Invocation::Trap(["-s", "x"].map(OsString::from).to_vec())
        );
        let d = daemon("check-config /etc/mon/mon.cf -M");
        assert!(d.check);
        assert_eq!(d.configfile, Some("/etc/mon/mon.cf".into()));
        assert_eq!(d.m4, Some(String::new()));
        assert!(daemon("--check -c x").check);
        assert!(daemon("--dump").dump_config);
        assert!(daemon("--ch").check);
        assert!(matches!(p("--check --dump-config"), Invocation::Invalid(_)));
        // A subcommand name later on the line is just a leftover argument, as for mon.
        assert!(!daemon("-d check").check);
    }
}
