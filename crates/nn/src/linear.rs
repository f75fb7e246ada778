//! A linear layer whose product runs on the vocoder's fast convolution (a 1 × 1 convolution is
//! a matrix product): AMX tiles where the CPU has them, at f32-level accuracy (bf16x3), with
//! candle's own product for trained weights. Differentiable either way.

use crate::kernels::{FastConv1d, Precision};
use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

#[derive(Debug, Clone)]
pub struct Linear {
    conv: FastConv1d,
}

impl Linear {
    /// `weight` `[out, in]` and `bias` `[out]` under `vb`, as `candle_nn::linear` reads them.
    pub fn load(input: usize, output: usize, vb: VarBuilder) -> Result<Self> {
        let weight = vb.get((output, input), "weight")?;
        let bias = vb.get(output, "bias")?;
        let conv = FastConv1d::new(&weight.unsqueeze(2)?, Some(&bias), 0, 1)?
            // Stage 2 rounds durations: keep its products at f32 accuracy.
            .with_precision(Precision::Bf16x3);
        Ok(Self { conv })
    }
}

impl Module for Linear {
    /// `x` `[B, T, in]` → `[B, T, out]`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv
            .forward(&x.transpose(1, 2)?)?
            .transpose(1, 2)?
            .contiguous()
    }
}
