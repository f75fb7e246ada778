//! Stage 1 as the library runs it: reference audio → speech prepared for the encoder → d-vector
//! ([`Voxclone`]), one file or many.

use std::path::Path;

use candle_core::Device;
use rayon::prelude::*;
use voxclone_encoder::{EncoderError, EncoderParams, UtteranceEmbedding, VoiceEncoder};
use voxclone_weights::{ModelError, ModelStore, Progress};

/// What can go wrong loading or running the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Encoder(#[from] EncoderError),
    // Not `source`: the message already includes the cause, so it must not be chained again.
    #[error("{path}: {error}")]
    File {
        path: std::path::PathBuf,
        error: EncoderError,
    },
}

/// Stage 1 loaded: the speaker encoder, with the audio front-end that feeds it. `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Voxclone {
    encoder: VoiceEncoder,
}

impl Voxclone {
    /// Loads the pretrained speaker encoder, fetching its weights into `store` on first use.
    pub fn load(
        store: &ModelStore,
        device: &Device,
        progress: &dyn Progress,
    ) -> Result<Self, PipelineError> {
        let weights = store.ge2e_encoder(progress)?;
        Ok(Self {
            encoder: VoiceEncoder::load(&weights, device)?,
        })
    }

    /// Like [`load`](Self::load), with the speaker encoder's weights from `encoder_weights` (e.g. a
    /// checkpoint of `voxclone train encoder`) instead of the pretrained ones.
    pub fn load_with_encoder(
        encoder_weights: &Path,
        device: &Device,
    ) -> Result<Self, PipelineError> {
        Ok(Self {
            encoder: VoiceEncoder::load(encoder_weights, device)?,
        })
    }

    /// Stage 1: the speaker encoder.
    pub fn encoder(&self) -> &VoiceEncoder {
        &self.encoder
    }

    /// Reference audio → speech prepared for the encoder (16 kHz, normalised, silences trimmed).
    pub fn prepare_reference(&self, path: &Path) -> Result<Vec<f32>, PipelineError> {
        prepare_speech(path, self.encoder.params())
    }

    /// Reference audio → its d-vector (stage 1).
    pub fn embed_file(&self, path: &Path) -> Result<UtteranceEmbedding, PipelineError> {
        let wav = self.prepare_reference(path)?;
        Ok(self.encoder.embed_utterance(&wav)?)
    }

    /// Embeds many files, a few at a time so memory stays bounded, batching their partials
    /// through the network together. `progress` follows along.
    pub fn embed_files<P: AsRef<Path> + Sync>(
        &self,
        paths: &[P],
        progress: &mut dyn FnMut(EmbedProgress),
    ) -> Result<Vec<EmbeddedFile>, PipelineError> {
        const FILES_PER_BATCH: usize = 32;
        let mut out = Vec::with_capacity(paths.len());
        for chunk in paths.chunks(FILES_PER_BATCH) {
            // Decoding and trimming are independent per file: spread them over the threads.
            let wavs = chunk
                .par_iter()
                .map(|p| self.prepare_reference(p.as_ref()))
                .collect::<Result<Vec<_>, _>>()?;
            let files_done = out.len();
            let embedded = self.encoder.embed_utterances(&wavs, &mut |done, total| {
                progress(EmbedProgress {
                    files_done,
                    files_total: paths.len(),
                    partials_done: done,
                    partials_total: total,
                })
            })?;
            for (wav, utterance) in wavs.iter().zip(embedded) {
                out.push(EmbeddedFile {
                    speech_seconds: wav.len() as f64 / self.encoder.params().sample_rate as f64,
                    utterance,
                });
            }
        }
        Ok(out)
    }
}

/// How far [`Voxclone::embed_files`] has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbedProgress {
    /// Files fully embedded, and how many there are.
    pub files_done: usize,
    pub files_total: usize,
    /// Partials through the network in the group of files being embedded now, of how many.
    pub partials_done: usize,
    pub partials_total: usize,
}

/// Decodes a file and prepares its speech for the encoder (16 kHz, normalised, silences trimmed);
/// needs no model, so preprocessing and training use it too.
pub fn prepare_speech(path: &Path, params: &EncoderParams) -> Result<Vec<f32>, PipelineError> {
    // Decoding errors name the file already; what comes after needs it added.
    let audio = voxclone_audio::load(path).map_err(EncoderError::from)?;
    voxclone_encoder::preprocess(audio, params).map_err(|error| PipelineError::File {
        path: path.to_path_buf(),
        error,
    })
}

/// A file's utterance embedding and how much speech it was made from.
#[derive(Debug, Clone)]
pub struct EmbeddedFile {
    pub utterance: UtteranceEmbedding,
    /// Seconds of speech left after silences were trimmed.
    pub speech_seconds: f64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_encoder_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<super::Voxclone>();
    }
}
