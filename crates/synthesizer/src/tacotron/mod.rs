//! RTVC's synthesizer: the speaker-conditioned Tacotron of SV2TTS (Jia et al. 2018), as
//! Real-Time-Voice-Cloning builds it on fatchord's Tacotron (Wang et al. 2017, with Tacotron 2's
//! location-sensitive attention and stop token, Shen et al. 2018).
//!
//! Characters (after RTVC's English cleaners, [`voxclone_text::rtvc`]) → embedding → pre-net →
//! CBHG encoder; the speaker's d-vector is concatenated to every encoder output; the decoder
//! attends over them and emits `r` frames of an 80-channel mel per step (16 kHz, hop 200,
//! window 800) until its stop token fires; a CBHG post-net refines the whole spectrogram.
//!
//! Weights load by RTVC's state-dict names (`encoder.cbhg.conv1d_bank.0.conv.weight`, …), so a
//! `synthesizer.pt` from RTVC reads directly (see `voxclone_weights::read_weights`).

pub mod decoder;
pub mod layers;
pub mod train;

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Embedding, VarBuilder};

pub use decoder::{Decoder, DecoderState, DecoderStep, MAX_R};
use layers::{linear, Cbhg, Linear, PreNet};
pub use layers::{BatchStat, BatchStats, Dropout, Mode, SplitMix64};

/// RTVC's hyper-parameters (`synthesizer/hparams.py`); `Default` holds its published values.
#[derive(Debug, Clone, PartialEq)]
pub struct TacotronConfig {
    pub embed_dims: usize,
    /// 66: pad, EOS and 64 characters.
    pub num_chars: usize,
    pub encoder_dims: usize,
    pub decoder_dims: usize,
    pub n_mels: usize,
    pub postnet_dims: usize,
    pub encoder_k: usize,
    pub lstm_dims: usize,
    pub postnet_k: usize,
    pub num_highways: usize,
    pub dropout: f32,
    /// The d-vector's length.
    pub speaker_embedding_size: usize,
    /// Frames per decoder step when a checkpoint does not say (RTVC stores it as `decoder.r`).
    pub r: usize,
    /// Trailing frames whose every channel is below this are trimmed (`tts_stop_threshold`).
    pub stop_threshold: f32,
}

impl Default for TacotronConfig {
    fn default() -> Self {
        Self {
            embed_dims: 512,
            num_chars: 66,
            encoder_dims: 256,
            decoder_dims: 128,
            n_mels: 80,
            postnet_dims: 512,
            encoder_k: 5,
            lstm_dims: 1024,
            postnet_k: 5,
            num_highways: 4,
            dropout: 0.5,
            speaker_embedding_size: 256,
            r: 2,
            stop_threshold: -3.4,
        }
    }
}

impl TacotronConfig {
    /// A quarter of RTVC's widths (about 7 M parameters instead of 30 M): for training on an
    /// hour or two of speech, or on a CPU.
    pub fn small() -> Self {
        Self {
            embed_dims: 256,
            encoder_dims: 128,
            decoder_dims: 128,
            postnet_dims: 256,
            lstm_dims: 512,
            ..Self::default()
        }
    }

    /// A toy size for tests and smoke runs.
    pub fn tiny() -> Self {
        Self {
            embed_dims: 64,
            encoder_dims: 64,
            decoder_dims: 64,
            postnet_dims: 64,
            lstm_dims: 128,
            encoder_k: 3,
            postnet_k: 3,
            num_highways: 1,
            ..Self::default()
        }
    }

    /// The widths a checkpoint's tensors have (RTVC's published model, or any size `voxclone
    /// train synthesizer` made); dropout, `r` and the stop threshold keep their defaults.
    pub fn from_tensors(tensors: &std::collections::HashMap<String, Tensor>) -> Result<Self> {
        let dims = |name: &str| -> Result<Vec<usize>> {
            tensors
                .get(name)
                .map(|t| t.dims().to_vec())
                .ok_or_else(|| candle_core::Error::Msg(format!("no tensor {name}")))
        };
        let count = |prefix: &str, suffix: &str| {
            (0..)
                .take_while(|i| tensors.contains_key(&format!("{prefix}.{i}.{suffix}")))
                .count()
        };
        let embedding = dims("encoder.embedding.weight")?;
        let encoder_dims = dims("encoder.pre_net.fc1.weight")?[0];
        let context = dims("encoder_proj.weight")?[1];
        if context <= encoder_dims || embedding.len() != 2 {
            candle_core::bail!("encoder_proj.weight does not fit encoder.pre_net.fc1.weight");
        }
        Ok(Self {
            embed_dims: embedding[1],
            num_chars: embedding[0],
            encoder_dims,
            decoder_dims: dims("decoder.attn_rnn.weight_hh")?[1],
            n_mels: dims("decoder.prenet.fc1.weight")?[1],
            postnet_dims: dims("postnet.conv1d_bank.0.conv.weight")?[0],
            encoder_k: count("encoder.cbhg.conv1d_bank", "conv.weight"),
            lstm_dims: dims("decoder.res_rnn1.weight_hh")?[1],
            postnet_k: count("postnet.conv1d_bank", "conv.weight"),
            num_highways: count("encoder.cbhg.highways", "W1.weight"),
            speaker_embedding_size: context - encoder_dims,
            ..Self::default()
        })
    }
}

