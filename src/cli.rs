//! Command-line syntax. The doc comments are the help text; no I/O happens here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, shown under `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  nothing at or above --fail-on was found (public test cards excluded unless --strict)
  1  card data at or above --fail-on was found
  2  an error: bad arguments, a path that could not be read (wins over 1)";

/// Find payment card data (card numbers, security codes, track data) in files.
#[derive(Debug, Parser)]
#[command(name = "pansweep", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Opts {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories for card data and report it (masked).
    #[command(after_help = EXIT_CODES)]
    Scan(ScanArgs),
    /// Mask card data in place (same length, nothing else touched), or in a stream with `-`.
    #[command(after_help = REDACT_EXIT_CODES)]
    Redact(RedactArgs),
    /// Install a plain git pre-commit hook that runs `pansweep scan --staged`.
    InstallHook {
        /// Replace an existing pre-commit hook.
        #[arg(long)]
        force: bool,
    },
}

/// Exit codes of `redact`, shown under its `--help`.
pub const REDACT_EXIT_CODES: &str = "\
Exit codes:
  0  everything found was masked (with --dry-run: nothing to mask)
  1  --dry-run found card data that would be masked
  2  an error: a file that could not be read or written (wins over 1)";

/// `pansweep redact`.
#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Files or directories to mask in place; `-` filters standard input to standard output.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Which files are read.
    #[command(flatten)]
    pub walk: WalkArgs,

    /// How card data is masked.
    #[command(flatten)]
    pub mask: MaskArgs,

    /// How results are shown.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What `redact` masks and how.
#[derive(Debug, Args)]
#[command(next_help_heading = "Masking")]
pub struct MaskArgs {
    /// What stays readable of a card number.
    #[arg(long, value_enum, default_value_t = MaskArg::Pci)]
    pub mask: MaskArg,

    /// The character written over masked characters (one printable ASCII character, not a
    /// digit).
    #[arg(long, default_value = "*", value_parser = parse_mask_char, value_name = "C")]
    pub mask_char: u8,

    /// Mask findings at or above this confidence.
    #[arg(long, value_enum, default_value_t = ConfidenceArg::Medium)]
    pub min_confidence: ConfidenceArg,

    /// Leave public test card numbers (4111111111111111, …) as they are.
    #[arg(long)]
    pub keep_test_cards: bool,

    /// Report what would be masked; write nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,

    /// Show each changed line before and after, card data masked on both sides.
    #[arg(long)]
    pub diff: bool,

    /// Write the report of what was masked to FILE instead of standard output (for `redact -`,
    /// whose standard output is the data).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Extra brand rules (same format as rules/brands.json); repeatable.
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,
}

/// Mask styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MaskArg {
    /// Keep the first six and last four digits, the most PCI DSS allows to be shown.
    Pci,
    /// Keep the last four digits only.
    Last4,
    /// Mask every digit.
    Full,
}

/// Parses `--mask-char`.
pub fn parse_mask_char(s: &str) -> Result<u8, String> {
    match s.as_bytes() {
        [c] if c.is_ascii_graphic() && !c.is_ascii_digit() => Ok(*c),
        _ => Err(format!(
            "{s:?}: one printable ASCII character that is not a digit"
        )),
    }
}

/// `pansweep scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Which files are read.
    #[command(flatten)]
    pub walk: WalkArgs,

    /// What counts and what fails.
    #[command(flatten)]
    pub detect: DetectArgs,

    /// Git sources and CI gating.
    #[command(flatten)]
    pub git: GitArgs,

    /// How results are shown.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Pre-commit, history and CI options.
#[derive(Debug, Args)]
#[command(next_help_heading = "Git and CI")]
pub struct GitArgs {
    /// Scan the staged (index) version of the files about to be committed, not the work tree.
    #[arg(long, conflicts_with_all = ["git", "since"])]
    pub staged: bool,

    /// Scan the lines added by each commit in REV_RANGE (default: all history reachable from
    /// HEAD); write it as --git=RANGE. A card is reported once per file, at the first commit
    /// that added it.
    #[arg(long, value_name = "REV_RANGE", num_args = 0..=1, default_missing_value = "HEAD", require_equals = true)]
    pub git: Option<String>,

