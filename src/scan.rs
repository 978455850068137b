//! The scan loop: walk → source → detect → policy → reporter. The only place threads exist
//! (the walker's pool runs the per-file work).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::detect::{Detector, Document};
use crate::exit::ExitCode;
use crate::finding::{Finding, Span};
use crate::messages;
use crate::policy::Policy;
use crate::report::text::{Style, explain_line};
use crate::report::{CvvLocation, ExplainRecord, Record, Reporter, Summary};
use crate::source::{CHUNK_SIZE, Chunk, Source};
use crate::walk::{self, Flow, Haystack, SkipReason, Visit, WalkOptions};

/// Everything a scan needs to know, built once from the command line.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// Paths to scan; `-` is standard input.
    pub paths: Vec<std::path::PathBuf>,
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
        }
    }
}

/// What one file gave.
#[derive(Default)]
struct FileResult {
    records: Vec<Record>,
    explained: Vec<ExplainRecord>,
    below_threshold: u64,
    bytes: u64,
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
}

/// Scans every configured path, writing findings to `out`; returns the summary and the
/// exit code earned.
pub fn scan(
    cfg: &ScanConfig,
    detector: &Detector,
    reporter: &dyn Reporter,
    out: &mut (dyn Write + Send),
) -> (Summary, ExitCode) {
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
    };
    let (stdin, paths): (Vec<_>, Vec<_>) =
        cfg.paths.iter().cloned().partition(|p| walk::is_stdin(p));
    if !stdin.is_empty() {
        shared.scan_reader(Path::new("<stdin>"), Box::new(io::stdin()));
    }
    let visit = |v: Visit| -> Flow {
        if shared.quit.load(Ordering::Relaxed) {
            return Flow::Quit;
        }
        match v {
            Visit::File(h) => shared.scan_haystack(&h),
            Visit::Skipped(path, reason) => {
                if reason == SkipReason::SymlinkLoop {
                    messages::warn(Some(&path), "symlink loop, not followed again");
                }
                shared.skip(reason);
            }
            Visit::Error(path, reason) => {
                messages::error(path.as_deref(), &reason);
                shared.summary.lock().map(|mut s| s.errors += 1).ok();
            }
        }
        if shared.quit.load(Ordering::Relaxed) {
            Flow::Quit
        } else {
            Flow::Continue
        }
    };
    if let Err(e) = walk::walk_parallel(&paths, &cfg.walk, &visit) {
        messages::error(None, &e);
    }
    shared.progress.finish();
    let mut summary = shared
        .summary
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    summary.elapsed = start.elapsed();
    let mut all = shared
        .collected
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let out = shared.out.into_inner().unwrap_or_else(|e| e.into_inner());
    if reporter.collects() {
        all.sort_by(|a, b| (&a.path, a.offset).cmp(&(&b.path, b.offset)));
        let mut buf = Vec::new();
        reporter.finish(&all, &summary, &mut buf);
        write_out(out, &buf, &shared.quit);
    }
    let _ = out.flush();
    let code = if messages::errored() {
        ExitCode::Error
    } else if summary.failing > 0 {
        ExitCode::Findings
    } else {
        ExitCode::Clean
    };
    (summary, code)
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

