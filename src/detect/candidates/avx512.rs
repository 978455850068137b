//! The block pass compiled for x86-64 CPUs with AVX-512 (Ice Lake, 2019, and later; AMD Zen
//! 4), run in groups of blocks: a 512-bit register holds the 64-bit masks of eight blocks,
//! so the pass decides for eight at once which ones are quiet (nothing in them to look at)
//! and skips those. On typical logs nine blocks in ten are quiet and the pass is ~18%
//! faster than the AVX2 build; on digit-dense files grouping gains nothing, and checking
//! the Luhn sums of a window's ids together ([`luhn_ends`]) made it ~15% faster. (A block is also
//! classified in one register here; alone, that measured no faster than the AVX2 halves.)
//!
//! Required: AVX-512 VBMI2 as well as BW, F, VBMI, CD and VPOPCNTDQ. VBMI's byte permutes
//! serve the Luhn check of [`luhn_ends`]; CD's leading-zero counts and VPOPCNTDQ's bit
//! counts judge the runs at the ends of eight blocks at once in [`open_tails`] (every CPU
//! with VBMI2 so far has both). VBMI2 not for its instructions: it marks the CPUs that do
//! not lower their clock much for 512-bit work. On a Cascade Lake server (BW without VBMI2)
//! an earlier AVX-512 block pass measured 9% slower than the AVX2 one (`benches/HISTORY.md`,
//! "Earlier runs"); simdjson's Ice Lake kernel asks for VBMI2 too.

use std::arch::x86_64::{
    __m512i, _mm_loadu_si128, _mm512_add_epi64, _mm512_alignr_epi64, _mm512_and_si512,
    _mm512_andnot_si512, _mm512_broadcast_i32x4, _mm512_cmpeq_epi8_mask, _mm512_cmpeq_epi64_mask,
    _mm512_cmpge_epu64_mask, _mm512_loadu_si512, _mm512_lzcnt_epi64, _mm512_mask_add_epi8,
    _mm512_mask_set1_epi64, _mm512_maskz_sub_epi8, _mm512_movepi8_mask, _mm512_or_si512,
    _mm512_permutex2var_epi8, _mm512_permutexvar_epi8, _mm512_popcnt_epi64, _mm512_set1_epi8,
    _mm512_set1_epi64, _mm512_shuffle_epi8, _mm512_sllv_epi64, _mm512_srli_epi16,
    _mm512_srlv_epi64, _mm512_sub_epi64, _mm512_test_epi8_mask, _mm512_test_epi64_mask,
};

use super::{Anchors, Candidate, GROUP, LONG, Shapes, Span};
use crate::detect::blocks::{BLOCK, Masks, padded};

/// Returns true if and only if this CPU can run [`relevant`], and runs it at full clock.
pub(super) fn available() -> bool {
    super::avx2::available()
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512cd")
        && std::is_x86_feature_detected!("avx512vpopcntdq")
        && std::is_x86_feature_detected!("avx512vbmi")
        && std::is_x86_feature_detected!("avx512vbmi2")
}

/// [`super::relevant`] with keyword anchors (without them, every block is loud and groups
/// gain nothing), for a CPU on which [`available`] holds.
pub(super) fn relevant(
    bytes: &[u8],
    shapes: &Shapes,
    anchors: &Anchors,
    is_code: &mut impl FnMut(Span) -> bool,
    on_number: &mut impl FnMut(Candidate),
    on_short: &mut impl FnMut(Span),
    per_block: &mut [u8],
) {
    assert!(available());
    // SAFETY: the function only needs the CPU features checked just above.
    unsafe {
        with_features(
            bytes, shapes, anchors, is_code, on_number, on_short, per_block,
        )
    }
}

#[target_feature(
    enable = "avx512f,avx512bw,avx512vbmi,avx512cd,avx512vpopcntdq,avx2,bmi1,bmi2,lzcnt,popcnt"
)]
fn with_features(
    bytes: &[u8],
    shapes: &Shapes,
    anchors: &Anchors,
    is_code: &mut impl FnMut(Span) -> bool,
    on_number: &mut impl FnMut(Candidate),
    on_short: &mut impl FnMut(Span),
    per_block: &mut [u8],
) {
    let tables = Tables::new(anchors);
    let mut next_loud = None;
    let mut classify = |at, m: &mut _, filter| {
        classify_group(bytes, at, m, filter, (shapes, &tables), &mut next_loud)
    };
    super::relevant::<true, true>(
        bytes,
        shapes,
        (
            |b, at| masks_at(b, at),
            |b, at| digit_and_plain_at(b, at),
            #[inline(always)]
            |b, at, w| Some(luhn_ends(b, at, w)),
        ),
        (&mut |_| true, &mut classify, anchors.blocks_after),
        is_code,
        (on_number, on_short, per_block),
    )
}

