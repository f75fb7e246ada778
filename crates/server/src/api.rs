//! The speaker encoder over HTTP: embed a recording, compare two, map many in 2-D.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Multipart, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use voxclone_audio::pitch::{self, PitchParams};
use voxclone_audio::Audio;
use voxclone_encoder::projection::{pca, tsne, TsneParams};
use voxclone_encoder::VoiceEncoder;

use super::limits::run_blocking;
use super::{ApiError, AppState, MAX_AUDIO_SECONDS};

/// Columns of the (min, max) envelopes sent for drawing a waveform.
const ENVELOPE_COLUMNS: usize = 400;
/// Same-speaker threshold of `/v1/compare`: the equal-error-rate threshold measured on
/// LibriSpeech test-other (as `voxclone verify`).
pub const SAME_SPEAKER_THRESHOLD: f32 = 0.72;
/// t-SNE needs a few neighbours per point; fewer points are mapped by PCA.
const MIN_TSNE_POINTS: usize = 8;
const MAX_PROJECTION_POINTS: usize = 1000;

/// An uploaded recording decoded in memory, at most [`MAX_AUDIO_SECONDS`] long; `label` names it
/// in errors.
pub(super) fn decode_upload(bytes: Vec<u8>, label: &str) -> Result<Audio, ApiError> {
    Ok(voxclone_audio::load_bytes_at_most(
        bytes,
        label,
        MAX_AUDIO_SECONDS,
    )?)
}

/// What the encoder hears of a decoded upload (16 kHz, normalised, silences trimmed).
pub(super) fn upload_speech(
    audio: Audio,
    label: &str,
    encoder: &VoiceEncoder,
) -> Result<Vec<f32>, ApiError> {
    voxclone_encoder::preprocess(audio, encoder.params())
        .map_err(|e| ApiError::bad_request(format!("{label}: {e}")))
}

/// `(min, max)` of each of `columns` equal stretches of `samples`.
fn envelope(samples: &[f32], columns: usize) -> Vec<[f32; 2]> {
    if samples.is_empty() {
        return Vec::new();
    }
    let per = samples.len().div_ceil(columns);
    samples
        .chunks(per)
        .map(|c| {
            let lo = c.iter().copied().fold(f32::MAX, f32::min);
            let hi = c.iter().copied().fold(f32::MIN, f32::max);
            [lo, hi]
        })
        .collect()
}

/// `POST /v1/embed`: the request body is an audio file.
pub async fn embed(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body?;
    let turn = state.gate.enter().await?;
    let worker = state.clone();
    run_blocking(turn, move |_| {
        let encoder = worker.engine.encoder().encoder();
        let label = "uploaded audio";
        let audio = decode_upload(body.to_vec(), label)?;
        let duration = audio.duration_secs();
        let waveform = envelope(&audio.samples, ENVELOPE_COLUMNS);
        let speech = upload_speech(audio, label, encoder)?;
        let rate = encoder.params().sample_rate;
        let utterance = encoder.embed_utterance(&speech)?;
        let track = pitch::track(
            &speech,
            &PitchParams {
                sample_rate: rate,
                ..PitchParams::SPEECH
            },
        );
        // The trimmed speech is normalised to the encoder's loudness; scale it into [-1, 1].
        let peak = speech.iter().fold(0f32, |m, s| m.max(s.abs())).max(1e-6);
        let speech_envelope: Vec<[f32; 2]> = envelope(&speech, ENVELOPE_COLUMNS)
            .into_iter()
            .map(|[lo, hi]| [lo / peak.max(1.0), hi / peak.max(1.0)])
            .collect();
        Ok(Json(json!({
            "d_vector": utterance.embedding.as_slice(),
            "partials": utterance.partials.len(),
            "duration_seconds": duration,
            "speech_seconds": speech.len() as f64 / rate as f64,
            "pitch_hz": track.stats().map(|s| s.median_hz),
            "waveform": waveform,
            "speech": speech_envelope,
        })))
    })
    .await
}

/// `POST /v1/compare`: multipart fields `a` and `b`, two recordings.
pub async fn compare(
    State(state): State<Arc<AppState>>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, ApiError> {
    let mut form = form?;
    let (mut a, mut b) = (None, None);
    while let Some(field) = form.next_field().await? {
        match field.name() {
            Some("a") => a = Some(field.bytes().await?),
            Some("b") => b = Some(field.bytes().await?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unexpected form field {:?} (expected a and b)",
                    other.unwrap_or_default()
                )))
            }
        }
    }
    let (Some(a), Some(b)) = (a, b) else {
        return Err(ApiError::bad_request(
            "send two recordings as form fields a and b",
        ));
    };
    let turn = state.gate.enter().await?;
    let worker = state.clone();
    run_blocking(turn, move |_| {
        let encoder = worker.engine.encoder().encoder();
        let embed = |bytes: Bytes, label: &str| -> Result<_, ApiError> {
            let speech = upload_speech(decode_upload(bytes.to_vec(), label)?, label, encoder)?;
            Ok(encoder.embed_utterance(&speech)?.embedding)
        };
        let similarity = embed(a, "a")?.cosine(&embed(b, "b")?);
        Ok(Json(json!({
            "similarity": similarity,
            "same_speaker": similarity >= SAME_SPEAKER_THRESHOLD,
            "threshold": SAME_SPEAKER_THRESHOLD,
        })))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct ProjectionRequest {
    embeddings: Vec<Vec<f32>>,
}

/// `POST /v1/projection`: 2-D positions for d-vectors, similar voices close together.
pub async fn projection(
    State(state): State<Arc<AppState>>,
    request: Result<Json<ProjectionRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(request) = request?;
    let n = request.embeddings.len();
    if n == 0 || n > MAX_PROJECTION_POINTS {
        return Err(ApiError::bad_request(format!(
            "send between 1 and {MAX_PROJECTION_POINTS} embeddings, got {n}"
        )));
    }
    let dim = request.embeddings[0].len();
    if dim == 0
        || request
            .embeddings
            .iter()
            .any(|e| e.len() != dim || e.iter().any(|v| !v.is_finite()))
    {
        return Err(ApiError::bad_request(
            "embeddings must all have the same, non-zero length and finite values",
        ));
    }
    let turn = state.gate.enter().await?;
    run_blocking(turn, move |_| {
        let rows: Vec<&[f32]> = request.embeddings.iter().map(Vec::as_slice).collect();
        let (points, method) = if n < MIN_TSNE_POINTS {
            (pca(&rows), "PCA")
        } else {
            (tsne(&rows, &TsneParams::default()), "t-SNE")
        };
        Ok(Json(json!({ "points": points, "method": method })))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_keeps_the_extremes_of_each_column() {
        let samples: Vec<f32> = (0..1000)
            .map(|i| if i == 537 { 0.9 } else { -0.1 })
            .collect();
        let env = envelope(&samples, 10);
        assert_eq!(env.len(), 10);
        assert_eq!(env[5], [-0.1, 0.9]);
        assert_eq!(env[4], [-0.1, -0.1]);
    }
}
