//! End-to-end tests of the `voxclone` binary: every command on the fixture clips, and every kind of
//! bad input failing with one clear line (no panic, no half-written output).
//!
//! Weight-dependent: the tests use the default model cache, so the first run on a clean machine
//! downloads the pretrained encoder (once, before any other test touches it).

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

const DIM: usize = 256;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn speech(name: &str) -> PathBuf {
    repo_root().join("fixtures/speech").join(name)
}

fn formats(name: &str) -> PathBuf {
    repo_root().join("fixtures/formats").join(name)
}

/// Speaker 2414 (male), two clips.
const MALE: [&str; 2] = ["2414-128291-0000.flac", "2414-128291-0003.flac"];
/// Speaker 367 (female), two clips.
const FEMALE: [&str; 2] = ["367-130732-0000.flac", "367-130732-0006.flac"];

mod common;
use common::{bin, weights_ready};

/// Runs `voxclone --quiet ARGS` with the weights in the default cache.
fn voxclone<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    weights_ready();
    bin().args(args).output().expect("run voxclone")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a success and returns standard output.
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "expected success, got {:?}; stderr: {}",
        out.status,
        stderr(out)
    );
    stdout(out)
}

fn json(out: &Output) -> Value {
    let text = ok(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("invalid JSON ({e}): {text}"))
}

/// Asserts a clean failure: exit code 1, no panic, and exactly one stderr line that starts with
/// `voxclone: error:` and contains every one of `expected` (case-insensitive). Returns that line.
fn one_line_error(out: &Output, expected: &[&str]) -> String {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit code 1, got {:?}; stderr: {err}",
        out.status
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr, got: {err:?}");
    let line = lines[0];
    assert!(
        line.starts_with("voxclone: error: "),
        "unexpected error line: {line}"
    );
    assert_no_repeated_clause(line);
    let lower = line.to_lowercase();
    for e in expected {
        assert!(
            lower.contains(&e.to_lowercase()),
            "error line should contain {e:?}: {line}"
        );
    }
    line.to_owned()
}

/// An error chain printed with a cause that its outer message already quotes says everything
/// twice (`a: b: b`); the line must not repeat any clause.
fn assert_no_repeated_clause(line: &str) {
    let clauses: Vec<&str> = line.split(": ").map(str::trim).collect();
    for (i, c) in clauses.iter().enumerate() {
        assert!(
            c.len() < 8 || !clauses[i + 1..].contains(c),
            "the error repeats {c:?}: {line}"
        );
    }
}

/// Embeds `file` into `<dir>/out.json` expecting failure; checks the one-line error (it must
/// name the file, plus `expected`) and that nothing was left in the output folder.
fn embed_fails(file: &Path, expected: &[&str]) -> String {
    let out_dir = TempDir::new().unwrap();
    let target = out_dir.path().join("out.json");
    let out = voxclone([
        OsStr::new("embed"),
        file.as_os_str(),
        "-o".as_ref(),
        target.as_os_str(),
    ]);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let mut all = vec![name.as_str()];
    all.extend_from_slice(expected);
    let line = one_line_error(&out, &all);
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));
    let left: Vec<_> = fs::read_dir(out_dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
    line
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (norm(a) * norm(b))
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// Checks a d-vector: 256 finite, non-negative (ReLU) values with unit norm.
fn assert_d_vector(v: &[f32]) {
    assert_eq!(v.len(), DIM);
    assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0), "{v:?}");
    assert!((norm(v) - 1.0).abs() < 1e-4, "norm {}", norm(v));
}

/// The utterance embeddings of an `embed` JSON report, checked.
fn embeddings(report: &Value, n: usize) -> Vec<Vec<f32>> {
    assert_eq!(report["dim"], DIM);
    let utterances = report["utterances"].as_array().unwrap();
    assert_eq!(utterances.len(), n, "{report}");
    utterances
        .iter()
        .map(|u| {
            assert!(u["partials"].as_u64().unwrap() >= 1, "{u}");
            assert!(u["speech_seconds"].as_f64().unwrap() > 0.0, "{u}");
            let e = floats(&u["embedding"]);
            assert_d_vector(&e);
            e
        })
        .collect()
}

