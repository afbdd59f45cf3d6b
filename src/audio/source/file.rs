//! File replay as a live source (`--file PATH [--loop]`): any format `io::audio` reads,
//! decoded as it plays, so memory does not grow with the file.

use super::BlockSource;
use crate::io::audio::AudioReader;

/// Replays a decoded file, optionally looping.
///
/// Thread: source thread.
pub struct FileSource {
    reader: AudioReader,
    /// Decoded samples not delivered yet, from `pending_at` on.
    pending: Vec<f32>,
    pending_at: usize,
    looping: bool,
    ended: bool,
}

impl FileSource {
    /// Replays `reader` once, or forever when `looping` (it must then be seekable: a
    /// file, or a stream opened whole).
    pub fn new(reader: AudioReader, looping: bool) -> Self {
        FileSource {
            reader,
            pending: Vec::new(),
            pending_at: 0,
            looping,
            ended: false,
        }
    }

    /// Decodes the next block into `pending`; `false` at the (final) end. A read error
    /// ends the replay with a line on stderr (the status line then shows the input as
    /// ended).
    fn refill(&mut self) -> bool {
        self.pending.clear();
        self.pending_at = 0;
        loop {
            match self.reader.read(&mut self.pending) {
                Ok(0) if self.looping && self.reader.position() > 0 => {
                    if let Err(e) = self.reader.seek(0) {
                        eprintln!("hopscope: {e}; replay stops");
                        return false;
                    }
                }
                Ok(0) => return false,
                Ok(_) => return true,
                Err(e) => {
                    eprintln!("hopscope: {e}; replay stops");
                    return false;
                }
            }
        }
    }
}

impl BlockSource for FileSource {
    fn channels(&self) -> usize {
        self.reader.info().channels
    }

    fn sample_rate_hz(&self) -> u32 {
        self.reader.info().sample_rate_hz
    }

    fn fill(&mut self, out: &mut [f32]) -> usize {
        let ch = self.reader.info().channels;
        let want = out.len() / ch * ch;
        let mut done = 0;
        while done < want && !self.ended {
            if self.pending_at == self.pending.len() && !self.refill() {
                self.ended = true;
                break;
            }
            let n = (want - done).min(self.pending.len() - self.pending_at);
            out[done..done + n]
                .copy_from_slice(&self.pending[self.pending_at..self.pending_at + n]);
            self.pending_at += n;
            done += n;
        }
        done / ch
    }
}
