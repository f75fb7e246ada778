//! Direct 1-D convolution on AVX2 + FMA, in f32: the decoder's convolutions on x86 CPUs without
//! AMX (most laptops, desktops and AMD servers).
//!
//! Why not candle's convolution: it first unfolds the input (im2col, a copy `taps` times the
//! input's size) and then multiplies with the `gemm` crate, and on two threads it gains little
//! from the second core. Here each tile of the output, [`MR`] output channels × [`NR`] frames,
//! stays in twelve vector registers while the reduction runs over every input channel and tap,
//! reading the (zero-padded) input in place and the weights in the order they are used, and the
//! tiles are shared out between threads (Kokoro on a 2-core EPYC: 1.25× candle's speed on one
//! thread, 2.1× on two; BENCHMARKS.md).

use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps,
    _mm256_setzero_ps, _mm256_storeu_ps,
};

/// Output channels per tile (rows).
pub const MR: usize = 6;
/// Frames per tile: two 8-lane vectors.
pub const NR: usize = 16;
/// Tiles per work item along time: an item's weights (one row block) are read once from memory
/// and then reused from cache by its tiles.
const TILES_PER_ITEM: usize = 8;

/// Weights `[cout, cin, taps]` in the order the tile reads them: for each block of [`MR`] output
/// channels, for each input channel and tap, the block's [`MR`] weights side by side (zero past
/// `cout`).
#[derive(Debug, Clone)]
pub struct PackedWeights {
    pub cout: usize,
    pub cin: usize,
    pub taps: usize,
    values: Vec<f32>,
}

