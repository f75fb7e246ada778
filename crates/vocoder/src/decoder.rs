//! StyleTTS 2's decoder: AdaIN residual blocks over the aligned text features, F0 and energy,
//! then the iSTFTNet [`Generator`].

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use crate::generator::Generator;
use crate::source::SourceNoise;
use crate::IstftnetConfig;
use voxclone_nn::layers::{AdainResBlk1d, Conv1d};

/// Channels of the decoder's hidden features.
const HIDDEN: usize = 1024;
/// Channels of the text-feature skip connection fed to every `decode` block.
const ASR_RES: usize = 64;

#[derive(Debug, Clone)]
pub struct Decoder {
    /// Halve the F0 and energy curves' rate to the text features' (stride 2).
    f0_conv: Conv1d,
    n_conv: Conv1d,
    encode: AdainResBlk1d,
    asr_res: Conv1d,
    decode: Vec<AdainResBlk1d>,
    generator: Generator,
}

impl Decoder {
    /// `vb` points at the decoder's weights (`decoder.*`).
    pub fn load(vb: &VarBuilder, cfg: &IstftnetConfig) -> Result<Self> {
        let s = cfg.style_dim;
        let skip = HIDDEN + 2 + ASR_RES;
        let decode = (0..4)
            .map(|i| {
                let last = i == 3;
                let out = if last {
                    cfg.upsample_initial_channel
                } else {
                    HIDDEN
                };
                AdainResBlk1d::load(&vb.pp("decode").pp(i), skip, out, s, last)
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            f0_conv: Conv1d::load(&vb.pp("F0_conv"), (1, 1, 3), 1, 2, 1, true)?,
            n_conv: Conv1d::load(&vb.pp("N_conv"), (1, 1, 3), 1, 2, 1, true)?,
            encode: AdainResBlk1d::load(&vb.pp("encode"), cfg.dim_in + 2, HIDDEN, s, false)?,
            asr_res: Conv1d::load(
                &vb.pp("asr_res").pp(0),
                (ASR_RES, cfg.dim_in, 1),
                0,
                1,
                1,
                true,
            )?,
            decode,
            generator: Generator::load(&vb.pp("generator"), cfg)?,
        })
    }

    /// The waveform for aligned text features `asr` `[B, 512, T]`, F0 and energy curves
    /// `[B, 2T]` and the timbre `[B, 128]`: `[B, 2T · 300]` samples at 24 kHz.
    pub fn forward(
        &self,
        asr: &Tensor,
        f0: &Tensor,
        energy: &Tensor,
        timbre: &Tensor,
        noise: SourceNoise,
    ) -> Result<Tensor> {
        let f0_down = self.f0_conv.forward(&f0.unsqueeze(1)?)?;
        let n_down = self.n_conv.forward(&energy.unsqueeze(1)?)?;
        let mut x = Tensor::cat(&[asr, &f0_down, &n_down], 1)?;
        x = self.encode.forward(&x, timbre)?;
        let asr_res = self.asr_res.forward(asr)?;
        let mut skip = true;
        for block in &self.decode {
            if skip {
                x = Tensor::cat(&[&x, &asr_res, &f0_down, &n_down], 1)?;
            }
            x = block.forward(&x, timbre)?;
            // After the block that doubles the rate, the skip inputs no longer line up.
            if block.upsamples() {
                skip = false;
            }
        }
        self.generator.forward(&x, timbre, f0, noise)
    }

    pub fn generator(&self) -> &Generator {
        &self.generator
    }
}
