//! StyleTTS 2's prosody predictor: from the phoneme-level language model's features and the
//! prosody half of the style vector, predict each phoneme's duration, then the F0 (pitch) and
//! energy curves of the aligned frames.

use candle_core::{Module, Result, Tensor, D};
use candle_nn::{Linear, VarBuilder};
use voxclone_nn::layers::{AdainResBlk1d, Conv1d};

use voxclone_nn::lstm::BiLstm;
use voxclone_nn::norm::channel_layer_norm;

/// Layer norm whose gain and bias come from the style: `(1 + γ(s)) · LN(x) + β(s)`.
#[derive(Debug, Clone)]
struct AdaLayerNorm {
    fc: Linear,
    channels: usize,
}

impl AdaLayerNorm {
    /// `x` `[1, C, T]`, `style` `[1, S]`.
    fn forward(&self, x: &Tensor, style: &Tensor) -> Result<Tensor> {
        let h = self.fc.forward(style)?.unsqueeze(2)?;
        let gamma = h.narrow(1, 0, self.channels)?;
        let beta = h.narrow(1, self.channels, self.channels)?;
        channel_layer_norm(x, None)?
            .broadcast_mul(&(gamma + 1.0)?)?
            .broadcast_add(&beta)
    }
}

/// The duration encoder (`predictor.text_encoder`): BiLSTMs and AdaLayerNorms over the
/// phoneme features with the style appended to every frame.
#[derive(Debug, Clone)]
struct DurationEncoder {
    layers: Vec<(BiLstm, AdaLayerNorm)>,
}

impl DurationEncoder {
    /// `x` `[1, d_model, T]` → `[1, T, d_model + style]`.
    fn forward(&self, x: &Tensor, style: &Tensor) -> Result<Tensor> {
        let t = x.dim(2)?;
        let style_frames = style.unsqueeze(2)?.broadcast_as((1, style.dim(1)?, t))?;
        let mut x = Tensor::cat(&[x, &style_frames], 1)?;
        for (lstm, norm) in &self.layers {
            let y = lstm.forward(&x.transpose(1, 2)?)?.transpose(1, 2)?;
            let y = norm.forward(&y, style)?;
            x = Tensor::cat(&[&y, &style_frames], 1)?;
        }
        x.transpose(1, 2)
    }
}

/// A pitch or energy branch: three AdaIN residual blocks (the second doubles the frame rate)
/// and a 1×1 projection to one value per frame.
#[derive(Debug, Clone)]
struct CurveBranch {
    blocks: Vec<AdainResBlk1d>,
    proj: Conv1d,
}

impl CurveBranch {
    fn load(vb: &VarBuilder, proj: VarBuilder, d_hid: usize, style_dim: usize) -> Result<Self> {
        let half = d_hid / 2;
        Ok(Self {
            blocks: vec![
                AdainResBlk1d::load(&vb.pp(0), d_hid, d_hid, style_dim, false)?,
                AdainResBlk1d::load(&vb.pp(1), d_hid, half, style_dim, true)?,
                AdainResBlk1d::load(&vb.pp(2), half, half, style_dim, false)?,
            ],
            proj: Conv1d::load(&proj, (1, half, 1), 0, 1, 1, true)?,
        })
    }

    /// `x` `[1, d_hid, frames]` → `[1, 2 · frames]`.
    fn forward(&self, x: &Tensor, style: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        for block in &self.blocks {
            x = block.forward(&x, style)?;
        }
        self.proj.forward(&x)?.squeeze(1)
    }
}

#[derive(Debug, Clone)]
pub struct ProsodyPredictor {
    text_encoder: DurationEncoder,
    lstm: BiLstm,
    duration_proj: Linear,
    shared: BiLstm,
    f0: CurveBranch,
    energy: CurveBranch,
}

impl ProsodyPredictor {
    pub fn load(
        vb: &VarBuilder,
        d_hid: usize,
        style_dim: usize,
        layers: usize,
        max_dur: usize,
    ) -> Result<Self> {
        let wide = d_hid + style_dim;
        let enc = vb.pp("text_encoder.lstms");
        let layers = (0..layers)
            .map(|i| {
                Ok((
                    BiLstm::load(&enc.pp(2 * i), wide, d_hid / 2)?,
                    AdaLayerNorm {
                        fc: candle_nn::linear(style_dim, 2 * d_hid, enc.pp(2 * i + 1).pp("fc"))?,
                        channels: d_hid,
                    },
                ))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            text_encoder: DurationEncoder { layers },
            lstm: BiLstm::load(&vb.pp("lstm"), wide, d_hid / 2)?,
            duration_proj: candle_nn::linear(d_hid, max_dur, vb.pp("duration_proj.linear_layer"))?,
            shared: BiLstm::load(&vb.pp("shared"), wide, d_hid / 2)?,
            f0: CurveBranch::load(&vb.pp("F0"), vb.pp("F0_proj"), d_hid, style_dim)?,
            energy: CurveBranch::load(&vb.pp("N"), vb.pp("N_proj"), d_hid, style_dim)?,
        })
    }

    /// The duration encoder's output `d` `[1, T, d_hid + style]` for phoneme features
    /// `[1, d_hid, T]`.
    pub fn encode(&self, features: &Tensor, prosody: &Tensor) -> Result<Tensor> {
        self.text_encoder.forward(features, prosody)
    }

    /// Expected duration of each phoneme in frames, before rounding: the sum of `max_dur`
    /// sigmoid outputs (`[1, T]`).
    pub fn durations(&self, d: &Tensor) -> Result<Tensor> {
        let logits = self.duration_proj.forward(&self.lstm.forward(d)?)?;
        candle_nn::ops::sigmoid(&logits)?.sum(D::Minus1)
    }

    /// F0 (Hz) and energy curves `[1, 2 · frames]` for the aligned features `en`
    /// `[1, d_hid + style, frames]`.
    pub fn f0_energy(&self, en: &Tensor, prosody: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = self.shared.forward(&en.transpose(1, 2)?)?.transpose(1, 2)?;
        Ok((
            self.f0.forward(&x, prosody)?,
            self.energy.forward(&x, prosody)?,
        ))
    }
}
