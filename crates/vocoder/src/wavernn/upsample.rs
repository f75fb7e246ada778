//! WaveRNN's conditioning network: a residual MelResNet over the mel frames (stretched to the
//! sample rate) and a stack of stretch-and-smooth layers that upsample the mel itself.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv1d, Conv1dConfig, VarBuilder};

use voxclone_nn::norm::batch_norm_affine as batch_norm;

/// A bias-free 1-wide convolution followed by batch norm.
#[derive(Debug, Clone)]
struct ConvNorm {
    weight: Tensor,
    scale: Tensor,
    shift: Tensor,
}

impl ConvNorm {
    fn load(
        input: usize,
        output: usize,
        kernel: usize,
        conv: VarBuilder,
        norm: VarBuilder,
    ) -> Result<Self> {
        let (scale, shift) = batch_norm(output, norm)?;
        Ok(Self {
            weight: conv.get((output, input, kernel), "weight")?,
            scale,
            shift,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.conv1d(&self.weight, 0, 1, 1, 1)?
            .broadcast_mul(&self.scale)?
            .broadcast_add(&self.shift)
    }
}

/// `x + BN(conv(relu(BN(conv(x)))))`.
#[derive(Debug, Clone)]
struct ResBlock {
    first: ConvNorm,
    second: ConvNorm,
}

impl ResBlock {
    fn load(dims: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            first: ConvNorm::load(dims, dims, 1, vb.pp("conv1"), vb.pp("batch_norm1"))?,
            second: ConvNorm::load(dims, dims, 1, vb.pp("conv2"), vb.pp("batch_norm2"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.second.forward(&self.first.forward(x)?.relu()?)? + x
    }
}

/// The MelResNet: an unpadded `2·pad + 1`-wide convolution (so `pad` frames of context on each
/// side are consumed), residual blocks and a 1-wide output convolution.
#[derive(Debug, Clone)]
struct MelResNet {
    conv_in: ConvNorm,
    blocks: Vec<ResBlock>,
    conv_out: Conv1d,
}

impl MelResNet {
    fn load(
        res_blocks: usize,
        input: usize,
        compute: usize,
        output: usize,
        pad: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let conv_in = ConvNorm::load(
            input,
            compute,
            2 * pad + 1,
            vb.pp("conv_in"),
            vb.pp("batch_norm"),
        )?;
        let blocks = (0..res_blocks)
            .map(|i| ResBlock::load(compute, vb.pp(format!("layers.{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let conv_out = Conv1d::new(
            vb.get((output, compute, 1), "conv_out.weight")?,
            Some(vb.get(output, "conv_out.bias")?),
            Conv1dConfig::default(),
        );
        Ok(Self {
            conv_in,
            blocks,
            conv_out,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = self.conv_in.forward(x)?.relu()?;
        for block in &self.blocks {
            x = block.forward(&x)?;
        }
        self.conv_out.forward(&x)
    }
}

/// Repeats every step along the last axis `scale` times (RTVC's `Stretch2d`).
fn stretch(x: &Tensor, scale: usize) -> Result<Tensor> {
    let (b, c, t) = x.dims3()?;
    x.unsqueeze(3)?
        .broadcast_as((b, c, t, scale))?
        .reshape((b, c, t * scale))
}

/// The upsampling network (RTVC's `UpsampleNetwork`).
#[derive(Debug, Clone)]
pub struct UpsampleNetwork {
    resnet: MelResNet,
    /// Per scale: the scale and its smoothing kernel `[1, 1, 2·scale + 1]`, shared by all mel
    /// channels.
    layers: Vec<(usize, Tensor)>,
    pad: usize,
    total_scale: usize,
}

impl UpsampleNetwork {
    pub fn load(
        feat_dims: usize,
        scales: &[usize],
        compute_dims: usize,
        res_blocks: usize,
        res_out_dims: usize,
        pad: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let resnet = MelResNet::load(
            res_blocks,
            feat_dims,
            compute_dims,
            res_out_dims,
            pad,
            vb.pp("resnet"),
        )?;
        // `up_layers` alternates stretches (no weights) and convolutions: the convolutions
        // are entries 1, 3, 5, …
        let layers = scales
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let w = vb.get(
                    (1, 1, 1, 2 * s + 1),
                    &format!("up_layers.{}.weight", 2 * i + 1),
                )?;
                Ok((s, w.reshape((1, 1, 2 * s + 1))?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            resnet,
            layers,
            pad,
            total_scale: scales.iter().product(),
        })
    }

    /// `mel` `[1, feat, T + 2·pad]` (padded with `pad` zero frames on each side) → the
    /// upsampled mel `[T·hop, feat]` and the MelResNet features `[T·hop, res_out]`.
    pub fn forward(&self, mel: &Tensor) -> Result<(Tensor, Tensor)> {
        let aux = stretch(&self.resnet.forward(mel)?, self.total_scale)?;
        let (b, c, t) = mel.dims3()?;
        let mut m = mel.reshape((b * c, 1, t))?;
        for (scale, kernel) in &self.layers {
            m = stretch(&m, *scale)?.conv1d(kernel, *scale, 1, 1, 1)?;
        }
        let indent = self.pad * self.total_scale;
        let len = m.dim(2)? - 2 * indent;
        let m = m
            .reshape((b, c, len + 2 * indent))?
            .narrow(2, indent, len)?;
        Ok((
            m.squeeze(0)?.t()?.contiguous()?,
            aux.squeeze(0)?.t()?.contiguous()?,
        ))
    }
}
