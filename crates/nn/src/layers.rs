//! The building blocks StyleTTS 2 shares between its prosody predictor and its decoder:
//! convolutions (weight norm already folded), AdaIN, Snake, and the two AdaIN residual blocks.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};

use crate::kernels::adain::{self, Activation};
use crate::kernels::{FastConv1d, Kernel};
use crate::norm::instance_norm;

/// A 1-D convolution, `weight` `[out, in, k]`, optional `bias`. Stride-1 convolutions run on
/// [`FastConv1d`] (a fast kernel for inference where the CPU has one, candle's otherwise).
#[derive(Debug, Clone)]
pub struct Conv1d {
    weight: Tensor,
    bias: Option<Tensor>,
    padding: usize,
    stride: usize,
    dilation: usize,
    fast: Option<FastConv1d>,
}

impl Conv1d {
    pub fn load(
        vb: &VarBuilder,
        (out, inp, k): (usize, usize, usize),
        padding: usize,
        stride: usize,
        dilation: usize,
        bias: bool,
    ) -> Result<Self> {
        let weight = vb.get((out, inp, k), "weight")?;
        let bias = if bias {
            Some(vb.get(out, "bias")?)
        } else {
            None
        };
        let fast = if stride == 1 {
            Some(FastConv1d::new(&weight, bias.as_ref(), padding, dilation)?)
        } else {
            None
        };
        Ok(Self {
            weight,
            bias,
            padding,
            stride,
            dilation,
            fast,
        })
    }

    /// A "same" convolution: stride 1, padding `dilation * (k - 1) / 2`.
    pub fn same(
        vb: &VarBuilder,
        out: usize,
        inp: usize,
        k: usize,
        dilation: usize,
    ) -> Result<Self> {
        Self::load(vb, (out, inp, k), dilation * (k - 1) / 2, 1, dilation, true)
    }
}

impl Module for Conv1d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if let Some(fast) = &self.fast {
            return fast.forward(x);
        }
        let y = x.conv1d(&self.weight, self.padding, self.stride, self.dilation, 1)?;
        match &self.bias {
            Some(b) => y.broadcast_add(&b.reshape((1, (), 1))?),
            None => Ok(y),
        }
    }
}

/// A transposed 1-D convolution (upsampling), `weight` `[in, out, k]`, computed in polyphase
/// form by [`conv_transpose1d_polyphase`] so that it has a gradient.
#[derive(Debug, Clone)]
pub struct ConvTranspose1d {
    /// The phases' convolution, kernel `[stride · out, in, ⌈k / stride⌉]` (see
    /// [`polyphase_kernel`]), on candle's convolution with [`FastConv1d`]'s backward pass.
    phases: FastConv1d,
    bias: Tensor,
    padding: usize,
    stride: usize,
    k: usize,
}

impl ConvTranspose1d {
    pub fn load(vb: &VarBuilder, inp: usize, out: usize, k: usize, stride: usize) -> Result<Self> {
        let weight = vb.get((inp, out, k), "weight")?;
        let kernel = polyphase_kernel(&weight, stride)?;
        Ok(Self {
            phases: FastConv1d::with_kernel(&kernel, None, 0, 1, Kernel::Portable)?,
            bias: vb.get(out, "bias")?,
            padding: (k - stride) / 2,
            stride,
            k,
        })
    }
}

impl Module for ConvTranspose1d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let taps = self.phases.taps();
        let padded = x.pad_with_zeros(2, taps - 1, taps - 1)?;
        let phases = self.phases.forward(&padded)?;
        interleave_phases(&phases, self.stride, self.padding, x.dim(2)?, self.k)?
            .broadcast_add(&self.bias.reshape((1, (), 1))?)
    }
}

/// The kernel of a transposed convolution (`[in, out, k]`, stride `s`) rearranged into `s`
/// phases of an ordinary convolution: `[s · out, in, M]` with `M = ⌈k / s⌉`, row `(r, o)`
/// holding taps `r, r + s, r + 2s, …` of output channel `o`, reversed.
pub fn polyphase_kernel(weight: &Tensor, stride: usize) -> Result<Tensor> {
    let (inp, out, k) = weight.dims3()?;
    let taps = k.div_ceil(stride);
    // Pad the kernel to M·s taps, then split tap index j = m·s + r.
    let padded = weight.pad_with_zeros(2, 0, taps * stride - k)?;
    padded
        .reshape((inp, out, taps, stride))?
        // [r, out, in, m]
        .permute((3, 1, 0, 2))?
        .flip_taps()?
        .reshape((stride * out, inp, taps))
}