/// [`masks_at`] on a CPU on which [`available`] holds, for tests.
#[cfg(test)]
pub(super) fn masks_at_checked(bytes: &[u8], at: usize) -> Masks {
    assert!(available());
    // SAFETY: the function only needs the CPU features checked just above.
    unsafe { masks_at(bytes, at) }
}

/// [`digit_and_plain_at`] on a CPU on which [`available`] holds, for tests.
#[cfg(test)]
pub(super) fn digit_and_plain_checked(bytes: &[u8], at: usize) -> (u64, u64) {
    assert!(available());
    // SAFETY: the function only needs the CPU features checked just above.
    unsafe { digit_and_plain_at(bytes, at) }
}

/// Whether [`Tables::masks_and_anchor`] flags the block at `at` for an anchor, on a CPU on
/// which [`available`] holds, for tests; its masks must be the portable ones.
#[cfg(test)]
pub(super) fn anchor_in_block(a: &Anchors, bytes: &[u8], at: usize) -> bool {
    assert!(available());
    // SAFETY: the functions only need the CPU features checked just above.
    let mut masks = Masks::default();
    let anchor = unsafe { Tables::new(a).masks_and_anchor(bytes, at, &mut masks) };
    assert_eq!(
        masks,
        crate::detect::blocks::masks_at(bytes, at),
        "masks at {at}"
    );
    anchor
}

/// [`open_tails`] for the group whose masks are `masks` (as in [`quiet_blocks`]), on a CPU
/// on which [`available`] holds, for tests.
#[cfg(test)]
pub(super) fn open_tails_checked(shapes: &Shapes, masks: &[Masks; GROUP + 2]) -> u8 {
    assert!(available());
    let lanes = |of: &dyn Fn(usize) -> u64| std::array::from_fn::<u64, GROUP, _>(|i| of(i + 1));
    let t =
        lanes(&|k| super::token_run_bits(&masks[k], masks[k - 1].digit >> 63, masks[k + 1].digit));
    let d = lanes(&|k| masks[k].digit);
    let j = lanes(&|k| masks[k].joiner);
    let dn = lanes(&|k| masks[k + 1].digit);
    let jn = lanes(&|k| masks[k + 1].joiner);
    let next_high = (0..GROUP).fold(0, |h, i| h | u8::from(masks[i + 2].high != 0) << i);
    // SAFETY: each load reads an array of 8 words; the functions only need the CPU features
    // checked above.
    unsafe {
        let v = |x: [u64; GROUP]| _mm512_loadu_si512(x.as_ptr().cast());
        open_tails(shapes, v(t), v(d), v(j), v(dn), v(jn), next_high)
    }
}

/// A 16-byte table in each 128-bit lane, as the byte shuffle reads it.
#[target_feature(enable = "avx512f")]
#[inline]
fn broadcast(t: &[u8; 16]) -> __m512i {
    // SAFETY: the table is 16 bytes, as the load reads.
    unsafe { _mm512_broadcast_i32x4(_mm_loadu_si128(t.as_ptr().cast())) }
}

/// Bits of the table entries of both nibbles of every byte of `v` (a byte is in a class
/// when both of its nibbles' entries have the bit; bytes of 0x80 or more find 0 in the
/// low-nibble table: the shuffle's rule).
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn lookup(v: __m512i, lo: __m512i, hi: __m512i) -> __m512i {
    let high_nibble = _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0f));
    _mm512_and_si512(
        _mm512_shuffle_epi8(lo, v),
        _mm512_shuffle_epi8(hi, high_nibble),
    )
}

/// The class bytes of the first 64 bytes of `block` (bits as in
/// [`super::avx2`]'s nibble tables, [`super::CLASS_LO`] and [`super::CLASS_HI`]), with the
/// bytes themselves.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn class_of(block: &[u8]) -> (__m512i, __m512i) {
    assert!(block.len() >= BLOCK);
    // SAFETY: 64 <= block.len().
    let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
    (
        v,
        lookup(v, broadcast(&super::CLASS_LO), broadcast(&super::CLASS_HI)),
    )
}

