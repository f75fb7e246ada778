//! Direct 1-D convolution with AVX-512 BF16 dot products (`vdpbf16ps`): bf16 operands, f32
//! accumulation, for x86 CPUs that have AVX512_BF16 but no AMX (AMD Zen 4 and later, Intel
//! Cooper Lake).
//!
//! Why: on such CPUs the f32 AVX2 kernel ([`super::avx2_conv`]) is bound by FMA throughput, and
//! one `vdpbf16ps` does the work of two f32 FMAs: each 32-bit lane multiplies a *pair* of bf16
//! values and adds both products. The pair is two neighbouring input channels at one frame, so
//! the input is packed once per call as one `u32` per channel pair and frame (the layout the AMX
//! kernel reads too), and each weight as the matching pair `(w[o, 2p, k], w[o, 2p + 1, k])`,
//! broadcast to every lane. A tile of [`MR`] output channels × [`NR`] frames stays in 24 of the
//! 32 vector registers while the reduction runs over channel pairs and taps.
//!
//! Accuracy is that of the AMX kernel's default [`super::Precision::Bf16`] (8 significant bits
//! per operand, f32 sums); layers that need f32 accuracy ask for [`super::Precision::Bf16x3`] and
//! get the AVX2 kernel instead.

use std::arch::x86_64::{
    __m512bh, __m512i, _mm512_add_ps, _mm512_dpbf16_ps, _mm512_loadu_si512, _mm512_set1_epi32,
    _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
};

use super::bf16::bf16;

/// Output channels per tile (rows).
pub const MR: usize = 12;
/// Frames per tile: two vectors of 16 lanes.
pub const NR: usize = 32;
/// Tiles per work item along time: an item's weights are read once from memory, then from cache.
const TILES_PER_ITEM: usize = 8;

/// Whether the CPU has the instructions (AVX-512F for the registers, AVX512_BF16 for the product).
pub fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bf16")
}

/// Two bf16 in one `u32`: `lo` in the low half (the even channel), `hi` in the high half.
fn pair(lo: f32, hi: f32) -> u32 {
    bf16(lo) as u32 | (bf16(hi) as u32) << 16
}

/// Weights `[cout, cin, taps]` as the tile reads them: per block of [`MR`] output channels, per
/// input-channel pair and tap, the block's [`MR`] weight pairs side by side (zero past `cout`
/// and past an odd `cin`).
#[derive(Debug, Clone)]
pub struct PackedWeights {
    pub cout: usize,
    pub cin: usize,
    pub taps: usize,
    values: Vec<u32>,
}

impl PackedWeights {
    pub fn new(w: &[f32], cout: usize, cin: usize, taps: usize) -> Self {
        assert_eq!(w.len(), cout * cin * taps, "weight of {cout}×{cin}×{taps}");
        let (blocks, pairs) = (cout.div_ceil(MR), cin.div_ceil(2));
        let mut values = vec![0u32; blocks * pairs * taps * MR];
        let at = |o: usize, i: usize, k: usize| {
            if i < cin {
                w[(o * cin + i) * taps + k]
            } else {
                0.0
            }
        };
        for o in 0..cout {
            let (block, r) = (o / MR, o % MR);
            for p in 0..pairs {
                for k in 0..taps {
                    values[((block * pairs + p) * taps + k) * MR + r] =
                        pair(at(o, 2 * p, k), at(o, 2 * p + 1, k));
                }
            }
        }
        Self {
            cout,
            cin,
            taps,
            values,
        }
    }

    fn blocks(&self) -> usize {
        self.cout.div_ceil(MR)
    }

    fn pairs(&self) -> usize {
        self.cin.div_ceil(2)
    }

    fn block(&self, b: usize) -> &[u32] {
        let n = self.pairs() * self.taps * MR;
        &self.values[b * n..(b + 1) * n]
    }
}

/// One batch entry: `x` (`cin × len`, row-major) → `cout × tout` with
/// `tout = len + 2·padding − dilation·(taps − 1)`, plus `bias` (one per output channel, or
/// empty). Panics if the CPU lacks the instructions ([`available`]).
pub fn conv(
    w: &PackedWeights,
    bias: &[f32],
    x: &[f32],
    len: usize,
    padding: usize,
    dilation: usize,
) -> Vec<f32> {
    assert!(available(), "the BF16 convolution needs AVX-512 BF16");
    assert_eq!(x.len(), w.cin * len);
    let span = dilation * (w.taps - 1);
    assert!(
        len + 2 * padding > span,
        "input shorter than the kernel's span"
    );
    let tout = len + 2 * padding - span;
    // Whole tiles: the packed input is wide enough for the last tile's every tap.
    let ldo = tout.next_multiple_of(NR);
    let width = ldo + span;
    let pairs = w.pairs();
    let mut packed = vec![0u32; pairs * width];
    for (p, row) in packed.chunks_exact_mut(width).enumerate() {
        let even = &x[2 * p * len..(2 * p + 1) * len];
        let odd = (2 * p + 1 < w.cin).then(|| &x[(2 * p + 1) * len..(2 * p + 2) * len]);
        for (t, slot) in row[padding..padding + len].iter_mut().enumerate() {
            *slot = pair(even[t], odd.map_or(0.0, |o| o[t]));
        }
    }
    let rows = w.blocks() * MR;
    let mut out = vec![0f32; rows * ldo];
    let mut bias_rows = vec![0f32; rows];
    bias_rows[..bias.len()].copy_from_slice(bias);

    let ptr = super::OutPtr(out.as_mut_ptr());
    let (packed, bias_rows) = (&packed, &bias_rows);
    super::for_each_tile(w.blocks(), ldo / NR, TILES_PER_ITEM, |block, tile| {
        let weights = w.block(block);
        let bias = &bias_rows[block * MR..(block + 1) * MR];
        // SAFETY: the instructions were checked above; the tile reads `pairs` rows of `packed`
        // from `tile·NR` to `tile·NR + NR + span` ≤ `width`, and writes rows `block·MR..+MR`,
        // columns `tile·NR..+NR` of `out` (`rows × ldo`), which no other tile writes.
        unsafe {
            tile_12x32(
                weights,
                packed.as_ptr().add(tile * NR),
                width,
                pairs,
                w.taps,
                dilation,
                bias,
                ptr.at(block * MR * ldo + tile * NR),
                ldo,
            );
        }
    });
    super::crop_rows(&mut out, ldo, w.cout, tout);
    out
}