trait FlipLast {
    fn flip_taps(&self) -> Result<Tensor>;
}

impl FlipLast for Tensor {
    /// Reverses the last dimension.
    fn flip_taps(&self) -> Result<Tensor> {
        let n = self.dim(candle_core::D::Minus1)?;
        let idx: Vec<u32> = (0..n as u32).rev().collect();
        let idx = Tensor::new(idx.as_slice(), self.device())?;
        self.contiguous()?.index_select(&idx, self.rank() - 1)
    }
}

/// `conv_transpose1d(x, w, stride, padding)` as one ordinary convolution per phase
/// (interleaved): output sample `n = q·s + r − padding` is `Σₘ x[q − m] · w[m·s + r]`. Same
/// cost as the direct form, and candle can differentiate it (it cannot differentiate
/// `conv_transpose1d`). `kernel` comes from [`polyphase_kernel`]; `k` is the original length.
pub fn conv_transpose1d_polyphase(
    x: &Tensor,
    kernel: &Tensor,
    stride: usize,
    padding: usize,
    k: usize,
) -> Result<Tensor> {
    let len = x.dim(2)?;
    let taps = kernel.dim(2)?;
    let padded = x.pad_with_zeros(2, taps - 1, taps - 1)?;
    let phases = padded.conv1d(kernel, 0, 1, 1, 1)?;
    interleave_phases(&phases, stride, padding, len, k)
}

/// The phases `[B, s·out, L + M − 1]` of [`conv_transpose1d_polyphase`] interleaved into the
/// transposed convolution's output (`len` = L input frames, `k` the original kernel length).
fn interleave_phases(
    phases: &Tensor,
    stride: usize,
    padding: usize,
    len: usize,
    k: usize,
) -> Result<Tensor> {
    let (b, rows, q) = phases.dims3()?;
    let out = rows / stride;
    let interleaved = phases
        .reshape((b, stride, out, q))?
        .permute((0, 2, 3, 1))?
        .reshape((b, out, q * stride))?;
    let out_len = (len - 1) * stride + k - 2 * padding;
    interleaved.narrow(2, padding, out_len)
}

/// The depthwise transposed convolution that doubles the frame rate inside an upsampling
/// [`AdainResBlk1d`] (`pool`: kernel 3, stride 2, padding 1, output padding 1, one group per
/// channel).
///
/// Written out rather than as a grouped `conv_transpose1d` (which candle runs as one
/// convolution per channel): output frame `2t` is `w₁·x[t]` and frame `2t+1` is
/// `w₂·x[t] + w₀·x[t+1]`.
#[derive(Debug, Clone)]
pub struct DepthwiseUpsample {
    /// The three taps, each `[1, C, 1]`.
    taps: [Tensor; 3],
    bias: Tensor,
}

impl DepthwiseUpsample {
    pub fn load(vb: &VarBuilder, channels: usize) -> Result<Self> {
        let w = vb.get((channels, 1, 3), "weight")?;
        let tap = |i: usize| w.narrow(2, i, 1)?.reshape((1, channels, 1));
        Ok(Self {
            taps: [tap(0)?, tap(1)?, tap(2)?],
            bias: vb.get(channels, "bias")?.reshape((1, channels, 1))?,
        })
    }
}

impl Module for DepthwiseUpsample {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, t) = x.dims3()?;
        let next = x.narrow(2, 1, t - 1)?.pad_with_zeros(2, 0, 1)?;
        let even = x.broadcast_mul(&self.taps[1])?;
        let odd = (x.broadcast_mul(&self.taps[2])? + next.broadcast_mul(&self.taps[0])?)?;
        Tensor::stack(&[even, odd], 3)?
            .reshape((b, c, 2 * t))?
            .broadcast_add(&self.bias)
    }
}

/// Adaptive instance normalisation: the style vector sets each channel's gain and bias,
/// `(1 + γ(s)) · IN(x) + β(s)`.
#[derive(Debug, Clone)]
pub struct AdaIn1d {
    fc: Linear,
    /// The instance norm's own affine parameters, present in exports made with `affine=True`.
    affine: Option<(Tensor, Tensor)>,
    /// The same, as plain values for the fused kernel.
    affine_values: Option<(Vec<f32>, Vec<f32>)>,
    channels: usize,
}

