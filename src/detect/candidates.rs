//! Stage one: cheap extraction of number tokens — digit runs, or runs of short digit groups
//! joined by single spaces or single dashes (`4111 1111 1111 1111`, `3782-822463-10005`).
//!
//! A token is always maximal: it is never a slice of a longer digit run or group sequence.
//! Whether it is a card number is decided later, by [`super::lookalike`] and the brand table.

use std::fmt;

use super::anchors::Anchors;
use super::blocks::{HI, LO, digit_lanes};
use super::luhn::{PADDED, luhn_valid_prefix};
use crate::finding::Span;

/// Most digits a token keeps; longer tokens are only counted.
pub const MAX_DIGITS: usize = 19;
/// Longest digit group that can be part of a grouped card number.
const MAX_GROUP: usize = 6;
/// Most groups a grouped card number has.
const MAX_GROUPS: usize = 8;

/// A number token found in a buffer.
#[derive(Clone)]
pub struct Candidate {
    /// From the first digit to one past the last digit.
    pub span: Span,
    /// The first digits (up to [`MAX_DIGITS`]) of the token, then bytes of no meaning.
    digits: [u8; PADDED],
    /// Digits in the whole token (may exceed [`MAX_DIGITS`]).
    pub ndigits: usize,
    groups: [u8; MAX_GROUPS],
    ngroups: usize,
    /// The separator between groups, if the token is grouped.
    pub sep: Option<&'static [u8]>,
    /// Whether the pass has found the token to be a number of at most [`MAX_DIGITS`]
    /// digits that passes the Luhn check (false: not known either way).
    luhn_passed: bool,
}

impl Candidate {
    /// A token at `span` with no digits or groups taken yet.
    #[inline(always)]
    fn empty(span: Span, sep: Option<&'static [u8]>) -> Candidate {
        Candidate {
            span,
            digits: [0; PADDED],
            ndigits: 0,
            groups: [0; MAX_GROUPS],
            ngroups: 0,
            sep,
            luhn_passed: false,
        }
    }

    /// The token's digits, without separators; `None` when it has more than 19.
    pub fn digits(&self) -> Option<&[u8]> {
        (self.ndigits <= MAX_DIGITS).then(|| &self.digits[..self.ndigits])
    }

    /// Whether the token is a number of at most [`MAX_DIGITS`] digits that passes the Luhn
    /// check: the test most long numbers fail, made on the digits where they are unless the
    /// pass that found the token has made it (then it is not made twice).
    pub fn passes_luhn(&self) -> bool {
        let checked =
            || self.ndigits <= MAX_DIGITS && luhn_valid_prefix(&self.digits, self.ndigits);
        // The pass's own check, made on the bytes, must agree (the tests run with this on).
        debug_assert!(
            !self.luhn_passed || checked(),
            "a number the pass passed fails Luhn"
        );
        self.luhn_passed || checked()
    }

    /// The digit count of each group; `None` when there are too many groups to be a card.
    pub fn groups(&self) -> Option<&[u8]> {
        (self.ngroups <= MAX_GROUPS).then(|| &self.groups[..self.ngroups])
    }

    /// The display form of the token: first six and last four digits at most.
    pub fn masked(&self) -> crate::finding::Masked {
        crate::mask::display_pan(&self.digits[..self.ndigits.min(MAX_DIGITS)])
    }
}

/// Never shows the digits: a candidate may be a card number.
impl fmt::Debug for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("span", &self.span)
            .field("masked", &self.masked())
            .field("ndigits", &self.ndigits)
            .field("groups", &self.groups())
            .field("sep", &self.sep.map(String::from_utf8_lossy))
            .finish()
    }
}

/// Separators that may join the digit groups of a card number: a space or dash (also the
/// full-width and ideographic forms common in Japanese input, and a no-break space), a dot,
/// a plus (URL form encoding), or a percent-encoded space or dash.
pub const SEPARATORS: [&[u8]; 10] = [
    b" ",
    b"-",
    b".",
    b"+",
    b"\xc2\xa0",
    "\u{3000}".as_bytes(),
    "\u{ff0d}".as_bytes(),
    b"%20",
    b"%2D",
    b"%2d",
];

/// If a digit starts at `i` — ASCII, or full-width `０`–`９` (U+FF10–U+FF19, three bytes in
/// UTF-8) — its ASCII value and byte length.
#[inline]
pub fn digit_at(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    let b = *bytes.get(i)?;
    if b.is_ascii_digit() {
        return Some((b, 1));
    }
    if b == 0xEF
        && bytes.get(i + 1) == Some(&0xBC)
        && let Some(&c) = bytes.get(i + 2)
        && (0x90..=0x99).contains(&c)
    {
        return Some((b'0' + (c - 0x90), 3));
    }
    None
}

/// The number of ASCII digits in a row from `at`.
#[inline(always)]
fn ascii_digits(bytes: &[u8], at: usize) -> usize {
    let mut n = 0;
    while let Some(w) = bytes.get(at + n..at + n + 8) {
        let mut lanes = [0u8; 8];
        lanes.copy_from_slice(w);
        let not_digit = !digit_lanes(u64::from_le_bytes(lanes)) & HI;
        if not_digit != 0 {
            return n + (not_digit.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + bytes[at + n..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// The run of digits starting at `at`: (bytes, digits). `WIDE`: full-width digits may occur.
#[inline(always)]
fn digit_run<const WIDE: bool>(bytes: &[u8], at: usize) -> (usize, usize) {
    let ascii = ascii_digits(bytes, at);
    let (mut len, mut count) = (ascii, ascii);
    if !WIDE {
        return (len, count);
    }
    // Full-width digits are rare: only then walk unit by unit.
    while let Some((_, w)) = digit_at(bytes, at + len) {
        len += w;
        count += 1;
    }
    (len, count)
}

/// The separator token at `at`, if one is there and a digit follows it.
#[inline(always)]
fn separator_at(bytes: &[u8], at: usize) -> Option<&'static [u8]> {
    // Decided on the first byte: this runs after every short digit group, and `-`, `.` and
    // spaces follow digits all the time in logs.
    let rest = &bytes[at..];
    let sep = match *rest.first()? {
        b' ' => SEPARATORS[0],
        b'-' => SEPARATORS[1],
        b'.' => SEPARATORS[2],
        b'+' => SEPARATORS[3],
        0xC2 if rest.starts_with(SEPARATORS[4]) => SEPARATORS[4],
        0xE3 if rest.starts_with(SEPARATORS[5]) => SEPARATORS[5],
        0xEF if rest.starts_with(SEPARATORS[6]) => SEPARATORS[6],
        b'%' if rest.starts_with(SEPARATORS[7]) => SEPARATORS[7],
        b'%' if rest.starts_with(SEPARATORS[8]) => SEPARATORS[8],
        b'%' if rest.starts_with(SEPARATORS[9]) => SEPARATORS[9],
        _ => return None,
    };
    digit_at(bytes, at + sep.len()).map(|_| sep)
}

/// Returns the index of the next digit (ASCII, or with `WIDE` also full-width) at or after
/// `from`.
#[inline(always)]
fn next_digit<const WIDE: bool>(bytes: &[u8], from: usize) -> Option<usize> {
    // Eight bytes at a time: lanes holding an ASCII digit, or 0xEF (the lead byte of a
    // full-width digit; checked exactly after a hit).
    let mut i = from;
    while i + 8 <= bytes.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[i..i + 8]);
        let x = u64::from_le_bytes(w);
        let digits = digit_lanes(x);
        // High bit set in the lowest lane equal to 0xEF (higher lanes may be false hits,
        // which the exact check below skips).
        let ef = if WIDE {
            let y = x ^ (LO * 0xEF);
            y.wrapping_sub(LO) & !y & HI
        } else {
            0
        };
        let mut lanes = digits | ef;
        while lanes != 0 {
            let bit = lanes & lanes.wrapping_neg();
            let j = i + (bit.trailing_zeros() / 8) as usize;
            if digits & bit != 0 || digit_at(bytes, j).is_some() {
                return Some(j);
            }
            lanes &= lanes - 1;
        }
        i += 8;
    }
    (i..bytes.len()).find(|&j| digit_at(bytes, j).is_some())
}

/// Fewest digits a token needs to be handed on (`--explain` shows 12-digit tokens).
pub const MIN_DIGITS: usize = 12;
/// [`MIN_DIGITS`] as a bit count, for the block masks.
const LONG: u32 = MIN_DIGITS as u32;

/// The number tokens that can be card numbers, as far as the block pass of
/// [`for_each_relevant_token`] needs to know: how short a plain digit run may be, and how a
/// grouped number may begin. Derived from the brand table's lengths and layouts, it lets the
/// pass rule out from the bits of a block the timestamps and ids that fill logs
/// (`2017-05-16 00:00:00`, `081109 203518 143`) instead of tokenizing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shapes {
    /// Fewest digits of a number written without separators (at most 16: a bit-mask limit).
    min_plain: u32,
    /// Bit `n`: a grouped number may start with a group of `n` digits (`n` ≤ [`MAX_GROUP`]).
    first_groups: u8,
    /// Fewest digits of the second group of a grouped number.
    min_second: u32,
    /// Whether a plain number may be left out when it cannot be a card number by its digits
    /// alone: more than [`MAX_DIGITS`] of them, failing the Luhn check, or a length and first
    /// two digits that no brand has ([`Shapes::heads`]).
    luhn: bool,
    /// Entry `10 * a + b`, bit `n - MIN_DIGITS`: some brand has numbers of `n` digits that
    /// start with the digits `a`, `b`. Read only with `luhn`.
    heads: [u8; 100],
}

impl Shapes {
    /// Every token of at least [`MIN_DIGITS`] digits.
    pub const ALL: Shapes = Shapes {
        min_plain: LONG,
        first_groups: 0b111_1110,
        min_second: 1,
        luhn: false,
        heads: [u8::MAX; 100],
    };

    /// The tokens that can be a card number of `min_digits` or more digits, written plain or
    /// in one of `layouts` (the digit count of each group).
    pub fn new(min_digits: usize, layouts: &[Vec<u8>]) -> Shapes {
        let mut shapes = Shapes {
            min_plain: u32::try_from(min_digits)
                .unwrap_or(u32::MAX)
                .clamp(LONG, 16),
            first_groups: 0,
            min_second: MAX_GROUP as u32,
            luhn: false,
            heads: [u8::MAX; 100],
        };
        for layout in layouts {
            // The tokenizer chains only groups of up to MAX_GROUP digits.
            if let [first, second, ..] = layout[..]
                && first.min(second) >= 1
                && usize::from(first.max(second)) <= MAX_GROUP
            {
                shapes.first_groups |= 1 << first;
                shapes.min_second = shapes.min_second.min(u32::from(second));
            }
        }
        shapes
    }

    /// These shapes, less the plain numbers that cannot be a card number by their digits
    /// alone: more than [`MAX_DIGITS`] of them, failing the Luhn check, or a length that no
    /// brand has for their first two digits (`lengths(a, b)`: bit `n` is set when some brand
    /// has numbers of `n` digits that start with the digits `a`, `b`). What a caller that
    /// judges only card numbers needs (not one that explains why each token failed). In
    /// digit-dense files nine ids in ten fail Luhn and four in five of the rest have no
    /// brand's head: checking them where they are costs less than handing each one on.
    pub fn luhn_valid_plain(self, lengths: impl Fn(u8, u8) -> u32) -> Shapes {
        let mut heads = [0u8; 100];
        for (i, h) in heads.iter_mut().enumerate() {
            // Digits a, b: both below 10, as the index is below 100.
            let (a, b) = ((i / 10) as u8, (i % 10) as u8);
            *h = (lengths(a, b) >> MIN_DIGITS) as u8;
        }
        Shapes {
            luhn: true,
            heads,
            ..self
        }
    }

    /// Whether a plain number of `n` digits ([`MIN_DIGITS`] to [`MAX_DIGITS`]) whose first
    /// two bytes are `a`, `b` (ASCII digits) may have a brand's head.
    /// Without a branch: the pass tests every lone digit group with it as it finds them.
    #[inline(always)]
    fn head_allows(&self, a: u8, b: u8, n: usize) -> bool {
        let i = usize::from(a.wrapping_sub(b'0')) * 10 + usize::from(b.wrapping_sub(b'0'));
        // Lengths past the table's eight read as a bit above the entry's: none.
        let bit = n.wrapping_sub(MIN_DIGITS).min(31);
        self.heads.get(i).map_or(0, |&h| u32::from(h)) >> bit & 1 == 1
    }
}

/// Calls `f` with every maximal number token of at least [`MIN_DIGITS`] digits in `bytes`,
/// left to right.
pub fn for_each_candidate(bytes: &[u8], f: impl FnMut(Candidate)) {
    for_each_token(bytes, f, |_| {});
}

/// One pass over `bytes`: `on_number` gets every token of at least [`MIN_DIGITS`] digits,
/// `on_short` every lone run of 3 or 4 digits (a possible security code), left to right.
pub fn for_each_token(bytes: &[u8], on_number: impl FnMut(Candidate), on_short: impl FnMut(Span)) {
    // A buffer without 0xEF holds no full-width digit: take the ASCII-only path.
    let (mut on_number, mut on_short) = (on_number, on_short);
    if memchr::memchr(0xEF, bytes).is_some() {
        tokens_between::<true>(bytes, 0, bytes.len(), &mut on_number, &mut on_short);
    } else {
        tokens_between::<false>(bytes, 0, bytes.len(), &mut on_number, &mut on_short);
    }
}

/// Hands on the tokens that start in `[from, until)`, where `from` is a token boundary;
/// returns the next token boundary at or after `until`.
fn tokens_between<const WIDE: bool>(
    bytes: &[u8],
    from: usize,
    until: usize,
    on_number: &mut impl FnMut(Candidate),
    on_short: &mut impl FnMut(Span),
) -> usize {
    // The digit search stops near `until` (a full-width digit may start just before it), so
    // that a short range costs little however far away the next digit is.
    let limit = &bytes[..until.saturating_add(2).min(bytes.len())];
    let mut pos = from;
    while let Some(start) = next_digit::<WIDE>(limit, pos) {
        if start >= until {
            break;
        }
        pos = token_at::<WIDE>(bytes, start, on_number, on_short);
    }
    pos.max(until).min(bytes.len())
}

/// Measures the token whose first digit is at `start`, hands it on if it is long enough (or a
/// possible security code), and returns its end.
#[inline(always)]
fn token_at<const WIDE: bool>(
    bytes: &[u8],
    start: usize,
    on_number: &mut impl FnMut(Candidate),
    on_short: &mut impl FnMut(Span),
) -> usize {
    // First measure the token without copying anything: most tokens in logs are short
    // (dates, times, counters) and are dropped here.
    let (first_len, first) = digit_run::<WIDE>(bytes, start);
    let mut end = start + first_len;
    let mut ndigits = first;
    let mut groups = 1;
    let mut sep: Option<&'static [u8]> = None;
    let mut second = Span::new(end, end);
    if first <= MAX_GROUP {
        while let Some(s) = separator_at(bytes, end) {
            if sep.is_some_and(|x| x != s) {
                break;
            }
            let (glen, g) = digit_run::<WIDE>(bytes, end + s.len());
            // A long run after a separator is a number of its own, not a group.
            if g > MAX_GROUP {
                break;
            }
            sep = Some(s);
            if groups == 1 {
                second = Span::new(end + s.len(), end + s.len() + glen);
            }
            groups += 1;
            ndigits += g;
            end += s.len() + glen;
        }
    }
    if ndigits < MIN_DIGITS {
        if sep.is_none() && (3..=4).contains(&first) {
            on_short(Span::new(start, end));
        } else if groups == 2 && (3..=4).contains(&(ndigits - first)) && glued_to_word(bytes, start)
        {
            // `CVC2 026`: the keyword's digit chained with the code; the code is the
            // second and last group.
            on_short(second);
        }
        return end;
    }
    if sep.is_none() && end - start == ndigits {
        // One plain run of ASCII digits, the common case.
        on_number(plain_candidate(bytes, start, ndigits, false));
        return end;
    }
    let mut c = Candidate::empty(Span::new(start, end), sep);
    let mut i = start;
    let mut group = 0u8;
    while i < end {
        match digit_at(bytes, i) {
            Some((d, w)) => {
                if c.ndigits < MAX_DIGITS {
                    c.digits[c.ndigits] = d;
                }
                c.ndigits += 1;
                group = group.saturating_add(1);
                i += w;
            }
            None => {
                push_group(&mut c, group);
                group = 0;
                i += sep.map_or(1, <[u8]>::len);
            }
        }
    }
    push_group(&mut c, group);
    on_number(c);
    end
}

/// Like [`for_each_token`], but hands on only the tokens that can matter to the detector:
/// every token of at least [`MIN_DIGITS`] digits that has one of the `shapes`, and the
/// possible security codes (lone runs of 3 or 4 digits after a byte for which
/// [`super::cvv::may_precede_code`] holds, close enough after one of the `anchors`) for which
/// `is_code` says yes. Everything else is skipped 64 bytes at a time (see [`super::blocks`]);
/// what is handed on is a subsequence of what [`for_each_token`] hands on, and with
/// [`Shapes::ALL`] and no anchors exactly that, less the short runs turned down. With
/// [`Shapes::luhn_valid_plain`], plain numbers that fail the Luhn check or have no brand's
/// head may be left out too.
pub fn for_each_relevant_token(
    bytes: &[u8],
    shapes: &Shapes,
    anchors: Option<&Anchors>,
    mut is_code: impl FnMut(Span) -> bool,
    mut on_number: impl FnMut(Candidate),
    mut on_short: impl FnMut(Span),
    newlines: &mut super::lines::BlockNewlines,
) {
    let per_block = newlines.start(bytes.len());
    #[cfg(target_arch = "x86_64")]
    if let Some(a) = anchors
        && avx512::available()
    {
        return avx512::relevant(
            bytes,
            shapes,
            a,
            &mut is_code,
            &mut on_number,
            &mut on_short,
            per_block,
        );
    }
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        return avx2::relevant(
            bytes,
            shapes,
            anchors,
            &mut is_code,
            &mut on_number,
            &mut on_short,
            per_block,
        );
    }
    if let Some(a) = anchors.filter(|_| super::anchors::FAST_SHUFFLE) {
        let mut anchor_in_block = |at| a.in_block(bytes, at);
        return relevant::<true, false>(
            bytes,
            shapes,
            (
                super::blocks::masks_at,
                super::blocks::digit_and_plain_bits,
                luhn_per_token,
            ),
            (&mut anchor_in_block, &mut no_groups, a.blocks_after),
            &mut is_code,
            (&mut on_number, &mut on_short, per_block),
        );
    }
    // Without a vector byte shuffle, looking for anchors would cost more than it saves:
    // every block counts as holding one. (Both portable calls take full-width digits into
    // account: covers are short, and the check costs less there than a pass over the
    // buffer to rule them out.)
    let mut every_block = |_| true;
    relevant::<true, false>(
        bytes,
        shapes,
        (
            super::blocks::masks_at,
            super::blocks::digit_and_plain_bits,
            luhn_per_token,
        ),
        (&mut every_block, &mut no_groups, 0),
        &mut is_code,
        (&mut on_number, &mut on_short, per_block),
    )
}

