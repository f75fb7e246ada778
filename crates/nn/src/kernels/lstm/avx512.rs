//! AVX-512 kernels for the fused encoder: a register-blocked matrix product and the LSTM cell.
//!
//! The generic `gemm` crate reaches AVX2 only on stable Rust; these two loops are where the
//! encoder spends its time, so they get hand-blocked AVX-512 versions. Both are checked against
//! the portable code in the tests below.

use std::arch::x86_64::*;

/// Rows of `lhs` per register block.
const MR: usize = 6;
/// Columns per register block: four vectors of 16.
const NR: usize = 64;
/// Depth per pass: a `KC × NR` panel of `rhs` (32 KB) stays in L1 while every row block uses it.
const KC: usize = 128;

/// `dst (m × n) += lhs (m × k) · rhs (k × n)`, row-major; `n` must be a multiple of 64.
///
/// # Safety
/// The CPU must support AVX-512F ([`crate::Kernel::Avx512`]), and the slices must hold the stated shapes.
#[target_feature(enable = "avx512f")]
pub unsafe fn matmul_acc(dst: &mut [f32], lhs: &[f32], rhs: &[f32], m: usize, k: usize, n: usize) {
    debug_assert!(
        n.is_multiple_of(NR) && dst.len() >= m * n && lhs.len() >= m * k && rhs.len() >= k * n
    );
    for j in (0..n).step_by(NR) {
        for k0 in (0..k).step_by(KC) {
            let kr = k0..k.min(k0 + KC);
            let mut i = 0;
            while i + MR <= m {
                block::<MR>(dst, lhs, rhs, i, j, kr.clone(), k, n);
                i += MR;
            }
            match m - i {
                0 => {}
                1 => block::<1>(dst, lhs, rhs, i, j, kr, k, n),
                2 => block::<2>(dst, lhs, rhs, i, j, kr, k, n),
                3 => block::<3>(dst, lhs, rhs, i, j, kr, k, n),
                4 => block::<4>(dst, lhs, rhs, i, j, kr, k, n),
                _ => block::<5>(dst, lhs, rhs, i, j, kr, k, n),
            }
        }
    }
}