fn write_wav_i16(path: &Path, samples: &[i16], sample_rate: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

/// A deterministic pseudo-random generator (xorshift64).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Byte offset of the first audio frame of a FLAC file (after its metadata blocks).
fn flac_first_frame(bytes: &[u8]) -> usize {
    assert_eq!(&bytes[..4], b"fLaC");
    let mut at = 4;
    loop {
        let last = bytes[at] & 0x80 != 0;
        let len = u32::from_be_bytes([0, bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        at += 4 + len;
        if last {
            return at;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bad inputs: one line, exit code 1, no output file
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_file() {
    let dir = TempDir::new().unwrap();
    embed_fails(&dir.path().join("nope.wav"), &["no such file"]);
}

#[test]
fn a_directory() {
    let dir = TempDir::new().unwrap();
    let sub = dir.path().join("folder.wav");
    fs::create_dir(&sub).unwrap();
    embed_fails(&sub, &["directory"]);
}

#[test]
fn text_file_named_wav() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("notes.wav");
    fs::write(&path, "These are meeting notes, not audio.\n".repeat(50)).unwrap();
    embed_fails(&path, &["not a recognised audio format"]);
}

#[test]
fn truncated_flac() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("half.flac");
    let bytes = fs::read(speech(MALE[0])).unwrap();
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    embed_fails(&path, &["truncated"]);
}

/// The decoder library panics on a WAV whose header says 0 Hz: one line and exit 1, no panic.
#[test]
fn a_wav_with_sample_rate_zero() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("zero.wav");
    let mut bytes = fs::read(formats("ref-16k.wav")).unwrap();
    bytes[24..28].copy_from_slice(&0u32.to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    let line = embed_fails(&path, &["corrupt"]);
    assert!(!line.contains("panicked"), "{line}");
}

#[test]
fn corrupt_flac() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("garbled.flac");
    let mut bytes = fs::read(formats("ref-16k.flac")).unwrap();
    let start = flac_first_frame(&bytes);
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for b in &mut bytes[start..] {
        *b = rng.next() as u8;
    }
    fs::write(&path, &bytes).unwrap();
    let line = embed_fails(&path, &[]);
    let lower = line.to_lowercase();
    assert!(
        lower.contains("corrupt") || lower.contains("truncated"),
        "should say the file is damaged: {line}"
    );
}

#[test]
fn zero_samples() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("empty.wav");
    write_wav_i16(&path, &[], 16_000);
    embed_fails(&path, &["no audio samples"]);
}

#[test]
fn pure_silence() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("silence.wav");
    write_wav_i16(&path, &vec![0; 32_000], 16_000);
    embed_fails(&path, &["no speech found"]);
}

#[test]
fn nan_and_inf_samples() {
    for (name, bad) in [("nan.wav", f32::NAN), ("inf.wav", f32::INFINITY)] {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join(name);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..16_000 {
            let s = if i == 8_000 {
                bad
            } else {
                (i as f32 * 0.05).sin() * 0.3
            };
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        embed_fails(&path, &["nan or infinite"]);
    }
}

#[test]
fn unsupported_codec() {
    let file = formats("unsupported-opus.ogg");
    let line = embed_fails(&file, &["unsupported codec"]);
    // The codec by name (not a numeric id), beyond the file's own name.
    let reason = line.replace(&*file.to_string_lossy(), "");
    assert!(
        reason.to_lowercase().contains("opus"),
        "should name the codec: {line}"
    );
}

#[test]
fn output_with_an_unknown_extension() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("out.txt");
    let out = voxclone([
        OsStr::new("embed"),
        speech(MALE[0]).as_os_str(),
        "-o".as_ref(),
        target.as_os_str(),
    ]);
    one_line_error(&out, &["out.txt", ".json or .npy"]);
    assert!(!target.exists());
}

#[test]
fn offline_with_an_empty_cache_says_how_to_fetch() {
    let cache = TempDir::new().unwrap();
    let out = bin()
        .arg("--offline")
        .arg("--cache-dir")
        .arg(cache.path())
        .arg("embed")
        .arg(speech(MALE[0]))
        .output()
        .unwrap();
    let line = one_line_error(&out, &["offline", "voxclone models fetch"]);
    assert!(
        line.contains(&*cache.path().to_string_lossy()),
        "should name the missing file in the cache: {line}"
    );
    // Nothing was downloaded.
    assert_eq!(fs::read_dir(cache.path()).unwrap().count(), 0);
}

#[test]
fn output_into_a_missing_folder() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("no-such-folder/out.json");
    let out = voxclone([
        OsStr::new("embed"),
        speech(MALE[0]).as_os_str(),
        "-o".as_ref(),
        target.as_os_str(),
    ]);
    one_line_error(&out, &["cannot write", "out.json"]);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_cache_dir_that_is_a_file() {
    let dir = TempDir::new().unwrap();
    let cache = dir.path().join("cache");
    fs::write(&cache, "not a folder").unwrap();
    let out = bin()
        .arg("--offline")
        .arg("--cache-dir")
        .arg(&cache)
        .arg("embed")
        .arg(speech(MALE[0]))
        .output()
        .unwrap();
    one_line_error(&out, &[&cache.to_string_lossy(), "not a directory"]);
}

// ---------------------------------------------------------------------------------------------
// Good paths
// ---------------------------------------------------------------------------------------------

/// Shorter than one 1.6 s partial but with speech: padded, as the reference does.
#[test]
fn a_clip_shorter_than_one_partial_still_embeds() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("short.wav");
    // 0.5 s of speech. Every fixture opens with about 0.55 s of silence, so start at 0.6 s.
    let mut reader = hound::WavReader::open(formats("ref-16k.wav")).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .skip(9_600)
        .take(8_000)
        .collect::<Result<_, _>>()
        .unwrap();
    write_wav_i16(&path, &samples, 16_000);
    let report = json(&voxclone([OsStr::new("embed"), path.as_os_str()]));
    embeddings(&report, 1);
    assert_eq!(report["utterances"][0]["partials"], 1);
}