/// Class bit of the vector classifiers' nibble tables: an ASCII digit.
#[cfg(target_arch = "x86_64")]
const CLASS_DIGIT: u8 = 0x80;
/// Class bits of a joiner: ` %+-.` (0x40) or `D`, `d` (0x20).
#[cfg(target_arch = "x86_64")]
const CLASS_JOINER: u8 = 0x60;
/// Class bit of a plain separator ` +-.`.
#[cfg(target_arch = "x86_64")]
const CLASS_PLAIN: u8 = 0x10;

/// The vector classifiers' table for a byte's low nibble: a byte is in a class when the
/// entries of both of its nibbles have the class bit.
#[cfg(target_arch = "x86_64")]
const CLASS_LO: [u8; 16] = {
    let mut t = [0u8; 16];
    let mut n = 0;
    while n < 16 {
        let plain = matches!(n, 0x0 | 0xB | 0xD | 0xE);
        t[n] = if n <= 9 { CLASS_DIGIT } else { 0 }
            | if plain || n == 0x5 { 0x40 } else { 0 }
            | if n == 4 { 0x20 } else { 0 }
            | if plain { CLASS_PLAIN } else { 0 };
        n += 1;
    }
    t
};

/// The vector classifiers' table for a byte's high nibble.
#[cfg(target_arch = "x86_64")]
const CLASS_HI: [u8; 16] = {
    let mut t = [0u8; 16];
    t[3] = CLASS_DIGIT;
    t[2] = 0x40 | CLASS_PLAIN;
    t[4] = 0x20;
    t[6] = 0x20;
    t
};

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512;

/// The block pass compiled for x86-64 CPUs with AVX2 and BMI (Haswell, 2013, and later):
/// three-operand vector instructions and single-instruction bit counts make it ~10% faster
/// than the baseline SSE2 build, and a byte shuffle looks up the keyword anchors.
/// Chosen at run time, as ripgrep's `memchr` does.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm_loadu_si128, _mm256_and_si256, _mm256_broadcastsi128_si256, _mm256_cmpeq_epi8,
        _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
        _mm256_shuffle_epi8, _mm256_slli_epi16, _mm256_srli_epi16, _mm256_testz_si256,
    };

    use super::{Anchors, Candidate, Shapes, Span};
    use crate::detect::blocks::{BLOCK, Masks, padded};

    /// How far ahead of the block being classified its bytes are asked into the cache. The
    /// reader's 1 MiB chunks do not all stay in this machine's 1 MiB of L2 after the
    /// kernel's copy, and the classification stalled on its loads: prefetching 512 to 4096
    /// bytes ahead measured the same (+4% on typical logs searched as the reader hands them
    /// over, +8% on one 32 MiB buffer).
    pub(super) const PREFETCH: usize = 1024;

    /// Returns true if and only if this CPU can run [`relevant`].
    pub(super) fn available() -> bool {
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("bmi2")
            && std::is_x86_feature_detected!("lzcnt")
            && std::is_x86_feature_detected!("popcnt")
    }

    /// [`super::relevant`], for a CPU on which [`available`] holds.
    pub(super) fn relevant(
        bytes: &[u8],
        shapes: &Shapes,
        anchors: Option<&Anchors>,
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

    #[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
    fn with_features(
        bytes: &[u8],
        shapes: &Shapes,
        anchors: Option<&Anchors>,
        is_code: &mut impl FnMut(Span) -> bool,
        on_number: &mut impl FnMut(Candidate),
        on_short: &mut impl FnMut(Span),
        per_block: &mut [u8],
    ) {
        let Some(a) = anchors else {
            let mut every_block = |_| true;
            return super::relevant::<true, false>(
                bytes,
                shapes,
                (
                    |b, at| masks_at(b, at),
                    |b, at| digit_and_plain_at(b, at),
                    super::luhn_per_token,
                ),
                (&mut every_block, &mut super::no_groups, 0),
                is_code,
                (on_number, on_short, per_block),
            );
        };
        let tables = Tables::new(a);
        let mut anchor_in_block = |at| tables.anchor_in_block(bytes, at);
        super::relevant::<true, false>(
            bytes,
            shapes,
            (
                |b, at| masks_at(b, at),
                |b, at| digit_and_plain_at(b, at),
                super::luhn_per_token,
            ),
            (&mut anchor_in_block, &mut super::no_groups, a.blocks_after),
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

    /// [`Tables::anchor_in_block`] on a CPU on which [`available`] holds, for tests.
    #[cfg(test)]
    pub(super) fn anchor_in_block(a: &Anchors, bytes: &[u8], at: usize) -> bool {
        assert!(available());
        // SAFETY: the functions only need the CPU features checked just above.
        unsafe { Tables::new(a).anchor_in_block(bytes, at) }
    }

    /// [`crate::detect::blocks::masks_at`] with 32-byte vectors, classifying bytes by two
    /// nibble lookups instead of one compare per byte value.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn masks_at(bytes: &[u8], at: usize) -> Masks {
        // A hint: an address past the end is never read.
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            bytes.as_ptr().wrapping_add(at + PREFETCH).cast(),
        );
        match bytes.get(at..at + BLOCK) {
            Some(block) => masks_of(block),
            None => masks_near_end(bytes, at),
        }
    }

    /// [`masks_at`] for the last block of `bytes`, padded with NUL.
    #[target_feature(enable = "avx2")]
    #[cold]
    fn masks_near_end(bytes: &[u8], at: usize) -> Masks {
        masks_of(&padded::<BLOCK>(bytes, at))
    }

    /// The class bytes of 32-byte half `half` of the first 64 bytes of `block`, with the
    /// bytes themselves. Class bits: 0x80 digit; 0x40 joiner ` %+-.`; 0x20 joiner `D`, `d`;
    /// 0x10 plain separator ` +-.`. A byte is in a class when both of its nibbles' entries
    /// have the bit; bytes of 0x80 or more find 0 in the low-nibble table (the shuffle's
    /// rule).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn class_of_half(block: &[u8], half: usize) -> (__m256i, __m256i) {
        assert!(block.len() >= BLOCK && half < 2);
        // SAFETY: each table is 16 bytes, as the load reads.
        let (lo_t, hi_t) = unsafe {
            (
                _mm256_broadcastsi128_si256(_mm_loadu_si128(super::CLASS_LO.as_ptr().cast())),
                _mm256_broadcastsi128_si256(_mm_loadu_si128(super::CLASS_HI.as_ptr().cast())),
            )
        };
        let nibble = _mm256_set1_epi8(0x0f);
        // SAFETY: 32 * half + 32 <= 64 <= block.len().
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * half).cast()) };
        let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
        let class = _mm256_and_si256(_mm256_shuffle_epi8(lo_t, v), _mm256_shuffle_epi8(hi_t, hi));
        (v, class)
    }

    /// The top bit of each byte of `x`, as a bit mask.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn top_bits(x: __m256i) -> u64 {
        u64::from(_mm256_movemask_epi8(x).cast_unsigned())
    }

    /// The masks of the first 64 bytes of `block`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn masks_of(block: &[u8]) -> Masks {
        let mut m = Masks::default();
        for half in 0..2 {
            let (v, class) = class_of_half(block, half);
            let shift = 32 * half;
            m.digit |= top_bits(class) << shift;
            // Within each byte, bits 6 and 5 moved up to the top bit.
            m.joiner |= (top_bits(_mm256_slli_epi16(class, 1))
                | top_bits(_mm256_slli_epi16(class, 2)))
                << shift;
            m.high |= top_bits(v) << shift;
            m.newline |= top_bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\n' as i8))) << shift;
        }
        m
    }

    /// [`crate::detect::blocks::digit_and_plain_bits`] with 32-byte vectors and nibble
    /// lookups, on the bytes where they are: the walk over a run of ids that fills a line
    /// classifies a window at each token it could not finish, at any offset.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn digit_and_plain_at(bytes: &[u8], at: usize) -> (u64, u64) {
        match bytes.get(at..at + BLOCK) {
            Some(block) => digit_and_plain_of(block),
            None => digit_and_plain_of(&padded::<BLOCK>(bytes, at)),
        }
    }

    /// The digit and plain-separator bits of the first 64 bytes of `block`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn digit_and_plain_of(block: &[u8]) -> (u64, u64) {
        let (mut digit, mut plain) = (0u64, 0u64);
        for half in 0..2 {
            let (_, class) = class_of_half(block, half);
            digit |= top_bits(class) << (32 * half);
            // Bit 4 moved up to the top bit.
            plain |= top_bits(_mm256_slli_epi16(class, 3)) << (32 * half);
        }
        (digit, plain)
    }

    /// [`digit_and_plain_at`] on a CPU on which [`available`] holds, for tests.
    #[cfg(test)]
    pub(super) fn digit_and_plain_checked(bytes: &[u8], at: usize) -> (u64, u64) {
        assert!(available());
        // SAFETY: the function only needs the CPU features checked just above.
        unsafe { digit_and_plain_at(bytes, at) }
    }

    /// [`Anchors`]' nibble tables in vector registers.
    pub(super) struct Tables {
        lo: [__m256i; 3],
        hi: [__m256i; 3],
    }

    impl Tables {
        /// The tables of `a`, loaded once per buffer.
        #[target_feature(enable = "avx2")]
        pub(super) fn new(a: &Anchors) -> Tables {
            // SAFETY: each table is 16 bytes, as the load reads.
            let load = |t: &[u8; 16]| unsafe {
                _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast()))
            };
            Tables {
                lo: a.lo.each_ref().map(load),
                hi: a.hi.each_ref().map(load),
            }
        }

        /// [`Anchors::may_start_in`] for the 64 offsets of the block at `at`.
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(super) fn anchor_in_block(&self, bytes: &[u8], at: usize) -> bool {
            // An anchor starting at the block's last byte ends two bytes into the next.
            match bytes.get(at..at + 66) {
                Some(w) => self.anchor_in(w),
                None => self.anchor_near_end(bytes, at),
            }
        }

        /// [`Tables::anchor_in_block`] for the last block of `bytes`.
        #[target_feature(enable = "avx2")]
        #[cold]
        fn anchor_near_end(&self, bytes: &[u8], at: usize) -> bool {
            self.anchor_in(&padded::<66>(bytes, at))
        }

        /// Whether an anchor may start in the first 64 bytes of `w` (66 bytes or more).
        #[target_feature(enable = "avx2")]
        #[inline]
        fn anchor_in(&self, w: &[u8]) -> bool {
            assert!(w.len() >= 66);
            let nibble = _mm256_set1_epi8(0x0f);
            // Bucket bits of the anchors that may start at each offset.
            let starts = |from: usize| {
                let hits = |j: usize| {
                    // SAFETY: from + j + 32 <= 66 <= w.len().
                    let v = unsafe { _mm256_loadu_si256(w.as_ptr().add(from + j).cast()) };
                    // The shuffle reads the low nibble (and gives 0 for bytes of 0x80 or
                    // more, which no anchor has).
                    let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
                    _mm256_and_si256(
                        _mm256_shuffle_epi8(self.lo[j], v),
                        _mm256_shuffle_epi8(self.hi[j], hi),
                    )
                };
                _mm256_and_si256(_mm256_and_si256(hits(0), hits(1)), hits(2))
            };
            let any = _mm256_or_si256(starts(0), starts(32));
            _mm256_testz_si256(any, any) == 0
        }
    }
}

