//! Context that raises confidence: card words before a number on its line, and an expiry
//! date after it.

use crate::finding::Span;
use crate::rules::{Keywords, WordSet};

use super::lookalike::words;

/// How far back on the same line card words are looked for.
const CONTEXT_BACK: usize = 64;
/// How far after the number an expiry date is looked for.
const EXPIRY_AHEAD: usize = 48;
// Both windows are read as one 64-byte block.
const _: () = assert!(CONTEXT_BACK <= 64 && EXPIRY_AHEAD <= 64);

/// Returns true if and only if `b` may be part of the evidence these rules look for: an
/// ASCII letter (the English words and phrases), a byte outside ASCII (the Japanese words)
/// or `/` (an `MM/YY` date). Around most numbers in digit-dense logs there is none on the
/// line, and that is decided from one vector pass over the bytes
/// ([`signal_and_newline_bits`]) instead of a walk over words and a search per phrase.
pub fn is_signal(b: u8) -> bool {
    b.is_ascii_alphabetic() || b >= 0x80 || b == b'/'
}

/// For the bytes `from..to` of `bytes` (at most 64): bit `i` set where byte `from + i` is a
/// signal ([`is_signal`]), and bit `i` set where it is `\n`. Read where they are, 64 at a
/// time, unless the buffer ends first.
fn signal_and_newline_bits(bytes: &[u8], from: usize, to: usize) -> (u64, u64) {
    use wide::u8x16;
    let padded;
    let block = match bytes.get(from..from + 64) {
        Some(b) => b,
        None => {
            padded = super::blocks::padded::<64>(bytes, from);
            &padded[..]
        }
    };
    let (mut signal, mut newline) = (0u64, 0u64);
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        let mut lanes = [0u8; 16];
        lanes.copy_from_slice(chunk);
        let v = u8x16::new(lanes);
        // Unsigned `x <= 25`, with x wrapping below 0.
        let letter = {
            let x = (v | u8x16::splat(0x20)) - u8x16::splat(b'a');
            x.min(u8x16::splat(25)).simd_eq(x)
        };
        let slash = v.simd_eq(u8x16::splat(b'/'));
        // The top bit of each byte: outside ASCII.
        let bits = (letter | slash).to_bitmask() | v.to_bitmask();
        signal |= u64::from(bits) << (16 * k);
        newline |= u64::from(v.simd_eq(u8x16::splat(b'\n')).to_bitmask()) << (16 * k);
    }
    let within = u64::MAX.checked_shr(64 - (to - from) as u32).unwrap_or(0);
    (signal & within, newline & within)
}

/// The line around a number as these rules read it: at most [`CONTEXT_BACK`] bytes before
/// it and [`EXPIRY_AHEAD`] after it, each cut at a newline, and whether each part holds a
/// signal byte ([`is_signal`]). Taken once per number for the three rules that read it.
pub struct Around<'a> {
    before: &'a [u8],
    after: &'a [u8],
    signal_before: bool,
    signal_after: bool,
}

