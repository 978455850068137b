//! JSON Lines (`jsonl`: one object per finding) and JSON (`json`: one document with the
//! findings and the summary).

use std::sync::Arc;

use serde::Serialize;

use super::{Record, Reporter, Summary};
use crate::finding::Fingerprint;

/// The JSON shape of one finding; field names are part of the interface.
#[derive(Serialize)]
pub struct RecordJson<'a> {
    path: &'a str,
    line: u64,
    column: u64,
    offset: u64,
    length: u64,
    kind: &'static str,
    brand: Option<&'a str>,
    masked: &'a str,
    confidence: &'static str,
    test_card: bool,
    cvv: Option<CvvJson>,
    #[serde(serialize_with = "as_display")]
    fingerprint: &'a Fingerprint,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
}

#[derive(Serialize)]
struct CvvJson {
    line: u64,
    column: u64,
    length: u64,
}

impl<'a> From<&'a Record> for RecordJson<'a> {
    fn from(r: &'a Record) -> RecordJson<'a> {
        RecordJson {
            path: &r.path,
            line: r.line,
            column: r.column,
            offset: r.offset,
            length: r.length,
            kind: r.kind.as_str(),
            brand: r.brand,
            masked: r.masked.as_str(),
            confidence: r.confidence.as_str(),
            test_card: r.test_card,
            cvv: r.cvv.map(|c| CvvJson {
                line: c.line,
                column: c.column,
                length: c.length,
            }),
            fingerprint: &r.fingerprint,
            commit: r.commit.as_ref().map(|c| c.0.as_str()),
            date: r.commit.as_ref().map(|c| c.1.as_str()),
        }
    }
}

