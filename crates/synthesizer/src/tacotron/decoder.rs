//! The decoder: a pre-net, a GRU attention RNN, location-sensitive attention (Chorowski et al.
//! 2015) and two residual LSTM cells, emitting `r` mel frames and a stop token per step.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::VarBuilder;

use super::layers::{
    linear, same_padding_conv1d, Dropout, GruWeights, Linear, LstmCell, Mode, PreNet, StepLinear,
};
use super::TacotronConfig;
use voxclone_train::graph::step_matmul;

/// The mel projection always has room for this many frames per step; the first `r` are used.
pub const MAX_R: usize = 20;
/// Location-sensitive attention: filters and width of the convolution over the cumulative
/// attention weights.
const LOCATION_FILTERS: usize = 32;
const LOCATION_KERNEL: usize = 31;
/// In training, each hidden value of the residual LSTMs keeps its previous value with this
/// probability (zoneout, Krueger et al. 2017), as RTVC trains them.
pub const ZONEOUT: f32 = 0.1;

/// Location-sensitive attention (RTVC's `LSA`): the query, the projected encoder outputs and
/// the convolved cumulative attention go through `v·tanh(…)`; padding characters' energies are
/// multiplied by zero (not masked to −∞) as RTVC does.
#[derive(Debug, Clone)]
pub struct LocationSensitiveAttention {
    conv_weight: Tensor,
    conv_bias: Tensor,
    location: Linear,
    query: Linear,
    v: Linear,
}

impl LocationSensitiveAttention {
    pub fn load(attn_dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            conv_weight: vb.get((LOCATION_FILTERS, 1, LOCATION_KERNEL), "conv.weight")?,
            conv_bias: vb.get(LOCATION_FILTERS, "conv.bias")?,
            location: linear(LOCATION_FILTERS, attn_dim, false, vb.pp("L"))?,
            query: linear(attn_dim, attn_dim, true, vb.pp("W"))?,
            v: linear(attn_dim, 1, false, vb.pp("v"))?,
        })
    }

    /// The attention weights `[B, N]` for `query` `[B, D]`, given the projected encoder outputs
    /// `[B, N, D]`, the cumulative weights so far `[B, N]` and the character mask `[B, N]`.
    pub fn forward(
        &self,
        encoder_proj: &Tensor,
        query: &Tensor,
        cumulative: &Tensor,
        mask: &Tensor,
    ) -> Result<Tensor> {
        let processed_query = self.query.forward(query)?.unsqueeze(1)?;
        let features = same_padding_conv1d(
            &cumulative.unsqueeze(1)?,
            &self.conv_weight,
            (LOCATION_KERNEL - 1) / 2,
        )?
        .broadcast_add(&self.conv_bias.reshape((1, LOCATION_FILTERS, 1))?)?;
        let location = self.location.forward(&features.transpose(1, 2)?)?;
        let energies = encoder_proj
            .broadcast_add(&processed_query)?
            .add(&location)?
            .tanh()?;
        let u = self.v.forward(&energies)?.squeeze(D::Minus1)?.mul(mask)?;
        if u.track_op() {
            // candle's fused softmax has no backward pass: gradients would stop here and the
            // attention would never learn to align.
            candle_nn::ops::softmax(&u, D::Minus1)
        } else {
            candle_nn::ops::softmax_last_dim(&u)
        }
    }
}

/// The decoder's recurrent state between steps.
#[derive(Debug, Clone)]
pub struct DecoderState {
    pub attn_hidden: Tensor,
    pub rnn1: (Tensor, Tensor),
    pub rnn2: (Tensor, Tensor),
    /// The last attention context `[B, encoder_dims + speaker_embedding_size]`.
    pub context: Tensor,
    /// Attention weights summed over the steps so far `[B, N]`.
    pub cumulative: Tensor,
}

/// What one decoder step emits.
#[derive(Debug, Clone)]
pub struct DecoderStep {
    /// `[B, n_mels, r]`.
    pub mels: Tensor,
    /// `[B, N]`.
    pub attention: Tensor,
    /// The stop token's logit `[B, 1]` (its probability is the sigmoid).
    pub stop_logit: Tensor,
}

#[derive(Debug, Clone)]
pub struct Decoder {
    prenet: PreNet,
    attention: LocationSensitiveAttention,
    attn_rnn: GruWeights,
    rnn_input: StepLinear,
    res_rnn1: LstmCell,
    res_rnn2: LstmCell,
    mel_proj: StepLinear,
    stop_proj: Linear,
    n_mels: usize,
    context_dims: usize,
    /// [`ZONEOUT`] when built for training, else 0.
    zoneout: f32,
}

