//! WAV replay as a live source (`--file PATH.wav [--loop]`).

use super::BlockSource;
use crate::io::wav::WavAudio;

/// Replays decoded WAV frames, optionally looping.
///
/// Thread: source thread.
pub struct FileSource {
    audio: WavAudio,
    pos_frames: usize,
    looping: bool,
}

impl FileSource {
    /// Replays `audio` once, or forever when `looping`.
    pub fn new(audio: WavAudio, looping: bool) -> Self {
        FileSource {
            audio,
            pos_frames: 0,
            looping,
        }
    }
}

impl BlockSource for FileSource {
    fn channels(&self) -> usize {
        self.audio.channels
    }

    fn sample_rate_hz(&self) -> u32 {
        self.audio.sample_rate_hz
    }

    fn fill(&mut self, out: &mut [f32]) -> usize {
        let ch = self.audio.channels;
        let total = self.audio.frames();
        let want = out.len() / ch;
        let mut done = 0;
        while done < want {
            if self.pos_frames == total {
                if !self.looping || total == 0 {
                    break;
                }
                self.pos_frames = 0;
            }
            let n = (want - done).min(total - self.pos_frames);
            out[done * ch..(done + n) * ch].copy_from_slice(
                &self.audio.samples[self.pos_frames * ch..(self.pos_frames + n) * ch],
            );
            self.pos_frames += n;
            done += n;
        }
        done
    }
}
