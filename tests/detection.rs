//! What is found and what is not: brands, groupings, look-alikes, security codes, tracks,
//! Japanese wording, test cards — through the binary, as JSON Lines.

use crate::util::*;

/// Scans one file holding `text` and returns the parsed findings and the exit code.
fn scan_text(text: &str, extra: &[&str]) -> (Vec<serde_json::Value>, i32) {
    let t = Tree::new();
    t.write("input.log", text);
    let mut args = vec!["scan", "--format", "jsonl", "-q"];
    args.extend_from_slice(extra);
    args.push("input.log");
    let r = t.run(&args);
    let v = r.jsonl();
    (v, r.code)
}

#[test]
fn every_brand_plain_and_grouped() {
    // (brand, prefix, length, layout)
    let cases: &[(&str, &str, usize, &[usize])] = &[
        ("visa", "4", 16, &[4, 4, 4, 4]),
        ("visa", "4", 13, &[4, 3, 3, 3]),
        ("visa", "4", 19, &[4, 4, 4, 4, 3]),
        ("mastercard", "53", 16, &[4, 4, 4, 4]),
        ("mastercard", "2221", 16, &[4, 4, 4, 4]),
        ("mastercard", "2720", 16, &[4, 4, 4, 4]),
        ("amex", "37", 15, &[4, 6, 5]),
        ("amex", "34", 15, &[4, 6, 5]),
        ("discover", "6011", 16, &[4, 4, 4, 4]),
        ("discover", "645", 19, &[4, 4, 4, 4, 3]),
        ("jcb", "3530", 16, &[4, 4, 4, 4]),
        ("diners", "3056", 14, &[4, 6, 4]),
        ("diners", "36", 16, &[4, 4, 4, 4]),
        ("unionpay", "62", 17, &[4, 4, 4, 4, 1]),
        ("unionpay", "62", 18, &[4, 4, 4, 4, 2]),
        ("maestro", "6759", 16, &[4, 4, 4, 4]),
        ("mir", "2201", 16, &[4, 4, 4, 4]),
        ("rupay", "607", 16, &[4, 4, 4, 4]),
        ("elo", "509123", 16, &[4, 4, 4, 4]),
        ("verve", "506100", 16, &[4, 4, 4, 4]),
        ("troy", "9792", 16, &[4, 4, 4, 4]),
    ];
    for (i, (brand, prefix, len, layout)) in cases.iter().enumerate() {
        let pan = card(prefix, *len, i as u64);
        for written in [
            pan.clone(),
            grouped(&pan, layout, " "),
            grouped(&pan, layout, "-"),
        ] {
            let (v, code) = scan_text(&format!("payment ok number {written} done\n"), &[]);
            let what = format!("{brand} {}", redact_digits(&written));
            assert_eq!(code, 1, "{what}: exit code");
            assert_eq!(v.len(), 1, "{what}: findings");
            assert_eq!(v[0]["brand"], *brand, "{what}");
            assert_eq!(v[0]["masked"], masked(&pan), "{what}");
            assert_eq!(v[0]["length"], written.len(), "{what}");
        }
    }
}

#[test]
fn look_alikes_are_not_reported() {
    let v16 = card("4", 16, 7);
    let mc = card("51", 16, 8);
    let amex = card("37", 15, 9);
    let cases = [
        ("luhn fail", luhn_broken(&v16)),
        ("20-digit run", format!("{v16}1234")),
        ("inside hex", format!("deadbeef{v16}cafe")),
        ("inside base64", format!("QUJD{v16}ZXhh/+w==")),
        (
            "uuid-like",
            format!("4b25e70a-{}-{}-{}", &v16[..4], &v16[4..8], &v16[8..12]),
        ),
        ("hdfs block id", format!("blk_-{}", card("4", 19, 3))),
        (
            "hdfs block id positive",
            format!("blk_{}", card("4", 19, 4)),
        ),
        ("float", format!("1.{v16}e-05")),
        ("phone", format!("+{}", card("4", 13, 5))),
        ("masked bin6", format!("{}******{}", &v16[..6], &v16[12..])),
        ("masked last4", format!("************{}", &v16[12..])),
        (
            "masked grouped",
            format!("{} {}XX XXXX {}", &v16[..4], &v16[4..6], &v16[12..]),
        ),
        ("epoch ms", "1720838051698".to_string()),
        ("epoch ns", "1768255561987867482".to_string()),
        ("imei", "IMEI=490154203237518".to_string()),
        ("imei dashed", "35-644541-649310-1".to_string()),
        ("amex with 16 digits", card("37", 16, 10)),
        ("visa with 15 digits", card("4", 15, 11)),
        (
            "grouped 20 digits",
            grouped(&format!("{mc}1234"), &[4, 4, 4, 4, 4], " "),
        ),
        ("bad layout", grouped(&mc, &[6, 6, 4], " ")),
        (
            "mixed separators",
            format!("{} {}-{} {}", &mc[..4], &mc[4..8], &mc[8..12], &mc[12..]),
        ),
        (
            "iban",
            format!(
                "DE25 {}",
                grouped(&format!("{mc}07"), &[4, 4, 4, 4, 2], " ")
            ),
        ),
        ("glued suffix", format!("{amex}ZZ")),
        ("glued prefix", format!("INV{amex}")),
        (
            "track tail",
            format!("T2=;{}=30102018957694?", luhn_broken(&v16)),
        ),
    ];
    for (name, text) in cases {
        let (v, code) = scan_text(&format!("value {text} end\n"), &["--min-confidence", "low"]);
        assert_eq!(v.len(), 0, "{name}: {}", redact_digits(&text));
        assert_eq!(code, 0, "{name}");
    }
}

