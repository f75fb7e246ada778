//! Kokoro-82M: the whole model as in the reference `KModel.forward_with_tokens`, split at the
//! stage boundary: [`Kokoro::features`] (stage 2) and [`Kokoro::vocode`] (stage 3).

use candle_core::{DType, Device, IndexOp, Module, Result, Tensor};
use candle_nn::VarBuilder;
use voxclone_vocoder::{Decoder, IstftnetConfig, SourceNoise};

use crate::albert::{Albert, AlbertConfig};
use crate::prosody::ProsodyPredictor;
use crate::text_encoder::TextEncoder;

/// Length of a style vector: timbre (decoder) then prosody (predictor), 128 each.
pub const STYLE_DIM: usize = 256;

/// Kokoro-82M v1.0's `config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct KokoroConfig {
    pub albert: AlbertConfig,
    pub hidden_dim: usize,
    /// Length of each half of the style vector.
    pub style_dim: usize,
    pub n_layer: usize,
    /// Outputs of the duration head; a phoneme's duration is the sum of their sigmoids.
    pub max_dur: usize,
    pub text_encoder_kernel_size: usize,
    pub istftnet: IstftnetConfig,
}

impl Default for KokoroConfig {
    fn default() -> Self {
        Self {
            albert: AlbertConfig::default(),
            hidden_dim: 512,
            style_dim: 128,
            n_layer: 3,
            max_dur: 50,
            text_encoder_kernel_size: 5,
            istftnet: IstftnetConfig::default(),
        }
    }
}

impl KokoroConfig {
    /// Phonemes one call can take: ALBERT's positions minus the two boundary tokens.
    pub fn max_phonemes(&self) -> usize {
        self.albert.max_position_embeddings - 2
    }
}

/// Stage 2's output: what the decoder needs, and the alignment it implies.
#[derive(Debug, Clone)]
pub struct AcousticFeatures {
    /// Frames the predictor expects for each token (boundary tokens included) at the
    /// requested speed, before rounding.
    pub expected_durations: Vec<f32>,
    /// Frames given to each token: the expectations rounded (at least 1), or forced ones.
    pub durations: Vec<u32>,
    /// Text-encoder features expanded by the durations, `[1, 512, frames]` (40 frames/s).
    pub asr: Tensor,
    /// Pitch in Hz, `[1, 2 · frames]`.
    pub f0: Tensor,
    /// Energy, `[1, 2 · frames]`.
    pub energy: Tensor,
}

/// A synthesized utterance.
#[derive(Debug, Clone)]
pub struct Synthesis {
    /// 24 kHz samples, `[1, samples]`.
    pub audio: Tensor,
    pub features: AcousticFeatures,
}

#[derive(Debug, Clone)]
pub struct Kokoro {
    bert: Albert,
    bert_encoder: voxclone_nn::linear::Linear,
    predictor: ProsodyPredictor,
    text_encoder: TextEncoder,
    decoder: Decoder,
    config: KokoroConfig,
    device: Device,
}

impl Kokoro {
    /// Builds the model from weights named as in the reference (`bert.*`, `bert_encoder.*`,
    /// `predictor.*`, `text_encoder.*`, `decoder.*`).
    pub fn load(vb: VarBuilder, config: KokoroConfig) -> Result<Self> {
        let c = &config;
        Ok(Self {
            bert: Albert::load(&vb.pp("bert"), &c.albert)?,
            bert_encoder: voxclone_nn::linear::Linear::load(
                c.albert.hidden_size,
                c.hidden_dim,
                vb.pp("bert_encoder"),
            )?,
            predictor: ProsodyPredictor::load(
                &vb.pp("predictor"),
                c.hidden_dim,
                c.style_dim,
                c.n_layer,
                c.max_dur,
            )?,
            text_encoder: TextEncoder::load(
                &vb.pp("text_encoder"),
                c.albert.vocab_size,
                c.hidden_dim,
                c.text_encoder_kernel_size,
                c.n_layer,
            )?,
            decoder: Decoder::load(&vb.pp("decoder"), &c.istftnet)?,
            device: vb.device().clone(),
            config,
        })
    }

    /// Loads `kokoro.safetensors` (memory-mapped).
    pub fn from_safetensors(path: &std::path::Path, device: &Device) -> Result<Self> {
        // SAFETY: the file is a cache entry voxclone wrote and does not modify while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[path], DType::F32, device)? };
        Self::load(vb, KokoroConfig::default())
    }

