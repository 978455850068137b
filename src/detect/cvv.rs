//! Card security codes (CVV2, CVC2, CID, CSC, セキュリティコード, …) announced by a keyword.
//!
//! A code is a keyword, a short gap (`: `, `=`, `"cvv":"`, `<CVV2>`, `は`) and 3 or 4 digits
//! standing alone. Whether it belongs to a card number is decided in [`super`]; here we only
//! find where codes are.

use crate::finding::Span;
use crate::rules::Keywords;

/// A security code announced by a keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeMatch {
    /// The keyword.
    pub keyword: Span,
    /// The code's digits.
    pub code: Span,
    /// Whether the keyword announces a code on its own (`cvv`) or only next to a card
    /// number (`cid`, also "connection id").
    pub strong: bool,
}

/// Security-code keywords, indexed for matching backwards from a code.
///
/// Codes are found from the digits, not the words: every lone run of 3–4 digits is a
/// candidate (the candidate pass visits them anyway), and a keyword must end just before its
/// gap. Searching for the keywords themselves — a case-insensitive regex, then an
/// Aho–Corasick automaton — cost a step per byte of input, because `c` and `s` start
/// ordinary words too and defeat every literal prefilter.
#[derive(Clone, Debug)]
pub struct CvvMatcher {
    /// Lower-case keyword variants, each with whether it is strong, grouped by last byte.
    by_last: Vec<Vec<(Vec<u8>, bool)>>,
    /// The last two bytes (lower case) of every keyword variant and filler word, as a set of
    /// 65,536 bits: most 3–4 digit runs in logs (`took 250 ms`, `size=1024`) are turned down
    /// by one lookup.
    endings: Vec<u64>,
}

/// Gap units allowed between keyword and code (ASCII punctuation is handled separately).
const GAP_UNITS: [&[u8]; 4] = [
    "：".as_bytes(),
    "は".as_bytes(),
    "\u{3000}".as_bytes(),
    b"&quot;",
];
/// Words allowed once between keyword and code (`CVV number: 123`, `security code is 123`).
const FILLERS: [&[u8]; 7] = [b"number", b"num", b"no.", b"no", b"value", b"is", b"was"];
/// Most gap units before and after a filler word.
const MAX_GAP: usize = 8;
/// Most bytes from the end of a keyword to the start of the code it announces: a gap, a
/// filler word and another gap, each gap of `MAX_GAP` units (ASCII gap bytes or
/// `GAP_UNITS`). The block pass looks this far for codes after a keyword.
pub const MAX_KEYWORD_TO_CODE: usize = 2 * MAX_GAP * longest(&GAP_UNITS) + longest(&FILLERS);

/// The length of the longest of `words`.
const fn longest(words: &[&[u8]]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < words.len() {
        if words[i].len() > n {
            n = words[i].len();
        }
        i += 1;
    }
    n
}

/// Returns true if and only if `b` may come just before a security code: a gap byte, the
/// `;` of `&quot;`, or a byte of a multi-byte character (a Japanese keyword or gap unit).
/// Digits glued to a word (`cvv123`, `no123`) are never a code. The candidate pass relies
/// on this to skip most short digit runs with one lookup.
#[inline(always)]
pub fn may_precede_code(b: u8) -> bool {
    PRECEDES_CODE[usize::from(b)]
}

/// [`may_precede_code`] as a table: it runs for every short digit run of a buffer.
static PRECEDES_CODE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = GAP[b] || b == b';' as usize || b >= 0x80;
        b += 1;
    }
    t
};

/// Returns true if and only if `b` may stand between a keyword and its code.
#[inline(always)]
fn is_gap_byte(b: u8) -> bool {
    GAP[usize::from(b)]
}

/// [`is_gap_byte`] as a table: a `match` on these bytes compiles to an indirect jump, which
/// mispredicts on the millions of short digit runs a log has.
static GAP: [bool; 256] = {
    let mut t = [false; 256];
    let gaps = *b" \t\"'`:=>[(#";
    let mut i = 0;
    while i < gaps.len() {
        t[gaps[i] as usize] = true;
        i += 1;
    }
    t
};

