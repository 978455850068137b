//! Detection: pure functions from bytes to findings. No files, no stderr, no clock, no
//! threads.
//!
//! Two stages. [`candidates`] finds maximal number tokens cheaply; each is then confirmed
//! by [`lookalike`] (the bytes around it), the Luhn check, the brand table and the group
//! layout, and scored by [`context`]. Security codes ([`cvv`]) are attached to the nearest
//! card number within the window or reported alone; [`track`] recognises magnetic-stripe data.

pub mod anchors;
pub mod blocks;
pub mod candidates;
pub mod context;
pub mod cvv;
pub mod lines;
pub mod lookalike;
pub mod luhn;
pub mod table;
pub mod track;

use crate::error::Error;
use crate::finding::{Confidence, Finding, Kind, Masked, Span};
use crate::fingerprint::Key;
use crate::mask;
use crate::rules::{Brand, BrandId, Rules};

use anchors::Anchors;
use candidates::{Candidate, Shapes, for_each_relevant_token, for_each_token};
use cvv::{CodeMatch, CvvMatcher};
use lines::BlockNewlines;
use table::TableHeader;

/// How far (in bytes) a security code may be from the card number it belongs to. Codes are
/// attached only on the number's own line or the line just before or after it.
pub const CVV_WINDOW: usize = 512;

/// Bytes of context a detector needs on each side of a finding to decide it the same way
/// wherever a buffer is split: keyword look-back, the CVV window and the longest track.
pub const CONTEXT: usize = 2 * CVV_WINDOW + 128;

/// What the detector decided about one number token, for `--explain`.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The token, separators included.
    pub span: Span,
    /// Its display form.
    pub masked: Masked,
    /// The kind and confidence it was accepted with, or `None` if it was rejected.
    pub accepted: Option<(Kind, Confidence)>,
    /// The rule that decided.
    pub reason: String,
}

/// The detector: rules compiled once, then applied to any number of buffers.
#[derive(Clone, Debug)]
pub struct Detector {
    rules: Rules,
    cvv: CvvMatcher,
    key: Key,
    /// The token shapes the brand table allows, for the block pass.
    shapes: Shapes,
    /// Pieces of the security-code keywords, for the block pass (`None`: some keyword has
    /// no piece to look for, and every short digit run is checked).
    anchors: Option<Anchors>,
}

/// How many digits the security code of a card of `brand` has: American Express prints a
/// 4-digit CID on the card's front, other brands a 3-digit code on the back.
fn code_digits(brand: BrandId) -> usize {
    if brand == "amex" { 4 } else { 3 }
}

/// Fewest digits of a card number (ISO/IEC 7812 allows 8 to 19, but no brand in use issues
/// fewer than 13, and 12-digit numbers are everywhere in logs).
const MIN_PAN_DIGITS: usize = 13;

/// Why a token is not a card number. Formatted only for `--explain`: rejections are the
/// common case (a 13-digit epoch timestamp every line), so they must not allocate.
#[derive(Clone, Copy, Debug)]
enum Reject {
    /// A fixed rule.
    Rule(&'static str),
    /// More digits than any card number has.
    TooLong(usize),
    /// No brand has this prefix with this many digits.
    NoBrand(usize),
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reject::Rule(r) => f.write_str(r),
            Reject::TooLong(n) => write!(f, "{n} digits: longer than any card number"),
            Reject::NoBrand(n) => write!(f, "no brand has this prefix with {n} digits"),
        }
    }
}

/// What is known about the whole document a buffer belongs to: its first line, read as a
/// table header (a security-code column) only once a card number needs it, so that the
/// many files without one pay nothing.
#[derive(Clone, Debug, Default)]
pub struct Document {
    first_line: Vec<u8>,
    table: std::sync::OnceLock<Option<TableHeader>>,
}

/// Longest first line kept for reading as a table header.
const HEADER_MAX: usize = 8 << 10;

