//! When each service runs: interval, randskew, randstart, failure_interval, cron, exclusions.
