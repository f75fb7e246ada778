//! Reading a checkpoint back into a model being trained.

use std::collections::HashMap;

use candle_core::{DType, Result, Tensor, Var};

/// Sets each named variable from the tensor of that name in `tensors` (any float type, any
/// device); a missing or mis-shaped tensor is an error that names it.
pub fn load_vars(vars: &[(String, Var)], tensors: &HashMap<String, Tensor>) -> Result<()> {
    for (name, var) in vars {
        let t = tensors
            .get(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("no tensor {name}")))?;
        if t.dims() != var.dims() {
            candle_core::bail!("{name} is {:?}, expected {:?}", t.dims(), var.dims());
        }
        var.set(&t.to_dtype(DType::F32)?.to_device(var.device())?)?;
    }
    Ok(())
}

/// The step a checkpoint records in its `step` tensor (0 when it has none).
pub fn stored_step(tensors: &HashMap<String, Tensor>) -> Result<usize> {
    Ok(tensors
        .get("step")
        .map(|t| {
            t.flatten_all()
                .and_then(|t| t.to_dtype(DType::I64))
                .and_then(|t| t.to_vec1::<i64>())
                .map(|v| v[0].max(0) as usize)
        })
        .transpose()?
        .unwrap_or(0))
}
