//! MIT-SHM images and a back-buffer pixmap on minifb's own X connection (x11-dl, loaded
//! at run time like minifb does, so no X library is needed to build).
//!
//! Every unsafe operation sits alone in its block, with the invariant it relies on. The
//! one they all share (the module invariant): `Conn::display` is minifb's open
//! connection, used only from the thread that owns the window, and the window outlives
//! everything made here. [`super::Screen`] guarantees it: it owns the window and the
//! presenter, and its `Drop` releases the presenter first.
//!
//! Each X or kernel resource frees itself on drop ([`Image`], [`Shared`], [`Segment`],
//! [`Pixmap`], [`Gc`]), so every early return of a constructor cleans up what was made;
//! each holds an `Rc<Conn>`, so the function tables outlive their last user.
//!
//! Thread: UI (main) only.
#![allow(unsafe_code)]
#![deny(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]

use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::ptr::{self, NonNull};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use minifb::Window;
use raw_window_handle::{HasDisplayHandle, HasWindowHandle, RawDisplayHandle, RawWindowHandle};
use x11_dl::xlib::{self, Xlib};
use x11_dl::xshm::{XShmSegmentInfo, Xext};

use super::Blit;
use crate::render::chrome::Rect;
use crate::render::waterfall::Waterfall;

/// Set by [`record_error`] while a segment is being attached.
static ATTACH_FAILED: AtomicBool = AtomicBool::new(false);

/// Xlib error handler for the attach: records the failure instead of exiting.
unsafe extern "C" fn record_error(
    _display: *mut xlib::Display,
    _event: *mut xlib::XErrorEvent,
) -> c_int {
    ATTACH_FAILED.store(true, Ordering::Relaxed);
    0
}

/// The X libraries, minifb's connection and window, and the screen's visual.
struct Conn {
    xlib: Xlib,
    xext: Xext,
    display: *mut xlib::Display,
    window: xlib::Window,
    visual: *mut xlib::Visual,
    depth: c_int,
}

impl Conn {
    /// `None` when the window is not an Xlib one, a library is missing, or the server
    /// has no MIT-SHM.
    fn open(window: &Window) -> Option<Rc<Conn>> {
        let RawDisplayHandle::Xlib(dh) = window.display_handle().ok()?.as_raw() else {
            return None;
        };
        let RawWindowHandle::Xlib(wh) = window.window_handle().ok()?.as_raw() else {
            return None;
        };
        let display = dh.display?.as_ptr().cast::<xlib::Display>();
        let xlib = Xlib::open().ok()?;
        let xext = Xext::open().ok()?;
        // SAFETY: the module invariant (`display` is minifb's open connection).
        let has_shm = unsafe { (xext.XShmQueryExtension)(display) } != 0;
        if !has_shm {
            return None;
        }
        // SAFETY: the module invariant; `dh.screen` is the screen minifb opened.
        let visual = unsafe { (xlib.XDefaultVisual)(display, dh.screen) };
        // SAFETY: as above.
        let depth = unsafe { (xlib.XDefaultDepth)(display, dh.screen) };
        Some(Rc::new(Conn {
            xlib,
            xext,
            display,
            window: wh.window,
            visual,
            depth,
        }))
    }

    /// Waits until the server has processed every request sent.
    fn sync(&self) {
        // SAFETY: the module invariant.
        unsafe { (self.xlib.XSync)(self.display, xlib::False) };
    }

    /// Sends the queued requests.
    fn flush(&self) {
        // SAFETY: the module invariant.
        unsafe { (self.xlib.XFlush)(self.display) };
    }
}

/// An `XImage` made by `XShmCreateImage`; destroyed on drop (libXext's destroy hook
/// frees the struct, never the shared pixels).
struct Image {
    conn: Rc<Conn>,
    ptr: NonNull<xlib::XImage>,
}

