//! `voxclone train synthesizer` and `voxclone adapt`: RTVC's Tacotron trained on transcribed
//! recordings, conditioned on each utterance's own d-vector from the speaker encoder.
//!
//! `adapt` is the same loop started from a trained synthesizer, at a low fixed learning rate,
//! on one speaker's recordings: Baidu's whole-model speaker adaptation (Arik et al. 2018), as
//! RTVC users fine-tune by hand.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context as _, Result};
use clap::Args;
use rayon::prelude::*;
use voxclone::corpus::{Corpus, Layout, Utterance};
use voxclone::rtvc;
use voxclone_synthesizer::tacotron::train::{
    alignment_score, rtvc_schedule, AttentionGuide, Example, Phase, TrainableTacotron, Trainer,
};
use voxclone_synthesizer::tacotron::{Dropout, TacotronConfig};

use super::{train_loop, Context};

/// The checkpoint's file name in the output folder.
pub const CHECKPOINT: &str = "synthesizer.safetensors";

#[derive(Args, Debug)]
pub struct SynthesizerArgs {
    /// A corpus with transcripts: LibriSpeech, LibriTTS, VCTK or LJSpeech layout.
    data: PathBuf,
    /// Checkpoint folder: `synthesizer.safetensors` there is resumed from, and is what
    /// `voxclone synthesize --synthesizer tacotron:DIR/synthesizer.safetensors` loads.
    #[arg(short, long)]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Widths of a fresh model: rtvc (RTVC's, 30 M parameters), small (7 M) or tiny (for
    /// smoke tests).
    #[arg(long, default_value = "rtvc", value_parser = parse_size)]
    size: TacotronConfig,
    /// Start from this synthesizer (RTVC's synthesizer.pt or a safetensors checkpoint) instead
    /// of random weights; ignored when resuming.
    #[arg(long, value_name = "FILE")]
    init: Option<PathBuf>,
    /// One fixed learning rate instead of RTVC's schedule (1e-3 falling to 1e-5 by step 320k).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Utterances per batch (RTVC: 12).
    #[arg(long, default_value_t = 12)]
    batch_size: usize,
    /// Frames per decoder step (RTVC: 2); a resumed or initial checkpoint keeps its own.
    #[arg(long)]
    r: Option<usize>,
    /// Add guided attention (Tachibana et al. 2018) to the loss with this weight: a penalty
    /// on attention far from the diagonal that helps a model align on little data. Not in
    /// RTVC's recipe; 0 leaves it out.
    #[arg(long, value_name = "WEIGHT", default_value_t = 0.0)]
    guided_attention: f64,
}

#[derive(Args, Debug)]
pub struct AdaptArgs {
    /// One speaker's recordings with transcripts (LibriSpeech, LibriTTS, VCTK or LJSpeech
    /// layout; a few minutes is enough to start).
    data: PathBuf,
    /// The trained synthesizer to adapt (RTVC's synthesizer.pt or a safetensors checkpoint).
    #[arg(long, value_name = "FILE")]
    synthesizer: PathBuf,
    /// Output folder: the adapted `synthesizer.safetensors` (resumed from when present).
    #[arg(short, long)]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Adam's learning rate (RTVC's schedule is at 3e-5 where its published model stopped).
    #[arg(long, default_value_t = 3e-5)]
    learning_rate: f64,
    /// Utterances per batch.
    #[arg(long, default_value_t = 12)]
    batch_size: usize,
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// Train until this many optimiser steps.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Save every this many steps (and at the end, and on Ctrl-C).
    #[arg(long, default_value_t = 100)]
    save_every: usize,
    /// Write an alignment plot (`alignments/step-N.png`) every this many steps; 0: never.
    #[arg(long, default_value_t = 500)]
    plot_every: usize,
    /// Leave out utterances longer than this many frames (RTVC: 900, 11 s).
    #[arg(long, default_value_t = 900)]
    max_frames: usize,
    /// The corpus layout (default: detected).
    #[arg(long, value_parser = parse_layout)]
    layout: Option<Layout>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn parse_size(s: &str) -> std::result::Result<TacotronConfig, String> {
    match s {
        "rtvc" => Ok(TacotronConfig::default()),
        "small" => Ok(TacotronConfig::small()),
        "tiny" => Ok(TacotronConfig::tiny()),
        _ => Err(format!("unknown size {s:?} (rtvc, small or tiny)")),
    }
}

pub(super) fn parse_layout(s: &str) -> std::result::Result<Layout, String> {
    Layout::parse(s).ok_or_else(|| {
        format!("unknown layout {s:?} (librispeech, libritts, vctk, ljspeech, voxceleb, folders)")
    })
}

pub fn run(ctx: &Context, args: SynthesizerArgs) -> Result<()> {
    let schedule = match args.learning_rate {
        Some(lr) => Some((lr, args.batch_size)),
        None if args.batch_size != 12 => {
            bail!("--batch-size needs --learning-rate (RTVC's schedule fixes 12)")
        }
        None => None,
    };
    anyhow::ensure!(
        args.guided_attention >= 0.0 && args.guided_attention.is_finite(),
        "--guided-attention must be a weight of 0 or more"
    );
    let start = Start {
        init: args.init.as_deref(),
        size: args.size,
        r: args.r,
        schedule,
        guide: (args.guided_attention > 0.0).then_some(AttentionGuide {
            weight: args.guided_attention,
            width: AttentionGuide::TACHIBANA_WIDTH,
        }),
    };
    train(ctx, &args.data, &args.out, &args.common, start)
}

pub fn run_adapt(ctx: &Context, args: AdaptArgs) -> Result<()> {
    if !args.synthesizer.is_file() {
        bail!("{}: no such file", args.synthesizer.display());
    }
    let start = Start {
        init: Some(&args.synthesizer),
        size: TacotronConfig::default(),
        r: None,
        schedule: Some((args.learning_rate, args.batch_size)),
        guide: None,
    };
    train(ctx, &args.data, &args.out, &args.common, start)
}

/// Where training starts when there is no checkpoint to resume.
struct Start<'a> {
    init: Option<&'a Path>,
    size: TacotronConfig,
    r: Option<usize>,
    /// One phase `(learning rate, batch size)` instead of RTVC's schedule.
    schedule: Option<(f64, usize)>,
    guide: Option<AttentionGuide>,
}

