//! `voxclone eval-clone DIR`: how well cloning works, per speaker and overall.
//!
//! Each speaker's first `--references` recordings are the reference; the rest are held out.
//! The clone says sentences that are in none of the recordings, and the GE2E encoder judges:
//! similarity of each clone sentence to the mean d-vector of the speaker's held-out speech,
//! whether that speaker is the closest of all (speaker identification), and how far the clone's
//! median pitch is from the reference's. For scale, the same similarity for the speaker's real
//! reference speech (ceiling) and for the closest other speaker's (floor). The judge belongs to
//! the encoder family cloning uses, so the figures are upper bounds.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use voxclone::clone::{embed_synthesized, median_pitch, SpeakerEncoding};
use voxclone::encoder::Embedding;
use voxclone::tts::SpeakOptions;
use voxclone::Engine;

use super::Context;

/// Sentences none of the test recordings contain.
const SENTENCES: [&str; 3] = [
    "The museum opens at nine, but the best rooms are quiet until noon.",
    "Could you send me the directions before we leave tomorrow morning?",
    "A cold wind swept across the harbor as the boats came home.",
];

#[derive(Args, Debug)]
pub struct EvalCloneArgs {
    /// A folder with one sub-folder per speaker (or a LibriSpeech-style tree).
    dir: PathBuf,
    /// Recordings per speaker used as the reference; the rest are held out.
    #[arg(long, default_value_t = 3)]
    references: usize,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Evaluate only the first N speakers (all are still candidates for identification).
    #[arg(long, value_name = "N")]
    clone_speakers: Option<usize>,
    /// Also write every clone sentence here as WAV, with `list.tsv` (file, text) for the ASR
    /// judge (`../shared/tools/asr-judge DIR/list.tsv`).
    #[arg(long, value_name = "DIR")]
    keep_audio: Option<PathBuf>,
    #[command(flatten)]
    route: super::clone::RouteArgs,
}

#[derive(Serialize)]
struct SpeakerResult {
    speaker: String,
    /// Mean similarity of the clone's sentences to the held-out speech.
    similarity: f32,
    /// Share of the clone's sentences whose closest speaker is the right one.
    identified: f32,
    /// Clone median pitch minus reference median pitch, in semitones.
    pitch_error_semitones: f32,
    /// The reference speech's own similarity to the held-out speech.
    ceiling: f32,
    /// The closest other speaker's similarity to this speaker's held-out speech.
    floor: f32,
    method: String,
    seconds_per_clone: f32,
    /// Adaptation's similarity to the reference, first and last step (empty for zero-shot).
    adaptation: Vec<f32>,
}

#[derive(Serialize)]
struct Summary {
    speakers: Vec<SpeakerResult>,
    mean_similarity: f32,
    identification: f32,
    mean_abs_pitch_error_semitones: f32,
    mean_ceiling: f32,
    mean_floor: f32,
    mean_seconds_per_clone: f32,
}

fn mean(v: impl IntoIterator<Item = f32>) -> f32 {
    let (s, n) = v.into_iter().fold((0.0, 0), |(s, n), x| (s + x, n + 1));
    s / n.max(1) as f32
}