/// [`crate::detect::blocks::masks_at`] with one 64-byte vector and nibble lookups.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn masks_at(bytes: &[u8], at: usize) -> Masks {
    prefetch_ahead(bytes, at);
    match bytes.get(at..at + BLOCK) {
        Some(block) => masks_of(block),
        None => masks_near_end(bytes, at),
    }
}

/// [`masks_at`] for the last block of `bytes`, padded with NUL.
#[target_feature(enable = "avx512f,avx512bw")]
#[cold]
fn masks_near_end(bytes: &[u8], at: usize) -> Masks {
    masks_of(&padded::<BLOCK>(bytes, at))
}

/// The masks of the first 64 bytes of `block`.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn masks_of(block: &[u8]) -> Masks {
    let (v, class) = class_of(block);
    let mut masks = Masks::default();
    set_masks(v, class, &mut masks);
    masks
}

/// Sets `masks` to those of the bytes `v` with class bytes `class`, field by field (a whole
/// `Masks` built and copied into the group's array went through a store and a wider load,
/// which waited for the store).
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn set_masks(v: __m512i, class: __m512i, masks: &mut Masks) {
    masks.digit = _mm512_test_epi8_mask(class, _mm512_set1_epi8(super::CLASS_DIGIT as i8));
    masks.joiner = _mm512_test_epi8_mask(class, _mm512_set1_epi8(super::CLASS_JOINER as i8));
    masks.high = _mm512_movepi8_mask(v);
    masks.newline = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'\n' as i8));
}

/// A hint to fetch the bytes [`super::avx2::PREFETCH`] past `at` (an address past the end
/// of `bytes` is never read).
#[target_feature(enable = "avx512f")]
#[inline]
fn prefetch_ahead(bytes: &[u8], at: usize) {
    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
        bytes
            .as_ptr()
            .wrapping_add(at + super::avx2::PREFETCH)
            .cast(),
    );
}

/// [`crate::detect::blocks::digit_and_plain_bits`] with one 64-byte vector, on the bytes
/// where they are.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn digit_and_plain_at(bytes: &[u8], at: usize) -> (u64, u64) {
    let class = match bytes.get(at..at + BLOCK) {
        Some(block) => class_of(block).1,
        None => class_of(&padded::<BLOCK>(bytes, at)).1,
    };
    (
        _mm512_test_epi8_mask(class, _mm512_set1_epi8(super::CLASS_DIGIT as i8)),
        _mm512_test_epi8_mask(class, _mm512_set1_epi8(super::CLASS_PLAIN as i8)),
    )
}

/// Bit `i` is set where byte `at + i` is the last digit of a run of ASCII digits (`w`:
/// the digit bits of the 64 bytes from `at`, none past the end of `bytes`) whose digits
/// pass the Luhn check. Exact for runs of at most [`super::MAX_DIGITS`] digits that lie
/// whole in the window; other bits mean nothing. In digit-dense files most 64-byte windows
/// hold two or three ids of 13 digits or more: checking them together, without a branch
/// per id, costs less than one check each.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
fn luhn_ends(bytes: &[u8], at: usize, w: u64) -> u64 {
    let v = match bytes.get(at..at + BLOCK) {
        // SAFETY: 64 bytes, as the load reads.
        Some(block) => unsafe { _mm512_loadu_si512(block.as_ptr().cast()) },
        None => {
            let block = padded::<BLOCK>(bytes, at);
            // SAFETY: 64 bytes, as the load reads.
            unsafe { _mm512_loadu_si512(block.as_ptr().cast()) }
        }
    };
    let table = |t: &[u8; 64]| {
        // SAFETY: 64 bytes, as the load reads.
        unsafe { _mm512_loadu_si512(t.as_ptr().cast()) }
    };
    // Digit values (0 in the other lanes) and their doubles as Luhn counts them (2d, less
    // 9 above 9). Counted from a number's last digit, every second digit is doubled: the
    // sum for a run that ends at lane e is q(e) + q(e - 2) + q(e - 4) + ..., where q(i) is
    // digit i plus the double of digit i - 1 (none before the run's first digit). So one
    // sum, in steps of two lanes, serves both parities of a run's end.
    let value = _mm512_maskz_sub_epi8(w, v, _mm512_set1_epi8(b'0' as i8));
    let doubled = _mm512_permutexvar_epi8(value, table(&LUHN_DOUBLE));
    let pair = w & w << 1;
    let mut sum = _mm512_mask_add_epi8(
        value,
        pair,
        value,
        _mm512_permutexvar_epi8(table(&LUHN_SHIFTS[0]), doubled),
    );
    // Prefix sums in steps of 2, 4, 8 and 16 lanes, each adding the lane `k` below when it
    // is in the same run (bit i of `within`: bytes i - k to i are all digits): up to 16
    // pairs, runs of up to 32 digits, summed whole. A sum of at most 19 digits fits in a
    // byte.
    let mut within = pair & w << 2;
    for (k, shift) in LUHN_SHIFTS[1..].iter().enumerate() {
        sum = _mm512_mask_add_epi8(sum, within, sum, _mm512_permutexvar_epi8(table(shift), sum));
        within &= within << (2 << k);
    }
    // A multiple of 10: even, and half of it a multiple of 5 (a 128-entry lookup).
    let half = _mm512_and_si512(_mm512_srli_epi16(sum, 1), _mm512_set1_epi8(0x7f));
    let fifth = _mm512_permutex2var_epi8(table(&LUHN_FIFTHS[0]), half, table(&LUHN_FIFTHS[1]));
    _mm512_test_epi8_mask(fifth, fifth) & !_mm512_test_epi8_mask(sum, _mm512_set1_epi8(1)) & w
}