/// Bit `i` is set where a token with one of the `shapes` may start at byte `i` of a block:
/// a plain run of enough digits, or a first group of an allowed size followed by a joiner
/// and the start of a long enough second group. Only this block's bits are looked at, so the
/// answer holds for token runs that end inside the block; a mark looks no further than the
/// digits of its own token run, so the marks of a whole block are those of each of its runs.
/// `d`: digit bits; `joiner`: joiner bits; `starts`: the first digits of digit runs.
#[inline(always)]
fn shape_starts(shapes: &Shapes, d: u64, joiner: u64, starts: u64) -> u64 {
    let runs = super::blocks::RunLadder::new(d);
    let mut marks = runs.at_least(shapes.min_plain);
    let mut sizes = shapes.first_groups;
    while sizes != 0 {
        let k = sizes.trailing_zeros();
        sizes &= sizes - 1;
        let mut second = d >> (k + 1);
        if shapes.min_second >= 2 {
            // All of the group's digits, or a `%2D` separator (`D` where a digit would be).
            let whole = runs.at_least(shapes.min_second) >> (k + 1);
            second &= whole | !(d >> (k + 2));
        }
        marks |= starts & runs.at_least(k) & !(d >> k) & joiner >> k & second;
    }
    marks
}

/// The first bit of the token run at the end of a block (`t`: its token-run bits, `d`: its
/// digit bits) if that run may hold [`LONG`] digits with the digits and joiners that start
/// the next block (`ahead`: their bits, `ahead_digit`: its digit bits); else 0. A non-ASCII
/// next block is covered from before its start anyway.
#[inline(always)]
fn tail_may_reach_long(t: u64, d: u64, ahead: u64, ahead_digit: u64) -> u64 {
    let (tail, reach) = (t.leading_ones(), ahead.trailing_ones());
    if tail > 0
        && (reach == 64
            || (d >> (64 - tail)).count_ones() + (ahead_digit & low_bits(reach)).count_ones()
                >= LONG)
    {
        1u64 << (64 - tail)
    } else {
        0
    }
}

/// What the token run at the end of a block that may reach [`LONG`] digits
/// ([`tail_may_reach_long`]) holds, judged from the masks of the block (`cur`, its
/// token-run bits `t`) and of the next (`next`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TailRun {
    /// No token with a card shape: the pass can let it go.
    Nothing,
    /// It ends within the 64 bytes from its first byte and its `len` bytes hold a card
    /// shape: the block can walk it whole. It ends at least 4 bytes before the next block's
    /// end.
    Within { len: u32 },
    /// It may reach further, or the next block is not all ASCII: the pass follows it into
    /// the next block.
    Beyond,
}

/// [`TailRun`] for a block with token-run bits `t` and masks `cur`, followed by a block
/// with masks `next`. The run's bits from its first byte on are those that classifying the
/// 64 bytes from there would give, taken from the two blocks' masks; so the shape test is
/// the one the pass makes of a run that goes on into the next block, a block early. Most
/// runs that cross a block edge in logs hold no card shape (`081109 203615 148`, the date,
/// time and thread of every HDFS line): judged here, the next block need not be visited for
/// them.
#[inline(always)]
fn tail_run(
    shapes: &Shapes,
    t: u64,
    cur: &super::blocks::Masks,
    next: &super::blocks::Masks,
) -> TailRun {
    let tail = t.leading_ones();
    if tail == 64 || next.high != 0 {
        return TailRun::Beyond;
    }
    let start = 64 - tail;
    // The next block's token-run bits below its top byte (which needs the block after).
    let next_t = token_run_bits(next, cur.digit >> 63, 0);
    let run_t = t >> start | next_t << tail;
    let len = run_t.trailing_ones();
    // The pass follows a run to the next block's end (and beyond), or one that ends within 3
    // bytes of it, where a separator might lead into the block after.
    if len == 64 || len + 3 >= 64 + tail {
        return TailRun::Beyond;
    }
    let digit = (cur.digit >> start | next.digit << tail) & low_bits(len);
    let joiner = cur.joiner >> start | next.joiner << tail;
    if digit.count_ones() < LONG || shape_starts(shapes, digit, joiner, digit & !(digit << 1)) == 0
    {
        return TailRun::Nothing;
    }
    TailRun::Within { len }
}

/// The `classify_group` of [`relevant`] for passes without groups (never called).
fn no_groups(_: usize, _: &mut [super::blocks::Masks; GROUP + 2], _: bool) -> (u8, u8) {
    (0, 0)
}

/// Blocks classified together by the grouped block pass (see [`relevant`]).
const GROUP: usize = 8;

/// The token-run bits of a block with masks `m`: its digits, and its joiners between two
/// digits. `digit_carry`: whether the byte before the block is a digit (0 or 1);
/// `next_digit`: the digit bits of the block after it.
#[inline(always)]
fn token_run_bits(m: &super::blocks::Masks, digit_carry: u64, next_digit: u64) -> u64 {
    m.digit | (m.joiner & (m.digit << 1 | digit_carry) & (m.digit >> 1 | next_digit << 63))
}

/// Bit 63 of the token-run mask of a block with masks `m` (followed by a block whose digit
/// bits are `next_digit`): whether its last byte is in a token run.
#[inline(always)]
fn token_run_top(m: super::blocks::Masks, next_digit: u64) -> u64 {
    token_run_bits(&m, 0, next_digit) >> 63
}

