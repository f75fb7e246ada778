//! Cloning a voice from reference speech, the whole pipeline in one place:
//! reference audio → d-vector and pitch (stage 1) → a style and a pitch target → speech
//! (stages 2 and 3).
//!
//! Route implemented so far (speaker encoding, zero-shot, baseline): the style of the stock voice
//! whose synthesized speech the GE2E encoder finds closest to the reference, with the predicted
//! pitch moved to the reference speaker's register. The register is calibrated once per profile:
//! the decoder does not follow a moved contour exactly (a female voice asked to speak an octave
//! lower lands about two semitones high), so one synthesis is measured and the target corrected.

use std::path::{Path, PathBuf};

use voxclone_audio::pitch::{self, PitchParams, PitchStats};
use voxclone_encoder::Embedding;
use voxclone_models::KOKORO_ONNX_SHA256;

use crate::adapt::{adapt, AdaptOptions};
use crate::pipeline::{PipelineError, Voxclone};
use crate::profile::VoiceProfile;
use crate::tts::{PitchTarget, SpeakOptions, Tts, TtsError};

/// The sentence synthesized to compare stock voices with a reference and to calibrate pitch.
pub const CALIBRATION_TEXT: &str =
    "The rainbow is a division of white light into many beautiful colors, shaped like a long round arch.";
/// Less reference speech than this makes a weak d-vector and pitch estimate.
pub const MIN_REFERENCE_SECONDS: f32 = 1.0;
/// Two stretches of speech whose d-vectors are less similar than this are taken for different
/// speakers: the `verify` threshold, near the equal-error point on LibriSpeech test-other (0.718).
pub const SAME_SPEAKER_SIMILARITY: f32 = 0.72;
/// The calibration correction is bounded: beyond this the target is not trusted.
const MAX_CORRECTION_SEMITONES: f32 = 4.0;

#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Adapt(#[from] crate::adapt::AdaptError),
    #[error(transparent)]
    Tts(#[from] TtsError),
    #[error("no reference recordings given")]
    NoReferences,
    #[error("{0}: too little voiced speech to measure the speaker's pitch")]
    NoPitch(String),
}

/// What was learned about the references, and anything the user should hear about.
#[derive(Debug, Clone)]
pub struct CloneReport {
    pub d_vector: Embedding,
    pub reference_pitch: PitchStats,
    pub speech_seconds: f32,
    /// Cosine similarity of each stock voice to the reference, best first.
    pub stock_similarity: Vec<(String, f32)>,
    /// Median F0 of the calibration synthesis before and after the correction.
    pub calibration: (f32, f32),
    /// Similarity to the reference at each adaptation step (empty for zero-shot).
    pub adaptation: Vec<f32>,
    pub warnings: Vec<String>,
}

/// Which cloning route to take.
#[derive(Debug, Clone, Default)]
pub struct CloneOptions {
    /// Speaker adaptation: fit the style to the reference by gradient descent. `None` is
    /// speaker encoding (zero-shot).
    pub adapt: Option<AdaptOptions>,
}

/// d-vector of 24 kHz synthesized speech, prepared exactly as a recording would be.
pub fn embed_synthesized(vc: &Voxclone, samples: Vec<f32>) -> Result<Embedding, CloneError> {
    let audio = voxclone_audio::Audio::new(samples, crate::tts::SAMPLE_RATE);
    let wav =
        voxclone_encoder::preprocess(audio, vc.encoder().params()).map_err(PipelineError::from)?;
    Ok(vc
        .encoder()
        .embed_utterance(&wav)
        .map_err(PipelineError::from)?
        .embedding)
}

/// Median F0 of 24 kHz speech.
pub fn median_pitch(samples: &[f32]) -> Option<f32> {
    let audio = voxclone_audio::Audio::new(samples.to_vec(), crate::tts::SAMPLE_RATE);
    let wav = voxclone_audio::resample::resample(audio, 16_000).ok()?;
    pitch::track(&wav, &PitchParams::SPEECH)
        .stats()
        .map(|s| s.median_hz)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// Cosine of `item` with the normalised mean of `others`.
fn similarity_to_rest<'a>(item: &[f32], others: impl Iterator<Item = &'a [f32]>) -> Option<f32> {
    let rest = Embedding::mean(others)?;
    Embedding::normalized(item.to_vec()).map(|e| e.cosine(&rest))
}

/// Warnings when the references seem to hold more than one voice: a file whose embedding is
/// unlike the others'. (One file mixing speakers is not detected yet.)
fn mixed_speaker_warnings(
    references: &[PathBuf],
    utterances: &[voxclone_encoder::UtteranceEmbedding],
) -> Vec<String> {
    let mut warnings = Vec::new();
    if utterances.len() > 1 {
        for (i, u) in utterances.iter().enumerate() {
            let others = utterances
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, o)| o.embedding.as_slice());
            if let Some(s) = similarity_to_rest(u.embedding.as_slice(), others) {
                if s < SAME_SPEAKER_SIMILARITY {
                    warnings.push(format!(
                        "{} sounds like another speaker than the other references (similarity {s:.2}); clone one speaker at a time",
                        file_name(&references[i])
                    ));
                }
            }
        }
    }
    warnings
}

/// The d-vector of each stock voice saying [`CALIBRATION_TEXT`]: the same for every clone, so
/// made once and passed to [`create_profile`].
#[derive(Debug, Clone)]
pub struct StockVoices {
    pub voices: Vec<(String, Embedding)>,
}

