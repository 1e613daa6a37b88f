//! Serving gRPC clients that send a Unix socket's path as the HTTP/2 `:authority`.
//!
//! grpc-core (Python grpcio, Ruby, C++, C#), grpc-java and grpcurl put the socket path (or a
//! percent-encoded form of it) in `:authority`. The `h2` server under tonic rejects a request
//! whose authority does not parse as a URI authority with `RST_STREAM` `PROTOCOL_ERROR`
//! (hyperium/h2#487), while grpc-go, and so every Go plugin, serves it. The plugin's server reads
//! each connection through [`Inbound`]: every frame passes through untouched except a header
//! block whose `:authority` h2 cannot parse. Header blocks are walked representation by
//! representation (lengths only: no string is decoded but an authority's), and a literal
//! `:authority` that is not a URI authority gets `localhost` as its value, in the same
//! representation. The client's HPACK dynamic table and h2's stay in step: every other
//! representation reaches h2 as the client sent it, and a replaced entry is never larger than
//! the client's, so h2 evicts no entry the client still refers to (and a later indexed
//! reference to it gives h2 `localhost`). Large `DATA` frames are read straight into the
//! caller's buffer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, ReadBuf};

/// The client connection preface, passed through.
const PREFACE_LEN: usize = 24;
const FRAME_HEADER_LEN: usize = 9;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;
/// Rewritten header blocks go out in frames no larger than every HTTP/2 peer accepts.
const MAX_FRAME: usize = 16_384;
/// A header block larger than this ends the connection (h2's own limit is 16 KiB of decoded
/// headers by default; this only bounds what is buffered before h2 sees it).
const MAX_BLOCK: usize = 1 << 20;
/// What replaces an authority h2 cannot parse.
const LOCALHOST: &[u8] = b"localhost";

/// The inbound half of one server connection, rewriting header blocks on the way to h2.
pub(crate) struct Inbound {
    state: State,
    /// Read from the socket but not yet looked at.
    input: Vec<u8>,
    input_at: usize,
    /// Ready for h2: frame headers passed through and rewritten header blocks.
    output: Vec<u8>,
    output_at: usize,
    /// The frame header being collected.
    header: [u8; FRAME_HEADER_LEN],
    header_len: usize,
    /// The payload of the HEADERS or CONTINUATION frame being collected.
    payload: Vec<u8>,
    /// The header block being collected across HEADERS and CONTINUATION frames.
    block: Option<Block>,
    fragments: Vec<u8>,
    /// The block's frames as the client sent them, passed on when nothing is replaced.
    raw: Vec<u8>,
    /// The block with its authority replaced, kept for its capacity.
    encoded: Vec<u8>,
    /// Built the first time an authority is Huffman-coded.
    huffman: Option<loona_hpack::huffman::HuffmanDecoder>,
    scratch: Box<[u8]>,
    /// An error found after bytes were already handed over in the same read: reported by the
    /// next one, so that those bytes reach h2 (a read that fails must hand over nothing).
    failed: Option<io::Error>,
}

/// A header block in progress: what its HEADERS frame said.
struct Block {
    stream: u32,
    end_stream: bool,
    priority: Option<[u8; 5]>,
}

#[derive(Clone, Copy)]
enum State {
    /// Passing through the connection preface, or a frame's payload: this many bytes are left.
    Pass(usize),
    /// Collecting a frame header.
    Header,
    /// Collecting a HEADERS or CONTINUATION payload of this many bytes (flags kept).
    Payload {
        kind: u8,
        flags: u8,
        stream: u32,
        len: usize,
    },
}

impl Default for Inbound {
    fn default() -> Self {
        Inbound {
            state: State::Pass(PREFACE_LEN),
            input: Vec::new(),
            input_at: 0,
            output: Vec::new(),
            output_at: 0,
            header: [0; FRAME_HEADER_LEN],
            header_len: 0,
            payload: Vec::new(),
            block: None,
            fragments: Vec::new(),
            raw: Vec::new(),
            encoded: Vec::new(),
            huffman: None,
            scratch: vec![0; MAX_FRAME].into_boxed_slice(),
            failed: None,
        }
    }
}