impl Image {
    /// A `w` × `h` image of the screen's visual described by `info` (no pixels yet);
    /// `None` unless it is 32 bits per pixel with packed rows.
    fn new(conn: &Rc<Conn>, info: &mut XShmSegmentInfo, w: u32, h: u32) -> Option<Image> {
        // SAFETY: the module invariant; `info` is only recorded in the image here.
        let raw = unsafe {
            (conn.xext.XShmCreateImage)(
                conn.display,
                conn.visual,
                conn.depth as c_uint,
                xlib::ZPixmap,
                ptr::null_mut(),
                info,
                w,
                h,
            )
        };
        let image = Image {
            conn: Rc::clone(conn),
            ptr: NonNull::new(raw)?,
        };
        // SAFETY: `ptr` is the image Xlib just made, valid and not yet shared.
        let made = unsafe { image.ptr.as_ref() };
        let packed = made.bits_per_pixel == 32 && made.bytes_per_line == (w * 4) as c_int;
        packed.then_some(image)
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: the module invariant; `ptr` came from `XShmCreateImage` and is
        // destroyed once, here.
        unsafe { (self.conn.xlib.XDestroyImage)(self.ptr.as_ptr()) };
    }
}

/// A private System V shared-memory segment mapped into this process, marked for
/// removal as soon as it is mapped (the kernel frees it once both we and the server
/// have detached); unmapped on drop.
struct Shared {
    shmid: c_int,
    addr: NonNull<c_void>,
}

impl Shared {
    fn new(bytes: usize) -> Option<Shared> {
        // SAFETY: plain syscall; no memory is touched.
        let shmid = unsafe { libc::shmget(libc::IPC_PRIVATE, bytes, libc::IPC_CREAT | 0o600) };
        if shmid < 0 {
            return None;
        }
        // SAFETY: maps the segment just made at an address the kernel picks.
        let addr = unsafe { libc::shmat(shmid, ptr::null(), 0) };
        // SAFETY: marks the segment for removal; mappings stay valid until detached.
        unsafe { libc::shmctl(shmid, libc::IPC_RMID, ptr::null_mut()) };
        if addr as isize == -1 {
            return None;
        }
        Some(Shared {
            shmid,
            addr: NonNull::new(addr)?,
        })
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: `addr` was mapped by `shmat` and is unmapped once, here; the slices
        // `Segment` hands out borrow it and cannot outlive it.
        unsafe { libc::shmdt(self.addr.as_ptr()) };
    }
}

/// A shared-memory image of packed 32-bit pixels, attached to the server.
///
/// Drop order: `Drop` detaches from the server (and waits for it) first; then the fields
/// go in declaration order: the image, the mapping, and last the segment info the image
/// points to.
struct Segment {
    image: Image,
    shared: Shared,
    /// Boxed: Xlib keeps its address while the segment is attached.
    info: Box<XShmSegmentInfo>,
    len: usize,
}

impl Segment {
    /// `None` when the image has another layout, System V shared memory fails, or the
    /// server refuses to attach (remote displays).
    fn new(conn: &Rc<Conn>, width: usize, height: usize) -> Option<Segment> {
        let (w, h) = (u32::try_from(width).ok()?, u32::try_from(height).ok()?);
        if w == 0 || h == 0 || w > 32767 || h > 32767 {
            return None;
        }
        let mut info = Box::new(XShmSegmentInfo {
            shmseg: 0,
            shmid: -1,
            shmaddr: ptr::null_mut(),
            readOnly: xlib::False,
        });
        let mut image = Image::new(conn, &mut info, w, h)?;
        let len = width * height;
        let shared = Shared::new(len * 4)?;
        info.shmid = shared.shmid;
        info.shmaddr = shared.addr.as_ptr().cast::<c_char>();
        // SAFETY: the image is ours alone; its pixels are now the mapped segment.
        unsafe { image.ptr.as_mut().data = info.shmaddr };
        if !attach(conn, &mut info) {
            return None;
        }
        Some(Segment {
            image,
            shared,
            info,
            len,
        })
    }

    fn pixels(&self) -> &[u32] {
        // SAFETY: the mapping holds `len` u32 (32 bpp, packed rows: checked in `new`), is
        // page-aligned, and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.shared.addr.as_ptr().cast::<u32>(), self.len) }
    }

