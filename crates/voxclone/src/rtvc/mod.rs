//! SV2TTS as Real-Time-Voice-Cloning builds it, with RTVC's own stages 2 and 3 loaded from its
//! checkpoints: reference audio → d-vector (stage 1, [`crate::Voxclone`]) → text → Tacotron mel
//! → WaveRNN or Griffin-Lim waveform.
//!
//! `synthesizer.pt` and `vocoder.pt` are read as RTVC writes them (a `model_state` dict inside a
//! PyTorch zip or legacy pickle), or from safetensors files with the same tensor names.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use voxclone_synthesizer::tacotron::{
    trim_silent_tail, GenerateOptions, Spectrogram, Tacotron, TacotronConfig,
};
use voxclone_vocoder::griffin_lim::GriffinLim;
use voxclone_vocoder::wavernn::{VocodeOptions, WaveRnn, WaveRnnConfig};

pub mod training;

pub use training::{
    alignment_png, gta_example, prepare_utterance, synthesizer_example, vocoder_example,
    PreparedUtterance,
};

/// RTVC's audio rate, for both stages.
pub const SAMPLE_RATE: u32 = 16_000;
/// Texts are synthesised sentence by sentence, and a sentence longer than this many characters
/// is cut at clause marks or spaces: RTVC's synthesizer was trained on utterances of at most 900
/// frames (11 s), about 170 characters of read speech.
pub const MAX_CHUNK_CHARS: usize = 170;

#[derive(Debug, thiserror::Error)]
pub enum RtvcError {
    #[error(transparent)]
    Weights(#[from] voxclone_weights::ModelError),
    #[error("{path}: not an RTVC {what} checkpoint: {reason}")]
    Checkpoint {
        path: std::path::PathBuf,
        what: &'static str,
        reason: String,
    },
    #[error("{0}")]
    Run(#[from] candle_core::Error),
    #[error("the text has nothing to say after cleaning")]
    EmptyText,
    #[error("interrupted")]
    Interrupted,
}

fn checkpoint<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl Fn(candle_core::Error) -> RtvcError + 'a {
    move |e| RtvcError::Checkpoint {
        path: path.to_owned(),
        what,
        reason: e.to_string().lines().next().unwrap_or_default().to_owned(),
    }
}

/// Loads RTVC's Tacotron from `synthesizer.pt` (or safetensors). A missing or mis-shaped
/// tensor is named in the error.
pub fn load_tacotron(path: &Path, device: &Device) -> Result<Tacotron, RtvcError> {
    let tensors = voxclone_weights::read_weights(path)?;
    let bad = checkpoint(path, "synthesizer");
    let r = Tacotron::stored_r(&tensors).map_err(&bad)?;
    let config = TacotronConfig::from_tensors(&tensors).map_err(&bad)?;
    Tacotron::load(config, r, var_builder(tensors, device)).map_err(bad)
}

/// Loads RTVC's WaveRNN from `vocoder.pt` (or safetensors).
pub fn load_wavernn(path: &Path, device: &Device) -> Result<WaveRnn, RtvcError> {
    let tensors = voxclone_weights::read_weights(path)?;
    WaveRnn::load(WaveRnnConfig::default(), var_builder(tensors, device))
        .map_err(checkpoint(path, "vocoder"))
}

fn var_builder(tensors: HashMap<String, Tensor>, device: &Device) -> VarBuilder<'static> {
    VarBuilder::from_tensors(tensors, DType::F32, device)
}

/// Stage 3 for RTVC's mels.
#[derive(Debug, Clone)]
pub enum RtvcVocoder {
    WaveRnn(Box<WaveRnn>, VocodeOptions),
    /// RTVC's inverse mel + Griffin-Lim: always available, no weights.
    GriffinLim(GriffinLim),
}

