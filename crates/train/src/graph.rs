//! Graph operations for training through long recurrences: a convolution whose gradients are
//! right for batches, a product whose backward pass keeps no graph, and weight gradients formed
//! once per backward pass instead of once per use.

use std::sync::{Arc, Mutex};

use candle_core::backend::BackendStorage;
use candle_core::{backprop::GradStore, CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};

/// A stride-1 convolution without padding, `x` `[B, C_in, T]` and `w` `[C_out, C_in, k]` →
/// `[B, C_out, T − k + 1]`, as shifted views times the kernel (im2col), for graphs that train.
///
/// candle 0.11's own `conv1d` backward pass is wrong for batches of more than one: it uses a
/// transposed (non-contiguous) gradient as a convolution kernel, and the CPU convolution reads
/// kernels as if contiguous. Views, concatenation and products have sound gradients.
pub fn conv1d_unfolded(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, c_in, t) = x.dims3()?;
    let (c_out, w_in, k) = w.dims3()?;
    if w_in != c_in || k == 0 || k > t {
        candle_core::bail!(
            "conv1d: kernel {:?} does not fit input {:?}",
            w.dims(),
            x.dims()
        );
    }
    let t_out = t + 1 - k;
    let columns = if k == 1 {
        x.clone()
    } else {
        let shifted = (0..k)
            .map(|j| x.narrow(2, j, t_out))
            .collect::<Result<Vec<_>>>()?;
        // [B, C_in, k, T_out]: row (c, j) is input channel c shifted by j, the kernel's order.
        Tensor::stack(&shifted, 2)?.reshape((b, c_in * k, t_out))?
    };
    w.contiguous()?
        .reshape((c_out, c_in * k))?
        .broadcast_matmul(&columns)
}

/// `a · b` for graphs that train through many steps (a decoder, a recurrent layer): `a`
/// `[M, K]` and `b` `[K, N]`, or batches of them `[B, M, K]` and `[B, K, N]`.
///
/// candle's own product records its backward pass as a graph whenever an operand is part of
/// one, so each use of a weight adds a weight-sized gradient to a chain of sums that lives
/// until the whole backward pass ends: two weight copies per decoder step (about 150 MB per
/// step at RTVC's widths). This product computes its gradients from detached operands, so the
/// sums are plain tensors and each step's share is freed once added. The values are candle's.
/// On devices other than the CPU it is candle's product.
pub fn step_matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let tracked = a.track_op() || b.track_op();
    if !a.device().is_cpu() || !tracked || a.elem_count() == 0 || b.elem_count() == 0 {
        return a.matmul(b);
    }
    a.apply_op2(b, StepMatmul)
}

/// See [`step_matmul`].
struct StepMatmul;

impl CustomOp2 for StepMatmul {
    fn name(&self) -> &'static str {
        "step-matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (a, b) = (l1.dims(), l2.dims());
        let rank = a.len();
        let batched = rank == 3 && b.len() == 3 && a[0] == b[0];
        if !(batched || (rank == 2 && b.len() == 2)) || a[rank - 1] != b[rank - 2] {
            candle_core::bail!("step-matmul: cannot multiply {a:?} by {b:?}");
        }
        let (m, k, n) = (a[rank - 2], a[rank - 1], b[rank - 1]);
        let batch = if batched { a[0] } else { 1 };
        let out = s1.matmul(s2, (batch, m, n, k), l1, l2)?;
        let shape = if batched {
            Shape::from((batch, m, n))
        } else {
            Shape::from((m, n))
        };
        Ok((out, shape))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (a, b, grad) = (a.detach(), b.detach(), grad.detach());
        let t = |x: &Tensor| x.transpose(x.rank() - 2, x.rank() - 1);
        Ok((Some(grad.matmul(&t(&b)?)?), Some(t(&a)?.matmul(&grad)?)))
    }
}