/// The block pass. `anchor_in_block` says whether a keyword anchor may start in the block at
/// an offset; a security code may start up to `blocks_after` blocks after such a block.
/// `GROUPED`: the blocks are classified [`GROUP`] at a time by `classify_group` instead
/// (`masks_at` and `anchor_in_block` block by block otherwise), which fills their masks,
/// returns the loud ones (anchor or non-ASCII byte) and, when asked, the quiet ones: blocks
/// in which, with no run open into them and no keyword before, the pass would do nothing
/// but carry bits to the next. Those are skipped. `luhn_ends(bytes, at, w)`: the last digits
/// of the runs of the 64 bytes from `at` (digit bits `w`) that pass the Luhn check, from a
/// vector check of all of them at once; `None` where each run is to be checked on its own.
/// `per_block[k]` gets the newlines of block `k`, counted from its masks (every block is
/// classified, skipped or not).
#[inline(always)]
fn relevant<const WIDE: bool, const GROUPED: bool>(
    bytes: &[u8],
    shapes: &Shapes,
    (masks_at, digit_and_plain_bits, luhn_ends): (
        impl Fn(&[u8], usize) -> super::blocks::Masks,
        impl Fn(&[u8], usize) -> (u64, u64),
        impl Fn(&[u8], usize, u64) -> Option<u64>,
    ),
    (anchor_in_block, classify_group, blocks_after): (
        &mut impl FnMut(usize) -> bool,
        &mut impl FnMut(usize, &mut [super::blocks::Masks; GROUP + 2], bool) -> (u8, u8),
        usize,
    ),
    is_code: &mut impl FnMut(Span) -> bool,
    (on_number, on_short, per_block): (
        &mut impl FnMut(Candidate),
        &mut impl FnMut(Span),
        &mut [u8],
    ),
) {
    use super::blocks::{BLOCK, Masks, code_lead_after, runs_at_least};
    // A token of MIN_DIGITS or more ASCII digits, joined by one-byte separators or the
    // digits and letters of `%20`/`%2D`, lies in a run of at least MIN_DIGITS bytes that
    // are digits or joiners between two digits (a "token run"). Anything else a token can
    // hold is outside ASCII, and blocks with such bytes are examined whole.
    // Tokens that start before `pos` have been handed on or skipped.
    let mut pos = 0;
    let mut out = Cover {
        bytes,
        shapes,
        digit_and_plain_bits: &digit_and_plain_bits,
        luhn_ends: &luhn_ends,
        on_number,
        on_short,
        pending: Pending::new(),
    };
    let blocks = bytes.len().div_ceil(BLOCK);
    // Bit 63 of the previous block's digit and token-run masks.
    let (mut digit_carry, mut run_carry) = (0u64, 0u64);
    // The token run that reaches past the previous block: its start, digits so far, and
    // whether all of it so far is ASCII (otherwise it must be covered by the exact pass,
    // whatever its length).
    let mut open: Option<(usize, u32, bool)> = None;
    // Blocks before this one may hold security codes: a keyword anchor, or a byte of a
    // Japanese keyword, starts in it or in one of the `blocks_after` before it.
    let mut codes_until = 0;
    // The blocks are classified a group at a time: `masks[i]` is the block `i - 1` from
    // the group's first (so `masks[0]` the one before the group, `masks[GROUP + 1]` the
    // one after it); bit i of `loud`: an anchor may start in block i of the group, or a
    // byte of it is not ASCII.
    let mut masks = [Masks::default(); GROUP + 2];
    masks[GROUP + 1] = masks_at(bytes, 0);
    // Without groups: the masks of this block.
    let mut this = masks[GROUP + 1];
    let mut loud = 0u8;
    // Bit i: block i of the group is quiet.
    let mut quiet = 0u32;
    // The filter runs again from block `filter_from`; `misses`: groups in a row where it
    // found fewer than two quiet blocks (at most 3).
    let (mut filter_from, mut misses) = (0, 0u32);
    let mut following = 0;
    while following < blocks {
        let (k, at) = (following, following * BLOCK);
        following += 1;
        let i = k % GROUP;
        if GROUPED && i == 0 {
            (masks[0], masks[1]) = (masks[GROUP], masks[GROUP + 1]);
            // Where few blocks are quiet (digit-dense files), the filter costs more than it
            // saves: after each group with fewer than two, it rests for twice as many
            // groups as the time before, up to eight.
            let filter = k >= filter_from;
            let found;
            (loud, found) = classify_group(at, &mut masks, filter);
            quiet = u32::from(found);
            for (n, m) in per_block.iter_mut().skip(k).zip(&masks[1..=GROUP]) {
                *n = m.newline.count_ones() as u8;
            }
            if filter {
                misses = if found.count_ones() < 2 {
                    (misses + 1).min(3)
                } else {
                    0
                };
                filter_from = k + GROUP * ((1 << misses) - 1) + 1;
            }
        }
        if GROUPED && quiet >> i & 1 != 0 && open.is_none() && k >= codes_until {
            // With no run open and no keyword before, a quiet block changes nothing but
            // the carries: skip it and the quiet blocks after it in the group.
            let skip = (quiet >> i).trailing_ones() as usize;
            following = k + skip;
            let (prev, cur) = (masks[i + skip], masks[i + skip + 1]);
            digit_carry = prev.digit >> 63;
            run_carry = token_run_top(prev, cur.digit);
            continue;
        }
        let (cur, next) = if GROUPED {
            (masks[i + 1], masks[i + 2])
        } else {
            (this, masks_at(bytes, at + BLOCK))
        };
        this = next;
        if !GROUPED {
            per_block[k] = cur.newline.count_ones() as u8;
        }
        // A keyword anchor or a non-ASCII byte starts in this block.
        let keyword = if GROUPED {
            loud >> i & 1 != 0
        } else {
            cur.high != 0 || anchor_in_block(at)
        };
        if keyword {
            codes_until = k + blocks_after + 1;
        }
        let d = cur.digit;
        if cur.high != 0 {
            // A token reaching into this block from before starts either within a group of
            // it or in a token run; the cover walks back to its first digit.
            out.cover::<WIDE>(at.saturating_sub(16), at + BLOCK, &mut pos, Walk::Exact);
            open = Some((at + BLOCK, LONG, false));
            (digit_carry, run_carry) = (d >> 63, 1);
            continue;
        }
        // Bit i: byte at + i; `ahead(n)`: the digit bits n bytes further on.
        let ahead = |n: u32| d >> n | next.digit << (64 - n);
        let left = d << 1 | digit_carry;
        let t = d | (cur.joiner & left & ahead(1));
        if let Some((start, digits, ascii)) = open {
            let len = t.trailing_ones();
            let digits = digits + (d & low_bits(len)).count_ones();
            if len == 64 {
                open = Some((start, digits, ascii));
                (digit_carry, run_carry) = (d >> 63, 1);
                continue;
            }
            if digits >= LONG {
                // As for runs within a block (below), a separator at the end might lead into
                // full-width digits of a non-ASCII next block.
                let end = at + len as usize;
                if !(ascii && start >= pos && (len + 3 < 64 || next.high == 0)) {
                    out.cover::<WIDE>(start, end, &mut pos, Walk::Exact);
                } else if end - start > BLOCK || {
                    // A run over two blocks that fits in 64 bytes: its shape, from its own
                    // bits, as for a run within a block.
                    let w = masks_at(bytes, start);
                    let run = w.digit & low_bits((end - start) as u32);
                    shape_starts(shapes, run, w.joiner, run & !(run << 1)) != 0
                } {
                    out.cover::<WIDE>(start, end, &mut pos, Walk::Windows);
                }
            }
            open = None;
        }
        // Token runs that start in this block and hold at least LONG bytes, or reach its end.
        let starts = t & !(t << 1 | run_carry);
        // The run that reaches the block's end matters only if it can reach LONG bytes with
        // the digits and joiners that start the next block (a non-ASCII next block is
        // covered from before its start anyway).
        let top = tail_may_reach_long(t, d, next.digit | next.joiner, next.digit);
        let tail = t.leading_ones();
        let runs = starts & (runs_at_least(t, LONG) | top);
        // Digit runs of exactly 3 or 4 (a digit with none before, two after, and not both
        // of the next two) after a byte that may come before a security code.
        let short = if k < codes_until {
            let lead = code_lead_after(bytes, at);
            d & !left & lead & ahead(1) & ahead(2) & !(ahead(3) & ahead(4))
        } else {
            0
        };
        let mut codes = 0u64;
        let mut rest = short;
        while rest != 0 {
            let b = rest.trailing_zeros();
            rest &= rest - 1;
            let q = at + b as usize;
            let code = Span::new(q, q + 3 + (ahead(3) >> b & 1) as usize);
            if is_code(code) {
                codes |= 1 << b;
            }
        }
        // How to walk a run that starts at bit `b` of this block and ends in it, `len` bytes
        // long, whose shape test has passed (or is not needed); `None` if it holds nothing.
        let run_walk = |b: u32, len: u32, pos: usize| {
            let q = at + b as usize;
            if (d >> b & low_bits(len)).count_ones() < LONG {
                return None;
            }
            match long_tokens_in_run(bytes, q, d >> b, len) {
                RunHolds::Nothing => None,
                // Unless a separator at its end could lead into full-width digits at the
                // start of a non-ASCII next block: then the exact pass decides.
                RunHolds::Tokens if q >= pos && (b + len + 3 < 64 || next.high == 0) => {
                    Some(Walk::Bits(d >> b, len))
                }
                _ => Some(Walk::Exact),
            }
        };
        if codes == 0 {
            // The common case: only runs, so they can be taken in any order. Which runs that
            // start and end in this block are long enough and hold a card shape is decided
            // for all of them at once (a test per run mispredicted on most blocks). Adding
            // to a run of ones bits that lie in it carries out of its top, to the bit above
            // it: set in `ends` for a run with a shape mark and LONG bytes. The run that goes
            // on into the next block carries out of the word; the one that began in an
            // earlier block is dropped (`t + run_carry` is its end bit).
            let marks = shape_starts(shapes, d, cur.joiner, d & !(d << 1));
            let long = runs_at_least(t, LONG);
            let mut ends =
                t.wrapping_add(marks) & t.wrapping_add(long) & !(t | t.wrapping_add(run_carry));
            while ends != 0 {
                let e = ends.trailing_zeros();
                ends &= ends - 1;
                // e is in 1..64: the run [e - len, e) is below the block's top bit.
                let len = (t << (64 - e)).leading_ones();
                let q = at + (e - len) as usize;
                if d >> (e - len) & low_bits(len) == low_bits(len)
                    && q >= pos
                    && (e + 3 < 64 || next.high == 0)
                {
                    // One group alone (`seq=3486384968215`, a timestamp in milliseconds):
                    // the run is the token, as the walk of its bits would find.
                    out.lone_group(q, len);
                    pos = q + len as usize;
                } else if let Some(walk) = run_walk(e - len, len, pos) {
                    out.cover::<WIDE>(q, q + len as usize, &mut pos, walk);
                }
            }
            if runs & top != 0 {
                // It goes on into the next block: judged here if it ends soon enough.
                let b = 64 - tail;
                let q = at + b as usize;
                match tail_run(shapes, t, &cur, &next) {
                    TailRun::Nothing if q >= pos => {}
                    TailRun::Within { len } if q >= pos => {
                        out.cover::<WIDE>(q, q + len as usize, &mut pos, Walk::Windows);
                    }
                    _ => open = Some((q, (d >> b).count_ones(), true)),
                }
            }
        } else {
            // In offset order, as the covers require.
            let mut spots = runs | codes;
            while spots != 0 {
                let b = spots.trailing_zeros();
                spots &= spots - 1;
                let q = at + b as usize;
                if codes >> b & 1 == 1 {
                    out.cover::<WIDE>(q, q + 1, &mut pos, Walk::Exact);
                }
                if runs >> b & 1 == 0 {
                    continue;
                }
                let len = (t >> b).trailing_ones();
                if b + len == 64 {
                    // It goes on into the next block.
                    open = Some((q, (d >> b).count_ones(), true));
                } else if shape_starts(shapes, d >> b & low_bits(len), cur.joiner >> b, {
                    let run = d >> b & low_bits(len);
                    run & !(run << 1)
                }) != 0
                    && let Some(walk) = run_walk(b, len, pos)
                {
                    out.cover::<WIDE>(q, q + len as usize, &mut pos, walk);
                }
            }
        }
        (digit_carry, run_carry) = (d >> 63, t >> 63);
    }
    if let Some((start, digits, ascii)) = open
        && digits >= LONG
    {
        let walk = if ascii && start >= pos {
            Walk::Windows
        } else {
            Walk::Exact
        };
        out.cover::<WIDE>(start, bytes.len(), &mut pos, walk);
    }
    out.flush();
}

/// What the block pass hands the tokens of a stretch of bytes on with.
struct Cover<'a, D, L, N, S> {
    bytes: &'a [u8],
    shapes: &'a Shapes,
    digit_and_plain_bits: &'a D,
    luhn_ends: &'a L,
    on_number: &'a mut N,
    on_short: &'a mut S,
    /// Numbers found and not yet handed on.
    pending: Pending,
}

impl<D, L, N, S> Cover<'_, D, L, N, S>
where
    D: Fn(&[u8], usize) -> (u64, u64),
    L: Fn(&[u8], usize, u64) -> Option<u64>,
    N: FnMut(Candidate),
    S: FnMut(Span),
{
    /// Hands on the token of a run that is one group of `n` ASCII digits at `q` (at least
    /// [`LONG`]), as [`tokens_of_run`] would.
    #[inline(always)]
    fn lone_group(&mut self, q: usize, n: u32) {
        if n >= self.shapes.min_plain {
            // Nine in ten have no brand's first digits and length (`seq=3486384968215`):
            // those are not kept at all.
            let (a, b) = (self.bytes[q], self.bytes[q + 1]);
            let may_be_card = !self.shapes.luhn || self.shapes.head_allows(a, b, n as usize);
            self.pending.keep_lone(q, n, may_be_card);
            if self.pending.full() {
                self.flush();
            }
        }
    }

    /// Hands on the numbers kept in [`Pending`]: before any other is handed on, and at the
    /// end.
    #[inline(always)]
    fn flush(&mut self) {
        self.pending.flush(self.bytes, self.shapes, self.on_number);
    }

    /// Hands on the tokens that start in [lo, hi) (and any that start from `pos` on, up to
    /// lo, that the walk back to a token boundary takes in). Always inlined, with the walk
    /// over windows of ids, into the pass, which is compiled for the CPU's vector features:
    /// out of line, this code is compiled without them, and the vector Luhn check of each
    /// window became a call (5% of the time on digit-dense logs).
    #[inline(always)]
    fn cover<const WIDE: bool>(&mut self, lo: usize, hi: usize, pos: &mut usize, walk: Walk) {
        if !matches!(walk, Walk::Windows) {
            self.flush();
        }
        let (bytes, on_number, on_short) = (self.bytes, &mut *self.on_number, &mut *self.on_short);
        let luhn = (self.luhn_ends, self.shapes);
        let pending = &mut self.pending;
        match walk {
            Walk::Bits(d, len) => {
                // A run within one block mostly holds one id (`seq=3486384968215`): a scalar
                // Luhn check of it costs less than the vector check of 64 bytes, a call
                // from here (dense `card numbers` 14.9 -> 12.8 ms, fastest of 8).
                let luhn = (&luhn_per_token, self.shapes);
                tokens_of_run(
                    bytes,
                    lo,
                    (d, len),
                    true,
                    luhn,
                    (on_number, on_short, pending),
                );
                *pos = hi;
            }
            Walk::Windows => {
                *pos = match tokens_of_long_run(
                    bytes,
                    (lo, hi),
                    self.digit_and_plain_bits,
                    luhn,
                    on_number,
                    on_short,
                    pending,
                ) {
                    Ok(()) => hi,
                    Err(from) => {
                        pending.flush(bytes, self.shapes, on_number);
                        tokens_between::<WIDE>(bytes, from, hi, on_number, on_short)
                    }
                }
            }
            Walk::Exact if hi > *pos => {
                let from = if lo <= *pos {
                    *pos
                } else {
                    token_boundary_before(bytes, lo, *pos)
                };
                *pos = tokens_between::<WIDE>(bytes, from, hi, on_number, on_short);
            }
            Walk::Exact => {}
        }
    }
}

/// How the block pass hands on the tokens of a stretch of bytes.
#[derive(Clone, Copy)]
enum Walk {
    /// With the exact tokenizer, from the token boundary at or before the stretch.
    Exact,
    /// From the bits of a token run within one block (its digit bits and length) for which
    /// [`long_tokens_in_run`] said [`RunHolds::Tokens`].
    Bits(u64, u32),
    /// A token run of ASCII bytes over more than one block: 64 bytes at a time by
    /// [`tokens_of_long_run`].
    Windows,
}

