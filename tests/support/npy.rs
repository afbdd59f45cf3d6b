//! A reader of the `.npy` files hopscope writes, independent of its writer.

use std::path::Path;

/// A parsed `.npy` file: shape, dtype descriptor and the float32 payload.
#[derive(Debug)]
pub struct Npy {
    /// `descr` from the header, e.g. `<f4`.
    pub descr: String,
    /// `fortran_order`.
    pub fortran_order: bool,
    /// `shape`.
    pub shape: Vec<usize>,
    /// Little-endian float32 values, C order.
    pub data: Vec<f32>,
}

impl Npy {
    /// Element `(r, c)` of a 2-D array.
    pub fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.shape[1] + c]
    }
}

/// Reads a NumPy 1.0/2.0 `.npy` file of little-endian float32, checking the
/// magic, the header padding and that the payload matches the shape.
pub fn read_npy(path: &Path) -> Npy {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(bytes.len() >= 10, "npy too short");
    assert_eq!(&bytes[..6], b"\x93NUMPY", "npy magic");
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => panic!("unknown npy version {v}"),
    };
    let end = start + header_len;
    assert_eq!(
        end % 64,
        0,
        "npy header must pad the data offset to 64 bytes"
    );
    let header = std::str::from_utf8(&bytes[start..end]).expect("npy header is ASCII");
    assert!(header.ends_with('\n'), "npy header ends with a newline");
    let field = |key: &str| -> &str {
        let at = header
            .find(&format!("'{key}':"))
            .unwrap_or_else(|| panic!("npy header lacks {key}: {header}"));
        header[at + key.len() + 3..].trim_start()
    };
    let descr_raw = field("descr");
    let descr = descr_raw[1..]
        .split('\'')
        .next()
        .expect("descr string")
        .to_string();
    let fortran_order = field("fortran_order").starts_with("True");
    let shape_raw = field("shape");
    let close = shape_raw.find(')').expect("shape tuple");
    let shape: Vec<usize> = shape_raw[1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("shape dimension"))
        .collect();
    assert_eq!(descr, "<f4", "hopscope writes little-endian float32");
    let count: usize = shape.iter().product();
    let payload = &bytes[end..];
    assert_eq!(
        payload.len(),
        count * 4,
        "npy payload must hold exactly shape {shape:?} float32 values"
    );
    let data = payload
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Npy {
        descr,
        fortran_order,
        shape,
        data,
    }
}
