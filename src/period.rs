//! Time::Period (Perl module 1.25) evaluated natively: "is this local time inside this
//! period spec?" (config.md §6). Pure: the caller passes the zoned time.
//!
//! mon validates lazily (a malformed later sub-period is never seen when an earlier one
//! matches), so a spec is kept as text plus a pre-parsed form, and evaluation reports
//! `Malformed` exactly when Time::Period's `inPeriod` would return -1.

use jiff::Zoned;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodSpec {
    text: String,
}

impl PeriodSpec {
    /// Keep `text` for evaluation. Never fails: malformation is reported by `eval`,
    /// at the point Time::Period would notice it.
    pub fn new(text: &str) -> Self {
        PeriodSpec {
            text: text.to_string(),
        }
    }

    /// The spec as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `inPeriod(at, text)`.
    pub fn eval(&self, at: &Zoned) -> Membership {
        in_period(&self.text, at)
    }
}

/// `Time::Period::inPeriod(time, spec)` for the broken-down local time `at`.
pub fn in_period(_spec: &str, _at: &Zoned) -> Membership {
    // Implemented by the period work (issue 2 item 4).
    Membership::Malformed
}
