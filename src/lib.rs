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
// No unsafe code but one call, into the AVX2 build of the block pass after the CPU check
// (`detect::candidates`); no unwrap/expect on input-dependent paths outside tests.
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod archive;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod detect;
pub mod error;
pub mod exit;
pub mod finding;
pub mod fingerprint;
pub mod git;
pub mod locate;
pub mod mapped;
pub mod mask;
pub mod messages;
pub mod policy;
pub mod progress;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod walk;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

use cli::{Command, Format, Opts};
use exit::ExitCode;
use report::Reporter;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Returns true if and only if Ctrl-C was pressed during `redact`: work stops at the next safe
/// point (between edits of a file, before a rename) and the run exits with 130.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Runs a parsed command line and returns the exit code. Errors that stop the whole run
/// (bad rules, no key) come back as `Err` and mean exit code 2.
pub fn run(opts: Opts) -> anyhow::Result<ExitCode> {
    match opts.command {
        Command::Scan(args) => {
            let file = config::ConfigFile::load(
                args.git.config.as_deref(),
                &config::config_dir(&args.paths),
            )?;
            let detector = config::detector(&args.detect.rules, &file)?;
            let cfg = config::scan_config(&args, &file, detector.key())?;
            let (code, records) = run_scan(&cfg, &detector, args.output.format, None)?;
            if let Some(path) = &args.git.write_baseline {
                let text = baseline::Baseline::render(&records, detector.key());
                std::fs::write(path, text)
                    .with_context(|| format!("writing baseline {}", path.display()))?;
                if !args.output.quiet {
                    eprintln!(
                        "pansweep: wrote {} finding(s) to {}",
                        records.len(),
                        path.display()
                    );
                }
            }
            Ok(code)
        }
        Command::InstallHook { force } => {
            let dir = std::env::current_dir()?;
            let path = git::install_hook(&dir, force).map_err(anyhow::Error::msg)?;
            eprintln!("pansweep: installed {}", path.display());
            Ok(ExitCode::Clean)
        }
        Command::Redact(args) => {
            let cfg = config::redact_config(&args)?;
            let detector = config::detector(&args.mask.rules, &config::ConfigFile::default())?;
            // Ctrl-C must not leave a half-renamed file: take it as a request to stop at the
            // next safe point. (A second handler cannot be installed; ignore that case.)
            let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed));
            let stream = args.paths.iter().any(|p| walk::is_stdin(p));
            let report: Option<Box<dyn Write + Send>> = match &args.mask.report {
                Some(path) => Some(Box::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("creating report {}", path.display()))?,
                )),
                None if stream => Some(Box::new(std::io::sink())),
                None => None,
            };
            Ok(run_scan(&cfg, &detector, args.output.format, report)?.0)
        }
    }
}

fn run_scan(
    cfg: &scan::ScanConfig,
    detector: &detect::Detector,
    format: Format,
    report: Option<Box<dyn Write + Send>>,
) -> anyhow::Result<(ExitCode, Vec<report::Record>)> {
    let reporter: Box<dyn Reporter> = match format {
        Format::Text => Box::new(report::text::TextReporter { style: cfg.style }),
        Format::Jsonl => Box::new(report::json::JsonlReporter),
        Format::Json => Box::new(report::json::JsonReporter),
        Format::Sarif => Box::new(report::sarif::SarifReporter),
        Format::Junit => Box::new(report::junit::JunitReporter),
        Format::Csv => Box::new(report::csv::CsvReporter),
    };
    let mut out: Box<dyn Write + Send> = match report {
        Some(w) => Box::new(std::io::BufWriter::new(w)),
        None => Box::new(std::io::BufWriter::with_capacity(
            64 << 10,
            std::io::stdout(),
        )),
    };
    let (summary, code, records) = scan::scan(cfg, detector, reporter.as_ref(), &mut out);
    let _ = out.flush();
    drop(out);
    if cfg.summary {
        let _ = std::io::stderr().write_all(summary.to_text().as_bytes());
    }
    Ok((code, records))
}