impl CvvMatcher {
    /// Builds the matcher from the keyword rules.
    pub fn new(kw: &Keywords) -> Result<CvvMatcher, regex::Error> {
        let mut by_last: Vec<Vec<(Vec<u8>, bool)>> = vec![Vec::new(); 256];
        let sets = [(&kw.cvv_strong, true), (&kw.cvv_weak, false)];
        for (words, is_strong) in sets {
            for w in words.en.iter().chain(&words.ja) {
                // `security code` is also written security_code, security-code, securitycode.
                for joiner in [" ", "_", "-", ""] {
                    let p = w.to_lowercase().replace(' ', joiner).into_bytes();
                    let Some(&last) = p.last() else { continue };
                    let slot = &mut by_last[last as usize];
                    if !slot.iter().any(|(q, _)| *q == p) {
                        slot.push((p, is_strong));
                    }
                }
            }
        }
        // Longest first, so `cvv2` wins over a shorter keyword that also ends there.
        for slot in &mut by_last {
            slot.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        }
        let mut endings = vec![0u64; 1 << 10];
        let words = by_last.iter().flatten().map(|(p, _)| p.as_slice());
        for w in words.chain(FILLERS) {
            match *w {
                [.., a, b] => {
                    let pair = ending(a, b);
                    endings[pair / 64] |= 1 << (pair % 64);
                }
                // A one-byte word (only possible in a rules file): no shortcut.
                _ => endings.iter_mut().for_each(|e| *e = u64::MAX),
            }
        }
        Ok(CvvMatcher { by_last, endings })
    }

    /// Returns true if and only if a keyword or filler word may end at `end`.
    #[inline]
    fn may_end_word(&self, bytes: &[u8], end: usize) -> bool {
        if end < 2 {
            return end == 1 && self.endings.iter().all(|&e| e == u64::MAX);
        }
        let pair = ending(bytes[end - 2], bytes[end - 1]);
        self.endings[pair / 64] >> (pair % 64) & 1 == 1
    }

    /// Every security code in `bytes`, left to right.
    pub fn find_all(&self, bytes: &[u8]) -> Vec<CodeMatch> {
        let mut out = Vec::new();
        super::candidates::for_each_token(
            bytes,
            |_| {},
            |code| out.extend(self.code_at(bytes, code)),
        );
        out
    }

    /// If the lone 3–4 digit run at `code` is announced by a keyword, the match.
    #[inline]
    pub fn code_at(&self, bytes: &[u8], code: Span) -> Option<CodeMatch> {
        if self.may_be_announced(bytes, code) {
            self.announced(bytes, code)
        } else {
            None
        }
    }

    /// A quick test that turns down most digit runs (`took 250 ms`, `size=1024`, `,978`):
    /// false only when [`CvvMatcher::announced`] would find nothing.
    #[inline(always)]
    fn may_be_announced(&self, bytes: &[u8], code: Span) -> bool {
        if code.start == 0 || !may_precede_code(bytes[code.start - 1]) {
            return false;
        }
        // The ASCII gap bytes; a byte that may start a longer gap unit leaves the decision
        // to the full matcher. Most runs fail the word-ending lookup (`took 250`).
        let lo = code.start.saturating_sub(MAX_GAP);
        let mut i = code.start;
        while i > lo && is_gap_byte(bytes[i - 1]) {
            i -= 1;
        }
        let longer_gap = i > 0 && (bytes[i - 1] >= 0x80 || bytes[i - 1] == b';');
        (longer_gap || self.may_end_word(bytes, i)) && stands_alone_after(bytes, code)
    }

    /// The full match behind [`CvvMatcher::code_at`].
    #[inline(never)]
    fn announced(&self, bytes: &[u8], code: Span) -> Option<CodeMatch> {
        let after_gap = self.skip_gap_back(bytes, code.start);
        if !self.may_end_word(bytes, after_gap) {
            return None;
        }
        if let Some(m) = self.keyword_ending_at(bytes, after_gap, code) {
            return Some(m);
        }
        // A filler word between gaps: `CVV number: 123`.
        for f in FILLERS {
            if after_gap >= f.len() && bytes[after_gap - f.len()..after_gap].eq_ignore_ascii_case(f)
            {
                let word_start = after_gap - f.len();
                if word_start > 0 && bytes[word_start - 1].is_ascii_alphabetic() {
                    continue;
                }
                let before = self.skip_gap_back(bytes, word_start);
                if before < word_start
                    && let Some(m) = self.keyword_ending_at(bytes, before, code)
                {
                    return Some(m);
                }
            }
        }
        None
    }

