//! The voice-cloning pipeline in one place, and the library's front door, [`Engine`]:
//!
//! 1. **reference audio → d-vector**: [`Engine::embed_file`] (stage 1, the GE2E speaker
//!    encoder, [`Voxclone`] below: decode, resample to 16 kHz, trim silences, partials, mean);
//! 2. **d-vector → style**: [`Engine::clone_voice`] predicts Kokoro's 256-value style from the
//!    d-vector ([`SpeakerEncoding`]: the learned bank, or the nearest stock voice), or fits it
//!    to the reference (speaker adaptation, [`crate::adapt`]); [`crate::clone`] has the steps;
//! 3. **style + text → features**: [`Engine::speak`] phonemizes the text in the voice's accent
//!    and runs Kokoro's text side (durations, F0, energy, aligned features; stage 2,
//!    `voxclone-synthesizer`);
//! 4. **features → waveform**: Kokoro's iSTFTNet decoder (stage 3, `voxclone-vocoder`), at
//!    24 kHz. [`crate::tts::Tts::speak_chunk`] shows stages 2 and 3 side by side.
//!
//! RTVC's own stages 2 and 3 (Tacotron, WaveRNN) are in [`crate::rtvc`].

use std::path::{Path, PathBuf};

use candle_core::Device;
use rayon::prelude::*;
use voxclone_encoder::{EncoderError, EncoderParams, UtteranceEmbedding, VoiceEncoder};
use voxclone_nn::KernelConfig;
use voxclone_synthesizer::VoicePack;
use voxclone_weights::{ModelError, ModelStore, Progress};

use crate::clone::{CloneError, CloneOptions, CloneReport, ReferenceSpeech, SpeakerEncoding};
use crate::profile::VoiceProfile;
use crate::tts::{SpeakOptions, Tts, TtsError};

/// How to build an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the networks run.
    pub device: Device,
    /// The CPU kernels (process-wide; applied before any weights are packed).
    pub kernels: KernelConfig,
    /// Speaker-encoder weights instead of the pretrained ones (a `voxclone train encoder`
    /// checkpoint).
    pub encoder_weights: Option<PathBuf>,
    /// The zero-shot predictor.
    pub encoding: EncodingChoice,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            device: Device::Cpu,
            kernels: KernelConfig::default(),
            encoder_weights: None,
            encoding: EncodingChoice::Shipped,
        }
    }
}

/// Which zero-shot predictor an [`Engine`] uses.
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

/// Every stage, loaded once: share it between threads or requests (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct Engine {
    encoder: Voxclone,
    tts: Tts,
    encoding: SpeakerEncoding,
}

/// What can go wrong loading an [`Engine`].
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("loading the speaker encoder: {0}")]
    Encoder(#[source] PipelineError),
    #[error("loading the text-to-speech model: {0}")]
    Tts(#[source] TtsError),
    #[error(transparent)]
    Encoding(#[from] Box<CloneError>),
}

impl Engine {
    /// Loads every stage, fetching pretrained weights into `store` on first use.
    pub fn load(
        store: &ModelStore,
        config: &EngineConfig,
        progress: &dyn Progress,
    ) -> Result<Self, EngineError> {
        voxclone_nn::kernels::configure(config.kernels);
        let encoder = match &config.encoder_weights {
            Some(weights) => Voxclone::load_with_encoder(weights, &config.device),
            None => Voxclone::load(store, &config.device, progress),
        }
        .map_err(EngineError::Encoder)?;
        let tts = Tts::load(store, &config.device, progress).map_err(EngineError::Tts)?;
        let encoding =
            SpeakerEncoding::choose(&config.encoding, &encoder, &tts).map_err(Box::new)?;
        Ok(Self::from_parts(encoder, tts, encoding))
    }

    /// An engine from stages already loaded.
    pub fn from_parts(encoder: Voxclone, tts: Tts, encoding: SpeakerEncoding) -> Self {
        Self {
            encoder,
            tts,
            encoding,
        }
    }

    /// Stage 1: reference audio → d-vector.
    pub fn encoder(&self) -> &Voxclone {
        &self.encoder
    }

    /// Stages 2 and 3: text and a voice → speech.
    pub fn tts(&self) -> &Tts {
        &self.tts
    }

    /// The zero-shot predictor: d-vector → style.
    pub fn encoding(&self) -> &SpeakerEncoding {
        &self.encoding
    }

    /// Where the networks run.
    pub fn device(&self) -> &Device {
        self.tts.model().device()
    }

    /// Step 1: a recording's d-vector (and its partials).
    pub fn embed_file(&self, path: &Path) -> Result<UtteranceEmbedding, PipelineError> {
        self.encoder.embed_file(path)
    }

    /// Steps 1 and 2: a voice from recordings of one speaker, by the route `options` picks.
    /// `progress(step, similarity)` follows adaptation; returning `false` stops it early.
    pub fn clone_voice(
        &self,
        references: &[PathBuf],
        name: &str,
        options: &CloneOptions,
        progress: &mut dyn FnMut(usize, f32) -> bool,
    ) -> Result<(VoiceProfile, CloneReport), CloneError> {
        crate::clone::create_profile(
            &self.encoder,
            &self.tts,
            &self.encoding,
            references,
            name,
            options,
            progress,
        )
    }

    /// [`clone_voice`](Self::clone_voice) for speech already decoded and prepared.
    pub fn clone_speech(
        &self,
        references: &[ReferenceSpeech],
        name: &str,
        options: &CloneOptions,
        progress: &mut dyn FnMut(usize, f32) -> bool,
    ) -> Result<(VoiceProfile, CloneReport), CloneError> {
        crate::clone::clone_speech(
            &self.encoder,
            &self.tts,
            &self.encoding,
            references,
            name,
            options,
            progress,
        )
    }

    /// Steps 3 and 4: the text in `voice`, 24 kHz. For long texts, [`Tts::chunks`] and
    /// [`Tts::speak_chunk`] stream.
    pub fn speak(
        &self,
        text: &str,
        voice: &VoicePack,
        options: SpeakOptions,
    ) -> Result<Vec<f32>, TtsError> {
        self.tts.speak(text, voice, options)
    }
}

/// What can go wrong loading or running the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Encoder(#[from] EncoderError),
    // Not `source`: the message already includes the cause, so it must not be chained again.
    #[error("{path}: {error}")]
    File {
        path: std::path::PathBuf,
        error: EncoderError,
    },
}

/// Stage 1 loaded: the speaker encoder, with the audio front-end that feeds it. `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Voxclone {
    encoder: VoiceEncoder,
}