fn train(ctx: &Context, data: &Path, out: &Path, args: &CommonArgs, start: Start) -> Result<()> {
    anyhow::ensure!(args.save_every >= 1, "--save-every must be at least 1");
    if let Some((lr, batch)) = start.schedule {
        anyhow::ensure!(
            lr > 0.0 && lr.is_finite(),
            "--learning-rate must be positive"
        );
        anyhow::ensure!(batch >= 1, "--batch-size must be at least 1");
    }
    let examples = load_examples(ctx, data, args)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let checkpoint = out.join(CHECKPOINT);
    let device = ctx.device()?;

    let (model, step) = if checkpoint.is_file() {
        let tensors = voxclone_weights::read_weights(&checkpoint)?;
        let step = voxclone_train::checkpoint::stored_step(&tensors)?;
        let model = TrainableTacotron::from_tensors(&tensors, &device)
            .with_context(|| format!("resuming from {}", checkpoint.display()))?;
        if !ctx.quiet {
            eprintln!("resuming at step {step}");
        }
        (model, step)
    } else if let Some(init) = start.init {
        let tensors = voxclone_weights::read_weights(init)?;
        let model = TrainableTacotron::from_tensors(&tensors, &device)
            .with_context(|| format!("{}: not a Tacotron checkpoint", init.display()))?;
        (model, 0)
    } else {
        let r = start.r.unwrap_or(start.size.r);
        (
            TrainableTacotron::new(start.size, r, args.seed, &device)?,
            0,
        )
    };
    if model.model().config().speaker_embedding_size != examples[0].embedding.len() {
        bail!(
            "the synthesizer takes {}-value d-vectors; the speaker encoder gives {}",
            model.model().config().speaker_embedding_size,
            examples[0].embedding.len()
        );
    }
    let schedule = match start.schedule {
        Some((learning_rate, batch_size)) => vec![Phase {
            r: start.r.unwrap_or(model.model().r()),
            learning_rate,
            until_step: usize::MAX,
            batch_size,
        }],
        None => rtvc_schedule()
            .into_iter()
            .map(|p| Phase {
                r: start.r.unwrap_or(p.r),
                ..p
            })
            .collect(),
    };
    let mut trainer = Trainer::new(model, schedule, step, args.seed)?;
    trainer.attention_guide = start.guide;
    let restored = step > 0 && trainer.resume_optimizer(&checkpoint)?;
    train_loop::warn_without_optimizer(step, restored, ctx.quiet);

    let mut training = SynthesizerTraining {
        trainer,
        examples,
        checkpoint: checkpoint.clone(),
        out: out.to_owned(),
        plot_every: args.plot_every,
    };
    train_loop::run(
        &mut training,
        "Tacotron",
        args.steps,
        args.save_every,
        &checkpoint,
        ctx.quiet,
    )
}

struct SynthesizerTraining {
    trainer: Trainer,
    examples: Vec<Example>,
    checkpoint: PathBuf,
    out: PathBuf,
    plot_every: usize,
}

impl train_loop::Training for SynthesizerTraining {
    fn step_count(&self) -> usize {
        self.trainer.step
    }

