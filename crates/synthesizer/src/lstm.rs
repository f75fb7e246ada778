//! A one-layer bidirectional LSTM with PyTorch's weight names and gate order (i, f, g, o).

use candle_core::{Result, Tensor, D};
use candle_nn::VarBuilder;

#[derive(Debug, Clone)]
struct Direction {
    /// `W_ih`, `4H × in`.
    w_ih: Tensor,
    /// `W_hh`, `4H × H`.
    w_hh: Tensor,
    /// `b_ih + b_hh`, `4H`.
    bias: Tensor,
}

impl Direction {
    fn load(vb: &VarBuilder, suffix: &str, input: usize, hidden: usize) -> Result<Self> {
        let g = 4 * hidden;
        let b_ih = vb.get(g, &format!("bias_ih_l0{suffix}"))?;
        let b_hh = vb.get(g, &format!("bias_hh_l0{suffix}"))?;
        Ok(Self {
            w_ih: vb.get((g, input), &format!("weight_ih_l0{suffix}"))?,
            w_hh: vb.get((g, hidden), &format!("weight_hh_l0{suffix}"))?,
            bias: (b_ih + b_hh)?,
        })
    }

    /// Hidden states of a pass over `x` `[T, in]`, in time order whatever the direction.
    fn run(&self, x: &Tensor, reverse: bool) -> Result<Tensor> {
        let steps = x.dim(0)?;
        let hidden = self.w_hh.dim(1)?;
        // The input half of every gate, for all steps in one product.
        let xg = x.matmul(&self.w_ih.t()?)?.broadcast_add(&self.bias)?;
        let w_hh_t = self.w_hh.t()?;
        let mut h = Tensor::zeros((1, hidden), x.dtype(), x.device())?;
        let mut c = h.clone();
        let mut outputs = vec![None; steps];
        for i in 0..steps {
            let t = if reverse { steps - 1 - i } else { i };
            let gates = (xg.narrow(0, t, 1)? + h.matmul(&w_hh_t)?)?;
            let ifo = candle_nn::ops::sigmoid(&Tensor::cat(
                &[
                    gates.narrow(1, 0, 2 * hidden)?,
                    gates.narrow(1, 3 * hidden, hidden)?,
                ],
                1,
            )?)?;
            let (input, forget, output) = (
                ifo.narrow(1, 0, hidden)?,
                ifo.narrow(1, hidden, hidden)?,
                ifo.narrow(1, 2 * hidden, hidden)?,
            );
            let cell = gates.narrow(1, 2 * hidden, hidden)?.tanh()?;
            c = ((forget * c)? + (input * cell)?)?;
            h = (output * c.tanh()?)?;
            outputs[t] = Some(h.clone());
        }
        let outputs: Vec<Tensor> = outputs
            .into_iter()
            .map(|o| o.expect("every step ran"))
            .collect();
        Tensor::cat(&outputs, 0)
    }
}

#[derive(Debug, Clone)]
pub struct BiLstm {
    forward: Direction,
    backward: Direction,
}

impl BiLstm {
    pub fn load(vb: &VarBuilder, input: usize, hidden: usize) -> Result<Self> {
        Ok(Self {
            forward: Direction::load(vb, "", input, hidden)?,
            backward: Direction::load(vb, "_reverse", input, hidden)?,
        })
    }

    /// `x` `[1, T, in]` → `[1, T, 2H]` (forward states, then backward).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.squeeze(0)?;
        let f = self.forward.run(&x, false)?;
        let b = self.backward.run(&x, true)?;
        Tensor::cat(&[f, b], D::Minus1)?.unsqueeze(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use std::collections::HashMap;

    /// A scalar LSTM (H = 1) computed by hand.
    #[test]
    fn matches_a_hand_computed_step() -> Result<()> {
        let dev = Device::Cpu;
        let mut t = HashMap::new();
        for s in ["", "_reverse"] {
            // Gates i, f, g, o.
            t.insert(
                format!("weight_ih_l0{s}"),
                Tensor::new(&[[0.5f32], [-0.3], [0.8], [0.2]], &dev)?,
            );
            t.insert(
                format!("weight_hh_l0{s}"),
                Tensor::new(&[[0.1f32], [0.2], [-0.4], [0.3]], &dev)?,
            );
            t.insert(
                format!("bias_ih_l0{s}"),
                Tensor::new(&[0.1f32, 0.0, 0.0, 0.0], &dev)?,
            );
            t.insert(
                format!("bias_hh_l0{s}"),
                Tensor::new(&[0.0f32, 0.1, 0.0, -0.1], &dev)?,
            );
        }
        let lstm = BiLstm::load(&VarBuilder::from_tensors(t, DType::F32, &dev), 1, 1)?;
        let x = Tensor::new(&[[[1.0f32], [2.0]]], &dev)?;
        let y = lstm.forward(&x)?.squeeze(0)?.to_vec2::<f32>()?;
        let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
        let step = |x: f32, h: f32, c: f32| {
            let i = sig(0.5 * x + 0.1 * h + 0.1);
            let f = sig(-0.3 * x + 0.2 * h + 0.1);
            let g = (0.8 * x - 0.4 * h).tanh();
            let o = sig(0.2 * x + 0.3 * h - 0.1);
            let c = f * c + i * g;
            (o * c.tanh(), c)
        };
        let (h1, c1) = step(1.0, 0.0, 0.0);
        let (h2, _) = step(2.0, h1, c1);
        let (r2, rc2) = step(2.0, 0.0, 0.0);
        let (r1, _) = step(1.0, r2, rc2);
        let want = [[h1, r1], [h2, r2]];
        for (row, w) in y.iter().zip(want) {
            for (a, b) in row.iter().zip(w) {
                assert!((a - b).abs() < 1e-6, "{y:?} vs {want:?}");
            }
        }
        Ok(())
    }
}
