//! Host side: turning a line of plugin stderr into a log record, by go-plugin's rules
//! (`client.go` `logStderr`, `log_entry.go`, v1.7.0 and later).

use serde_json::Value;
use tracing::Level;

use super::timestamp::Timestamp;

/// One log record made from plugin stderr.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Record {
    pub(crate) level: Level,
    /// `@message` of an hclog line, otherwise the whole line as written.
    pub(crate) message: String,
    /// The other keys of an hclog line (`@module` included), sorted by key.
    pub(crate) fields: Vec<(String, Value)>,
    /// For hclog lines, the `@timestamp` as a Go host shows it (Go's zero time when absent).
    pub(crate) timestamp: Option<String>,
}

impl Record {
    /// A line that is logged exactly as written.
    fn verbatim(level: Level, line: String) -> Record {
        Record {
            level,
            message: line,
            fields: Vec::new(),
            timestamp: None,
        }
    }

    /// A piece of a line longer than the read buffer: always DEBUG, never parsed.
    pub(crate) fn fragment(bytes: &[u8]) -> Record {
        Record::verbatim(Level::DEBUG, String::from_utf8_lossy(bytes).into_owned())
    }

    /// The fields in hclog's text style, `key=value key2="two words"`, or `None` when there are
    /// none. Strings are bare unless they are empty or hold spaces, quotes, `=` or control
    /// characters, in which case they are JSON-quoted; other values are compact JSON.
    pub(crate) fn rendered_fields(&self) -> Option<String> {
        if self.fields.is_empty() {
            return None;
        }
        let mut out = String::new();
        for (key, value) in &self.fields {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(key);
            out.push('=');
            match value {
                Value::String(s) if !needs_quotes(s) => out.push_str(s),
                other => out.push_str(&other.to_string()),
            }
        }
        Some(out)
    }
}

fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '=' | '\\'))
}

/// Reads plugin stderr line by line. It remembers one thing between lines: whether a Go panic or
/// fatal error has started, after which every line that is not hclog JSON is an ERROR (it is the
/// stack trace).
#[derive(Debug, Default)]
pub(crate) struct StderrParser {
    in_panic: bool,
}

impl StderrParser {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The record for one complete line (without its line ending). Never fails: anything that is
    /// not an hclog JSON object is logged verbatim, and invalid UTF-8 is replaced.
    pub(crate) fn parse(&mut self, line: &[u8]) -> Record {
        let text = String::from_utf8_lossy(line);
        match parse_hclog(&text) {
            Some(Hclog::Entry(record)) => record,
            // JSON without a usable level (not hclog, or `off`): DEBUG, the raw line.
            Some(Hclog::NoLevel) => Record::verbatim(Level::DEBUG, text.into_owned()),
            None => {
                let level = self.plain_line_level(&text);
                Record::verbatim(level, text.into_owned())
            }
        }
    }

    fn plain_line_level(&mut self, line: &str) -> Level {
        const PREFIXES: [(&str, Level); 5] = [
            ("[TRACE]", Level::TRACE),
            ("[DEBUG]", Level::DEBUG),
            ("[INFO]", Level::INFO),
            ("[WARN]", Level::WARN),
            ("[ERROR]", Level::ERROR),
        ];
        if let Some((_, level)) = PREFIXES.iter().find(|(p, _)| line.starts_with(p)) {
            return *level;
        }
        if line.starts_with("panic: ") || line.starts_with("fatal error: ") {
            self.in_panic = true;
        }
        if self.in_panic {
            Level::ERROR
        } else {
            Level::DEBUG
        }
    }
}

enum Hclog {
    Entry(Record),
    NoLevel,
}

