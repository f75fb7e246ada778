//! Speech prepared the way the encoder was trained: 16 kHz, loudness raised to -30 dBFS, long
//! silences trimmed by voice-activity detection.

use voxclone_audio::{normalize, resample, vad, Audio};

use crate::{EncoderError, EncoderParams, Result};

/// Resamples, normalises and trims `audio`. Fails with [`EncoderError::NoSpeech`] when voice-activity
/// detection keeps nothing (silence, or under 30 ms of voice).
pub fn preprocess(audio: Audio, p: &EncoderParams) -> Result<Vec<f32>> {
    voxclone_audio::check_finite(&audio.samples)?;
    let seconds = audio.duration_secs();
    let mut wav = resample::resample(audio, p.sample_rate)?;
    normalize::normalize_volume(&mut wav, p.target_dbfs, true);
    vad::voice_mask(&wav, &p.vad).retain(&mut wav);
    if wav.is_empty() {
        return Err(EncoderError::NoSpeech { seconds });
    }
    wav.shrink_to_fit();
    Ok(wav)
}
