//! The floor pansweep is measured against: a minimal scanner that walks the tree as pansweep
//! does (`ignore`, one thread or all cores), maps or reads each file, finds runs of 13 to 19
//! ASCII digits with an AVX2 digit test, and Luhn-checks them. Nothing else: no grouped
//! numbers, no brand table, no look-alike rules, no context, no output but a count.
//!
//! Issue #7 asks that the gap between pansweep and the hardware be shown, not guessed. The
//! brief's reference figure (3.3 GB/s per core) came from another machine; this program gives
//! the same kind of figure on the machine `benches/compare.sh` runs on, in the same run.
//!
//!   cargo run --release --example floor -- [-j N] DIR...
//!
//! Prints the number of Luhn-valid plain runs and the bytes read. Not part of the product.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use pansweep::mapped::MAP_MIN;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let mut threads = 0;
    let mut roots = Vec::new();
    while let Some(a) = args.next() {
        if a == "-j" {
            threads = args.next().and_then(|n| n.parse().ok()).expect("-j N");
        } else {
            roots.push(a);
        }
    }
    assert!(!roots.is_empty(), "usage: floor [-j N] DIR...");
    let mut walk = ignore::WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        walk.add(r);
    }
    walk.threads(threads);
    let (found, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
    walk.build_parallel().run(|| {
        let mut buf = Vec::new();
        let (found, bytes) = (&found, &bytes);
        Box::new(move |entry| {
            if let Ok(e) = entry
                && e.file_type().is_some_and(|t| t.is_file())
                && let Some((n, len)) = scan_file(e.path(), &mut buf)
            {
                found.fetch_add(n, Ordering::Relaxed);
                bytes.fetch_add(len, Ordering::Relaxed);
            }
            ignore::WalkState::Continue
        })
    });
    println!(
        "{} Luhn-valid runs of 13-19 digits in {} bytes",
        found.into_inner(),
        bytes.into_inner()
    );
}

/// The Luhn-valid runs of one file and its length; `None` if it cannot be read.
fn scan_file(path: &Path, buf: &mut Vec<u8>) -> Option<(u64, u64)> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    if len >= MAP_MIN {
        // SAFETY: a benchmark over files nothing else writes while it runs.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        let _ = map.advise(memmap2::Advice::Sequential);
        return Some((count_luhn_runs(&map), len));
    }
    buf.clear();
    file.read_to_end(buf).ok()?;
    Some((count_luhn_runs(buf), len))
}

/// The runs of 13 to 19 ASCII digits in `bytes`, not touching another digit, that pass Luhn.
fn count_luhn_runs(bytes: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected just above.
        #[allow(unsafe_code)]
        return unsafe { avx2::count(bytes) };
    }
    count_from(bytes, 0, scalar_mask)
}

/// Bit `i` set where `bytes[at + i]` is an ASCII digit, for the 64 bytes from `at`.
fn scalar_mask(bytes: &[u8], at: usize) -> u64 {
    let end = (at + 64).min(bytes.len());
    bytes[at..end]
        .iter()
        .enumerate()
        .fold(0, |m, (i, b)| m | (u64::from(b.is_ascii_digit()) << i))
}

/// The block loop, over digit masks from `mask`: a block where no 13 digits in a row start
/// costs a few shifts; only the rest are looked at byte by byte.
#[inline(always)]
fn count_from(bytes: &[u8], mut at: usize, mask: impl Fn(&[u8], usize) -> u64) -> u64 {
    let mut found = 0;
    // Digits in the block, and whether the byte before the block is a digit.
    let mut d = if at < bytes.len() { mask(bytes, at) } else { 0 };
    let mut before = at > 0 && bytes[at - 1].is_ascii_digit();
    while at < bytes.len() {
        let next = if at + 64 < bytes.len() {
            mask(bytes, at + 64)
        } else {
            0
        };
        let wide = u128::from(d) | u128::from(next) << 64;
        // Positions where 13 digits in a row begin.
        let a2 = wide & wide >> 1;
        let a4 = a2 & a2 >> 2;
        let a8 = a4 & a4 >> 4;
        let a13 = (a8 & a4 >> 8 & wide >> 12) as u64;
        let starts = d & !(d << 1 | u64::from(before));
        let mut hits = a13 & starts;
        while hits != 0 {
            let s = at + hits.trailing_zeros() as usize;
            hits &= hits - 1;
            // The run's length from the digit bits (at least 13, at most 20 counted: the
            // bits reach 64 bytes past this block), its Luhn sum without a branch per digit.
            let n = ((wide >> (s - at)) as u32).trailing_ones().min(20) as usize;
            found += u64::from(n <= 19 && luhn(bytes, s, n));
        }
        before = d >> 63 == 1;
        d = next;
        at += 64;
    }
    found
}

