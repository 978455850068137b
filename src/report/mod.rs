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

/// Formats a duration in seconds with millisecond precision.
pub fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}
