//! Training RTVC's WaveRNN (RAW mode) as RTVC's `vocoder/train.py` does: random segments of
//! `seq_len` samples with the mel frames around them, the previous sample fed in (teacher
//! forcing), cross-entropy on the next sample's mu-law class, Adam.
//!
//! The network is the one [`super::WaveRnn`] runs, with RTVC's tensor names, held in a
//! `VarMap` so that a checkpoint is a safetensors file [`super::WaveRnn::load`] reads. Batch
//! norm trains on batch statistics and keeps running ones (PyTorch's momentum 0.1, unbiased
//! variance), which inference then uses.

use candle_core::{DType, Device, Module, Result, Tensor, Var};
use candle_nn::{Init, VarBuilder, VarMap};

use super::WaveRnnConfig;

use voxclone_nn::norm::NORM_EPS as BATCH_NORM_EPS;
use voxclone_train::batch_norm::{batch_norm_training, update_running_stats};
use voxclone_train::checkpoint::load_vars;
use voxclone_train::graph::conv1d_unfolded;
pub use voxclone_train::Adam;

/// One training example: a mel `[feat, frames]` (divided by `mel_max_abs_value`, as the
/// vocoder reads it) and the waveform it describes, `(frames − 1)·hop + 1` samples or more,
/// pre-emphasised when the config says so, in `[-1, 1]`.
#[derive(Debug, Clone)]
pub struct Example {
    pub mel: Vec<f32>,
    pub frames: usize,
    pub wav: Vec<f32>,
}

/// RTVC's training hyper-parameters (`vocoder/hparams.py`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Samples per segment (RTVC: 5 hops).
    pub seq_len: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            batch_size: 100,
            learning_rate: 1e-4,
            seq_len: 1000,
        }
    }
}

/// Batch norm with its running statistics.
struct BatchNorm {
    gamma: Tensor,
    beta: Tensor,
    running_mean: Var,
    running_var: Var,
}

impl BatchNorm {
    fn new(channels: usize, vb: &VarBuilder, stats: &mut Vec<(String, Var)>) -> Result<Self> {
        let gamma = vb.get_with_hints(channels, "weight", Init::Const(1.0))?;
        let beta = vb.get_with_hints(channels, "bias", Init::Const(0.0))?;
        let mean = vb.get_with_hints(channels, "running_mean", Init::Const(0.0))?;
        let var = vb.get_with_hints(channels, "running_var", Init::Const(1.0))?;
        let running_mean = Var::from_tensor(&mean)?;
        let running_var = Var::from_tensor(&var)?;
        stats.push((
            format!("{}.running_mean", vb.prefix()),
            running_mean.clone(),
        ));
        stats.push((format!("{}.running_var", vb.prefix()), running_var.clone()));
        Ok(Self {
            gamma,
            beta,
            running_mean,
            running_var,
        })
    }

    /// `[B, C, T]`: in training, normalised by the batch's statistics over `B` and `T` (and
    /// the running statistics updated); otherwise by the running statistics.
    fn forward(&self, x: &Tensor, training: bool) -> Result<Tensor> {
        let (b, c, t) = x.dims3()?;
        if !training {
            let scale = (self.running_var.as_tensor() + BATCH_NORM_EPS)?
                .sqrt()?
                .recip()?
                .mul(&self.gamma)?;
            let shift = (&self.beta - self.running_mean.as_tensor().mul(&scale)?)?;
            return x
                .broadcast_mul(&scale.reshape((1, c, 1))?)?
                .broadcast_add(&shift.reshape((1, c, 1))?);
        }
        let (y, mean, var) = batch_norm_training(x, &self.gamma, &self.beta)?;
        update_running_stats(&self.running_mean, &self.running_var, &mean, &var, b * t)?;
        Ok(y)
    }
}

fn conv_weight(vb: &VarBuilder, out: usize, inp: usize, k: usize, name: &str) -> Result<Tensor> {
    let bound = 1.0 / ((inp * k) as f64).sqrt();
    vb.get_with_hints(
        (out, inp, k),
        name,
        Init::Uniform {
            lo: -bound,
            up: bound,
        },
    )
}