/// Characters → encoder outputs with the speaker embedding appended.
#[derive(Debug, Clone)]
pub struct Encoder {
    embedding: Embedding,
    prenet: PreNet,
    cbhg: Cbhg,
}

impl Encoder {
    pub fn load(cfg: &TacotronConfig, vb: VarBuilder, mode: &Mode) -> Result<Self> {
        let embeddings = vb.get((cfg.num_chars, cfg.embed_dims), "embedding.weight")?;
        let e = cfg.encoder_dims;
        Ok(Self {
            embedding: Embedding::new(embeddings, cfg.embed_dims),
            prenet: PreNet::load(cfg.embed_dims, e, e, cfg.dropout, vb.pp("pre_net"))?,
            cbhg: Cbhg::load(
                cfg.encoder_k,
                e,
                e,
                [e, e],
                cfg.num_highways,
                vb.pp("cbhg"),
                mode,
            )?,
        })
    }

    /// `chars` `[B, N]` (u32) and `speaker` `[B, S]` → `[B, N, encoder_dims + S]`.
    pub fn forward(
        &self,
        chars: &Tensor,
        speaker: &Tensor,
        dropout: &mut Dropout,
    ) -> Result<Tensor> {
        let x = self
            .prenet
            .forward(&self.embedding.forward(chars)?, dropout)?;
        let x = self.cbhg.forward(&x.transpose(1, 2)?.contiguous()?)?;
        let (batch, n, _) = x.dims3()?;
        let speaker = speaker
            .unsqueeze(1)?
            .broadcast_as((batch, n, speaker.dim(1)?))?;
        Tensor::cat(&[&x, &speaker.contiguous()?], 2)
    }
}

/// How to run the decoder.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The step limit, in frames (RTVC: 2000, 25 s).
    pub max_frames: usize,
    /// The pre-nets' dropout: RTVC's models expect it at inference. `None` turns it off.
    pub dropout_seed: Option<u64>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            max_frames: 2000,
            dropout_seed: Some(0),
        }
    }
}

/// A synthesised spectrogram.
#[derive(Debug, Clone)]
pub struct Spectrogram {
    /// The decoder's frames before the post-net `[n_mels, T]`.
    pub decoder_mel: Tensor,
    /// The post-net's refinement, RTVC's output `[n_mels, T]`, in `[-4, 4]`.
    pub mel: Tensor,
    /// Attention weights per decoder step `[T / r, N]`: the alignment.
    pub alignment: Tensor,
    /// Stop probability per decoder step.
    pub stop: Vec<f32>,
    /// Whether the stop token fired before the step limit.
    pub stopped: bool,
}

/// What a teacher-forced pass produces (RTVC's `Tacotron.forward`, the training pass).
#[derive(Debug, Clone)]
pub struct TeacherForced {
    /// `[B, n_mels, T]` before the post-net.
    pub decoder_mel: Tensor,
    /// `[B, n_mels, T]` after it.
    pub mel: Tensor,
    /// `[B, T / r, N]`.
    pub alignment: Tensor,
    /// The stop token's logit for every frame `[B, T]` (each step's repeated `r` times).
    pub stop_logits: Tensor,
}

/// RTVC's speaker-conditioned Tacotron.
#[derive(Debug, Clone)]
pub struct Tacotron {
    encoder: Encoder,
    encoder_proj: Linear,
    decoder: Decoder,
    postnet: Cbhg,
    post_proj: Linear,
    config: TacotronConfig,
    r: usize,
    device: Device,
}

impl Tacotron {
    /// Loads RTVC's state-dict names under `vb` for inference. The reduction factor comes from
    /// `decoder.r` when `r` is given (read it with [`Tacotron::stored_r`]), else from the config.
    pub fn load(config: TacotronConfig, r: Option<usize>, vb: VarBuilder) -> Result<Self> {
        Self::load_in(config, r, vb, &Mode::Inference)
    }

