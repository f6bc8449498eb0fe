//! Opening inputs: files, `-` for stdin, gzip detected by its magic bytes (so a rotated
//! `mail.log.2.gz` and a gzip without the suffix both read transparently), and UTF-16
//! (Microsoft 365 trace exports, with or without a BOM) decoded to UTF-8 just as
//! transparently.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

use flate2::read::MultiGzDecoder;

const BUF: usize = 256 * 1024;

/// A named input: what the user typed, for messages and `source` references.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
    /// Modification time of the file (unix seconds), for logs whose stamps have no year.
    pub mtime: Option<i64>,
    pub compressed: bool,
    /// The file itself when the input is a regular file: its start and its tail can be
    /// read again through it (`rewind`, `read_tail`) without opening the name again,
    /// which a rotation in between could point at another file.
    pub file: Option<File>,
    /// Its size then, for progress.
    pub len: Option<u64>,
    /// Standard input, a pipe (`<(zcat …)`), a FIFO or a socket: read once, in order;
    /// no size, no second look.
    pub stream: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{name}: {source}")]
    Open { name: String, source: io::Error },
    #[error("{name}: is a directory")]
    Directory { name: String },
    #[error(
        "{name}: is a device, not a file or a pipe (to read from it anyway: cat {name} | sendlog import -)"
    )]
    Device { name: String },
}

/// What kind of input a name is, from its metadata (a symlink is followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Directory,
    /// Standard input, a pipe, a FIFO or a socket.
    Stream,
    /// A character or block device (`/dev/zero`, a disk, a terminal).
    Device,
}

pub fn kind(name: &str) -> io::Result<Kind> {
    if name == "-" {
        return Ok(Kind::Stream);
    }
    let t = std::fs::metadata(name)?.file_type();
    if t.is_file() {
        return Ok(Kind::File);
    }
    if t.is_dir() {
        return Ok(Kind::Directory);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() || t.is_block_device() {
            return Ok(Kind::Device);
        }
    }
    Ok(Kind::Stream)
}

/// Opens `name` once: a regular file, `-` (stdin) or another stream. Devices are refused:
/// `/dev/zero` or a disk never ends.
pub fn open(name: &str) -> Result<Input, InputError> {
    let err = |source| InputError::Open {
        name: name.to_string(),
        source,
    };
    if name == "-" {
        let mut reader = BufReader::with_capacity(BUF, io::stdin());
        let gz = is_gzip(&mut reader).map_err(err)?;
        return Ok(wrap(name, reader, None, gz, None, None));
    }
    match kind(name).map_err(err)? {
        Kind::Directory => {
            return Err(InputError::Directory {
                name: name.to_string(),
            });
        }
        Kind::Device => {
            return Err(InputError::Device {
                name: name.to_string(),
            });
        }
        Kind::File | Kind::Stream => {}
    }
    let file = File::open(Path::new(name)).map_err(err)?;
    // The metadata of the file opened, not of whatever the name points at by now.
    let meta = file.metadata().map_err(err)?;
    if !meta.is_file() {
        let mut reader = BufReader::with_capacity(BUF, file);
        let gz = is_gzip(&mut reader).map_err(err)?;
        return Ok(wrap(name, reader, None, gz, None, None));
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    let kept = file.try_clone().map_err(err)?;
    let mut reader = BufReader::with_capacity(BUF, file);
    let gz = is_gzip(&mut reader).map_err(err)?;
    Ok(wrap(name, reader, mtime, gz, Some(kept), Some(meta.len())))
}

/// The content of an opened regular file from its start again (decompressed and decoded
/// as the first time). Reading it moves the one position the file's handles share, so
/// the reader handed out before must not be read any more.
pub fn rewind(file: &File) -> io::Result<Box<dyn BufRead + Send>> {
    let mut f = file.try_clone()?;
    f.seek(io::SeekFrom::Start(0))?;
    let mut reader = BufReader::with_capacity(BUF, f);
    let gz = is_gzip(&mut reader)?;
    Ok(wrap("", reader, None, gz, None, None).reader)
}

/// Up to `n` bytes at the end of a regular file of `len` bytes, read in place: the
/// position its reader is at stays where it is.
pub fn read_tail(file: &File, len: u64, n: u64) -> io::Result<Vec<u8>> {
    let start = len.saturating_sub(n);
    let mut tail = vec![0u8; (len - start) as usize];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut tail, start)?;
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        tail.clear();
    }
    Ok(tail)
}