/// [`luhn_ends`] on a CPU on which [`available`] holds, for tests.
#[cfg(test)]
pub(super) fn luhn_ends_checked(bytes: &[u8], at: usize, w: u64) -> u64 {
    assert!(available());
    // SAFETY: the function only needs the CPU features checked just above.
    unsafe { luhn_ends(bytes, at, w) }
}

/// Lane `d`: digit `d` doubled as the Luhn check counts it.
static LUHN_DOUBLE: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut d = 0;
    while d < 10 {
        t[d] = if d < 5 { 2 * d as u8 } else { 2 * d as u8 - 9 };
        d += 1;
    }
    t
};

/// Byte shuffles that move each lane up by 1, 2, 4, 8 and 16 lanes (the lanes they fill
/// are never added).
static LUHN_SHIFTS: [[u8; 64]; 5] = {
    let mut t = [[0u8; 64]; 5];
    let mut k = 0;
    while k < 5 {
        let mut i = 0;
        while i < 64 {
            t[k][i] = ((i + 64 - (1 << k)) % 64) as u8;
            i += 1;
        }
        k += 1;
    }
    t
};

/// Lane `h` of the 128: all ones when `h` is a multiple of 5.
static LUHN_FIFTHS: [[u8; 64]; 2] = {
    let mut t = [[0u8; 64]; 2];
    let mut h = 0;
    while h < 128 {
        if h % 5 == 0 {
            t[h / 64][h % 64] = 0xff;
        }
        h += 1;
    }
    t
};

/// [`Anchors`]' nibble tables in vector registers, with the class tables that also look up
/// the anchors' first bytes.
struct Tables {
    /// The anchors' tables for their second and third bytes (index 0 unused).
    lo: [__m512i; 3],
    hi: [__m512i; 3],
    /// [`super::CLASS_LO`] and [`super::CLASS_HI`] with bits 0x0F set for the anchors'
    /// first bytes: bit `q` where a byte's nibbles are those of a first byte of the
    /// buckets of [`first_byte_classes`]' class `q`.
    class_lo: __m512i,
    class_hi: __m512i,
    /// For the 16 values of those 4 bits, the buckets whose first byte a byte may be.
    buckets: __m512i,
}

impl Tables {
    /// The tables of `a`, loaded once per buffer.
    #[target_feature(enable = "avx512f")]
    fn new(a: &Anchors) -> Tables {
        let [class_lo, class_hi, buckets] = *a.first_bytes.get_or_init(|| first_byte_tables(a));
        Tables {
            lo: a.lo.each_ref().map(|t| broadcast(t)),
            hi: a.hi.each_ref().map(|t| broadcast(t)),
            class_lo: broadcast(&class_lo),
            class_hi: broadcast(&class_hi),
            buckets: broadcast(&buckets),
        }
    }

