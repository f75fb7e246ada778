//! Seconds per Tacotron training step and peak memory, on made-up data of a given width, batch
//! and length (`CHARS` characters per text, 60 by default), after one warm-up step; one JSON
//! line. The PyTorch side of the same measurement is `scripts/rtvc_reference.py train-bench`;
//! `scripts/bench-tacotron-training.sh` runs both.
//!
//! `cargo run --release -p voxclone-synthesizer --example bench_tacotron_training -- rtvc 4 400 3`
//! (widths `rtvc`, `small` or `tiny`; batch; frames; timed steps; characters).

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

fn arg(args: &[String], i: usize, default: usize) -> candle_core::Result<usize> {
    args.get(i)
        .map_or(Ok(default), |v| v.parse().map_err(candle_core::Error::wrap))
}

fn main() -> candle_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let size = args.get(1).map_or("rtvc", String::as_str);
    let config = match size {
        "rtvc" => TacotronConfig::default(),
        "small" => TacotronConfig::small(),
        "tiny" => TacotronConfig::tiny(),
        other => candle_core::bail!("unknown width {other}: rtvc, small or tiny"),
    };
    let (batch, frames, steps, chars) = (
        arg(&args, 2, 4)?,
        arg(&args, 3, 400)?,
        arg(&args, 4, 3)?.max(1),
        arg(&args, 5, 60)?,
    );
    let n_mels = config.n_mels;
    let model = TrainableTacotron::new(config, 2, 1, &Device::Cpu)?;
    // The same made-up batch as the PyTorch side: ids 1 + (7c + i) mod 60, mels uniform in
    // [-4, 4] (here a fixed pattern; speed does not depend on the values).
    let examples: Vec<Example> = (0..batch)
        .map(|i| Example {
            chars: (0..chars).map(|c| 1 + ((c * 7 + i) % 60) as u32).collect(),
            mel: (0..n_mels * frames)
                .map(|k| (k % 97) as f32 / 12.0 - 4.0)
                .collect(),
            frames,
            embedding: vec![1.0 / 16.0; 256],
        })
        .collect();
    let schedule = vec![Phase {
        r: 2,
        learning_rate: 1e-3,
        until_step: usize::MAX,
        batch_size: batch,
    }];
    let mut trainer = Trainer::new(model, schedule, 0, 1)?;
    trainer.step(&examples)?; // warm-up
    let start = std::time::Instant::now();
    for _ in 0..steps {
        trainer.step(&examples)?;
    }
    let per_step = start.elapsed().as_secs_f64() / steps as f64;
    println!(
        "{{\"size\": \"{size}\", \"batch\": {batch}, \"frames\": {frames}, \"chars\": {chars}, \"steps\": {steps}, \"seconds_per_step\": {per_step:.3}, \"peak_mib\": {}}}",
        peak_mib()
    );
    Ok(())
}
