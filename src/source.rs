//! Sources: an open file or stdin → sniffed container and encoding → overlapping [`Chunk`]s.
//!
//! Memory is bounded whatever the input: a buffer of [`CHUNK_SIZE`] plus the carried overlap,
//! even for a file with no newline. Findings are decided on whole buffers; each buffer
//! *commits* only the findings that start in its commit range, and the overlap gives the
//! detector [`crate::detect::CONTEXT`] bytes on both sides of that range, so a card number
//! split across two reads is found exactly once. Never writes.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::ops::Range;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::detect::CONTEXT;
use crate::detect::lines::BlockNewlines;
use crate::mapped::MappedFile;

/// Bytes read per buffer (before the carried overlap).
pub const CHUNK_SIZE: usize = 1 << 20;
/// Bytes sniffed for compression, BOMs and NUL bytes (ripgrep looks at its first buffer).
pub const SNIFF_SIZE: usize = 8 << 10;

/// How the bytes of a source are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// As they are.
    Plain,
    /// gzip, possibly several members (`cat a.gz b.gz`).
    Gzip,
    /// Zstandard, possibly several frames.
    Zstd,
    /// bzip2, possibly several streams.
    Bzip2,
    /// xz, possibly several streams.
    Xz,
}

impl Container {
    /// Recognises a compressed file by its magic bytes (never by its name).
    pub fn sniff(head: &[u8]) -> Container {
        match head {
            [0x1f, 0x8b, ..] => Container::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Container::Zstd,
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Container::Bzip2,
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Container::Xz,
            _ => Container::Plain,
        }
    }

    /// A reader of the decompressed bytes of `raw`.
    fn decoder(self, raw: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Container::Plain => raw,
            Container::Gzip => Box::new(MultiGzDecoder::new(raw)),
            Container::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
            Container::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(raw)),
            Container::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(raw)),
        })
    }
}

/// How the text is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// ASCII-compatible bytes (UTF-8, Latin-1, Shift_JIS digits…): searched as they are.
    Bytes,
    /// UTF-16 little-endian, with a BOM.
    Utf16Le,
    /// UTF-16 big-endian, with a BOM.
    Utf16Be,
}

/// What sniffing the first block found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// Compression.
    pub container: Container,
    /// Text encoding.
    pub encoding: Encoding,
    /// A NUL byte in the first block of a non-UTF-16 source.
    pub binary: bool,
    /// A UTF-16 source starts with a byte-order mark.
    pub bom: bool,
    /// A zip or tar archive (after decompression), when archives are read.
    pub archive: Option<crate::archive::ArchiveKind>,
}

/// Recognises UTF-16 without a byte-order mark (Windows event exports): in text of ASCII
/// characters, every other byte is NUL. Needs 64+ bytes, at least 90% of the high bytes NUL
/// and almost no NUL low bytes.
fn utf16_without_bom(head: &[u8]) -> Option<Encoding> {
    let n = head.len() / 2;
    // No NUL at all, the usual case, is found at memchr speed.
    if n < 32 || memchr::memchr(0, head).is_none() {
        return None;
    }
    let zeros = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .take(n)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    if odd * 10 >= n * 9 && even * 20 < n {
        Some(Encoding::Utf16Le)
    } else if even * 10 >= n * 9 && odd * 20 < n {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

/// One buffer of decoded text and the part of it this buffer is responsible for.
pub struct Chunk<'a> {
    /// Decoded bytes (UTF-8 for UTF-16 sources).
    pub bytes: &'a [u8],
    /// Findings starting in this range belong to this chunk.
    pub commit: Range<usize>,
    /// Offset of `bytes[0]` in the decoded (decompressed) stream.
    pub offset: u64,
    /// Whether this is the last chunk of the source.
    pub last: bool,
    /// For UTF-16 sources: the offset in the stored file of each decoded byte.
    map: Option<&'a [u64]>,
    /// Stored-file offset one past the last decoded byte (UTF-16 only).
    map_end: u64,
    /// The newlines of each block of `bytes`, if the detector counted them.
    pub newlines: Option<&'a BlockNewlines>,
}

/// A chunk as it is handed to the callback of [`Source::for_each_slot`]: in the
/// reader's buffer (or the file's map), which the callback may take.
pub struct ChunkSlot<'a> {
    bytes: SlotBytes<'a>,
    commit: Range<usize>,
    offset: u64,
    last: bool,
    map: Option<&'a [u64]>,
    map_end: u64,
    /// The next buffer starts with the bytes from here on.
    keep_from: usize,
    taken: bool,
}

