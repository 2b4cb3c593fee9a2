//! Effective directories and files: mon's defaults, the command-line overrides and the
//! path normalisation of config.md §8.1 / daemon-cli-and-files.md §1.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::model::Globals;
use super::timeval;
use crate::cli::DaemonArgs;

/// Command-line values that override mon.cf (`-a -A -b -B -D -L -P -s -k -m -p -t -r`).
///
/// As in mon, an option whose value is false in Perl's sense (empty or `0`) does not
/// override anything, except `-P ''`, which means "no pid file".
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub alertdir: Option<String>,
    pub authfile: Option<String>,
    pub basedir: Option<String>,
    pub cfbasedir: Option<String>,
    pub statedir: Option<String>,
    pub logdir: Option<String>,
    pub pidfile: Option<String>,
    pub mondir: Option<String>,
    pub maxkeep: Option<usize>,
    pub maxprocs: Option<u32>,
    pub serverport: Option<u16>,
    pub trapport: Option<u16>,
    pub randstart: Option<std::time::Duration>,
}

impl Overrides {
    /// The overrides a daemon command line gives. Fails like mon (`bad randstart value`)
    /// when `-r` is not a time value.
    pub fn from_args(args: &DaemonArgs) -> Result<Overrides, String> {
        let randstart = match args.randstart.as_deref() {
            Some(r) if perl_true(Some(r)) => Some(
                timeval::parse(r)
                    .ok_or_else(|| format!("bad randstart value `{r}` (expected e.g. 30s)"))?,
            ),
            _ => None,
        };
        Ok(Overrides {
            alertdir: args.alertdir.clone(),
            authfile: args.authfile.clone(),
            basedir: args.basedir.clone(),
            cfbasedir: args.cfbasedir.clone(),
            statedir: args.statedir.clone(),
            logdir: args.logdir.clone(),
            pidfile: args.pidfile.clone(),
            mondir: args.scriptdir.clone(),
            maxkeep: args.maxkeep,
            maxprocs: args.maxprocs,
            serverport: args.port,
            trapport: args.trapport,
            randstart,
        })
    }

    /// Apply the non-path overrides to `globals` (`-k -m -p -t -r`); zero values do not
    /// override, as in mon.
    pub fn apply(&self, globals: &mut Globals) {
        if let Some(k) = self.maxkeep.filter(|k| *k > 0) {
            globals.histlength = k;
        }
        if let Some(m) = self.maxprocs.filter(|m| *m > 0) {
            globals.maxprocs = m;
        }
        if let Some(p) = self.serverport.filter(|p| *p > 0) {
            globals.serverport = Some(p);
        }
        if let Some(t) = self.trapport.filter(|t| *t > 0) {
            globals.trapport = Some(t);
        }
        if let Some(r) = self.randstart.filter(|r| *r > Duration::ZERO) {
            globals.randstart = Some(r);
        }
    }
}

/// Every path the daemon uses, absolute or relative to the cwd as mon would use them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paths {
    pub basedir: PathBuf,
    pub cfbasedir: PathBuf,
    pub statedir: PathBuf,
    pub logdir: PathBuf,
    /// Monitor search path, in order.
    pub mondir: Vec<PathBuf>,
    /// Alert search path, in order.
    pub alertdir: Vec<PathBuf>,
    pub authfile: PathBuf,
    pub userfile: PathBuf,
    pub dtlogfile: PathBuf,
    pub historicfile: Option<PathBuf>,
    /// None = no pid file.
    pub pidfile: Option<PathBuf>,
    pub monerrfile: PathBuf,
}

/// mon's built-in defaults.
pub const DEFAULT_BASEDIR: &str = "/usr/lib/mon";
pub const DEFAULT_CFBASEDIR: &str = "/etc/mon";
pub const DEFAULT_MONDIR: &str = "/usr/local/lib/mon/mon.d:mon.d";
pub const DEFAULT_ALERTDIR: &str = "/usr/local/lib/mon/alert.d:alert.d";

impl Paths {
    /// The paths mon would use for `globals` (from mon.cf) and the command line, with
    /// mon's defaults (some depend on which directories exist) and normalisation.
    pub fn resolve(globals: &Globals, overrides: &Overrides) -> Paths {
        Paths::resolve_with(globals, overrides, &|p: &Path| p.is_dir())
    }

