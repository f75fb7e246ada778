//! `voxclone eval-sv DIR`: the equal error rate over every pair of utterances in a folder with one
//! sub-folder per speaker.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;
use voxclone::encoder::verification::{equal_error_rate, pairwise_trials};

use super::{progress, Context};

#[derive(Args, Debug)]
pub struct EvalSvArgs {
    /// A folder with one sub-folder per speaker, holding that speaker's recordings (searched
    /// recursively), or a LibriSpeech, LibriTTS, VCTK or VoxCeleb tree.
    dir: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Also draw the utterances' embeddings as a 2-D t-SNE map (PNG), one colour per speaker.
    #[arg(long, value_name = "PNG")]
    plot: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    speakers: usize,
    utterances: usize,
    genuine_trials: usize,
    impostor_trials: usize,
    eer: f64,
    threshold: f64,
}

pub fn run(ctx: &Context, args: EvalSvArgs) -> Result<()> {
    let speakers = super::speakers::speaker_files(&args.dir)?;
    let (files, labels): (Vec<PathBuf>, Vec<usize>) = speakers
        .iter()
        .enumerate()
        .flat_map(|(s, (_, files))| files.iter().map(move |f| (f.clone(), s)))
        .unzip();
    let pipeline = ctx.pipeline()?;
    let embedded = progress::embed_files(&pipeline, &files, ctx.quiet)?;

    let embeddings: Vec<_> = embedded.iter().map(|e| &e.utterance.embedding).collect();
    let trials = pairwise_trials(&embeddings, &labels);
    if let Some(path) = &args.plot {
        let owned: Vec<_> = embeddings.iter().map(|e| (*e).clone()).collect();
        super::output::write_output(path, &voxclone::plot::projection_png(&owned, &labels))?;
        if !args.json {
            for (i, (name, _)) in speakers.iter().enumerate() {
                eprintln!("{}: {name}", voxclone::plot::colour_name(i));
            }
        }
    }
    let genuine = trials.iter().filter(|t| t.1).count();
    let Some(eer) = equal_error_rate(&trials) else {
        bail!(
            "{}: need at least one speaker with two recordings and two speakers to compare",
            args.dir.display()
        );
    };
    let report = Report {
        speakers: speakers.len(),
        utterances: files.len(),
        genuine_trials: genuine,
        impostor_trials: trials.len() - genuine,
        eer: eer.eer,
        threshold: eer.threshold,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} speakers, {} utterances, {} genuine and {} impostor trials",
            report.speakers, report.utterances, report.genuine_trials, report.impostor_trials
        );
        println!(
            "EER {:.2}% at threshold {:.4}",
            100.0 * report.eer,
            report.threshold
        );
    }
    Ok(())
}
