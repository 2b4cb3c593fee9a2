//! `monrs check tcp|http|mysql [options] HOST...`: one native check from the command line,
//! printing and exiting exactly as the mon script would, or a JSON report with `--json`.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use super::native::{Kind, NativeCheck, Report, STOCK_MONDIR};

const USAGE: &str = "\
usage: monrs check [--json] [--deadline=SECS] CHECK [SCRIPT OPTIONS] HOST...

CHECK is tcp, http, https, mysql, or a script name (tcp.monitor, http.monitor,
msql-mysql.monitor, mysql.monitor, msql.monitor), optionally with a directory
(mon.d wrappers pass their own path). The options are the script's own, for
example:
  monrs check tcp -p 22 -t 5 host1 host2
  monrs check http.monitor -p 8080 -u /health -t 10 web1
  monrs check mysql --username=mon --password=/etc/mon/pw --database=app db1
Output and exit status are the script's. --json prints a JSON report instead:
{check, program, args, hosts:[{host,status,detail,latency_ms}], summary,
output, exit, duration_ms}. --deadline caps the whole run (default 24h).
";

/// Parsed `monrs check` arguments.
struct Invocation {
    json: bool,
    deadline: Duration,
    kind: Kind,
    program: String,
    args: Vec<String>,
}

fn parse(args: Vec<OsString>) -> Result<Invocation, String> {
    let mut args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut json = false;
    let mut deadline = Duration::from_secs(24 * 3600);
    // monrs's own flags come before CHECK, or directly after it.
    let i = 0;
    let mut seen_check = false;
    let mut check_word = None;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--json" {
            json = true;
            args.remove(i);
            continue;
        }
        if let Some(v) = a.strip_prefix("--deadline=") {
            let secs: f64 = v
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0)
                .ok_or_else(|| format!("--deadline: not a number of seconds: {v}"))?;
            deadline = Duration::from_secs_f64(secs.min(365.0 * 86400.0));
            args.remove(i);
            continue;
        }
        if seen_check {
            break;
        }
        if a == "-h" || a == "--help" {
            return Err(String::new());
        }
        check_word = Some(args.remove(i));
        seen_check = true;
    }
    let Some(word) = check_word else {
        return Err("missing CHECK".to_string());
    };
    let kind = Kind::from_name(&word).ok_or_else(|| format!("unknown check {word:?}"))?;
    let base = word.rsplit('/').next().unwrap_or(&word).to_string();
    let program = if word.contains('/') {
        word.clone()
    } else if base.ends_with(".monitor") {
        format!("{STOCK_MONDIR}/{base}")
    } else {
        match kind {
            // The short name infers mysql mode, as a mysql.monitor link does.
            Kind::Mysql => format!("{STOCK_MONDIR}/mysql.monitor"),
            k => format!("{STOCK_MONDIR}/{}", k.stock_script()),
        }
    };
    if base == "https" {
        args.insert(0, "-s".to_string());
    }
    Ok(Invocation {
        json,
        deadline,
        kind,
        program,
        args,
    })
}

/// Run one check; prints and exits like the mon script.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let inv = match parse(args) {
        Ok(inv) => inv,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("monrs check: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("monrs check: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let check = NativeCheck::new(inv.kind, inv.args.clone(), inv.program.clone());
    let report = runtime.block_on(check.run_report(&[], inv.deadline));
    if inv.json {
        let doc = json_report(&inv.program, &inv.args, &report);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{doc}");
        let _ = out.flush();
    } else {
        // stderr first: the script's warnings are written before its results.
        let _ = std::io::stderr().lock().write_all(&report.stderr);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&report.stdout);
        let _ = out.flush();
    }
    ExitCode::from(u8::try_from(report.exit & 0xFF).unwrap_or(1))
}

/// The `--json` document (documented in docs/native.md).
pub fn json_report(program: &str, args: &[String], report: &Report) -> serde_json::Value {
    let hosts: Vec<serde_json::Value> = report
        .hosts
        .iter()
        .map(|h| {
            serde_json::json!({
                "host": h.host,
                "status": if h.ok { "ok" } else { "failed" },
                "detail": h.detail,
                "latency_ms": (h.latency.as_secs_f64() * 1e6).round() / 1e3,
            })
        })
        .collect();
    serde_json::json!({
        "check": report.kind.as_str(),
        "program": program,
        "args": args,
        "hosts": hosts,
        "summary": report.summary(),
        "output": String::from_utf8_lossy(&report.merged()),
        "exit": report.exit,
        "duration_ms": (report.duration.as_secs_f64() * 1e6).round() / 1e3,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Invocation, String> {
        parse(v.iter().map(OsString::from).collect())
    }

    #[test]
    fn parses_invocations() {
        let i = p(&["--json", "tcp", "-p", "80", "h"]).expect("parse");
        assert!(i.json);
        assert_eq!(i.kind, Kind::Tcp);
        assert_eq!(i.program, "/usr/lib/mon/mon.d/tcp.monitor");
        assert_eq!(i.args, vec!["-p", "80", "h"]);

        let i = p(&["/etc/mon/mon.d/mysql.monitor", "--json", "h"]).expect("parse");
        assert!(i.json);
        assert_eq!(i.program, "/etc/mon/mon.d/mysql.monitor");
        assert_eq!(i.args, vec!["h"]);

        let i = p(&["https", "-u", "/x", "h"]).expect("parse");
        assert_eq!(i.kind, Kind::Http);
        assert_eq!(i.args[0], "-s");

        // After the first script option, --json is the script's business.
        let i = p(&["tcp", "-p", "80", "--json"]).expect("parse");
        assert!(!i.json);
        assert_eq!(i.args, vec!["-p", "80", "--json"]);

        assert!(p(&[]).is_err());
        assert!(p(&["fping"]).is_err());
        assert_eq!(p(&["--help"]).err(), Some(String::new()));
        assert!(p(&["--deadline=abc", "tcp"]).is_err());
    }
}
