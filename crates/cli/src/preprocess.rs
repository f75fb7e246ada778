//! `voxclone preprocess`: a corpus → the encoder's features on disk, once, so training starts fast.
//!
//! Output (documented in the README):
//! - `OUT/encoder/<speaker>/<utterance>.npy`: float32 `frames × 40` mel power of the utterance
//!   after the encoder's preprocessing (16 kHz, -30 dBFS, silences trimmed);
//! - `OUT/manifest.tsv`: `speaker  utterance  frames  audio  transcript` per line (tab-separated,
//!   transcript empty where the layout has none), the index training reads.
//!
//! Each feature file is written atomically, and existing ones are kept: an interrupted run resumes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, Result};
use clap::Args;
use rayon::prelude::*;
use voxclone::audio::MelSpectrogram;
use voxclone::corpus::{Corpus, Layout};
use voxclone::encoder::EncoderParams;

use super::{output, Context};

#[derive(Args, Debug)]
pub struct PreprocessArgs {
    /// The corpus folder.
    data: PathBuf,
    /// Where the features go.
    #[arg(short, long)]
    out: PathBuf,
    /// librispeech, libritts, vctk, ljspeech, voxceleb or folders (default: detected).
    #[arg(long, value_parser = parse_layout)]
    layout: Option<Layout>,
}

fn parse_layout(s: &str) -> std::result::Result<Layout, String> {
    Layout::parse(s).ok_or_else(|| {
        format!("unknown layout {s:?} (librispeech, libritts, vctk, ljspeech, voxceleb, folders)")
    })
}

/// The manifest of a preprocessed corpus, if `dir` is one.
pub fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("manifest.tsv")
}

fn feature_path(out: &Path, speaker: &str, id: &str) -> PathBuf {
    out.join("encoder").join(speaker).join(format!("{id}.npy"))
}

pub fn run(ctx: &Context, args: PreprocessArgs) -> Result<()> {
    let corpus = Corpus::scan(&args.data, args.layout)?;
    anyhow::ensure!(
        corpus.utterance_count() > 0,
        "{}: no audio files found",
        args.data.display()
    );
    if !ctx.quiet {
        eprintln!(
            "{:?} layout: {} speakers, {} utterances",
            corpus.layout,
            corpus.speakers.len(),
            corpus.utterance_count()
        );
    }
    let params = EncoderParams::default();
    let mel = MelSpectrogram::new(params.mel);
    let utterances: Vec<_> = corpus.speakers.iter().flat_map(|(_, u)| u).collect();
    let bar = super::progress::bar(
        ctx.quiet,
        utterances.len() as u64,
        "preprocessing [{bar:30}] {pos}/{len} utterances ({eta})",
    );
    let skipped = AtomicUsize::new(0);
    let rows: Vec<Option<String>> = utterances
        .par_iter()
        .map(|u| -> Result<Option<String>> {
            let path = feature_path(&args.out, &u.speaker, &u.id);
            let frames = match existing_frames(&path, params.mel.n_mels) {
                Some(frames) => frames,
                None => {
                    let wav = match voxclone::pipeline::prepare_speech(&u.audio, &params) {
                        Ok(wav) => wav,
                        Err(e) => {
                            bar.suspend(|| eprintln!("skipping: {e}"));
                            skipped.fetch_add(1, Ordering::Relaxed);
                            bar.inc(1);
                            return Ok(None);
                        }
                    };
                    let features = mel.compute(&wav);
                    let rows: Vec<&[f32]> = features.chunks_exact(params.mel.n_mels).collect();
                    std::fs::create_dir_all(path.parent().expect("feature files sit in a folder"))
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    output::write_output(&path, &output::npy_bytes(&rows)?)?;
                    rows.len()
                }
            };
            bar.inc(1);
            let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
            Ok(Some(format!(
                "{}\t{}\t{frames}\t{}\t{}",
                clean(&u.speaker),
                clean(&u.id),
                clean(&u.audio.to_string_lossy()),
                clean(u.transcript.as_deref().unwrap_or(""))
            )))
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    let mut manifest = String::from("speaker\tutterance\tframes\taudio\ttranscript\n");
    for row in rows.into_iter().flatten() {
        manifest.push_str(&row);
        manifest.push('\n');
    }
    output::write_output(&manifest_path(&args.out), manifest.as_bytes())?;
    let skipped = skipped.into_inner();
    println!(
        "{} utterances preprocessed into {} ({skipped} skipped)",
        utterances.len() - skipped,
        args.out.display()
    );
    Ok(())
}

/// Frames in an already written feature file (whose header is whole: files are written atomically).
fn existing_frames(path: &Path, n_mels: usize) -> Option<usize> {
    let t = candle_core::Tensor::read_npy(path).ok()?;
    let (frames, mels) = t.dims2().ok()?;
    (mels == n_mels).then_some(frames)
}

/// The speakers' mel spectrograms listed in a preprocessed corpus's manifest.
pub fn load_features(dir: &Path) -> Result<Vec<(String, Vec<Vec<f32>>)>> {
    let manifest = std::fs::read_to_string(manifest_path(dir))
        .with_context(|| format!("cannot read {}", manifest_path(dir).display()))?;
    let mut speakers: Vec<(String, Vec<Vec<f32>>)> = Vec::new();
    for line in manifest.lines().skip(1) {
        let mut fields = line.split('\t');
        let (Some(speaker), Some(id)) = (fields.next(), fields.next()) else {
            continue;
        };
        let path = feature_path(dir, speaker, id);
        let mel = candle_core::Tensor::read_npy(&path)
            .and_then(|t| t.flatten_all()?.to_vec1::<f32>())
            .with_context(|| format!("cannot read {}", path.display()))?;
        match speakers.last_mut() {
            Some((s, mels)) if s == speaker => mels.push(mel),
            _ => speakers.push((speaker.to_string(), vec![mel])),
        }
    }
    Ok(speakers)
}
