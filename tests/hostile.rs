//! Hostile and broken input: closed pipes, odd file names, /proc files, invalid UTF-8, a full
//! disk during redact, files deleted or cut short mid-scan, a million empty files, two
//! gigabytes without a newline.

use std::io::Read;
use std::process::{Command, Stdio};

use crate::util::*;

#[test]
fn closed_pipe_ends_quietly_with_the_code_earned() {
    let t = Tree::new();
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!("card {}\n", card("4", 16, 20_000 + i)));
    }
    t.write("many.log", &text);
    let mut child = t.command(&["scan", "many.log"]).spawn().unwrap();
    let mut first = [0u8; 64];
    let n = child.stdout.as_mut().unwrap().read(&mut first).unwrap();
    assert!(n > 0);
    drop(child.stdout.take()); // like `| head -1`
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{}", redact_digits(&stderr));
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings were earned before the pipe closed"
    );
}

#[cfg(unix)]
#[test]
fn file_names_with_newlines_and_invalid_utf8_are_reported_safely() {
    use std::os::unix::ffi::OsStrExt;
    let t = Tree::new();
    let name = std::ffi::OsStr::from_bytes(b"bad\nname\xff.log");
    let pan = card("4", 16, 30_001);
    std::fs::write(t.path().join(name), format!("card {pan}\n")).unwrap();
    let r = t.run(&["scan", "-q", "--color", "never", "."]);
    r.code(1);
    assert_eq!(
        r.stdout.lines().count(),
        1,
        "a newline in a name must not forge a line: {}",
        redact_digits(&r.stdout)
    );
    assert!(
        r.stdout.contains("bad\\nname"),
        "{}",
        redact_digits(&r.stdout)
    );
    let r = t.run(&["scan", "-q", "--format", "jsonl", "."]);
    let v = r.code(1).jsonl();
    assert_eq!(v.len(), 1);
    assert!(v[0]["path"].as_str().unwrap().contains("name"));
}

#[cfg(target_os = "linux")]
#[test]
fn proc_files_that_report_size_zero_are_read() {
    // /proc/self/status says its size is 0 but has content.
    let t = Tree::new();
    assert_eq!(std::fs::metadata("/proc/self/status").unwrap().len(), 0);
    let r = t.run(&["scan", "-q", "--format", "json", "/proc/self/status"]);
    r.code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["files_scanned"], 1);
    assert!(
        v["summary"]["bytes_scanned"].as_u64().unwrap() > 100,
        "{}",
        r.stdout
    );
}

#[test]
fn invalid_utf8_and_late_nul_bytes_do_not_hide_cards() {
    let t = Tree::new();
    let pan = card("51", 16, 30_002);
    let mut bytes = "ok line\n".repeat(2000).into_bytes(); // past the 8 KiB sniff
    bytes.extend_from_slice(b"\xff\xfe\x00\xc3(garbage\x00 card ");
    bytes.extend_from_slice(pan.as_bytes());
    bytes.extend_from_slice(b" \xe2\x82\n");
    t.write("mixed.log", &bytes);
    t.run(&["scan", "-q", "mixed.log"]).code(1).finds(&pan, 1);
    t.run(&["redact", "-q", "mixed.log"]).code(0);
    let after = std::fs::read(t.join("mixed.log")).unwrap();
    assert_eq!(after.len(), bytes.len());
    assert!(!after.windows(16).any(|w| w == pan.as_bytes()));
}

/// Mounts a tiny tmpfs (root only, where mounting is allowed); `None` where it is not.
#[cfg(target_os = "linux")]
fn tiny_tmpfs(dir: &std::path::Path, size: &str) -> Option<()> {
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .ok()?;
    st.success().then_some(())
}

