//! JSON Lines (`jsonl`: one object per finding) and JSON (`json`: one document with the
//! findings and the summary).

use serde::Serialize;

use super::{Record, Reporter, Summary};

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
    fingerprint: String,
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
            brand: r.brand.as_deref(),
            masked: r.masked.as_str(),
            confidence: r.confidence.as_str(),
            test_card: r.test_card,
            cvv: r.cvv.map(|c| CvvJson {
                line: c.line,
                column: c.column,
                length: c.length,
            }),
            fingerprint: r.fingerprint.to_string(),
            commit: r.commit.as_ref().map(|c| c.0.as_str()),
            date: r.commit.as_ref().map(|c| c.1.as_str()),
        }
    }
}

/// One JSON object per line.
pub struct JsonlReporter;

impl Reporter for JsonlReporter {
    fn file(&self, records: &[Record], out: &mut Vec<u8>) {
        for r in records {
            // Serializing plain structs of strings and numbers cannot fail.
            if serde_json::to_writer(&mut *out, &RecordJson::from(r)).is_ok() {
                out.push(b'\n');
            }
        }
    }
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
