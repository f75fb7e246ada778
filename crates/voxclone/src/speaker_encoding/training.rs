//! Making the bank's entries (`voxclone train speaker-encoding`).
//!
//! - [`sampled_entry`]: a style drawn around the stock voices (a random blend of two, plus noise
//!   in units of the stock styles' spread), and the d-vector of its own speech. Cheap: one
//!   synthesis.
//! - [`adapted_entry`]: a real speaker. Their speech is split into a reference part and a
//!   held-out part; speaker adaptation fits a style to the reference's d-vector; the held-out
//!   part measures how good that style is on a sentence it was not fitted to.

use voxclone_nn::rng::SplitMix64;
use voxclone_synthesizer::{VoicePack, STYLE_DIM};

use super::BankEntry;
use crate::adapt::AdaptOptions;
use crate::clone::{
    clone_speech, embed_synthesized, CloneError, CloneOptions, ReferenceSpeech, SpeakerEncoding,
};
use crate::reference::{PipelineError, Voxclone};
use crate::tts::{SpeakOptions, Tts, TtsError};

/// What a sampled style says.
pub const SAMPLE_TEXT: &str =
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow.";
/// What an adapted speaker's clone says for the held-out check (in no reference recording).
pub const HELD_OUT_TEXT: &str = "Nobody expected the little bakery to become so famous so quickly.";
/// A bank style is one row of a pack: the one for sentences of about this many phonemes.
pub const TYPICAL_PHONEMES: usize = 80;
/// Share of an adapted speaker's speech used as the reference; the rest is held out.
pub const REFERENCE_SHARE: f32 = 2.0 / 3.0;

/// A small seeded generator (SplitMix64), so entry `n` is the same on every run.
struct Rng(SplitMix64);

impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0.next_f32()
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform().max(1e-7), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f32::consts::PI * v).cos()
    }
}

/// Each stock voice's typical row, and the spread of each style dimension over them all.
pub struct StockStyles {
    rows: Vec<Vec<f32>>,
    spread: Vec<f32>,
}

impl StockStyles {
    pub fn new(tts: &Tts) -> Result<Self, TtsError> {
        let rows = tts
            .cloning_base()
            .into_iter()
            .map(|v| {
                Ok(v.style_for(TYPICAL_PHONEMES)?
                    .flatten_all()?
                    .to_vec1::<f32>()?)
            })
            .collect::<Result<_, TtsError>>()?;
        let spread = tts.style_spread()?.flatten_all()?.to_vec1::<f32>()?;
        Ok(Self { rows, spread })
    }

    /// Style `index`: a blend of two stock voices plus Gaussian noise of `noise` spreads.
    pub fn sample(&self, index: u64, noise: f32) -> Vec<f32> {
        let mut rng = Rng(SplitMix64::new(
            index.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED,
        ));
        let n = self.rows.len() as u64;
        let a = (rng.0.next_u64() % n) as usize;
        let b = (rng.0.next_u64() % n) as usize;
        let t = rng.uniform();
        (0..STYLE_DIM)
            .map(|d| {
                t * self.rows[a][d]
                    + (1.0 - t) * self.rows[b][d]
                    + noise * self.spread[d] * rng.normal()
            })
            .collect()
    }
}

/// The `index`th sampled entry.
pub fn sampled_entry(
    vc: &Voxclone,
    tts: &Tts,
    stock: &StockStyles,
    index: u64,
    noise: f32,
) -> Result<BankEntry, CloneError> {
    let style = stock.sample(index, noise);
    let device = tts.model().device();
    let voice = VoicePack::constant(
        "sampled",
        &candle_core::Tensor::from_slice(&style, (1, STYLE_DIM), device).map_err(TtsError::from)?,
    )
    .map_err(TtsError::from)?;
    let audio = tts.speak(SAMPLE_TEXT, &voice, SpeakOptions::default())?;
    Ok(BankEntry {
        name: format!("sampled:{index}"),
        d_vector: embed_synthesized(vc, audio)?,
        style,
    })
}

/// An adapted speaker's entry, and how alike its clone sounds on held-out speech.
pub struct AdaptedEntry {
    pub entry: BankEntry,
    /// Similarity of the clone saying [`HELD_OUT_TEXT`] to the held-out speech.
    pub held_out_similarity: f32,
    /// Similarity of the starting (zero-shot) voice saying it, for comparison.
    pub start_similarity: f32,
    pub steps: usize,
}

/// Fits a style to `speaker`'s speech (prepared for the encoder), starting from `encoding`'s
/// prediction.
pub fn adapted_entry(
    vc: &Voxclone,
    tts: &Tts,
    encoding: &SpeakerEncoding,
    speaker: &str,
    speech: Vec<f32>,
    adapt: AdaptOptions,
    progress: &mut dyn FnMut(usize, f32) -> bool,
) -> Result<AdaptedEntry, CloneError> {
    let split = (speech.len() as f32 * REFERENCE_SHARE) as usize;
    let held_out = vc
        .encoder()
        .embed_utterance(&speech[split..])
        .map_err(PipelineError::from)?
        .embedding;
    let reference = ReferenceSpeech {
        label: speaker.to_owned(),
        wav: speech[..split].to_vec(),
    };
    let judge = |voice: &VoicePack, options: SpeakOptions| -> Result<f32, CloneError> {
        let audio = tts.speak(HELD_OUT_TEXT, voice, options)?;
        Ok(embed_synthesized(vc, audio)?.cosine(&held_out))
    };
    let (profile, report) = clone_speech(
        vc,
        tts,
        encoding,
        std::slice::from_ref(&reference),
        speaker,
        &CloneOptions { adapt: Some(adapt) },
        progress,
    )?;
    let options = SpeakOptions {
        pitch: profile.pitch,
        ..SpeakOptions::default()
    };
    let start = encoding.predict(tts, &report.d_vector)?;
    let start_similarity = judge(&start.voice, options)?;
    let voice = profile.voice_pack();
    let held_out_similarity = judge(&voice, options)?;
    let style = voice
        .style_for(TYPICAL_PHONEMES)
        .and_then(|t| t.flatten_all()?.to_vec1::<f32>())
        .map_err(TtsError::from)?;
    Ok(AdaptedEntry {
        entry: BankEntry {
            name: format!("adapted:{speaker}"),
            d_vector: report.d_vector,
            style,
        },
        held_out_similarity,
        start_similarity,
        steps: report.adaptation.len(),
    })
}