    /// `resolve` with the directory-existence test supplied (for tests).
    pub fn resolve_with(
        globals: &Globals,
        overrides: &Overrides,
        is_dir: &dyn Fn(&Path) -> bool,
    ) -> Paths {
        let pick = |cli: &Option<String>, cf: &Option<String>| -> Option<String> {
            if perl_true(cli.as_deref()) {
                cli.clone()
            } else if perl_true(cf.as_deref()) {
                cf.clone()
            } else {
                None
            }
        };
        let basedir = pick(&overrides.basedir, &globals.basedir)
            .unwrap_or_else(|| DEFAULT_BASEDIR.to_string());
        // A `cfbasedir` in mon.cf wins over -B.
        let cfbasedir = pick(&globals.cfbasedir, &overrides.cfbasedir)
            .unwrap_or_else(|| DEFAULT_CFBASEDIR.to_string());
        let statedir = pick(&overrides.statedir, &globals.statedir).unwrap_or_else(|| {
            ["/var/state/mon", "/var/lib/mon"]
                .into_iter()
                .find(|d| is_dir(Path::new(d)))
                .unwrap_or("state.d")
                .to_string()
        });
        let logdir = pick(&overrides.logdir, &globals.logdir).unwrap_or_else(|| {
            if is_dir(Path::new("/var/log/mon")) {
                "/var/log/mon".to_string()
            } else {
                "log.d".to_string()
            }
        });
        let statedir = under(&basedir, &statedir);
        let logdir = under(&basedir, &logdir);
        let authfile =
            pick(&overrides.authfile, &globals.authfile).unwrap_or_else(|| "auth.cf".to_string());
        let userfile = pick(&None, &globals.userfile).unwrap_or_else(|| "monusers.cf".into());
        let dtlogfile = pick(&None, &globals.dtlogfile).unwrap_or_else(|| "downtime.log".into());
        let historicfile = globals
            .historicfile
            .as_deref()
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(under(&logdir, h)));
        let mondir =
            pick(&overrides.mondir, &globals.mondir).unwrap_or_else(|| DEFAULT_MONDIR.to_string());
        let alertdir = pick(&overrides.alertdir, &globals.alertdir)
            .unwrap_or_else(|| DEFAULT_ALERTDIR.to_string());
        let pidfile = match (&overrides.pidfile, &globals.pidfile) {
            (Some(p), _) | (None, Some(p)) => p.clone(),
            (None, None) => {
                let dir = ["/run/mon", "/run"]
                    .into_iter()
                    .find(|d| is_dir(Path::new(d)))
                    .unwrap_or("/etc");
                format!("{dir}/mon.pid")
            }
        };
        Paths {
            authfile: under(&cfbasedir, &authfile).into(),
            userfile: under(&cfbasedir, &userfile).into(),
            dtlogfile: under(&logdir, &dtlogfile).into(),
            historicfile,
            mondir: search_path(&basedir, &mondir),
            alertdir: search_path(&basedir, &alertdir),
            pidfile: (!pidfile.is_empty()).then(|| PathBuf::from(pidfile)),
            monerrfile: pick(&None, &globals.monerrfile)
                .unwrap_or_else(|| "/dev/null".into())
                .into(),
            basedir: canonpath(&basedir).into(),
            cfbasedir: canonpath(&cfbasedir).into(),
            statedir: statedir.into(),
            logdir: logdir.into(),
        }
    }
}

/// The config file mon reads: `-c FILE`, else `CFBASEDIR/mon.cf` (CFBASEDIR = `-B` or
/// `/etc/mon`), made absolute against `cwd` by plain string joining as mon does.
pub fn config_file(configfile: Option<&str>, cfbasedir: Option<&str>, cwd: &Path) -> PathBuf {
    let file = match configfile.filter(|c| perl_true(Some(c))) {
        Some(c) => c.to_string(),
        None => format!(
            "{}/mon.cf",
            cfbasedir
                .filter(|b| perl_true(Some(b)))
                .unwrap_or(DEFAULT_CFBASEDIR)
        ),
    };
    if file.starts_with('/') {
        PathBuf::from(file)
    } else {
        PathBuf::from(format!("{}/{file}", cwd.display()))
    }
}