impl<'a> Around<'a> {
    /// The line around the number at `span` of `bytes`.
    pub fn of(bytes: &'a [u8], span: Span) -> Around<'a> {
        let lo = span.start.saturating_sub(CONTEXT_BACK);
        let (signal, newline) = signal_and_newline_bits(bytes, lo, span.start);
        // The line begins after the window's last newline.
        let first = 64 - newline.leading_zeros();
        let signal_before = signal.checked_shr(first).unwrap_or(0) != 0;
        let hi = (span.end + EXPIRY_AHEAD).min(bytes.len());
        let (signal, newline) = signal_and_newline_bits(bytes, span.end, hi);
        // It ends at the window's first newline.
        let len = (newline.trailing_zeros() as usize).min(hi - span.end);
        Around {
            before: &bytes[lo + first as usize..span.start],
            after: &bytes[span.end..span.end + len],
            signal_before,
            signal_after: signal & ((1u64 << len) - 1) != 0,
        }
    }

    /// Returns true if and only if a card word (`card`, `pan`, `cc`, `カード番号`) stands on the
    /// line shortly before the number.
    pub fn card_words_before(&self, kw: &Keywords) -> bool {
        (self.signal_before || !kw.context_needs_signal)
            && holds_keyword(
                self.before,
                &kw.pan_context_en,
                &kw.pan_context_phrases,
                &kw.pan_context_ja,
            )
    }

    /// Returns true if and only if an expiry keyword or an `MM/YY` date follows the number on
    /// its line.
    pub fn expiry_after(&self, kw: &Keywords) -> bool {
        (self.signal_after || !kw.context_needs_signal)
            && (holds_keyword(self.after, &kw.expiry_en, &kw.expiry_phrases, &kw.expiry_ja)
                || has_mm_yy(self.after))
    }

    /// False when the line before the number has no ASCII letter, so that the key before it
    /// ([`super::lookalike::key_before`], at most 48 bytes back and never past a newline) has
    /// no word: [`super::lookalike::has_not_card_key`] is then false whatever the rules.
    pub fn may_have_key_words(&self) -> bool {
        self.signal_before
    }
}

/// Returns true if and only if a card word stands on the line shortly before `start`
/// ([`Around::card_words_before`]).
pub fn has_card_words(bytes: &[u8], start: usize, kw: &Keywords) -> bool {
    Around::of(bytes, Span::new(start, start)).card_words_before(kw)
}

/// Returns true if and only if an expiry keyword or an `MM/YY` date follows `end` on its line
/// ([`Around::expiry_after`]).
pub fn has_expiry_after(bytes: &[u8], end: usize, kw: &Keywords) -> bool {
    Around::of(bytes, Span::new(end, end)).expiry_after(kw)
}

/// Returns true if and only if `text` holds one of the English `words` (as a word), one of
/// the English `phrases` (ASCII case ignored) or one of the Japanese words `ja`.
fn holds_keyword(text: &[u8], words_en: &WordSet, phrases: &[String], ja: &[String]) -> bool {
    let ascii = text.is_ascii();
    let mut letters = false;
    words(text).any(|w| {
        letters = true;
        words_en.contains_word(w)
    }) || ja
        .iter()
        .any(|w| may_hold(ascii, w) && contains(text, w.as_bytes()))
        || phrases
            .iter()
            .any(|p| may_match(letters, p) && contains_ignore_ascii_case(text, p.as_bytes()))
}

/// False when a text that is all ASCII (`ascii`) cannot hold `word`: the Japanese words
/// are looked for only in the few lines that have a byte outside ASCII (these rules run for
/// every card number found).
fn may_hold(ascii: bool, word: &str) -> bool {
    !ascii || word.is_ascii()
}

/// False when a text without ASCII letters (`letters`: [`words`] found one) cannot hold
/// `phrase`, as it starts with one (`valid thru`): in digit-dense lines most texts around a
/// number have none, and each phrase is a search of its own.
fn may_match(letters: bool, phrase: &str) -> bool {
    letters
        || !phrase
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
}

/// Returns true if and only if `needle` occurs in `hay` (a few dozen bytes: a searcher would
/// cost more to build than this takes).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return false;
    };
    memchr::memchr_iter(first, hay).any(|i| hay[i..].starts_with(needle))
}

