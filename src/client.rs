//! `monrs cmd`: a moncmd-compatible client of the mon protocol.