impl Document {
    /// The header of a delimited file, when it has a security-code column.
    fn table(&self, kw: &crate::rules::Keywords) -> Option<&TableHeader> {
        self.table
            .get_or_init(|| table::csv_header(&self.first_line, kw))
            .as_ref()
    }
}

/// A confirmed PAN before security codes are attached.
struct PanHit {
    kind: Kind,
    span: Span,
    region: Span,
    brand: BrandId,
    digits: ([u8; candidates::MAX_DIGITS], usize),
    test_card: bool,
    base: (Confidence, &'static str),
    cvv: Option<CodeMatch>,
    /// The code found by position ([`Detector::table_code`]), looked for when the hit is
    /// made: its line is in the cache then, not after the whole chunk has been searched.
    table_code: Option<Span>,
}

/// How [`Detector::run`] finds the number tokens.
enum Pass<'a> {
    /// Every digit run, one by one: the reference, and what `--explain` needs.
    Exhaustive,
    /// The block pass, which skips what cannot hold a finding, counting newlines on the way.
    Blocks(&'a mut BlockNewlines),
}

impl Detector {
    /// Compiles the rules; `key` makes the fingerprints.
    pub fn new(rules: Rules, key: Key) -> Result<Detector, Error> {
        let cvv = CvvMatcher::new(&rules.keywords).map_err(|e| Error::RulesFile {
            path: "keywords".into(),
            reason: e.to_string(),
        })?;
        let shapes = Shapes::new(MIN_PAN_DIGITS, rules.brands.groupings())
            .luhn_valid_plain(|a, b| rules.brands.lengths_after(a, b));
        let anchors = Anchors::of_keywords(&rules.keywords);
        Ok(Detector {
            rules,
            cvv,
            key,
            shapes,
            anchors,
        })
    }

    /// The rules this detector applies.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The key its fingerprints are made with.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Every finding in `bytes`, ordered by start offset.
    pub fn find(&self, bytes: &[u8]) -> Vec<Finding> {
        self.find_in(bytes, &Document::default())
    }

    /// Every finding in `bytes`, a part of a document described by `doc`.
    pub fn find_in(&self, bytes: &[u8], doc: &Document) -> Vec<Finding> {
        self.find_counting_lines(bytes, doc, &mut BlockNewlines::default())
    }

    /// [`Detector::find_in`], keeping the newlines of each block of `bytes` in `newlines`,
    /// counted on the way: numbering the findings' lines need not read `bytes` again.
    pub fn find_counting_lines(
        &self,
        bytes: &[u8],
        doc: &Document,
        newlines: &mut BlockNewlines,
    ) -> Vec<Finding> {
        self.run(bytes, doc, None, Pass::Blocks(newlines))
    }

    /// The same as [`Detector::find_in`], but visiting every digit run instead of skipping
    /// the blocks that cannot hold a finding: the reference the fast path is tested and
    /// fuzzed against.
    pub fn find_exhaustive(&self, bytes: &[u8], doc: &Document) -> Vec<Finding> {
        self.run(bytes, doc, None, Pass::Exhaustive)
    }

    /// Every finding, plus a verdict for every number token of 12 or more digits.
    pub fn explain(&self, bytes: &[u8], doc: &Document) -> (Vec<Finding>, Vec<Verdict>) {
        let mut verdicts = Vec::new();
        // Every token, not only those of a card's shape: the verdicts say why the others fail.
        let findings = self.run(bytes, doc, Some(&mut verdicts), Pass::Exhaustive);
        (findings, verdicts)
    }

    /// What a document's first line says about the rest of it (a CSV header with a
    /// security-code column).
    pub fn document(&self, first_line: &[u8]) -> Document {
        Document {
            first_line: first_line[..first_line.len().min(HEADER_MAX)].to_vec(),
            table: std::sync::OnceLock::new(),
        }
    }

