//! Helpers shared by the CLI tests (`cli.rs`, `speak.rs`, `clone.rs`): run the binary with the real
//! weights in the default cache, and check one-line errors.
#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Once;

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxclone"));
    cmd.arg("--quiet").stdin(Stdio::null());
    cmd
}

/// Fills the default cache once, before parallel tests need it.
pub fn weights_ready() {
    static FETCH: Once = Once::new();
    FETCH.call_once(|| {
        let out = bin()
            .args(["models", "fetch"])
            .output()
            .expect("run voxclone");
        assert!(
            out.status.success(),
            "models fetch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Runs `voxclone --quiet ARGS` with the weights ready.
pub fn run(args: &[&str]) -> Output {
    weights_ready();
    bin().args(args).output().expect("run voxclone")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code 1, exactly one `voxclone: error: …` line naming each of `expected`.
pub fn one_line_error(out: &Output, expected: &[&str]) -> String {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got {err:?}");
    assert!(lines[0].starts_with("voxclone: error: "), "{}", lines[0]);
    for e in expected {
        assert!(lines[0].contains(e), "{:?} not in {:?}", e, lines[0]);
    }
    lines[0].to_owned()
}

/// A bundled LibriSpeech clip.
pub fn speech(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/speech")
        .join(name)
}

/// Median F0 of an audio file, by the tracker cloning uses on references.
pub fn median_pitch(path: &Path) -> f32 {
    let audio = voxclone::audio::load(path).unwrap();
    let samples = voxclone::audio::resample::resample(audio, 16_000).unwrap();
    voxclone::audio::pitch::track(&samples, &voxclone::audio::pitch::PitchParams::SPEECH)
        .stats()
        .unwrap()
        .median_hz
}
