//! The monrs `cron "M H DOM MON DOW"` service keyword: classic 5-field crontab syntax,
//! turned into the 6-field form the `cron` crate parses (seconds first, Sunday = 1).

use std::str::FromStr;

use super::grammar;

/// A validated cron schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronExpr {
    /// A string `cron::Schedule::from_str` accepts (stored in `Schedule::Cron`).
    pub(crate) schedule: String,
    /// Both day fields are restricted: the crate requires both to match (classic cron
    /// requires either), worth a warning.
    pub(crate) dom_and_dow: bool,
}

/// Why a cron expression was refused; `span` is a byte range of the arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronError {
    pub(crate) message: String,
    pub(crate) span: Option<(usize, usize)>,
}

const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Parse the arguments of a `cron` line.
pub(crate) fn parse(args: &str) -> Result<CronExpr, CronError> {
    let fields = grammar::cron_fields(args).ok_or_else(|| CronError {
        message: format!(
            "expected 5 fields (minute hour day-of-month month day-of-week) or an @shortcut, found `{args}`"
        ),
        span: None,
    })?;
    if let [only] = fields.as_slice()
        && only.text.starts_with('@')
    {
        let schedule = match only.text.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 0 1 1 *",
            "@monthly" => "0 0 0 1 * *",
            "@weekly" => "0 0 0 * * 1",
            "@daily" | "@midnight" => "0 0 0 * * *",
            "@hourly" => "0 0 * * * *",
            other => {
                return Err(CronError {
                    message: format!(
                        "expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly, found `{other}`"
                    ),
                    span: Some((only.off, only.text.len())),
                });
            }
        };
        return check(schedule.to_string(), false, None);
    }
    let [min, hour, dom, mon, dow] = fields.as_slice() else {
        return Err(CronError {
            message: format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            ),
            span: None,
        });
    };
    let days = weekdays(dow.text).map_err(|message| CronError {
        message,
        span: Some((dow.off, dow.text.len())),
    })?;
    let dow_field = if days.iter().all(|&d| d) {
        "*".to_string()
    } else {
        days.iter()
            .enumerate()
            .filter(|(_, on)| **on)
            .map(|(i, _)| (i + 1).to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let dom_restricted = !matches!(dom.text, "*" | "?");
    let schedule = format!(
        "0 {} {} {} {} {}",
        min.text, hour.text, dom.text, mon.text, dow_field
    );
    check(
        schedule,
        dom_restricted && dow_field != "*",
        Some((min.off, (dow.off + dow.text.len()) - min.off)),
    )
}

fn check(
    schedule: String,
    dom_and_dow: bool,
    span: Option<(usize, usize)>,
) -> Result<CronExpr, CronError> {
    match cron::Schedule::from_str(&schedule) {
        Ok(_) => Ok(CronExpr {
            schedule,
            dom_and_dow,
        }),
        Err(e) => Err(CronError {
            message: format!("{e}"),
            span,
        }),
    }
}

/// The days (Sunday first) a crontab day-of-week field selects: numbers 0-7 (0 and 7 are
/// Sunday), three-letter names, ranges, lists and `/step`.
fn weekdays(field: &str) -> Result<[bool; 7], String> {
    let mut on = [false; 7];
    for item in field.split(',') {
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => {
                let step =
                    s.parse::<usize>().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("expected a positive step after `/`, found `{s}`")
                    })?;
                (b, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = match base {
            "*" | "?" => (0, 6),
            _ => match base.split_once('-') {
                Some((a, b)) => (day(a)?, day(b)?),
                None => {
                    let d = day(base)?;
                    // `N/step` means from N to the end of the week.
                    (d, if step > 1 { 6 } else { d })
                }
            },
        };
        // 7 is Sunday again, so `5-7` is Friday to Sunday.
        if lo > hi {
            return Err(format!(
                "expected a day-of-week range from low to high, found `{base}`"
            ));
        }
        for d in (lo..=hi).step_by(step) {
            on[d % 7] = true;
        }
    }
    Ok(on)
}

fn day(s: &str) -> Result<usize, String> {
    if let Ok(n) = s.parse::<usize>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!("expected a day of the week 0-7, found `{s}`"))
        };
    }
    DAYS.iter()
        .position(|d| d.eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            format!("expected a day of the week (0-7 or sun, mon, ..., sat), found `{s}`")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(s: &str) -> String {
        match parse(s) {
            Ok(c) => c.schedule,
            Err(e) => format!("ERR {}", e.message),
        }
    }

    #[test]
    fn translates_crontab_to_the_crate() {
        assert_eq!(sched("\"*/5 * * * *\""), "0 */5 * * * *");
        // Crontab 1-5 is Monday to Friday; the crate counts Sunday as 1.
        assert_eq!(sched("\"0 9 * * 1-5\""), "0 0 9 * * 2,3,4,5,6");
        assert_eq!(sched("\"0 9 * * 0\""), "0 0 9 * * 1");
        assert_eq!(sched("\"0 9 * * 7\""), "0 0 9 * * 1");
        assert_eq!(sched("\"0 9 * * 5-7\""), "0 0 9 * * 1,6,7");
        assert_eq!(sched("\"0 9 * * sat,SUN\""), "0 0 9 * * 1,7");
        assert_eq!(sched("\"0 9 * * mon-fri\""), "0 0 9 * * 2,3,4,5,6");
        assert_eq!(sched("\"0 9 * * */2\""), "0 0 9 * * 1,3,5,7");
        assert_eq!(sched("\"0 9 * * 0-6\""), "0 0 9 * * *");
        assert_eq!(sched("0 3 1 jan *"), "0 0 3 1 jan *");
        assert_eq!(sched("@daily"), "0 0 0 * * *");
        assert_eq!(sched("@weekly"), "0 0 0 * * 1");
    }

    #[test]
    fn every_schedule_is_accepted_by_the_crate() {
        for s in [
            "\"*/5 * * * *\"",
            "\"0 9 * * 1-5\"",
            "@hourly",
            "\"30 2 1,15 * *\"",
        ] {
            let c = parse(s).expect("valid");
            assert!(cron::Schedule::from_str(&c.schedule).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_bad_expressions() {
        for bad in [
            "\"* * * *\"",
            "\"61 * * * *\"",
            "\"* 24 * * *\"",
            "\"* * * * 8\"",
            "\"* * * * fri-mon\"",
            "\"* * 0 * *\"",
            "@reboot",
            "",
            "\"* * * * */0\"",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn flags_dom_and_dow_together() {
        assert!(parse("\"0 0 13 * 5\"").expect("valid").dom_and_dow);
        assert!(!parse("\"0 0 13 * *\"").expect("valid").dom_and_dow);
    }
}
