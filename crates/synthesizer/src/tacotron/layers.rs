//! The building blocks of RTVC's Tacotron, each loading its weights by RTVC's state-dict names:
//! pre-nets with dropout, batch-normalised convolutions, highway layers, the CBHG module (Wang
//! et al. 2017) and the recurrent cells (PyTorch's GRU and LSTM equations and gate orders).

use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::VarBuilder;
use voxclone_nn::gru::GruSequence;
use voxclone_nn::kernels::dense::Dense;
use voxclone_nn::norm::batch_norm_affine as batch_norm;
pub use voxclone_nn::rng::SplitMix64;
use voxclone_train::batch_norm::batch_norm_training;
use voxclone_train::graph::{conv1d_unfolded, step_matmul, DeferredGrads, DeferredWeight};

/// What the layers are built for.
///
/// - `Inference`: batch norm folded into a scale and shift, and on the CPU the decoder's large
///   products on the fused [`Dense`] kernel.
/// - `Training`: every weight used as loaded (views only, so a layer reads its variable's
///   current value after each optimiser step), batch norm on the batch's statistics, which it
///   records in [`BatchStats`] for the running ones, and zoneout in the decoder.
#[derive(Debug, Clone, Default)]
pub enum Mode {
    #[default]
    Inference,
    /// `weights`: the decoder's and recurrent layers' weights, whose gradients are formed once
    /// per backward pass ([`DeferredGrads`]).
    Training {
        stats: BatchStats,
        weights: DeferredGrads,
    },
}

impl Mode {
    pub fn is_training(&self) -> bool {
        matches!(self, Mode::Training { .. })
    }
}

/// A weight `[out, in]` applied as `x · Wᵀ`: transposed once for inference, or in training a
/// [`DeferredWeight`], whose gradient is formed once per backward pass rather than once per
/// step.
#[derive(Debug, Clone)]
enum Projection {
    Transposed(Tensor),
    Deferred(DeferredWeight),
}

impl Projection {
    fn new(weight: &Tensor, mode: &Mode) -> Result<Self> {
        Ok(match mode {
            Mode::Inference => Self::Transposed(weight.t()?.contiguous()?),
            Mode::Training { weights, .. } => Self::Deferred(weights.weight(weight)),
        })
    }

    /// `x` `[…, in]` → `[…, out]`.
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Self::Transposed(w_t) if x.rank() == 2 => x.matmul(w_t),
            Self::Transposed(w_t) => x.broadcast_matmul(w_t),
            Self::Deferred(w) => over_rows(x, |rows| w.matmul(rows)),
        }
    }
}

/// `product` of `x` `[…, in]` taken as one matrix of rows `[rows, in]`, shaped back to
/// `[…, out]`. In training this keeps the weight a single graph node: a product broadcast
/// over the leading dimensions would add a node (and a gradient) per call.
fn over_rows(x: &Tensor, product: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let mut dims = x.dims().to_vec();
    let input = dims.pop().unwrap_or(1);
    let rows = dims.iter().product::<usize>();
    let y = product(&x.reshape((rows, input))?)?;
    dims.push(y.dim(1)?);
    y.reshape(dims)
}

/// One batch norm's statistics from a training pass: its name prefix (e.g.
/// `encoder.cbhg.conv1d_bank.0.bnorm`), the batch mean and biased variance per channel, and
/// how many values each was taken over.
#[derive(Debug, Clone)]
pub struct BatchStat {
    pub prefix: String,
    pub mean: Tensor,
    pub var: Tensor,
    pub count: usize,
}

/// The batch statistics a training forward pass recorded, in order.
#[derive(Debug, Clone, Default)]
pub struct BatchStats(Arc<Mutex<Vec<BatchStat>>>);

impl BatchStats {
    /// The statistics recorded since the last call.
    pub fn take(&self) -> Vec<BatchStat> {
        std::mem::take(&mut *self.0.lock().expect("batch statistics lock"))
    }

