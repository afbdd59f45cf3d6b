//! PNG output of `0x00RRGGBB` frames: screenshots (never overwrite) and `render`.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Encodes `pixels` (`width × height`, row-major) as 8-bit RGB PNG into `out`.
///
/// # Errors
/// Any I/O or encoder failure.
pub fn encode<W: Write>(
    out: W,
    pixels: &[u32],
    width: usize,
    height: usize,
) -> std::io::Result<()> {
    let mut enc = png::Encoder::new(out, width as u32, height as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut writer = enc.write_header().map_err(std::io::Error::other)?;
    let mut stream = writer.stream_writer().map_err(std::io::Error::other)?;
    let mut line = vec![0u8; width * 3];
    for row in pixels.chunks_exact(width) {
        for (dst, &p) in line.chunks_exact_mut(3).zip(row) {
            dst[0] = (p >> 16) as u8;
            dst[1] = (p >> 8) as u8;
            dst[2] = p as u8;
        }
        stream.write_all(&line)?;
    }
    stream.finish().map_err(std::io::Error::other)?;
    Ok(())
}

/// `YYYYMMDD-HHMMSS` in UTC for `unix_s` seconds since 1970.
pub fn utc_stamp(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    // Howard Hinnant's days → civil date.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Saves a screenshot as `dir/hopscope-YYYYMMDD-HHMMSS[-N].png`, never overwriting.
///
/// # Errors
/// The directory is not writable.
pub fn save_screenshot(
    dir: &Path,
    pixels: &[u32],
    width: usize,
    height: usize,
) -> std::io::Result<PathBuf> {
    let unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stamp = utc_stamp(unix_s);
    for n in 0..1000 {
        let name = if n == 0 {
            format!("hopscope-{stamp}.png")
        } else {
            format!("hopscope-{stamp}-{n}.png")
        };
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => {
                let result = encode(BufWriter::new(file), pixels, width, height);
                if let Err(e) = result {
                    let _ = std::fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(std::path::absolute(&path).unwrap_or(path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "1000 screenshots this second already",
    ))
}

/// Writes a PNG atomically (temporary name, then rename).
///
/// # Errors
/// Any I/O failure; the temporary file is removed.
pub fn write_atomic(
    path: &Path,
    pixels: &[u32],
    width: usize,
    height: usize,
) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "out.png".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = File::create(&tmp)
        .and_then(|f| encode(BufWriter::with_capacity(1 << 20, f), pixels, width, height))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