    /// The masks of the block at `at` (NUL past the end of `bytes`), and whether an anchor
    /// may start in it ([`Anchors::may_start_in`] for its 64 offsets, or more often where
    /// the anchors have more than four kinds of first byte).
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn masks_and_anchor(&self, bytes: &[u8], at: usize, masks: &mut Masks) -> bool {
        prefetch_ahead(bytes, at);
        // An anchor starting at the block's last byte ends two bytes into the next.
        match bytes.get(at..at + BLOCK + 2) {
            Some(w) => self.masks_and_anchor_in(w, masks),
            None => self.masks_and_anchor_near_end(bytes, at, masks),
        }
    }

    /// [`Tables::masks_and_anchor`] for the last blocks of `bytes`.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[cold]
    fn masks_and_anchor_near_end(&self, bytes: &[u8], at: usize, masks: &mut Masks) -> bool {
        self.masks_and_anchor_in(&padded::<{ BLOCK + 2 }>(bytes, at), masks)
    }

    /// [`Tables::masks_and_anchor`] for the first 64 bytes of `w` (66 bytes or more): the
    /// class lookup of each byte gives the buckets whose anchors may start with it, and two
    /// lookups of the bytes one and two further on the buckets that may go on with them.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn masks_and_anchor_in(&self, w: &[u8], masks: &mut Masks) -> bool {
        assert!(w.len() >= BLOCK + 2);
        let load = |j: usize| {
            // SAFETY: j + 64 <= 66 <= w.len().
            unsafe { _mm512_loadu_si512(w.as_ptr().add(j).cast()) }
        };
        let v = load(0);
        let class = lookup(v, self.class_lo, self.class_hi);
        set_masks(v, class, masks);
        let first = _mm512_shuffle_epi8(
            self.buckets,
            _mm512_and_si512(class, _mm512_set1_epi8(0x0f)),
        );
        let all = _mm512_and_si512(
            first,
            _mm512_and_si512(
                lookup(load(1), self.lo[1], self.hi[1]),
                lookup(load(2), self.lo[2], self.hi[2]),
            ),
        );
        _mm512_test_epi8_mask(all, all) != 0
    }
}

/// [`super::CLASS_LO`] and [`super::CLASS_HI`] with the classes of [`first_byte_classes`]
/// in bits 0x0F, and for each value of those bits the buckets whose anchors may start with
/// a byte that has them: [`Tables`]' `class_lo`, `class_hi` and `buckets`.
fn first_byte_tables(a: &Anchors) -> [[u8; 16]; 3] {
    let (mut class_lo, mut class_hi) = (super::CLASS_LO, super::CLASS_HI);
    let mut buckets = [0u8; 16];
    for (q, class) in first_byte_classes(a).iter().enumerate() {
        for n in 0..16 {
            class_lo[n] |= u8::from(class.lo >> n & 1 == 1) << q;
            class_hi[n] |= u8::from(class.hi >> n & 1 == 1) << q;
        }
        for (x, b) in buckets.iter_mut().enumerate() {
            if x >> q & 1 == 1 {
                *b |= class.buckets;
            }
        }
    }
    [class_lo, class_hi, buckets]
}

/// For tests: the buckets whose anchors may start with byte `x` by [`Anchors`]' own
/// first-byte tables, and by [`first_byte_tables`].
#[cfg(test)]
pub(super) fn first_byte_buckets(a: &Anchors, x: u8) -> (u8, u8) {
    let (lo, hi) = (usize::from(x & 15), usize::from(x >> 4));
    let [class_lo, class_hi, buckets] = first_byte_tables(a);
    let class = class_lo[lo] & class_hi[hi] & 0x0f;
    (a.lo[0][lo] & a.hi[0][hi], buckets[usize::from(class)])
}

/// The bytes that may start the anchors of some buckets, as a class of the vector lookup:
/// bit `n` of `lo` (`hi`) set for a low (high) nibble `n` of such a byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FirstBytes {
    lo: u16,
    hi: u16,
    /// The buckets (bit `b`: bucket `b`).
    buckets: u8,
}

