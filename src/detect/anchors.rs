//! Anchors: a three-letter piece of every security-code keyword (`cvv`, `cod`, `rif`),
//! looked for 64 bytes at a time, so that the block pass can leave alone the short digit runs
//! that no keyword comes before (`took 250 ms`, `port 8080`: half a run per 64 bytes of
//! typical logs, and checking each for a keyword was a third of the detector's time).
//!
//! A keyword's first or last letters will not do: `c` followed by `v`, `s`, `a` or `i` is
//! everywhere in logs (`RecvWorker`, `local`), as are `sec`, `ver` and `ode`. The pieces in
//! `rules/keywords.json` were chosen by counting them in the loghub logs: each of them is
//! in fewer than one 64-byte block in a hundred there.

use wide::u8x16;

use crate::rules::Keywords;

/// Bits of one byte of the vector lookup: anchors are put in at most this many buckets.
const BUCKETS: usize = 8;

/// The anchors of a keyword set, as the nibble tables of a vector lookup (the "Teddy"
/// technique of Hyperscan and the `aho-corasick` crate, here only to flag blocks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchors {
    /// The anchors, lower case.
    grams: Vec<[u8; 3]>,
    /// Bit `b` of `lo[j][n]` is set when an anchor in bucket `b` has low nibble `n` at its
    /// byte `j`.
    pub(crate) lo: [[u8; 16]; 3],
    /// The same for the high nibble, in either case: a letter's case is in its high nibble.
    pub(crate) hi: [[u8; 16]; 3],
    /// How many blocks after the one where an anchor (or a non-ASCII byte, which may belong
    /// to a Japanese keyword) starts, a security code it announces may start.
    pub(crate) blocks_after: usize,
    /// The AVX-512 pass's tables of the anchors' first bytes, made on first use: the same
    /// for every buffer, and making them was 2% of a scan of 100,000 small files.
    pub(crate) first_bytes: std::sync::OnceLock<[[u8; 16]; 3]>,
}

impl Anchors {
    /// The anchors for `keywords` (as written in the rules: any case, words joined by
    /// spaces, which the matcher also accepts joined by `_`, `-` or nothing). A keyword gets
    /// the first of `preferred` that one of its words contains, else its first three letters
    /// or digits in a row; non-ASCII keywords need none (their blocks are flagged by their
    /// bytes). `reach`: the most bytes from the end of a keyword to the start of its code.
    /// `None` when some ASCII keyword has no three letters or digits in a row.
    pub fn new<'a>(
        keywords: impl IntoIterator<Item = &'a str>,
        preferred: &[String],
        reach: usize,
    ) -> Option<Anchors> {
        let mut grams: Vec<[u8; 3]> = Vec::new();
        // Most bytes from where a block is flagged to where its keyword ends.
        let mut lead = 0;
        for k in keywords {
            let k = k.to_ascii_lowercase();
            if let Some(last) = k.bytes().rposition(|b| !b.is_ascii()) {
                // Every block with a byte outside ASCII is flagged: count from the last.
                lead = lead.max(k.len() - last);
                continue;
            }
            let (at, gram) = anchor_of(&k, preferred)?;
            lead = lead.max(k.len() - at);
            if !grams.contains(&gram) {
                grams.push(gram);
            }
        }
        let (lo, hi) = tables(&grams);
        Some(Anchors {
            grams,
            lo,
            hi,
            blocks_after: (63 + lead + reach) / 64,
            first_bytes: std::sync::OnceLock::new(),
        })
    }

    /// The anchors of the rules' security-code keywords, English and Japanese, strong and
    /// weak.
    pub fn of_keywords(kw: &Keywords) -> Option<Anchors> {
        let words = [&kw.cvv_strong, &kw.cvv_weak]
            .into_iter()
            .flat_map(|w| w.en.iter().chain(&w.ja));
        Anchors::new(
            words.map(String::as_str),
            &kw.cvv_anchors,
            super::cvv::MAX_KEYWORD_TO_CODE,
        )
    }

    /// The anchors, lower case.
    pub fn grams(&self) -> &[[u8; 3]] {
        &self.grams
    }

    /// Whether the vector lookup says an anchor may start at one of the offsets
    /// `from..to` of `bytes` (NUL past the end): true wherever an anchor starts, in any
    /// case, and sometimes elsewhere. The reference for the vector code, which runs it on
    /// 64 offsets at a time (its byte shuffle gives 0 for a byte of 0x80 or more).
    pub fn may_start_in(&self, bytes: &[u8], from: usize, to: usize) -> bool {
        (from..to).any(|i| {
            let mut m = u8::MAX;
            for j in 0..3 {
                let b = bytes.get(i + j).copied().unwrap_or(0);
                if b >= 0x80 {
                    return false;
                }
                m &= self.lo[j][usize::from(b & 15)] & self.hi[j][usize::from(b >> 4)];
            }
            m != 0
        })
    }
}

