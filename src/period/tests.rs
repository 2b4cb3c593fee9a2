//! Table tests pinning Time::Period 1.25's notable behaviours. Every expectation below was
//! checked against the installed Perl module (`perl -MTime::Period`) with the same TZ;
//! tests/period.rs compares thousands more against Perl directly.

use jiff::Zoned;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::Membership::{Inside, Malformed, Outside};
use super::*;

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).expect("zone in the system tzdb")
}

/// A local wall-clock time in `tz` ("2024-03-04T17:30:00").
fn local(tz: &str, when: &str) -> Zoned {
    let dt: DateTime = when.parse().expect("civil datetime");
    dt.to_zoned(zone(tz)).expect("representable")
}

/// An instant given in UTC, viewed in `tz`.
fn utc_in(tz: &str, when: &str) -> Zoned {
    local("UTC", when).with_time_zone(zone(tz))
}

/// A UTC wall-clock time.
fn utc(when: &str) -> Zoned {
    local("UTC", when)
}

fn check(spec: &str, at: &Zoned, want: Membership) {
    assert_eq!(PeriodSpec::new(spec).eval(at), want, "{spec:?} at {at}");
    assert_eq!(in_period(spec, at), want, "in_period({spec:?}) at {at}");
}

#[test]
fn hour_ranges_cover_the_whole_end_hour() {
    check("hr {9am-5pm}", &utc("2024-03-04T17:30:00"), Inside);
    check("hr {9am-5pm}", &utc("2024-03-04T17:59:59"), Inside);
    check("hr {9am-5pm}", &utc("2024-03-04T18:00:00"), Outside);
    check("hr {9am-5pm}", &utc("2024-03-04T08:59:59"), Outside);
    check("hr {9am-5pm}", &utc("2024-03-04T09:00:00"), Inside);
}

#[test]
fn reversed_ranges_wrap() {
    check("hr {10pm-2am}", &utc("2024-03-04T02:30:00"), Inside);
    check("hr {10pm-2am}", &utc("2024-03-04T22:00:00"), Inside);
    check("hr {10pm-2am}", &utc("2024-03-04T03:00:00"), Outside);
    // 2024-03-01 is a Friday.
    for (day, want) in [
        (1, Inside),
        (2, Inside),
        (3, Inside),
        (4, Inside),
        (5, Outside),
        (6, Outside),
        (7, Outside),
    ] {
        check(
            "wd {fri-mon}",
            &utc(&format!("2024-03-0{day}T12:00:00")),
            want,
        );
    }
    check("mo {Nov-Feb}", &utc("2024-01-15T00:00:00"), Inside);
    check("mo {Nov-Feb}", &utc("2024-03-15T00:00:00"), Outside);
    check("min {50-10}", &utc("2024-01-15T00:05:00"), Inside);
    check("md {28-3}", &utc("2024-02-29T00:00:00"), Inside);
}

#[test]
fn am_pm_and_noon() {
    check("hr {12am}", &utc("2024-03-04T00:10:00"), Inside);
    check("hr {12pm}", &utc("2024-03-04T12:10:00"), Inside);
    check("hr {12noon}", &utc("2024-03-04T12:10:00"), Inside);
    check("hr {11noon}", &utc("2024-03-04T12:10:00"), Malformed);
    check("hr {1pm}", &utc("2024-03-04T13:00:00"), Inside);
    check("hr {12am-11am}", &utc("2024-03-04T11:59:59"), Inside);
    check("hr {12am-11am}", &utc("2024-03-04T12:00:00"), Outside);
    // Time::Period does not range-check the number before "am": 13am is 13 o'clock.
    check("hr {13am}", &utc("2024-03-04T13:00:00"), Inside);
    check("hr {0pm}", &utc("2024-03-04T12:00:00"), Inside);
    check("hr {12pm-13pm}", &utc("2024-03-04T12:00:00"), Malformed);
    check("hr {20-25}", &utc("2024-03-04T21:00:00"), Malformed);
}

#[test]
fn names_case_and_blanks() {
    let mon = local("UTC", "2024-03-04T10:00:00");
    for spec in [
        "wd {Mon}",
        "WD {MONDAY}",
        "wday {mo}",
        "  wd{ monxyz }  ",
        "wd {sun - mon}",
        "wd {Sat Sun Mon}",
        "wd {tue} wd {mon}",
        "month {March} mday {4}",
        "mo {marzipan}",
        "yr {2024} mo {3} wk {2} yd {64} md {4} wd {2} hr {10} min {0} sec {0}",
        "year {24} minute {0-59} second {0-59} hour {10} yday {64} week {2}",
    ] {
        check(spec, &mon, Inside);
    }
    for spec in [
        "wd {s}", "mo {ja}", "wd {8}", "mo {13}", "md {0}", "wk {7}", "yd {367}",
    ] {
        check(spec, &mon, Malformed);
    }
}

