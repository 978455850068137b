//! Context that raises confidence: card words before a number on its line, and an expiry
//! date after it.

use crate::rules::Keywords;

use super::lookalike::words;

/// How far back on the same line card words are looked for.
const CONTEXT_BACK: usize = 64;
/// How far after the number an expiry date is looked for.
const EXPIRY_AHEAD: usize = 48;

/// The bytes of the line around `at`, at most `back` bytes before and `ahead` after.
fn line_window(
    bytes: &[u8],
    start: usize,
    end: usize,
    back: usize,
    ahead: usize,
) -> (&[u8], &[u8]) {
    let lo = start.saturating_sub(back);
    let before = &bytes[lo..start];
    let before = match memchr::memrchr(b'\n', before) {
        Some(i) => &before[i + 1..],
        None => before,
    };
    let hi = (end + ahead).min(bytes.len());
    let after = &bytes[end..hi];
    let after = match memchr::memchr(b'\n', after) {
        Some(i) => &after[..i],
        None => after,
    };
    (before, after)
}

/// Returns true if and only if a card word (`card`, `pan`, `cc`, `カード番号`) stands on the
/// same line shortly before `start`.
pub fn has_card_words(bytes: &[u8], start: usize, kw: &Keywords) -> bool {
    let (before, _) = line_window(bytes, start, start, CONTEXT_BACK, 0);
    let ascii = before.is_ascii();
    let mut letters = false;
    words(before).any(|w| {
        letters = true;
        kw.pan_context_en.contains_word(w)
    }) || kw
        .pan_context_ja
        .iter()
        .any(|w| may_hold(ascii, w) && contains(before, w.as_bytes()))
        || kw
            .pan_context_phrases
            .iter()
            .any(|p| may_match(letters, p) && contains_ignore_ascii_case(before, p.as_bytes()))
}

/// Returns true if and only if an expiry keyword or an `MM/YY` date follows `end` on its line.
pub fn has_expiry_after(bytes: &[u8], end: usize, kw: &Keywords) -> bool {
    let (_, after) = line_window(bytes, end, end, 0, EXPIRY_AHEAD);
    let ascii = after.is_ascii();
    let mut letters = false;
    words(after).any(|w| {
        letters = true;
        kw.expiry_en.contains_word(w)
    }) || kw
        .expiry_phrases
        .iter()
        .any(|p| may_match(letters, p) && contains_ignore_ascii_case(after, p.as_bytes()))
        || (kw.expiry_ja.iter()).any(|w| may_hold(ascii, w) && contains(after, w.as_bytes()))
        || has_mm_yy(after)
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
