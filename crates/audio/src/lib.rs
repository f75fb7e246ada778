//! The audio front-end every voxclone stage shares.
//!
//! `decode` turns any common file into mono float samples, `resample` brings them to a stage's rate,
//! `normalize` and `vad` prepare speech the way the GE2E encoder was trained on it, and `mel` computes
//! its 40-band mel power spectrogram. `spectral` holds what every stage's spectra are made of
//! (window, mel scale and filterbank, centred STFT and inverse STFT); `rtvc_mel` is RTVC's
//! synthesizer mel on top of it. Every number that must match the reference is named in the
//! module that uses it and tested against golden data made by Resemblyzer.

pub mod decode;
pub mod mel;
pub mod normalize;
pub mod output;
pub mod pitch;
pub mod resample;
pub mod rtvc_mel;
pub mod spectral;
pub mod vad;
pub mod wav;

pub use decode::{load, load_bytes, load_bytes_at_most, Audio};
pub use mel::MelSpectrogram;

use std::path::PathBuf;

/// What can go wrong between a file on disk and samples a stage can use.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{0}: no such file")]
    NotFound(PathBuf),
    #[error("{0}: is a directory, not an audio file")]
    IsDirectory(PathBuf),
    // Not `source`: the message already includes the cause, so it must not be chained again.
    #[error("{path}: cannot read: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}: not a recognised audio format (supported: wav, flac, mp3, ogg/vorbis, m4a/aac)")]
    UnknownFormat(PathBuf),
    #[error("{path}: unsupported codec {codec} (supported: pcm, flac, mp3, vorbis, aac)")]
    UnsupportedCodec { path: PathBuf, codec: String },
    #[error("{path}: corrupt audio: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: truncated: the header promises {expected} samples but only {decoded} could be decoded")]
    Truncated {
        path: PathBuf,
        expected: u64,
        decoded: u64,
    },
    #[error("{path}: longer than the {limit} s allowed")]
    TooLong { path: PathBuf, limit: f64 },
    #[error("{0}: contains no audio samples")]
    Empty(PathBuf),
    #[error("audio contains NaN or infinite samples (first at sample {index})")]
    NonFinite { index: usize },
    #[error("cannot resample from {from} Hz to {to} Hz: {reason}")]
    Resample { from: u32, to: u32, reason: String },
    #[error("{path}: cannot write wav: {reason}")]
    WriteWav { path: PathBuf, reason: String },
}

pub type Result<T> = std::result::Result<T, AudioError>;

/// Fails on the first NaN or infinite sample: they would poison every later stage silently.
pub fn check_finite(samples: &[f32]) -> Result<()> {
    match samples.iter().position(|s| !s.is_finite()) {
        Some(index) => Err(AudioError::NonFinite { index }),
        None => Ok(()),
    }
}
