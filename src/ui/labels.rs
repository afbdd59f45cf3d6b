//! The window's short texts: pane titles, scale names, parameter-change markers. Those
//! drawn every frame are written into reused buffers (`Display` adapters and `write!`),
//! never formatted into fresh `String`s.

use std::fmt::{self, Write};

use crate::config::pane::PaneSettings;
use crate::dsp::stft::StftParams;
use crate::ui::pane::display_axis;
use crate::ui::state::ViewState;

/// What a pane's axis and scale text say: `linear`, `mel 128 slaney`.
pub struct ScaleLabel<'a>(pub &'a PaneSettings);

impl fmt::Display for ScaleLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(fe) = self.0.frontend {
            return write!(f, "front-end {} ({} bands)", fe.name, fe.bands());
        }
        match self.0.mel {
            Some(mel) => write!(f, "mel {} {}", mel.n_mels, mel.scale),
            None => write!(f, "{}", self.0.axis.scale),
        }
    }
}

/// The marker of an axis change: `log 20-24000 Hz`.
pub fn axis_marker(s: &PaneSettings) -> String {
    let axis = display_axis(s);
    format!(
        "{} {:.0}-{:.0} Hz",
        ScaleLabel(s),
        axis.lo_hz(),
        axis.fmax_hz
    )
}

/// The marker of a parameter change: what changed, e.g. `n_fft 4096 hop 512`.
pub fn change_label(old: &StftParams, new: &StftParams) -> String {
    let mut label = String::new();
    let mut part = |args: fmt::Arguments<'_>| {
        if !label.is_empty() {
            label.push(' ');
        }
        // Writing into a String cannot fail.
        let _ = label.write_fmt(args);
    };
    if old.fft_size != new.fft_size {
        part(format_args!("n_fft {}", new.fft_size));
    }
    if old.win_length != new.win_length && new.win_length != new.fft_size {
        part(format_args!("win {}", new.win_length));
    }
    if old.hop_size != new.hop_size {
        part(format_args!("hop {}", new.hop_size));
    }
    if old.window != new.window {
        part(format_args!("{}", new.window));
    }
    if label.is_empty() {
        label.push_str("scale");
    }
    label
}

/// Writes the label line of pane `index` of `count` into `out` (cleared first).
///
/// Allocates: no (once `out` has room).
pub fn write_title(out: &mut String, state: &ViewState, source_label: &str, index: usize) {
    out.clear();
    let s = state.pane(index);
    let paused = if state.paused { "   [PAUSED]" } else { "" };
    // Writing into a String cannot fail.
    let _ = if state.pane_count() == 1 {
        write!(
            out,
            "{source_label}   {} Hz   {}{paused}",
            state.sample_rate_hz,
            ScaleLabel(&s)
        )
    } else if let Some(fe) = s.frontend {
        write!(
            out,
            "{}{}  front-end {}  {} Hz  n_fft {}  win {}  hop {} ({:.2} ms)  {} bands{paused}",
            if index == state.focus { "> " } else { "  " },
            index + 1,
            fe.name,
            fe.sample_rate_hz,
            fe.n_fft,
            fe.win_length,
            fe.hop,
            fe.hop as f64 * 1e3 / f64::from(fe.sample_rate_hz),
            fe.bands(),
        )
    } else {
        let p = s.params;
        let sr = f64::from(state.sample_rate_hz);
        write!(
            out,
            "{}{}  {}  n_fft {}  win {}  hop {} ({:.2} ms)  bin {:.1} Hz  {}{paused}",
            if index == state.focus { "> " } else { "  " },
            index + 1,
            p.window,
            p.fft_size,
            p.win_length,
            p.hop_size,
            p.hop_size as f64 * 1e3 / sr,
            sr / p.fft_size as f64,
            ScaleLabel(&s)
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::window::WindowKind;

    fn p(fft_size: usize, win_length: usize, hop_size: usize) -> StftParams {
        StftParams {
            fft_size,
            win_length,
            hop_size,
            window: WindowKind::Hann,
        }
    }

    #[test]
    fn change_labels_name_what_changed() {
        assert_eq!(
            change_label(&p(2048, 2048, 512), &p(4096, 4096, 512)),
            "n_fft 4096"
        );
        assert_eq!(
            change_label(&p(2048, 2048, 512), &p(2048, 1024, 256)),
            "win 1024 hop 256"
        );
        let blackman = StftParams {
            window: WindowKind::Blackman,
            ..p(2048, 2048, 512)
        };
        assert_eq!(
            change_label(&p(1024, 1024, 512), &blackman),
            "n_fft 2048 blackman"
        );
        assert_eq!(change_label(&blackman, &blackman), "scale");
    }
}
