//! Cloning a voice from reference speech, the whole pipeline in one place:
//! reference audio → d-vector and pitch (stage 1) → a style and a pitch target → speech
//! (stages 2 and 3).
//!
//! Two routes (Arik et al. 2018):
//! - **speaker encoding** (zero-shot, instant): the style is predicted from the reference
//!   d-vector ([`SpeakerEncoding`]: the learned bank of [`crate::speaker_encoding`], or as a
//!   baseline the stock voice the encoder hears as closest);
//! - **speaker adaptation**: that prediction is then fitted to the reference by gradient
//!   descent ([`crate::adapt`]).
//!
//! Either way the predicted pitch is moved to the reference speaker's register. The register is
//! calibrated per profile: the decoder does not follow a moved contour exactly (a female voice
//! asked to speak an octave lower lands about two semitones high), so one synthesis is measured
//! and the target corrected, and once more after adaptation, which changes the voice.

use std::path::{Path, PathBuf};

use voxclone_audio::pitch::{self, PitchParams, PitchStats};
use voxclone_encoder::Embedding;
use voxclone_weights::KOKORO_ONNX_SHA256;

use crate::adapt::{adapt, AdaptOptions, ADAPTATION_SENTENCES};
use crate::profile::VoiceProfile;
use crate::reference::{PipelineError, Voxclone};
use crate::speaker_encoding::{BankError, StyleBank};
use crate::tts::{PitchTarget, SpeakOptions, Tts, TtsError};
use voxclone_synthesizer::VoicePack;

/// The sentence synthesized to compare stock voices with a reference and to calibrate pitch.
/// About three seconds: enough voiced frames for a median, short enough to keep zero-shot
/// cloning under a second.
pub const CALIBRATION_TEXT: &str = "The rainbow is a division of white light into many colors.";
/// Less reference speech than this makes a weak d-vector and pitch estimate.
pub const MIN_REFERENCE_SECONDS: f32 = 1.0;
/// Two stretches of speech whose d-vectors are less similar than this are taken for different
/// speakers: the `verify` threshold, near the equal-error point on LibriSpeech test-other (0.718).
pub const SAME_SPEAKER_SIMILARITY: f32 = 0.72;
/// Speech is voiced only part of the time (consonants, pauses): on LibriSpeech test-other the
/// tracker finds 8–61% of a clip's frames voiced. Music and sustained tones are pitched
/// throughout.
pub const MAX_SPEECH_VOICED_FRACTION: f32 = 0.9;
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
    #[error("{files}: does not sound like speech: {percent:.0}% of it is pitched, as music or a tone is (talking is pitched well under 90% of the time); give recordings of someone talking")]
    NotSpeech { files: String, percent: f32 },
    #[error(transparent)]
    Bank(#[from] BankError),
    #[error("the speaker-encoding bank has no entries")]
    EmptyBank,
}