impl StockVoices {
    pub fn embed(vc: &Voxclone, tts: &Tts) -> Result<Self, CloneError> {
        let voices = tts
            .voices()
            .iter()
            .map(|voice| {
                let samples = tts.speak(CALIBRATION_TEXT, voice, SpeakOptions::default())?;
                Ok((voice.name.clone(), embed_synthesized(vc, samples)?))
            })
            .collect::<Result<_, CloneError>>()?;
        Ok(Self { voices })
    }
}

/// Makes a voice profile from reference recordings, by the route `options` picks.
/// `progress(step, similarity)` follows adaptation; returning `false` stops it early.
pub fn create_profile(
    vc: &Voxclone,
    tts: &Tts,
    stock: &StockVoices,
    references: &[PathBuf],
    name: &str,
    options: &CloneOptions,
    progress: &mut dyn FnMut(usize, f32) -> bool,
) -> Result<(VoiceProfile, CloneReport), CloneError> {
    if references.is_empty() {
        return Err(CloneError::NoReferences);
    }
    let mut warnings = Vec::new();
    // Stage 1 on the references: speech, d-vector, pitch.
    let mut wavs = Vec::with_capacity(references.len());
    for path in references {
        wavs.push(vc.prepare_reference(path)?);
    }
    let rate = vc.encoder().params().sample_rate as f32;
    let speech_seconds = wavs.iter().map(|w| w.len() as f32 / rate).sum::<f32>();
    if speech_seconds < MIN_REFERENCE_SECONDS {
        warnings.push(format!(
            "only {speech_seconds:.1} s of speech in the reference; the clone will be a rough likeness (give 5 s or more)"
        ));
    }
    let utterances = vc
        .encoder()
        .embed_utterances(&wavs, &mut |_, _| {})
        .map_err(PipelineError::from)?;
    let d_vector = Embedding::mean(utterances.iter().map(|u| u.embedding.as_slice()))
        .expect("at least one reference");
    warnings.extend(mixed_speaker_warnings(references, &utterances));
    let mut voiced = Vec::new();
    for wav in &wavs {
        let params = PitchParams {
            sample_rate: vc.encoder().params().sample_rate,
            ..PitchParams::SPEECH
        };
        voiced.extend(pitch::track(wav, &params).f0);
    }
    let reference_pitch = pitch::PitchTrack {
        hop_seconds: 0.01,
        f0: voiced,
    }
    .stats()
    .ok_or_else(|| {
        CloneError::NoPitch(
            references
                .iter()
                .map(|p| file_name(p))
                .collect::<Vec<_>>()
                .join(", "),
        )
    })?;

    // The stock voice the encoder hears as closest.
    let plain = SpeakOptions::default();
    let mut stock_similarity: Vec<(String, f32)> = stock
        .voices
        .iter()
        .map(|(name, e)| (name.clone(), e.cosine(&d_vector)))
        .collect();
    stock_similarity.sort_by(|a, b| b.1.total_cmp(&a.1));
    let base = tts.voice(&stock_similarity[0].0)?;

    // Pitch: aim at the reference's register, measure, correct once in the log domain.
    let aim = PitchTarget {
        median_hz: reference_pitch.median_hz,
        spread_semitones: Some(reference_pitch.spread_semitones),
    };
    let first = tts.speak(
        CALIBRATION_TEXT,
        &base,
        SpeakOptions {
            pitch: Some(aim),
            ..plain
        },
    )?;
    let measured = median_pitch(&first).unwrap_or(aim.median_hz);
    let error = pitch::semitones(aim.median_hz, measured)
        .clamp(-MAX_CORRECTION_SEMITONES, MAX_CORRECTION_SEMITONES);
    let corrected = PitchTarget {
        median_hz: aim.median_hz * 2f32.powf(-error / 12.0),
        ..aim
    };
    let second = tts.speak(
        CALIBRATION_TEXT,
        &base,
        SpeakOptions {
            pitch: Some(corrected),
            ..plain
        },
    )?;
    let after = median_pitch(&second).unwrap_or(measured);

    let (voice, method, adaptation) = match &options.adapt {
        None => (
            base.clone(),
            format!("nearest-stock:{}", base.name),
            Vec::new(),
        ),
        Some(adapt_options) => {
            let graph = vc.encoder().differentiable().map_err(PipelineError::from)?;
            let fitted = adapt(
                tts,
                &graph,
                &base,
                Some(corrected),
                &d_vector,
                adapt_options,
                progress,
            )?;
            let method = format!("adapted:{}:{}-steps", base.name, fitted.similarity.len());
            (fitted.voice, method, fitted.similarity)
        }
    };
    let profile = VoiceProfile {
        name: name.to_owned(),
        styles: voice.styles().clone(),
        pitch: Some(corrected),
        reference_pitch_hz: Some(reference_pitch.median_hz),
        d_vector: Some(d_vector.as_slice().to_vec()),
        method,
        references: references.iter().map(|p| file_name(p)).collect(),
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        model: KOKORO_ONNX_SHA256.to_owned(),
    };
    let report = CloneReport {
        d_vector,
        reference_pitch,
        speech_seconds,
        stock_similarity,
        calibration: (measured, after),
        adaptation,
        warnings,
    };
    Ok((profile, report))
}
