//! The GE2E network: a 3-layer LSTM over a partial's mel frames, then `ReLU(W h + b)` of the last
//! hidden state, L2-normalised. Weight names follow the PyTorch checkpoint (`lstm.weight_ih_l0`, …).

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{Linear, VarBuilder};

use crate::{EncoderError, EncoderParams, Result};

/// One unidirectional LSTM layer, PyTorch's gate order (input, forget, cell, output).
///
/// The weights are kept as loaded (trainable variables when training) and transposed inside
/// `forward`, so an optimiser step is seen by the next forward pass.
#[derive(Debug, Clone)]
struct LstmLayer {
    /// `W_ih`, `4H × in`.
    w_ih: Tensor,
    /// `W_hh`, `4H × H`.
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
}

impl LstmLayer {
    fn new(vb: &VarBuilder, layer: usize, in_dim: usize, hidden: usize) -> Result<Self> {
        let g = 4 * hidden;
        // PyTorch's initialisation, used when training from scratch: U(-1/√H, 1/√H).
        let bound = 1.0 / (hidden as f64).sqrt();
        let init = candle_nn::Init::Uniform {
            lo: -bound,
            up: bound,
        };
        let get = |shape: &[usize], name: String| vb.get_with_hints(shape, &name, init);
        Ok(Self {
            w_ih: get(&[g, in_dim], format!("weight_ih_l{layer}"))?,
            w_hh: get(&[g, hidden], format!("weight_hh_l{layer}"))?,
            b_ih: get(&[g], format!("bias_ih_l{layer}"))?,
            b_hh: get(&[g], format!("bias_hh_l{layer}"))?,
        })
    }

    /// Runs the layer over a sequence of time steps (each `B × in`) from zero state and returns
    /// its hidden states (each `B × H`).
    ///
    /// Step by step rather than one product over the whole sequence: slicing a whole-sequence
    /// tensor would make backpropagation pad every step's gradient back to the full sequence.
    fn forward(&self, xs: &[Tensor]) -> Result<Vec<Tensor>> {
        let b = xs.first().map_or(0, |x| x.dim(0).unwrap_or(0));
        let hidden = self.w_hh.dim(1)?;
        let (w_ih_t, w_hh_t) = (self.w_ih.t()?, self.w_hh.t()?);
        let bias = (&self.b_ih + &self.b_hh)?;
        let mut h = Tensor::zeros((b, hidden), self.w_hh.dtype(), self.w_hh.device())?;
        let mut c = h.clone();
        let mut hs = Vec::with_capacity(xs.len());
        for (step, x) in xs.iter().enumerate() {
            let mut gates = x.matmul(&w_ih_t)?.broadcast_add(&bias)?;
            if step > 0 {
                gates = (gates + h.matmul(&w_hh_t)?)?;
            }
            let i = candle_nn::ops::sigmoid(&gates.narrow(1, 0, hidden)?)?;
            let f = candle_nn::ops::sigmoid(&gates.narrow(1, hidden, hidden)?)?;
            let g = gates.narrow(1, 2 * hidden, hidden)?.tanh()?;
            let o = candle_nn::ops::sigmoid(&gates.narrow(1, 3 * hidden, hidden)?)?;
            c = ((f * c)? + (i * g)?)?;
            h = (o * c.tanh()?)?;
            hs.push(h.clone());
        }
        Ok(hs)
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

    /// Loads safetensors weights (as `voxclone-weights` caches them) onto `device`.
    pub fn load(path: &std::path::Path, p: &EncoderParams, device: &Device) -> Result<Self> {
        let tensors = candle_core::safetensors::load(path, device)
            .map_err(|e| EncoderError::Weights(format!("{}: {e}", path.display())))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        Self::new(p, vb).map_err(|e| EncoderError::Weights(format!("{}: {e}", path.display())))
    }

    /// The same network as plain arrays for the fused CPU kernel.
    pub fn to_fused(
        &self,
        kernel: voxclone_nn::Kernel,
    ) -> Result<voxclone_nn::kernels::lstm::FusedLstm> {
        let transposed = self
            .layers
            .iter()
            .map(|l| {
                Ok((
                    l.w_ih.t()?.contiguous()?,
                    l.w_hh.t()?.contiguous()?,
                    (&l.b_ih + &l.b_hh)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let lstm: Vec<_> = transposed.iter().map(|(a, b, c)| (a, b, c)).collect();
        let linear_w_t = self.linear.weight().t()?.contiguous()?;
        let linear_b = self
            .linear
            .bias()
            .ok_or_else(|| EncoderError::Weights("linear layer without bias".into()))?;
        Ok(voxclone_nn::kernels::lstm::FusedLstm::new(
            &lstm,
            &linear_w_t,
            linear_b,
            kernel,
        )?)
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
        let time_major = mels.transpose(0, 1)?.contiguous()?;
        let mut xs = (0..time_major.dim(0)?)
            .map(|t| time_major.get(t))
            .collect::<candle_core::Result<Vec<_>>>()?;
        for layer in &self.layers {
            xs = layer.forward(&xs)?;
        }
        let last = xs
            .last()
            .ok_or_else(|| candle_core::Error::Msg("no mel frames".into()))?;
        let embeds = self.linear.forward(last)?.relu()?;
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
