//! AdaIN and the activation after it in one pass per channel, for inference.
//!
//! Why: candle runs `(1 + γ)·IN(x) + β` then Snake `y + sin²(αy)/α` as about ten operations, each
//! a pass over the whole signal (with a fresh allocation) and a scalar `sinf` per value; at
//! 4800 frames/s × 128 channels that was about a third of the vocoder's time once the
//! convolutions were fast. Here each channel row is read twice for its statistics (it stays in
//! L2) and written once, and sin² is a vectorised polynomial.
//!
//! The caller ([`crate::layers::AdaIn1d`]) uses this only when no input needs a gradient; with a
//! gradient (voice adaptation) it runs the plain candle operations, which stay the reference.

use candle_core::{DType, Device, Result, Tensor};

use crate::norm::NORM_EPS;

/// What follows the normalisation.
#[derive(Debug, Clone, Copy)]
pub enum Activation<'a> {
    Identity,
    /// `max(y, slope·y)`, `0 < slope < 1`.
    LeakyRelu(f32),
    /// Snake, `y + sin²(αy)/α`, one α per channel.
    Snake(&'a [f32]),
}

impl Activation<'_> {
    pub fn to_owned(self) -> OwnedActivation {
        match self {
            Activation::Identity => OwnedActivation::Identity,
            Activation::LeakyRelu(s) => OwnedActivation::LeakyRelu(s),
            Activation::Snake(a) => OwnedActivation::Snake(a.to_vec()),
        }
    }
}

/// Whether [`adain_activation`] can take `x`.
pub fn supports(x: &Tensor) -> bool {
    matches!(x.device(), Device::Cpu) && x.dtype() == DType::F32 && x.rank() == 3
}

/// `act(scale·IN(x) + shift)` for `x` `[B, C, T]`, where per batch entry and channel
/// `scale = w·(1 + γ)` and `shift = b·(1 + γ) + β` (`w`, `b` the norm's own affine, 1 and 0 when
/// absent); `gamma_beta` is `[B, 2C]` (γ then β, the AdaIN's linear layer's output).
pub fn adain_activation(
    x: &Tensor,
    gamma_beta: &Tensor,
    affine: Option<(&[f32], &[f32])>,
    act: Activation,
) -> Result<Tensor> {
    let (b, c, t) = x.dims3()?;
    let gb = gamma_beta.to_dtype(DType::F32)?.to_vec2::<f32>()?;
    if gb.len() != b || gb.iter().any(|row| row.len() != 2 * c) {
        candle_core::bail!("adain: γβ {:?} for x {:?}", gamma_beta.shape(), x.shape());
    }
    if let Activation::Snake(alpha) = act {
        if alpha.len() != c {
            candle_core::bail!("snake: {} α for {c} channels", alpha.len());
        }
    }
    let x = x.contiguous()?;
    let xs = x.flatten_all()?;
    let (storage, layout) = xs.storage_and_layout();
    let input: &[f32] = match (&*storage, layout.contiguous_offsets()) {
        (candle_core::Storage::Cpu(candle_core::CpuStorage::F32(v)), Some((s, e))) => &v[s..e],
        _ => candle_core::bail!("adain: a contiguous f32 CPU tensor is required"),
    };
    let out = forward_rows(input, &gb, (b, c, t), affine, act);
    drop(storage);
    Tensor::from_vec(out, (b, c, t), x.device())
}

/// The statistics of one row (kept in f64, as the forward pass has always computed them), and
/// the row's constants of `y = act(scale·x + shift)`. Shared by the forward and backward passes.
struct RowNorm {
    mean: f64,
    /// `1/√(var + ε)`.
    inv: f64,
    gain: f32,
    w: f32,
    bias: f32,
}

