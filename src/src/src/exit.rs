//! Process exit codes. An error always wins, so a CI gate never passes silently.

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitCode {
    /// Nothing at or above `--fail-on` was found, and nothing went wrong.
    Clean,
    /// Card data at or above `--fail-on` was found (or, for `redact --dry-run`, would be masked).
    Findings,
    /// Something could not be read, written or parsed.
    Error,
    /// Interrupted by Ctrl-C (SIGINT).
    Interrupted,
}

impl ExitCode {
    /// The numeric code: 0, 1, 2, or 130 for Ctrl-C.
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Clean => 0,
            ExitCode::Findings => 1,
            ExitCode::Error => 2,
            ExitCode::Interrupted => 130,
        }
    }

    /// Combines two outcomes: the more serious one wins.
    pub fn merge(self, other: ExitCode) -> ExitCode {
        self.max(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_wins_over_findings_and_clean() {
        assert_eq!(
            ExitCode::Clean.merge(ExitCode::Findings),
            ExitCode::Findings
        );
        assert_eq!(ExitCode::Findings.merge(ExitCode::Error), ExitCode::Error);
        assert_eq!(ExitCode::Error.merge(ExitCode::Clean), ExitCode::Error);
        assert_eq!(ExitCode::Error.code(), 2);
        assert_eq!(ExitCode::Findings.code(), 1);
        assert_eq!(ExitCode::Clean.code(), 0);
    }
}
