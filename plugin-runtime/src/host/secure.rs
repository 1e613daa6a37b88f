//! go-plugin's `SecureConfig`: the host hashes the plugin's executable before running it and
//! refuses to run one whose hash differs from the expected checksum.
//!
//! What it does not cover: the file can change between the check and `exec`, and with
//! `sh -c …` the executable checked is the shell, not the script (as in go-plugin).

use std::io::Read;
use std::path::Path;

use sha2::Digest;

use crate::error::ChecksumError;

/// The expected checksum of a plugin's executable, and the hash it was computed with.
///
/// ```
/// use go_plugin::SecureConfig;
///
/// // The SHA-256 of the plugin binary, for example from `sha256sum terraform-provider-greeter`.
/// let checksum = [0u8; 32];
/// let secure = SecureConfig::sha256(checksum);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecureConfig {
    checksum: Vec<u8>,
    hash: Hash,
}

/// The hash functions a [`SecureConfig`] can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hash {
    /// SHA-224.
    Sha224,
    /// SHA-256, what go-plugin's examples and Terraform use.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl SecureConfig {
    /// Expect `checksum`, computed with `hash`.
    pub fn new(checksum: impl Into<Vec<u8>>, hash: Hash) -> Self {
        SecureConfig {
            checksum: checksum.into(),
            hash,
        }
    }

    /// Expect the SHA-256 `checksum`.
    pub fn sha256(checksum: impl Into<Vec<u8>>) -> Self {
        Self::new(checksum, Hash::Sha256)
    }

    /// Hashes the file at `path` and compares it with the checksum in constant time.
    pub(crate) fn check(&self, path: &Path) -> Result<(), ChecksumError> {
        if self.checksum.is_empty() {
            return Err(ChecksumError::Missing);
        }
        let unreadable = |source| ChecksumError::Unreadable {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let actual = self.hash.of(file).map_err(unreadable)?;
        let same = actual.len() == self.checksum.len()
            && actual
                .iter()
                .zip(&self.checksum)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(ChecksumError::Mismatch {
                path: path.to_path_buf(),
                expected: self.checksum.clone(),
                actual,
            })
        }
    }
}

impl Hash {
    fn of(self, reader: impl Read) -> std::io::Result<Vec<u8>> {
        match self {
            Hash::Sha224 => digest::<sha2::Sha224>(reader),
            Hash::Sha256 => digest::<sha2::Sha256>(reader),
            Hash::Sha384 => digest::<sha2::Sha384>(reader),
            Hash::Sha512 => digest::<sha2::Sha512>(reader),
        }
    }
}

fn digest<D: Digest>(mut reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut hasher = D::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(hasher.finalize().to_vec()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        std::io::Write::write_all(&mut file, contents).expect("write");
        file
    }

    /// `printf abc | sha256sum` and `sha512sum`.
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const ABC_SHA512: &str = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn a_matching_checksum_passes_with_each_hash() {
        let abc = file(b"abc");
        SecureConfig::sha256(hex(ABC_SHA256))
            .check(abc.path())
            .expect("sha256 matches");
        SecureConfig::new(hex(ABC_SHA512), Hash::Sha512)
            .check(abc.path())
            .expect("sha512 matches");
    }

    #[test]
    fn a_different_file_or_hash_is_refused_with_go_plugins_words() {
        let other = file(b"abd");
        let err = SecureConfig::sha256(hex(ABC_SHA256))
            .check(other.path())
            .expect_err("different contents");
        assert_eq!(err.to_string(), "checksums did not match");
        assert!(matches!(err, ChecksumError::Mismatch { ref actual, .. } if actual.len() == 32));

        let abc = file(b"abc");
        let err = SecureConfig::new(hex(ABC_SHA256), Hash::Sha512)
            .check(abc.path())
            .expect_err("checksum of another hash");
        assert_eq!(err.to_string(), "checksums did not match");
    }

    #[test]
    fn no_checksum_and_no_file_are_errors() {
        let abc = file(b"abc");
        let err = SecureConfig::sha256(Vec::new())
            .check(abc.path())
            .expect_err("empty");
        assert_eq!(err.to_string(), "no checksum provided");
        let err = SecureConfig::sha256(hex(ABC_SHA256))
            .check(Path::new("/nonexistent/plugin"))
            .expect_err("missing file");
        assert!(
            err.to_string()
                .starts_with("error verifying checksum: No such file or directory"),
            "{err}"
        );
    }
}
