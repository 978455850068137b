//! Keyed, non-reversible finding identities.
//!
//! A card number has little entropy: with the BIN and last four known, a 16-digit PAN has
//! 10^6 candidates, 10^5 after the Luhn check, so any unsalted hash of it is reversed in
//! milliseconds. A fingerprint is therefore `BLAKE3-keyed(key, domain ‖ kind ‖ digits)`,
//! truncated to 128 bits, with a 256-bit secret key. Without the key nothing can be
//! brute-forced; with the same key the fingerprint is stable across runs and machines, which is
//! what baselines need.
//!
//! The key comes from `PANSWEEP_FINGERPRINT_KEY` (any string; hashed into a key), else from a
//! per-user key file created once with random bytes (see [`Key::load_or_create`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::finding::Fingerprint;

/// Environment variable holding a shared fingerprint secret (for CI and teams).
pub const KEY_ENV: &str = "PANSWEEP_FINGERPRINT_KEY";

/// A 256-bit secret that keys every fingerprint.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<secret>)")
    }
}

impl Key {
    /// Derives a key from a passphrase (the environment variable's value).
    pub fn from_passphrase(secret: &str) -> Key {
        Key(blake3::derive_key(
            "pansweep fingerprint key v1",
            secret.as_bytes(),
        ))
    }

    /// A fixed key for tests and fuzzing only: fingerprints made with it are not secret.
    pub fn insecure_for_tests() -> Key {
        Key([7; 32])
    }

    /// Loads the key: the environment variable if set, else the key file under `dir`
    /// (`fingerprint.key`), created with fresh random bytes and mode 0600 if missing.
    pub fn load_or_create(dir: Option<&Path>) -> Result<Key, Error> {
        if let Ok(secret) = std::env::var(KEY_ENV)
            && !secret.is_empty()
        {
            return Ok(Key::from_passphrase(&secret));
        }
        let Some(dir) = dir else {
            return Err(Error::Key {
                path: PathBuf::new(),
                reason: format!("no config directory; set {KEY_ENV}"),
            });
        };
        let path = dir.join("fingerprint.key");
        match fs::read(&path) {
            Ok(bytes) if bytes.len() == 64 => {
                let mut key = [0u8; 32];
                for (i, pair) in bytes.chunks(2).enumerate() {
                    let s = std::str::from_utf8(pair).ok();
                    key[i] = s
                        .and_then(|s| u8::from_str_radix(s, 16).ok())
                        .ok_or_else(|| Error::Key {
                            path: path.clone(),
                            reason: "not 64 hex digits".into(),
                        })?;
                }
                Ok(Key(key))
            }
            Ok(_) => Err(Error::Key {
                path,
                reason: "not 64 hex digits".into(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(dir, &path),
            Err(e) => Err(Error::Key {
                path,
                reason: e.to_string(),
            }),
        }
    }

    /// The fingerprint of card data of kind `kind` with the given digits.
    pub fn fingerprint(&self, kind: &str, digits: &[u8]) -> Fingerprint {
        // The message fits one BLAKE3 block for every card number: hashed in one call
        // from the stack, not through a `Hasher` (~2 KiB of state to set up for each of the
        // thousands of findings a digit-dense file can hold).
        let hash = match one_block(kind, digits) {
            Some((block, len)) => blake3::keyed_hash(&self.0, &block[..len]),
            None => {
                let mut h = blake3::Hasher::new_keyed(&self.0);
                for p in message_parts(kind, digits) {
                    h.update(p);
                }
                h.finalize()
            }
        };
        let mut out = [0u8; 16];
        out.copy_from_slice(&hash.as_bytes()[..16]);
        Fingerprint(out)
    }

    /// The fingerprints of `numbers`, card data of kind `kind`, in order: each the one
    /// [`Key::fingerprint`] gives, made sixteen at a time where the CPU can ([`many`]; a
    /// digit-dense log holds hundreds of findings per megabyte, each with its fingerprint).
    pub fn fingerprints(&self, kind: &str, numbers: &[&[u8]]) -> Vec<Fingerprint> {
        let mut out = Vec::with_capacity(numbers.len());
        for batch in numbers.chunks(BATCH) {
            #[cfg(target_arch = "x86_64")]
            if batch.len() >= FEWEST_IN_BATCH
                && many::available()
                && let Some(hashes) = self.batch(kind, batch)
            {
                out.extend(hashes);
                continue;
            }
            out.extend(batch.iter().map(|d| self.fingerprint(kind, d)));
        }
        out
    }

    /// The fingerprints of up to [`BATCH`] numbers at once, or `None` if a message is longer
    /// than a block.
    #[cfg(target_arch = "x86_64")]
    fn batch<'a>(
        &self,
        kind: &str,
        batch: &'a [&[u8]],
    ) -> Option<impl Iterator<Item = Fingerprint> + use<'a>> {
        let mut blocks = [[0u8; 64]; BATCH];
        let mut lens = [0u32; BATCH];
        for ((digits, block), n) in batch.iter().zip(&mut blocks).zip(&mut lens) {
            let (b, len) = one_block(kind, digits)?;
            (*block, *n) = (b, len as u32);
        }
        let hashes = many::keyed_hashes(&self.0, &blocks, &lens);
        Some(hashes.into_iter().take(batch.len()).map(Fingerprint))
    }
}

/// Messages hashed at once by [`Key::fingerprints`].
#[cfg(target_arch = "x86_64")]
const BATCH: usize = many::LANES;
#[cfg(not(target_arch = "x86_64"))]
const BATCH: usize = 16;

/// Fewest messages worth a batch: it costs about four hashes made one by one.
#[cfg(target_arch = "x86_64")]
const FEWEST_IN_BATCH: usize = 4;

/// The parts of a fingerprint's message, in order: the bytes hashed, and so the
/// fingerprints, are those of `pansweep-fp-v1`.
fn message_parts<'a>(kind: &'a str, digits: &'a [u8]) -> [&'a [u8]; 4] {
    [FINGERPRINT_V1, kind.as_bytes(), b"\0", digits]
}