    fn pixels_mut(&mut self) -> &mut [u32] {
        // SAFETY: as in `pixels`; `&mut self` makes this the only view in this process
        // (the server reads it only between a request and the next `wait_idle`).
        unsafe { std::slice::from_raw_parts_mut(self.shared.addr.as_ptr().cast::<u32>(), self.len) }
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        let conn = &self.image.conn;
        // SAFETY: the module invariant; `info` is the segment attached in `new`.
        unsafe { (conn.xext.XShmDetach)(conn.display, &mut *self.info) };
        // The server must have processed the detach before the memory is unmapped.
        conn.sync();
    }
}

/// Attaches the segment `info` describes; an X error (a remote or restricted server)
/// is caught for the call instead of exiting the process.
fn attach(conn: &Conn, info: &mut XShmSegmentInfo) -> bool {
    conn.sync();
    ATTACH_FAILED.store(false, Ordering::Relaxed);
    // SAFETY: the module invariant; `record_error` only stores to an atomic.
    let previous = unsafe { (conn.xlib.XSetErrorHandler)(Some(record_error)) };
    // SAFETY: the module invariant; `info` (boxed by the caller) stays at this address
    // while attached.
    let attached = unsafe { (conn.xext.XShmAttach)(conn.display, info) } != 0;
    conn.sync();
    // SAFETY: restores the handler replaced above.
    unsafe { (conn.xlib.XSetErrorHandler)(previous) };
    attached && !ATTACH_FAILED.load(Ordering::Relaxed)
}

/// A server-side pixmap of the window's size and depth (the back buffer).
struct Pixmap {
    conn: Rc<Conn>,
    id: xlib::Pixmap,
}

impl Pixmap {
    fn new(conn: &Rc<Conn>, w: u32, h: u32) -> Pixmap {
        // SAFETY: the module invariant; `conn.window` is minifb's live window.
        let id = unsafe {
            (conn.xlib.XCreatePixmap)(conn.display, conn.window, w, h, conn.depth as c_uint)
        };
        Pixmap {
            conn: Rc::clone(conn),
            id,
        }
    }
}

impl Drop for Pixmap {
    fn drop(&mut self) {
        // SAFETY: the module invariant; `id` was made in `new` and is freed once.
        unsafe { (self.conn.xlib.XFreePixmap)(self.conn.display, self.id) };
    }
}

/// A graphics context for the window's drawables.
struct Gc {
    conn: Rc<Conn>,
    gc: xlib::GC,
}

impl Gc {
    fn new(conn: &Rc<Conn>) -> Gc {
        // SAFETY: the module invariant; no values are passed (mask 0).
        let gc = unsafe { (conn.xlib.XCreateGC)(conn.display, conn.window, 0, ptr::null_mut()) };
        Gc {
            conn: Rc::clone(conn),
            gc,
        }
    }
}

