//! Arbitrary text through the YAML loader: never panics, every diagnostic located, bounded
//! time and memory (libFuzzer `-timeout`, `-rss_limit_mb`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        corsguard_fuzz::load_and_check(text, corsguard::Format::Yaml, None);
    }
});
