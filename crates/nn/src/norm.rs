//! Normalisations with PyTorch's epsilon: batch norm folded for inference, instance norm, and
//! layer norm over channels.

use candle_core::{Result, Tensor, D};
use candle_nn::VarBuilder;

/// Instance, layer and batch norms of the reference models use PyTorch's default epsilon.
pub const NORM_EPS: f64 = 1e-5;

/// PyTorch's `BatchNorm1d` at inference, folded into a per-channel `(scale, shift)`, each
/// `[1, C, 1]`: `scale = γ / √(running_var + ε)`, `shift = β − running_mean · scale`.
pub fn batch_norm_affine(channels: usize, vb: VarBuilder) -> Result<(Tensor, Tensor)> {
    let gamma = vb.get(channels, "weight")?;
    let beta = vb.get(channels, "bias")?;
    let mean = vb.get(channels, "running_mean")?;
    let var = vb.get(channels, "running_var")?;
    let scale = gamma.div(&(var + NORM_EPS)?.sqrt()?)?;
    let shift = beta.sub(&mean.mul(&scale)?)?;
    Ok((
        scale.reshape((1, channels, 1))?,
        shift.reshape((1, channels, 1))?,
    ))
}

/// Normalises each channel of `x` `[B, C, T]` over time (instance norm without affine).
pub fn instance_norm(x: &Tensor) -> Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    centred.broadcast_div(&(var + NORM_EPS)?.sqrt()?)
}

/// Layer norm over the channels of `[B, C, T]` (PyTorch's `F.layer_norm` on the channel axis,
/// epsilon 1e-5), with an optional per-channel gain and bias.
pub fn channel_layer_norm(x: &Tensor, affine: Option<(&Tensor, &Tensor)>) -> Result<Tensor> {
    let mean = x.mean_keepdim(1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(1)?;
    let y = centred.broadcast_div(&(var + NORM_EPS)?.sqrt()?)?;
    match affine {
        Some((gamma, beta)) => {
            let c = gamma.dim(D::Minus1)?;
            y.broadcast_mul(&gamma.reshape((1, c, 1))?)?
                .broadcast_add(&beta.reshape((1, c, 1))?)
        }
        None => Ok(y),
    }
}
