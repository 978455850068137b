//! The only code that writes user files.
//!
//! Guarantees (the README repeats them):
//! - **Same length, nothing else touched.** Masking replaces ASCII characters one for one, so
//!   every byte outside a finding keeps its value and offset.
//! - **In place for plain files** (same inode): a process appending to a live log keeps
//!   appending, and nothing it writes is lost. Each edit is written only after the bytes under
//!   it are read back and found to be the ones that were scanned; a file that changed under
//!   the scan is reported as [`WriteError::Changed`] and scanned again, never clobbered. The
//!   data is synced before the file is reported as done. A crash or kill at any moment leaves
//!   every byte either as it was or masked.
//! - **Temporary file and rename for compressed files**: written in the same directory, synced,
//!   given the original's mode and owner, renamed over the original only if the original has
//!   not changed since it was read, then the directory is synced. An error or Ctrl-C before
//!   the rename leaves the original untouched and removes the temporary file.
//! - **Never through a symlink, never outside the given paths** (unless `--follow`, and even
//!   then only to files inside the paths given). A file the operating system will not let us
//!   write (permissions, a read-only file system, a full disk) is reported and left as it was.

use std::fs::{self, File, Metadata};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::source::{Chunk, Container, Encoding, Sniffed};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file changed between the scan and the write; scan it again.
    #[error("the file changed while it was being masked")]
    Changed,
    /// Not allowed by the rules above.
    #[error("{0}")]
    Refused(String),
    /// The operating system said no (read-only file system, full disk, …).
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Checks that `path` may be written: a regular file, not reached through a symlink (unless
/// `follow`), inside one of `roots`. Whether the file or its directory is writable is the
/// operating system's call, made when the file is opened for writing: mode bits alone do not
/// say (root may write a 0444 file, and `cp -a` of a read-only tree is a normal thing to mask).
pub fn check_writable(path: &Path, follow: bool, roots: &[PathBuf]) -> Result<(), WriteError> {
    let lmeta = fs::symlink_metadata(path)?;
    if lmeta.file_type().is_symlink() && !follow {
        return Err(WriteError::Refused(
            "a symlink; not written without --follow".into(),
        ));
    }
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(WriteError::Refused("not a regular file".into()));
    }
    let real = fs::canonicalize(path)?;
    if !roots.is_empty() && !roots.iter().any(|r| real.starts_with(r)) {
        return Err(WriteError::Refused(
            "outside the paths given; not written".into(),
        ));
    }
    Ok(())
}

/// One byte range to overwrite, with what must be there first.
#[derive(Debug)]
struct Edit {
    offset: u64,
    expected: Vec<u8>,
    replacement: Vec<u8>,
}

/// Writes the masked form of one file as its chunks go by.
pub enum Writer {
    /// Not started: the file's metadata when it was opened, until its kind is known.
    Pending(Metadata),
    /// Same-length edits written over the original at the end (plain and UTF-16 files).
    InPlace(InPlace),
    /// The masked text recompressed into a temporary file, renamed over the original.
    Recompress(Recompress),
}

impl Writer {
    /// Turns a pending writer into the one a file of this kind needs.
    pub fn start(&mut self, path: &Path, sniffed: Sniffed) -> Result<(), WriteError> {
        if let Writer::Pending(meta) = self {
            *self = Writer::for_file(path, sniffed, meta.clone())?;
        }
        Ok(())
    }

    /// The writer a file of this kind needs; `meta` is the file's metadata when it was opened
    /// for reading.
    pub fn for_file(path: &Path, sniffed: Sniffed, meta: Metadata) -> Result<Writer, WriteError> {
        Ok(match sniffed.container {
            Container::Plain => Writer::InPlace(InPlace {
                path: path.to_path_buf(),
                encoding: sniffed.encoding,
                edits: Vec::new(),
                meta,
            }),
            c => Writer::Recompress(Recompress::new(path, meta, c)?),
        })
    }

