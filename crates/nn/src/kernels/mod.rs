//! Fast CPU kernels, each with a plain candle computation as its reference, its fallback and
//! (where training needs one) its gradient:
//!
//! - [`conv`]: stride-1 1-D convolutions ([`FastConv1d`]) on AMX tiles, AVX-512 BF16 dot
//!   products or AVX2 + FMA registers;
//! - [`adain`]: instance norm, AdaIN affine and activation in one pass;
//! - [`dense`]: `y = bias + x · W` for a few rows, the step of a recurrent loop (WaveRNN,
//!   Tacotron's decoder, the GRU);
//! - [`lstm`]: a whole LSTM stack and projection without tensors (the speaker encoder).
//!
//! Which kernel runs is decided in one place: [`Kernel`] lists the families, fastest first, and
//! says which this CPU has; [`KernelConfig`] is the application's choice (a ceiling, and the AMX
//! convolution's [`Precision`]). Libraries never read the environment: the application (the
//! `voxclone` CLI reads `VOXCLONE_KERNEL`) calls [`configure`] before it loads a model, because
//! weights are packed for their kernel when they are loaded.

use std::sync::atomic::{AtomicU8, Ordering};

pub mod adain;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod amx_conv;
#[cfg(target_arch = "x86_64")]
mod avx2_conv;
#[cfg(target_arch = "x86_64")]
mod avx512bf16_conv;
pub mod bf16;
pub mod conv;
pub mod dense;
pub mod lstm;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub mod tiles;

pub use conv::FastConv1d;

/// The kernel families, fastest first. A computation offers some of them (the convolution has no
/// AVX-512 variant, the LSTM no AVX2 one) and runs the fastest that the CPU has and the
/// configuration allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kernel {
    /// AMX tiles (bf16, or bf16x3 at f32-level accuracy): Sapphire Rapids and later.
    Amx,
    /// AVX-512: f32 registers for the LSTM; for the convolution, bf16 dot products
    /// (`vdpbf16ps`, where the CPU also has AVX512_BF16).
    Avx512,
    /// AVX2 + FMA registers, f32.
    Avx2,
    /// candle's own operations and the `gemm` crate: every CPU.
    Portable,
}

impl Kernel {
    pub const FASTEST_FIRST: [Kernel; 4] =
        [Kernel::Amx, Kernel::Avx512, Kernel::Avx2, Kernel::Portable];

    /// The name `VOXCLONE_KERNEL` and the benchmarks use.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Amx => "amx",
            Kernel::Avx512 => "avx512",
            Kernel::Avx2 => "avx2",
            Kernel::Portable => "portable",
        }
    }

    /// The kernel of that [`name`](Self::name), if any.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Self::FASTEST_FIRST.into_iter().find(|k| k.name() == name)
    }

    /// Whether this CPU (and OS) can run the family.
    pub fn is_available(self) -> bool {
        match self {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kernel::Amx => tiles::available(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            Kernel::Portable => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The fastest family this CPU has.
    pub fn fastest() -> Kernel {
        Kernel::Portable.fastest_among(&Self::FASTEST_FIRST, Kernel::Amx)
    }

    /// Of `offered` (fastest first), the first that is no faster than `ceiling` and available
    /// here; `self` when none is (the fallback every computation has).
    pub fn fastest_among(self, offered: &[Kernel], ceiling: Kernel) -> Kernel {
        offered
            .iter()
            .copied()
            .find(|k| *k >= ceiling && k.is_available())
            .unwrap_or(self)
    }

    /// Of `offered` (fastest first, ending with [`Kernel::Portable`]), the one the current
    /// [`KernelConfig`] picks.
    pub fn configured(offered: &[Kernel]) -> Kernel {
        Kernel::Portable.fastest_among(offered, config().ceiling)
    }
}

impl std::str::FromStr for Kernel {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Kernel::from_name(name).ok_or_else(|| {
            format!("unknown kernel {name:?}: expected amx, avx512, avx2 or portable")
        })
    }
}

/// The arithmetic of the AMX convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// bf16 operands (8 significant bits), f32 accumulation: 3× the speed of [`Precision::Bf16x3`].
    /// The default; the parity test's log-mel distances to the reference move by ≤ 0.05 dB.
    Bf16,
    /// Each operand split into two bf16 (16 significant bits), three products: f32-level
    /// accuracy (relative error ~4e-6 against candle's f32 convolution).
    Bf16x3,
}

/// The application's choice of kernels, process-wide (CPU features are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelConfig {
    /// The fastest family any computation may use; each takes the fastest it has from here
    /// down. [`Kernel::Amx`] (the default) means "the fastest the CPU has".
    pub ceiling: Kernel,
    /// The AMX convolution's arithmetic (layers that need f32 accuracy ask for it themselves).
    pub precision: Precision,
}

impl Default for KernelConfig {
    fn default() -> Self {
        Self {
            ceiling: Kernel::Amx,
            precision: Precision::Bf16,
        }
    }
}