/// Weight gradients formed once per backward pass instead of once per use.
///
/// A decoder uses each weight once per step. Back-propagated step by step, every use makes a
/// full weight-sized gradient from a product over one batch (a thin, slow product), then a new
/// weight-sized sum. Here each use records its input and its output's gradient instead, and
/// [`DeferredGrads::fold_into`] forms `Σ gᵀ·x` over all uses as one product, after the
/// backward pass. Whoever back-propagates through [`DeferredWeight::matmul`] must call it: the
/// gradient pass itself leaves these weights out.
#[derive(Debug, Clone, Default)]
pub struct DeferredGrads(Arc<Mutex<Vec<DeferredWeight>>>);

/// A weight `[out, in]` used as `x · Wᵀ`, whose gradient [`DeferredGrads`] forms.
#[derive(Debug, Clone)]
pub struct DeferredWeight {
    weight: Tensor,
    uses: Arc<Mutex<Vec<(Tensor, Tensor)>>>,
}

impl DeferredGrads {
    /// Registers `weight` `[out, in]` (a trainable variable).
    pub fn weight(&self, weight: &Tensor) -> DeferredWeight {
        let deferred = DeferredWeight {
            weight: weight.clone(),
            uses: Arc::default(),
        };
        lock(&self.0).push(deferred.clone());
        deferred
    }

    /// Adds each registered weight's gradient, from the uses recorded since the last call, to
    /// `grads`, and forgets those uses.
    pub fn fold_into(&self, grads: &mut GradStore) -> Result<()> {
        for deferred in lock(&self.0).iter() {
            let uses = std::mem::take(&mut *lock(&deferred.uses));
            if uses.is_empty() {
                continue;
            }
            let (inputs, outputs): (Vec<Tensor>, Vec<Tensor>) = uses.into_iter().unzip();
            // [out, rows] · [rows, in], every use's rows at once.
            let grad = Tensor::cat(&outputs, 0)?
                .t()?
                .matmul(&Tensor::cat(&inputs, 0)?)?;
            let sum = match grads.get(&deferred.weight) {
                Some(other) => (other + grad)?,
                None => grad,
            };
            grads.insert(&deferred.weight, sum);
        }
        Ok(())
    }

