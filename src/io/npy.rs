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
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_str = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_str}, }}");
    let unpadded = 10 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
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
///
/// Thread: whoever owns it (the offline writer thread).
pub struct NpyWriter {
    path: PathBuf,
    out: BufWriter<Staged>,
    expected: usize,
    written: usize,
}

impl NpyWriter {
    /// Creates the temporary file beside `path` and writes the header.
    ///
    /// # Errors
    /// The directory is missing or not writable.
    pub fn create(path: &Path, rows: usize, cols: usize) -> Result<Self> {
        let staged = Staged::create(path)?;
        let header = header(&[rows, cols]);
        let bytes = header.len() + rows.saturating_mul(cols).saturating_mul(4);
        let mut w = NpyWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(bytes.min(1 << 20), staged),
            expected: rows * cols,
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

    /// Flushes the file and returns it, complete but still under its temporary name.
    ///
    /// # Errors
    /// Fewer values than announced, or an I/O failure.
    pub fn finish(self) -> Result<Staged> {
        if self.written != self.expected {
            let e = std::io::Error::other(format!(
                "internal: wrote {} of {} values",
                self.written, self.expected
            ));
            return Err(self.error(e));
        }
        let path = self.path;
        self.out.into_inner().map_err(|e| Error::Write {
            path,
            source: e.into_error(),
        })
    }
}
