//! Messages on stderr, one line each, and the flag that turns any error into exit code 2.
//!
//! Messages name paths and reasons, never input bytes. Paths are escaped so a file name with
//! a newline or terminal escape cannot forge a line.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

static ERRORED: AtomicBool = AtomicBool::new(false);

/// Returns true if and only if an error message was printed during this run.
pub fn errored() -> bool {
    ERRORED.load(Ordering::Relaxed)
}

/// Prints `pansweep: <path>: <reason>` and marks the run as failed.
pub fn error(path: Option<&Path>, reason: &str) {
    ERRORED.store(true, Ordering::Relaxed);
    line(path, reason);
}

/// Prints `pansweep: <path>: <reason>` without failing the run.
pub fn warn(path: Option<&Path>, reason: &str) {
    line(path, reason);
}

fn line(path: Option<&Path>, reason: &str) {
    let msg = match path {
        Some(p) => format!("pansweep: {}: {}\n", escape_path(p), reason),
        None => format!("pansweep: {reason}\n"),
    };
    let _ = std::io::stderr().lock().write_all(msg.as_bytes());
}

/// A path made safe to print on one line: control characters are escaped and invalid UTF-8
/// is replaced.
pub fn escape_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    if !s.chars().any(char::is_control) {
        return s.into_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_control_characters() {
        assert_eq!(escape_path(Path::new("a\nb\x1b")), "a\\nb\\u{1b}");
        assert_eq!(escape_path(Path::new("plain/ok.log")), "plain/ok.log");
    }
}
