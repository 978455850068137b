//! Command-line options and `.pansweep.toml` → validated configuration, built once. Owns every
//! default. Precedence: a flag on the command line, then the config file, then the default.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde::Deserialize;

use crate::baseline::Baseline;
use crate::cli::{ConfidenceArg, MaskArg, RedactArgs, ScanArgs, WalkArgs, When};
use crate::detect::Detector;
use crate::finding::Confidence;
use crate::fingerprint::{Key, default_key_dir};
use crate::mask::{MaskSpec, MaskStyle};
use crate::policy::Policy;
use crate::report::text::Style;
use crate::rules::{BrandFileSyntax, BrandSyntax, Rules};
use crate::scan::{Input, RedactConfig, ScanConfig};
use crate::source::CHUNK_SIZE;
use crate::walk::WalkOptions;

/// The name of the config file looked for in the scanned directory.
pub const CONFIG_FILE: &str = ".pansweep.toml";

/// `.pansweep.toml` as written. Unknown keys are errors that name the key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigSyntax {
    /// Report findings at or above this confidence: `low`, `medium`, `high`.
    pub min_confidence: Option<String>,
    /// Fail (exit 1) on findings at or above this confidence.
    pub fail_on: Option<String>,
    /// Public test card numbers: `report` (shown, do not fail; the default), `fail`, `ignore`.
    pub test_cards: Option<String>,
    /// Paths whose findings are allowed.
    pub allow: Option<AllowSyntax>,
    /// Extra keywords.
    pub keywords: Option<ExtraKeywordsSyntax>,
    /// Extra brand rules, with the fields of `rules/brands.json` entries.
    pub brands: Option<Vec<BrandSyntax>>,
}

/// `[allow]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AllowSyntax {
    /// Globs (gitignore syntax) of paths whose findings are not reported.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// `[keywords]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExtraKeywordsSyntax {
    /// Words that make a nearby number a card number.
    #[serde(default)]
    pub pan_context: Vec<String>,
    /// Words that announce a security code.
    #[serde(default)]
    pub cvv: Vec<String>,
}

/// A loaded config file and where it came from.
#[derive(Debug, Default)]
pub struct ConfigFile {
    /// The file, if one was found.
    pub path: Option<PathBuf>,
    /// Its contents.
    pub syntax: ConfigSyntax,
}

impl ConfigFile {
    /// Reads `explicit`, or `.pansweep.toml` in `dir` if present.
    pub fn load(explicit: Option<&Path>, dir: &Path) -> anyhow::Result<ConfigFile> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = dir.join(CONFIG_FILE);
                if !p.is_file() {
                    return Ok(ConfigFile::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        ConfigFile::parse(&text, path)
    }

    /// Parses and checks config text read from `path`.
    pub fn parse(text: &str, path: PathBuf) -> anyhow::Result<ConfigFile> {
        let syntax: ConfigSyntax = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
        let cfg = ConfigFile {
            path: Some(path),
            syntax,
        };
        cfg.confidence("min-confidence", cfg.syntax.min_confidence.as_deref())?;
        cfg.confidence("fail-on", cfg.syntax.fail_on.as_deref())?;
        cfg.test_cards()?;
        Ok(cfg)
    }

    fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or("config".into(), |p| p.display().to_string())
    }

    fn confidence(&self, key: &str, v: Option<&str>) -> anyhow::Result<Option<Confidence>> {
        Ok(match v {
            None => None,
            Some("low") => Some(Confidence::Low),
            Some("medium") => Some(Confidence::Medium),
            Some("high") => Some(Confidence::High),
            Some(other) => anyhow::bail!(
                "{}: {key} = {other:?}: expected \"low\", \"medium\" or \"high\"",
                self.origin()
            ),
        })
    }

    /// (`strict`, hide test cards).
    fn test_cards(&self) -> anyhow::Result<(bool, bool)> {
        Ok(match self.syntax.test_cards.as_deref() {
            None | Some("report") => (false, false),
            Some("fail") => (true, false),
            Some("ignore") => (false, true),
            Some(other) => anyhow::bail!(
                "{}: test-cards = {other:?}: expected \"report\", \"fail\" or \"ignore\"",
                self.origin()
            ),
        })
    }

    /// Adds the file's keywords and brands to `rules`.
    pub fn extend_rules(&self, rules: &mut Rules) -> anyhow::Result<()> {
        if let Some(k) = &self.syntax.keywords {
            for w in &k.pan_context {
                let w = w.trim().to_ascii_lowercase();
                if w.contains(' ') {
                    rules.keywords.pan_context_phrases.push(w);
                } else if w.is_empty() || w.len() > crate::rules::MAX_WORD_LEN {
                    anyhow::bail!(
                        "{}: keywords.pan-context {w:?}: a word needs 1 to {} letters",
                        self.origin(),
                        crate::rules::MAX_WORD_LEN
                    );
                } else {
                    rules.keywords.pan_context_en.insert(w);
                }
            }
            rules.keywords.cvv_strong.en.extend(k.cvv.iter().cloned());
        }
        if let Some(brands) = &self.syntax.brands {
            let syntax = BrandFileSyntax {
                sources: Vec::new(),
                groupings: Vec::new(),
                brands: brands.clone(),
            };
            rules.brands.extend(syntax, &self.origin())?;
        }
        Ok(())
    }
}

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

