//! Reporters: format findings and the summary. Format only — no reads, no decisions, no exit
//! codes. Every value shown is masked; a [`Record`] holds no raw digits.

pub mod csv;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;
pub mod text;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::finding::{Confidence, Fingerprint, Kind, Masked};
use crate::rules::BrandId;

pub use summary::Summary;

/// Where an attached security code is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CvvLocation {
    /// 1-based line.
    pub line: u64,
    /// 1-based byte column.
    pub column: u64,
    /// Bytes.
    pub length: u64,
}

/// A finding located in a file, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The path as walked, lossily decoded (shared by the records of a file).
    pub path: Arc<str>,
    /// 1-based line (decoded, decompressed text).
    pub line: u64,
    /// 1-based byte column.
    pub column: u64,
    /// Byte offset in the file (decompressed stream for compressed files).
    pub offset: u64,
    /// Bytes of the match, separators included.
    pub length: u64,
    /// What it is.
    pub kind: Kind,
    /// Brand id; `None` for a lone security code.
    pub brand: Option<BrandId>,
    /// Display form.
    pub masked: Masked,
    /// Confidence.
    pub confidence: Confidence,
    /// A public test number.
    pub test_card: bool,
    /// An attached security code.
    pub cvv: Option<CvvLocation>,
    /// Keyed, non-reversible identity.
    pub fingerprint: Fingerprint,
    /// For `--git`: the commit that added it, and that commit's author date.
    pub commit: Option<(String, String)>,
}

/// A rule decision shown by `--explain`.
#[derive(Clone, Debug)]
pub struct ExplainRecord {
    /// The path.
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based byte column.
    pub column: u64,
    /// Display form of the token.
    pub masked: Masked,
    /// Kind and confidence if accepted.
    pub accepted: Option<(Kind, Confidence)>,
    /// The deciding rule.
    pub reason: String,
}

/// One changed line for `redact --diff`: both sides already masked for display.
#[derive(Clone, Debug)]
pub struct DiffLine {
    /// The path.
    pub path: String,
    /// 1-based line of the finding.
    pub line: u64,
    /// The line as it was, card data shown as display forms in brackets.
    pub before: String,
    /// The line as written, any remaining long digit runs masked.
    pub after: String,
}

/// Formats findings for one output format.
pub trait Reporter: Send + Sync {
    /// Appends whatever starts the output (a CSV header, say).
    fn begin(&self, _out: &mut Vec<u8>) {}
    /// Appends the findings of one file (in order) to `out`.
    fn file(&self, records: &[Record], out: &mut Vec<u8>);
    /// Appends whatever ends the output (a JSON document's summary, say).
    fn finish(&self, _all: &[Record], _summary: &Summary, _out: &mut Vec<u8>) {}
    /// Returns true if and only if the reporter needs every record at the end rather than
    /// per file.
    fn collects(&self) -> bool {
        false
    }
}

/// Counts for the summary, by kind and brand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Findings per kind.
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Findings per brand.
    pub by_brand: BTreeMap<String, u64>,
}

impl Counts {
    /// Counts `records`. Tallied by the address of each kind's name and brand id first and
    /// added to the maps once per distinct key: the maps compare strings, and a digit-dense
    /// log hands over a thousand records at a time (a map update per record was ~1% of its
    /// scan).
    pub fn add_records(&mut self, records: &[Record]) {
        let (mut kinds, mut brands) = (Vec::new(), Vec::new());
        for r in records {
            tally(&mut kinds, r.kind.as_str());
            if let Some(b) = r.brand {
                tally(&mut brands, b);
            }
        }
        for (kind, n) in kinds {
            *self.by_kind.entry(kind).or_insert(0) += n;
        }
        for (b, n) in brands {
            // A brand's name is copied once, not once per finding.
            match self.by_brand.get_mut(b) {
                Some(total) => *total += n,
                None => {
                    self.by_brand.insert(b.to_string(), n);
                }
            }
        }
    }
}

/// Adds one to the entry of `key` in `counts`, found by address. Kind names and brand ids
/// are kept once per process, so each has one entry; a name at another address would only
/// get a second entry, added to the same one of the string-keyed maps.
fn tally(counts: &mut Vec<(&'static str, u64)>, key: &'static str) {
    match counts.iter_mut().find(|(k, _)| std::ptr::eq(*k, key)) {
        Some((_, n)) => *n += 1,
        None => counts.push((key, 1)),
    }
}

/// Formats a duration in seconds with millisecond precision.
pub fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: Kind, brand: Option<BrandId>) -> Record {
        Record {
            path: "a.log".into(),
            line: 1,
            column: 1,
            offset: 0,
            length: 16,
            kind,
            brand,
            masked: Masked::new(b"411111******1111"),
            confidence: Confidence::Medium,
            test_card: false,
            cvv: None,
            fingerprint: Fingerprint([0; 16]),
            commit: None,
        }
    }

    #[test]
    fn records_are_counted_as_one_count_per_record_would() {
        let visa = crate::rules::brand_id("visa");
        let amex = crate::rules::brand_id("amex");
        // The same name at another address: counted with the interned one.
        let visa_elsewhere: BrandId = Box::leak(String::from("visa").into_boxed_str());
        assert!(!std::ptr::eq(visa, visa_elsewhere));
        let records = [
            record(Kind::Pan, Some(visa)),
            record(Kind::Track2, Some(amex)),
            record(Kind::Pan, Some(visa_elsewhere)),
            record(Kind::Cvv, None),
            record(Kind::Pan, Some(visa)),
        ];
        let mut counts = Counts::default();
        counts.add_records(&records);
        // A second batch adds to the first.
        counts.add_records(&records[..2]);
        let mut expected = Counts::default();
        for r in records.iter().chain(&records[..2]) {
            *expected.by_kind.entry(r.kind.as_str()).or_insert(0) += 1;
            if let Some(b) = r.brand {
                *expected.by_brand.entry(b.to_string()).or_insert(0) += 1;
            }
        }
        assert_eq!(counts, expected);
        assert_eq!(counts.by_brand["visa"], 4);
        assert_eq!(counts.by_kind.get("track1"), None);
    }
}
