//! The few Go text conventions that reach users through go-plugin's error messages: `%q`
//! quoting, `strconv.Atoi` and `strconv.ParseBool` with their error texts, and `%v` of a slice.
//!
//! A Go host prints these texts; when our host reports the same failure it should read the same,
//! so people can search for it.

use std::fmt::{Display, Write};

/// Go's `strconv.Quote` for valid UTF-8 text.
///
/// Go decides "printable" with `unicode.IsPrint`; this uses Rust's control/whitespace classes,
/// which agree on ASCII and on every character a handshake line realistically holds.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x1_0000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

fn is_printable(c: char) -> bool {
    c == ' ' || !(c.is_control() || c.is_whitespace() || matches!(c, '\u{ad}' | '\u{feff}'))
}

/// Go's `strconv.Atoi` on a 64-bit platform: an optional sign and decimal digits, nothing else.
///
/// The error is Go's text, e.g. `strconv.Atoi: parsing "x": invalid syntax`.
pub(crate) fn atoi(s: &str) -> Result<i64, String> {
    let syntax = || format!("strconv.Atoi: parsing {}: invalid syntax", quote(s));
    let range = || format!("strconv.Atoi: parsing {}: value out of range", quote(s));

    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(syntax());
    }
    // Go reports whichever problem it meets first while scanning left to right.
    let mut n: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return Err(syntax());
        }
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
        {
            Some(n) => n,
            None => return Err(range()),
        };
    }
    let limit = 1u64 << 63;
    match (negative, n) {
        (false, n) if n >= limit => Err(range()),
        (true, n) if n > limit => Err(range()),
        (false, n) => Ok(n as i64),
        (true, n) => Ok((n as i64).wrapping_neg()),
    }
}

/// Go's `strconv.ParseBool`: `1 t T TRUE true True` and `0 f F FALSE false False`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `%v` (or `%d`) of a slice: `[1 2]`, `[grpc]`, `[]`.
pub(crate) fn list<T: Display>(items: &[T]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{item}");
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote("x"), r#""x""#);
        assert_eq!(quote(""), r#""""#);
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\t\n\r\u{7}\u{8}\u{b}\u{c}"), r#""\t\n\r\a\b\v\f""#);
        assert_eq!(quote("\u{1b}[0m"), r#""\x1b[0m""#);
        assert_eq!(quote("\u{7f}"), r#""\x7f""#);
        assert_eq!(quote("\u{85}"), r#""\u0085""#);
        assert_eq!(quote("héllo ✓"), "\"héllo ✓\"");
        assert_eq!(quote("a b"), r#""a b""#);
    }

    #[test]
    fn atoi_accepts_what_go_accepts() {
        assert_eq!(atoi("1"), Ok(1));
        assert_eq!(atoi("+7"), Ok(7));
        assert_eq!(atoi("-3"), Ok(-3));
        assert_eq!(atoi("007"), Ok(7));
        assert_eq!(atoi("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(atoi("-9223372036854775808"), Ok(i64::MIN));
    }

    #[test]
    fn atoi_errors_read_like_go() {
        assert_eq!(
            atoi("x").unwrap_err(),
            r#"strconv.Atoi: parsing "x": invalid syntax"#
        );
        assert_eq!(
            atoi("").unwrap_err(),
            r#"strconv.Atoi: parsing "": invalid syntax"#
        );
        assert_eq!(
            atoi("+").unwrap_err(),
            r#"strconv.Atoi: parsing "+": invalid syntax"#
        );
        assert_eq!(
            atoi(" 1").unwrap_err(),
            r#"strconv.Atoi: parsing " 1": invalid syntax"#
        );
        assert_eq!(
            atoi("1_000").unwrap_err(),
            r#"strconv.Atoi: parsing "1_000": invalid syntax"#
        );
        assert_eq!(
            atoi("9223372036854775808").unwrap_err(),
            r#"strconv.Atoi: parsing "9223372036854775808": value out of range"#
        );
        assert_eq!(
            atoi("-9223372036854775809").unwrap_err(),
            r#"strconv.Atoi: parsing "-9223372036854775809": value out of range"#
        );
        // The overflow is met before the bad character, as in Go.
        assert_eq!(
            atoi("99999999999999999999x").unwrap_err(),
            r#"strconv.Atoi: parsing "99999999999999999999x": value out of range"#
        );
    }

    #[test]
    fn parse_bool_matches_go() {
        for s in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(s), Some(true), "{s}");
        }
        for s in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(s), Some(false), "{s}");
        }
        for s in ["", "yes", "tRUE", " true", "2"] {
            assert_eq!(parse_bool(s), None, "{s}");
        }
    }

    #[test]
    fn list_prints_like_go() {
        assert_eq!(list::<u32>(&[]), "[]");
        assert_eq!(list(&[1, 2]), "[1 2]");
        assert_eq!(list(&["grpc"]), "[grpc]");
        assert_eq!(list(&["netrpc", "grpc"]), "[netrpc grpc]");
    }
}
