//! WaveRNN's sample loop as one fused kernel: no tensor is made per sample.
//!
//! Per sample, RTVC's `generate` runs `I`, two GRU cells and three dense layers on
//! `[previous sample | mel | aux]`. Everything that depends only on the conditioning (the mel
//! and the four aux slices) is affine in it, and `I`'s output enters `rnn1` only through
//! another affine map, so those parts are computed ahead for a block of steps as large matrix
//! products. What is left per sample is one rank-1 update for the previous sample, five
//! `[B × 512] · [512 × n]` products on the recurrent path, the gate arithmetic and the
//! sampling, all in preallocated buffers.

use gemm::Parallelism;

/// Steps whose conditioning products are computed together.
const BLOCK: usize = 128;

/// A dense layer's weight transposed to `[in × out]` row-major (so `y = x · w`), with its bias.
#[derive(Debug, Clone)]
pub struct Dense {
    pub w: Vec<f32>,
    pub bias: Vec<f32>,
    pub input: usize,
    pub output: usize,
}

impl Dense {
    /// From PyTorch's `[out × in]` weight, taking input columns `cols`.
    pub fn from_torch(
        weight: &[f32],
        bias: Option<&[f32]>,
        output: usize,
        input: usize,
        cols: std::ops::Range<usize>,
    ) -> Self {
        let n_in = cols.len();
        let mut w = vec![0f32; n_in * output];
        for o in 0..output {
            for (k, c) in cols.clone().enumerate() {
                w[k * output + o] = weight[o * input + c];
            }
        }
        Self {
            w,
            bias: bias.map_or_else(|| vec![0.0; output], <[f32]>::to_vec),
            input: n_in,
            output,
        }
    }

    /// `dst (m × out) = bias + lhs (m × in) · w`.
    pub fn forward(&self, dst: &mut [f32], lhs: &[f32], m: usize) {
        for row in dst[..m * self.output].chunks_exact_mut(self.output) {
            row.copy_from_slice(&self.bias);
        }
        self.accumulate(dst, lhs, m);
    }

    /// `dst (m × out) += lhs (m × in) · w`.
    pub fn accumulate(&self, dst: &mut [f32], lhs: &[f32], m: usize) {
        let (k, n) = (self.input, self.output);
        assert!(dst.len() >= m * n && lhs.len() >= m * k && self.w.len() == k * n);
        if m == 0 {
            return;
        }
        // SAFETY: the assert keeps every access in bounds; strides describe row-major layouts.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst.as_mut_ptr(),
                1,
                n as isize,
                true,
                lhs.as_ptr(),
                1,
                k as isize,
                self.w.as_ptr(),
                1,
                n as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                Parallelism::None,
            );
        }
    }
}

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
    /// `(fold, step)` → uniform in `[0, 1)`.
    pub uniform: &'a mut dyn FnMut(usize, usize) -> f32,
    /// Samples `[folds × len]` to feed back in place of the drawn ones.
    pub teacher: Option<&'a [f32]>,
    /// Receives every step's logits `[folds × len × classes]` when given.
    pub logits: Option<&'a mut [f32]>,
}

impl SampleLoop {
    /// Runs the loop over `folds` sequences of `len` steps. `mels` `[folds × len × feat]` and
    /// `aux` `[folds × len × 4·aux_dims]` are the upsampled conditioning. Returns the samples
    /// in `[-1, 1]` (`2·label / (classes − 1) − 1`), `[folds × len]`. `progress` gets the steps
    /// done and may return `false` to stop (the rest stays silent).
    pub fn run(
        &self,
        mels: &[f32],
        aux: &[f32],
        folds: usize,
        len: usize,
        sampling: &mut Sampling,
        progress: &mut dyn FnMut(usize) -> bool,
    ) -> Vec<f32> {
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
        let mut probs = vec![0f64; classes];

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
            self.i_cond.forward(&mut i_pre, &cond, m);
            self.rnn1_ih.forward(&mut rnn1_pre, &i_pre, m);
            gather(&mut aux_k, Some(1));
            self.rnn2_aux.forward(&mut rnn2_pre, &aux_k, m);
            gather(&mut aux_k, Some(2));
            self.fc1_aux.forward(&mut fc1_pre, &aux_k, m);
            gather(&mut aux_k, Some(3));
            self.fc2_aux.forward(&mut fc2_pre, &aux_k, m);

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
                self.rnn1_hh.forward(&mut gh, &h1, folds);
                gru_update(&gi, &gh, &mut h1, h);
                add_assign(&mut x, &h1);

                for b in 0..folds {
                    let row = b * steps + s;
                    gi[b * gates..(b + 1) * gates]
                        .copy_from_slice(&rnn2_pre[row * gates..(row + 1) * gates]);
                }
                self.rnn2_ih.accumulate(&mut gi, &x, folds);
                self.rnn2_hh.forward(&mut gh, &h2, folds);
                gru_update(&gi, &gh, &mut h2, h);
                add_assign(&mut x, &h2);

                let n1 = self.fc1.output;
                for b in 0..folds {
                    let row = b * steps + s;
                    d1[b * n1..(b + 1) * n1].copy_from_slice(&fc1_pre[row * n1..(row + 1) * n1]);
                }
                self.fc1.accumulate(&mut d1, &x, folds);
                relu(&mut d1);
                let n2 = self.fc2.output;
                for b in 0..folds {
                    let row = b * steps + s;
                    d2[b * n2..(b + 1) * n2].copy_from_slice(&fc2_pre[row * n2..(row + 1) * n2]);
                }
                self.fc2.accumulate(&mut d2, &d1, folds);
                relu(&mut d2);
                self.fc3.forward(&mut logits, &d2, folds);

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
    for (b, hb) in h.chunks_exact_mut(hd).enumerate() {
        let (gi, gh) = (
            &gi[b * 3 * hd..(b + 1) * 3 * hd],
            &gh[b * 3 * hd..(b + 1) * 3 * hd],
        );
        for j in 0..hd {
            let r = sigmoid(gi[j] + gh[j]);
            let z = sigmoid(gi[hd + j] + gh[hd + j]);
            let n = (gi[2 * hd + j] + r * gh[2 * hd + j]).tanh();
            hb[j] = n + z * (hb[j] - n);
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn add_assign(dst: &mut [f32], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
}

fn relu(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = v.max(0.0));
}

/// Draws a class from `softmax(logits)` with the uniform `u`: the first class whose cumulative
/// probability exceeds `u` (inverse-CDF sampling; the last class if rounding leaves none).
pub fn draw(logits: &[f32], u: f32, probs: &mut [f64]) -> usize {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for (p, &l) in probs.iter_mut().zip(logits) {
        let e = (l - max).exp();
        *p = e as f64;
        sum += e;
    }
    let mut cumulative = 0f64;
    for (i, p) in probs.iter().enumerate() {
        // Normalised in f32 as a softmax is, accumulated in f64.
        cumulative += (*p as f32 / sum) as f64;
        if cumulative > u as f64 {
            return i;
        }
    }
    logits.len() - 1
}