/// The kinds of first byte of `a`'s anchors, at most four (the class lookup's free bits):
/// one per set of first bytes the buckets have, the two that add fewest bytes merged while
/// there are more. The built-in anchors have two (`c` and `r`, either case).
fn first_byte_classes(a: &Anchors) -> Vec<FirstBytes> {
    let mut classes: Vec<FirstBytes> = Vec::new();
    for b in 0..8 {
        let bit = 1u8 << b;
        let set = |t: &[u8; 16]| (0..16).fold(0u16, |m, n| m | u16::from(t[n] & bit != 0) << n);
        let (lo, hi) = (set(&a.lo[0]), set(&a.hi[0]));
        if lo == 0 || hi == 0 {
            continue;
        }
        match classes.iter_mut().find(|c| (c.lo, c.hi) == (lo, hi)) {
            Some(c) => c.buckets |= bit,
            None => classes.push(FirstBytes {
                lo,
                hi,
                buckets: bit,
            }),
        }
    }
    let size = |lo: u16, hi: u16| lo.count_ones() * hi.count_ones();
    while classes.len() > 4 {
        let mut best = (0, 1, u32::MAX);
        for i in 0..classes.len() {
            for k in i + 1..classes.len() {
                let (x, y) = (classes[i], classes[k]);
                let grown = size(x.lo | y.lo, x.hi | y.hi) - size(x.lo, x.hi).max(size(y.lo, y.hi));
                if grown < best.2 {
                    best = (i, k, grown);
                }
            }
        }
        let y = classes.remove(best.1);
        let x = &mut classes[best.0];
        (x.lo, x.hi, x.buckets) = (x.lo | y.lo, x.hi | y.hi, x.buckets | y.buckets);
    }
    classes
}

/// Fills `masks[2..]` with the masks of the group's blocks from `at` on and of the block
/// after them (see [`super::relevant`]'s `masks`). Returns the group's loud blocks (bit i:
/// block i: an anchor may start in it, or a byte is not ASCII) and, when `filter` is set,
/// its quiet ones ([`quiet_blocks`]). `next_loud`: whether the block after the group is
/// loud, kept for the next group, whose first block it is (`None` before the first group).
/// Not inlined: the pass's loop keeps its registers.
#[target_feature(enable = "avx512f,avx512bw,avx512cd,avx512vpopcntdq,avx2,bmi1,bmi2,lzcnt,popcnt")]
#[inline(never)]
fn classify_group(
    bytes: &[u8],
    at: usize,
    masks: &mut [Masks; GROUP + 2],
    filter: bool,
    (shapes, tables): (&Shapes, &Tables),
    next_loud: &mut Option<bool>,
) -> (u8, u8) {
    // Bit j: block j of the group; bit GROUP: the block after it.
    let mut loud = match *next_loud {
        Some(l) => u16::from(l),
        // The first group: its first block's masks again, for its anchor.
        None => {
            let anchor = tables.masks_and_anchor(bytes, at, &mut masks[1]);
            u16::from(masks[1].high != 0 || anchor)
        }
    };
    for (j, m) in masks.iter_mut().enumerate().skip(2) {
        let anchor = tables.masks_and_anchor(bytes, at + (j - 1) * BLOCK, m);
        loud |= u16::from(m.high != 0 || anchor) << (j - 1);
    }
    *next_loud = Some(loud >> GROUP != 0);
    let loud = loud as u8;
    let quiet = if filter {
        quiet_blocks(shapes, masks) & !loud
    } else {
        0
    };
    (loud, quiet)
}

