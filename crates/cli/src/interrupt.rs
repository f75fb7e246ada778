//! Ctrl-C during long work that can stop cleanly (training): the first interrupt asks the loop to
//! finish its step, save and exit; a second one ends the process at once, as usual.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // SAFETY: restoring the default disposition is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
}

/// Catches the next SIGINT (and SIGTERM) instead of dying; see [`requested`].
pub fn catch() {
    INTERRUPTED.store(false, Ordering::SeqCst);
    let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic and resets the disposition.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Whether an interrupt arrived since [`catch`].
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
