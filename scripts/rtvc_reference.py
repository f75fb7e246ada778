#!/usr/bin/env python3
"""Independent PyTorch reference for the Real-Time-Voice-Cloning (RTVC) synthesizer and vocoder.

This is our own re-implementation, written from RTVC's published architecture (the SV2TTS
Tacotron synthesizer and the "fatchord" WaveRNN vocoder in RAW mode with its published
hyper-parameters). It is not RTVC's code. What it does share with RTVC, on purpose, is the
module layout: `state_dict()` keys, shapes and dtypes are exactly those of RTVC's checkpoints,
so the Rust port can load real RTVC `synthesizer.pt` / `vocoder.pt` files and the random ones
written here with the same code.

Run with Debian's torch (no virtual environment needed), or any torch >= 1.13:

    /usr/bin/python3 scripts/rtvc_reference.py golden OUT_DIR
    /usr/bin/python3 scripts/rtvc_reference.py bench --seconds 2 [--threads 2]
    .venv-ref/bin/python scripts/rtvc_reference.py train-bench --size rtvc --batch 4 --frames 400

Debian's torch 1.13 is linked against the reference (netlib) BLAS, so the ~10k vocoder steps of
`golden` take ~25 s with it and ~5 s with PyPI's torch (.venv-ref/bin/python); `bench` figures
from it are far below what RTVC users get with an MKL build (the JSON line reports the BLAS).

`golden` builds both models with seeded random weights (Xavier for the Tacotron matrices as
RTVC does, PyTorch defaults for WaveRNN, then random values for every bias, every BatchNorm
weight/bias/running_mean/running_var and the upsampling kernels, so that every tensor matters;
the attention's v and L weights are scaled by 5 and WaveRNN's fc3 weight by 10, otherwise the
attention and the sample distributions stay almost uniform) and writes:

    OUT_DIR/synthesizer.pt  {"model_state": Tacotron state_dict}                (RTVC layout)
    OUT_DIR/vocoder.pt      {"model_state": WaveRNN state_dict, "optimizer_state": Adam}
    OUT_DIR/taco_text.txt   the sentence behind taco.chars
    OUT_DIR/golden.pt       one flat dict str -> tensor (float32 or int64, contiguous):

  Tacotron (batch 1, eval mode, prenet dropout OFF, r = 2):
    taco.chars [1,N] int64              symbol ids of taco_text.txt + eos id (1)
    taco.embedding [1,256]              non-negative unit-norm speaker embedding
    taco.steps [1] int64                the `steps` argument of generate (60)
    taco.encoder.prenet [1,N,256]       encoder prenet output
    taco.encoder.cbhg [1,N,256]         encoder CBHG output (before the speaker embedding)
    taco.encoder_seq [1,N,512]          encoder output with the embedding concatenated
    taco.encoder_seq_proj [1,N,128]     encoder_proj(encoder_seq)
    taco.first_step.*                   decoder step 0: prenet_out [1,256], attn_hidden [1,128],
                                        attention [1,N], context [1,512], rnn_input [1,1024],
                                        rnn1_hidden/rnn1_cell/rnn2_hidden/rnn2_cell [1,1024],
                                        x [1,1024] (after both residual LSTMs), mels [1,80,2],
                                        stop [1,1]
    taco.mel [1,80,T]                   decoder frames (before the postnet)
    taco.postnet [1,80,T]               post_proj(postnet(mel)) transposed: what RTVC returns
                                        as "linear" and uses as the mel spectrogram
    taco.attention [1,T/r,N]            attention weights per decoder step
    taco.stop [1,T/r]                   stop probability per decoder step (never > 0.5 here,
                                        so the loop runs all steps/r = 30 steps, T = 60)
    taco.b.stop_proj_bias [1]           case B: same model with this decoder.stop_proj.bias;
    taco.b.mel, taco.b.postnet, taco.b.stop   every stop probability is > 0.5, so generate
                                        breaks at the first step with t > 10 (t counts frames):
                                        7 steps, T = 14
  WaveRNN (RAW, 9 bits, mu-law, the mel divided by 4 as vocoder/inference.py does):
    voc.mel [1,80,T]                    T = 22 random frames in [-4,4] (un-normalised input)
    voc.upsampled [1,T*200,80]          upsample network outputs for mel/4 padded by 2 zero
    voc.aux [1,T*200,128]               frames on each side
    voc.first_step.h1, .h2 [1,512]      GRU states after unbatched step 0
    voc.unbatched.uniforms [S]          S = T*200 steps; sampling rule: softmax(logits) in
    voc.unbatched.samples [S]           float32, cumulative sum in float64 (as torch's CPU
    voc.unbatched.logits [S,512]        cumsum accumulates), index = number of cdf entries <= u,
    voc.unbatched.wav [(T-1)*200]       clamped to 511; sample = 2*idx/511 - 1 is fed back.
                                        wav = mu-law decode, de-emphasis 0.97, trim, fade-out.
                                        The u are seeded uniforms, except that a u within 1e-5
                                        of a cdf boundary was moved to the middle of its bin
                                        (inverse_cdf_sample), so round-off cannot flip an index
    voc.batched.target, .overlap [1] int64   800 and 100
    voc.batched.uniforms [F,L], voc.batched.samples [F,L]   F folds of L = target + 2*overlap
    voc.batched.wav [(T-1)*200]         after the cross-fade/unfold, then as above

T = 22 (not 12) because RTVC's generate multiplies the last 20*hop = 4000 samples by a fade
and raises a broadcast error when the output is shorter, i.e. for fewer than 21 mel frames.

`bench` times the vocoder exactly as RTVC runs it (torch.distributions.Categorical sampling,
RTVC-sized random model, batched with target 8000 / overlap 800 as infer_waveform's defaults,
and unbatched on a shorter clip) and Tacotron generate on a ~60-character sentence with prenet
dropout on and autograd on (as RTVC's synthesize_spectrograms), and prints one JSON line.

`train-bench` times Tacotron training steps on made-up batches (teacher forcing with pre-net dropout
and zoneout, train-mode batch norm, RTVC's loss, gradients clipped to norm 1, Adam), the peer of
voxclone's `examples/bench_tacotron_training` in scripts/bench-tacotron-training.sh.
"""

