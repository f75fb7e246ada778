//! The LSTM cell in AVX2 + FMA, for the many CPUs without AVX-512 (their matrix products go to the
//! `gemm` crate, which is faster there than a hand-blocked AVX2 kernel measured: 170 vs 141 audio
//! seconds per second on one thread).

use std::arch::x86_64::*;

/// The LSTM cell over a batch (see `super::cell_update`); `h_dim` must be a multiple of 8.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and `gates` must hold `4 h_dim` values per row of `c` and `h`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn cell_update(gates: &[f32], c: &mut [f32], h: &mut [f32], h_dim: usize) {
    debug_assert!(h_dim.is_multiple_of(8) && gates.len() == 4 * c.len() && c.len() == h.len());
    let rows = c.len() / h_dim;
    for r in 0..rows {
        let g = gates.as_ptr().add(4 * h_dim * r);
        let (cp, hp) = (c.as_mut_ptr().add(h_dim * r), h.as_mut_ptr().add(h_dim * r));
        for j in (0..h_dim).step_by(8) {
            let i_gate = sigmoid(_mm256_loadu_ps(g.add(j)));
            let f_gate = sigmoid(_mm256_loadu_ps(g.add(h_dim + j)));
            let g_gate = tanh(_mm256_loadu_ps(g.add(2 * h_dim + j)));
            let o_gate = sigmoid(_mm256_loadu_ps(g.add(3 * h_dim + j)));
            let c_new = _mm256_fmadd_ps(
                f_gate,
                _mm256_loadu_ps(cp.add(j)),
                _mm256_mul_ps(i_gate, g_gate),
            );
            _mm256_storeu_ps(cp.add(j), c_new);
            _mm256_storeu_ps(hp.add(j), _mm256_mul_ps(o_gate, tanh(c_new)));
        }
    }
}

#[inline(always)]
unsafe fn sigmoid(x: __m256) -> __m256 {
    let one = _mm256_set1_ps(1.0);
    _mm256_div_ps(
        one,
        _mm256_add_ps(one, exp(_mm256_sub_ps(_mm256_setzero_ps(), x))),
    )
}

#[inline(always)]
unsafe fn tanh(x: __m256) -> __m256 {
    let (one, two) = (_mm256_set1_ps(1.0), _mm256_set1_ps(2.0));
    let e = exp(_mm256_mul_ps(two, x));
    _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(e, one)))
}

/// `e^x`, the same range reduction and polynomial as `super::exp`, eight lanes at a time.
#[inline(always)]
unsafe fn exp(x: __m256) -> __m256 {
    let x = _mm256_min_ps(
        _mm256_max_ps(x, _mm256_set1_ps(-87.0)),
        _mm256_set1_ps(88.0),
    );
    let n = _mm256_floor_ps(_mm256_fmadd_ps(
        x,
        _mm256_set1_ps(super::LOG2E),
        _mm256_set1_ps(0.5),
    ));
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(super::LN2_HI), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(super::LN2_LO), r);
    let mut p = _mm256_set1_ps(super::EXP_POLY[0]);
    for &coef in &super::EXP_POLY[1..] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(coef));
    }
    let e_r = _mm256_add_ps(
        _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r),
        _mm256_set1_ps(1.0),
    );
    let bits = _mm256_slli_epi32::<23>(_mm256_add_epi32(
        _mm256_cvtps_epi32(n),
        _mm256_set1_epi32(127),
    ));
    _mm256_mul_ps(e_r, _mm256_castsi256_ps(bits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::lstm::test_support::pseudo_random;

    #[test]
    fn cell_update_matches_the_portable_cell() {
        if !crate::Kernel::Avx2.is_available() {
            eprintln!("no AVX2/FMA on this CPU");
            return;
        }
        let (rows, h_dim) = (5, 32);
        let gates: Vec<f32> = pseudo_random(rows * 4 * h_dim, 4)
            .iter()
            .map(|v| v * 40.0)
            .collect();
        let c0 = pseudo_random(rows * h_dim, 5);
        let (mut c1, mut h1) = (c0.clone(), vec![0f32; rows * h_dim]);
        let (mut c2, mut h2) = (c0.clone(), vec![0f32; rows * h_dim]);
        unsafe { cell_update(&gates, &mut c1, &mut h1, h_dim) };
        super::super::cell_update_portable(&gates, &mut c2, &mut h2, h_dim);
        for (a, b) in c1.iter().zip(&c2).chain(h1.iter().zip(&h2)) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