/// Hands on the tokens of the token run `[start, end)` (ASCII digits and joiners, starting
/// at a token boundary), as [`tokens_of_run`] does, from the digit bits of 64 bytes at a
/// time: runs of ids that fill whole lines (`id=652497057050250 834846441288694425 …`) are
/// the common case of digit-dense files. `Err` holds a token boundary from which the exact
/// pass must go on: a separator the bits cannot judge (`%20`), or a token of 64 bytes or
/// more. Ids checked by the vector Luhn check may be left in `pending`.
#[inline(always)]
fn tokens_of_long_run(
    bytes: &[u8],
    (start, end): (usize, usize),
    digit_and_plain_bits: impl Fn(&[u8], usize) -> (u64, u64),
    luhn: (&impl Fn(&[u8], usize, u64) -> Option<u64>, &Shapes),
    on_number: &mut impl FnMut(Candidate),
    on_short: &mut impl FnMut(Span),
    pending: &mut Pending,
) -> Result<(), usize> {
    let mut at = start;
    while at < end {
        let (d, plain) = digit_and_plain_bits(bytes, at);
        let len = (end - at).min(64) as u32;
        if !(d | plain) & low_bits(len) != 0 {
            return Err(at);
        }
        let last = end - at <= 64;
        // Runs of ids, where every group is a token of its own, are walked here without a
        // call per window.
        let advance =
            match standalone_tokens_of_run(bytes, at, d, len, last, luhn, (on_number, pending)) {
                Some(advance) => advance,
                None => {
                    pending.flush(bytes, luhn.1, on_number);
                    chained_tokens_of_run(bytes, at, (d, len), last, on_number, on_short)
                        .unwrap_or(len)
                }
            };
        if advance == 0 {
            return Err(at);
        }
        at += advance as usize;
    }
    Ok(())
}

/// What a token run holds, decided from its bits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RunHolds {
    /// No token of [`MIN_DIGITS`] digits or more.
    Nothing,
    /// At least one, and every separator is one plain byte (space, `-`, `.`, `+`).
    Tokens,
    /// A separator the bits cannot judge (`%20`): the exact pass decides.
    Unsure,
}

/// Whether the token run of `len` bytes from `at` (within one ASCII block; bit `i` of `d`
/// says whether byte `at + i` is a digit) holds a token of at least [`MIN_DIGITS`] digits,
/// split as [`token_at`] splits it: a group longer than [`MAX_GROUP`] stands alone, and
/// shorter groups chain while the separator stays the same.
///
/// Most long token runs in logs hold no such token (`1117838570 2005.06.03`,
/// `2017-05-16 00:00:00.008`): deciding that from the bits costs less than tokenizing them.
#[inline(always)]
fn long_tokens_in_run(bytes: &[u8], at: usize, d: u64, len: u32) -> RunHolds {
    let mut i = 0;
    let mut found = false;
    // Digits in the chain of short groups being built, and its separator (0: none yet).
    let (mut chain, mut sep) = (0u32, 0u8);
    while i < len {
        let g = (d >> i).trailing_ones();
        let before = if i > 0 { bytes[at + i as usize - 1] } else { 0 };
        if i > 0 && !matches!(before, b' ' | b'-' | b'.' | b'+') {
            return RunHolds::Unsure;
        }
        if g as usize > MAX_GROUP {
            found |= g >= LONG;
            chain = 0;
        } else if chain > 0 && (sep == 0 || sep == before) {
            chain += g;
            sep = before;
            found |= chain >= LONG;
        } else {
            (chain, sep) = (g, 0);
        }
        i += g + 1;
    }
    if found {
        RunHolds::Tokens
    } else {
        RunHolds::Nothing
    }
}

/// Hands on the tokens of a token run of `len` bytes from `at` (`d`: its digit bits) whose
/// separators are all plain bytes (space, `-`, `.`, `+`), exactly as [`token_at`] would,
/// without measuring the bytes again; a token of one group that the `shapes` rule out (too
/// short, or failing Luhn) may be left out. With `complete` false the run goes on after
/// these `len` bytes: the tokens that might go on too are not handed on, and the offset of
/// the first of them is returned.
#[inline(never)]
fn tokens_of_run(
    bytes: &[u8],
    at: usize,
    (d, len): (u64, u32),
    complete: bool,
    luhn: (&impl Fn(&[u8], usize, u64) -> Option<u64>, &Shapes),
    (on_number, on_short, pending): (
        &mut impl FnMut(Candidate),
        &mut impl FnMut(Span),
        &mut Pending,
    ),
) -> Option<u32> {
    match standalone_tokens_of_run(bytes, at, d, len, complete, luhn, (on_number, pending)) {
        Some(advance) => (!complete).then_some(advance),
        None => {
            pending.flush(bytes, luhn.1, on_number);
            chained_tokens_of_run(bytes, at, (d, len), complete, on_number, on_short)
        }
    }
}

/// [`tokens_of_run`] for a run with a group of at most [`MAX_GROUP`] digits, which may
/// chain with its neighbours: the general walk, token by token (kept out of line: it is
/// large, and most runs take the one-group path).
#[inline(never)]
fn chained_tokens_of_run(
    bytes: &[u8],
    at: usize,
    (d, len): (u64, u32),
    complete: bool,
    on_number: &mut impl FnMut(Candidate),
    on_short: &mut impl FnMut(Span),
) -> Option<u32> {
    let mut i = 0u32;
    while i < len {
        // One token: a long group alone, or a chain of short groups with one separator.
        let start = at + i as usize;
        let token = i;
        let first = (d >> i).trailing_ones();
        if !complete && i + first >= len {
            return Some(token);
        }
        let mut c = Candidate::empty(Span::new(start, start), None);
        let mut second = Span::new(start, start);
        let mut g = first;
        loop {
            let from = at + i as usize;
            append_digits(&mut c, bytes, from, g as usize);
            push_group(&mut c, u8::try_from(g).unwrap_or(u8::MAX));
            if c.ngroups == 2 {
                second = Span::new(from, from + g as usize);
            }
            i += g;
            c.span.end = at + i as usize;
            if first as usize > MAX_GROUP || i >= len {
                break;
            }
            let s = bytes[at + i as usize];
            // Zero when the separator is the window's last byte (`complete` false).
            let next = d.checked_shr(i + 1).unwrap_or(0).trailing_ones();
            if c.sep.is_some_and(|x| x[0] != s) || next as usize > MAX_GROUP {
                break;
            }
            if !complete && i + 1 + next >= len {
                return Some(token);
            }
            c.sep = Some(plain_separator(s));
            i += 1;
            g = next;
        }
        // Past the separator that ended the token (or the run's end).
        i += 1;
        if c.ndigits >= MIN_DIGITS {
            on_number(c);
        } else if c.sep.is_none() && (3..=4).contains(&first) {
            on_short(c.span);
        } else if c.ngroups == 2
            && (3..=4).contains(&(c.ndigits - first as usize))
            && glued_to_word(bytes, start)
        {
            on_short(second);
        }
    }
    // Every token was whole: the next one starts at the window's end or just after it.
    (!complete).then_some(i)
}

/// [`tokens_of_run`] for the common run of ids: every group longer than [`MAX_GROUP`], so
/// each group is a token of its own (`652497057050250 834846441288694425 …`). The tokens of
/// `shapes.min_plain` digits or more are found from the bits at once and handed on in a loop that
/// branches once per token, where the general walk mispredicted about one branch per token
/// (group end, window end, token length). `None` if some group is short: the general walk
/// decides. Otherwise how far the walk moves on: to the first byte of the group left for
/// the next window (0 if that is the first byte of this one), else by `len`. `luhn_ends`,
/// when it can, gives the Luhn check of every run of the window at once (see [`relevant`]);
/// the window is then kept in `pending` with the ends of the runs that pass, to be handed
/// on later. Otherwise the tokens are handed on now, after those kept before.
#[inline(always)]
fn standalone_tokens_of_run(
    bytes: &[u8],
    at: usize,
    d: u64,
    len: u32,
    complete: bool,
    (luhn_ends, shapes): (&impl Fn(&[u8], usize, u64) -> Option<u64>, &Shapes),
    (on_number, pending): (&mut impl FnMut(Candidate), &mut Pending),
) -> Option<u32> {
    use super::blocks::RunLadder;
    let w = d & low_bits(len);
    let starts = w & !(w << 1);
    let runs = RunLadder::new(w);
    // The group that reaches the window's end, if the run may go on after it: it is left
    // for the next window, whatever its length. Chosen without a branch (with one, where
    // the ids' lengths decided it, the walk mispredicted on many windows); `starts` is not
    // empty when the group is open.
    let open_end = !complete & (len > 0) & (w >> len.saturating_sub(1) & 1 == 1);
    let top_start = 63 - starts.leading_zeros().min(63);
    let unfinished = u64::from(open_end) << top_start;
    let advance = if open_end { top_start } else { len };
    if starts & !runs.at_least(MAX_GROUP as u32 + 1) & !unfinished != 0 {
        return None;
    }
    let mut long = starts & runs.at_least(shapes.min_plain) & !unfinished;
    if let Some(passing) = shapes.luhn.then(|| luhn_ends(bytes, at, w)).flatten() {
        // The Luhn check was made for every run at once: the ends of the runs of at most
        // MAX_DIGITS digits that pass it (one in ten), not every long run, are kept.
        let r16 = runs.at_least(16);
        long &= !(r16 & r16 >> (MAX_DIGITS as u32 + 1 - 16));
        // Adding a run's first bit clears the run: what is cleared is the runs of `long`.
        let chosen = w & !w.wrapping_add(long);
        pending.keep_window(at, w, chosen & !(chosen >> 1) & passing);
        if pending.full() {
            pending.hand_on(bytes, shapes, on_number);
        }
    } else {
        pending.flush(bytes, shapes, on_number);
        while long != 0 {
            let b = long.trailing_zeros();
            long &= long - 1;
            let g = (w >> b).trailing_ones() as usize;
            hand_on_plain(bytes, shapes, at + b as usize, g, on_number);
        }
    }
    Some(advance)
}

/// Hands on the token of the `n` ASCII digits at `start`, written plain, unless the
/// `shapes` check the Luhn sum and [`plain_may_be_pan`] rules it out.
#[inline(always)]
fn hand_on_plain(
    bytes: &[u8],
    shapes: &Shapes,
    start: usize,
    n: usize,
    on_number: &mut impl FnMut(Candidate),
) {
    if !shapes.luhn || plain_may_be_pan(bytes, shapes, start, n) {
        on_number(plain_candidate(bytes, start, n, shapes.luhn));
    }
}

/// The token of the `n` ASCII digits at `start`, written plain; `luhn_passed`: the pass
/// has checked that they pass Luhn.
#[inline(always)]
fn plain_candidate(bytes: &[u8], start: usize, n: usize, luhn_passed: bool) -> Candidate {
    let mut c = Candidate::empty(Span::new(start, start + n), None);
    c.luhn_passed = luhn_passed;
    append_digits(&mut c, bytes, start, n);
    push_group(&mut c, u8::try_from(n).unwrap_or(u8::MAX));
    c
}

/// How many entries [`Pending`] holds.
const PENDING: usize = 16;

/// Plain numbers the block pass has found and not yet handed on, in offset order: each
/// window of ids whose vector Luhn check passed some, with their ends, and each lone group
/// of digits whose first digits and length some brand has (its Luhn check not made yet).
///
/// Handed on in a batch, so that no branch waits for a window's Luhn check. One window in
/// ten holds an id that passes, at no place the CPU can foresee; a branch on it was
/// mispredicted each time, only once the check's chain of permutes had ended, and the
/// windows the CPU had gone on to meanwhile were thrown away. A window is kept by writing
/// it whatever it holds and counting it only if it holds an end: no branch. Anything handed
/// on otherwise must first hand these on ([`Pending::hand_on`]), to keep the offset order.
struct Pending {
    /// Where each entry's bytes start: a window's first byte, or a lone group's.
    at: [usize; PENDING],
    /// A window's digit bits, or a lone group's length.
    digits: [u64; PENDING],
    /// A window's last digits of the ids of at most [`MAX_DIGITS`] digits that pass Luhn.
    ends: [u64; PENDING],
    /// Bit `i`: entry `i` is a lone group (only counted entries have their bit set).
    lone: u32,
    /// How many entries there are.
    n: usize,
}

impl Pending {
    fn new() -> Pending {
        Pending {
            at: [0; PENDING],
            digits: [0; PENDING],
            ends: [0; PENDING],
            lone: 0,
            n: 0,
        }
    }

    /// Keeps the window at `at` (digit bits `w`) if `ends` (as in [`Pending::ends`]) is not
    /// empty, without a branch.
    #[inline(always)]
    fn keep_window(&mut self, at: usize, w: u64, ends: u64) {
        self.at[self.n] = at;
        self.digits[self.n] = w;
        self.ends[self.n] = ends;
        self.n += usize::from(ends != 0);
    }

    /// Keeps the lone group of `n` digits at `at` if `may_be_card` (without a branch).
    #[inline(always)]
    fn keep_lone(&mut self, at: usize, n: u32, may_be_card: bool) {
        self.at[self.n] = at;
        self.digits[self.n] = u64::from(n);
        self.lone |= u32::from(may_be_card) << self.n;
        self.n += usize::from(may_be_card);
    }

    /// Returns true if and only if no more entries fit.
    #[inline(always)]
    fn full(&self) -> bool {
        self.n == PENDING
    }

