//! The d-vector: a unit-norm point in the speaker space, compared by cosine similarity.

/// A unit-norm embedding (utterance or speaker). Cosine similarity is its dot product.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// Normalises `v` to unit length. `None` if it has no direction (all zero) or is not finite.
    pub fn normalized(v: Vec<f32>) -> Option<Self> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return None;
        }
        Some(Self(v.into_iter().map(|x| x / norm).collect()))
    }

    /// The normalised mean of several embeddings: an utterance from its partials, a speaker from
    /// their utterances.
    pub fn mean<'a>(items: impl IntoIterator<Item = &'a [f32]>) -> Option<Self> {
        let mut sum: Vec<f32> = Vec::new();
        let mut n = 0usize;
        for item in items {
            if sum.is_empty() {
                sum = vec![0.0; item.len()];
            }
            for (s, x) in sum.iter_mut().zip(item) {
                *s += x;
            }
            n += 1;
        }
        if n == 0 {
            return None;
        }
        Self::normalized(sum.into_iter().map(|s| s / n as f32).collect())
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<f32> {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Cosine similarity in [-1, 1] (in [0, 1] for GE2E d-vectors, which are non-negative).
    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }
}

impl AsRef<[f32]> for Embedding {
    fn as_ref(&self) -> &[f32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_mean_and_cosine() {
        let a = [1.0f32, 0.0];
        let b = [0.0f32, 1.0];
        let m = Embedding::mean([&a[..], &b[..]]).unwrap();
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!((m.as_slice()[0] - h).abs() < 1e-6 && (m.as_slice()[1] - h).abs() < 1e-6);
        let ea = Embedding::normalized(a.to_vec()).unwrap();
        assert!((m.cosine(&ea) - h).abs() < 1e-6);
        assert!((ea.cosine(&ea) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn zero_vectors_have_no_direction() {
        assert!(Embedding::normalized(vec![0.0; 4]).is_none());
        assert!(Embedding::normalized(vec![f32::NAN, 1.0]).is_none());
        assert!(Embedding::mean(std::iter::empty::<&[f32]>()).is_none());
    }
}
