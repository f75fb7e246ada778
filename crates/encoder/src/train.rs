//! Training the speaker encoder with the GE2E loss, as RTVC does: batches of N speakers × M random
//! 1.6 s partials, Adam, the GE2E scale and bias learning 100× slower, gradients clipped to norm 3.
//!
//! A [`Trainer`] owns the trainable weights (named exactly as the pretrained checkpoint, so a
//! checkpoint loads anywhere the pretrained encoder does), its optimiser state and its step count;
//! [`Trainer::save`] and [`Trainer::resume`] make training resumable after an interrupt.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use voxclone_nn::rng::SplitMix64;
use voxclone_train::Adam;

use crate::ge2e::{Ge2eLoss, GE2E_PARAMETERS};
use crate::{EncoderError, EncoderParams, Result, SpeakerEncoder, VoiceEncoder};

/// Optimisation settings; defaults are RTVC's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    pub speakers_per_batch: usize,
    pub utterances_per_speaker: usize,
    pub learning_rate: f64,
    /// Gradients of the GE2E scale and bias are multiplied by this (RTVC: 0.01).
    pub ge2e_gradient_scale: f64,
    /// Global gradient-norm clip (RTVC: 3).
    pub max_grad_norm: f64,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            speakers_per_batch: 64,
            utterances_per_speaker: 10,
            learning_rate: 1e-4,
            ge2e_gradient_scale: 0.01,
            max_grad_norm: 3.0,
            seed: 0,
        }
    }
}

/// Mel spectrograms of preprocessed utterances, grouped by speaker.
#[derive(Debug, Clone, Default)]
pub struct SpeakerDataset {
    /// `(speaker, utterance mels)`; each mel is `frames × n_mels`, row-major.
    pub speakers: Vec<(String, Vec<Vec<f32>>)>,
    pub n_mels: usize,
}

impl SpeakerDataset {
    /// Computes the mel of every preprocessed utterance.
    pub fn from_wavs(speakers: Vec<(String, Vec<Vec<f32>>)>, params: &EncoderParams) -> Self {
        let mel = voxclone_audio::MelSpectrogram::new(params.mel);
        Self {
            speakers: speakers
                .into_iter()
                .map(|(name, wavs)| (name, wavs.iter().map(|w| mel.compute(w)).collect()))
                .collect(),
            n_mels: params.mel.n_mels,
        }
    }

    /// A batch of `n` distinct speakers × `m` random partials (`n·m × frames × n_mels`, speaker
    /// major): each partial a random window of a random utterance, zero-padded when shorter.
    pub fn sample(&self, n: usize, m: usize, frames: usize, rng: &mut SplitMix64) -> Vec<f32> {
        let chosen = rng.choose_distinct(self.speakers.len(), n);
        let window = frames * self.n_mels;
        let mut out = vec![0f32; n * m * window];
        for (s, speaker) in chosen.into_iter().enumerate() {
            let utterances = &self.speakers[speaker].1;
            for u in 0..m {
                let mel = &utterances[rng.below(utterances.len())];
                let available = mel.len() / self.n_mels;
                let start = if available > frames {
                    rng.below(available - frames + 1)
                } else {
                    0
                };
                let take = (available - start).min(frames) * self.n_mels;
                let dst = &mut out[(s * m + u) * window..][..take];
                dst.copy_from_slice(&mel[start * self.n_mels..][..take]);
            }
        }
        out
    }
}

/// The equal error rate of `encoder` over every pair of the speakers' utterances (mel spectrograms,
/// as in a [`SpeakerDataset`]), as training reports it on held-out speakers. `None` without two
/// speakers and a repeated speaker.
pub fn speaker_eer(
    encoder: &VoiceEncoder,
    speakers: &[(String, Vec<Vec<f32>>)],
) -> Result<Option<crate::verification::EqualErrorRate>> {
    let (embeddings, labels) = embed_speakers(encoder, speakers)?;
    let refs: Vec<_> = embeddings.iter().collect();
    let trials = crate::verification::pairwise_trials(&refs, &labels);
    Ok(crate::verification::equal_error_rate(&trials))
}