#[test]
fn labelled_ids_are_low_confidence_and_hidden_by_default() {
    let pan = card("4", 16, 21);
    let text = format!("Order synced order_id={pan} status=ok\n");
    let (v, code) = scan_text(&text, &[]);
    assert_eq!((v.len(), code), (0, 0));
    let (v, code) = scan_text(&text, &["--min-confidence", "low"]);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["confidence"], "low");
    assert_eq!(
        code, 0,
        "low findings do not fail the default --fail-on medium"
    );
    let (_, code) = scan_text(&text, &["--min-confidence", "low", "--fail-on", "low"]);
    assert_eq!(code, 1);
}

#[test]
fn confidence_from_context() {
    let pan = card("52", 16, 31);
    let cases = [
        (format!("card_number={pan} amount=3"), "high"),
        (format!("ref {pan} (exp 11/29)"), "high"),
        (format!("x {} y", grouped(&pan, &[4, 4, 4, 4], " ")), "high"),
        (format!("value {pan} ok"), "medium"),
        (format!("カード番号：{pan}"), "high"),
    ];
    for (text, want) in cases {
        let (v, _) = scan_text(&format!("{text}\n"), &[]);
        assert_eq!(v.len(), 1, "{}", redact_digits(&text));
        assert_eq!(v[0]["confidence"], want, "{}", redact_digits(&text));
    }
}

#[test]
fn security_codes_attach_on_the_same_or_next_line() {
    let visa = card("4", 16, 41);
    let amex = card("34", 15, 42);
    let text =
        format!("line one\ncard={visa} cvv2=123 amount=1\nAmex {amex}\nCID: 4321\nnothing here\n");
    let (v, code) = scan_text(&text, &[]);
    assert_eq!(code, 1);
    assert_eq!(v.len(), 2, "{}", redact_digits(&format!("{v:?}")));
    assert_eq!(v[0]["cvv"]["line"], 2);
    assert_eq!(v[0]["cvv"]["length"], 3);
    assert_eq!(v[0]["confidence"], "high");
    assert_eq!(v[1]["brand"], "amex");
    assert_eq!(v[1]["cvv"]["line"], 4);
    assert_eq!(v[1]["cvv"]["column"], 6);
}

#[test]
fn amex_needs_four_digits_others_three() {
    let visa = card("4", 16, 51);
    let (v, _) = scan_text(&format!("card {visa} cid=4321\n"), &[]);
    assert_eq!(v.len(), 1);
    assert!(
        v[0]["cvv"].is_null(),
        "a 4-digit code does not belong to a Visa"
    );
}

#[test]
fn lone_security_codes_are_findings() {
    let text = "a\nb\nplease note security code 786 for the order\nc\nd\n";
    let (v, code) = scan_text(text, &[]);
    assert_eq!(code, 1);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["kind"], "cvv");
    assert_eq!(v[0]["masked"], "***");
    assert!(v[0]["brand"].is_null());
    assert_eq!(v[0]["line"], 3);
    // A weak keyword (cid = connection id) alone is not a security code.
    let (v, code) = scan_text("session event cid=2412\n", &[]);
    assert_eq!((v.len(), code), (0, 0));
    // Nor are these.
    for s in [
        "cvc_check=unavailable",
        "cvv=[REDACTED]",
        "CSC-98235",
        "security code 291006",
        "cvv_attempts=5",
    ] {
        let (v, code) = scan_text(&format!("step {s}\n"), &[]);
        assert_eq!((v.len(), code), (0, 0), "{s}");
    }
}

/// `scan --format jsonl` of `input.log` with the configuration `cfg.toml`, in `t`.
fn scan_with_config(t: &Tree) -> Run {
    t.run(&[
        "scan",
        "--format",
        "jsonl",
        "-q",
        "--config",
        "cfg.toml",
        "input.log",
    ])
}

