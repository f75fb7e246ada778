//! A direct 1-D convolution on AMX tiles (Sapphire Rapids and later), for inference.
//!
//! The convolution `y[o, t] = Σ_{i, k} w[o, i, k] · x[i, t + k·d − p]` is a matrix product per tap
//! `k`: weights `w[:, :, k]` (`out × in`) times the input shifted by `k·d`. Nothing is unrolled
//! (no im2col): the input is packed once into the layout `tdpbf16ps` reads as its B operand
//! (pairs of channels interleaved, one `u32` per pair and frame), and a tile of the shifted input
//! is just that buffer read from column `t + k·d`.
//!
//! Accuracy: every f32 is split as `hi + lo` (two bf16, together 16 significant bits) and the
//! product is `w_lo·x_hi + w_hi·x_hi + w_hi·x_lo`, accumulated in f32 by the hardware ("bf16x3",
//! see [`super::tiles`], which this shares with the LSTM's matrix product). Relative error per product
//! ≤ ~3·2⁻¹⁶, far less after accumulation (see the tests). Or, three times faster, only
//! `w_hi·x_hi` (plain bf16 operands, f32 accumulation): [`super::Precision`].
//!
//! Stable Rust has no AMX intrinsics, so the tile instructions are written with `asm!`. The tile
//! configuration is per-thread state: every call loads it and releases it before returning.

use std::arch::asm;

pub use super::tiles::KB;
use super::tiles::{split, tdpbf16ps, tileloadd, tilestored, Line, TileConfig, TR, ZERO_LINE};
use super::OutPtr;

/// Output rows (channels) and columns (frames) of one block: 2 × 2 C tiles.
pub const BLOCK: usize = 2 * TR;

/// Convolution weights `[out, in, taps]` split into bf16 `hi`/`lo` and laid out as A tiles:
/// per (16-row output tile, tap, 32-channel input block, half) 16 lines of 32 bf16. Output
/// channels are padded with zero rows to a multiple of [`BLOCK`], input channels to [`KB`].
#[derive(Clone)]
pub struct PackedWeights {
    pub cout: usize,
    pub cin: usize,
    pub taps: usize,
    /// `cout` rounded up to [`BLOCK`].
    pub cout_padded: usize,
    /// Input-channel blocks of [`KB`].
    pub cblocks: usize,
    tiles: Vec<Line>,
}

impl std::fmt::Debug for PackedWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PackedWeights([{}, {}, {}])",
            self.cout, self.cin, self.taps
        )
    }
}

impl PackedWeights {
    /// `w`: `[cout, cin, taps]`, row-major.
    pub fn new(w: &[f32], cout: usize, cin: usize, taps: usize) -> Self {
        assert_eq!(w.len(), cout * cin * taps, "weight shape");
        let cout_padded = cout.next_multiple_of(BLOCK);
        let cblocks = cin.div_ceil(KB);
        let mut tiles = vec![ZERO_LINE; cout_padded / TR * taps * cblocks * 2 * TR];
        for o in 0..cout {
            for i in 0..cin {
                for k in 0..taps {
                    let (hi, lo) = split(w[(o * cin + i) * taps + k]);
                    let tile = (((o / TR) * taps + k) * cblocks + i / KB) * 2;
                    tiles[tile * TR + o % TR].0[i % KB] = hi;
                    tiles[(tile + 1) * TR + o % TR].0[i % KB] = lo;
                }
            }
        }
        Self {
            cout,
            cin,
            taps,
            cout_padded,
            cblocks,
            tiles,
        }
    }

    /// Reduction steps (tap × input block) per output tile.
    fn steps(&self) -> usize {
        self.taps * self.cblocks
    }
}

/// The input of one convolution in the B-operand layout: for each pair of input channels a row
/// of `width` `u32`, frame `t'` holding `bf16(x[2c, t' − pad])` in its low half and
/// `bf16(x[2c + 1, t' − pad])` in its high half (zero outside the signal and past `cin`).
/// `hi` and `lo` are the two halves of the bf16x3 split.
pub struct PackedInput {
    pub hi: Vec<u32>,
    pub lo: Vec<u32>,
    /// `u32` per row.
    pub width: usize,
}

/// Packs `x` (`cin × len`, row-major) with `pad` zero frames on the left into rows of `width`
/// frames, channel pairs `pairs` (a range, so that threads can split the work).
///
/// # Safety
/// [`available`] must have returned true (AVX-512); `hi`/`lo` hold the rows of `pairs`.
#[target_feature(enable = "avx512f,avx512bw")]
pub unsafe fn pack_input_rows(
    x: &[f32],
    cin: usize,
    len: usize,
    pad: usize,
    width: usize,
    pairs: std::ops::Range<usize>,
    (hi, lo): (&mut [u32], &mut [u32]),
) {
    let first = pairs.start;
    for p in pairs {
        let row = (p - first) * width;
        let (h, l) = (&mut hi[row..row + width], &mut lo[row..row + width]);
        let c0 = 2 * p;
        let zero = [0f32; 0];
        let x0: &[f32] = if c0 < cin {
            &x[c0 * len..(c0 + 1) * len]
        } else {
            &zero
        };
        let x1: &[f32] = if c0 + 1 < cin {
            &x[(c0 + 1) * len..(c0 + 2) * len]
        } else {
            &zero
        };
        let end = (pad + len).min(width);
        h[..pad.min(width)].fill(0);
        l[..pad.min(width)].fill(0);
        for t in pad..end {
            let a = x0.get(t - pad).copied().unwrap_or(0.0);
            let b = x1.get(t - pad).copied().unwrap_or(0.0);
            let (ah, al) = split(a);
            let (bh, bl) = split(b);
            h[t] = ah as u32 | (bh as u32) << 16;
            l[t] = al as u32 | (bl as u32) << 16;
        }
        h[end..].fill(0);
        l[end..].fill(0);
    }
}

