//! Policy: which findings are reported and which fail the run. Detection only reports;
//! this decides.

use crate::finding::Confidence;

/// What to report and what fails the gate.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Findings below this confidence are not reported.
    pub min_confidence: Confidence,
    /// Reported findings at or above this confidence fail the run (exit 1).
    pub fail_on: Confidence,
    /// Public test card numbers fail the run too.
    pub strict: bool,
    /// Public test card numbers are not reported at all.
    pub hide_test_cards: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            min_confidence: Confidence::Medium,
            fail_on: Confidence::Medium,
            strict: false,
            hide_test_cards: false,
        }
    }
}

impl Policy {
    /// Returns true if and only if a finding of this confidence is reported.
    pub fn reports(&self, confidence: Confidence) -> bool {
        confidence >= self.min_confidence
    }

    /// Returns true if and only if a reported finding fails the run.
    pub fn fails(&self, confidence: Confidence, test_card: bool) -> bool {
        self.reports(confidence) && confidence >= self.fail_on && (!test_card || self.strict)
    }
}

/// The marker that, anywhere on a line, keeps that line's findings out of reports and
/// masking (`# pansweep:allow`, `// pansweep:allow fixture`).
pub const ALLOW_MARKER: &[u8] = b"pansweep:allow";

/// Returns true if and only if the line holding byte `at` of `bytes` carries
/// [`ALLOW_MARKER`]. Looks at most 4 KiB either side.
pub fn allowed_by_comment(bytes: &[u8], at: usize) -> bool {
    let lo = at.saturating_sub(4096);
    let hi = (at + 4096).min(bytes.len());
    let start = memchr::memrchr(b'\n', &bytes[lo..at]).map_or(lo, |i| lo + i + 1);
    let end = memchr::memchr(b'\n', &bytes[at..hi]).map_or(hi, |i| at + i);
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(ALLOW_MARKER));
    FINDER.find(&bytes[start..end]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_marker_applies_to_its_own_line_only() {
        let b = b"a 4111\nb 4222 # pansweep:allow\nc 4333\n";
        assert!(!allowed_by_comment(b, 2));
        assert!(allowed_by_comment(b, 9));
        assert!(!allowed_by_comment(b, 34));
    }

    #[test]
    fn test_cards_fail_only_when_strict() {
        let p = Policy::default();
        assert!(p.fails(Confidence::Medium, false));
        assert!(!p.fails(Confidence::High, true));
        assert!(Policy { strict: true, ..p }.fails(Confidence::High, true));
        assert!(!p.reports(Confidence::Low));
        let high = Policy {
            fail_on: Confidence::High,
            ..p
        };
        assert!(!high.fails(Confidence::Medium, false));
        assert!(high.reports(Confidence::Medium));
    }
}