/// What was learned about the references, and anything the user should hear about.
#[derive(Debug, Clone)]
pub struct CloneReport {
    pub d_vector: Embedding,
    pub reference_pitch: PitchStats,
    pub speech_seconds: f32,
    /// What the zero-shot prediction was made from: `(name, cosine to the reference)`, closest
    /// first (stock voices, or bank entries).
    pub neighbours: Vec<(String, f32)>,
    /// Median F0 of the last calibration synthesis (of the adapted voice, when adapted), and
    /// the corrected target.
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

fn labels(references: &[ReferenceSpeech]) -> String {
    references
        .iter()
        .map(|r| r.label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cosine of `item` with the normalised mean of `others`.
fn similarity_to_rest<'a>(item: &[f32], others: impl Iterator<Item = &'a [f32]>) -> Option<f32> {
    let rest = Embedding::mean(others)?;
    Embedding::normalized(item.to_vec()).map(|e| e.cosine(&rest))
}

/// Fewest partials (about 4 s of speech) in which two voices are looked for.
const MIN_PARTIALS_FOR_SPLIT: usize = 5;
/// Two groups of one file's partials less alike than this are taken for two voices. On
/// LibriSpeech test-other, two speakers' longest clips joined score 0.53–0.73 (10 pairs); of
/// 110 one-speaker files (each clip, and clips joined) all but one score 0.81 or more, and
/// that one (3005-163389-0008, 0.729) is a reader doing a character's voice.
pub const SEPARATE_VOICES_SIMILARITY: f32 = 0.73;
/// A voice is looked for only if it has this many partials (about 2 s of speech).
const MIN_PARTIALS_PER_VOICE: usize = 2;

/// Whether one utterance's partials fall into two groups that sound like different speakers:
/// the groups of [`split_partials`] each hold at least two partials and their mean d-vectors
/// are less alike than [`SEPARATE_VOICES_SIMILARITY`]. Returns that similarity.
pub fn two_voices_in(partials: &[Vec<f32>]) -> Option<f32> {
    let (between, sizes) = split_partials(partials)?;
    let smaller = sizes.0.min(sizes.1);
    (smaller >= MIN_PARTIALS_PER_VOICE && between < SEPARATE_VOICES_SIMILARITY).then_some(between)
}

/// 2-means on partial d-vectors (seeded with the least similar pair): the cosine between the
/// two groups' means and the groups' sizes. `None` under [`MIN_PARTIALS_FOR_SPLIT`] partials.
pub fn split_partials(partials: &[Vec<f32>]) -> Option<(f32, (usize, usize))> {
    let n = partials.len();
    if n < MIN_PARTIALS_FOR_SPLIT {
        return None;
    }
    let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let mut seeds = (0, 1, f32::MAX);
    for i in 0..n {
        for j in i + 1..n {
            let c = cos(&partials[i], &partials[j]);
            if c < seeds.2 {
                seeds = (i, j, c);
            }
        }
    }
    let mut centroids = [partials[seeds.0].clone(), partials[seeds.1].clone()];
    let mut groups = vec![0usize; n];
    for _ in 0..10 {
        for (g, p) in groups.iter_mut().zip(partials) {
            *g = usize::from(cos(p, &centroids[1]) > cos(p, &centroids[0]));
        }
        for (k, centroid) in centroids.iter_mut().enumerate() {
            let members = partials
                .iter()
                .zip(&groups)
                .filter(|(_, g)| **g == k)
                .map(|(p, _)| p.as_slice());
            if let Some(mean) = Embedding::mean(members) {
                *centroid = mean.into_vec();
            }
        }
    }
    let ones = groups.iter().filter(|g| **g == 1).count();
    Some((cos(&centroids[0], &centroids[1]), (n - ones, ones)))
}

/// Warnings when the references seem to hold more than one voice: a file whose embedding is
/// unlike the others', or a file whose partials split into two voices.
fn mixed_speaker_warnings(
    references: &[ReferenceSpeech],
    utterances: &[voxclone_encoder::UtteranceEmbedding],
) -> Vec<String> {
    let mut warnings = Vec::new();
    for (r, u) in references.iter().zip(utterances) {
        if let Some(between) = two_voices_in(&u.partials) {
            warnings.push(format!(
                "{} seems to hold more than one speaker (two groups of its speech, similarity {between:.2}); give recordings of one speaker",
                r.label
            ));
        }
    }
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
                        references[i].label
                    ));
                }
            }
        }
    }
    warnings
}

/// The d-vector of each stock voice of the cloning base ([`Tts::cloning_base`]) saying
/// [`CALIBRATION_TEXT`]: the same for every clone, so made once and passed to [`create_profile`].
#[derive(Debug, Clone)]
pub struct StockVoices {
    pub voices: Vec<(String, Embedding)>,
}

/// What identifies a saved [`StockVoices`]: its format, and the sentence the voices said.
const STOCK_CACHE_FORMAT: &str = "voxclone-stock-d-vectors-1";