fn progress(when: When, quiet: bool) -> bool {
    match when {
        When::Always => true,
        When::Never => false,
        When::Auto => !quiet && std::io::stderr().is_terminal(),
    }
}

/// The walk options of `scan` and `redact` alike.
fn walk_options(w: &WalkArgs) -> WalkOptions {
    WalkOptions {
        no_ignore: w.no_ignore,
        hidden: w.hidden,
        globs: w.glob.clone(),
        max_filesize: w.max_filesize,
        follow: w.follow,
        max_depth: w.max_depth,
        one_file_system: w.one_file_system,
        threads: w.threads,
    }
}

/// The directory whose `.pansweep.toml` applies: the first path if it is a directory, else the
/// current directory.
pub fn config_dir(paths: &[PathBuf]) -> PathBuf {
    match paths.first() {
        Some(p) if p.is_dir() => p.clone(),
        _ => PathBuf::from("."),
    }
}

/// Builds the scan configuration from `pansweep scan` arguments, the config file and `key`.
pub fn scan_config(a: &ScanArgs, file: &ConfigFile, key: &Key) -> anyhow::Result<ScanConfig> {
    let (strict_file, hide_test_cards) = file.test_cards()?;
    let min = a.detect.min_confidence.map(Confidence::from);
    let fail = a.detect.fail_on.map(Confidence::from);
    let input = match (&a.git.git, &a.git.since, a.git.staged) {
        (Some(range), _, _) => Input::History(range.clone()),
        (None, Some(rev), _) => Input::History(format!("{rev}..HEAD")),
        (None, None, true) => Input::Staged,
        (None, None, false) => Input::Walk,
    };
    let baseline = match &a.git.baseline {
        Some(p) => Some(Arc::new(Baseline::load(p, key)?)),
        None => None,
    };
    let allow_paths = match file.syntax.allow.as_ref().filter(|a| !a.paths.is_empty()) {
        Some(allow) => {
            let root = match &file.path {
                Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
                None => PathBuf::from("."),
            };
            let mut ob = ignore::overrides::OverrideBuilder::new(root);
            for g in &allow.paths {
                ob.add(g)
                    .with_context(|| format!("{}: allow.paths: {g:?}", file.origin()))?;
            }
            Some(ob.build()?)
        }
        None => None,
    };
    Ok(ScanConfig {
        paths: a.paths.clone(),
        walk: walk_options(&a.walk),
        policy: Policy {
            min_confidence: min
                .or(file.confidence("min-confidence", file.syntax.min_confidence.as_deref())?)
                .unwrap_or(Confidence::Medium),
            fail_on: fail
                .or(file.confidence("fail-on", file.syntax.fail_on.as_deref())?)
                .unwrap_or(Confidence::Medium),
            strict: a.detect.strict || strict_file,
            hide_test_cards,
        },
        decompress: !a.walk.no_decompress,
        binary: a.walk.binary,
        explain: a.detect.explain,
        style: Style::new(colour(a.output.color)),
        summary: !a.output.quiet,
        progress: progress(a.output.progress, a.output.quiet),
        chunk_size: CHUNK_SIZE,
        redact: None,
        input,
        baseline,
        allow_paths,
        collect: a.git.write_baseline.is_some(),
    })
}

/// Builds the configuration of `pansweep redact`: a scan whose findings are masked.
pub fn redact_config(a: &RedactArgs) -> anyhow::Result<ScanConfig> {
    let stream = a.paths.iter().any(|p| crate::walk::is_stdin(p));
    let mut roots = Vec::new();
    for p in a.paths.iter().filter(|p| !crate::walk::is_stdin(p)) {
        roots.push(std::fs::canonicalize(p).with_context(|| format!("{}", p.display()))?);
    }
    let min: Confidence = a.mask.min_confidence.into();
    Ok(ScanConfig {
        paths: a.paths.clone(),
        walk: walk_options(&a.walk),
        policy: Policy {
            min_confidence: min,
            fail_on: min,
            strict: true,
            hide_test_cards: false,
        },
        decompress: !a.walk.no_decompress,
        binary: a.walk.binary,
        explain: false,
        style: Style::new(colour(a.output.color) && a.mask.report.is_none() && !stream),
        summary: !a.output.quiet,
        progress: !stream && progress(a.output.progress, a.output.quiet),
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
        input: Input::Walk,
        baseline: None,
        allow_paths: None,
        collect: false,
    })
}

/// Loads the built-in rules, every `--rules FILE` and the config file's additions, and the
/// fingerprint key, into a detector.
pub fn detector(rule_files: &[PathBuf], file: &ConfigFile) -> anyhow::Result<Detector> {
    let mut rules = Rules::builtin()?;
    for f in rule_files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading rules {}", f.display()))?;
        rules.add_brand_file(&text, &f.display().to_string())?;
    }
    file.extend_rules(&mut rules)?;
    let key = Key::load_or_create(default_key_dir().as_deref())?;
    Ok(Detector::new(rules, key)?)
}
