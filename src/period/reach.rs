//! "Can this period still match?" for `--check`: date scales are checked day by day over
//! a 400-year horizon (one Gregorian cycle), time-of-day scales once per distinct day.
//!
//! A year's days only depend on its calendar (leap year, weekday of January 1st) and on
//! which sub-periods' `yr` ranges hold, so each such year kind is walked once; a day only
//! matters through the set of sub-periods whose date scales hold, so each such set is
//! checked against the clock once.

use std::collections::HashSet;

use jiff::Zoned;

use super::parse::{Sub, SubPeriod};
use super::{LocalFields, week_of_month};

/// Years looked at after the current one.
const HORIZON_YEARS: i64 = 400;
/// jiff's last year.
const LAST_YEAR: i64 = 9999;
/// Seconds 0–59 of a minute.
const ALL_SECONDS: u64 = (1 << 60) - 1;

pub(super) fn can_match(subs: &[Sub], from: &Zoned) -> Option<bool> {
    // Only sub-periods before the first malformed one can ever match.
    let valid: Vec<&SubPeriod> = subs.iter().map_while(|s| s.body.as_ref().ok()).collect();
    let has_defect = valid.len() < subs.len();
    if valid.is_empty() {
        return if has_defect { None } else { Some(false) };
    }
    let mut search = Search {
        valid,
        has_defect,
        inside: false,
        gap: false,
        days_seen: HashSet::new(),
        years_seen: HashSet::new(),
        buf: Vec::new(),
        last: Vec::new(),
    };
    search.run(from);
    if has_defect && search.gap {
        None
    } else {
        Some(search.inside)
    }
}

struct Search<'a> {
    valid: Vec<&'a SubPeriod>,
    has_defect: bool,
    /// Some instant falls inside a valid sub-period.
    inside: bool,
    /// Some instant falls inside none of them (then a malformed one is reached).
    gap: bool,
    /// Sets of date-matching sub-periods already checked for whole days.
    days_seen: HashSet<Vec<u64>>,
    /// Year kinds already walked: (leap, weekday of Jan 1st, `yr` matches).
    years_seen: HashSet<(bool, u32, Vec<u64>)>,
    buf: Vec<u64>,
    /// The previous whole day's set (already checked).
    last: Vec<u64>,
}

/// A day's date fields, stepped forward one day at a time.
#[derive(Clone, Copy)]
struct Day {
    year: i64,
    leap: bool,
    month: u32,
    mday: u32,
    yday: u32,
    wday: u32,
}

impl Day {
    fn fields(&self) -> LocalFields {
        LocalFields {
            year: self.year,
            month: self.month,
            week: week_of_month(self.mday, self.wday),
            yday: self.yday,
            mday: self.mday,
            wday: self.wday,
            hour: 0,
            minute: 0,
            second: 0,
        }
    }

