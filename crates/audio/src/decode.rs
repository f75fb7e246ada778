//! Decoding any common audio file (wav, flac, mp3, ogg/vorbis, m4a/aac) to mono float samples.
//!
//! Matches `librosa.load(path, sr=None)`: float32 samples at the file's own rate, channels averaged,
//! integer PCM scaled by 1/2^(bits-1) (so 16-bit samples are exactly `s / 32768`).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_FLAC, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::{check_finite, AudioError, Result};

/// Mono audio at its own sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Audio {
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Self {
        Self {
            samples,
            sample_rate,
        }
    }

    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }
}

/// Reads a whole file into mono samples. Rejects empty, truncated, corrupt and non-finite audio with
/// an error that names the file.
pub fn load(path: impl AsRef<Path>) -> Result<Audio> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => AudioError::NotFound(path.to_path_buf()),
        _ => AudioError::Io {
            path: path.to_path_buf(),
            error: e,
        },
    })?;
    if meta.is_dir() {
        return Err(AudioError::IsDirectory(path.to_path_buf()));
    }
    let io = |error| AudioError::Io {
        path: path.to_path_buf(),
        error,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    (&mut file)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    if crate::wav::has_streamed_length(&head) {
        // A WAV written while streaming: read it whole and give it its true length.
        let mut bytes = head;
        file.read_to_end(&mut bytes).map_err(io)?;
        return decode_bytes(bytes, path, f64::INFINITY);
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    decode(Box::new(file), path, f64::INFINITY)
}

/// How much of a file is read to find a WAV's `data` chunk (after `fmt `, and perhaps `LIST`).
const HEAD_BYTES: usize = 4096;

/// Decodes audio held in memory (an upload, say). `name` stands for the source in error messages;
/// its extension, if any, is a hint to the format.
pub fn load_bytes(bytes: Vec<u8>, name: &str) -> Result<Audio> {
    load_bytes_at_most(bytes, name, f64::INFINITY)
}

/// [`load_bytes`] that stops with an error past `max_seconds` of audio: a few compressed bytes
/// can expand to hours, and a server must not let them.
pub fn load_bytes_at_most(bytes: Vec<u8>, name: &str, max_seconds: f64) -> Result<Audio> {
    let path = Path::new(name);
    if bytes.is_empty() {
        return Err(AudioError::Empty(path.to_path_buf()));
    }
    decode_bytes(bytes, path, max_seconds)
}

/// [`decode`] for a whole file in memory, a streamed WAV's placeholder length made true first
/// ([`crate::wav::fix_streamed_length`]).
fn decode_bytes(mut bytes: Vec<u8>, path: &Path, max_seconds: f64) -> Result<Audio> {
    crate::wav::fix_streamed_length(&mut bytes);
    decode(Box::new(std::io::Cursor::new(bytes)), path, max_seconds)
}

thread_local! {
    /// Set while this thread decodes, so that the panic hook stays quiet for a panic that
    /// [`decode`] turns into an error.
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Decodes a whole stream into mono samples; `path` names it in errors and hints at the format.
///
/// A malformed file must be an error, never a crash, whatever the decoder library does with it
/// (symphonia panics on some headers, e.g. a WAV with sample rate 0): a panic while decoding
/// becomes [`AudioError::Corrupt`], without the panic message on standard error.
fn decode(
    source: Box<dyn symphonia::core::io::MediaSource>,
    path: &Path,
    max_seconds: f64,
) -> Result<Audio> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(|d| d.get()) {
                previous(info);
            }
        }));
    });
    DECODING.with(|d| d.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_unguarded(source, path, max_seconds)
    }));
    DECODING.with(|d| d.set(false));
    result.unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the decoder failed".into());
        Err(AudioError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("malformed header or stream ({reason})"),
        })
    })
}

