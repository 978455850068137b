//! Files read through a memory map, safe against being cut short while mapped.
//!
//! Reading a file copies it from the page cache into a buffer; mapping it lets the detector
//! read the page cache itself. On the 1 GiB log tree of `benches/` that took the one-thread
//! scan from 0.51 s to 0.42 s (the copy was a quarter of the time).
//!
//! The danger of a map is a file cut short while it is mapped (`logrotate`'s
//! `copytruncate` does exactly that to live logs): reading a page past the new end raises
//! `SIGBUS`, which kills the process. ripgrep accepts that risk; pansweep must not (bad input
//! gets a clear error, never a crash). So every live map is registered in a table, and a
//! `SIGBUS` handler that finds the faulting address in a registered map puts zero pages over
//! the rest of that map and lets the read go on: the cut-off part reads as NUL bytes, which
//! hold no card data, and [`MappedFile::was_cut`] tells the caller. A fault anywhere else is
//! handed to the handler that was there before (the process dies as it would have).
//!
//! The handler does only what a signal handler may: atomic loads and stores, one `mmap`
//! system call, and `sigaction` and `raise` to hand a fault that is not ours on.
//!
//! The guard is written for Linux; elsewhere every file is read.

/// Files smaller than this are read, not mapped: for them a map's system calls and page
/// faults cost more than the copy saves (measured on the bench tree: 64 KiB to 256 KiB
/// were equally fast, 16 KiB slower).
pub const MAP_MIN: u64 = 64 << 10;

pub use imp::MappedFile;

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod imp {
    use std::fs::File;
    use std::io;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Once, OnceLock};

    use super::MAP_MIN;

    /// How far before a released range pages are released too ([`MappedFile::release`]):
    /// four times Linux's `fault_around_bytes` (64 KiB), measured: with none, 15 pages of every
    /// MiB stayed mapped.
    const FAULT_AROUND: usize = 256 << 10;

    /// Maps live at once at most (more threads than this read instead).
    const SLOTS: usize = 64;

    /// One registered map: its address range, and whether the handler has cut it.
    struct Slot {
        start: AtomicUsize,
        end: AtomicUsize,
        cut: AtomicBool,
        taken: AtomicBool,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const FREE: Slot = Slot {
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        cut: AtomicBool::new(false),
        taken: AtomicBool::new(false),
    };

    static TABLE: [Slot; SLOTS] = [FREE; SLOTS];

    /// The `SIGBUS` action before ours, restored for a fault that is not in a map of ours (set
    /// before the handler is installed; reading a set `OnceLock` takes no lock).
    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
    static INSTALL: Once = Once::new();
    static INSTALLED: AtomicBool = AtomicBool::new(false);

    /// A file mapped read-only, registered with the `SIGBUS` handler while it lives.
    pub struct MappedFile {
        map: memmap2::Mmap,
        slot: usize,
    }

    impl MappedFile {
        /// Maps `file` (`len` bytes, a regular file); `Ok(None)` when it should be read
        /// instead: too small, the handler could not be installed, or every slot is in use.
        pub fn open(file: &File, len: u64) -> io::Result<Option<MappedFile>> {
            if len < MAP_MIN || !install_handler() {
                return Ok(None);
            }
            let Some(slot) = (0..SLOTS).find(|&i| {
                TABLE[i]
                    .taken
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            }) else {
                return Ok(None);
            };
            let len = usize::try_from(len).map_err(io::Error::other)?;
            // SAFETY: the map is only read, and a file cut short under it is handled by the
            // SIGBUS handler (module docs) once the range is registered just below, before any
            // byte of it is read.
            let map = match unsafe { memmap2::MmapOptions::new().len(len).map(file) } {
                Ok(m) => m,
                Err(e) => {
                    TABLE[slot].taken.store(false, Ordering::Release);
                    return Err(e);
                }
            };
            let s = &TABLE[slot];
            s.cut.store(false, Ordering::Relaxed);
            s.end
                .store(map.as_ptr() as usize + map.len(), Ordering::Relaxed);
            s.start.store(map.as_ptr() as usize, Ordering::Release);
            Ok(Some(MappedFile { map, slot }))
        }

        /// The file's bytes, as long as when it was mapped (NUL past a cut: see
        /// [`MappedFile::was_cut`]).
        pub fn bytes(&self) -> &[u8] {
            &self.map
        }

        /// Drops the pages of `range` from this process's memory, as a scan is done with them:
        /// they stay in the page cache, and are mapped again if read again. Without this, a
        /// mapped file's pages would count in the process's resident memory until it is
        /// unmapped (a 2 GiB log would show 2 GiB), where a read file needs one buffer.
        ///
        /// The pages up to [`FAULT_AROUND`] bytes before `range` are released too: reading a
        /// chunk's look-back (the end of the chunk before) maps them again, as the kernel maps
        /// the pages around a fault, and the chunk before has already released its pages.
        pub fn release(&self, range: std::ops::Range<usize>) {
            let end = range.end.min(self.map.len());
            let start = range.start.saturating_sub(FAULT_AROUND);
            if start >= end {
                return;
            }
            // SAFETY: the map is only ever read and never written, so dropping its pages loses
            // nothing: a page read again is mapped again from the file (or, past a cut, reads
            // as NUL again). memmap2 aligns the start to a page.
            let _ = unsafe {
                self.map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    start,
                    end - start,
                )
            };
        }

        /// Whether the file was cut short while mapped, so that its bytes from some page on
        /// read as NUL instead of what the file held.
        pub fn was_cut(&self) -> bool {
            TABLE[self.slot].cut.load(Ordering::Acquire)
        }
    }

    impl Drop for MappedFile {
        fn drop(&mut self) {
            // Unregistered before the map goes (no byte of it is read after this).
            let s = &TABLE[self.slot];
            s.start.store(0, Ordering::Relaxed);
            s.end.store(0, Ordering::Relaxed);
            s.taken.store(false, Ordering::Release);
        }
    }

    impl std::fmt::Debug for MappedFile {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            // Never the bytes: they may be card data.
            write!(f, "MappedFile({} bytes)", self.map.len())
        }
    }

    /// Installs the `SIGBUS` handler once; false if that failed (then files are read).
    fn install_handler() -> bool {
        INSTALL.call_once(|| {
            // SAFETY: plain libc calls with valid, zeroed structures.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, std::ptr::null(), &raw mut old) != 0 {
                    return;
                }
                let _ = PREVIOUS.set(old);
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&raw mut action.sa_mask);
                if libc::sigaction(libc::SIGBUS, &raw const action, std::ptr::null_mut()) == 0 {
                    INSTALLED.store(true, Ordering::Release);
                }
            }
        });
        INSTALLED.load(Ordering::Acquire)
    }

    /// The `SIGBUS` handler (module docs).
    extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for a handler installed with SA_SIGINFO.
        let addr = unsafe { (*info).si_addr() } as usize;
        for s in &TABLE {
            let start = s.start.load(Ordering::Acquire);
            let end = s.end.load(Ordering::Relaxed);
            if start == 0 || addr < start || addr >= end {
                continue;
            }
            let page = page_size();
            let from = addr & !(page - 1);
            // SAFETY: the range lies in a live map of ours (registered, so not yet unmapped);
            // replacing its pages with anonymous zero pages only changes what it reads.
            let zeroed = unsafe {
                libc::mmap(
                    from as *mut libc::c_void,
                    end - from,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if zeroed != libc::MAP_FAILED {
                s.cut.store(true, Ordering::Release);
                // The read that faulted runs again, and finds zeros.
                return;
            }
        }
        // Not ours (or the zero pages could not be mapped): the handler from before takes
        // the fault, which happens again as soon as this returns.
        // SAFETY: a valid action: the one from before, or the default (all zero: SIG_DFL); and
        // raise, which is async-signal-safe.
        unsafe {
            let previous = PREVIOUS
                .get()
                .copied()
                .unwrap_or_else(|| std::mem::zeroed());
            libc::sigaction(libc::SIGBUS, &raw const previous, std::ptr::null_mut());
            // A SIGBUS sent by a process (`kill -BUS`) does not happen again on return: send it
            // again, to be delivered to that action once this handler returns.
            if (*info).si_code <= 0 {
                libc::raise(libc::SIGBUS);
            }
        }
    }

    /// The size of a memory page.
    fn page_size() -> usize {
        static PAGE: AtomicUsize = AtomicUsize::new(0);
        match PAGE.load(Ordering::Relaxed) {
            0 => {
                // SAFETY: sysconf has no preconditions.
                let p =
                    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
                PAGE.store(p, Ordering::Relaxed);
                p
            }
            p => p,
        }
    }
}

