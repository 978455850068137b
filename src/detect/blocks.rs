//! Byte classes of 64-byte blocks as bit masks, so that the candidate pass can skip the
//! stretches of a buffer where no card number or security code can be.
//!
//! Logs are full of digits (a quarter of the bytes of typical server logs), in short runs:
//! dates, times, counters, addresses. Visiting each run one by one costs more than reading the
//! bytes; classifying 64 bytes at once and combining the masks with a handful of shifts finds
//! the few places worth a closer look. The vector compares come from the `wide` crate: SSE2
//! (part of every x86-64 CPU) or NEON where the target has them, plain loops elsewhere; no
//! `unsafe` here.

use wide::u8x16;

/// Bytes per block.
pub const BLOCK: usize = 64;

/// The classes of the bytes of one block; bit `j` describes byte `j`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Masks {
    /// ASCII digits.
    pub digit: u64,
    /// Bytes that can join two digits inside a number token: space, `-`, `.`, `+`, and the
    /// `%`, `D` and `d` of a percent-encoded separator (`%20`, `%2D`).
    pub joiner: u64,
    /// Bytes outside ASCII (full-width digits, no-break and ideographic spaces, keywords in
    /// Japanese): such blocks are handed whole to the exact pass.
    pub high: u64,
    /// Line feeds, counted for [`super::lines::BlockNewlines`].
    pub newline: u64,
}

impl Masks {
    /// Classifies one block, 16 bytes per vector operation.
    #[inline(always)]
    pub fn of(block: &[u8; BLOCK]) -> Masks {
        let mut m = Masks::default();
        for (k, chunk) in block.chunks_exact(16).enumerate() {
            let mut lanes = [0u8; 16];
            lanes.copy_from_slice(chunk);
            let v = u8x16::new(lanes);
            // A digit is a byte whose distance above `0` is at most 9 (unsigned).
            let above_zero = v - u8x16::splat(b'0');
            let digit = above_zero.min(u8x16::splat(9)).simd_eq(above_zero);
            let is = |b: u8| v.simd_eq(u8x16::splat(b));
            let joiner = is(b' ')
                | is(b'-')
                | is(b'.')
                | is(b'+')
                | is(b'%')
                | (v | u8x16::splat(0x20)).simd_eq(u8x16::splat(b'd'));
            let shift = 16 * k;
            m.digit |= u64::from(digit.to_bitmask()) << shift;
            m.joiner |= u64::from(joiner.to_bitmask()) << shift;
            // The top bit of each byte is what the bitmask gathers.
            m.high |= u64::from(v.to_bitmask()) << shift;
            m.newline |= u64::from(is(b'\n').to_bitmask()) << shift;
        }
        m
    }
}

/// Bit `j` is set when byte `at + j - 1` of `bytes` may come just before a security code: a
/// superset of [`super::cvv::may_precede_code`] (NUL to `(`, `:` to `>`, `[`, `` ` ``,
/// non-ASCII). Only the blocks near a keyword need it.
#[inline(always)]
pub fn code_lead_after(bytes: &[u8], at: usize) -> u64 {
    let mut block = [0u8; BLOCK];
    let from = at.saturating_sub(1);
    let rest = bytes.get(from..).unwrap_or_default();
    let n = rest.len().min(BLOCK);
    block[..n].copy_from_slice(&rest[..n]);
    let mut lead = 0u64;
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        let mut lanes = [0u8; 16];
        lanes.copy_from_slice(chunk);
        let v = u8x16::new(lanes);
        let below = |b: u8| v.min(u8x16::splat(b)).simd_eq(v);
        let above_colon = v - u8x16::splat(b':');
        let class = below(b'(')
            | above_colon
                .min(u8x16::splat(b'>' - b':'))
                .simd_eq(above_colon)
            | v.simd_eq(u8x16::splat(b'['))
            | v.simd_eq(u8x16::splat(b'`'));
        // Non-ASCII bytes may precede a code too (a Japanese keyword or gap).
        lead |= u64::from(class.to_bitmask() | v.to_bitmask()) << (16 * k);
    }
    // The first byte of `bytes` has nothing before it.
    if at == 0 { lead << 1 } else { lead }
}

/// The `N` bytes of `bytes` from `at`, NUL past its end: the last block of a buffer, for
/// the classifiers that read whole blocks.
#[inline]
pub fn padded<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut block = [0u8; N];
    let rest = bytes.get(at..).unwrap_or_default();
    let n = rest.len().min(N);
    block[..n].copy_from_slice(&rest[..n]);
    block
}

/// The masks of the block of `bytes` starting at `at`, padded with NUL past the end.
#[inline(always)]
pub fn masks_at(bytes: &[u8], at: usize) -> Masks {
    match bytes.get(at..at + BLOCK) {
        Some(b) => {
            let mut block = [0u8; BLOCK];
            block.copy_from_slice(b);
            Masks::of(&block)
        }
        None => Masks::of(&padded(bytes, at)),
    }
}

