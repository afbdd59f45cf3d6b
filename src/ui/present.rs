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
//! Thread: UI (main) only; the X connection is minifb's and is used from that thread.

use std::time::Instant;

use minifb::Window;

use crate::render::chrome::Rect;
use crate::render::waterfall::Waterfall;

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

/// The blits that show the waterfall's `view_width` columns ending before `view_end` with
/// the top-left corner at (`x0`, `y0`): what [`Waterfall::compose_into`] draws. The
/// waterfall is image `image` of the presenter.
#[allow(clippy::too_many_arguments)]
pub fn waterfall_blits(
    waterfall: &Waterfall,
    image: usize,
    x0: usize,
    y0: usize,
    view_width: usize,
    view_end: u64,
    background: u32,
    out: &mut Vec<Blit>,
) {
    let vis = waterfall.visible(view_width, view_end);
    let h = waterfall.height();
    if vis.pad > 0 {
        out.push(Blit::Fill(
            Rect {
                x: x0,
                y: y0,
                w: vis.pad,
                h,
            },
            background,
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
}

/// The frame buffer the UI draws into and the way it reaches the screen.
///
/// Thread: UI. Allocates: in `new`, and in [`Presenter::sync_waterfall`] when the
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
    Minifb(Vec<u32>),
}

impl Presenter {
    /// A `width` × `height` frame filled with `fill` (`0x00RRGGBB`), presented by the X
    /// server from shared memory when the display allows it.
    pub fn new(window: &Window, width: usize, height: usize, fill: u32) -> Presenter {
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
        Presenter {
            width,
            height,
            kind: Kind::Minifb(vec![fill; width * height]),
            flush_ms: Vec::new(),
        }
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
            Kind::Minifb(_) => false,
        }
    }

    /// The frame buffer as last drawn (row-major `0x00RRGGBB`, `width` per row).
    pub fn pixels(&self) -> &[u32] {
        match &self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => shm.frame(),
            Kind::Minifb(v) => v,
        }
    }

    /// The frame buffer to draw into. With shared memory this waits until the server has
    /// executed the previous frame, which [`Presenter::finish`] already did.
    pub fn pixels_mut(&mut self) -> &mut [u32] {
        match &mut self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => {
                shm.wait_idle();
                shm.frame_mut()
            }
            Kind::Minifb(v) => v,
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
            Kind::Minifb(_) => {
                let _ = waterfall;
            }
        }
    }

    /// Waterfall `image` was replaced (same size): the server's copy must be refreshed
    /// whole.
    pub fn invalidate_waterfall(&mut self, image: usize) {
        match &mut self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => shm.invalidate_waterfall(image),
            Kind::Minifb(_) => {}
        }
    }

    /// Hands the frame to the window system and returns the instant it was handed over:
    /// with MIT-SHM, when every request of `blits` was issued, just before the flush
    /// that wakes the server (whose duration [`Presenter::flush_ms`] keeps); otherwise
    /// when minifb's `update_with_buffer` is called with the whole buffer.
    /// Call [`Presenter::finish`] next.
    ///
    /// # Errors
    /// minifb refused the buffer (its message).
    pub fn present(
        &mut self,
        window: &mut Window,
        blits: &[Blit],
    ) -> std::result::Result<Instant, String> {
        match &mut self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => {
                let (issued, flushed) = shm.execute(blits);
                if self.flush_ms.len() < self.flush_ms.capacity() {
                    self.flush_ms
                        .push(flushed.duration_since(issued).as_secs_f32() * 1e3);
                }
                Ok(issued)
            }
            Kind::Minifb(v) => {
                let _ = blits;
                // minifb copies, sends, then waits for its frame limiter: the frame is
                // handed over when the call starts.
                let at = Instant::now();
                window
                    .update_with_buffer(v, self.width, self.height)
                    .map_err(|e| e.to_string())?;
                Ok(at)
            }
        }
    }

    /// Processes window events and waits for the next display frame (minifb's limiter).
    pub fn finish(&mut self, window: &mut Window) {
        match &mut self.kind {
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Shm(shm) => {
                // Wait for the server to execute the frame now, in time the frame limiter
                // would sleep anyway, so that drawing the next one needs no round trip.
                shm.wait_idle();
                window.update();
            }
            // `update_with_buffer` already did both.
            Kind::Minifb(_) => {}
        }
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
#[allow(unsafe_code)]
mod shm {
    //! MIT-SHM images and a back-buffer pixmap on minifb's own X connection (x11-dl,
    //! loaded at run time like minifb does, so no X library is needed to build).

    use std::os::raw::{c_char, c_int, c_uint};
    use std::ptr;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    use minifb::Window;
    use raw_window_handle::{HasDisplayHandle, HasWindowHandle, RawDisplayHandle, RawWindowHandle};
    use x11_dl::xlib::{self, Xlib};
    use x11_dl::xshm::{XShmSegmentInfo, Xext};

    use super::Blit;
    use crate::render::waterfall::Waterfall;

    /// Set by [`record_error`] while a segment is being attached.
    static ATTACH_FAILED: AtomicBool = AtomicBool::new(false);

    unsafe extern "C" fn record_error(
        _display: *mut xlib::Display,
        _event: *mut xlib::XErrorEvent,
    ) -> c_int {
        ATTACH_FAILED.store(true, Ordering::Relaxed);
        0
    }

    /// The X libraries and minifb's connection.
    struct Conn {
        xlib: Xlib,
        xext: Xext,
        display: *mut xlib::Display,
        visual: *mut xlib::Visual,
        depth: c_int,
    }

    /// A shared-memory `XImage` (32 bits per pixel, rows packed).
    struct Segment {
        image: *mut xlib::XImage,
        /// Boxed: Xlib keeps this struct's address while the segment is attached.
        info: Box<XShmSegmentInfo>,
        len: usize,
    }

    impl Segment {
        /// `None` when the image has another layout, System V shared memory fails, or the
        /// server refuses to attach (remote displays).
        fn new(c: &Conn, width: usize, height: usize) -> Option<Segment> {
            let (w, h) = (u32::try_from(width).ok()?, u32::try_from(height).ok()?);
            if w == 0 || h == 0 || w > 32767 || h > 32767 {
                return None;
            }
            // SAFETY: `c.display` is minifb's open connection, used only from its thread;
            // every pointer passed is from Xlib or the kernel and checked before use.
            unsafe {
                let mut info = Box::new(XShmSegmentInfo {
                    shmseg: 0,
                    shmid: -1,
                    shmaddr: ptr::null_mut(),
                    readOnly: xlib::False,
                });
                let image = (c.xext.XShmCreateImage)(
                    c.display,
                    c.visual,
                    c.depth as c_uint,
                    xlib::ZPixmap,
                    ptr::null_mut(),
                    &mut *info,
                    w,
                    h,
                );
                if image.is_null() {
                    return None;
                }
                let packed =
                    (*image).bits_per_pixel == 32 && (*image).bytes_per_line == (w * 4) as c_int;
                let len = width * height;
                let shmid = if packed {
                    libc::shmget(libc::IPC_PRIVATE, len * 4, libc::IPC_CREAT | 0o600)
                } else {
                    -1
                };
                if shmid < 0 {
                    (c.xlib.XDestroyImage)(image);
                    return None;
                }
                let addr = libc::shmat(shmid, ptr::null(), 0);
                // Freed by the kernel once both we and the server have detached.
                libc::shmctl(shmid, libc::IPC_RMID, ptr::null_mut());
                if addr as isize == -1 {
                    (c.xlib.XDestroyImage)(image);
                    return None;
                }
                info.shmid = shmid;
                info.shmaddr = addr.cast::<c_char>();
                (*image).data = addr.cast::<c_char>();
                // A remote or restricted server refuses with an X error, which the default
                // handler would turn into process exit: catch it for the attach.
                (c.xlib.XSync)(c.display, xlib::False);
                ATTACH_FAILED.store(false, Ordering::Relaxed);
                let previous = (c.xlib.XSetErrorHandler)(Some(record_error));
                let attached = (c.xext.XShmAttach)(c.display, &mut *info) != 0;
                (c.xlib.XSync)(c.display, xlib::False);
                (c.xlib.XSetErrorHandler)(previous);
                if !attached || ATTACH_FAILED.load(Ordering::Relaxed) {
                    (c.xlib.XDestroyImage)(image);
                    libc::shmdt(addr);
                    return None;
                }
                Some(Segment { image, info, len })
            }
        }

        fn pixels(&self) -> &[u32] {
            // SAFETY: the segment holds `len` u32 (32 bpp, packed rows: checked in `new`),
            // is page-aligned, and lives until `free`.
            unsafe { std::slice::from_raw_parts(self.info.shmaddr.cast::<u32>(), self.len) }
        }

        fn pixels_mut(&mut self) -> &mut [u32] {
            // SAFETY: as in `pixels`; `&mut self` makes this the only view.
            unsafe { std::slice::from_raw_parts_mut(self.info.shmaddr.cast::<u32>(), self.len) }
        }

        fn free(&mut self, c: &Conn) {
            // SAFETY: detach (and sync) before unmapping so the server never reads freed
            // memory; libXext's destroy hook frees the struct, not the shared data.
            unsafe {
                (c.xext.XShmDetach)(c.display, &mut *self.info);
                (c.xlib.XSync)(c.display, xlib::False);
                (c.xlib.XDestroyImage)(self.image);
                libc::shmdt(self.info.shmaddr.cast());
            }
        }
    }

    /// The mirror of a waterfall's colour image and how far it is up to date.
    struct Mirror {
        segment: Segment,
        capacity: usize,
        height: usize,
        /// `Waterfall::recolors` when last copied whole.
        recolors: u64,
        /// Columns `[.., serial)` are copied.
        serial: u64,
    }

    /// Frame buffer, waterfall mirrors (one per pane) and back buffer of one window size.
    ///
    /// Thread: UI. Must be dropped before the minifb `Window` (it uses its display).
    pub struct ShmPresenter {
        c: Conn,
        window: xlib::Window,
        gc: xlib::GC,
        pixmap: xlib::Pixmap,
        frame: Segment,
        mirrors: Vec<Option<Mirror>>,
        width: u32,
        height: u32,
        /// Requests were sent that read shared memory and no round trip has followed.
        in_flight: bool,
    }

    impl ShmPresenter {
        /// `None` when anything is missing: the libraries, an Xlib window, the extension,
        /// or a usable shared-memory image.
        pub fn new(window: &Window, width: usize, height: usize) -> Option<ShmPresenter> {
            let RawDisplayHandle::Xlib(dh) = window.display_handle().ok()?.as_raw() else {
                return None;
            };
            let RawWindowHandle::Xlib(wh) = window.window_handle().ok()?.as_raw() else {
                return None;
            };
            let display = dh.display?.as_ptr().cast::<xlib::Display>();
            let xlib = Xlib::open().ok()?;
            let xext = Xext::open().ok()?;
            // SAFETY: minifb's open connection and window, on their thread.
            unsafe {
                if (xext.XShmQueryExtension)(display) == 0 {
                    return None;
                }
                let c = Conn {
                    visual: (xlib.XDefaultVisual)(display, dh.screen),
                    depth: (xlib.XDefaultDepth)(display, dh.screen),
                    xlib,
                    xext,
                    display,
                };
                let frame = Segment::new(&c, width, height)?;
                let (w, h) = (width as u32, height as u32);
                let pixmap = (c.xlib.XCreatePixmap)(display, wh.window, w, h, c.depth as c_uint);
                let gc = (c.xlib.XCreateGC)(display, wh.window, 0, ptr::null_mut());
                Some(ShmPresenter {
                    c,
                    window: wh.window,
                    gc,
                    pixmap,
                    frame,
                    mirrors: Vec::new(),
                    width: w,
                    height: h,
                    in_flight: false,
                })
            }
        }

        pub fn frame(&self) -> &[u32] {
            self.frame.pixels()
        }

        pub fn frame_mut(&mut self) -> &mut [u32] {
            self.frame.pixels_mut()
        }

        /// Waits until the server has executed every request sent, so it no longer
        /// reads shared memory.
        pub fn wait_idle(&mut self) {
            if self.in_flight {
                // SAFETY: minifb's live connection, on its thread.
                unsafe { (self.c.xlib.XSync)(self.c.display, xlib::False) };
                self.in_flight = false;
            }
        }

        /// Copies the waterfall's new columns (all of them after a re-colouring or a
        /// size change) into the mirror. Call after [`ShmPresenter::wait_idle`].
        pub fn sync_waterfall(&mut self, image: usize, wf: &Waterfall) {
            let (capacity, height) = (wf.capacity(), wf.height());
            if self.mirrors.len() <= image {
                self.mirrors.resize_with(image + 1, || None);
            }
            let slot = &mut self.mirrors[image];
            if slot
                .as_ref()
                .is_some_and(|m| m.capacity != capacity || m.height != height)
            {
                if let Some(mut m) = slot.take() {
                    m.segment.free(&self.c);
                }
            }
            if slot.is_none() {
                let Some(segment) = Segment::new(&self.c, capacity, height) else {
                    return;
                };
                *slot = Some(Mirror {
                    segment,
                    capacity,
                    height,
                    recolors: wf.recolors().wrapping_sub(1),
                    serial: 0,
                });
            }
            let m = slot.as_mut().expect("created above");
            let src = wf.pixels();
            let next = wf.next_serial();
            let dst = m.segment.pixels_mut();
            if m.recolors != wf.recolors() || next - m.serial.min(next) >= capacity as u64 {
                dst.copy_from_slice(src);
            } else {
                // New columns form one or two runs of image columns.
                let c0 = (m.serial % capacity as u64) as usize;
                let n = (next - m.serial) as usize;
                let first = n.min(capacity - c0);
                for row in 0..height {
                    let r = row * capacity;
                    dst[r + c0..r + c0 + first].copy_from_slice(&src[r + c0..r + c0 + first]);
                    dst[r..r + n - first].copy_from_slice(&src[r..r + n - first]);
                }
            }
            m.recolors = wf.recolors();
            m.serial = next;
        }

        /// Forces the next [`ShmPresenter::sync_waterfall`] to copy everything.
        pub fn invalidate_waterfall(&mut self, image: usize) {
            if let Some(Some(m)) = self.mirrors.get_mut(image) {
                m.serial = 0;
                m.recolors = u64::MAX;
            }
        }

        /// Executes `blits` into the back buffer, copies it to the window and flushes.
        /// Returns when every request was issued and when the flush returned.
        pub fn execute(&mut self, blits: &[Blit]) -> (Instant, Instant) {
            let (d, c) = (self.c.display, &self.c);
            // SAFETY: images, pixmap, GC and window belong to this live connection.
            unsafe {
                for blit in blits {
                    match *blit {
                        Blit::Frame(r) => {
                            (c.xext.XShmPutImage)(
                                d,
                                self.pixmap,
                                self.gc,
                                self.frame.image,
                                r.x as c_int,
                                r.y as c_int,
                                r.x as c_int,
                                r.y as c_int,
                                r.w as c_uint,
                                r.h as c_uint,
                                xlib::False,
                            );
                        }
                        Blit::Waterfall {
                            image,
                            src_col,
                            w,
                            h,
                            dst_x,
                            dst_y,
                        } => {
                            let Some(Some(m)) = self.mirrors.get(image) else {
                                continue;
                            };
                            (c.xext.XShmPutImage)(
                                d,
                                self.pixmap,
                                self.gc,
                                m.segment.image,
                                src_col as c_int,
                                0,
                                dst_x as c_int,
                                dst_y as c_int,
                                w as c_uint,
                                h as c_uint,
                                xlib::False,
                            );
                        }
                        Blit::Fill(r, color) => {
                            (c.xlib.XSetForeground)(d, self.gc, u64::from(color));
                            (c.xlib.XFillRectangle)(
                                d,
                                self.pixmap,
                                self.gc,
                                r.x as c_int,
                                r.y as c_int,
                                r.w as c_uint,
                                r.h as c_uint,
                            );
                        }
                    }
                }
                (c.xlib.XCopyArea)(
                    d,
                    self.pixmap,
                    self.window,
                    self.gc,
                    0,
                    0,
                    self.width,
                    self.height,
                    0,
                    0,
                );
                let issued = Instant::now();
                (c.xlib.XFlush)(d);
                let flushed = Instant::now();
                self.in_flight = true;
                (issued, flushed)
            }
        }
    }

    impl Drop for ShmPresenter {
        fn drop(&mut self) {
            for mut m in self.mirrors.drain(..).flatten() {
                m.segment.free(&self.c);
            }
            self.frame.free(&self.c);
            // SAFETY: the connection outlives this presenter (see the type's doc).
            unsafe {
                (self.c.xlib.XFreePixmap)(self.c.display, self.pixmap);
                (self.c.xlib.XFreeGC)(self.c.display, self.gc);
            }
        }
    }
}