#[test]
fn embed_prints_json_with_one_entry_per_file() {
    let files: Vec<PathBuf> = MALE.iter().chain(&FEMALE).map(|f| speech(f)).collect();
    let mut args = vec![OsStr::new("embed")];
    args.extend(files.iter().map(|f| f.as_os_str()));
    let report = json(&voxclone(args));
    embeddings(&report, files.len());
    for (u, f) in report["utterances"].as_array().unwrap().iter().zip(&files) {
        assert_eq!(u["file"].as_str().unwrap(), f.to_str().unwrap());
    }
    assert!(
        report.get("speaker").is_none(),
        "no speaker without --speaker"
    );
    assert!(report["model"].as_str().unwrap().contains("GE2E"));
}

#[test]
fn embed_writes_json_to_a_file() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("out.json");
    let out = voxclone([
        OsStr::new("embed"),
        speech(MALE[0]).as_os_str(),
        "-o".as_ref(),
        target.as_os_str(),
    ]);
    assert!(ok(&out).is_empty(), "stdout should be empty with -o");
    let report: Value = serde_json::from_slice(&fs::read(&target).unwrap()).unwrap();
    embeddings(&report, 1);
    // Only the output, no temporary file beside it.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn embed_writes_npy() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("out.npy");
    let (a, b) = (speech(MALE[0]), speech(FEMALE[0]));
    let out = voxclone([
        OsStr::new("embed"),
        a.as_os_str(),
        b.as_os_str(),
        "-o".as_ref(),
        target.as_os_str(),
    ]);
    ok(&out);
    let t = candle_core::Tensor::read_npy(&target).unwrap();
    assert_eq!(t.dims(), &[2, DIM]);
    let rows = t.to_vec2::<f32>().unwrap();
    rows.iter().for_each(|r| assert_d_vector(r));

    // The same numbers as the JSON report.
    let report = json(&voxclone([
        OsStr::new("embed"),
        a.as_os_str(),
        b.as_os_str(),
    ]));
    for (row, e) in rows.iter().zip(embeddings(&report, 2)) {
        assert!(cosine(row, &e) > 0.9999);
    }

    // --speaker: one row.
    let out = voxclone([
        OsStr::new("embed"),
        a.as_os_str(),
        speech(MALE[1]).as_os_str(),
        "--speaker".as_ref(),
        "-o".as_ref(),
        target.as_os_str(),
    ]);
    ok(&out);
    let t = candle_core::Tensor::read_npy(&target).unwrap();
    assert_eq!(t.dims(), &[1, DIM]);
}

#[test]
fn embed_speaker_is_the_normalised_mean() {
    let (a, b) = (speech(MALE[0]), speech(MALE[1]));
    let report = json(&voxclone([
        OsStr::new("embed"),
        a.as_os_str(),
        b.as_os_str(),
        "--speaker".as_ref(),
    ]));
    let utterances = embeddings(&report, 2);
    let speaker = floats(&report["speaker"]);
    assert_d_vector(&speaker);
    let mean: Vec<f32> = (0..DIM)
        .map(|i| utterances[0][i] + utterances[1][i])
        .collect();
    assert!(cosine(&speaker, &mean) > 0.9999);
}