    /// Hands on, in order, the numbers kept that may be card numbers, and empties the list.
    #[inline(never)]
    fn hand_on(&mut self, bytes: &[u8], shapes: &Shapes, on_number: &mut impl FnMut(Candidate)) {
        for i in 0..self.n {
            let (at, w) = (self.at[i], self.digits[i]);
            if self.lone >> i & 1 == 1 {
                hand_on_plain(bytes, shapes, at, w as usize, on_number);
                continue;
            }
            let mut ends = self.ends[i];
            while ends != 0 {
                let e = ends.trailing_zeros();
                ends &= ends - 1;
                let g = (w << (63 - e)).leading_ones() as usize;
                let start = at + e as usize + 1 - g;
                if shapes.head_allows(bytes[start], bytes[start + 1], g) {
                    // Of at most MAX_DIGITS digits, and checked whole in the window.
                    on_number(plain_candidate(bytes, start, g, true));
                }
            }
        }
        self.n = 0;
        self.lone = 0;
    }

    /// [`Pending::hand_on`], if anything is kept.
    #[inline(always)]
    fn flush(&mut self, bytes: &[u8], shapes: &Shapes, on_number: &mut impl FnMut(Candidate)) {
        if self.n > 0 {
            self.hand_on(bytes, shapes, on_number);
        }
    }
}

/// The `luhn_ends` of [`relevant`] for builds without a vector Luhn check: `None`, so that
/// each run is checked on its own.
fn luhn_per_token(_: &[u8], _: usize, _: u64) -> Option<u64> {
    None
}

/// False when the `n` digits at `start` cannot be a card number: more than [`MAX_DIGITS`] of
/// them, no brand's head ([`Shapes::head_allows`]), or failing the Luhn check (made on the
/// bytes where they are).
#[inline(always)]
fn plain_may_be_pan(bytes: &[u8], shapes: &Shapes, start: usize, n: usize) -> bool {
    n <= MAX_DIGITS
        && shapes.head_allows(bytes[start], bytes[start + 1], n)
        && match bytes
            .get(start..start + PADDED)
            .and_then(|s| <&[u8; PADDED]>::try_from(s).ok())
        {
            Some(padded) => luhn_valid_prefix(padded, n),
            // Near the buffer's end, as exact as the vector check.
            None => super::luhn::luhn_valid(&bytes[start..start + n]),
        }
}

/// The separator for one of the plain separator bytes.
#[inline(always)]
fn plain_separator(b: u8) -> &'static [u8] {
    // Bits 1-2 tell the four apart (0x20, 0x2B, 0x2D, 0x2E): a lookup instead of a branch
    // that mispredicts on every other grouped number.
    const BY_BITS: [&[u8]; 4] = [SEPARATORS[0], SEPARATORS[3], SEPARATORS[1], SEPARATORS[2]];
    BY_BITS[usize::from(b >> 1 & 3)]
}

/// The lowest `n` bits set (`n` ≤ 64).
#[inline(always)]
fn low_bits(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1 << n) - 1 }
}

/// A token boundary at or before `at` and not before `floor` (itself a boundary): the bytes
/// just before it cannot be part of a number token.
fn token_boundary_before(bytes: &[u8], mut at: usize, floor: usize) -> usize {
    while at > floor {
        let b = bytes[at - 1];
        let in_token = b.is_ascii_digit()
            || matches!(b, b' ' | b'-' | b'.' | b'+' | b'%' | b'D' | b'd')
            || b >= 0x80;
        if !in_token {
            break;
        }
        at -= 1;
    }
    at
}

/// Returns true if and only if the digit at `start` continues a word (`CVC2`, `T2`).
fn glued_to_word(bytes: &[u8], start: usize) -> bool {
    start > 0 && (bytes[start - 1].is_ascii_alphabetic() || bytes[start - 1] == b'_')
}

/// Appends the `n` ASCII digits at `from` to the candidate's digits (those past
/// [`MAX_DIGITS`] are only counted).
#[inline(always)]
fn append_digits(c: &mut Candidate, bytes: &[u8], from: usize, n: usize) {
    let k = c.ndigits;
    // Copies of a fixed size where the buffer allows: a copy of a few bytes whose length is
    // known only at run time is a call to `memcpy`, whose size checks mispredict on every
    // other number of a digit-dense file. The bytes copied past the digits are overwritten
    // by the next group or never read.
    if k == 0
        && let Some(src) = bytes.get(from..from + PADDED)
    {
        c.digits.copy_from_slice(src);
    } else if n <= 8
        && k + 8 <= PADDED
        && let Some(src) = bytes.get(from..from + 8)
    {
        c.digits[k..k + 8].copy_from_slice(src);
    } else {
        for (i, &b) in bytes[from..from + n].iter().enumerate() {
            if k + i < MAX_DIGITS {
                c.digits[k + i] = b;
            }
        }
    }
    c.ndigits += n;
}

