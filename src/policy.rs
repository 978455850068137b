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
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            min_confidence: Confidence::Medium,
            fail_on: Confidence::Medium,
            strict: false,
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

#[cfg(test)]
mod tests {
    use super::*;

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
