//! When each service runs: the fixed-rate interval grid, randstart, randskew, the lateness
//! rule, cron instants, and the engine's single timer heap. Also the wall clock that maps
//! `tokio::time::Instant` to the Unix seconds mon's decisions use.
//!
//! All time here is `tokio::time::Instant`, so tests run on tokio's paused clock.
//!
//! Cadence (differences from mon's 1 s tick, documented in docs/engine.md):
//! * first run one `interval` after start, or at a uniform random offset in
//!   `[0, randstart)`;
//! * then fixed rate: the next run is due one interval after the previous *due* time, so a
//!   1 s interval runs every 1 s and never slips. A run still going at its next slot is not
//!   started twice: the slot is skipped and the next one on the grid is used;
//! * a run that starts more than half an interval late (held by `exclude_period`, a
//!   failing `m` dependency, `maxprocs`, a stopped scheduler) re-anchors the grid at its
//!   actual start, so two runs never come close together;
//! * with `randskew` each gap is `interval ± U{1..randskew}` whole seconds from the previous
//!   start (never less than one second, or the interval if that is shorter).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Maps monotonic instants to Unix time: `wall = anchor_wall + (now - anchor_instant)`.
///
/// A real system clock can be stepped (NTP, an operator). `check` compares the mapped time
/// with the system clock and re-anchors when they differ by more than `JUMP_TOLERANCE`, so
/// decisions and logs follow the new wall time while the monotonic schedule is untouched
/// (interval services keep their cadence; cron services recompute their next instant).
/// A fixed clock (tests) never re-anchors, so a paused tokio clock sees consistent times.
#[derive(Debug, Clone)]
pub struct WallClock {
    anchor_instant: Instant,
    anchor_wall: Duration,
    follow_system: bool,
}

/// How far the system clock may drift from the mapped clock before we re-anchor.
pub const JUMP_TOLERANCE: Duration = Duration::from_secs(2);

fn system_wall() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

impl WallClock {
    /// Follow the system clock.
    pub fn system() -> Self {
        WallClock {
            anchor_instant: Instant::now(),
            anchor_wall: system_wall(),
            follow_system: true,
        }
    }

    /// A clock that reads `unix_secs` now and advances with tokio's clock only.
    pub fn fixed(unix_secs: i64) -> Self {
        WallClock {
            anchor_instant: Instant::now(),
            anchor_wall: Duration::from_secs(u64::try_from(unix_secs).unwrap_or(0)),
            follow_system: false,
        }
    }

    /// The Unix time at `at`.
    pub fn wall_at(&self, at: Instant) -> Duration {
        if at >= self.anchor_instant {
            self.anchor_wall + (at - self.anchor_instant)
        } else {
            self.anchor_wall.saturating_sub(self.anchor_instant - at)
        }
    }

    /// Whole Unix seconds now (mon's `time()`).
    pub fn now_secs(&self) -> i64 {
        secs_of(self.wall_at(Instant::now()))
    }

    /// The instant at which the wall clock reads `wall` (clamped to now when in the past).
    pub fn instant_at(&self, wall: Duration) -> Instant {
        let now = Instant::now();
        let wall_now = self.wall_at(now);
        if wall > wall_now {
            now + (wall - wall_now)
        } else {
            now
        }
    }

    /// Re-anchor if the system clock jumped; returns the jump in seconds (positive =
    /// forward) when it did.
    pub fn check(&mut self) -> Option<i64> {
        if !self.follow_system {
            return None;
        }
        let now = Instant::now();
        let mapped = self.wall_at(now);
        let sys = system_wall();
        let jump = if sys > mapped {
            let d = sys - mapped;
            (d > JUMP_TOLERANCE).then(|| secs_of(d))
        } else {
            let d = mapped - sys;
            (d > JUMP_TOLERANCE).then(|| -secs_of(d))
        };
        if jump.is_some() {
            self.anchor_instant = now;
            self.anchor_wall = sys;
        }
        jump
    }
}

