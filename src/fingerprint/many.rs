//! BLAKE3 keyed hashes of sixteen one-block messages at once, one message per 32-bit lane of
//! the AVX-512 registers.
//!
//! A digit-dense log holds hundreds of card-shaped numbers per megabyte, and each finding
//! needs its fingerprint: one at a time, the `blake3` crate's keyed hash of a 35-byte
//! message took ~85 ns, 8% of the detector's time on such logs. The crate hashes many
//! inputs in parallel only as the chunks of one long input, never as separate short
//! messages, so this module runs BLAKE3's compression function (the specification's
//! section 2.2, with the crate's constants) over sixteen messages side by side: ~20 ns each.
//! The crate stays the reference: the tests check every lane against it.

use std::arch::x86_64::{
    __m512i, _mm512_add_epi32, _mm512_loadu_si512, _mm512_ror_epi32, _mm512_set1_epi32,
    _mm512_storeu_si512, _mm512_xor_si512,
};

/// Messages hashed at once.
pub(super) const LANES: usize = 16;

/// BLAKE3's initial words (those of SHA-256).
const IV: [u32; 8] = [
    0x6A09_E667,
    0xBB67_AE85,
    0x3C6E_F372,
    0xA54F_F53A,
    0x510E_527F,
    0x9B05_688C,
    0x1F83_D9AB,
    0x5BE0_CD19,
];

/// The order of the message words from one round to the next.
const PERMUTATION: [usize; 16] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];

/// Domain flags of a keyed hash whose message is one block: its chunk's start and end, and
/// the root of the tree.
const ONE_BLOCK_KEYED: u32 = 1 | 2 | 8 | 16;

/// Returns true if and only if this CPU can run [`keyed_hashes`], and runs it at full clock:
/// AVX-512 VBMI2 marks the CPUs that do not lower their clock for 512-bit work, as for the
/// block pass (`detect::candidates::avx512`); elsewhere the crate hashes one at a time.
pub(super) fn available() -> bool {
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vbmi2")
}

/// The first 16 bytes of `BLAKE3-keyed(key, blocks[i][..lens[i]])` for each lane `i`
/// (every message at most 64 bytes, zero past its length), on a CPU on which [`available`]
/// holds.
pub(super) fn keyed_hashes(
    key: &[u8; 32],
    blocks: &[[u8; 64]; LANES],
    lens: &[u32; LANES],
) -> [[u8; 16]; LANES] {
    assert!(available());
    assert!(
        lens.iter().all(|&n| n <= 64),
        "a message longer than a block"
    );
    // SAFETY: the function only needs the CPU feature checked just above.
    unsafe { with_features(key, blocks, lens) }
}

#[target_feature(enable = "avx512f")]
fn with_features(
    key: &[u8; 32],
    blocks: &[[u8; 64]; LANES],
    lens: &[u32; LANES],
) -> [[u8; 16]; LANES] {
    // Word j of every message, lane by lane.
    let mut words = [[0u32; LANES]; 16];
    for (j, lanes) in words.iter_mut().enumerate() {
        for (w, block) in lanes.iter_mut().zip(blocks) {
            *w = u32::from_le_bytes([
                block[4 * j],
                block[4 * j + 1],
                block[4 * j + 2],
                block[4 * j + 3],
            ]);
        }
    }
    let mut m: [__m512i; 16] = std::array::from_fn(|j| load(&words[j]));
    let all = |x: u32| _mm512_set1_epi32(x as i32);
    let k =
        |i: usize| u32::from_le_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]]);
    let mut s: [__m512i; 16] = [
        all(k(0)),
        all(k(1)),
        all(k(2)),
        all(k(3)),
        all(k(4)),
        all(k(5)),
        all(k(6)),
        all(k(7)),
        all(IV[0]),
        all(IV[1]),
        all(IV[2]),
        all(IV[3]),
        // The block counter: 0, the only block of the first chunk.
        all(0),
        all(0),
        load(lens),
        all(ONE_BLOCK_KEYED),
    ];
    for round in 0..7 {
        // The columns, then the diagonals.
        g(&mut s, [0, 4, 8, 12], m[0], m[1]);
        g(&mut s, [1, 5, 9, 13], m[2], m[3]);
        g(&mut s, [2, 6, 10, 14], m[4], m[5]);
        g(&mut s, [3, 7, 11, 15], m[6], m[7]);
        g(&mut s, [0, 5, 10, 15], m[8], m[9]);
        g(&mut s, [1, 6, 11, 12], m[10], m[11]);
        g(&mut s, [2, 7, 8, 13], m[12], m[13]);
        g(&mut s, [3, 4, 9, 14], m[14], m[15]);
        if round < 6 {
            m = std::array::from_fn(|i| m[PERMUTATION[i]]);
        }
    }
    // The hash's first four words: the state's first half with its second half folded in.
    let mut out = [[0u32; LANES]; 4];
    for (w, lanes) in out.iter_mut().enumerate() {
        let v = _mm512_xor_si512(s[w], s[w + 8]);
        // SAFETY: 16 words, as the store writes.
        unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), v) };
    }
    std::array::from_fn(|lane| {
        let mut h = [0u8; 16];
        for (w, lanes) in out.iter().enumerate() {
            h[4 * w..4 * w + 4].copy_from_slice(&lanes[lane].to_le_bytes());
        }
        h
    })
}

/// Sixteen words as one register.
#[target_feature(enable = "avx512f")]
#[inline]
fn load(words: &[u32; LANES]) -> __m512i {
    // SAFETY: 16 words, as the load reads.
    unsafe { _mm512_loadu_si512(words.as_ptr().cast()) }
}

/// BLAKE3's quarter-round `G` on the state words `[a, b, c, d]`, with message words `x`, `y`.
#[target_feature(enable = "avx512f")]
#[inline]
fn g(s: &mut [__m512i; 16], [a, b, c, d]: [usize; 4], x: __m512i, y: __m512i) {
    s[a] = _mm512_add_epi32(_mm512_add_epi32(s[a], s[b]), x);
    s[d] = _mm512_ror_epi32::<16>(_mm512_xor_si512(s[d], s[a]));
    s[c] = _mm512_add_epi32(s[c], s[d]);
    s[b] = _mm512_ror_epi32::<12>(_mm512_xor_si512(s[b], s[c]));
    s[a] = _mm512_add_epi32(_mm512_add_epi32(s[a], s[b]), y);
    s[d] = _mm512_ror_epi32::<8>(_mm512_xor_si512(s[d], s[a]));
    s[c] = _mm512_add_epi32(s[c], s[d]);
    s[b] = _mm512_ror_epi32::<7>(_mm512_xor_si512(s[b], s[c]));
}
