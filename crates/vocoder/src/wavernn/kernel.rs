//! WaveRNN's sample loop as one fused kernel: no tensor is made per sample.
//!
//! Per sample, RTVC's `generate` runs `I`, two GRU cells and three dense layers on
//! `[previous sample | mel | aux]`. Everything that depends only on the conditioning (the mel
//! and the four aux slices) is affine in it, and `I`'s output enters `rnn1` only through
//! another affine map, so those parts are computed ahead for a block of steps as large matrix
//! products. What is left per sample is one rank-1 update for the previous sample, five
//! `[B × 512] · [512 × n]` products on the recurrent path, the gate arithmetic and the
//! sampling, all in preallocated buffers.

pub use voxclone_nn::kernels::dense::Dense;

/// Steps whose conditioning products are computed together.
const BLOCK: usize = 128;

/// The sample loop's weights, split as the module docs say.
#[derive(Debug, Clone)]
pub struct SampleLoop {
    /// `I`'s column for the previous sample, and `rnn1`'s input weights applied to it.
    pub i_sample: Vec<f32>,
    pub rnn1_sample: Vec<f32>,
    /// `I` on `[mel | aux₁]`, then `rnn1`'s input weights on `I`'s output.
    pub i_cond: Dense,
    pub rnn1_ih: Dense,
    pub rnn1_hh: Dense,
    /// `rnn2`'s input weights on the residual stream, and on aux₂.
    pub rnn2_ih: Dense,
    pub rnn2_aux: Dense,
    pub rnn2_hh: Dense,
    pub fc1: Dense,
    pub fc1_aux: Dense,
    pub fc2: Dense,
    pub fc2_aux: Dense,
    pub fc3: Dense,
    pub rnn_dims: usize,
    pub aux_dims: usize,
    pub feat_dims: usize,
}

/// Where each step's uniform draw comes from, and optionally what to feed back instead of the
/// drawn sample (teacher forcing, for checking against a reference).
pub struct Sampling<'a> {
    /// `(fold, step)` → uniform in `[0, 1)`: a function of its arguments only, so that folds
    /// can run on several threads and still draw the same numbers.
    pub uniform: &'a (dyn Fn(usize, usize) -> f32 + Sync),
    /// Samples `[folds × len]` to feed back in place of the drawn ones.
    pub teacher: Option<&'a [f32]>,
    /// Receives every step's logits `[folds × len × classes]` when given.
    pub logits: Option<&'a mut [f32]>,
}

/// The upsampled conditioning of `folds` sequences of `len` steps: `mels`
/// `[folds × len × feat]` and `aux` `[folds × len × 4·aux_dims]`.
#[derive(Debug, Clone, Copy)]
pub struct Conditioning<'a> {
    pub mels: &'a [f32],
    pub aux: &'a [f32],
    pub folds: usize,
    pub len: usize,
}

