//! JUnit XML: CI systems show each finding as a failed test case, and a clean scan as one
//! passing case.

use super::{Record, Reporter, Summary};

/// The JUnit reporter.
pub struct JunitReporter;

/// Escapes text for XML attributes and content.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => {
                out.push_str(&format!("&#x{:x};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

impl Reporter for JunitReporter {
    fn file(&self, _records: &[Record], _out: &mut Vec<u8>) {}

    fn collects(&self) -> bool {
        true
    }

    fn finish(&self, all: &[Record], summary: &Summary, out: &mut Vec<u8>) {
        let tests = all.len().max(1);
        let mut x = String::new();
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.push_str(&format!(
            "<testsuites name=\"pansweep\" tests=\"{tests}\" failures=\"{}\" time=\"{:.3}\">\n",
            all.len(),
            summary.elapsed.as_secs_f64()
        ));
        x.push_str(&format!(
            "  <testsuite name=\"pansweep card data\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\">\n",
            all.len(),
            summary.errors
        ));
        if all.is_empty() {
            x.push_str(&format!(
                "    <testcase classname=\"pansweep\" name=\"no card data in {} files\"/>\n",
                summary.files_scanned
            ));
        }
        for r in all {
            let what = format!("{} {} {}", r.kind.as_str(), r.brand.unwrap_or(""), r.masked);
            let at = format!("{}:{}:{}", r.path, r.line, r.column);
            x.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                xml_escape(&r.path),
                xml_escape(&format!("{at} {what}")),
                r.kind.as_str(),
                xml_escape(&format!("{what} ({} confidence{})", r.confidence.as_str(), if r.test_card { ", public test card" } else { "" })),
                xml_escape(&format!("{at}: {what}; mask it with `pansweep redact` or mark the line pansweep:allow"))
            ));
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        out.extend_from_slice(x.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            xml_escape("a<b>&\"'\x01"),
            "a&lt;b&gt;&amp;&quot;&apos;&#x1;"
        );
    }
}