/// Whether this build has a byte shuffle of 16-byte vectors (NEON on 64-bit ARM, SSSE3 on
/// x86): [`Anchors::in_block`] is fast only then. x86-64 CPUs with AVX2 use their own
/// version, chosen at run time, in [`super::candidates`].
pub const FAST_SHUFFLE: bool = cfg!(any(
    target_feature = "ssse3",
    all(target_arch = "aarch64", target_feature = "neon")
));

impl Anchors {
    /// [`Anchors::may_start_in`] for the 64 offsets of the block at `at`, 16 bytes per
    /// vector shuffle (done byte by byte where the target has no shuffle: see
    /// [`FAST_SHUFFLE`]).
    #[inline]
    pub fn in_block(&self, bytes: &[u8], at: usize) -> bool {
        // An anchor starting at the block's last byte ends two bytes into the next.
        let mut w = [0u8; 66];
        let rest = bytes.get(at..).unwrap_or_default();
        let n = rest.len().min(w.len());
        w[..n].copy_from_slice(&rest[..n]);
        let nibble = u8x16::splat(15);
        let mut any = u8x16::ZERO;
        for chunk in 0..4 {
            let mut m = u8x16::splat(u8::MAX);
            for j in 0..3 {
                let mut lanes = [0u8; 16];
                lanes.copy_from_slice(&w[16 * chunk + j..16 * chunk + j + 16]);
                let v = u8x16::new(lanes);
                // High nibbles of 8 or more (bytes outside ASCII) find 0 in `hi`.
                let lo = u8x16::new(self.lo[j]).shuffle(v & nibble);
                let hi = u8x16::new(self.hi[j]).shuffle(v >> 4);
                m &= lo & hi;
            }
            any |= m;
        }
        any.simd_eq(u8x16::ZERO).to_bitmask() != 0xFFFF
    }
}

/// Where in keyword `k` (lower-case ASCII) its anchor starts, and the anchor.
fn anchor_of(k: &str, preferred: &[String]) -> Option<(usize, [u8; 3])> {
    // Offsets of the words: an anchor must not span the joiner, which varies.
    let words: Vec<(usize, &str)> = k
        .split(' ')
        .scan(0, |at, w| {
            let here = *at;
            *at += w.len() + 1;
            Some((here, w))
        })
        .collect();
    let found = preferred.iter().find_map(|p| {
        words
            .iter()
            .find_map(|&(at, w)| w.find(p.as_str()).map(|i| at + i))
    });
    let at = found.or_else(|| {
        words.iter().find_map(|&(at, w)| {
            w.as_bytes()
                .windows(3)
                .position(|g| g.iter().all(u8::is_ascii_alphanumeric))
                .map(|i| at + i)
        })
    })?;
    let b = k.as_bytes();
    Some((at, [b[at], b[at + 1], b[at + 2]]))
}

