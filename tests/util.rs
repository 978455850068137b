//! Helpers: temporary trees, running the binary, generated card numbers, and assertions
//! whose failure messages never show a full card number.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Appends the Luhn check digit to `partial`.
pub fn luhn_complete(partial: &str) -> String {
    for d in 0..10 {
        let s = format!("{partial}{d}");
        if luhn_ok(&s) {
            return s;
        }
    }
    unreachable!()
}

/// Returns true if and only if `s` passes the Luhn check.
pub fn luhn_ok(s: &str) -> bool {
    let mut sum = 0;
    for (i, c) in s.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// A generated Luhn-valid number of `len` digits starting with `prefix`; `seed` varies the
/// middle digits so tests get distinct numbers.
pub fn card(prefix: &str, len: usize, seed: u64) -> String {
    let mut s = prefix.to_string();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    while s.len() < len - 1 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s.push(char::from(b'0' + ((x >> 33) % 10) as u8));
    }
    luhn_complete(&s)
}

/// The same number, but failing Luhn.
pub fn luhn_broken(good: &str) -> String {
    let mut b = good.as_bytes().to_vec();
    let last = b.len() - 1;
    b[last] = b'0' + (b[last] - b'0' + 1) % 10;
    String::from_utf8(b).unwrap()
}

/// Groups digits by `layout` with `sep`.
pub fn grouped(digits: &str, layout: &[usize], sep: &str) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    for &n in layout {
        parts.push(&digits[i..i + n]);
        i += n;
    }
    assert_eq!(i, digits.len(), "layout does not cover the number");
    parts.join(sep)
}

/// The display mask pansweep uses.
pub fn masked(digits: &str) -> String {
    let n = digits.len();
    format!("{}{}{}", &digits[..6], "*".repeat(n - 10), &digits[n - 4..])
}

/// Replaces every run of 12+ digits in `s` with a masked form, so failure messages cannot
/// show a card number.
pub fn redact_digits(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 12 {
            out.push_str(&format!(
                "<{} digits ending {}>",
                run.len(),
                &run[run.len() - 2..]
            ));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// `s` with every digit (ASCII or full-width) shown as `#`: for generated text in failure
/// messages, where even a grouped number or a 3-digit code must not appear.
pub fn digits_hidden(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => '#',
            '０'..='９' => '＃',
            c => c,
        })
        .collect()
}

/// A temporary directory that looks like a git work tree (so .gitignore applies).
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        Tree { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn write(&self, p: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(p);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, content).unwrap();
        path
    }

    /// `pansweep <args>` in this tree, ready to spawn: stdout and stderr piped, stdin empty,
    /// a fingerprint key set (for tests that watch or interrupt a running process).
    pub fn command(&self, args: &[&str]) -> Command {
        command_in(self.path(), args)
    }

    /// Runs `pansweep <args>` in this tree.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args, None)
    }

    /// Runs `pansweep <args>` in this tree with `stdin` as input.
    pub fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        run_in(self.path(), args, Some(stdin))
    }
}

/// What a run printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing (digit-masked) output on failure.
    pub fn code(&self, want: i32) -> &Run {
        assert_eq!(
            self.code,
            want,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            redact_digits(&self.stdout),
            redact_digits(&self.stderr)
        );
        self
    }

    /// Parses stdout as JSON Lines.
    pub fn jsonl(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("bad JSON line {:?}: {e}", redact_digits(l)))
            })
            .collect()
    }

    /// Asserts that stdout mentions `digits` (masked) exactly `n` times.
    pub fn finds(&self, digits: &str, n: usize) -> &Run {
        let m = masked(digits);
        let got = self.stdout.matches(&m).count();
        assert_eq!(
            got,
            n,
            "{m} expected {n} time(s)\nstdout:\n{}\nstderr:\n{}",
            redact_digits(&self.stdout),
            redact_digits(&self.stderr)
        );
        self
    }
}

/// Asserts that two byte strings are equal without printing them (files and streams under
/// test hold card numbers): a failure shows only the lengths and the first differing offset.
#[track_caller]
pub fn assert_same(got: impl AsRef<[u8]>, want: impl AsRef<[u8]>, what: &str) {
    let (g, w) = (got.as_ref(), want.as_ref());
    if g != w {
        let at = g.iter().zip(w).position(|(a, b)| a != b);
        let at = at.unwrap_or(g.len().min(w.len()));
        panic!(
            "{what}: differs from byte {at} (lengths {} and {})",
            g.len(),
            w.len()
        );
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pansweep")
}

fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .env("PANSWEEP_FINGERPRINT_KEY", "integration-tests")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = command_in(dir, args);
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("spawn pansweep");
    // Input is written on a thread of its own while the output is read: a large input
    // written first would block once pansweep blocked on a full output pipe.
    let out = std::thread::scope(|s| {
        if let (Some(input), Some(mut si)) = (stdin, child.stdin.take()) {
            s.spawn(move || {
                use std::io::Write;
                // pansweep may stop reading early (an error); that is its outcome to report.
                let _ = si.write_all(input);
            });
        }
        child.wait_with_output().unwrap()
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn generated_cards_are_luhn_valid_and_distinct() {
    let a = card("4", 16, 1);
    let b = card("4", 16, 2);
    assert!(luhn_ok(&a) && luhn_ok(&b));
    assert_ne!(a, b);
    assert!(!luhn_ok(&luhn_broken(&a)));
    assert_eq!(
        redact_digits("x 4111111111111111 y 12"),
        "x <16 digits ending 11> y 12"
    );
}
