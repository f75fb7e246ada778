//! `voxclone train encoder`: GE2E training of the speaker encoder on one folder per speaker.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use rayon::prelude::*;
use voxclone::encoder::train::{
    checkpoint_paths, embed_speakers, SpeakerDataset, TrainConfig, Trainer,
};
use voxclone::encoder::verification::{equal_error_rate, pairwise_trials};
use voxclone::encoder::EncoderParams;

use super::{progress, Context};

#[derive(Subcommand, Debug)]
pub enum TrainCommand {
    /// Train the GE2E speaker encoder (from scratch, or fine-tune the pretrained one).
    Encoder(EncoderArgs),
    /// Build the zero-shot speaker-encoding bank: styles adapted to real speakers, plus styles
    /// sampled around the stock voices (resumes where an existing output stopped).
    SpeakerEncoding(super::train_speaker_encoding::SpeakerEncodingArgs),
    /// Train RTVC's WaveRNN vocoder on ground-truth mels of recordings (resumes from the
    /// output folder).
    Vocoder(super::train_vocoder::VocoderArgs),
    /// Train RTVC's Tacotron synthesizer on transcribed recordings, conditioned on each
    /// utterance's d-vector (resumes from the output folder).
    Synthesizer(super::train_synthesizer::SynthesizerArgs),
}

#[derive(Args, Debug)]
pub struct EncoderArgs {
    /// A folder with one sub-folder per speaker holding their recordings (searched recursively).
    data: PathBuf,
    /// Checkpoint folder; training resumes from it when it already holds a checkpoint.
    #[arg(short, long)]
    out: PathBuf,
    /// Train until this many optimiser steps.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Speakers per batch (RTVC: 64; fewer if the data has fewer).
    #[arg(long, default_value_t = 64)]
    speakers_per_batch: usize,
    /// Partials per speaker per batch (RTVC: 10).
    #[arg(long, default_value_t = 10)]
    utterances_per_speaker: usize,
    #[arg(long, default_value_t = 1e-4)]
    learning_rate: f64,
    /// Mel frames per training partial (160 = 1.6 s, as the pretrained model).
    #[arg(long, default_value_t = 160)]
    partial_frames: usize,
    /// Start from the pretrained encoder instead of random weights.
    #[arg(long)]
    from_pretrained: bool,
    /// Keep the last N speakers out of training and report the EER on them.
    #[arg(long, default_value_t = 0)]
    held_out: usize,
    /// Report the held-out EER every this many steps.
    #[arg(long, default_value_t = 100)]
    eval_every: usize,
    /// Write a checkpoint every this many steps (and at the end).
    #[arg(long, default_value_t = 100)]
    save_every: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(ctx: &Context, cmd: TrainCommand) -> Result<()> {
    match cmd {
        TrainCommand::Encoder(args) => train_encoder(ctx, args),
        TrainCommand::SpeakerEncoding(args) => super::train_speaker_encoding::run(ctx, args),
        TrainCommand::Vocoder(args) => super::train_vocoder::run(ctx, args),
        TrainCommand::Synthesizer(args) => super::train_synthesizer::run(ctx, args),
    }
}

fn train_encoder(ctx: &Context, args: EncoderArgs) -> Result<()> {
    anyhow::ensure!(
        args.partial_frames >= 2,
        "--partial-frames must be at least 2"
    );
    anyhow::ensure!(args.utterances_per_speaker >= 2, "--utterances-per-speaker must be at least 2 (GE2E compares an utterance with its speaker's others)");
    let params = EncoderParams {
        partial_frames: args.partial_frames,
        ..Default::default()
    };
    let all = if super::preprocess::manifest_path(&args.data).is_file() {
        if !ctx.quiet {
            eprintln!("reading preprocessed features from {}", args.data.display());
        }
        SpeakerDataset {
            speakers: super::preprocess::load_features(&args.data)?,
            n_mels: params.mel.n_mels,
        }
    } else {
        SpeakerDataset::from_wavs(prepare_speakers(&args.data, &params, ctx.quiet)?, &params)
    };
    if args.held_out + 2 > all.speakers.len() {
        bail!(
            "{}: {} speakers; training needs at least 2 after holding out {}",
            args.data.display(),
            all.speakers.len(),
            args.held_out
        );
    }
    let (train, held_out) = all
        .speakers
        .split_at(all.speakers.len() - args.held_out.min(all.speakers.len()));
    let data = SpeakerDataset {
        speakers: train.to_vec(),
        n_mels: all.n_mels,
    };
    let config = TrainConfig {
        speakers_per_batch: args.speakers_per_batch.min(train.len()),
        utterances_per_speaker: args.utterances_per_speaker,
        learning_rate: args.learning_rate,
        seed: args.seed,
        ..Default::default()
    };
    let (weights_path, _, state_path) = checkpoint_paths(&args.out);
    let trainer = if state_path.exists() {
        let t = Trainer::resume(params, config, &args.out)
            .with_context(|| format!("resuming from {}", args.out.display()))?;
        eprintln!("resuming at step {}", t.step);
        t
    } else if args.from_pretrained {
        let weights = ctx.store.ge2e_encoder(&progress::Bytes::new(ctx.quiet))?;
        Trainer::new(params, config, Some(&weights))?
    } else {
        Trainer::new(params, config, None)?
    };

    let mut training = EncoderTraining {
        trainer,
        data,
        held_out,
        out: &args.out,
        eval_every: args.eval_every.max(1),
        target: args.steps,
        losses: Vec::new(),
    };
    super::train_loop::run(
        &mut training,
        "encoder",
        args.steps,
        args.save_every,
        &args.out,
        ctx.quiet,
    )?;
    println!("checkpoint: {}", weights_path.display());
    if held_out.len() > 1 {
        let legend: Vec<String> = held_out
            .iter()
            .enumerate()
            .map(|(i, (name, _))| format!("{} = {name}", voxclone::plot::colour_name(i)))
            .collect();
        println!(
            "held-out projections: {}/projection-*.png ({})",
            args.out.display(),
            legend.join(", ")
        );
    }
    Ok(())
}

/// GE2E training as the shared loop drives it, with the held-out speakers' EER and projection
/// every `eval_every` steps.
struct EncoderTraining<'a> {
    trainer: Trainer,
    data: SpeakerDataset,
    held_out: &'a [(String, Vec<Vec<f32>>)],
    out: &'a std::path::Path,
    eval_every: usize,
    target: usize,
    /// Losses since the last evaluation.
    losses: Vec<f32>,
}