#[cfg(target_os = "linux")]
#[test]
fn full_disk_during_redact_leaves_the_file_untouched() {
    use std::io::Write;
    let t = Tree::new();
    let disk = t.join("disk");
    std::fs::create_dir(&disk).unwrap();
    if tiny_tmpfs(&disk, "256k").is_none() {
        eprintln!("full-disk test not run: cannot mount a tmpfs here");
        return;
    }
    let unmount = scopeguard(disk.clone());
    // A gzip needs room for its temporary copy; fill the disk so there is none.
    let pan = card("4", 16, 30_003);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    for i in 0..2000 {
        e.write_all(format!("{i} card {pan} x\n").as_bytes())
            .unwrap();
    }
    let gz = e.finish().unwrap();
    std::fs::write(disk.join("app.log.gz"), &gz).unwrap();
    let mut fill = std::fs::File::create(disk.join("filler")).unwrap();
    let block = vec![7u8; 4096];
    while fill.write_all(&block).is_ok() {}
    let _ = fill.sync_all();
    drop(fill);
    let r = t.run(&["redact", "disk"]);
    r.code(2);
    assert!(
        r.stderr.to_lowercase().contains("no space"),
        "{}",
        redact_digits(&r.stderr)
    );
    assert_same(
        std::fs::read(disk.join("app.log.gz")).unwrap(),
        &gz,
        "gzip file",
    );
    let leftovers = std::fs::read_dir(&disk)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".pansweep-"))
        .count();
    assert_eq!(leftovers, 0, "temporary file left on the full disk");
    drop(unmount);
}

/// Unmounts on drop, so a failing assertion does not leave a mount behind.
#[cfg(target_os = "linux")]
struct Unmount(std::path::PathBuf);

#[cfg(target_os = "linux")]
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[cfg(target_os = "linux")]
fn scopeguard(p: std::path::PathBuf) -> Unmount {
    Unmount(p)
}

#[cfg(unix)]
#[test]
fn device_files_given_by_name_are_skipped_not_read() {
    let t = Tree::new();
    let start = std::time::Instant::now();
    // /dev/zero never ends and /dev/urandom is binary noise: both must be skipped at once.
    let r = t.run(&["scan", "/dev/zero", "/dev/null", "/dev/urandom"]);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    r.code(0);
    assert!(r.stderr.contains("3 special file"), "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_redact_leaves_files_whole() {
    use std::io::Write;
    let t = Tree::new();
    // Several gzip files, so the interrupt lands between or inside rewrites.
    let mut originals = Vec::new();
    for k in 0..6 {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..60_000 {
            writeln!(
                e,
                "{k} {i} pay card={} ok",
                card("4", 16, (k * 100_000 + i) as u64)
            )
            .unwrap();
        }
        let gz = e.finish().unwrap();
        t.write(&format!("log{k}.gz"), &gz);
        originals.push(gz);
    }
    let child = t
        .command(&["redact", "-q", "-j", "1", "."])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Interrupt while a rewrite is under way: as soon as a temporary file exists.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let rewriting = || {
        std::fs::read_dir(t.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".pansweep-"))
    };
    while !rewriting() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_micros(500));
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let code = out.status.code();
    assert_eq!(
        code,
        Some(130),
        "{}",
        redact_digits(&String::from_utf8_lossy(&out.stderr))
    );
    let mut untouched = 0;
    for (k, original) in originals.iter().enumerate() {
        let now = std::fs::read(t.join(&format!("log{k}.gz"))).unwrap();
        untouched += usize::from(now == *original);
        if now != *original {
            // Rewritten: it must be a whole, readable gzip with every card masked.
            let mut text = String::new();
            flate2::read::MultiGzDecoder::new(&now[..])
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text.lines().count(), 60_000);
            assert!(!text.contains(&card("4", 16, (k * 100_000) as u64)));
        }
    }
    assert!(
        untouched > 0,
        "the interrupt came after every file was rewritten"
    );
    let leftovers = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".pansweep-"))
        .count();
    assert_eq!(leftovers, 0, "temporary files left after Ctrl-C");
}

/// Waits for `child` at most `secs` seconds (a hang is a failure, not a stuck CI job). Its
/// output is read while it runs: a child that fills a pipe nobody drains would block on it
/// and look hung.
fn wait_or_kill(mut child: std::process::Child, secs: u64) -> std::process::Output {
    fn drain(
        pipe: Option<impl std::io::Read + Send + 'static>,
    ) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut out);
            }
            out
        })
    }
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("pansweep did not finish within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Asserts a run ended with a code a CI gate understands, without a panic, and without a
/// full card number anywhere in its output.
fn ended_cleanly(out: &std::process::Output, cards: &[String]) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "exit {:?}\n{}",
        out.status.code(),
        redact_digits(&stderr)
    );
    assert!(!stderr.contains("panicked"), "{}", redact_digits(&stderr));
    for c in cards {
        assert!(!stdout.contains(c.as_str()) && !stderr.contains(c.as_str()));
    }
}

