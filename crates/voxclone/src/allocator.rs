//! Keeps freed tensor memory in the process for the next tensor.
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
