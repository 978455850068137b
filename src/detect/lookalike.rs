//! Look-alike rejection: the bytes around a token that say it is not a card number written on
//! its own — part of a hex hash, base64 blob, identifier, UUID, decimal, phone number, masked
//! number or magnetic-stripe field — and the key words (`imei=`, `order_id=`) that say it is
//! something else.

use crate::finding::Span;
use crate::rules::Keywords;

/// Returns true if and only if `b` continues an identifier-like token.
#[inline]
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Returns true if and only if `b` is a mask character that stands for a digit (`X` is one
/// too, but is caught as a letter).
#[inline]
fn is_mask(b: u8) -> bool {
    b == b'*' || b == b'#'
}

/// Returns true if and only if `b` is a digit or a mask character standing for one: the rules
/// that look at the digits next to a token must judge a masked file as they judged it before
/// masking, or masking one number would make its neighbour a finding.
#[inline]
fn is_digit_or_mask(b: u8) -> bool {
    b.is_ascii_digit() || is_mask(b)
}

/// Why the bytes around `span` say the token is part of something longer, or `None` when the
/// token stands on its own.
pub fn boundary_rejection(bytes: &[u8], span: Span) -> Option<&'static str> {
    before_rejection(bytes, span).or_else(|| after_rejection(bytes, span))
}

/// Why the bytes before `span` say the token is part of something longer.
pub fn before_rejection(bytes: &[u8], span: Span) -> Option<&'static str> {
    let before = |k: usize| span.start.checked_sub(k).map(|i| bytes[i]);
    if let Some(p) = before(1) {
        match p {
            // Percent-encoded punctuation (`pan%3D4111…`) is a boundary.
            b if is_word(b) && percent_escape_ends_at(bytes, span.start) => {}
            b if is_word(b) => {
                return Some("glued to letters or digits before it (id, hex, base64)");
            }
            b if is_mask(b) => return Some("next to mask characters (already masked)"),
            b'+' => return Some("signed number or phone number (+)"),
            b'-' if before(2).is_some_and(|b| is_word(b) || b == b'-') => {
                return Some("part of a dashed identifier (uuid, blk_-…)");
            }
            b'-' => return Some("signed number (-)"),
            // A comma is a field separator (CSV), so only a dot makes a decimal.
            b'.' if before(2).is_some_and(is_digit_or_mask) => {
                return Some("fraction, version or decimal (digit and . before it)");
            }
            b'^' => return Some("a field of magnetic-stripe track 1"),
            b'=' if digits_before(bytes, span.start - 1) >= 12 => {
                return Some("the data after a track 2 separator (=)");
            }
            _ => {}
        }
    }
    None
}

/// Why the bytes after `span` say the token is part of something longer.
pub fn after_rejection(bytes: &[u8], span: Span) -> Option<&'static str> {
    let after = |k: usize| bytes.get(span.end + k).copied();
    if let Some(n) = after(0) {
        match n {
            b if is_word(b) => {
                return Some("glued to letters or digits after it (id, hex, base64)");
            }
            b if is_mask(b) => return Some("next to mask characters (already masked)"),
            b'.' if after(1).is_some_and(is_digit_or_mask) => {
                return Some("decimal or version (. and digit after it)");
            }
            b'-' if after(1).is_some_and(is_word) => {
                return Some("part of a dashed identifier (uuid, order id)");
            }
            _ => {}
        }
    }
    None
}

/// Returns true if and only if `%XX` (two hex digits) ends just before `at`.
fn percent_escape_ends_at(bytes: &[u8], at: usize) -> bool {
    at >= 3
        && bytes[at - 3] == b'%'
        && bytes[at - 2].is_ascii_hexdigit()
        && bytes[at - 1].is_ascii_hexdigit()
}

/// Returns the number of ASCII digits (or mask characters) immediately before `at`.
fn digits_before(bytes: &[u8], at: usize) -> usize {
    bytes[..at]
        .iter()
        .rev()
        .take_while(|&&b| is_digit_or_mask(b))
        .count()
}

/// The key immediately before a value at `start`, assignment punctuation skipped:
/// `device_imei=` gives `device_imei`, `"orderId": "` gives `orderId`.
pub fn key_before(bytes: &[u8], start: usize) -> &[u8] {
    let mut i = start;
    let lo = start.saturating_sub(48);
    // Skip the assignment punctuation between key and value.
    let mut skipped = 0;
    while i > lo && skipped < 6 {
        match bytes[i - 1] {
            b' ' | b'\t' | b'"' | b'\'' | b'`' | b'=' | b':' | b'>' | b'(' | b'[' | b'{' => {
                i -= 1;
                skipped += 1;
            }
            _ => break,
        }
    }
    let end = i;
    while i > lo && (is_word(bytes[i - 1]) || bytes[i - 1] == b'-' || bytes[i - 1] == b'.') {
        i -= 1;
    }
    &bytes[i..end]
}