/// Bit `i` is set when block `i` of a group is quiet as far as its token runs go: no token
/// run in it with a card shape and [`LONG`] bytes, and none at its end that could reach
/// [`LONG`] digits with the next block's start unless [`super::tail_run`] lets it go. (The
/// pass also needs it to hold no anchor and no byte outside ASCII, and no run open into it
/// or keyword before it.) `masks[i]`: block `i - 1` of the group. The very operations the
/// pass makes on one block, on eight in the lanes of a register; the test
/// `grouped_pass_hands_on_what_the_block_by_block_pass_does` holds the outcome to the pass
/// block by block.
#[target_feature(enable = "avx512f,avx512bw,avx512cd,avx512vpopcntdq")]
#[inline]
fn quiet_blocks(shapes: &Shapes, masks: &[Masks; GROUP + 2]) -> u8 {
    // A block's masks in each lane, put there one by one from the registers that hold them
    // (loading lanes from an array just written stalled on the stores); the lanes of the
    // blocks before and after, by one lane's shift with the block before or after the group.
    let lanes = |of: fn(&Masks) -> u64| {
        let mut v = _mm512_set1_epi64(of(&masks[1]).cast_signed());
        for (i, m) in masks[2..=GROUP].iter().enumerate() {
            v = _mm512_mask_set1_epi64(v, 2 << i, of(m).cast_signed());
        }
        v
    };
    let (d, j) = (lanes(|m| m.digit), lanes(|m| m.joiner));
    let edge = |m: &Masks, of: fn(&Masks) -> u64| _mm512_set1_epi64(of(m).cast_signed());
    let dp = _mm512_alignr_epi64::<7>(d, edge(&masks[0], |m| m.digit));
    let jp = _mm512_alignr_epi64::<7>(j, edge(&masks[0], |m| m.joiner));
    let dn = _mm512_alignr_epi64::<1>(edge(&masks[GROUP + 1], |m| m.digit), d);
    let n = |x: u32| _mm512_set1_epi64(i64::from(x));
    let shr = |x: __m512i, by: u32| _mm512_srlv_epi64(x, n(by));
    let shl = |x: __m512i, by: u32| _mm512_sllv_epi64(x, n(by));
    let and = |a: __m512i, b: __m512i| _mm512_and_si512(a, b);
    let or = |a: __m512i, b: __m512i| _mm512_or_si512(a, b);
    let and_not = |a: __m512i, b: __m512i| _mm512_andnot_si512(b, a);
    let add = |a: __m512i, b: __m512i| _mm512_add_epi64(a, b);
    let ones = _mm512_set1_epi64(-1);
    // As in the pass: token runs, the carries from the block before, the long runs.
    let t = or(
        d,
        and(
            and(j, or(shl(d, 1), shr(dp, 63))),
            or(shr(d, 1), shl(dn, 63)),
        ),
    );
    let run_carry = shr(
        or(dp, and(and(jp, shl(dp, 1)), or(shr(dp, 1), shl(d, 63)))),
        63,
    );
    let long = runs_at_least(t, LONG);
    let marks = shape_starts(shapes, d, j, and_not(d, shl(d, 1)));
    let ends = and(
        and(add(t, marks), add(t, long)),
        and_not(ones, or(t, add(t, run_carry))),
    );
    // A run at the block's end that the pass must follow into the next block or walk: the
    // scalar pass's `tail_may_reach_long` and `tail_run`, lane by lane. (In scalar code, with
    // a branch per block, this test was a seventh of a scan of typical logs.)
    let jn = _mm512_alignr_epi64::<1>(edge(&masks[GROUP + 1], |m| m.joiner), j);
    let mut next_high = 0u8;
    for (i, m) in masks[2..].iter().enumerate() {
        next_high |= u8::from(m.high != 0) << i;
    }
    let open = open_tails(shapes, t, d, j, dn, jn, next_high);
    !(_mm512_test_epi64_mask(ends, ends) | open)
}

