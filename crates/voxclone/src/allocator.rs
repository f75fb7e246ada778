//! Keeps freed tensor memory in the process for the next tensor, and gives it back when the
//! work is done.
//!
//! glibc hands every allocation over 128 KiB–32 MiB straight to the kernel and back: each
//! new tensor of a long signal then costs page faults and zeroing of fresh pages. That was a
//! quarter of speaker adaptation's time (hundreds of such tensors per step, forward and
//! backward). Raising the thresholds lets malloc reuse them.

/// Call once at start-up, before heavy work. Does nothing outside glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before threads allocate much.
    unsafe {
        // 1 GiB: above any single tensor we make.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Returns the memory freed so far to the operating system (glibc's `malloc_trim`, every
/// arena). [`keep_freed_memory`] keeps freed blocks for reuse while work runs; a long-lived
/// process (the server) calls this when it falls idle, so what one request used is not held
/// until the next. Takes a few milliseconds on a large heap. Does nothing outside glibc.
pub fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the top of the heaps and unused pages
    // inside them; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