impl Inbound {
    /// Reads from `io` into `buf` what h2 should see.
    pub(crate) fn poll_read<R: AsyncRead + ?Sized>(
        &mut self,
        mut io: Pin<&mut R>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(err) = self.failed.take() {
            return Poll::Ready(Err(err));
        }
        let delivered_before = buf.filled().len();
        loop {
            if self.output_at < self.output.len() {
                let ready = &self.output[self.output_at..];
                let n = ready.len().min(buf.remaining());
                buf.put_slice(&ready[..n]);
                self.output_at += n;
                if self.output_at < self.output.len() {
                    return Poll::Ready(Ok(()));
                }
                self.output.clear();
                self.output_at = 0;
            }
            if buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            if self.input_at < self.input.len() {
                if let Err(err) = self.process(buf) {
                    if buf.filled().len() == delivered_before {
                        return Poll::Ready(Err(err));
                    }
                    self.failed = Some(err);
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            if buf.filled().len() > delivered_before {
                return Poll::Ready(Ok(()));
            }
            self.input.clear();
            self.input_at = 0;
            if let State::Pass(left) = self.state
                && left > 0
            {
                // Straight into the caller's buffer. (Passing, no header block is open.)
                let start = buf.filled().len();
                ready!(io.as_mut().poll_read(cx, buf))?;
                let n = buf.filled().len() - start;
                self.passed(n.min(left));
                if n > left {
                    // The read goes on past the payload, at a frame boundary.
                    self.keep_whole_frames(buf, start + left);
                }
                return Poll::Ready(Ok(()));
            }
            if matches!(self.state, State::Header) && self.header_len == 0 && self.block.is_none() {
                // At a frame boundary: read straight into the caller's buffer.
                let start = buf.filled().len();
                ready!(io.as_mut().poll_read(cx, buf))?;
                if buf.filled().len() == start {
                    return Poll::Ready(Ok(()));
                }
                self.keep_whole_frames(buf, start);
                if buf.filled().len() > start {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            let mut scratch = ReadBuf::new(&mut self.scratch);
            ready!(io.as_mut().poll_read(cx, &mut scratch))?;
            if scratch.filled().is_empty() {
                // End of stream: h2 sees it as such (mid-frame, it reports the truncation).
                return Poll::Ready(Ok(()));
            }
            self.input.extend_from_slice(scratch.filled());
        }
    }

    /// Hands on, where they were read, the frames in `buf` from `from` (a frame boundary, with no
    /// header block open) that are not header blocks: a frame whose payload goes on past the read
    /// is passed through as it comes. A header block (or a frame header cut short) and what
    /// follows it are taken back to be processed. A stream of `DATA` frames is never copied.
    fn keep_whole_frames(&mut self, buf: &mut ReadBuf<'_>, from: usize) {
        let read = &buf.filled()[from..];
        let mut at = 0;
        while at < read.len() {
            let Some(header) = read.get(at..at + FRAME_HEADER_LEN) else {
                break;
            };
            if matches!(header[3], HEADERS | CONTINUATION) {
                break;
            }
            let end = at + FRAME_HEADER_LEN + payload_len(header);
            if end > read.len() {
                self.state = State::Pass(end - read.len());
                at = read.len();
                break;
            }
            at = end;
        }
        if at < read.len() {
            self.input.extend_from_slice(&read[at..]);
            buf.set_filled(from + at);
        }
    }

    /// `n` more bytes of the payload being passed through have gone to the caller.
    fn passed(&mut self, n: usize) {
        if let State::Pass(left) = self.state {
            self.state = if n >= left {
                State::Header
            } else {
                State::Pass(left - n)
            };
        }
    }

    /// Consumes buffered input: gives payload bytes straight to the caller, collects frame
    /// headers and header blocks.
    fn process(&mut self, buf: &mut ReadBuf<'_>) -> io::Result<()> {
        let input = &self.input[self.input_at..];
        match self.state {
            State::Pass(left) => {
                let n = left.min(input.len()).min(buf.remaining());
                buf.put_slice(&input[..n]);
                self.input_at += n;
                self.passed(n);
            }
            State::Header => {
                let n = (FRAME_HEADER_LEN - self.header_len).min(input.len());
                self.header[self.header_len..self.header_len + n].copy_from_slice(&input[..n]);
                self.header_len += n;
                self.input_at += n;
                if self.header_len == FRAME_HEADER_LEN {
                    self.header_len = 0;
                    self.frame_started()?;
                }
            }
            State::Payload { len, .. } => {
                let n = (len - self.payload.len()).min(input.len());
                self.payload.extend_from_slice(&input[..n]);
                self.input_at += n;
                if self.payload.len() == len {
                    self.payload_done()?;
                }
            }
        }
        Ok(())
    }

    /// A frame header is complete: header blocks are collected, everything else passes.
    fn frame_started(&mut self) -> io::Result<()> {
        let header = self.header;
        let len = payload_len(&header);
        let (kind, flags) = (header[3], header[4]);
        let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
        let collecting = self.block.is_some();
        if kind == HEADERS || (kind == CONTINUATION && collecting) {
            if kind == HEADERS && collecting {
                return Err(protocol("a HEADERS frame inside another header block"));
            }
            if self.fragments.len() + len > MAX_BLOCK {
                return Err(protocol("a header block larger than 1 MiB"));
            }
            if kind == HEADERS {
                self.raw.clear();
            }
            self.raw.extend_from_slice(&header);
            self.payload.clear();
            self.state = State::Payload {
                kind,
                flags,
                stream,
                len,
            };
            if len == 0 {
                self.payload_done()?;
            }
            return Ok(());
        }
        if collecting {
            return Err(protocol("a header block interrupted by another frame"));
        }
        self.output.extend_from_slice(&header);
        self.state = if len == 0 {
            State::Header
        } else {
            State::Pass(len)
        };
        Ok(())
    }

    /// A HEADERS or CONTINUATION payload is complete.
    fn payload_done(&mut self) -> io::Result<()> {
        let State::Payload {
            kind,
            flags,
            stream,
            ..
        } = self.state
        else {
            return Ok(());
        };
        self.state = State::Header;
        self.raw.extend_from_slice(&self.payload);
        let payload = &self.payload[..];
        if kind == HEADERS {
            let mut fragment = payload;
            if flags & PADDED != 0 {
                let (&pad, rest) = fragment
                    .split_first()
                    .ok_or_else(|| protocol("a padded HEADERS frame without its pad length"))?;
                let keep = rest
                    .len()
                    .checked_sub(usize::from(pad))
                    .ok_or_else(|| protocol("HEADERS padding longer than the frame"))?;
                fragment = &rest[..keep];
            }
            let priority = if flags & PRIORITY != 0 {
                let (priority, rest) = fragment
                    .split_first_chunk::<5>()
                    .ok_or_else(|| protocol("a HEADERS frame too short for its priority"))?;
                fragment = rest;
                Some(*priority)
            } else {
                None
            };
            self.block = Some(Block {
                stream,
                end_stream: flags & END_STREAM != 0,
                priority,
            });
            self.fragments.clear();
            self.fragments.extend_from_slice(fragment);
        } else {
            self.fragments.extend_from_slice(payload);
        }
        if flags & END_HEADERS != 0 {
            self.block_done()?;
        }
        Ok(())
    }

    /// A whole header block: passed on as it came, or reframed with its authority replaced.
    fn block_done(&mut self) -> io::Result<()> {
        let Some(block) = self.block.take() else {
            return Ok(());
        };
        self.encoded.clear();
        if !replace_authority(&self.fragments, &mut self.encoded, &mut self.huffman)? {
            self.output.extend_from_slice(&self.raw);
            return Ok(());
        }
        let encoded = &self.encoded;
        let priority_len = if block.priority.is_some() { 5 } else { 0 };
        let first_len = encoded.len().min(MAX_FRAME - priority_len);
        let (first, rest) = encoded.split_at(first_len);
        let mut flags = if block.end_stream { END_STREAM } else { 0 };
        if rest.is_empty() {
            flags |= END_HEADERS;
        }
        if block.priority.is_some() {
            flags |= PRIORITY;
        }
        frame_header(
            &mut self.output,
            first.len() + priority_len,
            HEADERS,
            flags,
            block.stream,
        );
        if let Some(priority) = block.priority {
            self.output.extend_from_slice(&priority);
        }
        self.output.extend_from_slice(first);
        let mut chunks = rest.chunks(MAX_FRAME).peekable();
        while let Some(chunk) = chunks.next() {
            let flags = if chunks.peek().is_none() {
                END_HEADERS
            } else {
                0
            };
            frame_header(
                &mut self.output,
                chunk.len(),
                CONTINUATION,
                flags,
                block.stream,
            );
            self.output.extend_from_slice(chunk);
        }
        Ok(())
    }
}

/// Copies the header block `block` into `out` with each literal `:authority` that h2 cannot
/// parse given the value `localhost`; `false` (and `out` unfinished) when there is none.
fn replace_authority(
    block: &[u8],
    out: &mut Vec<u8>,
    huffman: &mut Option<loona_hpack::huffman::HuffmanDecoder>,
) -> io::Result<bool> {
    /// `:authority` in the HPACK static table.
    const AUTHORITY_INDEX: usize = 1;
    let mut at = 0;
    let mut copied = 0;
    let mut replaced = false;
    while at < block.len() {
        let first = block[at];
        let prefix = match first {
            0x80..=0xff => {
                // Indexed: a reference to a whole entry.
                at = integer_end(block, at, 7)?;
                continue;
            }
            0x40..=0x7f => 6,
            0x20..=0x3f => {
                // Dynamic table size update.
                at = integer_end(block, at, 5)?;
                continue;
            }
            _ => 4,
        };
        let (index, mut next) = read_integer(block, at, prefix)?;
        let is_authority = if index == 0 {
            let (name, end) = read_string(block, next)?;
            next = end;
            string_is(name, b":authority", huffman)?
        } else {
            index == AUTHORITY_INDEX
        };
        let value_start = next;
        let (value, value_end) = read_string(block, value_start)?;
        if is_authority && !valid_authority(&string_value(value, huffman)?) {
            out.extend_from_slice(&block[copied..value_start]);
            integer(out, LOCALHOST.len());
            out.extend_from_slice(LOCALHOST);
            copied = value_end;
            replaced = true;
        }
        at = value_end;
    }
    if replaced {
        out.extend_from_slice(&block[copied..]);
    }
    Ok(replaced)
}

/// A string literal of a header block: whether it is Huffman-coded, and its bytes.
struct HpackString<'a> {
    huffman: bool,
    bytes: &'a [u8],
}

fn read_string(block: &[u8], at: usize) -> io::Result<(HpackString<'_>, usize)> {
    let huffman = block
        .get(at)
        .ok_or_else(|| protocol("a header block cut inside a literal"))?
        & 0x80
        != 0;
    let (len, start) = read_integer(block, at, 7)?;
    let end = start
        .checked_add(len)
        .filter(|&end| end <= block.len())
        .ok_or_else(|| protocol("a header string longer than its block"))?;
    Ok((
        HpackString {
            huffman,
            bytes: &block[start..end],
        },
        end,
    ))
}

fn string_value<'a>(
    string: HpackString<'a>,
    huffman: &mut Option<loona_hpack::huffman::HuffmanDecoder>,
) -> io::Result<std::borrow::Cow<'a, [u8]>> {
    if !string.huffman {
        return Ok(std::borrow::Cow::Borrowed(string.bytes));
    }
    huffman
        .get_or_insert_with(loona_hpack::huffman::HuffmanDecoder::new)
        .decode(string.bytes)
        .map(std::borrow::Cow::Owned)
        .map_err(|err| {
            protocol(&format!(
                "a Huffman-coded header that does not decode: {err:?}"
            ))
        })
}

fn string_is(
    string: HpackString<'_>,
    expected: &[u8],
    huffman: &mut Option<loona_hpack::huffman::HuffmanDecoder>,
) -> io::Result<bool> {
    // A Huffman code is never longer than the text: only a plausible one is decoded.
    if !string.huffman {
        return Ok(string.bytes == expected);
    }
    if string.bytes.len() > expected.len() {
        return Ok(false);
    }
    Ok(*string_value(string, huffman)? == *expected)
}

/// An HPACK integer with an `prefix`-bit prefix at `at`: its value and where it ends.
fn read_integer(block: &[u8], at: usize, prefix: u8) -> io::Result<(usize, usize)> {
    let cut = || protocol("a header block cut inside an integer");
    let max = (1usize << prefix) - 1;
    let mut value = usize::from(*block.get(at).ok_or_else(cut)?) & max;
    let mut at = at + 1;
    if value < max {
        return Ok((value, at));
    }
    let mut shift = 0u32;
    loop {
        let byte = *block.get(at).ok_or_else(cut)?;
        at += 1;
        let part = usize::from(byte & 0x7f)
            .checked_shl(shift)
            .filter(|_| shift <= 28)
            .ok_or_else(|| protocol("an HPACK integer too large"))?;
        value = value
            .checked_add(part)
            .ok_or_else(|| protocol("an HPACK integer too large"))?;
        if byte & 0x80 == 0 {
            return Ok((value, at));
        }
        shift += 7;
    }
}

fn integer_end(block: &[u8], at: usize, prefix: u8) -> io::Result<usize> {
    read_integer(block, at, prefix).map(|(_, end)| end)
}

/// Whether h2 accepts `value` as an `:authority`.
fn valid_authority(value: &[u8]) -> bool {
    http::uri::Authority::try_from(value).is_ok()
}

/// An HPACK integer with a 7-bit prefix (the Huffman bit clear).
fn integer(out: &mut Vec<u8>, mut value: usize) {
    const PREFIX: usize = 0x7f;
    if value < PREFIX {
        out.push(value as u8);
        return;
    }
    out.push(PREFIX as u8);
    value -= PREFIX;
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The payload length a frame header (at least its first 3 bytes) gives, a 24-bit integer.
fn payload_len(header: &[u8]) -> usize {
    usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2])
}

