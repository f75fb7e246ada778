//! A fused CPU kernel for a stack of LSTM layers and a projection of the last hidden state
//! (ReLU, unit norm): the GE2E speaker encoder's network (`voxclone_encoder::SpeakerEncoder`),
//! computed without per-operation tensors.
//!
//! Why: the LSTM runs 480 dependent steps per batch, and a tensor library pays an allocation and a
//! pass over memory for each of the ~13 operations of every step. Here each step is one matrix
//! product accumulated in place (`gates += h · W_hhᵀ`) and one fused pass for the cell update, with
//! vectorised `exp`. Partials are independent sequences, so threads split the batch and never wait
//! on each other. The candle model stays the reference (and the path for training and GPUs); tests
//! hold the two to 1e-5.
//!
//! The matrix products run on the best [`Kernel`] the CPU has: AMX tiles (bf16x3, f32-level
//! accuracy), AVX-512, or the portable `gemm` crate.

use std::num::NonZeroUsize;

use candle_core::{Result, Tensor};
use gemm::Parallelism;

// Tile data needs the kernel's permission, asked for with a Linux system call.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod amx;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use super::Kernel;

/// The kernels the LSTM stack has, fastest first. [`Kernel::Portable`] is the `gemm` crate for
/// the products, with the AVX2 cell update where the CPU has AVX2.
pub const LSTM_KERNELS: [Kernel; 3] = [Kernel::Amx, Kernel::Avx512, Kernel::Portable];

/// A weight matrix `k × n` (row-major), with its AMX packing when that kernel runs.
#[derive(Debug, Clone)]
struct Weights {
    k: usize,
    n: usize,
    kernel: Kernel,
    values: Vec<f32>,
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    amx: Option<amx::PackedRhs>,
}

impl Weights {
    fn new(t: &Tensor, kernel: Kernel) -> Result<Self> {
        let (k, n) = t.dims2()?;
        let values = t.flatten_all()?.to_vec1::<f32>()?;
        Ok(Self {
            k,
            n,
            kernel,
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            amx: (kernel == Kernel::Amx && n.is_multiple_of(16))
                .then(|| amx::PackedRhs::new(&values, k, n)),
            values,
        })
    }
}

/// One LSTM layer's weights, laid out for row-major products.
#[derive(Debug, Clone)]
struct Layer {
    /// `W_ihᵀ`, `in × 4H`
    w_ih_t: Weights,
    /// `W_hhᵀ`, `H × 4H`
    w_hh_t: Weights,
    /// `b_ih + b_hh`, `4H`
    bias: Vec<f32>,
}

/// The network's weights as plain arrays.
#[derive(Debug, Clone)]
pub struct FusedLstm {
    kernel: Kernel,
    hidden: usize,
    layers: Vec<Layer>,
    /// `H × E`
    linear_w_t: Weights,
    linear_b: Vec<f32>,
}