    fn record(&self, stat: BatchStat) {
        self.0.lock().expect("batch statistics lock").push(stat);
    }
}

/// A linear layer `x·Wᵀ + b` (`weight` `[out, in]`, optional `bias`) whose transpose is taken
/// once. In training this matters: `candle_nn::Linear` transposes per call, a new graph node at
/// every decoder step, and the backward pass holds each such node's full weight gradient until
/// it reaches the weight (gigabytes over a long utterance).
#[derive(Debug, Clone)]
pub struct Linear {
    weight_t: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// `[out, in]`.
    pub fn weight(&self) -> Result<Tensor> {
        self.weight_t.t()
    }

    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // In training the input is made contiguous: candle's product gradients came out wrong
        // for a transposed operand (the attention's location features).
        let contiguous;
        let x = if self.weight_t.track_op() && !x.is_contiguous() {
            contiguous = x.contiguous()?;
            &contiguous
        } else {
            x
        };
        let y = match x.dims() {
            [_, _] => step_matmul(x, &self.weight_t)?,
            _ if self.weight_t.track_op() => {
                over_rows(x, |rows| step_matmul(rows, &self.weight_t))?
            }
            _ => x.broadcast_matmul(&self.weight_t)?,
        };
        match &self.bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
}

/// Reads a [`Linear`] by RTVC's names.
pub fn linear(input: usize, output: usize, bias: bool, vb: VarBuilder) -> Result<Linear> {
    let weight = vb.get((output, input), "weight")?;
    let bias = if bias {
        Some(vb.get(output, "bias")?)
    } else {
        None
    };
    Ok(Linear {
        weight_t: weight.t()?,
        bias,
    })
}

/// A linear layer that, for inference on the CPU, runs on the fused [`Dense`] product split
/// between two threads (for the decoder's large per-step projections); graphs that track
/// gradients, and other devices, take candle's path.
#[derive(Debug, Clone)]
pub struct StepLinear {
    linear: Linear,
    fused: Option<std::sync::Arc<Dense>>,
    /// In training, the weight as a [`DeferredWeight`].
    deferred: Option<DeferredWeight>,
}

impl StepLinear {
    pub fn load(
        input: usize,
        output: usize,
        bias: bool,
        vb: VarBuilder,
        mode: &Mode,
    ) -> Result<Self> {
        let linear = linear(input, output, bias, vb.clone())?;
        let fused = if vb.device().is_cpu() && !mode.is_training() {
            let w = linear
                .weight()?
                .contiguous()?
                .flatten_all()?
                .to_vec1::<f32>()?;
            let b = linear.bias().map(|b| b.to_vec1::<f32>()).transpose()?;
            Some(std::sync::Arc::new(Dense::from_torch(
                &w,
                b.as_deref(),
                output,
                input,
                0..input,
            )))
        } else {
            None
        };
        let deferred = match mode {
            // The variable itself (`linear` holds a transposed view of it).
            Mode::Training { weights, .. } => {
                Some(weights.weight(&vb.get((output, input), "weight")?))
            }
            Mode::Inference => None,
        };
        Ok(Self {
            linear,
            fused,
            deferred,
        })
    }
}

impl Module for StepLinear {
    /// `x` `[B, in]` → `[B, out]`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match &self.fused {
            Some(fused) if !x.track_op() && x.rank() == 2 => {
                let batch = x.dim(0)?;
                let mut y = vec![0f32; batch * fused.output];
                fused.forward_on(&mut y, &x.flatten_all()?.to_vec1::<f32>()?, batch, true);
                Tensor::from_vec(y, (batch, fused.output), x.device())
            }
            _ => match (&self.deferred, self.linear.bias()) {
                (Some(w), Some(b)) => w.matmul(x)?.broadcast_add(b),
                (Some(w), None) => w.matmul(x),
                (None, _) => self.linear.forward(x),
            },
        }
    }
}

