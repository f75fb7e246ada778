//! Corpora given on the command line as one sub-folder (or LibriSpeech-style tree) per speaker.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use voxclone::corpus::Corpus;

/// The speakers of `dir` (any layout `Corpus` reads) with their recordings; at least two.
pub fn speaker_files(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>> {
    let corpus = Corpus::scan(dir, None)?;
    let speakers: Vec<(String, Vec<PathBuf>)> = corpus
        .speakers
        .into_iter()
        .map(|(name, utterances)| (name, utterances.into_iter().map(|u| u.audio).collect()))
        .collect();
    if speakers.len() < 2 {
        bail!(
            "{}: found {} speaker folder(s) with audio; need at least two (one sub-folder per speaker)",
            dir.display(),
            speakers.len()
        );
    }
    Ok(speakers)
}
