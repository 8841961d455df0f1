//! The NelmioCorsBundle importer on arbitrary `nelmio_cors.yaml` text: never panics, bounded
//! (the fix-up loop is capped), and a converted document renders to YAML that the engine
//! judges exactly as `convert` reported.
#![no_main]

use corsguard_cli::import::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        corsguard_fuzz::check_import(Source::Nelmio, text);
    }
});