    fn run(
        &self,
        bytes: &[u8],
        doc: &Document,
        mut trace: Option<&mut Vec<Verdict>>,
        pass: Pass<'_>,
    ) -> Vec<Finding> {
        let mut pans: Vec<PanHit> = Vec::new();
        let mut codes: Vec<CodeMatch> = Vec::new();
        let on_short = |span| codes.extend(self.cvv.code_at(bytes, span));
        let on_number = |c: Candidate| {
            // Most long numbers fail a test of their digits alone (nine in ten the Luhn
            // check), which costs less than the context rules `judge` applies first (they
            // decide the reason `--explain` shows).
            let brand = self.brand_of_digits(&c);
            if trace.is_none() && brand.is_none() {
                return;
            }
            let outcome = self.judge(bytes, &c, brand);
            if let Some(t) = trace.as_deref_mut() {
                t.push(Verdict {
                    span: c.span,
                    masked: c.masked(),
                    accepted: outcome.as_ref().ok().map(|h| (h.kind, h.base.0)),
                    reason: match &outcome {
                        Ok(h) => h.base.1.to_string(),
                        Err(r) => r.to_string(),
                    },
                });
            }
            if let Ok(mut hit) = outcome {
                hit.table_code = self.table_code(bytes, doc, hit.span);
                pans.push(hit);
            }
        };
        match pass {
            Pass::Exhaustive => for_each_token(bytes, on_number, on_short),
            Pass::Blocks(newlines) => {
                let is_code = |span| self.cvv.code_at(bytes, span).is_some();
                for_each_relevant_token(
                    bytes,
                    &self.shapes,
                    self.anchors.as_ref(),
                    is_code,
                    on_number,
                    on_short,
                    newlines,
                );
            }
        }
        let lone = self.attach_codes(bytes, codes, &mut pans);
        self.attach_table_codes(&mut pans);
        // Not collected in place: a finding is smaller than a hit, and shrinking the buffer
        // copied it (realloc) on every chunk with findings.
        let mut out: Vec<Finding> = Vec::with_capacity(pans.len() + lone.len());
        let fingerprints = {
            let digits: Vec<&[u8]> = pans.iter().map(|p| &p.digits.0[..p.digits.1]).collect();
            self.key.fingerprints("pan", &digits)
        };
        out.extend(
            pans.into_iter()
                .enumerate()
                .map(|(i, p)| self.finish(p, fingerprints[i])),
        );
        for code in lone {
            let digits = &bytes[code.code.start..code.code.end];
            out.push(Finding {
                kind: Kind::Cvv,
                span: code.code,
                region: code.code,
                brand: None,
                masked: mask::display_code(digits_in(bytes, code.code)),
                confidence: Confidence::Medium,
                test_card: false,
                cvv: None,
                fingerprint: self.key.fingerprint("cvv", digits),
                reason: "security-code keyword with no card number near it",
            });
        }
        out.sort_by_key(|f| f.span.start);
        out
    }

    /// The tests of [`Detector::judge`] on the digits alone, cheapest first: length, Luhn,
    /// brand table. The brand of a token that passes them; `None` only when `judge` would
    /// reject the token.
    #[inline]
    fn brand_of_digits(&self, c: &Candidate) -> Option<&Brand> {
        if c.ndigits < MIN_PAN_DIGITS || !c.passes_luhn() {
            return None;
        }
        self.rules.brands.lookup(c.digits()?)
    }

