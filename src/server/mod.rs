//! The mon client protocol server (TCP 2583).