#[test]
fn malformed_shapes() {
    let t = local("UTC", "2024-03-04T10:00:00");
    for spec in [
        "hr {bogus}",
        "foo {1}",
        "h {1}",
        "hours {1}",
        "hr 9-17",
        "hr {9-17",
        "hr {9-17}}",
        "hr {9-17} junk",
        "{9-17}",
        ",hr {1}",
        "hr {9-}",
        "hr {-9}",
        "hr {1 - 2 - 3}",
        "hr {9} , , hr {10}",
    ] {
        check(spec, &t, Malformed);
    }
}

#[test]
fn lazy_validation_stops_at_the_first_match() {
    let mon = local("UTC", "2024-03-04T10:00:00");
    let tue = local("UTC", "2024-03-05T10:00:00");
    check("wd {Sun-Sat}, hr {bogus}", &mon, Inside);
    check("wd {mon}, hr {bogus}", &mon, Inside);
    check("wd {mon}, hr {bogus}", &tue, Malformed);
    check("hr {bogus}, wd {Sun-Sat}", &mon, Malformed);
    let spec = PeriodSpec::new("wd {Sun-Sat}, hr {bogus}");
    let defect = spec.defect().expect("second sub-period is malformed");
    assert_eq!(defect.number, 2);
    assert_eq!(defect.text, "hr {bogus}");
    assert_eq!(&spec.text()[defect.span.clone()], "hr {bogus}");
    assert!(defect.reason.contains("bogus"), "{defect}");
    assert_eq!(PeriodSpec::new("wd {mon}, hr {1}").defect(), None);
}

#[test]
fn special_specs() {
    let t = local("UTC", "2024-03-04T10:00:00");
    check("", &t, Inside);
    check(" \t ", &t, Inside);
    check("none", &t, Outside);
    check(" NONE ", &t, Outside);
    // Only empty sub-periods: Perl's split drops them all, nothing can match.
    check(",", &t, Outside);
    check(" , , ", &t, Outside);
    check("wd {mon},", &t, Inside);
    // A scale with no ranges is valid and never satisfied.
    check("wd {}", &t, Outside);
    check("wd {} hr {10}, hr {10}", &t, Inside);
}

#[test]
fn year_numbers_map_into_the_current_century() {
    check("yr {24}", &local("UTC", "2024-06-01T00:00:00"), Inside);
    check("yr {99-1972}", &local("UTC", "2024-06-01T00:00:00"), Inside);
    check("yr {99-1972}", &local("UTC", "1999-06-01T00:00:00"), Inside);
    check(
        "yr {99-1972}",
        &local("UTC", "1971-06-01T00:00:00"),
        Outside,
    );
    check(
        "yr {2025-2020}",
        &local("UTC", "2024-06-01T00:00:00"),
        Inside,
    );
    check("yr {0}", &local("UTC", "2000-06-01T00:00:00"), Inside);
    check("yr {100}", &local("UTC", "2000-06-01T00:00:00"), Malformed);
    check("yr {1969}", &local("UTC", "2000-06-01T00:00:00"), Malformed);
}

#[test]
fn week_of_month_counts_sundays_after_the_first() {
    // September 2024 starts on a Sunday: the 1st is still week 1, the 8th starts week 2.
    let sep = |d: u32| local("UTC", &format!("2024-09-{d:02}T12:00:00"));
    check("wk {1}", &sep(1), Inside);
    check("wk {1}", &sep(7), Inside);
    check("wk {2}", &sep(8), Inside);
    check("wk {5}", &sep(30), Inside);
    // June 2024 starts on a Saturday: the 2nd (Sunday) is week 2, the 30th week 6.
    let jun = |d: u32| local("UTC", &format!("2024-06-{d:02}T12:00:00"));
    check("wk {1}", &jun(1), Inside);
    check("wk {2}", &jun(2), Inside);
    check("wk {6}", &jun(30), Inside);
    assert_eq!(week_of_month(1, 0), 0);
    assert_eq!(week_of_month(8, 0), 1);
    assert_eq!(week_of_month(2, 0), 1);
    assert_eq!(week_of_month(30, 0), 5);
    // Out-of-range input from a caller must not overflow.
    assert_eq!(week_of_month(0, u32::MAX), 0);
}

#[test]
fn yday_single_values_use_perl_numbers() {
    // 2024-03-04 is day 64 of a leap year.
    let t = local("UTC", "2024-03-04T10:00:00");
    check("yd {64}", &t, Inside);
    check("yd {64.0}", &t, Inside);
    check("yd {6.4e1}", &t, Inside);
    check("yd {64x}", &t, Inside);
    check("yd {64.00000000000001}", &t, Outside);
    check("yd {64.5}", &t, Malformed);
    check("yd {x}", &t, Malformed);
    check("yd {0}", &t, Malformed);
    check("yd {366}", &local("UTC", "2024-12-31T10:00:00"), Inside);
    check("yd {60-70}", &t, Inside);
    check("yd {60.0-70}", &t, Malformed);
}

