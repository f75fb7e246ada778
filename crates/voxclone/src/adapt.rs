//! Speaker adaptation, embedding only (Arik et al. 2018, "Neural Voice Cloning with a Few
//! Samples"): the voice's style is fitted by gradient descent so that the GE2E encoder hears the
//! reference speaker in the clone's speech.
//!
//! One step: a sentence from a rotating set → stage 2 (fixed: durations, F0, energy with the
//! speaker's pitch) → stage 3 with the current style → 24 → 16 kHz → mel → GE2E d-vector →
//! cosine with the reference d-vector. The gradient flows back through the encoder, the mel and
//! the iSTFTNet decoder into the timbre half of the style.
//!
//! Why these choices:
//! - Only the timbre half (what the decoder reads) moves. Pitch is already set explicitly, and
//!   moving the prosody half changes durations, which have no gradient.
//! - The style is a stock pack plus one offset for all its rows, so the pack's variation with
//!   utterance length survives.
//! - The sentences rotate: fitted to one or two sentences, a style fools the encoder on those
//!   and not on new text.
//! - A penalty on the offset, in units of the stock styles' own spread, keeps the style where
//!   the decoder was trained, i.e. natural speech rather than whatever noise the encoder likes.

use candle_core::{DType, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use voxclone_encoder::differentiable::Resampler;
use voxclone_encoder::{DifferentiableEncoder, Embedding};
use voxclone_synthesizer::{AcousticFeatures, PitchTarget, VoicePack, STYLE_DIM};
use voxclone_vocoder::SourceNoise;

use crate::tts::{Tts, TtsError, SAMPLE_RATE};

#[derive(Debug, thiserror::Error)]
pub enum AdaptError {
    #[error(transparent)]
    Tts(#[from] TtsError),
    #[error(transparent)]
    Encoder(#[from] voxclone_encoder::EncoderError),
    #[error("adaptation failed: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// Short sentences of varied phonemes, about two seconds each: each is one or two encoder
/// partials, cheap to synthesize with gradients.
pub const ADAPTATION_SENTENCES: &[&str] = &[
    "She sells fresh fruit at the market every morning.",
    "Could you bring my jacket from the car?",
    "The quick brown fox jumps over the lazy dog.",
    "We watched the boats come in from the harbor.",
    "A warm cup of tea helps me think clearly.",
    "Please call me back when you get home tonight.",
    "Thunder rolled over the hills before the rain.",
    "He opened the window to let some air inside.",
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptOptions {
    /// Most gradient steps.
    pub steps: usize,
    pub learning_rate: f64,
    /// Weight of the pull towards the starting style (mean squared offset in units of the stock
    /// styles' spread per dimension).
    pub regularisation: f64,
    /// Stop when the smoothed similarity has not improved for this many steps.
    pub patience: usize,
    /// Seed of the vocoder's excitation noise.
    pub seed: u64,
}

impl Default for AdaptOptions {
    fn default() -> Self {
        Self {
            steps: 40,
            learning_rate: 0.05,
            regularisation: 0.02,
            patience: 16,
            seed: 0,
        }
    }
}

/// What adaptation found.
#[derive(Debug, Clone)]
pub struct Adaptation {
    /// The fitted voice: the starting pack with the timbre offset added to every row.
    pub voice: VoicePack,
    /// Similarity to the reference at each step (each on that step's sentence).
    pub similarity: Vec<f32>,
    /// Smoothed similarity where the returned style was taken.
    pub best: f32,
}

/// Fits `start`'s timbre to `target` (the reference d-vector). `progress(step, similarity)` is
/// called after every step; returning `false` stops early (Ctrl-C).
pub fn adapt(
    tts: &Tts,
    encoder: &DifferentiableEncoder,
    start: &VoicePack,
    pitch: Option<PitchTarget>,
    target: &Embedding,
    options: &AdaptOptions,
    progress: &mut dyn FnMut(usize, f32) -> bool,
) -> Result<Adaptation, AdaptError> {
    let model = tts.model();
    let device = model.device();
    let half = model.config().style_dim;
    let resampler = Resampler::new(SAMPLE_RATE, encoder.params().sample_rate, device)?;
    let target = Tensor::from_slice(target.as_slice(), target.len(), device)?;
    // Per timbre dimension, floored so that a dimension the stock voices never vary can move.
    let spread = (tts.style_spread()?.narrow(1, 0, half)? + 1e-3)?;

    // Stage 2 once per sentence: it reads only the prosody half, which does not move.
    let sentences = ADAPTATION_SENTENCES
        .iter()
        .map(|text| -> Result<(Tensor, AcousticFeatures), AdaptError> {
            let ids: Vec<u32> = tts
                .chunks(text, start)?
                .flat_map(|c| c.token_ids())
                .collect();
            let style = start.style_for(ids.len())?;
            let mut features = model.features(&ids, &style, 1.0)?;
            if let Some(p) = &pitch {
                features.f0 = voxclone_synthesizer::retarget_f0(&features.f0, p)?;
            }
            Ok((style, features))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let offset = Var::zeros((1, half), DType::F32, device)?;
    let mut optimiser = AdamW::new(
        vec![offset.clone()],
        ParamsAdamW {
            lr: options.learning_rate,
            weight_decay: 0.0,
            ..Default::default()
        },
    )?;
    let mut similarity = Vec::with_capacity(options.steps);
    // Smoothed over one pass of the sentences, since they differ in how alike they sound.
    let window = sentences.len();
    let mut best = (f32::NEG_INFINITY, offset.as_tensor().copy()?, 0usize);
    for step in 0..options.steps {
        let (style, features) = &sentences[step % sentences.len()];
        let timbre = (style.narrow(1, 0, half)? + offset.as_tensor())?;
        let style = Tensor::cat(&[&timbre, &style.narrow(1, half, STYLE_DIM - half)?], 1)?;
        let audio = model.vocode(features, &style, SourceNoise::Seeded(options.seed))?;
        let wav = resampler.forward(&audio.flatten_all()?)?;
        let d_vector = encoder.embed(&wav)?;
        let cos = (d_vector * &target)?.sum_all()?;
        let penalty = offset
            .as_tensor()
            .broadcast_div(&spread)?
            .sqr()?
            .mean_all()?;
        let loss = ((penalty * options.regularisation)? - &cos)?;
        optimiser.backward_step(&loss)?;
        let cos = cos.to_scalar::<f32>()?;
        similarity.push(cos);
        if similarity.len() >= window {
            let recent = &similarity[similarity.len() - window..];
            let smoothed = recent.iter().sum::<f32>() / window as f32;
            if smoothed > best.0 {
                // The offset after the window's updates: the one these similarities measured,
                // approximately (it moved a little over the window).
                best = (smoothed, offset.as_tensor().copy()?, step);
            }
        }
        if !progress(step, cos) || step.saturating_sub(best.2) > options.patience {
            break;
        }
    }
    if best.0 == f32::NEG_INFINITY {
        best.1 = offset.as_tensor().copy()?;
        best.0 = similarity.iter().copied().fold(f32::NAN, f32::max);
    }
    let rows = start.styles().dim(0)?;
    let shift = Tensor::cat(
        &[
            best.1.broadcast_as((rows, half))?,
            Tensor::zeros((rows, STYLE_DIM - half), DType::F32, device)?,
        ],
        1,
    )?;
    let voice = VoicePack::new(format!("{}+adapted", start.name), (start.styles() + shift)?)
        .map_err(TtsError::from)?;
    Ok(Adaptation {
        voice,
        similarity,
        best: best.0,
    })
}