    /// Takes the masked form of one chunk's commit range.
    pub fn chunk(&mut self, chunk: &Chunk<'_>, masked: &[u8]) -> io::Result<()> {
        match self {
            Writer::Pending(_) => Err(io::Error::other("writer not started")),
            Writer::InPlace(w) => {
                w.chunk(chunk, masked);
                Ok(())
            }
            Writer::Recompress(w) => w.chunk(chunk, masked),
        }
    }

    /// Writes everything out; returns whether the file changed.
    pub fn finish(self) -> Result<bool, WriteError> {
        match self {
            Writer::Pending(_) => Ok(false),
            Writer::InPlace(w) => w.finish(),
            Writer::Recompress(w) => w.finish(),
        }
    }
}

/// In-place same-length edits.
pub struct InPlace {
    path: PathBuf,
    encoding: Encoding,
    edits: Vec<Edit>,
    meta: Metadata,
}

impl InPlace {
    fn chunk(&mut self, chunk: &Chunk<'_>, masked: &[u8]) {
        let base = chunk.commit.start;
        let original = &chunk.bytes[chunk.commit.clone()];
        let mut i = 0;
        while i < original.len() {
            if original[i] == masked[i] {
                i += 1;
                continue;
            }
            let (offset, expected, replacement, next) = match self.encoding {
                Encoding::Bytes => (
                    chunk.file_offset(base + i),
                    vec![original[i]],
                    vec![masked[i]],
                    i + 1,
                ),
                // A UTF-16 file was decoded to UTF-8: re-encode the whole character (a digit
                // and its mask are one code unit each, so the length holds).
                Encoding::Utf16Le | Encoding::Utf16Be => {
                    let mut s = i;
                    while s > 0 && original[s] & 0xC0 == 0x80 {
                        s -= 1;
                    }
                    let mut e = s + 1;
                    while e < original.len() && original[e] & 0xC0 == 0x80 {
                        e += 1;
                    }
                    let be = self.encoding == Encoding::Utf16Be;
                    (
                        chunk.file_offset(base + s),
                        utf16_units(&original[s..e], be),
                        utf16_units(&masked[s..e], be),
                        e,
                    )
                }
            };
            i = next;
            if expected.len() != replacement.len() {
                continue; // masks replace like with like; never change a length
            }
            match self.edits.last_mut() {
                Some(e) if e.offset + e.expected.len() as u64 == offset => {
                    e.expected.extend(expected);
                    e.replacement.extend(replacement);
                }
                _ => self.edits.push(Edit {
                    offset,
                    expected,
                    replacement,
                }),
            }
        }
    }

    fn finish(self) -> Result<bool, WriteError> {
        if self.edits.is_empty() {
            return Ok(false);
        }
        let file = open_for_update(&self.path)?;
        let now = file.metadata()?;
        if !same_file(&now, &self.meta) {
            return Err(WriteError::Changed);
        }
        let mut buf = Vec::new();
        for e in &self.edits {
            buf.resize(e.expected.len(), 0);
            read_exact_at(&file, &mut buf, e.offset)?;
            if buf != e.expected {
                // Whatever was already written is a correct mask of what was scanned.
                file.sync_data()?;
                return Err(WriteError::Changed);
            }
            write_all_at(&file, &e.replacement, e.offset)?;
        }
        file.sync_data()?;
        Ok(true)
    }
}

/// A gzip file rewritten through a temporary file.
pub struct Recompress {
    path: PathBuf,
    meta: Metadata,
    encoder: Option<Encoder>,
    container: Container,
    tmp: Option<tempfile::TempPath>,
    changed: bool,
}