/// The words of an identifier or a text, as they are written: runs of ASCII letters, split
/// also at camelCase humps (`orderId` is `order`, `Id`). The context rules run for every
/// number that passes Luhn and the brand table, so they look at words where they are; their
/// texts (the line around a number) are at most 64 bytes, whose words are found from the
/// bit masks of its letters instead of byte by byte (in digit-dense logs, a quarter of the
/// cost of judging a number).
pub fn words(text: &[u8]) -> Words<'_> {
    let walk = match text.len() {
        // Short keys (`id`, `ts`): the bytes are fewer than the masks would cost.
        0..16 => Walk::Bytes(0),
        16..=64 => {
            let (letters, upper) = letter_bits(text);
            // A capital after a small letter starts a word of its own.
            let hump = upper & (letters & !upper) << 1;
            Walk::Bits {
                starts: letters & !(letters << 1) | hump,
                goes_on: letters & !hump,
            }
        }
        _ => Walk::Bytes(0),
    };
    Words { text, walk }
}

/// Iterator of [`words`].
pub struct Words<'a> {
    text: &'a [u8],
    walk: Walk,
}

/// How [`Words`] finds the next word.
enum Walk {
    /// Byte by byte, from this offset.
    Bytes(usize),
    /// From the bits (bit `i`: byte `i`) of the words' first letters not yet taken, and of
    /// the letters that go on the word of the letter before them.
    Bits { starts: u64, goes_on: u64 },
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let t = self.text;
        let at = match &mut self.walk {
            Walk::Bits { starts, goes_on } => {
                if *starts == 0 {
                    return None;
                }
                let s = starts.trailing_zeros();
                *starts &= *starts - 1;
                let len = 1 + goes_on.checked_shr(s + 1).unwrap_or(0).trailing_ones();
                return Some(&t[s as usize..(s + len) as usize]);
            }
            Walk::Bytes(at) => at,
        };
        let mut i = *at;
        while i < t.len() && !t[i].is_ascii_alphabetic() {
            i += 1;
        }
        if i == t.len() {
            *at = i;
            return None;
        }
        let start = i;
        let mut prev_lower = false;
        while i < t.len() && t[i].is_ascii_alphabetic() {
            if prev_lower && t[i].is_ascii_uppercase() {
                break;
            }
            prev_lower = t[i].is_ascii_lowercase();
            i += 1;
        }
        *at = i;
        Some(&t[start..i])
    }
}

/// The bits of the ASCII letters of `text` (at most 64 bytes; bit `i`: byte `i`), and of the
/// capitals among them.
fn letter_bits(text: &[u8]) -> (u64, u64) {
    use wide::u8x16;
    let block = crate::detect::blocks::padded::<64>(text, 0);
    let (mut letters, mut upper) = (0u64, 0u64);
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        let mut lanes = [0u8; 16];
        lanes.copy_from_slice(chunk);
        let v = u8x16::new(lanes);
        // Unsigned `x <= 25`, with x wrapping below 0.
        let within = |x: u8x16| x.min(u8x16::splat(25)).simd_eq(x);
        let letter = within((v | u8x16::splat(0x20)) - u8x16::splat(b'a'));
        let capital = within(v - u8x16::splat(b'A'));
        letters |= u64::from(letter.to_bitmask()) << (16 * k);
        upper |= u64::from(capital.to_bitmask()) << (16 * k);
    }
    (letters, upper)
}

/// Splits an identifier into lower-case words (see [`words`]).
pub fn split_words(ident: &[u8]) -> Vec<String> {
    words(ident)
        .map(|w| String::from_utf8_lossy(w).to_ascii_lowercase())
        .collect()
}

