//! The voice-cloning pipeline in one place, and the library's front door, [`Engine`]:
//!
//! 1. **reference audio → d-vector**: [`Engine::embed_file`] (stage 1, the GE2E speaker
//!    encoder, [`Voxclone`] in [`crate::reference`]: decode, resample to 16 kHz, trim silences,
//!    partials, mean);
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
use voxclone_encoder::UtteranceEmbedding;
use voxclone_nn::KernelConfig;
use voxclone_synthesizer::VoicePack;
use voxclone_weights::{ModelStore, Progress};

pub use crate::clone::EncodingChoice;
use crate::clone::{CloneError, CloneOptions, CloneReport, ReferenceSpeech, SpeakerEncoding};
use crate::profile::VoiceProfile;
pub use crate::reference::{prepare_speech, EmbedProgress, EmbeddedFile, PipelineError, Voxclone};
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_pipeline_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<super::Engine>();
    }
}
