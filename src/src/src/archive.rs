//! Archives: the members of zip and tar files (`.tar.gz`/`.tgz` arrive here already
//! decompressed), handed on one at a time with bounded memory. Knows nothing of cards.
//!
//! Limits stop archive bombs with a clear message: no member over [`Limits::max_member`]
//! bytes, no more than [`Limits::max_total`] bytes from one archive, and no zip member whose
//! declared size is more than [`Limits::max_ratio`] times its compressed size (when large).

use std::io::{Cursor, Read};

/// The archive formats read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    /// A zip file.
    Zip,
    /// A POSIX tar file.
    Tar,
}

/// Recognises an archive by its first bytes (after decompression).
pub fn sniff(head: &[u8]) -> Option<ArchiveKind> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(ArchiveKind::Zip)
    } else if head.get(257..262) == Some(b"ustar") {
        Some(ArchiveKind::Tar)
    } else {
        None
    }
}

/// Bounds on what one archive may make us read.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest member (and largest zip file, which must be held whole to be read).
    pub max_member: u64,
    /// Most bytes decompressed from one archive.
    pub max_total: u64,
    /// Largest declared size / compressed size of a zip member over 1 MiB.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_member: 512 << 20,
            max_total: 8 << 30,
            max_ratio: 1000,
        }
    }
}

/// Calls `each(name, bytes)` for every regular member of the archive read from `reader`;
/// `problem(name, reason)` for members skipped. An `Err` stops the archive (corrupt, or over
/// a limit).
pub fn for_each_member(
    kind: ArchiveKind,
    reader: Box<dyn Read + Send>,
    limits: Limits,
    mut each: impl FnMut(&str, Vec<u8>),
    mut problem: impl FnMut(&str, &str),
) -> Result<(), String> {
    let mut total = 0u64;
    match kind {
        ArchiveKind::Zip => {
            // A zip is read from its central directory at the end: hold it whole.
            let mut whole = Vec::new();
            reader
                .take(limits.max_member + 1)
                .read_to_end(&mut whole)
                .map_err(|e| format!("cannot read zip: {e}"))?;
            if whole.len() as u64 > limits.max_member {
                return Err(format!(
                    "zip larger than {} MiB; not scanned",
                    limits.max_member >> 20
                ));
            }
            let mut zip = zip::ZipArchive::new(Cursor::new(whole))
                .map_err(|e| format!("corrupt zip: {e}"))?;
            for i in 0..zip.len() {
                let mut f = match zip.by_index(i) {
                    Ok(f) => f,
                    Err(e) => {
                        problem(&format!("#{i}"), &format!("unreadable member: {e}"));
                        continue;
                    }
                };
                if !f.is_file() {
                    continue;
                }
                let name = f.name().map_or_else(|_| format!("#{i}"), |n| n.to_string());
                if f.size() > 1 << 20 && f.size() / f.compressed_size().max(1) > limits.max_ratio {
                    return Err(format!(
                        "{name}: compression ratio over {}:1 (archive bomb?); stopped",
                        limits.max_ratio
                    ));
                }
                match read_member(&mut f, limits, &mut total)? {
                    Ok(data) => each(&name, data),
                    Err(why) => problem(&name, &why),
                }
            }
        }
        ArchiveKind::Tar => {
            let mut tar = tar::Archive::new(reader);
            for entry in tar.entries().map_err(|e| format!("corrupt tar: {e}"))? {
                let mut entry = entry.map_err(|e| format!("corrupt tar: {e}"))?;
                if !entry.header().entry_type().is_file() {
                    continue;
                }
                let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                match read_member(&mut entry, limits, &mut total)? {
                    Ok(data) => each(&name, data),
                    Err(why) => problem(&name, &why),
                }
            }
        }
    }
    Ok(())
}

/// Reads one member: `Ok(Ok(bytes))`, `Ok(Err(why it was skipped))`, or `Err` when the
/// archive as a whole went over the limit.
fn read_member(
    r: &mut dyn Read,
    limits: Limits,
    total: &mut u64,
) -> Result<Result<Vec<u8>, String>, String> {
    let mut data = Vec::new();
    if let Err(e) = r.take(limits.max_member + 1).read_to_end(&mut data) {
        return Ok(Err(format!("unreadable member: {e}")));
    }
    if data.len() as u64 > limits.max_member {
        return Ok(Err(format!(
            "larger than {} MiB; not scanned",
            limits.max_member >> 20
        )));
    }
    *total += data.len() as u64;
    if *total > limits.max_total {
        return Err(format!(
            "stopped after {} GiB decompressed (archive bomb?)",
            limits.max_total >> 30
        ));
    }
    Ok(Ok(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in members {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_and_tar_members() {
        let z = zip_of(&[("a/one.log", b"one"), ("two.log", b"two")]);
        assert_eq!(sniff(&z), Some(ArchiveKind::Zip));
        let mut got = Vec::new();
        for_each_member(
            ArchiveKind::Zip,
            Box::new(Cursor::new(z)),
            Limits::default(),
            |n, d| got.push((n.to_string(), d)),
            |_, _| {},
        )
        .unwrap();
        assert_eq!(
            got,
            [
                ("a/one.log".to_string(), b"one".to_vec()),
                ("two.log".to_string(), b"two".to_vec())
            ]
        );

        let mut t = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, "x/y.log", &b"hello"[..]).unwrap();
        let t = t.into_inner().unwrap();
        assert_eq!(sniff(&t), Some(ArchiveKind::Tar));
        let mut got = Vec::new();
        for_each_member(
            ArchiveKind::Tar,
            Box::new(Cursor::new(t)),
            Limits::default(),
            |n, d| got.push((n.to_string(), d)),
            |_, _| {},
        )
        .unwrap();
        assert_eq!(got, [("x/y.log".to_string(), b"hello".to_vec())]);
    }

    #[test]
    fn limits_stop_bombs() {
        let big = vec![b'0'; 4 << 20];
        let z = zip_of(&[("zeros.log", &big)]);
        let tight = Limits {
            max_member: 1 << 20,
            max_total: 8 << 30,
            max_ratio: u64::MAX,
        };
        let mut problems = Vec::new();
        let r = for_each_member(
            ArchiveKind::Zip,
            Box::new(Cursor::new(z.clone())),
            tight,
            |_, _| {},
            |n, p| problems.push(format!("{n}: {p}")),
        );
        assert!(r.is_ok());
        assert!(problems[0].contains("larger than 1 MiB"), "{problems:?}");
        let ratio = Limits {
            max_member: 512 << 20,
            max_total: 8 << 30,
            max_ratio: 10,
        };
        let r = for_each_member(
            ArchiveKind::Zip,
            Box::new(Cursor::new(z)),
            ratio,
            |_, _| {},
            |_, _| {},
        );
        assert!(r.unwrap_err().contains("archive bomb"));
    }
}