impl Drop for Gc {
    fn drop(&mut self) {
        // SAFETY: the module invariant; `gc` was made in `new` and is freed once.
        unsafe { (self.conn.xlib.XFreeGC)(self.conn.display, self.gc) };
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
/// Thread: UI. Must be dropped before the minifb `Window` (it uses its display):
/// [`super::Screen`] sees to it.
pub struct ShmPresenter {
    conn: Rc<Conn>,
    frame: Segment,
    mirrors: Vec<Option<Mirror>>,
    back: Pixmap,
    gc: Gc,
    width: u32,
    height: u32,
    /// Requests were sent that read shared memory and no round trip has followed.
    in_flight: bool,
}

impl ShmPresenter {
    /// `None` when anything is missing: the libraries, an Xlib window, the extension,
    /// or a usable shared-memory image.
    pub fn new(window: &Window, width: usize, height: usize) -> Option<ShmPresenter> {
        let conn = Conn::open(window)?;
        let frame = Segment::new(&conn, width, height)?;
        let (w, h) = (width as u32, height as u32);
        Some(ShmPresenter {
            back: Pixmap::new(&conn, w, h),
            gc: Gc::new(&conn),
            conn,
            frame,
            mirrors: Vec::new(),
            width: w,
            height: h,
            in_flight: false,
        })
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
            self.conn.sync();
            self.in_flight = false;
        }
    }

    /// Copies the waterfall's new columns (all of them after a re-colouring or a
    /// size change) into the mirror. Call after [`ShmPresenter::wait_idle`].
    pub fn sync_waterfall(&mut self, image: usize, wf: &Waterfall) {
        let Some(m) = self.mirror_for(image, wf) else {
            return;
        };
        let (capacity, height) = (m.capacity, m.height);
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

    /// The mirror of image `image`, (re)made at `wf`'s size; `None` when shared memory
    /// fails.
    fn mirror_for(&mut self, image: usize, wf: &Waterfall) -> Option<&mut Mirror> {
        let (capacity, height) = (wf.capacity(), wf.height());
        if self.mirrors.len() <= image {
            self.mirrors.resize_with(image + 1, || None);
        }
        let slot = &mut self.mirrors[image];
        if slot
            .as_ref()
            .is_some_and(|m| m.capacity != capacity || m.height != height)
        {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Some(Mirror {
                segment: Segment::new(&self.conn, capacity, height)?,
                capacity,
                height,
                recolors: wf.recolors().wrapping_sub(1),
                serial: 0,
            });
        }
        slot.as_mut()
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
        for blit in blits {
            match *blit {
                Blit::Frame(r) => self.put(&self.frame, (r.x, r.y), r),
                Blit::Waterfall {
                    image,
                    src_col,
                    w,
                    h,
                    dst_x,
                    dst_y,
                } => {
                    if let Some(Some(m)) = self.mirrors.get(image) {
                        let dst = Rect {
                            x: dst_x,
                            y: dst_y,
                            w,
                            h,
                        };
                        self.put(&m.segment, (src_col, 0), dst);
                    }
                }
                Blit::Fill(r, color) => self.fill(r, color),
            }
        }
        self.show();
        let issued = Instant::now();
        self.conn.flush();
        let flushed = Instant::now();
        self.in_flight = true;
        (issued, flushed)
    }

    /// Copies `dst.w × dst.h` pixels of `segment` from `src` to `dst` in the back buffer.
    fn put(&self, segment: &Segment, src: (usize, usize), dst: Rect) {
        let c = &self.conn;
        // SAFETY: the module invariant; the image is attached and the server reads it
        // only until the next `wait_idle`, before which nothing writes it.
        unsafe {
            (c.xext.XShmPutImage)(
                c.display,
                self.back.id,
                self.gc.gc,
                segment.image.ptr.as_ptr(),
                src.0 as c_int,
                src.1 as c_int,
                dst.x as c_int,
                dst.y as c_int,
                dst.w as c_uint,
                dst.h as c_uint,
                xlib::False,
            )
        };
    }

    /// Fills `r` of the back buffer with `color`.
    fn fill(&self, r: Rect, color: u32) {
        let c = &self.conn;
        // SAFETY: the module invariant; `gc` is ours.
        unsafe { (c.xlib.XSetForeground)(c.display, self.gc.gc, u64::from(color)) };
        // SAFETY: the module invariant; `back` and `gc` are ours.
        unsafe {
            (c.xlib.XFillRectangle)(
                c.display,
                self.back.id,
                self.gc.gc,
                r.x as c_int,
                r.y as c_int,
                r.w as c_uint,
                r.h as c_uint,
            )
        };
    }

    /// Copies the whole back buffer to the window.
    fn show(&self) {
        let c = &self.conn;
        // SAFETY: the module invariant; `back` and `gc` are ours, the window minifb's.
        unsafe {
            (c.xlib.XCopyArea)(
                c.display,
                self.back.id,
                c.window,
                self.gc.gc,
                0,
                0,
                self.width,
                self.height,
                0,
                0,
            )
        };
    }
}
