//! Context that raises confidence: card words before a number on its line, and an expiry
//! date after it.

use crate::rules::Keywords;

use super::lookalike::split_words;

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
    if split_words(before)
        .iter()
        .any(|w| kw.pan_context_en.contains(w))
    {
        return true;
    }
    let text = String::from_utf8_lossy(before);
    if kw.pan_context_ja.iter().any(|w| text.contains(w.as_str())) {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    kw.pan_context_phrases
        .iter()
        .any(|p| lower.contains(p.as_str()))
}

/// Returns true if and only if an expiry keyword or an `MM/YY` date follows `end` on its line.
pub fn has_expiry_after(bytes: &[u8], end: usize, kw: &Keywords) -> bool {
    let (_, after) = line_window(bytes, end, end, 0, EXPIRY_AHEAD);
    let words = split_words(after);
    if words.iter().any(|w| kw.expiry.en.iter().any(|e| e == w)) {
        return true;
    }
    let text = String::from_utf8_lossy(after);
    if kw.expiry.ja.iter().any(|w| text.contains(w.as_str())) {
        return true;
    }
    has_mm_yy(after)
}

/// Returns true if and only if `s` holds a month/year date such as `03/27` or `11/2029`.
fn has_mm_yy(s: &[u8]) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

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
        assert!(has_mm_yy(b" (exp 11/2029)"));
        assert!(!has_mm_yy(b" 13/25 "));
    }
}