/// Where the bytes of a [`ChunkSlot`] are.
enum SlotBytes<'a> {
    /// In the reader's buffer.
    Read(&'a mut Vec<u8>),
    /// In a mapped file: this range of it, and the part of the file no later chunk reads.
    Mapped(&'a Arc<MappedFile>, Range<usize>, Range<usize>),
}

impl ChunkSlot<'_> {
    /// The chunk.
    pub fn chunk(&self) -> Chunk<'_> {
        Chunk {
            bytes: match &self.bytes {
                SlotBytes::Read(buf) => buf,
                SlotBytes::Mapped(file, range, _) => &file.bytes()[range.clone()],
            },
            commit: self.commit.clone(),
            offset: self.offset,
            last: self.last,
            map: self.map,
            map_end: self.map_end,
            newlines: None,
        }
    }

    /// Whether [`ChunkSlot::take`] gives the chunk: not for a UTF-16 source, whose offset
    /// map stays with the reader.
    pub fn can_take(&self) -> bool {
        self.map.is_none() && !self.taken
    }

    /// The chunk with its buffer, without copying it; reading goes on in `spare` (a
    /// buffer given back by [`OwnedChunk::into_buffer`], so that a large file does not
    /// allocate and fault in fresh memory for every chunk), into which only the look-back
    /// the next chunk needs is copied. A chunk of a mapped file is shared, not moved.
    /// `None` unless [`ChunkSlot::can_take`].
    pub fn take(&mut self, mut spare: Vec<u8>) -> Option<OwnedChunk> {
        if !self.can_take() {
            return None;
        }
        self.taken = true;
        let bytes = match &mut self.bytes {
            SlotBytes::Read(buf) => {
                spare.clear();
                spare.reserve(buf.capacity());
                spare.extend_from_slice(&buf[self.keep_from.min(buf.len())..]);
                OwnedBytes::Read(std::mem::replace(buf, spare))
            }
            SlotBytes::Mapped(file, range, done) => OwnedBytes::Mapped(MappedRange {
                file: Arc::clone(file),
                range: range.clone(),
                done: done.clone(),
            }),
        };
        Some(OwnedChunk {
            bytes,
            commit: self.commit.clone(),
            offset: self.offset,
            last: self.last,
        })
    }
}

/// A chunk of a plain (not UTF-16) source taken out of the reader, so that several chunks of
/// one large file can be searched at the same time.
pub struct OwnedChunk {
    bytes: OwnedBytes,
    commit: Range<usize>,
    offset: u64,
    last: bool,
}

/// Where the bytes of an [`OwnedChunk`] are.
enum OwnedBytes {
    /// A buffer of their own.
    Read(Vec<u8>),
    /// A range of a mapped file.
    Mapped(MappedRange),
}

/// A chunk's range of a mapped file, whose pages are released
/// ([`MappedFile::release`]) when the chunk is dropped.
struct MappedRange {
    file: Arc<MappedFile>,
    range: Range<usize>,
    /// The part no later chunk reads.
    done: Range<usize>,
}

impl Drop for MappedRange {
    fn drop(&mut self) {
        self.file.release(self.done.clone());
    }
}

impl OwnedChunk {
    /// The buffer, for [`ChunkSlot::take`] to read into again (an empty one for a chunk of
    /// a mapped file).
    pub fn into_buffer(self) -> Vec<u8> {
        match self.bytes {
            OwnedBytes::Read(buf) => buf,
            OwnedBytes::Mapped(..) => Vec::new(),
        }
    }

    /// The chunk again.
    pub fn chunk(&self) -> Chunk<'_> {
        Chunk {
            bytes: match &self.bytes {
                OwnedBytes::Read(buf) => buf,
                OwnedBytes::Mapped(m) => &m.file.bytes()[m.range.clone()],
            },
            commit: self.commit.clone(),
            offset: self.offset,
            last: self.last,
            map: None,
            map_end: 0,
            newlines: None,
        }
    }
}

impl Chunk<'_> {
    /// This chunk with the newlines of each block of its bytes, as the detector counted them
    /// ([`crate::detect::Detector::find_counting_lines`] on these bytes).
    pub fn with_newlines<'b>(&'b self, newlines: &'b BlockNewlines) -> Chunk<'b> {
        Chunk {
            bytes: self.bytes,
            commit: self.commit.clone(),
            newlines: Some(newlines),
            ..*self
        }
    }

    /// The offset in the file as stored (decompressed, for compressed files) of decoded
    /// byte `i` of this chunk; `i` may be `bytes.len()`.
    pub fn file_offset(&self, i: usize) -> u64 {
        match self.map {
            None => self.offset + i as u64,
            Some(m) => m.get(i).copied().unwrap_or(self.map_end),
        }
    }
}

/// Reads up to `n` bytes, retrying on interruption; fewer only at end of input.
fn read_up_to(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut v = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut v)?;
    Ok(v)
}