/// Parses the single number `similarity A B` prints.
fn similarity(a: &Path, b: &Path) -> f32 {
    let text = ok(&voxclone([
        OsStr::new("similarity"),
        a.as_os_str(),
        b.as_os_str(),
    ]));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("not a number ({e}): {text:?}"))
}

#[test]
fn same_speaker_is_more_similar_than_different_speakers() {
    let same = similarity(&speech(MALE[0]), &speech(MALE[1]));
    let different = similarity(&speech(MALE[0]), &speech(FEMALE[0]));
    assert!(
        same > different,
        "same speaker {same} vs different {different}"
    );
    assert!((-1.0..=1.0).contains(&same) && (-1.0..=1.0).contains(&different));
}

#[test]
fn similarity_of_four_files_is_a_matrix() {
    let files: Vec<PathBuf> = MALE.iter().chain(&FEMALE).map(|f| speech(f)).collect();
    let mut args = vec![OsStr::new("similarity")];
    args.extend(files.iter().map(|f| f.as_os_str()));

    let text = ok(&voxclone(&args));
    let lines: Vec<&str> = text.lines().collect();
    // A legend line per file, a header, then one row per file.
    assert_eq!(lines.len(), 2 * files.len() + 1, "{text}");
    for (i, f) in files.iter().enumerate() {
        assert!(lines[i].starts_with(&format!("[{i}]")), "{text}");
        assert!(lines[i].contains(f.file_name().unwrap().to_str().unwrap()));
    }
    for (i, row) in lines[files.len() + 1..].iter().enumerate() {
        let cells: Vec<f32> = row
            .split_whitespace()
            .skip(1)
            .map(|c| c.parse().unwrap())
            .collect();
        assert_eq!(cells.len(), files.len(), "{row}");
        assert!((cells[i] - 1.0).abs() < 1e-3, "{row}");
    }

    args.push("--json".as_ref());
    let report = json(&voxclone(&args));
    let m: Vec<Vec<f32>> = report["similarity"]
        .as_array()
        .unwrap()
        .iter()
        .map(floats)
        .collect();
    assert_eq!(m.len(), 4);
    for (i, row) in m.iter().enumerate() {
        assert_eq!(row.len(), 4);
        assert!((row[i] - 1.0).abs() <= 1e-5, "diagonal {}", row[i]);
        for (j, v) in row.iter().enumerate() {
            assert!((v - m[j][i]).abs() <= 1e-5, "not symmetric at {i},{j}");
        }
    }
    assert!(m[0][1] > m[0][2] && m[2][3] > m[1][3], "{m:?}");
    assert_eq!(report["files"].as_array().unwrap().len(), 4);
}

fn verify(enroll: &str, test: &str) -> Value {
    json(&voxclone([
        OsStr::new("verify"),
        "--enroll".as_ref(),
        speech(enroll).as_os_str(),
        "--test".as_ref(),
        speech(test).as_os_str(),
        "--json".as_ref(),
    ]))
}

#[test]
fn verify_accepts_the_same_speaker_and_rejects_another() {
    let same = verify(FEMALE[0], FEMALE[1]);
    let other = verify(FEMALE[0], MALE[0]);
    for v in [&same, &other] {
        assert!(v["score"].is_number() && v["threshold"].is_number(), "{v}");
    }
    assert_eq!(same["accept"], true, "{same}");
    assert_eq!(other["accept"], false, "{other}");

    // Plain output: one line with the verdict.
    let text = ok(&voxclone([
        OsStr::new("verify"),
        "--enroll".as_ref(),
        speech(MALE[0]).as_os_str(),
        "--test".as_ref(),
        speech(MALE[1]).as_os_str(),
    ]));
    assert!(
        text.trim().starts_with("score ") && text.trim().ends_with("accept"),
        "{text}"
    );
}

#[test]
fn every_supported_format_embeds_like_the_reference() {
    let names = [
        "ref-16k.flac",
        "ref-16k.wav",
        "stereo-44k.flac",
        "ref.mp3",
        "ref.ogg",
        "ref.m4a",
    ];
    let files: Vec<PathBuf> = names.iter().map(|n| formats(n)).collect();
    let mut args = vec![OsStr::new("embed")];
    args.extend(files.iter().map(|f| f.as_os_str()));
    let e = embeddings(&json(&voxclone(args)), names.len());
    for (name, v) in names.iter().zip(&e) {
        let c = cosine(&e[0], v);
        assert!(c >= 0.95, "{name}: cosine {c} with ref-16k.flac");
    }
}