/// Card words added in the configuration raise a number's confidence as the built-in ones
/// do, whether a single word or a phrase.
#[test]
fn configured_card_words_and_phrases_raise_confidence() {
    let t = Tree::new();
    t.write(
        "cfg.toml",
        "[keywords]\npan-context = [\"Kartennummer\", \"numero de carte\"]\n",
    );
    let n = card("4", 16, 77);
    t.write(
        "input.log",
        format!("a kartennummer {n}\nb Numero de Carte: {n}\nc nummer {n}\n"),
    );
    let r = scan_with_config(&t);
    let confidences: Vec<_> = r.jsonl().iter().map(|f| f["confidence"].clone()).collect();
    assert_eq!(confidences, ["high", "high", "medium"]);
    t.write(
        "bad.toml",
        format!("[keywords]\npan-context = [\"{}\"]\n", "k".repeat(40)),
    );
    let r = t.run(&["scan", "-q", "--config", "bad.toml", "input.log"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("pan-context"), "{}", r.stderr);
}

/// A security-code keyword added in the configuration has no anchor in the rules: the scan
/// looks for its first three letters, so its codes are found away from any built-in word.
#[test]
fn configured_security_code_keywords_are_found_far_from_built_in_ones() {
    let t = Tree::new();
    t.write("cfg.toml", "[keywords]\ncvv = [\"pinblock\"]\n");
    let filler = "x".repeat(300);
    t.write(
        "input.log",
        format!("{filler} pinblock: 482 end\n{filler} zzqblock: 482\n"),
    );
    let r = scan_with_config(&t);
    let v = r.jsonl();
    assert_eq!(r.code, 1);
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0]["kind"].as_str(), v[0]["line"].as_u64()),
        (Some("cvv"), Some(1))
    );
    let (v, code) = scan_text(&format!("{filler} pinblock: 482 end\n"), &[]);
    assert_eq!(
        (v.len(), code),
        (0, 0),
        "not a keyword without the configuration"
    );
}

#[test]
fn japanese_security_code_wording() {
    let jcb = card("3530", 16, 61);
    for kw in [
        "セキュリティコード：",
        "セキュリティーコード ",
        "カード確認番号:",
    ] {
        let (v, _) = scan_text(&format!("カード番号：{jcb} {kw}123\n"), &[]);
        assert_eq!(v.len(), 1, "{kw}");
        assert!(!v[0]["cvv"].is_null(), "{kw}");
    }
}

#[test]
fn track_data() {
    let pan = card("4", 16, 71);
    let t1 = format!("raw=%B{pan}^DOE/JANE^2609120846841112225000000?\n");
    let t2 = format!("track2=;{pan}=25055013339143? lrc=0xD9\nT2={pan}=2706120429718480 svc=ok\n");
    let (v, code) = scan_text(&format!("{t1}{t2}"), &[]);
    assert_eq!(code, 1);
    let kinds: Vec<&str> = v.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["track1", "track2", "track2"]);
    assert!(v.iter().all(|f| f["masked"] == masked(&pan)));
    assert!(v.iter().all(|f| f["confidence"] == "high"));
}

#[test]
fn test_cards_are_flagged_and_do_not_fail_unless_strict() {
    let (v, code) = scan_text("stripe fixture 4242424242424242\n", &[]);
    assert_eq!(code, 0);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["test_card"], true);
    let (_, code) = scan_text("stripe fixture 4242424242424242\n", &["--strict"]);
    assert_eq!(code, 1);
}

#[test]
fn a_card_split_across_read_buffers_is_found_once() {
    // 3 MiB of filler then cards every few KiB: several straddle the 1 MiB buffer edges.
    let mut text = String::new();
    let mut pans = Vec::new();
    let mut i = 0u64;
    while text.len() < 3 << 20 {
        let pan = card("52", 16, 1000 + i);
        text.push_str(&format!(
            "{} card {pan} cvv=123\n",
            "x".repeat(4000 + (i as usize * 37) % 900)
        ));
        pans.push(pan);
        i += 1;
    }
    let (v, _) = scan_text(&text, &[]);
    assert_eq!(v.len(), pans.len());
    for (f, pan) in v.iter().zip(&pans) {
        assert_eq!(f["masked"], masked(pan));
        assert!(!f["cvv"].is_null());
    }
}

