//! Just enough DER to find a certificate's validity period, and to tell a certificate from other
//! bytes.
//!
//! The pinned verifiers compare certificates byte for byte, so the only field they read is the
//! validity window; rustls-webpki keeps its parsed validity private, and a full X.509 parser
//! would be a large dependency for two timestamps. Read once per pinned certificate, when the
//! configuration is made, never per handshake.

use crate::error::DerError;

/// A certificate's `notBefore` and `notAfter`, in seconds since the Unix epoch (before it is
/// negative), both inclusive as in RFC 5280 and Go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Validity {
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const VERSION: u8 = 0xa0; // [0] EXPLICIT, constructed
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// Reads the validity of the X.509 certificate `der`, checking the outer structure on the way:
/// `SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }` and nothing after it.
pub(crate) fn validity(der: &[u8]) -> Result<Validity, DerError> {
    let mut outer = Reader(der);
    let mut cert = Reader(outer.expect(SEQUENCE, "not a DER SEQUENCE")?);
    outer.end("trailing data after the certificate")?;

    let mut tbs = Reader(cert.expect(SEQUENCE, "no tbsCertificate")?);
    cert.expect(SEQUENCE, "no signatureAlgorithm")?;
    cert.expect(BIT_STRING, "no signatureValue")?;
    cert.end("trailing data in the certificate")?;

    if tbs.peek() == Some(VERSION) {
        tbs.expect(VERSION, "bad version")?;
    }
    tbs.expect(INTEGER, "no serialNumber")?;
    tbs.expect(SEQUENCE, "no signature algorithm in tbsCertificate")?;
    tbs.expect(SEQUENCE, "no issuer")?;
    let mut validity = Reader(tbs.expect(SEQUENCE, "no validity")?);
    let not_before = time(&mut validity)?;
    let not_after = time(&mut validity)?;
    validity.end("trailing data in validity")?;
    Ok(Validity {
        not_before,
        not_after,
    })
}

/// The rest of one DER value's contents.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// Reads one value, which must have `tag`, and returns its contents.
    fn expect(&mut self, tag: u8, missing: &'static str) -> Result<&'a [u8], DerError> {
        if self.peek() != Some(tag) {
            return Err(DerError(missing));
        }
        let (_, contents) = self.next().ok_or(DerError(missing))??;
        Ok(contents)
    }

    /// One value: its tag and its contents. `None` at the end.
    fn next(&mut self) -> Option<Result<(u8, &'a [u8]), DerError>> {
        let (&tag, rest) = self.0.split_first()?;
        Some(self.value(tag, rest))
    }

    fn value(&mut self, tag: u8, rest: &'a [u8]) -> Result<(u8, &'a [u8]), DerError> {
        const TRUNCATED: DerError = DerError("truncated DER");
        if tag & 0x1f == 0x1f {
            // No field up to the validity uses a high tag number.
            return Err(DerError("unexpected high-number DER tag"));
        }
        let (&first, mut rest) = rest.split_first().ok_or(TRUNCATED)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err(DerError("unsupported DER length"));
            }
            let (bytes, after) = rest.split_at_checked(count).ok_or(TRUNCATED)?;
            rest = after;
            if bytes[0] == 0 {
                return Err(DerError("non-minimal DER length"));
            }
            let len = bytes
                .iter()
                .fold(0usize, |len, &byte| (len << 8) | usize::from(byte));
            if len < 0x80 {
                return Err(DerError("non-minimal DER length"));
            }
            len
        };
        let (contents, after) = rest.split_at_checked(len).ok_or(TRUNCATED)?;
        self.0 = after;
        Ok((tag, contents))
    }

    fn end(&self, trailing: &'static str) -> Result<(), DerError> {
        match self.0.is_empty() {
            true => Ok(()),
            false => Err(DerError(trailing)),
        }
    }
}

/// A `Time` (RFC 5280 4.1.2.5): `UTCTime` `YYMMDDHHMMSSZ` (years 1950 to 2049) or
/// `GeneralizedTime` `YYYYMMDDHHMMSSZ`, as seconds since the Unix epoch.
fn time(reader: &mut Reader<'_>) -> Result<i64, DerError> {
    const BAD: DerError = DerError("malformed validity time");
    let (tag, text) = reader.next().ok_or(DerError("no validity time"))??;
    let (year, rest) = match (tag, text.len()) {
        (UTC_TIME, 13) => {
            let yy = digits(&text[..2]).ok_or(BAD)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &text[2..])
        }
        (GENERALIZED_TIME, 15) => (digits(&text[..4]).ok_or(BAD)?, &text[4..]),
        _ => return Err(BAD),
    };
    if rest[10] != b'Z' {
        return Err(BAD);
    }
    let field = |at: usize| digits(&rest[at..at + 2]).ok_or(BAD);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(BAD);
    }
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second)
}

fn digits(text: &[u8]) -> Option<i64> {
    text.iter().try_fold(0i64, |value, &byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + i64::from(byte - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12; // March is 0
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Vec<u8> {
        let mut der = vec![UTC_TIME, text.len() as u8];
        der.extend_from_slice(text.as_bytes());
        der
    }

    fn generalized(text: &str) -> Vec<u8> {
        let mut der = vec![GENERALIZED_TIME, text.len() as u8];
        der.extend_from_slice(text.as_bytes());
        der
    }

    fn read_time(der: &[u8]) -> Result<i64, DerError> {
        time(&mut Reader(der))
    }

    #[test]
    fn times_match_known_unix_seconds() {
        assert_eq!(read_time(&utc("700101000000Z")), Ok(0));
        // From `date -u -d <time> +%s`.
        assert_eq!(read_time(&utc("261201094126Z")), Ok(1_796_118_086));
        assert_eq!(
            read_time(&generalized("20561130214156Z")),
            Ok(2_742_846_116)
        );
        assert_eq!(read_time(&utc("500101000000Z")), Ok(-631_152_000));
        assert_eq!(read_time(&utc("491231235959Z")), Ok(2_524_607_999));
        assert_eq!(read_time(&generalized("20000229120000Z")), Ok(951_825_600));
    }

    #[test]
    fn malformed_times_are_refused() {
        for bad in [
            utc("700101000000"),
            utc("7001010000000"),
            utc("701301000000Z"),
            utc("700230000000Z"),
            utc("700101240000Z"),
            utc("70010100000aZ"),
            utc("700101000000+0000"),
            generalized("19000229000000Z"),
            generalized("2000010100000Z"),
            vec![INTEGER, 1, 0],
            vec![],
        ] {
            assert!(read_time(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn non_certificates_are_refused() {
        let cases: [(&[u8], &str); 5] = [
            (b"", "not a DER SEQUENCE"),
            (b"hello", "not a DER SEQUENCE"),
            (&[SEQUENCE, 0x05, 0x30], "truncated DER"),
            (
                &[SEQUENCE, 0x00, 0x00],
                "trailing data after the certificate",
            ),
            (&[SEQUENCE, 0x81, 0x01, 0x00], "non-minimal DER length"),
        ];
        for (der, message) in cases {
            assert_eq!(validity(der), Err(DerError(message)), "{der:?}");
        }
        assert_eq!(
            validity(&[SEQUENCE, 0x00]),
            Err(DerError("no tbsCertificate"))
        );
    }
}