impl SampleLoop {
    /// Runs the loop over the conditioning's sequences. Returns the samples in `[-1, 1]`
    /// (`2·label / (classes − 1) − 1`), `[folds × len]`. With `parallel`, each product is
    /// split between two threads. `progress` gets the steps done and may return `false` to
    /// stop (the rest stays silent).
    pub fn run(
        &self,
        conditioning: Conditioning,
        sampling: &mut Sampling,
        parallel: bool,
        progress: &mut dyn FnMut(usize) -> bool,
    ) -> Vec<f32> {
        let Conditioning {
            mels,
            aux,
            folds,
            len,
        } = conditioning;
        let (h, a, f) = (self.rnn_dims, self.aux_dims, self.feat_dims);
        let classes = self.fc3.output;
        let gates = 3 * h;
        assert_eq!(mels.len(), folds * len * f);
        assert_eq!(aux.len(), folds * len * 4 * a);

        let mut out = vec![0f32; folds * len];
        let mut h1 = vec![0f32; folds * h];
        let mut h2 = vec![0f32; folds * h];
        let mut sample = vec![0f32; folds];
        // Conditioning products for one block: rows are (fold, step in block).
        let rows = folds * BLOCK;
        let mut cond = vec![0f32; rows * (f + a)];
        let mut aux_k = vec![0f32; rows * a];
        let mut i_pre = vec![0f32; rows * h];
        let mut rnn1_pre = vec![0f32; rows * gates];
        let mut rnn2_pre = vec![0f32; rows * gates];
        let mut fc1_pre = vec![0f32; rows * self.fc1.output];
        let mut fc2_pre = vec![0f32; rows * self.fc2.output];
        // Per-step buffers.
        let mut x = vec![0f32; folds * h];
        let mut gi = vec![0f32; folds * gates];
        let mut gh = vec![0f32; folds * gates];
        let mut d1 = vec![0f32; folds * self.fc1.output];
        let mut d2 = vec![0f32; folds * self.fc2.output];
        let mut logits = vec![0f32; folds * classes];
        let mut probs = vec![0f32; classes];

        let mut start = 0;
        while start < len {
            let steps = BLOCK.min(len - start);
            let m = folds * steps;
            // Gather [mel | aux₁] and each aux slice for the block, row = fold·steps + s.
            let gather = |dst: &mut [f32], slice: Option<usize>| {
                for b in 0..folds {
                    for s in 0..steps {
                        let t = b * len + start + s;
                        let row = b * steps + s;
                        match slice {
                            None => {
                                let d = &mut dst[row * (f + a)..(row + 1) * (f + a)];
                                d[..f].copy_from_slice(&mels[t * f..(t + 1) * f]);
                                d[f..].copy_from_slice(&aux[t * 4 * a..t * 4 * a + a]);
                            }
                            Some(k) => {
                                let from = t * 4 * a + k * a;
                                dst[row * a..(row + 1) * a].copy_from_slice(&aux[from..from + a]);
                            }
                        }
                    }
                }
            };
            gather(&mut cond, None);
            self.i_cond.forward_on(&mut i_pre, &cond, m, parallel);
            self.rnn1_ih.forward_on(&mut rnn1_pre, &i_pre, m, parallel);
            gather(&mut aux_k, Some(1));
            self.rnn2_aux.forward_on(&mut rnn2_pre, &aux_k, m, parallel);
            gather(&mut aux_k, Some(2));
            self.fc1_aux.forward_on(&mut fc1_pre, &aux_k, m, parallel);
            gather(&mut aux_k, Some(3));
            self.fc2_aux.forward_on(&mut fc2_pre, &aux_k, m, parallel);

            for s in 0..steps {
                let t = start + s;
                for b in 0..folds {
                    let row = b * steps + s;
                    let xb = sample[b];
                    // I's output for this sample, and rnn1's input gates.
                    let xr = &mut x[b * h..(b + 1) * h];
                    for ((o, &p), &w) in xr.iter_mut().zip(&i_pre[row * h..]).zip(&self.i_sample) {
                        *o = p + xb * w;
                    }
                    let g = &mut gi[b * gates..(b + 1) * gates];
                    for ((o, &p), &w) in g
                        .iter_mut()
                        .zip(&rnn1_pre[row * gates..])
                        .zip(&self.rnn1_sample)
                    {
                        *o = p + xb * w;
                    }
                }
                self.rnn1_hh.forward_on(&mut gh, &h1, folds, parallel);
                gru_update(&gi, &gh, &mut h1, h);
                add_assign(&mut x, &h1);

                for b in 0..folds {
                    let row = b * steps + s;
                    gi[b * gates..(b + 1) * gates]
                        .copy_from_slice(&rnn2_pre[row * gates..(row + 1) * gates]);
                }
                self.rnn2_ih.accumulate_on(&mut gi, &x, folds, parallel);
                self.rnn2_hh.forward_on(&mut gh, &h2, folds, parallel);
                gru_update(&gi, &gh, &mut h2, h);
                add_assign(&mut x, &h2);

                let n1 = self.fc1.output;
                for b in 0..folds {
                    let row = b * steps + s;
                    d1[b * n1..(b + 1) * n1].copy_from_slice(&fc1_pre[row * n1..(row + 1) * n1]);
                }
                self.fc1.accumulate_on(&mut d1, &x, folds, parallel);
                relu(&mut d1);
                let n2 = self.fc2.output;
                for b in 0..folds {
                    let row = b * steps + s;
                    d2[b * n2..(b + 1) * n2].copy_from_slice(&fc2_pre[row * n2..(row + 1) * n2]);
                }
                self.fc2.accumulate_on(&mut d2, &d1, folds, parallel);
                relu(&mut d2);
                self.fc3.forward_on(&mut logits, &d2, folds, parallel);

                for b in 0..folds {
                    let l = &logits[b * classes..(b + 1) * classes];
                    if let Some(dst) = sampling.logits.as_deref_mut() {
                        let at = (b * len + t) * classes;
                        dst[at..at + classes].copy_from_slice(l);
                    }
                    let u = (sampling.uniform)(b, t);
                    let label = draw(l, u, &mut probs);
                    let value = 2.0 * label as f32 / (classes - 1) as f32 - 1.0;
                    out[b * len + t] = value;
                    sample[b] = match sampling.teacher {
                        Some(teacher) => teacher[b * len + t],
                        None => value,
                    };
                }
            }
            start += steps;
            if !progress(start) {
                break;
            }
        }
        out
    }
}