/// The nibble tables for `grams`: one bucket each while there are at most [`BUCKETS`];
/// beyond that, the two buckets most alike are merged (a bucket matches any mix of its
/// anchors' bytes, so anchors that differ in one byte share one at little cost).
fn tables(grams: &[[u8; 3]]) -> ([[u8; 16]; 3], [[u8; 16]; 3]) {
    let mut buckets: Vec<Vec<[u8; 3]>> = grams.iter().map(|&g| vec![g]).collect();
    while buckets.len() > BUCKETS {
        let alike = |a: &[[u8; 3]], b: &[[u8; 3]]| {
            (0..3)
                .filter(|&j| a.iter().chain(b).all(|g| g[j] == a[0][j]))
                .count()
        };
        let mut best = (0, 1, 0);
        for i in 0..buckets.len() {
            for k in i + 1..buckets.len() {
                let s = alike(&buckets[i], &buckets[k]);
                if s > best.2 {
                    best = (i, k, s);
                }
            }
        }
        let merged = buckets.remove(best.1);
        buckets[best.0].extend(merged);
    }
    let (mut lo, mut hi) = ([[0u8; 16]; 3], [[0u8; 16]; 3]);
    for (b, bucket) in buckets.iter().enumerate() {
        for g in bucket {
            for (j, &x) in g.iter().enumerate() {
                lo[j][usize::from(x & 15)] |= 1 << b;
                hi[j][usize::from(x >> 4)] |= 1 << b;
                if x.is_ascii_alphabetic() {
                    hi[j][usize::from((x ^ 0x20) >> 4)] |= 1 << b;
                }
            }
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn builtin() -> Anchors {
        Anchors::of_keywords(&Rules::builtin().unwrap().keywords).unwrap()
    }

    #[test]
    fn every_keyword_in_every_spelling_holds_an_anchor() {
        let r = Rules::builtin().unwrap();
        let a = builtin();
        assert_eq!(
            a.grams().len(),
            r.keywords.cvv_anchors.len(),
            "all preferred used"
        );
        for k in r
            .keywords
            .cvv_strong
            .en
            .iter()
            .chain(&r.keywords.cvv_weak.en)
        {
            for joiner in [" ", "_", "-", ""] {
                for w in [
                    k.replace(' ', joiner),
                    k.to_uppercase().replace(' ', joiner),
                ] {
                    let text = format!("x {w}: ");
                    let lower = text.to_ascii_lowercase();
                    let at = a
                        .grams()
                        .iter()
                        .find_map(|g| lower.as_bytes().windows(3).position(|x| x == g));
                    let at = at.unwrap_or_else(|| panic!("no anchor in {w}"));
                    assert!(a.may_start_in(text.as_bytes(), at, at + 1), "{w}");
                }
            }
        }
    }

    #[test]
    fn ordinary_log_words_are_not_anchors() {
        let a = builtin();
        let text = b"RecvWorker local specific second server version node current 250 ms";
        assert!(!a.may_start_in(text, 0, text.len()));
        assert!(a.may_start_in(b"..CVV2", 0, 4));
        assert!(
            !a.may_start_in(b"..CVV2", 0, 2),
            "only starts in the range count"
        );
    }

    #[test]
    fn keywords_without_a_preferred_anchor_get_their_first_letters() {
        let a = Anchors::new(["card code", "pin", "cvv"], &["cvv".into()], 0).unwrap();
        assert_eq!(a.grams(), [*b"car", *b"pin", *b"cvv"]);
        assert!(
            Anchors::new(["cv", "cvv"], &[], 0).is_none(),
            "no piece stands for `cv`"
        );
        assert!(
            Anchors::new(["a b c"], &[], 0).is_none(),
            "pieces do not span the joiner"
        );
    }

    #[test]
    fn blocks_after_covers_the_furthest_code() {
        // `rif` starts 7 bytes into `card verification number` (24 bytes): a code may start
        // 17 + reach bytes after it, which from the last byte of a block is two blocks on.
        let a = Anchors::new(["card verification number"], &["rif".into()], 109).unwrap();
        assert_eq!(a.blocks_after, (63 + 17 + 109) / 64);
        assert_eq!(a.blocks_after, 2);
        // Keywords with bytes outside ASCII count from the last such byte.
        let ja = Anchors::new(["cvv", "セキュリティコード"], &[], 62).unwrap();
        assert_eq!(ja.blocks_after, (63 + 3 + 62) / 64);
        let mixed = Anchors::new(["カードnum"], &[], 61).unwrap();
        assert_eq!(mixed.blocks_after, (63 + 4 + 61) / 64);
        assert_eq!(mixed.blocks_after, 2);
    }

    #[test]
    fn more_anchors_than_buckets_still_all_match() {
        let words: Vec<String> = (b'a'..=b'l').map(|c| format!("x{}z", c as char)).collect();
        let a = Anchors::new(words.iter().map(String::as_str), &[], 0).unwrap();
        assert_eq!(a.grams().len(), 12);
        for w in &words {
            assert!(a.may_start_in(w.as_bytes(), 0, 1), "{w}");
        }
        assert!(!a.may_start_in(b"yaz", 0, 1));
    }
}
