//! `--params PATH.json`: the parameters of an export file (`--export`, the live E key)
//! under the flags of `analyze` and `render`.
//!
//! `offline::params` reads and checks the file into a [`FileParams`]; here its values
//! fill every flag the user did not give ([`FileParams::fill_analyze`],
//! [`FileParams::fill_render`]), so the flags' own validation and defaults run on the
//! result exactly as they do without a file, and a flag given beside the file overrides
//! it. Which flags did is recorded as [`ParamsFrom`], for the output's export.
//!
//! Thread: main (plain data).

use std::path::PathBuf;

use crate::cli::{AnalysisArgs, AnalyzeArgs, RenderArgs};
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::StftParams;
use crate::error::Error;

use super::MelOptions;

/// The parameters an export file records, each already checked on its own.
///
/// Thread: main (plain data).
#[derive(Clone, Debug, PartialEq)]
pub struct FileParams {
    /// The file, as given.
    pub path: PathBuf,
    /// n_fft, win_length, hop and window.
    pub params: StftParams,
    /// librosa `center=True` framing.
    pub center: bool,
    /// What the values are.
    pub scale: ValueScale,
    /// Mel bands (`fmax_hz: None` when the file's top edge is its Nyquist frequency).
    pub mel: Option<MelOptions>,
    /// Channel analysed (`None`: the mix).
    pub channel: Option<usize>,
}

/// Where a run's parameters came from: written into its export as `params_from`.
///
/// Thread: main (plain data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsFrom {
    /// The `--params` file (made absolute).
    pub file: PathBuf,
    /// The flags given beside it that replaced its values, in the order of `--help`.
    pub overridden: Vec<&'static str>,
}

impl FileParams {
    /// Fills the flags of `analyze` that `args` leaves unset from the file: STFT, value
    /// scale, centring, mel and channel. Returns what to record in the export.
    pub fn fill_analyze(&self, args: &mut AnalyzeArgs) -> ParamsFrom {
        let mut given = self.fill_stft(&mut args.analysis);
        take(
            &mut args.value.scale,
            self.scale.into(),
            "--scale",
            &mut given,
        );
        take(&mut args.center, self.center, "--center", &mut given);
        let mel = &mut args.mel;
        match &self.mel {
            Some(m) => {
                take(&mut mel.mel, m.n_mels, "--mel", &mut given);
                take(
                    &mut mel.mel_scale,
                    m.scale.into(),
                    "--mel-scale",
                    &mut given,
                );
                take(&mut mel.mel_norm, m.norm.into(), "--mel-norm", &mut given);
                take(&mut mel.mel_fmin, m.fmin_hz, "--mel-fmin", &mut given);
                match m.fmax_hz {
                    Some(hz) => take(&mut mel.mel_fmax, hz, "--mel-fmax", &mut given),
                    None => note(mel.mel_fmax.is_some(), "--mel-fmax", &mut given),
                }
            }
            // The file has no mel bands: any mel flag changes that.
            None => {
                for (set, flag) in [
                    (mel.mel.is_some(), "--mel"),
                    (mel.mel_scale.is_some(), "--mel-scale"),
                    (mel.mel_norm.is_some(), "--mel-norm"),
                    (mel.mel_fmin.is_some(), "--mel-fmin"),
                    (mel.mel_fmax.is_some(), "--mel-fmax"),
                ] {
                    note(set, flag, &mut given);
                }
            }
        }
        self.fill_channel(&mut args.channel, &mut given);
        self.params_from(given)
    }

    /// Fills the flags of `render` that `args` leaves unset from the file: n_fft,
    /// win_length, hop, window and channel (`render` always draws causal dBFS frames of
    /// the linear spectrum, so the file's centring, scale and mel bands do not apply).
    pub fn fill_render(&self, args: &mut RenderArgs) -> ParamsFrom {
        let mut given = self.fill_stft(&mut args.analysis);
        self.fill_channel(&mut args.channel, &mut given);
        self.params_from(given)
    }

    fn fill_stft(&self, a: &mut AnalysisArgs) -> Vec<&'static str> {
        let p = &self.params;
        let mut given = Vec::new();
        take(&mut a.n_fft, p.fft_size, "--n-fft", &mut given);
        take(&mut a.win_length, p.win_length, "--win-length", &mut given);
        take(&mut a.hop, p.hop_size, "--hop", &mut given);
        take(&mut a.window, p.window, "--window", &mut given);
        given
    }

    fn fill_channel(&self, channel: &mut Option<usize>, given: &mut Vec<&'static str>) {
        match self.channel {
            Some(c) => take(channel, c, "--channel", given),
            None => note(channel.is_some(), "--channel", given),
        }
    }

    fn params_from(&self, overridden: Vec<&'static str>) -> ParamsFrom {
        ParamsFrom {
            file: std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone()),
            overridden,
        }
    }

    /// `err` with the file named when `err` is about a flag whose value came from it
    /// (e.g. the file's win_length longer than a `--n-fft` given beside it).
    pub fn blame(&self, err: Error, from: &ParamsFrom) -> Error {
        match err {
            Error::InvalidArgument { flag, message } if PARAM_FLAGS.contains(&flag) => {
                let file = self.path.display();
                let how = if from.overridden.contains(&flag) {
                    format!("given beside --params '{file}'")
                } else {
                    format!("its value is from --params '{file}': give {flag} to override it")
                };
                Error::InvalidArgument {
                    flag,
                    message: format!("{message} ({how})"),
                }
            }
            other => other,
        }
    }
}

/// The flags a params file sets.
pub const PARAM_FLAGS: [&str; 12] = [
    "--n-fft",
    "--win-length",
    "--hop",
    "--window",
    "--scale",
    "--center",
    "--mel",
    "--mel-scale",
    "--mel-norm",
    "--mel-fmin",
    "--mel-fmax",
    "--channel",
];

/// `slot`'s value if the user gave the flag (noted as an override), else `value`.
fn take<T>(slot: &mut Option<T>, value: T, flag: &'static str, given: &mut Vec<&'static str>) {
    if slot.is_some() {
        given.push(flag);
    } else {
        *slot = Some(value);
    }
}

/// Notes `flag` as an override when it was given (the file's value is the default).
fn note(set: bool, flag: &'static str, given: &mut Vec<&'static str>) {
    if set {
        given.push(flag);
    }
}
