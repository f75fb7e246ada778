//! RTVC's vocoder: WaveRNN (Kalchbrenner et al. 2018) in fatchord's form, RAW mode: a softmax
//! over 2⁹ mu-law classes per sample, conditioned on the mel through an upsampling network.
//!
//! Generation is RTVC's `WaveRNN.generate`: pad the mel, upsample it; optionally *fold* the
//! sequence into overlapping segments generated as one batch ("batched", RTVC's default:
//! target 8000 samples, overlap 800) and cross-fade them back; decode mu-law, undo the
//! pre-emphasis, trim to `(frames − 1)·hop` samples and fade out the last 20 frames. The sample
//! loop is the fused kernel of [`kernel`].
//!
//! Weights load by RTVC's state-dict names (`upsample.resnet.conv_in.weight`, `rnn1.weight_ih_l0`,
//! `fc3.bias`, …).

pub mod kernel;
pub mod train;
pub mod upsample;

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::VarBuilder;

use kernel::{Conditioning, Dense, SampleLoop, Sampling};
pub use upsample::UpsampleNetwork;
use voxclone_nn::rng::SplitMix64;

/// RTVC's vocoder hyper-parameters (`vocoder/hparams.py`).
#[derive(Debug, Clone, PartialEq)]
pub struct WaveRnnConfig {
    pub rnn_dims: usize,
    pub fc_dims: usize,
    /// Bits per sample: 2^bits classes.
    pub bits: u32,
    /// Mel frames of context added on each side before the MelResNet.
    pub pad: usize,
    pub upsample_factors: Vec<usize>,
    pub feat_dims: usize,
    pub compute_dims: usize,
    pub res_out_dims: usize,
    pub res_blocks: usize,
    pub hop_length: usize,
    pub sample_rate: u32,
    /// The synthesizer's mels span `[-max, max]`; the vocoder reads them divided by this.
    pub mel_max_abs_value: f32,
    pub mu_law: bool,
    pub preemphasis: f64,
}

impl Default for WaveRnnConfig {
    fn default() -> Self {
        Self {
            rnn_dims: 512,
            fc_dims: 512,
            bits: 9,
            pad: 2,
            upsample_factors: vec![5, 5, 8],
            feat_dims: 80,
            compute_dims: 128,
            res_out_dims: 128,
            res_blocks: 10,
            hop_length: 200,
            sample_rate: 16_000,
            mel_max_abs_value: 4.0,
            mu_law: true,
            preemphasis: 0.97,
        }
    }
}

