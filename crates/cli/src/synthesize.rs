//! `voxclone synthesize`: SV2TTS with RTVC's own synthesizer and vocoder checkpoints.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use voxclone::rtvc::{self, RtvcError, RtvcVocoder};
use voxclone_synthesizer::tacotron::GenerateOptions;
use voxclone_vocoder::griffin_lim::GriffinLim;
use voxclone_vocoder::wavernn::{VocodeOptions, RTVC_FOLDING};

use super::output::write_output;
use super::{interrupt, Context};

#[derive(Args, Debug)]
pub struct SynthesizeArgs {
    /// RTVC's synthesizer: `tacotron:PATH` to its `synthesizer.pt` (or a safetensors file with
    /// the same tensor names).
    #[arg(long, value_name = "tacotron:PATH")]
    synthesizer: String,
    /// `wavernn:PATH` to RTVC's `vocoder.pt`, or `griffin-lim` (no weights needed).
    #[arg(
        long,
        value_name = "wavernn:PATH|griffin-lim",
        default_value = "griffin-lim"
    )]
    vocoder: String,
    /// A recording of the voice to clone (wav, flac, mp3, ogg, m4a).
    #[arg(long, value_name = "FILE")]
    reference: PathBuf,
    /// What to say. Long text is synthesised sentence by sentence.
    #[arg(long, value_name = "TEXT")]
    text: String,
    /// The 16 kHz WAV to write.
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// Also write the attention alignment as a PNG (one per sentence after the first:
    /// NAME-2.png, …).
    #[arg(long, value_name = "FILE")]
    plot_alignment: Option<PathBuf>,
    /// Seed of the pre-net dropout and the vocoder's sampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Decoder step limit per sentence, in mel frames (80 per second).
    #[arg(long, default_value_t = 2000, value_name = "FRAMES")]
    max_frames: usize,
    /// WaveRNN: generate sample by sample instead of in folded batches (slower, RTVC's
    /// `batched=False`).
    #[arg(long)]
    unbatched: bool,
}

fn prefixed<'a>(value: &'a str, prefix: &str, flag: &str) -> Result<&'a Path> {
    match value.strip_prefix(prefix) {
        Some(path) if !path.is_empty() => Ok(Path::new(path)),
        _ => bail!("--{flag} {value:?}: expected {prefix}PATH"),
    }
}

pub fn run(ctx: &Context, args: SynthesizeArgs) -> Result<()> {
    if args.text.trim().is_empty() {
        bail!("--text is empty");
    }
    if args.max_frames < 12 {
        bail!("--max-frames must be at least 12");
    }
    let device = ctx.device()?;
    let synthesizer = prefixed(&args.synthesizer, "tacotron:", "synthesizer")?;
    // The reference first: a bad recording is reported before the checkpoints are read.
    let d_vector = ctx
        .pipeline()?
        .embed_file(&args.reference)
        .context("embedding the reference")?;
    let vocoder = match args.vocoder.as_str() {
        "griffin-lim" => RtvcVocoder::GriffinLim(GriffinLim::default()),
        other => {
            let path = prefixed(other, "wavernn:", "vocoder")
                .context("use wavernn:PATH or griffin-lim")?;
            let model = rtvc::load_wavernn(path, &device)?;
            let options = VocodeOptions {
                folding: (!args.unbatched).then_some(RTVC_FOLDING),
                seed: args.seed,
            };
            RtvcVocoder::WaveRnn(Box::new(model), options)
        }
    };
    let tacotron = rtvc::load_tacotron(synthesizer, &device)?;

    interrupt::catch();
    let bar = if ctx.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len}").expect("valid template"),
    );
    let options = GenerateOptions {
        max_frames: args.max_frames,
        dropout_seed: Some(args.seed),
    };
    let result = rtvc::synthesize(
        &tacotron,
        &vocoder,
        &args.text,
        d_vector.embedding.as_slice(),
        &options,
        &mut |stage, done, total| {
            bar.set_message(stage.to_owned());
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            !interrupt::requested()
        },
    );
    bar.finish_and_clear();
    let speech = match result {
        Err(RtvcError::Interrupted) => bail!("interrupted; nothing was written"),
        other => other?,
    };
    for chunk in speech.unfinished() {
        eprintln!(
            "voxclone: warning: the attention never reached the stop token within {} frames for {:?}; that sentence was cut at the limit",
            args.max_frames, chunk.text
        );
    }
    if let Some(plot) = &args.plot_alignment {
        for (i, chunk) in speech.chunks.iter().enumerate() {
            let path = numbered(plot, i);
            write_output(&path, &rtvc::alignment_png(&chunk.spectrogram.alignment)?)?;
        }
    }
    let wav = voxclone::audio::wav::wav_bytes(&speech.samples, rtvc::SAMPLE_RATE);
    write_output(&args.output, &wav)?;
    if !ctx.quiet {
        eprintln!(
            "wrote {} ({:.2} s, {} sentence{})",
            args.output.display(),
            speech.samples.len() as f32 / rtvc::SAMPLE_RATE as f32,
            speech.chunks.len(),
            if speech.chunks.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// `plot.png` for the first sentence, `plot-2.png`, `plot-3.png`, … for the others.
fn numbered(path: &Path, i: usize) -> PathBuf {
    if i == 0 {
        return path.to_owned();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{}.{}", i + 1, ext.to_string_lossy()),
        None => format!("{stem}-{}", i + 1),
    };
    path.with_file_name(name)
}