fn wrap<R: Read + Send + 'static>(
    name: &str,
    reader: BufReader<R>,
    mtime: Option<i64>,
    gz: bool,
    file: Option<File>,
    len: Option<u64>,
) -> Input {
    let mut reader: Box<dyn BufRead + Send> = if gz {
        Box::new(BufReader::with_capacity(BUF, MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    if let Some(order) = reader.fill_buf().ok().and_then(utf16_order) {
        reader = Box::new(BufReader::with_capacity(
            BUF,
            Utf16Decoder::new(reader, order),
        ));
    }
    Input {
        name: name.to_string(),
        reader,
        mtime,
        compressed: gz,
        stream: file.is_none(),
        file,
        len,
    }
}

fn is_gzip<R: Read>(reader: &mut BufReader<R>) -> io::Result<bool> {
    let head = reader.fill_buf()?;
    Ok(head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

/// UTF-16 by its BOM, or (exports without one) by NULs in every other byte of
/// ASCII-heavy text. UTF-8 text never holds NUL bytes in those places.
pub fn utf16_order(head: &[u8]) -> Option<ByteOrder> {
    match head {
        [0xff, 0xfe, ..] => return Some(ByteOrder::Little),
        [0xfe, 0xff, ..] => return Some(ByteOrder::Big),
        _ => {}
    }
    let sample = &head[..head.len().min(512) & !1];
    if sample.len() < 8 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zero_at = |odd: usize| {
        sample
            .iter()
            .skip(odd)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even_zeros, odd_zeros) = (zero_at(0), zero_at(1));
    if odd_zeros * 10 >= pairs * 9 && even_zeros * 10 < pairs {
        Some(ByteOrder::Little)
    } else if even_zeros * 10 >= pairs * 9 && odd_zeros * 10 < pairs {
        Some(ByteOrder::Big)
    } else {
        None
    }
}

/// Decodes UTF-16 to UTF-8 as it reads; the BOM goes, unpaired surrogates become U+FFFD.
pub struct Utf16Decoder<R> {
    inner: R,
    order: ByteOrder,
    /// Undecoded input bytes (an odd byte or a high surrogate waiting for its pair).
    carry: Vec<u8>,
    /// Decoded UTF-8 not yet handed out.
    out: Vec<u8>,
    out_pos: usize,
    started: bool,
}

impl<R: Read> Utf16Decoder<R> {
    pub fn new(inner: R, order: ByteOrder) -> Self {
        Utf16Decoder {
            inner,
            order,
            carry: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            started: false,
        }
    }

    /// Decodes the next chunk into `out`; false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 16 * 1024];
        let n = loop {
            match self.inner.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.out.clear();
        self.out_pos = 0;
        if n == 0 {
            if self.carry.is_empty() {
                return Ok(false);
            }
            // A dangling odd byte or lone surrogate at the very end.
            self.carry.clear();
            self.out.extend_from_slice("\u{fffd}".as_bytes());
            return Ok(true);
        }
        self.carry.extend_from_slice(&buf[..n]);
        let whole = self.carry.len() & !1;
        let mut units: Vec<u16> = self.carry[..whole]
            .chunks_exact(2)
            .map(|p| match self.order {
                ByteOrder::Little => u16::from_le_bytes([p[0], p[1]]),
                ByteOrder::Big => u16::from_be_bytes([p[0], p[1]]),
            })
            .collect();
        // Keep a trailing high surrogate for the next chunk, where its pair is.
        let keep_from = if units.last().is_some_and(|u| (0xd800..0xdc00).contains(u)) {
            units.pop();
            whole - 2
        } else {
            whole
        };
        if !self.started {
            self.started = true;
            if units.first() == Some(&0xfeff) {
                units.remove(0);
            }
        }
        let mut tmp = [0u8; 4];
        for c in char::decode_utf16(units.iter().copied()) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out
                .extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        }
        self.carry.drain(..keep_from);
        Ok(true)
    }
}

impl<R: Read> Read for Utf16Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// Reads lines as bytes, so invalid UTF-8 or NUL bytes never stop an import. Lines longer
/// than `max_line` are cut (the rest is consumed and dropped) so a 10 MB junk line cannot
/// balloon memory; the caller learns the line was truncated.
pub struct LineReader<R> {
    inner: R,
    pub max_line: usize,
    /// Bytes consumed so far, including newlines.
    pub offset: u64,
    pub line_no: u64,
    /// The last line returned straight from the buffer: consumed at the next call.
    unconsumed: usize,
}

/// `fill_buf`, tried again when a signal interrupted it.
fn fill_buf_retrying<R: BufRead>(inner: &mut R) -> io::Result<&[u8]> {
    loop {
        match inner.fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    // Filled: asked again, it hands over the same bytes without reading.
    inner.fill_buf()
}

pub struct Line<'a> {
    pub bytes: &'a [u8],
    pub truncated: bool,
    /// Whether the line ended with a newline (the last line of a file being written may not).
    pub complete: bool,
    /// Its number (1-based, counting from where the reader started) and the offset of the
    /// byte after it: the line borrows the reader, so they travel with it.
    pub number: u64,
    pub end: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            max_line: 64 * 1024,
            offset: 0,
            line_no: 0,
            unconsumed: 0,
        }
    }

    /// The next line without its `\n` (and `\r`), or `None` at the end. A line whole in
    /// the read buffer is lent from it; one that spans two reads, or is cut, is gathered
    /// in `buf`. (Copying every line cost the parsing thread about 3 % of its time.)
    pub fn next_line<'b>(&'b mut self, buf: &'b mut Vec<u8>) -> io::Result<Option<Line<'b>>> {
        self.inner.consume(std::mem::take(&mut self.unconsumed));
        let newline = memchr::memchr(b'\n', fill_buf_retrying(&mut self.inner)?);
        if let Some(i) = newline
            && i <= self.max_line
        {
            self.unconsumed = i + 1;
            self.offset += (i + 1) as u64;
            self.line_no += 1;
            // The buffer again, as it was: nothing was consumed, so no read happens.
            let line = &self.inner.fill_buf()?[..i];
            return Ok(Some(Line {
                bytes: line.strip_suffix(b"\r").unwrap_or(line),
                truncated: false,
                complete: true,
                number: self.line_no,
                end: self.offset,
            }));
        }
        buf.clear();
        let mut truncated = false;
        let mut complete = false;
        let mut read_any = false;
        loop {
            let available = fill_buf_retrying(&mut self.inner)?;
            if available.is_empty() {
                break;
            }
            read_any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            let room = self.max_line.saturating_sub(buf.len());
            if chunk.len() > room {
                truncated = true;
            }
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.inner.consume(used);
            self.offset += used as u64;
            if done {
                complete = true;
                break;
            }
        }
        if !read_any {
            return Ok(None);
        }
        self.line_no += 1;
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(Line {
            bytes: buf,
            truncated,
            complete,
            number: self.line_no,
            end: self.offset,
        }))
    }

    pub fn into_inner(mut self) -> R {
        self.inner.consume(self.unconsumed);
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Trickle<R>(R);
    impl<R: Read> Read for Trickle<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn utf16_with_and_without_bom_reads_as_utf8() {
        let text = "date,Sender\r\n1,é😀\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut with_bom = vec![0xff, 0xfe];
        with_bom.extend_from_slice(&le);
        for bytes in [with_bom, le] {
            let order = utf16_order(&bytes).expect("UTF-16LE");
            assert_eq!(order, ByteOrder::Little);
            // Three bytes per read split surrogate pairs and code units across reads.
            let inner = Trickle(io::Cursor::new(bytes));
            let mut out = String::new();
            Utf16Decoder::new(inner, order)
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, text);
        }
        assert_eq!(utf16_order(b"2016-12-18 18:51:43 exim daemon"), None);
    }

    #[test]
    fn lines_with_crlf_invalid_utf8_and_overlong_content() {
        let data = b"one\r\ntwo \xff\xfe\nthree-is-long\nlast".to_vec();
        let mut r = LineReader::new(io::Cursor::new(data));
        r.max_line = 8;
        let mut buf = Vec::new();
        let l = r.next_line(&mut buf).unwrap().unwrap();
        assert_eq!(l.bytes, b"one");
        let l = r.next_line(&mut buf).unwrap().unwrap();
        assert_eq!(l.bytes, b"two \xff\xfe");
        let l = r.next_line(&mut buf).unwrap().unwrap();
        assert!(l.truncated);
        assert_eq!(l.bytes, b"three-is");
        let l = r.next_line(&mut buf).unwrap().unwrap();
        assert!(!l.complete);
        assert_eq!(l.bytes, b"last");
        assert!(r.next_line(&mut buf).unwrap().is_none());
        assert_eq!(r.line_no, 4);
    }

    /// Lines lent from the read buffer and lines gathered across refills read the same,
    /// with the same numbers and offsets, whatever the buffer's size.
    #[test]
    fn lines_read_alike_whole_in_the_buffer_or_across_refills() {
        let data = b"alpha\r\nbeta\n\ngamma-delta-epsilon\nz\nomega".to_vec();
        let read_all = |capacity: usize| {
            let mut r = LineReader::new(io::BufReader::with_capacity(
                capacity,
                io::Cursor::new(&data),
            ));
            let mut buf = Vec::new();
            let mut lines = Vec::new();
            while let Some(l) = r.next_line(&mut buf).unwrap() {
                lines.push((l.bytes.to_vec(), l.complete, l.number, l.end));
            }
            (lines, r.offset)
        };
        let whole = read_all(1024);
        assert_eq!(whole.0.len(), 6);
        assert_eq!(whole.0[0], (b"alpha".to_vec(), true, 1, 7));
        assert_eq!(whole.0[5], (b"omega".to_vec(), false, 6, data.len() as u64));
        assert_eq!(whole.1, data.len() as u64);
        for capacity in [1, 2, 3, 5, 8, 13] {
            assert_eq!(read_all(capacity), whole, "buffer of {capacity}");
        }
    }
}
