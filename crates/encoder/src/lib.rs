//! Stage 1 of SV2TTS: the GE2E speaker encoder (Wan et al. 2018, "Generalized End-to-End Loss for
//! Speaker Verification"), as trained in Real-Time-Voice-Cloning and shipped by Resemblyzer.
//!
//! Speech is cut into 1.6 s *partials*; each partial's 40-band mel spectrogram runs through a 3-layer
//! LSTM and a ReLU projection to a unit-norm 256-d *d-vector*. An utterance's embedding is the
//! normalised mean of its partials'; a speaker's is the normalised mean of their utterances'.

pub mod differentiable;
pub mod embedding;
pub mod ge2e;
pub mod inference;
pub mod model;
pub mod params;
pub mod partials;
pub mod preprocess;
pub mod projection;
pub mod train;
pub mod verification;

pub use differentiable::DifferentiableEncoder;
pub use embedding::Embedding;
pub use inference::{UtteranceEmbedding, VoiceEncoder};
pub use model::SpeakerEncoder;
pub use params::EncoderParams;
pub use preprocess::preprocess;

/// What can go wrong turning speech into embeddings.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error(transparent)]
    Audio(#[from] voxclone_audio::AudioError),
    #[error("no speech found: voice activity detection kept nothing of {seconds:.2} s of audio (silent, or shorter than 30 ms of voice)")]
    NoSpeech { seconds: f64 },
    #[error("the encoder weights do not fit the model: {0}")]
    Weights(String),
    #[error("not supported here: {0}")]
    Unsupported(String),
    #[error("training checkpoint: {0}")]
    Checkpoint(String),
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error("nothing to embed: {0}")]
    Empty(&'static str),
}

pub type Result<T> = std::result::Result<T, EncoderError>;
