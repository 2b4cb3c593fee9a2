//! Reading mon.cf exactly as mon reads it: logical lines, the line-state machine, the pest
//! grammar for keyword arguments, validation with located errors, and lint warnings.
//!
//! The public entry points are `load` / `load_str` (plus `check` for `--check`); pest types
//! never leave this module.

pub mod check;
mod cron;
mod diag;
mod grammar;
mod lines;
mod lint;
mod m4;
pub mod model;
pub mod paths;
mod reader;
pub mod timeval;
pub mod words;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use diag::Snippet;
pub use model::*;

/// How to read a config file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-M PROG`: run `PROG FILE` and read its output. A name ending in `.m4` implies `m4`.
    /// An empty program (a bare `-M`) means `m4` (mon would try to execute the config file
    /// itself; see the README).
    pub m4: Option<String>,
    /// The instant at which period specs are validated (mon uses the time of loading).
    /// `None` = now, in the system time zone.
    pub now: Option<jiff::Zoned>,
    /// How `authfile` / `userfile` lines are checked for readability while reading (mon
    /// tests the path as written, relative to the working directory). `None` = the real
    /// `access(R_OK)` test.
    pub readable: Option<fn(&Path) -> bool>,
}

/// A loaded config and what `--check` should say about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// Things mon accepts silently but that are almost surely mistakes, and mon's own
    /// warnings (unused hostgroup, watch without hostgroup), in line order.
    pub warnings: Vec<Warning>,
    /// Monitor and alert lines with their positions, for `script_warnings`.
    scripts: Vec<lint::ScriptRef>,
    /// The text that was read, for the snippets of later findings.
    source: std::sync::Arc<lines::Source>,
    /// The path list quirk findings (`mondir`/`alertdir` entries next to an `s:`), kept
    /// apart because a command-line `-s`/`-a` replaces the config's value.
    path_lists: Vec<(&'static str, Warning)>,
}

impl Loaded {
    /// Warnings about monitors and alerts that are not found in the effective search paths
    /// (only for directories that exist on this machine), and the `redistribute` lookup
    /// quirk. Needs the paths after command-line overrides, so it is separate from `load`.
    pub fn script_warnings(&self, paths: &paths::Paths) -> Vec<Warning> {
        lint::scripts(&self.config, &self.scripts, paths, &self.source)
    }

    /// The `s:` path-list warnings for `mondir`/`alertdir` values that were not replaced
    /// by a command-line option.
    pub fn path_list_warnings(&self, overrides: &paths::Overrides) -> Vec<Warning> {
        self.path_lists
            .iter()
            .filter(|(which, _)| match *which {
                "mondir" => !paths::perl_true(overrides.mondir.as_deref()),
                _ => !paths::perl_true(overrides.alertdir.as_deref()),
            })
            .map(|(_, w)| w.clone())
            .collect()
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    /// mon accepts it and so does monrs; the file is probably not what its author meant.
    Warning,
    /// mon accepts it, the daemon loads it (drop-in) and logs it, but `--check` fails:
    /// the config cannot do what it says (e.g. a monitor that never runs).
    Reject,
}

/// A located, non-fatal finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub path: PathBuf,
    pub line: u32,
    pub col: u32,
    pub message: String,
    /// What the user probably meant, when there is a good guess.
    pub suggestion: Option<String>,
    pub severity: Severity,
    /// The exact line real mon prints on stderr for the same thing, when it prints one.
    pub mon_message: Option<String>,
    /// The source line and the span to underline.
    pub snippet: Option<Snippet>,
}

impl Warning {
    /// `file:line:col: warning: ...` with the source line, a caret and the suggestion.
    pub fn render(&self) -> String {
        let kind = match self.severity {
            Severity::Warning => "warning",
            Severity::Reject => "error (monrs --check)",
        };
        let mut notes = Vec::new();
        if let Some(s) = &self.suggestion {
            notes.push(("help", s.as_str()));
        }
        if let Some(m) = &self.mon_message {
            notes.push(("mon prints", m.as_str()));
        }
        diag::render(
            &self.path,
            self.line,
            self.col,
            kind,
            &self.message,
            self.snippet.as_ref(),
            &notes,
        )
    }
}