    /// [`Tacotron::load`] for inference or training (see [`Mode`]).
    pub fn load_in(
        config: TacotronConfig,
        r: Option<usize>,
        vb: VarBuilder,
        mode: &Mode,
    ) -> Result<Self> {
        let c = &config;
        let context = c.encoder_dims + c.speaker_embedding_size;
        let r = r.unwrap_or(c.r);
        check_r(r)?;
        Ok(Self {
            encoder: Encoder::load(c, vb.pp("encoder"), mode)?,
            encoder_proj: linear(context, c.decoder_dims, false, vb.pp("encoder_proj"))?,
            decoder: Decoder::load(c, vb.pp("decoder"), mode)?,
            postnet: Cbhg::load(
                c.postnet_k,
                c.n_mels,
                c.postnet_dims,
                [c.postnet_dims, c.n_mels],
                c.num_highways,
                vb.pp("postnet"),
                mode,
            )?,
            post_proj: linear(c.postnet_dims, c.n_mels, false, vb.pp("post_proj"))?,
            r,
            device: vb.device().clone(),
            config,
        })
    }

    /// The reduction factor a checkpoint stores in `decoder.r` (an integer tensor), if any.
    pub fn stored_r(tensors: &std::collections::HashMap<String, Tensor>) -> Result<Option<usize>> {
        match tensors.get("decoder.r") {
            Some(r) => Ok(Some(
                r.flatten_all()?.to_dtype(DType::I64)?.to_vec1::<i64>()?[0].max(0) as usize,
            )),
            None => Ok(None),
        }
    }

    pub fn config(&self) -> &TacotronConfig {
        &self.config
    }

    /// Frames per decoder step.
    pub fn r(&self) -> usize {
        self.r
    }

    /// Changes the frames per decoder step (RTVC's training schedule lowers it in phases).
    pub fn set_r(&mut self, r: usize) -> Result<()> {
        check_r(r)?;
        self.r = r;
        Ok(())
    }

    /// The encoder outputs for one text (character ids, EOS included) and d-vector:
    /// `[1, N, encoder_dims + S]`.
    pub fn encode(
        &self,
        chars: &[u32],
        embedding: &[f32],
        dropout: &mut Dropout,
    ) -> Result<Tensor> {
        let s = self.config.speaker_embedding_size;
        if embedding.len() != s {
            candle_core::bail!(
                "the speaker embedding has {} values; the synthesizer takes {s}",
                embedding.len()
            );
        }
        if let Some(&bad) = chars.iter().find(|&&c| c as usize >= self.config.num_chars) {
            candle_core::bail!(
                "character id {bad} is outside the {}-symbol table",
                self.config.num_chars
            );
        }
        let ids = Tensor::from_slice(chars, (1, chars.len()), &self.device)?;
        let speaker = Tensor::from_slice(embedding, (1, s), &self.device)?;
        self.encoder.forward(&ids, &speaker, dropout)
    }

    /// Synthesises one text: RTVC's `Tacotron.generate` for a batch of one. Decoding stops at
    /// the first step after frame 10 whose stop probability exceeds 0.5, or at the step limit.
    /// `on_step` sees the frames decoded so far (for progress and cancellation: returning
    /// `false` stops early).
    pub fn generate(
        &self,
        chars: &[u32],
        embedding: &[f32],
        options: &GenerateOptions,
        on_step: &mut dyn FnMut(usize) -> bool,
    ) -> Result<Spectrogram> {
        if chars.is_empty() {
            candle_core::bail!("no characters to synthesise");
        }
        let mut dropout = match options.dropout_seed {
            Some(seed) => Dropout::On(SplitMix64::new(seed)),
            None => Dropout::Off,
        };
        let encoder_seq = self.encode(chars, embedding, &mut dropout)?;
        let encoder_proj = self.encoder_proj.forward(&encoder_seq)?;
        // Padding characters (id 0) get zero energy.
        let mask: Vec<f32> = chars
            .iter()
            .map(|&c| if c == 0 { 0.0 } else { 1.0 })
            .collect();
        let mask = Tensor::from_vec(mask, (1, chars.len()), &self.device)?;

        let n_mels = self.config.n_mels;
        let mut state = self.decoder.initial_state(1, chars.len(), &self.device)?;
        let mut prenet_in = Tensor::zeros((1, n_mels), DType::F32, &self.device)?;
        let (mut mels, mut attention, mut stop) = (Vec::new(), Vec::new(), Vec::new());
        let mut stopped = false;
        let mut t = 0;
        while t < options.max_frames {
            let step = self.decoder.step(
                &encoder_seq,
                &encoder_proj,
                &mask,
                &prenet_in,
                &mut state,
                self.r,
                &mut dropout,
            )?;
            prenet_in = step.mels.narrow(2, self.r - 1, 1)?.squeeze(2)?;
            let logit = step.stop_logit.flatten_all()?.to_vec1::<f32>()?[0];
            let p = 1.0 / (1.0 + (-logit).exp());
            mels.push(step.mels);
            attention.push(step.attention);
            stop.push(p);
            if p > 0.5 && t > 10 {
                stopped = true;
                break;
            }
            t += self.r;
            if !on_step(t) {
                break;
            }
        }
        let decoder_mel = Tensor::cat(&mels, 2)?;
        let mel = self.postnet_forward(&decoder_mel)?;
        Ok(Spectrogram {
            decoder_mel: decoder_mel.squeeze(0)?,
            mel: mel.squeeze(0)?,
            alignment: Tensor::cat(&attention, 0)?,
            stop,
            stopped,
        })
    }