impl Voxclone {
    /// Loads the pretrained speaker encoder, fetching its weights into `store` on first use.
    pub fn load(
        store: &ModelStore,
        device: &Device,
        progress: &dyn Progress,
    ) -> Result<Self, PipelineError> {
        let weights = store.ge2e_encoder(progress)?;
        Ok(Self {
            encoder: VoiceEncoder::load(&weights, device)?,
        })
    }

    /// Like [`load`](Self::load), with the speaker encoder's weights from `encoder_weights` (e.g. a
    /// checkpoint of `voxclone train encoder`) instead of the pretrained ones.
    pub fn load_with_encoder(
        encoder_weights: &Path,
        device: &Device,
    ) -> Result<Self, PipelineError> {
        Ok(Self {
            encoder: VoiceEncoder::load(encoder_weights, device)?,
        })
    }

    /// Stage 1: the speaker encoder.
    pub fn encoder(&self) -> &VoiceEncoder {
        &self.encoder
    }

    /// Reference audio → speech prepared for the encoder (16 kHz, normalised, silences trimmed).
    pub fn prepare_reference(&self, path: &Path) -> Result<Vec<f32>, PipelineError> {
        prepare_speech(path, self.encoder.params())
    }

    /// Reference audio → its d-vector (stage 1).
    pub fn embed_file(&self, path: &Path) -> Result<UtteranceEmbedding, PipelineError> {
        let wav = self.prepare_reference(path)?;
        Ok(self.encoder.embed_utterance(&wav)?)
    }

    /// Embeds many files, a few at a time so memory stays bounded, batching their partials
    /// through the network together. `progress` follows along.
    pub fn embed_files<P: AsRef<Path> + Sync>(
        &self,
        paths: &[P],
        progress: &mut dyn FnMut(EmbedProgress),
    ) -> Result<Vec<EmbeddedFile>, PipelineError> {
        const FILES_PER_BATCH: usize = 32;
        let mut out = Vec::with_capacity(paths.len());
        for chunk in paths.chunks(FILES_PER_BATCH) {
            // Decoding and trimming are independent per file: spread them over the threads.
            let wavs = chunk
                .par_iter()
                .map(|p| self.prepare_reference(p.as_ref()))
                .collect::<Result<Vec<_>, _>>()?;
            let files_done = out.len();
            let embedded = self.encoder.embed_utterances(&wavs, &mut |done, total| {
                progress(EmbedProgress {
                    files_done,
                    files_total: paths.len(),
                    partials_done: done,
                    partials_total: total,
                })
            })?;
            for (wav, utterance) in wavs.iter().zip(embedded) {
                out.push(EmbeddedFile {
                    speech_seconds: wav.len() as f64 / self.encoder.params().sample_rate as f64,
                    utterance,
                });
            }
        }
        Ok(out)
    }
}

/// How far [`Voxclone::embed_files`] has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbedProgress {
    /// Files fully embedded, and how many there are.
    pub files_done: usize,
    pub files_total: usize,
    /// Partials through the network in the group of files being embedded now, of how many.
    pub partials_done: usize,
    pub partials_total: usize,
}

/// Decodes a file and prepares its speech for the encoder (16 kHz, normalised, silences trimmed);
/// needs no model, so preprocessing and training use it too.
pub fn prepare_speech(path: &Path, params: &EncoderParams) -> Result<Vec<f32>, PipelineError> {
    // Decoding errors name the file already; what comes after needs it added.
    let audio = voxclone_audio::load(path).map_err(EncoderError::from)?;
    voxclone_encoder::preprocess(audio, params).map_err(|error| PipelineError::File {
        path: path.to_path_buf(),
        error,
    })
}

/// A file's utterance embedding and how much speech it was made from.
#[derive(Debug, Clone)]
pub struct EmbeddedFile {
    pub utterance: UtteranceEmbedding,
    /// Seconds of speech left after silences were trimmed.
    pub speech_seconds: f64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pipeline_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<super::Voxclone>();
        shareable::<super::Engine>();
    }
}
