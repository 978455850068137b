//! The config, rules and baseline parsers: any text gives a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = pansweep::config::ConfigFile::parse(text, "fuzz.toml".into());
    let _ = pansweep::rules::BrandTable::parse(text, "fuzz.json");
    let _ = pansweep::rules::Keywords::parse(text, "fuzz.json");
    let _ = pansweep::rules::TestCards::parse(text, "fuzz.json");
    let _ = serde_json::from_str::<pansweep::baseline::BaselineSyntax>(text);
});
