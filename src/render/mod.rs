//! Drawing shared by the live window and `hopscope render`: colormaps, the frequency
//! axis, text, the circular waterfall image and the chrome (axes, ticks, colour bar), and the time columns rows fold into.
//! Pixels are `0x00RRGGBB` `u32`, row-major, top row first.

pub mod chrome;
pub mod colormap;
pub mod freqmap;
pub mod frontend;
pub mod text;
pub mod timeaxis;
pub mod waterfall;