/// `<tmp>/spk1/*.flac`, `<tmp>/spk2/*.flac` from the two fixture speakers.
fn speaker_folders(speakers: &[&[&str]]) -> TempDir {
    let dir = TempDir::new().unwrap();
    for (s, clips) in speakers.iter().enumerate() {
        let sub = dir.path().join(format!("spk{}", s + 1));
        fs::create_dir(&sub).unwrap();
        for c in *clips {
            fs::copy(speech(c), sub.join(c)).unwrap();
        }
    }
    dir
}

#[test]
fn eval_sv_reports_the_equal_error_rate() {
    let dir = speaker_folders(&[&MALE, &FEMALE]);
    let text = ok(&voxclone([OsStr::new("eval-sv"), dir.path().as_os_str()]));
    assert!(
        text.lines()
            .any(|l| l.starts_with("EER ") && l.contains('%')),
        "{text}"
    );

    let report = json(&voxclone([
        OsStr::new("eval-sv"),
        dir.path().as_os_str(),
        "--json".as_ref(),
    ]));
    assert_eq!(report["speakers"], 2, "{report}");
    assert_eq!(report["utterances"], 4, "{report}");
    assert_eq!(report["genuine_trials"], 2, "{report}");
    assert_eq!(report["impostor_trials"], 4, "{report}");
    let eer = report["eer"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&eer), "{report}");
}

#[test]
fn eval_sv_needs_two_speakers() {
    let dir = speaker_folders(&[&FEMALE]);
    let out = voxclone([OsStr::new("eval-sv"), dir.path().as_os_str()]);
    one_line_error(&out, &[&dir.path().to_string_lossy(), "speaker"]);
}

// ---------------------------------------------------------------------------------------------
// Long input: bounded memory
// ---------------------------------------------------------------------------------------------

/// Most memory `embed` may use on a 2-hour file (the samples alone are 460 MB as f32).
const MAX_RSS_BYTES: u64 = 1_500_000_000;

/// Writes `seconds` of 16 kHz 16-bit mono white noise of amplitude ±`amplitude` LSBs.
fn write_noise_wav(path: &Path, seconds: u32, amplitude: i16) {
    const RATE: u32 = 16_000;
    let n = RATE as u64 * seconds as u64;
    let data_bytes = (n * 2) as u32;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(path).unwrap());
    let mut header = Vec::with_capacity(44);
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes());
    header.extend_from_slice(&1u16.to_le_bytes()); // PCM
    header.extend_from_slice(&1u16.to_le_bytes()); // mono
    header.extend_from_slice(&RATE.to_le_bytes());
    header.extend_from_slice(&(RATE * 2).to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&16u16.to_le_bytes());
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_bytes.to_le_bytes());
    w.write_all(&header).unwrap();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let span = 2 * amplitude as u64 + 1;
    let mut chunk = Vec::with_capacity(1 << 16);
    let mut left = n;
    while left > 0 {
        let k = left.min(1 << 15);
        chunk.clear();
        for _ in 0..k {
            let s = (rng.next() % span) as i16 - amplitude;
            chunk.extend_from_slice(&s.to_le_bytes());
        }
        w.write_all(&chunk).unwrap();
        left -= k;
    }
    w.flush().unwrap();
}

/// Runs `cmd` to completion (killing it after `deadline`) and returns its output with its peak
/// resident memory in bytes: from GNU time when installed, else by polling `/proc/<pid>/status`.
fn run_measuring_peak_rss(args: &[&OsStr], deadline: Duration) -> (Output, u64, Duration) {
    let dir = TempDir::new().unwrap();
    let time_report = dir.path().join("time.txt");
    let gnu_time = Path::new("/usr/bin/time");
    let use_time = gnu_time.exists();
    let mut cmd = if use_time {
        let mut c = Command::new(gnu_time);
        c.arg("-v")
            .arg("-o")
            .arg(&time_report)
            .arg(env!("CARGO_BIN_EXE_voxclone"))
            .arg("--quiet");
        c
    } else {
        bin()
    };
    let started = Instant::now();
    let mut child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the pipes on threads so a chatty child never blocks.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut v).unwrap();
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut v).unwrap();
        v
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut polled_peak_kb = 0u64;
    let status = loop {
        if !use_time {
            if let Ok(s) = fs::read_to_string(&status_file) {
                if let Some(kb) = s
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    polled_peak_kb = polled_peak_kb.max(kb);
                }
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`voxclone embed` on a long file hung (still running after {deadline:?})");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let output = Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    let peak_kb = if use_time {
        let report = fs::read_to_string(&time_report).unwrap();
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no peak memory in GNU time's report: {report}"))
    } else {
        polled_peak_kb
    };
    (output, peak_kb * 1024, elapsed)
}

