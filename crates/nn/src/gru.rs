//! A GRU layer over a whole sequence as one graph operation, for training on the CPU.
//!
//! Run step by step through autograd, a GRU records every step's products, and the backward
//! pass builds and sums a full gradient of the recurrent matrix per step. Here the forward pass
//! is one loop, and the backward pass (through time) walks the steps once for the recurrent
//! carry, then forms the gradient of `W_hh` and `b_hh` with one large product over all steps.
//! PyTorch's equations, gates `[r | z | n]`: `gh = h·W_hhᵀ + b_hh`, `r = σ(gi_r + gh_r)`,
//! `z = σ(gi_z + gh_z)`, `n = tanh(gi_n + r·gh_n)`, `h' = (1 − z)·n + z·h`. The input
//! projection `gi = x·W_ihᵀ + b_ih` stays an ordinary (differentiable) product outside.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use gemm::Parallelism;

use crate::kernels::dense::gemm_accumulate;

/// The recurrence `(gi [B, L, 3H], W_hh [3H, H], b_hh [3H]) → hs [B, L, H]` from a zero state.
pub struct GruSequence;

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("gru-sequence: {what} must be contiguous"),
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `gh_t = h_{t−1}·W_hhᵀ + b_hh` for a batch of states `h` `[B, H]` into `gh` `[B, 3H]`.
fn hidden_projection(gh: &mut [f32], h: &[f32], w: &[f32], b: &[f32], batch: usize, hd: usize) {
    for row in gh.chunks_exact_mut(3 * hd) {
        row.copy_from_slice(b);
    }
    // W_hh is [3H, H] row-major; as the right operand (H × 3H) element (j, g) is w[g·H + j].
    gemm_accumulate(
        gh,
        h,
        w,
        (batch, hd, 3 * hd),
        (hd as isize, 1),
        Parallelism::Rayon(0),
    );
}

