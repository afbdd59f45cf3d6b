//! Handing finished frames to the window system.
//!
//! minifb 0.29 presents a frame by copying the caller's buffer into its own and sending
//! all of it through the X socket (`XPutImage`): at 1280×720 and 60 fps that is two
//! 3.7 MB copies and 220 MB/s of socket writes on the UI thread, about 60 % of its time,
//! on top of our own copy of the visible waterfall into the frame (most of the rest).
//!
//! On X11 with MIT-SHM the UI thread copies none of that. The frame buffer and a mirror of
//! the waterfall's circular image are shared-memory images that the X server reads in
//! place, and each frame is a short list of [`Blit`]s executed by the server into a
//! pixmap (the waterfall's one or two runs, the strips that changed, the overlays), then
//! one copy of the pixmap to the window, so the window never shows a half-drawn frame.
//! The UI thread draws only what changed: new waterfall columns, the title and tick
//! strips, and the rectangles under the overlays. minifb still owns the window, its
//! events, the keyboard and the 60 fps frame limiter (`Window::update`).
//!
//! Without MIT-SHM (a remote display, a server without the extension, another platform,
//! or `HOPSCOPE_NO_XSHM=1`) the whole frame is composed in memory and goes through
//! minifb's `update_with_buffer`. [`assemble`] executes a blit list in software: it makes
//! screenshots in the server-side mode and is the tests' oracle for it.
//!
//! [`Screen`] owns the minifb window and its [`Presenter`]; its `Drop` releases the
//! shared memory (which uses the window's X connection) before the window goes, whatever
//! the order of the caller's locals. A [`Presenter::software`] frame needs no window at
//! all: the tests compose frames into it without a display.
//!
//! Thread: UI (main) only; the X connection is minifb's and is used from that thread.

use std::time::Instant;

use minifb::Window;

use crate::render::chrome::Rect;
use crate::render::waterfall::{View, Waterfall};

#[cfg(all(unix, not(target_os = "macos")))]
mod shm;

/// One step of building a frame, executed in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blit {
    /// This rectangle of the frame buffer, to the same place.
    Frame(Rect),
    /// Columns `[src_col, src_col + w)` and rows `[0, h)` of waterfall image `image`
    /// (one per pane), to (`dst_x`, `dst_y`).
    Waterfall {
        /// Which waterfall (pane).
        image: usize,
        /// First image column.
        src_col: usize,
        /// Columns.
        w: usize,
        /// Rows.
        h: usize,
        /// Frame x.
        dst_x: usize,
        /// Frame y.
        dst_y: usize,
    },
    /// A solid rectangle.
    Fill(Rect, u32),
}

/// Executes `blits` in software into `out` (`frame_w` pixels per row, like `frame`);
/// `images[i]` is waterfall `i`'s circular image and its pixels per row.
pub fn assemble(
    blits: &[Blit],
    frame: &[u32],
    frame_w: usize,
    images: &[(&[u32], usize)],
    out: &mut [u32],
) {
    for blit in blits {
        match *blit {
            Blit::Frame(r) => {
                for y in r.y..r.y + r.h {
                    let d = y * frame_w + r.x;
                    out[d..d + r.w].copy_from_slice(&frame[d..d + r.w]);
                }
            }
            Blit::Waterfall {
                image,
                src_col,
                w,
                h,
                dst_x,
                dst_y,
            } => {
                let Some(&(waterfall, waterfall_stride)) = images.get(image) else {
                    continue;
                };
                for row in 0..h {
                    let d = (dst_y + row) * frame_w + dst_x;
                    let s = row * waterfall_stride + src_col;
                    out[d..d + w].copy_from_slice(&waterfall[s..s + w]);
                }
            }
            Blit::Fill(r, color) => {
                for y in r.y..r.y + r.h {
                    let d = y * frame_w + r.x;
                    out[d..d + r.w].fill(color);
                }
            }
        }
    }
}

