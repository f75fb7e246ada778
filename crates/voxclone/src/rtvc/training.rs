//! Training examples as RTVC prepares them, for `train synthesizer` and `train vocoder`:
//! recordings resampled and peak-normalised, their mels in RTVC's format, ground-truth-aligned
//! mels from a synthesizer, and the alignment plot RTVC draws while training.

use std::path::Path;

use candle_core::{Device, Tensor};
use voxclone_synthesizer::tacotron::Tacotron;
use voxclone_vocoder::wavernn::WaveRnnConfig;

use super::{RtvcError, SAMPLE_RATE};

/// A recording as RTVC's vocoder trains on it: resampled to 16 kHz and peak-normalised to 0.9
/// (the synthesizer's preprocessing), its mel in RTVC's format divided by the vocoder's
/// `mel_max_abs_value`, and the waveform pre-emphasised when the config says so.
pub fn vocoder_example(
    path: &Path,
    config: &voxclone_vocoder::wavernn::WaveRnnConfig,
) -> Result<voxclone_vocoder::wavernn::train::Example, String> {
    let audio = voxclone_audio::load(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut wav = voxclone_audio::resample::resample(audio, SAMPLE_RATE)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    rescale_peak(&mut wav).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut mel, frames) = voxclone_audio::rtvc_mel::melspectrogram(&wav);
    mel.iter_mut().for_each(|v| *v /= config.mel_max_abs_value);
    Ok(voxclone_vocoder::wavernn::train::Example {
        mel,
        frames,
        wav: vocoder_target(&wav, config),
    })
}

/// A recording and its transcript as RTVC's synthesizer trains on them: the speech prepared as
/// the encoder hears it (16 kHz, long silences trimmed), scaled to a 0.9 peak, its mel in
/// RTVC's format `[80, frames]`, the cleaned characters, and the utterance's own d-vector.
pub fn synthesizer_example(
    pipeline: &crate::Voxclone,
    path: &Path,
    transcript: &str,
) -> Result<voxclone_synthesizer::tacotron::train::Example, String> {
    prepare_utterance(pipeline, path, transcript).map(|u| u.example)
}

/// What RTVC's synthesizer preprocessing keeps of a transcribed recording: its training
/// example and the prepared waveform the example's mel was computed from, which is what a
/// vocoder trained on GTA mels learns to produce.
#[derive(Debug, Clone)]
pub struct PreparedUtterance {
    pub example: voxclone_synthesizer::tacotron::train::Example,
    /// 16 kHz, trimmed, 0.9 peak.
    pub wav: Vec<f32>,
}

/// [`synthesizer_example`], keeping the prepared waveform.
pub fn prepare_utterance(
    pipeline: &crate::Voxclone,
    path: &Path,
    transcript: &str,
) -> Result<PreparedUtterance, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let chars = voxclone_text::rtvc::text_to_sequence(transcript);
    if chars.len() <= 1 {
        return Err(fail(&"the transcript has nothing to say after cleaning"));
    }
    let mut wav = pipeline.prepare_reference(path).map_err(|e| fail(&e))?;
    let d_vector = pipeline
        .encoder()
        .embed_utterance(&wav)
        .map_err(|e| fail(&e))?;
    rescale_peak(&mut wav).map_err(|e| fail(&e))?;
    let (mel, frames) = voxclone_audio::rtvc_mel::melspectrogram(&wav);
    let example = voxclone_synthesizer::tacotron::train::Example {
        chars,
        mel,
        frames,
        embedding: d_vector.embedding.as_slice().to_vec(),
    };
    Ok(PreparedUtterance { example, wav })
}

/// A vocoder example on a ground-truth-aligned (GTA) mel, as RTVC's `synthesizer_preprocess`
/// makes them: the synthesizer's teacher-forced output for the utterance (each decoder step
/// reads the true previous frame, so the mel lines up with the recording sample for sample),
/// after the post-net, cut to the recording's frames. Trained on these, WaveRNN learns to
/// undo the synthesizer's smoothing. Pre-net dropout stays on, as RTVC leaves it at inference;
/// `seed` draws it. `device` is the one `tacotron` is on.
pub fn gta_example(
    tacotron: &Tacotron,
    utterance: &PreparedUtterance,
    config: &WaveRnnConfig,
    seed: u64,
    device: &Device,
) -> Result<voxclone_vocoder::wavernn::train::Example, RtvcError> {
    use voxclone_synthesizer::tacotron::train::Batch;
    use voxclone_synthesizer::tacotron::{Dropout, SplitMix64};
    let example = &utterance.example;
    let n_mels = tacotron.config().n_mels;
    let batch = Batch::new(&[example], n_mels, tacotron.r(), device)?;
    let out = batch.teacher_forced(tacotron, &mut Dropout::On(SplitMix64::new(seed)))?;
    let mel = out.mel.squeeze(0)?.narrow(1, 0, example.frames)?;
    let mel = (mel / config.mel_max_abs_value as f64)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    Ok(voxclone_vocoder::wavernn::train::Example {
        mel,
        frames: example.frames,
        wav: vocoder_target(&utterance.wav, config),
    })
}

/// The waveform WaveRNN is trained to produce: pre-emphasised when its config says so.
fn vocoder_target(wav: &[f32], config: &WaveRnnConfig) -> Vec<f32> {
    if config.preemphasis > 0.0 {
        voxclone_vocoder::wavernn::train::pre_emphasis(wav, config.preemphasis as f32)
    } else {
        wav.to_vec()
    }
}

/// RTVC's synthesizer preprocessing scales each utterance to this peak (`rescaling_max`).
pub const RESCALING_MAX: f32 = 0.9;

/// Scales `wav` to a peak of [`RESCALING_MAX`], as RTVC's preprocessing does; silence is an
/// error.
fn rescale_peak(wav: &mut [f32]) -> Result<(), &'static str> {
    let peak = wav.iter().fold(0f32, |m, &v| m.max(v.abs()));
    if peak <= 0.0 {
        return Err("silent");
    }
    wav.iter_mut().for_each(|v| *v *= RESCALING_MAX / peak);
    Ok(())
}

/// The alignment of one chunk as a PNG heat map: decoder steps across, characters up (as RTVC's
/// `plot_alignment` draws it), brighter is more attention.
pub fn alignment_png(alignment: &Tensor) -> Result<Vec<u8>, RtvcError> {
    let (steps, chars) = alignment.dims2()?;
    let values = alignment.flatten_all()?.to_vec1::<f32>()?;
    const SCALE: usize = 4;
    let (width, height) = (steps * SCALE, chars * SCALE);
    let mut rgb = vec![0u8; width * height * 3];
    for y in 0..height {
        let c = chars - 1 - y / SCALE;
        for x in 0..width {
            let v = values[(x / SCALE) * chars + c].clamp(0.0, 1.0);
            let [r, g, b] = crate::plot::heat(v);
            let at = (y * width + x) * 3;
            rgb[at..at + 3].copy_from_slice(&[r, g, b]);
        }
    }
    Ok(crate::plot::encode_png_rgb(
        &rgb,
        width as u32,
        height as u32,
    ))
}