/// The digit bits and the plain-separator bits (space, `-`, `.`, `+`) of the 64 bytes of
/// `bytes` from `at` (NUL past the end): all that walking a token run at any offset needs.
/// (It repeats the shape of [`Masks::of`]: sharing helpers between the two measured 2–4%
/// slower on typical logs, consistently, for reasons not pinned down.)
#[inline(always)]
pub fn digit_and_plain_bits(bytes: &[u8], at: usize) -> (u64, u64) {
    let mut block = [0u8; BLOCK];
    match bytes.get(at..at + BLOCK) {
        Some(b) => block.copy_from_slice(b),
        None => {
            let rest = bytes.get(at..).unwrap_or_default();
            block[..rest.len()].copy_from_slice(rest);
        }
    }
    let (mut digit, mut plain) = (0u64, 0u64);
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        let mut lanes = [0u8; 16];
        lanes.copy_from_slice(chunk);
        let v = u8x16::new(lanes);
        let above_zero = v - u8x16::splat(b'0');
        let is_digit = above_zero.min(u8x16::splat(9)).simd_eq(above_zero);
        let is = |b: u8| v.simd_eq(u8x16::splat(b));
        let is_plain = is(b' ') | is(b'-') | is(b'.') | is(b'+');
        digit |= u64::from(is_digit.to_bitmask()) << (16 * k);
        plain |= u64::from(is_plain.to_bitmask()) << (16 * k);
    }
    (digit, plain)
}

/// The low bit of each byte lane of a u64 (for SWAR: eight bytes in one word).
pub const LO: u64 = 0x0101_0101_0101_0101;
/// The top bit of each byte lane of a u64.
pub const HI: u64 = 0x8080_8080_8080_8080;

/// The top bit of each byte lane of `x` is set when that byte is an ASCII digit (exact): the
/// digit test for eight bytes at once where a whole block is not worth classifying.
#[inline(always)]
pub fn digit_lanes(x: u64) -> u64 {
    let t = x & !HI;
    let ge30 = t.wrapping_add(LO * (0x80 - 0x30));
    let le39 = (LO * (0x80 + 0x39)).wrapping_sub(t);
    ge30 & le39 & !x & HI
}

/// [`runs_at_least`] for one mask and any run length `n` in `1..=16` known only at run time:
/// the doubling steps are taken once, and each length then costs one shift and one `and`
/// instead of a loop (a card shape asks for several lengths of the same block).
#[derive(Clone, Copy)]
pub struct RunLadder {
    /// `runs_at_least(m, n)` for `n` of 1, 2, 4 and 8.
    r1: u64,
    r2: u64,
    r4: u64,
    r8: u64,
}

impl RunLadder {
    /// The ladder of `m`.
    #[inline(always)]
    pub fn new(m: u64) -> RunLadder {
        let r2 = m & m >> 1;
        let r4 = r2 & r2 >> 2;
        RunLadder {
            r1: m,
            r2,
            r4,
            r8: r4 & r4 >> 4,
        }
    }

    /// `runs_at_least(m, n)`, for `n` in `1..=16`.
    #[inline(always)]
    pub fn at_least(&self, n: u32) -> u64 {
        debug_assert!((1..=16).contains(&n));
        // The largest power of two not above n, then one more step of n minus it (no more
        // than the power itself): the two spans cover bits i..i + n. The branches depend on
        // n only, which is the same for every block.
        let (r, p) = if n >= 8 {
            (self.r8, 8)
        } else if n >= 4 {
            (self.r4, 4)
        } else if n >= 2 {
            (self.r2, 2)
        } else {
            (self.r1, 1)
        };
        r & r >> (n - p)
    }
}

/// Bit `i` is set when bits `i..i + n` of `m` are all set (`n` ≤ 16).
#[inline(always)]
pub fn runs_at_least(m: u64, n: u32) -> u64 {
    // Doubling: after each step, bit i says "the next `have` bits are set".
    let mut have = 1;
    let mut r = m;
    while have < n {
        let step = have.min(n - have);
        r &= r >> step;
        have += step;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_a_byte_by_byte_classification() {
        let mut bytes: Vec<u8> = (0u8..=255).collect();
        bytes.extend_from_slice(b"4111 1111-1111.1111+%20%2D%2d");
        for at in (0..bytes.len()).step_by(7) {
            let m = masks_at(&bytes, at);
            for j in 0..BLOCK {
                let b = bytes.get(at + j).copied().unwrap_or(0);
                assert_eq!(m.digit >> j & 1 == 1, b.is_ascii_digit(), "{b}");
                assert_eq!(
                    m.joiner >> j & 1 == 1,
                    b" -.+%dD".contains(&b),
                    "joiner {b}"
                );
                assert_eq!(m.high >> j & 1 == 1, b >= 0x80, "high {b}");
                if crate::detect::cvv::may_precede_code(b) {
                    assert!(code_lead_after(&bytes, at + 1) >> j & 1 == 1, "lead {b}");
                }
            }
        }
    }

    #[test]
    fn runs_of_set_bits() {
        let m: u64 = 0b0111_1111_1111_1100_1111_1111_1110;
        let r = runs_at_least(m, 12);
        let ladder = RunLadder::new(m);
        for n in 1..=16 {
            assert_eq!(ladder.at_least(n), runs_at_least(m, n), "{n}");
        }
        assert_eq!(r, 0b11 << 14);
        assert_eq!(runs_at_least(m, 11), 1 << 1 | 0b111 << 14);
        assert_eq!(runs_at_least(u64::MAX, 12) >> 52, 1);
        for n in 1..=16 {
            let bits = (1u64 << n) - 1;
            assert_eq!(runs_at_least(bits << 3, n), 1 << 3, "{n}");
            assert_eq!(runs_at_least(bits << 3, n + 1), 0, "{n}");
        }
    }
}