import argparse
import copy
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------------------------
# Published hyper-parameters
# ----------------------------------------------------------------------------------------------

SYMBOLS = ["_", "~"] + list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!'\"(),-.:;? ")
PAD_ID, EOS_ID = 0, 1

TACO = dict(embed_dims=512, num_chars=len(SYMBOLS), encoder_dims=256, decoder_dims=128,
            n_mels=80, fft_bins=80, postnet_dims=512, encoder_K=5, lstm_dims=1024, postnet_K=5,
            num_highways=4, dropout=0.5, stop_threshold=-3.4, speaker_embedding_size=256)
TACO_R = 2

VOC = dict(rnn_dims=512, fc_dims=512, bits=9, pad=2, upsample_factors=(5, 5, 8), feat_dims=80,
           compute_dims=128, res_out_dims=128, res_blocks=10, hop_length=200)
MEL_MAX_ABS = 4.0
PREEMPHASIS = 0.97
SAMPLE_RATE = 16000

GOLDEN_TEXT = "it's a small test, isn't it?"
BENCH_TEXT = "this sentence is about sixty characters long, for timing it."


def text_to_ids(text):
    """Already-clean text -> symbol ids, with the end-of-sequence id appended."""
    ids = {s: i for i, s in enumerate(SYMBOLS)}
    return [ids[c] for c in text] + [EOS_ID]


# ----------------------------------------------------------------------------------------------
# Tacotron (SV2TTS synthesizer)
# ----------------------------------------------------------------------------------------------

class PreNet(nn.Module):
    """Two Linear+ReLU layers, each followed by dropout. RTVC applies the dropout regardless of
    train/eval mode; `dropout_on` (a plain attribute, not saved) lets the golden run turn it off."""

    def __init__(self, in_dims, fc1_dims, fc2_dims, dropout):
        super().__init__()
        self.fc1 = nn.Linear(in_dims, fc1_dims)
        self.fc2 = nn.Linear(fc1_dims, fc2_dims)
        self.p = dropout
        self.dropout_on = True

    def forward(self, x):
        for fc in (self.fc1, self.fc2):
            x = F.relu(fc(x))
            if self.dropout_on:
                x = F.dropout(x, self.p, training=True)
        return x


class HighwayNetwork(nn.Module):
    """y = g * relu(W1 x) + (1 - g) * x with the gate g = sigmoid(W2 x)."""

    def __init__(self, size):
        super().__init__()
        self.W1 = nn.Linear(size, size)
        self.W2 = nn.Linear(size, size)

    def forward(self, x):
        gate = torch.sigmoid(self.W2(x))
        return gate * F.relu(self.W1(x)) + (1.0 - gate) * x


class BatchNormConv(nn.Module):
    """Bias-free Conv1d padded by k//2 on both sides, then ReLU (optional), then BatchNorm.
    Note the order: the ReLU comes before the normalisation."""

    def __init__(self, in_channels, out_channels, kernel, relu=True):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False)
        self.bnorm = nn.BatchNorm1d(out_channels)
        self.use_relu = relu

    def forward(self, x):
        x = self.conv(x)
        return self.bnorm(F.relu(x) if self.use_relu else x)