/// All eight tiles 16 rows × 64 bytes: tmm0..3 the C tiles `C[r][c]` = tmm(2r + c) (a 32 × 32
/// f32 block of the output), tmm4/5 the A tiles (weights) of row tiles 0/1, tmm6/7 the B tiles
/// (input) of column tiles 0/1.
const CONFIG: TileConfig = TileConfig {
    palette: 1,
    start_row: 0,
    reserved: [0; 14],
    colsb: [64, 64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0],
    rows: [16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0],
};

/// `C[r][c] += A[r] · B[c]` for the 2 × 2 tiles.
#[inline(always)]
unsafe fn tdp4() {
    tdpbf16ps!(0, 4, 6);
    tdpbf16ps!(1, 4, 7);
    tdpbf16ps!(2, 5, 6);
    tdpbf16ps!(3, 5, 7);
}

/// `out += conv(x, w)` for the output blocks `items` (see [`block_item`]): `out` is
/// `cout_padded × ldo` f32 (row-major, `ldo` a multiple of [`BLOCK`]), `x` the packed input whose
/// row `t'` is output frame `t' − k·dilation` for tap `k`.
///
/// # Safety
/// [`available`] must have returned true; `x.width ≥ ldo + (taps − 1)·dilation`; `out` holds
/// `cout_padded × ldo` floats and no other thread writes the same items.
pub unsafe fn conv_items<const X3: bool>(
    out: OutPtr,
    ldo: usize,
    x: &PackedInput,
    w: &PackedWeights,
    dilation: usize,
    items: std::ops::Range<usize>,
    cols_per_group: usize,
) {
    asm!("ldtilecfg [{}]", in(reg) &CONFIG as *const TileConfig, options(nostack, readonly));
    let row_pairs = w.cout_padded / BLOCK;
    let col_blocks = ldo / BLOCK;
    for item in items {
        let (group, rp) = (item / row_pairs, item % row_pairs);
        let first = group * cols_per_group;
        let last = (first + cols_per_group).min(col_blocks);
        for cb in first..last {
            block::<X3>(out.0, ldo, x, w, dilation, rp, cb * BLOCK);
        }
    }
    asm!("tilerelease", options(nostack, nomem, preserves_flags));
}

/// One 32 × 32 block of the output: rows `rp·32..`, columns `col..col + 32`, accumulated over
/// every tap and input block. Per step, the twelve products (three terms × 2 × 2 tiles) run in the
/// order lo·hi, hi·hi, hi·lo so that each operand is loaded once: 8 tile loads per 12 products.
/// Without `X3`, only hi·hi (plain bf16 operands, f32 accumulation).
#[inline(always)]
unsafe fn block<const X3: bool>(
    out: *mut f32,
    ldo: usize,
    x: &PackedInput,
    w: &PackedWeights,
    dilation: usize,
    rp: usize,
    col: usize,
) {
    let ldc = ldo * 4;
    let c0 = out.add(rp * BLOCK * ldo + col);
    let c1 = c0.add(TR * ldo);
    let steps = w.steps();
    // A: tile (row tile, step, half) at ((row tile · steps + step) · 2 + half) · 16 lines.
    let a0 = w.tiles.as_ptr().add(2 * rp * steps * 2 * TR);
    let a1 = a0.add(steps * 2 * TR);
    let lda = 64usize;
    let ldb = x.width * 4;
    let (xh, xl) = (x.hi.as_ptr(), x.lo.as_ptr());

    tileloadd!(0, c0, ldc);
    tileloadd!(1, c0.add(TR), ldc);
    tileloadd!(2, c1, ldc);
    tileloadd!(3, c1.add(TR), ldc);
    for k in 0..w.taps {
        for ib in 0..w.cblocks {
            let s = k * w.cblocks + ib;
            let (a0_hi, a1_hi) = (a0.add(s * 2 * TR), a1.add(s * 2 * TR));
            let (a0_lo, a1_lo) = (a0_hi.add(TR), a1_hi.add(TR));
            let b = ib * TR * x.width + col + k * dilation;
            let (b_hi, b_lo) = (xh.add(b), xl.add(b));
            if !X3 {
                tileloadd!(4, a0_hi, lda);
                tileloadd!(6, b_hi, ldb);
                tileloadd!(5, a1_hi, lda);
                tileloadd!(7, b_hi.add(TR), ldb);
                tdp4();
                continue;
            }
            // w_lo · x_hi
            tileloadd!(4, a0_lo, lda);
            tileloadd!(6, b_hi, ldb);
            tileloadd!(5, a1_lo, lda);
            tileloadd!(7, b_hi.add(TR), ldb);
            tdp4();
            // w_hi · x_hi
            tileloadd!(4, a0_hi, lda);
            tileloadd!(5, a1_hi, lda);
            tdp4();
            // w_hi · x_lo
            tileloadd!(6, b_lo, ldb);
            tileloadd!(7, b_lo.add(TR), ldb);
            tdp4();
        }
    }
    tilestored!(0, c0, ldc);
    tilestored!(1, c0.add(TR), ldc);
    tilestored!(2, c1, ldc);
    tilestored!(3, c1.add(TR), ldc);
}
