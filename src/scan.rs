//! The scan loop: walk → source → detect → policy → reporter, and for `redact` → writer. The
//! only place threads exist (the walker's pool runs the per-file work).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::detect::lines::BlockNewlines;
use crate::detect::{Detector, Document};
use crate::exit::ExitCode;
use crate::finding::{Finding, Span};
use crate::locate::{LineTracker, Newlines, locate};
use crate::mask::{self, MaskSpec};
use crate::messages;
use crate::policy::Policy;
use crate::progress::Progress;
use crate::redact::{self, WriteError, Writer};
use crate::report::text::{Style, explain_line};
use crate::report::{DiffLine, ExplainRecord, Record, Reporter, Summary};
use crate::source::{CHUNK_SIZE, Chunk, ChunkSlot, OwnedChunk, Source};
use crate::walk::{self, Flow, Haystack, SkipReason, Visit, WalkOptions};

/// What `redact` does on top of a scan.
#[derive(Clone, Debug, Default)]
pub struct RedactConfig {
    /// How to mask.
    pub spec: MaskSpec,
    /// Leave public test card numbers as they are (fixtures in a repository).
    pub keep_test_cards: bool,
    /// Report what would be masked; write nothing.
    pub dry_run: bool,
    /// Show each changed line before and after (card data masked on both sides).
    pub diff: bool,
    /// Follow symlinks for writing.
    pub follow: bool,
    /// Canonical paths given on the command line: nothing outside them is written.
    pub roots: Vec<PathBuf>,
}

/// Where the bytes come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Input {
    /// The configured paths, walked.
    #[default]
    Walk,
    /// The staged (index) version of files about to be committed.
    Staged,
    /// The lines added by each commit in a revision range.
    History(String),
}

/// Everything a scan needs to know, built once from the command line.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// Paths to scan; `-` is standard input.
    pub paths: Vec<PathBuf>,
    /// How to walk.
    pub walk: WalkOptions,
    /// What to report and what fails.
    pub policy: Policy,
    /// Decompress gzip.
    pub decompress: bool,
    /// Search binary files too.
    pub binary: bool,
    /// Print a verdict for every candidate.
    pub explain: bool,
    /// Colours for text and explain output.
    pub style: Style,
    /// Print the summary on stderr.
    pub summary: bool,
    /// Show a progress line on stderr.
    pub progress: bool,
    /// Bytes per read buffer.
    pub chunk_size: usize,
    /// Mask what is found (`pansweep redact`).
    pub redact: Option<RedactConfig>,
    /// Where the bytes come from.
    pub input: Input,
    /// Findings already known: not reported, do not fail.
    pub baseline: Option<std::sync::Arc<crate::baseline::Baseline>>,
    /// Path globs whose findings are allowed (from the config file).
    pub allow_paths: Option<ignore::overrides::Override>,
    /// Return every reported record (for `--write-baseline`).
    pub collect: bool,
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        ScanConfig {
            paths: vec![".".into()],
            walk: WalkOptions::default(),
            policy: Policy::default(),
            decompress: true,
            binary: false,
            explain: false,
            style: Style::new(false),
            summary: true,
            progress: false,
            chunk_size: CHUNK_SIZE,
            redact: None,
            input: Input::Walk,
            baseline: None,
            allow_paths: None,
            collect: false,
        }
    }
}

/// What one file gave.
#[derive(Default)]
struct FileResult {
    records: Vec<Record>,
    explained: Vec<ExplainRecord>,
    diff: Vec<DiffLine>,
    below_threshold: u64,
    allowed: u64,
    baselined: u64,
    /// Records already handed to the reporter (a large file's are passed on a thousand at
    /// a time, and `records` then holds only those since).
    reported: u64,
    bytes: u64,
    changed: bool,
    /// Findings reported but left as they are (in archives, which `redact` does not rewrite).
    not_written: bool,
    /// The buffer [`Shared::flush_findings`] formats into, kept between flushes.
    out: Vec<u8>,
}

/// Where the masked text of a file goes.
enum Target<'a> {
    /// Nowhere: scanning, or `--dry-run`.
    None,
    /// Back into the file.
    File(Box<Writer>),
    /// A stream (`redact -`): each masked batch is written and flushed.
    Stream(&'a mut (dyn Write + Send)),
}

