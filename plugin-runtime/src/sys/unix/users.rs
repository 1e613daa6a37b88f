//! Users, groups and file modes: who owns a plugin's executable and who runs the host (for the
//! diagnostics of a plugin that did not start), and the ownership and modes of plugin sockets and
//! their directories.

use std::ffi::CStr;
use std::path::Path;

/// A file's mode and owners.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileOwner {
    /// `st_mode`: type and permission bits.
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

impl FileOwner {
    /// `path`'s mode and owners, following symbolic links; `None` when it cannot be examined.
    pub(crate) fn of(path: &Path) -> Option<FileOwner> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(FileOwner {
            mode: meta.mode(),
            uid: meta.uid(),
            gid: meta.gid(),
        })
    }
}

/// This process's user and group ids.
pub(crate) fn current_ids() -> (u32, u32) {
    // SAFETY: getuid and getgid take no arguments, cannot fail and touch no memory of ours.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// The user name for `uid`, from the system's user database (NSS included).
pub(crate) fn user_name(uid: u32) -> Option<String> {
    lookup(|buf, len| {
        // SAFETY: all-zero is a valid `passwd` (null pointers, zero ids).
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf` is writable for `len` bytes.
        let rc = unsafe { libc::getpwuid_r(uid, &mut entry, buf, len, &mut found) };
        if rc != 0 || found.is_null() || entry.pw_name.is_null() {
            return Err(rc);
        }
        // SAFETY: on success `pw_name` points at a NUL-terminated string inside `buf`.
        Ok(unsafe { CStr::from_ptr(entry.pw_name) }
            .to_string_lossy()
            .into_owned())
    })
}

/// The group name for `gid`, from the system's group database (NSS included).
pub(crate) fn group_name(gid: u32) -> Option<String> {
    lookup(|buf, len| {
        // SAFETY: all-zero is a valid `group` (null pointers, zero id).
        let mut entry: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf` is writable for `len` bytes.
        let rc = unsafe { libc::getgrgid_r(gid, &mut entry, buf, len, &mut found) };
        if rc != 0 || found.is_null() || entry.gr_name.is_null() {
            return Err(rc);
        }
        // SAFETY: on success `gr_name` points at a NUL-terminated string inside `buf`.
        Ok(unsafe { CStr::from_ptr(entry.gr_name) }
            .to_string_lossy()
            .into_owned())
    })
}

/// Runs a `get*_r` lookup, growing the scratch buffer while the libc asks for more room.
fn lookup(
    mut call: impl FnMut(*mut libc::c_char, usize) -> Result<String, libc::c_int>,
) -> Option<String> {
    let mut buf = vec![0u8; 1024];
    loop {
        match call(buf.as_mut_ptr().cast(), buf.len()) {
            Ok(name) => return Some(name),
            Err(libc::ERANGE) if buf.len() < 1 << 20 => buf.resize(buf.len() * 2, 0),
            Err(_) => return None,
        }
    }
}

/// The id of group `name` (a name, or a number as text), as go-plugin finds it.
pub(crate) fn group_id(name: &str) -> Option<u32> {
    if let Ok(gid) = name.parse::<libc::gid_t>() {
        return Some(gid);
    }
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        fields.nth(1)?.parse().ok()
    })
}

/// `chgrp` `path` to `gid`.
pub(crate) fn set_group(path: &Path, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::chown(path, None, Some(gid))
}

/// `chmod` `path` to `mode`.
pub(crate) fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Creates directory `path` that only this user can enter (0700).
pub(crate) fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(path)
}