/// Dropout in the pre-nets. RTVC applies it at inference too (`F.dropout(…, training=True)`, as
/// Tacotron 2 does, for variety): its models were trained to expect it. `Off` is for parity
/// checks against a reference with dropout disabled.
#[derive(Debug, Clone)]
pub enum Dropout {
    Off,
    On(SplitMix64),
}

impl Dropout {
    /// Zeroes each value with probability `p` and scales the rest by `1 / (1 - p)`.
    pub fn apply(&mut self, x: &Tensor, p: f32) -> Result<Tensor> {
        let Dropout::On(rng) = self else {
            return Ok(x.clone());
        };
        if p <= 0.0 {
            return Ok(x.clone());
        }
        let scale = 1.0 / (1.0 - p);
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| if rng.next_f32() < p { 0.0 } else { scale })
            .collect();
        x.mul(&Tensor::from_vec(mask, x.shape(), x.device())?)
    }
}

/// Two ReLU layers, each followed by dropout.
#[derive(Debug, Clone)]
pub struct PreNet {
    fc1: Linear,
    fc2: Linear,
    dropout: f32,
}

impl PreNet {
    pub fn load(
        input: usize,
        fc1: usize,
        fc2: usize,
        dropout: f32,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            fc1: linear(input, fc1, true, vb.pp("fc1"))?,
            fc2: linear(fc1, fc2, true, vb.pp("fc2"))?,
            dropout,
        })
    }

    pub fn forward(&self, x: &Tensor, dropout: &mut Dropout) -> Result<Tensor> {
        let x = dropout.apply(&self.fc1.forward(x)?.relu()?, self.dropout)?;
        dropout.apply(&self.fc2.forward(&x)?.relu()?, self.dropout)
    }
}

/// Batch norm, folded for inference or on batch statistics for training (see [`Mode`]).
#[derive(Debug, Clone)]
enum Norm {
    Folded {
        scale: Tensor,
        shift: Tensor,
    },
    Batch {
        gamma: Tensor,
        beta: Tensor,
        prefix: String,
        stats: BatchStats,
    },
}

/// Convolution (no bias, "same" padding `k / 2`), optional ReLU, then batch norm — in that
/// order, as RTVC has it.
#[derive(Debug, Clone)]
pub struct BatchNormConv {
    weight: Tensor,
    norm: Norm,
    relu: bool,
}

impl BatchNormConv {
    pub fn load(
        input: usize,
        output: usize,
        kernel: usize,
        relu: bool,
        vb: VarBuilder,
        mode: &Mode,
    ) -> Result<Self> {
        let weight = vb.get((output, input, kernel), "conv.weight")?;
        let vb = vb.pp("bnorm");
        let norm = match mode {
            Mode::Inference => {
                let (scale, shift) = batch_norm(output, vb)?;
                Norm::Folded { scale, shift }
            }
            Mode::Training { stats, .. } => {
                // Created here so that a checkpoint has them; training updates them by name.
                vb.get(output, "running_mean")?;
                vb.get(output, "running_var")?;
                Norm::Batch {
                    gamma: vb.get(output, "weight")?,
                    beta: vb.get(output, "bias")?,
                    prefix: vb.prefix(),
                    stats: stats.clone(),
                }
            }
        };
        Ok(Self { weight, norm, relu })
    }

    /// `[B, C_in, T]` → `[B, C_out, T + 1 - k % 2]` (even kernels give one extra frame, which
    /// the CBHG drops).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let k = self.weight.dim(2)?;
        let mut y = same_padding_conv1d(x, &self.weight, k / 2)?;
        if self.relu {
            y = y.relu()?;
        }
        match &self.norm {
            Norm::Folded { scale, shift } => y.broadcast_mul(scale)?.broadcast_add(shift),
            Norm::Batch {
                gamma,
                beta,
                prefix,
                stats,
            } => {
                let (b, _, t) = y.dims3()?;
                let (y, mean, var) = batch_norm_training(&y, gamma, beta)?;
                stats.record(BatchStat {
                    prefix: prefix.clone(),
                    mean,
                    var,
                    count: b * t,
                });
                Ok(y)
            }
        }
    }
}

