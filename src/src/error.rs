//! Typed library errors. Each carries the path or rule it is about; none carries input bytes.

use std::path::PathBuf;

/// An error from the pansweep library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rules file could not be read or parsed.
    #[error("{path}: {reason}")]
    RulesFile {
        /// The file, or `<builtin>/…` for embedded rules.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// A rule entry is invalid.
    #[error("{path}: rule {id:?}: {field}: {reason}")]
    Rule {
        /// The rules file.
        path: String,
        /// The rule's id.
        id: String,
        /// The offending field.
        field: &'static str,
        /// What was expected.
        reason: String,
    },
    /// The fingerprint key could not be loaded or created.
    #[error("fingerprint key {}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An I/O error on a path.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