/// The blits that show `view` of the waterfall (its `width` columns ending before
/// `view_end`, top-left corner at (`x0`, `y0`)): what [`Waterfall::compose_into`] draws.
/// The waterfall is image `image` of the presenter.
///
/// Allocates: no (while `out` has room).
pub fn waterfall_blits(waterfall: &Waterfall, image: usize, view: &View, out: &mut Vec<Blit>) {
    let vis = waterfall.visible(view.width, view.view_end);
    let h = waterfall.height();
    let (x0, y0) = (view.x0, view.y0);
    if vis.pad > 0 {
        out.push(Blit::Fill(
            Rect {
                x: x0,
                y: y0,
                w: vis.pad,
                h,
            },
            view.background,
        ));
    }
    if vis.first_len > 0 {
        out.push(Blit::Waterfall {
            image,
            src_col: vis.first_col,
            w: vis.first_len,
            h,
            dst_x: x0 + vis.pad,
            dst_y: y0,
        });
    }
    if vis.second_len > 0 {
        out.push(Blit::Waterfall {
            image,
            src_col: 0,
            w: vis.second_len,
            h,
            dst_x: x0 + vis.pad + vis.first_len,
            dst_y: y0,
        });
    }
    if vis.right_pad > 0 {
        out.push(Blit::Fill(
            Rect {
                x: x0 + view.width - vis.right_pad,
                y: y0,
                w: vis.right_pad,
                h,
            },
            view.background,
        ));
    }
}

/// The frame buffer the UI draws into and the way it reaches the screen.
///
/// Thread: UI. Allocates: when made, and in [`Presenter::sync_waterfall`] when the
/// waterfall's size changes.
pub struct Presenter {
    width: usize,
    height: usize,
    kind: Kind,
    /// How long each MIT-SHM flush took (the write that wakes the X server), bounded.
    flush_ms: Vec<f32>,
}

enum Kind {
    #[cfg(all(unix, not(target_os = "macos")))]
    /// Boxed: it holds x11-dl's function tables (~6 KB).
    Shm(Box<shm::ShmPresenter>),
    /// The whole frame in memory, handed to minifb's `update_with_buffer`.
    Software(Vec<u32>),
}

impl Presenter {
    /// A `width` × `height` frame filled with `fill` (`0x00RRGGBB`), composed in memory
    /// and sent whole: what a window without MIT-SHM uses, and what tests compose into
    /// without a display.
    pub fn software(width: usize, height: usize, fill: u32) -> Presenter {
        Presenter {
            width,
            height,
            kind: Kind::Software(vec![fill; width * height]),
            flush_ms: Vec::new(),
        }
    }

    /// Like [`Presenter::software`], but presented by the X server from shared memory
    /// when `window`'s display allows it. Only a [`Screen`] makes one: the shared memory
    /// must go before the window.
    fn for_window(window: &Window, width: usize, height: usize, fill: u32) -> Presenter {
        #[cfg(all(unix, not(target_os = "macos")))]
        if std::env::var_os("HOPSCOPE_NO_XSHM").is_none() {
            if let Some(mut shm) = shm::ShmPresenter::new(window, width, height) {
                shm.frame_mut().fill(fill);
                return Presenter {
                    width,
                    height,
                    kind: Kind::Shm(Box::new(shm)),
                    flush_ms: Vec::with_capacity(1 << 14),
                };
            }
        }
        let _ = window;
        Presenter::software(width, height, fill)
    }

    /// Frees the shared memory now (a software frame of no pixels is left).
    fn release(&mut self) {
        self.kind = Kind::Software(Vec::new());
    }

