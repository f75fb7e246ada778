//! The GE2E network: a 3-layer LSTM over a partial's mel frames, then `ReLU(W h + b)` of the last
//! hidden state, L2-normalised. Weight names follow the PyTorch checkpoint (`lstm.weight_ih_l0`, …).

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{Linear, VarBuilder};

use crate::{EncoderError, EncoderParams, Result};

/// One unidirectional LSTM layer, PyTorch's gate order (input, forget, cell, output).
#[derive(Debug, Clone)]
struct LstmLayer {
    /// `W_ih^T`, `in × 4H`, so a whole sequence's input projection is one matrix product.
    w_ih_t: Tensor,
    /// `W_hh^T`, `H × 4H`.
    w_hh_t: Tensor,
    /// `b_ih + b_hh`, `4H`.
    bias: Tensor,
}

impl LstmLayer {
    fn new(vb: &VarBuilder, layer: usize, in_dim: usize, hidden: usize) -> Result<Self> {
        let g = 4 * hidden;
        let w_ih = vb.get((g, in_dim), &format!("weight_ih_l{layer}"))?;
        let w_hh = vb.get((g, hidden), &format!("weight_hh_l{layer}"))?;
        let b_ih = vb.get(g, &format!("bias_ih_l{layer}"))?;
        let b_hh = vb.get(g, &format!("bias_hh_l{layer}"))?;
        Ok(Self {
            w_ih_t: w_ih.t()?.contiguous()?,
            w_hh_t: w_hh.t()?.contiguous()?,
            bias: (b_ih + b_hh)?,
        })
    }

    /// Runs the layer over a time-major sequence `xs` (`T × B × in`), from zero state.
    /// Returns every hidden state (`T × B × H`), or only the last (`B × H`) when `last_only`.
    fn forward(&self, xs: &Tensor, last_only: bool) -> Result<Tensor> {
        let (t, b, in_dim) = xs.dims3()?;
        let hidden = self.w_hh_t.dim(0)?;
        let projected = xs
            .reshape((t * b, in_dim))?
            .matmul(&self.w_ih_t)?
            .broadcast_add(&self.bias)?
            .reshape((t, b, 4 * hidden))?;
        let mut h = Tensor::zeros((b, hidden), xs.dtype(), xs.device())?;
        let mut c = h.clone();
        let mut hs = Vec::with_capacity(if last_only { 0 } else { t });
        for step in 0..t {
            let gates = (projected.get(step)? + h.matmul(&self.w_hh_t)?)?;
            let i = candle_nn::ops::sigmoid(&gates.narrow(1, 0, hidden)?)?;
            let f = candle_nn::ops::sigmoid(&gates.narrow(1, hidden, hidden)?)?;
            let g = gates.narrow(1, 2 * hidden, hidden)?.tanh()?;
            let o = candle_nn::ops::sigmoid(&gates.narrow(1, 3 * hidden, hidden)?)?;
            c = ((f * c)? + (i * g)?)?;
            h = (o * c.tanh()?)?;
            if !last_only {
                hs.push(h.clone());
            }
        }
        if last_only {
            Ok(h)
        } else {
            Ok(Tensor::stack(&hs, 0)?)
        }
    }
}

/// The speaker encoder network. Cheap to share between threads (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct SpeakerEncoder {
    layers: Vec<LstmLayer>,
    linear: Linear,
    n_mels: usize,
}

impl SpeakerEncoder {
    /// Builds the network from weights named as in the PyTorch checkpoint (`lstm.*`, `linear.*`).
    pub fn new(p: &EncoderParams, vb: VarBuilder) -> Result<Self> {
        let lstm = vb.pp("lstm");
        let layers = (0..p.num_layers)
            .map(|l| {
                let in_dim = if l == 0 { p.mel.n_mels } else { p.hidden_size };
                LstmLayer::new(&lstm, l, in_dim, p.hidden_size)
            })
            .collect::<Result<Vec<_>>>()?;
        let linear = candle_nn::linear(p.hidden_size, p.embedding_size, vb.pp("linear"))?;
        Ok(Self {
            layers,
            linear,
            n_mels: p.mel.n_mels,
        })
    }

    /// Loads safetensors weights (as `voxclone-models` caches them) onto `device`.
    pub fn load(path: &std::path::Path, p: &EncoderParams, device: &Device) -> Result<Self> {
        let tensors = candle_core::safetensors::load(path, device)
            .map_err(|e| EncoderError::Weights(format!("{}: {e}", path.display())))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        Self::new(p, vb).map_err(|e| EncoderError::Weights(format!("{}: {e}", path.display())))
    }

    /// The same network as plain arrays for the fused CPU kernel.
    pub fn to_fused(&self, kernel: crate::fused::Kernel) -> Result<crate::fused::FusedEncoder> {
        let lstm: Vec<_> = self
            .layers
            .iter()
            .map(|l| (&l.w_ih_t, &l.w_hh_t, &l.bias))
            .collect();
        let linear_w_t = self.linear.weight().t()?.contiguous()?;
        let linear_b = self
            .linear
            .bias()
            .ok_or_else(|| EncoderError::Weights("linear layer without bias".into()))?;
        crate::fused::FusedEncoder::new(&lstm, &linear_w_t, linear_b, kernel)
    }