struct Shared<'a> {
    cfg: &'a ScanConfig,
    detector: &'a Detector,
    reporter: &'a dyn Reporter,
    out: Mutex<&'a mut (dyn Write + Send)>,
    summary: Mutex<Summary>,
    collected: Mutex<Vec<Record>>,
    quit: AtomicBool,
    progress: Progress,
    /// Threads that search the chunks of one large file together, started when the first
    /// such file comes; `None` with `-j1`.
    pool: std::sync::OnceLock<Option<rayon::ThreadPool>>,
}

/// Chunks of one file searched together on the pool, then located in order: a single file
/// of gigabytes (the audit of one big log) uses every core, not one.
const PARALLEL_CHUNKS: usize = 6;

/// Batches of one file being searched while the next is read: with one, the pool waited
/// whenever a read ran long.
const BATCHES_IN_FLIGHT: usize = 2;

/// Chunks of one file and the findings of each, searched on the pool.
struct SearchedBatch {
    chunks: Vec<OwnedChunk>,
    /// The findings of each chunk, and its newlines.
    found: Vec<(Vec<Finding>, ChunkLines)>,
}

/// The newlines of a searched chunk, counted on the pool.
enum ChunkLines {
    /// Those of its commit range, where no finding starts: all that is needed of it.
    Counted(Newlines),
    /// Those of each block, to number the lines of its findings.
    PerBlock(BlockNewlines),
}

/// Searches the chunks of a batch at the same time (on the pool this runs in).
fn search(detector: &Detector, chunks: Vec<OwnedChunk>, doc: &Document) -> SearchedBatch {
    use rayon::prelude::*;
    let found = chunks
        .par_iter()
        .map(|c| {
            let chunk = c.chunk();
            let mut newlines = BlockNewlines::default();
            let findings = detector.find_counting_lines(chunk.bytes, doc, &mut newlines);
            // Most chunks have nothing to locate: their lines are counted here, not again by
            // the thread that reads.
            let none = !findings
                .iter()
                .any(|f| chunk.commit.contains(&f.span.start));
            let lines = if none && !chunk.last {
                let counted = chunk.with_newlines(&newlines);
                ChunkLines::Counted(Newlines::count(
                    &counted,
                    chunk.commit.start,
                    chunk.commit.end,
                ))
            } else {
                ChunkLines::PerBlock(newlines)
            };
            (findings, lines)
        })
        .collect();
    SearchedBatch { chunks, found }
}

/// The pool for [`PARALLEL_CHUNKS`], sized like the walker; none for one thread.
fn build_chunk_pool(threads: usize) -> Option<rayon::ThreadPool> {
    let n = match threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    if n < 2 {
        return None;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("pansweep-chunks-{i}"))
        .build()
        .ok()
}