    /// RTVC's training pass: the decoder reads the true previous frame at each step (teacher
    /// forcing) rather than its own. `chars` `[B, N]` (u32, 0 pads), `mels` `[B, n_mels, T]`
    /// with `T` a multiple of `r`, `speaker` `[B, S]`.
    pub fn teacher_forced(
        &self,
        chars: &Tensor,
        mels: &Tensor,
        speaker: &Tensor,
        dropout: &mut Dropout,
    ) -> Result<TeacherForced> {
        let (batch, n_mels, frames) = mels.dims3()?;
        let n = chars.dim(1)?;
        if n_mels != self.config.n_mels || frames == 0 || frames % self.r != 0 {
            candle_core::bail!(
                "teacher forcing needs mels [B, {}, T] with T a positive multiple of r = {}, got {:?}",
                self.config.n_mels,
                self.r,
                mels.dims()
            );
        }
        let encoder_seq = self.encoder.forward(chars, speaker, dropout)?;
        let encoder_proj = self.encoder_proj.forward(&encoder_seq)?;
        let mask = chars.ne(0u32)?.to_dtype(DType::F32)?;
        let mut state = self.decoder.initial_state(batch, n, mels.device())?;
        let (mut decoder_mel, mut attention, mut stop) = (Vec::new(), Vec::new(), Vec::new());
        for t in (0..frames).step_by(self.r) {
            let prenet_in = if t == 0 {
                Tensor::zeros((batch, n_mels), DType::F32, mels.device())?
            } else {
                mels.narrow(2, t - 1, 1)?.squeeze(2)?
            };
            let step = self.decoder.step(
                &encoder_seq,
                &encoder_proj,
                &mask,
                &prenet_in,
                &mut state,
                self.r,
                dropout,
            )?;
            decoder_mel.push(step.mels);
            attention.push(step.attention.unsqueeze(1)?);
            stop.extend(std::iter::repeat_n(step.stop_logit, self.r));
        }
        let decoder_mel = Tensor::cat(&decoder_mel, 2)?;
        let mel = self.postnet_forward(&decoder_mel)?;
        Ok(TeacherForced {
            decoder_mel,
            mel,
            alignment: Tensor::cat(&attention, 1)?,
            stop_logits: Tensor::cat(&stop, 1)?,
        })
    }

    /// The post-net and its projection: `[B, n_mels, T]` → `[B, n_mels, T]`.
    pub fn postnet_forward(&self, decoder_mel: &Tensor) -> Result<Tensor> {
        let y = self
            .post_proj
            .forward(&self.postnet.forward(decoder_mel)?)?;
        y.transpose(1, 2)?.contiguous()
    }
}

fn check_r(r: usize) -> Result<()> {
    if r == 0 || r > MAX_R {
        candle_core::bail!("decoder.r is {r}; it must be 1..={MAX_R}");
    }
    Ok(())
}

/// Drops trailing frames whose every channel is below `threshold`, as RTVC's
/// `synthesize_spectrograms` does (`mel` `[n_mels, T]`, at least one frame kept).
pub fn trim_silent_tail(mel: &Tensor, threshold: f32) -> Result<Tensor> {
    let t = mel.dim(1)?;
    let peaks = mel.max(0)?.to_vec1::<f32>()?;
    let keep = peaks
        .iter()
        .rposition(|&p| p >= threshold)
        .map_or(1, |i| i + 1);
    if keep == t {
        Ok(mel.clone())
    } else {
        mel.narrow(1, 0, keep)
    }
}