    /// Steps back over at most [`MAX_GAP`] gap units ending at `end`.
    fn skip_gap_back(&self, bytes: &[u8], end: usize) -> usize {
        let mut i = end;
        for _ in 0..MAX_GAP {
            let Some(&b) = bytes[..i].last() else { break };
            if is_gap_byte(b) {
                i -= 1;
            } else if (b < 0x80 && b != b';') || i < 3 {
                break;
            } else if let Some(u) = GAP_UNITS.iter().find(|u| bytes[..i].ends_with(u)) {
                i -= u.len();
            } else {
                break;
            }
        }
        i
    }

    /// A keyword ending exactly at `end`, standing alone, announcing `code`.
    fn keyword_ending_at(&self, bytes: &[u8], end: usize, code: Span) -> Option<CodeMatch> {
        let last = bytes[..end].last()?.to_ascii_lowercase();
        for (p, strong) in &self.by_last[last as usize] {
            if end < p.len() || !bytes[end - p.len()..end].eq_ignore_ascii_case(p) {
                continue;
            }
            let start = end - p.len();
            let ascii = p.is_ascii();
            if ascii && !keyword_stands_alone(bytes, start, end) {
                continue;
            }
            // `cvv123` is not announced; Japanese keywords may touch the digits.
            if ascii && end == code.start {
                continue;
            }
            return Some(CodeMatch {
                keyword: Span::new(start, end),
                code,
                strong: *strong,
            });
        }
        None
    }
}

/// Returns true unless the bytes after a code make it part of something else: `cvv=123abc`
/// or `cvv=123.5`.
#[inline(always)]
fn stands_alone_after(bytes: &[u8], code: Span) -> bool {
    match bytes.get(code.end) {
        Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => false,
        Some(b'.') => !bytes.get(code.end + 1).is_some_and(u8::is_ascii_digit),
        _ => true,
    }
}

/// The index of a word ending in bytes `a`, `b` in [`CvvMatcher::endings`].
#[inline]
fn ending(a: u8, b: u8) -> usize {
    usize::from(a.to_ascii_lowercase()) << 8 | usize::from(b.to_ascii_lowercase())
}

/// Returns true if and only if an ASCII keyword at `[start, end)` is a word of its own:
/// `cvv`, `card_cvv`, `cardCvv`, but not `acid` or `cvc_check`.
fn keyword_stands_alone(bytes: &[u8], start: usize, end: usize) -> bool {
    if let Some(&p) = start.checked_sub(1).and_then(|i| bytes.get(i)) {
        let camel = p.is_ascii_lowercase() && bytes[start].is_ascii_uppercase();
        if p.is_ascii_alphabetic() && !camel {
            return false;
        }
    }
    !bytes
        .get(end)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn codes(s: &str) -> Vec<(String, bool)> {
        let r = Rules::builtin().unwrap();
        let m = CvvMatcher::new(&r.keywords).unwrap();
        m.find_all(s.as_bytes())
            .into_iter()
            .map(|c| (s[c.code.start..c.code.end].to_string(), c.strong))
            .collect()
    }

    #[test]
    fn announced_codes() {
        let yes = [
            "cvv=123",
            "CVV2: 123",
            "the CVC: 199.",
            r#""cvv":"123""#,
            "<CVV2>093</CVV2>",
            "security code 786 amount",
            "csc=527,",
            "card_cvv='9013'",
            "cardCvv: 4321",
            "セキュリティコード：123",
            "セキュリティコードは123です",
            "cvv: '594',",
            "CVV number: 321",
        ];
        for s in yes {
            assert_eq!(codes(s).len(), 1, "{s}");
        }
    }

    #[test]
    fn look_alikes_are_not_codes() {
        let no = [
            "cvc_check=unavailable",
            "cvv=[REDACTED]",
            "CVV2 result M",
            "CSC-98235",
            "security code 291006",
            "cvv_attempts=5",
            "acid 123",
            "cvv123",
            "cvv=12.5",
        ];
        for s in no {
            assert_eq!(codes(s), vec![], "{s}");
        }
    }

    #[test]
    fn cid_is_weak() {
        assert_eq!(codes("cid=2412"), vec![("2412".to_string(), false)]);
        assert_eq!(codes("cvv=241"), vec![("241".to_string(), true)]);
    }
}
