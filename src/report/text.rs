//! The human format: one finding a line, ripgrep-like:
//! `path:line:column: brand masked confidence [+cvv]`.

use std::io::Write;

use super::{DiffLine, ExplainRecord, Record, Reporter};

/// ANSI colours, or none.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Colours on or off.
    pub fn new(on: bool) -> Style {
        Style { on }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// The text reporter.
pub struct TextReporter {
    /// Colours.
    pub style: Style,
}

impl Reporter for TextReporter {
    fn file(&self, records: &[Record], out: &mut Vec<u8>) {
        let s = &self.style;
        for r in records {
            let brand = r.brand.unwrap_or(r.kind.as_str());
            let what = if r.kind == crate::finding::Kind::Pan {
                brand.to_string()
            } else {
                format!("{} {}", r.kind.as_str(), brand)
            };
            let mut extra = String::new();
            if r.test_card {
                extra.push_str(" test-card");
            }
            if let Some(c) = r.cvv {
                extra.push_str(&format!(" +cvv@{}:{}", c.line, c.column));
            }
            let _ = writeln!(
                out,
                "{}:{}:{}: {} {} {}{}",
                s.paint("35", &r.path),
                s.paint("32", &r.line.to_string()),
                r.column,
                what,
                s.paint("1;31", r.masked.as_str()),
                r.confidence.as_str(),
                extra
            );
        }
    }
}

/// Formats one `--explain` line.
pub fn explain_line(e: &ExplainRecord, style: &Style, out: &mut Vec<u8>) {
    let verdict = match e.accepted {
        Some((k, c)) => style.paint("1;31", &format!("accepted {} {}", k.as_str(), c.as_str())),
        None => style.paint("2", "rejected"),
    };
    let _ = writeln!(
        out,
        "{}:{}:{}: {} {}: {}",
        style.paint("35", &e.path),
        style.paint("32", &e.line.to_string()),
        e.column,
        e.masked,
        verdict,
        e.reason
    );
}

/// Formats one `--diff` entry: the line before and after masking.
pub fn diff_line(d: &DiffLine, style: &Style, out: &mut Vec<u8>) {
    let _ = writeln!(
        out,
        "{}:{}:",
        style.paint("35", &d.path),
        style.paint("32", &d.line.to_string())
    );
    let _ = writeln!(out, "{}", style.paint("31", &format!("-{}", d.before)));
    let _ = writeln!(out, "{}", style.paint("32", &format!("+{}", d.after)));
}