impl CustomOp3 for GruSequence {
    fn name(&self) -> &'static str {
        "gru-sequence"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (batch, len, gates) = l1.shape().dims3()?;
        let hd = gates / 3;
        if l2.shape().dims() != [gates, hd] || l3.shape().dims() != [gates] {
            candle_core::bail!(
                "gru-sequence: W_hh {:?} and b_hh {:?} do not fit gates of {gates}",
                l2.shape(),
                l3.shape()
            );
        }
        let (gi, w, b) = (
            contiguous(s1, l1, "gi")?,
            contiguous(s2, l2, "W_hh")?,
            contiguous(s3, l3, "b_hh")?,
        );
        let mut hs = vec![0f32; batch * len * hd];
        let mut h = vec![0f32; batch * hd];
        let mut gh = vec![0f32; batch * gates];
        for t in 0..len {
            hidden_projection(&mut gh, &h, w, b, batch, hd);
            for bi in 0..batch {
                let gi = &gi[(bi * len + t) * gates..(bi * len + t + 1) * gates];
                let gh = &gh[bi * gates..(bi + 1) * gates];
                for j in 0..hd {
                    let r = sigmoid(gi[j] + gh[j]);
                    let z = sigmoid(gi[hd + j] + gh[hd + j]);
                    let n = (gi[2 * hd + j] + r * gh[2 * hd + j]).tanh();
                    let hv = &mut h[bi * hd + j];
                    *hv = n + z * (*hv - n);
                    hs[(bi * len + t) * hd + j] = *hv;
                }
            }
        }
        Ok((CpuStorage::F32(hs), Shape::from((batch, len, hd))))
    }

    fn bwd(
        &self,
        gi: &Tensor,
        w: &Tensor,
        b: &Tensor,
        hs: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (batch, len, gates) = gi.dims3()?;
        let hd = gates / 3;
        let device = gi.device();
        let values = |t: &Tensor| {
            t.detach()
                .flatten_all()?
                .to_dtype(candle_core::DType::F32)?
                .to_vec1::<f32>()
        };
        let (gi_v, w_v, b_v, hs_v, grad_v) = (
            values(gi)?,
            values(w)?,
            values(b)?,
            values(hs)?,
            values(grad)?,
        );
        // The states each step started from: zeros, then the outputs shifted by one.
        let mut h_prev = vec![0f32; batch * len * hd];
        for bi in 0..batch {
            for t in 1..len {
                let (to, from) = ((bi * len + t) * hd, (bi * len + t - 1) * hd);
                h_prev[to..to + hd].copy_from_slice(&hs_v[from..from + hd]);
            }
        }
        // Every step's hidden projection at once: [B·L, 3H].
        let mut gh = vec![0f32; batch * len * gates];
        hidden_projection(&mut gh, &h_prev, &w_v, &b_v, batch * len, hd);

        let mut d_gi = vec![0f32; batch * len * gates];
        let mut d_gh = vec![0f32; batch * len * gates];
        let mut carry = vec![0f32; batch * hd];
        let mut d_gh_t = vec![0f32; batch * gates];
        for t in (0..len).rev() {
            for bi in 0..batch {
                let at = (bi * len + t) * gates;
                let (gi, gh) = (&gi_v[at..at + gates], &gh[at..at + gates]);
                for j in 0..hd {
                    let r = sigmoid(gi[j] + gh[j]);
                    let z = sigmoid(gi[hd + j] + gh[hd + j]);
                    let n = (gi[2 * hd + j] + r * gh[2 * hd + j]).tanh();
                    let hp = h_prev[(bi * len + t) * hd + j];
                    let dh = grad_v[(bi * len + t) * hd + j] + carry[bi * hd + j];
                    let dn = dh * (1.0 - z) * (1.0 - n * n);
                    let dz = dh * (hp - n) * z * (1.0 - z);
                    let dr = dn * gh[2 * hd + j] * r * (1.0 - r);
                    d_gi[at + j] = dr;
                    d_gi[at + hd + j] = dz;
                    d_gi[at + 2 * hd + j] = dn;
                    d_gh_t[bi * gates + j] = dr;
                    d_gh_t[bi * gates + hd + j] = dz;
                    d_gh_t[bi * gates + 2 * hd + j] = dn * r;
                    // What reaches h_{t−1} directly through h' = n + z·(h − n).
                    carry[bi * hd + j] = dh * z;
                }
                d_gh[at..at + gates].copy_from_slice(&d_gh_t[bi * gates..(bi + 1) * gates]);
            }
            // And through gh = h·W_hhᵀ: carry += d_gh · W_hh ([B, 3H] · [3H, H]).
            gemm_accumulate(
                &mut carry,
                &d_gh_t,
                &w_v,
                (batch, gates, hd),
                (1, hd as isize),
                Parallelism::Rayon(0),
            );
        }
        // dW_hh = Σ_t d_ghᵀ · h_{t−1} ([3H, B·L] · [B·L, H]); db_hh = Σ_t d_gh.
        let d_gh = Tensor::from_vec(d_gh, (batch * len, gates), device)?;
        let h_prev = Tensor::from_vec(h_prev, (batch * len, hd), device)?;
        let d_w = d_gh.t()?.matmul(&h_prev)?;
        let d_b = d_gh.sum(0)?;
        let d_gi = Tensor::from_vec(d_gi, (batch, len, gates), device)?;
        Ok((Some(d_gi), Some(d_w), Some(d_b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// The per-step GRU through candle's autograd: the reference for the fused operation.
    fn stepwise(gi: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
        let (batch, len, gates) = gi.dims3()?;
        let hd = gates / 3;
        let mut h = Tensor::zeros((batch, hd), candle_core::DType::F32, gi.device())?;
        let mut out = Vec::new();
        for t in 0..len {
            let gi = gi.narrow(1, t, 1)?.squeeze(1)?;
            let gh = h.matmul(&w.t()?)?.broadcast_add(b)?;
            let r = candle_nn::ops::sigmoid(&(gi.narrow(1, 0, hd)? + gh.narrow(1, 0, hd)?)?)?;
            let z = candle_nn::ops::sigmoid(&(gi.narrow(1, hd, hd)? + gh.narrow(1, hd, hd)?)?)?;
            let n = (gi.narrow(1, 2 * hd, hd)? + r.mul(&gh.narrow(1, 2 * hd, hd)?)?)?.tanh()?;
            h = (&n + z.mul(&(&h - &n)?)?)?;
            out.push(h.clone());
        }
        Tensor::stack(&out, 1)
    }

    #[test]
    fn fused_gru_matches_the_stepwise_one_forward_and_backward() -> Result<()> {
        let device = Device::Cpu;
        let (batch, len, hd) = (3, 7, 5);
        let gi = Var::from_tensor(&(Tensor::randn(0f32, 1.0, (batch, len, 3 * hd), &device)?))?;
        let w = Var::from_tensor(&(Tensor::randn(0f32, 0.5, (3 * hd, hd), &device)?))?;
        let b = Var::from_tensor(&(Tensor::randn(0f32, 0.5, 3 * hd, &device)?))?;
        let weights = Tensor::randn(0f32, 1.0, (batch, len, hd), &device)?;
        let fused = gi
            .as_tensor()
            .apply_op3(w.as_tensor(), b.as_tensor(), GruSequence)?;
        let reference = stepwise(gi.as_tensor(), w.as_tensor(), b.as_tensor())?;
        let diff = (&fused - &reference)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        assert!(diff < 1e-5, "forward off by {diff}");
        let g1 = fused.mul(&weights)?.sum_all()?.backward()?;
        let g2 = reference.mul(&weights)?.sum_all()?.backward()?;
        for (name, var) in [("gi", &gi), ("W_hh", &w), ("b_hh", &b)] {
            let (a, e) = (
                g1.get(var).expect("fused grad"),
                g2.get(var).expect("reference grad"),
            );
            let diff = (a - e)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-4, "gradient of {name} off by {diff}");
        }
        Ok(())
    }
}
