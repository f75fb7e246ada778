//! Training RTVC's Tacotron as RTVC's `synthesizer/train.py` does.
//!
//! - Batches of (characters, ground-truth mel, the utterance's own d-vector), texts padded with
//!   0 and mels with −4 (silence) to a common length that is a multiple of `r`.
//! - Teacher forcing: the decoder reads the true previous frame ([`Tacotron::teacher_forced`]),
//!   with the pre-nets' dropout and the decoder's zoneout on.
//! - Loss: MSE + L1 of the decoder's mel, MSE of the post-net's mel, and binary cross-entropy
//!   of the stop token, whose target is 1 from an utterance's last frame on.
//! - Optionally, not in RTVC's recipe: guided attention ([`AttentionGuide`]), which lets a
//!   model align on the little data a CPU can train on.
//! - Adam, gradients clipped to a global norm of 1, and RTVC's schedule of `(r, learning rate,
//!   until step, batch size)` phases.
//!
//! The network is [`Tacotron`] itself built in training mode ([`Mode::Training`]) over a
//! `VarMap` with RTVC's tensor names, so a checkpoint is a safetensors file that
//! `Tacotron::load` reads. Batch norm trains on batch statistics and keeps running ones.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{backprop::GradStore, DType, Device, Result, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use voxclone_nn::rng::{mix, SplitMix64};
use voxclone_train::batch_norm::update_running_stats;
use voxclone_train::checkpoint::load_vars;
use voxclone_train::graph::DeferredGrads;
use voxclone_train::Adam;

use super::layers::{BatchStats, Dropout, Mode};
use super::{Tacotron, TacotronConfig, TeacherForced};

/// RTVC's mels are in `[-4, 4]`; padding frames are silence.
pub const MEL_PAD_VALUE: f32 = -4.0;
/// RTVC clips the global gradient norm to this (`tts_clip_grad_norm`).
pub const CLIP_GRAD_NORM: f64 = 1.0;

/// One training utterance.
#[derive(Debug, Clone)]
pub struct Example {
    /// Character ids, EOS included ([`voxclone_text::rtvc::text_to_sequence`]).
    pub chars: Vec<u32>,
    /// The mel `[n_mels, frames]`, row-major, in `[-4, 4]`.
    pub mel: Vec<f32>,
    pub frames: usize,
    /// The utterance's own d-vector.
    pub embedding: Vec<f32>,
}

/// One phase of the training schedule: until `until_step`, `r` frames per decoder step, this
/// learning rate and batch size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phase {
    pub r: usize,
    pub learning_rate: f64,
    pub until_step: usize,
    pub batch_size: usize,
}

/// RTVC's `tts_schedule`.
pub fn rtvc_schedule() -> Vec<Phase> {
    [
        (1e-3, 20_000),
        (5e-4, 40_000),
        (2e-4, 80_000),
        (1e-4, 160_000),
        (3e-5, 320_000),
        (1e-5, 640_000),
    ]
    .into_iter()
    .map(|(learning_rate, until_step)| Phase {
        r: 2,
        learning_rate,
        until_step,
        batch_size: 12,
    })
    .collect()
}

/// The phase that step `step` (counted from 0) trains in; past the last phase, the last.
pub fn phase_at(schedule: &[Phase], step: usize) -> Phase {
    *schedule
        .iter()
        .find(|p| step < p.until_step)
        .or(schedule.last())
        .expect("a schedule has at least one phase")
}

/// The loss terms of one batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Losses {
    pub total: f32,
    /// MSE + L1 of the decoder's mel.
    pub decoder: f32,
    /// MSE of the post-net's mel.
    pub postnet: f32,
    /// Binary cross-entropy of the stop token.
    pub stop: f32,
    /// The guided-attention penalty, unweighted (0 without a guide).
    pub attention: f32,
}

/// Guided attention (Tachibana et al. 2018, "Efficiently Trainable Text-to-Speech System Based
/// on Deep Convolutional Networks with Guided Attention"): attention at decoder step `s` of `S`
/// on character `n` of `N` costs `1 − exp(−(n/N − s/S)² / 2g²)`, nothing near the diagonal and
/// almost 1 far from it. Text and speech advance together, so this is a prior the model would
/// otherwise have to discover from data; with a few minutes of speech it often never does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionGuide {
    /// The penalty's weight in the loss.
    pub weight: f64,
    /// `g`, the band's width as a fraction of the text and of the utterance (theirs: 0.2).
    pub width: f64,
}

impl AttentionGuide {
    pub const TACHIBANA_WIDTH: f64 = 0.2;
}