impl StockVoices {
    /// [`embed`](Self::embed), kept in `cache` (JSON) so that it is made once: synthesizing the
    /// calibration sentence in every voice of the cloning base takes about a minute on two
    /// cores. A cache made for another sentence or another set of voices is made again; one that
    /// cannot be written only costs the next run the same minute. Only for the default speaker
    /// encoder: d-vectors of other weights differ.
    pub fn embed_cached(vc: &Voxclone, tts: &Tts, cache: &Path) -> Result<Self, CloneError> {
        let names: Vec<&str> = tts.cloning_base().iter().map(|v| v.name.as_str()).collect();
        if let Some(stock) = Self::read_cache(cache, &names) {
            return Ok(stock);
        }
        let stock = Self::embed(vc, tts)?;
        let voices: serde_json::Map<String, serde_json::Value> = stock
            .voices
            .iter()
            .map(|(n, e)| (n.clone(), serde_json::json!(e.as_slice())))
            .collect();
        let json = serde_json::json!({
            "format": STOCK_CACHE_FORMAT,
            "calibration_text": CALIBRATION_TEXT,
            "voices": voices,
        });
        let written = cache
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| voxclone_audio::output::write(cache, json.to_string().as_bytes()));
        if let Err(e) = written {
            tracing::warn!(path = %cache.display(), "cannot keep the stock voices' d-vectors: {e}");
        }
        Ok(stock)
    }

    fn read_cache(cache: &Path, names: &[&str]) -> Option<Self> {
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(cache).ok()?).ok()?;
        if json["format"] != STOCK_CACHE_FORMAT || json["calibration_text"] != CALIBRATION_TEXT {
            return None;
        }
        let saved = json["voices"].as_object()?;
        if saved.len() != names.len() {
            return None;
        }
        let voices = names
            .iter()
            .map(|name| {
                let values: Vec<f32> = serde_json::from_value(saved.get(*name)?.clone()).ok()?;
                Some(((*name).to_owned(), Embedding::normalized(values)?))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { voices })
    }

    pub fn embed(vc: &Voxclone, tts: &Tts) -> Result<Self, CloneError> {
        let voices = tts
            .cloning_base()
            .into_iter()
            .map(|voice| {
                let samples = tts.speak(CALIBRATION_TEXT, voice, SpeakOptions::default())?;
                Ok((voice.name.clone(), embed_synthesized(vc, samples)?))
            })
            .collect::<Result<_, CloneError>>()?;
        Ok(Self { voices })
    }
}

/// A zero-shot prediction: the starting voice, how it was made (for the profile's `method`),
/// and what it was made from (`(name, cosine to the reference)`, closest first).
#[derive(Debug, Clone)]
pub struct StartingVoice {
    pub voice: VoicePack,
    pub method: String,
    pub neighbours: Vec<(String, f32)>,
}

/// Which zero-shot predictor an [`crate::Engine`] uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum EncodingChoice {
    /// The speaker-encoding bank built into the library.
    #[default]
    Shipped,
    /// A bank from `voxclone train speaker-encoding`.
    Bank(PathBuf),
    /// Baseline: the stock voice the encoder hears as closest. Its d-vectors are cached in
    /// `cache` (made once, about a minute), or made afresh when `None`.
    NearestStock { cache: Option<PathBuf> },
}

/// The zero-shot predictor of a style from a d-vector.
#[derive(Debug, Clone)]
pub enum SpeakerEncoding {
    /// The learned bank ([`StyleBank`]).
    Bank(StyleBank),
    /// Baseline: the stock voice whose speech is closest.
    NearestStock(StockVoices),
}

impl SpeakerEncoding {
    /// The predictor `choice` names.
    pub fn choose(choice: &EncodingChoice, vc: &Voxclone, tts: &Tts) -> Result<Self, CloneError> {
        Ok(match choice {
            EncodingChoice::Shipped => Self::shipped()?,
            EncodingChoice::Bank(path) => Self::Bank(StyleBank::load(path)?),
            EncodingChoice::NearestStock { cache: Some(cache) } => {
                Self::NearestStock(StockVoices::embed_cached(vc, tts, cache)?)
            }
            EncodingChoice::NearestStock { cache: None } => {
                Self::NearestStock(StockVoices::embed(vc, tts)?)
            }
        })
    }

