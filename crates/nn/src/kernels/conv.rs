//! A fast stride-1 1-D convolution for inference, with the plain candle computation as its
//! reference, its fallback and its gradient.
//!
//! Why: the generator spends ~26 G multiply-adds per second of audio in 1-D convolutions, and
//! candle's CPU convolution (im2col, then the `gemm` crate's AVX2 kernel) reaches only a few
//! tens of GMAC/s on two cores, most of the vocoder's time. [`FastConv1d`] runs the convolution
//! directly on AMX tiles where the CPU has them, in bf16 by default or at f32-level accuracy
//! ([`Precision`]), and otherwise on AVX2 + FMA registers in f32.
//!
//! Differentiability: the fast forward is a candle [`CustomOp1`] whose `bwd` is written with
//! ordinary candle operations (the input's gradient is a convolution with the flipped,
//! transposed kernel), so a gradient still reaches the input, e.g. the style vector through
//! AdaIN. Weights that are themselves being trained (`Var`s) take candle's own convolution, so
//! their gradient is candle's and a packed copy can never go stale.
//!
//! Which kernel runs is decided when the weights are packed ([`Kernel::configured`]): AMX, else
//! AVX2, else candle's convolution, below the ceiling the application set.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Result, Shape, Tensor};

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
use super::amx_conv as amx;
#[cfg(target_arch = "x86_64")]
use super::avx2_conv as avx2;
#[cfg(target_arch = "x86_64")]
use super::avx512bf16_conv as bf16_conv;
use super::{Kernel, Precision};

/// Whether the AVX-512 BF16 kernel can run here at `precision`.
fn bf16_kernel_runs(precision: Precision) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        precision == Precision::Bf16 && bf16_conv::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = precision;
        false
    }
}

/// The kernels a convolution has, fastest first.
/// [`Kernel::Avx512`] is the AVX-512 BF16 kernel: it needs AVX512_BF16 as well, and runs only at
/// [`Precision::Bf16`] (at [`Precision::Bf16x3`] the AVX2 kernel runs instead).
pub const CONV_KERNELS: [Kernel; 4] = [Kernel::Amx, Kernel::Avx512, Kernel::Avx2, Kernel::Portable];

/// A stride-1 1-D convolution (`weight` `[out, in, k]`, any dilation and padding, optional
/// bias) with a fast inference path.
#[derive(Debug, Clone)]
pub struct FastConv1d {
    inner: Arc<ConvOp>,
}

#[derive(Debug)]
struct ConvOp {
    weight: Tensor,
    bias: Option<Tensor>,
    padding: usize,
    dilation: usize,
    kernel: Kernel,
    precision: Precision,
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    packed: Option<amx::PackedWeights>,
    #[cfg(target_arch = "x86_64")]
    packed_avx2: Option<avx2::PackedWeights>,
    #[cfg(target_arch = "x86_64")]
    packed_bf16: Option<bf16_conv::PackedWeights>,
    bias_values: Vec<f32>,
    /// The convolution that carries the input's gradient back, made on first use.
    transposed: std::sync::OnceLock<FastConv1d>,
}

impl FastConv1d {
    /// Packs the weights for the kernel the [`super::KernelConfig`] picks.
    pub fn new(
        weight: &Tensor,
        bias: Option<&Tensor>,
        padding: usize,
        dilation: usize,
    ) -> Result<Self> {
        Self::with_kernel(
            weight,
            bias,
            padding,
            dilation,
            Kernel::configured(&CONV_KERNELS),
        )
    }

