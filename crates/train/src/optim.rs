//! The optimiser every trainer uses, with state that survives an interruption.

use std::collections::HashMap;

use candle_core::{backprop::GradStore, DType, Device, Result, Tensor, Var};

/// Adam (Kingma & Ba 2015, PyTorch's defaults: β 0.9/0.999, ε 1e-8) with its moments kept by
/// parameter name, so that a resumed run continues exactly where it stopped.
pub struct Adam {
    vars: Vec<(String, Var)>,
    moments: Vec<(Tensor, Tensor)>,
    lr: f64,
    t: usize,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPS: f64 = 1e-8;

    pub fn new(vars: Vec<(String, Var)>, lr: f64) -> Result<Self> {
        let moments = vars
            .iter()
            .map(|(_, v)| Ok((v.zeros_like()?, v.zeros_like()?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            vars,
            moments,
            lr,
            t: 0,
        })
    }

    pub fn learning_rate(&self) -> f64 {
        self.lr
    }

    /// For schedules: the rate of the next steps.
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads, 1.0)
    }

    /// Scales `grads` down so that their global L2 norm is at most `max_norm` (PyTorch's
    /// `clip_grad_norm_`), and steps. Returns the norm before clipping.
    pub fn clip_and_step(&mut self, grads: &GradStore, max_norm: f64) -> Result<f64> {
        let mut squares = 0f64;
        for (_, var) in &self.vars {
            if let Some(g) = grads.get(var) {
                squares += g
                    .sqr()?
                    .sum_all()?
                    .to_dtype(DType::F64)?
                    .to_scalar::<f64>()?;
            }
        }
        let norm = squares.sqrt();
        let scale = (max_norm / (norm + 1e-6)).min(1.0);
        self.step(grads, scale)?;
        Ok(norm)
    }

    fn step(&mut self, grads: &GradStore, scale: f64) -> Result<()> {
        self.t += 1;
        let (b1, b2) = (Self::BETA1, Self::BETA2);
        let step = self.lr / (1.0 - b1.powi(self.t as i32));
        let correction2 = 1.0 - b2.powi(self.t as i32);
        for ((_, var), (m, v)) in self.vars.iter().zip(self.moments.iter_mut()) {
            let Some(g) = grads.get(var) else { continue };
            let g = if scale < 1.0 { (g * scale)? } else { g.clone() };
            *m = ((&*m * b1)? + (&g * (1.0 - b1))?)?;
            *v = ((&*v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let denom = ((&*v / correction2)?.sqrt()? + Self::EPS)?;
            var.set(&(var.as_tensor() - (m.div(&denom)? * step)?)?)?;
        }
        Ok(())
    }

    /// The moments as `m.<name>`, `v.<name>`, and the step count as `t`.
    pub fn state(&self) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        for ((name, _), (m, v)) in self.vars.iter().zip(&self.moments) {
            out.insert(format!("m.{name}"), m.clone());
            out.insert(format!("v.{name}"), v.clone());
        }
        out.insert("t".into(), Tensor::new(&[self.t as i64], &Device::Cpu)?);
        Ok(out)
    }

    /// Restores [`Adam::state`]; every moment must be there with its parameter's shape.
    pub fn restore(&mut self, state: &HashMap<String, Tensor>) -> Result<()> {
        for ((name, var), (m, v)) in self.vars.iter().zip(self.moments.iter_mut()) {
            for (key, slot) in [(format!("m.{name}"), m), (format!("v.{name}"), v)] {
                let t = state.get(&key).ok_or_else(|| {
                    candle_core::Error::Msg(format!("the optimiser state has no {key}"))
                })?;
                if t.dims() != var.dims() {
                    candle_core::bail!(
                        "the optimiser state's {key} is {:?}, expected {:?}",
                        t.dims(),
                        var.dims()
                    );
                }
                *slot = t.to_dtype(DType::F32)?.to_device(var.device())?;
            }
        }
        if let Some(t) = state.get("t") {
            self.t = t.flatten_all()?.to_vec1::<i64>()?[0].max(0) as usize;
        }
        Ok(())
    }

    /// Writes [`Adam::state`] to `path` through a temporary file renamed into place.
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        let tmp = path.with_extension("safetensors.part");
        candle_core::safetensors::save(&self.state()?, &tmp)?;
        std::fs::rename(&tmp, path)
            .map_err(|e| candle_core::Error::Msg(format!("{}: {e}", path.display())))
    }

    /// Where the state of the optimiser training the model at `checkpoint` is kept: beside it.
    fn path_beside(checkpoint: &std::path::Path) -> std::path::PathBuf {
        checkpoint.with_file_name(OPTIMIZER_FILE)
    }

    /// [`Adam::save`] beside `checkpoint`.
    pub fn save_beside(&self, checkpoint: &std::path::Path) -> Result<()> {
        self.save(&Self::path_beside(checkpoint))
    }

    /// [`Adam::restore`] from beside `checkpoint`; `false` when nothing is there.
    pub fn restore_beside(&mut self, checkpoint: &std::path::Path) -> Result<bool> {
        let path = Self::path_beside(checkpoint);
        if !path.is_file() {
            return Ok(false);
        }
        self.restore(&candle_core::safetensors::load(&path, &Device::Cpu)?)?;
        Ok(true)
    }
}

/// The optimiser's state file, beside a trainer's checkpoint.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
