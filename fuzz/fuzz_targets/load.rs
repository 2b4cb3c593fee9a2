//! The config loader on arbitrary bytes: it must never panic, and every error it
//! returns must be located (line >= 1) and renderable.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use monrs::config::{LoadOptions, load_str_with};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = LoadOptions {
        // No file-system dependence: authfile/userfile lines always "readable", and a
        // fixed instant for period validation.
        readable: Some(|_| true),
        now: jiff::Timestamp::from_second(1_795_000_000)
            .ok()
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC)),
        m4: None,
    };
    match load_str_with(&text, Path::new("fuzz.cf"), &opts) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                let _ = w.render();
            }
        }
        Err(e) => {
            assert!(e.line >= 1, "unlocated error: {e:?}");
            let _ = e.render();
        }
    }
});