impl AdaIn1d {
    pub fn load(vb: &VarBuilder, style_dim: usize, channels: usize) -> Result<Self> {
        let fc = candle_nn::linear(style_dim, 2 * channels, vb.pp("fc"))?;
        let norm = vb.pp("norm");
        let affine = if norm.contains_tensor("weight") {
            Some((
                norm.get(channels, "weight")?.reshape((1, channels, 1))?,
                norm.get(channels, "bias")?.reshape((1, channels, 1))?,
            ))
        } else {
            None
        };
        let affine_values = match &affine {
            Some((w, b)) => Some((w.flatten_all()?.to_vec1()?, b.flatten_all()?.to_vec1()?)),
            None => None,
        };
        Ok(Self {
            fc,
            affine,
            affine_values,
            channels,
        })
    }

    /// `leaky_relu(forward(x, style), slope)`, fused when nothing needs a gradient.
    pub fn forward_leaky_relu(&self, x: &Tensor, style: &Tensor, slope: f32) -> Result<Tensor> {
        match self.fused(x, style, Activation::LeakyRelu(slope), false) {
            Some(y) => y,
            None => leaky_relu(&self.forward(x, style)?, slope as f64),
        }
    }

    /// `snake(forward(x, style))`, fused when nothing needs a gradient.
    pub fn forward_snake(&self, x: &Tensor, style: &Tensor, snake: &Snake) -> Result<Tensor> {
        let act = Activation::Snake(&snake.alpha_values);
        match self.fused(x, style, act, snake.alpha.track_op()) {
            Some(y) => y,
            None => snake.forward(&self.forward(x, style)?),
        }
    }

    /// The fused kernel, or `None` when a parameter of the layer is being trained (then
    /// candle's operations run, and they are the reference). When the input or the style
    /// needs a gradient (voice adaptation), the fused kernel runs as a graph node with its own
    /// backward ([`adain::adain_activation_graph`]).
    fn fused(
        &self,
        x: &Tensor,
        style: &Tensor,
        act: Activation,
        alpha_tracked: bool,
    ) -> Option<Result<Tensor>> {
        let params_tracked = alpha_tracked
            || self.fc.weight().track_op()
            || self.fc.bias().is_some_and(Tensor::track_op)
            || self
                .affine
                .as_ref()
                .is_some_and(|(w, b)| w.track_op() || b.track_op());
        if params_tracked || !adain::supports(x) {
            return None;
        }
        let inputs_tracked = x.track_op() || style.track_op();
        Some(self.fc.forward(style).and_then(|gb| {
            if inputs_tracked {
                adain::adain_activation_graph(x, &gb, self.affine_values.clone(), act.to_owned())
            } else {
                let affine = self
                    .affine_values
                    .as_ref()
                    .map(|(w, b)| (w.as_slice(), b.as_slice()));
                adain::adain_activation(x, &gb, affine, act)
            }
        }))
    }

    /// `x` `[B, C, T]`, `style` `[B, style_dim]`.
    pub fn forward(&self, x: &Tensor, style: &Tensor) -> Result<Tensor> {
        let h = self.fc.forward(style)?.unsqueeze(2)?;
        let gamma = h.narrow(1, 0, self.channels)?;
        let beta = h.narrow(1, self.channels, self.channels)?;
        let mut normed = instance_norm(x)?;
        if let Some((w, b)) = &self.affine {
            normed = normed.broadcast_mul(w)?.broadcast_add(b)?;
        }
        normed.broadcast_mul(&(gamma + 1.0)?)?.broadcast_add(&beta)
    }
}

/// Snake activation (Ziyin et al. 2020), `x + sin²(αx)/α`, one α per channel.
#[derive(Debug, Clone)]
pub struct Snake {
    alpha: Tensor,
    inv_alpha: Tensor,
    alpha_values: Vec<f32>,
}

impl Snake {
    pub fn load(vb: &VarBuilder, name: &str, channels: usize) -> Result<Self> {
        let alpha = vb.get((1, channels, 1), name)?;
        Ok(Self {
            inv_alpha: alpha.recip()?,
            alpha_values: alpha.flatten_all()?.to_vec1()?,
            alpha,
        })
    }
}

impl Module for Snake {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.broadcast_mul(&self.alpha)?.sin()?.sqr()?;
        x + s.broadcast_mul(&self.inv_alpha)?
    }
}

pub fn leaky_relu(x: &Tensor, slope: f64) -> Result<Tensor> {
    // max(x, slope·x) for 0 < slope < 1.
    x.maximum(&(x * slope)?)
}

/// StyleTTS 2's AdaIN residual block (`AdainResBlk1d`), used by the prosody predictor and the
/// decoder: `(residual(x, s) + shortcut(x)) / √2`, optionally doubling the frame rate.
#[derive(Debug, Clone)]
pub struct AdainResBlk1d {
    norm1: AdaIn1d,
    norm2: AdaIn1d,
    conv1: Conv1d,
    conv2: Conv1d,
    /// A 1×1 convolution on the shortcut when the channel count changes.
    conv1x1: Option<Conv1d>,
    /// Present when the block upsamples 2×.
    pool: Option<DepthwiseUpsample>,
}

