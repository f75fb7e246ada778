//! What every AMX kernel shares: whether the tiles may be used, the 64-byte tile row, and the
//! bf16 rounding that splits an f32 into two bf16 halves.
//!
//! Accuracy ("bf16x3"): every f32 is split as `x = hi + lo` with `hi = bf16(x)` and
//! `lo = bf16(x - hi)` (together 16 significant bits, relative error ≤ 2⁻¹⁶), and a product is
//! `a_hi·b_hi + a_hi·b_lo + a_lo·b_hi`, accumulated in f32 by the hardware. The dropped
//! `a_lo·b_lo` is ≤ 2⁻¹⁶ of each term.
//!
//! Stable Rust has no AMX intrinsics, so the tile instructions are written with `asm!`. The tile
//! configuration is per-thread state: every kernel call loads it and releases it before returning.

use std::arch::asm;
use std::sync::OnceLock;

pub use super::bf16::{bf16, split};

/// bf16 values per tile row: one 64-byte line.
pub const KB: usize = 32;
/// Rows per tile (the hardware maximum), and f32 columns per C tile.
pub const TR: usize = 16;

/// One 64-byte, cache-line-aligned row of a tile: 32 bf16 values. Buffers are built from these
/// so that every tile row is one aligned line.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
pub struct Line(pub [u16; KB]);

pub const ZERO_LINE: Line = Line([0; KB]);

/// Whether AMX-BF16 is usable here: the CPU has AMX-TILE and AMX-BF16 (and the AVX-512 the
/// kernels pack with), and the OS granted this process permission to use tile data. Cached.
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if !(is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw")) {
            return false;
        }
        // cpuid leaf 7 exists on every CPU with AVX-512.
        let edx = std::arch::x86_64::__cpuid_count(7, 0).edx;
        let (amx_bf16, amx_tile) = (edx & (1 << 22) != 0, edx & (1 << 24) != 0);
        amx_bf16 && amx_tile && request_tile_permission()
    })
}

/// Asks Linux for the (per-process) right to use tile data; without it the first tile
/// instruction raises SIGILL. Repeating the request is harmless. Returns whether it is granted.
fn request_tile_permission() -> bool {
    const SYS_ARCH_PRCTL: usize = 158;
    const ARCH_GET_XCOMP_PERM: usize = 0x1022;
    const ARCH_REQ_XCOMP_PERM: usize = 0x1023;
    const XFEATURE_XTILEDATA: usize = 18;
    let ret: isize;
    // SAFETY: arch_prctl with these arguments only changes this process's permitted xfeatures;
    // the syscall instruction clobbers rcx and r11.
    unsafe {
        asm!("syscall", inlateout("rax") SYS_ARCH_PRCTL as isize => ret,
             in("rdi") ARCH_REQ_XCOMP_PERM, in("rsi") XFEATURE_XTILEDATA,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    if ret != 0 {
        return false;
    }
    // Read the permitted set back rather than trusting the return value alone.
    let mut mask = 0u64;
    let ret: isize;
    // SAFETY: the kernel writes one u64 through the pointer.
    unsafe {
        asm!("syscall", inlateout("rax") SYS_ARCH_PRCTL as isize => ret,
             in("rdi") ARCH_GET_XCOMP_PERM, in("rsi") &mut mask as *mut u64,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret == 0 && mask & (1 << XFEATURE_XTILEDATA) != 0
}

/// The 64-byte operand of `ldtilecfg` (palette 1).
#[repr(C, align(64))]
pub struct TileConfig {
    pub palette: u8,
    pub start_row: u8,
    pub reserved: [u8; 14],
    /// Bytes per row, per tile.
    pub colsb: [u16; 16],
    /// Rows, per tile.
    pub rows: [u8; 16],
}

// The tile instructions, as `asm!` (stable Rust has no AMX intrinsics). Each names its tiles
// by number: the kernels fix the roles of tmm0..7.

/// `tmm$t` ← 16 rows from `$ptr`, `$stride` bytes apart.
macro_rules! tileloadd {
    ($t:literal, $ptr:expr, $stride:expr) => {
        ::core::arch::asm!(concat!("tileloadd tmm", $t, ", [{p} + {s}*1]"),
             p = in(reg) $ptr, s = in(reg) $stride, options(nostack, readonly, preserves_flags))
    };
}
pub(crate) use tileloadd;

/// `tileloadd` with the T1 hint: the data will not be reused soon, so it should not push the
/// reused operand out of L1.
macro_rules! tileloaddt1 {
    ($t:literal, $ptr:expr, $stride:expr) => {
        ::core::arch::asm!(concat!("tileloaddt1 tmm", $t, ", [{p} + {s}*1]"),
             p = in(reg) $ptr, s = in(reg) $stride, options(nostack, readonly, preserves_flags))
    };
}
pub(crate) use tileloaddt1;

/// 16 rows of `tmm$t` → `$ptr`, `$stride` bytes apart.
macro_rules! tilestored {
    ($t:literal, $ptr:expr, $stride:expr) => {
        ::core::arch::asm!(concat!("tilestored [{p} + {s}*1], tmm", $t),
             p = in(reg) $ptr, s = in(reg) $stride, options(nostack, preserves_flags))
    };
}
pub(crate) use tilestored;

/// `tmm$c += tmm$a · tmm$b` (bf16 pairs, f32 accumulation).
macro_rules! tdpbf16ps {
    ($c:literal, $a:literal, $b:literal) => {
        ::core::arch::asm!(
            concat!("tdpbf16ps tmm", $c, ", tmm", $a, ", tmm", $b),
            options(nostack, nomem, preserves_flags)
        )
    };
}
pub(crate) use tdpbf16ps;