/// Batched ("folded") or sample-by-sample generation, and the draws.
#[derive(Debug, Clone, PartialEq)]
pub struct VocodeOptions {
    /// Fold into segments of `target` samples generated together, with `overlap` samples on
    /// each side for the RNN to warm up and to cross-fade. `None`: one sequence.
    pub folding: Option<Folding>,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folding {
    pub target: usize,
    pub overlap: usize,
}

/// What RTVC's `infer_waveform` uses by default.
pub const RTVC_FOLDING: Folding = Folding {
    target: 8000,
    overlap: 800,
};

impl Default for VocodeOptions {
    fn default() -> Self {
        Self {
            folding: Some(RTVC_FOLDING),
            seed: 0,
        }
    }
}

/// RTVC's WaveRNN.
#[derive(Debug, Clone)]
pub struct WaveRnn {
    upsample: UpsampleNetwork,
    sample_loop: SampleLoop,
    config: WaveRnnConfig,
    device: Device,
}

fn weights(vb: &VarBuilder, name: &str, shape: (usize, usize)) -> Result<Vec<f32>> {
    vb.get(shape, name)?.flatten_all()?.to_vec1::<f32>()
}

fn vector(vb: &VarBuilder, name: &str, len: usize) -> Result<Vec<f32>> {
    vb.get(len, name)?.to_vec1::<f32>()
}

impl WaveRnn {
    pub fn load(config: WaveRnnConfig, vb: VarBuilder) -> Result<Self> {
        let c = &config;
        if c.upsample_factors.iter().product::<usize>() != c.hop_length {
            candle_core::bail!(
                "upsample factors {:?} do not multiply to the hop {}",
                c.upsample_factors,
                c.hop_length
            );
        }
        let upsample = UpsampleNetwork::load(
            c.feat_dims,
            &c.upsample_factors,
            c.compute_dims,
            c.res_blocks,
            c.res_out_dims,
            c.pad,
            vb.pp("upsample"),
        )?;
        let (h, f, fc) = (c.rnn_dims, c.feat_dims, c.fc_dims);
        let a = c.res_out_dims / 4;
        let classes = 1usize << c.bits;

        // I: [sample | mel | aux₁] → h.
        let i_in = 1 + f + a;
        let i_w = weights(&vb, "I.weight", (h, i_in))?;
        let i_b = vector(&vb, "I.bias", h)?;
        let i_sample: Vec<f32> = (0..h).map(|o| i_w[o * i_in]).collect();
        let i_cond = Dense::from_torch(&i_w, Some(&i_b), h, i_in, 1..i_in);

        let rnn1_ih_w = weights(&vb, "rnn1.weight_ih_l0", (3 * h, h))?;
        let rnn1_ih = Dense::from_torch(
            &rnn1_ih_w,
            Some(&vector(&vb, "rnn1.bias_ih_l0", 3 * h)?),
            3 * h,
            h,
            0..h,
        );
        let rnn1_sample: Vec<f32> = (0..3 * h)
            .map(|g| (0..h).map(|k| rnn1_ih_w[g * h + k] * i_sample[k]).sum())
            .collect();
        let rnn1_hh = Dense::from_torch(
            &weights(&vb, "rnn1.weight_hh_l0", (3 * h, h))?,
            Some(&vector(&vb, "rnn1.bias_hh_l0", 3 * h)?),
            3 * h,
            h,
            0..h,
        );
        let rnn2_ih_w = weights(&vb, "rnn2.weight_ih_l0", (3 * h, h + a))?;
        let rnn2_ih = Dense::from_torch(&rnn2_ih_w, None, 3 * h, h + a, 0..h);
        let rnn2_aux = Dense::from_torch(
            &rnn2_ih_w,
            Some(&vector(&vb, "rnn2.bias_ih_l0", 3 * h)?),
            3 * h,
            h + a,
            h..h + a,
        );
        let rnn2_hh = Dense::from_torch(
            &weights(&vb, "rnn2.weight_hh_l0", (3 * h, h))?,
            Some(&vector(&vb, "rnn2.bias_hh_l0", 3 * h)?),
            3 * h,
            h,
            0..h,
        );
        let fc1_w = weights(&vb, "fc1.weight", (fc, h + a))?;
        let fc1 = Dense::from_torch(&fc1_w, None, fc, h + a, 0..h);
        let fc1_aux = Dense::from_torch(
            &fc1_w,
            Some(&vector(&vb, "fc1.bias", fc)?),
            fc,
            h + a,
            h..h + a,
        );
        let fc2_w = weights(&vb, "fc2.weight", (fc, fc + a))?;
        let fc2 = Dense::from_torch(&fc2_w, None, fc, fc + a, 0..fc);
        let fc2_aux = Dense::from_torch(
            &fc2_w,
            Some(&vector(&vb, "fc2.bias", fc)?),
            fc,
            fc + a,
            fc..fc + a,
        );
        let fc3 = Dense::from_torch(
            &weights(&vb, "fc3.weight", (classes, fc))?,
            Some(&vector(&vb, "fc3.bias", classes)?),
            classes,
            fc,
            0..fc,
        );
        Ok(Self {
            upsample,
            sample_loop: SampleLoop {
                i_sample,
                rnn1_sample,
                i_cond,
                rnn1_ih,
                rnn1_hh,
                rnn2_ih,
                rnn2_aux,
                rnn2_hh,
                fc1,
                fc1_aux,
                fc2,
                fc2_aux,
                fc3,
                rnn_dims: h,
                aux_dims: a,
                feat_dims: f,
            },
            device: vb.device().clone(),
            config,
        })
    }

    pub fn config(&self) -> &WaveRnnConfig {
        &self.config
    }

    /// The upsampled mel `[T·hop, feat]` and aux features `[T·hop, res_out]` for a synthesizer
    /// mel `[feat, T]` in `[-max, max]` (divided by `mel_max_abs_value` here, as RTVC's
    /// `infer_waveform` does).
    pub fn condition(&self, mel: &Tensor) -> Result<(Tensor, Tensor)> {
        let (feat, _) = mel.dims2()?;
        if feat != self.config.feat_dims {
            candle_core::bail!(
                "the mel has {feat} channels; the vocoder takes {}",
                self.config.feat_dims
            );
        }
        let mel = (mel.to_device(&self.device)?.to_dtype(DType::F32)?
            / self.config.mel_max_abs_value as f64)?;
        let mel = mel
            .pad_with_zeros(1, self.config.pad, self.config.pad)?
            .unsqueeze(0)?;
        self.upsample.forward(&mel)
    }

