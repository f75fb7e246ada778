//! Speaker verification from embeddings: similarity scores and the equal error rate (EER).

use crate::Embedding;

/// The operating point where false acceptances equal false rejections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EqualErrorRate {
    /// The rate (0..1) at which both errors are equal.
    pub eer: f64,
    /// The similarity threshold that reaches it: accept when `score >= threshold`.
    pub threshold: f64,
}

/// Similarity of every pair, as a symmetric matrix.
pub fn similarity_matrix(embeddings: &[Embedding]) -> Vec<Vec<f32>> {
    embeddings
        .iter()
        .map(|a| embeddings.iter().map(|b| a.cosine(b)).collect())
        .collect()
}

/// Every pair of utterances as a verification trial: `(cosine, same speaker)`. `speakers[i]` labels
/// `embeddings[i]`.
pub fn pairwise_trials(embeddings: &[&Embedding], speakers: &[usize]) -> Vec<(f32, bool)> {
    assert_eq!(
        embeddings.len(),
        speakers.len(),
        "one speaker label per embedding"
    );
    let mut trials = Vec::with_capacity(embeddings.len() * embeddings.len().saturating_sub(1) / 2);
    for i in 0..embeddings.len() {
        for j in i + 1..embeddings.len() {
            trials.push((
                embeddings[i].cosine(embeddings[j]),
                speakers[i] == speakers[j],
            ));
        }
    }
    trials
}

/// The EER of a set of trials `(score, same_speaker)`, interpolated linearly between the two
/// thresholds where the false-acceptance and false-rejection rates cross. `None` without both
/// genuine and impostor trials.
pub fn equal_error_rate(trials: &[(f32, bool)]) -> Option<EqualErrorRate> {
    let genuine = trials.iter().filter(|t| t.1).count();
    let impostor = trials.len() - genuine;
    if genuine == 0 || impostor == 0 {
        return None;
    }
    let mut sorted: Vec<(f32, bool)> = trials.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sweep the threshold upward through every distinct score. At threshold s (accept >= s):
    // FRR = genuine scores below s, FAR = impostor scores at or above s.
    let mut points: Vec<(f64, f64, f64)> = Vec::with_capacity(sorted.len() + 1);
    let (mut genuine_below, mut impostor_below) = (0usize, 0usize);
    let mut i = 0;
    while i < sorted.len() {
        let s = sorted[i].0;
        let far = (impostor - impostor_below) as f64 / impostor as f64;
        let frr = genuine_below as f64 / genuine as f64;
        points.push((s as f64, far, frr));
        while i < sorted.len() && sorted[i].0 == s {
            if sorted[i].1 {
                genuine_below += 1;
            } else {
                impostor_below += 1;
            }
            i += 1;
        }
    }
    points.push((f64::INFINITY, 0.0, 1.0));
    // FAR falls and FRR rises with the threshold: find where they cross.
    let cross = points.iter().position(|&(_, far, frr)| frr >= far)?;
    if cross == 0 {
        let (s, far, frr) = points[0];
        return Some(EqualErrorRate {
            eer: (far + frr) / 2.0,
            threshold: s,
        });
    }
    let (s0, far0, frr0) = points[cross - 1];
    let (s1, far1, frr1) = points[cross];
    let d0 = far0 - frr0;
    let d1 = frr1 - far1;
    let w = if d0 + d1 > 0.0 { d0 / (d0 + d1) } else { 0.0 };
    let threshold = if s1.is_finite() {
        s0 + w * (s1 - s0)
    } else {
        s0
    };
    Some(EqualErrorRate {
        eer: far0 + w * (far1 - far0),
        threshold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_scores_have_zero_eer_with_a_threshold_between() {
        let trials = [(0.9, true), (0.8, true), (0.3, false), (0.2, false)];
        let e = equal_error_rate(&trials).unwrap();
        assert!(e.eer.abs() < 1e-12, "{e:?}");
        assert!(e.threshold > 0.3 && e.threshold <= 0.8f32 as f64, "{e:?}");
    }

    #[test]
    fn reversed_scores_have_full_eer() {
        let trials = [(0.1, true), (0.2, true), (0.8, false), (0.9, false)];
        let e = equal_error_rate(&trials).unwrap();
        assert!((e.eer - 1.0).abs() < 1e-12, "{e:?}");
    }

    #[test]
    fn one_overlap_in_four_each_gives_a_quarter() {
        // Genuine 0.5, 0.7, 0.8, 0.9; impostor 0.1, 0.2, 0.3, 0.6.
        let trials = [
            (0.5, true),
            (0.7, true),
            (0.8, true),
            (0.9, true),
            (0.1, false),
            (0.2, false),
            (0.3, false),
            (0.6, false),
        ];
        let e = equal_error_rate(&trials).unwrap();
        assert!((e.eer - 0.25).abs() < 1e-12, "{e:?}");
        assert!(e.threshold > 0.5 && e.threshold <= 0.6f32 as f64, "{e:?}");
    }

    #[test]
    fn pairwise_trials_label_same_speaker_pairs() {
        let e = |v: Vec<f32>| Embedding::normalized(v).unwrap();
        let (a, b, c) = (e(vec![1.0, 0.0]), e(vec![1.0, 1.0]), e(vec![0.0, 1.0]));
        let trials = pairwise_trials(&[&a, &b, &c], &[0, 0, 1]);
        assert_eq!(trials.len(), 3);
        assert!(trials[0].1 && !trials[1].1 && !trials[2].1);
        assert!((trials[1].0 - 0.0).abs() < 1e-6);
    }

    #[test]
    fn needs_both_kinds_of_trial() {
        assert!(equal_error_rate(&[(0.5, true)]).is_none());
        assert!(equal_error_rate(&[]).is_none());
    }
}