    /// Scan the commits after REV: shorthand for --git=REV..HEAD (CI on a branch).
    #[arg(long, value_name = "REV", conflicts_with = "git")]
    pub since: Option<String>,

    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write the findings reported by this run to FILE as a baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Read settings from FILE instead of `.pansweep.toml` in the first scanned directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Which files are read (ripgrep's flag names and meanings).
#[derive(Debug, Args)]
#[command(next_help_heading = "Walking")]
pub struct WalkArgs {
    /// Don't honour .gitignore, .ignore, .pansweepignore or git excludes.
    #[arg(long)]
    pub no_ignore: bool,

    /// Search hidden files and directories.
    #[arg(long, short = '.')]
    pub hidden: bool,

    /// Include or (with a leading `!`) exclude files matching GLOB; repeatable.
    #[arg(long, short = 'g', value_name = "GLOB")]
    pub glob: Vec<String>,

    /// Skip files larger than NUM bytes; suffixes K, M, G (1024-based).
    #[arg(long, value_name = "NUM+SUFFIX?", value_parser = parse_size)]
    pub max_filesize: Option<u64>,

    /// Follow symbolic links (loops are reported, not followed again).
    #[arg(long, short = 'L')]
    pub follow: bool,

    /// Descend at most NUM directory levels below each path given; 0 reads only the paths
    /// themselves (a directory given then yields nothing).
    #[arg(long, short = 'd', value_name = "NUM")]
    pub max_depth: Option<usize>,

    /// Don't cross into other file systems below each path given: a network share, /proc or
    /// a backup disk mounted inside the tree is left out.
    #[arg(long)]
    pub one_file_system: bool,

    /// Search binary files too (by default a file with a NUL byte in its first 8 KiB is
    /// skipped and counted).
    #[arg(long)]
    pub binary: bool,

    /// Don't decompress gzip files (by default recognised by their magic bytes).
    #[arg(long)]
    pub no_decompress: bool,

    /// Worker threads; 0 means all cores.
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    pub threads: usize,
}

/// What counts as card data and what fails the run.
#[derive(Debug, Args)]
#[command(next_help_heading = "Detection")]
pub struct DetectArgs {
    /// Extra brand rules (same format as rules/brands.json); repeatable.
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Report findings at or above this confidence [default: medium].
    #[arg(long, value_enum)]
    pub min_confidence: Option<ConfidenceArg>,

    /// Exit 1 when a reported finding is at or above this confidence [default: medium].
    #[arg(long, value_enum)]
    pub fail_on: Option<ConfidenceArg>,

    /// Public test card numbers (4111111111111111, …) fail the run too.
    #[arg(long)]
    pub strict: bool,

    /// Print, for every number of 12+ digits, whether it was accepted and which rule decided
    /// (masked).
    #[arg(long)]
    pub explain: bool,
}

/// How results are shown.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// When to use colours (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = When::Auto, value_name = "WHEN")]
    pub color: When,

    /// Don't print the summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// When to show a progress line on stderr for scans longer than a moment.
    #[arg(long, value_enum, default_value_t = When::Auto, value_name = "WHEN")]
    pub progress: When,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One finding a line: `path:line:column: brand masked confidence`.
    Text,
    /// One JSON object per finding (JSON Lines).
    Jsonl,
    /// One JSON document with the findings and the summary.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
    /// JUnit XML: each finding a failed test case.
    Junit,
    /// CSV with a header row.
    Csv,
}

/// Confidence levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConfidenceArg {
    /// Passes Luhn and the brand table, but labelled as something else.
    Low,
    /// A bare number that passes Luhn and the brand table.
    Medium,
    /// Supported by card words, a security code, an expiry date, grouping or track data.
    High,
}

/// When to do something that only makes sense on a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum When {
    /// Only when the output is a terminal.
    Auto,
    /// Never.
    Never,
    /// Always.
    Always,
}

/// Parses `10`, `10K`, `5M`, `2G` (1024-based) into bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&s[..s.len() - 1], 1u64 << 10),
        Some(b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a size like 500K, 10M or 2G"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Opts::command().debug_assert();
    }

    #[test]
    fn mask_char_is_one_printable_non_digit() {
        assert_eq!(parse_mask_char("#"), Ok(b'#'));
        for bad in ["", "ab", "7", " ", "é"] {
            assert!(parse_mask_char(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("2K"), Ok(2048));
        assert_eq!(parse_size("3m"), Ok(3 << 20));
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999999999G").is_err());
    }

    #[test]
    fn glob_is_repeatable_and_defaults_hold() {
        let o = Opts::try_parse_from(["pansweep", "scan", "-g", "*.log", "-g", "!*.gz"]).unwrap();
        let Command::Scan(a) = o.command else {
            panic!("not scan")
        };
        assert_eq!(a.walk.glob, ["*.log", "!*.gz"]);
        assert_eq!(a.paths, [PathBuf::from(".")]);
        assert_eq!(a.detect.fail_on, None, "the default comes from config.rs");
        assert_eq!(a.output.format, Format::Text);
    }
}
