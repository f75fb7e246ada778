//! Times one adaptation step's parts (forward, backward) on a stock voice: for profiling.
//! `cargo run --release -p voxclone --example adapt_step [STEPS]`

use std::time::Instant;

use voxclone::adapt::{adapt, AdaptOptions};
use voxclone::weights::{ModelStore, NoProgress};
use voxclone::{Tts, Voxclone};

fn main() -> anyhow::Result<()> {
    voxclone_nn::kernels::configure(
        voxclone_nn::KernelConfig::from_settings(
            std::env::var("VOXCLONE_KERNEL").ok().as_deref(),
            std::env::var("VOXCLONE_CONV_PRECISION").ok().as_deref(),
        )
        .map_err(anyhow::Error::msg)?,
    );
    if std::env::var_os("SYSTEM_MALLOC").is_none() {
        voxclone::allocator::keep_freed_memory();
    }
    let steps: usize = std::env::args().nth(1).map_or(Ok(4), |s| s.parse())?;
    let store = ModelStore::from_env()?;
    let device = candle_core::Device::Cpu;
    let vc = Voxclone::load(&store, &device, &NoProgress)?;
    let tts = Tts::load(&store, &device, &NoProgress)?;
    let graph = vc.encoder().differentiable()?;
    let start = tts
        .voice("af_heart")
        .or_else(|_| tts.voice(&tts.voices()[0].name.clone()))?;
    let target = voxclone::clone::embed_synthesized(
        &vc,
        tts.speak(
            "Hello there, how are you today?",
            &tts.voices()[1],
            Default::default(),
        )?,
    )?;
    let t = Instant::now();
    let mut last = Instant::now();
    let fitted = adapt(
        &tts,
        &graph,
        &start,
        None,
        &target,
        &AdaptOptions {
            steps,
            patience: usize::MAX,
            ..Default::default()
        },
        &mut |step, sim| {
            eprintln!(
                "step {step}: similarity {sim:.3} ({:.2} s)",
                last.elapsed().as_secs_f32()
            );
            last = Instant::now();
            true
        },
    )?;
    eprintln!(
        "{} steps in {:.1} s, best {:.3}",
        fitted.similarity.len(),
        t.elapsed().as_secs_f32(),
        fitted.best
    );
    Ok(())
}
