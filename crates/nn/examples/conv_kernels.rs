//! Throughput of each convolution kernel this CPU runs, on the shapes that dominate Kokoro's
//! decoder, in G multiply-adds per second (best of several runs; threads from
//! `RAYON_NUM_THREADS`). `cargo run --release -p voxclone-nn --example conv_kernels`

use std::time::Instant;

use candle_core::{Device, Tensor};
use voxclone_nn::kernels::conv::CONV_KERNELS;
use voxclone_nn::kernels::FastConv1d;
use voxclone_nn::Kernel;

fn main() -> candle_core::Result<()> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    println!(
        "CPU: {cpu}; threads: {}",
        candle_core::utils::get_num_threads()
    );
    // (out, in, taps, dilation, frames): the generator's residual blocks and the decoder's blocks.
    let shapes = [
        (256, 256, 3, 1, 2400),
        (128, 128, 7, 3, 14400),
        (512, 512, 3, 1, 300),
        (1024, 1090, 3, 1, 150),
    ];
    let dev = Device::Cpu;
    for (out, inp, taps, d, len) in shapes {
        let w = (Tensor::randn(0f32, 1.0, (out, inp, taps), &dev)? / ((inp * taps) as f64).sqrt())?;
        let x = Tensor::randn(0f32, 1.0, (1, inp, len), &dev)?;
        let macs = (out * inp * taps * len) as f64;
        for kernel in CONV_KERNELS {
            let conv = FastConv1d::with_kernel(&w, None, d * (taps - 1) / 2, d, kernel)?;
            if conv.kernel() != kernel {
                continue; // not on this CPU
            }
            conv.forward(&x)?;
            let best = (0..5)
                .map(|_| {
                    let t = Instant::now();
                    conv.forward(&x).expect("forward");
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min);
            println!(
                "{out}x{inp}x{taps} d{d}, {len} frames: {:>8} {:7.1} GMAC/s",
                kernel.name(),
                macs / best / 1e9
            );
        }
    }
    let _ = Kernel::fastest();
    Ok(())
}