/// The same 512 bits read as 32 bf16 (the product's operand type).
#[inline(always)]
fn as_bh(v: __m512i) -> __m512bh {
    // SAFETY: both are plain 64-byte vectors; every bit pattern is a valid value of either.
    unsafe { std::mem::transmute::<__m512i, __m512bh>(v) }
}

/// One output tile: `out[r][t] = bias[r] + Σ_{p, k} w[r, 2p, k]·x[2p][t + k·d] + w[r, 2p+1, k]·x[2p+1][t + k·d]`
/// for `r < MR`, `t < NR`, where `x` points at the tile's first frame in pair row 0 of the packed
/// input (rows `width` apart) and `out` at the tile's first element (rows `ldo` apart).
#[target_feature(enable = "avx512f,avx512bf16")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_12x32(
    weights: &[u32],
    x: *const u32,
    width: usize,
    pairs: usize,
    taps: usize,
    dilation: usize,
    bias: &[f32],
    out: *mut f32,
    ldo: usize,
) {
    // Named accumulators, not an array: LLVM keeps an array of 24 vectors on the stack.
    let z = _mm512_setzero_ps();
    let (
        mut l0,
        mut h0,
        mut l1,
        mut h1,
        mut l2,
        mut h2,
        mut l3,
        mut h3,
        mut l4,
        mut h4,
        mut l5,
        mut h5,
        mut l6,
        mut h6,
        mut l7,
        mut h7,
        mut l8,
        mut h8,
        mut l9,
        mut h9,
        mut l10,
        mut h10,
        mut l11,
        mut h11,
    ) = (
        z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z,
    );
    let mut wp = weights.as_ptr();
    for p in 0..pairs {
        let row = x.add(p * width);
        for k in 0..taps {
            let at = row.add(k * dilation);
            let x0 = as_bh(_mm512_loadu_si512(at.cast()));
            let x1 = as_bh(_mm512_loadu_si512(at.add(16).cast()));
            let w = as_bh(_mm512_set1_epi32(*wp.add(0) as i32));
            l0 = _mm512_dpbf16_ps(l0, w, x0);
            h0 = _mm512_dpbf16_ps(h0, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(1) as i32));
            l1 = _mm512_dpbf16_ps(l1, w, x0);
            h1 = _mm512_dpbf16_ps(h1, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(2) as i32));
            l2 = _mm512_dpbf16_ps(l2, w, x0);
            h2 = _mm512_dpbf16_ps(h2, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(3) as i32));
            l3 = _mm512_dpbf16_ps(l3, w, x0);
            h3 = _mm512_dpbf16_ps(h3, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(4) as i32));
            l4 = _mm512_dpbf16_ps(l4, w, x0);
            h4 = _mm512_dpbf16_ps(h4, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(5) as i32));
            l5 = _mm512_dpbf16_ps(l5, w, x0);
            h5 = _mm512_dpbf16_ps(h5, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(6) as i32));
            l6 = _mm512_dpbf16_ps(l6, w, x0);
            h6 = _mm512_dpbf16_ps(h6, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(7) as i32));
            l7 = _mm512_dpbf16_ps(l7, w, x0);
            h7 = _mm512_dpbf16_ps(h7, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(8) as i32));
            l8 = _mm512_dpbf16_ps(l8, w, x0);
            h8 = _mm512_dpbf16_ps(h8, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(9) as i32));
            l9 = _mm512_dpbf16_ps(l9, w, x0);
            h9 = _mm512_dpbf16_ps(h9, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(10) as i32));
            l10 = _mm512_dpbf16_ps(l10, w, x0);
            h10 = _mm512_dpbf16_ps(h10, w, x1);
            let w = as_bh(_mm512_set1_epi32(*wp.add(11) as i32));
            l11 = _mm512_dpbf16_ps(l11, w, x0);
            h11 = _mm512_dpbf16_ps(h11, w, x1);
            wp = wp.add(MR);
        }
    }
    for (r, (l, h)) in [
        (l0, h0),
        (l1, h1),
        (l2, h2),
        (l3, h3),
        (l4, h4),
        (l5, h5),
        (l6, h6),
        (l7, h7),
        (l8, h8),
        (l9, h9),
        (l10, h10),
        (l11, h11),
    ]
    .into_iter()
    .enumerate()
    {
        let b = _mm512_set1_ps(bias[r]);
        let row = out.add(r * ldo);
        _mm512_storeu_ps(row, _mm512_add_ps(l, b));
        _mm512_storeu_ps(row.add(16), _mm512_add_ps(h, b));
    }
}