/// The message as one BLAKE3 block, zero past its length, with its length; `None` if it is
/// longer than a block.
fn one_block(kind: &str, digits: &[u8]) -> Option<([u8; 64], usize)> {
    let parts = message_parts(kind, digits);
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut block = [0u8; 64];
    let mut at = 0;
    for p in parts {
        block.get_mut(at..at + p.len())?.copy_from_slice(p);
        at += p.len();
    }
    Some((block, len))
}

/// BLAKE3 keyed hashes of sixteen messages at once.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod many;

/// What every fingerprint's message starts with: the scheme's name and version.
const FINGERPRINT_V1: &[u8] = b"pansweep-fp-v1\0";

fn create_key_file(dir: &Path, path: &Path) -> Result<Key, Error> {
    let err = |e: std::io::Error| Error::Key {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| Error::Key {
        path: path.to_path_buf(),
        reason: format!("no randomness: {e}"),
    })?;
    fs::create_dir_all(dir).map_err(err)?;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            f.write_all(hex.as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
            Ok(Key(key))
        }
        // Another pansweep created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Key::load_or_create(Some(dir)),
        Err(e) => Err(err(e)),
    }
}

/// The per-user configuration directory: `$XDG_CONFIG_HOME/pansweep` or
/// `$HOME/.config/pansweep`.
pub fn default_key_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("pansweep"));
    }
    std::env::var_os("HOME")
        .filter(|x| !x.is_empty())
        .map(|h| PathBuf::from(h).join(".config").join("pansweep"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_key_and_digits() {
        let a = Key::from_passphrase("team-secret");
        let b = Key::from_passphrase("other-secret");
        let d = b"4111111111111111";
        assert_eq!(a.fingerprint("pan", d), a.fingerprint("pan", d));
        assert_ne!(a.fingerprint("pan", d), b.fingerprint("pan", d));
        assert_ne!(
            a.fingerprint("pan", d),
            a.fingerprint("pan", b"4242424242424242")
        );
    }

    /// Fingerprints as version 1 defined them, one part at a time: baselines written by
    /// earlier releases hold these.
    fn fingerprint_v1(key: &Key, kind: &str, digits: &[u8]) -> [u8; 16] {
        let mut h = blake3::Hasher::new_keyed(&key.0);
        h.update(b"pansweep-fp-v1\0");
        h.update(kind.as_bytes());
        h.update(b"\0");
        h.update(digits);
        let mut out = [0u8; 16];
        out.copy_from_slice(&h.finalize().as_bytes()[..16]);
        out
    }

    #[test]
    fn fingerprints_keep_their_version_1_values() {
        let key = Key::from_passphrase("team-secret");
        // Every length up to past one block, so both ways of hashing are taken.
        for n in 0..80 {
            let digits: Vec<u8> = (0..n).map(|i| b'0' + (i * 7 % 10) as u8).collect();
            for kind in ["pan", "cvv", "track"] {
                assert!(
                    key.fingerprint(kind, &digits).0 == fingerprint_v1(&key, kind, &digits),
                    "{kind} fingerprint of {n} digits changed"
                );
            }
        }
    }

    /// Generated digit strings, shown masked if a case fails (proptest prints the inputs it
    /// shrinks to, and a run of them can read as a card number).
    struct Numbers(Vec<String>);

    impl std::fmt::Debug for Numbers {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let shown: Vec<String> = self
                .0
                .iter()
                .map(|n| crate::mask::scrub(n.as_bytes()))
                .collect();
            write!(f, "{shown:?}")
        }
    }

    proptest::proptest! {
        /// Fingerprints made in batches are those made one by one: batches of every size,
        /// messages up to past one block (those are hashed one by one), any key.
        #[test]
        fn batched_fingerprints_are_the_single_ones(
            secret in "[a-z]{0,12}",
            kind in proptest::sample::select(vec!["pan", "cvv", "track1"]),
            numbers in proptest::strategy::Strategy::prop_map(
                proptest::collection::vec("[0-9]{0,50}", 0..40),
                Numbers,
            ),
        ) {
            let key = Key::from_passphrase(&secret);
            let numbers: Vec<&[u8]> = numbers.0.iter().map(|n| n.as_bytes()).collect();
            let batched = key.fingerprints(kind, &numbers);
            proptest::prop_assert_eq!(batched.len(), numbers.len());
            for (i, (got, digits)) in batched.iter().zip(&numbers).enumerate() {
                proptest::prop_assert!(
                    got.0 == fingerprint_v1(&key, kind, digits),
                    "number {} of {} digits",
                    i,
                    digits.len()
                );
            }
        }
    }

    /// The sixteen-lane hash against the `blake3` crate, for every message length a block
    /// holds, each lane a different length.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn sixteen_lane_hashes_are_blake3_keyed_hashes() {
        if !many::available() {
            return;
        }
        let key = Key::from_passphrase("lanes");
        for first in 0..=64usize {
            let mut blocks = [[0u8; 64]; many::LANES];
            let mut lens = [0u32; many::LANES];
            for (lane, (block, n)) in blocks.iter_mut().zip(&mut lens).enumerate() {
                let len = (first + 5 * lane) % 65;
                for (i, b) in block[..len].iter_mut().enumerate() {
                    *b = (i * 31 + lane * 7 + first) as u8;
                }
                *n = len as u32;
            }
            let hashes = many::keyed_hashes(&key.0, &blocks, &lens);
            for (lane, h) in hashes.iter().enumerate() {
                let want = blake3::keyed_hash(&key.0, &blocks[lane][..lens[lane] as usize]);
                assert!(
                    h[..] == want.as_bytes()[..16],
                    "lane {lane}, {} bytes",
                    lens[lane]
                );
            }
        }
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = create_key_file(dir.path(), &dir.path().join("fingerprint.key")).unwrap();
        let k2 = Key::load_or_create(Some(dir.path()));
        // The env var would override the file; tests run without it set.
        if std::env::var(KEY_ENV).is_err() {
            let k2 = k2.unwrap();
            assert_eq!(k1.fingerprint("pan", b"1"), k2.fingerprint("pan", b"1"));
        }
    }
}
