//! The encoder's front door: preprocessed speech in, d-vectors out.
//!
//! All partials of all utterances given at once run through the network together, in batches of at
//! most `max_batch_partials`: one large matrix product per step instead of many small ones, and
//! memory that stays bounded however long the input.

use std::num::NonZeroUsize;
use std::path::Path;

use candle_core::{Device, Tensor};
use voxclone_audio::{Audio, MelSpectrogram};

use crate::partials::{partials, Partials};
use crate::{Embedding, EncoderError, EncoderParams, Result, SpeakerEncoder};
use voxclone_nn::kernels::lstm::{FusedLstm, LSTM_KERNELS};
use voxclone_nn::Kernel;

/// Threads for the encoder: candle's setting (`RAYON_NUM_THREADS`, else all cores).
fn threads() -> usize {
    candle_core::utils::get_num_threads().max(1)
}

/// An utterance's embedding and the partial embeddings it is the mean of.
#[derive(Debug, Clone, PartialEq)]
pub struct UtteranceEmbedding {
    pub embedding: Embedding,
    /// One unit-norm d-vector per 1.6 s partial, in time order.
    pub partials: Vec<Vec<f32>>,
}

impl UtteranceEmbedding {
    /// The utterance's embedding as the normalised mean of its partials'.
    pub fn from_partials(partials: Vec<Vec<f32>>) -> Result<Self> {
        let embedding =
            Embedding::mean(partials.iter().map(Vec::as_slice)).ok_or(EncoderError::Empty(
                "the partial embeddings have no direction (all-zero or silent input)",
            ))?;
        Ok(Self {
            embedding,
            partials,
        })
    }
}

/// A loaded speaker encoder: network, mel front-end and parameters. `Send + Sync`; load once, share.
#[derive(Debug, Clone)]
pub struct VoiceEncoder {
    model: SpeakerEncoder,
    /// On the CPU, the fused kernel runs the network; the candle model is the reference.
    fused: Option<FusedLstm>,
    mel: MelSpectrogram,
    params: EncoderParams,
}

impl VoiceEncoder {
    pub fn new(model: SpeakerEncoder, params: EncoderParams) -> Result<Self> {
        let fused = match model.device() {
            Device::Cpu => Some(model.to_fused(Kernel::configured(&LSTM_KERNELS))?),
            _ => None,
        };
        Ok(Self {
            model,
            fused,
            mel: MelSpectrogram::new(params.mel),
            params,
        })
    }

    /// Runs the CPU network with `kernel` (for tests and benchmarks; the default is the fastest).
    pub fn with_kernel(mut self, kernel: Kernel) -> Result<Self> {
        self.fused = Some(self.model.to_fused(kernel)?);
        Ok(self)
    }

    /// Runs on the candle model even on the CPU (slower; the reference the fused kernel is tested
    /// against).
    pub fn without_fused_kernel(mut self) -> Self {
        self.fused = None;
        self
    }

    /// Loads safetensors weights with the pretrained model's parameters.
    pub fn load(weights: &Path, device: &Device) -> Result<Self> {
        let params = EncoderParams::default();
        Self::new(SpeakerEncoder::load(weights, &params, device)?, params)
    }

    /// The fused CPU kernel running the network, or `None` when the candle model does.
    pub fn kernel(&self) -> Option<voxclone_nn::Kernel> {
        self.fused.as_ref().map(FusedLstm::kernel)
    }

    pub fn params(&self) -> &EncoderParams {
        &self.params
    }

    /// The same encoder as a differentiable graph from waveform to d-vector.
    pub fn differentiable(&self) -> Result<crate::DifferentiableEncoder> {
        crate::DifferentiableEncoder::new(self.model.clone(), self.params)
    }

    /// Resamples, normalises and trims raw audio as the encoder expects.
    pub fn preprocess(&self, audio: Audio) -> Result<Vec<f32>> {
        crate::preprocess(audio, &self.params)
    }

    /// Embeds one preprocessed utterance (16 kHz).
    pub fn embed_utterance(&self, wav: &[f32]) -> Result<UtteranceEmbedding> {
        let mut out = self.embed_utterances(&[wav], &mut |_, _| {})?;
        Ok(out.pop().expect("one utterance in, one out"))
    }

    /// A speaker's embedding: the normalised mean of their utterances' embeddings.
    pub fn embed_speaker<W: AsRef<[f32]>>(&self, wavs: &[W]) -> Result<Embedding> {
        let utterances = self.embed_utterances(wavs, &mut |_, _| {})?;
        Embedding::mean(utterances.iter().map(|u| u.embedding.as_slice())).ok_or(
            EncoderError::Empty("a speaker needs at least one utterance"),
        )
    }