impl RowNorm {
    fn new(row: &[f32], gamma: f32, affine: Option<(&[f32], &[f32])>, ch: usize) -> Self {
        let (mean, var) = mean_var(row);
        let (w, bias) = affine.map_or((1.0, 0.0), |(w, b)| (w[ch], b[ch]));
        Self {
            mean,
            inv: 1.0 / (var + NORM_EPS).sqrt(),
            gain: 1.0 + gamma,
            w,
            bias,
        }
    }

    /// `scale = w·inv·(1 + γ)` and `shift = (b − mean·w·inv)·(1 + γ) + β`.
    fn scale_shift(&self, beta: f32) -> (f32, f32) {
        let (w, gain) = (self.w as f64, self.gain as f64);
        let scale = (w * self.inv * gain) as f32;
        let shift = ((self.bias as f64 - self.mean * w * self.inv) * gain + beta as f64) as f32;
        (scale, shift)
    }
}

fn forward_rows(
    input: &[f32],
    gb: &[Vec<f32>],
    (b, c, t): (usize, usize, usize),
    affine: Option<(&[f32], &[f32])>,
    act: Activation,
) -> Vec<f32> {
    let mut out = vec![0f32; b * c * t];
    let dst = SharedMut(out.as_mut_ptr());
    candle_core::utils::barrier_pool().execute_chunked(b * c, |rows| {
        for r in rows {
            let (bi, ch) = (r / c, r % c);
            let row = &input[r * t..(r + 1) * t];
            // SAFETY: row `r` of `out` is written by this thread only.
            let out_row = unsafe { std::slice::from_raw_parts_mut(dst.row(r, t), t) };
            let (scale, shift) =
                RowNorm::new(row, gb[bi][ch], affine, ch).scale_shift(gb[bi][c + ch]);
            let act = match act {
                Activation::Identity => RowAct::Identity,
                Activation::LeakyRelu(s) => RowAct::LeakyRelu(s),
                Activation::Snake(alpha) => RowAct::Snake(alpha[ch]),
            };
            apply(row, out_row, scale, shift, act);
        }
    });
    out
}

/// The activation after AdaIN, owning its parameters (for the graph node).
#[derive(Debug, Clone)]
pub enum OwnedActivation {
    Identity,
    LeakyRelu(f32),
    Snake(Vec<f32>),
}

impl OwnedActivation {
    fn borrow(&self) -> Activation<'_> {
        match self {
            OwnedActivation::Identity => Activation::Identity,
            OwnedActivation::LeakyRelu(s) => Activation::LeakyRelu(*s),
            OwnedActivation::Snake(a) => Activation::Snake(a),
        }
    }
}

/// [`adain_activation`] as a node of the autograd graph, with gradients for `x` and `γβ`.
///
/// Why: with candle's operations, each AdaIN + Snake keeps about a dozen full-size
/// intermediates alive until the backward pass; over the generator that was ~8 GB for two
/// seconds of speech, and speaker adaptation spent much of its time faulting in fresh pages.
/// This node keeps nothing but its inputs and recomputes the row statistics on the way back.
pub fn adain_activation_graph(
    x: &Tensor,
    gamma_beta: &Tensor,
    affine: Option<(Vec<f32>, Vec<f32>)>,
    act: OwnedActivation,
) -> Result<Tensor> {
    let x = x.contiguous()?;
    let gb = gamma_beta.to_dtype(DType::F32)?.contiguous()?;
    x.apply_op2(&gb, AdainOp { affine, act })
}

struct AdainOp {
    affine: Option<(Vec<f32>, Vec<f32>)>,
    act: OwnedActivation,
}

impl AdainOp {
    fn affine(&self) -> Option<(&[f32], &[f32])> {
        self.affine
            .as_ref()
            .map(|(w, b)| (w.as_slice(), b.as_slice()))
    }
}

fn cpu_slice<'a>(s: &'a candle_core::CpuStorage, l: &candle_core::Layout) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (candle_core::CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => candle_core::bail!("adain: contiguous f32 inputs are required"),
    }
}

