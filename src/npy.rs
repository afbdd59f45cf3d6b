//! `.npy` output (NumPy format 1.0): little-endian float32, C order.
//!
//! Rows are streamed to a temporary name beside the target and renamed when the last
//! row is written, so a failed run never leaves a partial output file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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

/// A `rows × cols` float32 array written row block by row block.
///
/// Thread: whoever owns it (the offline writer thread). Dropping it unfinished
/// removes the temporary file.
pub struct NpyWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    expected: usize,
    written: usize,
    renamed: bool,
}

impl NpyWriter {
    /// Creates the temporary file and writes the header.
    ///
    /// # Errors
    /// The directory is missing or not writable.
    pub fn create(path: &Path, rows: usize, cols: usize) -> Result<Self> {
        let tmp = temp_path(path);
        let mut w = NpyWriter {
            path: path.to_path_buf(),
            out: None,
            tmp,
            expected: rows * cols,
            written: 0,
            renamed: false,
        };
        let file = File::create(&w.tmp).map_err(|e| w.error(e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&header(&[rows, cols]))
            .map_err(|e| w.error(e))?;
        w.out = Some(out);
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
        let out = self
            .out
            .as_mut()
            .expect("write after finish is a caller bug");
        #[cfg(target_endian = "little")]
        let r = out.write_all(bytemuck::cast_slice(values));
        #[cfg(not(target_endian = "little"))]
        let r = values
            .iter()
            .try_for_each(|v| out.write_all(&v.to_le_bytes()));
        r.map_err(|e| self.error(e))?;
        self.written += values.len();
        Ok(())
    }

    /// Flushes and renames the file into place.
    ///
    /// # Errors
    /// Fewer values than announced, or an I/O failure.
    pub fn finish(mut self) -> Result<()> {
        if self.written != self.expected {
            let e = std::io::Error::other(format!(
                "internal: wrote {} of {} values",
                self.written, self.expected
            ));
            return Err(self.error(e));
        }
        let mut out = self.out.take().expect("finish once");
        out.flush().map_err(|e| self.error(e))?;
        drop(out);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| self.error(e))?;
        self.renamed = true;
        Ok(())
    }
}

impl Drop for NpyWriter {
    fn drop(&mut self) {
        if !self.renamed {
            self.out = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out.npy".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