    /// Stage 3, the decoder.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    pub fn config(&self) -> &KokoroConfig {
        &self.config
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Stage 2: phoneme ids (without the boundary tokens) and a style vector `[1, 256]` →
    /// durations, aligned features, F0 and energy. `speed` > 1 speaks faster.
    pub fn features(
        &self,
        phonemes: &[u32],
        style: &Tensor,
        speed: f32,
    ) -> Result<AcousticFeatures> {
        self.features_with_durations(phonemes, style, speed, None)
    }

    /// Like [`features`](Self::features); `durations` (one per token, boundary tokens
    /// included), when given, replace the predicted ones: a forced alignment, for comparing
    /// later stages with a reference or for fitting a voice to recorded speech.
    pub fn features_with_durations(
        &self,
        phonemes: &[u32],
        style: &Tensor,
        speed: f32,
        durations: Option<&[u32]>,
    ) -> Result<AcousticFeatures> {
        if phonemes.is_empty() {
            candle_core::bail!("no phonemes to synthesize");
        }
        if phonemes.len() > self.config.max_phonemes() {
            candle_core::bail!(
                "{} phonemes exceed the model's limit of {} per call",
                phonemes.len(),
                self.config.max_phonemes()
            );
        }
        if !(speed.is_finite() && speed > 0.0) {
            candle_core::bail!("speed must be a positive number, got {speed}");
        }
        let mut ids = Vec::with_capacity(phonemes.len() + 2);
        ids.push(0);
        ids.extend_from_slice(phonemes);
        ids.push(0);
        let tokens = Tensor::new(ids.as_slice(), &self.device)?.unsqueeze(0)?;
        let style = style.reshape((1, STYLE_DIM))?;
        let prosody = style.narrow(1, self.config.style_dim, self.config.style_dim)?;

        let bert = self.bert.forward(&tokens)?;
        let d_en = self.bert_encoder.forward(&bert)?.transpose(1, 2)?;
        let d = self.predictor.encode(&d_en, &prosody)?;
        // Expected frames per token at this speed, before rounding.
        let expected: Vec<f32> = (self.predictor.durations(&d)? / speed as f64)?
            .i(0)?
            .to_vec1::<f32>()?;
        let durations: Vec<u32> = match durations {
            Some(forced) if forced.len() == ids.len() => forced.to_vec(),
            Some(forced) => candle_core::bail!(
                "{} durations given for {} tokens (boundary tokens included)",
                forced.len(),
                ids.len()
            ),
            None => expected
                .iter()
                // torch.round rounds half to even.
                .map(|&v| v.round_ties_even().max(1.0) as u32)
                .collect(),
        };
        let alignment = Tensor::new(alignment_indices(&durations).as_slice(), &self.device)?;

        let en = d
            .transpose(1, 2)?
            .contiguous()?
            .index_select(&alignment, 2)?;
        let (f0, energy) = self.predictor.f0_energy(&en, &prosody)?;
        let t_en = self.text_encoder.forward(&tokens)?;
        let asr = t_en.contiguous()?.index_select(&alignment, 2)?;
        Ok(AcousticFeatures {
            expected_durations: expected,
            durations,
            asr,
            f0,
            energy,
        })
    }

    /// Stage 3: features and the style vector `[1, 256]` → 24 kHz waveform `[1, samples]`.
    pub fn vocode(
        &self,
        features: &AcousticFeatures,
        style: &Tensor,
        noise: SourceNoise,
    ) -> Result<Tensor> {
        let timbre = style
            .reshape((1, STYLE_DIM))?
            .narrow(1, 0, self.config.style_dim)?;
        self.decoder.forward(
            &features.asr,
            &features.f0,
            &features.energy,
            &timbre,
            noise,
        )
    }

    /// Both stages.
    pub fn synthesize(
        &self,
        phonemes: &[u32],
        style: &Tensor,
        speed: f32,
        noise: SourceNoise,
    ) -> Result<Synthesis> {
        let features = self.features(phonemes, style, speed)?;
        let audio = self.vocode(&features, style, noise)?;
        Ok(Synthesis { audio, features })
    }
}

/// For each frame, the token it belongs to: token `i` repeated `durations[i]` times (the
/// hard monotonic alignment `pred_aln_trg` of the reference, as indices).
pub fn alignment_indices(durations: &[u32]) -> Vec<u32> {
    durations
        .iter()
        .enumerate()
        .flat_map(|(i, &d)| std::iter::repeat_n(i as u32, d as usize))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_repeats_each_token_for_its_duration() {
        assert_eq!(alignment_indices(&[1, 3, 2]), vec![0, 1, 1, 1, 2, 2]);
    }
}
