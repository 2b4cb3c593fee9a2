//! Time::Period (Perl module 1.25) evaluated natively: "is this local time inside this
//! period spec?" (config.md §6), plus "can it ever match from now on?" for lints.
//!
//! mon validates lazily (a malformed later sub-period is never seen when an earlier one
//! matches), so a spec is kept as text plus a pre-parsed form, and evaluation reports
//! `Malformed` exactly when Time::Period's `inPeriod` would return -1. Evaluation is pure
//! (the caller passes the zoned time) and allocates nothing.

mod parse;
mod reach;

use std::ops::Range;

use jiff::Zoned;

use parse::{Parsed, SubPeriod};

/// The three answers of `inPeriod`: 1, 0 and -1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Inside,
    Outside,
    Malformed,
}

impl Membership {
    /// mon's runtime reading: anything but 0 counts as "in the period".
    pub fn is_active(self) -> bool {
        self != Membership::Outside
    }
}

/// A period spec, parsed once, evaluated many times.
#[derive(Clone)]
pub struct PeriodSpec {
    text: String,
    parsed: Parsed,
}

impl PartialEq for PeriodSpec {
    fn eq(&self, other: &Self) -> bool {
        // The parsed form is a function of the text.
        self.text == other.text
    }
}

impl Eq for PeriodSpec {}

impl std::fmt::Debug for PeriodSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PeriodSpec").field(&self.text).finish()
    }
}

/// A malformed sub-period, for error messages and lints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sub-period {number} '{text}': {reason}")]
pub struct PeriodError {
    /// 1-based position among the comma-separated sub-periods.
    pub number: usize,
    /// Byte range of the sub-period in the spec as written.
    pub span: Range<usize>,
    /// The sub-period as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl PeriodSpec {
    /// Keep `text` for evaluation. Never fails: malformation is reported by `eval`,
    /// at the point Time::Period would notice it.
    pub fn new(text: &str) -> Self {
        PeriodSpec {
            text: text.to_string(),
            parsed: parse::parse(text),
        }
    }

    /// The spec as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `inPeriod(at, text)`.
    pub fn eval(&self, at: &Zoned) -> Membership {
        self.eval_fields(&LocalFields::of(at))
    }

    /// `inPeriod` for a time already broken down (cheaper when many periods are checked
    /// at the same instant).
    pub fn eval_fields(&self, t: &LocalFields) -> Membership {
        match &self.parsed {
            Parsed::Always => Membership::Inside,
            Parsed::Never => Membership::Outside,
            Parsed::Subs(subs) => {
                for sub in subs {
                    match &sub.body {
                        Err(_) => return Membership::Malformed,
                        Ok(sp) if matches(sp, t) => return Membership::Inside,
                        Ok(_) => {}
                    }
                }
                Membership::Outside
            }
        }
    }

    /// The first malformed sub-period, whether or not `inPeriod` would get that far
    /// (`wd {Sun-Sat}, hr {bogus}` is accepted by mon but has one).
    pub fn defect(&self) -> Option<PeriodError> {
        let Parsed::Subs(subs) = &self.parsed else {
            return None;
        };
        subs.iter().enumerate().find_map(|(i, sub)| {
            let reason = sub.body.as_ref().err()?.reason.clone();
            Some(PeriodError {
                number: i + 1,
                span: sub.span.clone(),
                text: self
                    .text
                    .get(sub.span.clone())
                    .unwrap_or_default()
                    .to_string(),
                reason,
            })
        })
    }

    /// Whether the period can still match at or after `from` (local wall clock, within
    /// the next 400 years): `Some(true)` if some instant is inside, `Some(false)` if none
    /// is (`none`, `yr {2019}`, `mo {feb} md {30}`), `None` if `eval` would report
    /// `Malformed` at some instant (a malformed sub-period is reachable).
    ///
    /// Days are taken as full 24-hour wall-clock days: an hour that a DST change skips
    /// still counts as reachable.
    pub fn can_match(&self, from: &Zoned) -> Option<bool> {
        match &self.parsed {
            Parsed::Always => Some(true),
            Parsed::Never => Some(false),
            Parsed::Subs(subs) => reach::can_match(subs, from),
        }
    }
}

/// `Time::Period::inPeriod(time, spec)` for the broken-down local time `at`.
pub fn in_period(spec: &str, at: &Zoned) -> Membership {
    PeriodSpec::new(spec).eval(at)
}

/// A local time broken down the way Time::Period numbers it (`localtime` plus its week
/// of the month).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalFields {
    pub year: i64,
    /// 0 = January.
    pub month: u32,
    /// 0-based week of the month (see [`week_of_month`]).
    pub week: u32,
    /// 0 = January 1st.
    pub yday: u32,
    /// 1-based day of the month.
    pub mday: u32,
    /// 0 = Sunday.
    pub wday: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl LocalFields {
    /// Break `at` down in its own time zone.
    pub fn of(at: &Zoned) -> LocalFields {
        let num = |v: i64| u32::try_from(v).unwrap_or(0);
        let mday = num(at.day().into());
        let wday = num(at.weekday().to_sunday_zero_offset().into());
        LocalFields {
            year: at.year().into(),
            month: num(i64::from(at.month()) - 1),
            week: week_of_month(mday, wday),
            yday: num(i64::from(at.day_of_year()) - 1),
            mday,
            wday,
            hour: num(at.hour().into()),
            minute: num(at.minute().into()),
            second: num(at.second().into()),
        }
    }
}

/// Time::Period's week of the month, 0-based: the number of Sundays on days 2..=mday
/// (a Sunday on the 1st does not start a new week).
pub fn week_of_month(mday: u32, wday: u32) -> u32 {
    // Weekday of the 1st, then the first Sunday on day 2 or later.
    let first = (wday % 7 + 7 - mday.saturating_sub(1) % 7) % 7;
    let first_sunday = if first == 0 { 8 } else { 8 - first };
    if mday >= first_sunday {
        (mday - first_sunday) / 7 + 1
    } else {
        0
    }
}

/// All scales of a valid sub-period hold at `t`.
#[inline]
fn matches(sp: &SubPeriod, t: &LocalFields) -> bool {
    date_matches(sp, t) && time_matches(sp, t.hour, t.minute, t.second)
}

#[inline]
fn date_matches(sp: &SubPeriod, t: &LocalFields) -> bool {
    sp.mo.has(t.month)
        && sp.md.has(t.mday)
        && sp.wd.has(t.wday)
        && sp.yd.has(t.yday)
        && sp.wk.has(t.week)
        && sp.year_ok(t.year)
}

#[inline]
fn time_matches(sp: &SubPeriod, hour: u32, minute: u32, second: u32) -> bool {
    sp.hr.has(hour) && sp.min.has(minute) && sp.sec.has(second)
}

#[cfg(test)]
mod tests;