fn push_group(c: &mut Candidate, group: u8) {
    if c.ngroups < MAX_GROUPS {
        c.groups[c.ngroups] = group;
    }
    c.ngroups += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<(String, Option<Vec<u8>>)> {
        let mut v = Vec::new();
        for_each_candidate(s.as_bytes(), |c| {
            v.push((
                s[c.span.start..c.span.end].to_string(),
                c.groups().map(|g| g.to_vec()),
            ))
        });
        v
    }

    #[test]
    fn plain_and_grouped_tokens() {
        let t = tokens("a 1234 5678 9012 3456 b 12-34 x 123456789012345678901 y");
        assert_eq!(t[0].0, "1234 5678 9012 3456");
        assert_eq!(t[0].1, Some(vec![4, 4, 4, 4]));
        assert_eq!(
            t[1].0, "123456789012345678901",
            "short tokens are not handed on"
        );
    }

    #[test]
    fn separators_do_not_mix_and_long_runs_stand_alone() {
        let t = tokens("4111-1111-1111 1111 1234 4321 4111111111111111 12");
        assert_eq!(t[0].0, "4111-1111-1111");
        assert_eq!(t[1].0, "1111 1234 4321");
        assert_eq!(t[2].0, "4111111111111111");
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn double_separators_split_tokens() {
        let t = tokens("411111  111111 4111111111111111");
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn short_runs_are_offered_as_codes() {
        let mut shorts = Vec::new();
        let s = "cvv=123 CVC2 026 t 12 345 1234567 x2 1 23";
        for_each_token(s.as_bytes(), |_| {}, |sp| shorts.push(&s[sp.start..sp.end]));
        assert_eq!(shorts, ["123", "026"]);
    }

    #[test]
    fn full_width_digits_and_other_separators() {
        let fw = "４１１１　１１１１　１１１１　１１１１";
        let t = tokens(&format!("カード番号：{fw}。"));
        assert_eq!(t[0].0, fw);
        assert_eq!(t[0].1, Some(vec![4, 4, 4, 4]));
        for sep in [".", "+", "\u{a0}", "%20", "%2D", "－"] {
            let s = ["4111", "1111", "1111", "1111"].join(sep);
            let t = tokens(&format!("x {s} y"));
            assert_eq!(t.len(), 1, "{sep:?}");
            assert_eq!(t[0].0, s, "{sep:?}");
        }
        let mut v = Vec::new();
        for_each_candidate(
            "４１１１１１１１１１１１１１１１".as_bytes(),
            |c| v.push(c.digits().map(<[u8]>::to_vec)),
        );
        assert_eq!(v, [Some(b"4111111111111111".to_vec())]);
    }

    #[test]
    fn plain_separators_map_to_themselves() {
        for b in [b' ', b'-', b'.', b'+'] {
            assert_eq!(plain_separator(b), [b]);
        }
    }

    #[test]
    fn swar_digit_search_matches_scalar() {
        let mut bytes: Vec<u8> = (0u8..=255).collect();
        bytes.extend_from_slice(b"xxxxxxxxxxxxxxxxxxxxxxx9");
        bytes.extend_from_slice("x０yｘ\u{ef}".as_bytes());
        for from in 0..bytes.len() {
            let want = (from..bytes.len()).find(|&j| digit_at(&bytes, j).is_some());
            assert_eq!(next_digit::<true>(&bytes, from), want, "from {from}");
            let ascii = (from..bytes.len()).find(|&j| bytes[j].is_ascii_digit());
            assert_eq!(next_digit::<false>(&bytes, from), ascii, "from {from}");
        }
        for b in 0u8..=255 {
            let v = [b'a', b'a', b'a', b'a', b'a', b'a', b'a', b];
            assert_eq!(
                next_digit::<true>(&v, 0).is_some(),
                b.is_ascii_digit(),
                "byte {b}"
            );
        }
    }
}

#[cfg(test)]
mod prefilter_tests {
    use super::*;
    use crate::detect::blocks::BLOCK;
    use crate::detect::lines::BlockNewlines;
    use crate::detect::luhn::luhn_valid;
    use proptest::prelude::*;

    /// Long tokens, and the short ones that may be security codes (the relevant pass may
    /// hand on others too, inside blocks it examines whole).
    /// A number token as the detector sees it: span, digit count, digits, groups, separator.
    type Number = (
        usize,
        usize,
        usize,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<&'static [u8]>,
    );
    type Tokens = (Vec<Number>, Vec<(usize, usize)>);

    /// The tokens one pass hands on, by calling `pass` with the two collectors.
    fn collect(
        bytes: &[u8],
        pass: impl FnOnce(&mut dyn FnMut(Candidate), &mut dyn FnMut(Span)),
    ) -> Tokens {
        let (mut n, mut s) = (Vec::new(), Vec::new());
        pass(
            &mut |c| {
                n.push((
                    c.span.start,
                    c.span.end,
                    c.ndigits,
                    c.digits().map(<[u8]>::to_vec),
                    c.groups().map(<[u8]>::to_vec),
                    c.sep,
                ))
            },
            &mut |sp| {
                if sp.start > 0 && crate::detect::cvv::may_precede_code(bytes[sp.start - 1]) {
                    s.push((sp.start, sp.end))
                }
            },
        );
        (n, s)
    }

    fn exhaustive(bytes: &[u8]) -> Tokens {
        collect(bytes, |n, s| for_each_token(bytes, n, s))
    }

    fn relevant(bytes: &[u8]) -> Tokens {
        // With no security code accepted, no short run makes the pass cover the token run
        // around it exactly, so more runs are walked from their bits: the long tokens must
        // be the same.
        let no_codes = collect(bytes, |n, s| {
            let mut newlines = BlockNewlines::default();
            for_each_relevant_token(bytes, &Shapes::ALL, None, |_| false, n, s, &mut newlines)
        });
        let tokens = relevant_with(bytes, &Shapes::ALL);
        assert!(
            no_codes.0 == tokens.0,
            "accepting codes changes the long tokens"
        );
        tokens
    }

    /// The relevant pass as the detector runs it (the AVX2 build on a CPU that has it),
    /// checked against the portable build.
    fn relevant_with(bytes: &[u8], shapes: &Shapes) -> Tokens {
        let mut newlines = BlockNewlines::default();
        let dispatched = collect(bytes, |n, s| {
            for_each_relevant_token(bytes, shapes, None, |_| true, n, s, &mut newlines)
        });
        assert_newlines_counted(bytes, &newlines);
        let portable = collect(bytes, |mut n, mut s| {
            super::relevant::<true, false>(
                bytes,
                shapes,
                (
                    crate::detect::blocks::masks_at,
                    crate::detect::blocks::digit_and_plain_bits,
                    super::luhn_per_token,
                ),
                (&mut |_| true, &mut super::no_groups, 0),
                &mut |_| true,
                (&mut n, &mut s, newlines.start(bytes.len())),
            )
        });
        assert_newlines_counted(bytes, &newlines);
        assert!(dispatched == portable, "the CPU-specific build differs");
        dispatched
    }

    /// The pass must have counted the newlines of every block of `bytes` (each range checked
    /// against a count byte by byte: a wrong block shows in the ranges that hold it).
    fn assert_newlines_counted(bytes: &[u8], newlines: &BlockNewlines) {
        let direct = BlockNewlines::default();
        for from in (0..bytes.len()).step_by(BLOCK / 2) {
            assert!(
                newlines.count(bytes, from, bytes.len()) == direct.count(bytes, from, bytes.len()),
                "the newlines counted from {from} differ"
            );
        }
    }

    /// Pieces that make tokens, near-tokens and the bytes around them.
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => "[0-9]{1,20}".prop_map(String::into_bytes),
            3 => prop::sample::select(vec![
                " ", "-", ".", "+", "%20", "%2D", "%2d", "\u{a0}", "\u{3000}", "\u{ff0d}", "  ",
                ":", ",", "x", "D", "cvv ", "\n", "１", "２３４", "é",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            1 => "[a-z ]{1,80}".prop_map(String::into_bytes),
        ]
    }

    /// Cases the property below found, kept as regressions.
    #[test]
    fn block_edges_and_percent_separators() {
        let mut cases: Vec<Vec<u8>> = vec![
            // A short run that also starts a long run of token bytes.
            b"0000 0000000   ".to_vec(),
            // `CVC2%20026`-like: the code is the tail of a longer digit run.
            b"000000000000000000000000000e0%20000".to_vec(),
        ];
        // A run of token bytes ending in a joiner exactly at a window's end.
        let mut edge = vec![b'a'; 31];
        edge.extend_from_slice(&[b'0'; 94]);
        edge.extend_from_slice(b"%2D000000000000");
        cases.push(edge);
        // A grouped run ending two bytes before a block's end, a space, then full-width digits
        // in the next block: one token, as the exact pass reads it.
        for shift in 40..48 {
            let mut wide = vec![b'x'; shift];
            wide.extend_from_slice("0000 0000 0000 0000 ０１２３0 z".as_bytes());
            cases.push(wide);
        }
        for shift in 0..70 {
            let mut moved = vec![b'x'; shift];
            moved.extend_from_slice(b"cvc2%20123 and 12 345 678 901 234");
            cases.push(moved);
        }
        // Lines of ids over several blocks, walked 64 bytes at a time: tokens cut by a
        // window's end, a separator as a window's last byte, a `%20` in a later window, a
        // token longer than a window, and a chain of short groups across a window's end.
        let ids = b"0000000000000 0000000000000000000 000000000 0000-0000-0000-0000 ";
        for shift in 0..64 {
            // The run starts at the first digit: its windows move with the first id's length.
            let mut line = b"id=".to_vec();
            line.extend_from_slice(&vec![b'0'; 1 + shift]);
            line.extend_from_slice(b" 000 00 0000 0000 0000 0000 000 0000 00 0000 0000 0000 ");
            line.extend_from_slice(&ids[..]);
            line.extend_from_slice(&ids[..]);
            line.extend_from_slice(b"000%20000 0000 ");
            line.extend_from_slice(&[b'0'; 70]);
            line.extend_from_slice(b" 0000 0000 0000 0000 0000 000\n");
            cases.push(line);
        }
        for bytes in cases {
            assert!(
                exhaustive(&bytes) == relevant(&bytes),
                "{} bytes",
                bytes.len()
            );
        }
    }

    /// Pieces without multi-byte characters, so that every block takes the bit-mask path.
    fn ascii_piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            6 => "[0-9]{1,8}".prop_map(String::into_bytes),
            1 => "[0-9]{9,20}".prop_map(String::into_bytes),
            5 => prop::sample::select(vec![
                " ", "-", ".", "+", "%20", "%2D", "%2d", "  ", ":", ",", "x", "D", "cvv ", "\n",
                "=", "[",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            1 => "[a-z ]{1,40}".prop_map(String::into_bytes),
        ]
    }

    /// Generated text; shown with every digit (ASCII or full-width) as `#` if a case fails:
    /// the layout is what a failure needs, and grouped digits could read as a card number.
    struct Text(Vec<u8>);

    impl std::fmt::Debug for Text {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let hidden: String = String::from_utf8_lossy(&self.0)
                .chars()
                .map(|c| match c {
                    '0'..='9' => '#',
                    '０'..='９' => '＃',
                    c => c,
                })
                .collect();
            write!(f, "{hidden:?}")
        }
    }

    /// What the relevant pass must do with the brand table's shapes: hand on a subsequence of
    /// the full pass's numbers that holds every one a card could be (13+ digits, plain or in
    /// a layout of the table), and the same possible codes.
    fn check_card_shapes(bytes: &[u8]) -> Result<(), TestCaseError> {
        let rules = crate::rules::Rules::builtin().expect("built-in rules");
        let layouts = rules.brands.groupings();
        let shapes = Shapes::new(13, layouts);
        let (all_numbers, all_shorts) = exhaustive(bytes);
        let (numbers, shorts) = relevant_with(bytes, &shapes);
        prop_assert!(shorts == all_shorts);
        let mut rest = all_numbers.iter();
        for n in &numbers {
            prop_assert!(
                rest.any(|a| a == n),
                "not a token of the full pass, or out of order"
            );
        }
        for a in &all_numbers {
            let (ndigits, groups, sep) = (a.2, &a.4, a.5);
            let card_shape = ndigits >= 13
                && (sep.is_none() || groups.as_ref().is_some_and(|g| layouts.contains(g)));
            if card_shape {
                prop_assert!(numbers.contains(a), "a token of a card's shape was skipped");
            }
        }
        // Leaving out the plain numbers that fail Luhn or that no brand has leaves out
        // nothing else.
        let brands = &rules.brands;
        let (luhn_numbers, luhn_shorts) = relevant_with(
            bytes,
            &shapes.luhn_valid_plain(|a, b| brands.lengths_after(a, b)),
        );
        prop_assert!(luhn_shorts == shorts);
        let mut rest = numbers.iter();
        for n in &luhn_numbers {
            prop_assert!(rest.any(|a| a == n), "not a token of the pass without Luhn");
        }
        for a in &numbers {
            let (digits, sep) = (&a.3, a.5);
            let may_be_card = sep.is_some()
                || digits
                    .as_ref()
                    .is_some_and(|d| luhn_valid(d) && brands.lookup(d).is_some());
            if may_be_card {
                prop_assert!(
                    luhn_numbers.contains(a),
                    "a number that passes Luhn and has a brand was skipped"
                );
            }
        }
        Ok(())
    }

    /// Runs that cross a block edge at every offset: an HDFS date, time and thread (no card
    /// shape), a grouped and a plain number of a card's shape, and one that goes on past the
    /// next block; the pass hands on what the full pass does.
    #[test]
    fn runs_across_block_edges() {
        let runs: [&[u8]; 4] = [
            b"081109 203615 148",
            b"0000 0000 0000 0000",
            b"0000000000000000",
            &[b'0'; 70],
        ];
        for run in runs {
            for shift in 30..64 {
                let mut line = vec![b'x'; shift];
                line.extend_from_slice(b" ");
                line.extend_from_slice(run);
                line.extend_from_slice(b" INFO dfs.DataNode 12 345\n");
                line.extend_from_slice(&[b'y'; 150]);
                assert!(exhaustive(&line) == relevant(&line), "shift {shift}");
                check_card_shapes(&line).expect("card shapes kept");
            }
        }
    }

    /// A run of one group of digits within a block (`seq=…`), at every offset, passing the
    /// Luhn check or not, too long for a card, and before a block that is not ASCII: the
    /// pass hands on what the full pass does.
    #[test]
    fn lone_groups_within_a_block() {
        let runs: [&[u8]; 4] = [
            b"4000000000000002",
            b"4000000000000003",
            b"4222222222222",
            b"40000000000000000002",
        ];
        for run in runs {
            for shift in 0..64 {
                for next in ["", "\u{ff14}\u{ff10}", "é"] {
                    let mut line = vec![b'x'; shift];
                    line.extend_from_slice(b" seq=");
                    line.extend_from_slice(run);
                    line.extend_from_slice(b" ");
                    line.extend_from_slice(next.as_bytes());
                    line.extend_from_slice(&[b'y'; 100]);
                    assert!(exhaustive(&line) == relevant(&line), "shift {shift}");
                    check_card_shapes(&line).expect("card shapes kept");
                }
            }
        }
    }

    /// How [`tail_run`] judges the run at a block's end, from the masks of the two blocks.
    #[test]
    fn tail_runs_are_judged_a_block_early() {
        use crate::detect::blocks::masks_at;
        let rules = crate::rules::Rules::builtin().expect("built-in rules");
        let shapes = Shapes::new(13, rules.brands.groupings());
        let judge = |run: &[u8], before: usize| {
            let mut bytes = vec![b'x'; 64 - before];
            bytes.extend_from_slice(run);
            bytes.extend_from_slice(b" end");
            bytes.resize(192, b'x');
            let (cur, next) = (masks_at(&bytes, 0), masks_at(&bytes, 64));
            tail_run(&shapes, token_run_bits(&cur, 0, next.digit), &cur, &next)
        };
        assert_eq!(judge(b"081109 203615 148", 8), TailRun::Nothing);
        // Too few digits for a card, whatever the shape.
        assert_eq!(judge(b"0000 0000 000", 8), TailRun::Nothing);
        assert_eq!(
            judge(b"0000 0000 0000 0000", 8),
            TailRun::Within { len: 19 }
        );
        assert_eq!(judge(&[b'0'; 70], 8), TailRun::Beyond);
        // The run ends 4 bytes before the next block's end, then 3: a separator there
        // might lead into the block after.
        assert_eq!(judge(&[b'0'; 62], 2), TailRun::Within { len: 62 });
        assert_eq!(judge(&[b'0'; 63], 2), TailRun::Beyond);
    }

    /// Digit and joiner bits as text has them: runs of digits, with joiners between some;
    /// or groups of `least` or `least + 1` digits (1 to 8) joined by single joiners, a token
    /// run over the block or up to a point in it (so that runs reach across blocks, with and
    /// without a card's shape, and end at every offset).
    fn block_masks() -> impl Strategy<Value = crate::detect::blocks::Masks> {
        let random = any::<[u64; 3]>().prop_map(|[a, b, c]| {
            let digit = a | b;
            (digit, c & !digit & (digit << 1 | digit >> 1))
        });
        let groups = (any::<u64>(), 1..8u32, 0..64u32, 0..80u32).prop_map(
            |(mut sizes, least, turn, end)| {
                let (mut digit, mut at) = (0u64, 0);
                while at < 64 {
                    let n = least + (sizes & 1) as u32;
                    sizes = sizes.rotate_right(1);
                    digit |= low_bits((at + n).min(64)) & !low_bits(at);
                    at += n + 1;
                }
                // Anywhere in the block, and ending at `end` if that is in it.
                let kept = low_bits(end);
                (
                    digit.rotate_left(turn) & kept,
                    !digit.rotate_left(turn) & kept,
                )
            },
        );
        let whole = Just((u64::MAX, 0));
        (prop_oneof![random, groups, whole], 0..64u32, 0..4u8).prop_map(
            |((digit, joiner), at, high)| crate::detect::blocks::Masks {
                digit,
                joiner,
                high: u64::from(high == 0) << at,
                newline: 0,
            },
        )
    }

    proptest! {
        /// The grouped pass's vector test of the runs at the ends of eight blocks says what
        /// the scalar [`tail_may_reach_long`] and [`tail_run`] say of each.
        #[test]
        fn open_tails_match_the_scalar_test(masks in proptest::array::uniform10(block_masks())) {
            #[cfg(target_arch = "x86_64")]
            if avx512::available() {
                let rules = crate::rules::Rules::builtin().expect("built-in rules");
                let shapes = Shapes::new(13, rules.brands.groupings());
                let plain = shapes.luhn_valid_plain(|a, b| rules.brands.lengths_after(a, b));
                for shapes in [shapes, plain, Shapes::ALL] {
                    let mut want = 0u8;
                    for i in 0..GROUP {
                        let (cur, next) = (&masks[i + 1], &masks[i + 2]);
                        let t = token_run_bits(cur, masks[i].digit >> 63, next.digit);
                        let reach = tail_may_reach_long(t, cur.digit, next.digit | next.joiner, next.digit);
                        let open = reach != 0 && tail_run(&shapes, t, cur, next) != TailRun::Nothing;
                        want |= u8::from(open) << i;
                    }
                    prop_assert_eq!(avx512::open_tails_checked(&shapes, &masks), want);
                }
            }
        }
    }

    #[test]
    fn card_shapes_skip_timestamps_and_keep_cards() {
        let rules = crate::rules::Rules::builtin().expect("built-in rules");
        let shapes = Shapes::new(13, rules.brands.groupings());
        let text = b"2017-05-16 00:00:00.008 25746 081109 203518 143 blk_1073741825 \
                     x 0000 0000 0000 0000 y 0000%200000%200000%200000 z 0000000000000 w";
        let mut seen = Vec::new();
        let newlines = &mut BlockNewlines::default();
        for_each_relevant_token(
            text,
            &shapes,
            None,
            |_| false,
            |c| seen.push(c.span),
            |_| {},
            newlines,
        );
        let shown: Vec<&[u8]> = seen.iter().map(|s| &text[s.start..s.end]).collect();
        assert_eq!(
            shown,
            [
                &b"0000 0000 0000 0000"[..],
                b"0000%200000%200000%200000",
                b"0000000000000"
            ]
        );
        // The same text through the full pass also hands on the timestamp-like tokens.
        let mut all = 0;
        for_each_relevant_token(
            text,
            &Shapes::ALL,
            None,
            |_| false,
            |_| all += 1,
            |_| {},
            newlines,
        );
        assert!(all > seen.len(), "{all}");
    }

    /// `head` followed by digits up to `n` in all and a Luhn check digit.
    fn luhn_number(head: &str, n: usize) -> String {
        let mut s = format!("{head}{}", "3".repeat(n - 1 - head.len()));
        let check = (0..10)
            .find(|d| luhn_valid(format!("{s}{d}").as_bytes()))
            .expect("a check digit");
        s.push_str(&check.to_string());
        s
    }

    #[test]
    fn plain_numbers_that_no_brand_has_are_left_out() {
        let rules = crate::rules::Rules::builtin().expect("built-in rules");
        let shapes = Shapes::new(13, rules.brands.groupings())
            .luhn_valid_plain(|a, b| rules.brands.lengths_after(a, b));
        // All pass the Luhn check; only the first two are some brand's (a Visa of 16 digits,
        // a Mastercard of the 2-series); no brand's numbers start with 0, and American
        // Express numbers have 15 digits, not 16.
        let numbers = [
            luhn_number("4", 16),
            luhn_number("2221", 16),
            luhn_number("00", 16),
            luhn_number("34", 16),
            luhn_number("34", 15),
        ];
        let text = numbers.join(" x ");
        let mut seen = Vec::new();
        for_each_relevant_token(
            text.as_bytes(),
            &shapes,
            None,
            |_| false,
            |c| seen.push(c.span.start),
            |_| {},
            &mut BlockNewlines::default(),
        );
        let starts: Vec<usize> = [0, 1, 4]
            .iter()
            .map(|&i| numbers[..i].iter().map(|n| n.len() + 3).sum())
            .collect();
        assert!(
            seen == starts,
            "numbers handed on at {seen:?}, not {starts:?}"
        );
        // Not left out where the shapes do not ask for it.
        let mut all = 0;
        for_each_relevant_token(
            text.as_bytes(),
            &Shapes::new(13, rules.brands.groupings()),
            None,
            |_| false,
            |_| all += 1,
            |_| {},
            &mut BlockNewlines::default(),
        );
        assert_eq!(all, numbers.len());
    }

    /// Pieces with the group sizes of card layouts, so that card-shaped tokens are common.
    fn card_piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            3 => "[0-9]{4}".prop_map(String::into_bytes),
            1 => "[0-9]{3,6}".prop_map(String::into_bytes),
            2 => prop::sample::select(vec![" ", "-", "%20", "%2D", "\u{3000}"])
                .prop_map(|s| s.as_bytes().to_vec()),
            4 => piece(),
            2 => layout_token(),
        ]
    }

    /// A token in one of the built-in card layouts, with one of the separators.
    fn layout_token() -> impl Strategy<Value = Vec<u8>> {
        let rules = crate::rules::Rules::builtin().expect("built-in rules");
        let layouts = rules.brands.groupings().to_vec();
        (
            prop::sample::select(layouts),
            prop::sample::select(SEPARATORS.to_vec()),
            "[0-9]{19}",
        )
            .prop_map(|(layout, sep, digits)| {
                let mut out = Vec::new();
                let mut at = 0;
                for (i, &g) in layout.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(sep);
                    }
                    out.extend_from_slice(&digits.as_bytes()[at..at + usize::from(g)]);
                    at += usize::from(g);
                }
                out
            })
    }

    #[test]
    fn vector_masks_match_the_portable_ones() {
        #[cfg(target_arch = "x86_64")]
        {
            type Build = (
                &'static str,
                fn(&[u8], usize) -> crate::detect::blocks::Masks,
                fn(&[u8], usize) -> (u64, u64),
            );
            let mut builds: Vec<Build> = Vec::new();
            if avx2::available() {
                builds.push((
                    "AVX2",
                    avx2::masks_at_checked,
                    avx2::digit_and_plain_checked,
                ));
            }
            if avx512::available() {
                builds.push((
                    "AVX-512",
                    avx512::masks_at_checked,
                    avx512::digit_and_plain_checked,
                ));
            }
            let mut bytes: Vec<u8> = (0u8..=255).rev().chain(0u8..=255).collect();
            bytes.extend_from_slice(b"4111 1111-1111.1111+%20%2D%2d");
            for (name, masks_at, digit_and_plain) in builds {
                for at in 0..bytes.len() + 1 {
                    let want = crate::detect::blocks::masks_at(&bytes, at);
                    assert_eq!(masks_at(&bytes, at), want, "{name}, block at {at}");
                    assert_eq!(
                        digit_and_plain(&bytes, at),
                        crate::detect::blocks::digit_and_plain_bits(&bytes, at),
                        "{name}, digit and plain bits at {at}"
                    );
                }
            }
        }
    }

    /// The pass as the detector runs it, with the keyword anchors (on a CPU with AVX-512,
    /// a group of blocks at a time, skipping the quiet ones), must hand on what the portable
    /// pass does block by block.
    fn check_grouped_pass(bytes: &[u8]) -> Result<(), TestCaseError> {
        let rules = crate::rules::Rules::builtin().expect("built-in rules");
        let shapes = Shapes::new(13, rules.brands.groupings());
        let a = Anchors::of_keywords(&rules.keywords).expect("anchors");
        let plain = shapes.luhn_valid_plain(|a, b| rules.brands.lengths_after(a, b));
        for shapes in [shapes, plain, Shapes::ALL] {
            let mut newlines = BlockNewlines::default();
            let grouped = collect(bytes, |n, s| {
                for_each_relevant_token(bytes, &shapes, Some(&a), |_| true, n, s, &mut newlines)
            });
            assert_newlines_counted(bytes, &newlines);
            let by_block = collect(bytes, |mut n, mut s| {
                super::relevant::<true, false>(
                    bytes,
                    &shapes,
                    (
                        crate::detect::blocks::masks_at,
                        crate::detect::blocks::digit_and_plain_bits,
                        super::luhn_per_token,
                    ),
                    (
                        &mut |at| a.in_block(bytes, at),
                        &mut super::no_groups,
                        a.blocks_after,
                    ),
                    &mut |_| true,
                    (&mut n, &mut s, &mut vec![0; bytes.len().div_ceil(BLOCK)]),
                )
            });
            prop_assert!(grouped == by_block, "the grouped pass differs");
        }
        Ok(())
    }

    /// Pieces for the grouped pass: quiet text, cards and ids that cross block edges,
    /// keywords, and bytes outside ASCII.
    fn group_piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => "[a-z ]{1,90}".prop_map(String::into_bytes),
            3 => ascii_piece(),
            2 => card_piece(),
            1 => "[0-9]{13,19}".prop_map(String::into_bytes),
            1 => "([0-9]{9,19} ){1,8}".prop_map(String::into_bytes),
            1 => prop::sample::select(vec!["2015-10-18 18:01:47,978 ", "cvv: ", "\u{e9}"])
                .prop_map(|s| s.as_bytes().to_vec()),
        ]
    }

    /// Keywords whose anchors start with ten different letters.
    const MANY_FIRST_BYTES: [&str; 10] = [
        "abc", "dEf", "ghi", "jkl", "mno", "pqr", "stu", "vwx", "yza", "bcd",
    ];

    /// Pieces for the anchor lookups: the anchors in any case, near misses, and bytes
    /// outside ASCII (whose low nibbles match anchor bytes).
    fn anchor_piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            3 => "[a-zA-Z0-9 :=]{0,12}".prop_map(String::into_bytes),
            2 => prop::sample::select(vec![
                "cvv", "CVC", "cSc", "Cav2", "cvn", "CVD", "cid", "Code", "veRIF", "cv", "ri",
                "\u{e9}", "\u{30bb}", "\u{7f}", "\0", "\u{2c6}",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
        ]
    }

    /// The anchor lookups must flag every block where an anchor starts, and agree with each
    /// other; checked at every offset, not only at multiples of 64, and near the end.
    fn check_anchor_lookups(bytes: &[u8]) -> Result<(), TestCaseError> {
        let rules = crate::rules::Rules::builtin().expect("built-in rules");
        let a = Anchors::of_keywords(&rules.keywords).expect("anchors");
        let lower = bytes.to_ascii_lowercase();
        for i in 0..bytes.len() {
            if a.grams().iter().any(|g| lower[i..].starts_with(g)) {
                prop_assert!(
                    a.may_start_in(bytes, i, i + 1),
                    "anchor at {} not flagged",
                    i
                );
            }
        }
        #[cfg(target_arch = "x86_64")]
        for x in 0..0x80 {
            // The built-in anchors start with two kinds of byte: no bucket is added.
            let (want, got) = avx512::first_byte_buckets(&a, x);
            prop_assert_eq!(want, got, "byte {:#x}", x);
        }
        for at in 0..bytes.len() + 2 {
            let want = a.may_start_in(bytes, at, at + 64);
            prop_assert_eq!(a.in_block(bytes, at), want, "portable, block at {}", at);
            #[cfg(target_arch = "x86_64")]
            if avx2::available() {
                prop_assert_eq!(
                    avx2::anchor_in_block(&a, bytes, at),
                    want,
                    "AVX2, at {}",
                    at
                );
            }
            #[cfg(target_arch = "x86_64")]
            if avx512::available() {
                prop_assert_eq!(
                    avx512::anchor_in_block(&a, bytes, at),
                    want,
                    "AVX-512, at {}",
                    at
                );
            }
        }
        Ok(())
    }

    /// The vector Luhn check of a window must agree with the check of each run of at most 19
    /// digits that lies whole in it.
    #[cfg(target_arch = "x86_64")]
    fn check_luhn_ends(bytes: &[u8]) -> Result<(), TestCaseError> {
        if !avx512::available() {
            return Ok(());
        }
        for at in 0..bytes.len() {
            let window = &bytes[at..bytes.len().min(at + 64)];
            let w = window
                .iter()
                .enumerate()
                .fold(0u64, |w, (i, b)| w | u64::from(b.is_ascii_digit()) << i);
            let passing = avx512::luhn_ends_checked(bytes, at, w);
            let mut i = 0;
            while i < window.len() {
                let n = window[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let whole = n > 0 && (i == 0 || !window[i - 1].is_ascii_digit());
                if whole && n <= MAX_DIGITS && (i + n < window.len() || at + i + n == bytes.len()) {
                    let end = i + n - 1;
                    prop_assert_eq!(
                        passing >> end & 1 == 1,
                        luhn_valid(&window[i..i + n]),
                        "window at {}, run at {} of {} digits",
                        at,
                        i,
                        n
                    );
                }
                i += n.max(1);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        #[cfg(target_arch = "x86_64")]
        fn vector_luhn_check_agrees_with_the_scalar_one(
            text in prop::collection::vec(
                prop_oneof![4 => "[0-9]{1,22}", 1 => "[ x]{1,2}"].prop_map(String::into_bytes),
                0..12,
            ).prop_map(|p| Text(p.concat()))
        ) {
            check_luhn_ends(&text.0)?;
        }

        #[test]
        fn anchor_lookups_flag_every_anchor(
            text in prop::collection::vec(anchor_piece(), 0..40).prop_map(|p| Text(p.concat()))
        ) {
            check_anchor_lookups(&text.0)?;
        }

        /// Anchors with more first bytes than the class lookup has bits for (and more
        /// anchors than buckets): the AVX-512 lookup merges them, and may flag more blocks,
        /// but never misses one where an anchor starts.
        #[test]
        fn merged_first_bytes_still_flag_every_anchor(
            text in prop::collection::vec(
                prop_oneof![
                    "[a-z ]{0,12}".prop_map(String::into_bytes),
                    prop::sample::select(MANY_FIRST_BYTES.to_vec())
                        .prop_map(|s| s.as_bytes().to_vec()),
                ],
                0..40,
            ).prop_map(|p| Text(p.concat()))
        ) {
            #[cfg(target_arch = "x86_64")]
            if avx512::available() {
                let a = Anchors::new(MANY_FIRST_BYTES, &[], 32).expect("anchors");
                let bytes = &text.0;
                for at in 0..bytes.len() + 2 {
                    if a.may_start_in(bytes, at, at + 64) {
                        prop_assert!(avx512::anchor_in_block(&a, bytes, at), "at {}", at);
                    }
                }
            }
        }

        /// The first bytes of the anchors, looked up with the byte classes (four bits for
        /// all buckets): every bucket an anchor's own tables give for a byte is among those
        /// the class lookup gives, for any keywords.
        #[test]
        fn class_lookup_keeps_every_first_byte(
            keywords in prop::collection::vec("[a-zA-Z0-9]{3,6}", 1..16)
        ) {
            #[cfg(target_arch = "x86_64")]
            {
                let a = Anchors::new(keywords.iter().map(String::as_str), &[], 32)
                    .expect("anchors");
                for x in 0..0x80 {
                    let (want, got) = avx512::first_byte_buckets(&a, x);
                    prop_assert_eq!(want & !got, 0, "byte {:#x}", x);
                }
            }
        }

        #[test]
        fn grouped_pass_hands_on_what_the_block_by_block_pass_does(
            text in prop::collection::vec(group_piece(), 0..300).prop_map(|p| Text(p.concat()))
        ) {
            check_grouped_pass(&text.0)?;
        }

        #[test]
        fn card_shapes_keep_every_possible_card(
            text in prop::collection::vec(card_piece(), 0..120).prop_map(|p| Text(p.concat()))
        ) {
            check_card_shapes(&text.0)?;
        }

        #[test]
        fn card_shapes_keep_every_possible_card_in_ascii(
            text in prop::collection::vec(ascii_piece(), 0..200).prop_map(|p| Text(p.concat()))
        ) {
            check_card_shapes(&text.0)?;
        }

        #[test]
        fn skipping_blocks_hands_on_what_the_full_pass_does(
            text in prop::collection::vec(piece(), 0..120).prop_map(|p| Text(p.concat()))
        ) {
            let bytes = text.0;
            let (e, r) = (exhaustive(&bytes), relevant(&bytes));
            prop_assert!(e == r);
        }

        #[test]
        fn skipping_ascii_blocks_hands_on_what_the_full_pass_does(
            text in prop::collection::vec(ascii_piece(), 0..200).prop_map(|p| Text(p.concat()))
        ) {
            let bytes = text.0;
            let (e, r) = (exhaustive(&bytes), relevant(&bytes));
            prop_assert!(e == r);
        }
    }
}
