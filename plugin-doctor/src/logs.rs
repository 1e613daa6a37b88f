//! Judging the plugin's log channel (stderr) as go-plugin's host reads it. Pure: the runtime's
//! [`LogLines`](go_plugin::inspect::LogLines) says what the host makes of each line; the checks
//! here count, and say why a JSON line was not taken as hclog.

use go_plugin::inspect::LogLines;
use serde_json::Value;

use crate::report::Check;

const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

/// `logs.hclog`, `logs.timestamp` and `logs.levels` for the lines a plugin wrote to stderr.
pub(crate) fn checks(lines: &[Vec<u8>]) -> [Check; 3] {
    let mut reader = LogLines::default();
    let mut hclog = 0;
    let mut first_plain = None;
    let mut stamped = 0;
    let mut bad_stamp = None;
    let mut levelled = 0;
    let mut bad_level = None;
    for line in lines {
        if reader.classify(line).hclog {
            hclog += 1;
        } else if first_plain.is_none() {
            first_plain = Some(String::from_utf8_lossy(line).into_owned());
        }
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        if let Some(stamp) = object.get("@timestamp") {
            stamped += 1;
            if bad_stamp.is_none() && !stamp.as_str().is_some_and(go_timestamp) {
                bad_stamp = Some(stamp.to_string());
            }
        }
        if let Some(level) = object.get("@level") {
            levelled += 1;
            let known = level
                .as_str()
                .is_some_and(|level| LEVELS.contains(&level.trim().to_lowercase().as_str()));
            if bad_level.is_none() && !known {
                bad_level = Some(level.to_string());
            }
        }
    }

    let total = lines.len();
    let share = if total == 0 {
        Check::pass("logs.hclog", "no lines on stderr during the session")
    } else if hclog == total {
        Check::pass(
            "logs.hclog",
            format!("{hclog} of {total} stderr lines are hclog JSON"),
        )
    } else {
        let first = first_plain.unwrap_or_default();
        let evidence = format!(
            "{hclog} of {total} stderr lines are hclog JSON; the host logs the others whole at DEBUG, e.g. {:?}",
            truncate(&first, 80)
        );
        let fix = "write log records as hclog JSON lines ({\"@level\":…,\"@message\":…,\"@timestamp\":…}); \
                   go-plugin parses those and shows plain lines only as DEBUG";
        if hclog == 0 {
            Check::fail("logs.hclog", evidence, fix)
        } else {
            Check::warn("logs.hclog", evidence, fix)
        }
    };

    let timestamp = match (stamped, bad_stamp) {
        (0, _) => Check::skip("logs.timestamp", "no JSON line with @timestamp"),
        (n, None) => Check::pass(
            "logs.timestamp",
            format!("{n} @timestamp values in go-plugin's layout (6 fractional digits and a zone)"),
        ),
        (n, Some(bad)) => Check::fail(
            "logs.timestamp",
            format!(
                "@timestamp {bad} (of {n}) is not in go-plugin's layout 2006-01-02T15:04:05.000000Z07:00, so the host does not parse the line"
            ),
            "format @timestamp with exactly 6 fractional digits and a zone, e.g. 2026-01-02T03:04:05.000006Z",
        ),
    };

    let levels = match (levelled, bad_level) {
        (0, _) => Check::skip("logs.levels", "no JSON line with @level"),
        (n, None) => Check::pass("logs.levels", format!("{n} @level values, all recognised")),
        (n, Some(bad)) => Check::fail(
            "logs.levels",
            format!(
                "@level {bad} (of {n}) is not one go-plugin knows; the host shows the raw line at DEBUG"
            ),
            "use trace, debug, info, warn or error",
        ),
    };
    [share, timestamp, levels]
}

/// Go's layout `2006-01-02T15:04:05.000000Z07:00`: exactly six fractional digits, then `Z` or
/// `±hh:mm`.
fn go_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    let shape = digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && bytes.get(10) == Some(&b'T')
        && digits(11..13)
        && bytes.get(13) == Some(&b':')
        && digits(14..16)
        && bytes.get(16) == Some(&b':')
        && digits(17..19)
        && bytes.get(19) == Some(&b'.')
        && digits(20..26);
    let zone = &text.get(26..).unwrap_or("");
    let zone_ok = *zone == "Z"
        || (zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && digits(27..29)
            && zone.as_bytes()[3] == b':'
            && digits(30..32));
    shape && zone_ok
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    fn run(lines: &[&str]) -> [Check; 3] {
        let lines: Vec<Vec<u8>> = lines.iter().map(|line| line.as_bytes().to_vec()).collect();
        checks(&lines)
    }

    fn statuses(checks: &[Check; 3]) -> [Status; 3] {
        [checks[0].status, checks[1].status, checks[2].status]
    }

    const GOOD: &str = r#"{"@level":"debug","@message":"plugin address","@timestamp":"2026-01-02T03:04:05.123456Z"}"#;

    #[test]
    fn hclog_lines_pass() {
        let checks = run(&[GOOD, GOOD]);
        assert_eq!(statuses(&checks), [Status::Pass; 3]);
        assert!(checks[0].evidence.starts_with("2 of 2"));
    }

    #[test]
    fn plain_text_fails_the_share_only() {
        assert_eq!(
            statuses(&run(&["starting", "[INFO] ready"])),
            [Status::Fail, Status::Skip, Status::Skip]
        );
        assert_eq!(statuses(&run(&[GOOD, "panic: x"]))[0], Status::Warn);
        assert_eq!(
            statuses(&run(&[])),
            [Status::Pass, Status::Skip, Status::Skip]
        );
    }

    #[test]
    fn bad_timestamps_and_levels_are_named() {
        let checks =
            run(&[r#"{"@level":"info","@message":"m","@timestamp":"2026-01-02T03:04:05.123Z"}"#]);
        assert_eq!(
            statuses(&checks),
            [Status::Fail, Status::Fail, Status::Pass]
        );
        assert!(checks[1].evidence.contains(".123Z"));
        let checks = run(&[
            r#"{"@level":"notice","@message":"m","@timestamp":"2026-01-02T03:04:05.123456+02:00"}"#,
        ]);
        assert_eq!(
            statuses(&checks),
            [Status::Fail, Status::Pass, Status::Fail]
        );
    }

    #[test]
    fn go_layout() {
        assert!(go_timestamp("2026-01-02T03:04:05.123456Z"));
        assert!(go_timestamp("2026-01-02T03:04:05.123456-07:00"));
        assert!(!go_timestamp("2026-01-02T03:04:05.123456"));
        assert!(!go_timestamp("2026-01-02T03:04:05Z"));
        assert!(!go_timestamp("2026-01-02T03:04:05.1234567Z"));
    }
}
