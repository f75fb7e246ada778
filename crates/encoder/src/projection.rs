//! A 2-D map of embeddings with t-SNE (van der Maaten & Hinton 2008), to see speakers as clusters:
//! during training, and wherever a voice should be shown among others.
//!
//! Exact t-SNE: O(n²) per iteration, fine for the few hundred utterances it is meant for.

use voxclone_nn::rng::SplitMix64 as SplitMix;

/// t-SNE settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TsneParams {
    /// Effective number of neighbours (capped at (n − 1) / 3).
    pub perplexity: f64,
    pub iterations: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for TsneParams {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 750,
            learning_rate: 100.0,
            seed: 0,
        }
    }
}

/// Embeds `points` (all the same length) in 2-D; similar points land close together.
pub fn tsne(points: &[&[f32]], p: &TsneParams) -> Vec<[f64; 2]> {
    let n = points.len();
    if n < 3 {
        return (0..n).map(|i| [i as f64, 0.0]).collect();
    }
    let affinities = joint_probabilities(points, p.perplexity.min((n - 1) as f64 / 3.0));
    let mut rng = SplitMix::new(p.seed);
    let mut normal = || {
        // Box–Muller from two uniforms in (0, 1].
        let u1 = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let mut y: Vec<[f64; 2]> = (0..n).map(|_| [1e-4 * normal(), 1e-4 * normal()]).collect();
    let mut velocity = vec![[0.0f64; 2]; n];
    let mut gains = vec![[1.0f64; 2]; n];
    let exaggeration_until = p.iterations / 4;
    let mut kernel = vec![0.0f64; n * n];
    for iter in 0..p.iterations {
        let exaggeration = if iter < exaggeration_until { 12.0 } else { 1.0 };
        let momentum = if iter < exaggeration_until { 0.5 } else { 0.8 };
        // Student-t kernel between the map points, and its normaliser.
        let mut z = 0.0;
        for i in 0..n {
            for j in 0..n {
                let k = if i == j {
                    0.0
                } else {
                    let (dx, dy) = (y[i][0] - y[j][0], y[i][1] - y[j][1]);
                    1.0 / (1.0 + dx * dx + dy * dy)
                };
                kernel[i * n + j] = k;
                z += k;
            }
        }
        for i in 0..n {
            let mut grad = [0.0f64; 2];
            for j in 0..n {
                let k = kernel[i * n + j];
                let force = (exaggeration * affinities[i * n + j] - k / z) * k;
                grad[0] += 4.0 * force * (y[i][0] - y[j][0]);
                grad[1] += 4.0 * force * (y[i][1] - y[j][1]);
            }
            for d in 0..2 {
                // Per-coordinate gains (delta-bar-delta), as the reference implementation.
                gains[i][d] = if (grad[d] > 0.0) != (velocity[i][d] > 0.0) {
                    gains[i][d] + 0.2
                } else {
                    (gains[i][d] * 0.8).max(0.01)
                };
                velocity[i][d] =
                    momentum * velocity[i][d] - p.learning_rate * gains[i][d] * grad[d];
            }
        }
        for (yi, vi) in y.iter_mut().zip(&velocity) {
            yi[0] += vi[0];
            yi[1] += vi[1];
        }
    }
    y
}

/// The first two principal components of `points`: a map that needs no neighbours, for the few
/// points t-SNE cannot place. Found by power iteration on the centred data, so no
/// covariance matrix is formed.
pub fn pca(points: &[&[f32]]) -> Vec<[f64; 2]> {
    let n = points.len();
    if n == 0 {
        return Vec::new();
    }
    let dim = points[0].len();
    let mean: Vec<f64> = (0..dim)
        .map(|d| points.iter().map(|p| p[d] as f64).sum::<f64>() / n as f64)
        .collect();
    let centred: Vec<Vec<f64>> = points
        .iter()
        .map(|p| p.iter().zip(&mean).map(|(v, m)| *v as f64 - m).collect())
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut axes: Vec<Vec<f64>> = Vec::new();
    let mut rng = SplitMix::new(1);
    for _ in 0..2 {
        let mut v: Vec<f64> = (0..dim)
            .map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
            .collect();
        for _ in 0..100 {
            // v ← Xᵀ X v, kept orthogonal to the axes already found.
            let scores: Vec<f64> = centred.iter().map(|row| dot(row, &v)).collect();
            let mut next = vec![0.0; dim];
            for (row, s) in centred.iter().zip(&scores) {
                for (x, r) in next.iter_mut().zip(row) {
                    *x += s * r;
                }
            }
            for axis in &axes {
                let along = dot(&next, axis);
                for (x, a) in next.iter_mut().zip(axis) {
                    *x -= along * a;
                }
            }
            let norm = dot(&next, &next).sqrt();
            if norm < 1e-12 {
                break; // no variance left in this direction
            }
            v = next.iter().map(|x| x / norm).collect();
        }
        axes.push(v);
    }
    centred
        .iter()
        .map(|row| [dot(row, &axes[0]), dot(row, &axes[1])])
        .collect()
}

/// Symmetric input affinities `p_ij`, each row's Gaussian width set by binary search so its
/// perplexity is `perplexity`.
fn joint_probabilities(points: &[&[f32]], perplexity: f64) -> Vec<f64> {
    let n = points.len();
    let mut dist = vec![0.0f64; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let d: f64 = points[i]
                .iter()
                .zip(points[j])
                .map(|(a, b)| ((a - b) as f64).powi(2))
                .sum();
            dist[i * n + j] = d;
            dist[j * n + i] = d;
        }
    }
    let target_entropy = perplexity.ln();
    let mut conditional = vec![0.0f64; n * n];
    for i in 0..n {
        let row = &dist[i * n..(i + 1) * n];
        let (mut lo, mut hi, mut beta) = (0.0f64, f64::INFINITY, 1.0f64);
        for _ in 0..100 {
            let mut sum = 0.0;
            let mut weighted = 0.0;
            for (j, &d) in row.iter().enumerate() {
                if j != i {
                    let w = (-beta * d).exp();
                    sum += w;
                    weighted += w * d;
                }
            }
            let sum = sum.max(1e-300);
            let entropy = sum.ln() + beta * weighted / sum;
            if (entropy - target_entropy).abs() < 1e-5 {
                break;
            }
            if entropy > target_entropy {
                lo = beta;
                beta = if hi.is_finite() {
                    (beta + hi) / 2.0
                } else {
                    beta * 2.0
                };
            } else {
                hi = beta;
                beta = (beta + lo) / 2.0;
            }
        }
        let weights: Vec<f64> = row
            .iter()
            .enumerate()
            .map(|(j, &d)| if j == i { 0.0 } else { (-beta * d).exp() })
            .collect();
        let sum: f64 = weights.iter().sum::<f64>().max(1e-300);
        for (j, w) in weights.into_iter().enumerate() {
            conditional[i * n + j] = w / sum;
        }
    }
    let mut joint = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            joint[i * n + j] =
                ((conditional[i * n + j] + conditional[j * n + i]) / (2.0 * n as f64)).max(1e-12);
        }
    }
    joint
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_lays_points_along_their_widest_spread() {
        // Points on a line in 4-D, plus a smaller spread across it that is uncorrelated with
        // the position along the line (so the line is exactly the first component).
        let across = [1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
        let rows: Vec<Vec<f32>> = (0..6)
            .map(|i| {
                let t = i as f32 - 2.5;
                vec![3.0 * t, -3.0 * t, 0.3 * across[i], 1.0]
            })
            .collect();
        let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        let map = pca(&refs);
        // The first axis orders the points as the line does (up to sign), 4.24 apart each.
        let gaps: Vec<f64> = map.windows(2).map(|w| w[1][0] - w[0][0]).collect();
        let step = 18f64.sqrt();
        assert!(
            gaps.iter().all(|g| (g.abs() - step).abs() < 1e-6),
            "{gaps:?}"
        );
        assert!(map.iter().all(|p| p[1].abs() < 0.5), "{map:?}");
        // The second axis is the spread across: the two groups fall on either side.
        assert!(map[0][1] * map[1][1] < 0.0, "{map:?}");
    }

    #[test]
    fn separated_clusters_stay_separated_in_the_map() {
        // Three clusters of 15 points in 16-D, around orthogonal centres.
        let mut rng = SplitMix::new(5);
        let mut points = Vec::new();
        let mut labels = Vec::new();
        for c in 0..3 {
            for _ in 0..15 {
                let p: Vec<f32> = (0..16)
                    .map(|d| {
                        let centre = if d == c { 1.0 } else { 0.0 };
                        centre + (rng.below(1000) as f32 / 1000.0 - 0.5) * 0.3
                    })
                    .collect();
                points.push(p);
                labels.push(c);
            }
        }
        let refs: Vec<&[f32]> = points.iter().map(Vec::as_slice).collect();
        let map = tsne(&refs, &TsneParams::default());
        assert!(map.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
        let mut right = 0;
        for i in 0..map.len() {
            let nearest = (0..map.len())
                .filter(|&j| j != i)
                .min_by(|&a, &b| {
                    let d = |j: usize| {
                        (map[i][0] - map[j][0]).powi(2) + (map[i][1] - map[j][1]).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            right += usize::from(labels[nearest] == labels[i]);
        }
        assert!(
            right >= 43,
            "{right} of 45 nearest neighbours share the cluster"
        );
    }
}