/// Tacotron with trainable weights under RTVC's names.
pub struct TrainableTacotron {
    model: Tacotron,
    varmap: VarMap,
    stats: BatchStats,
    weights: DeferredGrads,
    device: Device,
}

impl TrainableTacotron {
    /// Fresh weights as RTVC initialises them (Xavier-uniform for every matrix and kernel,
    /// PyTorch's defaults for the rest), drawn from `seed`.
    pub fn new(config: TacotronConfig, r: usize, seed: u64, device: &Device) -> Result<Self> {
        let varmap = VarMap::new();
        let (stats, weights) = (BatchStats::default(), DeferredGrads::default());
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let mode = Mode::Training {
            stats: stats.clone(),
            weights: weights.clone(),
        };
        let model = Tacotron::load_in(config, Some(r), vb, &mode)?;
        let model = Self {
            model,
            varmap,
            stats,
            weights,
            device: device.clone(),
        };
        model.initialise(seed)?;
        Ok(model)
    }

    /// The same network with a checkpoint's values (e.g. RTVC's `synthesizer.pt`, or one
    /// written by [`TrainableTacotron::save`]); its widths and `decoder.r` are the checkpoint's.
    pub fn from_tensors(tensors: &HashMap<String, Tensor>, device: &Device) -> Result<Self> {
        let config = TacotronConfig::from_tensors(tensors)?;
        let r = Tacotron::stored_r(tensors)?.unwrap_or(config.r);
        let model = Self::new(config, r, 0, device)?;
        load_vars(&model.variables(), tensors)?;
        Ok(model)
    }

    /// The gradients of `loss`, a function of this network's training passes: candle's
    /// backward pass, then the weights whose gradients are formed once per pass
    /// ([`DeferredGrads`]). Use this, not `loss.backward()`, which leaves those out.
    pub fn backward(&self, loss: &Tensor) -> Result<GradStore> {
        // Uses left by a backward pass that was never folded are not this loss's.
        self.weights.clear();
        let mut grads = loss.backward()?;
        self.weights.fold_into(&mut grads)?;
        Ok(grads)
    }

