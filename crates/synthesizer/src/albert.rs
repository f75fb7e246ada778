//! ALBERT (Lan et al. 2019) as Kokoro's phoneme-level language model ("PL-BERT", Li et al.
//! 2023): factorised embeddings and one transformer layer applied `num_hidden_layers` times.
//! Weight names follow Hugging Face's `AlbertModel`.

use candle_core::{Module, Result, Tensor, D};
use candle_nn::{Embedding, LayerNorm, VarBuilder};

use voxclone_nn::linear::Linear;

/// `plbert` of Kokoro-82M's `config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbertConfig {
    pub vocab_size: usize,
    pub embedding_size: usize,
    pub hidden_size: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub max_position_embeddings: usize,
    pub layer_norm_eps: f64,
}

impl Default for AlbertConfig {
    fn default() -> Self {
        Self {
            vocab_size: 178,
            embedding_size: 128,
            hidden_size: 768,
            num_attention_heads: 12,
            intermediate_size: 2048,
            num_hidden_layers: 12,
            max_position_embeddings: 512,
            layer_norm_eps: 1e-12,
        }
    }
}

#[derive(Debug, Clone)]
struct Attention {
    query: Linear,
    key: Linear,
    value: Linear,
    dense: Linear,
    layer_norm: LayerNorm,
    heads: usize,
}

impl Attention {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, hidden) = x.dims3()?;
        let head_dim = hidden / self.heads;
        let split = |y: Tensor| -> Result<Tensor> {
            y.reshape((b, t, self.heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? / (head_dim as f64).sqrt())?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = weights
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((b, t, hidden))?;
        self.layer_norm
            .forward(&(x + self.dense.forward(&context)?)?)
    }
}

/// The shared transformer layer (`albert_layer_groups.0.albert_layers.0`).
#[derive(Debug, Clone)]
struct Layer {
    attention: Attention,
    ffn: Linear,
    ffn_output: Linear,
    full_layer_layer_norm: LayerNorm,
}

impl Layer {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let a = self.attention.forward(x)?;
        // `gelu_new`, the tanh approximation.
        let f = self.ffn_output.forward(&self.ffn.forward(&a)?.gelu()?)?;
        self.full_layer_layer_norm.forward(&(f + a)?)
    }
}

#[derive(Debug, Clone)]
pub struct Albert {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    token_type_embedding: Tensor,
    embeddings_norm: LayerNorm,
    mapping_in: Linear,
    layer: Layer,
    repeats: usize,
    max_positions: usize,
}

impl Albert {
    /// `vb` points at the model (`bert.*`).
    pub fn load(vb: &VarBuilder, cfg: &AlbertConfig) -> Result<Self> {
        let emb = vb.pp("embeddings");
        let e = cfg.embedding_size;
        let h = cfg.hidden_size;
        let ln = |size: usize, vb: VarBuilder| candle_nn::layer_norm(size, cfg.layer_norm_eps, vb);
        let layer = vb.pp("encoder.albert_layer_groups.0.albert_layers.0");
        let att = layer.pp("attention");
        Ok(Self {
            word_embeddings: candle_nn::embedding(cfg.vocab_size, e, emb.pp("word_embeddings"))?,
            position_embeddings: candle_nn::embedding(
                cfg.max_position_embeddings,
                e,
                emb.pp("position_embeddings"),
            )?,
            // Kokoro reads one sentence at a time: token type 0 throughout.
            token_type_embedding: emb
                .get((2, e), "token_type_embeddings.weight")?
                .narrow(0, 0, 1)?,
            embeddings_norm: ln(e, emb.pp("LayerNorm"))?,
            mapping_in: Linear::load(e, h, vb.pp("encoder.embedding_hidden_mapping_in"))?,
            layer: Layer {
                attention: Attention {
                    query: Linear::load(h, h, att.pp("query"))?,
                    key: Linear::load(h, h, att.pp("key"))?,
                    value: Linear::load(h, h, att.pp("value"))?,
                    dense: Linear::load(h, h, att.pp("dense"))?,
                    layer_norm: ln(h, att.pp("LayerNorm"))?,
                    heads: cfg.num_attention_heads,
                },
                ffn: Linear::load(h, cfg.intermediate_size, layer.pp("ffn"))?,
                ffn_output: Linear::load(cfg.intermediate_size, h, layer.pp("ffn_output"))?,
                full_layer_layer_norm: ln(h, layer.pp("full_layer_layer_norm"))?,
            },
            repeats: cfg.num_hidden_layers,
            max_positions: cfg.max_position_embeddings,
        })
    }

    /// Token ids `[1, T]` (u32) → last hidden state `[1, T, hidden]`.
    pub fn forward(&self, tokens: &Tensor) -> Result<Tensor> {
        let t = tokens.dim(D::Minus1)?;
        if t > self.max_positions {
            candle_core::bail!(
                "{t} tokens exceed ALBERT's {} positions",
                self.max_positions
            );
        }
        let positions = Tensor::arange(0u32, t as u32, tokens.device())?.unsqueeze(0)?;
        let x = (self.word_embeddings.forward(tokens)?
            + self.position_embeddings.forward(&positions)?)?
        .broadcast_add(&self.token_type_embedding)?;
        let mut x = self
            .mapping_in
            .forward(&self.embeddings_norm.forward(&x)?)?;
        for _ in 0..self.repeats {
            x = self.layer.forward(&x)?;
        }
        Ok(x)
    }
}