/// Every utterance's embedding (from its mel spectrogram), with the index of its speaker.
pub fn embed_speakers(
    encoder: &VoiceEncoder,
    speakers: &[(String, Vec<Vec<f32>>)],
) -> Result<(Vec<crate::Embedding>, Vec<usize>)> {
    let mut embeddings = Vec::new();
    let mut labels = Vec::new();
    for (s, (_, mels)) in speakers.iter().enumerate() {
        for mel in mels {
            embeddings.push(encoder.embed_mel(mel)?.embedding);
            labels.push(s);
        }
    }
    Ok((embeddings, labels))
}

/// Where a [`Trainer`] keeps its checkpoint inside a directory.
pub fn checkpoint_paths(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (
        dir.join("encoder.safetensors"),
        dir.join("optimizer.safetensors"),
        dir.join("state.json"),
    )
}

/// GE2E training of a [`SpeakerEncoder`].
pub struct Trainer {
    params: EncoderParams,
    config: TrainConfig,
    varmap: VarMap,
    model: SpeakerEncoder,
    loss: Ge2eLoss,
    adam: Adam,
    /// Optimiser steps taken so far.
    pub step: usize,
    rng: SplitMix64,
}

impl Trainer {
    /// A new trainer from random weights, or from `weights` (e.g. the pretrained encoder) to fine-tune.
    pub fn new(params: EncoderParams, config: TrainConfig, weights: Option<&Path>) -> Result<Self> {
        let device = Device::Cpu;
        let mut varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
        let model = SpeakerEncoder::new(&params, vb.clone())?;
        let loss = Ge2eLoss::new(&vb)?;
        match weights {
            Some(path) => load_into(&mut varmap, path)?,
            None => seeded_init(&varmap, &params, config.seed)?,
        }
        let adam = Adam::new(named_vars(&varmap), config.learning_rate)?;
        Ok(Self {
            params,
            config,
            varmap,
            model,
            loss,
            adam,
            step: 0,
            rng: SplitMix64::new(config.seed),
        })
    }

    /// Continues from a checkpoint directory written by [`save`](Self::save).
    pub fn resume(params: EncoderParams, config: TrainConfig, dir: &Path) -> Result<Self> {
        let (weights, optimizer, state) = checkpoint_paths(dir);
        let mut trainer = Self::new(params, config, Some(&weights))?;
        let text = std::fs::read_to_string(&state)
            .map_err(|e| EncoderError::Checkpoint(format!("{}: {e}", state.display())))?;
        let field = |key: &str| -> Option<u64> {
            let rest = text.split(&format!("\"{key}\":")).nth(1)?;
            rest.trim_start()
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        };
        trainer.step = field("step")
            .ok_or_else(|| EncoderError::Checkpoint(format!("{}: no step", state.display())))?
            as usize;
        trainer.rng = SplitMix64::new(field("rng").unwrap_or(config.seed));
        let mut moments = candle_core::safetensors::load(&optimizer, &Device::Cpu)
            .map_err(|e| EncoderError::Checkpoint(format!("{}: {e}", optimizer.display())))?;
        // Checkpoints from before the shared optimiser count Adam's steps in state.json only.
        if !moments.contains_key("t") {
            moments.insert(
                "t".into(),
                Tensor::new(&[trainer.step as i64], &Device::Cpu)?,
            );
        }
        trainer
            .adam
            .restore(&moments)
            .map_err(|e| EncoderError::Checkpoint(format!("{}: {e}", optimizer.display())))?;
        Ok(trainer)
    }

    /// The trainable variables by name, in name order.
    fn named_vars(&self) -> Vec<(String, Var)> {
        named_vars(&self.varmap)
    }

