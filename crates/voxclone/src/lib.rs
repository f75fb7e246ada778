//! voxclone: clone a voice from a few seconds of speech (SV2TTS: Jia et al. 2018; both routes of
//! Arik et al. 2018, speaker encoding and speaker adaptation).
//!
//! The pipeline is three stages, each trained on its own:
//! reference audio → **speaker encoder** (d-vector) → **synthesizer** (acoustic features) →
//! **vocoder** (waveform). [`Engine`] holds them all, loaded once ([`pipeline`] reads top to
//! bottom); the stage crates (`voxclone-encoder`, …) can also be used on their own.
//!
//! ```no_run
//! use voxclone::{clone::CloneOptions, weights::{ModelStore, NoProgress}, Engine, EngineConfig};
//! let engine = Engine::load(&ModelStore::from_env()?, &EngineConfig::default(), &NoProgress)?;
//! let me = engine.embed_file("me.wav".as_ref())?; // UtteranceEmbedding: d-vector + partials
//! let you = engine.embed_file("you.flac".as_ref())?;
//! println!("same speaker? cosine {}", me.embedding.cosine(&you.embedding));
//! let (voice, _report) =
//!     engine.clone_voice(&["me.wav".into()], "me", &CloneOptions::default(), &mut |_, _| true)?;
//! let samples = engine.speak("Hello.", &voice.voice_pack(), Default::default())?; // 24 kHz
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod adapt;
pub mod allocator;
pub mod clone;
pub mod pipeline;
pub mod plot;
pub mod profile;
pub mod reference;
pub mod rtvc;
pub mod speaker_encoding;
pub mod tts;
pub mod voices;

pub use pipeline::{EncodingChoice, Engine, EngineConfig, Voxclone};
pub use tts::{SpeakOptions, Tts};
pub use voxclone_audio as audio;
pub use voxclone_encoder as encoder;
pub use voxclone_train::corpus;
pub use voxclone_weights as weights;