#[test]
fn a_two_hour_file_uses_bounded_memory() {
    weights_ready();
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("two-hours.wav");
    let t = Instant::now();
    // ±3 LSB ≈ 1e-4 of full scale.
    write_noise_wav(&path, 2 * 60 * 60, 3);
    let written = t.elapsed();
    let (out, peak, elapsed) =
        run_measuring_peak_rss(&[OsStr::new("embed"), path.as_os_str()], common::HANG_GUARD);
    eprintln!(
        "2-hour wav: written in {written:.1?}, embed took {elapsed:.1?}, peak RSS {:.0} MB, exit {:?}",
        peak as f64 / 1e6,
        out.status
    );
    if out.status.success() {
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        embeddings(&report, 1);
    } else {
        one_line_error(&out, &["two-hours.wav"]);
    }
    assert!(peak > 0, "peak memory was not measured");
    assert!(
        peak < MAX_RSS_BYTES,
        "peak RSS {:.0} MB exceeds {:.0} MB",
        peak as f64 / 1e6,
        MAX_RSS_BYTES as f64 / 1e6
    );
}

#[cfg(not(feature = "cuda"))]
#[test]
fn a_gpu_device_without_a_cuda_build_says_how_to_get_one() {
    weights_ready();
    let out = bin()
        .args(["--device", "cuda", "similarity"])
        .arg(speech("2414-128291-0000.flac"))
        .arg(speech("2414-128291-0003.flac"))
        .output()
        .unwrap();
    one_line_error(&out, &["cuda", "--features cuda"]);
}

// ---------------------------------------------------------------------------------------------
// Training

#[test]
fn train_encoder_checkpoints_resumes_and_the_checkpoint_embeds() {
    let data = speaker_folders(&[&MALE, &FEMALE]);
    let out = tempfile::tempdir().unwrap();
    let ckpt = out.path().join("ckpt");
    let train = |steps: &str| {
        bin()
            .args(["train", "encoder"])
            .arg(data.path())
            .arg("-o")
            .arg(&ckpt)
            .args(["--steps", steps, "--speakers-per-batch", "2"])
            .args(["--utterances-per-speaker", "2", "--partial-frames", "20"])
            .args(["--eval-every", "1"])
            .output()
            .unwrap()
    };
    let first = train("2");
    ok(&first);
    assert!(
        stderr(&first).contains("step 2: loss"),
        "{}",
        stderr(&first)
    );
    let state = std::fs::read_to_string(ckpt.join("state.json")).unwrap();
    assert!(state.contains("\"step\": 2"), "{state}");

    let second = train("3");
    ok(&second);
    assert!(
        stderr(&second).contains("resuming at step 2"),
        "{}",
        stderr(&second)
    );
    let state = std::fs::read_to_string(ckpt.join("state.json")).unwrap();
    assert!(state.contains("\"step\": 3"), "{state}");
    let leftovers: Vec<_> = std::fs::read_dir(&ckpt)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let weights = ckpt.join("encoder.safetensors");
    let report = json(
        &bin()
            .arg("--encoder-weights")
            .arg(&weights)
            .arg("embed")
            .arg(speech("2414-128291-0000.flac"))
            .output()
            .unwrap(),
    );
    assert_eq!(embeddings(&report, 1)[0].len(), 256);
}

#[test]
fn train_encoder_rejects_impossible_settings() {
    let data = speaker_folders(&[&MALE, &FEMALE]);
    let out = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        bin()
            .args(["train", "encoder"])
            .arg(data.path())
            .arg("-o")
            .arg(out.path().join("ckpt"))
            .args(extra)
            .output()
            .unwrap()
    };
    one_line_error(&run(&["--held-out", "1"]), &["at least 2"]);
    one_line_error(&run(&["--utterances-per-speaker", "1"]), &["at least 2"]);
    assert!(!out.path().join("ckpt").exists());
}

