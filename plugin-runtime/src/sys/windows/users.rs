//! A file's mode as Go reports it on Windows, for the diagnostics of a plugin that did not start:
//! `-rw-rw-rw-`, or `-r--r--r--` when read-only; Windows has no Unix owners.

use std::path::Path;

/// A file's mode.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileOwner {
    /// `st_mode`-like: type and permission bits.
    pub(crate) mode: u32,
}

impl FileOwner {
    /// `path`'s mode, following symbolic links; `None` when it cannot be examined.
    pub(crate) fn of(path: &Path) -> Option<FileOwner> {
        let meta = std::fs::metadata(path).ok()?;
        let (kind, permissions) = if meta.is_dir() {
            (0o040000, 0o777)
        } else if meta.permissions().readonly() {
            (0o100000, 0o444)
        } else {
            (0o100000, 0o666)
        };
        Some(FileOwner {
            mode: kind | permissions,
        })
    }
}
