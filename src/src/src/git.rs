//! Git as a source of bytes: the staged (index) version of files for pre-commit, and the lines
//! each commit added for history scans. Uses the `git` command on PATH; knows nothing of cards.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A file as staged in the index.
#[derive(Debug)]
pub struct StagedFile {
    /// Path relative to the top of the work tree.
    pub path: String,
    /// The staged content.
    pub data: Vec<u8>,
}

/// Lines one commit added to one file.
#[derive(Debug, Default)]
pub struct Added {
    /// Full commit id.
    pub commit: String,
    /// Author date, ISO 8601.
    pub date: String,
    /// Path after the commit (renames followed).
    pub path: String,
    /// The added lines, each ending in `\n`.
    pub text: Vec<u8>,
    /// The line number (in the file after the commit) of each line of `text`.
    pub lines: Vec<u64>,
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir).arg("-c").arg("core.quotepath=off");
    c
}

fn run(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd.output().map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "git failed: {}",
            err.lines().next().unwrap_or("").trim()
        ));
    }
    Ok(out.stdout)
}

/// The top directory of the work tree holding `dir`.
pub fn top_level(dir: &Path) -> Result<PathBuf, String> {
    let out = run(git(dir).args(["rev-parse", "--show-toplevel"]))?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out).trim_end()))
}

/// The staged version of every added, copied, modified or renamed file.
pub fn staged_files(top: &Path) -> Result<Vec<StagedFile>, String> {
    let names = run(git(top).args([
        "diff",
        "--cached",
        "--name-only",
        "-z",
        "--diff-filter=ACMR",
        "--no-ext-diff",
    ]))?;
    let paths: Vec<String> = names
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    // One `git cat-file --batch` for all of them: a process per file costs more than the scan.
    let mut child = git(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("git cat-file: no stdin")?;
    let request: String = paths.iter().map(|p| format!(":{p}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut out = BufReader::new(child.stdout.take().ok_or("git cat-file: no stdout")?);
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let mut header = String::new();
        out.read_line(&mut header)
            .map_err(|e| format!("git cat-file: {e}"))?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        if fields.len() != 3 {
            continue; // "missing": a submodule or an unmerged entry
        }
        let size: usize = fields[2]
            .parse()
            .map_err(|_| format!("git cat-file: bad header for {path}"))?;
        let mut data = vec![0u8; size];
        out.read_exact(&mut data)
            .map_err(|e| format!("git cat-file: {e}"))?;
        let mut nl = [0u8; 1];
        out.read_exact(&mut nl)
            .map_err(|e| format!("git cat-file: {e}"))?;
        if fields[1] == "blob" {
            files.push(StagedFile { path, data });
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(files)
}

/// Most added text handed on at once; longer additions come in several pieces.
const BATCH: usize = 1 << 20;

/// Calls `each` with the lines added by every commit in `range` (oldest first), per file.
/// Binary files and deletions add no lines.
pub fn added_lines(top: &Path, range: &str, mut each: impl FnMut(Added)) -> Result<(), String> {
    let mut child = git(top)
        .args([
            "log",
            "--reverse",
            "--no-color",
            "--no-ext-diff",
            "-M",
            "-p",
            "-U0",
            "--format=%x00%H %aI",
        ])
        .arg(range)
        .arg("--")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let stdout = child.stdout.take().ok_or("git log: no stdout")?;
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut cur = Added::default();
    let mut next_line = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("git log: {e}"))?;
        if n == 0 {
            break;
        }
        if line.first() == Some(&0) {
            flush(&mut cur, &mut each);
            let text = String::from_utf8_lossy(&line[1..]);
            let mut parts = text.trim_end().splitn(2, ' ');
            cur.commit = parts.next().unwrap_or("").to_string();
            cur.date = parts.next().unwrap_or("").to_string();
            cur.path.clear();
        } else if line.starts_with(b"diff --git ") {
            flush(&mut cur, &mut each);
            cur.path.clear();
        } else if let Some(p) = line.strip_prefix(b"+++ ") {
            flush(&mut cur, &mut each);
            let p = String::from_utf8_lossy(p.strip_suffix(b"\n").unwrap_or(p)).into_owned();
            cur.path = p.strip_prefix("b/").map(str::to_string).unwrap_or_default();
        } else if line.starts_with(b"@@ ") {
            next_line = hunk_new_start(&line).unwrap_or(1);
        } else if line.first() == Some(&b'+') && !cur.path.is_empty() {
            cur.text.extend_from_slice(&line[1..]);
            if cur.text.last() != Some(&b'\n') {
                cur.text.push(b'\n');
            }
            cur.lines.push(next_line);
            next_line += 1;
            if cur.text.len() >= BATCH {
                flush(&mut cur, &mut each);
            }
        }
    }
    flush(&mut cur, &mut each);
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| format!("git log: {e}"))?;
    if !status.success() {
        return Err(format!(
            "git log {range}: {}",
            err.lines().next().unwrap_or("failed").trim()
        ));
    }
    Ok(())
}

fn flush(cur: &mut Added, each: &mut impl FnMut(Added)) {
    if cur.text.is_empty() {
        return;
    }
    let batch = Added {
        commit: cur.commit.clone(),
        date: cur.date.clone(),
        path: cur.path.clone(),
        text: std::mem::take(&mut cur.text),
        lines: std::mem::take(&mut cur.lines),
    };
    each(batch);
}

/// The first new-file line of a hunk header `@@ -a,b +c,d @@`.
fn hunk_new_start(line: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(line).ok()?;
    let plus = s.split_whitespace().find(|w| w.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

/// Installs `.git/hooks/pre-commit` running `pansweep scan --staged`; refuses to replace an
/// existing hook unless `force`. Returns the hook's path.
pub fn install_hook(dir: &Path, force: bool) -> Result<PathBuf, String> {
    let hooks = run(git(dir).args(["rev-parse", "--git-path", "hooks"]))?;
    let hooks = PathBuf::from(String::from_utf8_lossy(&hooks).trim_end());
    let hooks = if hooks.is_absolute() {
        hooks
    } else {
        dir.join(hooks)
    };
    std::fs::create_dir_all(&hooks).map_err(|e| format!("{}: {e}", hooks.display()))?;
    let path = hooks.join("pre-commit");
    if path.exists() && !force {
        return Err(format!(
            "{} exists; use --force to replace it",
            path.display()
        ));
    }
    let script = "#!/bin/sh\n# Installed by `pansweep install-hook`: refuse commits that add payment card data.\n# Bypass once with `git commit --no-verify`; mark intended test data with `pansweep:allow`.\nexec pansweep scan --staged --quiet\n";
    std::fs::write(&path, script).map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunk_headers() {
        assert_eq!(hunk_new_start(b"@@ -1,2 +3,4 @@ fn x\n"), Some(3));
        assert_eq!(hunk_new_start(b"@@ -0,0 +1 @@\n"), Some(1));
        assert_eq!(hunk_new_start(b"@@ garbage\n"), None);
    }
}
