//! Which files are read: ignore rules, globs, hidden files, binary files, special files,
//! symlinks, size limits, stdin, compressed and UTF-16 files — and the exit codes that follow.

use std::time::{Duration, Instant};

use crate::util::*;

fn cards_tree() -> (Tree, Vec<String>) {
    let t = Tree::new();
    let pans: Vec<String> = (0..6).map(|i| card("4", 16, 500 + i)).collect();
    t.write("app/a.log", format!("card {}\n", pans[0]));
    t.write("app/ignored.log", format!("card {}\n", pans[1]));
    t.write(".gitignore", "ignored.log\n");
    t.write(".hidden/h.log", format!("card {}\n", pans[2]));
    t.write("data/b.csv", format!("id,card\n1,{}\n", pans[3]));
    t.write("data/c.txt", format!("card {}\n", pans[4]));
    t.write("clean.txt", "nothing to see here 12345\n");
    (t, pans)
}

#[test]
fn gitignore_and_hidden_are_honoured_like_ripgrep() {
    let (t, p) = cards_tree();
    let r = t.run(&["scan", "-q"]);
    r.code(1)
        .finds(&p[0], 1)
        .finds(&p[1], 0)
        .finds(&p[2], 0)
        .finds(&p[3], 1)
        .finds(&p[4], 1);
    let r = t.run(&["scan", "-q", "--no-ignore"]);
    r.code(1).finds(&p[1], 1).finds(&p[2], 0);
    let r = t.run(&["scan", "-q", "--hidden"]);
    r.code(1).finds(&p[2], 1).finds(&p[1], 0);
    // An explicitly named file is read even if ignored.
    t.run(&["scan", "-q", "app/ignored.log"])
        .code(1)
        .finds(&p[1], 1);
}

#[test]
fn globs_include_and_exclude() {
    let (t, p) = cards_tree();
    let r = t.run(&["scan", "-q", "-g", "*.csv"]);
    r.code(1).finds(&p[3], 1).finds(&p[0], 0).finds(&p[4], 0);
    let r = t.run(&["scan", "-q", "-g", "!*.csv", "-g", "!data/c.txt"]);
    r.code(1).finds(&p[3], 0).finds(&p[4], 0).finds(&p[0], 1);
    t.run(&["scan", "-q", "-g", "*.nothing"]).code(0);
}

#[test]
fn clean_tree_exits_zero_and_says_so() {
    let t = Tree::new();
    t.write("a.log", "2024-03-11 INFO nothing 1720838051698 here\n");
    let r = t.run(&["scan"]);
    r.code(0);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("scanned 1 file"), "{}", r.stderr);
    assert!(r.stderr.contains("findings: 0"), "{}", r.stderr);
}

#[test]
fn missing_path_is_an_error_that_wins_over_findings() {
    let (t, p) = cards_tree();
    let r = t.run(&["scan", "-q", "app", "does-not-exist"]);
    r.code(2).finds(&p[0], 1);
    assert!(r.stderr.contains("does-not-exist"), "{}", r.stderr);
}

#[cfg(target_os = "linux")]
#[test]
fn unreadable_file_is_reported_and_the_scan_goes_on() {
    // /proc/self/mem is a regular file that fails to read at offset 0 even for root,
    // which chmod 000 would not achieve in a root CI.
    let (t, p) = cards_tree();
    let r = t.run(&["scan", "-q", "app/a.log", "/proc/self/mem", "data"]);
    r.code(2).finds(&p[0], 1).finds(&p[3], 1);
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("/proc/self/mem"))
        .unwrap_or_else(|| panic!("{}", r.stderr));
    assert!(line.starts_with("pansweep: /proc/self/mem: "), "{line}");
}

#[cfg(unix)]
#[test]
fn permission_denied_when_not_root() {
    use std::os::unix::fs::PermissionsExt;
    let t = Tree::new();
    let f = t.write("secret.log", "card 4111111111111111\n");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = std::fs::File::open(&f).is_ok(); // root reads anything
    let r = t.run(&["scan", "-q", "secret.log"]);
    if readable {
        r.code(0); // a test card: reported, but it does not fail the run
    } else {
        r.code(2);
        assert!(r.stderr.contains("permission denied"), "{}", r.stderr);
    }
}

