//! The `status key=value ...` lines of `hopscope --headless`.

use std::collections::BTreeMap;

/// One parsed `status ...` line: `key=value` pairs (quotes stripped).
#[derive(Clone, Debug)]
pub struct Status {
    /// The line as printed.
    pub line: String,
    /// Its fields.
    pub fields: BTreeMap<String, String>,
}

impl Status {
    /// Parses a line starting with `status `; `None` otherwise.
    pub fn parse(line: &str) -> Option<Status> {
        let rest = line.strip_prefix("status ")?;
        let mut fields = BTreeMap::new();
        let mut chars = rest.chars().peekable();
        while chars.peek().is_some() {
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
            if key.is_empty() {
                break;
            }
            let value: String = if chars.peek() == Some(&'"') {
                chars.next();
                let v = chars.by_ref().take_while(|&c| c != '"').collect();
                v
            } else {
                chars.by_ref().take_while(|&c| c != ' ').collect()
            };
            fields.insert(key, value);
        }
        Some(Status {
            line: line.to_string(),
            fields,
        })
    }

    /// A field as text.
    pub fn str(&self, key: &str) -> &str {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("status line has no '{key}': {}", self.line))
    }

    /// A numeric field; a trailing unit `s` (as in `t=1.0s`) is ignored.
    pub fn num(&self, key: &str) -> f64 {
        let v = self.str(key);
        v.trim_end_matches('s')
            .parse()
            .unwrap_or_else(|_| panic!("status field {key}={v} is not a number: {}", self.line))
    }
}

/// Every status line of `stdout`, in order.
pub fn status_lines(stdout: &str) -> Vec<Status> {
    stdout.lines().filter_map(Status::parse).collect()
}