    /// The bank built into the binary.
    pub fn shipped() -> Result<Self, CloneError> {
        Ok(Self::Bank(StyleBank::shipped()?))
    }

    /// The starting voice for `d_vector`.
    pub fn predict(&self, tts: &Tts, d_vector: &Embedding) -> Result<StartingVoice, CloneError> {
        match self {
            SpeakerEncoding::NearestStock(stock) => {
                let mut scored: Vec<(String, f32)> = stock
                    .voices
                    .iter()
                    .map(|(name, e)| (name.clone(), e.cosine(d_vector)))
                    .collect();
                scored.sort_by(|a, b| b.1.total_cmp(&a.1));
                Ok(StartingVoice {
                    voice: tts.voice(&scored[0].0)?,
                    method: format!("nearest-stock:{}", scored[0].0),
                    neighbours: scored,
                })
            }
            SpeakerEncoding::Bank(bank) => {
                let p = bank
                    .predict(d_vector, &|_| false)
                    .ok_or(CloneError::EmptyBank)?;
                let voice = p
                    .voice("speaker-encoding", tts.model().device())
                    .map_err(TtsError::from)?;
                Ok(StartingVoice {
                    voice,
                    method: format!("speaker-encoding:{}", bank.entries.len()),
                    neighbours: p.neighbours.into_iter().map(|(n, s, _)| (n, s)).collect(),
                })
            }
        }
    }
}

/// Reference speech prepared for the encoder (16 kHz, normalised, trimmed), named for messages.
#[derive(Debug, Clone)]
pub struct ReferenceSpeech {
    pub label: String,
    pub wav: Vec<f32>,
}

/// Makes a voice profile from reference recordings, by the route `options` picks.
/// `progress(step, similarity)` follows adaptation; returning `false` stops it early.
pub fn create_profile(
    vc: &Voxclone,
    tts: &Tts,
    encoding: &SpeakerEncoding,
    references: &[PathBuf],
    name: &str,
    options: &CloneOptions,
    progress: &mut dyn FnMut(usize, f32) -> bool,
) -> Result<(VoiceProfile, CloneReport), CloneError> {
    let speech = references
        .iter()
        .map(|path| {
            Ok(ReferenceSpeech {
                label: file_name(path),
                wav: vc.prepare_reference(path)?,
            })
        })
        .collect::<Result<Vec<_>, CloneError>>()?;
    clone_speech(vc, tts, encoding, &speech, name, options, progress)
}

/// One step of pitch calibration: `voice` says `texts` at the register `asked`, and `asked` is
/// moved in the log domain by how far the median of all of it missed `aim`. Returns the
/// measured median and the corrected register. One sentence's median strays from a voice's
/// register by a semitone or so (its voiced frames are few, and which ones the decoder voices
/// depends on the words), so more text measures better and costs more.
fn calibrate(
    tts: &Tts,
    voice: &VoicePack,
    aim: PitchTarget,
    asked: PitchTarget,
    texts: &[&str],
) -> Result<(f32, PitchTarget), CloneError> {
    let (low, high) = crate::tts::PITCH_RANGE;
    let mut samples = Vec::new();
    for text in texts {
        samples.extend(tts.speak(
            text,
            voice,
            SpeakOptions {
                pitch: Some(asked),
                ..SpeakOptions::default()
            },
        )?);
    }
    let measured = median_pitch(&samples).unwrap_or(asked.median_hz);
    let error = pitch::semitones(aim.median_hz, measured);
    let total = (pitch::semitones(aim.median_hz, asked.median_hz) - error)
        .clamp(-MAX_CORRECTION_SEMITONES, MAX_CORRECTION_SEMITONES);
    let corrected = PitchTarget {
        median_hz: (aim.median_hz * 2f32.powf(total / 12.0)).clamp(low, high),
        ..asked
    };
    Ok((measured, corrected))
}