    /// The next day of the same year, or `None` after December 31st.
    fn next_in_year(mut self) -> Option<Day> {
        self.wday = (self.wday + 1) % 7;
        self.yday += 1;
        self.mday += 1;
        if self.mday > days_in_month(self.month, self.leap) {
            self.mday = 1;
            self.month += 1;
            if self.month == 12 {
                return None;
            }
        }
        Some(self)
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(month: u32, leap: bool) -> u32 {
    match month {
        1 if leap => 29,
        1 => 28,
        3 | 5 | 8 | 10 => 30,
        _ => 31,
    }
}

/// Weekday (0 = Sunday) of January 1st of `y`, proleptic Gregorian.
fn jan1_weekday(y: i64) -> u32 {
    let p = y - 1;
    let w = (1 + 5 * p.rem_euclid(4) + 4 * p.rem_euclid(100) + 6 * p.rem_euclid(400)) % 7;
    u32::try_from(w).unwrap_or(0)
}

impl Search<'_> {
    fn done(&self) -> bool {
        if self.has_defect {
            self.gap
        } else {
            self.inside
        }
    }

    fn run(&mut self, from: &Zoned) {
        let f = LocalFields::of(from);
        let first = Day {
            year: f.year,
            leap: is_leap(f.year),
            month: f.month,
            mday: f.mday,
            yday: f.yday,
            wday: f.wday,
        };
        // The rest of today, then the rest of this year.
        let t0 = f.hour * 3600 + f.minute * 60 + f.second;
        let yr_ok = self.bitset(|sp| sp.year_ok(f.year));
        self.date_set(&first.fields(), &yr_ok);
        let cands = self.buf.clone();
        self.clock(&cands, t0);
        let mut day = first.next_in_year();
        while let Some(d) = day {
            if self.done() {
                return;
            }
            self.whole_day(&d.fields(), &yr_ok);
            day = d.next_in_year();
        }
        let last = (f.year + HORIZON_YEARS).min(LAST_YEAR);
        for year in f.year + 1..=last {
            if self.done() {
                return;
            }
            let leap = is_leap(year);
            let wday = jan1_weekday(year);
            let yr_ok = self.bitset(|sp| sp.year_ok(year));
            if yr_ok.iter().all(|&w| w == 0) {
                // No sub-period accepts this year: every instant of it falls through.
                self.gap = true;
                continue;
            }
            if !self.years_seen.insert((leap, wday, yr_ok.clone())) {
                continue;
            }
            let mut day = Some(Day {
                year,
                leap,
                month: 0,
                mday: 1,
                yday: 0,
                wday,
            });
            while let Some(d) = day {
                self.whole_day(&d.fields(), &yr_ok);
                day = d.next_in_year();
            }
        }
    }

    fn bitset(&self, mut pred: impl FnMut(&SubPeriod) -> bool) -> Vec<u64> {
        let mut bits = vec![0u64; self.valid.len().div_ceil(64)];
        for (i, sp) in self.valid.iter().enumerate() {
            if pred(sp) {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        bits
    }

    /// Fill `buf` with the sub-periods whose date scales hold on `day`, given which of
    /// them accept the day's year (`yr_ok`).
    fn date_set(&mut self, day: &LocalFields, yr_ok: &[u64]) {
        self.buf.clear();
        self.buf.extend_from_slice(yr_ok);
        for (i, sp) in self.valid.iter().enumerate() {
            let date_ok = sp.mo.has(day.month)
                && sp.md.has(day.mday)
                && sp.wd.has(day.wday)
                && sp.yd.has(day.yday)
                && sp.wk.has(day.week);
            if !date_ok {
                self.buf[i / 64] &= !(1 << (i % 64));
            }
        }
    }

    fn whole_day(&mut self, day: &LocalFields, yr_ok: &[u64]) {
        self.date_set(day, yr_ok);
        // Consecutive days mostly share their set: skip hashing it again.
        if self.buf == self.last || self.days_seen.contains(self.buf.as_slice()) {
            std::mem::swap(&mut self.buf, &mut self.last);
            return;
        }
        let cands = self.buf.clone();
        self.clock(&cands, 0);
        self.days_seen.insert(cands);
        std::mem::swap(&mut self.buf, &mut self.last);
    }

    /// Walk the clock from second `t0` of a day on which the sub-periods in `cands` have
    /// matching dates.
    fn clock(&mut self, cands: &[u64], t0: u32) {
        let subs: Vec<&SubPeriod> = self
            .valid
            .iter()
            .enumerate()
            .filter(|(i, _)| cands[i / 64] >> (i % 64) & 1 != 0)
            .map(|(_, sp)| *sp)
            .collect();
        if subs.is_empty() {
            self.gap = true;
            return;
        }
        let (h0, m0, s0) = (t0 / 3600, t0 / 60 % 60, t0 % 60);
        for h in h0..24 {
            for m in if h == h0 { m0 } else { 0 }..60 {
                let lo = if h == h0 && m == m0 { s0 } else { 0 };
                let window = ALL_SECONDS & !((1u64 << lo) - 1);
                let union = subs
                    .iter()
                    .filter(|sp| sp.hr.has(h) && sp.min.has(m))
                    .fold(0, |acc, sp| acc | sp.sec.low())
                    & window;
                self.inside |= union != 0;
                self.gap |= union != window;
                if self.inside && (self.gap || !self.has_defect) {
                    return;
                }
            }
        }
    }
}
