//! Host side: reading plugin stderr and re-emitting it, line by line, as `tracing` events.

use std::io::Write;

use tokio::io::{AsyncRead, AsyncReadExt};
use tracing::Level;

use crate::protocol::hclog::{Record, StderrParser};

/// The target of the events [`mirror_stderr`] emits; filter on it with
/// `RUST_LOG=go_plugin::plugin=info`.
pub(crate) const TARGET: &str = "go_plugin::plugin";

/// go-plugin's `PluginLogBufferSize` default: lines longer than this arrive in pieces.
pub(crate) const DEFAULT_BUFFER: usize = 64 * 1024;

/// Go's `bufio` never uses a smaller buffer.
const MIN_BUFFER: usize = 16;

/// Splits a byte stream into lines as Go's `bufio.Reader.ReadLine` does with a buffer of a given
/// size: `\n` or `\r\n` ends a line and is removed; a line that does not fit in the buffer comes
/// out in buffer-sized pieces marked as prefixes, the last piece unmarked.
pub(crate) struct LineReader<R> {
    reader: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    /// A read error, reported after the bytes read before it.
    error: Option<std::io::Error>,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub(crate) fn new(reader: R, buffer: usize) -> Self {
        LineReader {
            reader,
            buf: vec![0; buffer.max(MIN_BUFFER)].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            error: None,
        }
    }

    /// The next line or piece of a line and whether it is a prefix (more of the same line
    /// follows); `None` at the end of the stream.
    pub(crate) async fn next_line(&mut self) -> std::io::Result<Option<(&[u8], bool)>> {
        loop {
            let pending = self.start..self.end;
            if let Some(at) = self.buf[pending.clone()].iter().position(|&b| b == b'\n') {
                let mut line_end = pending.start + at;
                self.start = line_end + 1;
                if line_end > pending.start && self.buf[line_end - 1] == b'\r' {
                    line_end -= 1;
                }
                return Ok(Some((&self.buf[pending.start..line_end], false)));
            }
            if pending.len() == self.buf.len() {
                // A full buffer without a line end. Keep a final `\r` for the next piece, in case
                // it is half of a `\r\n`.
                let mut piece_end = pending.end;
                if self.buf[piece_end - 1] == b'\r' {
                    piece_end -= 1;
                }
                self.start = piece_end;
                return Ok(Some((&self.buf[pending.start..piece_end], true)));
            }
            if self.eof || self.error.is_some() {
                if pending.is_empty() {
                    return match self.error.take() {
                        Some(err) => Err(err),
                        None => Ok(None),
                    };
                }
                // The last line had no line end; it is returned as it is.
                self.start = pending.end;
                return Ok(Some((&self.buf[pending], false)));
            }
            self.buf.copy_within(pending.clone(), 0);
            self.start = 0;
            self.end = pending.len();
            match self.reader.read(&mut self.buf[self.end..]).await {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => self.error = Some(err),
            }
        }
    }
}

/// Reads a plugin's stderr until it closes, as go-plugin's `logStderr` does.
///
/// Every line is first copied to `raw_sink` (with `\n` as its line end), whatever its content.
/// Then it becomes a `tracing` event with target [`TARGET`] at the level [`StderrParser`] gives
/// it. Each event carries:
///
/// - the message (`@message` of an hclog line, otherwise the line itself);
/// - `plugin`: `plugin_name`, which should be the executable's file name as go-plugin's logger
///   name is;
/// - `fields`: the other keys of an hclog line in hclog's text style, `key=value key2="a b"`
///   (`tracing` cannot take field names decided at run time, so they are rendered into one
///   string); absent when there are none;
/// - `timestamp`: the plugin's `@timestamp`, as a Go host shows it, for hclog lines.
///
/// Lines longer than `buffer` bytes are logged in pieces at DEBUG, unparsed. Writes to
/// `raw_sink` are best effort and block the task briefly, as go-plugin's `io.Writer` does.
pub(crate) async fn mirror_stderr<R>(
    reader: R,
    plugin_name: String,
    mut raw_sink: Option<Box<dyn Write + Send>>,
    buffer: usize,
) where
    R: AsyncRead + Unpin,
{
    let mut lines = LineReader::new(reader, buffer);
    let mut parser = StderrParser::new();
    let mut continuation = false;
    loop {
        let (line, is_prefix) = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(err) => {
                tracing::error!(target: TARGET, plugin = plugin_name.as_str(), error = %err, "reading plugin stderr");
                return;
            }
        };
        let ends_line = !is_prefix;
        if let Some(sink) = raw_sink.as_mut() {
            let _ = sink.write_all(line);
            if ends_line {
                let _ = sink.write_all(b"\n");
                let _ = sink.flush();
            }
        }

        if is_prefix || continuation {
            continuation = is_prefix;
            emit(&Record::fragment(line), &plugin_name);
            continue;
        }
        // Like go-plugin with its logger off: nothing would be shown, so skip the parsing.
        if !tracing::enabled!(target: TARGET, Level::ERROR) {
            continue;
        }
        emit(&parser.parse(line), &plugin_name);
    }
}

fn emit(record: &Record, plugin: &str) {
    let fields = record.rendered_fields();
    let fields = fields.as_deref();
    let timestamp = record.timestamp.as_deref();
    let message = record.message.as_str();
    // A callsite's level is fixed at compile time, hence one per level.
    macro_rules! event_at {
        ($level:expr) => {
            tracing::event!(target: TARGET, $level, plugin, fields, timestamp, "{message}")
        };
    }
    match record.level {
        Level::TRACE => event_at!(Level::TRACE),
        Level::DEBUG => event_at!(Level::DEBUG),
        Level::INFO => event_at!(Level::INFO),
        Level::WARN => event_at!(Level::WARN),
        Level::ERROR => event_at!(Level::ERROR),
    }
}