    /// Like [`new`](Self::new) with the fastest kernel up to `kernel`.
    pub fn with_kernel(
        weight: &Tensor,
        bias: Option<&Tensor>,
        padding: usize,
        dilation: usize,
        kernel: Kernel,
    ) -> Result<Self> {
        let (cout, cin, taps) = weight.dims3()?;
        if let Some(b) = bias {
            if b.dims1()? != cout {
                candle_core::bail!("bias {:?} for a weight {:?}", b.shape(), weight.shape());
            }
        }
        let precision = super::config().precision;
        let kernel = Kernel::Portable.fastest_among(&CONV_KERNELS, kernel);
        let kernel = if kernel == Kernel::Avx512 && !bf16_kernel_runs(precision) {
            Kernel::Portable.fastest_among(&CONV_KERNELS, Kernel::Avx2)
        } else {
            kernel
        };
        let fast = kernel != Kernel::Portable
            && kernel.is_available()
            && matches!(weight.device(), Device::Cpu)
            && weight.dtype() == DType::F32
            && padding <= dilation * (taps - 1);
        let kernel = if fast { kernel } else { Kernel::Portable };
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        let packed = if kernel == Kernel::Amx {
            let w = weight.flatten_all()?.to_vec1::<f32>()?;
            Some(amx::PackedWeights::new(&w, cout, cin, taps))
        } else {
            None
        };
        #[cfg(target_arch = "x86_64")]
        let packed_avx2 = if kernel == Kernel::Avx2 {
            let w = weight.flatten_all()?.to_vec1::<f32>()?;
            Some(avx2::PackedWeights::new(&w, cout, cin, taps))
        } else {
            None
        };
        #[cfg(target_arch = "x86_64")]
        let packed_bf16 = if kernel == Kernel::Avx512 {
            let w = weight.flatten_all()?.to_vec1::<f32>()?;
            Some(bf16_conv::PackedWeights::new(&w, cout, cin, taps))
        } else {
            None
        };
        let bias_values = match (bias, kernel) {
            (Some(b), Kernel::Amx | Kernel::Avx512 | Kernel::Avx2) => {
                b.to_dtype(DType::F32)?.to_vec1::<f32>()?
            }
            _ => Vec::new(),
        };
        Ok(Self {
            inner: Arc::new(ConvOp {
                weight: weight.clone(),
                bias: bias.cloned(),
                padding,
                dilation,
                kernel,
                precision,
                #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
                packed,
                #[cfg(target_arch = "x86_64")]
                packed_avx2,
                #[cfg(target_arch = "x86_64")]
                packed_bf16,
                bias_values,
                transposed: Default::default(),
            }),
        })
    }

    pub fn kernel(&self) -> Kernel {
        self.inner.kernel
    }

    /// The kernel's length `k`.
    pub fn taps(&self) -> usize {
        self.inner.weight.dim(2).expect("a [out, in, k] weight")
    }

    pub fn precision(&self) -> Precision {
        self.inner.precision
    }

    /// The same convolution with another [`Precision`] (shares nothing mutable). The AVX-512
    /// BF16 kernel has no f32-accurate mode: at [`Precision::Bf16x3`] its weights are packed
    /// again for the AVX2 kernel.
    pub fn with_precision(&self, precision: Precision) -> Self {
        let op = &self.inner;
        if op.kernel == Kernel::Avx512 && precision == Precision::Bf16x3 {
            let f32_kernel = Kernel::Portable.fastest_among(&CONV_KERNELS, Kernel::Avx2);
            return Self::with_kernel(
                &op.weight,
                op.bias.as_ref(),
                op.padding,
                op.dilation,
                f32_kernel,
            )
            .expect("the weights were checked when first packed")
            .with_precision(precision);
        }
        Self {
            inner: Arc::new(ConvOp {
                weight: op.weight.clone(),
                bias: op.bias.clone(),
                padding: op.padding,
                dilation: op.dilation,
                kernel: op.kernel,
                precision,
                #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
                packed: op.packed.clone(),
                #[cfg(target_arch = "x86_64")]
                packed_avx2: op.packed_avx2.clone(),
                #[cfg(target_arch = "x86_64")]
                packed_bf16: op.packed_bf16.clone(),
                bias_values: op.bias_values.clone(),
                transposed: Default::default(),
            }),
        }
    }

    /// `x` `[B, in, T]` → `[B, out, T + 2·padding − dilation·(k − 1)]`.
    ///
    /// On the portable kernel the forward pass is always candle's convolution; what differs is
    /// the backward pass when `x` needs a gradient and the weights do not (speaker adaptation):
    /// candle differentiates its `conv1d` with `conv_transpose1d`, a plain loop on the CPU for
    /// padded or dilated kernels, and also forms the weight's gradient that nobody asked for.
    /// The custom op's backward pass is one ordinary convolution instead.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let op = &self.inner;
        let custom = !op.weight.track_op()
            && !op.bias.as_ref().is_some_and(Tensor::track_op)
            && matches!(x.device(), Device::Cpu)
            && x.dtype() == DType::F32
            && match op.kernel {
                Kernel::Portable => x.track_op() && op.input_gradient_is_a_convolution(),
                _ => true,
            };
        if !custom {
            return op.plain(x);
        }
        let x = x.contiguous()?;
        if x.track_op() {
            x.apply_op1_arc(Arc::new(Box::new(ConvOpRef(self.inner.clone()))))
        } else {
            x.apply_op1_no_bwd(op.as_ref())
        }
    }
}