/// Opens the file at `path` to be read. Never blocks: on Unix the file is opened
/// non-blocking, as opening a FIFO (one swapped in for a file since the walk saw it) would
/// otherwise wait for a process to write to it, for ever. That changes nothing for a regular
/// file; the caller checks what it opened before reading it.
pub fn open_to_read(path: &std::path::Path) -> io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK | libc::O_NOCTTY);
    opts.open(path)
}

/// An opened, sniffed source ready to be chunked.
pub struct Source {
    reader: Box<dyn Read + Send>,
    /// The file's map, when it is read through one (then `reader` is not used).
    mapped: Option<Arc<MappedFile>>,
    /// What sniffing found.
    pub sniffed: Sniffed,
}

/// What the first bytes of an input say about its encoding, NUL bytes and archive format.
fn sniff_text(head: &[u8], decompress: bool, container: Container) -> Sniffed {
    let (encoding, bom) = match head.get(..2) {
        Some([0xff, 0xfe]) => (Encoding::Utf16Le, true),
        Some([0xfe, 0xff]) => (Encoding::Utf16Be, true),
        _ => (utf16_without_bom(head).unwrap_or(Encoding::Bytes), false),
    };
    let binary = encoding == Encoding::Bytes && memchr::memchr(0, head).is_some();
    let archive = if decompress {
        crate::archive::sniff(head)
    } else {
        None
    };
    Sniffed {
        container,
        encoding,
        binary,
        bom,
        archive,
    }
}

impl Source {
    /// [`Source::open`] for a regular file of `len` bytes, read through a map where that
    /// pays ([`crate::mapped`]): a file of [`crate::mapped::MAP_MIN`] bytes or more that is
    /// plain bytes (not compressed, UTF-16 or an archive). Only for reading: a map is never
    /// written through.
    pub fn open_file(file: File, len: u64, decompress: bool) -> io::Result<Source> {
        // A file that cannot be mapped (a file system without maps) is read instead.
        if let Ok(Some(map)) = MappedFile::open(&file, len) {
            let head = &map.bytes()[..map.bytes().len().min(SNIFF_SIZE)];
            let container = if decompress {
                Container::sniff(head)
            } else {
                Container::Plain
            };
            let sniffed = sniff_text(head, decompress, container);
            if container == Container::Plain
                && sniffed.encoding == Encoding::Bytes
                && sniffed.archive.is_none()
            {
                return Ok(Source {
                    reader: Box::new(io::empty()),
                    mapped: Some(Arc::new(map)),
                    sniffed,
                });
            }
        }
        // Read no further than the length the file had when it was opened, as a map does:
        // that saves the read that would only find the end (a system call per small file).
        // A file of length 0 may still hold bytes (`/proc`): it is read to its end.
        let raw: Box<dyn Read + Send> = if len > 0 {
            Box::new(file.take(len))
        } else {
            Box::new(file)
        };
        Source::open(raw, decompress)
    }

    /// Sniffs `raw` (a file or stdin) and prepares to decode it; `decompress` allows gzip.
    pub fn open(mut raw: Box<dyn Read + Send>, decompress: bool) -> io::Result<Source> {
        let head = read_up_to(&mut raw, SNIFF_SIZE)?;
        let container = if decompress {
            Container::sniff(&head)
        } else {
            Container::Plain
        };
        let (mut reader, head): (Box<dyn Read + Send>, Vec<u8>) = if container != Container::Plain {
            let mut dec = container.decoder(Box::new(Cursor::new(head).chain(raw)))?;
            // A corrupt header shows here; what follows is reported by the chunk loop.
            let inner = read_up_to(&mut dec, SNIFF_SIZE)?;
            (dec, inner)
        } else if head.len() < SNIFF_SIZE {
            // The read that filled the head met the end: the head is the whole input.
            // Reading on would cost two more system calls that return nothing, per small
            // file (a tenth of the time per file for 100,000 small files).
            (Box::new(io::empty()), head)
        } else {
            (raw, head)
        };
        let sniffed = sniff_text(&head, decompress, container);
        reader = Box::new(Cursor::new(head).chain(reader));
        Ok(Source {
            reader,
            mapped: None,
            sniffed,
        })
    }