    /// Writes weights, optimiser moments and step into `dir`, each through a temporary file, so an
    /// interrupt leaves the previous checkpoint intact.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)
            .map_err(|e| EncoderError::Checkpoint(format!("{}: {e}", dir.display())))?;
        let (weights, optimizer, state) = checkpoint_paths(dir);
        let io =
            |path: &Path, e: String| EncoderError::Checkpoint(format!("{}: {e}", path.display()));
        let tensors: HashMap<String, Tensor> = self
            .named_vars()
            .into_iter()
            .map(|(k, v)| (k, v.as_tensor().clone()))
            .collect();
        let moments = self.adam.state()?;
        let write = |path: &Path, f: &dyn Fn(&Path) -> Result<()>| -> Result<()> {
            let tmp = voxclone_audio::wav::temp_path(path);
            f(&tmp)?;
            std::fs::rename(&tmp, path).map_err(|e| io(path, e.to_string()))
        };
        write(&weights, &|p| {
            Ok(candle_core::safetensors::save(&tensors, p)?)
        })?;
        write(&optimizer, &|p| {
            Ok(candle_core::safetensors::save(&moments, p)?)
        })?;
        // The rng's state, so a resumed run draws the batches an uninterrupted one would have.
        let json = format!(
            "{{\"step\": {}, \"rng\": {}}}\n",
            self.step,
            self.rng.state()
        );
        write(&state, &|p| {
            std::fs::write(p, &json).map_err(|e| io(p, e.to_string()))
        })
    }

    /// One optimiser step on a sampled batch; returns the loss before the step.
    pub fn train_step(&mut self, data: &SpeakerDataset) -> Result<f32> {
        let (n, m) = (
            self.config.speakers_per_batch,
            self.config.utterances_per_speaker,
        );
        let frames = self.params.partial_frames;
        let batch = data.sample(n, m, frames, &mut self.rng);
        let n = batch.len() / (m * frames * data.n_mels);
        let mels = Tensor::from_vec(batch, (n * m, frames, data.n_mels), &Device::Cpu)?;
        let embeds = self
            .model
            .forward(&mels)?
            .reshape((n, m, self.params.embedding_size))?;
        let (loss, _) = self.loss.forward(&embeds)?;
        let mut grads = loss.backward()?;
        // GE2E's scale and bias learn more slowly than the network (RTVC: 0.01×).
        for (name, var) in self.named_vars() {
            if GE2E_PARAMETERS.contains(&name.as_str()) {
                if let Some(g) = grads.remove(var.as_tensor()) {
                    grads.insert(var.as_tensor(), (g * self.config.ge2e_gradient_scale)?);
                }
            }
        }
        self.adam.clip_and_step(&grads, self.config.max_grad_norm)?;
        self.step += 1;
        Ok(loss.to_scalar::<f32>()?)
    }

    /// The encoder with the current weights, ready for inference (fused CPU kernel).
    pub fn encoder(&self) -> Result<VoiceEncoder> {
        let tensors: HashMap<String, Tensor> = self
            .named_vars()
            .into_iter()
            .map(|(k, v)| Ok((k, v.as_tensor().copy()?)))
            .collect::<Result<_>>()?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        VoiceEncoder::new(SpeakerEncoder::new(&self.params, vb)?, self.params)
    }
}

