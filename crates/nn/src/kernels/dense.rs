//! Dense products for recurrent loops on the CPU: `y = bias + x · W` for a few rows `x`, with
//! the weights read once per call. WaveRNN's sample loop and Tacotron's decoder cells run one
//! such product per layer per step, on weights too large for the cache, so what counts is
//! streaming the weights linearly and keeping the results in registers.

use gemm::Parallelism;

/// Up to this many rows, products run on [`small_batch`] rather than `gemm` (whose packing
/// costs more than it saves for a handful of rows).
const SMALL_BATCH: usize = 16;

/// `dst (m × n) += lhs (m × k) · w (k × n)` on AVX-512, for the per-sample products: the
/// weights are packed in 16-column panels read once, front to back, per group of up to
/// [`panel::ROWS`] rows, whose 16-column results stay in registers over the whole `k` loop
/// (one weight load per `rows` fused multiply-adds). The products are small and the weights do
/// not fit in cache, so reading them once per step, linearly, is what counts.
mod panel {
    pub const LANES: usize = 16;
    pub const ROWS: usize = 12;

    pub fn available(n: usize) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            n.is_multiple_of(LANES)
                && crate::kernels::Kernel::configured(&[crate::kernels::Kernel::Avx512])
                    == crate::kernels::Kernel::Avx512
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = n;
            false
        }
    }

    /// `w` `[k × n]` row-major → `[n / 16][k][16]`.
    pub fn pack(w: &[f32], k: usize, n: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(k * n);
        for p in 0..n / LANES {
            for kk in 0..k {
                out.extend_from_slice(&w[kk * n + p * LANES..kk * n + (p + 1) * LANES]);
            }
        }
        out
    }

    /// With `parallel`, the panels are split between two rayon tasks: each reads half the
    /// weights and writes its own columns.
    pub fn accumulate(
        dst: &mut [f32],
        lhs: &[f32],
        panels: &[f32],
        m: usize,
        k: usize,
        n: usize,
        parallel: bool,
    ) {
        assert!(dst.len() == m * n && lhs.len() == m * k && panels.len() == k * n);
        let count = n / LANES;
        // Raw addresses cross into the tasks; the two column ranges never overlap.
        let (d, l, w) = (
            dst.as_mut_ptr() as usize,
            lhs.as_ptr() as usize,
            panels.as_ptr() as usize,
        );
        let run = move |from: usize, to: usize| {
            let mut first = 0;
            while first < m {
                let rows = ROWS.min(m - first);
                // SAFETY: `available` checked AVX-512F before any panels were made; the assert
                // and the row and panel ranges keep every access in bounds; concurrent calls
                // write disjoint panels.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    let (d, l) = (
                        (d as *mut f32).add(first * n),
                        (l as *const f32).add(first * k),
                    );
                    let w = w as *const f32;
                    macro_rules! rows {
                        ($($r:literal)*) => {
                            match rows {
                                $($r => tiles::<$r>(d, l, w, k, n, from, to),)*
                                _ => unreachable!(),
                            }
                        };
                    }
                    rows!(1 2 3 4 5 6 7 8 9 10 11 12);
                }
                first += rows;
            }
        };
        if parallel && count >= 2 && rayon::current_num_threads() > 1 {
            let half = count / 2;
            rayon::join(|| run(0, half), || run(half, count));
        } else {
            run(0, count);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn tiles<const R: usize>(
        dst: *mut f32,
        lhs: *const f32,
        panels: *const f32,
        k: usize,
        n: usize,
        from: usize,
        to: usize,
    ) {
        use std::arch::x86_64::*;
        for p in from..to {
            let panel = panels.add(p * k * LANES);
            let mut acc = [_mm512_setzero_ps(); R];
            for kk in 0..k {
                let w = _mm512_loadu_ps(panel.add(kk * LANES));
                for (r, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(_mm512_set1_ps(*lhs.add(r * k + kk)), w, *a);
                }
            }
            for (r, a) in acc.iter().enumerate() {
                let d = dst.add(r * n + p * LANES);
                _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), *a));
            }
        }
    }
}