    /// Decides whether one token is a PAN; `Err` holds the rejecting rule. `brand`: what
    /// [`Detector::brand_of_digits`] gave.
    fn judge(&self, bytes: &[u8], c: &Candidate, brand: Option<&Brand>) -> Result<PanHit, Reject> {
        let track = if c.sep.is_none() && (13..=19).contains(&c.ndigits) {
            track::track_around(bytes, c.span)
        } else {
            None
        };
        let boundary = match track {
            Some((Kind::Track1, _)) => None,
            Some(_) => lookalike::before_rejection(bytes, c.span),
            None => lookalike::boundary_rejection(bytes, c.span),
        };
        if let Some(r) = boundary {
            return Err(Reject::Rule(r));
        }
        if c.ndigits < MIN_PAN_DIGITS {
            return Err(Reject::Rule("shorter than 13 digits"));
        }
        let Some(digits) = c.digits() else {
            return Err(Reject::TooLong(c.ndigits));
        };
        let grouped = c.sep.is_some();
        if grouped
            && !c
                .groups()
                .is_some_and(|g| self.rules.brands.grouping_allowed(g))
        {
            return Err(Reject::Rule(
                "digit groups are not a card layout (e.g. 4-4-4-4, 4-6-5)",
            ));
        }
        let Some(brand) = brand else {
            return Err(if c.passes_luhn() {
                Reject::NoBrand(digits.len())
            } else {
                Reject::Rule("fails the Luhn check")
            });
        };
        let mut buf = [0u8; candidates::MAX_DIGITS];
        buf[..digits.len()].copy_from_slice(digits);
        let (kind, region) = track.unwrap_or((Kind::Pan, c.span));
        // Evidence written with the number (layout, expiry) outranks the key's name; the key
        // outranks card words elsewhere on the line.
        let kw = &self.rules.keywords;
        let around = context::Around::of(bytes, c.span);
        let base = if kind != Kind::Pan {
            (Confidence::High, "magnetic-stripe track data")
        } else if grouped {
            (Confidence::High, "written in card-style groups")
        } else if around.expiry_after(kw) {
            (Confidence::High, "expiry date after it")
        } else if around.may_have_key_words()
            && lookalike::has_not_card_key(bytes, c.span.start, kw)
        {
            (
                Confidence::Low,
                "Luhn and brand pass, but its key names something else (id, imei, …)",
            )
        } else if around.card_words_before(kw) {
            (Confidence::High, "card words before it")
        } else {
            (Confidence::Medium, "Luhn and brand table pass, no context")
        };
        Ok(PanHit {
            kind,
            span: c.span,
            region,
            brand: brand.id,
            digits: (buf, digits.len()),
            test_card: self.rules.test_cards.contains(digits),
            base,
            cvv: None,
            table_code: None,
        })
    }

    /// Attaches each security code to the best card number in its window; returns the codes
    /// that stand alone.
    fn attach_codes(
        &self,
        bytes: &[u8],
        codes: Vec<CodeMatch>,
        pans: &mut [PanHit],
    ) -> Vec<CodeMatch> {
        let mut lone = Vec::new();
        for code in codes {
            // Only PANs within the window can take the code. PANs come in offset order and do
            // not overlap, so their region ends are sorted too.
            let (first, last) = neighbour_lines(bytes, code.code);
            let lo = pans.partition_point(|p| p.region.end <= first);
            let hi = pans.partition_point(|p| p.region.start < last);
            let near = lo..hi.max(lo);
            // Skip codes inside a PAN or track (`=2512101…` has no keyword, but be safe).
            if pans[near.clone()]
                .iter()
                .any(|p| p.region.start <= code.code.start && code.code.end <= p.region.end)
            {
                continue;
            }
            let mut best: Option<(usize, (usize, bool, usize))> = None;
            for (i, p) in pans.iter().enumerate().skip(near.start).take(near.len()) {
                let Some(rank) = window_rank(bytes, p.region, code.keyword, code.code) else {
                    continue;
                };
                let want = code_digits(p.brand);
                if digits_in(bytes, code.code) != want {
                    continue;
                }
                if best.is_none_or(|(_, r)| rank < r) {
                    best = Some((i, rank));
                }
            }
            match best {
                Some((i, rank)) => {
                    let replace = match pans[i].cvv {
                        None => true,
                        Some(old) => window_rank(bytes, pans[i].region, old.keyword, old.code)
                            .is_none_or(|r| rank < r),
                    };
                    if replace {
                        if let Some(old) = pans[i].cvv.replace(code)
                            && old.strong
                        {
                            lone.push(old);
                        }
                    } else if code.strong {
                        lone.push(code);
                    }
                }
                None if code.strong => lone.push(code),
                None => {}
            }
        }
        lone.sort_by_key(|c| c.code.start);
        lone
    }