    /// The waveform for a synthesizer mel `[feat, T]`, at `config.sample_rate`.
    pub fn vocode(
        &self,
        mel: &Tensor,
        options: &VocodeOptions,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Vec<f32>> {
        let seed = options.seed;
        let uniform = move |fold: usize, step: usize| seeded_uniform(seed, fold, step);
        let mut sampling = Sampling {
            uniform: &uniform,
            teacher: None,
            logits: None,
        };
        self.generate(mel, options.folding, &mut sampling, progress)
    }

    /// [`WaveRnn::vocode`] with the draws (and teacher forcing) under the caller's control.
    pub fn generate(
        &self,
        mel: &Tensor,
        folding: Option<Folding>,
        sampling: &mut Sampling,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Vec<f32>> {
        let frames = mel.dim(1)?;
        if frames < 2 {
            candle_core::bail!("the mel has {frames} frame(s); the vocoder needs at least 2");
        }
        let (mels, aux) = self.condition(mel)?;
        let (total, feat) = mels.dims2()?;
        let aux_width = aux.dim(1)?;
        let mels = mels.flatten_all()?.to_vec1::<f32>()?;
        let aux = aux.flatten_all()?.to_vec1::<f32>()?;
        let (mels, aux, folds, len) = match folding {
            Some(fold) => {
                let (m, folds, len) = fold_with_overlap(&mels, feat, total, fold);
                let (a, _, _) = fold_with_overlap(&aux, aux_width, total, fold);
                (m, a, folds, len)
            }
            None => (mels, aux, 1, total),
        };
        let samples = self.run_folds(&mels, &aux, folds, len, sampling, progress);
        let mut wave: Vec<f64> = match folding {
            Some(fold) => xfade_and_unfold(&samples, folds, len, fold.overlap),
            None => samples.iter().map(|&s| s as f64).collect(),
        };
        if self.config.mu_law {
            let mu = ((1u64 << self.config.bits) - 1) as f64;
            wave.iter_mut().for_each(|y| *y = decode_mu_law(*y, mu));
        }
        de_emphasis(&mut wave, self.config.preemphasis);
        wave.truncate((frames - 1) * self.config.hop_length);
        fade_out(&mut wave, 20 * self.config.hop_length);
        Ok(wave.into_iter().map(|s| s as f32).collect())
    }
}

impl WaveRnn {
    /// The sample loop over `folds` sequences, split into groups of folds that run on their own
    /// threads (up to rayon's thread count): folds are independent sequences, so the groups
    /// never wait on each other. Recording logits keeps everything on one thread.
    fn run_folds(
        &self,
        mels: &[f32],
        aux: &[f32],
        folds: usize,
        len: usize,
        sampling: &mut Sampling,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Vec<f32> {
        let groups = rayon::current_num_threads().min(folds).max(1);
        if groups == 1 || sampling.logits.is_some() {
            // One group: its products are split between the threads instead.
            let parallel = rayon::current_num_threads() > 1;
            let all = Conditioning {
                mels,
                aux,
                folds,
                len,
            };
            return self.sample_loop.run(all, sampling, parallel, &mut |done| {
                progress(done * folds, len * folds)
            });
        }
        let per_group = folds.div_ceil(groups);
        let (feat, aux_width) = (mels.len() / (folds * len), aux.len() / (folds * len));
        let stop = AtomicBool::new(false);
        let (uniform, teacher) = (sampling.uniform, sampling.teacher);
        let run_group = |g: usize, progress: &mut dyn FnMut(usize) -> bool| -> Vec<f32> {
            let first = g * per_group;
            let n = per_group.min(folds - first);
            let offset_uniform = move |fold: usize, step: usize| uniform(first + fold, step);
            let mut group_sampling = Sampling {
                uniform: &offset_uniform,
                teacher: teacher.map(|t| &t[first * len..(first + n) * len]),
                logits: None,
            };
            let group = Conditioning {
                mels: &mels[first * len * feat..(first + n) * len * feat],
                aux: &aux[first * len * aux_width..(first + n) * len * aux_width],
                folds: n,
                len,
            };
            self.sample_loop
                .run(group, &mut group_sampling, false, progress)
        };
        let used_groups = folds.div_ceil(per_group);
        let mut outputs: Vec<Vec<f32>> = Vec::with_capacity(used_groups);
        std::thread::scope(|scope| {
            let others: Vec<_> = (1..used_groups)
                .map(|g| {
                    let (run_group, stop) = (&run_group, &stop);
                    scope.spawn(move || run_group(g, &mut |_| !stop.load(Ordering::Relaxed)))
                })
                .collect();
            // The first group reports progress (the groups move in step) and relays a stop.
            outputs.push(run_group(0, &mut |done| {
                let go = progress(done * folds, len * folds);
                if !go {
                    stop.store(true, Ordering::Relaxed);
                }
                go
            }));
            outputs.extend(
                others
                    .into_iter()
                    .map(|h| h.join().expect("a vocoder thread panicked")),
            );
        });
        outputs.concat()
    }
}

/// The uniform draw for `(fold, step)` under `seed`: SplitMix64's output function on a key
/// mixing the three, so that any thread computes any draw.
pub fn seeded_uniform(seed: u64, fold: usize, step: usize) -> f32 {
    let key = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((fold as u64) << 40)
        .wrapping_add(step as u64);
    SplitMix64::new(key).next_f32()
}

/// Cuts `[total × width]` into `folds` overlapping segments of `target + 2·overlap` steps
/// starting every `target + overlap` steps, zero-padding the end (RTVC's `fold_with_overlap`).
pub fn fold_with_overlap(
    x: &[f32],
    width: usize,
    total: usize,
    fold: Folding,
) -> (Vec<f32>, usize, usize) {
    let Folding { target, overlap } = fold;
    let stride = target + overlap;
    let len = target + 2 * overlap;
    // Python's floor division, as RTVC computes it.
    let mut folds = (total as i64 - overlap as i64)
        .div_euclid(stride as i64)
        .max(0) as usize;
    if folds * stride + overlap != total {
        folds += 1;
    }
    let mut out = vec![0f32; folds * len * width];
    for i in 0..folds {
        let start = i * stride;
        let end = (start + len).min(total);
        if start < end {
            out[i * len * width..(i * len + end - start) * width]
                .copy_from_slice(&x[start * width..end * width]);
        }
    }
    (out, folds, len)
}

/// Undoes [`fold_with_overlap`]: an equal-power cross-fade over each overlap, whose first half is
/// silence (the RNN's warm-up), then overlap-add (RTVC's `xfade_and_unfold`).
pub fn xfade_and_unfold(y: &[f32], folds: usize, len: usize, overlap: usize) -> Vec<f64> {
    let target = len - 2 * overlap;
    let total = folds * (target + overlap) + overlap;
    let silence = overlap / 2;
    let fade = overlap - silence;
    let ramp = |i: usize| -> f64 {
        if fade == 1 {
            -1.0
        } else {
            -1.0 + 2.0 * i as f64 / (fade - 1) as f64
        }
    };
    let mut fade_in = vec![0f64; overlap];
    let mut fade_out = vec![0f64; overlap];
    for i in 0..fade {
        fade_in[silence + i] = (0.5 * (1.0 + ramp(i))).sqrt();
        fade_out[i] = (0.5 * (1.0 - ramp(i))).sqrt();
    }
    let mut out = vec![0f64; total];
    for f in 0..folds {
        let segment = &y[f * len..(f + 1) * len];
        let start = f * (target + overlap);
        for (i, &s) in segment.iter().enumerate() {
            let gain = if i < overlap {
                fade_in[i]
            } else if i >= len - overlap {
                fade_out[i - (len - overlap)]
            } else {
                1.0
            };
            out[start + i] += s as f64 * gain;
        }
    }
    out
}

/// Mu-law expansion of `y` in `[-1, 1]`: `sign(y)·((1 + μ)^|y| − 1)/μ`.
pub fn decode_mu_law(y: f64, mu: f64) -> f64 {
    if y == 0.0 {
        return 0.0; // numpy's sign(0) is 0
    }
    y.signum() * ((1.0 + mu).powf(y.abs()) - 1.0) / mu
}

/// Inverse pre-emphasis: `y[n] = x[n] + k·y[n−1]`.
pub fn de_emphasis(x: &mut [f64], k: f64) {
    let mut previous = 0.0;
    for v in x.iter_mut() {
        *v += k * previous;
        previous = *v;
    }
}

/// Scales the last `n` samples (or all, if fewer) by a line from 1 to 0.
pub fn fade_out(x: &mut [f64], n: usize) {
    let n = n.min(x.len());
    let start = x.len() - n;
    for (i, v) in x[start..].iter_mut().enumerate() {
        let gain = if n == 1 {
            1.0
        } else {
            1.0 - i as f64 / (n - 1) as f64
        };
        *v *= gain;
    }
}