fn secs_of(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// When the first run of an interval service is due: one interval after `start` (mon's
/// rule), or at a random offset in `[0, randstart)` when randstart is set.
pub fn first_due(
    start: Instant,
    interval: Duration,
    randstart: Option<Duration>,
    rng: &mut fastrand::Rng,
) -> Instant {
    match randstart {
        Some(r) if !r.is_zero() => {
            let nanos = u64::try_from(r.as_nanos()).unwrap_or(u64::MAX);
            start + Duration::from_nanos(rng.u64(0..nanos))
        }
        _ => start + interval,
    }
}

/// The next due time after a run that was due at `due` and started at `started`.
pub fn next_due(
    interval: Duration,
    randskew: Option<Duration>,
    due: Instant,
    started: Instant,
    rng: &mut fastrand::Rng,
) -> Instant {
    if let Some(skew) = randskew.filter(|s| !s.is_zero()) {
        return started + skewed_gap(interval, skew, rng);
    }
    let late = started.saturating_duration_since(due);
    if late > interval / 2 {
        started + interval
    } else {
        due + interval
    }
}

/// The slot after `due` when the run due then is skipped (the previous run still going).
pub fn skip_slot(
    interval: Duration,
    randskew: Option<Duration>,
    due: Instant,
    rng: &mut fastrand::Rng,
) -> Instant {
    match randskew.filter(|s| !s.is_zero()) {
        Some(skew) => due + skewed_gap(interval, skew, rng),
        None => due + interval,
    }
}

/// `interval ± U{1..randskew}` whole seconds (never 0 skew, like mon), at least one second
/// (or the interval, if shorter).
pub fn skewed_gap(interval: Duration, skew: Duration, rng: &mut fastrand::Rng) -> Duration {
    let n = skew.as_secs().max(1);
    let k = Duration::from_secs(rng.u64(1..=n));
    let floor = interval.min(Duration::from_secs(1));
    let gap = if rng.bool() {
        interval + k
    } else {
        interval.saturating_sub(k)
    };
    gap.max(floor)
}

/// A parsed `cron "EXPR"` schedule (monrs extension), evaluated in local time.
#[derive(Debug, Clone)]
pub struct Cron {
    schedule: cron::Schedule,
}

impl Cron {
    /// Parse a cron expression (the `cron` crate's syntax: `sec min hour dom mon dow [year]`).
    pub fn parse(expr: &str) -> Result<Cron, String> {
        expr.parse::<cron::Schedule>()
            .map(|schedule| Cron { schedule })
            .map_err(|e| e.to_string())
    }

    /// The first instant strictly after the Unix time `after`, as Unix time.
    pub fn next_after(&self, after: Duration) -> Option<Duration> {
        use chrono::TimeZone as _;
        let secs = i64::try_from(after.as_secs()).ok()?;
        let dt = chrono::Local
            .timestamp_opt(secs, after.subsec_nanos())
            .single()?;
        let next = self.schedule.after(&dt).next()?;
        let ts = u64::try_from(next.timestamp()).ok()?;
        Some(Duration::new(ts, next.timestamp_subsec_nanos()))
    }
}

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerKind {
    /// The service's monitor is due.
    Due,
    /// A held service (exclude_period, `m` dependency, global exclude_period) is re-checked.
    Recheck,
    /// `traptimeout` expires.
    TrapTimeout,
    /// `trapduration` expires.
    TrapDuration,
}

/// One armed timer. `generation` lets the owner invalidate a timer without removing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timer {
    pub at: Instant,
    pub seq: u64,
    pub svc: usize,
    pub kind: TimerKind,
    pub generation: u64,
}

/// The engine's timers in one binary heap (earliest first). Cancelling is lazy: the owner
/// bumps its generation counter and ignores stale timers when they pop.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<Timer>>,
    seq: u64,
}

impl Timers {
    pub fn new() -> Self {
        Timers::default()
    }

    pub fn push(&mut self, at: Instant, svc: usize, kind: TimerKind, generation: u64) {
        self.seq += 1;
        self.heap.push(Reverse(Timer {
            at,
            seq: self.seq,
            svc,
            kind,
            generation,
        }));
    }

    /// The earliest deadline.
    pub fn peek(&self) -> Option<Instant> {
        self.heap.peek().map(|r| r.0.at)
    }

