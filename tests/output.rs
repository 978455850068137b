//! Output formats: the exact JSON fields, the JSON document, the text line, colours, help.

use serde::Deserialize;

use crate::util::*;

/// One JSON Lines finding; `deny_unknown_fields` pins the field set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FindingJson {
    path: String,
    line: u64,
    column: u64,
    offset: u64,
    length: u64,
    kind: String,
    brand: Option<String>,
    masked: String,
    confidence: String,
    test_card: bool,
    cvv: Option<CvvJson>,
    fingerprint: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct CvvJson {
    line: u64,
    column: u64,
    length: u64,
}

fn sample() -> (Tree, String) {
    let t = Tree::new();
    let pan = card("4", 16, 700);
    t.write(
        "logs/app.log",
        format!("start\nINFO pay card_number={pan} cvv=123 ok\n"),
    );
    (t, pan)
}

#[test]
fn jsonl_has_exactly_the_documented_fields() {
    let (t, pan) = sample();
    let r = t.run(&["scan", "-q", "--format", "jsonl", "logs"]);
    r.code(1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1);
    let f: FindingJson = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(f.path, "logs/app.log");
    assert_eq!((f.line, f.column), (2, 22));
    assert_eq!(f.offset, 6 + 21);
    assert_eq!(f.length, 16);
    assert_eq!(f.kind, "pan");
    assert_eq!(f.brand.as_deref(), Some("visa"));
    assert_eq!(f.masked, masked(&pan));
    assert_eq!(f.confidence, "high");
    assert!(!f.test_card);
    let c = f.cvv.unwrap();
    assert_eq!((c.line, c.column, c.length), (2, 43, 3));
    assert_eq!(f.fingerprint.len(), 32);
}

#[test]
fn fingerprints_are_stable_and_keyed() {
    let (t, _) = sample();
    let fp = |key: &str| {
        let out = std::process::Command::new(bin())
            .args(["scan", "-q", "--format", "jsonl", "logs"])
            .current_dir(t.path())
            .env("PANSWEEP_FINGERPRINT_KEY", key)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["fingerprint"].as_str().unwrap().to_string()
    };
    assert_eq!(fp("k1"), fp("k1"));
    assert_ne!(fp("k1"), fp("k2"));
}

#[test]
fn key_file_is_created_when_no_key_is_set() {
    let (t, _) = sample();
    let home = tempfile::tempdir().unwrap();
    let run = || {
        std::process::Command::new(bin())
            .args(["scan", "-q", "--format", "jsonl", "logs"])
            .current_dir(t.path())
            .env_remove("PANSWEEP_FINGERPRINT_KEY")
            .env("XDG_CONFIG_HOME", home.path())
            .output()
            .unwrap()
    };
    let a = run();
    let b = run();
    assert_eq!(a.status.code(), Some(1));
    assert_eq!(a.stdout, b.stdout, "same key file, same fingerprints");
    let key = home.path().join("pansweep/fingerprint.key");
    assert_eq!(std::fs::read(&key).unwrap().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn json_document_has_findings_and_summary() {
    let (t, pan) = sample();
    let r = t.run(&["scan", "-q", "--format", "json", "logs"]);
    r.code(1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0]["masked"], masked(&pan));
    assert_eq!(v["summary"]["files_scanned"], 1);
    assert_eq!(v["summary"]["findings_by_kind"]["pan"], 1);
    assert_eq!(v["summary"]["findings_by_brand"]["visa"], 1);
}

#[test]
fn text_line_is_ripgrep_like_and_plain_when_piped() {
    let (t, pan) = sample();
    let r = t.run(&["scan", "logs"]);
    r.code(1);
    assert_eq!(
        r.stdout,
        format!("logs/app.log:2:22: visa {} high +cvv@2:43\n", masked(&pan))
    );
    assert!(r.stderr.contains("findings: 1 (pan 1)"), "{}", r.stderr);
    let r = t.run(&["scan", "-q", "--color", "always", "logs"]);
    assert!(r.stdout.contains("\x1b["), "colour when asked");
}

#[test]
fn help_lists_exit_codes_and_flag_groups() {
    let t = Tree::new();
    let r = t.run(&["scan", "--help"]);
    r.code(0);
    for want in [
        "Exit codes:",
        "Walking:",
        "Detection:",
        "Output:",
        "--no-ignore",
        "--fail-on",
        "--explain",
    ] {
        assert!(r.stdout.contains(want), "--help lacks {want}");
    }
    t.run(&["scan", "--format", "yaml"]).code(2);
    t.run(&["frobnicate"]).code(2);
}
