//! Unpadded standard base64 (Go's `base64.RawStdEncoding`), the encoding of the server
//! certificate in handshake field 6.
//!
//! Written here rather than taken from a crate so that a bad certificate fails with the text a Go
//! host prints (`illegal base64 data at input byte N`, with Go's offsets) and so that the decoder
//! is exactly as lenient as Go's: `\r` and `\n` are skipped, trailing bits are ignored, and `=`
//! is an illegal character like any other.

use std::fmt;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Go's `base64.CorruptInputError`: the input byte offset where decoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CorruptInput(pub(crate) usize);

impl fmt::Display for CorruptInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "illegal base64 data at input byte {}", self.0)
    }
}

/// Encodes `data` without padding.
pub(crate) fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let symbols = chunk.len() + 1;
        for i in 0..symbols {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

fn value(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes unpadded base64 the way Go's `RawStdEncoding.DecodeString` does.
pub(crate) fn decode(input: &str) -> Result<Vec<u8>, CorruptInput> {
    let src = input.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 2);
    let mut si = 0;
    // One group of up to four symbols per turn, as Go's `decodeQuantum`.
    while si < src.len() {
        let mut group = [0u8; 4];
        let mut len = 0;
        while len < 4 {
            let Some(&byte) = src.get(si) else {
                break;
            };
            si += 1;
            if let Some(v) = value(byte) {
                group[len] = v;
                len += 1;
            } else if byte != b'\n' && byte != b'\r' {
                return Err(CorruptInput(si - 1));
            }
        }
        match len {
            // Only line breaks were left.
            0 => break,
            // A single symbol cannot carry a whole byte; Go blames the position it reached.
            1 => return Err(CorruptInput(si - 1)),
            _ => {}
        }
        let n = u32::from(group[0]) << 18
            | u32::from(group[1]) << 12
            | u32::from(group[2]) << 6
            | u32::from(group[3]);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..len - 1]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_without_padding() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(b"foob"), "Zm9vYg");
        assert_eq!(encode(b"fooba"), "Zm9vYmE");
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "+/+/");
    }

    #[test]
    fn decodes_what_it_encodes() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for len in 0..64 {
            assert_eq!(decode(&encode(&data[..len])), Ok(data[..len].to_vec()));
        }
        assert_eq!(decode(&encode(&data)), Ok(data));
    }

    #[test]
    fn skips_line_breaks_like_go() {
        assert_eq!(decode("Zm9v\r\nYmFy\n"), Ok(b"foobar".to_vec()));
        assert_eq!(decode("Z\nm8"), Ok(b"fo".to_vec()));
        assert_eq!(decode("\n"), Ok(Vec::new()));
    }

    #[test]
    fn ignores_trailing_bits_like_go() {
        // `Zh` has non-zero bits after the byte; Go's non-strict decoder accepts it.
        assert_eq!(decode("Zh"), Ok(b"f".to_vec()));
    }

    #[test]
    fn rejects_padding_at_its_offset() {
        assert_eq!(decode("Zg=="), Err(CorruptInput(2)));
        assert_eq!(decode("Zm8="), Err(CorruptInput(3)));
        assert_eq!(
            decode("Zm8=").unwrap_err().to_string(),
            "illegal base64 data at input byte 3"
        );
    }

    #[test]
    fn rejects_bad_symbols_at_their_offset() {
        assert_eq!(decode("Zm9v YmFy"), Err(CorruptInput(4)));
        assert_eq!(decode("Zm9vYm-y"), Err(CorruptInput(6)));
        assert_eq!(decode("Zm9vYmFy\u{e9}"), Err(CorruptInput(8)));
    }

    #[test]
    fn rejects_a_lone_trailing_symbol() {
        assert_eq!(decode("Zm9vY"), Err(CorruptInput(4)));
        assert_eq!(decode("Z"), Err(CorruptInput(0)));
        // Go blames the line break that follows the lone symbol.
        assert_eq!(decode("Zm9vY\n"), Err(CorruptInput(5)));
    }
}