impl PackedWeights {
    pub fn new(w: &[f32], cout: usize, cin: usize, taps: usize) -> Self {
        assert_eq!(w.len(), cout * cin * taps, "weight of {cout}×{cin}×{taps}");
        let blocks = cout.div_ceil(MR);
        let mut values = vec![0f32; blocks * cin * taps * MR];
        for (o, row) in w.chunks_exact(cin * taps).enumerate() {
            let (block, r) = (o / MR, o % MR);
            for (j, &v) in row.iter().enumerate() {
                // j = i·taps + k: the block's (input channel, tap) pairs in the same order.
                values[(block * cin * taps + j) * MR + r] = v;
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

    fn block(&self, b: usize) -> &[f32] {
        let n = self.cin * self.taps * MR;
        &self.values[b * n..(b + 1) * n]
    }
}

/// One batch entry: `x` (`cin × len`, row-major) → `cout × tout` with
/// `tout = len + 2·padding − dilation·(taps − 1)`, plus `bias` (one per output channel, or
/// empty). Panics if the CPU lacks AVX2 or FMA ([`crate::Kernel::Avx2`]).
pub fn conv(
    w: &PackedWeights,
    bias: &[f32],
    x: &[f32],
    len: usize,
    padding: usize,
    dilation: usize,
) -> Vec<f32> {
    assert!(
        crate::Kernel::Avx2.is_available(),
        "the AVX2 convolution needs AVX2 and FMA"
    );
    assert_eq!(x.len(), w.cin * len);
    let span = dilation * (w.taps - 1);
    assert!(
        len + 2 * padding > span,
        "input shorter than the kernel's span"
    );
    let tout = len + 2 * padding - span;
    // Whole tiles: the padded input is wide enough for the last tile's every tap.
    let ldo = tout.next_multiple_of(NR);
    let width = ldo + span;
    let mut padded = vec![0f32; w.cin * width];
    for (row, src) in padded.chunks_exact_mut(width).zip(x.chunks_exact(len)) {
        row[padding..padding + len].copy_from_slice(src);
    }
    let rows = w.blocks() * MR;
    let mut out = vec![0f32; rows * ldo];
    let mut bias_rows = vec![0f32; rows];
    bias_rows[..bias.len()].copy_from_slice(bias);

    let ptr = super::OutPtr(out.as_mut_ptr());
    let (padded, bias_rows) = (&padded, &bias_rows);
    super::for_each_tile(w.blocks(), ldo / NR, TILES_PER_ITEM, |block, tile| {
        let weights = w.block(block);
        let bias = &bias_rows[block * MR..(block + 1) * MR];
        // SAFETY: AVX2 and FMA were checked above; the tile reads `cin` rows of `padded` from
        // `tile·NR` to `tile·NR + NR + span` ≤ `width`, and writes rows `block·MR..+MR`, columns
        // `tile·NR..+NR` of `out` (`rows × ldo`), which no other tile writes.
        unsafe {
            tile_6x16(
                weights,
                padded.as_ptr().add(tile * NR),
                width,
                w.cin,
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

/// One output tile: `out[r][t] = bias[r] + Σ_{i, k} weights[i, k, r] · x[i][t + k·dilation]` for
/// `r < MR`, `t < NR`, where `x` points at the tile's first frame in row 0 of the padded input
/// (rows `width` apart) and `out` at the tile's first element (rows `ldo` apart).
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_6x16(
    weights: &[f32],
    x: *const f32,
    width: usize,
    cin: usize,
    taps: usize,
    dilation: usize,
    bias: &[f32],
    out: *mut f32,
    ldo: usize,
) {
    let mut acc: [[__m256; 2]; MR] = [[_mm256_setzero_ps(); 2]; MR];
    let mut wp = weights.as_ptr();
    for i in 0..cin {
        let row = x.add(i * width);
        for k in 0..taps {
            let at = row.add(k * dilation);
            let x0 = _mm256_loadu_ps(at);
            let x1 = _mm256_loadu_ps(at.add(8));
            for (r, acc) in acc.iter_mut().enumerate() {
                let wv = _mm256_broadcast_ss(&*wp.add(r));
                acc[0] = _mm256_fmadd_ps(wv, x0, acc[0]);
                acc[1] = _mm256_fmadd_ps(wv, x1, acc[1]);
            }
            wp = wp.add(MR);
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        let b = _mm256_set1_ps(bias[r]);
        let row = out.add(r * ldo);
        _mm256_storeu_ps(row, _mm256_add_ps(acc[0], b));
        _mm256_storeu_ps(row.add(8), _mm256_add_ps(acc[1], b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, in f64.
    fn reference(
        w: &[f32],
        (cout, cin, taps): (usize, usize, usize),
        bias: &[f32],
        x: &[f32],
        len: usize,
        padding: usize,
        dilation: usize,
    ) -> Vec<f32> {
        let tout = len + 2 * padding - dilation * (taps - 1);
        let mut out = vec![0f32; cout * tout];
        for o in 0..cout {
            for t in 0..tout {
                let mut sum = bias.get(o).copied().unwrap_or(0.0) as f64;
                for i in 0..cin {
                    for k in 0..taps {
                        let u = (t + k * dilation) as isize - padding as isize;
                        if (0..len as isize).contains(&u) {
                            sum +=
                                w[(o * cin + i) * taps + k] as f64 * x[i * len + u as usize] as f64;
                        }
                    }
                }
                out[o * tout + t] = sum as f32;
            }
        }
        out
    }

    #[test]
    fn matches_the_definition_on_ragged_shapes() {
        if !crate::Kernel::Avx2.is_available() {
            eprintln!("no AVX2 here: skipped");
            return;
        }
        let mut seed = 1u32;
        let mut draw = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        // (cout, cin, taps, dilation, padding, len): rows and frames that fill no whole tile.
        for (cout, cin, taps, d, p, len) in [
            (7, 5, 3, 1, 1, 17),
            (13, 9, 7, 3, 9, 40),
            (6, 1, 11, 5, 25, 16),
            (1, 3, 1, 1, 0, 5),
            (20, 33, 5, 2, 0, 50),
        ] {
            let w: Vec<f32> = (0..cout * cin * taps).map(|_| draw()).collect();
            let bias: Vec<f32> = (0..cout).map(|_| draw()).collect();
            let x: Vec<f32> = (0..cin * len).map(|_| draw()).collect();
            let packed = PackedWeights::new(&w, cout, cin, taps);
            let got = conv(&packed, &bias, &x, len, p, d);
            let want = reference(&w, (cout, cin, taps), &bias, &x, len, p, d);
            assert_eq!(got.len(), want.len());
            for (g, e) in got.iter().zip(&want) {
                assert!(
                    (g - e).abs() < 1e-5,
                    "({cout}, {cin}, {taps}, d{d}, p{p}): {g} vs {e}"
                );
            }
        }
    }
}