    /// Frame size in pixels.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// How frames reach the X server: `"MIT-SHM"` or `"XPutImage"`.
    pub fn method(&self) -> &'static str {
        if self.server_side() {
            "MIT-SHM"
        } else {
            "XPutImage"
        }
    }

    /// Durations of the MIT-SHM flushes so far (empty without MIT-SHM; at most 16384).
    pub fn flush_ms(&self) -> &[f32] {
        &self.flush_ms
    }

    /// Whether frames are built by the server from [`Blit`]s (then the frame buffer
    /// only needs the blitted rectangles drawn) rather than sent whole.
    pub fn server_side(&self) -> bool {
        match self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(_) => true,
            Kind::Software(_) => false,
        }
    }

    /// The frame buffer as last drawn (row-major `0x00RRGGBB`, `width` per row).
    pub fn pixels(&self) -> &[u32] {
        match &self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => shm.frame(),
            Kind::Software(v) => v,
        }
    }

    /// The frame buffer to draw into. With shared memory this waits until the server has
    /// executed the previous frame, which [`Screen::finish`] already did.
    pub fn pixels_mut(&mut self) -> &mut [u32] {
        match &mut self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => {
                shm.wait_idle();
                shm.frame_mut()
            }
            Kind::Software(v) => v,
        }
    }

    /// Brings the server's copy of waterfall image `image` up to date (new columns, or
    /// all of it after a re-colouring). Does nothing without shared memory.
    pub fn sync_waterfall(&mut self, image: usize, waterfall: &Waterfall) {
        match &mut self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => {
                shm.wait_idle();
                shm.sync_waterfall(image, waterfall);
            }
            Kind::Software(_) => {
                let _ = (image, waterfall);
            }
        }
    }

    /// Waterfall `image` was replaced (same size): the server's copy must be refreshed
    /// whole.
    pub fn invalidate_waterfall(&mut self, image: usize) {
        match &mut self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => shm.invalidate_waterfall(image),
            Kind::Software(_) => {
                let _ = image;
            }
        }
    }
}

/// The window and the presenter of its frames, dropped in that order's reverse: the
/// shared memory (on the window's X connection) is released in `Drop`, before the
/// window is.
///
/// Thread: UI (main; the window must stay on it).
pub struct Screen {
    presenter: Presenter,
    window: Window,
}

impl Drop for Screen {
    fn drop(&mut self) {
        // Runs before any field is dropped: the window is still open here.
        self.presenter.release();
    }
}

impl Screen {
    /// Takes `window` and gives it a frame of its current size filled with `fill`.
    pub fn new(window: Window, fill: u32) -> Screen {
        let (width, height) = window.get_size();
        let presenter = Presenter::for_window(&window, width, height, fill);
        Screen { presenter, window }
    }

    /// A fresh `width` × `height` frame filled with `fill` (the old one is released
    /// first).
    pub fn rebuild(&mut self, width: usize, height: usize, fill: u32) {
        self.presenter.release();
        self.presenter = Presenter::for_window(&self.window, width, height, fill);
    }

    /// The window.
    pub fn window(&self) -> &Window {
        &self.window
    }

    /// The window, to install callbacks on it.
    pub fn window_mut(&mut self) -> &mut Window {
        &mut self.window
    }

    /// The frame and how it is presented.
    pub fn presenter(&self) -> &Presenter {
        &self.presenter
    }

    /// The frame, to draw into it.
    pub fn presenter_mut(&mut self) -> &mut Presenter {
        &mut self.presenter
    }

    /// Hands the frame to the window system and returns the instant it was handed over:
    /// with MIT-SHM, when every request of `blits` was issued, just before the flush
    /// that wakes the server (whose duration [`Presenter::flush_ms`] keeps); otherwise
    /// when minifb's `update_with_buffer` is called with the whole buffer.
    /// Call [`Screen::finish`] next.
    ///
    /// # Errors
    /// minifb refused the buffer (its message).
    pub fn present(&mut self, blits: &[Blit]) -> std::result::Result<Instant, String> {
        let p = &mut self.presenter;
        match &mut p.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => {
                let (issued, flushed) = shm.execute(blits);
                if p.flush_ms.len() < p.flush_ms.capacity() {
                    p.flush_ms
                        .push(flushed.duration_since(issued).as_secs_f32() * 1e3);
                }
                Ok(issued)
            }
            Kind::Software(v) => {
                let _ = blits;
                // minifb copies, sends, then waits for its frame limiter: the frame is
                // handed over when the call starts.
                let at = Instant::now();
                self.window
                    .update_with_buffer(v, p.width, p.height)
                    .map_err(|e| e.to_string())?;
                Ok(at)
            }
        }
    }

    /// Processes window events and waits for the next display frame (minifb's limiter).
    pub fn finish(&mut self) {
        match &mut self.presenter.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => {
                // Wait for the server to execute the frame now, in time the frame limiter
                // would sleep anyway, so that drawing the next one needs no round trip.
                shm.wait_idle();
                self.window.update();
            }
            // `update_with_buffer` already did both.
            Kind::Software(_) => {}
        }
    }
}