fn frame_header(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    let len = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    out.extend_from_slice(&len[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
}

fn protocol(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("HTTP/2 protocol error from the client: {what}"),
    )
}

/// Runs `bytes`, the client's side of a whole connection, through a fresh [`Inbound`] in reads of
/// at most `step` bytes (a socket handing them out that way), and returns what h2 would read, or
/// the error that ends the connection. For fuzzing, through `inspect`.
#[cfg(feature = "unstable-inspect")]
pub(crate) fn rewrite_connection(bytes: &[u8], step: usize) -> io::Result<Vec<u8>> {
    /// Hands out its bytes at most `step` at a time, always ready.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl AsyncRead for Trickle<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = self.step.max(1).min(buf.remaining()).min(self.bytes.len());
            let (now, later) = self.bytes.split_at(n);
            buf.put_slice(now);
            self.bytes = later;
            Poll::Ready(Ok(()))
        }
    }

    let mut io = Trickle { bytes, step };
    let mut inbound = Inbound::default();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut out = Vec::new();
    let mut chunk = vec![0; 64 << 10];
    loop {
        let mut buf = ReadBuf::new(&mut chunk);
        match inbound.poll_read(Pin::new(&mut io), &mut cx, &mut buf) {
            Poll::Ready(Ok(())) if buf.filled().is_empty() => return Ok(out),
            Poll::Ready(Ok(())) => out.extend_from_slice(buf.filled()),
            Poll::Ready(Err(err)) => return Err(err),
            // The source is always ready: the rewriter has nothing to wait for.
            Poll::Pending => {
                return Err(io::Error::other("the rewriter waited on a ready source"));
            }
        }
    }
}

#[cfg(test)]
mod tests;