/// Returns true if and only if `needle` occurs in `hay`, ASCII letters compared without case.
fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return false;
    };
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    memchr::memchr2_iter(lower, upper, hay).any(|i| {
        hay.get(i..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// Returns true if and only if `s` holds a month/year date such as `03/27` or `11/2029`.
fn has_mm_yy(s: &[u8]) -> bool {
    let digit_at = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    memchr::memchr_iter(b'/', s).any(|slash| {
        let Some(i) = slash.checked_sub(2) else {
            return false;
        };
        let mm = (s[i] == b'0' && (b'1'..=b'9').contains(&s[i + 1]))
            || (s[i] == b'1' && (b'0'..=b'2').contains(&s[i + 1]));
        let ok_start = i == 0 || !s[i - 1].is_ascii_digit();
        let yy = digit_at(slash + 1) && digit_at(slash + 2);
        // Two digits of year, or four, and no more.
        let end = slash + 3;
        let ok_end = !digit_at(end) || (digit_at(end + 1) && !digit_at(end + 2));
        ok_start && mm && yy && ok_end
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;
    use proptest::prelude::*;

    /// `has_mm_yy` as first written: every five-byte window.
    fn mm_yy_reference(s: &[u8]) -> bool {
        s.windows(5).enumerate().any(|(i, w)| {
            let ok_start = i == 0 || !s[i - 1].is_ascii_digit();
            let mm = (w[0] == b'0' && (b'1'..=b'9').contains(&w[1]))
                || (w[0] == b'1' && (b'0'..=b'2').contains(&w[1]));
            let yy = w[3].is_ascii_digit() && w[4].is_ascii_digit();
            let end = i + 5;
            let ok_end = end == s.len()
                || !s[end].is_ascii_digit()
                || (end + 2 <= s.len()
                    && s[end].is_ascii_digit()
                    && s[end + 1].is_ascii_digit()
                    && s.get(end + 2).is_none_or(|b| !b.is_ascii_digit()));
            ok_start && mm && w[2] == b'/' && yy && ok_end
        })
    }

    proptest! {
        #[test]
        fn the_signal_shortcuts_never_change_an_answer(
            pieces in proptest::collection::vec(prop_oneof![
                Just("card ".to_string()), Just("exp ".to_string()), Just("カード".to_string()),
                Just("valid thru ".to_string()), Just("12/27".to_string()), Just("\n".to_string()),
                Just("imei=".to_string()), Just("orderId: ".to_string()),
                // Digit groups of at most four: no failure message can show a long number.
                "[0-9]{1,4}[ =:/-]", "[a-z]{1,4}",
            ], 0..16),
            at in 0usize..200,
            len in 0usize..20,
        ) {
            // With the shortcut off, every window is looked at word by word.
            let rules = Rules::builtin().unwrap();
            let mut slow = Rules::builtin().unwrap().keywords;
            prop_assert!(rules.keywords.context_needs_signal);
            slow.context_needs_signal = false;
            let text = pieces.concat().into_bytes();
            let start = at.min(text.len());
            let span = Span::new(start, (start + len).min(text.len()));
            let around = Around::of(&text, span);
            prop_assert_eq!(
                around.card_words_before(&rules.keywords),
                around.card_words_before(&slow)
            );
            prop_assert_eq!(
                around.expiry_after(&rules.keywords),
                around.expiry_after(&slow)
            );
            if !around.may_have_key_words() {
                prop_assert!(!super::super::lookalike::has_not_card_key(&text, span.start, &slow));
            }
        }

        #[test]
        fn mm_yy_matches_the_reference(s in proptest::collection::vec(
            prop_oneof![Just(b'/'), Just(b'0'), Just(b'1'), Just(b'2'), Just(b' '), 0u8..=255],
            0..24,
        )) {
            prop_assert_eq!(has_mm_yy(&s), mm_yy_reference(&s));
        }
    }

    #[test]
    fn card_words_and_expiry() {
        let r = Rules::builtin().unwrap();
        let kw = &r.keywords;
        let s = b"x cardNumber=NNNN exp=12/27";
        assert!(has_card_words(s, 13, kw));
        assert!(has_expiry_after(s, 17, kw));
        let t = "カード番号：NNNN".as_bytes();
        assert!(has_card_words(t, t.len() - 4, kw));
        let u = b"company=NNNN size 100";
        assert!(!has_card_words(u, 8, kw));
        assert!(!has_expiry_after(u, 12, kw));
        // Keywords are matched without case; phrases across their space.
        assert!(has_expiry_after(b"NNNN EXPIRES soon", 4, kw));
        assert!(has_expiry_after(b"NNNN valid thru: December", 4, kw));
        assert!(has_card_words(b"Primary Account Number NNNN", 23, kw));
        assert!(!has_card_words(b"primary account NNNN", 16, kw));
        assert!(has_mm_yy(b" (exp 11/2029)"));
        assert!(!has_mm_yy(b" 13/25 "));
    }
}
