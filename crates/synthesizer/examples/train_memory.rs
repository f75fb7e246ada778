//! Time and peak memory of one Tacotron training step on made-up data of a given width, batch
//! and length (60 characters per text):
//! `cargo run --release -p voxclone-synthesizer --example train_memory -- rtvc 2 400`
//! (widths `rtvc`, `small` or `tiny`).

use candle_core::Device;
use voxclone_synthesizer::tacotron::train::{Example, Phase, TrainableTacotron, Trainer};
use voxclone_synthesizer::tacotron::TacotronConfig;

/// The process's peak resident set so far, in MiB (Linux).
fn peak_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

fn main() -> candle_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        candle_core::bail!("usage: train_memory rtvc|small|tiny BATCH FRAMES");
    }
    let config = match args[1].as_str() {
        "rtvc" => TacotronConfig::default(),
        "small" => TacotronConfig::small(),
        "tiny" => TacotronConfig::tiny(),
        other => candle_core::bail!("unknown width {other}"),
    };
    let batch: usize = args[2].parse().map_err(candle_core::Error::wrap)?;
    let frames: usize = args[3].parse().map_err(candle_core::Error::wrap)?;
    let n_mels = config.n_mels;
    let model = TrainableTacotron::new(config, 2, 1, &Device::Cpu)?;
    let at_start = peak_mib();
    let examples: Vec<Example> = (0..batch)
        .map(|i| Example {
            chars: (0..60).map(|c| 1 + ((c * 7 + i) % 60) as u32).collect(),
            mel: (0..n_mels * frames)
                .map(|k| (k % 97) as f32 / 24.0 - 2.0)
                .collect(),
            frames,
            embedding: vec![1.0 / 16.0; 256],
        })
        .collect();
    let schedule = vec![Phase {
        r: 2,
        learning_rate: 1e-3,
        until_step: 10,
        batch_size: batch,
    }];
    let mut trainer = Trainer::new(model, schedule, 0, 1)?;
    let start = std::time::Instant::now();
    let losses = trainer.step(&examples)?;
    println!(
        "{} widths, batch {batch} × {frames} frames: loss {:.3}, {:.1} s, peak {} MiB ({} MiB before the step)",
        args[1],
        losses.total,
        start.elapsed().as_secs_f64(),
        peak_mib(),
        at_start
    );
    Ok(())
}