#[test]
fn eval_sv_draws_a_projection_png() {
    let dir = speaker_folders(&[&MALE, &FEMALE]);
    let out = tempfile::tempdir().unwrap();
    let png = out.path().join("map.png");
    let run = voxclone([
        OsStr::new("eval-sv"),
        dir.path().as_os_str(),
        "--plot".as_ref(),
        png.as_os_str(),
    ]);
    ok(&run);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let legend = stderr(&run);
    assert!(
        legend.contains("blue: ") && legend.contains("orange: "),
        "{legend}"
    );
}

#[test]
fn an_interrupted_training_saves_and_resumes() {
    let data = speaker_folders(&[&MALE, &FEMALE]);
    let out = tempfile::tempdir().unwrap();
    let ckpt = out.path().join("ckpt");
    let mut child = bin()
        .args(["train", "encoder"])
        .arg(data.path())
        .arg("-o")
        .arg(&ckpt)
        .args(["--steps", "100000", "--speakers-per-batch", "2"])
        .args(["--utterances-per-speaker", "2", "--partial-frames", "20"])
        .args(["--eval-every", "1", "--save-every", "1000000"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once a step is reported (however slow the machine), interrupt as Ctrl-C would.
    let mut err = String::new();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap());
    while !err.contains("step 1: loss") {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut lines, &mut line).unwrap();
        assert!(read > 0, "training ended before its first step: {err}");
        err.push_str(&line);
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::io::Read::read_to_string(&mut lines, &mut err).unwrap();
    let result = child.wait_with_output().unwrap();
    assert_eq!(result.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let line = err.lines().last().unwrap_or_default().to_owned();
    assert!(
        line.starts_with("voxclone: error: interrupted at step")
            && line.contains("checkpoint saved"),
        "{err}"
    );
    let state = std::fs::read_to_string(ckpt.join("state.json")).unwrap();
    let step = line
        .split("interrupted at step ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .unwrap();
    assert!(
        state.contains(&format!("\"step\": {step}")),
        "{state} vs {line}"
    );
    assert!(step.parse::<usize>().unwrap() > 0, "{line}");
}

#[test]
fn preprocess_writes_features_resumes_and_feeds_training() {
    let data = speaker_folders(&[&MALE, &FEMALE]);
    let out = tempfile::tempdir().unwrap();
    let features = out.path().join("features");
    let run = || {
        bin()
            .arg("preprocess")
            .arg(data.path())
            .arg("-o")
            .arg(&features)
            .output()
            .unwrap()
    };
    let first = ok(&run());
    assert!(first.contains("4 utterances preprocessed"), "{first}");
    let manifest = std::fs::read_to_string(features.join("manifest.tsv")).unwrap();
    let rows: Vec<&str> = manifest.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{manifest}");
    let fields: Vec<&str> = rows[0].split('\t').collect();
    assert_eq!(fields.len(), 5, "{}", rows[0]);
    let npy = features
        .join("encoder")
        .join(fields[0])
        .join(format!("{}.npy", fields[1]));
    let mel = candle_core::Tensor::read_npy(&npy).unwrap();
    assert_eq!(mel.dims(), &[fields[2].parse::<usize>().unwrap(), 40]);

    // A second run keeps what is there.
    let before = std::fs::metadata(&npy).unwrap().modified().unwrap();
    ok(&run());
    assert_eq!(std::fs::metadata(&npy).unwrap().modified().unwrap(), before);

    let trained = bin()
        .args(["train", "encoder"])
        .arg(&features)
        .arg("-o")
        .arg(out.path().join("ckpt"))
        .args(["--steps", "1", "--speakers-per-batch", "2"])
        .args(["--utterances-per-speaker", "2", "--partial-frames", "20"])
        .output()
        .unwrap();
    ok(&trained);
    assert!(out.path().join("ckpt/encoder.safetensors").is_file());
}

#[test]
fn preprocess_of_a_folder_without_audio_fails_clearly() {
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir(empty.path().join("speaker")).unwrap();
    std::fs::write(empty.path().join("speaker/notes.txt"), "no audio").unwrap();
    let out = bin()
        .arg("preprocess")
        .arg(empty.path())
        .arg("-o")
        .arg(empty.path().join("out"))
        .output()
        .unwrap();
    one_line_error(&out, &["no audio files"]);
}