impl ConvOp {
    /// Whether the input's gradient is an ordinary convolution (its padding `d·(k − 1) − p` is
    /// not negative).
    fn input_gradient_is_a_convolution(&self) -> bool {
        self.weight
            .dim(2)
            .is_ok_and(|taps| self.padding <= self.dilation * (taps - 1))
    }

    /// candle's convolution: the reference, the portable path and the path for trained weights.
    fn plain(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.conv1d(&self.weight, self.padding, 1, self.dilation, 1)?;
        match &self.bias {
            Some(b) => y.broadcast_add(&b.reshape((1, (), 1))?),
            None => Ok(y),
        }
    }
}

/// The op as stored in the autograd graph (it needs an owned, shareable value).
struct ConvOpRef(Arc<ConvOp>);

impl CustomOp1 for ConvOpRef {
    fn name(&self) -> &'static str {
        "voxclone-conv1d"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        self.0.cpu_fwd(storage, layout)
    }

    /// The input's gradient: `∂x[i, u] = Σ_{o, k} w[o, i, k] · g[o, u − k·d + p]`, a convolution of
    /// `g` with the kernel transposed (`[in, out, k]`) and reversed along `k`, padding
    /// `d·(k − 1) − p`.
    ///
    /// That convolution runs on the same fast kernel (packed once, on the first backward pass):
    /// speaker adaptation spends half its time here.
    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let op = &self.0;
        let transposed = match op.transposed.get() {
            Some(t) => t,
            None => {
                let taps = op.weight.dim(2)?;
                let reversed: Vec<u32> = (0..taps as u32).rev().collect();
                let reversed = Tensor::new(reversed.as_slice(), op.weight.device())?;
                let flipped = op
                    .weight
                    .transpose(0, 1)?
                    .contiguous()?
                    .index_select(&reversed, 2)?;
                let pad = op.dilation * (taps - 1) - op.padding;
                let conv = FastConv1d::with_kernel(&flipped, None, pad, op.dilation, op.kernel)?
                    .with_precision(op.precision);
                op.transposed.get_or_init(|| conv)
            }
        };
        let g = transposed.forward(&grad.detach())?;
        debug_assert_eq!(g.dims(), arg.dims());
        Ok(Some(g))
    }
}

impl CustomOp1 for ConvOp {
    fn name(&self) -> &'static str {
        "voxclone-conv1d"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (b, cin, len) = layout.shape().dims3()?;
        let (cout, win, taps) = self.weight.dims3()?;
        if cin != win {
            candle_core::bail!(
                "conv1d: input {:?}, weight {:?}",
                layout.shape(),
                self.weight.shape()
            );
        }
        let span = self.dilation * (taps - 1);
        if len + 2 * self.padding < span + 1 {
            candle_core::bail!("conv1d: input of {len} frames is shorter than the kernel's span");
        }
        let tout = len + 2 * self.padding - span;
        let x = match (storage, layout.contiguous_offsets()) {
            (CpuStorage::F32(v), Some((start, end))) => &v[start..end],
            _ => candle_core::bail!("conv1d: a contiguous f32 input is required"),
        };
        // Each batch entry `[cin, len]` on its own, the outputs one after another.
        #[cfg(target_arch = "x86_64")]
        let each_entry = |conv: &dyn Fn(&[f32]) -> Vec<f32>| {
            let mut out = Vec::with_capacity(b * cout * tout);
            for xb in x.chunks_exact(cin * len) {
                out.extend(conv(xb));
            }
            out
        };
        let out = match self.kernel {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kernel::Amx => {
                let packed = self.packed.as_ref().expect("packed for the AMX kernel");
                each_entry(&|xb| self.amx_conv(packed, xb, len, tout))
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                let packed = self.packed_avx2.as_ref().expect("packed for AVX2");
                each_entry(&|xb| {
                    avx2::conv(
                        packed,
                        &self.bias_values,
                        xb,
                        len,
                        self.padding,
                        self.dilation,
                    )
                })
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                let packed = self.packed_bf16.as_ref().expect("packed for AVX-512 BF16");
                each_entry(&|xb| {
                    bf16_conv::conv(
                        packed,
                        &self.bias_values,
                        xb,
                        len,
                        self.padding,
                        self.dilation,
                    )
                })
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => {
                candle_core::bail!("conv1d: the AVX2 and AVX-512 kernels need x86-64")
            }
            // candle's convolution, on a copy of the input outside any graph.
            Kernel::Portable => self
                .plain(&Tensor::from_slice(x, (b, cin, len), &Device::Cpu)?)?
                .flatten_all()?
                .to_vec1::<f32>()?,
            #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
            Kernel::Amx => candle_core::bail!("conv1d: the AMX kernel needs x86-64 Linux"),
        };
        Ok((CpuStorage::F32(out), Shape::from((b, cout, tout))))
    }
}

