//! End-to-end tests of `voxclone clone` and `voxclone voice create|show` on two LibriSpeech
//! readers (a man and a woman), with the real weights, and of bad references and profiles.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

mod common;
use common::{median_pitch, one_line_error, run, speech, stderr, weights_ready};

fn similarity(a: &Path, b: &Path) -> f32 {
    let out = run(&["similarity", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

const TEXT: &str = "I never expected the old lighthouse to be so quiet at night.";

/// `voice create --reference REFERENCE -o PROFILE EXTRA…`, which must succeed.
fn create_voice(reference: &Path, profile: &Path, extra: &[&str]) {
    let mut args = vec![
        "voice",
        "create",
        "--reference",
        reference.to_str().unwrap(),
        "-o",
        profile.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `speak --voice PROFILE --text TEXT -o WAV`, which must succeed.
fn speak_as(profile: &Path, wav: &Path) {
    let out = run(&[
        "speak",
        "--voice",
        profile.to_str().unwrap(),
        "--text",
        TEXT,
        "-o",
        wav.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// What `voice show PROFILE` prints.
fn show(profile: &Path) -> String {
    String::from_utf8(run(&["voice", "show", profile.to_str().unwrap()]).stdout).unwrap()
}

/// Speaker 2414 is a man, 367 a woman; clip 0000 is the reference, the other is held out.
const SPEAKERS: [(&str, &str); 2] = [
    ("2414-128291-0000.flac", "2414-128291-0003.flac"),
    ("367-130732-0000.flac", "367-130732-0006.flac"),
];

#[test]
fn clones_speak_at_the_reference_pitch_and_sound_like_their_speaker() {
    let dir = TempDir::new().unwrap();
    let mut clones = Vec::new();
    for (reference, _) in SPEAKERS {
        let out_path = dir.path().join(format!("{reference}.wav"));
        let out = run(&[
            "clone",
            "--reference",
            speech(reference).to_str().unwrap(),
            "--text",
            TEXT,
            "-o",
            out_path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let (want, got) = (median_pitch(&speech(reference)), median_pitch(&out_path));
        let off = voxclone::audio::pitch::semitones(want, got);
        assert!(
            off.abs() < 1.5,
            "{reference}: reference {want} Hz, clone {got} Hz"
        );
        clones.push(out_path);
    }
    // Each clone is closer to its own speaker's held-out clip than to the other speaker's.
    let held_out: Vec<PathBuf> = SPEAKERS.iter().map(|(_, h)| speech(h)).collect();
    for (i, clone) in clones.iter().enumerate() {
        let own = similarity(clone, &held_out[i]);
        let other = similarity(clone, &held_out[1 - i]);
        assert!(
            own > other,
            "clone {i}: own speaker {own:.3}, other {other:.3}"
        );
    }
}

#[test]
fn a_profile_is_made_once_and_used_by_speak() {
    let dir = TempDir::new().unwrap();
    let profile = dir.path().join("reader.voice");
    let reference = speech(SPEAKERS[0].0);
    create_voice(&reference, &profile, &[]);
    let shown = show(&profile);
    assert!(
        shown.contains("name\treader")
            && shown.contains("speaker-encoding:")
            && shown.contains("2414-128291-0000.flac"),
        "{shown}"
    );
    let wav = dir.path().join("said.wav");
    speak_as(&profile, &wav);
    let off = voxclone::audio::pitch::semitones(median_pitch(&reference), median_pitch(&wav));
    assert!(off.abs() < 1.5, "{off} semitones off");
}

#[test]
fn bad_references_and_profiles_fail_with_one_line() {
    let dir = TempDir::new().unwrap();
    let out_path = dir.path().join("x.wav");
    // Silence: no speech to clone.
    let silence = dir.path().join("silence.wav");
    voxclone::audio::wav::write_wav_i16(&silence, &vec![0.0; 32_000], 16_000).unwrap();
    let out = run(&[
        "clone",
        "--reference",
        silence.to_str().unwrap(),
        "--text",
        TEXT,
        "-o",
        out_path.to_str().unwrap(),
    ]);
    one_line_error(&out, &["silence.wav"]);
    assert!(!out_path.exists());
    // Text with nothing to say is refused before any cloning: the silent reference is not
    // even looked at.
    let out = run(&[
        "clone",
        "--reference",
        silence.to_str().unwrap(),
        "--text",
        "🙂 🎉 …",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    one_line_error(&out, &["nothing to say"]);
    assert!(!out_path.exists());
    // Noise, and music (a chord that swells and fades): nothing a voice can be made from.
    let noise = dir.path().join("noise.wav");
    let mut seed = 7u32;
    let hiss: Vec<f32> = (0..64_000)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            0.2 * ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
        })
        .collect();
    voxclone::audio::wav::write_wav_i16(&noise, &hiss, 16_000).unwrap();
    let music = dir.path().join("music.wav");
    let chord: Vec<f32> = (0..64_000)
        .map(|i| {
            let t = i as f32 / 16_000.0;
            [261.6f32, 329.6, 392.0, 523.3]
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    (2.0 * std::f32::consts::PI * f * t).sin()
                        * (0.5 + 0.5 * (std::f32::consts::PI * t + k as f32).sin())
                })
                .sum::<f32>()
                * 0.075
        })
        .collect();
    voxclone::audio::wav::write_wav_i16(&music, &chord, 16_000).unwrap();
    for (file, expected) in [
        (&noise, "noise.wav"),
        (&music, "does not sound like speech"),
    ] {
        let out = run(&[
            "clone",
            "--reference",
            file.to_str().unwrap(),
            "--text",
            TEXT,
            "-o",
            out_path.to_str().unwrap(),
        ]);
        one_line_error(&out, &[expected]);
        assert!(!out_path.exists());
    }
    // A corrupt profile and a profile from a newer voxclone.
    let garbage = dir.path().join("garbage.voice");
    std::fs::write(&garbage, b"not a profile at all").unwrap();
    let out = run(&[
        "speak",
        "--voice",
        garbage.to_str().unwrap(),
        "--text",
        TEXT,
        "-o",
        out_path.to_str().unwrap(),
    ]);
    one_line_error(&out, &["garbage.voice", "not a voxclone voice profile"]);
    assert!(!out_path.exists());
}

#[test]
fn a_short_reference_warns_but_still_clones() {
    let dir = TempDir::new().unwrap();
    // The first 0.9 s of a clip.
    let audio = voxclone::audio::load(speech(SPEAKERS[1].0)).unwrap();
    let short = dir.path().join("short.wav");
    let n = (audio.sample_rate as f32 * 0.9) as usize;
    voxclone::audio::wav::write_wav_i16(&short, &audio.samples[..n], audio.sample_rate).unwrap();
    let out_path = dir.path().join("x.wav");
    weights_ready();
    let out = Command::new(env!("CARGO_BIN_EXE_voxclone"))
        .args([
            "clone",
            "--reference",
            short.to_str().unwrap(),
            "--text",
            "Hello there.",
            "-o",
            out_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: only"), "{}", stderr(&out));
    assert!(out_path.exists());
}

#[test]
fn references_of_different_speakers_are_flagged() {
    let dir = TempDir::new().unwrap();
    let out_path = dir.path().join("x.wav");
    let clone_with = |refs: &[PathBuf]| {
        weights_ready();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxclone"));
        cmd.args([
            "clone",
            "--text",
            "Hello there.",
            "-o",
            out_path.to_str().unwrap(),
            "--reference",
        ]);
        cmd.args(refs);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    // Two files, two speakers.
    let err = clone_with(&[speech(SPEAKERS[0].0), speech(SPEAKERS[1].0)]);
    assert!(err.contains("sounds like another speaker"), "{err}");
    // Two files of one speaker: no warning.
    let err = clone_with(&[speech(SPEAKERS[0].0), speech(SPEAKERS[0].1)]);
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn eval_clone_reports_similarity_identification_and_pitch() {
    // The fixtures as a two-speaker corpus: one reference and one held-out clip each.
    let dir = TempDir::new().unwrap();
    for (reference, held) in SPEAKERS {
        let speaker = dir.path().join(reference.split('-').next().unwrap());
        std::fs::create_dir_all(&speaker).unwrap();
        for clip in [reference, held] {
            std::fs::copy(speech(clip), speaker.join(clip)).unwrap();
        }
    }
    let out = run(&[
        "eval-clone",
        dir.path().to_str().unwrap(),
        "--references",
        "1",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let speakers = v["speakers"].as_array().unwrap();
    assert_eq!(speakers.len(), 2);
    for s in speakers {
        let sim = s["similarity"].as_f64().unwrap();
        let (ceiling, floor) = (s["ceiling"].as_f64().unwrap(), s["floor"].as_f64().unwrap());
        assert!((0.0..1.0).contains(&sim) && ceiling > floor, "{s}");
        assert!(
            s["pitch_error_semitones"].as_f64().unwrap().abs() < 1.5,
            "{s}"
        );
    }
    let id = v["identification"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&id));
}

/// Speaker adaptation from the nearest stock voice: a few steps already bring the clone's new
/// sentence closer to the speaker's held-out speech than the starting voice, and the profile
/// says how it was made.
#[test]
fn adaptation_brings_the_clone_closer_to_its_speaker() {
    let dir = TempDir::new().unwrap();
    let (reference, held) = SPEAKERS[0];
    let mut said = Vec::new();
    for route in [
        &["--nearest-stock"][..],
        &["--nearest-stock", "--adapt-steps", "8"][..],
    ] {
        let profile = dir.path().join(format!("{}.voice", route.len()));
        create_voice(&speech(reference), &profile, route);
        let wav = dir.path().join(format!("{}.wav", route.len()));
        speak_as(&profile, &wav);
        said.push((wav, show(&profile)));
    }
    assert!(
        said[1].1.contains("adapted:nearest-stock:"),
        "{}",
        said[1].1
    );
    let start = similarity(&said[0].0, &speech(held));
    let adapted = similarity(&said[1].0, &speech(held));
    assert!(
        adapted > start + 0.02,
        "held-out similarity: start {start:.3}, adapted {adapted:.3}"
    );
}

/// `train speaker-encoding` on a one-speaker folder makes a bank with sampled and adapted
/// entries, resumes without redoing them, and `clone --bank` uses it.
#[test]
fn a_speaker_encoding_bank_is_trained_resumed_and_used() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(speech(SPEAKERS[1].0), data.join(SPEAKERS[1].0)).unwrap();
    let bank = dir.path().join("bank.safetensors");
    let train = || {
        run(&[
            "train",
            "speaker-encoding",
            data.to_str().unwrap(),
            "-o",
            bank.to_str().unwrap(),
            "--sampled",
            "1",
            "--adapt-steps",
            "1",
        ])
    };
    let out = train();
    assert!(out.status.success(), "{}", stderr(&out));
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(report.contains("2 entries (1 adapted)"), "{report}");
    assert!(report.contains("\n367\t"), "{report}");
    let again = train();
    assert!(again.status.success(), "{}", stderr(&again));
    // Nothing redone: the same entries, and no per-speaker report the second time.
    let report = String::from_utf8(again.stdout).unwrap();
    assert!(report.contains("2 entries (1 adapted)"), "{report}");
    assert!(!report.contains("367\t"), "{report}");

    let profile = dir.path().join("x.voice");
    create_voice(
        &speech(SPEAKERS[1].1),
        &profile,
        &["--bank", bank.to_str().unwrap()],
    );
    let shown = show(&profile);
    assert!(shown.contains("speaker-encoding:2"), "{shown}");
}