impl Decoder {
    pub fn load(cfg: &TacotronConfig, vb: VarBuilder, mode: &Mode) -> Result<Self> {
        let prenet_dims = 2 * cfg.decoder_dims;
        let context_dims = cfg.encoder_dims + cfg.speaker_embedding_size;
        Ok(Self {
            prenet: PreNet::load(
                cfg.n_mels,
                prenet_dims,
                prenet_dims,
                cfg.dropout,
                vb.pp("prenet"),
            )?,
            attention: LocationSensitiveAttention::load(cfg.decoder_dims, vb.pp("attn_net"))?,
            attn_rnn: GruWeights::load(
                context_dims + prenet_dims,
                cfg.decoder_dims,
                "",
                &vb.pp("attn_rnn"),
                mode,
            )?,
            rnn_input: StepLinear::load(
                context_dims + cfg.decoder_dims,
                cfg.lstm_dims,
                true,
                vb.pp("rnn_input"),
                mode,
            )?,
            res_rnn1: LstmCell::load(cfg.lstm_dims, cfg.lstm_dims, vb.pp("res_rnn1"), mode)?,
            res_rnn2: LstmCell::load(cfg.lstm_dims, cfg.lstm_dims, vb.pp("res_rnn2"), mode)?,
            mel_proj: StepLinear::load(
                cfg.lstm_dims,
                cfg.n_mels * MAX_R,
                false,
                vb.pp("mel_proj"),
                mode,
            )?,
            stop_proj: linear(context_dims + cfg.lstm_dims, 1, true, vb.pp("stop_proj"))?,
            n_mels: cfg.n_mels,
            context_dims,
            zoneout: if mode.is_training() { ZONEOUT } else { 0.0 },
        })
    }

    /// All-zero state for `batch` sequences of `chars` characters.
    pub fn initial_state(
        &self,
        batch: usize,
        chars: usize,
        device: &Device,
    ) -> Result<DecoderState> {
        let zeros = |n: usize| Tensor::zeros((batch, n), DType::F32, device);
        Ok(DecoderState {
            attn_hidden: self.attn_rnn.zeros(batch, device)?,
            rnn1: (
                self.res_rnn1.zeros(batch, device)?,
                self.res_rnn1.zeros(batch, device)?,
            ),
            rnn2: (
                self.res_rnn2.zeros(batch, device)?,
                self.res_rnn2.zeros(batch, device)?,
            ),
            context: zeros(self.context_dims)?,
            cumulative: zeros(chars)?,
        })
    }

    /// One step from the previous frame `prenet_in` `[B, n_mels]`.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &self,
        encoder_seq: &Tensor,
        encoder_proj: &Tensor,
        mask: &Tensor,
        prenet_in: &Tensor,
        state: &mut DecoderState,
        r: usize,
        dropout: &mut Dropout,
    ) -> Result<DecoderStep> {
        let prenet_out = self.prenet.forward(prenet_in, dropout)?;
        let attn_in = Tensor::cat(&[&state.context, &prenet_out], 1)?;
        state.attn_hidden = self.attn_rnn.step(&attn_in, &state.attn_hidden)?;

        let attention =
            self.attention
                .forward(encoder_proj, &state.attn_hidden, &state.cumulative, mask)?;
        state.cumulative = (&state.cumulative + &attention)?;
        state.context = step_matmul(&attention.unsqueeze(1)?, encoder_seq)?.squeeze(1)?;

        let x = self
            .rnn_input
            .forward(&Tensor::cat(&[&state.context, &state.attn_hidden], 1)?)?;
        let (h1, c1) = self.res_rnn1.step(&x, &state.rnn1.0, &state.rnn1.1)?;
        let h1 = self.zoneout(&state.rnn1.0, h1, dropout)?;
        let x = (x + &h1)?;
        state.rnn1 = (h1, c1);
        let (h2, c2) = self.res_rnn2.step(&x, &state.rnn2.0, &state.rnn2.1)?;
        let h2 = self.zoneout(&state.rnn2.0, h2, dropout)?;
        let x = (x + &h2)?;
        state.rnn2 = (h2, c2);

        // The projection is laid out [n_mels, MAX_R]: frame j of mel channel m is m·MAX_R + j.
        let batch = x.dim(0)?;
        let mels = self
            .mel_proj
            .forward(&x)?
            .reshape((batch, self.n_mels, MAX_R))?
            .narrow(2, 0, r)?;
        let stop_logit = self
            .stop_proj
            .forward(&Tensor::cat(&[&x, &state.context], 1)?)?;
        Ok(DecoderStep {
            mels,
            attention,
            stop_logit,
        })
    }

    /// Zoneout on a hidden state: each value keeps `previous` with probability
    /// [`Decoder::zoneout`], drawn from the dropout generator (none when dropout is off).
    fn zoneout(&self, previous: &Tensor, next: Tensor, dropout: &mut Dropout) -> Result<Tensor> {
        let Dropout::On(rng) = dropout else {
            return Ok(next);
        };
        if self.zoneout <= 0.0 {
            return Ok(next);
        }
        let keep: Vec<f32> = (0..next.elem_count())
            .map(|_| f32::from(rng.next_f32() < self.zoneout))
            .collect();
        let keep = Tensor::from_vec(keep, next.shape(), next.device())?;
        // keep·previous + (1 − keep)·next = next + keep·(previous − next)
        &next + keep.mul(&(previous - &next)?)?
    }
}