impl Recompress {
    fn new(path: &Path, meta: Metadata, container: Container) -> Result<Recompress, WriteError> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".pansweep-")
            .suffix(".tmp")
            .tempfile_in(&dir)?;
        let (file, tmp) = tmp.into_parts();
        Ok(Recompress {
            path: path.to_path_buf(),
            meta,
            encoder: Some(Encoder::new(container, BufWriter::new(file))?),
            container,
            tmp: Some(tmp),
            changed: false,
        })
    }

    fn chunk(&mut self, chunk: &Chunk<'_>, masked: &[u8]) -> io::Result<()> {
        self.changed |= masked != &chunk.bytes[chunk.commit.clone()];
        match self.encoder.as_mut() {
            Some(e) => e.write_all(masked),
            None => Ok(()),
        }
    }

    fn finish(mut self) -> Result<bool, WriteError> {
        let (Some(encoder), Some(tmp)) = (self.encoder.take(), self.tmp.take()) else {
            return Ok(false);
        };
        if !self.changed {
            // Dropping the temporary path removes the file.
            return Ok(false);
        }
        let mut file = encoder.finish()?.into_inner().map_err(|e| e.into_error())?;
        file.flush()?;
        // Same size as the original when possible: rebuild the header with the original's
        // name and time and a padding comment.
        let head = read_head(&self.path)?;
        let body_len = file.metadata()?.len().saturating_sub(FLATE2_HEADER as u64);
        let header = match self.container {
            Container::Gzip => gzip_header(&head, body_len, self.meta.len()),
            _ => None,
        };
        let (file, tmp) = match header {
            Some(header) => {
                let dir = tmp.parent().unwrap_or(Path::new("."));
                let sized = tempfile::Builder::new()
                    .prefix(".pansweep-")
                    .suffix(".tmp")
                    .tempfile_in(dir)?;
                let (mut out, sized_path) = sized.into_parts();
                out.write_all(&header)?;
                let mut body = File::open(&tmp)?;
                io::Seek::seek(&mut body, io::SeekFrom::Start(FLATE2_HEADER as u64))?;
                io::copy(&mut body, &mut out)?;
                // `tmp` is dropped here, removing the unpadded copy.
                (out, sized_path)
            }
            None => (file, tmp),
        };
        copy_owner_and_mode(&file, &self.meta)?;
        file.sync_all()?;
        drop(file);
        let now = fs::symlink_metadata(&self.path)?;
        if !same_file(&now, &self.meta)
            || now.len() != self.meta.len()
            || modified(&now) != modified(&self.meta)
        {
            return Err(WriteError::Changed);
        }
        if crate::interrupted() {
            return Err(WriteError::Refused(
                "interrupted before the rename; file left as it was".into(),
            ));
        }
        tmp.persist(&self.path)
            .map_err(|e| WriteError::Io(e.error))?;
        sync_parent(&self.path)?;
        Ok(true)
    }
}

/// A compressor of the same format as the file being rewritten.
enum Encoder {
    Gzip(GzEncoder<BufWriter<File>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
    Bzip2(bzip2::write::BzEncoder<BufWriter<File>>),
    Xz(liblzma::write::XzEncoder<BufWriter<File>>),
}

impl Encoder {
    fn new(container: Container, out: BufWriter<File>) -> io::Result<Encoder> {
        Ok(match container {
            Container::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(out, 3)?),
            Container::Bzip2 => Encoder::Bzip2(bzip2::write::BzEncoder::new(
                out,
                bzip2::Compression::default(),
            )),
            Container::Xz => Encoder::Xz(liblzma::write::XzEncoder::new(out, 6)),
            Container::Gzip | Container::Plain => {
                Encoder::Gzip(GzEncoder::new(out, Compression::default()))
            }
        })
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.write_all(data),
            Encoder::Zstd(e) => e.write_all(data),
            Encoder::Bzip2(e) => e.write_all(data),
            Encoder::Xz(e) => e.write_all(data),
        }
    }

    fn finish(self) -> io::Result<BufWriter<File>> {
        match self {
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
            Encoder::Bzip2(e) => e.finish(),
            Encoder::Xz(e) => e.finish(),
        }
    }
}

/// Bytes of the header flate2's encoder writes (no name, comment or extra field).
const FLATE2_HEADER: usize = 10;

/// The first bytes of a gzip file, enough for its first member's header.
fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(File::open(path)?, 4096), &mut head)?;
    Ok(head)
}