/// `dst (m × n) += lhs (m × k) · w (k × n)` for a few rows: each row of `w` is read once and
/// added, scaled, into every output row (an axpy that vectorises), four rows of `w` at a time
/// so that each output element is loaded and stored a quarter as often. The per-sample products
/// are memory-bound: what matters is reading the weights once per step.
mod small_batch {
    #[inline(always)]
    fn body(dst: &mut [f32], lhs: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
        let mut kk = 0;
        while kk + 4 <= k {
            let (w0, w1, w2, w3) = (
                &w[kk * n..(kk + 1) * n],
                &w[(kk + 1) * n..(kk + 2) * n],
                &w[(kk + 2) * n..(kk + 3) * n],
                &w[(kk + 3) * n..(kk + 4) * n],
            );
            for b in 0..m {
                let a = &lhs[b * k + kk..b * k + kk + 4];
                let (a0, a1, a2, a3) = (a[0], a[1], a[2], a[3]);
                let d = &mut dst[b * n..(b + 1) * n];
                // Zipped iterators: no bounds checks, so the loop vectorises.
                for ((((d, &x0), &x1), &x2), &x3) in d.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3) {
                    *d += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
                }
            }
            kk += 4;
        }
        for kk in kk..k {
            let wr = &w[kk * n..(kk + 1) * n];
            for b in 0..m {
                let a = lhs[b * k + kk];
                for (d, &x) in dst[b * n..(b + 1) * n].iter_mut().zip(wr) {
                    *d += a * x;
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512(dst: &mut [f32], lhs: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
        body(dst, lhs, w, m, k, n)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn avx2(dst: &mut [f32], lhs: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
        body(dst, lhs, w, m, k, n)
    }

    pub fn accumulate(dst: &mut [f32], lhs: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F.
                return unsafe { avx512(dst, lhs, w, m, k, n) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                return unsafe { avx2(dst, lhs, w, m, k, n) };
            }
        }
        body(dst, lhs, w, m, k, n)
    }
}

/// A dense layer's weight transposed to `[in × out]` row-major (so `y = x · w`), with its bias.
#[derive(Debug, Clone)]
pub struct Dense {
    pub w: Vec<f32>,
    pub bias: Vec<f32>,
    pub input: usize,
    pub output: usize,
    /// `w` in 16-column panels (`[output / 16][input][16]`), for the AVX-512 kernel when the CPU
    /// has it and `output` is a multiple of 16.
    panels: Option<Vec<f32>>,
}

impl Dense {
    /// From PyTorch's `[out × in]` weight, taking input columns `cols`.
    pub fn from_torch(
        weight: &[f32],
        bias: Option<&[f32]>,
        output: usize,
        input: usize,
        cols: std::ops::Range<usize>,
    ) -> Self {
        let n_in = cols.len();
        let mut w = vec![0f32; n_in * output];
        for o in 0..output {
            for (k, c) in cols.clone().enumerate() {
                w[k * output + o] = weight[o * input + c];
            }
        }
        let panels = panel::available(output).then(|| panel::pack(&w, n_in, output));
        Self {
            w,
            bias: bias.map_or_else(|| vec![0.0; output], <[f32]>::to_vec),
            input: n_in,
            output,
            panels,
        }
    }

    /// `dst (m × out) = bias + lhs (m × in) · w`.
    pub fn forward(&self, dst: &mut [f32], lhs: &[f32], m: usize) {
        self.forward_on(dst, lhs, m, false);
    }

    /// [`Dense::forward`], on two threads when `parallel`.
    pub fn forward_on(&self, dst: &mut [f32], lhs: &[f32], m: usize, parallel: bool) {
        for row in dst[..m * self.output].chunks_exact_mut(self.output) {
            row.copy_from_slice(&self.bias);
        }
        self.accumulate_on(dst, lhs, m, parallel);
    }

    /// `dst (m × out) += lhs (m × in) · w`.
    pub fn accumulate(&self, dst: &mut [f32], lhs: &[f32], m: usize) {
        self.accumulate_on(dst, lhs, m, false);
    }

    /// [`Dense::accumulate`], on two threads when `parallel`.
    pub fn accumulate_on(&self, dst: &mut [f32], lhs: &[f32], m: usize, parallel: bool) {
        let (k, n) = (self.input, self.output);
        assert!(dst.len() >= m * n && lhs.len() >= m * k && self.w.len() == k * n);
        if m == 0 {
            return;
        }
        if let Some(panels) = &self.panels {
            return panel::accumulate(&mut dst[..m * n], &lhs[..m * k], panels, m, k, n, parallel);
        }
        if m <= SMALL_BATCH {
            return small_batch::accumulate(&mut dst[..m * n], &lhs[..m * k], &self.w, m, k, n);
        }
        gemm_accumulate(
            dst,
            lhs,
            &self.w,
            (m, k, n),
            (1, n as isize),
            Parallelism::None,
        );
    }
}

/// `dst (m × n) += lhs (m × k) · rhs (k × n)` on the `gemm` crate, `dst` and `lhs` row-major and
/// `rhs` read with `(column stride, row stride)`: `(1, n)` for a row-major `[k × n]`, `(k, 1)`
/// for the transpose of a row-major `[n × k]`.
pub fn gemm_accumulate(
    dst: &mut [f32],
    lhs: &[f32],
    rhs: &[f32],
    (m, k, n): (usize, usize, usize),
    (rhs_cs, rhs_rs): (isize, isize),
    parallelism: Parallelism,
) {
    let reach = |cs: isize, rs: isize| {
        (n.saturating_sub(1) as isize * cs + k.saturating_sub(1) as isize * rs) as usize
    };
    assert!(dst.len() >= m * n && lhs.len() >= m * k);
    assert!(
        m * n * k == 0 || rhs.len() > reach(rhs_cs, rhs_rs),
        "rhs too short for its strides"
    );
    // SAFETY: the asserts keep every access in bounds; `dst` and `lhs` are row-major.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            true,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            rhs_cs,
            rhs_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: &[f32], w: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut out = vec![0f32; m * n];
        for b in 0..m {
            for j in 0..n {
                out[b * n + j] = (0..k)
                    .map(|kk| lhs[b * k + kk] as f64 * w[kk * n + j] as f64)
                    .sum::<f64>() as f32;
            }
        }
        out
    }

    #[test]
    fn every_product_kernel_agrees_with_a_plain_sum() {
        let (k, n) = (37, 48);
        let torch: Vec<f32> = (0..n * k)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let dense = Dense::from_torch(&torch, None, n, k, 0..k);
        for m in [1, 3, 12, 13, 20] {
            let lhs: Vec<f32> = (0..m * k)
                .map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0)
                .collect();
            let expected = naive(&lhs, &dense.w, m, k, n);
            let mut kernels: Vec<(&str, Vec<f32>)> = Vec::new();
            for parallel in [false, true] {
                let mut out = vec![0f32; m * n];
                dense.accumulate_on(&mut out, &lhs, m, parallel);
                kernels.push(("dispatch", out));
            }
            let mut out = vec![0f32; m * n];
            small_batch::accumulate(&mut out, &lhs, &dense.w, m, k, n);
            kernels.push(("small batch", out));
            for (name, out) in kernels {
                let worst = out
                    .iter()
                    .zip(&expected)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(worst < 1e-4, "{name}, m = {m}: off by {worst}");
            }
        }
    }
}