#[test]
fn dst_changes_use_the_local_wall_clock() {
    // 01:30 UTC on 2026-03-29 is 03:30 in Berlin: 02:xx never happens that day.
    let spring = utc_in("Europe/Berlin", "2026-03-29T01:30:00");
    check("hr {3}", &spring, Inside);
    check("hr {2}", &spring, Outside);
    let before = utc_in("Europe/Berlin", "2026-03-29T00:59:59");
    check("hr {1}", &before, Inside);
    // Autumn: 00:30 and 01:30 UTC on 2026-10-25 are both 02:30 local.
    for t in ["2026-10-25T00:30:00", "2026-10-25T01:30:00"] {
        check("hr {2} min {30}", &utc_in("Europe/Berlin", t), Inside);
    }
    // New York springs forward on 2026-03-08 at 07:00 UTC (02:00 EST -> 03:00 EDT).
    let ny = utc_in("America/New_York", "2026-03-08T07:00:00");
    check("hr {3} md {8}", &ny, Inside);
    check(
        "hr {1}",
        &utc_in("America/New_York", "2026-03-08T06:59:59"),
        Inside,
    );
}

#[test]
fn eval_fields_matches_eval() {
    let t = utc_in("America/New_York", "2024-02-29T23:59:59");
    let f = LocalFields::of(&t);
    assert_eq!((f.year, f.month, f.mday, f.yday), (2024, 1, 29, 59));
    assert_eq!((f.hour, f.minute, f.second, f.wday), (18, 59, 59, 4));
    let spec = PeriodSpec::new("mo {feb} md {29} hr {6pm}");
    assert_eq!(spec.eval_fields(&f), Inside);
    assert_eq!(spec.eval(&t), Inside);
}

#[test]
fn specs_compare_by_text() {
    assert_eq!(PeriodSpec::new("wd {mon}"), PeriodSpec::new("wd {mon}"));
    assert_ne!(PeriodSpec::new("wd {mon}"), PeriodSpec::new("wd {Mon}"));
    assert_eq!(PeriodSpec::new(" wd {Mon} ").text(), " wd {Mon} ");
    assert_eq!(
        format!("{:?}", PeriodSpec::new("wd {mon}")),
        r#"PeriodSpec("wd {mon}")"#
    );
}

fn reach(spec: &str, from: &Zoned) -> Option<bool> {
    PeriodSpec::new(spec).can_match(from)
}

#[test]
fn can_match_finds_periods_that_never_come() {
    let now = local("Europe/Berlin", "2026-06-01T23:30:00");
    let cases: &[(&str, Option<bool>)] = &[
        ("", Some(true)),
        ("none", Some(false)),
        (",", Some(false)),
        ("wd {}", Some(false)),
        ("yr {2019}", Some(false)),
        ("yr {2019-2025}", Some(false)),
        ("yr {2030}", Some(true)),
        // 99 is read in the current century: 2099.
        ("yr {99}", Some(true)),
        ("mo {feb} md {30}", Some(false)),
        ("mo {feb} md {29}", Some(true)),
        ("mo {feb} md {29} yr {2026-2027}", Some(false)),
        ("mo {apr} md {31}, mo {jun} md {31}", Some(false)),
        // January 1st is a Thursday, Friday and Saturday in 2026-2028.
        ("wd {mon} md {1} mo {jan} yr {2026-2028}", Some(false)),
        ("wd {mon} md {1} mo {jan}", Some(true)),
        ("wk {6} mo {feb}", Some(false)),
        ("wk {6}", Some(true)),
        ("yd {366} yr {2026-2027}", Some(false)),
        ("yd {366}", Some(true)),
        // The rest of today: 23:30 in Berlin.
        ("yr {2026} mo {jun} md {1} hr {22}", Some(false)),
        ("yr {2026} mo {jun} md {1} hr {23} min {29}", Some(false)),
        ("yr {2026} mo {jun} md {1} hr {23} min {30}", Some(true)),
        ("hr {9am-5pm} wd {mon-fri}", Some(true)),
        ("hr {bogus}", None),
        ("wd {Sun-Sat}, hr {bogus}", Some(true)),
        ("wd {mon}, hr {bogus}", None),
        // A malformed sub-period behind one that covers every remaining instant.
        ("yr {2026-2500}, hr {bogus}", Some(true)),
        ("hr {0-11}, hr {12-23}, wd {bogus}", Some(true)),
        ("hr {0-11}, hr {13-23}, wd {bogus}", None),
        ("sec {0-58}, sec {59}, x", Some(true)),
        ("sec {0-58}, x", None),
    ];
    for (spec, want) in cases {
        assert_eq!(reach(spec, &now), *want, "{spec:?}");
    }
}

#[test]
fn can_match_counts_the_rest_of_the_current_second() {
    let now = local("UTC", "2026-12-31T23:59:59");
    assert_eq!(reach("yr {2026} sec {59}", &now), Some(true));
    assert_eq!(reach("yr {2026} sec {58}", &now), Some(false));
    assert_eq!(reach("yr {2026} sec {59}, x", &now), None);
    assert_eq!(reach("yr {2026} sec {58}, x", &now), None);
    assert_eq!(
        reach("yr {2026-2027} sec {58}, yr {2028-9999}", &now),
        Some(true)
    );
}