class CBHG(nn.Module):
    """Conv bank (kernels 1..K) -> max-pool -> two conv projections + residual -> (Linear if the
    projection width differs from `channels`) -> highways -> bidirectional GRU.
    Input [B, C_in, T]; output [B, T, channels]."""

    def __init__(self, K, in_channels, channels, proj_channels, num_highways):
        super().__init__()
        self.conv1d_bank = nn.ModuleList(
            BatchNormConv(in_channels, channels, k) for k in range(1, K + 1))
        self.conv_project1 = BatchNormConv(K * channels, proj_channels[0], 3)
        self.conv_project2 = BatchNormConv(proj_channels[0], proj_channels[1], 3, relu=False)
        if proj_channels[1] != channels:
            self.pre_highway = nn.Linear(proj_channels[1], channels, bias=False)
        else:
            self.pre_highway = None
        self.highways = nn.ModuleList(HighwayNetwork(channels) for _ in range(num_highways))
        self.rnn = nn.GRU(channels, channels // 2, batch_first=True, bidirectional=True)

    def forward(self, x):
        T = x.size(-1)
        # Even kernels give T+1 outputs; keep the first T.
        bank = torch.cat([conv(x)[:, :, :T] for conv in self.conv1d_bank], dim=1)
        # Max-pool, width 2, stride 1, one -inf pad each side, first T outputs kept:
        # out[t] = max(bank[t-1], bank[t]), out[0] = bank[0].
        pooled = torch.cat([bank[:, :, :1], torch.maximum(bank[:, :, 1:], bank[:, :, :-1])], 2)
        y = self.conv_project2(self.conv_project1(pooled)) + x
        y = y.transpose(1, 2)
        if self.pre_highway is not None:
            y = self.pre_highway(y)
        for highway in self.highways:
            y = highway(y)
        return self.rnn(y)[0]


class Encoder(nn.Module):
    def __init__(self, embed_dims, num_chars, encoder_dims, K, num_highways, dropout):
        super().__init__()
        self.embedding = nn.Embedding(num_chars, embed_dims)
        self.pre_net = PreNet(embed_dims, encoder_dims, encoder_dims, dropout)
        self.cbhg = CBHG(K, encoder_dims, encoder_dims, [encoder_dims, encoder_dims], num_highways)

    def forward(self, chars, speaker_embedding, record=None):
        """chars [B,N] int64, speaker_embedding [B,S] -> [B, N, encoder_dims + S]."""
        x = self.pre_net(self.embedding(chars))
        y = self.cbhg(x.transpose(1, 2))
        if record is not None:
            record["taco.encoder.prenet"], record["taco.encoder.cbhg"] = x, y
        tiled = speaker_embedding.unsqueeze(1).expand(-1, chars.size(1), -1)
        return torch.cat([y, tiled], dim=2)


class LSA(nn.Module):
    """Location-sensitive attention over the cumulative attention weights."""

    def __init__(self, attn_dim, kernel_size=31, filters=32):
        super().__init__()
        self.conv = nn.Conv1d(1, filters, kernel_size, padding=(kernel_size - 1) // 2, bias=True)
        self.L = nn.Linear(filters, attn_dim, bias=False)
        self.W = nn.Linear(attn_dim, attn_dim, bias=True)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def forward(self, encoder_seq_proj, query, cumulative, chars):
        location = self.L(self.conv(cumulative.unsqueeze(1)).transpose(1, 2))  # [B,N,attn]
        energy = self.v(torch.tanh(self.W(query).unsqueeze(1) + encoder_seq_proj + location))
        # Padding ids get energy 0 (multiplicative mask), not -inf: they still share the softmax.
        energy = energy.squeeze(-1) * (chars != PAD_ID).float()
        return F.softmax(energy, dim=1)  # [B,N]


def zone_out(previous, current, p):
    """Zoneout (Krueger et al. 2017): each value keeps `previous` with probability `p`."""
    if p <= 0:
        return current
    keep = torch.zeros_like(previous).bernoulli_(p)
    return previous * keep + current * (1 - keep)


class Decoder(nn.Module):
    max_r = 20  # mel_proj always produces max_r frames; the first r are used

    def __init__(self, n_mels, encoder_dims, decoder_dims, lstm_dims, dropout,
                 speaker_embedding_size):
        super().__init__()
        self.register_buffer("r", torch.tensor(1, dtype=torch.int32))
        self.n_mels = n_mels
        ctx_dims = encoder_dims + speaker_embedding_size
        self.prenet = PreNet(n_mels, 2 * decoder_dims, 2 * decoder_dims, dropout)
        self.attn_net = LSA(decoder_dims)
        self.attn_rnn = nn.GRUCell(ctx_dims + 2 * decoder_dims, decoder_dims)
        self.rnn_input = nn.Linear(ctx_dims + decoder_dims, lstm_dims)
        self.res_rnn1 = nn.LSTMCell(lstm_dims, lstm_dims)
        self.res_rnn2 = nn.LSTMCell(lstm_dims, lstm_dims)
        self.mel_proj = nn.Linear(lstm_dims, n_mels * self.max_r, bias=False)
        self.stop_proj = nn.Linear(ctx_dims + lstm_dims, 1)

    def forward(self, encoder_seq, encoder_seq_proj, prev_frame, s, chars, zoneout=0.0):
        """One step; `zoneout` > 0 (training) keeps each value of the residual LSTMs' hidden
        states at its previous value with that probability. `s` holds the recurrent state;
        returns a new state dict with this step's outputs."""
        prenet_out = self.prenet(prev_frame)
        attn_hidden = self.attn_rnn(torch.cat([s["context"], prenet_out], 1), s["attn_hidden"])
        attention = self.attn_net(encoder_seq_proj, attn_hidden, s["cumulative"], chars)
        context = torch.bmm(attention.unsqueeze(1), encoder_seq).squeeze(1)
        rnn_input = self.rnn_input(torch.cat([context, attn_hidden], 1))
        h1, c1 = self.res_rnn1(rnn_input, (s["rnn1_hidden"], s["rnn1_cell"]))
        h1 = zone_out(s["rnn1_hidden"], h1, zoneout)
        x = rnn_input + h1
        h2, c2 = self.res_rnn2(x, (s["rnn2_hidden"], s["rnn2_cell"]))
        h2 = zone_out(s["rnn2_hidden"], h2, zoneout)
        x = x + h2
        # The 1600 outputs are laid out [n_mels, max_r]: output m*max_r + j is bin m of frame j.
        mels = self.mel_proj(x).view(-1, self.n_mels, self.max_r)[:, :, :int(self.r)]
        stop_logit = self.stop_proj(torch.cat([x, context], 1))
        return dict(prenet_out=prenet_out, attn_hidden=attn_hidden, attention=attention,
                    cumulative=s["cumulative"] + attention, context=context, rnn_input=rnn_input,
                    rnn1_hidden=h1, rnn1_cell=c1, rnn2_hidden=h2, rnn2_cell=c2, x=x, mels=mels,
                    stop_logit=stop_logit, stop=torch.sigmoid(stop_logit))


class Tacotron(nn.Module):
    def __init__(self, embed_dims, num_chars, encoder_dims, decoder_dims, n_mels, fft_bins,
                 postnet_dims, encoder_K, lstm_dims, postnet_K, num_highways, dropout,
                 stop_threshold, speaker_embedding_size):
        super().__init__()
        self.n_mels, self.lstm_dims = n_mels, lstm_dims
        self.encoder_dims, self.decoder_dims = encoder_dims, decoder_dims
        self.speaker_embedding_size = speaker_embedding_size
        self.encoder = Encoder(embed_dims, num_chars, encoder_dims, encoder_K, num_highways,
                               dropout)
        self.encoder_proj = nn.Linear(encoder_dims + speaker_embedding_size, decoder_dims,
                                      bias=False)
        self.decoder = Decoder(n_mels, encoder_dims, decoder_dims, lstm_dims, dropout,
                               speaker_embedding_size)
        self.postnet = CBHG(postnet_K, n_mels, postnet_dims, [postnet_dims, fft_bins],
                            num_highways)
        self.post_proj = nn.Linear(postnet_dims, fft_bins, bias=False)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        self.register_buffer("step", torch.zeros(1, dtype=torch.long))
        self.register_buffer("stop_threshold", torch.tensor(stop_threshold, dtype=torch.float32))

    @property
    def r(self):
        return int(self.decoder.r)

    @r.setter
    def r(self, value):
        self.decoder.r = torch.tensor(value, dtype=torch.int32)

    def set_prenet_dropout(self, on):
        self.encoder.pre_net.dropout_on = on
        self.decoder.prenet.dropout_on = on

    def initial_state(self, encoder_seq, N):
        """The decoder's all-zero recurrent state for a batch of `N`-character texts."""
        zeros = lambda n: encoder_seq.new_zeros(encoder_seq.size(0), n)  # noqa: E731
        return dict(attn_hidden=zeros(self.decoder_dims), rnn1_hidden=zeros(self.lstm_dims),
                    rnn1_cell=zeros(self.lstm_dims), rnn2_hidden=zeros(self.lstm_dims),
                    rnn2_cell=zeros(self.lstm_dims), cumulative=zeros(N),
                    context=zeros(self.encoder_dims + self.speaker_embedding_size))

    def teacher_forced(self, chars, mels, speaker_embedding):
        """The training pass as RTVC trains: each decoder step reads the true previous frame,
        pre-net dropout and zoneout (0.1) on, batch norm on batch statistics (train mode)."""
        B, N = chars.shape
        encoder_seq = self.encoder(chars, speaker_embedding)
        encoder_seq_proj = self.encoder_proj(encoder_seq)
        s = self.initial_state(encoder_seq, N)
        out, stop = [], []
        for t in range(0, mels.size(2), self.r):
            frame = encoder_seq.new_zeros(B, self.n_mels) if t == 0 else mels[:, :, t - 1]
            s = self.decoder(encoder_seq, encoder_seq_proj, frame, s, chars, zoneout=0.1)
            out.append(s["mels"])
            stop.extend([s["stop_logit"]] * self.r)
        mel = torch.cat(out, dim=2)
        postnet = self.post_proj(self.postnet(mel)).transpose(1, 2)
        return mel, postnet, torch.cat(stop, 1)

    def generate(self, chars, speaker_embedding, steps=2000, allow_stop=True, record=None):
        """Autoregressive inference. Decoder step k covers frames t = k*r .. k*r+r-1; the loop
        breaks after a step whose stop probabilities all exceed 0.5, but only once t > 10."""
        was_training = self.training
        self.eval()  # BatchNorm uses running statistics (prenet dropout is unaffected)
        B, N = chars.shape
        encoder_seq = self.encoder(chars, speaker_embedding, record)
        encoder_seq_proj = self.encoder_proj(encoder_seq)
        s = self.initial_state(encoder_seq, N)
        frame = encoder_seq.new_zeros(B, self.n_mels)  # <GO> frame
        mels, attention, stop, stop_logit = [], [], [], []
        for t in range(0, steps, self.r):
            s = self.decoder(encoder_seq, encoder_seq_proj, frame, s, chars)
            if record is not None and t == 0:
                for k in ("prenet_out", "attn_hidden", "attention", "context", "rnn_input",
                          "rnn1_hidden", "rnn1_cell", "rnn2_hidden", "rnn2_cell", "x", "mels",
                          "stop"):
                    record["taco.first_step." + k] = s[k]
            mels.append(s["mels"])
            attention.append(s["attention"])
            stop.append(s["stop"])
            stop_logit.append(s["stop_logit"])
            frame = s["mels"][:, :, -1]
            if allow_stop and t > 10 and bool((s["stop"] > 0.5).all()):
                break
        mel = torch.cat(mels, dim=2)
        postnet = self.post_proj(self.postnet(mel)).transpose(1, 2)
        self.train(was_training)
        return dict(mel=mel, postnet=postnet, attention=torch.stack(attention, 1),
                    stop=torch.cat(stop, 1), stop_logit=torch.cat(stop_logit, 1),
                    encoder_seq=encoder_seq, encoder_seq_proj=encoder_seq_proj)


# ----------------------------------------------------------------------------------------------
# WaveRNN vocoder (RAW mode)
# ----------------------------------------------------------------------------------------------

class ResBlock(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.conv1 = nn.Conv1d(dims, dims, 1, bias=False)
        self.conv2 = nn.Conv1d(dims, dims, 1, bias=False)
        self.batch_norm1 = nn.BatchNorm1d(dims)
        self.batch_norm2 = nn.BatchNorm1d(dims)

    def forward(self, x):
        y = F.relu(self.batch_norm1(self.conv1(x)))
        return self.batch_norm2(self.conv2(y)) + x


class MelResNet(nn.Module):
    """Unpadded conv (kernel 2*pad+1, so T+2*pad frames in, T out) -> BN -> ReLU -> res blocks
    -> 1x1 conv with bias."""

    def __init__(self, res_blocks, in_dims, compute_dims, res_out_dims, pad):
        super().__init__()
        self.conv_in = nn.Conv1d(in_dims, compute_dims, 2 * pad + 1, bias=False)
        self.batch_norm = nn.BatchNorm1d(compute_dims)
        self.layers = nn.ModuleList(ResBlock(compute_dims) for _ in range(res_blocks))
        self.conv_out = nn.Conv1d(compute_dims, res_out_dims, 1)

    def forward(self, x):
        x = F.relu(self.batch_norm(self.conv_in(x)))
        for layer in self.layers:
            x = layer(x)
        return self.conv_out(x)


class Stretch(nn.Module):
    """Nearest-neighbour upsampling of the last axis (no parameters)."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x.repeat_interleave(self.scale, dim=-1)


class UpsampleNetwork(nn.Module):
    """up_layers alternates Stretch (even indices, no weights) and a 1-channel Conv2d with
    kernel (1, 2s+1) and padding (0, s) (odd indices), one pair per upsample factor."""

    def __init__(self, feat_dims, upsample_scales, compute_dims, res_blocks, res_out_dims, pad):
        super().__init__()
        self.total_scale = int(np.prod(upsample_scales))
        self.indent = pad * self.total_scale
        self.resnet = MelResNet(res_blocks, feat_dims, compute_dims, res_out_dims, pad)
        self.up_layers = nn.ModuleList()
        for scale in upsample_scales:
            self.up_layers.append(Stretch(scale))
            self.up_layers.append(nn.Conv2d(1, 1, (1, 2 * scale + 1), padding=(0, scale),
                                            bias=False))

    def forward(self, m):
        """m [B, feat, T+2*pad] -> (upsampled mel [B, T*hop, feat], aux [B, T*hop, res_out])."""
        aux = self.resnet(m).repeat_interleave(self.total_scale, dim=2)
        x = m.unsqueeze(1)
        for layer in self.up_layers:
            x = layer(x)
        x = x.squeeze(1)[:, :, self.indent:-self.indent]
        return x.transpose(1, 2), aux.transpose(1, 2)


def fold_layout(total_len, target, overlap):
    """Number of folds and the zero-padded length needed to cut folds of target + 2*overlap
    that start every target + overlap steps."""
    folds = (total_len - overlap) // (target + overlap)
    if folds * (target + overlap) + overlap != total_len:
        folds += 1
    return folds, folds * (target + overlap) + overlap


def fold(x, target, overlap):
    """[1, total, C] -> [folds, target + 2*overlap, C], padding the end with zeros."""
    folds, padded_len = fold_layout(x.size(1), target, overlap)
    x = F.pad(x, (0, 0, 0, padded_len - x.size(1)))
    step = target + overlap
    return torch.cat([x[:, i * step:i * step + target + 2 * overlap] for i in range(folds)], 0)


def crossfade_unfold(y, overlap):
    """[folds, target + 2*overlap] float64 -> 1-D. Each fold's first overlap//2 samples are
    silenced, then an equal-power fade covers the rest of the overlap; the tail mirrors it."""
    folds, length = y.shape
    target = length - 2 * overlap
    silence = np.zeros(overlap // 2)
    t = np.linspace(-1, 1, overlap - overlap // 2)
    fade_in = np.concatenate([silence, np.sqrt(0.5 * (1 + t))])
    fade_out = np.concatenate([np.sqrt(0.5 * (1 - t)), silence])
    y = y.copy()
    y[:, :overlap] *= fade_in
    y[:, -overlap:] *= fade_out
    out = np.zeros(folds * (target + overlap) + overlap)
    for i in range(folds):
        out[i * (target + overlap):i * (target + overlap) + length] += y[i]
    return out


def decode_mu_law(y, n_classes):
    mu = n_classes - 1
    return np.sign(y) / mu * ((1 + mu) ** np.abs(y) - 1)


def de_emphasis(x, coef=PREEMPHASIS):
    """IIR y[n] = x[n] + coef * y[n-1], y[-1] = 0 (float64)."""
    y = np.empty_like(x)
    prev = 0.0
    for n, v in enumerate(x.tolist()):
        prev = v + coef * prev
        y[n] = prev
    return y


def inverse_cdf_sample(probs, u, edge=1e-5):
    """Deterministic stand-in for Categorical sampling: index = number of entries of the
    float64 cumulative sum of `probs` that are <= u, clamped to the last class. A u closer than
    `edge` to a bin boundary is first moved (in place, as float32) to the middle of its bin,
    so that float32 round-off in another implementation cannot flip the index."""
    cdf = probs.double().cumsum(1)
    count = lambda v: (cdf <= v.double()[:, None]).sum(1).clamp(max=probs.size(1) - 1)  # noqa
    idx = count(u)
    lo = F.pad(cdf, (1, 0)).gather(1, idx[:, None])[:, 0]
    hi = cdf.gather(1, idx[:, None])[:, 0]
    ud = u.double()
    near = torch.minimum((ud - lo).abs(), (hi - ud).abs()) < edge
    u.copy_(torch.where(near, (lo + hi) / 2, ud).float())
    return count(u)


class WaveRNN(nn.Module):
    def __init__(self, rnn_dims, fc_dims, bits, pad, upsample_factors, feat_dims, compute_dims,
                 res_out_dims, res_blocks, hop_length):
        super().__init__()
        self.n_classes = 2 ** bits
        self.pad, self.rnn_dims, self.hop_length = pad, rnn_dims, hop_length
        self.aux_dims = res_out_dims // 4
        self.upsample = UpsampleNetwork(feat_dims, upsample_factors, compute_dims, res_blocks,
                                        res_out_dims, pad)
        self.I = nn.Linear(feat_dims + self.aux_dims + 1, rnn_dims)
        self.rnn1 = nn.GRU(rnn_dims, rnn_dims, batch_first=True)
        self.rnn2 = nn.GRU(rnn_dims + self.aux_dims, rnn_dims, batch_first=True)
        self.fc1 = nn.Linear(rnn_dims + self.aux_dims, fc_dims)
        self.fc2 = nn.Linear(fc_dims + self.aux_dims, fc_dims)
        self.fc3 = nn.Linear(fc_dims, self.n_classes)
        self.step = nn.Parameter(torch.zeros(1, dtype=torch.long), requires_grad=False)

    @staticmethod
    def _cell(gru):
        """A GRUCell sharing the layer-0 weights of a single-layer GRU."""
        cell = nn.GRUCell(gru.input_size, gru.hidden_size)
        cell.weight_ih, cell.weight_hh = gru.weight_ih_l0, gru.weight_hh_l0
        cell.bias_ih, cell.bias_hh = gru.bias_ih_l0, gru.bias_hh_l0
        return cell

    @torch.no_grad()
    def generate(self, mels, batched, target, overlap, uniforms=None, record=None):
        """mels [1, feat, T] already divided by 4. Sampling is Categorical as in RTVC unless
        `uniforms` [folds, L] is given (see the module docstring for the deterministic rule).
        Returns the waveform (float64, (T-1)*hop samples) and the [folds, L] samples fed back."""
        was_training = self.training
        self.eval()
        wave_len = (mels.size(-1) - 1) * self.hop_length
        fade = np.linspace(1, 0, 20 * self.hop_length)
        if wave_len < len(fade):
            raise ValueError("RTVC's fade-out needs at least 21 mel frames")
        cond, aux = self.upsample(F.pad(mels, (self.pad, self.pad)))
        if record is not None:
            record["voc.upsampled"], record["voc.aux"] = cond, aux
        if batched:
            cond, aux = fold(cond, target, overlap), fold(aux, target, overlap)
        B, L, _ = cond.shape
        a1, a2, a3, a4 = aux.split(self.aux_dims, dim=2)
        rnn1, rnn2 = self._cell(self.rnn1), self._cell(self.rnn2)
        h1, h2 = cond.new_zeros(B, self.rnn_dims), cond.new_zeros(B, self.rnn_dims)
        x = cond.new_zeros(B, 1)
        samples, logits_all = [], []
        for i in range(L):
            x = self.I(torch.cat([x, cond[:, i], a1[:, i]], 1))
            h1 = rnn1(x, h1)
            x = x + h1
            h2 = rnn2(torch.cat([x, a2[:, i]], 1), h2)
            x = x + h2
            x = F.relu(self.fc1(torch.cat([x, a3[:, i]], 1)))
            x = F.relu(self.fc2(torch.cat([x, a4[:, i]], 1)))
            logits = self.fc3(x)
            probs = F.softmax(logits, dim=1)
            if uniforms is None:
                idx = torch.distributions.Categorical(probs).sample()
            else:
                idx = inverse_cdf_sample(probs, uniforms[:, i])
            sample = 2 * idx.float() / (self.n_classes - 1.0) - 1.0
            samples.append(sample)
            x = sample.unsqueeze(-1)
            if record is not None:
                logits_all.append(logits)
                if i == 0:
                    record["voc.first_step.h1"], record["voc.first_step.h2"] = h1, h2
        samples = torch.stack(samples, 1)
        if record is not None:
            record["logits"] = torch.stack(logits_all, 1)
        y = samples.numpy().astype(np.float64)
        y = crossfade_unfold(y, overlap) if batched else y[0]
        y = de_emphasis(decode_mu_law(y, self.n_classes))[:wave_len]
        y[-len(fade):] *= fade
        self.train(was_training)
        return y, samples


# ----------------------------------------------------------------------------------------------
# Random weights, checkpoints
# ----------------------------------------------------------------------------------------------

def build_tacotron():
    model = Tacotron(**TACO)
    model.r = TACO_R
    return model


def build_wavernn():
    return WaveRNN(**VOC)


@torch.no_grad()
def randomise(model):
    """Random values for every bias, BatchNorm tensor and upsampling kernel (uses the global
    torch RNG), keeping the matrices' own initialisation."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.weight.uniform_(0.6, 1.4)
            module.bias.uniform_(-0.2, 0.2)
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            module.num_batches_tracked.fill_(1000)
        elif isinstance(module, nn.Conv2d):  # WaveRNN upsampling kernels, RTVC: constant 1/k
            k = module.weight.size(-1)
            module.weight.uniform_(0.5 / k, 1.5 / k)
        else:
            for p in module.parameters(recurse=False):
                if p.is_floating_point() and p.dim() == 1:
                    p.uniform_(-0.2, 0.2)
    model.step.fill_(123456)


def adam_state(model):
    """An Adam optimizer state with moments filled in (RTVC checkpoints carry one); the step is
    taken on a copy, so `model` keeps its weights."""
    shadow = copy.deepcopy(model)
    opt = torch.optim.Adam(shadow.parameters(), lr=1e-4)
    for p in shadow.parameters():
        if p.requires_grad:
            p.grad = torch.randn_like(p) * 1e-3
    opt.step()
    return opt.state_dict()


# ----------------------------------------------------------------------------------------------
# Modes
# ----------------------------------------------------------------------------------------------

def golden(out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # steadier on a small shared machine; results do not depend on it
    torch.manual_seed(20240617)
    gen = torch.Generator().manual_seed(7)
    g = {}

    # --- Tacotron ---
    taco = build_tacotron()
    randomise(taco)
    with torch.no_grad():  # with plain Xavier scales the attention stays almost uniform
        taco.decoder.attn_net.v.weight.mul_(5.0)
        taco.decoder.attn_net.L.weight.mul_(5.0)
    taco.set_prenet_dropout(False)
    chars = torch.tensor([text_to_ids(GOLDEN_TEXT)], dtype=torch.long)
    embedding = torch.randn(1, 256, generator=gen).abs()
    embedding /= embedding.norm()
    steps = 60
    bias = taco.decoder.stop_proj.bias
    with torch.no_grad():
        # The stop token is never fed back, so its bias only decides where the loop ends.
        bias.zero_()
        raw = taco.generate(chars, embedding, steps, allow_stop=False)["stop_logit"]
        bias_b = float(-raw.min()) + 1.0  # case B: every stop probability > 0.73
        bias.fill_(float(-raw.max()) - 1.0)  # case A: every stop probability < 0.27
        rec = {}
        a = taco.generate(chars, embedding, steps, record=rec)
        bias_a = bias.clone()
        bias.fill_(bias_b)
        b = taco.generate(chars, embedding, steps)
        bias.copy_(bias_a)
    g.update(rec)
    g.update({"taco.chars": chars, "taco.embedding": embedding,
              "taco.steps": torch.tensor([steps]),
              "taco.encoder_seq": a["encoder_seq"], "taco.encoder_seq_proj": a["encoder_seq_proj"],
              "taco.mel": a["mel"], "taco.postnet": a["postnet"], "taco.attention": a["attention"],
              "taco.stop": a["stop"], "taco.b.stop_proj_bias": torch.tensor([bias_b]),
              "taco.b.mel": b["mel"], "taco.b.postnet": b["postnet"], "taco.b.stop": b["stop"]})
    torch.save({"model_state": taco.state_dict()}, out_dir / "synthesizer.pt")
    (out_dir / "taco_text.txt").write_text(GOLDEN_TEXT + "\n")

    # --- WaveRNN ---
    voc = build_wavernn()
    randomise(voc)
    with torch.no_grad():  # default scales give almost uniform output distributions
        voc.fc3.weight.mul_(10.0)
    T, target, overlap = 22, 800, 100
    mel = torch.rand(1, 80, T, generator=gen) * 8 - 4
    S = T * VOC["hop_length"]
    u1 = torch.rand(1, S, generator=gen)
    drawn = u1.clone()
    rec = {}
    wav1, samples1 = voc.generate(mel / MEL_MAX_ABS, False, target, overlap, u1, record=rec)
    folds, _ = fold_layout(S, target, overlap)
    u2 = torch.rand(folds, target + 2 * overlap, generator=gen)
    wav2, samples2 = voc.generate(mel / MEL_MAX_ABS, True, target, overlap, u2)
    g.update({"voc.mel": mel, "voc.upsampled": rec["voc.upsampled"], "voc.aux": rec["voc.aux"],
              "voc.first_step.h1": rec["voc.first_step.h1"],
              "voc.first_step.h2": rec["voc.first_step.h2"],
              "voc.unbatched.uniforms": u1[0], "voc.unbatched.samples": samples1[0],
              "voc.unbatched.logits": rec["logits"][0], "voc.unbatched.wav": torch.from_numpy(wav1),
              "voc.batched.target": torch.tensor([target]),
              "voc.batched.overlap": torch.tensor([overlap]),
              "voc.batched.uniforms": u2, "voc.batched.samples": samples2,
              "voc.batched.wav": torch.from_numpy(wav2)})
    torch.save({"model_state": voc.state_dict(), "optimizer_state": adam_state(voc)},
               out_dir / "vocoder.pt")

    # Smallest distance between a uniform and a cdf entry: how far the Rust softmax may drift
    # before a sampled index flips.
    cdf = F.softmax(rec["logits"][0], 1).double().cumsum(1)
    margin = float((cdf - u1[0, :, None].double()).abs().min())

    flat = {}
    for k, v in sorted(g.items()):
        v = v.detach()
        v = v.to(torch.float32) if v.is_floating_point() else v.to(torch.int64)
        flat[k] = v.contiguous()
    torch.save(flat, out_dir / "golden.pt")

    print(f"text {GOLDEN_TEXT!r}: N = {chars.size(1)} ids")
    for case, o in (("A", a), ("B", b)):
        n = o["stop"].size(1)
        print(f"case {case}: {n} decoder steps, T = {o['mel'].size(2)}, stop fired: "
              f"{n < steps // TACO_R}, stop probs in [{float(o['stop'].min()):.3f}, "
              f"{float(o['stop'].max()):.3f}]")
    print(f"vocoder: T = {T} frames, {S} steps unbatched, {folds} folds x "
          f"{target + 2 * overlap} batched; unbatched: {int((u1 != drawn).sum())} u moved off bin "
          f"edges, min |cdf - u| = {margin:.2e}")
    for k, v in flat.items():
        print(f"  {k:32s} {str(v.dtype)[6:]:7s} {list(v.shape)}")
    print(f"wrote {out_dir}/{{synthesizer.pt, vocoder.pt, golden.pt, taco_text.txt}}")


def bench(seconds, threads, unbatched_seconds, taco_steps, repeat):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = torch.__config__.show().replace(",", " ").split()
    blas = [w for w in config if w.startswith("BLAS_INFO")]
    result = {"torch": torch.__version__, "blas": blas[0].split("=")[1] if blas else "?",
              "threads": threads, "cpu": cpu_name(), "repeat": repeat}

    def fastest(fn):
        """Best of `repeat` runs: the least disturbed by other load on the machine."""
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - start)
        return out, min(times)

    voc = build_wavernn()
    frames_per_s = SAMPLE_RATE // VOC["hop_length"]
    for key, secs, batched in (("batched", seconds, True), ("unbatched", unbatched_seconds, False)):
        mel = (torch.rand(1, 80, int(secs * frames_per_s)) * 8 - 4) / MEL_MAX_ABS
        (wav, samples), dt = fastest(lambda: voc.generate(mel, batched, 8000, 800))
        result.update({f"{key}_seconds": secs, f"{key}_folds": samples.size(0),
                       f"{key}_steps": samples.size(1),
                       f"{key}_samples_per_s": round(len(wav) / dt),
                       f"{key}_rtf": round(dt * SAMPLE_RATE / len(wav), 3)})

    taco = build_tacotron()
    with torch.no_grad():
        taco.decoder.stop_proj.bias.fill_(-30.0)  # run all `taco_steps` frames
    chars = torch.tensor([text_to_ids(BENCH_TEXT)], dtype=torch.long)
    embedding = torch.rand(1, 256)
    embedding /= embedding.norm()
    taco.generate(chars, embedding, 20)  # warm-up
    for label, grad in (("taco_frames_per_s", True), ("taco_frames_per_s_no_grad", False)):
        with torch.set_grad_enabled(grad):
            out, dt = fastest(lambda: taco.generate(chars, embedding, taco_steps))
        result[label] = round(out["mel"].size(2) / dt, 1)
    result.update(taco_chars=len(BENCH_TEXT), taco_frames=out["mel"].size(2))
    print(json.dumps(result))


TACO_SIZES = {
    "rtvc": TACO,
    "small": dict(TACO, embed_dims=256, encoder_dims=128, postnet_dims=256, lstm_dims=512),
}


def train_bench(size, batch, frames, chars, steps, threads):
    """Seconds per training step of RTVC's Tacotron (teacher-forced pass, RTVC's loss: MSE + L1
    of the decoder's mel, MSE of the post-net's, BCE of the stop token; backward; gradients
    clipped to norm 1; Adam) on made-up data of the given shape, after one warm-up step, and
    the process's peak resident memory. One JSON line."""
    import resource
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = dict(TACO_SIZES[size], fft_bins=TACO_SIZES[size]["n_mels"])
    model = Tacotron(**config)
    model.r = TACO_R
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids = torch.tensor([[1 + (c * 7 + i) % 60 for c in range(chars)] for i in range(batch)])
    mels = torch.rand(batch, 80, frames) * 8 - 4
    speaker = torch.full((batch, 256), 1.0 / 16)
    stop_target = torch.zeros(batch, frames)
    stop_target[:, -1] = 1.0

    def step():
        mel, postnet, stop = model.teacher_forced(ids, mels, speaker)
        loss = (F.mse_loss(mel, mels) + F.l1_loss(mel, mels) + F.mse_loss(postnet, mels)
                + F.binary_cross_entropy(torch.sigmoid(stop), stop_target))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    per_step = (time.perf_counter() - start) / steps
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"torch": torch.__version__, "threads": threads, "size": size,
                      "batch": batch, "frames": frames, "chars": chars, "steps": steps,
                      "seconds_per_step": round(per_step, 3), "peak_mib": peak_mib}))


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    gp = sub.add_parser("golden", help="write random checkpoints and golden tensors")
    gp.add_argument("out_dir", type=Path)
    bp = sub.add_parser("bench", help="time RTVC-style generation, print one JSON line")
    bp.add_argument("--seconds", type=float, default=5.0, help="batched vocoder clip length")
    bp.add_argument("--threads", type=int, default=2)
    bp.add_argument("--unbatched-seconds", type=float, default=1.0)
    bp.add_argument("--taco-steps", type=int, default=300, help="decoder frames to generate")
    bp.add_argument("--repeat", type=int, default=1, help="keep the fastest of this many runs")
    tp = sub.add_parser("train-bench", help="time Tacotron training steps, print one JSON line")
    tp.add_argument("--size", choices=sorted(TACO_SIZES), default="rtvc")
    tp.add_argument("--batch", type=int, default=4)
    tp.add_argument("--frames", type=int, default=400)
    tp.add_argument("--chars", type=int, default=60)
    tp.add_argument("--steps", type=int, default=3)
    tp.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.mode == "golden":
        golden(args.out_dir)
    elif args.mode == "train-bench":
        train_bench(args.size, args.batch, args.frames, args.chars, args.steps, args.threads)
    else:
        bench(args.seconds, args.threads, args.unbatched_seconds, args.taco_steps, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