/// A config that mon would refuse, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{col}: {message}", path = .path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: u32,
    pub col: u32,
    /// What was found and what was expected, in our words.
    pub message: String,
    /// The exact `cf error: ...` text real mon prints for the same file, when there is one.
    pub mon_message: Option<String>,
    /// How to fix it, when there is a good guess.
    pub hint: Option<String>,
    /// The source line and the span to underline (boxed: keeps `Result`s small).
    pub snippet: Option<Box<Snippet>>,
}

impl ConfigError {
    /// An error about the file as a whole (line 0: no position).
    pub(crate) fn file(path: &Path, message: String, mon_message: Option<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            message,
            mon_message,
            hint: None,
            snippet: None,
        }
    }

    /// `file:line:col: error: ...` with the source line, a caret, help and mon's own text.
    pub fn render(&self) -> String {
        let mut notes = Vec::new();
        if let Some(h) = &self.hint {
            notes.push(("help", h.as_str()));
        }
        if let Some(m) = &self.mon_message {
            notes.push(("mon prints", m.as_str()));
        }
        diag::render(
            &self.path,
            self.line,
            self.col,
            "error",
            &self.message,
            self.snippet.as_deref(),
            &notes,
        )
    }
}

/// Read, preprocess (m4) and resolve the config at `path`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    if !path.is_file() {
        return Err(ConfigError::file(
            path,
            "config file does not exist (or is not a regular file)".into(),
            Some(format!("config file {} does not exist", path.display())),
        ));
    }
    let use_m4 = opts.m4.is_some() || path.to_string_lossy().ends_with(".m4");
    let bytes = if use_m4 {
        m4::run(opts.m4.as_deref().unwrap_or(""), path)?
    } else {
        std::fs::read(path).map_err(|e| {
            ConfigError::file(
                path,
                format!("cannot read the config file: {e}"),
                Some(format!("could not open cf file: {}: {e}", path.display())),
            )
        })?
    };
    let (text, lossy) = match String::from_utf8(bytes) {
        Ok(t) => (t, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    let mut loaded = load_str_with(&text, path, opts)?;
    if lossy {
        loaded.warnings.insert(
            0,
            Warning {
                path: path.to_path_buf(),
                line: 0,
                col: 0,
                message: "the file is not valid UTF-8: invalid bytes were replaced by U+FFFD"
                    .into(),
                suggestion: Some("convert the file to UTF-8 (e.g. with iconv)".into()),
                severity: Severity::Warning,
                mon_message: None,
                snippet: None,
            },
        );
    }
    Ok(loaded)
}

/// Resolve config text that was read from `path` (the path is only used in messages).
///
/// Pure apart from what mon itself does while reading: `authfile`/`userfile` lines are
/// checked for readability (see `LoadOptions::readable`).
pub fn load_str(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
    load_str_with(text, path, &LoadOptions::default())
}

/// `load_str` with options (the validation instant, the readability test).
pub fn load_str_with(text: &str, path: &Path, opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    let src = lines::Source::new(text);
    let now = opts.now.clone().unwrap_or_else(jiff::Zoned::now);
    let readable = opts.readable.unwrap_or(is_readable);
    let mut reader = reader::Reader::new(&src, path, now.clone(), &readable);
    let dropped_tail = lines::join_each(&src, |l| reader.line(l))?;
    reader.finish();
    if let Some(line) = dropped_tail {
        let text = src.line(line).to_string();
        let len = u32::try_from(text.chars().count()).unwrap_or(1).max(1);
        reader.warnings.push(Warning {
            path: path.to_path_buf(),
            line,
            col: 1,
            message: "the file ends inside a continued line (a trailing `\\`): mon drops this line"
                .into(),
            suggestion: Some("remove the final backslash".into()),
            severity: Severity::Warning,
            mon_message: None,
            snippet: Some(Snippet { text, col: 1, len }),
        });
    }
    let post = lint::post(&reader, &src, path, &now);
    let reader::Reader {
        cfg,
        mut warnings,
        side,
        ..
    } = reader;
    warnings.extend(post.warnings);
    warnings.sort_by_key(|w| w.line);
    let scripts = lint::script_refs(&cfg, &side);
    Ok(Loaded {
        config: cfg,
        warnings,
        scripts,
        path_lists: post.path_lists,
        source: std::sync::Arc::new(src),
    })
}

/// mon's `-r FILE`: readable by this process.
fn is_readable(path: &Path) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::R_OK).is_ok()
}
