//! `voxclone embed FILE... [-o out.json|out.npy]`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;
use voxclone::encoder::Embedding;

use super::{output, progress, Context};

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Audio files (wav, flac, mp3, ogg, m4a).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write to this file: `.json` (embeddings with metadata) or `.npy` (a files × 256 float32 matrix).
    /// Without it, JSON goes to standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output one speaker embedding for all the files (the normalised mean of theirs).
    #[arg(long)]
    speaker: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    model: &'static str,
    dim: usize,
    utterances: Vec<UtteranceReport<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    speaker: Option<&'a [f32]>,
}

#[derive(Serialize)]
struct UtteranceReport<'a> {
    file: &'a Path,
    speech_seconds: f64,
    partials: usize,
    embedding: &'a [f32],
}

pub const MODEL_NAME: &str = "GE2E speaker encoder (Resemblyzer 0.1.4 weights)";

pub fn run(ctx: &Context, args: EmbedArgs) -> Result<()> {
    let format = match &args.output {
        None => Format::Json,
        Some(p) => match p.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            Some("npy") => Format::Npy,
            _ => bail!("{}: output must end in .json or .npy", p.display()),
        },
    };
    let pipeline = ctx.pipeline()?;
    let embedded = progress::embed_files(&pipeline, &args.files, ctx.quiet)?;
    let speaker = args
        .speaker
        .then(|| Embedding::mean(embedded.iter().map(|e| e.utterance.embedding.as_slice())))
        .flatten();

    let bytes = match format {
        Format::Npy => {
            let rows: Vec<&[f32]> = match &speaker {
                Some(s) => vec![s.as_slice()],
                None => embedded
                    .iter()
                    .map(|e| e.utterance.embedding.as_slice())
                    .collect(),
            };
            output::npy_bytes(&rows)?
        }
        Format::Json => {
            let report = Report {
                model: MODEL_NAME,
                dim: pipeline.encoder().params().embedding_size,
                utterances: args
                    .files
                    .iter()
                    .zip(&embedded)
                    .map(|(file, e)| UtteranceReport {
                        file,
                        speech_seconds: e.speech_seconds,
                        partials: e.utterance.partials.len(),
                        embedding: e.utterance.embedding.as_slice(),
                    })
                    .collect(),
                speaker: speaker.as_ref().map(Embedding::as_slice),
            };
            let mut json = serde_json::to_vec_pretty(&report)?;
            json.push(b'\n');
            json
        }
    };
    match &args.output {
        Some(path) => {
            output::write_output(path, &bytes)?;
            if !ctx.quiet {
                eprintln!("wrote {}", path.display());
            }
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}

enum Format {
    Json,
    Npy,
}