    /// Embeds many preprocessed utterances, batching partials across them. `progress` is told how
    /// many partials are done out of how many.
    pub fn embed_utterances<W: AsRef<[f32]>>(
        &self,
        wavs: &[W],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<UtteranceEmbedding>> {
        let plans: Vec<Partials> = wavs
            .iter()
            .map(|w| partials(w.as_ref().len(), &self.params))
            .collect();
        let total: usize = plans.iter().map(Partials::len).sum();
        let (frames, n_mels) = (self.params.partial_frames, self.params.mel.n_mels);
        let window = frames * n_mels;
        let batch_max = self.params.max_batch_partials.max(1);

        let mut results: Vec<Vec<Vec<f32>>> =
            plans.iter().map(|p| Vec::with_capacity(p.len())).collect();
        let mut batch: Vec<f32> = Vec::with_capacity(batch_max * window);
        let mut owners: Vec<usize> = Vec::with_capacity(batch_max);
        let mut done = 0;
        for (u, (wav, plan)) in wavs.iter().zip(&plans).enumerate() {
            // The mel of the (zero-padded) utterance, a batch worth of partials at a time so a long
            // recording never holds its whole spectrogram; partials are windows into it.
            for group in plan.starts.chunks(batch_max) {
                let first = group[0];
                let count = group[group.len() - 1] + frames - first;
                let mel = self
                    .mel
                    .frames_parallel(wav.as_ref(), first, count, threads());
                for &start in group {
                    let offset = (start - first) * n_mels;
                    batch.extend_from_slice(&mel[offset..offset + window]);
                    owners.push(u);
                    if owners.len() == batch_max {
                        done += self.run_batch(&mut batch, &mut owners, &mut results)?;
                        progress(done, total);
                    }
                }
            }
        }
        if !owners.is_empty() {
            done += self.run_batch(&mut batch, &mut owners, &mut results)?;
            progress(done, total);
        }
        results
            .into_iter()
            .map(UtteranceEmbedding::from_partials)
            .collect()
    }

    /// Embeds one utterance from its mel spectrogram (`frames × n_mels`, as
    /// `MelSpectrogram::compute` gives for the preprocessed waveform), e.g. features saved by
    /// `voxclone preprocess`. Partials past the end read zero frames; the waveform route pads the
    /// audio instead, which differs only in the one or two frames that straddle the end.
    pub fn embed_mel(&self, mel: &[f32]) -> Result<UtteranceEmbedding> {
        let (frames, n_mels) = (self.params.partial_frames, self.params.mel.n_mels);
        let n_frames = mel.len() / n_mels;
        if n_frames == 0 {
            return Err(EncoderError::Empty("a mel spectrogram without frames"));
        }
        let plan = partials((n_frames - 1) * self.params.mel.hop_length, &self.params);
        let window = frames * n_mels;
        let mut partial_embeddings = Vec::with_capacity(plan.len());
        for group in plan.starts.chunks(self.params.max_batch_partials.max(1)) {
            let mut batch = vec![0f32; group.len() * window];
            for (slot, &start) in batch.chunks_exact_mut(window).zip(group) {
                let available = mel.len().saturating_sub(start * n_mels).min(window);
                slot[..available].copy_from_slice(&mel[start * n_mels..start * n_mels + available]);
            }
            partial_embeddings.extend(self.embed_mels(&batch, group.len())?);
        }
        UtteranceEmbedding::from_partials(partial_embeddings)
    }

    /// Runs the network on a batch of mel windows (`B × partial_frames × n_mels`, row-major).
    pub fn embed_mels(&self, mels: &[f32], batch: usize) -> Result<Vec<Vec<f32>>> {
        let frames = self.params.partial_frames;
        let expected = batch * frames * self.params.mel.n_mels;
        if mels.len() != expected {
            return Err(candle_core::Error::Msg(format!(
                "a batch of {batch} mel windows needs {expected} values, got {}",
                mels.len()
            ))
            .into());
        }
        if let Some(fused) = &self.fused {
            let threads = NonZeroUsize::new(candle_core::utils::get_num_threads())
                .unwrap_or(NonZeroUsize::MIN);
            return Ok(fused.forward(mels, batch, frames, threads));
        }
        let shape = (batch, frames, self.params.mel.n_mels);
        let x = Tensor::from_slice(mels, shape, self.model.device())?;
        Ok(self.model.forward(&x)?.to_vec2::<f32>()?)
    }

    fn run_batch(
        &self,
        batch: &mut Vec<f32>,
        owners: &mut Vec<usize>,
        results: &mut [Vec<Vec<f32>>],
    ) -> Result<usize> {
        let n = owners.len();
        let embeds = self.embed_mels(batch, n)?;
        for (owner, e) in owners.drain(..).zip(embeds) {
            results[owner].push(e);
        }
        batch.clear();
        Ok(n)
    }
}