    /// The decoded (decompressed) byte stream, for reading an archive's members.
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        match self.mapped {
            Some(map) => Box::new(Cursor::new(MappedBytes(map))),
            None => self.reader,
        }
    }

    /// A source passed through as it is, with no sniffing: for live streams, where waiting
    /// for a first block would hold back the first lines.
    pub fn raw(reader: Box<dyn Read + Send>) -> Source {
        Source {
            reader,
            mapped: None,
            sniffed: Sniffed {
                container: Container::Plain,
                encoding: Encoding::Bytes,
                binary: false,
                bom: false,
                archive: None,
            },
        }
    }

    /// Feeds every chunk to `f`, in order. On a read error (a truncated gzip, say) the bytes
    /// read before it are still fed, then the error is returned.
    pub fn for_each_chunk(
        self,
        chunk_size: usize,
        mut f: impl FnMut(&Chunk<'_>) -> io::Result<()>,
    ) -> io::Result<u64> {
        self.chunks(chunk_size, false, |slot| f(&slot.chunk()))
    }

    /// [`Source::for_each_chunk`] (or [`Source::for_each_line_batch`] if `by_line`), where
    /// `f` may keep a chunk's buffer with [`ChunkSlot::take`] instead of copying it (the
    /// chunks of a large file searched on other threads).
    pub fn for_each_slot(
        self,
        chunk_size: usize,
        by_line: bool,
        f: impl FnMut(&mut ChunkSlot<'_>) -> io::Result<()>,
    ) -> io::Result<u64> {
        self.chunks(chunk_size, by_line, f)
    }

    /// Like [`Source::for_each_chunk`], but hands on every complete line as soon as it has
    /// been read (and at most `chunk_size` bytes of a line without end), for live pipelines.
    pub fn for_each_line_batch(
        self,
        chunk_size: usize,
        mut f: impl FnMut(&Chunk<'_>) -> io::Result<()>,
    ) -> io::Result<u64> {
        self.chunks(chunk_size, true, |slot| f(&slot.chunk()))
    }

    fn chunks(
        self,
        chunk_size: usize,
        by_line: bool,
        mut f: impl FnMut(&mut ChunkSlot<'_>) -> io::Result<()>,
    ) -> io::Result<u64> {
        let chunk_size = chunk_size.max(4 * CONTEXT);
        if let Some(map) = &self.mapped {
            return mapped_chunks(map, chunk_size, f);
        }
        let defer = CONTEXT;
        let mut reader = self.reader;
        let bom = self.sniffed.bom;
        let mut utf16 = match self.sniffed.encoding {
            Encoding::Bytes => None,
            Encoding::Utf16Le => Some(Utf16Decoder::new(false, bom)),
            Encoding::Utf16Be => Some(Utf16Decoder::new(true, bom)),
        };
        // Small to start: most files are small, and a buffer past the allocator's mmap
        // threshold costs two system calls and a page fault per file. It grows to a chunk
        // (once per large file).
        let mut buf: Vec<u8> = Vec::with_capacity((64 << 10).min(chunk_size + 2 * CONTEXT));
        let mut map: Vec<u64> = Vec::new();
        let mut raw = vec![
            0u8;
            if utf16.is_some() || by_line {
                64 << 10
            } else {
                0
            }
        ];
        let mut offset = 0u64; // decoded offset of buf[0]
        let mut commit_start = 0usize;
        let mut total = 0u64;
        let mut pending_err: Option<io::Error> = None;
        loop {
            let target = buf.len() + chunk_size;
            let mut eof = false;
            while buf.len() < target {
                let r = match utf16.as_mut() {
                    // A live pipeline: take whatever one read gives.
                    None if by_line => {
                        let r = reader.read(&mut raw);
                        if let Ok(n) = r {
                            buf.extend_from_slice(&raw[..n]);
                        }
                        r
                    }
                    // read_to_end fills spare capacity without zeroing it first (a resize
                    // would memset a whole buffer for every small file).
                    None => {
                        let old = buf.len();
                        let want = (target - old) as u64;
                        match Read::take(&mut reader, want).read_to_end(&mut buf) {
                            Ok(_) if buf.len() == old => Ok(0),
                            Ok(_) => Ok(buf.len() - old),
                            Err(e) => {
                                total += (buf.len() - old) as u64;
                                Err(e)
                            }
                        }
                    }
                    Some(dec) => {
                        let want = raw.len().min((target - buf.len()).max(4));
                        let r = reader.read(&mut raw[..want]);
                        if let Ok(n) = r {
                            dec.push(&raw[..n], n == 0, &mut buf, &mut map);
                        }
                        r
                    }
                };
                match r {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => {
                        total += n as u64;
                        if by_line {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        pending_err = Some(e);
                        eof = true;
                        break;
                    }
                }
            }
            let len = buf.len();
            let commit_end = if eof {
                len
            } else if by_line {
                match memchr::memrchr(b'\n', &buf[commit_start..]) {
                    Some(i) => commit_start + i + 1,
                    None if len - commit_start >= chunk_size => len - defer,
                    None => continue,
                }
            } else {
                len - defer
            };
            // Keep CONTEXT bytes before the commit end as look-back for the next buffer.
            let drop = commit_end.saturating_sub(CONTEXT);
            let mut slot = ChunkSlot {
                bytes: SlotBytes::Read(&mut buf),
                commit: commit_start.min(commit_end)..commit_end,
                offset,
                last: eof,
                map: utf16.as_ref().map(|_| &map[..]),
                map_end: utf16.as_ref().map_or(0, |d| d.raw_pos),
                keep_from: drop,
                taken: false,
            };
            f(&mut slot)?;
            if eof {
                break;
            }
            // A taken buffer was replaced by one that starts with the look-back.
            if !slot.taken {
                buf.drain(..drop);
            }
            if utf16.is_some() {
                map.drain(..drop);
            }
            offset += drop as u64;
            commit_start = commit_end - drop;
        }
        match pending_err {
            Some(e) => Err(e),
            None => Ok(total),
        }
    }
}

/// Streaming UTF-16 → UTF-8 with a map back to stored offsets.
struct Utf16Decoder {
    big_endian: bool,
    pending: Vec<u8>,
    /// Stored offset of the next undecoded byte (the BOM counts).
    raw_pos: u64,
    bom_skipped: bool,
}

impl Utf16Decoder {
    fn new(big_endian: bool, bom: bool) -> Utf16Decoder {
        Utf16Decoder {
            big_endian,
            pending: Vec::new(),
            raw_pos: 0,
            bom_skipped: !bom,
        }
    }

    fn push(&mut self, input: &[u8], eof: bool, out: &mut Vec<u8>, map: &mut Vec<u64>) {
        self.pending.extend_from_slice(input);
        let data = std::mem::take(&mut self.pending);
        let mut i = 0;
        if !self.bom_skipped && data.len() >= 2 {
            self.bom_skipped = true;
            i = 2;
            self.raw_pos += 2;
        }
        let unit = |j: usize| -> u16 {
            let (a, b) = (data[j], data[j + 1]);
            if self.big_endian {
                u16::from_be_bytes([a, b])
            } else {
                u16::from_le_bytes([a, b])
            }
        };
        while i + 2 <= data.len() {
            let u = unit(i);
            let (ch, width) = if (0xD800..0xDC00).contains(&u) {
                if i + 4 > data.len() {
                    if !eof {
                        break;
                    }
                    ('\u{FFFD}', 2)
                } else {
                    let lo = unit(i + 2);
                    if (0xDC00..0xE000).contains(&lo) {
                        let c =
                            0x10000 + ((u32::from(u) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                        (char::from_u32(c).unwrap_or('\u{FFFD}'), 4)
                    } else {
                        ('\u{FFFD}', 2)
                    }
                }
            } else {
                (char::from_u32(u32::from(u)).unwrap_or('\u{FFFD}'), 2)
            };
            let mut tmp = [0u8; 4];
            let s = ch.encode_utf8(&mut tmp);
            for &b in s.as_bytes() {
                out.push(b);
                map.push(self.raw_pos);
            }
            self.raw_pos += width as u64;
            i += width;
        }
        self.pending = data[i..].to_vec();
        if eof && !self.pending.is_empty() {
            // A dangling odd byte: keep the length right.
            out.extend_from_slice("\u{FFFD}".as_bytes());
            map.extend(std::iter::repeat_n(self.raw_pos, 3));
            self.raw_pos += self.pending.len() as u64;
            self.pending.clear();
        }
    }
}

/// The chunks of a mapped file, as [`Source::for_each_slot`] gives those of a read one:
/// each commits `chunk_size` bytes (the last one the rest), with [`CONTEXT`] bytes of the
/// file on each side of its commit range where the file has them.
fn mapped_chunks(
    map: &Arc<MappedFile>,
    chunk_size: usize,
    mut f: impl FnMut(&mut ChunkSlot<'_>) -> io::Result<()>,
) -> io::Result<u64> {
    let len = map.bytes().len();
    let mut from: usize = 0;
    loop {
        let lo = from.saturating_sub(CONTEXT);
        // The last chunk takes the rest when no full chunk and its look-ahead are left.
        let last = from + chunk_size + CONTEXT >= len;
        let (to, hi) = if last {
            (len, len)
        } else {
            (from + chunk_size, from + chunk_size + CONTEXT)
        };
        // Done with all of it but the next chunk's look-back.
        let done = lo..if last { len } else { to - CONTEXT };
        let mut slot = ChunkSlot {
            bytes: SlotBytes::Mapped(map, lo..hi, done.clone()),
            commit: from - lo..to - lo,
            offset: lo as u64,
            last,
            map: None,
            map_end: 0,
            keep_from: 0,
            taken: false,
        };
        f(&mut slot)?;
        if !slot.taken {
            map.release(done);
        }
        if last {
            if map.was_cut() {
                // As a read error: what came before is reported, and the file named.
                return Err(io::Error::other(
                    "the file was cut short while it was being read (log rotation?); \
                     what followed the cut was not scanned",
                ));
            }
            return Ok(len as u64);
        }
        from = to;
    }
}

/// A mapped file's bytes as a reader's input (an archive read through a map).
struct MappedBytes(Arc<MappedFile>);

impl AsRef<[u8]> for MappedBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (bytes, commit range, offset) of each chunk.
    type Seen = Vec<(Vec<u8>, Range<usize>, u64)>;

    /// The committed bytes of every chunk of `src`, in order: the input as the scan sees it.
    fn committed(src: Source, size: usize) -> Vec<u8> {
        let mut got = Vec::new();
        src.for_each_chunk(size, |c| {
            got.extend_from_slice(&c.bytes[c.commit.clone()]);
            Ok(())
        })
        .unwrap();
        got
    }

    fn chunks_of(data: Vec<u8>, size: usize) -> (Seen, Sniffed) {
        let src = Source::open(Box::new(Cursor::new(data)), true).unwrap();
        let sniffed = src.sniffed;
        let mut v = Vec::new();
        src.for_each_chunk(size, |c| {
            v.push((c.bytes.to_vec(), c.commit.clone(), c.offset));
            Ok(())
        })
        .unwrap();
        (v, sniffed)
    }

    #[test]
    fn taken_chunks_are_the_chunks_a_copy_would_give() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 | 1).collect();
        let (copied, _) = chunks_of(data.clone(), 4 * CONTEXT);
        let src = Source::open(Box::new(Cursor::new(data)), true).unwrap();
        let (mut taken, mut spare) = (Vec::new(), Vec::new());
        let mut k = 0;
        src.for_each_slot(4 * CONTEXT, false, |slot| {
            // Every other chunk taken (with a recycled buffer once there is one), the rest
            // only looked at.
            k += 1;
            if k % 2 == 0 {
                let owned = slot.take(spare.pop().unwrap_or_default()).unwrap();
                let c = owned.chunk();
                taken.push((c.bytes.to_vec(), c.commit.clone(), c.offset));
                spare.push(owned.into_buffer());
            } else {
                let c = slot.chunk();
                taken.push((c.bytes.to_vec(), c.commit.clone(), c.offset));
            }
            assert!(!slot.can_take() || k % 2 == 1);
            Ok(())
        })
        .unwrap();
        assert!(copied.len() > 5);
        assert_eq!(taken, copied);
    }

    #[test]
    fn only_the_final_chunk_is_marked_last() {
        for (data, by_line) in [(vec![b'x'; 100_000], false), (b"a\n".repeat(50_000), true)] {
            let src = Source::open(Box::new(Cursor::new(data)), true).unwrap();
            let mut last = Vec::new();
            src.for_each_slot(4 * CONTEXT, by_line, |slot| {
                last.push(slot.chunk().last);
                Ok(())
            })
            .unwrap();
            assert!(last.len() > 1);
            assert_eq!(last.iter().filter(|&&l| l).count(), 1);
            assert_eq!(last.last(), Some(&true));
        }
    }

    #[test]
    fn commit_ranges_tile_the_stream_exactly_once() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 | 1).collect();
        let (chunks, _) = chunks_of(data.clone(), 4 * CONTEXT);
        assert!(chunks.len() > 5);
        let mut next = 0u64;
        for (bytes, commit, offset) in &chunks {
            assert_eq!(
                offset + commit.start as u64,
                next,
                "gap or overlap in commits"
            );
            assert_eq!(
                &bytes[..],
                &data[*offset as usize..*offset as usize + bytes.len()]
            );
            next = offset + commit.end as u64;
        }
        assert_eq!(next, data.len() as u64);
    }

    /// The chunks of `data` written to a file and read through a map (`None` if it was
    /// read instead), each as (bytes, commit, offset, last).
    #[cfg(target_os = "linux")]
    #[allow(clippy::type_complexity)]
    fn mapped_chunks_of(
        data: &[u8],
        chunk_size: usize,
    ) -> Option<Vec<(Vec<u8>, Range<usize>, u64, bool)>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.log");
        std::fs::write(&path, data).unwrap();
        let src = Source::open_file(File::open(&path).unwrap(), data.len() as u64, true).unwrap();
        src.mapped.as_ref()?;
        let mut out = Vec::new();
        let n = src
            .for_each_chunk(chunk_size, |c| {
                out.push((c.bytes.to_vec(), c.commit.clone(), c.offset, c.last));
                Ok(())
            })
            .unwrap();
        assert_eq!(n, data.len() as u64);
        Some(out)
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn mapped_chunks_tile_the_file_with_look_back_and_look_ahead() {
        let chunk = 4 * CONTEXT;
        let min = crate::mapped::MAP_MIN as usize;
        for len in [
            min,
            min + 1,
            min + chunk - 1,
            min + 3 * chunk + CONTEXT,
            5 * min + 17,
        ] {
            let data: Vec<u8> = (0..len as u32).map(|i| (i % 251) as u8 | 1).collect();
            let chunks = mapped_chunks_of(&data, chunk).expect("a large plain file is mapped");
            assert!(chunks.len() > 1, "{len}");
            let mut next = 0u64;
            for (i, (bytes, commit, offset, last)) in chunks.iter().enumerate() {
                let start = offset + commit.start as u64;
                assert_eq!(start, next, "gap or overlap in commits ({len})");
                let at = *offset as usize;
                assert_eq!(&bytes[..], &data[at..at + bytes.len()]);
                // The detector sees CONTEXT bytes on each side of the commit where the
                // file has them.
                assert!(commit.start >= CONTEXT.min(start as usize));
                let end = at + commit.end;
                assert!(bytes.len() - commit.end >= CONTEXT.min(len - end));
                assert_eq!(*last, i + 1 == chunks.len());
                next = offset + commit.end as u64;
            }
            assert_eq!(next, len as u64);
        }
        // Compressed, UTF-16 and small files are read, not mapped.
        let gz = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, &vec![b'x'; 2 * min]).unwrap();
            let mut z = e.finish().unwrap();
            z.resize(2 * min, 0);
            z
        };
        assert!(mapped_chunks_of(&gz, chunk).is_none());
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("ab\n".repeat(min).encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert!(mapped_chunks_of(&utf16, chunk).is_none());
        assert!(mapped_chunks_of(&vec![b'x'; min - 1], chunk).is_none());
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_mapped_file_cut_short_mid_scan_is_fed_whole_then_a_read_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rotated.log");
        std::fs::write(&path, "2026-11-27 10:00:00 INFO ok\n".repeat(150_000)).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let src = Source::open_file(File::open(&path).unwrap(), len, true).unwrap();
        assert!(src.mapped.is_some());
        let mut chunks = 0;
        let outcome = src.for_each_chunk(1 << 20, |c| {
            if chunks == 0 {
                // logrotate's copytruncate, while the first chunk is being searched.
                File::options().write(true).open(&path)?.set_len(100)?;
            } else {
                assert!(c.bytes[c.commit.clone()].iter().all(|&b| b == 0));
            }
            chunks += 1;
            Ok(())
        });
        assert!(chunks >= 4);
        let e = outcome.expect_err("the cut is reported");
        assert!(e.to_string().contains("cut short"), "{e}");
    }

    #[test]
    fn line_batches_commit_whole_lines_and_tile_the_stream() {
        let data: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat((i % 97) as usize)).into_bytes())
            .collect();
        let src = Source::open(Box::new(Cursor::new(data.clone())), false).unwrap();
        let mut next = 0u64;
        src.for_each_line_batch(4 * CONTEXT, |c| {
            assert_eq!(c.offset + c.commit.start as u64, next);
            assert!(c.commit.end == c.bytes.len() || c.bytes[c.commit.end - 1] == b'\n');
            next = c.offset + c.commit.end as u64;
            Ok(())
        })
        .unwrap();
        assert_eq!(next, data.len() as u64);
    }

    #[test]
    fn gzip_members_are_all_read() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut out = Vec::new();
        for part in [&b"first member\n"[..], b"second member\n"] {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(part).unwrap();
            out.extend(e.finish().unwrap());
        }
        let (chunks, sniffed) = chunks_of(out, CHUNK_SIZE);
        assert_eq!(sniffed.container, Container::Gzip);
        assert_eq!(chunks[0].0, b"first member\nsecond member\n");
    }

    #[test]
    fn utf16le_is_decoded_with_offsets_into_the_file() {
        let text = "a=4111\r\nカード\r\n";
        let mut data = vec![0xff, 0xfe];
        for u in text.encode_utf16() {
            data.extend(u.to_le_bytes());
        }
        let src = Source::open(Box::new(Cursor::new(data)), true).unwrap();
        assert_eq!(src.sniffed.encoding, Encoding::Utf16Le);
        assert!(!src.sniffed.binary);
        src.for_each_chunk(CHUNK_SIZE, |c| {
            assert_eq!(c.bytes, text.as_bytes());
            let i = text.find("4111").unwrap();
            assert_eq!(c.file_offset(i), 2 + 2 * 2);
            assert_eq!(
                c.file_offset(c.bytes.len()),
                2 + 2 * text.encode_utf16().count() as u64
            );
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn utf16_without_bom_is_recognised_and_not_binary() {
        let text = "2024-03-11 00:34:02, Info  PaySvc  Card capture for terminal POS31\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let src = Source::open(Box::new(Cursor::new(le)), true).unwrap();
        assert_eq!(
            (src.sniffed.encoding, src.sniffed.bom, src.sniffed.binary),
            (Encoding::Utf16Le, false, false)
        );
        src.for_each_chunk(CHUNK_SIZE, |c| {
            assert_eq!(c.bytes, text.as_bytes());
            assert_eq!(c.file_offset(5), 10);
            Ok(())
        })
        .unwrap();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let src = Source::open(Box::new(Cursor::new(be)), true).unwrap();
        assert_eq!(src.sniffed.encoding, Encoding::Utf16Be);
        // A binary file with scattered NULs is not UTF-16.
        let bin: Vec<u8> = (0..200u32)
            .map(|i| if i % 7 == 0 { 0 } else { (i % 250) as u8 + 1 })
            .collect();
        let src = Source::open(Box::new(Cursor::new(bin)), true).unwrap();
        assert!(src.sniffed.binary);
    }

    #[test]
    fn every_compression_is_recognised_by_magic() {
        use std::io::Write;
        let text = b"line one\ncard here\n".repeat(100);
        let mut z = Vec::new();
        zstd::stream::copy_encode(&text[..], &mut z, 3).unwrap();
        let mut b = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        b.write_all(&text).unwrap();
        let b = b.finish().unwrap();
        let mut x = liblzma::write::XzEncoder::new(Vec::new(), 6);
        x.write_all(&text).unwrap();
        let x = x.finish().unwrap();
        for (data, want) in [
            (z, Container::Zstd),
            (b, Container::Bzip2),
            (x, Container::Xz),
        ] {
            let src = Source::open(Box::new(Cursor::new(data)), true).unwrap();
            assert_eq!(src.sniffed.container, want);
            let got = committed(src, CHUNK_SIZE);
            assert_eq!(got, text, "{want:?}");
        }
    }

    /// A reader that gives its bytes in one read, then the end, then counts the reads made
    /// after the end (each a system call on a file).
    struct CountsReadsAfterEnd {
        data: Cursor<Vec<u8>>,
        ended: bool,
        after_end: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Read for CountsReadsAfterEnd {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.ended {
                self.after_end
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let n = self.data.read(buf)?;
            self.ended |= n == 0;
            Ok(n)
        }
    }

    #[test]
    fn an_input_shorter_than_the_sniffed_head_is_not_read_past_its_end() {
        for len in [
            0,
            1,
            1000,
            SNIFF_SIZE - 1,
            SNIFF_SIZE,
            SNIFF_SIZE + 1,
            3 * SNIFF_SIZE,
        ] {
            let data: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let after_end = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let reader = CountsReadsAfterEnd {
                data: Cursor::new(data.clone()),
                ended: false,
                after_end: Arc::clone(&after_end),
            };
            let src = Source::open(Box::new(reader), true).unwrap();
            let got = committed(src, 4 * CONTEXT);
            assert!(got == data, "input of {len} bytes not read whole");
            let extra = after_end.load(std::sync::atomic::Ordering::Relaxed);
            // A head that ends short of SNIFF_SIZE met the end: nothing is read after it. A
            // longer input is read to its end by the chunk loop, which reads once to see it.
            let allowed = usize::from(len >= SNIFF_SIZE);
            assert!(
                extra <= allowed,
                "{extra} reads after the end of {len} bytes"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn opening_a_fifo_does_not_wait_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("swapped.log");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(open_to_read(&path).map(|f| f.metadata().map(|m| m.is_file())));
        });
        // Without a writer, a blocking open would never return (the thread is left behind).
        let opened = rx.recv_timeout(std::time::Duration::from_secs(10));
        assert!(
            matches!(opened, Ok(Ok(Ok(false)))),
            "the FIFO was not opened at once as a non-file: {opened:?}"
        );
    }

    #[test]
    fn a_read_file_is_read_to_its_length_at_open_or_to_its_end_if_that_was_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("growing.log");
        let data: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let read_all = |len: u64| {
            let src = Source::open_file(File::open(&path).unwrap(), len, true).unwrap();
            committed(src, 4 * CONTEXT)
        };
        // Bytes appended after the open (the file was 1000 bytes then) wait for the next scan,
        // as with a mapped file.
        assert!(read_all(1000) == data[..1000]);
        // A length of 0 says nothing (files of /proc): read to the end.
        assert!(read_all(0) == data);
        // A file cut short after the open: what is left.
        assert!(read_all(5000) == data);
    }

    #[test]
    fn nul_in_first_block_is_binary() {
        let src = Source::open(Box::new(Cursor::new(b"ab\0cd".to_vec())), true).unwrap();
        assert!(src.sniffed.binary);
    }
}
