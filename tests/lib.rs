//! The one integration-test binary (see Cargo.toml `autotests = false`).
//! Each module tests one area against real processes, sockets and servers.

mod actions;
mod config;
mod depend;
mod period;
mod protocol;
mod support;
// The engine with real processes: scheduling, monitors, alerts, Debian's scripts.
mod engine;

/// Native tcp/http/mysql checks against real servers, compared with Debian's scripts.
mod native;
