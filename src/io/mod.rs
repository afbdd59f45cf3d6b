//! Files in and out: WAV reading, `.npy` and PNG writing, and all-or-nothing outputs
//! (every file of a run written under a temporary name and renamed into place only when
//! all are complete; a signal stops the run and removes them).

pub mod atomic;
pub mod audio;
pub mod frontend_json;
pub mod guard;
pub mod interrupt;
pub mod json;
pub mod mp4;
pub mod npy;
pub mod opus;
pub mod png;
pub mod wav;