#[test]
fn extra_rules_file_adds_a_brand() {
    let t = Tree::new();
    let pan = card("9999", 16, 81);
    t.write("x.log", format!("card {pan}\n"));
    t.write(
        "extra.json",
        r#"{"brands":[{"id":"house","name":"House card","ranges":["9999"],"lengths":[16]}]}"#,
    );
    t.run(&["scan", "-q", "x.log"]).code(0);
    let r = t.run(&[
        "scan",
        "-q",
        "--format",
        "jsonl",
        "--rules",
        "extra.json",
        "x.log",
    ]);
    r.code(1);
    assert_eq!(r.jsonl()[0]["brand"], "house");
    t.write(
        "bad.json",
        r#"{"brands":[{"id":"x","name":"X","ranges":["9-1"],"lengths":[16]}]}"#,
    );
    let r = t.run(&["scan", "--rules", "bad.json", "x.log"]);
    r.code(2);
    assert!(
        r.stderr.contains("bad.json") && r.stderr.contains("ranges"),
        "{}",
        r.stderr
    );
}

#[test]
fn explain_says_why_for_each_candidate() {
    let t = Tree::new();
    let good = card("4", 16, 91);
    let bad = luhn_broken(&card("4", 16, 92));
    t.write("x.log", format!("card {good}\nref {bad}\nblk_{good}\n"));
    let r = t.run(&["scan", "-q", "--explain", "--color", "never", "x.log"]);
    r.code(1);
    assert!(
        r.stdout.contains("accepted pan high"),
        "{}",
        redact_digits(&r.stdout)
    );
    assert!(
        r.stdout.contains("rejected: fails the Luhn check"),
        "{}",
        redact_digits(&r.stdout)
    );
    assert!(
        r.stdout
            .contains("rejected: glued to letters or digits before it"),
        "{}",
        redact_digits(&r.stdout)
    );
    assert!(!r.stdout.contains(&good) && !r.stdout.contains(&bad));
}

#[test]
fn security_codes_in_csv_columns_and_sql_inserts() {
    let visa = card("4", 16, 95);
    let amex = card("34", 15, 96);
    let csv = format!(
        "order,card_number,exp,cvv,amount\r\nA-1,{visa},05/25,823,1.00\r\nA-2,{amex},06/26,4411,2.00\r\n"
    );
    let (v, _) = scan_text(&csv, &[]);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["cvv"]["line"], 2);
    assert_eq!(v[0]["cvv"]["column"], 28);
    assert_eq!(v[1]["cvv"]["length"], 4);
    let sql = format!(
        "INSERT INTO `pm` (`id`,`card_number`,`card_exp`,`card_cvv`,`holder`) VALUES (1,'{visa}','02/26','901','Doe, J');\n"
    );
    let (v, _) = scan_text(&sql, &[]);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["cvv"]["length"], 3);
    // Without a code column there is nothing to attach.
    let (v, _) = scan_text(
        &format!("order,card_number,exp,amount\nA-1,{visa},05/25,823\n"),
        &[],
    );
    assert!(v[0]["cvv"].is_null());
}

/// `４１１１…`: the full-width form of an ASCII digit string.
fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap(),
            ' ' => '\u{3000}',
            '-' => '\u{FF0D}',
            c => c,
        })
        .collect()
}

#[test]
fn full_width_digits_and_japanese_separators() {
    let jcb = card("3566", 16, 97);
    for written in [
        full_width(&jcb),
        full_width(&grouped(&jcb, &[4, 4, 4, 4], " ")),
        full_width(&grouped(&jcb, &[4, 4, 4, 4], "-")),
    ] {
        let (v, code) = scan_text(
            &format!(
                "カード番号：{written}　セキュリティコード：{}\n",
                full_width("123")
            ),
            &[],
        );
        assert_eq!(code, 1);
        assert_eq!(v.len(), 1, "{}", redact_digits(&written));
        assert_eq!(v[0]["brand"], "jcb");
        assert_eq!(v[0]["masked"], masked(&jcb));
        assert_eq!(v[0]["length"], written.len());
        assert_eq!(
            v[0]["cvv"]["length"], 9,
            "three full-width digits are nine bytes"
        );
    }
}

#[test]
fn other_separators_and_url_encoding() {
    let mc = card("5424", 16, 98);
    for sep in [".", "+", "\u{a0}", "%20", "%2D"] {
        let written = grouped(&mc, &[4, 4, 4, 4], sep);
        let (v, _) = scan_text(&format!("GET /pay?card%3D{written}%26exp%3D1127\n"), &[]);
        assert_eq!(v.len(), 1, "{sep:?}");
        assert_eq!(v[0]["masked"], masked(&mc), "{sep:?}");
    }
    // Dotted versions and addresses are not cards.
    let (v, _) = scan_text(
        "v4.64.68884.9950382 10.251.198.196:50010 1.2.3.4111\n",
        &["--min-confidence", "low"],
    );
    assert_eq!(v.len(), 0);
}