#[cfg(unix)]
#[test]
fn fifo_is_skipped_and_never_blocks() {
    let (t, p) = cards_tree();
    let fifo = t.join("app/pipe");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let start = Instant::now();
    let r = t.run(&["scan", "app"]);
    assert!(start.elapsed() < Duration::from_secs(20));
    r.code(1).finds(&p[0], 1);
    assert!(r.stderr.contains("1 special file"), "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn a_named_symlink_loop_is_an_error_in_plain_words() {
    let (t, _) = cards_tree();
    std::os::unix::fs::symlink("b", t.join("a")).unwrap();
    std::os::unix::fs::symlink("a", t.join("b")).unwrap();
    for args in [&["scan", "a"][..], &["scan", "--follow", "a"]] {
        let r = t.run(args);
        r.code(2);
        assert!(
            r.stderr.contains("a: too many levels of symbolic links\n"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("os error"), "{}", r.stderr);
    }
}

#[cfg(unix)]
#[test]
fn symlink_loop_with_follow_is_reported_not_followed() {
    let (t, p) = cards_tree();
    std::os::unix::fs::symlink("..", t.join("app/loop")).unwrap();
    let start = Instant::now();
    let r = t.run(&["scan", "--follow", "app"]);
    assert!(start.elapsed() < Duration::from_secs(20));
    r.code(1).finds(&p[0], 1);
    assert!(r.stderr.contains("symlink loop"), "{}", r.stderr);
    // Without --follow the link is skipped and counted.
    let r = t.run(&["scan", "app"]);
    r.code(1).finds(&p[0], 1);
    assert!(r.stderr.contains("symlink (not followed)"), "{}", r.stderr);
}

#[test]
fn binary_files_are_skipped_unless_asked() {
    let t = Tree::new();
    let pan = card("52", 16, 600);
    let mut bytes = vec![0u8, 1, 2, 3, 0, 0];
    bytes.extend_from_slice(format!("\0card {pan}\0").as_bytes());
    t.write("core.bin", &bytes);
    let r = t.run(&["scan", "."]);
    r.code(0).finds(&pan, 0);
    assert!(r.stderr.contains("1 binary"), "{}", r.stderr);
    t.run(&["scan", "-q", "--binary", "."])
        .code(1)
        .finds(&pan, 1);
}

#[test]
fn max_depth_counts_levels_below_each_path_as_ripgrep_does() {
    let t = Tree::new();
    let p: Vec<String> = (0..3).map(|i| card("4", 16, 610 + i)).collect();
    t.write("top.log", format!("card {}\n", p[0]));
    t.write("a/mid.log", format!("card {}\n", p[1]));
    t.write("a/b/deep.log", format!("card {}\n", p[2]));
    t.run(&["scan", "-q", "--max-depth", "1", "."])
        .code(1)
        .finds(&p[0], 1)
        .finds(&p[1], 0)
        .finds(&p[2], 0);
    t.run(&["scan", "-q", "-d", "2", "."])
        .code(1)
        .finds(&p[0], 1)
        .finds(&p[1], 1)
        .finds(&p[2], 0);
    // Depth 0: the paths given and nothing below them; a file given is read.
    t.run(&["scan", "-q", "-d", "0", "."])
        .code(0)
        .finds(&p[0], 0);
    t.run(&["scan", "-q", "-d", "0", "a/b/deep.log"])
        .code(1)
        .finds(&p[2], 1);
    t.run(&["scan", "-d", "deep", "."]).code(2);
}

#[test]
fn one_file_system_stays_off_other_mounts() {
    // A link to a tmpfs directory, followed: a file system other than the tree's.
    let shm = std::path::Path::new("/dev/shm");
    let t = Tree::new();
    let Ok(other) = tempfile::tempdir_in(shm) else {
        eprintln!("skipped: no writable /dev/shm here");
        return;
    };
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &std::path::Path| std::fs::metadata(p).unwrap().dev();
    if dev(other.path()) == dev(t.path()) {
        eprintln!("skipped: /dev/shm is on the same file system as the temporary directory");
        return;
    }
    let p: Vec<String> = (0..2).map(|i| card("4", 16, 620 + i)).collect();
    t.write("local.log", format!("card {}\n", p[0]));
    std::fs::write(other.path().join("mounted.log"), format!("card {}\n", p[1])).unwrap();
    std::os::unix::fs::symlink(other.path(), t.join("elsewhere")).unwrap();
    t.run(&["scan", "-q", "--follow", "."])
        .code(1)
        .finds(&p[0], 1)
        .finds(&p[1], 1);
    t.run(&["scan", "-q", "--follow", "--one-file-system", "."])
        .code(1)
        .finds(&p[0], 1)
        .finds(&p[1], 0);
}

#[test]
fn max_filesize_skips_and_counts() {
    let t = Tree::new();
    let pan = card("52", 16, 601);
    t.write("big.log", format!("{}\ncard {pan}\n", "x".repeat(5000)));
    let r = t.run(&["scan", "--max-filesize", "4K", "."]);
    r.code(0).finds(&pan, 0);
    assert!(
        r.stderr.contains("larger than --max-filesize"),
        "{}",
        r.stderr
    );
    t.run(&["scan", "-q", "--max-filesize", "1M", "."])
        .code(1)
        .finds(&pan, 1);
    t.run(&["scan", "--max-filesize", "lots", "."]).code(2);
}

#[test]
fn stdin_is_scanned_with_dash() {
    let t = Tree::new();
    let pan = card("37", 15, 602);
    let r = t.run_stdin(
        &["scan", "-q", "--format", "jsonl", "-"],
        format!("a\ncard {pan}\n").as_bytes(),
    );
    r.code(1);
    let v = r.jsonl();
    assert_eq!(v[0]["path"], "<stdin>");
    assert_eq!(v[0]["line"], 2);
}

#[test]
fn gzip_files_are_decompressed_with_lines_of_the_text() {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let t = Tree::new();
    let pan = card("6011", 16, 603);
    let mut gz = Vec::new();
    for part in [
        "line 1\nline 2\n".to_string(),
        format!("line 3 card {pan}\n"),
    ] {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(part.as_bytes()).unwrap();
        gz.extend(e.finish().unwrap());
    }
    t.write("app.log.2.gz", &gz);
    let r = t.run(&["scan", "-q", "--format", "jsonl", "."]);
    r.code(1);
    let v = r.jsonl();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["line"], 3);
    assert_eq!(v[0]["path"], "./app.log.2.gz");
    t.run(&["scan", "-q", "--no-decompress", "--binary", "."])
        .code(0)
        .finds(&pan, 0);
    // A truncated gzip: what was read is reported, and the error makes the exit code 2.
    let cut = &gz[..gz.len() - 12];
    t.write("app.log.2.gz", cut);
    let r = t.run(&["scan", "-q", "--format", "jsonl", "."]);
    r.code(2);
    assert!(r.stderr.contains("app.log.2.gz"), "{}", r.stderr);
}

#[test]
fn a_truncated_gzip_error_counts_every_finding_reported_before_it() {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let t = Tree::new();
    // Enough findings that the scan passes them on a thousand at a time before the cut.
    let pan = card("4539", 16, 605);
    let mut text = String::new();
    for i in 0..6000 {
        text.push_str(&format!(
            "line {i} payment card {pan} seq {}\n",
            i * 7919 % 10007
        ));
    }
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    t.write("big.log.gz", &gz[..gz.len() * 2 / 3]);
    let r = t.run(&["scan", "-q", "--format", "jsonl", "."]);
    r.code(2);
    let n = r.jsonl().len();
    assert!(n > 1000, "{n} findings before the cut");
    assert!(
        r.stderr.contains(&format!("read error after {n} findings")),
        "{n} findings reported; stderr: {}",
        r.stderr
    );
}

#[test]
fn utf16_files_are_decoded_and_located_in_file_bytes() {
    let t = Tree::new();
    let pan = card("52", 16, 604);
    let text = format!("first line\r\nカード番号: {pan}\r\n");
    let mut bytes = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    t.write("win.log", &bytes);
    let r = t.run(&["scan", "-q", "--format", "jsonl", "."]);
    r.code(1);
    let v = r.jsonl();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["line"], 2);
    let units_before = text[..text.find(&pan).unwrap()].encode_utf16().count() as u64;
    assert_eq!(v[0]["offset"], 2 + 2 * units_before);
    assert_eq!(v[0]["length"], 32);
    assert_eq!(v[0]["confidence"], "high");
}

