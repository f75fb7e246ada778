//! `voxclone voice create` and `voxclone clone`: a voice from reference recordings.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use voxclone::adapt::AdaptOptions;
use voxclone::clone::{CloneOptions, CloneReport};
use voxclone::profile::VoiceProfile;
use voxclone::{EncodingChoice, Engine};

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
    #[command(flatten)]
    route: RouteArgs,
}

/// Zero-shot (instant) or adapted (fitted to the reference, about a minute).
#[derive(Args, Debug, Clone)]
pub struct RouteArgs {
    /// Fit the voice to the reference by gradient descent (speaker adaptation) instead of
    /// predicting it at once (speaker encoding). Slower, closer.
    #[arg(long)]
    adapt: bool,
    /// Most adaptation steps (each synthesizes one short sentence); it stops earlier when the
    /// likeness stops improving. Implies --adapt.
    #[arg(long, value_name = "N")]
    adapt_steps: Option<usize>,
    /// Zero-shot prediction from this speaker-encoding bank (`voxclone train
    /// speaker-encoding`) instead of the built-in one.
    #[arg(long, value_name = "FILE", conflicts_with = "nearest_stock")]
    bank: Option<PathBuf>,
    /// Baseline zero-shot prediction: the stock voice the encoder hears as closest.
    #[arg(long)]
    nearest_stock: bool,
}

impl RouteArgs {
    pub fn options(&self) -> Result<CloneOptions> {
        let adapt = match (self.adapt, self.adapt_steps) {
            (_, Some(0)) => anyhow::bail!("--adapt-steps must be at least 1"),
            (_, Some(steps)) => Some(AdaptOptions {
                steps,
                ..AdaptOptions::default()
            }),
            (true, None) => Some(AdaptOptions::default()),
            (false, None) => None,
        };
        Ok(CloneOptions { adapt })
    }

    /// The zero-shot predictor these flags pick.
    pub fn encoding(&self, ctx: &Context) -> EncodingChoice {
        if self.nearest_stock {
            EncodingChoice::NearestStock {
                cache: ctx.stock_cache(),
            }
        } else if let Some(path) = &self.bank {
            EncodingChoice::Bank(path.clone())
        } else {
            EncodingChoice::Shipped
        }
    }
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
    route: RouteArgs,
    #[command(flatten)]
    out: TextOut,
}

/// `--name`, else the file's stem, as [`voxclone::profile::clean_name`] leaves it ("voice" if
/// nothing printable is left).
fn voice_name(name: Option<&str>, path: &Path) -> String {
    let name = voxclone::profile::clean_name(&name.map_or_else(|| stem(path), str::to_owned));
    if name.is_empty() {
        "voice".into()
    } else {
        name
    }
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
    let (measured, target) = report.calibration;
    eprintln!(
        "{:.1} s of reference speech, median pitch {:.0} Hz; {} (nearest: {}); pitch target {:.0} Hz (calibration synthesis gave {:.0} Hz)",
        report.speech_seconds,
        report.reference_pitch.median_hz,
        profile.method,
        report
            .neighbours
            .iter()
            .take(3)
            .map(|(n, s)| format!("{n} {s:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        target,
        measured,
    );
    if let (Some(first), Some(last)) = (report.adaptation.first(), report.adaptation.last()) {
        eprintln!(
            "adapted in {} steps: likeness to the reference {first:.3} → {last:.3}",
            report.adaptation.len()
        );
    }
}

fn make(
    ctx: &Context,
    tts: voxclone::Tts,
    references: &[PathBuf],
    name: &str,
    route: &RouteArgs,
) -> Result<(Engine, VoiceProfile)> {
    let options = route.options()?;
    let engine = ctx
        .engine(tts, &route.encoding(ctx))
        .context("cloning the voice")?;
    let bar = match &options.adapt {
        Some(a) if !ctx.quiet => ProgressBar::new(a.steps as u64),
        _ => ProgressBar::hidden(),
    };
    bar.set_style(
        ProgressStyle::with_template("adapting [{bar:30}] step {pos}/{len} {msg} ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    // Ctrl-C during adaptation keeps the best voice so far instead of losing the work.
    if options.adapt.is_some() {
        super::interrupt::catch();
    }
    let mut on_step = |step: usize, similarity: f32| {
        bar.set_position(step as u64 + 1);
        bar.set_message(format!("likeness {similarity:.3}"));
        !super::interrupt::requested()
    };
    let made = engine.clone_voice(references, name, &options, &mut on_step);
    bar.finish_and_clear();
    let (profile, r) = made.context("cloning the voice")?;
    report(ctx, &r, &profile);
    Ok((engine, profile))
}

pub fn run_voice(ctx: &Context, cmd: VoiceCommand) -> Result<()> {
    match cmd {
        VoiceCommand::Create(args) => {
            let name = voice_name(args.name.as_deref(), &args.output);
            let (_, profile) = make(ctx, ctx.tts()?, &args.references, &name, &args.route)?;
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
    let name = voice_name(
        None,
        args.references.first().map_or(Path::new("clone"), |p| p),
    );
    // Text with nothing to say (emoji, punctuation) is refused before the slow part.
    let tts = ctx.tts()?;
    let reader = tts.voice(voxclone::voices::DEFAULT_VOICE)?;
    if tts.chunks(&text, &reader)?.next().is_none() {
        return Err(voxclone::tts::TtsError::NothingToSay.into());
    }
    let (engine, profile) = make(ctx, tts, &args.references, &name, &args.route)?;
    if let Some(path) = &args.save_voice {
        profile.save(path)?;
    }
    let options = args.out.options(profile.pitch)?;
    say(
        ctx,
        engine.tts(),
        &text,
        &profile.voice_pack(),
        options,
        &args.out,
    )
}