/// Serializes a value as the string its `Display` writes, without building that string.
fn as_display<S: serde::Serializer>(v: &impl std::fmt::Display, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// One JSON object per line.
pub struct JsonlReporter;

impl Reporter for JsonlReporter {
    fn file(&self, records: &[Record], out: &mut Vec<u8>) {
        // The records of a file share their path: it is quoted once.
        let mut path: Option<(&Arc<str>, Vec<u8>)> = None;
        for r in records {
            if !path.as_ref().is_some_and(|(p, _)| Arc::ptr_eq(p, &r.path)) {
                let mut quoted = Vec::new();
                json_string(&mut quoted, &r.path);
                path = Some((&r.path, quoted));
            }
            if let Some((_, quoted)) = &path {
                write_line(r, quoted, out);
            }
        }
    }
}

/// Writes `r` as the line `serde_json` writes for its [`RecordJson`] (the tests hold the two
/// to the same bytes), `path` being its path already quoted. A digit-dense log can hold a
/// finding per line; serialized field by field, with every key escaped again for each one,
/// the report took more time than finding them.
fn write_line(r: &Record, path: &[u8], out: &mut Vec<u8>) {
    let number = |out: &mut Vec<u8>, key: &[u8], n: u64| {
        out.extend_from_slice(key);
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    };
    out.extend_from_slice(b"{\"path\":");
    out.extend_from_slice(path);
    number(out, b",\"line\":", r.line);
    number(out, b",\"column\":", r.column);
    number(out, b",\"offset\":", r.offset);
    number(out, b",\"length\":", r.length);
    // Kinds, confidences and fingerprints are lower-case letters and digits: nothing to
    // escape.
    let plain = |out: &mut Vec<u8>, key: &[u8], s: &[u8]| {
        out.extend_from_slice(key);
        out.extend_from_slice(s);
        out.push(b'"');
    };
    plain(out, b",\"kind\":\"", r.kind.as_str().as_bytes());
    // So are masked forms (digits and `*`) and the brand ids the rules allow (lower-case
    // letters and `_`), checked as they are short.
    match &r.brand {
        Some(b) if b.bytes().all(|c| c.is_ascii_lowercase() || c == b'_') => {
            plain(out, b",\"brand\":\"", b.as_bytes());
        }
        Some(b) => {
            out.extend_from_slice(b",\"brand\":");
            json_string(out, b);
        }
        None => out.extend_from_slice(b",\"brand\":null"),
    }
    plain(out, b",\"masked\":\"", r.masked.as_bytes());
    plain(out, b",\"confidence\":\"", r.confidence.as_str().as_bytes());
    out.extend_from_slice(if r.test_card {
        b",\"test_card\":true,\"cvv\":"
    } else {
        b",\"test_card\":false,\"cvv\":"
    });
    match r.cvv {
        Some(c) => {
            number(out, b"{\"line\":", c.line);
            number(out, b",\"column\":", c.column);
            number(out, b",\"length\":", c.length);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    plain(out, b",\"fingerprint\":\"", &r.fingerprint.hex());
    if let Some((commit, date)) = &r.commit {
        out.extend_from_slice(b",\"commit\":");
        json_string(out, commit);
        out.extend_from_slice(b",\"date\":");
        json_string(out, date);
    }
    out.extend_from_slice(b"}\n");
}

/// Writes `s` as a JSON string, quoted and escaped by `serde_json`.
fn json_string(out: &mut Vec<u8>, s: &str) {
    // Writing to memory cannot fail.
    let _ = serde_json::to_writer(out, s);
}

/// One JSON document: `{"findings": [...], "summary": {...}}`.
pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn file(&self, _records: &[Record], _out: &mut Vec<u8>) {}

    fn collects(&self) -> bool {
        true
    }

    fn finish(&self, all: &[Record], summary: &Summary, out: &mut Vec<u8>) {
        let doc = serde_json::json!({
            "findings": all.iter().map(RecordJson::from).collect::<Vec<_>>(),
            "summary": summary.to_json(),
        });
        if serde_json::to_writer_pretty(&mut *out, &doc).is_ok() {
            out.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Confidence, Kind, Masked};
    use crate::report::CvvLocation;
    use proptest::prelude::*;

    fn record() -> impl Strategy<Value = Record> {
        let kinds = [Kind::Pan, Kind::Track1, Kind::Track2, Kind::Cvv];
        let levels = [Confidence::Low, Confidence::Medium, Confidence::High];
        (
            (
                ".{0,30}",
                any::<[u64; 4]>(),
                prop::sample::select(kinds.to_vec()),
            ),
            (
                prop::option::of("[a-z_\"\\\\\u{7f}\u{1}é]{0,8}"),
                "[0-9*]{0,19}",
                prop::sample::select(levels.to_vec()),
                any::<bool>(),
            ),
            (
                prop::option::of(any::<[u64; 3]>()),
                any::<[u8; 16]>(),
                prop::option::of(("[0-9a-f]{0,40}", ".{0,25}")),
            ),
        )
            .prop_map(
                |((path, n, kind), (brand, masked, confidence, test_card), (cvv, fp, commit))| {
                    Record {
                        path: path.into(),
                        line: n[0],
                        column: n[1],
                        offset: n[2],
                        length: n[3],
                        kind,
                        brand: brand.as_deref().map(crate::rules::brand_id),
                        masked: Masked::new(masked.as_bytes()),
                        confidence,
                        test_card,
                        cvv: cvv.map(|[line, column, length]| CvvLocation {
                            line,
                            column,
                            length,
                        }),
                        fingerprint: crate::finding::Fingerprint(fp),
                        commit,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn lines_are_what_serde_json_writes(
            mut records in prop::collection::vec(record(), 0..6),
            shared in any::<u8>(),
        ) {
            // Records of one file share their path.
            for i in 1..records.len() {
                if shared >> i & 1 == 1 {
                    records[i].path = Arc::clone(&records[0].path);
                }
            }
            let mut fast = Vec::new();
            JsonlReporter.file(&records, &mut fast);
            let mut reference = Vec::new();
            for r in &records {
                serde_json::to_writer(&mut reference, &RecordJson::from(r)).unwrap();
                reference.push(b'\n');
            }
            // Shown with digits hidden, should they read as a card number.
            let hide = |b: &[u8]| String::from_utf8_lossy(b).replace(|c: char| c.is_ascii_digit(), "#");
            prop_assert!(fast == reference, "{} != {}", hide(&fast), hide(&reference));
        }
    }
}