/// Split a `mondir`/`alertdir` list on `:` (not on mon's accidental `s*:s*`, see
/// `Loaded::path_list_warnings`), drop one trailing `/` of each entry and take relative
/// entries under `basedir`. Empty entries at the end are dropped, as Perl's `split` does.
pub fn search_path(basedir: &str, list: &str) -> Vec<PathBuf> {
    let mut parts: Vec<&str> = list.split(':').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
        .into_iter()
        .map(|d| {
            let d = d.strip_suffix('/').unwrap_or(d);
            PathBuf::from(under(basedir, d))
        })
        .collect()
}

/// `path` if absolute, else `File::Spec->catdir(base, path)`.
fn under(base: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        canonpath(&format!("{base}/{path}"))
    }
}

/// Perl's `File::Spec::Unix->canonpath`: collapse `//`, drop `/.` segments, a leading
/// `./` and a trailing `/`, and `/..` right after the root. `..` elsewhere is kept.
pub fn canonpath(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let mut p = path.to_string();
    while p.contains("//") {
        p = p.replace("//", "/");
    }
    // `(?:/\.)+(?:/|\z)` → `/`
    loop {
        let before = p.clone();
        p = p.replace("/./", "/");
        if p.ends_with("/.") {
            p.truncate(p.len() - 1);
        }
        if p == before {
            break;
        }
    }
    if p != "./" {
        while let Some(rest) = p.strip_prefix("./") {
            p = rest.to_string();
        }
    }
    while let Some(rest) = p.strip_prefix("/../") {
        p = format!("/{rest}");
    }
    if p == "/.." {
        p = "/".to_string();
    }
    if p.len() > 1 && p.ends_with('/') {
        p.pop();
    }
    p
}

