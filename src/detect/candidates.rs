//! Stage one: cheap extraction of number tokens — digit runs, or runs of short digit groups
//! joined by single spaces or single dashes (`4111 1111 1111 1111`, `3782-822463-10005`).
//!
//! A token is always maximal: it is never a slice of a longer digit run or group sequence.
//! Whether it is a card number is decided later, by [`super::lookalike`] and the brand table.

use std::fmt;

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
    digits: [u8; MAX_DIGITS],
    /// Digits in the whole token (may exceed [`MAX_DIGITS`]).
    pub ndigits: usize,
    groups: [u8; MAX_GROUPS],
    ngroups: usize,
    /// The separator between groups, if the token is grouped.
    pub sep: Option<u8>,
}

impl Candidate {
    /// The token's digits, without separators; `None` when it has more than 19.
    pub fn digits(&self) -> Option<&[u8]> {
        (self.ndigits <= MAX_DIGITS).then(|| &self.digits[..self.ndigits])
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
            .field("sep", &self.sep.map(char::from))
            .finish()
    }
}

/// Returns the length of the run of ASCII digits starting at `at`.
#[inline]
fn digit_run(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// Returns the index of the next ASCII digit at or after `from`.
#[inline]
fn next_digit(bytes: &[u8], from: usize) -> Option<usize> {
    // Eight bytes at a time: a byte is a digit iff (b | 0x80) - 0x30 has a result < 10, which
    // the SWAR test below approximates; exact bytes are checked after a hit.
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while i + 8 <= bytes.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[i..i + 8]);
        let x = u64::from_le_bytes(w);
        // High bit set in a lane whose byte is in 0x30..=0x39 (no false negatives).
        let t = x & !HI;
        let ge30 = t.wrapping_add(LO * (0x80 - 0x30));
        let le39 = (LO * (0x80 + 0x39)).wrapping_sub(t);
        let lanes = ge30 & le39 & !x & HI;
        if lanes != 0 {
            let j = i + (lanes.trailing_zeros() / 8) as usize;
            return Some(j);
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|b| b.is_ascii_digit())
        .map(|p| p + i)
}

/// Fewest digits a token needs to be handed on (`--explain` shows 12-digit tokens).
pub const MIN_DIGITS: usize = 12;

/// Calls `f` with every maximal number token of at least [`MIN_DIGITS`] digits in `bytes`,
/// left to right.
pub fn for_each_candidate(bytes: &[u8], f: impl FnMut(Candidate)) {
    for_each_token(bytes, f, |_| {});
}

/// One pass over `bytes`: `on_number` gets every token of at least [`MIN_DIGITS`] digits,
/// `on_short` every lone run of 3 or 4 digits (a possible security code), left to right.
pub fn for_each_token(
    bytes: &[u8],
    mut on_number: impl FnMut(Candidate),
    mut on_short: impl FnMut(Span),
) {
    let n = bytes.len();
    let mut pos = 0;
    while let Some(start) = next_digit(bytes, pos) {
        // First measure the token without copying anything: most tokens in logs are short
        // (dates, times, counters) and are dropped here.
        let first = digit_run(bytes, start);
        let mut end = start + first;
        let mut ndigits = first;
        let mut sep = None;
        if first <= MAX_GROUP {
            while end + 1 < n {
                let s = bytes[end];
                if !(s == b' ' || s == b'-') || sep.is_some_and(|x| x != s) {
                    break;
                }
                let g = digit_run(bytes, end + 1);
                // A long run after a separator is a number of its own, not a group.
                if g == 0 || g > MAX_GROUP {
                    break;
                }
                sep = Some(s);
                ndigits += g;
                end += 1 + g;
            }
        }
        pos = end;
        if ndigits < MIN_DIGITS {
            if sep.is_none() && (3..=4).contains(&first) {
                on_short(Span::new(start, end));
            } else if (3..=4).contains(&(ndigits - first))
                && end - (start + first + 1) == ndigits - first
                && glued_to_word(bytes, start)
            {
                // `CVC2 026`: the keyword's digit chained with the code; the code is the
                // second and last group.
                on_short(Span::new(start + first + 1, end));
            }
            continue;
        }
        let mut c = Candidate {
            span: Span::new(start, end),
            digits: [0; MAX_DIGITS],
            ndigits: 0,
            groups: [0; MAX_GROUPS],
            ngroups: 0,
            sep,
        };
        for group in bytes[start..end].split(|b| !b.is_ascii_digit()) {
            push_group(&mut c, group);
        }
        on_number(c);
    }
}

/// Returns true if and only if the digit at `start` continues a word (`CVC2`, `T2`).
fn glued_to_word(bytes: &[u8], start: usize) -> bool {
    start > 0 && (bytes[start - 1].is_ascii_alphabetic() || bytes[start - 1] == b'_')
}

fn push_group(c: &mut Candidate, group: &[u8]) {
    for &d in group {
        if c.ndigits < MAX_DIGITS {
            c.digits[c.ndigits] = d;
        }
        c.ndigits += 1;
    }
    if c.ngroups < MAX_GROUPS {
        c.groups[c.ngroups] = group.len().min(255) as u8;
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
    fn swar_digit_search_matches_scalar() {
        let mut bytes: Vec<u8> = (0u8..=255).collect();
        bytes.extend_from_slice(b"xxxxxxxxxxxxxxxxxxxxxxx9");
        for from in 0..bytes.len() {
            let want = bytes[from..]
                .iter()
                .position(|b| b.is_ascii_digit())
                .map(|p| p + from);
            assert_eq!(next_digit(&bytes, from), want, "from {from}");
        }
        for b in 0u8..=255 {
            let v = [b'a', b'a', b'a', b'a', b'a', b'a', b'a', b];
            assert_eq!(next_digit(&v, 0).is_some(), b.is_ascii_digit(), "byte {b}");
        }
    }
}
