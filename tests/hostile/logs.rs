//! Plugin stderr lines as the host reads them (`inspect::LogLines`, the parser the stderr mirror
//! runs on every line). The mirror's line splitting and the stderr tail are tested with
//! generated input next to them, in the runtime (`log/hostile.rs`).

use std::time::Duration;

use go_plugin::inspect::LogLines;
use serde_json::Value;
use tracing::Level;

use crate::fuzz::{self, Gen, bounded, corpus, corpus_lines, inputs};

fn classify(line: &[u8]) -> (bool, Level) {
    let read = LogLines::default().classify(line);
    (read.hclog, read.level)
}

/// What must hold for any line: a line the host takes as hclog is a JSON object with string
/// `@level` (a level the host knows) and `@message` (or none); any other line is at the level
/// of its `[LEVEL]` prefix, or DEBUG (a fresh reader is in no panic).
fn check_any(line: &[u8]) {
    let (hclog, level) = classify(line);
    let text = String::from_utf8_lossy(line);
    if hclog {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(&text) else {
            panic!("hclog that is not a JSON object");
        };
        let named = match object.get("@level") {
            Some(Value::String(name)) => name.trim().to_lowercase(),
            other => panic!("hclog with @level {other:?}"),
        };
        assert_eq!(level.as_str().to_lowercase(), named);
        assert!(matches!(
            object.get("@message"),
            None | Some(Value::String(_))
        ));
        assert!(matches!(
            object.get("@timestamp"),
            None | Some(Value::String(_))
        ));
        return;
    }
    let prefixed = [
        ("[TRACE]", Level::TRACE),
        ("[DEBUG]", Level::DEBUG),
        ("[INFO]", Level::INFO),
        ("[WARN]", Level::WARN),
        ("[ERROR]", Level::ERROR),
    ]
    .into_iter()
    .find(|(prefix, _)| text.starts_with(prefix));
    let expected = match prefixed {
        Some((_, level)) => level,
        None if text.starts_with("panic: ") || text.starts_with("fatal error: ") => Level::ERROR,
        None => Level::DEBUG,
    };
    assert_eq!(level, expected);
}

#[test]
fn real_log_lines_are_read_as_a_go_host_reads_them() {
    for (name, bytes) in corpus("stderr-") {
        let mut logs = LogLines::default();
        for line in bytes.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
            let read = logs.classify(line);
            let text = String::from_utf8_lossy(line);
            let json = text.starts_with('{');
            assert_eq!(read.hclog, json, "{name}: {text}");
            if json {
                let level = serde_json::from_str::<Value>(&text).expect("JSON")["@level"]
                    .as_str()
                    .expect("a level")
                    .to_owned();
                assert_eq!(read.level.as_str().to_lowercase(), level, "{name}: {text}");
            } else {
                // go-plugin's own words when the cookie is missing, or a warning glued to JSON.
                assert_eq!(read.level, Level::DEBUG, "{name}: {text}");
            }
        }
    }
}

#[test]
fn mutated_real_lines_never_panic_and_keep_the_rules() {
    let seeds = corpus_lines("stderr-");
    fuzz::run(
        "log lines (mutated real lines)",
        0x4c4f_4731,
        inputs(),
        |rng| {
            let seed = rng.pick_ref(&seeds).clone();
            rng.mutate(&seed, &seeds)
        },
        |line| check_any(line),
    );
}

#[test]
fn random_bytes_never_panic() {
    fuzz::run(
        "log lines (random bytes)",
        0x4c4f_4732,
        inputs(),
        |rng| {
            let len = rng.len(300);
            let mut bytes = rng.bytes(len);
            if rng.one_in(2) {
                bytes.insert(0, b'{');
            }
            bytes
        },
        |line| check_any(line),
    );
}