    fn train_step(&mut self) -> Result<(f32, String)> {
        let losses = self.trainer.step(&self.examples)?;
        if !losses.total.is_finite() {
            bail!(
                "the loss diverged at step {}; the last checkpoint is kept",
                self.trainer.step
            );
        }
        let guided = match self.trainer.attention_guide {
            Some(_) => format!(", attention {:.3}", losses.attention),
            None => String::new(),
        };
        Ok((losses.total, format!(" (stop {:.3}{guided})", losses.stop)))
    }

    fn save(&self) -> Result<()> {
        Ok(self.trainer.save(&self.checkpoint)?)
    }

    fn after_step(&mut self) -> Result<Option<String>> {
        if self.plot_every > 0 && self.trainer.step.is_multiple_of(self.plot_every) {
            plot_alignment(&self.trainer, &self.examples[0], &self.out)?;
        }
        Ok(None)
    }
}

/// The teacher-forced alignment of one utterance, as RTVC plots it during training, written
/// to `out/alignments/step-N.png`, and how diagonal it is in numbers, appended to
/// `out/alignments/scores.tsv`: the correlation of each decoder step's most-attended character
/// with the step (1 for a clean diagonal) and the mean of each step's largest weight (focus).
fn plot_alignment(trainer: &Trainer, example: &Example, out: &Path) -> Result<()> {
    let model = trainer.model.snapshot()?;
    let r = model.r();
    let batch = voxclone_synthesizer::tacotron::train::Batch::new(
        &[example],
        model.config().n_mels,
        r,
        trainer.model.device(),
    )?;
    let forced = batch.teacher_forced(&model, &mut Dropout::Off)?;
    let alignment = forced.alignment.squeeze(0)?;
    let png = rtvc::alignment_png(&alignment)?;
    let dir = out.join("alignments");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("step-{}.png", trainer.step));
    let tmp = path.with_extension("png.part");
    std::fs::write(&tmp, png)?;
    std::fs::rename(&tmp, &path)?;
    let (diagonal, focus) =
        alignment_score(&alignment, example.frames.div_ceil(r), example.chars.len())?;
    let scores = dir.join("scores.tsv");
    let header = !scores.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&scores)?;
    if header {
        writeln!(file, "step\tdiagonal\tfocus")?;
    }
    writeln!(file, "{}\t{diagonal:.3}\t{focus:.3}", trainer.step)?;
    Ok(())
}

/// The corpus's recordings that have a transcript; none is an error naming what was found.
pub(super) fn transcribed_utterances(
    data: &Path,
    layout: Option<Layout>,
    needs: &str,
) -> Result<Vec<Utterance>> {
    let corpus =
        Corpus::scan(data, layout).with_context(|| format!("reading {}", data.display()))?;
    let count = corpus.utterance_count();
    let utterances: Vec<Utterance> = corpus
        .speakers
        .into_iter()
        .flat_map(|(_, u)| u)
        .filter(|u| {
            u.transcript
                .as_deref()
                .is_some_and(|t| !t.trim().is_empty())
        })
        .collect();
    if utterances.is_empty() {
        bail!(
            "{}: no transcribed recordings found ({:?} layout, {count} recordings); {needs} needs transcripts",
            data.display(),
            corpus.layout,
        );
    }
    Ok(utterances)
}

/// Every transcribed utterance of the corpus as a training example, computed in parallel at
/// the start of each run (a mel and a d-vector take tens of milliseconds per utterance).
fn load_examples(ctx: &Context, data: &Path, args: &CommonArgs) -> Result<Vec<Example>> {
    let utterances = transcribed_utterances(data, args.layout, "the synthesizer")?;
    let pipeline = ctx.pipeline()?;
    let bar = super::progress::bar(
        ctx.quiet,
        utterances.len() as u64,
        "mels and d-vectors [{bar:30}] {pos}/{len} ({eta})",
    );
    let too_long = AtomicUsize::new(0);
    let examples: Vec<Example> = utterances
        .par_iter()
        .filter_map(|u| {
            let transcript = u.transcript.as_deref().unwrap_or_default();
            let result = rtvc::synthesizer_example(&pipeline, &u.audio, transcript);
            bar.inc(1);
            match result {
                Ok(e) if e.frames > args.max_frames => {
                    too_long.fetch_add(1, Ordering::Relaxed);
                    None
                }
                Ok(e) => Some(e),
                Err(e) => {
                    bar.suspend(|| eprintln!("voxclone: warning: skipping {e}"));
                    None
                }
            }
        })
        .collect();
    bar.finish_and_clear();
    let too_long = too_long.into_inner();
    if too_long > 0 && !ctx.quiet {
        eprintln!(
            "left out {too_long} utterances longer than {} frames (--max-frames)",
            args.max_frames
        );
    }
    if examples.is_empty() {
        bail!("{}: no usable utterances", data.display());
    }
    if !ctx.quiet {
        eprintln!("{} utterances", examples.len());
    }
    Ok(examples)
}