pub fn run(ctx: &Context, args: EvalCloneArgs) -> Result<()> {
    if args.references == 0 {
        bail!("--references must be at least 1");
    }
    let speakers = super::speakers::speaker_files(&args.dir)?;
    let speakers: Vec<(String, Vec<PathBuf>, Vec<PathBuf>)> = speakers
        .into_iter()
        .filter_map(|(name, mut files)| {
            files.sort();
            if files.len() <= args.references {
                return None;
            }
            let held = files.split_off(args.references);
            Some((name, files, held))
        })
        .collect();
    if speakers.len() < 2 {
        bail!(
            "{}: need at least two speakers with more than {} recordings each",
            args.dir.display(),
            args.references
        );
    }
    let options = args.route.options()?;
    // A fresh list: the judge should hear this run only.
    let mut audio_list = match &args.keep_audio {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            Some(std::fs::File::create(dir.join("list.tsv"))?)
        }
        None => None,
    };
    let vc = ctx.pipeline()?;
    let tts = ctx.tts()?;
    // Made once: every clone uses the same predictor. A single `voxclone clone` pays for
    // it, so it counts in each clone's time.
    let start = Instant::now();
    let encoding = SpeakerEncoding::choose(&args.route.encoding(ctx), &vc, &tts)?;
    let setup_seconds = start.elapsed().as_secs_f32();
    let engine = Engine::from_parts(vc, tts, encoding);
    let vc = engine.encoder();
    let tts = engine.tts();
    let embed_mean = |files: &[PathBuf]| -> Result<Embedding> {
        let mut wavs = Vec::new();
        for f in files {
            wavs.push(vc.prepare_reference(f)?);
        }
        Ok(vc.encoder().embed_speaker(&wavs)?)
    };
    let n_clone = args
        .clone_speakers
        .unwrap_or(speakers.len())
        .min(speakers.len());
    let bar = if ctx.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(n_clone as u64)
    };
    bar.set_style(ProgressStyle::with_template(
        "{msg} [{bar:30}] {pos}/{len} speakers ({eta})",
    )?);
    bar.set_message("Embedding");
    let mut references = Vec::new();
    let mut held_out = Vec::new();
    for (_, refs, held) in &speakers {
        references.push(embed_mean(refs)?);
        held_out.push(embed_mean(held)?);
    }
    bar.set_message("Cloning");
    let mut results = Vec::new();
    for (i, (name, refs, _)) in speakers.iter().enumerate().take(n_clone) {
        let start = Instant::now();
        let (profile, report) = engine.clone_voice(refs, name, &options, &mut |_, _| true)?;
        let seconds_per_clone = setup_seconds + start.elapsed().as_secs_f32();
        let voice = profile.voice_pack();
        let options = SpeakOptions {
            pitch: profile.pitch,
            ..SpeakOptions::default()
        };
        let (mut sims, mut hits, mut pitch_errors) = (Vec::new(), 0, Vec::new());
        for (k, sentence) in SENTENCES.iter().enumerate() {
            let audio = tts.speak(sentence, &voice, options)?;
            if let (Some(dir), Some(list)) = (&args.keep_audio, &mut audio_list) {
                let path = dir.join(format!("{name}-{k}.wav"));
                voxclone::audio::wav::write_wav_i16(&path, &audio, voxclone::tts::SAMPLE_RATE)?;
                writeln!(list, "{}\t{sentence}", path.display())?;
            }
            if let Some(hz) = median_pitch(&audio) {
                pitch_errors.push(voxclone::audio::pitch::semitones(
                    report.reference_pitch.median_hz,
                    hz,
                ));
            }
            let e = embed_synthesized(vc, audio)?;
            let scores: Vec<f32> = held_out.iter().map(|h| e.cosine(h)).collect();
            sims.push(scores[i]);
            let best = scores
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(j, _)| j);
            hits += usize::from(best == Some(i));
        }
        let floor = (0..speakers.len())
            .filter(|&j| j != i)
            .map(|j| references[j].cosine(&held_out[i]))
            .fold(f32::MIN, f32::max);
        results.push(SpeakerResult {
            speaker: name.clone(),
            similarity: mean(sims),
            identified: hits as f32 / SENTENCES.len() as f32,
            pitch_error_semitones: mean(pitch_errors),
            ceiling: references[i].cosine(&held_out[i]),
            floor,
            method: profile.method.clone(),
            seconds_per_clone,
            adaptation: match (report.adaptation.first(), report.adaptation.last()) {
                (Some(&a), Some(&b)) => vec![a, b],
                _ => Vec::new(),
            },
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let summary = Summary {
        mean_similarity: mean(results.iter().map(|r| r.similarity)),
        identification: mean(results.iter().map(|r| r.identified)),
        mean_abs_pitch_error_semitones: mean(results.iter().map(|r| r.pitch_error_semitones.abs())),
        mean_ceiling: mean(results.iter().map(|r| r.ceiling)),
        mean_floor: mean(results.iter().map(|r| r.floor)),
        mean_seconds_per_clone: mean(results.iter().map(|r| r.seconds_per_clone)),
        speakers: results,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    println!("speaker\tsimilarity\tidentified\tpitch error (st)\tceiling\tfloor\tmethod\ts/clone");
    for r in &summary.speakers {
        println!(
            "{}\t{:.3}\t{:.0}%\t{:+.2}\t{:.3}\t{:.3}\t{}\t{:.1}",
            r.speaker,
            r.similarity,
            100.0 * r.identified,
            r.pitch_error_semitones,
            r.ceiling,
            r.floor,
            r.method,
            r.seconds_per_clone
        );
    }
    println!(
        "overall\t{:.3}\t{:.0}%\t{:.2} (mean abs)\t{:.3}\t{:.3}\t\t{:.1}",
        summary.mean_similarity,
        100.0 * summary.identification,
        summary.mean_abs_pitch_error_semitones,
        summary.mean_ceiling,
        summary.mean_floor,
        summary.mean_seconds_per_clone
    );
    Ok(())
}
