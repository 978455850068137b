//! Card security codes (CVV2, CVC2, CID, CSC, セキュリティコード, …) announced by a keyword.
//!
//! A code is a keyword, a short gap (`: `, `=`, `"cvv":"`, `<CVV2>`, `は`) and 3 or 4 digits
//! standing alone. Whether it belongs to a card number is decided in [`super`]; here we only
//! find where codes are.

use regex::bytes::Regex;

use crate::finding::Span;
use crate::rules::Keywords;

/// A security code announced by a keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeMatch {
    /// The keyword.
    pub keyword: Span,
    /// The code's digits.
    pub code: Span,
    /// Whether the keyword announces a code on its own (`cvv`) or only next to a card
    /// number (`cid`, also "connection id").
    pub strong: bool,
}

/// Compiled security-code patterns.
#[derive(Clone, Debug)]
pub struct CvvMatcher {
    re: Regex,
    strong: Vec<String>,
}

impl CvvMatcher {
    /// Builds the matcher from the keyword rules.
    pub fn new(kw: &Keywords) -> Result<CvvMatcher, regex::Error> {
        let mut words: Vec<(String, bool)> = Vec::new();
        for w in kw.cvv_strong.en.iter().chain(&kw.cvv_strong.ja) {
            words.push((w.to_lowercase(), true));
        }
        for w in kw.cvv_weak.en.iter().chain(&kw.cvv_weak.ja) {
            words.push((w.to_lowercase(), false));
        }
        // Longest first, so `cvv2` wins over `cvv`.
        words.sort_by_key(|w| std::cmp::Reverse(w.0.len()));
        let alts: Vec<String> = words
            .iter()
            .map(|(w, _)| regex::escape(w).replace(' ', r"[ _\-]?"))
            .collect();
        let pattern = format!(
            r#"(?i)(?P<kw>{})(?P<gap>(?:[ \t"'`:=>\[\(#]|：|は|\x{{3000}}|&quot;){{0,8}}(?:(?:number|num|no\.?|value|is|was)(?:[ \t"'`:=>]|：){{0,4}})?)(?P<code>[0-9]{{3,4}})"#,
            alts.join("|")
        );
        Ok(CvvMatcher {
            re: Regex::new(&pattern)?,
            strong: words.into_iter().filter(|w| w.1).map(|w| w.0).collect(),
        })
    }

    /// Every security code in `bytes`, left to right.
    pub fn find_all(&self, bytes: &[u8]) -> Vec<CodeMatch> {
        let mut out = Vec::new();
        for caps in self.re.captures_iter(bytes) {
            let (Some(kw), Some(gap), Some(code)) =
                (caps.name("kw"), caps.name("gap"), caps.name("code"))
            else {
                continue;
            };
            let ascii_kw = kw.as_bytes().is_ascii();
            if ascii_kw && !keyword_stands_alone(bytes, kw.start(), kw.end()) {
                continue;
            }
            // `cvv123` is not announced; Japanese keywords may touch the digits.
            if ascii_kw && gap.is_empty() {
                continue;
            }
            // The code stands alone: `cvv=12345` or `cvc=123abc` is something else.
            if bytes
                .get(code.end())
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                continue;
            }
            if bytes.get(code.end()) == Some(&b'.')
                && bytes.get(code.end() + 1).is_some_and(u8::is_ascii_digit)
            {
                continue;
            }
            let text = String::from_utf8_lossy(kw.as_bytes()).to_lowercase();
            let norm: String = text
                .chars()
                .filter(|c| !matches!(c, ' ' | '_' | '-'))
                .collect();
            let strong = self
                .strong
                .iter()
                .any(|w| w.chars().filter(|c| *c != ' ').collect::<String>() == norm);
            out.push(CodeMatch {
                keyword: Span::new(kw.start(), kw.end()),
                code: Span::new(code.start(), code.end()),
                strong,
            });
        }
        out
    }
}

/// Returns true if and only if an ASCII keyword at `[start, end)` is a word of its own:
/// `cvv`, `card_cvv`, `cardCvv`, but not `acid` or `cvc_check`.
fn keyword_stands_alone(bytes: &[u8], start: usize, end: usize) -> bool {
    if let Some(&p) = start.checked_sub(1).and_then(|i| bytes.get(i)) {
        let camel = p.is_ascii_lowercase() && bytes[start].is_ascii_uppercase();
        if p.is_ascii_alphabetic() && !camel {
            return false;
        }
    }
    !bytes
        .get(end)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn codes(s: &str) -> Vec<(String, bool)> {
        let r = Rules::builtin().unwrap();
        let m = CvvMatcher::new(&r.keywords).unwrap();
        m.find_all(s.as_bytes())
            .into_iter()
            .map(|c| (s[c.code.start..c.code.end].to_string(), c.strong))
            .collect()
    }

    #[test]
    fn announced_codes() {
        let yes = [
            "cvv=123",
            "CVV2: 123",
            "the CVC: 199.",
            r#""cvv":"123""#,
            "<CVV2>093</CVV2>",
            "security code 786 amount",
            "csc=527,",
            "card_cvv='9013'",
            "cardCvv: 4321",
            "セキュリティコード：123",
            "セキュリティコードは123です",
            "cvv: '594',",
            "CVV number: 321",
        ];
        for s in yes {
            assert_eq!(codes(s).len(), 1, "{s}");
        }
    }

    #[test]
    fn look_alikes_are_not_codes() {
        let no = [
            "cvc_check=unavailable",
            "cvv=[REDACTED]",
            "CVV2 result M",
            "CSC-98235",
            "security code 291006",
            "cvv_attempts=5",
            "acid 123",
            "cvv123",
            "cvv=12.5",
        ];
        for s in no {
            assert_eq!(codes(s), vec![], "{s}");
        }
    }

    #[test]
    fn cid_is_weak() {
        assert_eq!(codes("cid=2412"), vec![("2412".to_string(), false)]);
        assert_eq!(codes("cvv=241"), vec![("241".to_string(), true)]);
    }
}
