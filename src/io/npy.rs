//! `.npy` output (NumPy format 1.0): little-endian float32, C order.
//!
//! Rows are streamed to a temporary name beside the target ([`Staged`]); the caller
//! renames it with the run's other outputs, so a failed run never leaves a partial file.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::atomic::Staged;

/// The 1.0 header for a float32 C-order array of `shape`, padded to 64 bytes.
pub fn header(shape: &[usize]) -> Vec<u8> {
    header_padded(shape, 0)
}

/// [`header`], padded with spaces to at least `min_len` bytes (still a multiple of 64),
/// so that a header written before the row count is known can be rewritten in place.
pub fn header_padded(shape: &[usize], min_len: usize) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_str = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_str}, }}");
    let unpadded = 10 + dict.len() + 1;
    let pad = unpadded.max(min_len).div_ceil(64) * 64 - unpadded;
    let header_len = dict.len() + pad + 1;
    let mut out = Vec::with_capacity(10 + header_len);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out
}

/// A `rows × cols` float32 array written row block by row block into a
/// [`Staged`] file: nothing appears at the target until the caller commits what
/// [`NpyWriter::finish`] returns, and dropping either removes the temporary file.
/// The row count may be unknown or wrong when the header is first written (a stream, a
/// header that lies): the header has room for any count and is rewritten at the end.
///
/// Thread: whoever owns it (the offline writer thread).
pub struct NpyWriter {
    path: PathBuf,
    out: BufWriter<Staged>,
    rows: usize,
    cols: usize,
    header_len: usize,
    /// Values the caller said it would write (`None`: whatever it writes).
    expected: Option<usize>,
    written: usize,
}

impl NpyWriter {
    /// Creates the temporary file beside `path` and writes the header for `rows` rows
    /// (`None`: not known yet).
    ///
    /// # Errors
    /// The directory is missing or not writable.
    pub fn create(path: &Path, rows: Option<usize>, cols: usize) -> Result<Self> {
        let staged = Staged::create(path)?;
        // Room for the widest row count, so that the header can be rewritten in place.
        let room = header(&[usize::MAX, cols]).len();
        let header = header_padded(&[rows.unwrap_or(0), cols], room);
        let bytes = header.len()
            + rows
                .unwrap_or(1 << 20)
                .saturating_mul(cols)
                .saturating_mul(4);
        let mut w = NpyWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(bytes.min(1 << 20), staged),
            rows: rows.unwrap_or(0),
            cols,
            header_len: header.len(),
            expected: rows.map(|r| r * cols),
            written: 0,
        };
        w.out.write_all(&header).map_err(|e| w.error(e))?;
        Ok(w)
    }

    fn error(&self, source: std::io::Error) -> Error {
        Error::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends values (whole rows, in order).
    ///
    /// # Errors
    /// Any I/O failure.
    pub fn write(&mut self, values: &[f32]) -> Result<()> {
        #[cfg(target_endian = "little")]
        let r = self.out.write_all(bytemuck::cast_slice(values));
        #[cfg(not(target_endian = "little"))]
        let r = values
            .iter()
            .try_for_each(|v| self.out.write_all(&v.to_le_bytes()));
        r.map_err(|e| self.error(e))?;
        self.written += values.len();
        Ok(())
    }

    /// Rows written so far.
    pub fn rows_written(&self) -> usize {
        self.written / self.cols.max(1)
    }

    /// Flushes the file, rewrites its header if the row count differs from the one first
    /// written, and returns it, complete but still under its temporary name.
    ///
    /// # Errors
    /// Fewer values than announced to [`NpyWriter::create`], values that are not whole
    /// rows, or an I/O failure.
    pub fn finish(self) -> Result<Staged> {
        let whole = self.cols > 0 && self.written % self.cols == 0;
        if self.expected.is_some_and(|e| e != self.written) || !whole {
            let e = std::io::Error::other(format!(
                "internal: wrote {} values, expected {:?} in rows of {}",
                self.written, self.expected, self.cols
            ));
            return Err(self.error(e));
        }
        let rows = self.written / self.cols;
        let (path, header_len, cols, first_rows) =
            (self.path.clone(), self.header_len, self.cols, self.rows);
        let mut staged = self.out.into_inner().map_err(|e| Error::Write {
            path: path.clone(),
            source: e.into_error(),
        })?;
        if rows != first_rows {
            let header = header_padded(&[rows, cols], header_len);
            debug_assert_eq!(header.len(), header_len, "the header was given room");
            use std::io::{Seek, SeekFrom};
            let file = staged.file_mut();
            file.seek(SeekFrom::Start(0))
                .and_then(|_| file.write_all(&header))
                .map_err(|source| Error::Write { path, source })?;
        }
        Ok(staged)
    }
}