impl Shared<'_> {
    fn skip(&self, reason: SkipReason) {
        if let Ok(mut s) = self.summary.lock() {
            *s.skipped.entry(reason.as_str()).or_insert(0) += 1;
        }
    }

    fn scan_haystack(&self, h: &Haystack) {
        let file = match File::open(&h.path) {
            Ok(f) => f,
            Err(e) => return self.fail(&h.path, &walk::io_reason(&e)),
        };
        // The entry may have been swapped for a FIFO since it was walked; never read one.
        match file.metadata() {
            Ok(m) if m.is_file() => {}
            Ok(_) => return self.skip(SkipReason::Special),
            Err(e) => return self.fail(&h.path, &walk::io_reason(&e)),
        }
        self.scan_reader(&h.path, Box::new(file));
    }

    fn fail(&self, path: &Path, reason: &str) {
        messages::error(Some(path), reason);
        if let Ok(mut s) = self.summary.lock() {
            s.errors += 1;
        }
    }

    fn scan_reader(&self, path: &Path, reader: Box<dyn Read + Send>) {
        let display = messages::escape_path(path);
        let source = match Source::open(reader, self.cfg.decompress) {
            Ok(s) => s,
            Err(e) => return self.fail(path, &format!("cannot read: {}", walk::io_reason(&e))),
        };
        if source.sniffed.binary && !self.cfg.binary {
            return self.skip(SkipReason::Binary);
        }
        let mut result = FileResult::default();
        let mut lines = LineTracker::default();
        let mut doc: Option<Document> = None;
        let outcome = source.for_each_chunk(self.cfg.chunk_size, |chunk| {
            let doc = doc.get_or_insert_with(|| {
                let first = chunk
                    .bytes
                    .split(|&b| b == b'\n')
                    .next()
                    .unwrap_or_default();
                self.detector.document(first)
            });
            self.scan_chunk(chunk, doc, &display, &mut lines, &mut result);
            Ok(())
        });
        match outcome {
            Ok(n) => result.bytes = n,
            Err(e) => self.fail(
                path,
                &format!(
                    "read error after {} findings: {}",
                    result.records.len(),
                    walk::io_reason(&e)
                ),
            ),
        }
        self.emit(result);
    }

    fn scan_chunk(
        &self,
        chunk: &Chunk<'_>,
        doc: &Document,
        path: &str,
        lines: &mut LineTracker,
        result: &mut FileResult,
    ) {
        let in_commit = |s: &Span| chunk.commit.contains(&s.start);
        let (findings, verdicts) = if self.cfg.explain {
            self.detector.explain(chunk.bytes, doc)
        } else {
            (self.detector.find_in(chunk.bytes, doc), Vec::new())
        };
        // Findings and verdicts in offset order, so the line tracker only moves forward.
        let mut fi = findings
            .into_iter()
            .filter(|f| in_commit(&f.span))
            .peekable();
        let mut vi = verdicts
            .into_iter()
            .filter(|v| in_commit(&v.span))
            .peekable();
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
                let rec = locate(chunk, lines, path, &f);
                if self.cfg.policy.reports(f.confidence) {
                    result.records.push(rec);
                } else {
                    result.below_threshold += 1;
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
        lines.advance(chunk, chunk.commit.end);
    }

    fn emit(&self, result: FileResult) {
        let mut buf = Vec::new();
        for e in &result.explained {
            explain_line(e, &self.cfg.style, &mut buf);
        }
        self.reporter.file(&result.records, &mut buf);
        if let Ok(mut s) = self.summary.lock() {
            self.progress
                .update(&s, result.bytes, result.records.len() as u64);
            s.files_scanned += 1;
            s.bytes_scanned += result.bytes;
            s.below_threshold += result.below_threshold;
            for r in &result.records {
                *s.findings.by_kind.entry(r.kind.as_str()).or_insert(0) += 1;
                if let Some(b) = &r.brand {
                    *s.findings.by_brand.entry(b.to_string()).or_insert(0) += 1;
                }
                s.test_cards += u64::from(r.test_card);
                s.failing += u64::from(self.cfg.policy.fails(r.confidence, r.test_card));
            }
        }
        if self.reporter.collects()
            && let Ok(mut c) = self.collected.lock()
        {
            c.extend(result.records);
        }
        if let Ok(mut out) = self.out.lock() {
            self.progress
                .suspend(|| write_out(&mut **out, &buf, &self.quit));
        }
    }
}

/// Tracks the line number and line start as chunks go by, counting each newline once.
#[derive(Debug)]
struct LineTracker {
    /// 1-based line at `pos_abs`.
    line: u64,
    /// Stored-file offset where the current line starts.
    line_start: u64,
    /// Decoded-stream offset the count has reached.
    pos_abs: u64,
    /// `pos_abs` as an index into the current chunk.
    pos: usize,
}

