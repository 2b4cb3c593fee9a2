//! The one integration-test binary (see Cargo.toml `autotests = false`).
//! Each module tests one area against real processes, sockets and servers.

mod support;

/// Native tcp/http/mysql checks against real servers, compared with Debian's scripts.
mod native;