#[test]
fn threads_flag_gives_the_same_findings() {
    let (t, _) = cards_tree();
    let mut a: Vec<String> = t
        .run(&["scan", "-q", "-j", "1"])
        .code(1)
        .stdout
        .lines()
        .map(String::from)
        .collect();
    let mut b: Vec<String> = t
        .run(&["scan", "-q", "-j", "4"])
        .code(1)
        .stdout
        .lines()
        .map(String::from)
        .collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn one_large_file_searched_on_several_threads_reports_the_same_in_order() {
    // 24 MiB: three batches of chunks on the pool. Cards at many offsets, some straddling
    // the 1 MiB chunk edges, some with a code on the next line; and a CSV-like header.
    let t = Tree::new();
    let mut text = String::from("time,card_number,cvv\n");
    let filler = "2026-11-27 10:00:00,000 INFO worker-7 request took 250 ms from 10.0.0.1\n";
    let mut i = 0u64;
    while text.len() < 24 << 20 {
        let pad = (i * 7919) % 997;
        text.push_str(&filler.repeat(1 + (pad as usize % 40)));
        text.push_str(&" ".repeat(pad as usize % 61));
        match i % 3 {
            0 => text.push_str(&format!("pay card={} ok\n", card("4", 16, 60_000 + i))),
            1 => text.push_str(&format!(
                "card {}\ncvv: {:03}\n",
                grouped(&card("5", 16, 60_000 + i), &[4, 4, 4, 4], " "),
                i % 1000
            )),
            _ => text.push_str(&format!("cvv={:03}\n", i % 1000)),
        }
        i += 1;
    }
    t.write("big.log", &text);
    let one = t.run(&["scan", "-q", "-j", "1", "--format", "jsonl", "big.log"]);
    let many = t.run(&["scan", "-q", "-j", "4", "--format", "jsonl", "big.log"]);
    one.code(1);
    many.code(1);
    assert!(one.stdout.lines().count() > 1000);
    assert!(
        one.stdout == many.stdout,
        "reports differ between -j1 and -j4"
    );
    // The file is read through a map; standard input is read into buffers: the same
    // findings at the same places (but for the path).
    let piped = t.run_stdin(
        &["scan", "-q", "-j", "1", "--format", "jsonl", "-"],
        text.as_bytes(),
    );
    piped.code(1);
    let without_path = |out: &str| -> Vec<serde_json::Value> {
        out.lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("path");
                v
            })
            .collect()
    };
    assert!(
        without_path(&one.stdout) == without_path(&piped.stdout),
        "a mapped file and the same bytes read from stdin report differently"
    );
}