/// Scans every configured path, writing findings to `out`; returns the summary and the
/// exit code earned.
pub fn scan(
    cfg: &ScanConfig,
    detector: &Detector,
    reporter: &dyn Reporter,
    out: &mut (dyn Write + Send),
) -> (Summary, ExitCode, Vec<Record>) {
    let start = Instant::now();
    let shared = Shared {
        cfg,
        detector,
        reporter,
        out: Mutex::new(out),
        summary: Mutex::new(Summary::default()),
        collected: Mutex::new(Vec::new()),
        quit: AtomicBool::new(false),
        progress: Progress::new(cfg.progress, start),
        pool: std::sync::OnceLock::new(),
    };
    // A header (CSV) goes before anything streams.
    let mut head = Vec::new();
    reporter.begin(&mut head);
    if let Ok(mut o) = shared.out.lock() {
        write_out(&mut **o, &head, &shared.quit);
    }
    let (stdin, paths): (Vec<_>, Vec<_>) =
        cfg.paths.iter().cloned().partition(|p| walk::is_stdin(p));
    if !stdin.is_empty() {
        shared.scan_stdin();
    }
    let visit = |v: Visit| -> Flow {
        if shared.quit.load(Ordering::Relaxed) || crate::interrupted() {
            return Flow::Quit;
        }
        match v {
            Visit::File(h) if shared.path_allowed(&h.path) => {}
            Visit::File(h) => shared.scan_haystack(&h),
            Visit::Skipped(path, reason) => {
                if reason == SkipReason::SymlinkLoop {
                    messages::warn(Some(&path), "symlink loop, not followed again");
                }
                shared.skip(reason);
            }
            Visit::Error(path, reason) => shared.fail(path.as_deref(), &reason),
        }
        if shared.quit.load(Ordering::Relaxed) {
            Flow::Quit
        } else {
            Flow::Continue
        }
    };
    match &cfg.input {
        Input::Walk => {
            if let Err(e) = walk::walk_parallel(&paths, &cfg.walk, &visit) {
                messages::error(None, &e);
            }
        }
        Input::Staged => shared.scan_staged(),
        Input::History(range) => shared.scan_history(range),
    }
    shared.progress.finish();
    let mut summary = shared
        .summary
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    summary.elapsed = start.elapsed();
    summary.redact = cfg.redact.as_ref().map(|r| r.dry_run);
    let mut all = shared
        .collected
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let out = shared.out.into_inner().unwrap_or_else(|e| e.into_inner());
    all.sort_by(|a, b| (&a.path, a.line, a.offset).cmp(&(&b.path, b.line, b.offset)));
    if reporter.collects() {
        let mut buf = Vec::new();
        reporter.finish(&all, &summary, &mut buf);
        write_out(out, &buf, &shared.quit);
    }
    let _ = out.flush();
    let code = if crate::interrupted() {
        ExitCode::Interrupted
    } else if messages::errored() {
        ExitCode::Error
    } else if summary.failing > 0 {
        ExitCode::Findings
    } else {
        ExitCode::Clean
    };
    (summary, code, all)
}

/// Masks `input` into `output` exactly as `pansweep redact -` does (line batches, the
/// configured buffer size); returns the findings masked. For tests and fuzzing.
pub fn mask_stream(
    cfg: &ScanConfig,
    detector: &Detector,
    input: Box<dyn Read + Send>,
    output: &mut (dyn Write + Send),
) -> Result<Vec<Record>, String> {
    let reporter = crate::report::json::JsonlReporter;
    let mut sink = io::sink();
    let shared = Shared {
        cfg,
        detector,
        reporter: &reporter,
        out: Mutex::new(&mut sink),
        summary: Mutex::new(Summary::default()),
        collected: Mutex::new(Vec::new()),
        quit: AtomicBool::new(false),
        progress: Progress::new(false, Instant::now()),
        pool: std::sync::OnceLock::from(None),
    };
    shared
        .process(Path::new("<stdin>"), input, Target::Stream(output))
        .map(|r| r.records)
}

/// Writes `buf`; a closed pipe stops the scan quietly, keeping the code earned so far.
fn write_out(out: &mut (dyn Write + Send), buf: &[u8], quit: &AtomicBool) {
    if buf.is_empty() {
        return;
    }
    if let Err(e) = out.write_all(buf) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            messages::error(None, &format!("writing output: {e}"));
        }
        quit.store(true, Ordering::Relaxed);
    }
}

impl<'a> Shared<'a> {
    fn skip(&self, reason: SkipReason) {
        if let Ok(mut s) = self.summary.lock() {
            *s.skipped.entry(reason.as_str()).or_insert(0) += 1;
        }
    }

    fn fail(&self, path: Option<&Path>, reason: &str) {
        messages::error(path, reason);
        if let Ok(mut s) = self.summary.lock() {
            s.errors += 1;
        }
    }

    fn scan_stdin(&self) {
        let path = Path::new("<stdin>");
        let writing = self.cfg.redact.as_ref().is_some_and(|r| !r.dry_run);
        let result = if writing {
            let mut stdout = io::stdout();
            self.process(path, Box::new(io::stdin()), Target::Stream(&mut stdout))
        } else {
            self.process(path, Box::new(io::stdin()), Target::None)
        };
        match result {
            Ok(r) => self.emit(r),
            Err(e) => self.fail(Some(path), &e),
        }
    }

