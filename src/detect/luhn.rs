//! The Luhn (mod 10) check digit, ISO/IEC 7812-1 Annex B.

use super::blocks::{HI, LO, digit_lanes};

/// Returns true if and only if `digits` (ASCII `0`–`9`) is non-empty and passes the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut padded = [b'0'; PADDED];
    let Some(head) = padded.get_mut(..digits.len()) else {
        return luhn_valid_long(digits);
    };
    head.copy_from_slice(digits);
    let all_digits = padded.chunks_exact(8).all(|word| {
        let mut lanes = [0u8; 8];
        lanes.copy_from_slice(word);
        !digit_lanes(u64::from_le_bytes(lanes)) & HI == 0
    });
    all_digits && luhn_valid_prefix(&padded, digits.len())
}

/// Bytes of the buffer [`luhn_valid_prefix`] reads: three words of eight digits.
pub const PADDED: usize = 24;

/// [`luhn_valid`] for the first `n` bytes of `buf` (whatever follows them), which must be
/// ASCII digits (for other bytes the answer means nothing): the candidate pass keeps each
/// number's digits in such a buffer, filled by fixed-size copies, and this runs for every
/// long number in a file without copying or checking them again.
#[inline]
pub fn luhn_valid_prefix(buf: &[u8; PADDED], n: usize) -> bool {
    if n == 0 || n > PADDED {
        return false;
    }
    // Eight digits at a time, one per byte lane; lanes past `n` read as `0`, which adds
    // nothing. Counted from the check digit, every second digit is doubled: those at an
    // index of the parity of the length. Words start at even indices, so the same lanes are
    // doubled in each.
    let doubled_lanes = if n.is_multiple_of(2) {
        EVEN_LANES
    } else {
        EVEN_LANES << 8
    };
    // Each lane's value is at most 9 + 9 + 1; the three words' lanes add up to at most 57
    // per byte.
    let mut lanes_sum = 0u64;
    for (k, word) in buf.chunks_exact(8).enumerate() {
        let mut lanes = [0u8; 8];
        lanes.copy_from_slice(word);
        let keep = KEEP[n][k];
        let x = (u64::from_le_bytes(lanes) & keep) | ((LO * u64::from(b'0')) & !keep);
        let d = x.wrapping_sub(LO * u64::from(b'0'));
        let doubled = d & doubled_lanes;
        // Doubling d gives 2d, less 9 when d ≥ 5; mod 10 that is 2d plus one when d ≥ 5.
        let carry = doubled.wrapping_add(LO * 0x7B) >> 7 & LO;
        lanes_sum += d + doubled + carry;
    }
    // Pairs of bytes into four 16-bit lanes (at most 114 each), which one multiply adds up
    // in the top 16 bits: one multiply per number instead of one per word (SSE2 has no
    // 64-bit multiply, and the vectorised form of three took three times the instructions).
    const EVEN_BYTES: u64 = 0x00FF_00FF_00FF_00FF;
    let pairs = (lanes_sum & EVEN_BYTES) + (lanes_sum >> 8 & EVEN_BYTES);
    let sum = pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48;
    sum.is_multiple_of(10)
}

/// The Luhn check digit by digit, for more digits than the padded copy holds (no card
/// number has that many).
fn luhn_valid_long(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        let d = u32::from(c.wrapping_sub(b'0'));
        if d > 9 {
            return false;
        }
        sum += if i % 2 == 1 {
            (2 * d) % 10 + 2 * d / 10
        } else {
            d
        };
    }
    sum.is_multiple_of(10)
}

/// `KEEP[n][k]`: the byte lanes of word `k` that hold one of the first `n` digits.
static KEEP: [[u64; 3]; PADDED + 1] = {
    let mut t = [[0u64; 3]; PADDED + 1];
    let mut n = 0;
    while n <= PADDED {
        let mut k = 0;
        while k < 3 {
            let lanes = n.saturating_sub(8 * k);
            t[n][k] = if lanes >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * lanes)) - 1
            };
            k += 1;
        }
        n += 1;
    }
    t
};

/// Byte lanes 0, 2, 4 and 6.
const EVEN_LANES: u64 = 0x00FF_00FF_00FF_00FF;

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
            s in "[0-9]{0,40}|[0-9a/:\u{b0}-\u{ff}]{0,12}".prop_map(Digits)
        ) {
            prop_assert!(luhn_valid(s.0.as_bytes()) == reference(s.0.as_bytes()));
        }
    }

    proptest! {
        #[test]
        fn any_bytes_after_the_prefix_are_ignored(
            s in "[0-9]{1,24}".prop_map(Digits),
            tail in proptest::collection::vec(any::<u8>(), 24),
        ) {
            let n = s.0.len();
            let mut buf = [0u8; PADDED];
            buf.copy_from_slice(&tail);
            buf[..n].copy_from_slice(s.0.as_bytes());
            prop_assert!(luhn_valid_prefix(&buf, n) == reference(s.0.as_bytes()));
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
