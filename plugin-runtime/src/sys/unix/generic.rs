//! Any other Unix: no handle on a process, no way to find its children or who holds a pipe. The
//! layers above fall back on the pid, as go-plugin does everywhere.

/// Never opened: [`Handle::open`] always fails, so no value exists.
#[derive(Debug)]
pub(crate) enum Handle {}

impl Handle {
    pub(crate) fn open(_pid: u32) -> std::io::Result<Handle> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    pub(crate) fn pid(&self) -> u32 {
        match *self {}
    }

    pub(crate) fn signal(&self, _signal: libc::c_int) -> std::io::Result<()> {
        match *self {}
    }

    pub(crate) fn has_exited(&self) -> bool {
        match *self {}
    }
}

impl std::os::fd::AsRawFd for Handle {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match *self {}
    }
}

pub(crate) fn wait_until_gone(_parent: u32, _pipe: Option<&std::fs::File>) -> bool {
    false
}

pub(crate) fn children(_pid: u32) -> Vec<u32> {
    Vec::new()
}

pub(crate) fn pipe_holders(_inodes: &[u64]) -> Vec<u32> {
    Vec::new()
}