/// One `R × 64` block of `dst`, accumulated in registers over the depths `kr` (of `k`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn block<const R: usize>(
    dst: &mut [f32],
    lhs: &[f32],
    rhs: &[f32],
    i: usize,
    j: usize,
    kr: std::ops::Range<usize>,
    k: usize,
    n: usize,
) {
    let d = dst.as_mut_ptr();
    let (a, b) = (lhs.as_ptr(), rhs.as_ptr());
    let mut acc = [[_mm512_setzero_ps(); 4]; R];
    for (r, row) in acc.iter_mut().enumerate() {
        for (v, x) in row.iter_mut().enumerate() {
            *x = _mm512_loadu_ps(d.add((i + r) * n + j + 16 * v));
        }
    }
    for kk in kr {
        let bp = b.add(kk * n + j);
        let b0 = _mm512_loadu_ps(bp);
        let b1 = _mm512_loadu_ps(bp.add(16));
        let b2 = _mm512_loadu_ps(bp.add(32));
        let b3 = _mm512_loadu_ps(bp.add(48));
        for (r, row) in acc.iter_mut().enumerate() {
            let av = _mm512_set1_ps(*a.add((i + r) * k + kk));
            row[0] = _mm512_fmadd_ps(av, b0, row[0]);
            row[1] = _mm512_fmadd_ps(av, b1, row[1]);
            row[2] = _mm512_fmadd_ps(av, b2, row[2]);
            row[3] = _mm512_fmadd_ps(av, b3, row[3]);
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for (v, x) in row.iter().enumerate() {
            _mm512_storeu_ps(d.add((i + r) * n + j + 16 * v), *x);
        }
    }
}

/// The LSTM cell over a batch (see `super::cell_update`); `h_dim` must be a multiple of 16.
///
/// # Safety
/// The CPU must support AVX-512F, and `gates` must hold `4 h_dim` values per row of `c` and `h`.
#[target_feature(enable = "avx512f")]
pub unsafe fn cell_update(gates: &[f32], c: &mut [f32], h: &mut [f32], h_dim: usize) {
    debug_assert!(h_dim.is_multiple_of(16) && gates.len() == 4 * c.len() && c.len() == h.len());
    let rows = c.len() / h_dim;
    for r in 0..rows {
        let g = gates.as_ptr().add(4 * h_dim * r);
        let (cp, hp) = (c.as_mut_ptr().add(h_dim * r), h.as_mut_ptr().add(h_dim * r));
        for j in (0..h_dim).step_by(16) {
            let i_gate = sigmoid(_mm512_loadu_ps(g.add(j)));
            let f_gate = sigmoid(_mm512_loadu_ps(g.add(h_dim + j)));
            let g_gate = tanh(_mm512_loadu_ps(g.add(2 * h_dim + j)));
            let o_gate = sigmoid(_mm512_loadu_ps(g.add(3 * h_dim + j)));
            let c_new = _mm512_fmadd_ps(
                f_gate,
                _mm512_loadu_ps(cp.add(j)),
                _mm512_mul_ps(i_gate, g_gate),
            );
            _mm512_storeu_ps(cp.add(j), c_new);
            _mm512_storeu_ps(hp.add(j), _mm512_mul_ps(o_gate, tanh(c_new)));
        }
    }
}

#[inline(always)]
unsafe fn sigmoid(x: __m512) -> __m512 {
    let one = _mm512_set1_ps(1.0);
    _mm512_div_ps(
        one,
        _mm512_add_ps(one, exp(_mm512_sub_ps(_mm512_setzero_ps(), x))),
    )
}

#[inline(always)]
unsafe fn tanh(x: __m512) -> __m512 {
    let one = _mm512_set1_ps(1.0);
    let two = _mm512_set1_ps(2.0);
    let e = exp(_mm512_mul_ps(two, x));
    _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(e, one)))
}

/// `e^x`, the same range reduction and polynomial as `super::exp`, sixteen lanes at a time.
#[inline(always)]
unsafe fn exp(x: __m512) -> __m512 {
    let x = _mm512_min_ps(
        _mm512_max_ps(x, _mm512_set1_ps(-87.0)),
        _mm512_set1_ps(88.0),
    );
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(_mm512_fmadd_ps(
        x,
        _mm512_set1_ps(super::LOG2E),
        _mm512_set1_ps(0.5),
    ));
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(super::LN2_HI), x);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(super::LN2_LO), r);
    let mut p = _mm512_set1_ps(super::EXP_POLY[0]);
    for &coef in &super::EXP_POLY[1..] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(coef));
    }
    let r2 = _mm512_mul_ps(r, r);
    let e_r = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0));
    let bits = _mm512_slli_epi32::<23>(_mm512_add_epi32(
        _mm512_cvtps_epi32(n),
        _mm512_set1_epi32(127),
    ));
    _mm512_mul_ps(e_r, _mm512_castsi512_ps(bits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::lstm::test_support::pseudo_random;

    #[test]
    fn matmul_matches_a_plain_triple_loop() {
        if !crate::Kernel::Avx512.is_available() {
            return;
        }
        for (m, k, n) in [(1, 40, 64), (7, 256, 128), (13, 3, 1024), (64, 256, 1024)] {
            let (a, b) = (pseudo_random(m * k, 1), pseudo_random(k * n, 2));
            let init = pseudo_random(m * n, 3);
            let mut got = init.clone();
            unsafe { matmul_acc(&mut got, &a, &b, m, k, n) };
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = init[i * n + j] as f64
                        + (0..k)
                            .map(|kk| a[i * k + kk] as f64 * b[kk * n + j] as f64)
                            .sum::<f64>();
                    assert!(
                        (got[i * n + j] as f64 - want).abs() < 1e-4,
                        "{m}x{k}x{n} at {i},{j}"
                    );
                }
            }
        }
    }

    #[test]
    fn cell_update_matches_the_portable_cell() {
        if !crate::Kernel::Avx512.is_available() {
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
