//! Baselines: a file of findings already known, so a CI gate reports only new ones.
//!
//! An entry is `(path, kind, fingerprint)` plus the masked display form for reviewers: no line
//! number, so it survives lines moving, and no digest an attacker could brute-force, because
//! the fingerprint is a keyed hash (see [`crate::fingerprint`]). The file records which key
//! made it (`key_id`, itself a keyed hash of a constant) so a baseline read with another key
//! is an error rather than a silent "everything is new".

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::fingerprint::Key;
use crate::report::Record;

/// The baseline file format.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineSyntax {
    /// Format version, 1.
    pub pansweep_baseline: u32,
    /// Identifies the fingerprint key the entries were made with.
    pub key_id: String,
    /// Known findings.
    pub findings: Vec<EntrySyntax>,
}

/// One known finding.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct EntrySyntax {
    /// Path, without a leading `./`.
    pub path: String,
    /// `pan`, `track1`, `track2` or `cvv`.
    pub kind: String,
    /// Keyed fingerprint.
    pub fingerprint: String,
    /// Display form, for people reviewing the file.
    pub masked: String,
}

/// A loaded baseline.
#[derive(Debug, Default)]
pub struct Baseline {
    known: HashSet<(String, String, String)>,
}

/// The id of a key: a keyed hash of a constant, which says nothing about the key.
pub fn key_id(key: &Key) -> String {
    key.fingerprint("key-id", b"pansweep baseline").to_string()
}

fn normal(path: &str) -> String {
    path.trim_start_matches("./").replace('\\', "/")
}

impl Baseline {
    /// Reads a baseline written with `key`.
    pub fn load(path: &Path, key: &Key) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path)?;
        let b: BaselineSyntax = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not a pansweep baseline: {e}", path.display()))?;
        if b.pansweep_baseline != 1 {
            anyhow::bail!(
                "{}: baseline version {} (this pansweep reads 1)",
                path.display(),
                b.pansweep_baseline
            );
        }
        if b.key_id != key_id(key) {
            anyhow::bail!(
                "{}: written with another fingerprint key; set {} to the key used then",
                path.display(),
                crate::fingerprint::KEY_ENV
            );
        }
        Ok(Baseline {
            known: b
                .findings
                .into_iter()
                .map(|e| (normal(&e.path), e.kind, e.fingerprint))
                .collect(),
        })
    }

    /// Returns true if and only if `r` is already known.
    pub fn contains(&self, r: &Record) -> bool {
        self.known.contains(&(
            normal(&r.path),
            r.kind.as_str().to_string(),
            r.fingerprint.to_string(),
        ))
    }

    /// The baseline of `records`, as JSON text.
    pub fn render(records: &[Record], key: &Key) -> String {
        let mut findings: Vec<EntrySyntax> = records
            .iter()
            .map(|r| EntrySyntax {
                path: normal(&r.path),
                kind: r.kind.as_str().to_string(),
                fingerprint: r.fingerprint.to_string(),
                masked: r.masked.to_string(),
            })
            .collect();
        findings.sort();
        findings.dedup();
        let b = BaselineSyntax {
            pansweep_baseline: 1,
            key_id: key_id(key),
            findings,
        };
        serde_json::to_string_pretty(&b).unwrap_or_default() + "\n"
    }
}