impl AdainResBlk1d {
    pub fn load(
        vb: &VarBuilder,
        dim_in: usize,
        dim_out: usize,
        style_dim: usize,
        upsample: bool,
    ) -> Result<Self> {
        let conv1x1 = if dim_in != dim_out {
            Some(Conv1d::load(
                &vb.pp("conv1x1"),
                (dim_out, dim_in, 1),
                0,
                1,
                1,
                false,
            )?)
        } else {
            None
        };
        let pool = if upsample {
            Some(DepthwiseUpsample::load(&vb.pp("pool"), dim_in)?)
        } else {
            None
        };
        Ok(Self {
            norm1: AdaIn1d::load(&vb.pp("norm1"), style_dim, dim_in)?,
            norm2: AdaIn1d::load(&vb.pp("norm2"), style_dim, dim_out)?,
            conv1: Conv1d::same(&vb.pp("conv1"), dim_out, dim_in, 3, 1)?,
            conv2: Conv1d::same(&vb.pp("conv2"), dim_out, dim_out, 3, 1)?,
            conv1x1,
            pool,
        })
    }

    pub fn upsamples(&self) -> bool {
        self.pool.is_some()
    }

    pub fn forward(&self, x: &Tensor, style: &Tensor) -> Result<Tensor> {
        let mut r = self.norm1.forward_leaky_relu(x, style, 0.2)?;
        if let Some(pool) = &self.pool {
            r = pool.forward(&r)?;
        }
        let r = self.conv1.forward(&r)?;
        let r = self.norm2.forward_leaky_relu(&r, style, 0.2)?;
        let r = self.conv2.forward(&r)?;

        let mut shortcut = x.clone();
        if self.pool.is_some() {
            shortcut = upsample_nearest2x(&shortcut)?;
        }
        if let Some(c) = &self.conv1x1 {
            shortcut = c.forward(&shortcut)?;
        }
        (r + shortcut)? * std::f64::consts::FRAC_1_SQRT_2
    }
}

/// Repeats every frame of `[B, C, T]` twice.
pub fn upsample_nearest2x(x: &Tensor) -> Result<Tensor> {
    let (b, c, t) = x.dims3()?;
    x.unsqueeze(3)?
        .broadcast_as((b, c, t, 2))?
        .reshape((b, c, 2 * t))
}

/// HiFi-GAN's residual block with AdaIN and Snake (`AdaINResBlock1`): three dilated
/// convolution pairs, each added back to its input.
#[derive(Debug, Clone)]
pub struct AdaInResBlock1 {
    stages: Vec<ResStage>,
}

#[derive(Debug, Clone)]
struct ResStage {
    adain1: AdaIn1d,
    snake1: Snake,
    conv1: Conv1d,
    adain2: AdaIn1d,
    snake2: Snake,
    conv2: Conv1d,
}

