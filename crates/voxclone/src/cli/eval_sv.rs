//! `voxclone eval-sv DIR`: the equal error rate over every pair of utterances in a folder with one
//! sub-folder per speaker.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use clap::Args;
use serde::Serialize;
use voxclone::encoder::verification::{equal_error_rate, pairwise_trials};

use super::{progress, Context};

const AUDIO_EXTENSIONS: &[&str] = &["wav", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "aac"];

#[derive(Args, Debug)]
pub struct EvalSvArgs {
    /// A folder with one sub-folder per speaker, holding that speaker's recordings (searched recursively).
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
    let speakers = speaker_folders(&args.dir)?;
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
        super::output::write_atomic(path, &super::train::projection_png(&owned, &labels))?;
        if !args.json {
            for (i, (dir, _)) in speakers.iter().enumerate() {
                let name = dir
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
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

/// The speaker sub-folders of `dir` (sorted) with their audio files (sorted, recursive).
pub(super) fn speaker_folders(dir: &Path) -> Result<Vec<(PathBuf, Vec<PathBuf>)>> {
    if !dir.is_dir() {
        bail!("{}: not a folder", dir.display());
    }
    let mut speakers = Vec::new();
    for entry in sorted_entries(dir)? {
        if entry.is_dir() {
            let mut files = Vec::new();
            collect_audio(&entry, &mut files)?;
            if !files.is_empty() {
                speakers.push((entry, files));
            }
        }
    }
    if speakers.len() < 2 {
        bail!(
            "{}: found {} speaker folder(s) with audio; need at least two (one sub-folder per speaker)",
            dir.display(),
            speakers.len()
        );
    }
    Ok(speakers)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

fn collect_audio(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            collect_audio(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}