impl candle_core::CustomOp2 for AdainOp {
    fn name(&self) -> &'static str {
        "voxclone-adain-activation"
    }

    fn cpu_fwd(
        &self,
        s1: &candle_core::CpuStorage,
        l1: &candle_core::Layout,
        s2: &candle_core::CpuStorage,
        l2: &candle_core::Layout,
    ) -> Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let (b, c, t) = l1.shape().dims3()?;
        let (gb_b, gb_c) = l2.shape().dims2()?;
        if gb_b != b || gb_c != 2 * c {
            candle_core::bail!("adain: γβ {:?} for x {:?}", l2.shape(), l1.shape());
        }
        let gb: Vec<Vec<f32>> = cpu_slice(s2, l2)?
            .chunks_exact(2 * c)
            .map(<[f32]>::to_vec)
            .collect();
        let out = forward_rows(
            cpu_slice(s1, l1)?,
            &gb,
            (b, c, t),
            self.affine(),
            self.act.borrow(),
        );
        Ok((candle_core::CpuStorage::F32(out), l1.shape().clone()))
    }

    /// With `a = w·IN(x) + b`, `z = (1 + γ)·a + β`, `y = act(z)` and `g = ∂L/∂y`:
    /// `∂z = g·act'(z)`, `∂β = Σ ∂z`, `∂γ = Σ ∂z·a`, and for `n = IN(x)`, `∂n = ∂z·(1 + γ)·w`,
    /// `∂x = inv·(∂n − mean(∂n) − n·mean(∂n·n))`.
    fn bwd(
        &self,
        x: &Tensor,
        gamma_beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (b, c, t) = x.dims3()?;
        let xs: Vec<f32> = x.flatten_all()?.to_vec1()?;
        let gs: Vec<f32> = grad.contiguous()?.flatten_all()?.to_vec1()?;
        let gb: Vec<f32> = gamma_beta.flatten_all()?.to_vec1()?;
        let mut dx = vec![0f32; b * c * t];
        let mut dgb = vec![0f32; b * 2 * c];
        let dst = SharedMut(dx.as_mut_ptr());
        let dgb_dst = SharedMut(dgb.as_mut_ptr());
        let affine = self.affine();
        let act = &self.act;
        candle_core::utils::barrier_pool().execute_chunked(b * c, |rows| {
            for r in rows {
                let (bi, ch) = (r / c, r % c);
                let row = &xs[r * t..(r + 1) * t];
                let g_row = &gs[r * t..(r + 1) * t];
                let norm = RowNorm::new(row, gb[bi * 2 * c + ch], affine, ch);
                let (mean, inv) = (norm.mean as f32, norm.inv as f32);
                let beta = gb[bi * 2 * c + c + ch];
                // SAFETY: row `r` of `dx` is written by this thread only.
                let dx_row = unsafe { std::slice::from_raw_parts_mut(dst.row(r, t), t) };
                let (mut d_beta, mut d_gamma, mut sum_dn, mut sum_dn_n) = (0f64, 0f64, 0f64, 0f64);
                for ((&v, &g), d) in row.iter().zip(g_row).zip(dx_row.iter_mut()) {
                    let n = (v - mean) * inv;
                    let a = norm.w * n + norm.bias;
                    let z = norm.gain * a + beta;
                    let slope = match act {
                        OwnedActivation::Identity => 1.0,
                        OwnedActivation::LeakyRelu(s) => {
                            if z > 0.0 {
                                1.0
                            } else {
                                *s
                            }
                        }
                        OwnedActivation::Snake(alpha) => 1.0 + (2.0 * alpha[ch] * z).sin(),
                    };
                    let dz = g * slope;
                    d_beta += dz as f64;
                    d_gamma += (dz * a) as f64;
                    let dn = dz * norm.gain * norm.w;
                    sum_dn += dn as f64;
                    sum_dn_n += (dn * n) as f64;
                    // Kept until the means are known.
                    *d = dn;
                }
                let (mean_dn, mean_dn_n) =
                    ((sum_dn / t as f64) as f32, (sum_dn_n / t as f64) as f32);
                for (&v, d) in row.iter().zip(dx_row.iter_mut()) {
                    let n = (v - mean) * inv;
                    *d = inv * (*d - mean_dn - n * mean_dn_n);
                }
                // SAFETY: entries (bi, ch) and (bi, c + ch) belong to this row only.
                unsafe {
                    *dgb_dst.row(bi * 2 * c + ch, 1) = d_gamma as f32;
                    *dgb_dst.row(bi * 2 * c + c + ch, 1) = d_beta as f32;
                }
            }
        });
        Ok((
            Some(Tensor::from_vec(dx, (b, c, t), x.device())?),
            Some(Tensor::from_vec(dgb, (b, 2 * c), x.device())?),
        ))
    }
}