fn linear(vb: VarBuilder, inp: usize, out: usize) -> Result<candle_nn::Linear> {
    let bound = 1.0 / (inp as f64).sqrt();
    let w = vb.get_with_hints(
        (out, inp),
        "weight",
        Init::Uniform {
            lo: -bound,
            up: bound,
        },
    )?;
    let b = vb.get_with_hints(
        out,
        "bias",
        Init::Uniform {
            lo: -bound,
            up: bound,
        },
    )?;
    Ok(candle_nn::Linear::new(w, Some(b)))
}

/// A one-layer GRU (`weight_ih_l0`, …) run over a whole sequence.
struct Gru {
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    hidden: usize,
}

impl Gru {
    fn new(vb: &VarBuilder, input: usize, hidden: usize) -> Result<Self> {
        let bound = 1.0 / (hidden as f64).sqrt();
        let init = Init::Uniform {
            lo: -bound,
            up: bound,
        };
        Ok(Self {
            w_ih: vb.get_with_hints((3 * hidden, input), "weight_ih_l0", init)?,
            w_hh: vb.get_with_hints((3 * hidden, hidden), "weight_hh_l0", init)?,
            b_ih: vb.get_with_hints(3 * hidden, "bias_ih_l0", init)?,
            b_hh: vb.get_with_hints(3 * hidden, "bias_hh_l0", init)?,
            hidden,
        })
    }

    /// `[B, L, I]` → `[B, L, H]` from a zero state (PyTorch's equations, gates `[r | z | n]`).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, l, _) = x.dims3()?;
        let hd = self.hidden;
        let gi = x
            .broadcast_matmul(&self.w_ih.t()?)?
            .broadcast_add(&self.b_ih)?;
        if gi.device().is_cpu() {
            // One operation for the whole recurrence, with a backward pass through time.
            return gi.contiguous()?.apply_op3(
                &self.w_hh,
                &self.b_hh,
                voxclone_nn::gru::GruSequence,
            );
        }
        let w_hh_t = self.w_hh.t()?;
        let mut h = Tensor::zeros((b, hd), DType::F32, x.device())?;
        let mut outputs = Vec::with_capacity(l);
        for t in 0..l {
            let gi = gi.narrow(1, t, 1)?.squeeze(1)?;
            let gh = h.matmul(&w_hh_t)?.broadcast_add(&self.b_hh)?;
            let rz =
                candle_nn::ops::sigmoid(&(gi.narrow(1, 0, 2 * hd)? + gh.narrow(1, 0, 2 * hd)?)?)?;
            let (r, z) = (rz.narrow(1, 0, hd)?, rz.narrow(1, hd, hd)?);
            let n = (gi.narrow(1, 2 * hd, hd)? + r.mul(&gh.narrow(1, 2 * hd, hd)?)?)?.tanh()?;
            h = (&n + z.mul(&(&h - &n)?)?)?;
            outputs.push(h.clone());
        }
        Tensor::stack(&outputs, 1)
    }
}

/// WaveRNN with trainable weights under RTVC's names.
pub struct TrainableWaveRnn {
    config: WaveRnnConfig,
    varmap: VarMap,
    /// Running batch-norm statistics: saved, never optimised.
    stats: Vec<(String, Var)>,
    conv_in: Tensor,
    bn_in: BatchNorm,
    blocks: Vec<(Tensor, BatchNorm, Tensor, BatchNorm)>,
    conv_out: (Tensor, Tensor),
    up_kernels: Vec<(usize, Tensor)>,
    i: candle_nn::Linear,
    rnn1: Gru,
    rnn2: Gru,
    fc1: candle_nn::Linear,
    fc2: candle_nn::Linear,
    fc3: candle_nn::Linear,
}