    /// Remove and return the earliest timer if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.heap.peek().is_some_and(|r| r.0.at <= now) {
            self.heap.pop().map(|r| r.0)
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// Drain every timer (to rebuild the heap, e.g. after the scheduler was stopped).
    pub fn drain(&mut self) -> Vec<Timer> {
        std::mem::take(&mut self.heap)
            .into_vec()
            .into_iter()
            .map(|r| r.0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[tokio::test(start_paused = true)]
    async fn fixed_rate_grid_never_slips() {
        let mut rng = fastrand::Rng::with_seed(1);
        let start = Instant::now();
        let iv = S;
        let mut due = first_due(start, iv, None, &mut rng);
        assert_eq!(due, start + iv, "first run one interval after start");
        for k in 1..=100u32 {
            // The run starts a little late each time (work, load): the grid holds.
            let started = due + Duration::from_millis(30);
            due = next_due(iv, None, due, started, &mut rng);
            assert_eq!(due, start + iv * (k + 1));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn late_start_reanchors() {
        let mut rng = fastrand::Rng::with_seed(1);
        let t = Instant::now();
        let iv = Duration::from_secs(10);
        // Held 7 s (exclude_period ended): next run one interval after the actual start.
        assert_eq!(next_due(iv, None, t, t + 7 * S, &mut rng), t + 17 * S);
        // 4 s late (maxprocs queue): keep the grid.
        assert_eq!(next_due(iv, None, t, t + 4 * S, &mut rng), t + 10 * S);
        // An overrun skips to the next grid slot.
        assert_eq!(skip_slot(iv, None, t, &mut rng), t + 10 * S);
    }

    #[tokio::test(start_paused = true)]
    async fn randstart_is_uniform_below_the_bound() {
        let mut rng = fastrand::Rng::with_seed(7);
        let start = Instant::now();
        let r = Duration::from_secs(10);
        let mut seen_low = false;
        let mut seen_high = false;
        for _ in 0..1000 {
            let d = first_due(start, Duration::from_secs(60), Some(r), &mut rng) - start;
            assert!(d < r);
            seen_low |= d < Duration::from_secs(1);
            seen_high |= d > Duration::from_secs(9);
        }
        assert!(seen_low && seen_high);
    }

    #[test]
    fn randskew_gaps() {
        let mut rng = fastrand::Rng::with_seed(3);
        let iv = Duration::from_secs(6);
        let skew = Duration::from_secs(2);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..2000 {
            seen.insert(skewed_gap(iv, skew, &mut rng).as_secs());
        }
        // interval ± {1, 2}: never the plain interval (mon never draws ±0).
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![4, 5, 7, 8]);
        // Never below one second, even when the skew exceeds the interval.
        for _ in 0..200 {
            let g = skewed_gap(Duration::from_secs(2), Duration::from_secs(5), &mut rng);
            assert!(g >= S, "{g:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn wall_clock_follows_the_paused_clock() {
        let c = WallClock::fixed(1_000_000);
        assert_eq!(c.now_secs(), 1_000_000);
        tokio::time::advance(Duration::from_millis(2500)).await;
        assert_eq!(c.now_secs(), 1_000_002);
        let at = c.instant_at(Duration::from_secs(1_000_010));
        assert_eq!(at - Instant::now(), Duration::from_millis(7500));
        let mut c = c;
        assert_eq!(c.check(), None, "a fixed clock never re-anchors");
    }

    #[test]
    fn system_clock_detects_no_jump_when_steady() {
        let mut c = WallClock::system();
        assert_eq!(c.check(), None);
        let diff = c.now_secs() - i64::try_from(system_wall().as_secs()).unwrap_or(0);
        assert!(diff.abs() <= 1);
    }

    #[test]
    fn cron_next_instant() -> Result<(), String> {
        let c = Cron::parse("0 */5 * * * *")?;
        let base = Duration::from_secs(1_795_315_000); // a multiple of 100, not of 300
        let next = c.next_after(base).ok_or("no next")?;
        assert!(next > base && next - base <= Duration::from_secs(300));
        assert_eq!(next.as_secs() % 60, 0);
        assert!(Cron::parse("not a cron").is_err());
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn timer_heap_orders_and_pops_due() {
        let mut t = Timers::new();
        let now = Instant::now();
        t.push(now + 3 * S, 1, TimerKind::Due, 0);
        t.push(now + S, 2, TimerKind::Due, 0);
        t.push(now + S, 3, TimerKind::Recheck, 0);
        assert_eq!(t.peek(), Some(now + S));
        assert!(t.pop_due(now).is_none());
        let a = t.pop_due(now + S).map(|x| x.svc);
        let b = t.pop_due(now + S).map(|x| x.svc);
        assert_eq!((a, b), (Some(2), Some(3)), "FIFO among equal deadlines");
        assert!(t.pop_due(now + S).is_none());
        assert_eq!(t.len(), 1);
    }
}