/// The Luhn check of the `n` ASCII digits at `start`, known to be digits: eight at a time
/// in the lanes of a word (pansweep's `luhn_valid_prefix`, on the bytes where they are).
/// A check digit by digit, with a branch per doubled digit, mispredicted on the dense tree
/// and made the floor ~2x slower there than pansweep's own pass.
fn luhn(bytes: &[u8], start: usize, n: usize) -> bool {
    use pansweep::detect::luhn::{PADDED, luhn_valid, luhn_valid_prefix};
    match bytes.get(start..start + PADDED) {
        Some(s) => luhn_valid_prefix(s.try_into().expect("PADDED bytes"), n),
        None => luhn_valid(&bytes[start..start + n]),
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use std::arch::x86_64::*;

    /// [`super::count_luhn_runs`], with the digit masks taken 32 bytes at a time.
    #[target_feature(enable = "avx2")]
    pub unsafe fn count(bytes: &[u8]) -> u64 {
        super::count_from(bytes, 0, |b, at| {
            if at + 64 <= b.len() {
                // SAFETY: AVX2 is enabled for this function; the 64 bytes are in bounds.
                unsafe { mask64(b.as_ptr().add(at)) }
            } else {
                super::scalar_mask(b, at)
            }
        })
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn mask64(p: *const u8) -> u64 {
        // SAFETY: the caller guarantees 64 readable bytes at `p`.
        unsafe {
            let zero = _mm256_set1_epi8(b'0' as i8);
            let nine = _mm256_set1_epi8(9);
            let half = |q: *const u8| {
                let x = _mm256_sub_epi8(_mm256_loadu_si256(q.cast()), zero);
                let digit = _mm256_cmpeq_epi8(_mm256_min_epu8(x, nine), x);
                _mm256_movemask_epi8(digit) as u32 as u64
            };
            half(p) | half(p.add(32)) << 32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same count, the slow way: split at every byte that is not a digit, and check
    /// with pansweep's Luhn.
    fn reference(bytes: &[u8]) -> u64 {
        bytes
            .split(|b| !b.is_ascii_digit())
            .filter(|run| (13..=19).contains(&run.len()) && pansweep::detect::luhn::luhn_valid(run))
            .count() as u64
    }

    #[test]
    fn runs_are_counted_whole_and_once() {
        // 4111111111111111 passes Luhn; inside a run of 20 digits it does not count.
        let mut text = b"x 4111111111111111 y 41111111111111111111 ".to_vec();
        text.extend(std::iter::repeat_n(b'a', 100));
        text.extend(b"4111111111111111");
        assert_eq!(reference(&text), 2);
        assert_eq!(count_luhn_runs(&text), 2);
    }

    #[test]
    fn runs_across_block_edges_count_as_the_slow_way_does() {
        // Runs of 12 to 21 digits at every offset around the edges of 64-byte blocks.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let mut text = Vec::new();
            while text.len() < 300 {
                let gap = 1 + (next() % 70) as usize;
                text.extend(std::iter::repeat_n(b'-', gap));
                let n = 12 + (next() % 10) as usize;
                text.extend((0..n).map(|_| b'0' + (next() % 10) as u8));
            }
            let want = reference(&text);
            assert_eq!(count_luhn_runs(&text), want);
            assert_eq!(count_from(&text, 0, scalar_mask), want);
        }
    }
}