/// Perl truth of an option value: given, not empty and not `0`.
pub fn perl_true(v: Option<&str>) -> bool {
    matches!(v, Some(s) if !s.is_empty() && s != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonpath_like_file_spec() {
        // Checked with perl -MFile::Spec -e 'print File::Spec->catdir(...)'.
        assert_eq!(canonpath("./foo"), "foo");
        assert_eq!(canonpath("/usr/lib/mon//alert.d/"), "/usr/lib/mon/alert.d");
        assert_eq!(canonpath("././a//b/."), "a/b");
        assert_eq!(canonpath("base/../x"), "base/../x");
        assert_eq!(canonpath("/../x"), "/x");
        assert_eq!(canonpath("."), ".");
        assert_eq!(canonpath("./"), ".");
        assert_eq!(canonpath("./."), ".");
        assert_eq!(canonpath("//a"), "/a");
    }

    fn no_dirs(_: &Path) -> bool {
        false
    }

    #[test]
    fn mon_defaults_without_var_dirs() {
        let p = Paths::resolve_with(&Globals::default(), &Overrides::default(), &no_dirs);
        assert_eq!(p.basedir, PathBuf::from("/usr/lib/mon"));
        assert_eq!(p.statedir, PathBuf::from("/usr/lib/mon/state.d"));
        assert_eq!(p.logdir, PathBuf::from("/usr/lib/mon/log.d"));
        assert_eq!(
            p.mondir,
            vec![
                PathBuf::from("/usr/local/lib/mon/mon.d"),
                PathBuf::from("/usr/lib/mon/mon.d")
            ]
        );
        assert_eq!(
            p.alertdir,
            vec![
                PathBuf::from("/usr/local/lib/mon/alert.d"),
                PathBuf::from("/usr/lib/mon/alert.d")
            ]
        );
        assert_eq!(p.authfile, PathBuf::from("/etc/mon/auth.cf"));
        assert_eq!(p.userfile, PathBuf::from("/etc/mon/monusers.cf"));
        assert_eq!(
            p.dtlogfile,
            PathBuf::from("/usr/lib/mon/log.d/downtime.log")
        );
        assert_eq!(p.pidfile, Some(PathBuf::from("/etc/mon.pid")));
        assert_eq!(p.historicfile, None);
        assert_eq!(p.monerrfile, PathBuf::from("/dev/null"));
    }

    #[test]
    fn var_dirs_that_exist_are_the_defaults() {
        let dirs = |p: &Path| {
            ["/var/lib/mon", "/var/log/mon", "/run/mon", "/run"].contains(&p.to_str().unwrap_or(""))
        };
        let p = Paths::resolve_with(&Globals::default(), &Overrides::default(), &dirs);
        assert_eq!(p.statedir, PathBuf::from("/var/lib/mon"));
        assert_eq!(p.logdir, PathBuf::from("/var/log/mon"));
        assert_eq!(p.pidfile, Some(PathBuf::from("/run/mon/mon.pid")));
    }

    #[test]
    fn command_line_wins_and_relative_paths_follow_their_base() {
        // The transcript 11 lab: -b . -B . -L log -D state -s mon.d -a alert.d.
        let ov = Overrides {
            basedir: Some(".".into()),
            cfbasedir: Some(".".into()),
            logdir: Some("log".into()),
            statedir: Some("state".into()),
            mondir: Some("mon.d".into()),
            alertdir: Some("alert.d".into()),
            pidfile: Some(String::new()),
            ..Overrides::default()
        };
        let g = Globals {
            logdir: Some("/ignored".into()),
            historicfile: Some("hist.log".into()),
            ..Globals::default()
        };
        let p = Paths::resolve_with(&g, &ov, &no_dirs);
        assert_eq!(p.statedir, PathBuf::from("state"));
        assert_eq!(p.logdir, PathBuf::from("log"));
        assert_eq!(p.dtlogfile, PathBuf::from("log/downtime.log"));
        assert_eq!(p.historicfile, Some(PathBuf::from("log/hist.log")));
        assert_eq!(p.authfile, PathBuf::from("auth.cf"));
        assert_eq!(p.mondir, vec![PathBuf::from("mon.d")]);
        assert_eq!(p.alertdir, vec![PathBuf::from("alert.d")]);
        assert_eq!(p.pidfile, None);
    }

    #[test]
    fn cfbasedir_in_the_file_beats_dash_b_upper() {
        let ov = Overrides {
            cfbasedir: Some("/from/cli".into()),
            ..Overrides::default()
        };
        let g = Globals {
            cfbasedir: Some("/from/file".into()),
            ..Globals::default()
        };
        let p = Paths::resolve_with(&g, &ov, &no_dirs);
        assert_eq!(p.authfile, PathBuf::from("/from/file/auth.cf"));
    }

    #[test]
    fn false_values_do_not_override() {
        let ov = Overrides {
            basedir: Some("0".into()),
            mondir: Some(String::new()),
            maxkeep: Some(0),
            maxprocs: Some(0),
            ..Overrides::default()
        };
        let mut g = Globals {
            mondir: Some("/m1:/m2/".into()),
            maxprocs: 20,
            ..Globals::default()
        };
        let p = Paths::resolve_with(&g, &ov, &no_dirs);
        assert_eq!(p.basedir, PathBuf::from("/usr/lib/mon"));
        assert_eq!(p.mondir, vec![PathBuf::from("/m1"), PathBuf::from("/m2")]);
        ov.apply(&mut g);
        assert_eq!(g.maxprocs, 20);
        assert_eq!(g.histlength, 100);
    }

    #[test]
    fn search_path_splits_on_colons_only() {
        assert_eq!(
            search_path("/b", "/opt/mon/tests:rel/:"),
            vec![PathBuf::from("/opt/mon/tests"), PathBuf::from("/b/rel")]
        );
    }

    #[test]
    fn config_file_location() {
        let cwd = Path::new("/work");
        assert_eq!(
            config_file(None, None, cwd),
            PathBuf::from("/etc/mon/mon.cf")
        );
        assert_eq!(
            config_file(Some("x.cf"), None, cwd),
            PathBuf::from("/work/x.cf")
        );
        assert_eq!(
            config_file(None, Some("cfg"), cwd),
            PathBuf::from("/work/cfg/mon.cf")
        );
        assert_eq!(
            config_file(Some(""), None, cwd),
            PathBuf::from("/etc/mon/mon.cf")
        );
    }
}
