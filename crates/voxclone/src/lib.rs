//! voxclone: clone a voice from a few seconds of speech (SV2TTS: Jia et al. 2018).
//!
//! The pipeline is three stages, each trained on its own:
//! reference audio → **speaker encoder** (d-vector) → **synthesizer** (acoustic features) →
//! **vocoder** (waveform). [`pipeline::Voxclone`] holds the loaded stages; the stage crates
//! (`voxclone-encoder`, …) can also be used on their own.
//!
//! ```no_run
//! use voxclone::{models::{ModelStore, NoProgress}, Voxclone};
//! let vc = Voxclone::load(&ModelStore::from_env()?, &candle_core::Device::Cpu, &NoProgress)?;
//! let me = vc.embed_file("me.wav".as_ref())?; // UtteranceEmbedding: d-vector + partials
//! let you = vc.embed_file("you.flac".as_ref())?;
//! println!("{}", me.embedding.cosine(&you.embedding));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod adapt;
pub mod allocator;
pub mod clone;
pub mod pipeline;
pub mod plot;
pub mod profile;
pub mod rtvc;
pub mod server;
pub mod speaker_encoding;
pub mod tts;
pub mod voices;

pub use pipeline::Voxclone;
pub use tts::{SpeakOptions, Tts};
pub use voxclone_audio as audio;
pub use voxclone_encoder as encoder;
pub use voxclone_models as models;
pub use voxclone_train::corpus;