/// A stride-1 convolution with `padding` zeros on each side. Graphs that train take
/// [`conv1d_unfolded`], whose gradients are right for batches (candle's are not).
pub fn same_padding_conv1d(x: &Tensor, weight: &Tensor, padding: usize) -> Result<Tensor> {
    if x.track_op() || weight.track_op() {
        conv1d_unfolded(&x.pad_with_zeros(2, padding, padding)?, weight)
    } else {
        x.conv1d(weight, padding, 1, 1, 1)
    }
}

/// `y = σ(W2 x) · relu(W1 x) + (1 − σ(W2 x)) · x`.
#[derive(Debug, Clone)]
pub struct Highway {
    w1: Linear,
    w2: Linear,
}

impl Highway {
    pub fn load(size: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            w1: linear(size, size, true, vb.pp("W1"))?,
            w2: linear(size, size, true, vb.pp("W2"))?,
        })
    }
}

impl Module for Highway {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let gate = candle_nn::ops::sigmoid(&self.w2.forward(x)?)?;
        let h = self.w1.forward(x)?.relu()?;
        // g·h + (1 − g)·x = x + g·(h − x)
        x + gate.mul(&(h - x)?)?
    }
}

/// The CBHG module: a bank of convolutions of widths 1…K, max-pooling over time (width 2,
/// stride 1), two projection convolutions with a residual connection, highway layers and a
/// bidirectional GRU.
#[derive(Debug, Clone)]
pub struct Cbhg {
    bank: Vec<BatchNormConv>,
    project1: BatchNormConv,
    project2: BatchNormConv,
    pre_highway: Option<Linear>,
    highways: Vec<Highway>,
    rnn: BiGru,
}

