//! The Luhn (mod 10) check digit, ISO/IEC 7812-1 Annex B.

/// Returns true if and only if `digits` (ASCII `0`–`9`) is non-empty and passes the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    // Doubled digit d maps to 2d or 2d-9.
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    if digits.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return false;
        }
        sum += if i % 2 == 1 {
            DOUBLED[d as usize]
        } else {
            u32::from(d)
        };
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

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
