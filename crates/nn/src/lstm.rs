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
    /// `W_hhᵀ` row-major (`H × 4H`), for the recurrence outside the graph.
    w_hh_t: std::sync::Arc<Vec<f32>>,
}

impl Direction {
    fn load(vb: &VarBuilder, suffix: &str, input: usize, hidden: usize) -> Result<Self> {
        let g = 4 * hidden;
        let b_ih = vb.get(g, &format!("bias_ih_l0{suffix}"))?;
        let b_hh = vb.get(g, &format!("bias_hh_l0{suffix}"))?;
        let w_hh = vb.get((g, hidden), &format!("weight_hh_l0{suffix}"))?;
        let w_hh_t = w_hh.t()?.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        Ok(Self {
            w_ih: vb.get((g, input), &format!("weight_ih_l0{suffix}"))?,
            w_hh,
            bias: (b_ih + b_hh)?,
            w_hh_t: std::sync::Arc::new(w_hh_t),
        })
    }

    fn needs_grad(&self, x: &Tensor) -> bool {
        x.track_op() || self.w_ih.track_op() || self.w_hh.track_op() || self.bias.track_op()
    }

    /// [`run`](Self::run) without autograd: the input products in one candle product, the
    /// recurrence in plain Rust. A step is one 256 × 1024 product; as candle operations its
    /// dozen small ops cost far more than the arithmetic.
    fn run_inference(&self, x: &Tensor, reverse: bool) -> Result<Tensor> {
        let steps = x.dim(0)?;
        let hidden = self.w_hh.dim(1)?;
        let g = 4 * hidden;
        let xg = x.matmul(&self.w_ih.t()?)?.broadcast_add(&self.bias)?;
        let xg: Vec<f32> = xg.flatten_all()?.to_vec1()?;
        let w = &self.w_hh_t;
        let mut h = vec![0f32; hidden];
        let mut c = vec![0f32; hidden];
        let mut gates = vec![0f32; g];
        let mut out = vec![0f32; steps * hidden];
        let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
        for i in 0..steps {
            let t = if reverse { steps - 1 - i } else { i };
            gates.copy_from_slice(&xg[t * g..(t + 1) * g]);
            // gates += Σₖ h[k] · W_hhᵀ[k, :]
            for (k, &hk) in h.iter().enumerate() {
                if hk != 0.0 {
                    for (gate, &wk) in gates.iter_mut().zip(&w[k * g..(k + 1) * g]) {
                        *gate += hk * wk;
                    }
                }
            }
            for j in 0..hidden {
                let input = sigmoid(gates[j]);
                let forget = sigmoid(gates[hidden + j]);
                let cell = gates[2 * hidden + j].tanh();
                let output = sigmoid(gates[3 * hidden + j]);
                c[j] = forget * c[j] + input * cell;
                h[j] = output * c[j].tanh();
            }
            out[t * hidden..(t + 1) * hidden].copy_from_slice(&h);
        }
        Tensor::from_vec(out, (steps, hidden), x.device())
    }

    /// Hidden states of a pass over `x` `[T, in]`, in time order whatever the direction.
    fn run(&self, x: &Tensor, reverse: bool) -> Result<Tensor> {
        if !self.needs_grad(x) && x.device().is_cpu() {
            return self.run_inference(x, reverse);
        }
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
        // At inference the two directions are independent loops: one per core when there are two.
        let parallel = candle_core::utils::get_num_threads() > 1
            && !self.forward.needs_grad(&x)
            && !self.backward.needs_grad(&x);
        let (f, b) = if parallel {
            std::thread::scope(|scope| {
                let backward = scope.spawn(|| self.backward.run(&x, true));
                let f = self.forward.run(&x, false);
                (f, backward.join().expect("the LSTM thread does not panic"))
            })
        } else {
            (self.forward.run(&x, false), self.backward.run(&x, true))
        };
        Tensor::cat(&[f?, b?], D::Minus1)?.unsqueeze(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use std::collections::HashMap;

    /// The inference loop and the autograd path agree.
    #[test]
    fn inference_path_matches_the_graph_path() -> Result<()> {
        let dev = Device::Cpu;
        let (input, hidden) = (5, 4);
        let mut t = HashMap::new();
        for s in ["", "_reverse"] {
            t.insert(
                format!("weight_ih_l0{s}"),
                Tensor::randn(0f32, 0.5, (4 * hidden, input), &dev)?,
            );
            t.insert(
                format!("weight_hh_l0{s}"),
                Tensor::randn(0f32, 0.5, (4 * hidden, hidden), &dev)?,
            );
            t.insert(
                format!("bias_ih_l0{s}"),
                Tensor::randn(0f32, 0.5, 4 * hidden, &dev)?,
            );
            t.insert(
                format!("bias_hh_l0{s}"),
                Tensor::randn(0f32, 0.5, 4 * hidden, &dev)?,
            );
        }
        let lstm = BiLstm::load(
            &VarBuilder::from_tensors(t, DType::F32, &dev),
            input,
            hidden,
        )?;
        let x = candle_core::Var::randn(0f32, 1.0, (1, 7, input), &dev)?;
        let tracked = lstm.forward(x.as_tensor())?;
        let plain = lstm.forward(&x.as_tensor().detach())?;
        let diff = (tracked - plain)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "max difference {diff}");
        Ok(())
    }

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