/// `None` when the line is not what go-plugin's `parseJSON` accepts.
///
/// Go accepts any JSON object whose `@timestamp` (if present) matches the layout exactly. Go type-
/// asserts `@message`, `@level` and `@timestamp` to strings and panics when they are not; here such
/// a line is simply not hclog, and is logged verbatim.
fn parse_hclog(line: &str) -> Option<Hclog> {
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(line) else {
        return None;
    };
    let mut take_string = |key: &str| match object.remove(key) {
        None => Some(None),
        Some(Value::String(s)) => Some(Some(s)),
        Some(_) => None,
    };
    let message = take_string("@message")?.unwrap_or_default();
    let level = take_string("@level")?;
    let timestamp = match take_string("@timestamp")? {
        Some(s) => Timestamp::parse(&s)?,
        None => Timestamp::ZERO,
    };

    let level = match level.as_deref().map(|l| l.trim().to_lowercase()).as_deref() {
        Some("trace") => Level::TRACE,
        Some("debug") => Level::DEBUG,
        Some("info") => Level::INFO,
        Some("warn") => Level::WARN,
        Some("error") => Level::ERROR,
        _ => return Some(Hclog::NoLevel),
    };
    let mut fields: Vec<(String, Value)> = object.into_iter().collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Some(Hclog::Entry(Record {
        level,
        message,
        fields,
        timestamp: Some(timestamp.to_host_string()),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(line: &str) -> Record {
        StderrParser::new().parse(line.as_bytes())
    }

    fn verbatim(level: Level, line: &str) -> Record {
        Record::verbatim(level, line.to_string())
    }

    #[test]
    fn hclog_json_becomes_a_record() {
        let record = parse(
            r#"{"@level":"info","@message":"doubling","@timestamp":"2026-11-22T10:56:13.244512Z","input":21}"#,
        );
        assert_eq!(
            record,
            Record {
                level: Level::INFO,
                message: "doubling".to_string(),
                fields: vec![("input".to_string(), json!(21))],
                timestamp: Some("2026-11-22T10:56:13.244Z".to_string()),
            }
        );
        assert_eq!(record.rendered_fields().as_deref(), Some("input=21"));
    }

    #[test]
    fn every_level_case_insensitively() {
        for (text, level) in [
            ("trace", Level::TRACE),
            ("DEBUG", Level::DEBUG),
            ("Info", Level::INFO),
            ("wArN", Level::WARN),
            (" error ", Level::ERROR),
        ] {
            let line = format!(r#"{{"@level":"{text}","@message":"m"}}"#);
            let record = parse(&line);
            assert_eq!(
                (record.level, record.message.as_str()),
                (level, "m"),
                "{line}"
            );
        }
    }

    #[test]
    fn other_keys_become_sorted_fields() {
        let record = parse(
            r#"{"@level":"warn","@message":"m","@module":"kv","z":"last","a":[1,2],"n":null,"o":{"k":true}}"#,
        );
        assert_eq!(
            record.fields,
            vec![
                ("@module".to_string(), json!("kv")),
                ("a".to_string(), json!([1, 2])),
                ("n".to_string(), Value::Null),
                ("o".to_string(), json!({"k": true})),
                ("z".to_string(), json!("last")),
            ]
        );
        assert_eq!(
            record.rendered_fields().as_deref(),
            Some(r#"@module=kv a=[1,2] n=null o={"k":true} z=last"#)
        );
    }

    #[test]
    fn strings_are_quoted_only_when_needed() {
        let record = parse(
            r#"{"@level":"info","@message":"m","a":"two words","b":"","c":"x=y","d":"say \"hi\"","e":"tab\t","f":"plain-text_1.2"}"#,
        );
        assert_eq!(
            record.rendered_fields().as_deref(),
            Some(r#"a="two words" b="" c="x=y" d="say \"hi\"" e="tab\t" f=plain-text_1.2"#)
        );
    }

    #[test]
    fn missing_timestamp_is_gos_zero_time_and_missing_message_is_empty() {
        let record = parse(r#"{"@level":"info"}"#);
        assert_eq!(record.message, "");
        assert_eq!(
            record.timestamp.as_deref(),
            Some("0001-01-01T00:00:00.000Z")
        );
        assert_eq!(record.rendered_fields(), None);
    }

    #[test]
    fn json_without_a_usable_level_is_the_raw_line_at_debug() {
        for line in [
            r#"{"a":1}"#,
            r#"{"@message":"no level"}"#,
            r#"{"@level":"off","@message":"m"}"#,
            r#"{"@level":"fatal","@message":"m"}"#,
            r#"{"@level":"","@message":"m"}"#,
            r#"{}"#,
        ] {
            assert_eq!(parse(line), verbatim(Level::DEBUG, line), "{line}");
        }
    }

    #[test]
    fn a_timestamp_go_cannot_parse_makes_the_line_plain_text() {
        for line in [
            r#"{"@level":"info","@message":"m","@timestamp":"2026-11-22T10:56:13.244Z"}"#,
            r#"{"@level":"info","@message":"m","@timestamp":"2026-11-22T10:56:13Z"}"#,
            r#"{"@level":"info","@message":"m","@timestamp":"yesterday"}"#,
        ] {
            assert_eq!(parse(line), verbatim(Level::DEBUG, line), "{line}");
        }
        // Plain text keeps its prefix rules.
        let line = r#"[WARN] {"@level":"info","@timestamp":"bad"}"#;
        assert_eq!(parse(line).level, Level::WARN);
    }

    #[test]
    fn odd_json_never_panics_and_is_logged_verbatim() {
        for line in [
            r#"{"@message":42,"@level":"info"}"#,
            r#"{"@message":null,"@level":"info"}"#,
            r#"{"@message":["a"],"@level":"info"}"#,
            r#"{"@message":{"a":1},"@level":"info"}"#,
            r#"{"@message":"m","@level":3}"#,
            r#"{"@message":"m","@level":null}"#,
            r#"{"@message":"m","@level":"info","@timestamp":1700000000}"#,
            r#"[1,2,3]"#,
            r#"[{"@level":"error"}]"#,
            "42",
            "-1.5e3",
            r#""just a string""#,
            "null",
            "true",
            r#"{"@level":"info""#,
            r#"{"@level":"info"} trailing"#,
            "{",
            "}",
            "",
        ] {
            assert_eq!(parse(line), verbatim(Level::DEBUG, line), "{line}");
        }
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_as_go_does() {
        let record = parse(r#"{"@level":"info","@level":"error","@message":"m","k":1,"k":2}"#);
        assert_eq!(record.level, Level::ERROR);
        assert_eq!(record.fields, vec![("k".to_string(), json!(2))]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_rejected() {
        let record = StderrParser::new().parse(b"[ERROR] bad \xff byte");
        assert_eq!(record, verbatim(Level::ERROR, "[ERROR] bad \u{fffd} byte"));
        let record = StderrParser::new().parse(b"{\"@level\":\"info\",\"@message\":\"a\xffb\"}");
        assert_eq!(record.level, Level::INFO);
        assert_eq!(record.message, "a\u{fffd}b");
    }

    #[test]
    fn prefixes_set_the_level_and_keep_the_line() {
        for (line, level) in [
            ("[TRACE] t", Level::TRACE),
            ("[DEBUG] d", Level::DEBUG),
            ("[INFO] i", Level::INFO),
            ("[WARN] w", Level::WARN),
            ("[ERROR] e", Level::ERROR),
            ("[ERROR]", Level::ERROR),
            ("[INFO]no space", Level::INFO),
            ("[info] lower case is not a prefix", Level::DEBUG),
            (" [INFO] indented is not a prefix", Level::DEBUG),
            ("[WARNING] not a prefix", Level::DEBUG),
            ("plain", Level::DEBUG),
            ("", Level::DEBUG),
            ("\r", Level::DEBUG),
        ] {
            assert_eq!(parse(line), verbatim(level, line), "{line:?}");
        }
    }

    #[test]
    fn a_panic_turns_every_later_plain_line_into_an_error() {
        let mut parser = StderrParser::new();
        assert_eq!(parser.parse(b"starting").level, Level::DEBUG);
        assert_eq!(parser.parse(b"panic: boom").level, Level::ERROR);
        assert_eq!(parser.parse(b"").level, Level::ERROR);
        assert_eq!(parser.parse(b"goroutine 1 [running]:").level, Level::ERROR);
        assert_eq!(parser.parse(b"\tmain.go:12 +0x1d").level, Level::ERROR);
        // Prefixed and JSON lines keep their own levels.
        assert_eq!(parser.parse(b"[INFO] still info").level, Level::INFO);
        assert_eq!(
            parser
                .parse(br#"{"@level":"debug","@message":"json"}"#)
                .level,
            Level::DEBUG
        );
        assert_eq!(parser.parse(br#"{"a":1}"#).level, Level::DEBUG);
        assert_eq!(parser.parse(b"exit status 2").level, Level::ERROR);
    }

    #[test]
    fn fatal_error_also_starts_panic_mode() {
        let mut parser = StderrParser::new();
        assert_eq!(
            parser
                .parse(b"fatal error: all goroutines are asleep - deadlock!")
                .level,
            Level::ERROR
        );
        assert_eq!(
            parser.parse(b"goroutine 1 [chan receive]:").level,
            Level::ERROR
        );
    }

    #[test]
    fn panic_needs_the_exact_prefix() {
        let mut parser = StderrParser::new();
        assert_eq!(parser.parse(b"panic:boom").level, Level::DEBUG);
        assert_eq!(parser.parse(b"Panic: boom").level, Level::DEBUG);
        assert_eq!(parser.parse(b" panic: boom").level, Level::DEBUG);
        assert_eq!(parser.parse(b"after").level, Level::DEBUG);
    }

    #[test]
    fn fragments_are_debug_and_verbatim() {
        let record = Record::fragment(br#"{"@level":"error","@message":"cut"#);
        assert_eq!(
            record,
            verbatim(Level::DEBUG, r#"{"@level":"error","@message":"cut"#)
        );
        assert_eq!(Record::fragment(b"\xfe").message, "\u{fffd}");
    }
}