impl Cbhg {
    /// `proj_channels` are the two projections' widths; when the last differs from `channels`
    /// a bias-free `pre_highway` layer maps it back (RTVC's post-net has 80 → 512).
    pub fn load(
        k: usize,
        input: usize,
        channels: usize,
        proj_channels: [usize; 2],
        num_highways: usize,
        vb: VarBuilder,
        mode: &Mode,
    ) -> Result<Self> {
        let bank = (1..=k)
            .map(|width| {
                BatchNormConv::load(
                    input,
                    channels,
                    width,
                    true,
                    vb.pp(format!("conv1d_bank.{}", width - 1)),
                    mode,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let project1 = BatchNormConv::load(
            k * channels,
            proj_channels[0],
            3,
            true,
            vb.pp("conv_project1"),
            mode,
        )?;
        let project2 = BatchNormConv::load(
            proj_channels[0],
            proj_channels[1],
            3,
            false,
            vb.pp("conv_project2"),
            mode,
        )?;
        let pre_highway = if proj_channels[1] != channels {
            Some(linear(
                proj_channels[1],
                channels,
                false,
                vb.pp("pre_highway"),
            )?)
        } else {
            None
        };
        let highways = (0..num_highways)
            .map(|i| Highway::load(channels, vb.pp(format!("highways.{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let rnn = BiGru::load(channels, channels / 2, vb.pp("rnn"), mode)?;
        Ok(Self {
            bank,
            project1,
            project2,
            pre_highway,
            highways,
            rnn,
        })
    }

    /// `[B, C_in, T]` → `[B, T, channels]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let t = x.dim(2)?;
        let bank = self
            .bank
            .iter()
            .map(|conv| conv.forward(x)?.narrow(2, 0, t))
            .collect::<Result<Vec<_>>>()?;
        let bank = Tensor::cat(&bank, 1)?;
        // MaxPool1d(2, stride 1, padding 1) cut to T frames: frame i is max(x[i−1], x[i]),
        // frame 0 is x[0] (the padding is −∞).
        let previous = Tensor::cat(&[bank.narrow(2, 0, 1)?, bank.narrow(2, 0, t - 1)?], 2)?;
        let pooled = bank.maximum(&previous)?;
        let y = self.project2.forward(&self.project1.forward(&pooled)?)?;
        let mut y = (y + x)?.transpose(1, 2)?.contiguous()?;
        if let Some(pre) = &self.pre_highway {
            y = pre.forward(&y)?;
        }
        for highway in &self.highways {
            y = highway.forward(&y)?;
        }
        self.rnn.forward(&y)
    }
}

/// One direction of a GRU layer, or a `GRUCell`: weights `[3H, I]` and `[3H, H]` with gate rows
/// `[r | z | n]`, each applied as `x · Wᵀ`.
#[derive(Debug, Clone)]
pub struct GruWeights {
    w_ih: Projection,
    w_hh: Projection,
    b_ih: Tensor,
    b_hh: Tensor,
    hidden: usize,
}

impl GruWeights {
    /// `suffix` is `""` for a `GRUCell`, `"_l0"` or `"_l0_reverse"` for a layer of `nn.GRU`.
    pub fn load(
        input: usize,
        hidden: usize,
        suffix: &str,
        vb: &VarBuilder,
        mode: &Mode,
    ) -> Result<Self> {
        let weight = |shape: (usize, usize), name: String| -> Result<Projection> {
            Projection::new(&vb.get(shape, &name)?, mode)
        };
        Ok(Self {
            w_ih: weight((3 * hidden, input), format!("weight_ih{suffix}"))?,
            w_hh: weight((3 * hidden, hidden), format!("weight_hh{suffix}"))?,
            b_ih: vb.get(3 * hidden, &format!("bias_ih{suffix}"))?,
            b_hh: vb.get(3 * hidden, &format!("bias_hh{suffix}"))?,
            hidden,
        })
    }

    /// `x W_ihᵀ + b_ih` for inputs `[…, I]`.
    pub fn input_projection(&self, x: &Tensor) -> Result<Tensor> {
        self.w_ih.apply(x)?.broadcast_add(&self.b_ih)
    }

    /// One step from a projected input `gi` `[B, 3H]` and the state `h` `[B, H]`:
    /// `r = σ(gi_r + gh_r)`, `z = σ(gi_z + gh_z)`, `n = tanh(gi_n + r·gh_n)`,
    /// `h' = (1 − z)·n + z·h`.
    pub fn step_projected(&self, gi: &Tensor, h: &Tensor) -> Result<Tensor> {
        let hd = self.hidden;
        let gh = self.w_hh.apply(h)?.broadcast_add(&self.b_hh)?;
        let rz = candle_nn::ops::sigmoid(&(gi.narrow(1, 0, 2 * hd)? + gh.narrow(1, 0, 2 * hd)?)?)?;
        let r = rz.narrow(1, 0, hd)?;
        let z = rz.narrow(1, hd, hd)?;
        let n = (gi.narrow(1, 2 * hd, hd)? + r.mul(&gh.narrow(1, 2 * hd, hd)?)?)?.tanh()?;
        // (1 − z)·n + z·h = n + z·(h − n)
        &n + z.mul(&(h - &n)?)?
    }

    /// Whether [`GruWeights::sequence`] runs: in training, on the CPU.
    fn has_sequence_op(&self, device: &Device) -> bool {
        matches!(self.w_hh, Projection::Deferred(_)) && device.is_cpu()
    }

    /// In training on the CPU, the whole recurrence over projected inputs `gi` `[B, T, 3H]`
    /// from a zero state as one operation with its own backward pass through time (the WaveRNN
    /// trainer's [`GruSequence`]): `[B, T, H]`. Step by step, each step's slice of `gi` would
    /// take a gradient the size of the whole sequence.
    fn sequence(&self, gi: &Tensor) -> Result<Tensor> {
        let Projection::Deferred(w_hh) = &self.w_hh else {
            candle_core::bail!("the GRU sequence operation is for training");
        };
        gi.contiguous()?
            .apply_op3(w_hh.weight(), &self.b_hh, GruSequence)
    }

    /// A `GRUCell` step.
    pub fn step(&self, x: &Tensor, h: &Tensor) -> Result<Tensor> {
        self.step_projected(&self.input_projection(x)?, h)
    }

    pub fn zeros(&self, batch: usize, device: &Device) -> Result<Tensor> {
        Tensor::zeros((batch, self.hidden), DType::F32, device)
    }
}

/// A bidirectional one-layer `nn.GRU` (`batch_first`): `[B, T, I]` → `[B, T, 2H]`, the
/// forward direction's outputs then the backward one's.
#[derive(Debug, Clone)]
pub struct BiGru {
    forward: GruWeights,
    backward: GruWeights,
}

impl BiGru {
    pub fn load(input: usize, hidden: usize, vb: VarBuilder, mode: &Mode) -> Result<Self> {
        Ok(Self {
            forward: GruWeights::load(input, hidden, "_l0", &vb, mode)?,
            backward: GruWeights::load(input, hidden, "_l0_reverse", &vb, mode)?,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (batch, t, _) = x.dims3()?;
        if self.forward.has_sequence_op(x.device()) {
            let fwd = self.forward.sequence(&self.forward.input_projection(x)?)?;
            // The backward direction is the forward recurrence over time reversed.
            let reversed = Tensor::from_vec((0..t as u32).rev().collect(), t, x.device())?;
            let gi = self
                .backward
                .input_projection(x)?
                .index_select(&reversed, 1)?;
            let bwd = self.backward.sequence(&gi)?.index_select(&reversed, 1)?;
            return Tensor::cat(&[fwd, bwd], D::Minus1);
        }
        let run =
            |weights: &GruWeights, order: &mut dyn Iterator<Item = usize>| -> Result<Vec<Tensor>> {
                let gi = weights.input_projection(x)?;
                let mut h = weights.zeros(batch, x.device())?;
                let mut outputs = vec![None; t];
                for i in order {
                    h = weights.step_projected(&gi.narrow(1, i, 1)?.squeeze(1)?, &h)?;
                    outputs[i] = Some(h.clone());
                }
                Ok(outputs.into_iter().flatten().collect())
            };
        let fwd = Tensor::stack(&run(&self.forward, &mut (0..t))?, 1)?;
        let bwd = Tensor::stack(&run(&self.backward, &mut (0..t).rev())?, 1)?;
        Tensor::cat(&[fwd, bwd], D::Minus1)
    }
}

/// An `nn.LSTMCell`: gate rows `[i | f | g | o]`; `c' = σ(f)·c + σ(i)·tanh(g)`,
/// `h' = σ(o)·tanh(c')`.
///
/// On the CPU, inference runs on a fused product ([`Dense`]: `[x | h]` times both weight
/// matrices at once, split between two threads): the decoder's two cells read 67 MB of weights
/// per step, and streaming them is what the step costs. Graphs that track gradients take the
/// candle path.
#[derive(Debug, Clone)]
pub struct LstmCell {
    w_ih: Projection,
    w_hh: Projection,
    b_ih: Tensor,
    b_hh: Tensor,
    hidden: usize,
    fused: Option<std::sync::Arc<Dense>>,
}

impl LstmCell {
    pub fn load(input: usize, hidden: usize, vb: VarBuilder, mode: &Mode) -> Result<Self> {
        let b_ih = vb.get(4 * hidden, "bias_ih")?;
        let b_hh = vb.get(4 * hidden, "bias_hh")?;
        let w_ih = vb.get((4 * hidden, input), "weight_ih")?;
        let w_hh = vb.get((4 * hidden, hidden), "weight_hh")?;
        let fused = if vb.device().is_cpu() && !mode.is_training() {
            let both = Tensor::cat(&[&w_ih, &w_hh], 1)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            let bias = (&b_ih + &b_hh)?.to_vec1::<f32>()?;
            let (gates, width) = (4 * hidden, input + hidden);
            Some(std::sync::Arc::new(Dense::from_torch(
                &both,
                Some(&bias),
                gates,
                width,
                0..width,
            )))
        } else {
            None
        };
        Ok(Self {
            w_ih: Projection::new(&w_ih, mode)?,
            w_hh: Projection::new(&w_hh, mode)?,
            b_ih,
            b_hh,
            hidden,
            fused,
        })
    }

    /// The fused step (see the type's docs), with PyTorch's cell equations.
    fn step_fused(
        &self,
        fused: &Dense,
        x: &Tensor,
        h: &Tensor,
        c: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let (batch, input) = x.dims2()?;
        let hd = self.hidden;
        let xs = x.flatten_all()?.to_vec1::<f32>()?;
        let hs = h.flatten_all()?.to_vec1::<f32>()?;
        let cs = c.flatten_all()?.to_vec1::<f32>()?;
        let mut lhs = Vec::with_capacity(batch * (input + hd));
        for b in 0..batch {
            lhs.extend_from_slice(&xs[b * input..(b + 1) * input]);
            lhs.extend_from_slice(&hs[b * hd..(b + 1) * hd]);
        }
        let mut gates = vec![0f32; batch * 4 * hd];
        fused.forward_on(&mut gates, &lhs, batch, true);
        let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
        let (mut h_next, mut c_next) = (vec![0f32; batch * hd], vec![0f32; batch * hd]);
        for b in 0..batch {
            let g = &gates[b * 4 * hd..(b + 1) * 4 * hd];
            for j in 0..hd {
                let c = sigmoid(g[hd + j]) * cs[b * hd + j] + sigmoid(g[j]) * g[2 * hd + j].tanh();
                c_next[b * hd + j] = c;
                h_next[b * hd + j] = sigmoid(g[3 * hd + j]) * c.tanh();
            }
        }
        Ok((
            Tensor::from_vec(h_next, (batch, hd), x.device())?,
            Tensor::from_vec(c_next, (batch, hd), x.device())?,
        ))
    }

    /// `(h, c)` → `(h', c')` for input `x` `[B, I]`.
    pub fn step(&self, x: &Tensor, h: &Tensor, c: &Tensor) -> Result<(Tensor, Tensor)> {
        if let Some(fused) = &self.fused {
            if !(x.track_op() || h.track_op() || c.track_op()) {
                return self.step_fused(fused, x, h, c);
            }
        }
        let hd = self.hidden;
        let gates = (self.w_ih.apply(x)? + self.w_hh.apply(h)?)?
            .broadcast_add(&self.b_ih)?
            .broadcast_add(&self.b_hh)?;
        let ifo_i = candle_nn::ops::sigmoid(&gates.narrow(1, 0, 2 * hd)?)?;
        let i = ifo_i.narrow(1, 0, hd)?;
        let f = ifo_i.narrow(1, hd, hd)?;
        let g = gates.narrow(1, 2 * hd, hd)?.tanh()?;
        let o = candle_nn::ops::sigmoid(&gates.narrow(1, 3 * hd, hd)?)?;
        let c = (f.mul(c)? + i.mul(&g)?)?;
        let h = o.mul(&c.tanh()?)?;
        Ok((h, c))
    }

    pub fn zeros(&self, batch: usize, device: &Device) -> Result<Tensor> {
        Tensor::zeros((batch, self.hidden), DType::F32, device)
    }
}
