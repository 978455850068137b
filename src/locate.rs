//! Locating findings: 1-based lines and byte columns of the decoded text, byte offsets of
//! the file, counted once per byte as chunks go by.

use std::sync::Arc;

use crate::detect::lines::newlines_in;
use crate::finding::Finding;
use crate::report::{CvvLocation, Record};
use crate::source::Chunk;

/// Tracks the line number and line start as chunks go by, counting each newline once.
#[derive(Debug)]
pub struct LineTracker {
    /// 1-based line at `pos_abs`.
    pub line: u64,
    /// Stored-file offset where the current line starts.
    pub line_start: u64,
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
    /// Moves to a new chunk (the count carries over).
    pub fn enter(&mut self, chunk: &Chunk<'_>) {
        self.pos = (self.pos_abs.saturating_sub(chunk.offset)) as usize;
    }

    /// [`LineTracker::advance`] to `counted.to`, with the newlines already counted when the
    /// count starts where the tracker is (it counts them itself otherwise).
    pub fn advance_counted(&mut self, chunk: &Chunk<'_>, counted: Newlines) {
        if counted.from == self.pos && counted.to >= self.pos {
            self.add(chunk, counted);
        } else {
            self.advance(chunk, counted.to);
        }
    }

    /// Counts lines up to `to` (an index into the chunk).
    pub fn advance(&mut self, chunk: &Chunk<'_>, to: usize) {
        if to > self.pos {
            self.add(chunk, Newlines::count(chunk, self.pos, to));
        }
    }

    /// Moves to the end of `counted`, which starts where the tracker is.
    fn add(&mut self, chunk: &Chunk<'_>, counted: Newlines) {
        self.line += counted.count as u64;
        if let Some(i) = counted.last {
            self.line_start = chunk.file_offset(i + 1);
        }
        self.pos_abs += (counted.to - self.pos) as u64;
        self.pos = counted.to;
    }
}

/// The newlines of a range of a chunk, counted where the chunk was searched (on the pool,
/// while its bytes are in that core's cache) for [`LineTracker::advance_counted`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Newlines {
    /// Where the range starts and ends in the chunk.
    from: usize,
    to: usize,
    /// How many there are.
    count: usize,
    /// The index in the chunk of the last one.
    last: Option<usize>,
}

impl Newlines {
    /// The newlines of `chunk.bytes[from..to]`, from the detector's counts where the chunk
    /// has them.
    pub fn count(chunk: &Chunk<'_>, from: usize, to: usize) -> Newlines {
        let (count, last) = match chunk.newlines {
            Some(counts) => counts.count(chunk.bytes, from, to),
            None => newlines_in(chunk.bytes, from, to),
        };
        Newlines {
            from,
            to,
            count,
            last,
        }
    }
}

/// Counts `\n` bytes: every byte a scan reads goes through here once, to number lines.
/// `bytecount` picks an AVX2 loop at run time where the CPU has it (twice the speed of
/// the compiler's SSE2 vectorisation of a plain count, measured on 1 MiB of logs).
pub fn count_newlines(bytes: &[u8]) -> usize {
    bytecount::count(bytes, b'\n')
}

/// Turns a finding (spans in chunk coordinates) into a located record.
pub fn locate(chunk: &Chunk<'_>, lines: &LineTracker, path: &Arc<str>, f: &Finding) -> Record {
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
    let at = Location {
        line: lines.line,
        column: start - lines.line_start + 1,
        offset: start,
        length: end - start,
    };
    record(Arc::clone(path), f, at, cvv, None)
}

/// Where a finding is: 1-based line and byte column, byte offset and length.
struct Location {
    line: u64,
    column: u64,
    offset: u64,
    length: u64,
}

/// A record of `f` at `at`; the one place a finding becomes a record.
fn record(
    path: Arc<str>,
    f: &Finding,
    at: Location,
    cvv: Option<CvvLocation>,
    commit: Option<(String, String)>,
) -> Record {
    Record {
        path,
        line: at.line,
        column: at.column,
        offset: at.offset,
        length: at.length,
        kind: f.kind,
        brand: f.brand,
        masked: f.masked,
        confidence: f.confidence,
        test_card: f.test_card,
        cvv,
        fingerprint: f.fingerprint,
        commit,
    }
}

/// A finding in the lines a commit added, located in the file after that commit (`offset` is
/// 0: the added lines are not a file).
pub fn history_record(a: &crate::git::Added, f: &Finding) -> Record {
    let text = &a.text;
    // (line in the file, 1-based column) of byte `i` of the added text.
    let place = |i: usize| {
        let idx = count_newlines(&text[..i]);
        let line_start = memchr::memrchr(b'\n', &text[..i]).map_or(0, |n| n + 1);
        (
            a.lines.get(idx).copied().unwrap_or(0),
            (i - line_start + 1) as u64,
        )
    };
    let (line, column) = place(f.span.start);
    let cvv = f.cvv.map(|c| {
        let (line, column) = place(c.start);
        CvvLocation {
            line,
            column,
            length: c.len() as u64,
        }
    });
    let at = Location {
        line,
        column,
        offset: 0,
        length: f.span.len() as u64,
    };
    record(
        a.path.as_str().into(),
        f,
        at,
        cvv,
        Some((a.commit.clone(), a.date.clone())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    #[test]
    fn lines_counted_on_the_pool_number_lines_as_counting_here_does() {
        let text: String = (0..20_000)
            .map(|i| format!("line {i}{}\n", "x".repeat(i % 97)))
            .collect();
        let src = Source::open(Box::new(std::io::Cursor::new(text.into_bytes())), false).unwrap();
        let (mut here, mut counted) = (LineTracker::default(), LineTracker::default());
        let mut chunks = 0;
        src.for_each_chunk(1 << 14, |c| {
            here.enter(c);
            here.advance(c, c.commit.end);
            counted.enter(c);
            // Every third count starts past the tracker, which then counts itself.
            let from = c.commit.start + usize::from(chunks % 3 == 2);
            counted.advance_counted(c, Newlines::count(c, from, c.commit.end));
            assert_eq!(
                (here.line, here.line_start),
                (counted.line, counted.line_start)
            );
            chunks += 1;
            Ok(())
        })
        .unwrap();
        assert!(chunks > 10);
        assert_eq!(here.line, 20_001);
    }
}