/// Where the `SIGBUS` guard is not written: no file is mapped.
#[cfg(not(target_os = "linux"))]
mod imp {
    use std::fs::File;
    use std::io;
    use std::ops::Range;

    /// A mapped file; none is ever made here ([`MappedFile::open`] says to read).
    #[derive(Debug)]
    pub struct MappedFile(Never);

    #[derive(Debug)]
    enum Never {}

    impl MappedFile {
        /// Always `Ok(None)`: read the file.
        pub fn open(_: &File, _: u64) -> io::Result<Option<MappedFile>> {
            Ok(None)
        }

        /// Never called: there is no map.
        pub fn bytes(&self) -> &[u8] {
            match self.0 {}
        }

        /// Never called: there is no map.
        pub fn release(&self, _: Range<usize>) {
            match self.0 {}
        }

        /// Never called: there is no map.
        pub fn was_cut(&self) -> bool {
            match self.0 {}
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;

    #[test]
    fn a_file_cut_short_while_mapped_reads_as_nul_past_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rotated.log");
        let len = 64 * 4096;
        let mut f = File::create(&path).unwrap();
        f.write_all(&vec![b'x'; len]).unwrap();
        drop(f);
        let file = File::open(&path).unwrap();
        let mapped = MappedFile::open(&file, len as u64)
            .unwrap()
            .expect("mapped");
        assert_eq!(mapped.bytes()[len - 1], b'x');
        assert!(!mapped.was_cut());
        // `copytruncate`: the file is cut to a few pages while it is mapped.
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(3 * 4096 + 10)
            .unwrap();
        let bytes = mapped.bytes();
        // Reading past the new end would have killed the process with SIGBUS.
        let past: usize = bytes[8 * 4096..].iter().map(|&b| usize::from(b)).sum();
        assert_eq!(past, 0);
        assert!(mapped.was_cut());
        assert!(bytes[..3 * 4096].iter().all(|&b| b == b'x'));
        drop(mapped);
        // The slot is free again and a new map starts uncut.
        let again = MappedFile::open(&File::open(&path).unwrap(), (3 * 4096 + 10) as u64);
        assert!(again.unwrap().is_none_or(|m| !m.was_cut()));
    }

    #[test]
    fn small_files_are_read_not_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.log");
        std::fs::write(&path, b"tiny").unwrap();
        let file = File::open(&path).unwrap();
        assert!(MappedFile::open(&file, 4).unwrap().is_none());
    }
}