impl FusedLstm {
    /// Copies the weights out of candle tensors: per layer `(W_ihᵀ, W_hhᵀ, b_ih + b_hh)` of shapes
    /// `in × 4H`, `H × 4H`, `4H`; then the linear layer's `Wᵀ` (`H × E`) and bias (`E`).
    pub fn new(
        lstm: &[(&Tensor, &Tensor, &Tensor)],
        linear_w_t: &Tensor,
        linear_b: &Tensor,
        kernel: Kernel,
    ) -> Result<Self> {
        // The kernels' unsafe code relies on this check.
        if !kernel.is_available() {
            candle_core::bail!("the {kernel:?} kernel needs a CPU feature this one lacks");
        }
        // A family this network has no variant for (AVX2) runs the next one down.
        let kernel = Kernel::Portable.fastest_among(&LSTM_KERNELS, kernel);
        let hidden = lstm[0].1.dim(0)?;
        let layers = lstm
            .iter()
            .map(|(w_ih_t, w_hh_t, bias)| {
                Ok(Layer {
                    w_ih_t: Weights::new(w_ih_t, kernel)?,
                    w_hh_t: Weights::new(w_hh_t, kernel)?,
                    bias: bias.to_vec1::<f32>()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            kernel,
            hidden,
            layers,
            linear_w_t: Weights::new(linear_w_t, kernel)?,
            linear_b: linear_b.to_vec1::<f32>()?,
        })
    }

    /// The matrix-product kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    pub fn embedding_size(&self) -> usize {
        self.linear_b.len()
    }

    /// Unit-norm partial embeddings of `batch` mel windows (`batch × frames × n_mels`, row-major),
    /// split across `threads`.
    pub fn forward(
        &self,
        mels: &[f32],
        batch: usize,
        frames: usize,
        threads: NonZeroUsize,
    ) -> Vec<Vec<f32>> {
        let n_mels = self.layers[0].w_ih_t.k;
        assert_eq!(mels.len(), batch * frames * n_mels, "mel batch shape");
        let threads = threads.get().min(batch.max(1));
        if threads <= 1 {
            return self.forward_chunk(mels, batch, frames);
        }
        let per = batch.div_ceil(threads);
        let window = frames * n_mels;
        std::thread::scope(|s| {
            let handles: Vec<_> = mels
                .chunks(per * window)
                .map(|chunk| {
                    s.spawn(move || self.forward_chunk(chunk, chunk.len() / window, frames))
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("encoder thread panicked"))
                .collect()
        })
    }

    /// The whole network on `b` partials, on this thread.
    fn forward_chunk(&self, mels: &[f32], b: usize, t: usize) -> Vec<Vec<f32>> {
        let h_dim = self.hidden;
        let g_dim = 4 * h_dim;
        // Time-major input `T × B × in`, so every step reads one contiguous block.
        let n_mels = self.layers[0].w_ih_t.k;
        let mut xs = vec![0f32; t * b * n_mels];
        for bi in 0..b {
            for ti in 0..t {
                let src = &mels[(bi * t + ti) * n_mels..][..n_mels];
                xs[(ti * b + bi) * n_mels..][..n_mels].copy_from_slice(src);
            }
        }
        let mut gates = vec![0f32; t * b * g_dim];
        let mut h = vec![0f32; b * h_dim];
        let mut c = vec![0f32; b * h_dim];
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            // Input projection of the whole sequence at once: gates = bias + xs · W_ihᵀ.
            for row in gates.chunks_exact_mut(g_dim) {
                row.copy_from_slice(&layer.bias);
            }
            matmul_acc(&mut gates, &xs, &layer.w_ih_t, t * b);
            h.fill(0.0);
            c.fill(0.0);
            let mut next = if l == last {
                Vec::new()
            } else {
                vec![0f32; t * b * h_dim]
            };
            for ti in 0..t {
                let step = &mut gates[ti * b * g_dim..][..b * g_dim];
                if ti > 0 {
                    matmul_acc(step, &h, &layer.w_hh_t, b);
                }
                cell_update(step, &mut c, &mut h, h_dim, self.kernel);
                if l != last {
                    next[ti * b * h_dim..][..b * h_dim].copy_from_slice(&h);
                }
            }
            xs = next;
        }
        // Projection, ReLU, L2 norm of the last hidden state.
        let e_dim = self.linear_b.len();
        let mut y = vec![0f32; b * e_dim];
        for row in y.chunks_exact_mut(e_dim) {
            row.copy_from_slice(&self.linear_b);
        }
        matmul_acc(&mut y, &h, &self.linear_w_t, b);
        y.chunks_exact(e_dim)
            .map(|row| {
                let row: Vec<f32> = row.iter().map(|v| v.max(0.0)).collect();
                let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
                row.iter().map(|v| v / norm).collect()
            })
            .collect()
    }
}

/// `dst (m × n) += lhs (m × k) · w (k × n)`, all row-major, on this thread.
fn matmul_acc(dst: &mut [f32], lhs: &[f32], w: &Weights, m: usize) {
    let (k, n, rhs) = (w.k, w.n, &w.values);
    assert!(dst.len() >= m * n && lhs.len() >= m * k && rhs.len() >= k * n);
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if let Some(packed) = &w.amx {
        // SAFETY: a packing exists only when AMX is available; the shapes were checked above.
        return unsafe { amx::matmul_acc(dst, lhs, packed, m, k) };
    }
    #[cfg(target_arch = "x86_64")]
    if n.is_multiple_of(64) && w.kernel != Kernel::Portable {
        // SAFETY: the kernel was checked available (AMX implies AVX-512F) when the encoder was
        // built; the shapes were checked above.
        return unsafe { avx512::matmul_acc(dst, lhs, rhs, m, k, n) };
    }
    super::dense::gemm_accumulate(dst, lhs, rhs, (m, k, n), (1, n as isize), Parallelism::None);
}

/// The LSTM cell on a batch: gates rows are `[i | f | g | o]` (PyTorch's order);
/// `c = σ(f)·c + σ(i)·tanh(g)`, `h = σ(o)·tanh(c)`.
fn cell_update(gates: &[f32], c: &mut [f32], h: &mut [f32], h_dim: usize, kernel: Kernel) {
    assert!(gates.len() == 4 * c.len() && c.len() == h.len() && c.len().is_multiple_of(h_dim));
    #[cfg(target_arch = "x86_64")]
    {
        if h_dim.is_multiple_of(16) && kernel != Kernel::Portable {
            // SAFETY: as in `matmul_acc`: AVX-512F was checked when the encoder was built.
            return unsafe { avx512::cell_update(gates, c, h, h_dim) };
        }
        if h_dim.is_multiple_of(8) && Kernel::Avx2.is_available() {
            // SAFETY: the features were just checked (cached by std); the shapes were checked above.
            return unsafe { avx2::cell_update(gates, c, h, h_dim) };
        }
    }
    cell_update_portable(gates, c, h, h_dim)
}

/// The reference cell, and the fallback on CPUs without AVX2.
#[inline(always)]
fn cell_update_portable(gates: &[f32], c: &mut [f32], h: &mut [f32], h_dim: usize) {
    for ((row, c), h) in gates
        .chunks_exact(4 * h_dim)
        .zip(c.chunks_exact_mut(h_dim))
        .zip(h.chunks_exact_mut(h_dim))
    {
        let (i, rest) = row.split_at(h_dim);
        let (f, rest) = rest.split_at(h_dim);
        let (g, o) = rest.split_at(h_dim);
        for j in 0..h_dim {
            let cj = sigmoid(f[j]) * c[j] + sigmoid(i[j]) * tanh(g[j]);
            c[j] = cj;
            h[j] = sigmoid(o[j]) * tanh(cj);
        }
    }
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh x = 1 - 2 / (e^{2x} + 1)`; exact to about 1e-7 absolute, which is all the cell needs.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two, so `n · LN2_HI` is exact for the `n` that occur. (The constants are
/// written as published; clippy would round away digits that the binary values do have.)
#[allow(clippy::excessive_precision)]
const LN2_HI: f32 = 0.693_359_375;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Minimax polynomial for `(e^r - 1 - r) / r²` on |r| ≤ ln2/2 (Cephes' `expf`), highest degree first.
#[allow(clippy::excessive_precision)]
const EXP_POLY: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    5.000_000_1e-1,
];

/// `e^x` to within 2 ulp over the whole f32 range, branch-free so it vectorises: split
/// `x = n ln2 + r` with |r| ≤ ln2/2, a polynomial for `e^r`, then scale by `2^n` through the
/// exponent bits.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = EXP_POLY[1..].iter().fold(EXP_POLY[0], |p, &c| p * r + c);
    let e_r = p * r * r + r + 1.0;
    let scale = f32::from_bits((((n as i32) + 127) as u32) << 23);
    e_r * scale
}

/// Shared by the kernels' tests.
#[cfg(test)]
mod test_support {
    /// Values in [-0.5, 0.5) from a fixed linear congruential sequence.
    pub fn pseudo_random(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_across_the_range() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            let rel = ((exp(x) as f64 - want) / want).abs();
            worst = worst.max(rel);
            x += 0.0137;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp(-1000.0), exp(-87.0));
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn sigmoid_and_tanh_saturate_without_nans() {
        for x in [-1e4f32, -100.0, -10.0, 0.0, 10.0, 100.0, 1e4] {
            let (s, t) = (sigmoid(x), tanh(x));
            assert!(
                (s - 1.0 / (1.0 + (-x as f64).exp()) as f32).abs() < 1e-7,
                "{x}"
            );
            assert!((t - x.tanh()).abs() < 2e-7, "{x}: {t} vs {}", x.tanh());
        }
    }
}
