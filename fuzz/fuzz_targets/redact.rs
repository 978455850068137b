//! Redaction, with the input repeated past several read buffers and a buffer size from the
//! first byte: the length is kept, only bytes of findings change (to the mask), the output
//! holds nothing at medium or above, and masking again changes nothing.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pansweep::detect::Detector;
use pansweep::fingerprint::Key;
use pansweep::rules::Rules;
use pansweep::scan::{RedactConfig, ScanConfig, mask_stream};

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::new(Rules::builtin().unwrap(), Key::insecure_for_tests()).unwrap())
}

fn mask(cfg: &ScanConfig, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    mask_stream(cfg, detector(), Box::new(std::io::Cursor::new(input.to_vec())), &mut out).unwrap();
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let mut input = rest.to_vec();
    if !rest.is_empty() && first & 1 == 1 {
        while input.len() < 20_000 {
            input.extend_from_slice(rest);
        }
    }
    let cfg = ScanConfig {
        redact: Some(RedactConfig::default()),
        chunk_size: 4096 + usize::from(first) * 61,
        summary: false,
        ..ScanConfig::default()
    };
    let out = mask(&cfg, &input);
    assert_eq!(out.len(), input.len());
    let mut may_change = vec![false; input.len()];
    // Findings as the redactor sees them: the first line may be a CSV header naming a code
    // column.
    let first_line = input.split(|&b| b == b'\n').next().unwrap_or_default();
    let doc = detector().document(first_line);
    for f in detector().find_in(&input, &doc) {
        for sp in [Some(f.span), Some(f.region), f.cvv].into_iter().flatten() {
            may_change[sp.start..sp.end].iter_mut().for_each(|m| *m = true);
        }
    }
    for i in 0..input.len() {
        if input[i] != out[i] {
            assert!(may_change[i], "byte {i} changed outside every finding");
        }
    }
    assert!(detector().find_in(&out, &doc).iter().all(|f| f.confidence < pansweep::finding::Confidence::Medium));
    // Not assert_eq: a failure would print the bytes, card numbers and all.
    assert!(mask(&cfg, &out) == out, "a second pass changed the output");
});
