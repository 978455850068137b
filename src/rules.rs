//! Card-brand and keyword rules: embedded `rules/*.json` → `*Syntax` (serde) → checked
//! [`BrandTable`], [`Keywords`] and [`TestCards`].
//!
//! Rules are data so that a brand range can be fixed without touching code; `--rules FILE`
//! goes through the same loader and checker as the built-in file.

use std::collections::HashSet;

use serde::Deserialize;

use crate::detect::luhn::luhn_valid;
use crate::error::Error;

/// The built-in brand table, embedded at build time.
pub const BUILTIN_BRANDS: &str = include_str!("../rules/brands.json");
/// The built-in keywords, embedded at build time.
pub const BUILTIN_KEYWORDS: &str = include_str!("../rules/keywords.json");
/// The built-in public test card numbers, embedded at build time.
pub const BUILTIN_TEST_CARDS: &str = include_str!("../rules/test_cards.json");

/// `rules/brands.json` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandFileSyntax {
    /// Where the ranges come from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Group layouts a grouped PAN may be written in (`[4,4,4,4]`, `[4,6,5]`, …).
    #[serde(default)]
    pub groupings: Vec<Vec<u8>>,
    /// The brands.
    pub brands: Vec<BrandSyntax>,
}

/// One brand entry as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandSyntax {
    /// Stable lower-case id used in output (`visa`).
    pub id: String,
    /// Human name.
    pub name: String,
    /// IIN prefix ranges, `"4"`, `"51-55"`, `"2221-2720"`; both ends have the same length.
    pub ranges: Vec<String>,
    /// Allowed PAN lengths.
    pub lengths: Vec<u8>,
    /// Where this entry comes from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Luhn-valid numbers this entry must accept.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Luhn-valid numbers no brand may accept.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// One checked prefix range of one brand.
#[derive(Clone, Debug)]
struct RangeRule {
    prefix_len: usize,
    lo: u64,
    hi: u64,
    lengths: u32,
    brand: usize,
}

impl RangeRule {
    /// The range as bounds on a number's first eight digits, so that one parse of those
    /// digits serves every range (`51-55` is `51000000..=55999999`).
    fn bounds8(&self) -> (u32, u32) {
        let scale = 10u64.pow((PREFIX_DIGITS - self.prefix_len) as u32);
        let lo = self.lo * scale;
        let hi = (self.hi + 1) * scale - 1;
        (lo as u32, hi as u32)
    }
}

/// Longest IIN prefix a range may have; the lookup reads this many digits of a number.
const PREFIX_DIGITS: usize = 8;
/// Shortest and longest card numbers a brand may list.
const LENGTHS: std::ops::RangeInclusive<usize> = 12..=19;

/// The ranges that may hold numbers of one length starting with two given digits, most
/// specific first: the range bounds on the first eight digits and the brand.
type Bucket = Vec<(u32, u32, usize)>;

/// Index of the bucket of numbers of `n` digits starting with `d0` and `d1` (digit values).
fn bucket_of(d0: usize, d1: usize, n: usize) -> usize {
    (d0 * 10 + d1) * (LENGTHS.end() - LENGTHS.start() + 1) + (n - LENGTHS.start())
}

/// A brand's lower-case id (`visa`), interned ([`brand_id`]): every finding carries its
/// brand's id into its report record, and a copied reference costs nothing where a shared
/// string cost two atomic counter updates per copy (four per finding).
pub type BrandId = &'static str;

/// The one copy of the brand id `id` for the whole process: made (and kept) the first time
/// a rules file names it, so that loading rules again, as the tests do, adds nothing.
pub fn brand_id(id: &str) -> BrandId {
    static IDS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    // A poisoned lock still holds a valid set: nothing panics while holding it.
    let mut ids = IDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match ids.get(id) {
        Some(&known) => known,
        None => {
            let new: &'static str = Box::leak(id.into());
            ids.insert(new);
            new
        }
    }
}