/// A gzip member header (RFC 1952) that keeps the original's MTIME, OS and file name and pads
/// with a comment so that header + `body_len` bytes of deflate data and trailer make exactly
/// `target` bytes; `None` when the original header cannot be read or the body is too large.
pub fn gzip_header(original: &[u8], body_len: u64, target: u64) -> Option<Vec<u8>> {
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    const FHCRC: u8 = 0x02;
    if original.len() < 10 || original[..3] != [0x1f, 0x8b, 0x08] {
        return None;
    }
    let flg = original[3];
    let mut i = 10;
    if flg & FEXTRA != 0 {
        let xlen = u16::from_le_bytes([*original.get(i)?, *original.get(i + 1)?]) as usize;
        i += 2 + xlen;
    }
    let name = if flg & FNAME != 0 {
        let end = i + original.get(i..)?.iter().position(|&b| b == 0)?;
        let n = &original[i..=end];
        i = end + 1;
        Some(n)
    } else {
        None
    };
    let _ = (i, FHCRC);
    let mut h = vec![0x1f, 0x8b, 0x08, 0];
    h.extend_from_slice(&original[4..10]); // MTIME, XFL, OS
    if let Some(n) = name {
        h[3] |= FNAME;
        h.extend_from_slice(n);
    }
    let pad = target.checked_sub(h.len() as u64 + body_len)?;
    if pad > 0 {
        h[3] |= FCOMMENT;
        let note = b"pansweep masked card data; this comment keeps the original size ";
        h.extend((0..pad - 1).map(|k| note[(k % note.len() as u64) as usize]));
        h.push(0);
    }
    Some(h)
}

/// The UTF-16 code units of a UTF-8 character, as bytes.
fn utf16_units(utf8: &[u8], big_endian: bool) -> Vec<u8> {
    let s = String::from_utf8_lossy(utf8);
    s.encode_utf16()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn modified(m: &Metadata) -> Option<std::time::SystemTime> {
    m.modified().ok()
}

#[cfg(unix)]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    a.len() == b.len()
}

#[cfg(unix)]
fn open_for_update(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_for_update(path: &Path) -> io::Result<File> {
    fs::OpenOptions::new().read(true).write(true).open(path)
}

#[cfg(unix)]
fn read_exact_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(unix)]
fn write_all_at(f: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(mut f: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

#[cfg(not(unix))]
fn write_all_at(mut f: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(buf)
}

#[cfg(unix)]
fn copy_owner_and_mode(f: &File, meta: &Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    f.set_permissions(meta.permissions())?;
    match std::os::unix::fs::fchown(f, Some(meta.uid()), Some(meta.gid())) {
        // Not root and not ours to give away: the file keeps our ownership, as sd does.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Ok(()),
        other => other,
    }
}

#[cfg(not(unix))]
fn copy_owner_and_mode(f: &File, meta: &Metadata) -> io::Result<()> {
    f.set_permissions(meta.permissions())
}

fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::MultiGzDecoder;

    #[test]
    fn padded_header_keeps_size_name_and_time() {
        let mut e = flate2::GzBuilder::new()
            .filename("app.log")
            .mtime(1_700_000_000)
            .write(Vec::new(), Compression::best());
        e.write_all(&b"card 4111111111111111 ok\n".repeat(50))
            .unwrap();
        let original = e.finish().unwrap();
        let mut m = GzEncoder::new(Vec::new(), Compression::default());
        m.write_all(&b"card 411111******1111 ok\n".repeat(50))
            .unwrap();
        let masked = m.finish().unwrap();
        let body = &masked[FLATE2_HEADER..];
        let header = gzip_header(&original, body.len() as u64, original.len() as u64 + 40).unwrap();
        let mut rebuilt = header.clone();
        rebuilt.extend_from_slice(body);
        assert_eq!(rebuilt.len(), original.len() + 40);
        let mut text = Vec::new();
        io::Read::read_to_end(&mut MultiGzDecoder::new(&rebuilt[..]), &mut text).unwrap();
        // Not assert_eq: a failure would print the unmasked number.
        assert!(
            text == b"card 411111******1111 ok\n".repeat(50),
            "not masked as expected"
        );
        let d = flate2::read::GzDecoder::new(&rebuilt[..]);
        assert_eq!(d.header().and_then(|h| h.filename()), Some(&b"app.log"[..]));
        assert_eq!(d.header().map(|h| h.mtime()), Some(1_700_000_000));
        // Too big to fit: no header.
        assert_eq!(gzip_header(&original, 10_000, 100), None);
    }
}
