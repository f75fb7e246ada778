//! Median F0 of audio files as cloning measures it (16 kHz, the speech tracker):
//! `cargo run --release -p voxclone --example median_pitch -- a.wav b.flac ...`
use std::io::Write;

use voxclone::audio::pitch::{self, PitchParams};

fn main() {
    let mut out = std::io::stdout().lock();
    for path in std::env::args().skip(1) {
        let audio = match voxclone::audio::decode::load(&path) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let wav = voxclone::audio::resample::resample(audio, 16_000).expect("resample");
        let written = match pitch::track(&wav, &PitchParams::SPEECH).stats() {
            Some(s) => writeln!(
                out,
                "{path}\t{:.1} Hz\tspread {:.2} st\tvoiced {:.0}%",
                s.median_hz,
                s.spread_semitones,
                100.0 * s.voiced_fraction
            ),
            None => writeln!(out, "{path}\tunvoiced"),
        };
        if written.is_err() {
            return; // the reader went away (`| head`)
        }
    }
}