impl super::train_loop::Training for EncoderTraining<'_> {
    fn step_count(&self) -> usize {
        self.trainer.step
    }

    fn train_step(&mut self) -> Result<(f32, String)> {
        let loss = self.trainer.train_step(&self.data)?;
        self.losses.push(loss);
        Ok((loss, String::new()))
    }

    fn save(&self) -> Result<()> {
        Ok(self.trainer.save(self.out)?)
    }

    fn after_step(&mut self) -> Result<Option<String>> {
        let step = self.trainer.step;
        if !(step.is_multiple_of(self.eval_every) || step == self.target) {
            return Ok(None);
        }
        let mean = self.losses.iter().sum::<f32>() / self.losses.len().max(1) as f32;
        self.losses.clear();
        let eer = match self.held_out.len() {
            0 | 1 => String::new(),
            _ => {
                let (embeddings, labels) = embed_speakers(&self.trainer.encoder()?, self.held_out)?;
                let plot = self.out.join(format!("projection-{step:07}.png"));
                super::output::write_output(
                    &plot,
                    &voxclone::plot::projection_png(&embeddings, &labels),
                )?;
                let refs: Vec<_> = embeddings.iter().collect();
                equal_error_rate(&pairwise_trials(&refs, &labels))
                    .map(|e| format!(", held-out EER {:.2}%", 100.0 * e.eer))
                    .unwrap_or_default()
            }
        };
        Ok(Some(format!("step {step}: loss {mean:.4}{eer}")))
    }
}

/// Decodes and preprocesses a corpus of any layout, keeping speakers with at least one usable file.
fn prepare_speakers(
    data: &std::path::Path,
    params: &EncoderParams,
    quiet: bool,
) -> Result<Vec<(String, Vec<Vec<f32>>)>> {
    let corpus = voxclone::corpus::Corpus::scan(data, None)?;
    if !quiet {
        eprintln!("preparing {} speakers", corpus.speakers.len());
    }
    Ok(corpus
        .speakers
        .par_iter()
        .map(|(name, utterances)| {
            let wavs = utterances
                .iter()
                .filter_map(
                    |u| match voxclone::pipeline::prepare_speech(&u.audio, params) {
                        Ok(wav) => Some(wav),
                        Err(e) => {
                            eprintln!("skipping: {e}");
                            None
                        }
                    },
                )
                .collect::<Vec<_>>();
            (name.clone(), wavs)
        })
        .filter(|(_, wavs)| !wavs.is_empty())
        .collect())
}