#[derive(Clone, Copy)]
struct SharedMut(*mut f32);
// SAFETY: every thread writes its own rows.
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    /// Row `r` of `t` values (a method, so that closures capture the whole `Sync` wrapper).
    fn row(&self, r: usize, t: usize) -> *mut f32 {
        self.0.wrapping_add(r * t)
    }
}

#[derive(Clone, Copy)]
enum RowAct {
    Identity,
    LeakyRelu(f32),
    Snake(f32),
}

/// Mean and (biased) variance, accumulated in 16 f32 lanes and reduced in f64 (two passes, as
/// the reference's `mean` then `mean((x − mean)²)`).
fn mean_var(row: &[f32]) -> (f64, f64) {
    let n = row.len() as f64;
    let mean = lane_sum(row, |v| v) / n;
    let m = mean as f32;
    let var = lane_sum(row, |v| (v - m) * (v - m)) / n;
    (mean, var)
}

#[inline(always)]
fn lane_sum(row: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    let mut acc = [0f32; 16];
    let chunks = row.chunks_exact(16);
    let tail: f64 = chunks.remainder().iter().map(|&v| f(v) as f64).sum();
    for ch in chunks {
        for (a, &v) in acc.iter_mut().zip(ch) {
            *a += f(v);
        }
    }
    acc.iter().map(|&a| a as f64).sum::<f64>() + tail
}

fn apply(row: &[f32], out: &mut [f32], scale: f32, shift: f32, act: RowAct) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx512f") {
        // SAFETY: AVX-512F was just detected.
        unsafe { avx512::apply(row, out, scale, shift, act) };
        return;
    }
    for (o, &v) in out.iter_mut().zip(row) {
        *o = scalar(v, scale, shift, act);
    }
}

#[inline(always)]
fn scalar(v: f32, scale: f32, shift: f32, act: RowAct) -> f32 {
    let y = v.mul_add(scale, shift);
    match act {
        RowAct::Identity => y,
        RowAct::LeakyRelu(s) => y.max(s * y),
        RowAct::Snake(a) => {
            let s = (a * y).sin();
            y + s * s / a
        }
    }
}

