//! `voxclone train vocoder`: RTVC's WaveRNN trained on ground-truth mels of your recordings.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use voxclone::corpus::is_audio;
use voxclone::rtvc;
use voxclone_vocoder::wavernn::train::{Example, TrainConfig, TrainableWaveRnn, Trainer};
use voxclone_vocoder::wavernn::WaveRnnConfig;

use super::{train_loop, Context};

#[derive(Args, Debug)]
pub struct VocoderArgs {
    /// A folder of recordings, searched recursively (any corpus layout: the vocoder needs
    /// neither speakers nor transcripts).
    data: PathBuf,
    /// Checkpoint folder: `vocoder.safetensors` there is resumed from, and is what
    /// `voxclone synthesize --vocoder wavernn:DIR/vocoder.safetensors` loads.
    #[arg(short, long)]
    out: PathBuf,
    /// Train until this many optimiser steps.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Segments per batch (RTVC: 100).
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Adam's learning rate (RTVC: 1e-4).
    #[arg(long, default_value_t = 1e-4)]
    learning_rate: f64,
    /// Samples per segment, rounded up to whole hops (RTVC: 1000).
    #[arg(long, default_value_t = 1000)]
    seq_len: usize,
    /// Save every this many steps (and at the end, and on Ctrl-C).
    #[arg(long, default_value_t = 100)]
    save_every: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(ctx: &Context, args: VocoderArgs) -> Result<()> {
    anyhow::ensure!(args.batch_size >= 1, "--batch-size must be at least 1");
    anyhow::ensure!(args.seq_len >= 1, "--seq-len must be at least 1");
    anyhow::ensure!(args.save_every >= 1, "--save-every must be at least 1");
    let config = WaveRnnConfig::default();
    let files =
        audio_files(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    if files.is_empty() {
        bail!("{}: no audio files found", args.data.display());
    }
    let mut examples = Vec::with_capacity(files.len());
    for file in &files {
        match rtvc::vocoder_example(file, &config) {
            Ok(e) => examples.push(e),
            Err(e) => eprintln!("voxclone: warning: skipping {e}"),
        }
    }
    let window = args.seq_len.div_ceil(config.hop_length) + 2 * config.pad;
    if !examples.iter().any(|e| e.frames >= window) {
        bail!(
            "{}: no recording is long enough for a {}-sample segment",
            args.data.display(),
            args.seq_len
        );
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let checkpoint = args.out.join("vocoder.safetensors");
    let device = ctx.device()?;
    let (model, step) = if checkpoint.is_file() {
        let step = train_loop::stored_step(&voxclone_models::read_weights(&checkpoint)?)?;
        let model = TrainableWaveRnn::new(config, Some(&checkpoint), &device)
            .with_context(|| format!("resuming from {}", checkpoint.display()))?;
        if !ctx.quiet {
            eprintln!("resuming at step {step}");
        }
        (model, step)
    } else {
        (TrainableWaveRnn::new(config, None, &device)?, 0)
    };
    let train = TrainConfig {
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        seq_len: args.seq_len,
    };
    let mut trainer = Trainer::new(model, train, step, args.seed ^ step as u64)?;
    let restored = step > 0 && trainer.resume_optimizer(&checkpoint)?;
    train_loop::warn_without_optimizer(step, restored, ctx.quiet);

    let mut training = VocoderTraining {
        trainer,
        examples,
        device,
        checkpoint: checkpoint.clone(),
    };
    train_loop::run(
        &mut training,
        "WaveRNN",
        args.steps,
        args.save_every,
        &checkpoint,
        ctx.quiet,
    )
}

struct VocoderTraining {
    trainer: Trainer,
    examples: Vec<Example>,
    device: candle_core::Device,
    checkpoint: PathBuf,
}

impl train_loop::Training for VocoderTraining {
    fn step_count(&self) -> usize {
        self.trainer.step
    }

    fn train_step(&mut self) -> Result<(f32, String)> {
        Ok((
            self.trainer.step(&self.examples, &self.device)?,
            String::new(),
        ))
    }

    fn save(&self) -> Result<()> {
        Ok(self.trainer.save(&self.checkpoint)?)
    }
}

/// Every audio file under `dir`, sorted (so that training draws the same segments each run).
fn audio_files(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if is_audio(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
