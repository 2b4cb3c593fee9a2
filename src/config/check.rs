//! `monrs --check` and `--dump-config`: load the config as the daemon would (same file
//! choice, `-M`, command-line overrides), report every finding, and exit with a status a
//! script can test. Needs no daemon.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::paths::{self, Overrides, Paths};
use super::{Config, LoadOptions, Loaded, Severity, Warning};
use crate::cli::DaemonArgs;

/// `--check` exit status: the config loads and nothing stops it from working.
pub const EXIT_OK: u8 = 0;
/// The config loads (mon would start with it) but has a finding monrs treats as fatal
/// in `--check` (e.g. a monitor that can never run).
pub const EXIT_REJECTED: u8 = 1;
/// The config cannot be loaded: mon would refuse it too (or the file, m4 or an option
/// is unusable).
pub const EXIT_INVALID: u8 = 2;

/// Everything `--check` and `--dump-config` learn about a config.
#[derive(Debug, Clone)]
pub struct Checked {
    pub file: PathBuf,
    pub loaded: Loaded,
    pub overrides: Overrides,
    pub paths: Paths,
    /// Every finding, including script lookups in the effective paths, in line order.
    pub warnings: Vec<Warning>,
}

/// Why the config could not be loaded.
#[derive(Debug, Clone)]
pub struct Failed {
    /// Our located message, rendered (source line, caret, help, mon's text).
    pub rendered: String,
    /// The one line real mon prints on stderr in the same case (`cf error: ...`,
    /// `config file X does not exist`, `basedir X does not exist`, ...), for a daemon
    /// that wants to fail exactly like mon.
    pub mon_message: Option<String>,
}

/// Load the config a daemon started with `args` would load (the file mon would choose,
/// `-M`, `-b` must exist, `-r` must be a time value), resolve the effective paths, and
/// collect every finding. The daemon can start from this too: `Checked` has the config,
/// the overrides still to apply to its globals (`Overrides::apply`) and the paths.
pub fn check(args: &DaemonArgs) -> Result<Checked, Failed> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let file = paths::config_file(args.configfile.as_deref(), args.cfbasedir.as_deref(), &cwd);
    if let Some(b) = args.basedir.as_deref()
        && paths::perl_true(Some(b))
        && !Path::new(b).is_dir()
    {
        return Err(Failed {
            rendered: format!(
                "{}: error: basedir {b} (-b) does not exist\n  = mon prints: basedir {b} does not exist\n",
                file.display()
            ),
            mon_message: Some(format!("basedir {b} does not exist")),
        });
    }
    let overrides = Overrides::from_args(args).map_err(|e| Failed {
        rendered: format!("{}: error: -r: {e}\n", file.display()),
        mon_message: Some("bad randstart value".into()),
    })?;
    let opts = LoadOptions {
        m4: args.m4.clone(),
        ..LoadOptions::default()
    };
    let loaded = super::load(&file, &opts).map_err(|e| Failed {
        rendered: e.render(),
        mon_message: e.mon_message,
    })?;
    let paths = Paths::resolve(&loaded.config.globals, &overrides);
    let warnings = all_warnings(&loaded, &overrides, &paths);
    Ok(Checked {
        file,
        loaded,
        overrides,
        paths,
        warnings,
    })
}

/// The loader's findings (minus path-list findings a command-line option made moot), the
/// script lookups in `paths`, and whether the auth file mon opens at startup is readable.
pub fn all_warnings(loaded: &Loaded, overrides: &Overrides, paths: &Paths) -> Vec<Warning> {
    let moot: Vec<Warning> = loaded
        .path_lists
        .iter()
        .map(|(_, w)| w.clone())
        .filter(|w| !loaded.path_list_warnings(overrides).contains(w))
        .collect();
    let mut all: Vec<Warning> = loaded
        .warnings
        .iter()
        .filter(|w| !moot.contains(w))
        .cloned()
        .collect();
    all.extend(loaded.script_warnings(paths));
    for (flag, value) in [("-s", &overrides.mondir), ("-a", &overrides.alertdir)] {
        if let Some(v) = value.as_deref().filter(|v| paths::perl_true(Some(v)))
            && let Some((message, help)) = super::lint::s_colon_quirk(v)
        {
            all.push(Warning {
                path: loaded.config.source.clone(),
                line: 0,
                col: 0,
                message: format!("{flag} {v}: {message}"),
                suggestion: Some(help),
                severity: Severity::Warning,
                mon_message: None,
                snippet: None,
            });
        }
    }
    if std::fs::File::open(&paths.authfile).is_err() {
        let reason = std::fs::File::open(&paths.authfile)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        all.push(Warning {
            path: loaded.config.source.clone(),
            line: 0,
            col: 0,
            message: format!(
                "the auth file {} cannot be opened ({reason}): mon refuses to start without it",
                paths.authfile.display()
            ),
            suggestion: Some(
                "create it, or set `authfile` (relative to cfbasedir) or the -A option".into(),
            ),
            severity: Severity::Reject,
            mon_message: Some(format!(
                "could not open {}: {reason}",
                paths.authfile.display()
            )),
            snippet: None,
        });
    }
    all.sort_by_key(|w| w.line);
    all
}

/// `monrs --check`: print findings to stderr and a one-line verdict to stdout.
pub fn run_check(args: &DaemonArgs) -> ExitCode {
    let checked = match check(args) {
        Ok(c) => c,
        Err(f) => {
            eprint!("{}", f.rendered);
            println!("config: INVALID (mon would refuse it too)");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let mut err = std::io::stderr().lock();
    for w in &checked.warnings {
        let _ = writeln!(err, "{}", w.render());
    }
    let rejects = checked
        .warnings
        .iter()
        .filter(|w| w.severity == Severity::Reject)
        .count();
    let warnings = checked.warnings.len() - rejects;
    let services = checked.loaded.config.services().count();
    let summary = format!(
        "{}: {} watches, {} services, {} warning{}",
        checked.file.display(),
        checked.loaded.config.watches.len(),
        services,
        warnings,
        if warnings == 1 { "" } else { "s" }
    );
    if rejects > 0 {
        println!(
            "{summary}, {rejects} problem{} --check treats as fatal: REJECTED",
            if rejects == 1 { "" } else { "s" }
        );
        ExitCode::from(EXIT_REJECTED)
    } else {
        println!("{summary}: OK");
        ExitCode::from(EXIT_OK)
    }
}

#[derive(Serialize)]
struct Dump<'a> {
    file: &'a Path,
    config: &'a Config,
    paths: &'a Paths,
    warnings: &'a [Warning],
}

/// `monrs --dump-config`: the resolved config, effective paths and findings as JSON on
/// stdout. Exits like `--check` when the config cannot be loaded.
pub fn run_dump(args: &DaemonArgs) -> ExitCode {
    let checked = match check(args) {
        Ok(c) => c,
        Err(f) => {
            eprint!("{}", f.rendered);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let dump = Dump {
        file: &checked.file,
        config: &checked.loaded.config,
        paths: &checked.paths,
        warnings: &checked.warnings,
    };
    match serde_json::to_string_pretty(&dump) {
        Ok(s) => {
            println!("{s}");
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("monrs: cannot encode the config as JSON: {e}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}
