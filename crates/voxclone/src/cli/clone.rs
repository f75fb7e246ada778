//! `voxclone voice create` and `voxclone clone`: a voice from reference recordings.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use voxclone::clone::{create_profile, CloneReport, StockVoices};
use voxclone::profile::VoiceProfile;

use super::speak::{say, TextOut};
use super::Context;

#[derive(Subcommand, Debug)]
pub enum VoiceCommand {
    /// Make a voice profile (.voice) from recordings of one speaker.
    Create(CreateArgs),
    /// Show what a voice profile holds.
    Show {
        /// The .voice file.
        profile: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Recordings of the speaker (any common format; 5 s or more of speech in all is best).
    #[arg(long = "reference", value_name = "AUDIO", required = true, num_args = 1..)]
    references: Vec<PathBuf>,
    /// Where to write the profile (.voice).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// The voice's name (default: the output's file name).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args, Debug)]
pub struct CloneArgs {
    /// Recordings of the speaker to clone.
    #[arg(long = "reference", value_name = "AUDIO", required = true, num_args = 1..)]
    references: Vec<PathBuf>,
    /// Also keep the voice as a profile for `speak --voice FILE.voice`.
    #[arg(long, value_name = "FILE")]
    save_voice: Option<PathBuf>,
    #[command(flatten)]
    out: TextOut,
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "voice".into())
}

fn report(ctx: &Context, report: &CloneReport, profile: &VoiceProfile) {
    for w in &report.warnings {
        eprintln!("voxclone: warning: {w}");
    }
    if ctx.quiet {
        return;
    }
    let (before, after) = report.calibration;
    eprintln!(
        "{:.1} s of reference speech, median pitch {:.0} Hz; closest stock voice {} ({}); pitch after calibration {:.0} Hz (first try {:.0} Hz)",
        report.speech_seconds,
        report.reference_pitch.median_hz,
        profile.method.trim_start_matches("nearest-stock:"),
        report
            .stock_similarity
            .iter()
            .map(|(n, s)| format!("{n} {s:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        after,
        before,
    );
}

fn make(
    ctx: &Context,
    references: &[PathBuf],
    name: &str,
) -> Result<(voxclone::Tts, VoiceProfile)> {
    let vc = ctx.pipeline()?;
    let tts = ctx.tts()?;
    let stock = StockVoices::embed(&vc, &tts).context("cloning the voice")?;
    let (profile, r) =
        create_profile(&vc, &tts, &stock, references, name).context("cloning the voice")?;
    report(ctx, &r, &profile);
    Ok((tts, profile))
}

pub fn run_voice(ctx: &Context, cmd: VoiceCommand) -> Result<()> {
    match cmd {
        VoiceCommand::Create(args) => {
            let name = args.name.clone().unwrap_or_else(|| stem(&args.output));
            let (_, profile) = make(ctx, &args.references, &name)?;
            profile.save(&args.output)?;
            if !ctx.quiet {
                eprintln!("wrote {}", args.output.display());
            }
            Ok(())
        }
        VoiceCommand::Show { profile } => {
            let p = VoiceProfile::load(&profile, &candle_core::Device::Cpu)?;
            println!("name\t{}", p.name);
            println!("method\t{}", p.method);
            println!("references\t{}", p.references.join(", "));
            if let Some(t) = p.pitch {
                println!("pitch_hz\t{:.1}", t.median_hz);
            }
            if let Some(r) = p.reference_pitch_hz {
                println!("reference_pitch_hz\t{r:.1}");
            }
            println!("styles\t{}", p.styles.dim(0)?);
            println!(
                "d_vector\t{}",
                if p.d_vector.is_some() { "yes" } else { "no" }
            );
            println!("created\t{}", p.created);
            println!("model\t{}", p.model);
            Ok(())
        }
    }
}

pub fn run_clone(ctx: &Context, args: CloneArgs) -> Result<()> {
    // Read the text first: a bad input fails before the slow part.
    let text = super::speak::read_text(&args.out)?;
    args.out.options(None)?;
    let name = args
        .references
        .first()
        .map(|p| stem(p))
        .unwrap_or_else(|| "clone".into());
    let (tts, profile) = make(ctx, &args.references, &name)?;
    if let Some(path) = &args.save_voice {
        profile.save(path)?;
    }
    let options = args.out.options(profile.pitch)?;
    say(ctx, &tts, &text, &profile.voice_pack(), options, &args.out)
}