/// [`create_profile`] for speech already in memory.
pub fn clone_speech(
    vc: &Voxclone,
    tts: &Tts,
    encoding: &SpeakerEncoding,
    references: &[ReferenceSpeech],
    name: &str,
    options: &CloneOptions,
    progress: &mut dyn FnMut(usize, f32) -> bool,
) -> Result<(VoiceProfile, CloneReport), CloneError> {
    if references.is_empty() {
        return Err(CloneError::NoReferences);
    }
    let mut warnings = Vec::new();
    // Stage 1 on the references: d-vector, pitch.
    let wavs: Vec<&[f32]> = references.iter().map(|r| r.wav.as_slice()).collect();
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
    .ok_or_else(|| CloneError::NoPitch(labels(references)))?;
    if reference_pitch.voiced_fraction >= MAX_SPEECH_VOICED_FRACTION {
        return Err(CloneError::NotSpeech {
            files: labels(references),
            percent: 100.0 * reference_pitch.voiced_fraction,
        });
    }

    // Speaker encoding: a style for this d-vector at once.
    let StartingVoice {
        voice: base,
        method: base_method,
        neighbours,
    } = encoding.predict(tts, &d_vector)?;

    // Pitch: aim at the reference's register, measure, correct in the log domain. A very
    // low voice (or creak the tracker reads as pitch) can ask for less than the decoder takes;
    // the register is then the lowest it does.
    let (low, high) = crate::tts::PITCH_RANGE;
    let aim = PitchTarget {
        median_hz: reference_pitch.median_hz.clamp(low, high),
        spread_semitones: Some(reference_pitch.spread_semitones),
    };
    let (mut measured, mut corrected) = calibrate(tts, &base, aim, aim, &[CALIBRATION_TEXT])?;

    // Speaker adaptation, when asked: fit the prediction to the reference.
    let (voice, method, adaptation) = match &options.adapt {
        None => (base, base_method, Vec::new()),
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
            let method = format!("adapted:{base_method}:{}-steps", fitted.similarity.len());
            // Adaptation moved the timbre, and with it how the decoder follows a contour
            // (3 semitones off for one test-other speaker): measure again, on more text,
            // which adaptation's time affords.
            let texts: Vec<&str> = std::iter::once(CALIBRATION_TEXT)
                .chain(ADAPTATION_SENTENCES.iter().copied().take(3))
                .collect();
            (measured, corrected) = calibrate(tts, &fitted.voice, aim, corrected, &texts)?;
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
        references: references.iter().map(|r| r.label.clone()).collect(),
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        model: KOKORO_ONNX_SHA256.to_owned(),
    };
    let report = CloneReport {
        d_vector,
        reference_pitch,
        speech_seconds,
        neighbours,
        calibration: (measured, corrected.median_hz),
        adaptation,
        warnings,
    };
    Ok((profile, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_json(text: &str, voices: &[(&str, f32)]) -> String {
        let voices: serde_json::Map<String, serde_json::Value> = voices
            .iter()
            .map(|(n, v)| (n.to_string(), serde_json::json!(vec![*v; 4])))
            .collect();
        serde_json::json!({
            "format": STOCK_CACHE_FORMAT, "calibration_text": text, "voices": voices,
        })
        .to_string()
    }

    #[test]
    fn saved_stock_d_vectors_are_used_only_for_the_same_sentence_and_voices() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stock.json");
        let read = |json: String, names: &[&str]| {
            std::fs::write(&path, json).unwrap();
            StockVoices::read_cache(&path, names)
        };
        let good = cache_json(CALIBRATION_TEXT, &[("af_heart", 1.0), ("bm_george", -2.0)]);
        let stock = read(good.clone(), &["af_heart", "bm_george"]).unwrap();
        assert_eq!(stock.voices[1].0, "bm_george");
        assert_eq!(stock.voices[1].1.as_slice(), [-0.5; 4]); // normalised
        assert!(
            read(good.clone(), &["af_heart"]).is_none(),
            "another set of voices"
        );
        assert!(
            read(good, &["af_heart", "am_adam"]).is_none(),
            "a voice missing"
        );
        let other = cache_json("Another sentence.", &[("af_heart", 1.0)]);
        assert!(read(other, &["af_heart"]).is_none(), "another sentence");
        assert!(read("{not json".into(), &["af_heart"]).is_none());
    }
}
