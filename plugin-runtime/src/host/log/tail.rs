//! The last lines a plugin wrote to its log channel, kept so that a plugin that dies before its
//! handshake can be explained with its own words (go-plugin only logs them).

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// How many lines are kept, and how much of each.
const LINES: usize = 8;
const LINE_BYTES: usize = 512;

/// A shared record of the last lines of a plugin's stderr.
#[derive(Clone, Debug, Default)]
pub(crate) struct StderrTail(Arc<Mutex<Tail>>);

#[derive(Debug, Default)]
struct Tail {
    lines: VecDeque<Vec<u8>>,
    /// The line being written (the mirror writes a line, then its `\n`).
    current: Vec<u8>,
}

impl StderrTail {
    /// A writer for the mirror's raw sink: records lines and passes every byte on to `inner`.
    pub(crate) fn writer(&self, inner: Option<Box<dyn Write + Send>>) -> Box<dyn Write + Send> {
        Box::new(TailWriter {
            tail: self.clone(),
            inner,
        })
    }

    /// The recorded lines, oldest first, each indented for an error message.
    pub(crate) fn render(&self) -> String {
        let Ok(tail) = self.0.lock() else {
            return String::new();
        };
        let mut text = String::new();
        for line in tail
            .lines
            .iter()
            .chain(Some(&tail.current).filter(|current| !current.is_empty()))
        {
            text.push_str("  ");
            text.push_str(&String::from_utf8_lossy(line));
            text.push('\n');
        }
        text
    }
}

struct TailWriter {
    tail: StderrTail,
    inner: Option<Box<dyn Write + Send>>,
}

impl Write for TailWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut tail) = self.tail.0.lock() {
            for piece in buf.split_inclusive(|&b| b == b'\n') {
                let (text, ends) = match piece.strip_suffix(b"\n") {
                    Some(text) => (text, true),
                    None => (piece, false),
                };
                let room = LINE_BYTES.saturating_sub(tail.current.len());
                tail.current
                    .extend_from_slice(&text[..text.len().min(room)]);
                if ends {
                    let line = std::mem::take(&mut tail.current);
                    if tail.lines.len() == LINES {
                        tail.lines.pop_front();
                    }
                    tail.lines.push_back(line);
                }
            }
        }
        match &mut self.inner {
            Some(inner) => inner.write_all(buf).map(|()| buf.len()),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.inner {
            Some(inner) => inner.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_whole_and_bounded() {
        let tail = StderrTail::default();
        let mut writer = tail.writer(None);
        for i in 0..20 {
            writer.write_all(format!("line {i}").as_bytes()).unwrap();
            writer.write_all(b"\n").unwrap();
        }
        writer.write_all(&[b'x'; 2000]).unwrap();
        let text = tail.render();
        assert!(text.starts_with("  line 12\n"), "{text}");
        assert!(text.contains("  line 19\n"));
        assert!(!text.contains("line 11"));
        assert!(text.ends_with(&format!("  {}\n", "x".repeat(LINE_BYTES))));
    }

    #[test]
    fn passes_everything_on() {
        let seen = crate::protocol::hclog::testing::SharedBuf::default();
        let tail = StderrTail::default();
        let mut writer = tail.writer(Some(Box::new(seen.clone())));
        writer.write_all(b"a\nb").unwrap();
        assert_eq!(seen.take(), b"a\nb");
        assert_eq!(tail.render(), "  a\n  b\n");
    }
}