impl RtvcVocoder {
    /// The waveform for a mel `[80, T]` in `[-4, 4]`.
    pub fn vocode(
        &self,
        mel: &Tensor,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Vec<f32>, RtvcError> {
        match self {
            RtvcVocoder::WaveRnn(model, options) => Ok(model.vocode(mel, options, progress)?),
            RtvcVocoder::GriffinLim(gl) => {
                let frames = mel.dim(1)?;
                let values = mel.flatten_all()?.to_vec1::<f32>()?;
                Ok(gl.mel_to_waveform(&values, frames))
            }
        }
    }
}

/// One sentence's synthesis.
#[derive(Debug, Clone)]
pub struct RtvcChunk {
    pub text: String,
    pub spectrogram: Spectrogram,
}

/// Speech from RTVC's stages.
#[derive(Debug, Clone)]
pub struct RtvcSpeech {
    pub samples: Vec<f32>,
    pub chunks: Vec<RtvcChunk>,
}

impl RtvcSpeech {
    /// Chunks whose attention never reached the stop token (they end at the step limit).
    pub fn unfinished(&self) -> impl Iterator<Item = &RtvcChunk> {
        self.chunks.iter().filter(|c| !c.spectrogram.stopped)
    }
}

/// What the synthesizer reads: the text cut into sentences (and long sentences at clause marks
/// or spaces) of at most [`MAX_CHUNK_CHARS`].
pub fn split_text(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    for sentence in voxclone_text::sentences::sentences(text) {
        let mut rest = sentence.trim();
        while rest.chars().count() > MAX_CHUNK_CHARS {
            let limit = rest
                .char_indices()
                .nth(MAX_CHUNK_CHARS)
                .map_or(rest.len(), |(i, _)| i);
            let head = &rest[..limit];
            let cut = head
                .rfind([',', ';', ':'])
                .map(|i| i + 1)
                .or_else(|| head.rfind(' '))
                .filter(|&i| i > 0)
                .unwrap_or(limit);
            chunks.push(rest[..cut].trim().to_owned());
            rest = rest[cut..].trim_start();
        }
        if !rest.is_empty() {
            chunks.push(rest.to_owned());
        }
    }
    chunks
}

/// Text + d-vector → speech, sentence by sentence, each sentence's mel trimmed of its silent
/// tail as RTVC does, the sentences joined with a short pause. `progress` gets
/// `(stage, done, total)` and may return `false` to stop.
pub fn synthesize(
    tacotron: &Tacotron,
    vocoder: &RtvcVocoder,
    text: &str,
    d_vector: &[f32],
    options: &GenerateOptions,
    progress: &mut dyn FnMut(&str, usize, usize) -> bool,
) -> Result<RtvcSpeech, RtvcError> {
    let sentences: Vec<(String, Vec<u32>)> = split_text(text)
        .into_iter()
        .map(|s| {
            let ids = voxclone_text::rtvc::text_to_sequence(&s);
            (s, ids)
        })
        // EOS alone: nothing to say.
        .filter(|(_, ids)| ids.len() > 1)
        .collect();
    if sentences.is_empty() {
        return Err(RtvcError::EmptyText);
    }
    let pause = vec![0f32; SAMPLE_RATE as usize / 5];
    let mut speech = RtvcSpeech {
        samples: Vec::new(),
        chunks: Vec::new(),
    };
    let total = sentences.len();
    for (i, (text, ids)) in sentences.into_iter().enumerate() {
        let mut keep_going = true;
        let spectrogram = tacotron.generate(&ids, d_vector, options, &mut |frames| {
            keep_going = progress("synthesizer", frames, options.max_frames);
            keep_going
        })?;
        if !keep_going {
            return Err(RtvcError::Interrupted);
        }
        let mel = trim_silent_tail(&spectrogram.mel, tacotron.config().stop_threshold)?;
        let mut stopped = false;
        let wav = vocoder.vocode(&mel, &mut |done, all| {
            let go = progress("vocoder", done, all);
            stopped |= !go;
            go
        })?;
        if stopped {
            return Err(RtvcError::Interrupted);
        }
        if i > 0 {
            speech.samples.extend_from_slice(&pause);
        }
        speech.samples.extend_from_slice(&wav);
        speech.chunks.push(RtvcChunk { text, spectrogram });
        if !progress("sentences", i + 1, total) {
            return Err(RtvcError::Interrupted);
        }
    }
    Ok(speech)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_split_by_sentence_and_long_sentences_at_clauses() {
        assert_eq!(
            split_text("Hello there. How are you?"),
            ["Hello there.", "How are you?"]
        );
        let clause = "a fairly long clause that goes on for a while";
        let long = format!("{clause}, {clause}, {clause}, {clause}, {clause}.");
        let chunks = split_text(&long);
        assert!(chunks.len() >= 2, "{chunks:?}");
        for chunk in &chunks {
            assert!(chunk.chars().count() <= MAX_CHUNK_CHARS, "{chunk:?}");
        }
        // Cut after a comma, and nothing is lost.
        assert!(chunks[0].ends_with(','), "{chunks:?}");
        let rejoined = chunks.join(" ");
        assert_eq!(rejoined, long);
        // No clause marks: cut at a space.
        let words = "word ".repeat(100);
        let chunks = split_text(&words);
        assert!(chunks
            .iter()
            .all(|c| c.chars().count() <= MAX_CHUNK_CHARS && !c.starts_with(' ')));
        assert_eq!(chunks.join(" "), words.trim());
    }
}