    /// Attaches security codes found by position: the CSV code column, or the SQL column
    /// list of an `INSERT`.
    fn attach_table_codes(&self, pans: &mut [PanHit]) {
        for p in pans.iter_mut().filter(|p| p.cvv.is_none()) {
            let want = code_digits(p.brand);
            if let Some(c) = p.table_code.filter(|c| c.len() == want) {
                p.cvv = Some(CodeMatch {
                    keyword: c,
                    code: c,
                    strong: true,
                });
            }
        }
    }

    /// The security code of the table row holding the card number at `pan`: the CSV code
    /// column, or the SQL column list of an `INSERT`.
    fn table_code(&self, bytes: &[u8], doc: &Document, pan: Span) -> Option<Span> {
        match doc.table(&self.rules.keywords) {
            Some(h) => table::csv_code(bytes, pan, h),
            None => None,
        }
        .or_else(|| table::sql_code(bytes, pan, &self.rules.keywords))
    }

    /// The finding of a confirmed number, `fingerprint` the one of its digits.
    fn finish(&self, p: PanHit, fingerprint: crate::finding::Fingerprint) -> Finding {
        let digits = &p.digits.0[..p.digits.1];
        let (confidence, reason) = if p.cvv.is_some() && p.kind == Kind::Pan {
            (Confidence::High, "security code nearby")
        } else {
            p.base
        };
        Finding {
            kind: p.kind,
            span: p.span,
            region: p.region,
            brand: Some(p.brand),
            masked: mask::display_pan(digits),
            confidence,
            test_card: p.test_card,
            cvv: p.cvv.map(|c| c.code),
            fingerprint,
            reason,
        }
    }
}

/// The number of digits (ASCII or full-width) in `span`.
pub fn digits_in(bytes: &[u8], span: Span) -> usize {
    let mut i = span.start;
    let mut n = 0;
    while i < span.end {
        match candidates::digit_at(bytes, i) {
            Some((_, w)) => {
                n += 1;
                i += w;
            }
            None => i += 1,
        }
    }
    n
}

/// How well a code at `code` fits the card number at `pan`, smaller is better:
/// (lines apart, code before the number, bytes apart). `None` when outside the window.
fn window_rank(bytes: &[u8], pan: Span, keyword: Span, code: Span) -> Option<(usize, bool, usize)> {
    let (lo, hi, before) = if code.start >= pan.end {
        (pan.end, keyword.start.max(pan.end), false)
    } else if code.end <= pan.start {
        (code.end, pan.start, true)
    } else {
        return None;
    };
    let gap = hi.saturating_sub(lo);
    if gap > CVV_WINDOW {
        return None;
    }
    let lines = memchr::memchr_iter(b'\n', &bytes[lo..hi]).take(2).count();
    (lines <= 1).then_some((lines, before, gap))
}

/// The start of the line before `span`'s line and the end of the line after it, each at
/// most [`CVV_WINDOW`] bytes away: the stretch in which a code may find its card number.
fn neighbour_lines(bytes: &[u8], span: Span) -> (usize, usize) {
    let lo = span.start.saturating_sub(CVV_WINDOW);
    let hi = (span.end + CVV_WINDOW).min(bytes.len());
    let mut nl_before = memchr::memrchr_iter(b'\n', &bytes[lo..span.start])
        .take(2)
        .map(|i| lo + i);
    let first = match (nl_before.next(), nl_before.next()) {
        (Some(_), Some(second)) => second + 1,
        _ => lo,
    };
    let mut nl_after = memchr::memchr_iter(b'\n', &bytes[span.end..hi])
        .take(2)
        .map(|i| span.end + i);
    let last = match (nl_after.next(), nl_after.next()) {
        (Some(_), Some(second)) => second,
        _ => hi,
    };
    (first, last)
}
