//! StyleTTS 2's text encoder: phoneme embeddings, three convolution blocks, a BiLSTM. Its
//! output, expanded by the predicted durations, is the decoder's `asr` input.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Embedding, VarBuilder};
use voxclone_nn::layers::{leaky_relu, Conv1d};

use voxclone_nn::lstm::BiLstm;
use voxclone_nn::norm::channel_layer_norm;

#[derive(Debug, Clone)]
struct ConvBlock {
    conv: Conv1d,
    gamma: Tensor,
    beta: Tensor,
}

#[derive(Debug, Clone)]
pub struct TextEncoder {
    embedding: Embedding,
    cnn: Vec<ConvBlock>,
    lstm: BiLstm,
}

impl TextEncoder {
    pub fn load(
        vb: &VarBuilder,
        vocab: usize,
        channels: usize,
        kernel: usize,
        depth: usize,
    ) -> Result<Self> {
        let cnn = (0..depth)
            .map(|i| {
                let block = vb.pp("cnn").pp(i);
                Ok(ConvBlock {
                    conv: Conv1d::same(&block.pp(0), channels, channels, kernel, 1)?,
                    gamma: block.pp(1).get(channels, "gamma")?,
                    beta: block.pp(1).get(channels, "beta")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            embedding: candle_nn::embedding(vocab, channels, vb.pp("embedding"))?,
            cnn,
            lstm: BiLstm::load(&vb.pp("lstm"), channels, channels / 2)?,
        })
    }

    /// Token ids `[1, T]` → features `[1, channels, T]`.
    pub fn forward(&self, tokens: &Tensor) -> Result<Tensor> {
        let mut x = self.embedding.forward(tokens)?.transpose(1, 2)?;
        for block in &self.cnn {
            x = block.conv.forward(&x)?;
            x = channel_layer_norm(&x, Some((&block.gamma, &block.beta)))?;
            x = leaky_relu(&x, 0.2)?;
        }
        self.lstm.forward(&x.transpose(1, 2)?)?.transpose(1, 2)
    }
}
