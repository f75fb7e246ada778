//! The generalized end-to-end (GE2E) softmax loss (Wan et al. 2018, "Generalized End-to-End Loss
//! for Speaker Verification"), as Real-Time-Voice-Cloning trains its encoder with it.
//!
//! A batch holds N speakers × M utterances. Each embedding is scored against every speaker's
//! centroid; against its own speaker the centroid *excludes* the utterance itself, which keeps the
//! task honest. Scores are cosines scaled by a learnable `w` and shifted by a learnable `b`, and the
//! loss is the softmax cross-entropy of picking the right speaker.

use candle_core::{DType, Tensor, D};
use candle_nn::{Init, VarBuilder};

use crate::Result;

/// The GE2E similarity scale and bias, named as in the pretrained checkpoint.
#[derive(Debug, Clone)]
pub struct Ge2eLoss {
    /// `w`, initialised to 10.
    pub scale: Tensor,
    /// `b`, initialised to -5.
    pub bias: Tensor,
}

/// Names of the two GE2E parameters (they train with a reduced learning rate).
pub const GE2E_PARAMETERS: [&str; 2] = ["similarity_weight", "similarity_bias"];

impl Ge2eLoss {
    pub fn new(vb: &VarBuilder) -> Result<Self> {
        Ok(Self {
            scale: vb.get_with_hints(1, GE2E_PARAMETERS[0], Init::Const(10.0))?,
            bias: vb.get_with_hints(1, GE2E_PARAMETERS[1], Init::Const(-5.0))?,
        })
    }

    /// The loss (a scalar) and the scaled similarity matrix (`N·M × N`) of unit-norm embeddings
    /// `N × M × D` (speaker, utterance, dimension).
    pub fn forward(&self, embeds: &Tensor) -> Result<(Tensor, Tensor)> {
        let (n, m, d) = embeds.dims3()?;
        if m < 2 {
            return Err(candle_core::Error::Msg(format!(
                "GE2E needs at least 2 utterances per speaker, got shape {:?}",
                embeds.shape()
            ))
            .into());
        }
        let sum = embeds.sum_keepdim(1)?;
        let inclusive = unit(&(&sum / m as f64)?)?.reshape((n, d))?;
        let exclusive = unit(&(sum.broadcast_sub(embeds)? / (m - 1) as f64)?)?;
        let flat = embeds.reshape((n * m, d))?;
        let to_inclusive = flat.matmul(&inclusive.t()?)?;
        let to_own_exclusive = (embeds * exclusive)?.sum(D::Minus1)?.reshape((n * m, 1))?;
        // Row j·M + i scores speaker k; k = j uses the exclusive centroid.
        let own: Vec<f32> = (0..n * m)
            .flat_map(|r| (0..n).map(move |k| if k == r / m { 1.0 } else { 0.0 }))
            .collect();
        let own = Tensor::from_vec(own, (n * m, n), embeds.device())?;
        let cosines = ((to_inclusive * (1.0 - &own)?)? + to_own_exclusive.broadcast_mul(&own)?)?;
        let logits = cosines
            .broadcast_mul(&self.scale)?
            .broadcast_add(&self.bias)?;
        let targets: Vec<u32> = (0..n * m).map(|r| (r / m) as u32).collect();
        let targets = Tensor::from_vec(targets, n * m, embeds.device())?;
        let loss = candle_nn::loss::cross_entropy(&logits, &targets.to_dtype(DType::U32)?)?;
        Ok((loss, logits))
    }
}

/// Rows scaled to unit length along the last axis; the small constant (as in RTVC) keeps the
/// gradient finite for a zero row.
fn unit(x: &Tensor) -> Result<Tensor> {
    let norm = (x.sqr()?.sum_keepdim(D::Minus1)?.sqrt()? + 1e-5)?;
    Ok(x.broadcast_div(&norm)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn loss_of(embeds: Vec<f32>, n: usize, m: usize, d: usize) -> (f32, Vec<Vec<f32>>) {
        let dev = Device::Cpu;
        let ge2e = Ge2eLoss {
            scale: Tensor::new(&[10f32], &dev).unwrap(),
            bias: Tensor::new(&[-5f32], &dev).unwrap(),
        };
        let e = Tensor::from_vec(embeds, (n, m, d), &dev).unwrap();
        let (loss, logits) = ge2e.forward(&e).unwrap();
        (loss.to_scalar::<f32>().unwrap(), logits.to_vec2().unwrap())
    }

    #[test]
    fn separated_speakers_score_low_loss_and_mixed_ones_high() {
        // Two speakers on orthogonal axes, two utterances each.
        let separated = vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0];
        let (low, logits) = loss_of(separated, 2, 2, 2);
        // Own exclusive centroid = the other utterance: cosine 1 → 10·1 - 5 = 5; other speaker: -5.
        assert!((logits[0][0] - 5.0).abs() < 1e-3 && (logits[0][1] + 5.0).abs() < 1e-3);
        let mixed = vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0];
        let (high, _) = loss_of(mixed, 2, 2, 2);
        assert!(low < 1e-3, "{low}");
        assert!(high > 1.0, "{high}");
    }

    #[test]
    fn the_own_centroid_excludes_the_utterance() {
        // Speaker 0: utterances along x and y; its exclusive centroid for the first is y alone.
        let e = vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0];
        let (_, logits) = loss_of(e, 2, 2, 2);
        // cos(x, y) = 0 → 10·0 - 5; an inclusive centroid would have given cos 0.707.
        assert!((logits[0][0] + 5.0).abs() < 1e-3, "{:?}", logits[0]);
        // Against speaker 1 (all y) the inclusive centroid is y: cos(x, y) = 0 as well.
        assert!((logits[0][1] + 5.0).abs() < 1e-3, "{:?}", logits[0]);
    }
}
