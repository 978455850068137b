//! pansweep finds payment card data — card numbers (PANs), security codes and magnetic-stripe
//! track data — in files, and reports it without ever showing it in full.
//!
//! ```text
//! PATH ─walk─▶ Haystack ─source─▶ Chunk{bytes, commit, offset}
//!  ─candidates─▶ number tokens (13–19 digits, single space/dash groups, clean boundaries)
//!  ─look-alike rules + Luhn + brand table─▶ PAN ─cvv/track/context─▶ Finding
//!  ─policy─▶ reported | below threshold ─▶ Reporter (stdout)
//! ```
//!
//! * [`walk`] knows nothing of cards; [`detect`] knows nothing of files: it is pure functions
//!   over bytes. [`scan`] is the only place with threads.
//! * Raw digits exist only in the input buffer and inside [`detect`]; a [`finding::Finding`]
//!   holds spans and a [`finding::Masked`] display form.
#![deny(missing_docs)]

pub mod cli;
pub mod config;
pub mod detect;
pub mod error;
pub mod exit;
pub mod finding;
pub mod fingerprint;
pub mod mask;
pub mod messages;
pub mod policy;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod walk;

use std::io::Write;

use cli::{Command, Format, Opts};
use exit::ExitCode;
use report::Reporter;

/// Runs a parsed command line and returns the exit code. Errors that stop the whole run
/// (bad rules, no key) come back as `Err` and mean exit code 2.
pub fn run(opts: Opts) -> anyhow::Result<ExitCode> {
    match opts.command {
        Command::Scan(args) => {
            let cfg = config::scan_config(&args);
            let detector = config::detector(&args.detect.rules)?;
            let reporter: Box<dyn Reporter> = match args.output.format {
                Format::Text => Box::new(report::text::TextReporter { style: cfg.style }),
                Format::Jsonl => Box::new(report::json::JsonlReporter),
                Format::Json => Box::new(report::json::JsonReporter),
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(64 << 10, stdout);
            let (summary, code) = scan::scan(&cfg, &detector, reporter.as_ref(), &mut out);
            let _ = out.flush();
            drop(out);
            if cfg.summary {
                let _ = std::io::stderr().write_all(summary.to_text().as_bytes());
            }
            Ok(code)
        }
    }
}