impl Default for LineTracker {
    fn default() -> LineTracker {
        LineTracker {
            line: 1,
            line_start: 0,
            pos_abs: 0,
            pos: 0,
        }
    }
}

impl LineTracker {
    fn enter(&mut self, chunk: &Chunk<'_>) {
        self.pos = (self.pos_abs.saturating_sub(chunk.offset)) as usize;
    }

    fn advance(&mut self, chunk: &Chunk<'_>, to: usize) {
        if to <= self.pos {
            return;
        }
        let seg = &chunk.bytes[self.pos..to];
        let n = count_newlines(seg);
        if n > 0 {
            self.line += n as u64;
            if let Some(i) = memchr::memrchr(b'\n', seg) {
                self.line_start = chunk.file_offset(self.pos + i + 1);
            }
        }
        self.pos_abs += (to - self.pos) as u64;
        self.pos = to;
    }
}

/// Counts `\n` bytes. Sums in `u8` lanes over blocks of 255 bytes so the compiler
/// vectorises it 16–32 bytes at a time (a `usize` sum widens every lane to 64 bits).
fn count_newlines(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|c| {
            c.iter()
                .fold(0u8, |a, &b| a.wrapping_add(u8::from(b == b'\n'))) as usize
        })
        .sum()
}

/// Turns a finding (spans in chunk coordinates) into a located record.
fn locate(chunk: &Chunk<'_>, lines: &LineTracker, path: &str, f: &Finding) -> Record {
    let start = chunk.file_offset(f.span.start);
    let end = chunk.file_offset(f.span.end);
    let cvv = f.cvv.map(|c| {
        let (line, line_start) = if c.start >= f.span.start {
            let seg = &chunk.bytes[f.span.start..c.start];
            let n = count_newlines(seg) as u64;
            let ls = memchr::memrchr(b'\n', seg).map_or(lines.line_start, |i| {
                chunk.file_offset(f.span.start + i + 1)
            });
            (lines.line + n, ls)
        } else {
            let n = count_newlines(&chunk.bytes[c.start..f.span.start]) as u64;
            let ls = memchr::memrchr(b'\n', &chunk.bytes[..c.start])
                .map_or(chunk.file_offset(0), |i| chunk.file_offset(i + 1));
            (lines.line - n, ls)
        };
        CvvLocation {
            line,
            column: chunk.file_offset(c.start) - line_start + 1,
            length: chunk.file_offset(c.end) - chunk.file_offset(c.start),
        }
    });
    Record {
        path: path.to_string(),
        line: lines.line,
        column: start - lines.line_start + 1,
        offset: start,
        length: end - start,
        kind: f.kind,
        brand: f.brand.clone(),
        masked: f.masked.clone(),
        confidence: f.confidence,
        test_card: f.test_card,
        cvv,
        fingerprint: f.fingerprint,
    }
}

/// A progress line on stderr (files, bytes, findings, rate), shown only once a scan has run
/// for a moment so quick scans stay silent.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    shown: AtomicBool,
}

impl Progress {
    /// How long a scan runs before the progress line appears.
    const DELAY: std::time::Duration = std::time::Duration::from_millis(500);

    fn new(enabled: bool, start: Instant) -> Progress {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::hidden(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            start,
            shown: AtomicBool::new(false),
        }
    }

    fn update(&self, s: &Summary, bytes: u64, findings: u64) {
        let Some(bar) = &self.bar else { return };
        let elapsed = self.start.elapsed();
        if !self.shown.load(Ordering::Relaxed) && elapsed >= Self::DELAY {
            self.shown.store(true, Ordering::Relaxed);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
        let total = s.bytes_scanned + bytes;
        let mb_s = total as f64 / 1e6 / elapsed.as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "{} files, {:.1} MB, {} findings, {:.0} MB/s",
            s.files_scanned + 1,
            total as f64 / 1e6,
            s.findings.by_kind.values().sum::<u64>() + findings,
            mb_s
        ));
    }

    fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) if self.shown.load(Ordering::Relaxed) => bar.suspend(f),
            _ => f(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