/// A pointer that threads share; each writes its own part.
#[derive(Clone, Copy)]
struct SharedMut<T>(*mut T);
// SAFETY: users give every thread a disjoint part.
unsafe impl<T> Send for SharedMut<T> {}
unsafe impl<T> Sync for SharedMut<T> {}

/// Output columns (in 32-frame blocks) per work item, so that an item's packed input stays in
/// L2 while the weights of its output rows stream.
const COL_BLOCKS_PER_ITEM: usize = 8;

/// One batch entry on the AMX kernel: `x` `cin × len` → `cout × tout`.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
impl ConvOp {
    fn amx_conv(&self, w: &amx::PackedWeights, x: &[f32], len: usize, tout: usize) -> Vec<f32> {
        let bf16x3 = self.precision == Precision::Bf16x3;
        let (bias, padding, dilation) = (&self.bias_values, self.padding, self.dilation);
        let pool = candle_core::utils::barrier_pool();
        let ldo = tout.next_multiple_of(amx::BLOCK);
        let width = ldo + dilation * (w.taps - 1);
        let pairs = w.cblocks * amx::KB / 2;
        let mut input = amx::PackedInput {
            hi: vec![0u32; pairs * width],
            lo: vec![0u32; pairs * width],
            width,
        };
        {
            let (hi, lo) = (
                SharedMut(input.hi.as_mut_ptr()),
                SharedMut(input.lo.as_mut_ptr()),
            );
            pool.execute_chunked(pairs, |range| {
                let (hi, lo) = (hi, lo);
                let n = (range.end - range.start) * width;
                // SAFETY: the ranges are disjoint rows of the buffers; AVX-512 comes with AMX.
                unsafe {
                    let hi = std::slice::from_raw_parts_mut(hi.0.add(range.start * width), n);
                    let lo = std::slice::from_raw_parts_mut(lo.0.add(range.start * width), n);
                    amx::pack_input_rows(x, w.cin, len, padding, width, range, (hi, lo));
                }
            });
        }
        let mut out = vec![0f32; w.cout_padded * ldo];
        for (row, &b) in out.chunks_exact_mut(ldo).zip(bias) {
            row.fill(b);
        }
        let groups = (ldo / amx::BLOCK).div_ceil(COL_BLOCKS_PER_ITEM);
        let items = groups * (w.cout_padded / amx::BLOCK);
        let ptr = super::OutPtr(out.as_mut_ptr());
        pool.execute_chunked(items, |range| {
            // SAFETY: AMX is available (the kernel was chosen so); items are disjoint blocks of
            // `out`, which has `cout_padded × ldo` floats; `width` covers every tap's shift.
            unsafe {
                if bf16x3 {
                    amx::conv_items::<true>(
                        ptr,
                        ldo,
                        &input,
                        w,
                        dilation,
                        range,
                        COL_BLOCKS_PER_ITEM,
                    )
                } else {
                    amx::conv_items::<false>(
                        ptr,
                        ldo,
                        &input,
                        w,
                        dilation,
                        range,
                        COL_BLOCKS_PER_ITEM,
                    )
                }
            };
        });
        super::crop_rows(&mut out, ldo, w.cout, tout);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    fn max_abs(t: &Tensor) -> f32 {
        t.abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    fn skip() -> bool {
        if !Kernel::Amx.is_available() {
            eprintln!("AMX not available here: fast-kernel comparison skipped");
            return true;
        }
        false
    }

    /// (out, in, taps, dilation, padding, len): the decoder's shapes and ragged ones.
    const SHAPES: [(usize, usize, usize, usize, usize, usize); 8] = [
        (64, 64, 3, 1, 1, 100),
        (32, 48, 7, 3, 9, 77),
        (40, 33, 11, 5, 25, 130),
        (22, 128, 7, 1, 3, 65),
        (96, 1090, 3, 1, 1, 37),
        (70, 22, 1, 1, 0, 40),
        (48, 16, 2, 1, 0, 33),
        (16, 8, 5, 2, 3, 9),
    ];

    /// A random weight (scaled so outputs stay near unit size), bias and two-entry input batch.
    fn random_case(out: usize, inp: usize, taps: usize, len: usize) -> Result<[Tensor; 3]> {
        let dev = Device::Cpu;
        Ok([
            (Tensor::randn(0f32, 1.0, (out, inp, taps), &dev)? / ((inp * taps) as f64).sqrt())?,
            Tensor::randn(0f32, 1.0, out, &dev)?,
            Tensor::randn(0f32, 1.0, (2, inp, len), &dev)?,
        ])
    }

    #[test]
    fn amx_convolution_matches_candle() -> Result<()> {
        if skip() {
            return Ok(());
        }
        for (out, inp, taps, d, p, len) in SHAPES {
            let [w, bias, x] = random_case(out, inp, taps, len)?;
            let fast = FastConv1d::with_kernel(&w, Some(&bias), p, d, Kernel::Amx)?;
            assert_eq!(fast.kernel(), Kernel::Amx);
            let want = fast.inner.plain(&x)?;
            // bf16x3 is f32-level; plain bf16 keeps 8 bits per operand (~2⁻⁹ relative each),
            // errors that mostly cancel along the reduction.
            for (precision, bound) in [(Precision::Bf16x3, 2e-5), (Precision::Bf16, 1e-2)] {
                let got = fast.with_precision(precision).forward(&x)?;
                assert_eq!(got.dims(), want.dims());
                let err = max_abs(&(got - &want)?) / max_abs(&want);
                let shape = format!("{precision:?} ({out}, {inp}, {taps}, d{d}, p{p}, {len})");
                eprintln!("{shape}: relative error {err:.2e}");
                assert!(err < bound, "{shape}: {err:e}");
            }
        }
        Ok(())
    }

    #[test]
    fn the_gradient_matches_candle() -> Result<()> {
        // Every kernel this CPU runs, the portable one included (its backward pass is the
        // custom op's, not candle's).
        let dev = Device::Cpu;
        let kernels = [Kernel::Amx, Kernel::Avx2, Kernel::Portable]
            .into_iter()
            .filter(|k| k.is_available());
        for (kernel, (out, inp, taps, d, p, len)) in
            kernels.flat_map(|k| SHAPES.into_iter().map(move |shape| (k, shape)))
        {
            let w = Tensor::randn(0f32, 0.2, (out, inp, taps), &dev)?;
            let bias = Tensor::randn(0f32, 1.0, out, &dev)?;
            let x = Var::randn(0f32, 1.0, (1, inp, len), &dev)?;
            let target = Tensor::randn(0f32, 1.0, (1, out, len + 2 * p - d * (taps - 1)), &dev)?;
            let loss = |y: Tensor| (y * &target).unwrap().sum_all().unwrap();
            let fast = FastConv1d::with_kernel(&w, Some(&bias), p, d, kernel)?
                .with_precision(Precision::Bf16x3);
            let g_fast = loss(fast.forward(x.as_tensor())?).backward()?;
            let g_plain = loss(fast.inner.plain(x.as_tensor())?).backward()?;
            let (a, b) = (
                g_fast.get(x.as_tensor()).unwrap(),
                g_plain.get(x.as_tensor()).unwrap(),
            );
            let err = max_abs(&(a - b)?) / max_abs(b);
            assert!(
                err < 1e-5,
                "{kernel:?} ({out}, {inp}, {taps}, d{d}, p{p}): gradient error {err:e}"
            );
        }
        Ok(())
    }

    #[test]
    fn trained_weights_take_candles_path_and_get_a_gradient() -> Result<()> {
        let dev = Device::Cpu;
        let w = Var::randn(0f32, 0.2, (8, 4, 3), &dev)?;
        let x = Tensor::randn(0f32, 1.0, (1, 4, 20), &dev)?;
        let fast = FastConv1d::new(w.as_tensor(), None, 1, 1)?;
        let grads = fast.forward(&x)?.sqr()?.sum_all()?.backward()?;
        assert!(max_abs(grads.get(w.as_tensor()).expect("weight gradient")) > 0.0);
        Ok(())
    }

    #[test]
    fn avx2_convolution_matches_candle() -> Result<()> {
        if !Kernel::Avx2.is_available() {
            eprintln!("AVX2 not available here: skipped");
            return Ok(());
        }
        for (out, inp, taps, d, p, len) in SHAPES {
            let [w, bias, x] = random_case(out, inp, taps, len)?;
            let fast = FastConv1d::with_kernel(&w, Some(&bias), p, d, Kernel::Avx2)?;
            assert_eq!(fast.kernel(), Kernel::Avx2);
            let want = fast.inner.plain(&x)?;
            let got = fast.forward(&x)?;
            assert_eq!(got.dims(), want.dims());
            let err = max_abs(&(got - &want)?) / max_abs(&want);
            assert!(
                err < 1e-5,
                "({out}, {inp}, {taps}, d{d}, p{p}, {len}): {err:e}"
            );
        }
        Ok(())
    }

    #[test]
    fn avx512_bf16_convolution_matches_candle_and_its_gradient_too() -> Result<()> {
        if !bf16_kernel_runs(Precision::Bf16) {
            eprintln!("AVX-512 BF16 not available here: skipped");
            return Ok(());
        }
        let dev = Device::Cpu;
        for (out, inp, taps, d, p, len) in SHAPES {
            let [w, bias, x] = random_case(out, inp, taps, len)?;
            let fast = FastConv1d::with_kernel(&w, Some(&bias), p, d, Kernel::Avx512)?;
            assert_eq!(fast.kernel(), Kernel::Avx512);
            let shape = format!("({out}, {inp}, {taps}, d{d}, p{p}, {len})");
            let want = fast.inner.plain(&x)?;
            let got = fast.forward(&x)?;
            assert_eq!(got.dims(), want.dims());
            // bf16 operands (8 significant bits each), f32 sums: as the AMX kernel's default.
            let err = max_abs(&(got - &want)?) / max_abs(&want);
            eprintln!("{shape}: relative error {err:.2e}");
            assert!(err < 1e-2, "{shape}: {err:e}");
            // f32 accuracy asked for: the AVX2 kernel takes over.
            let exact = fast.with_precision(Precision::Bf16x3);
            assert_eq!(exact.kernel(), Kernel::Avx2);
            let err = max_abs(&(exact.forward(&x)? - &want)?) / max_abs(&want);
            assert!(err < 1e-5, "{shape} at f32: {err:e}");

            // The input's gradient goes through the same kernel.
            let xv = Var::from_tensor(&x.narrow(0, 0, 1)?)?;
            let target = Tensor::randn(0f32, 1.0, (1, out, len + 2 * p - d * (taps - 1)), &dev)?;
            let loss = |y: Tensor| (y * &target).unwrap().sum_all().unwrap();
            let g_fast = loss(fast.forward(xv.as_tensor())?).backward()?;
            let g_plain = loss(fast.inner.plain(xv.as_tensor())?).backward()?;
            let (a, b) = (
                g_fast.get(xv.as_tensor()).unwrap(),
                g_plain.get(xv.as_tensor()).unwrap(),
            );
            let err = max_abs(&(a - b)?) / max_abs(b);
            assert!(err < 1e-2, "{shape}: gradient error {err:e}");
        }
        Ok(())
    }
}