    pub fn device(&self) -> &Device {
        self.linear.weight().device()
    }

    /// Partial embeddings of a batch of mel windows `B × frames × n_mels`: `B × 256`, each of unit norm.
    pub fn forward(&self, mels: &Tensor) -> Result<Tensor> {
        let (_, _, n_mels) = mels.dims3()?;
        if n_mels != self.n_mels {
            return Err(candle_core::Error::Msg(format!(
                "expected {} mel channels, got shape {:?}",
                self.n_mels,
                mels.shape()
            ))
            .into());
        }
        let mut xs = mels.transpose(0, 1)?.contiguous()?;
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            xs = layer.forward(&xs, l == last)?;
        }
        let embeds = self.linear.forward(&xs)?.relu()?;
        let norms = embeds.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
        Ok(embeds.broadcast_div(&norms)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A tiny random model with the reference's weight names, checked against a plain-Rust LSTM.
    #[test]
    fn matches_a_scalar_lstm() -> Result<()> {
        let dev = Device::Cpu;
        let p = EncoderParams {
            hidden_size: 3,
            num_layers: 2,
            embedding_size: 4,
            mel: voxclone_audio::mel::MelParams {
                n_mels: 2,
                ..EncoderParams::default().mel
            },
            ..Default::default()
        };
        let mut seed = 1u32;
        let mut rand = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
                })
                .collect()
        };
        let mut w: HashMap<String, (Vec<f32>, Vec<usize>)> = HashMap::new();
        for l in 0..2 {
            let in_dim = if l == 0 { 2 } else { 3 };
            w.insert(
                format!("lstm.weight_ih_l{l}"),
                (rand(12 * in_dim), vec![12, in_dim]),
            );
            w.insert(format!("lstm.weight_hh_l{l}"), (rand(36), vec![12, 3]));
            w.insert(format!("lstm.bias_ih_l{l}"), (rand(12), vec![12]));
            w.insert(format!("lstm.bias_hh_l{l}"), (rand(12), vec![12]));
        }
        w.insert("linear.weight".into(), (rand(12), vec![4, 3]));
        w.insert("linear.bias".into(), (vec![0.1, 0.2, 0.3, 0.4], vec![4]));
        let tensors: HashMap<String, Tensor> = w
            .iter()
            .map(|(k, (v, s))| {
                (
                    k.clone(),
                    Tensor::from_vec(v.clone(), s.as_slice(), &dev).unwrap(),
                )
            })
            .collect();
        let model = SpeakerEncoder::new(&p, VarBuilder::from_tensors(tensors, DType::F32, &dev))?;
        let (b, t) = (2, 5);
        let x = rand(b * t * 2);
        let got = model
            .forward(&Tensor::from_vec(x.clone(), (b, t, 2), &dev)?)?
            .to_vec2::<f32>()?;

        let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
        for (bi, got_row) in got.iter().enumerate() {
            let mut seq: Vec<Vec<f32>> = (0..t)
                .map(|ti| x[(bi * t + ti) * 2..(bi * t + ti) * 2 + 2].to_vec())
                .collect();
            for l in 0..2 {
                let (wih, _) = &w[&format!("lstm.weight_ih_l{l}")];
                let (whh, _) = &w[&format!("lstm.weight_hh_l{l}")];
                let (bih, _) = &w[&format!("lstm.bias_ih_l{l}")];
                let (bhh, _) = &w[&format!("lstm.bias_hh_l{l}")];
                let in_dim = seq[0].len();
                let (mut h, mut c) = (vec![0f32; 3], vec![0f32; 3]);
                let mut out = Vec::new();
                for xt in &seq {
                    let gate = |r: usize| -> f32 {
                        let a: f32 = (0..in_dim).map(|k| wih[r * in_dim + k] * xt[k]).sum();
                        let b: f32 = (0..3).map(|k| whh[r * 3 + k] * h[k]).sum();
                        a + b + bih[r] + bhh[r]
                    };
                    let mut nh = vec![0f32; 3];
                    for j in 0..3 {
                        let (i, f, g, o) = (gate(j), gate(3 + j), gate(6 + j), gate(9 + j));
                        c[j] = sig(f) * c[j] + sig(i) * g.tanh();
                        nh[j] = sig(o) * c[j].tanh();
                    }
                    h = nh;
                    out.push(h.clone());
                }
                seq = out;
            }
            let h = seq.last().unwrap();
            let (lw, _) = &w["linear.weight"];
            let y: Vec<f32> = (0..4)
                .map(|r| {
                    ((0..3).map(|k| lw[r * 3 + k] * h[k]).sum::<f32>() + 0.1 * (r + 1) as f32)
                        .max(0.0)
                })
                .collect();
            let norm = y.iter().map(|v| v * v).sum::<f32>().sqrt();
            for (g, want) in got_row.iter().zip(y.iter().map(|v| v / norm)) {
                assert!((g - want).abs() < 1e-5, "{got_row:?} vs {y:?}");
            }
        }
        Ok(())
    }
}