fn decode_unguarded(
    source: Box<dyn symphonia::core::io::MediaSource>,
    path: &Path,
    max_seconds: f64,
) -> Result<Audio> {
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let corrupt = |reason: String| AudioError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::IoError(e) => corrupt(e.to_string()),
            _ => AudioError::UnknownFormat(path.to_path_buf()),
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::Empty(path.to_path_buf()))?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let codec_name = codec_name(params.codec);
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|_| AudioError::UnsupportedCodec {
            path: path.to_path_buf(),
            codec: codec_name,
        })?;
    // Lossless formats state their exact length; lossy ones only estimate it (encoder delay, padding).
    let exact_length = params.codec == CODEC_TYPE_FLAC || is_pcm(params.codec);
    let expected_frames = params.n_frames;

    let mut samples: Vec<f32> = Vec::new();
    // Growing by doubling would briefly need twice a long file's memory; the header's length,
    // where there is one, sizes the buffer once (capped, since a corrupt header can claim anything).
    if let (Some(n), Some(rate)) = (params.n_frames, params.sample_rate) {
        const MAX_RESERVE_SECONDS: u64 = 4 * 3600;
        // A header can claim any rate and length: ask, and grow as needed if refused.
        let _ = samples.try_reserve_exact(n.min(MAX_RESERVE_SECONDS * rate as u64) as usize);
    }
    let mut sample_rate = params.sample_rate;
    let mut buffer: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            // Symphonia reports the end of a stream as an unexpected EOF.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(corrupt(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(e) => return Err(corrupt(e.to_string())),
        };
        let spec = *decoded.spec();
        sample_rate = Some(spec.rate);
        let channels = spec.channels.count().max(1);
        let needed = decoded.capacity() as u64;
        let buf = match &mut buffer {
            Some(b) if b.capacity() as u64 >= needed * channels as u64 => b,
            _ => buffer.insert(SampleBuffer::new(needed, spec)),
        };
        buf.copy_interleaved_ref(decoded);
        mix_to_mono(buf.samples(), channels, &mut samples);
        let seconds = samples.len() as f64 / spec.rate.max(1) as f64;
        if seconds > max_seconds {
            return Err(AudioError::TooLong {
                path: path.to_path_buf(),
                limit: max_seconds,
            });
        }
    }
    let sample_rate = sample_rate
        .filter(|&r| r > 0)
        .ok_or_else(|| corrupt("no sample rate".into()))?;
    if samples.is_empty() {
        return Err(AudioError::Empty(path.to_path_buf()));
    }
    if let (true, Some(expected)) = (exact_length, expected_frames) {
        if (samples.len() as u64) < expected {
            return Err(AudioError::Truncated {
                path: path.to_path_buf(),
                expected,
                decoded: samples.len() as u64,
            });
        }
    }
    check_finite(&samples).map_err(|e| corrupt(e.to_string()))?;
    Ok(Audio::new(samples, sample_rate))
}

/// A readable name for a codec, including those symphonia recognises but cannot decode.
fn codec_name(codec: symphonia::core::codecs::CodecType) -> String {
    use symphonia::core::codecs::*;
    if let Some(d) = symphonia::default::get_codecs().get_codec(codec) {
        return d.short_name.to_string();
    }
    let known = [
        (CODEC_TYPE_OPUS, "opus"),
        (CODEC_TYPE_ALAC, "alac"),
        (CODEC_TYPE_SPEEX, "speex"),
        (CODEC_TYPE_WAVPACK, "wavpack"),
        (CODEC_TYPE_MONKEYS_AUDIO, "monkey's audio"),
        (CODEC_TYPE_WMA, "wma"),
        (CODEC_TYPE_MP1, "mp1"),
        (CODEC_TYPE_MP2, "mp2"),
    ];
    known
        .iter()
        .find(|(c, _)| *c == codec)
        .map_or_else(|| format!("{codec}"), |(_, name)| name.to_string())
}

fn is_pcm(codec: symphonia::core::codecs::CodecType) -> bool {
    use symphonia::core::codecs::*;
    [
        CODEC_TYPE_PCM_S16LE,
        CODEC_TYPE_PCM_S24LE,
        CODEC_TYPE_PCM_S32LE,
        CODEC_TYPE_PCM_U8,
        CODEC_TYPE_PCM_F32LE,
        CODEC_TYPE_PCM_F64LE,
        CODEC_TYPE_PCM_S16BE,
        CODEC_TYPE_PCM_S24BE,
        CODEC_TYPE_PCM_S32BE,
        CODEC_TYPE_PCM_F32BE,
        CODEC_TYPE_PCM_F64BE,
    ]
    .contains(&codec)
}

/// Averages interleaved channels, as librosa's `to_mono` does.
fn mix_to_mono(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels == 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_is_the_mean_of_its_channels() {
        let mut out = Vec::new();
        mix_to_mono(&[0.5, -0.5, 1.0, 0.0], 2, &mut out);
        assert_eq!(out, vec![0.0, 0.5]);
    }
}
