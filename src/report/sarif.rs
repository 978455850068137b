//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers: a rule per kind, a result
//! per finding with the masked value only, and `partialFingerprints` from the keyed
//! fingerprint so alerts track a finding across commits.

use serde_json::{Value, json};

use super::{Record, Reporter, Summary};
use crate::finding::{Confidence, Kind};

/// The SARIF reporter.
pub struct SarifReporter;

/// (rule id, name, short description, help text) per kind.
const RULES: [(Kind, &str, &str, &str); 4] = [
    (
        Kind::Pan,
        "CardNumber",
        "Payment card number (PAN) stored in clear",
        "PCI DSS requirement 3.5: a stored PAN must be unreadable (masked, truncated, tokenised or encrypted). Remove it, or mask it with `pansweep redact`.",
    ),
    (
        Kind::Track1,
        "MagneticStripeTrack1",
        "Magnetic-stripe Track 1 data",
        "PCI DSS requirement 3.3.1.1: full track data must not be stored after authorisation. Remove it.",
    ),
    (
        Kind::Track2,
        "MagneticStripeTrack2",
        "Magnetic-stripe Track 2 data",
        "PCI DSS requirement 3.3.1.1: full track data must not be stored after authorisation. Remove it.",
    ),
    (
        Kind::Cvv,
        "CardSecurityCode",
        "Card security code (CVV2/CVC2/CID)",
        "PCI DSS requirement 3.3.1.2: the card verification code must not be stored after authorisation. Remove it.",
    ),
];

/// A relative path as a SARIF artifact URI (forward slashes, no leading `./`).
fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.trim_start_matches("./");
    if p.starts_with('/') {
        format!("file://{p}")
    } else {
        p.to_string()
    }
}

/// The SARIF document for `all`.
pub fn document(all: &[Record], _summary: &Summary) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(k, name, short, help)| {
            json!({
                "id": k.as_str(),
                "name": name,
                "shortDescription": {"text": short},
                "fullDescription": {"text": short},
                "help": {"text": help},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "pci-dss", "card-data"], "precision": "high"},
            })
        })
        .collect();
    let results: Vec<Value> = all
        .iter()
        .map(|r| {
            let index = RULES.iter().position(|x| x.0 == r.kind).unwrap_or(0);
            let level = if r.test_card || r.confidence == Confidence::Low { "note" } else { "error" };
            let what = match r.kind {
                Kind::Cvv => format!("Card security code {} stored in clear", r.masked),
                k => format!(
                    "{} {} {} stored in clear ({} confidence{})",
                    r.brand.unwrap_or("card"),
                    if k == Kind::Pan { "card number" } else { k.as_str() },
                    r.masked,
                    r.confidence.as_str(),
                    if r.test_card { ", public test card" } else { "" }
                ),
            };
            let mut result = json!({
                "ruleId": r.kind.as_str(),
                "ruleIndex": index,
                "level": level,
                "message": {"text": what},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&r.path)},
                        "region": {"startLine": r.line, "byteOffset": r.offset, "byteLength": r.length},
                    }
                }],
                "partialFingerprints": {"pansweep/v1": r.fingerprint.to_string()},
                "properties": {
                    "brand": r.brand,
                    "confidence": r.confidence.as_str(),
                    "testCard": r.test_card,
                },
            });
            if let Some((commit, date)) = &r.commit {
                result["properties"]["commit"] = json!(commit);
                result["properties"]["date"] = json!(date);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pansweep",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

impl Reporter for SarifReporter {
    fn file(&self, _records: &[Record], _out: &mut Vec<u8>) {}

    fn collects(&self) -> bool {
        true
    }

    fn finish(&self, all: &[Record], summary: &Summary, out: &mut Vec<u8>) {
        if serde_json::to_writer_pretty(&mut *out, &document(all, summary)).is_ok() {
            out.push(b'\n');
        }
    }
}