/// The lanes whose block ends in a token run that the pass must follow into the next block
/// or walk from this one: where the scalar pass's [`super::tail_may_reach_long`] is set and
/// [`super::tail_run`] is not [`super::TailRun::Nothing`]. `t`, `d`, `j`: each block's
/// token-run, digit and joiner bits; `dn`, `jn`: the next block's digit and joiner bits;
/// `next_high`: bit `i` set when block `i`'s next block has a byte outside ASCII. A shift by
/// 64 or more gives 0 here, where the scalar code needs branches around it.
#[target_feature(enable = "avx512f,avx512bw,avx512cd,avx512vpopcntdq")]
#[inline]
fn open_tails(
    shapes: &Shapes,
    t: __m512i,
    d: __m512i,
    j: __m512i,
    dn: __m512i,
    jn: __m512i,
    next_high: u8,
) -> u8 {
    let n = |x: u64| _mm512_set1_epi64(x.cast_signed());
    let shr = _mm512_srlv_epi64;
    let shl = _mm512_sllv_epi64;
    let and = |a: __m512i, b: __m512i| _mm512_and_si512(a, b);
    let or = |a: __m512i, b: __m512i| _mm512_or_si512(a, b);
    let and_not = |a: __m512i, b: __m512i| _mm512_andnot_si512(b, a);
    let sub = _mm512_sub_epi64;
    let count = _mm512_popcnt_epi64;
    let trailing_ones = |x: __m512i| count(and_not(x, _mm512_add_epi64(x, n(1))));
    let low_bits = |k: __m512i| sub(shl(n(1), k), n(1));
    let at_least = |x: __m512i, k: u64| _mm512_cmpge_epu64_mask(x, n(k));
    let tail = _mm512_lzcnt_epi64(_mm512_andnot_si512(t, n(u64::MAX)));
    let tails = _mm512_test_epi64_mask(tail, tail);
    let start = sub(n(64), tail);
    // tail_run: the run's bits from its first byte, from the two blocks' masks.
    let next_t = or(
        dn,
        and(and(jn, or(shl(dn, n(1)), shr(d, n(63)))), shr(dn, n(1))),
    );
    let run_t = or(shr(t, start), shl(next_t, tail));
    let len = trailing_ones(run_t);
    // Beyond: the run fills the block, or reaches or ends within 3 bytes of the next
    // block's end.
    let long = _mm512_cmpeq_epi64_mask(tail, n(64))
        | _mm512_cmpeq_epi64_mask(len, n(64))
        | _mm512_cmpge_epu64_mask(_mm512_add_epi64(len, n(3)), _mm512_add_epi64(tail, n(64)));
    // Within: the run's digits hold LONG digits and a card shape.
    let digit = and(or(shr(d, start), shl(dn, tail)), low_bits(len));
    let joiner = or(shr(j, start), shl(jn, tail));
    let starts = and_not(digit, shl(digit, n(1)));
    let marks = shape_starts(shapes, digit, joiner, starts);
    let within = at_least(count(digit), u64::from(LONG)) & _mm512_test_epi64_mask(marks, marks);
    // Such runs hold LONG digits or more (one of 61 bytes or more holds at least 31: no
    // two joiners are next to each other), so tail_may_reach_long holds for them. It is
    // needed only for the other runs at the end of a block before a non-ASCII one, which
    // tail_run says to follow whatever their length.
    let open = tails & (long | within);
    let high = tails & next_high & !open;
    if high == 0 {
        return open;
    }
    // tail_may_reach_long: the run's digits with the digits that start the next block.
    let reach = trailing_ones(or(dn, jn));
    let digits = _mm512_add_epi64(count(shr(d, start)), count(and(dn, low_bits(reach))));
    let may_reach = _mm512_cmpeq_epi64_mask(reach, n(64)) | at_least(digits, u64::from(LONG));
    open | high & may_reach
}

/// [`crate::detect::blocks::runs_at_least`] in each lane.
#[target_feature(enable = "avx512f")]
#[inline]
fn runs_at_least(m: __m512i, n: u32) -> __m512i {
    let mut have = 1;
    let mut r = m;
    while have < n {
        let step = have.min(n - have);
        r = _mm512_and_si512(r, _mm512_srlv_epi64(r, _mm512_set1_epi64(i64::from(step))));
        have += step;
    }
    r
}

/// [`super::shape_starts`] in each lane.
#[target_feature(enable = "avx512f")]
#[inline]
fn shape_starts(shapes: &Shapes, d: __m512i, joiner: __m512i, starts: __m512i) -> __m512i {
    let shr = |x: __m512i, by: u32| _mm512_srlv_epi64(x, _mm512_set1_epi64(i64::from(by)));
    let and = |a: __m512i, b: __m512i| _mm512_and_si512(a, b);
    let r2 = and(d, shr(d, 1));
    let r4 = and(r2, shr(r2, 2));
    let r8 = and(r4, shr(r4, 4));
    let at_least = |n: u32| {
        let (r, p) = match n {
            8.. => (r8, 8),
            4.. => (r4, 4),
            2.. => (r2, 2),
            _ => (d, 1),
        };
        and(r, shr(r, n - p))
    };
    let mut marks = at_least(shapes.min_plain);
    let mut sizes = shapes.first_groups;
    while sizes != 0 {
        let k = sizes.trailing_zeros();
        sizes &= sizes - 1;
        let mut second = shr(d, k + 1);
        if shapes.min_second >= 2 {
            let whole = shr(at_least(shapes.min_second), k + 1);
            second = and(
                second,
                _mm512_or_si512(
                    whole,
                    _mm512_andnot_si512(shr(d, k + 2), _mm512_set1_epi64(-1)),
                ),
            );
        }
        let group = _mm512_andnot_si512(shr(d, k), and(starts, at_least(k)));
        marks = _mm512_or_si512(marks, and(and(group, shr(joiner, k)), second));
    }
    marks
}