    fn scan_haystack(&self, h: &Haystack) {
        let writing = self.cfg.redact.as_ref().filter(|r| !r.dry_run);
        // A file that changes under us is scanned again; three tries, then an error.
        for _ in 0..3 {
            if let Some(r) = writing
                && let Err(e) = redact::check_writable(&h.path, r.follow, &r.roots)
            {
                return self.fail(Some(&h.path), &e.to_string());
            }
            let file = match crate::source::open_to_read(&h.path) {
                Ok(f) => f,
                Err(e) => return self.fail(Some(&h.path), &walk::io_reason(&e)),
            };
            // The entry may have been swapped for a FIFO since it was walked; never read one.
            let opened = match file.metadata() {
                Ok(m) if m.is_file() => m,
                Ok(_) => return self.skip(SkipReason::Special),
                Err(e) => return self.fail(Some(&h.path), &walk::io_reason(&e)),
            };
            let len = opened.len();
            let target = match writing {
                Some(_) => Target::File(Box::new(Writer::Pending(opened))),
                None => Target::None,
            };
            // Scanning only: a file being masked is read, never mapped.
            let processed = if self.cfg.redact.is_none() {
                Source::open_file(file, len, self.cfg.decompress)
                    .map_err(|e| format!("cannot read: {}", walk::io_reason(&e)))
                    .and_then(|source| self.process_source(&h.path, source, target, 0))
            } else {
                self.process(&h.path, Box::new(file), target)
            };
            match processed {
                Ok(r) => return self.emit(r),
                Err(e) if e == CHANGED => continue,
                Err(e) => return self.fail(Some(&h.path), &e),
            }
        }
        self.fail(
            Some(&h.path),
            "kept changing while it was being masked; left as it is",
        )
    }

    /// Scans one input and, for `redact`, writes its masked form to `target`.
    fn process(
        &self,
        path: &Path,
        reader: Box<dyn Read + Send>,
        target: Target<'_>,
    ) -> Result<FileResult, String> {
        self.process_at(path, reader, target, 0)
    }

    /// [`Shared::process`] for an input nested `depth` archives deep.
    fn process_at(
        &self,
        path: &Path,
        reader: Box<dyn Read + Send>,
        target: Target<'_>,
        depth: usize,
    ) -> Result<FileResult, String> {
        // A stream is passed through byte for byte: no decompression, no decoding, and no
        // waiting for a first block to sniff.
        let source = if matches!(target, Target::Stream(_)) {
            Source::raw(reader)
        } else {
            Source::open(reader, self.cfg.decompress)
                .map_err(|e| format!("cannot read: {}", walk::io_reason(&e)))?
        };
        self.process_source(path, source, target, depth)
    }

