//! `voxclone train vocoder`: RTVC's WaveRNN trained on the mels of your recordings, ground
//! truth or, with `--gta`, ground-truth-aligned mels from a trained synthesizer.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use voxclone::corpus::{is_audio, Layout};
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
    /// Train on ground-truth-aligned (GTA) mels from this synthesizer (RTVC's synthesizer.pt or
    /// a `train synthesizer` checkpoint) instead of the recordings' own: its teacher-forced
    /// output for each transcribed recording, as RTVC trains its vocoder. Needs transcripts.
    #[arg(long, value_name = "FILE")]
    gta: Option<PathBuf>,
    /// The corpus layout, for `--gta`'s transcripts (default: detected).
    #[arg(long, value_parser = super::train_synthesizer::parse_layout)]
    layout: Option<Layout>,
}

pub fn run(ctx: &Context, args: VocoderArgs) -> Result<()> {
    anyhow::ensure!(args.batch_size >= 1, "--batch-size must be at least 1");
    anyhow::ensure!(args.seq_len >= 1, "--seq-len must be at least 1");
    anyhow::ensure!(args.save_every >= 1, "--save-every must be at least 1");
    let config = WaveRnnConfig::default();
    let examples = match &args.gta {
        None => ground_truth_examples(&args.data, &config)?,
        Some(synthesizer) => gta_examples(ctx, &args, synthesizer, &config)?,
    };
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
        let step =
            voxclone_train::checkpoint::stored_step(&voxclone_weights::read_weights(&checkpoint)?)?;
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

/// Every recording under `data` with its own mel.
fn ground_truth_examples(data: &std::path::Path, config: &WaveRnnConfig) -> Result<Vec<Example>> {
    let files = audio_files(data).with_context(|| format!("reading {}", data.display()))?;
    if files.is_empty() {
        bail!("{}: no audio files found", data.display());
    }
    let mut examples = Vec::with_capacity(files.len());
    for file in &files {
        match rtvc::vocoder_example(file, config) {
            Ok(e) => examples.push(e),
            Err(e) => eprintln!("voxclone: warning: skipping {e}"),
        }
    }
    Ok(examples)
}

/// Every transcribed recording under `args.data`, prepared as the synthesizer trains on it,
/// with the synthesizer's teacher-forced mel.
fn gta_examples(
    ctx: &Context,
    args: &VocoderArgs,
    synthesizer: &std::path::Path,
    config: &WaveRnnConfig,
) -> Result<Vec<Example>> {
    let utterances =
        super::train_synthesizer::transcribed_utterances(&args.data, args.layout, "--gta")?;
    let device = ctx.device()?;
    let tacotron = rtvc::load_tacotron(synthesizer, &device)?;
    let pipeline = ctx.pipeline()?;
    let bar = super::progress::bar(
        ctx.quiet,
        utterances.len() as u64,
        "GTA mels [{bar:30}] {pos}/{len} ({eta})",
    );
    let mut examples = Vec::with_capacity(utterances.len());
    for (i, u) in utterances.iter().enumerate() {
        let transcript = u.transcript.as_deref().unwrap_or_default();
        match rtvc::prepare_utterance(&pipeline, &u.audio, transcript) {
            Ok(prepared) => {
                let seed = args.seed ^ i as u64;
                examples.push(rtvc::gta_example(
                    &tacotron, &prepared, config, seed, &device,
                )?)
            }
            Err(e) => bar.suspend(|| eprintln!("voxclone: warning: skipping {e}")),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(examples)
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