impl KernelConfig {
    /// The configuration named by the application's settings (for the CLI and the benchmarks,
    /// `VOXCLONE_KERNEL` and `VOXCLONE_CONV_PRECISION`): a kernel name (`amx`, `avx512`, `avx2`,
    /// `portable`; empty or absent means the fastest) and a precision (`f32` or `bf16x3` for
    /// [`Precision::Bf16x3`]; anything else, bf16).
    pub fn from_settings(kernel: Option<&str>, precision: Option<&str>) -> Result<Self, String> {
        let ceiling = match kernel.map(str::trim) {
            None | Some("") => Kernel::Amx,
            Some(name) => name.parse()?,
        };
        let precision = match precision {
            Some("f32" | "bf16x3") => Precision::Bf16x3,
            _ => Precision::Bf16,
        };
        Ok(Self { ceiling, precision })
    }
}

static CEILING: AtomicU8 = AtomicU8::new(0);
static BF16X3: AtomicU8 = AtomicU8::new(0);

/// Sets the kernels for models loaded from now on (weights are packed at load time).
pub fn configure(config: KernelConfig) {
    let rank = Kernel::FASTEST_FIRST
        .iter()
        .position(|k| *k == config.ceiling)
        .unwrap_or(0);
    CEILING.store(rank as u8, Ordering::Relaxed);
    BF16X3.store(
        (config.precision == Precision::Bf16x3) as u8,
        Ordering::Relaxed,
    );
}

/// The configuration [`configure`] last set, or the default.
pub fn config() -> KernelConfig {
    KernelConfig {
        ceiling: Kernel::FASTEST_FIRST[CEILING.load(Ordering::Relaxed) as usize],
        precision: if BF16X3.load(Ordering::Relaxed) == 1 {
            Precision::Bf16x3
        } else {
            Precision::Bf16
        },
    }
}

/// An output buffer that threads share; each writes its own tiles or blocks.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr(pub(crate) *mut f32);
// SAFETY: every user gives each thread a disjoint part of the buffer.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// The element `offset` floats in (a method, so that closures capture the whole `OutPtr`).
    pub(crate) fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// Runs `tile(block, tile)` for every one of `blocks` row blocks and `tiles` tiles along time,
/// shared out between candle's threads in work items of up to `tiles_per_item` consecutive tiles
/// of one block: an item's weights are read from memory once, then from cache.
#[cfg(target_arch = "x86_64")]
pub(crate) fn for_each_tile(
    blocks: usize,
    tiles: usize,
    tiles_per_item: usize,
    tile: impl Fn(usize, usize) + Sync,
) {
    let groups = tiles.div_ceil(tiles_per_item);
    candle_core::utils::barrier_pool().execute_chunked(blocks * groups, |range| {
        for item in range {
            let (block, group) = (item / groups, item % groups);
            for t in group * tiles_per_item..((group + 1) * tiles_per_item).min(tiles) {
                tile(block, t);
            }
        }
    });
}

/// Keeps, in place, the first `rows` rows and `cols` columns of a row-major buffer whose rows are
/// `ld` apart: the kernels compute whole tiles and padded rows, and return the exact output.
#[cfg(target_arch = "x86_64")]
pub(crate) fn crop_rows(out: &mut Vec<f32>, ld: usize, rows: usize, cols: usize) {
    if ld != cols {
        for r in 1..rows {
            out.copy_within(r * ld..r * ld + cols, r * cols);
        }
    }
    out.truncate(rows * cols);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for k in Kernel::FASTEST_FIRST {
            assert_eq!(k.name().parse::<Kernel>(), Ok(k));
        }
        assert!("sse".parse::<Kernel>().unwrap_err().contains("avx2"));
        let config = KernelConfig::from_settings(Some("avx2"), Some("f32")).unwrap();
        assert_eq!(
            (config.ceiling, config.precision),
            (Kernel::Avx2, Precision::Bf16x3)
        );
        assert_eq!(
            KernelConfig::from_settings(None, None),
            Ok(KernelConfig::default())
        );
        assert!(KernelConfig::from_settings(Some("fast"), None).is_err());
    }

    #[test]
    fn a_ceiling_picks_the_fastest_offered_kernel_from_there_down() {
        const CONV: [Kernel; 3] = [Kernel::Amx, Kernel::Avx2, Kernel::Portable];
        let pick = |ceiling| Kernel::Portable.fastest_among(&CONV, ceiling);
        assert_eq!(pick(Kernel::Portable), Kernel::Portable);
        let avx2 = if Kernel::Avx2.is_available() {
            Kernel::Avx2
        } else {
            Kernel::Portable
        };
        // The convolution has no AVX-512 variant: an AVX-512 ceiling runs AVX2.
        assert_eq!(pick(Kernel::Avx2), avx2);
        assert_eq!(pick(Kernel::Avx512), avx2);
        let best = if Kernel::Amx.is_available() {
            Kernel::Amx
        } else {
            avx2
        };
        assert_eq!(pick(Kernel::Amx), best);
        assert!(Kernel::fastest().is_available());
    }
}