/// A brand: its id and name.
#[derive(Clone, Debug)]
pub struct Brand {
    /// Lower-case id (`visa`).
    pub id: BrandId,
    /// Human name (`Visa`).
    pub name: String,
}

/// The checked brand table: which IIN prefixes and lengths belong to which brand.
#[derive(Clone, Debug)]
pub struct BrandTable {
    brands: Vec<Brand>,
    /// Sorted longest prefix first, so the most specific range wins.
    ranges: Vec<RangeRule>,
    /// The ranges by a number's first two digits and its length: a number that passes Luhn
    /// meets one or two ranges at most (or none), so the lookup runs for it without a branch
    /// per range of the table.
    buckets: Vec<Bucket>,
    groupings: Vec<Vec<u8>>,
}

impl BrandTable {
    /// Parses and checks a brand file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<BrandTable, Error> {
        let syntax: BrandFileSyntax = serde_json::from_str(text).map_err(|e| Error::RulesFile {
            path: origin.to_string(),
            reason: e.to_string(),
        })?;
        let mut table = BrandTable {
            brands: Vec::new(),
            ranges: Vec::new(),
            buckets: Vec::new(),
            groupings: Vec::new(),
        };
        table.extend(syntax, origin)?;
        Ok(table)
    }

    /// Adds the brands of another file (`--rules FILE`) to this table.
    pub fn extend(&mut self, syntax: BrandFileSyntax, origin: &str) -> Result<(), Error> {
        let rule_err = |id: &str, field: &'static str, reason: String| Error::Rule {
            path: origin.to_string(),
            id: id.to_string(),
            field,
            reason,
        };
        for g in syntax.groupings {
            let total: u32 = g.iter().map(|&x| u32::from(x)).sum();
            if g.len() < 2 || g.contains(&0) || !(12..=19).contains(&total) {
                return Err(Error::RulesFile {
                    path: origin.to_string(),
                    reason: format!("grouping {g:?}: need 2+ non-empty groups totalling 12-19"),
                });
            }
            if !self.groupings.contains(&g) {
                self.groupings.push(g);
            }
        }
        let mut seen: HashSet<String> = self.brands.iter().map(|b| b.id.to_string()).collect();
        let first_new = self.brands.len();
        for b in &syntax.brands {
            if b.id.is_empty() || !b.id.bytes().all(|c| c.is_ascii_lowercase() || c == b'_') {
                return Err(rule_err(
                    &b.id,
                    "id",
                    "lower-case letters and _ only".into(),
                ));
            }
            if !seen.insert(b.id.clone()) {
                return Err(rule_err(&b.id, "id", "duplicate id".into()));
            }
            if b.lengths.is_empty() || b.lengths.iter().any(|l| !(12..=19).contains(l)) {
                return Err(rule_err(
                    &b.id,
                    "lengths",
                    "each length must be 12-19".into(),
                ));
            }
            let lengths = b.lengths.iter().fold(0u32, |m, &l| m | (1 << l));
            if b.ranges.is_empty() {
                return Err(rule_err(&b.id, "ranges", "at least one range".into()));
            }
            let brand = self.brands.len();
            for r in &b.ranges {
                let (lo, hi) = r.split_once('-').unwrap_or((r.as_str(), r.as_str()));
                let ok = |s: &str| {
                    !s.is_empty() && s.len() <= 8 && s.bytes().all(|c| c.is_ascii_digit())
                };
                if !ok(lo) || !ok(hi) || lo.len() != hi.len() || lo > hi {
                    return Err(rule_err(
                        &b.id,
                        "ranges",
                        format!(
                            "{r:?}: expected \"PREFIX\" or \"LO-HI\" with equal-length digit prefixes, LO <= HI"
                        ),
                    ));
                }
                self.ranges.push(RangeRule {
                    prefix_len: lo.len(),
                    lo: lo.parse().unwrap_or(0),
                    hi: hi.parse().unwrap_or(0),
                    lengths,
                    brand,
                });
            }
            self.brands.push(Brand {
                id: brand_id(&b.id),
                name: b.name.clone(),
            });
        }
        // Stable sort: equal prefix lengths keep file order.
        self.ranges.sort_by_key(|r| std::cmp::Reverse(r.prefix_len));
        self.buckets = vec![Vec::new(); bucket_of(9, 9, *LENGTHS.end()) + 1];
        for r in &self.ranges {
            let (lo, hi) = r.bounds8();
            let two = |b: u32| (b / 1_000_000) as usize;
            for p in two(lo)..=two(hi) {
                for n in LENGTHS.filter(|&n| r.lengths & (1 << n) != 0) {
                    self.buckets[bucket_of(p / 10, p % 10, n)].push((lo, hi, r.brand));
                }
            }
        }
        for (i, b) in syntax.brands.iter().enumerate() {
            let idx = first_new + i;
            for e in &b.examples {
                let d = e.as_bytes();
                if !luhn_valid(d)
                    || self.lookup(d).map(|x| x as *const Brand)
                        != Some(&self.brands[idx] as *const Brand)
                {
                    return Err(rule_err(
                        &b.id,
                        "examples",
                        format!(
                            "{:?} is not accepted as this brand (Luhn-valid?)",
                            crate::mask::display_pan(d).as_str()
                        ),
                    ));
                }
            }
            for e in &b.negative_examples {
                let d = e.as_bytes();
                if !luhn_valid(d) || self.lookup(d).is_some() {
                    return Err(rule_err(
                        &b.id,
                        "negative_examples",
                        format!(
                            "{:?} must be Luhn-valid and match no brand",
                            crate::mask::display_pan(d).as_str()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The brand whose prefix range and length fit `digits`, most specific prefix first.
    pub fn lookup(&self, digits: &[u8]) -> Option<&Brand> {
        let n = digits.len();
        if !LENGTHS.contains(&n) {
            return None;
        }
        let mut head = [0u8; PREFIX_DIGITS];
        head.copy_from_slice(&digits[..PREFIX_DIGITS]);
        let prefix = eight_digits(head)?;
        let d0 = prefix / 10_000_000;
        let d1 = prefix / 1_000_000 % 10;
        self.buckets[bucket_of(d0 as usize, d1 as usize, n)]
            .iter()
            .find(|&&(lo, hi, _)| lo <= prefix && prefix <= hi)
            .map(|&(_, _, brand)| &self.brands[brand])
    }

    /// The lengths of the numbers some brand has that start with the digits `a`, `b` (each
    /// below 10): bit `n` for `n` digits. [`BrandTable::lookup`] finds no brand for any other
    /// length, whatever the digits after these two.
    pub fn lengths_after(&self, a: u8, b: u8) -> u32 {
        LENGTHS
            .filter(|&n| !self.buckets[bucket_of(usize::from(a), usize::from(b), n)].is_empty())
            .fold(0, |m, n| m | 1 << n)
    }

    /// Returns true if and only if `groups` (digit counts between separators) is a layout
    /// card numbers are written in.
    pub fn grouping_allowed(&self, groups: &[u8]) -> bool {
        self.groupings.iter().any(|g| g == groups)
    }

    /// The layouts card numbers are written in (digit counts between separators).
    pub fn groupings(&self) -> &[Vec<u8>] {
        &self.groupings
    }

    /// The brands, in file order.
    pub fn brands(&self) -> &[Brand] {
        &self.brands
    }
}

/// The value of eight ASCII digits, the first the most significant; `None` if one is not a
/// digit.
fn eight_digits(digits: [u8; 8]) -> Option<u32> {
    use crate::detect::blocks::{HI, LO, digit_lanes};
    let v = u64::from_le_bytes(digits);
    if !digit_lanes(v) & HI != 0 {
        return None;
    }
    let d = v - LO * u64::from(b'0');
    // Pairs, then quads, then the whole: each step multiplies the high half by 10^k and adds.
    let pairs = (d * 10 + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let quads = (pairs * 100 + (pairs >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some(((quads * 10_000 + (quads >> 32)) & 0xFFFF_FFFF) as u32)
}

/// `rules/keywords.json` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordsSyntax {
    /// Words that say a nearby number is a card number.
    pub pan_context: LangWords,
    /// Words that announce an expiry date.
    pub expiry: LangWords,
    /// Security-code words.
    pub cvv: CvvWordsSyntax,
    /// Key words that say a number is something else (`imei`, `order_id`).
    pub not_card_keys: Vec<String>,
}

/// Words per language.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct LangWords {
    /// English (ASCII, matched case-insensitively on word boundaries).
    #[serde(default)]
    pub en: Vec<String>,
    /// Japanese (matched as substrings).
    #[serde(default)]
    pub ja: Vec<String>,
}

/// Security-code words: `strong` ones announce a code on their own; `weak` ones (`cid`,
/// also "connection id") only next to a card number.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CvvWordsSyntax {
    /// Words that always mean a security code.
    pub strong: LangWords,
    /// Words that mean a security code only near a PAN.
    pub weak: LangWords,
    /// Three-letter pieces of the English words above, rare in ordinary logs, that the
    /// block pass looks for before it looks at short digit runs (`cvv`, `cod`, `rif`). Only
    /// speed depends on them: a word that contains none gets its first three letters.
    #[serde(default)]
    pub anchors: Vec<String>,
}

/// Longest single keyword (a word the context rules look up, not a phrase).
pub const MAX_WORD_LEN: usize = 32;

/// Lower-case keywords, looked up by a word of the text in any case. The context rules look
/// up the words around every card number found; most words of a line (`id`, `seq`, `INFO`)
/// start with a letter, or have a length, that no keyword has, and are turned down by two
/// bit tests before any hashing.
#[derive(Clone, Debug, Default)]
pub struct WordSet {
    words: HashSet<String>,
    /// Bit `i`: a keyword starts with the `i`th letter (or a byte of `i % 32`, for others).
    first: u32,
    /// Bit `n`: a keyword has `n` bytes (63 for all longer ones).
    lengths: u64,
}

impl WordSet {
    /// Adds a keyword (stored as given: lower-case it first); false if it was there.
    pub fn insert(&mut self, word: String) -> bool {
        if let Some(&b) = word.as_bytes().first() {
            self.first |= 1 << (b & 31);
        }
        self.lengths |= 1 << word.len().min(63);
        self.words.insert(word)
    }

    /// Returns true if and only if `word`, in lower case, is one of the keywords.
    pub fn contains_word(&self, word: &[u8]) -> bool {
        // ASCII letters of either case share their low five bits.
        let Some(&b) = word.first() else {
            return self.words.contains("");
        };
        if self.first >> (b & 31) & 1 == 0 || self.lengths >> word.len().min(63) & 1 == 0 {
            return false;
        }
        let mut buf = [0u8; MAX_WORD_LEN];
        let Some(lower) = buf.get_mut(..word.len()) else {
            return false;
        };
        for (l, &b) in lower.iter_mut().zip(word) {
            *l = b.to_ascii_lowercase();
        }
        std::str::from_utf8(lower).is_ok_and(|w| self.words.contains(w))
    }

    /// The keywords, in no order.
    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.words.iter()
    }
}

impl FromIterator<String> for WordSet {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> WordSet {
        let mut set = WordSet::default();
        for w in iter {
            set.insert(w);
        }
        set
    }
}

/// Checked keywords.
#[derive(Clone, Debug)]
pub struct Keywords {
    /// PAN-context words, lower-case ASCII.
    pub pan_context_en: WordSet,
    /// Multi-word English PAN-context phrases, lower-case.
    pub pan_context_phrases: Vec<String>,
    /// Japanese PAN-context words.
    pub pan_context_ja: Vec<String>,
    /// Expiry words, lower-case ASCII.
    pub expiry_en: WordSet,
    /// Multi-word English expiry phrases (`valid thru`), lower-case.
    pub expiry_phrases: Vec<String>,
    /// Japanese expiry words.
    pub expiry_ja: Vec<String>,
    /// Strong security-code words.
    pub cvv_strong: LangWords,
    /// Weak security-code words.
    pub cvv_weak: LangWords,
    /// Preferred three-letter pieces of the security-code words (see [`CvvWordsSyntax`]).
    pub cvv_anchors: Vec<String>,
    /// Not-a-card key words, lower-case.
    pub not_card_keys: WordSet,
    /// Whether every PAN-context and expiry phrase and Japanese word holds a byte that
    /// [`crate::detect::context`] calls a signal (an ASCII letter, a byte outside ASCII, or
    /// `/`): then a text with no such byte holds none of them (true of the built-in rules).
    pub context_needs_signal: bool,
}

impl Keywords {
    /// Parses and checks a keywords file.
    pub fn parse(text: &str, origin: &str) -> Result<Keywords, Error> {
        let s: KeywordsSyntax = serde_json::from_str(text).map_err(|e| Error::RulesFile {
            path: origin.to_string(),
            reason: e.to_string(),
        })?;
        let check = |words: &[String], what: &str| -> Result<(), Error> {
            match words.iter().find(|w| w.trim().is_empty()) {
                Some(_) => Err(Error::RulesFile {
                    path: origin.to_string(),
                    reason: format!("{what}: empty keyword"),
                }),
                None => Ok(()),
            }
        };
        check(&s.pan_context.en, "pan_context.en")?;
        check(&s.cvv.strong.en, "cvv.strong.en")?;
        check(&s.cvv.weak.en, "cvv.weak.en")?;
        check(&s.not_card_keys, "not_card_keys")?;
        if let Some(w) = s
            .pan_context
            .en
            .iter()
            .chain(&s.expiry.en)
            .chain(&s.not_card_keys)
            .find(|w| !w.contains(' ') && w.len() > MAX_WORD_LEN)
        {
            return Err(Error::RulesFile {
                path: origin.to_string(),
                reason: format!("{w:?} is longer than {MAX_WORD_LEN} bytes"),
            });
        }
        if let Some(a) = s
            .cvv
            .anchors
            .iter()
            .find(|a| a.len() != 3 || !a.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(Error::RulesFile {
                path: origin.to_string(),
                reason: format!("cvv.anchors: {a:?} is not three ASCII letters or digits"),
            });
        }
        let lower = |v: &[String]| v.iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>();
        // Phrases are searched for in the text; single words are looked up among its words.
        let split = |v: &[String]| -> (Vec<String>, WordSet) {
            let (phrases, words): (Vec<String>, Vec<String>) =
                lower(v).into_iter().partition(|w| w.contains(' '));
            (phrases, words.into_iter().collect())
        };
        let (phrases, words) = split(&s.pan_context.en);
        let (expiry_phrases, expiry_en) = split(&s.expiry.en);
        let context_needs_signal = (phrases.iter().chain(&expiry_phrases))
            .chain(&s.pan_context.ja)
            .chain(&s.expiry.ja)
            .all(|w| w.bytes().any(crate::detect::context::is_signal));
        Ok(Keywords {
            pan_context_en: words,
            pan_context_phrases: phrases,
            pan_context_ja: s.pan_context.ja,
            expiry_en,
            expiry_phrases,
            expiry_ja: s.expiry.ja,
            cvv_strong: s.cvv.strong,
            cvv_weak: s.cvv.weak,
            cvv_anchors: lower(&s.cvv.anchors),
            not_card_keys: lower(&s.not_card_keys).into_iter().collect(),
            context_needs_signal,
        })
    }
}

/// `rules/test_cards.json` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCardsSyntax {
    /// Where the numbers are published.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The numbers.
    pub cards: Vec<String>,
}

/// Well-known public test card numbers.
#[derive(Clone, Debug, Default)]
pub struct TestCards {
    cards: HashSet<Vec<u8>>,
    /// Bit `n` (of 1,024): a listed number ends in the three digits of `n`. Every card
    /// number found is looked up; nearly all are turned down here, without hashing.
    tails: [u64; 16],
}

/// The value of the last three digits of `digits`, if it has three.
fn tail_of(digits: &[u8]) -> Option<usize> {
    let [a, b, c] = *digits.last_chunk::<3>()?;
    Some(
        [a, b, c]
            .iter()
            .fold(0, |n, &d| n * 10 + usize::from(d.wrapping_sub(b'0') % 10)),
    )
}

impl TestCards {
    /// Parses the test-card file; every entry must pass Luhn.
    pub fn parse(text: &str, origin: &str) -> Result<TestCards, Error> {
        let s: TestCardsSyntax = serde_json::from_str(text).map_err(|e| Error::RulesFile {
            path: origin.to_string(),
            reason: e.to_string(),
        })?;
        let mut set = HashSet::new();
        for c in s.cards {
            if !luhn_valid(c.as_bytes()) {
                return Err(Error::RulesFile {
                    path: origin.to_string(),
                    reason: format!(
                        "test card {} fails Luhn",
                        crate::mask::display_pan(c.as_bytes())
                    ),
                });
            }
            set.insert(c.into_bytes());
        }
        let mut tails = [0u64; 16];
        for t in set.iter().filter_map(|c| tail_of(c)) {
            tails[t / 64] |= 1 << (t % 64);
        }
        Ok(TestCards { cards: set, tails })
    }

    /// Returns true if and only if `digits` is a listed public test number.
    pub fn contains(&self, digits: &[u8]) -> bool {
        tail_of(digits).is_none_or(|t| self.tails[t / 64] >> (t % 64) & 1 == 1)
            && self.cards.contains(digits)
    }
}

/// Every rule the detector needs.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Brands and groupings.
    pub brands: BrandTable,
    /// Context and security-code words.
    pub keywords: Keywords,
    /// Public test numbers.
    pub test_cards: TestCards,
}

impl Rules {
    /// The built-in rules.
    pub fn builtin() -> Result<Rules, Error> {
        Ok(Rules {
            brands: BrandTable::parse(BUILTIN_BRANDS, "<builtin>/rules/brands.json")?,
            keywords: Keywords::parse(BUILTIN_KEYWORDS, "<builtin>/rules/keywords.json")?,
            test_cards: TestCards::parse(BUILTIN_TEST_CARDS, "<builtin>/rules/test_cards.json")?,
        })
    }

    /// Adds the brands of an extra brand file (`--rules FILE`).
    pub fn add_brand_file(&mut self, text: &str, origin: &str) -> Result<(), Error> {
        let syntax: BrandFileSyntax = serde_json::from_str(text).map_err(|e| Error::RulesFile {
            path: origin.to_string(),
            reason: e.to_string(),
        })?;
        self.brands.extend(syntax, origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_ids_are_kept_once_per_process() {
        let a = brand_id("test_interned_brand");
        let b = brand_id(&String::from("test_interned_brand"));
        assert_eq!(a, "test_interned_brand");
        assert!(std::ptr::eq(a, b), "a second copy was made");
        // The built-in table's ids are the interned ones, however often it is loaded.
        let first = Rules::builtin().expect("built-in rules");
        let again = Rules::builtin().expect("built-in rules");
        let visa = |r: &Rules| {
            r.brands
                .brands()
                .iter()
                .find(|b| b.id == "visa")
                .map(|b| b.id)
        };
        assert!(std::ptr::eq(
            visa(&first).expect("visa"),
            visa(&again).expect("visa")
        ));
        assert!(!std::ptr::eq(brand_id("visa"), brand_id("amex")));
    }

    #[test]
    fn word_sets_find_their_words_in_any_case_and_nothing_else() {
        let set: WordSet = ["card", "pan", "cardholder", "3ds"]
            .map(String::from)
            .into_iter()
            .collect();
        for w in ["card", "CARD", "Pan", "cardHolder", "3DS"] {
            assert!(set.contains_word(w.as_bytes()), "{w}");
        }
        // Same first letter or same length as a keyword, or both, yet not one.
        for w in ["cart", "cards", "pane", "id", "par", "", "c", "xard"] {
            assert!(!set.contains_word(w.as_bytes()), "{w}");
        }
        let mut more = set.clone();
        assert!(more.insert("exp".into()));
        assert!(!more.insert("exp".into()));
        assert!(more.contains_word(b"Exp") && !set.contains_word(b"exp"));
    }

    #[test]
    fn every_listed_test_card_is_found_and_no_other_number() {
        let syntax: TestCardsSyntax = serde_json::from_str(BUILTIN_TEST_CARDS).unwrap();
        let cards = TestCards::parse(BUILTIN_TEST_CARDS, "builtin").unwrap();
        for c in &syntax.cards {
            assert!(
                cards.contains(c.as_bytes()),
                "{}",
                crate::mask::display_pan(c.as_bytes())
            );
            // The same number with another last digit, or one digit less, is not listed.
            let mut other = c.clone().into_bytes();
            let last = other.len() - 1;
            other[last] = b'0' + (other[last] - b'0' + 1) % 10;
            assert!(!cards.contains(&other));
            assert!(!cards.contains(&c.as_bytes()[..last]));
        }
        assert!(!cards.contains(b"") && !cards.contains(b"42"));
    }

    #[test]
    fn shipped_rules_pass_the_checker() {
        let r = Rules::builtin().expect("built-in rules must be valid");
        let ids: Vec<&str> = r.brands.brands().iter().map(|b| b.id).collect();
        for want in [
            "visa",
            "mastercard",
            "amex",
            "discover",
            "jcb",
            "diners",
            "unionpay",
            "maestro",
            "mir",
            "rupay",
            "elo",
            "verve",
            "troy",
        ] {
            assert!(ids.contains(&want), "missing brand {want}");
        }
    }

    #[test]
    fn keywords_the_context_rules_cannot_match_are_refused() {
        let with = |en: &str, not_card: &str| {
            let text = BUILTIN_KEYWORDS
                .replacen(r#""en": ["card","#, &format!(r#""en": [{en}, "card","#), 1)
                .replacen(
                    r#""not_card_keys": ["#,
                    &format!(r#""not_card_keys": [{not_card}"#),
                    1,
                );
            Keywords::parse(&text, "k.json")
        };
        assert!(with(r#""cardholdername""#, r#""lot", "#).is_ok());
        let long = format!("\"{}\"", "x".repeat(MAX_WORD_LEN + 1));
        assert!(with(&long, "").is_err());
        assert!(with(r#""x""#, &format!("{long}, ")).is_err());
        // A phrase is searched for as it is, whatever its length.
        let phrase = format!("\"{} number\"", "x".repeat(MAX_WORD_LEN));
        assert!(with(&phrase, "").is_ok());
        assert!(with(r#""  ""#, "").is_err());
    }

    #[test]
    fn eight_digits_parses_or_refuses() {
        assert_eq!(eight_digits(*b"00000000"), Some(0));
        assert_eq!(eight_digits(*b"12345678"), Some(12_345_678));
        assert_eq!(eight_digits(*b"99999999"), Some(99_999_999));
        for bad in [*b"1234567/", *b":2345678", *b"1234 678", *b"\xff2345678"] {
            assert_eq!(eight_digits(bad), None);
        }
    }

    /// The lookup as first written: every range of the table, most specific first.
    fn lookup_reference<'a>(t: &'a BrandTable, digits: &[u8]) -> Option<&'a Brand> {
        let n = digits.len();
        if n > 31 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        t.ranges
            .iter()
            .find(|r| {
                let p = digits[..r.prefix_len.min(n)]
                    .iter()
                    .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
                r.lengths & (1 << n) != 0 && n >= r.prefix_len && r.lo <= p && p <= r.hi
            })
            .map(|r| &t.brands[r.brand])
    }

    /// A generated number, shown masked if a case fails.
    struct Digits(String);

    impl std::fmt::Debug for Digits {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&crate::mask::scrub(self.0.as_bytes()))
        }
    }

    /// Number heads at and just past the edges of every range of the shipped table, and
    /// short prefixes that leave the rest to chance.
    fn range_edges() -> Vec<String> {
        let r = Rules::builtin().unwrap();
        let mut heads: Vec<String> = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]
            .map(String::from)
            .to_vec();
        for range in &r.brands.ranges {
            let (lo, hi) = range.bounds8();
            for edge in [lo.saturating_sub(1), lo, hi, hi + 1] {
                heads.push(format!("{edge:08}"));
                heads.push(format!("{edge:08}")[..range.prefix_len].to_string());
            }
        }
        heads
    }

    proptest::proptest! {
        #[test]
        fn lookup_matches_the_reference(
            head in proptest::sample::select(range_edges()),
            tail in proptest::strategy::Strategy::prop_map("[0-9]{0,20}", Digits),
        ) {
            let r = Rules::builtin().unwrap();
            let digits = format!("{head}{}", tail.0);
            let got = r.brands.lookup(digits.as_bytes()).map(|b| b.id);
            let want = lookup_reference(&r.brands, digits.as_bytes()).map(|b| b.id);
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn most_specific_prefix_wins() {
        let r = Rules::builtin().unwrap();
        let id = |d: &str| r.brands.lookup(d.as_bytes()).map(|b| b.id.to_string());
        assert_eq!(id("6011000990139424").as_deref(), Some("discover"));
        assert_eq!(id("6070000000000002").as_deref(), Some("rupay"));
        assert_eq!(id("5090000000000000").as_deref(), Some("elo"));
        assert_eq!(id("2221000000000009").as_deref(), Some("mastercard"));
        assert_eq!(id("2720990000000007").as_deref(), Some("mastercard"));
        assert_eq!(id("2721000000000004"), None);
        assert_eq!(id("37144963539843"), None, "14-digit 37 is not Amex");
        // A 19-digit 65 number is Discover even though Elo/RuPay own longer 65 prefixes at 16.
        assert_eq!(id("6500310000000000006").as_deref(), Some("discover"));
    }

    #[test]
    fn checker_rejects_bad_entries() {
        let bad = [
            (
                r#"{"brands":[{"id":"x","name":"X","ranges":["5-4"],"lengths":[16]}]}"#,
                "ranges",
            ),
            (
                r#"{"brands":[{"id":"x","name":"X","ranges":["4"],"lengths":[25]}]}"#,
                "lengths",
            ),
            (
                r#"{"brands":[{"id":"x","name":"X","ranges":["4"],"lengths":[16]},{"id":"x","name":"Y","ranges":["5"],"lengths":[16]}]}"#,
                "duplicate",
            ),
            (
                r#"{"brands":[{"id":"x","name":"X","ranges":["4"],"lengths":[16],"examples":["4111111111111112"]}]}"#,
                "examples",
            ),
            (
                r#"{"brands":[{"id":"x","name":"X","ranges":["4"],"lengths":[16],"colour":"red"}]}"#,
                "unknown field",
            ),
        ];
        for (text, want) in bad {
            let err = BrandTable::parse(text, "t.json").unwrap_err().to_string();
            assert!(err.contains(want), "{err} should mention {want}");
            assert!(err.contains("t.json"), "{err} should name the file");
        }
    }
}