impl AdaInResBlock1 {
    pub fn load(
        vb: &VarBuilder,
        channels: usize,
        kernel: usize,
        dilations: &[usize],
        style_dim: usize,
    ) -> Result<Self> {
        let stages = dilations
            .iter()
            .enumerate()
            .map(|(j, &d)| {
                let j = j.to_string();
                Ok(ResStage {
                    adain1: AdaIn1d::load(&vb.pp("adain1").pp(&j), style_dim, channels)?,
                    snake1: Snake::load(&vb.pp("alpha1"), &j, channels)?,
                    conv1: Conv1d::same(&vb.pp("convs1").pp(&j), channels, channels, kernel, d)?,
                    adain2: AdaIn1d::load(&vb.pp("adain2").pp(&j), style_dim, channels)?,
                    snake2: Snake::load(&vb.pp("alpha2"), &j, channels)?,
                    conv2: Conv1d::same(&vb.pp("convs2").pp(&j), channels, channels, kernel, 1)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { stages })
    }

    pub fn forward(&self, x: &Tensor, style: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        for s in &self.stages {
            let t = s.adain1.forward_snake(&x, style, &s.snake1)?;
            let t = s.conv1.forward(&t)?;
            let t = s.adain2.forward_snake(&t, style, &s.snake2)?;
            let t = s.conv2.forward(&t)?;
            x = (t + x)?;
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn depthwise_upsample_matches_a_grouped_transposed_convolution() -> Result<()> {
        let dev = Device::Cpu;
        let (c, t) = (3, 5);
        let w = Tensor::randn(0f32, 1.0, (c, 1, 3), &dev)?;
        let bias = Tensor::randn(0f32, 1.0, c, &dev)?;
        let x = Tensor::randn(0f32, 1.0, (2, c, t), &dev)?;
        let tensors = std::collections::HashMap::from([
            ("weight".to_string(), w.clone()),
            ("bias".to_string(), bias.clone()),
        ]);
        let vb = VarBuilder::from_tensors(tensors, candle_core::DType::F32, &dev);
        let ours = DepthwiseUpsample::load(&vb, c)?.forward(&x)?;
        let reference = x
            .conv_transpose1d(&w, 1, 1, 2, 1, c)?
            .broadcast_add(&bias.reshape((1, c, 1))?)?;
        assert_eq!(ours.dims(), &[2, c, 2 * t]);
        let diff = (ours - reference)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "max difference {diff}");
        Ok(())
    }

    #[test]
    fn polyphase_transposed_convolution_matches_the_definition() -> Result<()> {
        let dev = Device::Cpu;
        for (inp, out, k, stride, padding, len) in [
            (3, 2, 20, 10, 5, 7),
            (4, 3, 12, 6, 3, 5),
            (2, 1, 20, 5, 0, 9),
            (1, 1, 3, 2, 1, 4),
        ] {
            let w = Tensor::randn(0f32, 1.0, (inp, out, k), &dev)?;
            let x = Tensor::randn(0f32, 1.0, (2, inp, len), &dev)?;
            let reference = naive_conv_transpose1d(&x, &w, stride, padding)?;
            let ours =
                conv_transpose1d_polyphase(&x, &polyphase_kernel(&w, stride)?, stride, padding, k)?;
            assert_eq!(ours.dims(), reference.dims());
            let diff = (ours - reference)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-4, "k {k} stride {stride}: max difference {diff}");
        }
        Ok(())
    }

    /// The definition: `y[i·s + j − p] += x[i] · w[j]`.
    #[allow(clippy::needless_range_loop)]
    fn naive_conv_transpose1d(
        x: &Tensor,
        w: &Tensor,
        stride: usize,
        padding: usize,
    ) -> Result<Tensor> {
        let (b, inp, len) = x.dims3()?;
        let (_, out, k) = w.dims3()?;
        let xs = x.to_vec3::<f32>()?;
        let ws = w.to_vec3::<f32>()?;
        let out_len = (len - 1) * stride + k - 2 * padding;
        let mut y = vec![0f32; b * out * out_len];
        for bi in 0..b {
            for i in 0..inp {
                for o in 0..out {
                    for t in 0..len {
                        for j in 0..k {
                            let n = (t * stride + j) as isize - padding as isize;
                            if n >= 0 && (n as usize) < out_len {
                                y[(bi * out + o) * out_len + n as usize] +=
                                    xs[bi][i][t] * ws[i][o][j];
                            }
                        }
                    }
                }
            }
        }
        Tensor::from_vec(y, (b, out, out_len), x.device())
    }

    #[test]
    fn polyphase_transposed_convolution_has_a_gradient() -> Result<()> {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (2, 2, 6), &dev)?;
        let x = candle_core::Var::randn(0f32, 1.0, (1, 2, 5), &dev)?;
        let y = conv_transpose1d_polyphase(x.as_tensor(), &polyphase_kernel(&w, 3)?, 3, 1, 6)?;
        let grads = y.sqr()?.sum_all()?.backward()?;
        let g = grads.get(x.as_tensor()).expect("gradient");
        assert!(g.abs()?.sum_all()?.to_scalar::<f32>()? > 0.0);
        Ok(())
    }

    #[test]
    fn instance_norm_gives_zero_mean_unit_variance_per_channel() -> Result<()> {
        let x = Tensor::randn(3f32, 2.0, (2, 4, 50), &Device::Cpu)?;
        let y = instance_norm(&x)?;
        let mean = y.mean_keepdim(2)?.abs()?.max_all()?.to_scalar::<f32>()?;
        let var = y.sqr()?.mean_keepdim(2)?.flatten_all()?.to_vec1::<f32>()?;
        assert!(mean < 1e-5);
        assert!(var.iter().all(|v| (v - 1.0).abs() < 1e-3), "{var:?}");
        Ok(())
    }

    #[test]
    fn nearest_upsampling_repeats_frames() -> Result<()> {
        let x = Tensor::new(&[[[1f32, 2., 3.]]], &Device::Cpu)?;
        let y = upsample_nearest2x(&x)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(y, vec![1., 1., 2., 2., 3., 3.]);
        Ok(())
    }
}