/// The variables of `varmap` by name, in name order (the optimiser's order).
fn named_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let mut vars: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .expect("varmap lock")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// PyTorch's initialisation, drawn from a seeded generator so a training run is reproducible:
/// LSTM weights and biases U(-1/√H, 1/√H), the linear layer U(-1/√in, 1/√in); the GE2E scale and
/// bias keep their constants.
fn seeded_init(varmap: &VarMap, params: &EncoderParams, seed: u64) -> Result<()> {
    let data = varmap.data().lock().expect("varmap lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    let mut rng = SplitMix64::new(seed ^ 0x5EED);
    for name in names {
        if GE2E_PARAMETERS.contains(&name.as_str()) {
            continue;
        }
        let var = &data[name];
        let bound = 1.0 / (params.hidden_size as f64).sqrt();
        let values: Vec<f32> = (0..var.elem_count())
            .map(|_| ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * bound)
            .map(|v| v as f32)
            .collect();
        var.set(&Tensor::from_vec(values, var.shape(), var.device())?)?;
    }
    Ok(())
}

/// Loads the tensors of a safetensors file into the matching variables (shapes must agree).
fn load_into(varmap: &mut VarMap, path: &Path) -> Result<()> {
    let tensors = candle_core::safetensors::load(path, &Device::Cpu)
        .map_err(|e| EncoderError::Weights(format!("{}: {e}", path.display())))?;
    let data = varmap.data().lock().expect("varmap lock");
    for (name, var) in data.iter() {
        let t = tensors.get(name).ok_or_else(|| {
            EncoderError::Weights(format!("{}: no tensor {name}", path.display()))
        })?;
        var.set(&t.reshape(var.shape())?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (EncoderParams, TrainConfig, SpeakerDataset) {
        let params = EncoderParams {
            partial_frames: 12,
            ..Default::default()
        };
        let config = TrainConfig {
            speakers_per_batch: 3,
            utterances_per_speaker: 2,
            learning_rate: 1e-3,
            seed: 3,
            ..Default::default()
        };
        let mut rng = SplitMix64::new(11);
        let speakers = (0..4)
            .map(|s| {
                let mels = (0..3)
                    .map(|_| {
                        (0..30 * 40)
                            .map(|_| (rng.below(1000) as f32) * 1e-3 * (s + 1) as f32)
                            .collect()
                    })
                    .collect();
                (format!("s{s}"), mels)
            })
            .collect();
        (
            params,
            config,
            SpeakerDataset {
                speakers,
                n_mels: 40,
            },
        )
    }

    fn weights(t: &Trainer) -> Vec<f32> {
        let data = t.varmap.data().lock().unwrap();
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        names
            .into_iter()
            .flat_map(|n| {
                data[n]
                    .as_tensor()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn an_interrupted_run_resumes_where_it_stopped() {
        let (params, config, data) = tiny();
        let mut straight = Trainer::new(params, config, None).unwrap();
        for _ in 0..4 {
            straight.train_step(&data).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let mut first = Trainer::new(params, config, None).unwrap();
        for _ in 0..2 {
            first.train_step(&data).unwrap();
        }
        first.save(dir.path()).unwrap();
        drop(first);
        let mut resumed = Trainer::resume(params, config, dir.path()).unwrap();
        assert_eq!(resumed.step, 2);
        for _ in 0..2 {
            resumed.train_step(&data).unwrap();
        }
        let (a, b) = (weights(&straight), weights(&resumed));
        let diff = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-6, "resumed run differs by {diff}");
        // The checkpoint loads as an ordinary encoder.
        let (w, _, _) = checkpoint_paths(dir.path());
        VoiceEncoder::load(&w, &Device::Cpu).unwrap();
    }

    #[test]
    fn sampling_picks_distinct_speakers_and_pads_short_utterances() {
        let (_, _, data) = tiny();
        let mut rng = SplitMix64::new(1);
        let batch = data.sample(3, 2, 40, &mut rng);
        assert_eq!(batch.len(), 3 * 2 * 40 * 40);
        // Utterances have 30 frames: the last 10 frames of every 40-frame window are padding.
        for w in batch.chunks(40 * 40) {
            assert!(w[30 * 40..].iter().all(|&v| v == 0.0));
            assert!(w[..30 * 40].iter().any(|&v| v != 0.0));
        }
        let picks = rng.choose_distinct(10, 10);
        let mut sorted = picks.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }
}