/// sin² of `v` in f32: reduce by the period π (`r = v − nπ`, Cody–Waite in three parts, `r` clamped
/// to [−π/2, π/2] so that even absurd inputs give a value in [0, 1]), then sin on that interval by
/// its Taylor series to r¹¹ (truncation ≤ (π/2)¹³/13! ≈ 6e-8).
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::RowAct;
    use std::arch::x86_64::*;

    const PI_A: f32 = 3.140_625;
    #[allow(clippy::excessive_precision)]
    const PI_B: f32 = 9.670_257_568_359_375e-4;
    #[allow(clippy::excessive_precision)]
    const PI_C: f32 = 6.278_329_571_784_473e-7;
    const HALF_PI: f32 = std::f32::consts::FRAC_PI_2;

    #[target_feature(enable = "avx512f")]
    pub unsafe fn sin2(v: __m512) -> __m512 {
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm512_mul_ps(v, _mm512_set1_ps(std::f32::consts::FRAC_1_PI)),
        );
        let mut r = _mm512_fnmadd_ps(n, _mm512_set1_ps(PI_A), v);
        r = _mm512_fnmadd_ps(n, _mm512_set1_ps(PI_B), r);
        r = _mm512_fnmadd_ps(n, _mm512_set1_ps(PI_C), r);
        r = _mm512_min_ps(
            _mm512_max_ps(r, _mm512_set1_ps(-HALF_PI)),
            _mm512_set1_ps(HALF_PI),
        );
        let r2 = _mm512_mul_ps(r, r);
        let mut p = _mm512_set1_ps(-1.0 / 39_916_800.0);
        p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(1.0 / 362_880.0));
        p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(-1.0 / 5040.0));
        p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(1.0 / 120.0));
        p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(-1.0 / 6.0));
        // sin r = r + r·r²·p
        let s = _mm512_fmadd_ps(_mm512_mul_ps(r, r2), p, r);
        _mm512_mul_ps(s, s)
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn apply(row: &[f32], out: &mut [f32], scale: f32, shift: f32, act: RowAct) {
        let n = row.len();
        let (vs, vb) = (_mm512_set1_ps(scale), _mm512_set1_ps(shift));
        let mut i = 0;
        while i < n {
            let m: __mmask16 = if n - i >= 16 {
                0xffff
            } else {
                ((1u32 << (n - i)) - 1) as u16
            };
            let v = _mm512_maskz_loadu_ps(m, row.as_ptr().add(i));
            let y = _mm512_fmadd_ps(v, vs, vb);
            let z = match act {
                RowAct::Identity => y,
                RowAct::LeakyRelu(s) => _mm512_max_ps(y, _mm512_mul_ps(y, _mm512_set1_ps(s))),
                RowAct::Snake(a) => {
                    let s2 = sin2(_mm512_mul_ps(y, _mm512_set1_ps(a)));
                    _mm512_fmadd_ps(s2, _mm512_set1_ps(1.0 / a), y)
                }
            };
            _mm512_mask_storeu_ps(out.as_mut_ptr().add(i), m, z);
            i += 16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vectorised_sin_squared_is_accurate() {
        if !is_x86_feature_detected!("avx512f") {
            return;
        }
        use std::arch::x86_64::*;
        let mut worst = 0f64;
        let mut x = -200.0f32;
        while x < 200.0 {
            let vals: Vec<f32> = (0..16).map(|i| x + i as f32 * 0.0007).collect();
            let mut got = [0f32; 16];
            // SAFETY: AVX-512F detected above.
            unsafe {
                let v = _mm512_loadu_ps(vals.as_ptr());
                _mm512_storeu_ps(got.as_mut_ptr(), avx512::sin2(v));
            }
            for (g, v) in got.iter().zip(&vals) {
                let want = (*v as f64).sin().powi(2);
                worst = worst.max((*g as f64 - want).abs());
            }
            x += 0.0113;
        }
        assert!(worst < 1e-6, "max error {worst:e}");
    }

    #[test]
    fn matches_the_candle_operations() -> Result<()> {
        let dev = Device::Cpu;
        let (b, c, t) = (2, 5, 133);
        let x = (Tensor::randn(0.5f32, 2.0, (b, c, t), &dev)? * 1.0)?;
        let gb = Tensor::randn(0f32, 0.5, (b, 2 * c), &dev)?;
        let alpha: Vec<f32> = (0..c).map(|i| 0.3 + 0.4 * i as f32).collect();
        let w: Vec<f32> = (0..c).map(|i| 1.0 + 0.1 * i as f32).collect();
        let bias: Vec<f32> = (0..c).map(|i| 0.05 * i as f32 - 0.1).collect();
        let gamma = gb.narrow(1, 0, c)?.unsqueeze(2)?;
        let beta = gb.narrow(1, c, c)?.unsqueeze(2)?;
        let col = |v: &[f32]| Tensor::new(v, &dev)?.reshape((1, c, 1));
        let normed = crate::norm::instance_norm(&x)?
            .broadcast_mul(&col(&w)?)?
            .broadcast_add(&col(&bias)?)?;
        let y = normed
            .broadcast_mul(&(gamma + 1.0)?)?
            .broadcast_add(&beta)?;
        let a = col(&alpha)?;
        let snake = (&y + y.broadcast_mul(&a)?.sin()?.sqr()?.broadcast_div(&a)?)?;
        let leaky = y.maximum(&(&y * 0.2)?)?;
        for (act, want) in [
            (Activation::Identity, &y),
            (Activation::LeakyRelu(0.2), &leaky),
            (Activation::Snake(&alpha), &snake),
        ] {
            let got = adain_activation(&x, &gb, Some((&w, &bias)), act)?;
            let err = (got - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(err < 2e-5, "{act:?}: max difference {err}");
        }
        Ok(())
    }

    /// The graph node's gradients for `x` and `γβ` are those of candle's own operations.
    #[test]
    fn gradients_match_the_candle_operations() -> Result<()> {
        use candle_core::Var;
        let dev = Device::Cpu;
        let (b, c, t) = (2, 4, 97);
        let x = Var::from_tensor(&Tensor::randn(0.3f32, 1.5, (b, c, t), &dev)?)?;
        let gb = Var::from_tensor(&Tensor::randn(0f32, 0.5, (b, 2 * c), &dev)?)?;
        // A loss that weighs every output differently.
        let weights = Tensor::randn(0f32, 1.0, (b, c, t), &dev)?;
        let alpha: Vec<f32> = (0..c).map(|i| 0.5 + 0.3 * i as f32).collect();
        let w: Vec<f32> = (0..c).map(|i| 1.0 - 0.1 * i as f32).collect();
        let bias: Vec<f32> = (0..c).map(|i| 0.02 * i as f32).collect();
        let col = |v: &[f32]| Tensor::new(v, &dev)?.reshape((1, c, 1));
        for act in [
            OwnedActivation::Identity,
            OwnedActivation::LeakyRelu(0.2),
            OwnedActivation::Snake(alpha.clone()),
        ] {
            let gamma = gb.narrow(1, 0, c)?.unsqueeze(2)?;
            let beta = gb.narrow(1, c, c)?.unsqueeze(2)?;
            let y = crate::norm::instance_norm(x.as_tensor())?
                .broadcast_mul(&col(&w)?)?
                .broadcast_add(&col(&bias)?)?
                .broadcast_mul(&(gamma + 1.0)?)?
                .broadcast_add(&beta)?;
            let want_y = match &act {
                OwnedActivation::Identity => y,
                OwnedActivation::LeakyRelu(s) => y.maximum(&(&y * *s as f64)?)?,
                OwnedActivation::Snake(a) => {
                    let a = col(a)?;
                    (&y + y.broadcast_mul(&a)?.sin()?.sqr()?.broadcast_div(&a)?)?
                }
            };
            let want = (want_y * &weights)?.sum_all()?.backward()?;
            let got_y = adain_activation_graph(
                x.as_tensor(),
                gb.as_tensor(),
                Some((w.clone(), bias.clone())),
                act.clone(),
            )?;
            let got = (got_y * &weights)?.sum_all()?.backward()?;
            for v in [x.as_tensor(), gb.as_tensor()] {
                let (g, e) = (got.get(v).unwrap(), want.get(v).unwrap());
                let scale = e.abs()?.max_all()?.to_scalar::<f32>()?;
                let err = (g - e)?.abs()?.max_all()?.to_scalar::<f32>()?;
                assert!(
                    err < 1e-4 * scale.max(1.0),
                    "{act:?}: gradient off by {err} (scale {scale})"
                );
            }
        }
        Ok(())
    }
}
