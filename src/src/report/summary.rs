//! The end-of-run summary: what was scanned, skipped and found. Printed on stderr in text,
//! embedded in the `json` document.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use super::{Counts, seconds};

/// Totals for one run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Files searched.
    pub files_scanned: u64,
    /// Bytes of text searched (decompressed for compressed files).
    pub bytes_scanned: u64,
    /// Paths not searched, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Paths that could not be read.
    pub errors: u64,
    /// Reported findings.
    pub findings: Counts,
    /// Reported findings that are public test cards.
    pub test_cards: u64,
    /// Reported findings that fail the run.
    pub failing: u64,
    /// Findings below `--min-confidence`, not reported.
    pub below_threshold: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Files `redact` changed.
    pub files_changed: u64,
    /// Findings on lines marked `pansweep:allow`.
    pub allowed: u64,
    /// Findings already in the `--baseline`.
    pub baselined: u64,
    /// `Some(dry_run)` for `redact`.
    pub redact: Option<bool>,
    /// Findings `redact` could not mask (inside archives).
    pub not_masked: u64,
}

impl Summary {
    /// Total reported findings.
    pub fn total_findings(&self) -> u64 {
        self.findings.by_kind.values().sum()
    }

    /// Throughput in MB/s (10^6 bytes).
    pub fn mb_per_s(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            (self.bytes_scanned as f64 / 1e6 / s * 10.0).round() / 10.0
        } else {
            0.0
        }
    }

    /// The summary as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "files_scanned": self.files_scanned,
            "bytes_scanned": self.bytes_scanned,
            "skipped": self.skipped,
            "errors": self.errors,
            "findings": self.total_findings(),
            "findings_by_kind": self.findings.by_kind,
            "findings_by_brand": self.findings.by_brand,
            "test_cards": self.test_cards,
            "failing": self.failing,
            "below_min_confidence": self.below_threshold,
            "files_changed": self.files_changed,
            "not_masked": self.not_masked,
            "allowed": self.allowed,
            "baselined": self.baselined,
            "elapsed_seconds": seconds(self.elapsed),
            "mb_per_s": self.mb_per_s(),
        })
    }

    /// The summary as text lines for stderr.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "pansweep: scanned {} file{} ({:.1} MB) in {:.3} s ({} MB/s)",
            self.files_scanned,
            if self.files_scanned == 1 { "" } else { "s" },
            self.bytes_scanned as f64 / 1e6,
            self.elapsed.as_secs_f64(),
            self.mb_per_s()
        );
        if !self.skipped.is_empty() {
            let parts: Vec<String> = self
                .skipped
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            let _ = writeln!(s, "  skipped: {}", parts.join(", "));
        }
        let total = self.total_findings();
        match self.redact {
            Some(true) => {
                let _ = writeln!(
                    s,
                    "  dry run: {total} finding(s) would be masked; nothing was written"
                );
            }
            Some(false) => {
                let _ = writeln!(
                    s,
                    "  masked: {total} finding(s) in {} file(s) changed",
                    self.files_changed
                );
                if self.not_masked > 0 {
                    let _ = writeln!(
                        s,
                        "  NOT masked: {} finding(s) inside archives (listed above)",
                        self.not_masked
                    );
                }
            }
            None => {}
        }
        let by_kind: Vec<String> = self
            .findings
            .by_kind
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            s,
            "  findings: {total}{}",
            if total > 0 {
                format!(" ({})", by_kind.join(", "))
            } else {
                String::new()
            }
        );
        if !self.findings.by_brand.is_empty() {
            let parts: Vec<String> = self
                .findings
                .by_brand
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let _ = writeln!(s, "  by brand: {}", parts.join(", "));
        }
        if self.test_cards > 0 {
            let _ = writeln!(
                s,
                "  public test cards: {} (do not fail the run unless --strict)",
                self.test_cards
            );
        }
        if self.allowed > 0 {
            let _ = writeln!(s, "  allowed by pansweep:allow comments: {}", self.allowed);
        }
        if self.baselined > 0 {
            let _ = writeln!(
                s,
                "  already in the baseline (not shown): {}",
                self.baselined
            );
        }
        if self.below_threshold > 0 {
            let _ = writeln!(
                s,
                "  below --min-confidence (not shown): {}",
                self.below_threshold
            );
        }
        if self.errors > 0 {
            let _ = writeln!(s, "  errors: {} (see messages above)", self.errors);
        }
        s
    }
}
