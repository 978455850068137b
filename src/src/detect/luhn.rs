//! The Luhn (mod 10) check digit, ISO/IEC 7812-1 Annex B.

/// Returns true if and only if `digits` (ASCII `0`–`9`) is non-empty and passes the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    // Doubled digit d maps to 2d or 2d-9.
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    if digits.is_empty() {
        return false;
    }
    // Pairs from the right: the check digit as it is, the one before it doubled. No branch
    // per digit: this runs for every long number in a file.
    let mut sum = 0u32;
    let mut bad = false;
    let mut pairs = digits.rchunks_exact(2);
    for pair in &mut pairs {
        let (hi, lo) = (pair[0].wrapping_sub(b'0'), pair[1].wrapping_sub(b'0'));
        bad |= hi > 9 || lo > 9;
        sum += u32::from(lo) + DOUBLED[usize::from(hi.min(9))];
    }
    if let [first] = pairs.remainder() {
        let d = first.wrapping_sub(b'0');
        bad |= d > 9;
        sum += u32::from(d);
    }
    if bad {
        return false;
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The textbook form: double every second digit from the right, subtract 9 above 9.
    fn reference(digits: &[u8]) -> bool {
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let sum: u32 = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &c)| {
                let d = u32::from(c - b'0');
                match (i % 2, d * 2) {
                    (0, _) => d,
                    (_, x) if x > 9 => x - 9,
                    (_, x) => x,
                }
            })
            .sum();
        sum.is_multiple_of(10)
    }

    /// A generated digit string, never shown whole if a case fails (it may pass Luhn).
    struct Digits(String);

    impl std::fmt::Debug for Digits {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&crate::mask::scrub(self.0.as_bytes()))
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_textbook_form(
            s in "[0-9]{0,25}|[0-9a/]{0,6}".prop_map(Digits)
        ) {
            prop_assert!(luhn_valid(s.0.as_bytes()) == reference(s.0.as_bytes()));
        }
    }

    #[test]
    fn known_values() {
        for ok in [
            "4111111111111111",
            "378282246310005",
            "6011000990139424",
            "0",
            "18",
        ] {
            assert!(luhn_valid(ok.as_bytes()), "{ok}");
        }
        for bad in ["4111111111111112", "378282246310006", "", "12a4", "1"] {
            assert!(!luhn_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        let base = b"4556737586899855".to_vec();
        for i in 0..base.len() {
            for d in b'0'..=b'9' {
                if d == base[i] {
                    continue;
                }
                let mut v = base.clone();
                v[i] = d;
                assert!(!luhn_valid(&v));
            }
        }
    }
}
