//! Walking: paths → [`Haystack`]s, in parallel, honouring ignore files like ripgrep.
//!
//! The walker knows nothing of cards. It yields regular files and says why anything else was
//! skipped; it never opens a file, so a FIFO or device met on the way cannot block it.

use std::path::{Path, PathBuf};

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};

/// A regular file to search.
#[derive(Clone, Debug)]
pub struct Haystack {
    /// The path as walked (as ripgrep prints it).
    pub path: PathBuf,
    /// Size from the directory entry's metadata, when `--max-filesize` asked for it.
    pub len: Option<u64>,
}

/// Why a path was not searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// A FIFO, socket or device.
    Special,
    /// A symbolic link, not followed without `--follow`.
    Symlink,
    /// A symbolic link loop, met with `--follow`.
    SymlinkLoop,
    /// Larger than `--max-filesize`.
    TooLarge,
    /// Binary content (a NUL byte in the first block); decided by the source, not the walker.
    Binary,
}

impl SkipReason {
    /// Short name for summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Special => "special file (fifo, socket, device)",
            SkipReason::Symlink => "symlink (not followed)",
            SkipReason::SymlinkLoop => "symlink loop",
            SkipReason::TooLarge => "larger than --max-filesize",
            SkipReason::Binary => "binary",
        }
    }
}

/// What the walker met.
#[derive(Debug)]
pub enum Visit {
    /// A regular file to search.
    File(Haystack),
    /// A path not searched, and why.
    Skipped(PathBuf, SkipReason),
    /// A path that could not be walked (permission denied, missing) and the reason.
    Error(Option<PathBuf>, String),
}

/// How to walk.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// Ignore `.gitignore`, `.ignore` and friends.
    pub no_ignore: bool,
    /// Walk hidden files and directories.
    pub hidden: bool,
    /// ripgrep-style globs; `!` excludes.
    pub globs: Vec<String>,
    /// Skip files larger than this many bytes.
    pub max_filesize: Option<u64>,
    /// Follow symbolic links.
    pub follow: bool,
    /// Directory levels to descend below each path given (`None`: all).
    pub max_depth: Option<usize>,
    /// Stay on the file system of each path given.
    pub one_file_system: bool,
    /// Worker threads (0: all cores).
    pub threads: usize,
}

/// Whether the visitor wants the walk to go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep walking.
    Continue,
    /// Stop as soon as possible (e.g. stdout was closed).
    Quit,
}

/// Walks `paths` on `opts.threads` threads, calling `visit` for every file met.
pub fn walk_parallel(
    paths: &[PathBuf],
    opts: &WalkOptions,
    visit: &(dyn Fn(Visit) -> Flow + Sync),
) -> Result<(), String> {
    let Some((first, rest)) = paths.split_first() else {
        return Ok(());
    };
    let mut b = WalkBuilder::new(first);
    for p in rest {
        b.add(p);
    }
    b.hidden(!opts.hidden)
        .ignore(!opts.no_ignore)
        .git_ignore(!opts.no_ignore)
        .git_global(!opts.no_ignore)
        .git_exclude(!opts.no_ignore)
        .parents(!opts.no_ignore)
        .follow_links(opts.follow)
        .max_depth(opts.max_depth)
        .same_file_system(opts.one_file_system)
        .threads(opts.threads);
    if !opts.no_ignore {
        b.add_custom_ignore_filename(".pansweepignore");
    }
    if !opts.globs.is_empty() {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let mut ob = OverrideBuilder::new(cwd);
        for g in &opts.globs {
            ob.add(g).map_err(|e| format!("invalid glob {g:?}: {e}"))?;
        }
        b.overrides(ob.build().map_err(|e| format!("invalid globs: {e}"))?);
    }
    let max = opts.max_filesize;
    b.build_parallel().run(|| {
        Box::new(move |result| {
            let v = match result {
                Ok(entry) => match classify(&entry, max) {
                    Some(v) => v,
                    None => return WalkState::Continue,
                },
                Err(err) if is_loop(&err) => Visit::Skipped(
                    error_path(&err).unwrap_or_default(),
                    SkipReason::SymlinkLoop,
                ),
                Err(err) => Visit::Error(error_path(&err), error_reason(&err)),
            };
            match visit(v) {
                Flow::Continue => WalkState::Continue,
                Flow::Quit => WalkState::Quit,
            }
        })
    });
    Ok(())
}

fn classify(entry: &ignore::DirEntry, max: Option<u64>) -> Option<Visit> {
    let path = entry.path().to_path_buf();
    let ft = entry.file_type()?;
    if ft.is_dir() {
        return None;
    }
    if ft.is_symlink() {
        return Some(Visit::Skipped(path, SkipReason::Symlink));
    }
    if !ft.is_file() {
        return Some(Visit::Skipped(path, SkipReason::Special));
    }
    // Only `--max-filesize` needs the size here: a `stat` by path per file was an eighth of
    // the time of a scan of many small files (ripgrep also stats only for that option).
    let len = max.and_then(|_| entry.metadata().ok()).map(|m| m.len());
    if let (Some(max), Some(len)) = (max, len)
        && len > max
    {
        return Some(Visit::Skipped(path, SkipReason::TooLarge));
    }
    Some(Visit::File(Haystack { path, len }))
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        ignore::Error::Partial(v) => v.iter().any(is_loop),
        _ => false,
    }
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

fn error_reason(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => error_reason(err),
        ignore::Error::Io(io) => io_reason(io),
        other => other.to_string(),
    }
}

/// A short reason for an I/O error, without the OS error number noise.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if e.raw_os_error().is_some() => {
            // "Too many levels of symbolic links (os error 40)": the OS's words, lower case,
            // as the messages above.
            let text = e.to_string();
            let text = text.rsplit_once(" (os error ").map_or(&*text, |(t, _)| t);
            let mut chars = text.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_lowercase().chain(chars).collect::<String>()
            })
        }
        _ => e.to_string(),
    }
}

/// Returns true if and only if `path` is `-`, meaning standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}
