//! Speech over HTTP: OpenAI's `/v1/audio/speech` (streamed chunk by chunk when the text is
//! long), and `/v1/synthesize`, which adds what the toolbox shows: the mel spectrogram and how
//! close the result sounds to the voice's reference.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use voxclone_audio::mel::{MelParams, MelSpectrogram};
use voxclone_audio::wav::{pcm16_bytes, pcm16_header, wav_bytes, UNKNOWN_LEN};

use super::limits::{run_blocking, Turn};
use super::profiles::{resolve, ResolvedVoice};
use super::{ApiError, AppState};
use voxclone::clone::embed_synthesized;
use voxclone::tts::{check_speed, SpeakOptions, TtsError, SAMPLE_RATE};

/// Model names accepted in `model`: ours, and OpenAI's, so their clients work unchanged. All
/// of them are Kokoro-82M driven by the chosen voice.
pub const MODELS: &[&str] = &["kokoro", "voxclone", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"];

/// `GET /v1/models`
pub async fn models() -> Json<Value> {
    Json(json!({
        "object": "list",
        "data": MODELS.iter().map(|m| json!({ "id": m, "object": "model", "owned_by": "voxclone" })).collect::<Vec<_>>(),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum AudioFormat {
    Wav,
    Pcm,
    Mp3,
    Opus,
    Aac,
    Flac,
}

#[derive(Debug, Deserialize)]
pub struct SpeechRequest {
    model: String,
    input: String,
    voice: String,
    /// OpenAI's default is mp3, which needs an encoder we do not ship: ours is wav.
    response_format: Option<AudioFormat>,
    speed: Option<f32>,
    /// Not OpenAI's: seeds the vocoder's noise (the same request gives the same samples).
    seed: Option<u64>,
    /// OpenAI's voice instructions; accepted and ignored (the voice is the style).
    #[allow(dead_code)]
    instructions: Option<String>,
    /// OpenAI's `sse` streaming is not offered; `audio` (plain bytes) is what every request gets.
    stream_format: Option<String>,
}

/// Whether `voice` can say anything of `text`, checked before the request queues for a turn: a
/// text of emoji or punctuation only is refused at once (reading it costs no model pass).
fn check_speakable(state: &AppState, text: &str, voice: &ResolvedVoice) -> Result<(), ApiError> {
    let mut chunks = state.engine.tts().chunks(text, &voice.pack)?;
    match chunks.next() {
        Some(_) => Ok(()),
        None => Err(TtsError::NothingToSay.into()),
    }
}

/// Checks what can be checked before any work: text, voice, speed, format.
fn check_text(state: &AppState, text: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("input is empty"));
    }
    let chars = text.chars().count();
    if chars > state.options.max_text_chars {
        return Err(ApiError::bad_request(format!(
            "input is {chars} characters; the limit is {}",
            state.options.max_text_chars
        )));
    }
    Ok(())
}

/// `POST /v1/audio/speech`. Text of one chunk (a sentence or a few) comes back as one WAV with
/// its length; longer text streams: the first chunk is sent as soon as it is ready, with a WAV
/// header of unknown length, and the rest follow while the client listens.
pub async fn openai_speech(
    State(state): State<Arc<AppState>>,
    request: Result<Json<SpeechRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = request?;
    if !MODELS.contains(&request.model.as_str()) {
        return Err(ApiError::bad_request(format!(
            "unknown model {:?}; use one of {}",
            request.model,
            MODELS.join(", ")
        )));
    }
    let format = request.response_format.unwrap_or(AudioFormat::Wav);
    if !matches!(format, AudioFormat::Wav | AudioFormat::Pcm) {
        let name = format!("{format:?}").to_lowercase();
        return Err(ApiError::bad_request(format!(
            "response_format {name} is not offered; use wav or pcm (16-bit mono at 24 kHz)"
        )));
    }
    if request
        .stream_format
        .as_deref()
        .is_some_and(|f| f != "audio")
    {
        return Err(ApiError::bad_request(
            "stream_format sse is not offered; use audio",
        ));
    }
    check_text(&state, &request.input)?;
    let speed = request.speed.unwrap_or(1.0);
    check_speed(speed).map_err(ApiError::from)?;
    let voice = resolve(&state, &request.voice)?;
    check_speakable(&state, &request.input, &voice)?;
    let options = SpeakOptions {
        speed,
        seed: request.seed.unwrap_or(0),
        pitch: voice.pitch,
    };
    let turn = state.gate.enter().await?;
    let started = Instant::now();
    let (first_tx, first_rx) = oneshot::channel();
    let (rest_tx, rest_rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    let deadline = turn.deadline;
    let worker = state.clone();
    tokio::task::spawn_blocking(move || {
        speak_streaming(
            &worker,
            turn,
            request.input,
            voice,
            options,
            format,
            first_tx,
            rest_tx,
        )
    });
    let left = deadline.saturating_duration_since(Instant::now());
    let first = match tokio::time::timeout(left, first_rx).await {
        Ok(Ok(first)) => first?,
        Ok(Err(_)) => return Err(ApiError::internal("synthesis ended without audio")),
        Err(_) => {
            return Err(ApiError::timeout(
                "no audio within the request's time limit",
            ))
        }
    };
    tracing::info!(
        "speech: first audio in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let content_type = match format {
        AudioFormat::Pcm => "audio/pcm",
        _ => "audio/wav",
    };
    Ok(match first {
        First::Whole(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        First::Streaming(bytes) => {
            let head = tokio_stream::once(Ok(bytes));
            let rest = tokio_stream::wrappers::ReceiverStream::new(rest_rx);
            (
                [(header::CONTENT_TYPE, content_type)],
                Body::from_stream(tokio_stream::StreamExt::chain(head, rest)),
            )
                .into_response()
        }
    })
}

/// The first answer of a speech request: all of it, or the first part of a stream.
enum First {
    Whole(Bytes),
    Streaming(Bytes),
}

/// Speaks chunk by chunk: the first result goes to `first` (with its status, so errors before any
/// audio are proper error answers), later chunks to `rest`. Stops when the client goes away.
#[allow(clippy::too_many_arguments)]
fn speak_streaming(
    state: &AppState,
    turn: Turn,
    text: String,
    voice: ResolvedVoice,
    options: SpeakOptions,
    format: AudioFormat,
    first: oneshot::Sender<Result<First, ApiError>>,
    rest: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let _turn = turn;
    let tts = &state.engine.tts();
    let mut chunks = match tts.chunks(&text, &voice.pack) {
        Ok(chunks) => chunks.enumerate().peekable(),
        Err(e) => {
            let _ = first.send(Err(e.into()));
            return;
        }
    };
    let header = |len: u32| -> Vec<u8> {
        match format {
            AudioFormat::Pcm => Vec::new(),
            _ => pcm16_header(len, SAMPLE_RATE).to_vec(),
        }
    };
    let Some((_, chunk)) = chunks.next() else {
        let _ = first.send(Err(TtsError::NothingToSay.into()));
        return;
    };
    let audio = match tts.speak_chunk(&chunk, &voice.pack, options, 0) {
        Ok(a) => a,
        Err(e) => {
            let _ = first.send(Err(e.into()));
            return;
        }
    };
    // Two chunks (a couple of sentences) are said whole, with the WAV's true sizes, so that a
    // client that reads the whole answer (OpenAI's `create().write_to_file()`) gets a file every
    // tool reads; from three on, the answer streams. Knowing which costs only phonemizing.
    let second = chunks.next();
    let mut audio = audio;
    if second.is_none() || chunks.peek().is_none() {
        if let Some((i, chunk)) = &second {
            match tts.speak_chunk(chunk, &voice.pack, options, *i as u64) {
                Ok(more) => audio.extend(more),
                Err(e) => {
                    let _ = first.send(Err(e.into()));
                    return;
                }
            }
        }
        let body = match format {
            AudioFormat::Pcm => pcm16_bytes(&audio),
            _ => wav_bytes(&audio, SAMPLE_RATE),
        };
        let _ = first.send(Ok(First::Whole(body.into())));
        return;
    }
    let mut head = header(UNKNOWN_LEN);
    head.extend(pcm16_bytes(&audio));
    if first.send(Ok(First::Streaming(head.into()))).is_err() {
        return;
    }
    // Sending waits while the client is slow to read, but not for ever: a client that stops
    // reading must not hold a turn.
    let runtime = tokio::runtime::Handle::current();
    let send = |item: Result<Bytes, std::io::Error>| -> bool {
        matches!(
            runtime.block_on(tokio::time::timeout(STALLED_CLIENT, rest.send(item))),
            Ok(Ok(()))
        )
    };
    for (i, chunk) in second.into_iter().chain(chunks) {
        if rest.is_closed() {
            return; // the client left
        }
        if state.stopping() {
            // Cut the stream so the client sees it was not finished.
            send(Err(std::io::Error::other("the server is stopping")));
            return;
        }
        match tts.speak_chunk(&chunk, &voice.pack, options, i as u64) {
            Ok(audio) => {
                if !send(Ok(pcm16_bytes(&audio).into())) {
                    tracing::info!("speech stream abandoned: the client stopped reading");
                    return;
                }
            }
            Err(e) => {
                tracing::warn!("speech stream cut short: {e}");
                send(Err(std::io::Error::other(e.to_string())));
                return;
            }
        }
    }
}

/// How long a streamed answer waits for a client that is not reading before giving up on it.
const STALLED_CLIENT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Deserialize)]
pub struct SynthesizeRequest {
    text: String,
    voice: String,
    speed: Option<f32>,
    seed: Option<u64>,
}

/// The mel spectrogram the toolbox draws: 80 bands up to 12 kHz, 256-sample hop (about 94
/// frames a second at 24 kHz).
const DISPLAY_MEL: MelParams = MelParams {
    sample_rate: SAMPLE_RATE,
    n_fft: 1024,
    hop_length: 256,
    n_mels: 80,
    fmin: 0.0,
    fmax: 12_000.0,
};
/// The display's dynamic range below the clip's loudest band.
const DISPLAY_RANGE_DB: f32 = 80.0;

/// `POST /v1/synthesize`: the whole clip as base64 WAV in JSON, with its mel spectrogram (for
/// drawing), its d-vector, and its similarity to the voice's reference recording.
pub async fn synthesize(
    State(state): State<Arc<AppState>>,
    request: Result<Json<SynthesizeRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(request) = request?;
    check_text(&state, &request.text)?;
    let speed = request.speed.unwrap_or(1.0);
    check_speed(speed).map_err(ApiError::from)?;
    let voice = resolve(&state, &request.voice)?;
    check_speakable(&state, &request.text, &voice)?;
    let turn = state.gate.enter().await?;
    let worker = state.clone();
    run_blocking(turn, move |deadline| {
        let engine = &worker.engine;
        let options = SpeakOptions {
            speed,
            seed: request.seed.unwrap_or(0),
            pitch: voice.pitch,
        };
        let audio = engine
            .tts()
            .speak_while(&request.text, &voice.pack, options, || {
                Instant::now() < deadline
            })?
            .ok_or_else(|| ApiError::timeout("the request took longer than its time limit"))?;
        let mel = display_mel(&audio);
        let wav = wav_bytes(&audio, SAMPLE_RATE);
        let seconds = audio.len() as f64 / SAMPLE_RATE as f64;
        let d_vector = embed_synthesized(engine.encoder(), audio)?;
        let similarity = voice.d_vector.as_ref().map(|r| r.cosine(&d_vector));
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(Json(json!({
            "audio": b64.encode(wav),
            "sample_rate": SAMPLE_RATE,
            "seconds": seconds,
            "mel": { "bins": DISPLAY_MEL.n_mels, "frames": mel.len() / DISPLAY_MEL.n_mels, "data": b64.encode(&mel) },
            "d_vector": d_vector.as_slice(),
            "similarity": similarity,
        })))
    })
    .await
}

/// Log-mel as bytes for drawing: 255 at the loudest band, 0 at [`DISPLAY_RANGE_DB`] below.
fn display_mel(audio: &[f32]) -> Vec<u8> {
    let power = MelSpectrogram::new(DISPLAY_MEL).compute(audio);
    let db: Vec<f32> = power.iter().map(|p| 10.0 * p.max(1e-10).log10()).collect();
    let top = db.iter().copied().fold(f32::MIN, f32::max);
    db.iter()
        .map(|d| ((d - top + DISPLAY_RANGE_DB) / DISPLAY_RANGE_DB * 255.0).clamp(0.0, 255.0) as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_display_mel_puts_a_tone_in_its_band() {
        // 3 kHz: band index where the mel scale puts it, well above the bottom rows.
        let tone: Vec<f32> = (0..SAMPLE_RATE as usize / 2)
            .map(|i| {
                (2.0 * std::f32::consts::PI * 3000.0 * i as f32 / SAMPLE_RATE as f32).sin() * 0.5
            })
            .collect();
        let mel = display_mel(&tone);
        let frame = &mel[20 * 80..21 * 80];
        let loudest = (0..80).max_by_key(|&b| frame[b]).unwrap();
        assert!(frame[loudest] >= 250, "{}", frame[loudest]);
        let hz = |b: usize| {
            let m = voxclone_audio::spectral::hz_to_mel(12_000.0) * (b as f64 + 1.0) / 81.0;
            voxclone_audio::spectral::mel_to_hz(m)
        };
        assert!(
            (hz(loudest) - 3000.0).abs() < 300.0,
            "band {loudest} ≈ {} Hz",
            hz(loudest)
        );
        assert!(frame[2] < 60, "the low bands stay dark: {}", frame[2]);
    }
}