impl TrainableWaveRnn {
    /// Fresh weights (PyTorch's default initialisation; the upsampling kernels start as
    /// averages, as RTVC's do), or, with `from`, the tensors of a checkpoint.
    pub fn new(
        config: WaveRnnConfig,
        from: Option<&std::path::Path>,
        device: &Device,
    ) -> Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let mut stats = Vec::new();
        let c = &config;
        let (h, f, fc, a) = (c.rnn_dims, c.feat_dims, c.fc_dims, c.res_out_dims / 4);
        let classes = 1usize << c.bits;
        let r = vb.pp("upsample").pp("resnet");
        let conv_in = conv_weight(&r, c.compute_dims, f, 2 * c.pad + 1, "conv_in.weight")?;
        let bn_in = BatchNorm::new(c.compute_dims, &r.pp("batch_norm"), &mut stats)?;
        let blocks = (0..c.res_blocks)
            .map(|i| {
                let l = r.pp(format!("layers.{i}"));
                Ok((
                    conv_weight(&l, c.compute_dims, c.compute_dims, 1, "conv1.weight")?,
                    BatchNorm::new(c.compute_dims, &l.pp("batch_norm1"), &mut stats)?,
                    conv_weight(&l, c.compute_dims, c.compute_dims, 1, "conv2.weight")?,
                    BatchNorm::new(c.compute_dims, &l.pp("batch_norm2"), &mut stats)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let bound = 1.0 / (c.compute_dims as f64).sqrt();
        let conv_out = (
            conv_weight(&r, c.res_out_dims, c.compute_dims, 1, "conv_out.weight")?,
            r.get_with_hints(
                c.res_out_dims,
                "conv_out.bias",
                Init::Uniform {
                    lo: -bound,
                    up: bound,
                },
            )?,
        );
        let up = vb.pp("upsample").pp("up_layers");
        let up_kernels = c
            .upsample_factors
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let width = 2 * s + 1;
                let w = up.get_with_hints(
                    (1, 1, 1, width),
                    &format!("{}.weight", 2 * i + 1),
                    Init::Const(1.0 / width as f64),
                )?;
                Ok((s, w))
            })
            .collect::<Result<Vec<_>>>()?;
        let model = Self {
            i: linear(vb.pp("I"), 1 + f + a, h)?,
            rnn1: Gru::new(&vb.pp("rnn1"), h, h)?,
            rnn2: Gru::new(&vb.pp("rnn2"), h + a, h)?,
            fc1: linear(vb.pp("fc1"), h + a, fc)?,
            fc2: linear(vb.pp("fc2"), fc + a, fc)?,
            fc3: linear(vb.pp("fc3"), fc, classes)?,
            conv_in,
            bn_in,
            blocks,
            conv_out,
            up_kernels,
            stats,
            varmap,
            config,
        };
        if let Some(path) = from {
            model.load_weights(path)?;
        }
        Ok(model)
    }

    fn load_weights(&self, path: &std::path::Path) -> Result<()> {
        let saved = candle_core::safetensors::load(path, &Device::Cpu)?;
        load_vars(&self.all_tensors(), &saved)
            .map_err(|e| candle_core::Error::Msg(format!("{}: {e}", path.display())))
    }

    fn all_tensors(&self) -> Vec<(String, Var)> {
        let data = self.varmap.data().lock().expect("var map lock");
        let mut all: Vec<(String, Var)> =
            data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        // The running statistics are Vars of their own (updated in place, never optimised).
        all.retain(|(k, _)| !k.ends_with("running_mean") && !k.ends_with("running_var"));
        all.extend(self.stats.iter().cloned());
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The trainable variables by name (everything but the running statistics), sorted.
    pub fn trainable(&self) -> Vec<(String, Var)> {
        let data = self.varmap.data().lock().expect("var map lock");
        let mut vars: Vec<(String, Var)> = data
            .iter()
            .filter(|(k, _)| !k.ends_with("running_mean") && !k.ends_with("running_var"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }

    /// Writes every tensor under RTVC's names, with `step`, as safetensors (via a temporary
    /// file renamed into place).
    pub fn save(&self, path: &std::path::Path, step: usize) -> Result<()> {
        let mut tensors: std::collections::HashMap<String, Tensor> = self
            .all_tensors()
            .into_iter()
            .map(|(k, v)| (k, v.as_tensor().clone()))
            .collect();
        tensors.insert("step".into(), Tensor::new(&[step as i64], &Device::Cpu)?);
        let tmp = path.with_extension("safetensors.part");
        candle_core::safetensors::save(&tensors, &tmp)?;
        std::fs::rename(&tmp, path)
            .map_err(|e| candle_core::Error::Msg(format!("{}: {e}", path.display())))
    }

    pub fn config(&self) -> &WaveRnnConfig {
        &self.config
    }

    /// The logits `[B, L, classes]` for mels `[B, feat, L/hop + 2·pad]` and the previous
    /// samples `x` `[B, L]`; batch norm in training or inference mode.
    pub fn forward(&self, mels: &Tensor, x: &Tensor, training: bool) -> Result<Tensor> {
        let c = &self.config;
        let (b, feat, frames) = mels.dims3()?;
        // MelResNet → aux, stretched to the sample rate.
        let mut y = self
            .bn_in
            .forward(&conv1d_unfolded(mels, &self.conv_in)?, training)?
            .relu()?;
        for (w1, bn1, w2, bn2) in &self.blocks {
            let z = bn1.forward(&conv1d_unfolded(&y, w1)?, training)?.relu()?;
            y = (bn2.forward(&conv1d_unfolded(&z, w2)?, training)? + y)?;
        }
        let aux = conv1d_unfolded(&y, &self.conv_out.0)?
            .broadcast_add(&self.conv_out.1.reshape((1, (), 1))?)?;
        let stretch = |t: &Tensor, s: usize| -> Result<Tensor> {
            let (b, c, l) = t.dims3()?;
            t.unsqueeze(3)?
                .broadcast_as((b, c, l, s))?
                .reshape((b, c, l * s))
        };
        let total: usize = c.upsample_factors.iter().product();
        let aux = stretch(&aux, total)?.transpose(1, 2)?.contiguous()?;
        // The mel, stretched and smoothed, cropped by `pad` frames each side.
        let mut m = mels.reshape((b * feat, 1, frames))?;
        for (s, w) in &self.up_kernels {
            m = conv1d_unfolded(
                &stretch(&m, *s)?.pad_with_zeros(2, *s, *s)?,
                &w.reshape((1, 1, 2 * s + 1))?,
            )?;
        }
        let indent = c.pad * total;
        let len = m.dim(2)? - 2 * indent;
        let m = m
            .reshape((b, feat, len + 2 * indent))?
            .narrow(2, indent, len)?
            .transpose(1, 2)?;
        let a = c.res_out_dims / 4;
        let slice = |k: usize| aux.narrow(2, k * a, a);
        let inp = Tensor::cat(&[&x.unsqueeze(2)?, &m.contiguous()?, &slice(0)?], 2)?;
        let inp = self.i.forward(&inp)?;
        let x = (&inp + self.rnn1.forward(&inp)?)?;
        let x = (&x + self.rnn2.forward(&Tensor::cat(&[&x, &slice(1)?], 2)?)?)?;
        let x = self
            .fc1
            .forward(&Tensor::cat(&[&x, &slice(2)?], 2)?)?
            .relu()?;
        let x = self
            .fc2
            .forward(&Tensor::cat(&[&x, &slice(3)?], 2)?)?
            .relu()?;
        self.fc3.forward(&x)
    }
}

/// Mu-law compression to class labels: `sign(x)·ln(1 + μ|x|)/ln(1 + μ)` mapped to `0..=μ`
/// (RTVC's `encode_mu_law`, μ = classes − 1).
pub fn encode_mu_law(x: f32, classes: usize) -> usize {
    let mu = (classes - 1) as f32;
    let x = x.clamp(-1.0, 1.0);
    let fx = x.signum() * (1.0 + mu * x.abs()).ln() / (1.0 + mu).ln();
    ((fx + 1.0) / 2.0 * mu + 0.5).floor().clamp(0.0, mu) as usize
}

/// Pre-emphasis `y[n] = x[n] − k·x[n−1]`.
pub fn pre_emphasis(x: &[f32], k: f32) -> Vec<f32> {
    let mut previous = 0.0;
    x.iter()
        .map(|&v| {
            let y = v - k * previous;
            previous = v;
            y
        })
        .collect()
}

/// The training loop's state: model, optimiser, step.
pub struct Trainer {
    pub model: TrainableWaveRnn,
    pub optimizer: Adam,
    pub step: usize,
    train: TrainConfig,
    rng: u64,
}

impl Trainer {
    pub fn new(
        model: TrainableWaveRnn,
        train: TrainConfig,
        step: usize,
        seed: u64,
    ) -> Result<Self> {
        let optimizer = Adam::new(model.trainable(), train.learning_rate)?;
        Ok(Self {
            model,
            optimizer,
            step,
            train,
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
        })
    }

    /// Writes the checkpoint (`path`, RTVC's names and `step`) and the optimiser's state beside
    /// it (`optimizer.safetensors`), each through a temporary file renamed into place.
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        self.optimizer.save_beside(path)?;
        self.model.save(path, self.step)
    }

    /// Restores the optimiser's state saved beside the checkpoint at `path`, if there is one.
    pub fn resume_optimizer(&mut self, path: &std::path::Path) -> Result<bool> {
        self.optimizer.restore_beside(path)
    }

    /// One optimiser step on a batch of random segments; returns the cross-entropy.
    pub fn step(&mut self, examples: &[Example], device: &Device) -> Result<f32> {
        let mut rng = self.rng;
        let (mels, x, y) = self.batch(examples, self.train.batch_size, &mut rng, device)?;
        self.rng = rng;
        let loss = self.loss(&mels, &x, &y, true)?;
        self.optimizer.backward_step(&loss)?;
        self.step += 1;
        loss.to_scalar::<f32>()
    }

    /// The cross-entropy on `count` segments drawn with `seed` (the same segments for the same
    /// seed), with batch norm in inference mode and no update: a fixed yardstick for progress.
    pub fn evaluate(
        &self,
        examples: &[Example],
        count: usize,
        seed: u64,
        device: &Device,
    ) -> Result<f32> {
        let mut rng = seed;
        let (mels, x, y) = self.batch(examples, count, &mut rng, device)?;
        self.loss(&mels, &x, &y, false)?.to_scalar::<f32>()
    }

    fn loss(&self, mels: &Tensor, x: &Tensor, y: &Tensor, training: bool) -> Result<Tensor> {
        let classes = 1usize << self.model.config().bits;
        let logits = self.model.forward(mels, x, training)?;
        let rows = logits.dim(0)? * logits.dim(1)?;
        candle_nn::loss::cross_entropy(&logits.reshape((rows, classes))?, y)
    }

    /// `count` random segments: mels `[count, feat, window]`, inputs `[count, L]` and target
    /// classes `[count·L]`, as RTVC's `collate_vocoder` cuts them.
    fn batch(
        &self,
        examples: &[Example],
        count: usize,
        rng: &mut u64,
        device: &Device,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let mut next = |below: usize| -> usize {
            *rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((*rng >> 33) as usize) % below.max(1)
        };
        let c = self.model.config();
        let hop = c.hop_length;
        let frames_per = self.train.seq_len.div_ceil(hop);
        let seq_len = frames_per * hop;
        let window = frames_per + 2 * c.pad;
        let classes = 1usize << c.bits;
        let usable: Vec<&Example> = examples.iter().filter(|e| e.frames >= window).collect();
        if usable.is_empty() {
            candle_core::bail!("no example is long enough for a {seq_len}-sample segment");
        }
        let (mut mels, mut xs, mut ys) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..count {
            let e = usable[next(usable.len())];
            let offset = next(e.frames - window + 1);
            for ch in 0..c.feat_dims {
                mels.extend_from_slice(
                    &e.mel[ch * e.frames + offset..ch * e.frames + offset + window],
                );
            }
            let start = (offset + c.pad) * hop;
            let labels: Vec<usize> = (0..=seq_len)
                .map(|i| encode_mu_law(e.wav.get(start + i).copied().unwrap_or(0.0), classes))
                .collect();
            xs.extend(
                labels[..seq_len]
                    .iter()
                    .map(|&l| 2.0 * l as f32 / (classes - 1) as f32 - 1.0),
            );
            ys.extend(labels[1..].iter().map(|&l| l as u32));
        }
        Ok((
            Tensor::from_vec(mels, (count, c.feat_dims, window), device)?,
            Tensor::from_vec(xs, (count, seq_len), device)?,
            Tensor::from_vec(ys, count * seq_len, device)?,
        ))
    }
}
