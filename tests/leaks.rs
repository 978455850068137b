//! No output of any kind — findings in every format, explain, summary, errors — contains a
//! full card number or security code.

use crate::util::*;

/// A tree full of card data in many shapes, plus the secrets that must never be printed.
fn loaded_tree() -> (Tree, Vec<String>) {
    let t = Tree::new();
    let visa = card("4", 16, 800);
    let amex = card("37", 15, 801);
    let mc = card("2221", 16, 802);
    let jcb = card("3530", 19, 803);
    let text = format!(
        "card={visa} cvv=918\nAmex {} CID: 7391\n%B{mc}^DOE/JOHN^2609120846841112225000000?\n;{jcb}=25055013339143?\nsecurity code 642\n{}\n",
        grouped(&amex, &[4, 6, 5], " "),
        grouped(&mc, &[4, 4, 4, 4], "-"),
    );
    t.write("a.log", &text);
    t.write("b.log.gz", {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    });
    let secrets = vec![
        visa,
        amex.clone(),
        grouped(&amex, &[4, 6, 5], " "),
        mc.clone(),
        grouped(&mc, &[4, 4, 4, 4], "-"),
        jcb,
        "918".into(),
        "7391".into(),
        "642".into(),
    ];
    (t, secrets)
}

fn assert_clean(what: &str, output: &str, secrets: &[String]) {
    for s in secrets {
        // Codes are short: only a code next to a keyword or `=` would be a leak.
        let leaked = if s.len() <= 4 {
            output.contains(&format!("={s}"))
                || output.contains(&format!(": {s}"))
                || output.contains(&format!("code {s}"))
        } else {
            output.contains(s.as_str())
        };
        assert!(
            !leaked,
            "{what} leaks a secret of {} characters:\n{}",
            s.len(),
            redact_digits(output)
        );
    }
}

#[test]
fn no_format_prints_a_full_pan_or_cvv() {
    let (t, secrets) = loaded_tree();
    for format in ["text", "jsonl", "json", "sarif", "junit", "csv"] {
        for extra in [
            &[][..],
            &["--explain"][..],
            &["--color", "always"][..],
            &["--min-confidence", "low"][..],
        ] {
            let mut args = vec!["scan", "--format", format];
            args.extend_from_slice(extra);
            let r = t.run(&args);
            r.code(1);
            let what = format!("{format} {extra:?}");
            assert!(!r.stdout.is_empty(), "{what}: no output");
            assert_clean(&what, &r.stdout, &secrets);
            assert_clean(&what, &r.stderr, &secrets);
        }
    }
}

#[test]
fn errors_and_help_do_not_print_card_data() {
    let (t, secrets) = loaded_tree();
    // A path named like a card number must be printed (it is the user's path), but the
    // error comes from the path, not from file contents: check contents never appear.
    let r = t.run(&["scan", "a.log", "missing-file"]);
    r.code(2);
    assert_clean("error run", &r.stderr, &secrets);
    assert_clean("error run", &r.stdout, &secrets);
    let r = t.run(&["--help"]);
    assert_clean("help", &r.stdout, &secrets);
}

#[test]
fn redact_reports_diffs_and_baselines_do_not_print_card_data() {
    let (t, secrets) = loaded_tree();
    let r = t.run(&["scan", "--write-baseline", "base.json", "."]);
    r.code(1);
    let base = std::fs::read_to_string(t.join("base.json")).unwrap();
    assert_clean("baseline file", &base, &secrets);
    for format in ["text", "jsonl", "json"] {
        let r = t.run(&[
            "redact",
            "--dry-run",
            "--diff",
            "--format",
            format,
            "a.log",
            "b.log.gz",
        ]);
        r.code(1);
        assert_clean(
            &format!("redact --dry-run --diff {format}"),
            &r.stdout,
            &secrets,
        );
        assert_clean("redact stderr", &r.stderr, &secrets);
    }
    let r = t.run(&["redact", "--diff", "--report", "report.txt", "."]);
    r.code(0);
    assert_clean("redact --diff", &r.stdout, &secrets);
    assert_clean(
        "redact report",
        &std::fs::read_to_string(t.join("report.txt")).unwrap(),
        &secrets,
    );
    // And the files themselves no longer hold it.
    assert_clean(
        "masked file",
        &std::fs::read_to_string(t.join("a.log")).unwrap(),
        &secrets,
    );
}