/// PyTorch's GRU update on `folds` rows, gates `[r | z | n]`: `r = σ(gi_r + gh_r)`,
/// `z = σ(gi_z + gh_z)`, `n = tanh(gi_n + r·gh_n)`, `h' = (1 − z)·n + z·h`.
fn gru_update(gi: &[f32], gh: &[f32], h: &mut [f32], hd: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { gru_update_avx512(gi, gh, h, hd) };
    }
    gru_update_body(gi, gh, h, hd)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn gru_update_avx512(gi: &[f32], gh: &[f32], h: &mut [f32], hd: usize) {
    gru_update_body(gi, gh, h, hd)
}

#[inline(always)]
fn gru_update_body(gi: &[f32], gh: &[f32], h: &mut [f32], hd: usize) {
    for (b, hb) in h.chunks_exact_mut(hd).enumerate() {
        let (gi, gh) = (
            &gi[b * 3 * hd..(b + 1) * 3 * hd],
            &gh[b * 3 * hd..(b + 1) * 3 * hd],
        );
        let (ir, iz, inn) = (&gi[..hd], &gi[hd..2 * hd], &gi[2 * hd..]);
        let (hr, hz, hn) = (&gh[..hd], &gh[hd..2 * hd], &gh[2 * hd..]);
        let gates = ir
            .iter()
            .zip(hr)
            .zip(iz.iter().zip(hz))
            .zip(inn.iter().zip(hn));
        for (h, (((&ir, &hr), (&iz, &hz)), (&inn, &hn))) in hb.iter_mut().zip(gates) {
            let r = sigmoid(ir + hr);
            let z = sigmoid(iz + hz);
            let n = tanh(inn + r * hn);
            *h = n + z * (*h - n);
        }
    }
}

/// `e^x` to about 2e-7 relative, in plain arithmetic that vectorises: `x = n·ln 2 + r` with
/// `|r| ≤ ln 2 / 2`, a degree-6 Taylor polynomial for `e^r`, and `2^n` built in the exponent
/// bits.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[inline(always)]
fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (1.0 + exp(2.0 * x))
}

fn add_assign(dst: &mut [f32], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
}

fn relu(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = v.max(0.0));
}

/// Draws a class from `softmax(logits)` with the uniform `u`: the first class whose cumulative
/// probability exceeds `u` (inverse-CDF sampling; the last class if rounding leaves none).
pub fn draw(logits: &[f32], u: f32, probs: &mut [f32]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { draw_avx512(logits, u, probs) };
    }
    draw_body(logits, u, probs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn draw_avx512(logits: &[f32], u: f32, probs: &mut [f32]) -> usize {
    draw_body(logits, u, probs)
}

#[inline(always)]
fn draw_body(logits: &[f32], u: f32, probs: &mut [f32]) -> usize {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for (p, &l) in probs.iter_mut().zip(logits) {
        *p = exp(l - max);
    }
    let sum: f32 = probs.iter().sum();
    let mut cumulative = 0f64;
    for (i, &p) in probs.iter().enumerate() {
        // Normalised in f32 as a softmax is, accumulated in f64 as torch's cumsum is.
        cumulative += (p / sum) as f64;
        if cumulative > u as f64 {
            return i;
        }
    }
    logits.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_and_gates_are_accurate() {
        let mut worst = 0f32;
        for i in -8000..=8000 {
            let x = i as f32 / 100.0;
            let rel = ((exp(x) - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 5e-7, "exp relative error {worst}");
        for i in -2000..=2000 {
            let x = i as f32 / 100.0;
            assert!(
                (sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs() < 1e-6,
                "sigmoid({x})"
            );
            assert!((tanh(x) - x.tanh()).abs() < 1e-6, "tanh({x})");
        }
    }

    #[test]
    fn draws_follow_the_cumulative_distribution() {
        let logits = [0.0f32, (3.0f32).ln(), 0.0]; // probabilities 0.2, 0.6, 0.2
        let mut probs = [0f32; 3];
        assert_eq!(draw(&logits, 0.1, &mut probs), 0);
        assert_eq!(draw(&logits, 0.5, &mut probs), 1);
        assert_eq!(draw(&logits, 0.79, &mut probs), 1);
        assert_eq!(draw(&logits, 0.81, &mut probs), 2);
        assert_eq!(draw(&logits, 0.999_999_9, &mut probs), 2);
    }
}