/// A JSON value of any type, nested up to `depth`.
fn value(rng: &mut Gen, depth: usize) -> String {
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => "null".to_owned(),
        1 => rng.pick(&["true", "false"]).to_string(),
        2 => rng
            .pick(&["0", "-1", "1.5e300", "18446744073709551616", "-0.0"])
            .to_string(),
        3 => format!("{}", rng.u64()),
        4 | 5 => Value::String(rng.text(20)).to_string(),
        6 => {
            let items: Vec<String> = (0..rng.below(4)).map(|_| value(rng, depth - 1)).collect();
            format!("[{}]", items.join(","))
        }
        _ => {
            let items: Vec<String> = (0..rng.below(4))
                .map(|_| format!("{}:{}", Value::String(rng.text(8)), value(rng, depth - 1)))
                .collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

/// A timestamp Go's layout `2006-01-02T15:04:05.000000Z07:00` accepts, or (`false`) a near miss.
fn timestamp(rng: &mut Gen) -> (String, bool) {
    let year = format!("{:04}", rng.below(10_000));
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let hour = rng.below(24);
    let (minute, second) = (rng.below(60), rng.below(60));
    let fraction = format!(".{:06}", rng.below(1_000_000));
    let zone = match rng.below(3) {
        0 => "Z".to_owned(),
        sign => format!(
            "{}{:02}:{:02}",
            if sign == 1 { '+' } else { '-' },
            rng.below(25),
            rng.below(61)
        ),
    };
    let written =
        |year: &str, month: usize, day: usize, hour: usize, fraction: &str, zone: &str| {
            format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}")
        };
    if rng.one_in(2) {
        return (written(&year, month, day, hour, &fraction, &zone), true);
    }
    let bad = match rng.below(9) {
        0 => written(&year, month, day, hour, &fraction[..4], &zone),
        1 => written(&year, month, day, hour, "", &zone),
        2 => written(&year, month, day, hour, &fraction, &zone) + " ",
        3 => written(&year, 13, day, hour, &fraction, &zone),
        4 => written(&year, month, 32, hour, &fraction, &zone),
        5 => written(&year, month, day, 24, &fraction, &zone),
        6 => written(&year, month, day, hour, &fraction, "+25:00"),
        7 => written(&year, month, day, hour, &fraction, ""),
        _ => written(&format!("1{year}"), month, day, hour, &fraction, &zone),
    };
    (bad, false)
}

/// An hclog-shaped object with any of its three keys wrong, missing or repeated, and what a Go
/// host makes of it.
#[derive(Debug)]
struct Shaped {
    line: Vec<u8>,
    hclog: bool,
    level: Option<Level>,
}

fn shaped(rng: &mut Gen) -> Shaped {
    const LEVELS: &[(&str, Option<Level>)] = &[
        ("trace", Some(Level::TRACE)),
        ("DEBUG", Some(Level::DEBUG)),
        ("info", Some(Level::INFO)),
        (" Warn ", Some(Level::WARN)),
        ("error", Some(Level::ERROR)),
        ("off", None),
        ("fatal", None),
        ("", None),
    ];
    // The last occurrence of a key wins, in Go and here: each key is written one to three times.
    let mut members: Vec<(String, String)> = Vec::new();
    let mut level_ok = None;
    let mut message_ok = true;
    let mut timestamp_ok = true;
    for _ in 0..=rng.below(3) {
        match rng.below(4) {
            0 => {
                members.push(("@level".into(), value(rng, 2)));
                level_ok = Some(None);
            }
            _ => {
                let (name, level) = rng.pick(LEVELS);
                members.push(("@level".into(), Value::String(name.into()).to_string()));
                level_ok = Some(level);
            }
        }
    }
    if rng.one_in(4) {
        level_ok = None; // no @level at all
        members.clear();
    }
    if !rng.one_in(5) {
        for _ in 0..=rng.below(2) {
            if rng.one_in(4) {
                let other = value(rng, 2);
                message_ok = other.starts_with('"');
                members.push(("@message".into(), other));
            } else {
                message_ok = true;
                members.push(("@message".into(), Value::String(rng.text(40)).to_string()));
            }
        }
    }
    if !rng.one_in(5) {
        if rng.one_in(5) {
            // Not a string, or a string of random text: never a timestamp.
            timestamp_ok = false;
            members.push(("@timestamp".into(), value(rng, 1)));
        } else {
            let (text, ok) = timestamp(rng);
            timestamp_ok = ok;
            members.push(("@timestamp".into(), Value::String(text).to_string()));
        }
    }
    for _ in 0..rng.below(5) {
        members.push((rng.text(10), value(rng, 3)));
    }
    // Shuffle, keeping each special key's occurrences in order (the last one decides).
    let mut line = Vec::from(rng.pick(&[&b"{"[..], b" {", b"{\n"]));
    let mut order: Vec<usize> = (0..members.len()).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        if !members[order[i]].0.starts_with('@') && !members[order[j]].0.starts_with('@') {
            order.swap(i, j);
        }
    }
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            line.push(b',');
        }
        let (key, value) = &members[i];
        line.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
        line.push(b':');
        line.extend_from_slice(value.as_bytes());
    }
    line.extend_from_slice(rng.pick(&[&b"}"[..], b"} ", b"}\r"]));
    if rng.one_in(10) {
        // Invalid UTF-8 inside a string: replaced, the line stays hclog.
        let key = b"\"@message\":\"";
        if let Some(at) = line.windows(key.len()).position(|w| w == key) {
            line.insert(at + key.len(), 0xff);
        }
    }
    let hclog = level_ok.flatten().is_some() && message_ok && timestamp_ok;
    Shaped {
        line,
        hclog,
        level: level_ok.flatten(),
    }
}