    pub fn model(&self) -> &Tacotron {
        &self.model
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn set_r(&mut self, r: usize) -> Result<()> {
        self.model.set_r(r)
    }

    /// Every tensor by name, running statistics included, sorted.
    fn variables(&self) -> Vec<(String, Var)> {
        let data = self.varmap.data().lock().expect("var map lock");
        let mut all: Vec<(String, Var)> =
            data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The variables the optimiser moves: all but batch norm's running statistics.
    pub fn trainable(&self) -> Vec<(String, Var)> {
        self.variables()
            .into_iter()
            .filter(|(k, _)| !is_running_stat(k))
            .collect()
    }

    fn initialise(&self, seed: u64) -> Result<()> {
        let all = self.variables();
        let shapes: HashMap<&str, Vec<usize>> = all
            .iter()
            .map(|(k, v)| (k.as_str(), v.dims().to_vec()))
            .collect();
        let mut rng = SplitMix64::new(mix(seed ^ 0x7ac0));
        for (name, var) in &all {
            let dims = var.dims();
            let value = if name.ends_with("running_mean") || bnorm(name, "bias") {
                Init::Const(0.0)
            } else if name.ends_with("running_var") || bnorm(name, "weight") {
                Init::Const(1.0)
            } else if dims.len() > 1 {
                // Xavier-uniform, as RTVC's `init_model` does for every parameter of rank > 1.
                let receptive: usize = dims[2..].iter().product();
                let (fan_in, fan_out) = (dims[1] * receptive, dims[0] * receptive);
                Init::Uniform((6.0 / (fan_in + fan_out) as f64).sqrt())
            } else {
                // PyTorch's default bias: ±1/√fan_in for layers, ±1/√hidden for recurrent cells.
                let fan_in = match name.rsplit_once("bias_") {
                    Some((cell, suffix)) => {
                        let gates = suffix.trim_start_matches("ih").trim_start_matches("hh");
                        shapes
                            .get(format!("{cell}weight_hh{gates}").as_str())
                            .map(|d| d[1])
                    }
                    None => name.strip_suffix("bias").and_then(|layer| {
                        shapes
                            .get(format!("{layer}weight").as_str())
                            .map(|d| d[1..].iter().product())
                    }),
                };
                Init::Uniform(1.0 / (fan_in.unwrap_or(dims[0]) as f64).sqrt())
            };
            let n = var.elem_count();
            let values: Vec<f32> = match value {
                Init::Const(c) => vec![c; n],
                Init::Uniform(bound) => (0..n)
                    .map(|_| ((2.0 * rng.next_f64() - 1.0) * bound) as f32)
                    .collect(),
            };
            var.set(&Tensor::from_vec(values, dims, &self.device)?)?;
        }
        Ok(())
    }

    /// The batch statistics recorded by training passes since the last call (and not yet
    /// folded into the running ones).
    pub fn take_batch_stats(&self) -> Vec<super::BatchStat> {
        self.stats.take()
    }

    /// Folds the batch statistics of the last training pass into the running ones.
    fn update_running_stats(&self) -> Result<()> {
        let data = self.varmap.data().lock().expect("var map lock");
        for stat in self.stats.take() {
            let get = |what: &str| {
                data.get(&format!("{}.{what}", stat.prefix))
                    .ok_or_else(|| candle_core::Error::Msg(format!("no {}.{what}", stat.prefix)))
            };
            update_running_stats(
                get("running_mean")?,
                get("running_var")?,
                &stat.mean,
                &stat.var,
                stat.count,
            )?;
        }
        Ok(())
    }

    /// Every tensor with `decoder.r` and `step` added, as RTVC's state dict has them.
    pub fn state(&self, step: usize) -> Result<HashMap<String, Tensor>> {
        let mut tensors: HashMap<String, Tensor> = self
            .variables()
            .into_iter()
            .map(|(k, v)| Ok((k, v.as_tensor().to_device(&Device::Cpu)?)))
            .collect::<Result<_>>()?;
        let r = self.model.r() as i64;
        tensors.insert("decoder.r".into(), Tensor::new(&[r], &Device::Cpu)?);
        tensors.insert("step".into(), Tensor::new(&[step as i64], &Device::Cpu)?);
        Ok(tensors)
    }

    /// Writes [`TrainableTacotron::state`] as safetensors via a temporary file renamed into
    /// place.
    pub fn save(&self, path: &Path, step: usize) -> Result<()> {
        let tmp = path.with_extension("safetensors.part");
        candle_core::safetensors::save(&self.state(step)?, &tmp)?;
        std::fs::rename(&tmp, path)
            .map_err(|e| candle_core::Error::Msg(format!("{}: {e}", path.display())))
    }

    /// The network as it stands, built for inference (running statistics, fused products):
    /// for alignment plots, evaluation and ground-truth-aligned mels.
    pub fn snapshot(&self) -> Result<Tacotron> {
        let tensors = self
            .state(0)?
            .into_iter()
            .map(|(k, t)| Ok((k, t.to_device(&self.device)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        Tacotron::load(
            self.model.config().clone(),
            Some(self.model.r()),
            VarBuilder::from_tensors(tensors, DType::F32, &self.device),
        )
    }
}

enum Init {
    Const(f32),
    Uniform(f64),
}

fn is_running_stat(name: &str) -> bool {
    name.ends_with("running_mean") || name.ends_with("running_var")
}

/// Whether `name` is a batch norm's affine `weight` or `bias`.
fn bnorm(name: &str, what: &str) -> bool {
    name.strip_suffix(what)
        .is_some_and(|prefix| prefix.ends_with(".bnorm."))
}

/// A padded batch: characters `[B, N]`, mels `[B, n_mels, T]`, d-vectors `[B, S]`, stop
/// targets `[B, T]`, and each utterance's true character and frame counts.
pub struct Batch {
    pub chars: Tensor,
    pub mels: Tensor,
    pub speakers: Tensor,
    pub stop: Tensor,
    pub text_lengths: Vec<usize>,
    pub frames: Vec<usize>,
}

impl Batch {
    /// RTVC's `collate_synthesizer`: texts padded with 0, mels with −4 to the longest rounded
    /// up to a multiple of `r`.
    pub fn new(examples: &[&Example], n_mels: usize, r: usize, device: &Device) -> Result<Self> {
        let b = examples.len();
        let n = examples.iter().map(|e| e.chars.len()).max().unwrap_or(1);
        let t = examples
            .iter()
            .map(|e| e.frames)
            .max()
            .unwrap_or(1)
            .div_ceil(r)
            * r;
        let s = examples.first().map_or(0, |e| e.embedding.len());
        let mut chars = vec![0u32; b * n];
        let mut mels = vec![MEL_PAD_VALUE; b * n_mels * t];
        let mut stop = vec![1f32; b * t];
        let mut speakers = Vec::with_capacity(b * s);
        for (i, e) in examples.iter().enumerate() {
            if e.mel.len() != n_mels * e.frames || e.embedding.len() != s || e.frames == 0 {
                candle_core::bail!(
                    "example {i}: a mel of {} values for {} frames of {n_mels} channels, a {}-value d-vector",
                    e.mel.len(),
                    e.frames,
                    e.embedding.len()
                );
            }
            chars[i * n..i * n + e.chars.len()].copy_from_slice(&e.chars);
            for ch in 0..n_mels {
                let dst = (i * n_mels + ch) * t;
                mels[dst..dst + e.frames]
                    .copy_from_slice(&e.mel[ch * e.frames..(ch + 1) * e.frames]);
            }
            stop[i * t..i * t + e.frames - 1].fill(0.0);
            speakers.extend_from_slice(&e.embedding);
        }
        Ok(Self {
            chars: Tensor::from_vec(chars, (b, n), device)?,
            mels: Tensor::from_vec(mels, (b, n_mels, t), device)?,
            speakers: Tensor::from_vec(speakers, (b, s), device)?,
            stop: Tensor::from_vec(stop, (b, t), device)?,
            text_lengths: examples.iter().map(|e| e.chars.len()).collect(),
            frames: examples.iter().map(|e| e.frames).collect(),
        })
    }

    /// The guided-attention costs `[B, steps, N]` for an alignment of `steps` decoder steps
    /// (`r` frames each), zero past each utterance's own text and speech, and how many entries
    /// lie within them.
    pub fn attention_costs(&self, steps: usize, r: usize, width: f64) -> Result<(Tensor, usize)> {
        let (b, n) = self.chars.dims2()?;
        let mut costs = vec![0f32; b * steps * n];
        let mut inside = 0;
        for (i, (&chars, &frames)) in self.text_lengths.iter().zip(&self.frames).enumerate() {
            let own_steps = frames.div_ceil(r).min(steps);
            for s in 0..own_steps {
                let row = &mut costs[(i * steps + s) * n..][..chars];
                for (c, cost) in row.iter_mut().enumerate() {
                    let offset = c as f64 / chars as f64 - s as f64 / own_steps as f64;
                    *cost = (1.0 - (-offset * offset / (2.0 * width * width)).exp()) as f32;
                }
            }
            inside += own_steps * chars;
        }
        Ok((
            Tensor::from_vec(costs, (b, steps, n), self.chars.device())?,
            inside.max(1),
        ))
    }
}

impl Batch {
    /// `model`'s teacher-forced pass over this batch.
    pub fn teacher_forced(&self, model: &Tacotron, dropout: &mut Dropout) -> Result<TeacherForced> {
        model.teacher_forced(&self.chars, &self.mels, &self.speakers, dropout)
    }
}

/// RTVC's loss on a teacher-forced pass, plus the guided-attention penalty when there is a
/// guide, as a tensor (for back-propagation) and its terms.
pub fn loss(
    out: &TeacherForced,
    batch: &Batch,
    guide: Option<AttentionGuide>,
) -> Result<(Tensor, Losses)> {
    let mels = &batch.mels;
    let decoder = (candle_nn::loss::mse(&out.decoder_mel, mels)?
        + (&out.decoder_mel - mels)?.abs()?.mean_all()?)?;
    let postnet = candle_nn::loss::mse(&out.mel, mels)?;
    let stop = bce_with_logits(&out.stop_logits, &batch.stop)?;
    let mut total = (&decoder + &postnet)?.add(&stop)?;
    let mut attention = 0.0;
    if let Some(guide) = guide {
        let steps = out.alignment.dim(1)?;
        let r = mels.dim(2)? / steps;
        let (costs, inside) = batch.attention_costs(steps, r, guide.width)?;
        let penalty = (out.alignment.mul(&costs)?.sum_all()? / inside as f64)?;
        attention = penalty.to_scalar()?;
        total = (total + (penalty * guide.weight)?)?;
    }
    let terms = Losses {
        total: total.to_scalar()?,
        decoder: decoder.to_scalar()?,
        postnet: postnet.to_scalar()?,
        stop: stop.to_scalar()?,
        attention,
    };
    Ok((total, terms))
}

/// Mean binary cross-entropy of `sigmoid(logits)` against `targets`, in the stable form
/// `max(x, 0) − x·y + ln(1 + e^(−|x|))` (RTVC takes the sigmoid first; the value is the same).
fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let softplus = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    ((logits.relu()? - logits.mul(targets)?)? + softplus)?.mean_all()
}

/// How diagonal an alignment `[steps, N]` is over its first `steps` decoder steps and `chars`
/// characters: the correlation of each step's most-attended character with the step index
/// (1 for a clean diagonal), and the mean of each step's largest weight (its focus).
pub fn alignment_score(alignment: &Tensor, steps: usize, chars: usize) -> Result<(f32, f32)> {
    let a = alignment
        .narrow(0, 0, steps)?
        .narrow(1, 0, chars)?
        .to_vec2::<f32>()?;
    let peaks: Vec<(f64, f64)> = a
        .iter()
        .map(|row| {
            let (argmax, max) =
                row.iter().enumerate().fold(
                    (0, f32::MIN),
                    |best, (i, &w)| if w > best.1 { (i, w) } else { best },
                );
            (argmax as f64, max as f64)
        })
        .collect();
    let n = peaks.len() as f64;
    let focus = peaks.iter().map(|p| p.1).sum::<f64>() / n;
    let mean_i = (n - 1.0) / 2.0;
    let mean_p = peaks.iter().map(|p| p.0).sum::<f64>() / n;
    let (mut cov, mut var_i, mut var_p) = (0.0, 0.0, 0.0);
    for (i, p) in peaks.iter().enumerate() {
        let (di, dp) = (i as f64 - mean_i, p.0 - mean_p);
        cov += di * dp;
        var_i += di * di;
        var_p += dp * dp;
    }
    let correlation = if var_i > 0.0 && var_p > 0.0 {
        cov / (var_i * var_p).sqrt()
    } else {
        0.0
    };
    Ok((correlation as f32, focus as f32))
}

/// The training loop's state: model, optimiser, schedule, step.
pub struct Trainer {
    pub model: TrainableTacotron,
    pub optimizer: Adam,
    pub step: usize,
    schedule: Vec<Phase>,
    seed: u64,
    /// Guided attention in the loss, if any (not RTVC's).
    pub attention_guide: Option<AttentionGuide>,
}

impl Trainer {
    pub fn new(
        model: TrainableTacotron,
        schedule: Vec<Phase>,
        step: usize,
        seed: u64,
    ) -> Result<Self> {
        if schedule.is_empty() {
            candle_core::bail!("the training schedule has no phases");
        }
        let phase = phase_at(&schedule, step);
        let optimizer = Adam::new(model.trainable(), phase.learning_rate)?;
        Ok(Self {
            model,
            optimizer,
            step,
            schedule,
            seed,
            attention_guide: None,
        })
    }

    /// The phase the next step trains in.
    pub fn phase(&self) -> Phase {
        phase_at(&self.schedule, self.step)
    }

    /// One optimiser step on a batch drawn from `examples` (distinct utterances, drawn afresh
    /// from the step number and seed, so a resumed run draws what an unbroken one would).
    pub fn step(&mut self, examples: &[Example]) -> Result<Losses> {
        if examples.is_empty() {
            candle_core::bail!("no training examples");
        }
        let phase = self.phase();
        if phase.r != self.model.model.r() {
            self.model.set_r(phase.r)?;
        }
        self.optimizer.set_learning_rate(phase.learning_rate);
        let mut rng = SplitMix64::new(mix(self.seed ^ mix(self.step as u64)));
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let take = phase.batch_size.min(examples.len());
        for i in 0..take {
            let j = i + (rng.next_u64() % (order.len() - i) as u64) as usize;
            order.swap(i, j);
        }
        let chosen: Vec<&Example> = order[..take].iter().map(|&i| &examples[i]).collect();
        let config = self.model.model.config();
        let batch = Batch::new(
            &chosen,
            config.n_mels,
            self.model.model.r(),
            &self.model.device,
        )?;
        let out = batch.teacher_forced(&self.model.model, &mut Dropout::On(rng))?;
        let (total, losses) = loss(&out, &batch, self.attention_guide)?;
        let grads = self.model.backward(&total)?;
        self.optimizer.clip_and_step(&grads, CLIP_GRAD_NORM)?;
        self.model.update_running_stats()?;
        self.step += 1;
        Ok(losses)
    }

    /// Writes the checkpoint (`path`) and the optimiser's state beside it
    /// (`optimizer.safetensors`), each through a temporary file renamed into place.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.optimizer.save_beside(path)?;
        self.model.save(path, self.step)
    }

    /// Restores the optimiser's state saved beside the checkpoint at `path`, if there is one.
    pub fn resume_optimizer(&mut self, path: &Path) -> Result<bool> {
        self.optimizer.restore_beside(path)
    }
}
