//! `voxclone similarity A B [C...]` and `voxclone verify --enroll A B --test C`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use voxclone::encoder::verification::similarity_matrix;
use voxclone::encoder::Embedding;

use super::{progress, Context};

/// Accept threshold for `verify`: the equal-error-rate threshold `voxclone eval-sv` measures on
/// LibriSpeech test-other (10 speakers × 10 utterances): 0.7183 (EER 0.44%), rounded.
pub const DEFAULT_VERIFY_THRESHOLD: f32 = 0.72;

#[derive(Args, Debug)]
pub struct SimilarityArgs {
    /// Two or more audio files.
    #[arg(required = true, num_args = 2..)]
    files: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Recordings of the claimed speaker.
    #[arg(long, required = true, num_args = 1..)]
    enroll: Vec<PathBuf>,
    /// The recording to verify.
    #[arg(long)]
    test: PathBuf,
    /// Accept when the cosine similarity reaches this.
    #[arg(long, default_value_t = DEFAULT_VERIFY_THRESHOLD)]
    threshold: f32,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn embed(ctx: &Context, files: &[PathBuf]) -> Result<Vec<Embedding>> {
    let pipeline = ctx.pipeline()?;
    let embedded = progress::embed_files(&pipeline, files, ctx.quiet)?;
    Ok(embedded
        .into_iter()
        .map(|e| e.utterance.embedding)
        .collect())
}

pub fn run_similarity(ctx: &Context, args: SimilarityArgs) -> Result<()> {
    let embeddings = embed(ctx, &args.files)?;
    let matrix = similarity_matrix(&embeddings);
    if args.json {
        #[derive(Serialize)]
        struct Report<'a> {
            files: &'a [PathBuf],
            similarity: &'a [Vec<f32>],
        }
        let report = Report {
            files: &args.files,
            similarity: &matrix,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if embeddings.len() == 2 {
        println!("{:.4}", matrix[0][1]);
    } else {
        for (i, f) in args.files.iter().enumerate() {
            println!("[{i}] {}", f.display());
        }
        print!("{:>5}", "");
        for i in 0..matrix.len() {
            print!(" {:>7}", format!("[{i}]"));
        }
        println!();
        for (i, row) in matrix.iter().enumerate() {
            print!("{:>5}", format!("[{i}]"));
            for v in row {
                print!(" {v:>7.4}");
            }
            println!();
        }
    }
    Ok(())
}

pub fn run_verify(ctx: &Context, args: VerifyArgs) -> Result<()> {
    let mut files = args.enroll.clone();
    files.push(args.test.clone());
    let mut embeddings = embed(ctx, &files)?;
    let test = embeddings.pop().expect("the test file was embedded");
    let speaker = Embedding::mean(embeddings.iter().map(Embedding::as_slice))
        .expect("at least one enrollment file (clap requires it)");
    let score = speaker.cosine(&test);
    let accept = score >= args.threshold;
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "score": score, "threshold": args.threshold, "accept": accept })
        );
    } else {
        let verdict = if accept { "accept" } else { "reject" };
        println!(
            "score {score:.4}  threshold {:.4}  {verdict}",
            args.threshold
        );
    }
    Ok(())
}
