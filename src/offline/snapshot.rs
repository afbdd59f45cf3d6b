//! Snapshots of the live window (key P): the last seconds of the analysed mono signal as
//! a WAV, its STFT rows, the displayed columns and the parameters, in a new folder.
//!
//! ```text
//! hopscope-snapshot-YYYYMMDD-HHMMSS[-N]/
//!   audio.wav        mono float32 at the stream rate: the last --snapshot-seconds
//!   rows.npy         (frames, bins) float32 dBFS = `hopscope analyze audio.wav` with these parameters
//!   display.npy      (columns, pixels) float32 dBFS: the visible waterfall, oldest column first, lowest pixel first
//!   params.json      the export (../shared/DSP.md §8.1) + params.{librosa,torch,tf}.py
//!   snapshot.json    what was captured: times, sizes, the display axis
//! ```
//!
//! The folder is written under a temporary name ([`StagedDir`]) and renamed at the end;
//! an existing folder is never replaced.
//!
//! Thread: a `snapshot` thread spawned by the UI (the UI only copies the data).

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::dsp::scale::ValueScale;
use crate::dsp::stft::StftParams;
use crate::error::{Error, Result};
use crate::io::atomic::{self, stamped_names, StagedDir};
use crate::io::npy::NpyWriter;
use crate::offline::export::{self, ExportSpec};

/// Everything a snapshot writes, copied off the UI thread's state.
///
/// Thread: built on UI, moved to `snapshot`.
pub struct Snapshot {
    /// Destination directory (the folder is created inside it).
    pub dir: PathBuf,
    /// The newest mono samples.
    pub samples: Vec<f32>,
    /// Absolute index of `samples[0]` in the stream.
    pub first_sample: u64,
    /// Stream sample rate.
    pub sample_rate_hz: u32,
    /// Parameters in effect.
    pub params: StftParams,
    /// Channel analysed (`None`: the mix).
    pub channel: Option<usize>,
    /// Visible columns, oldest first, each `display_height` values bottom-up.
    pub display: Vec<f32>,
    /// Pixels per displayed column.
    pub display_height: usize,
    /// The display's frequency axis, e.g. `log 20-24000 Hz`.
    pub display_axis: String,
}

/// Writes `snap` and returns the folder.
///
/// # Errors
/// The directory is not writable (nothing is left behind).
pub fn write(snap: &Snapshot) -> Result<PathBuf> {
    // `.hopscope-snapshot.tmp-PID-XXXXXX`, removed with its contents on failure; those of
    // killed runs are removed by the next snapshot into the same directory.
    let target = snap.dir.join("hopscope-snapshot");
    atomic::remove_stale(&target);
    let staged = StagedDir::create(&target)?;
    fill(staged.path(), snap)?;
    let folder = staged.commit_new(stamped_names("hopscope-snapshot", ""))?;
    Ok(std::path::absolute(&folder).unwrap_or(folder))
}

/// Runs of NaN in `samples` (gaps in the input, see `MonoHistory::push_gap`) as
/// (first index, length).
pub fn gaps_of(samples: &[f32]) -> Vec<(usize, usize)> {
    let mut gaps: Vec<(usize, usize)> = Vec::new();
    for (i, v) in samples.iter().enumerate() {
        if !v.is_nan() {
            continue;
        }
        match gaps.last_mut() {
            Some((start, len)) if *start + *len == i => *len += 1,
            _ => gaps.push((i, 1)),
        }
    }
    gaps
}

fn fill(tmp: &Path, snap: &Snapshot) -> Result<()> {
    let p = snap.params;
    // Gaps in the input are zeros in audio.wav (and so in rows.npy), listed in
    // snapshot.json.
    let gaps = gaps_of(&snap.samples);
    let cleaned: Vec<f32>;
    let samples: &[f32] = if gaps.is_empty() {
        &snap.samples
    } else {
        cleaned = snap
            .samples
            .iter()
            .map(|&v| if v.is_nan() { 0.0 } else { v })
            .collect();
        &cleaned
    };
    let wav_path = tmp.join("audio.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: snap.sample_rate_hz,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let wav_err = |e: hound::Error| Error::Write {
        path: wav_path.clone(),
        source: std::io::Error::other(e.to_string()),
    };
    let mut w = hound::WavWriter::create(&wav_path, spec).map_err(wav_err)?;
    for &s in samples {
        w.write_sample(s).map_err(wav_err)?;
    }
    w.finalize().map_err(wav_err)?;

    // The rows `hopscope analyze audio.wav` computes: causal frames from its start.
    let rows = if samples.len() >= p.win_length {
        1 + (samples.len() - p.win_length) / p.hop_size
    } else {
        0
    };
    let values = crate::offline::stft_rows(
        samples,
        rows,
        p,
        ValueScale::Db,
        rayon::current_num_threads(),
    );
    let mut npy = NpyWriter::create(&tmp.join("rows.npy"), Some(rows), p.num_bins())?;
    npy.write(&values)?;
    npy.finish()?.commit()?;

    let h = snap.display_height.max(1);
    let cols = snap.display.len() / h;
    let mut npy = NpyWriter::create(&tmp.join("display.npy"), Some(cols), h)?;
    npy.write(&snap.display[..cols * h])?;
    npy.finish()?.commit()?;

    export::write(
        &tmp.join("params.json"),
        &ExportSpec {
            sample_rate_hz: snap.sample_rate_hz,
            params: p,
            center: false,
            scale: ValueScale::Db,
            mel: None,
            channel: snap.channel,
            params_from: None,
        },
    )?;
    let sr = f64::from(snap.sample_rate_hz);
    let meta = json!({
        "generator": format!("hopscope {}", env!("CARGO_PKG_VERSION")),
        "audio": "audio.wav",
        "seconds": snap.samples.len() as f64 / sr,
        "first_sample": snap.first_sample,
        "start_s": snap.first_sample as f64 / sr,
        "rows": {"file": "rows.npy", "shape": [rows, p.num_bins()], "meaning": "dBFS, = hopscope analyze audio.wav with params.json (causal frames from the file's start)"},
        "display": {"file": "display.npy", "shape": [cols, h], "axis": snap.display_axis,
                    "meaning": "dBFS per display pixel as shown: columns oldest first, pixels lowest frequency first"},
        "params": "params.json",
        "gaps": gaps.iter().map(|&(start, len)| json!({
            "start_s": start as f64 / sr,
            "seconds": len as f64 / sr,
            "first_sample": snap.first_sample + start as u64,
            "samples": len,
            "meaning": "no input (device stalled or lost): zeros in audio.wav",
        })).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&meta).expect("a JSON value always serialises");
    let path = tmp.join("snapshot.json");
    std::fs::write(&path, text).map_err(io_err(&path))?;
    Ok(())
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Write { path, source }
}
