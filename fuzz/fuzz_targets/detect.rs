//! Any bytes: no panic; every span inside the input; every PAN or track finding is a
//! Luhn-valid number of a brand in the table, shown only as first six and last four; and the
//! fast path (skipping 64-byte blocks) finds exactly what visiting every digit finds.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pansweep::detect::{Detector, Document};
use pansweep::detect::luhn::luhn_valid;
use pansweep::finding::Kind;
use pansweep::fingerprint::Key;
use pansweep::rules::Rules;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::new(Rules::builtin().unwrap(), Key::insecure_for_tests()).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let d = detector();
    let found = d.find(data);
    let reference = d.find_exhaustive(data, &Document::default());
    assert!(found.len() == reference.len(), "fast path and reference differ");
    for (a, b) in found.iter().zip(&reference) {
        assert!(a.span == b.span && a.kind == b.kind && a.cvv == b.cvv, "fast path and reference differ");
    }
    for f in found {
        assert!(f.span.start <= f.span.end && f.span.end <= data.len());
        assert!(f.region.start <= f.span.start && f.span.end <= f.region.end && f.region.end <= data.len());
        if let Some(c) = f.cvv {
            assert!(c.end <= data.len());
        }
        if f.kind == Kind::Cvv {
            continue;
        }
        let digits: Vec<u8> = {
            let mut v = Vec::new();
            let mut i = f.span.start;
            while i < f.span.end {
                match pansweep::detect::candidates::digit_at(data, i) {
                    Some((d, w)) => {
                        v.push(d);
                        i += w;
                    }
                    None => i += 1,
                }
            }
            v
        };
        assert!((13..=19).contains(&digits.len()));
        assert!(luhn_valid(&digits));
        assert!(d.rules().brands.lookup(&digits).is_some());
        let m = f.masked.as_str();
        assert_eq!(m.len(), digits.len());
        assert_eq!(&m.as_bytes()[..6], &digits[..6]);
        assert!(m.as_bytes()[6..digits.len() - 4].iter().all(|&b| b == b'*'));
    }
});