/// Returns true if and only if the key before the value at `start` names something that is
/// not a card (`imei`, `order_id`, `tracking_no`) and nothing that is one.
pub fn has_not_card_key(bytes: &[u8], start: usize, kw: &Keywords) -> bool {
    let mut not_card = false;
    for w in words(key_before(bytes, start)) {
        if kw.pan_context_en.contains_word(w) {
            return false;
        }
        not_card = not_card || kw.not_card_keys.contains_word(w);
    }
    not_card
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The words of `text` byte by byte, as [`words`] first found them: the reference for
    /// its bit masks.
    fn words_reference(t: &[u8]) -> Vec<&[u8]> {
        let (mut out, mut i) = (Vec::new(), 0);
        loop {
            while i < t.len() && !t[i].is_ascii_alphabetic() {
                i += 1;
            }
            if i == t.len() {
                return out;
            }
            let start = i;
            let mut prev_lower = false;
            while i < t.len() && t[i].is_ascii_alphabetic() {
                if prev_lower && t[i].is_ascii_uppercase() {
                    break;
                }
                prev_lower = t[i].is_ascii_lowercase();
                i += 1;
            }
            out.push(&t[start..i]);
        }
    }

    proptest! {
        #[test]
        fn words_match_the_reference(t in proptest::collection::vec(
            prop_oneof![
                Just(b'a'), Just(b'z'), Just(b'A'), Just(b'Z'), Just(b'@'), Just(b'['),
                Just(b'`'), Just(b'{'), Just(b' '), Just(b'='), Just(b'7'), 0u8..=255,
            ],
            0..100,
        )) {
            prop_assert_eq!(words(&t).collect::<Vec<_>>(), words_reference(&t));
        }
    }

    #[test]
    fn a_key_names_something_else_unless_it_also_names_a_card() {
        let r = crate::rules::Rules::builtin().unwrap();
        let not_card = |s: &str| has_not_card_key(s.as_bytes(), s.len(), &r.keywords);
        assert!(not_card("imei="));
        assert!(not_card("x orderId: "));
        assert!(not_card("tracking_no=\""));
        // A card word in the key wins, before or after the other word.
        assert!(!not_card("card_id="));
        assert!(!not_card("idCard="));
        assert!(!not_card("cardNumber="));
        // No key, or a number before the value (an id of a run of ids).
        assert!(!not_card("x "));
        assert!(!not_card("id=652497057050250 "));
    }

    #[test]
    fn words_split_at_humps_and_at_both_ends_of_a_window() {
        let t = b"cardNumber XMLHttp 1234567890123456 orderId=exp ValidThru";
        assert!((16..=64).contains(&t.len()), "taken by the bit masks");
        let w: Vec<&[u8]> = words(t).collect();
        let want: Vec<&[u8]> = vec![
            b"card", b"Number", b"XMLHttp", b"order", b"Id", b"exp", b"Valid", b"Thru",
        ];
        assert_eq!(w, want);
        // A letter in the last of 64 bytes is a word of its own.
        let mut u = [b' '; 64];
        u[63] = b'Q';
        assert_eq!(words(&u).collect::<Vec<_>>(), [b"Q"]);
    }

    fn reject(s: &str, token: &str) -> Option<&'static str> {
        let start = s.find(token).unwrap();
        boundary_rejection(s.as_bytes(), Span::new(start, start + token.len()))
    }

    #[test]
    fn boundaries() {
        let t = "4111111111111111";
        assert_eq!(reject(&format!("card={t} ok"), t), None);
        assert_eq!(reject(&format!("card:{t}."), t), None);
        assert_eq!(reject(&format!("/cards/{t}/x"), t), None);
        assert!(reject(&format!("blk_{t}"), t).is_some());
        assert!(reject(&format!("blk_-{t}"), t).is_some());
        assert!(reject(&format!("ab{t}cd"), t).is_some());
        assert!(reject(&format!("{t}ZZ"), t).is_some());
        assert!(reject(&format!("1.{t}e-05"), t).is_some());
        assert!(reject(&format!("+{t}"), t).is_some());
        assert!(reject(&format!("****{t}"), t).is_some());
        assert!(reject(&format!("6011000990139424={t}?"), t).is_some());
        assert!(reject(&format!("^{t}?"), t).is_some());
        assert!(reject(&format!("x 12.{t}"), t).is_some());
        // Masked digits still make a decimal or a track, as they did before masking.
        assert!(reject(&format!("x **.{t}"), t).is_some());
        assert!(reject(&format!("x {t}.*4"), t).is_some());
        assert!(reject(&format!("601100******9424={t}?"), t).is_some());
        assert_eq!(reject(&format!("x **={t}"), t), None);
        assert_eq!(reject(&format!("visa,1200,{t},05/25"), t), None);
        assert_eq!(reject(&format!("?pan%3D{t}%26exp"), t), None);
    }

    #[test]
    fn key_words_of_common_shapes() {
        let w = |s: &str| split_words(key_before(s.as_bytes(), s.len()));
        assert_eq!(w("device_imei="), ["device", "imei"]);
        assert_eq!(w("\"orderId\": \""), ["order", "id"]);
        assert_eq!(w("<TrackingNo>"), ["tracking", "no"]);
        assert_eq!(w("x card number "), ["number"]);
    }
}