#[test]
fn generated_hclog_objects_are_read_as_go_reads_them() {
    fuzz::run(
        "log lines (generated hclog objects)",
        0x4c4f_4733,
        inputs(),
        shaped,
        |shaped| {
            let (hclog, level) = classify(&shaped.line);
            assert_eq!(
                hclog,
                shaped.hclog,
                "{}",
                String::from_utf8_lossy(&shaped.line)
            );
            match shaped.level {
                Some(expected) if shaped.hclog => assert_eq!(level, expected),
                _ => assert_eq!(level, Level::DEBUG),
            }
        },
    );
}

#[test]
fn deep_nesting_and_huge_lines_are_quick() {
    for depth in [1_000, 100_000] {
        let line = format!(
            r#"{{"@level":"info","@message":"deep","x":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let (hclog, level) = bounded(
            &format!("log line nested {depth} deep"),
            Duration::from_secs(2),
            || classify(line.as_bytes()),
        );
        // serde_json stops at 128 levels; the line is then logged as written.
        assert_eq!((hclog, level), (false, Level::DEBUG));
        let objects = format!(r#"{}{}"#, "{\"a\":".repeat(depth), "}".repeat(depth));
        let (hclog, _) = bounded(
            &format!("log line of objects {depth} deep"),
            Duration::from_secs(2),
            || classify(objects.as_bytes()),
        );
        assert!(!hclog);
    }

    let message = "m".repeat(16 << 20);
    let line = format!(
        r#"{{"@level":"warn","@message":"{message}","@timestamp":"2026-01-02T03:04:05.000006Z"}}"#
    );
    let read = bounded(
        "log line of 16 MiB (hclog)",
        Duration::from_secs(15),
        || classify(line.as_bytes()),
    );
    assert_eq!(read, (true, Level::WARN));
    let mut plain = vec![b'x'; 16 << 20];
    plain[1 << 20] = 0xff;
    let read = bounded(
        "log line of 16 MiB (plain, invalid UTF-8)",
        Duration::from_secs(10),
        || classify(&plain),
    );
    assert_eq!(read, (false, Level::DEBUG));
    let fields: String = (0..200_000).map(|i| format!(r#","k{i}":{i}"#)).collect();
    let line = format!(r#"{{"@level":"info","@message":"many"{fields}}}"#);
    let read = bounded(
        "log line with 200 000 fields",
        Duration::from_secs(60),
        || classify(line.as_bytes()),
    );
    assert_eq!(read, (true, Level::INFO));
}