#[test]
fn cards_across_every_chunk_edge_of_a_mapped_file_are_found_once() {
    // Cards that start 1 to 15 bytes before each 1 MiB edge (where the file's chunks meet)
    // and at the edge itself; the same bytes read from stdin find the same.
    let t = Tree::new();
    let filler = "2026-11-27 10:00:00,000 INFO worker-7 request took 250 ms\n";
    let mut text = String::new();
    let mut pans = Vec::new();
    for edge in 1..=6usize {
        let pan = card("4", 16, 90_000 + edge as u64);
        let start = (edge << 20) - (edge * 3) % 16;
        while text.len() + filler.len() < start - 1 {
            text.push_str(filler);
        }
        text.push_str(&" ".repeat(start - 1 - text.len()));
        text.push('\n');
        text.push_str(&format!("{pan} paid\n"));
        pans.push(pan);
    }
    text.push_str(filler);
    t.write("edges.log", &text);
    let mapped = t.run(&["scan", "-q", "-j", "1", "--format", "jsonl", "edges.log"]);
    mapped.code(1);
    let found = mapped.jsonl();
    assert_eq!(found.len(), pans.len(), "each card once");
    for (f, pan) in found.iter().zip(&pans) {
        assert_eq!(f["masked"], masked(pan));
    }
    let piped = t.run_stdin(&["scan", "-q", "--format", "jsonl", "-"], text.as_bytes());
    assert_eq!(piped.jsonl().len(), pans.len());
}

#[test]
fn archive_members_are_scanned_and_named() {
    use std::io::Write;
    let t = Tree::new();
    let a = card("4", 16, 610);
    let b = card("52", 16, 611);
    let c = card("37", 15, 612);
    // logs.zip: one plain member, one gzip member; bundle.tar.gz: a member and a nested zip.
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zw.start_file("app/one.log", zip::write::SimpleFileOptions::default())
        .unwrap();
    zw.write_all(format!("x\ncard {a}\n").as_bytes()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("card {b}\n").as_bytes()).unwrap();
    zw.start_file("two.log.gz", zip::write::SimpleFileOptions::default())
        .unwrap();
    zw.write_all(&gz.finish().unwrap()).unwrap();
    let zip_bytes = zw.finish().unwrap().into_inner();
    t.write("logs.zip", &zip_bytes);
    let mut tb = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("inner/c.log", format!("card {c}\n").into_bytes()),
        ("nested.zip", zip_bytes.clone()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tb.append_data(&mut h, name, &data[..]).unwrap();
    }
    let mut tgz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    tgz.write_all(&tb.into_inner().unwrap()).unwrap();
    t.write("bundle.tgz", tgz.finish().unwrap());
    let r = t.run(&["scan", "-q", "--format", "jsonl", "."]);
    r.code(1);
    let mut paths: Vec<String> = r
        .jsonl()
        .iter()
        .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "./bundle.tgz!inner/c.log:1",
            "./bundle.tgz!nested.zip!app/one.log:2",
            "./bundle.tgz!nested.zip!two.log.gz:1",
            "./logs.zip!app/one.log:2",
            "./logs.zip!two.log.gz:1",
        ]
    );
    // redact lists what it cannot mask and fails; the archives are untouched.
    let before = std::fs::read(t.join("logs.zip")).unwrap();
    let r = t.run(&["redact", "logs.zip"]);
    r.code(2).finds(&a, 1);
    assert!(
        r.stderr.contains("archive is not rewritten") && r.stderr.contains("NOT masked"),
        "{}",
        r.stderr
    );
    assert_same(
        std::fs::read(t.join("logs.zip")).unwrap(),
        &before,
        "zip file",
    );
    // A corrupt archive is an error, not a silent pass.
    t.write("bad.zip", b"PK\x03\x04 this is not really a zip");
    t.run(&["scan", "-q", "bad.zip"]).code(2);
}