    /// Forgets recorded uses (of a backward pass that was not folded).
    pub fn clear(&self) {
        for deferred in lock(&self.0).iter() {
            lock(&deferred.uses).clear();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl DeferredWeight {
    /// `x` `[rows, in]` → `x · Wᵀ` `[rows, out]`, differentiable in `x` through the graph
    /// and in `W` through [`DeferredGrads::fold_into`]. Off the CPU, candle's own product.
    pub fn matmul(&self, x: &Tensor) -> Result<Tensor> {
        if !x.device().is_cpu() {
            return x.matmul(&self.weight.t()?);
        }
        x.apply_op2(
            &self.weight,
            DeferredMatmul {
                uses: self.uses.clone(),
            },
        )
    }

    /// The weight `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

/// See [`DeferredWeight::matmul`].
struct DeferredMatmul {
    uses: Arc<Mutex<Vec<(Tensor, Tensor)>>>,
}

impl CustomOp2 for DeferredMatmul {
    fn name(&self) -> &'static str {
        "deferred-matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let ((m, k), (n, k2)) = (l1.shape().dims2()?, l2.shape().dims2()?);
        if k != k2 {
            candle_core::bail!("deferred-matmul: cannot multiply [{m}, {k}] by [{n}, {k2}]ᵀ");
        }
        let out = s1.matmul(s2, (1, m, n, k), l1, &l2.transpose(0, 1)?)?;
        Ok((out, Shape::from((m, n))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let grad = grad.detach();
        lock(&self.uses).push((x.detach(), grad.clone()));
        Ok((Some(grad.matmul(&weight.detach())?), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn ramp(shape: &[usize], scale: f32) -> Result<Var> {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * scale)
            .collect();
        Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu)?)
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        (a - b)?.abs()?.max_all()?.to_scalar()
    }

    /// The same values and gradients as candle's product, for a stored-transposed weight (as
    /// the Tacotron keeps them) and for batches, with gradients that carry no graph.
    #[test]
    fn step_matmul_is_candles_product_without_a_backward_graph() -> Result<()> {
        for batched in [false, true] {
            let (a_shape, w_shape): (Vec<usize>, Vec<usize>) = if batched {
                (vec![2, 3, 5], vec![2, 5, 4])
            } else {
                (vec![3, 5], vec![4, 5])
            };
            let a = ramp(&a_shape, 0.1)?;
            let w = ramp(&w_shape, 0.05)?;
            let weight = if batched {
                w.as_tensor().clone()
            } else {
                w.as_tensor().t()?
            };
            // Two uses of the weight, as two decoder steps make, and a non-linear loss.
            let loss = |product: &dyn Fn(&Tensor, &Tensor) -> Result<Tensor>| -> Result<_> {
                let first = product(a.as_tensor(), &weight)?.tanh()?;
                let second = product(&(a.as_tensor() * 0.5)?, &weight)?;
                let y = (first * second)?.sum_all()?;
                Ok((y.to_scalar::<f32>()?, y.backward()?))
            };
            let (ours, our_grads) = loss(&|x, w| step_matmul(x, w))?;
            let (theirs, their_grads) = loss(&|x, w| x.matmul(w))?;
            assert!((ours - theirs).abs() < 1e-5, "{ours} vs {theirs}");
            for var in [&a, &w] {
                let (g, h) = (
                    our_grads.get(var).expect("gradient"),
                    their_grads.get(var).expect("gradient"),
                );
                assert!(max_abs_diff(g, h)? < 1e-5, "batched {batched}");
                assert!(
                    !g.track_op(),
                    "a gradient that records a graph (batched {batched})"
                );
            }
            // candle's own product leaves graphs in the gradients: what this product avoids.
            assert!(their_grads.get(&a).expect("gradient").track_op());
        }
        Ok(())
    }

    /// A weight used at several steps, and also directly: the folded gradient is candle's.
    #[test]
    fn deferred_weight_gradients_are_candles() -> Result<()> {
        let x = ramp(&[3, 5], 0.1)?;
        let w = ramp(&[4, 5], 0.05)?;
        let h0 = ramp(&[3, 4], 0.02)?;
        let deferred = DeferredGrads::default();
        let weight = deferred.weight(w.as_tensor());
        // Three recurrent steps h' = tanh(x·Wᵀ + h), then a direct use of W.
        let run = |product: &dyn Fn(&Tensor) -> Result<Tensor>| -> Result<Tensor> {
            let mut h = h0.as_tensor().clone();
            for step in 0..3 {
                h = (product(&(x.as_tensor() * (1.0 + step as f64))?)? + &h)?.tanh()?;
            }
            (h.sqr()?.sum_all()? + w.as_tensor().sum_all()?)?.sum_all()
        };
        let mut ours = run(&|x| weight.matmul(x))?.backward()?;
        // Without folding, the pass leaves the deferred uses out.
        let direct_only = ours.get(&w).expect("the direct use").clone();
        deferred.fold_into(&mut ours)?;
        let theirs = run(&|x| x.matmul(&w.as_tensor().t()?))?.backward()?;
        for var in [&x, &w, &h0] {
            let (g, h) = (
                ours.get(var).expect("ours"),
                theirs.get(var).expect("theirs"),
            );
            assert!(max_abs_diff(g, h)? < 1e-5);
        }
        assert!(max_abs_diff(&direct_only, theirs.get(&w).expect("theirs"))? > 1e-2);
        // Folding forgets the uses: a second fold adds nothing.
        let before = ours.get(&w).expect("ours").clone();
        deferred.fold_into(&mut ours)?;
        assert_eq!(max_abs_diff(&before, ours.get(&w).expect("ours"))?, 0.0);
        Ok(())
    }
}
