//! Command-line options → validated configuration, built once. Owns every default.

use std::io::IsTerminal;

use anyhow::Context;

use crate::cli::{ConfidenceArg, MaskArg, RedactArgs, ScanArgs, When};
use crate::detect::Detector;
use crate::finding::Confidence;
use crate::fingerprint::{Key, default_key_dir};
use crate::mask::{MaskSpec, MaskStyle};
use crate::policy::Policy;
use crate::report::text::Style;
use crate::rules::Rules;
use crate::scan::RedactConfig;
use crate::scan::ScanConfig;
use crate::source::CHUNK_SIZE;
use crate::walk::WalkOptions;

impl From<ConfidenceArg> for Confidence {
    fn from(c: ConfidenceArg) -> Confidence {
        match c {
            ConfidenceArg::Low => Confidence::Low,
            ConfidenceArg::Medium => Confidence::Medium,
            ConfidenceArg::High => Confidence::High,
        }
    }
}

/// Decides whether to colour output: `--color`, then `NO_COLOR`, then whether stdout is a
/// terminal.
pub fn colour(when: When) -> bool {
    match when {
        When::Always => true,
        When::Never => false,
        When::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Builds the scan configuration from `pansweep scan` arguments.
pub fn scan_config(a: &ScanArgs) -> ScanConfig {
    ScanConfig {
        paths: a.paths.clone(),
        walk: WalkOptions {
            no_ignore: a.walk.no_ignore,
            hidden: a.walk.hidden,
            globs: a.walk.glob.clone(),
            max_filesize: a.walk.max_filesize,
            follow: a.walk.follow,
            threads: a.walk.threads,
        },
        policy: Policy {
            min_confidence: a.detect.min_confidence.into(),
            fail_on: a.detect.fail_on.into(),
            strict: a.detect.strict,
        },
        decompress: !a.walk.no_decompress,
        binary: a.walk.binary,
        explain: a.detect.explain,
        style: Style::new(colour(a.output.color)),
        summary: !a.output.quiet,
        progress: match a.output.progress {
            When::Always => true,
            When::Never => false,
            When::Auto => !a.output.quiet && std::io::stderr().is_terminal(),
        },
        chunk_size: CHUNK_SIZE,
        redact: None,
    }
}

/// Builds the configuration of `pansweep redact`: a scan whose findings are masked.
pub fn redact_config(a: &RedactArgs) -> anyhow::Result<ScanConfig> {
    let stream = a.paths.iter().any(|p| crate::walk::is_stdin(p));
    let mut roots = Vec::new();
    for p in a.paths.iter().filter(|p| !crate::walk::is_stdin(p)) {
        roots.push(std::fs::canonicalize(p).with_context(|| format!("{}", p.display()))?);
    }
    Ok(ScanConfig {
        paths: a.paths.clone(),
        walk: WalkOptions {
            no_ignore: a.walk.no_ignore,
            hidden: a.walk.hidden,
            globs: a.walk.glob.clone(),
            max_filesize: a.walk.max_filesize,
            follow: a.walk.follow,
            threads: a.walk.threads,
        },
        policy: Policy {
            min_confidence: a.mask.min_confidence.into(),
            fail_on: a.mask.min_confidence.into(),
            strict: true,
        },
        decompress: !a.walk.no_decompress,
        binary: a.walk.binary,
        explain: false,
        style: Style::new(colour(a.output.color) && a.mask.report.is_none() && !stream),
        summary: !a.output.quiet,
        progress: !stream
            && match a.output.progress {
                When::Always => true,
                When::Never => false,
                When::Auto => !a.output.quiet && std::io::stderr().is_terminal(),
            },
        chunk_size: CHUNK_SIZE,
        redact: Some(RedactConfig {
            spec: MaskSpec {
                style: match a.mask.mask {
                    MaskArg::Pci => MaskStyle::BinLast4,
                    MaskArg::Last4 => MaskStyle::Last4,
                    MaskArg::Full => MaskStyle::Full,
                },
                mask_char: a.mask.mask_char,
            },
            keep_test_cards: a.mask.keep_test_cards,
            dry_run: a.mask.dry_run,
            diff: a.mask.diff,
            follow: a.walk.follow,
            roots,
        }),
    })
}

/// Loads the built-in rules plus every `--rules FILE`, and the fingerprint key, into a
/// detector.
pub fn detector(rule_files: &[std::path::PathBuf]) -> anyhow::Result<Detector> {
    let mut rules = Rules::builtin()?;
    for f in rule_files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading rules {}", f.display()))?;
        rules.add_brand_file(&text, &f.display().to_string())?;
    }
    let key = Key::load_or_create(default_key_dir().as_deref())?;
    Ok(Detector::new(rules, key)?)
}