#[test]
fn files_deleted_or_truncated_mid_scan_are_errors_or_short_reads_never_crashes() {
    let t = Tree::new();
    let cards: Vec<String> = (0..400).map(|i| card("4", 16, 70_000 + i)).collect();
    let filler = "2026-11-27 10:00:00,000 INFO worker request took 250 ms\n".repeat(4_000);
    for (i, c) in cards.iter().enumerate() {
        t.write(
            &format!("d{}/f{i}.log", i % 8),
            format!("{filler}card {c}\n"),
        );
    }
    // One large file, to be cut short while it is being read.
    let big_card = card("5", 16, 79_999);
    let mut big = std::fs::File::create(t.join("big.log")).unwrap();
    for _ in 0..40 {
        std::io::Write::write_all(&mut big, filler.as_bytes()).unwrap();
    }
    std::io::Write::write_all(&mut big, format!("card {big_card}\n").as_bytes()).unwrap();
    drop(big);
    let child = t
        .command(&["scan", "-j", "1", "--format", "jsonl", "."])
        .spawn()
        .unwrap();
    // While it runs: delete every other file, cut the rest (and the large one) to nothing.
    std::thread::sleep(std::time::Duration::from_millis(30));
    std::fs::File::options()
        .write(true)
        .open(t.join("big.log"))
        .unwrap()
        .set_len(0)
        .unwrap();
    for i in 0..cards.len() {
        let p = t.join(&format!("d{}/f{i}.log", i % 8));
        if i % 2 == 0 {
            std::fs::remove_file(&p).unwrap();
        } else {
            std::fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_len(10)
                .unwrap();
        }
    }
    let out = wait_or_kill(child, 120);
    let mut all = cards.clone();
    all.push(big_card);
    ended_cleanly(&out, &all);
    // Whatever was read before the change is reported as usual; a file that vanished is an
    // error naming it, and errors win the exit code.
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr
        .lines()
        .filter(|l| l.contains("f") && l.contains("error"))
    {
        assert!(line.contains(".log"), "{}", redact_digits(line));
    }
    if stderr.contains("No such file") {
        assert_eq!(out.status.code(), Some(2));
    }
}

#[test]
fn a_million_empty_files() {
    let t = Tree::new();
    for d in 0..1000 {
        let dir = t.join(&format!("d{d:03}"));
        std::fs::create_dir(&dir).unwrap();
        for f in 0..1000 {
            std::fs::File::create(dir.join(format!("{f:03}"))).unwrap();
        }
    }
    let card = card("4", 16, 81_000);
    t.write("d500/with-card.log", format!("card {card}\n"));
    let child = t
        .command(&["scan", "--format", "jsonl", "."])
        .spawn()
        .unwrap();
    let out = wait_or_kill(child, 600);
    ended_cleanly(&out, std::slice::from_ref(&card));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scanned 1000001 files"),
        "{}",
        redact_digits(&stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

/// Peak resident memory of a running process, from /proc (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn two_gigabytes_without_a_newline_in_bounded_memory() {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(["scan", "-q", "--format", "jsonl", "-"])
        .env("PANSWEEP_FINGERPRINT_KEY", "t")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let total: usize = 2 << 30;
    let block = vec![b'x'; 1 << 20];
    let mut cards = Vec::new();
    let mut peak = 0;
    let mut written = 0;
    while written < total {
        if written % (64 << 20) == 0 {
            let c = card("4", 16, 90_000 + cards.len() as u64);
            stdin.write_all(format!(" card {c} ").as_bytes()).unwrap();
            cards.push(c);
        }
        stdin.write_all(&block).unwrap();
        written += block.len();
        if written % (256 << 20) == 0 {
            peak = peak.max(peak_rss_kib(pid).unwrap_or(0));
        }
    }
    peak = peak.max(peak_rss_kib(pid).unwrap_or(0));
    drop(stdin);
    let out = wait_or_kill(child, 600);
    ended_cleanly(&out, &cards);
    assert_eq!(out.status.code(), Some(1));
    let found = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(found, cards.len(), "one finding per card in one 2 GiB line");
    assert!(peak > 0, "could not read /proc/{pid}/status");
    assert!(peak < 64 << 10, "peak RSS {peak} KiB");
}