    /// [`Shared::process_at`] for an input already opened and sniffed.
    fn process_source(
        &self,
        path: &Path,
        source: Source,
        mut target: Target<'_>,
        depth: usize,
    ) -> Result<FileResult, String> {
        // Shared by every record of the file.
        let display: Arc<str> = messages::escape_path(path).into();
        let stream = matches!(target, Target::Stream(_));
        if let Some(kind) = source.sniffed.archive.filter(|_| !stream) {
            let writing = matches!(target, Target::File(_));
            return self.process_archive(path, source, kind, depth, writing);
        }
        if source.sniffed.binary && !self.cfg.binary && !stream {
            self.skip(SkipReason::Binary);
            return Ok(FileResult::default());
        }
        if let Target::File(w) = &mut target {
            w.start(path, source.sniffed).map_err(|e| e.to_string())?;
        }
        let mut result = FileResult::default();
        let mut lines = LineTracker::default();
        let mut doc: Option<Document> = None;
        let mut write_err: Option<WriteError> = None;
        // Scanning a large file: chunks after the first are searched in batches on the pool.
        let batching = !stream && depth == 0 && self.cfg.redact.is_none() && !self.cfg.explain;
        let mut batch: Vec<OwnedChunk> = Vec::new();
        let mut spare: Vec<Vec<u8>> = Vec::new();
        let mut first_chunk = true;
        // The newlines of each block of the chunk being searched, counted by the detector.
        let mut newlines = BlockNewlines::default();
        // Full batches are searched on the pool while this thread reads the next one; their
        // findings come back here, each on its own channel, and are located in file order.
        let mut in_flight: std::collections::VecDeque<std::sync::mpsc::Receiver<SearchedBatch>> =
            std::collections::VecDeque::new();
        let pool = if batching { self.chunk_pool() } else { None };
        let detector = self.detector;
        let run = |scope: Option<&rayon::Scope<'a>>| {
            let each = |slot: &mut ChunkSlot<'_>| -> io::Result<()> {
                if crate::interrupted() {
                    return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
                }
                let doc = doc.get_or_insert_with(|| {
                    let first = slot
                        .chunk()
                        .bytes
                        .split(|&b| b == b'\n')
                        .next()
                        .unwrap_or_default();
                    self.detector.document(first)
                });
                if let Some(scope) = scope
                    && !std::mem::take(&mut first_chunk)
                    && let Some(owned) = slot.take(spare.pop().unwrap_or_default())
                {
                    batch.push(owned);
                    if batch.len() == PARALLEL_CHUNKS {
                        if in_flight.len() == BATCHES_IN_FLIGHT
                            && let Some(oldest) = in_flight.pop_front()
                        {
                            let done = oldest.recv().map_err(io::Error::other)?;
                            self.locate_batch(&done, &display, &mut lines, &mut result);
                            spare.extend(done.chunks.into_iter().map(OwnedChunk::into_buffer));
                        }
                        let (tx, rx) = std::sync::mpsc::sync_channel(1);
                        let (chunks, doc) = (std::mem::take(&mut batch), doc.clone());
                        scope.spawn(move |_| {
                            let _ = tx.send(search(detector, chunks, &doc));
                        });
                        in_flight.push_back(rx);
                    }
                    return Ok(());
                }
                let slot_chunk = slot.chunk();
                let (findings, verdicts, chunk) = if self.cfg.explain {
                    let (findings, verdicts) = self.detector.explain(slot_chunk.bytes, doc);
                    (findings, verdicts, slot_chunk)
                } else {
                    let findings =
                        self.detector
                            .find_counting_lines(slot_chunk.bytes, doc, &mut newlines);
                    (findings, Vec::new(), slot_chunk.with_newlines(&newlines))
                };
                let chunk = &chunk;
                let masked = self
                    .cfg
                    .redact
                    .as_ref()
                    .map(|r| self.masked_commit(chunk, &findings, r));
                self.locate_chunk(
                    chunk,
                    &findings,
                    verdicts,
                    masked.as_deref(),
                    &display,
                    &mut lines,
                    &mut result,
                );
                // Scanning a top-level file: pass findings on as they come. (redact keeps them
                // until the file is written, as a retry discards them; archive members are merged.)
                if self.cfg.redact.is_none()
                    && depth == 0
                    && result.records.len() + result.explained.len() >= 1000
                {
                    self.flush_findings(&mut result);
                }
                if let Some(masked) = masked {
                    let res = match &mut target {
                        Target::None => Ok(()),
                        Target::File(w) => w.chunk(chunk, &masked),
                        Target::Stream(s) => s.write_all(&masked).and_then(|()| s.flush()),
                    };
                    if let Err(e) = res {
                        write_err = Some(WriteError::Io(io::Error::new(e.kind(), e.to_string())));
                        return Err(e);
                    }
                }
                Ok(())
            };
            source.for_each_slot(self.cfg.chunk_size, stream, each)
        };
        let outcome = match pool {
            Some(pool) => pool.in_place_scope(|scope| run(Some(scope))),
            None => run(None),
        };
        if let Some(e) = write_err {
            return Err(format!("not written: {e}"));
        }
        if !crate::interrupted() {
            // The batches still searched, then the rest, in file order.
            for done in in_flight.iter().filter_map(|rx| rx.recv().ok()) {
                self.locate_batch(&done, &display, &mut lines, &mut result);
            }
            if let (Some(pool), Some(doc)) = (pool, &doc)
                && !batch.is_empty()
            {
                let done = pool.install(|| search(self.detector, batch, doc));
                self.locate_batch(&done, &display, &mut lines, &mut result);
            }
        }
        match outcome {
            Ok(n) => result.bytes = n,
            Err(_) if crate::interrupted() => {
                let what = if stream {
                    "output cut short"
                } else {
                    "file left as it was"
                };
                return Err(format!("interrupted; {what}"));
            }
            Err(e) => {
                // A truncated gzip: report what was read, and never rewrite from a partial
                // read (dropping the writer removes its temporary file).
                let n = result.reported + result.records.len() as u64;
                self.fail(
                    Some(path),
                    &format!("read error after {n} findings: {}", walk::io_reason(&e)),
                );
                return Ok(result);
            }
        }
        if let Target::File(w) = target {
            match w.finish() {
                Ok(changed) => result.changed = changed,
                Err(WriteError::Changed) => return Err(CHANGED.into()),
                Err(e) => return Err(format!("not written: {e}")),
            }
        }
        Ok(result)
    }

    /// The pool for the chunks of large files, if more than one thread is asked for.
    fn chunk_pool(&self) -> Option<&rayon::ThreadPool> {
        self.pool
            .get_or_init(|| build_chunk_pool(self.cfg.walk.threads))
            .as_ref()
    }

    /// Locates the findings of a searched batch in file order (line numbers are counted as
    /// for any other chunk).
    fn locate_batch(
        &self,
        done: &SearchedBatch,
        display: &Arc<str>,
        lines: &mut LineTracker,
        result: &mut FileResult,
    ) {
        for (owned, (findings, counted)) in done.chunks.iter().zip(&done.found) {
            let chunk = owned.chunk();
            let newlines = match counted {
                ChunkLines::Counted(counted) => {
                    lines.enter(&chunk);
                    lines.advance_counted(&chunk, *counted);
                    continue;
                }
                ChunkLines::PerBlock(newlines) => newlines,
            };
            let chunk = chunk.with_newlines(newlines);
            self.locate_chunk(&chunk, findings, Vec::new(), None, display, lines, result);
            if result.records.len() >= 1000 {
                self.flush_findings(result);
            }
        }
    }

    /// Returns true if and only if a record is in the baseline or an allowed path.
    fn known(&self, rec: &Record) -> bool {
        self.cfg.baseline.as_ref().is_some_and(|b| b.contains(rec))
    }

    /// Scans the staged version of the files about to be committed.
    fn scan_staged(&self) {
        let top = match crate::git::top_level(Path::new(".")) {
            Ok(t) => t,
            Err(e) => return self.fail(None, &format!("--staged: {e}")),
        };
        let files = match crate::git::staged_files(&top) {
            Ok(f) => f,
            Err(e) => return self.fail(None, &format!("--staged: {e}")),
        };
        for f in files {
            let path = PathBuf::from(&f.path);
            if self.path_allowed(&path) {
                continue;
            }
            match self.process(&path, Box::new(io::Cursor::new(f.data)), Target::None) {
                Ok(r) => self.emit(r),
                Err(e) => self.fail(Some(&path), &e),
            }
        }
    }

    /// Returns true if and only if the config allows every finding under `path`.
    fn path_allowed(&self, path: &Path) -> bool {
        self.cfg
            .allow_paths
            .as_ref()
            .is_some_and(|o| o.matched(path, false).is_whitelist())
    }

    /// Scans the lines added by each commit of `range`, reporting each card once per file, at
    /// the first commit that added it.
    fn scan_history(&self, range: &str) {
        let top = match crate::git::top_level(Path::new(".")) {
            Ok(t) => t,
            Err(e) => return self.fail(None, &format!("--git: {e}")),
        };
        let mut seen = std::collections::HashSet::new();
        let each = |a: crate::git::Added| {
            if self.path_allowed(Path::new(&a.path)) || crate::interrupted() {
                return;
            }
            let mut result = FileResult {
                bytes: a.text.len() as u64,
                ..FileResult::default()
            };
            let findings = self.detector.find(&a.text);
            for f in &findings {
                if !self.cfg.policy.reports(f.confidence) {
                    result.below_threshold += 1;
                    continue;
                }
                if crate::policy::allowed_by_comment(&a.text, f.span.start) {
                    result.allowed += 1;
                    continue;
                }
                let rec = crate::locate::history_record(&a, f);
                if self.known(&rec) {
                    result.baselined += 1;
                    continue;
                }
                if seen.insert((a.path.clone(), f.kind, f.fingerprint)) {
                    result.records.push(rec);
                }
            }
            self.emit(result);
        };
        if let Err(e) = crate::git::added_lines(&top, range, each) {
            self.fail(None, &e);
        }
    }

    /// Scans the members of an archive as files of their own (`archive.zip!dir/member.log`).
    /// `redact` does not rewrite archives: their findings are listed and reported as an error.
    fn process_archive(
        &self,
        path: &Path,
        source: Source,
        kind: crate::archive::ArchiveKind,
        depth: usize,
        writing: bool,
    ) -> Result<FileResult, String> {
        /// Archives inside archives are read this deep.
        const MAX_DEPTH: usize = 3;
        if depth >= MAX_DEPTH {
            return Err(format!(
                "archive nested more than {MAX_DEPTH} deep; not scanned"
            ));
        }
        let mut total = FileResult::default();
        let each = |name: &str, data: Vec<u8>| {
            let member = PathBuf::from(format!("{}!{}", path.display(), name));
            match self.process_at(
                &member,
                Box::new(io::Cursor::new(data)),
                Target::None,
                depth + 1,
            ) {
                Ok(r) => {
                    total.bytes += r.bytes;
                    total.below_threshold += r.below_threshold;
                    total.allowed += r.allowed;
                    total.baselined += r.baselined;
                    total.records.extend(r.records);
                    total.explained.extend(r.explained);
                }
                Err(e) => self.fail(Some(&member), &e),
            }
        };
        let problem = |name: &str, reason: &str| {
            self.fail(
                Some(&PathBuf::from(format!("{}!{}", path.display(), name))),
                reason,
            )
        };
        let limits = crate::archive::Limits::default();
        if let Err(e) =
            crate::archive::for_each_member(kind, source.into_reader(), limits, each, problem)
        {
            self.fail(Some(path), &e);
        }
        if writing && !total.records.is_empty() {
            total.not_written = true;
            self.fail(
                Some(path),
                &format!(
                    "an archive is not rewritten; its {} finding(s) are listed above and were NOT masked",
                    total.records.len()
                ),
            );
        }
        Ok(total)
    }

    /// Returns true if and only if `redact` masks this finding.
    fn masks(&self, f: &Finding, r: &RedactConfig) -> bool {
        self.cfg.policy.reports(f.confidence) && !(f.test_card && r.keep_test_cards)
    }

    /// The commit range of `chunk` with every finding to be masked masked.
    fn masked_commit(&self, chunk: &Chunk<'_>, findings: &[Finding], r: &RedactConfig) -> Vec<u8> {
        let window = Span::new(chunk.commit.start, chunk.commit.end);
        let mut out = chunk.bytes[chunk.commit.clone()].to_vec();
        let masked = findings.iter().filter(|f| {
            self.masks(f, r) && !crate::policy::allowed_by_comment(chunk.bytes, f.span.start)
        });
        for f in masked {
            mask::mask_finding(chunk.bytes, window, &mut out, f, r.spec);
        }
        out
    }

    /// Locates the findings that start in the commit range and adds them (or their
    /// verdicts, and for `--diff` their lines) to `result`.
    #[allow(clippy::too_many_arguments)]
    fn locate_chunk(
        &self,
        chunk: &Chunk<'_>,
        findings: &[Finding],
        verdicts: Vec<crate::detect::Verdict>,
        masked: Option<&[u8]>,
        path: &Arc<str>,
        lines: &mut LineTracker,
        result: &mut FileResult,
    ) {
        let in_commit = |s: &Span| chunk.commit.contains(&s.start);
        // Findings and verdicts in offset order, so the line tracker only moves forward.
        let mut fi = findings.iter().filter(|f| in_commit(&f.span)).peekable();
        let mut vi = verdicts
            .into_iter()
            .filter(|v| in_commit(&v.span))
            .peekable();
        let mut diffed_until = 0;
        lines.enter(chunk);
        loop {
            let take_f = match (fi.peek(), vi.peek()) {
                (Some(f), Some(v)) => f.span.start <= v.span.start,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_f {
                let Some(f) = fi.next() else { break };
                lines.advance(chunk, f.span.start);
                let shown = match &self.cfg.redact {
                    Some(r) => self.masks(f, r),
                    None => {
                        self.cfg.policy.reports(f.confidence)
                            && !(f.test_card && self.cfg.policy.hide_test_cards)
                    }
                };
                if !shown {
                    result.below_threshold += 1;
                    continue;
                }
                if crate::policy::allowed_by_comment(chunk.bytes, f.span.start) {
                    result.allowed += 1;
                    continue;
                }
                let rec = locate(chunk, lines, path, f);
                if self.known(&rec) {
                    result.baselined += 1;
                    continue;
                }
                result.records.push(rec);
                if let (Some(masked), Some(r)) = (masked, &self.cfg.redact)
                    && r.diff
                    && f.span.start >= diffed_until
                {
                    let d = diff_line(chunk, f, findings, masked, path, lines.line);
                    diffed_until = d.1;
                    result.diff.push(d.0);
                }
            } else {
                let Some(v) = vi.next() else { break };
                lines.advance(chunk, v.span.start);
                result.explained.push(ExplainRecord {
                    path: path.to_string(),
                    line: lines.line,
                    column: chunk.file_offset(v.span.start) - lines.line_start + 1,
                    masked: v.masked,
                    accepted: v.accepted,
                    reason: v.reason,
                });
            }
        }
        // Lines after the last finding are counted only for the findings of later chunks.
        if !chunk.last {
            lines.advance(chunk, chunk.commit.end);
        }
    }

    /// Writes and counts the findings, verdicts and diff lines gathered so far, and empties
    /// them: a file with a million findings must not hold them all.
    fn flush_findings(&self, result: &mut FileResult) {
        // The file's output buffer, kept from one flush to the next: a digit-dense file
        // flushes every thousand findings, and a fresh buffer of a few hundred KiB each time
        // was fresh memory (page faults) each time.
        let mut buf = std::mem::take(&mut result.out);
        buf.clear();
        for e in &result.explained {
            explain_line(e, &self.cfg.style, &mut buf);
        }
        self.reporter.file(&result.records, &mut buf);
        for d in &result.diff {
            crate::report::text::diff_line(d, &self.cfg.style, &mut buf);
        }
        if let Ok(mut s) = self.summary.lock() {
            if result.not_written {
                s.not_masked += result.records.len() as u64;
            }
            s.findings.add_records(&result.records);
            for r in &result.records {
                s.test_cards += u64::from(r.test_card);
                s.failing += u64::from(match &self.cfg.redact {
                    // What --dry-run would mask fails it; a real run that masked all is clean.
                    Some(rc) => rc.dry_run,
                    None => self.cfg.policy.fails(r.confidence, r.test_card),
                });
            }
        }
        result.reported += result.records.len() as u64;
        result.explained.clear();
        result.diff.clear();
        if self.reporter.collects() || self.cfg.collect {
            let records = std::mem::take(&mut result.records);
            if let Ok(mut c) = self.collected.lock() {
                c.extend(records);
            }
        } else {
            // Kept for the next thousand, as the buffer is.
            result.records.clear();
        }
        if let Ok(mut out) = self.out.lock() {
            self.progress
                .suspend(|| write_out(&mut **out, &buf, &self.quit));
        }
        result.out = buf;
    }

    fn emit(&self, mut result: FileResult) {
        self.flush_findings(&mut result);
        if let Ok(mut s) = self.summary.lock() {
            // The findings are in the summary already: `flush_findings` counted them.
            self.progress.update(&s, result.bytes);
            s.files_scanned += 1;
            s.bytes_scanned += result.bytes;
            s.below_threshold += result.below_threshold;
            s.files_changed += u64::from(result.changed);
            s.allowed += result.allowed;
            s.baselined += result.baselined;
        }
    }
}

/// The error text that asks for a file to be scanned again.
const CHANGED: &str = "changed while being masked";

/// The line holding `f`, before and after masking, with card data masked on both sides
/// (the "before" side shows each finding's display form in brackets), and where the line ends.
fn diff_line(
    chunk: &Chunk<'_>,
    f: &Finding,
    findings: &[Finding],
    masked: &[u8],
    path: &str,
    line: u64,
) -> (DiffLine, usize) {
    let base = chunk.commit.start;
    let bytes = chunk.bytes;
    let ls = memchr::memrchr(b'\n', &bytes[base..f.span.start]).map_or(base, |i| base + i + 1);
    let le = memchr::memchr(b'\n', &bytes[f.span.start..chunk.commit.end])
        .map_or(chunk.commit.end, |i| f.span.start + i);
    // At most about 200 bytes of a long line, around the finding.
    let lo = ls.max(f.span.start.saturating_sub(100));
    let hi = le.min(f.region.end.max(f.span.end) + 100);
    let d = DiffLine {
        path: path.to_string(),
        line,
        before: mask::display_line(bytes, Span::new(lo, hi), findings),
        after: mask::scrub(&masked[lo - base..hi - base]),
    };
    (d, le)
}
