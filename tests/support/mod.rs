//! Shared test helpers: the monrs binary, temporary directories, free ports.

#![allow(dead_code)]

pub mod engine;

use std::net::TcpListener;
use std::path::PathBuf;

/// Path of the monrs binary built for this test run.
pub fn monrs_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_monrs"))
}

/// A TCP port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// The repository root (for `../shared`-independent fixtures under `tests/fixtures`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub mod actions;
pub mod config;
pub mod native;
pub mod perl;
pub mod protocol;
