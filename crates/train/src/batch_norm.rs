//! Batch norm in training mode: normalised by the batch's statistics, with the running ones
//! (what inference uses) kept as PyTorch keeps them.

use candle_core::{Result, Tensor, Var};
use voxclone_nn::norm::NORM_EPS;

/// PyTorch's `BatchNorm1d` momentum for the running statistics.
pub const BATCH_NORM_MOMENTUM: f64 = 0.1;

/// Batch norm in training mode on `x` `[B, C, T]`: normalised by the batch's mean and (biased)
/// variance over `B` and `T`, then scaled by `gamma` and shifted by `beta` (each `[C]`).
/// Returns the output and the detached statistics `(mean, var)`, each `[C]`, for
/// [`update_running_stats`].
pub fn batch_norm_training(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
) -> Result<(Tensor, Tensor, Tensor)> {
    let c = x.dim(1)?;
    let mean = x.mean_keepdim(2)?.mean_keepdim(0)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(2)?.mean_keepdim(0)?;
    let y = centred
        .broadcast_div(&(&var + NORM_EPS)?.sqrt()?)?
        .broadcast_mul(&gamma.reshape((1, c, 1))?)?
        .broadcast_add(&beta.reshape((1, c, 1))?)?;
    Ok((y, mean.flatten_all()?.detach(), var.flatten_all()?.detach()))
}

/// PyTorch's running-statistics update from one batch of `count` values per channel: momentum
/// 0.1, the variance made unbiased.
pub fn update_running_stats(
    running_mean: &Var,
    running_var: &Var,
    mean: &Tensor,
    var: &Tensor,
    count: usize,
) -> Result<()> {
    let m = BATCH_NORM_MOMENTUM;
    let n = count as f64;
    let unbiased = (var * (n / (n - 1.0).max(1.0)))?;
    running_mean.set(&((running_mean.as_tensor() * (1.0 - m))? + (mean * m)?)?)?;
    running_var.set(&((running_var.as_tensor() * (1.0 - m))? + (unbiased * m)?)?)
}
