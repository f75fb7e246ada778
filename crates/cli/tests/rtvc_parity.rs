//! RTVC's Tacotron and WaveRNN against an independent PyTorch implementation of the same
//! architectures (`scripts/rtvc_reference.py`, run here with Debian's `python3-torch`): random
//! weights saved in RTVC's checkpoint layout are loaded through the code path users take
//! (`voxclone::rtvc::load_*`), and mel frames, attention, stop tokens, upsampled conditioning,
//! logits and waveform samples are matched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use candle_core::{Device, Tensor};
use voxclone::rtvc;
use voxclone_synthesizer::tacotron::{Dropout, GenerateOptions};
use voxclone_vocoder::wavernn::kernel::Sampling;
use voxclone_vocoder::wavernn::Folding;

/// Debian's Python, where `python3-torch` is installed (`scripts/ensure-deps.sh`).
fn torch_python() -> String {
    std::env::var("VOXCLONE_TORCH_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

/// The reference's checkpoints and outputs, made once per test run.
fn reference() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = root.join("target/tmp/rtvc-reference");
        let status = Command::new(torch_python())
            .arg(root.join("scripts/rtvc_reference.py"))
            .arg("golden")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run the PyTorch reference (python3-torch; see scripts/ensure-deps.sh)");
        assert!(status.success(), "scripts/rtvc_reference.py failed");
        dir
    })
}

fn golden() -> &'static HashMap<String, Tensor> {
    static GOLDEN: OnceLock<HashMap<String, Tensor>> = OnceLock::new();
    GOLDEN.get_or_init(|| voxclone_weights::read_weights(&reference().join("golden.pt")).unwrap())
}

fn g(name: &str) -> &'static Tensor {
    golden()
        .get(name)
        .unwrap_or_else(|| panic!("golden.pt has no {name}"))
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all()
        .unwrap()
        .to_dtype(candle_core::DType::F32)
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Largest absolute difference, after checking the element counts agree.
fn max_diff(ours: &Tensor, theirs: &Tensor, what: &str) -> f32 {
    let (a, b) = (values(ours), values(theirs));
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: {:?} vs {:?}",
        ours.dims(),
        theirs.dims()
    );
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn assert_close(ours: &Tensor, theirs: &Tensor, tol: f32, what: &str) {
    let d = max_diff(ours, theirs, what);
    eprintln!("{what}: max |diff| {d:.3e}");
    assert!(d <= tol, "{what}: max |diff| {d} > {tol}");
}

fn chars() -> Vec<u32> {
    values(g("taco.chars")).iter().map(|&c| c as u32).collect()
}

#[test]
fn tacotron_matches_the_pytorch_reference() {
    let tacotron = rtvc::load_tacotron(&reference().join("synthesizer.pt"), &Device::Cpu).unwrap();
    assert_eq!(
        tacotron.r(),
        2,
        "decoder.r is read from the checkpoint's IntStorage tensor"
    );
    let embedding = values(g("taco.embedding"));
    let chars = chars();

    let encoder_seq = tacotron
        .encode(&chars, &embedding, &mut Dropout::Off)
        .unwrap();
    assert_close(&encoder_seq, g("taco.encoder_seq"), 1e-5, "encoder outputs");

    let steps = values(g("taco.steps"))[0] as usize;
    let options = GenerateOptions {
        max_frames: steps,
        dropout_seed: None,
    };
    let out = tacotron
        .generate(&chars, &embedding, &options, &mut |_| true)
        .unwrap();
    assert!(!out.stopped, "case A never reaches the stop token");
    assert_spectrogram_matches(&out, "taco", "case A");
    assert_close(
        &out.alignment,
        &g("taco.attention").squeeze(0).unwrap(),
        1e-5,
        "attention",
    );
}

/// The decoder mel, post-net mel and stop tokens against the reference's `{prefix}.mel`,
/// `{prefix}.postnet` and `{prefix}.stop`.
fn assert_spectrogram_matches(
    out: &voxclone_synthesizer::tacotron::Spectrogram,
    prefix: &str,
    case: &str,
) {
    let reference = |name: &str| g(&format!("{prefix}.{name}")).squeeze(0).unwrap();
    assert_close(
        &out.decoder_mel,
        &reference("mel"),
        1e-4,
        &format!("{case} decoder mel frames"),
    );
    assert_close(
        &out.mel,
        &reference("postnet"),
        1e-4,
        &format!("{case} post-net mel"),
    );
    let stop = Tensor::new(out.stop.as_slice(), &Device::Cpu).unwrap();
    assert_close(
        &stop,
        &reference("stop"),
        1e-5,
        &format!("{case} stop tokens"),
    );
}

#[test]
fn tacotron_stops_where_the_reference_stops() {
    // Case B: the same weights with a stop bias that makes every stop probability exceed 0.5;
    // decoding must end at the first step after frame 10, as RTVC's loop does.
    let path = reference().join("synthesizer.pt");
    let mut tensors = voxclone_weights::read_weights(&path).unwrap();
    tensors.insert(
        "decoder.stop_proj.bias".into(),
        g("taco.b.stop_proj_bias").clone(),
    );
    let safetensors = reference().join("synthesizer-case-b.safetensors");
    candle_core::safetensors::save(&tensors, &safetensors).unwrap();
    // The safetensors route, with the same names.
    let tacotron = rtvc::load_tacotron(&safetensors, &Device::Cpu).unwrap();
    let options = GenerateOptions {
        max_frames: values(g("taco.steps"))[0] as usize,
        dropout_seed: None,
    };
    let out = tacotron
        .generate(
            &chars(),
            &values(g("taco.embedding")),
            &options,
            &mut |_| true,
        )
        .unwrap();
    assert!(out.stopped);
    assert_spectrogram_matches(&out, "taco.b", "case B");
}

#[test]
fn dropout_at_inference_is_seeded() {
    let tacotron = rtvc::load_tacotron(&reference().join("synthesizer.pt"), &Device::Cpu).unwrap();
    let run = |seed| {
        let options = GenerateOptions {
            max_frames: 8,
            dropout_seed: seed,
        };
        let out = tacotron
            .generate(
                &chars(),
                &values(g("taco.embedding")),
                &options,
                &mut |_| true,
            )
            .unwrap();
        values(&out.mel)
    };
    let (a, b, c) = (run(Some(1)), run(Some(1)), run(Some(2)));
    assert_eq!(a, b, "the same seed gives the same mel");
    assert_ne!(a, c, "another seed gives another mel");
    assert_ne!(a, run(None), "dropout changes the output");
}

fn mel() -> Tensor {
    g("voc.mel").squeeze(0).unwrap()
}

#[test]
fn wavernn_conditioning_matches_the_reference() {
    let vocoder = rtvc::load_wavernn(&reference().join("vocoder.pt"), &Device::Cpu).unwrap();
    let (upsampled, aux) = vocoder.condition(&mel()).unwrap();
    assert_close(
        &upsampled,
        &g("voc.upsampled").squeeze(0).unwrap(),
        1e-5,
        "upsampled mel",
    );
    assert_close(
        &aux,
        &g("voc.aux").squeeze(0).unwrap(),
        1e-5,
        "MelResNet features",
    );
}

#[test]
fn wavernn_unbatched_generation_matches_the_reference() {
    let vocoder = rtvc::load_wavernn(&reference().join("vocoder.pt"), &Device::Cpu).unwrap();
    let uniforms = values(g("voc.unbatched.uniforms"));
    let reference_samples = values(g("voc.unbatched.samples"));
    let classes = 512;

    // Teacher-forced: fed the reference's samples, every step's logits must match.
    let mut logits = vec![0f32; uniforms.len() * classes];
    let uniform = |_: usize, t: usize| uniforms[t];
    let mut sampling = Sampling {
        uniform: &uniform,
        teacher: Some(&reference_samples),
        logits: Some(&mut logits),
    };
    vocoder
        .generate(&mel(), None, &mut sampling, &mut |_, _| true)
        .unwrap();
    let logits = Tensor::from_vec(logits, (uniforms.len(), classes), &Device::Cpu).unwrap();
    assert_close(
        &logits,
        g("voc.unbatched.logits"),
        1e-4,
        "logits, every step",
    );

    // Free-running with the same draws: the same samples, hence the same waveform.
    let uniform = |_: usize, t: usize| uniforms[t];
    let mut sampling = Sampling {
        uniform: &uniform,
        teacher: None,
        logits: None,
    };
    let wav = vocoder
        .generate(&mel(), None, &mut sampling, &mut |_, _| true)
        .unwrap();
    let wav = Tensor::new(wav.as_slice(), &Device::Cpu).unwrap();
    assert_close(&wav, g("voc.unbatched.wav"), 1e-5, "unbatched waveform");
}

#[test]
fn wavernn_folded_generation_matches_the_reference() {
    let vocoder = rtvc::load_wavernn(&reference().join("vocoder.pt"), &Device::Cpu).unwrap();
    let folding = Folding {
        target: values(g("voc.batched.target"))[0] as usize,
        overlap: values(g("voc.batched.overlap"))[0] as usize,
    };
    let uniforms = g("voc.batched.uniforms");
    let len = uniforms.dim(1).unwrap();
    let uniforms = values(uniforms);
    let uniform = |fold: usize, t: usize| uniforms[fold * len + t];
    let mut sampling = Sampling {
        uniform: &uniform,
        teacher: None,
        logits: None,
    };
    let wav = vocoder
        .generate(&mel(), Some(folding), &mut sampling, &mut |_, _| true)
        .unwrap();
    let wav = Tensor::new(wav.as_slice(), &Device::Cpu).unwrap();
    assert_close(&wav, g("voc.batched.wav"), 1e-5, "folded waveform");
}

#[test]
fn checkpoints_with_missing_or_misshaped_tensors_name_the_key() {
    let path = reference().join("synthesizer.pt");
    let tensors = voxclone_weights::read_weights(&path).unwrap();
    let dir = reference();

    let mut missing = tensors.clone();
    missing.remove("decoder.attn_net.L.weight");
    let file = dir.join("synthesizer-missing.safetensors");
    candle_core::safetensors::save(&missing, &file).unwrap();
    let err = rtvc::load_tacotron(&file, &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("decoder.attn_net.L.weight"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");

    let mut misshaped = tensors;
    misshaped.insert(
        "postnet.pre_highway.weight".into(),
        Tensor::zeros((512, 81), candle_core::DType::F32, &Device::Cpu).unwrap(),
    );
    let file = dir.join("synthesizer-misshaped.safetensors");
    candle_core::safetensors::save(&misshaped, &file).unwrap();
    let err = rtvc::load_tacotron(&file, &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("postnet.pre_highway.weight"), "{err}");

    // A vocoder checkpoint is not a synthesizer.
    let err = rtvc::load_tacotron(&dir.join("vocoder.pt"), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not an RTVC synthesizer checkpoint") && err.contains("encoder."),
        "{err}"
    );
}

mod common;

/// `voxclone synthesize` end to end with the reference's checkpoints: the command a user with
/// RTVC's `synthesizer.pt` and `vocoder.pt` runs.
#[test]
fn synthesize_command_runs_rtvc_checkpoints() {
    let dir = reference();
    let synthesizer = format!("tacotron:{}", dir.join("synthesizer.pt").display());
    let vocoder = format!("wavernn:{}", dir.join("vocoder.pt").display());
    let reference_voice = common::speech("2414-128291-0000.flac");
    let out_dir = tempfile::tempdir().unwrap();
    let wav = out_dir.path().join("out.wav");
    let plot = out_dir.path().join("alignment.png");
    let out = common::run(&[
        "synthesize",
        "--synthesizer",
        &synthesizer,
        "--vocoder",
        &vocoder,
        "--reference",
        reference_voice.to_str().unwrap(),
        "--text",
        "Hello there. A second sentence!",
        "--max-frames",
        "30",
        "-o",
        wav.to_str().unwrap(),
        "--plot-alignment",
        plot.to_str().unwrap(),
    ]);
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    // Random weights never reach the stop token: the user is told, per sentence.
    assert_eq!(
        err.matches("never reached the stop token").count(),
        2,
        "{err}"
    );
    let reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    // Two sentences of at most 30 frames ((30 − 1) · 200 samples each) and a 0.2 s pause.
    let len = reader.len() as usize;
    assert!(len > 3200 && len <= 2 * 29 * 200 + 3200, "{len} samples");
    for png in [plot.clone(), out_dir.path().join("alignment-2.png")] {
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", png.display());
    }

    // Griffin-Lim needs no vocoder checkpoint.
    let gl = out_dir.path().join("gl.wav");
    let out = common::run(&[
        "synthesize",
        "--synthesizer",
        &synthesizer,
        "--reference",
        reference_voice.to_str().unwrap(),
        "--text",
        "Griffin and Lim.",
        "--max-frames",
        "20",
        "-o",
        gl.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let samples: Vec<i16> = hound::WavReader::open(&gl)
        .unwrap()
        .into_samples()
        .map(Result::unwrap)
        .collect();
    assert!(samples.iter().any(|&s| s != 0), "Griffin-Lim wrote silence");
}

#[test]
fn synthesize_command_refuses_bad_input_in_one_line() {
    let dir = reference();
    let voice = common::speech("2414-128291-0000.flac");
    let voice = voice.to_str().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let wav = out_dir.path().join("never.wav");
    let wav = wav.to_str().unwrap();
    let synthesizer = format!("tacotron:{}", dir.join("synthesizer.pt").display());
    let vocoder_as_synthesizer = format!("tacotron:{}", dir.join("vocoder.pt").display());
    let cases: [(Vec<&str>, &[&str]); 4] = [
        (vec!["--synthesizer", "synthesizer.pt"], &["tacotron:PATH"]),
        (
            vec!["--synthesizer", &synthesizer, "--vocoder", "wavenet:x.pt"],
            &["wavernn:PATH"],
        ),
        (
            vec![
                "--synthesizer",
                &synthesizer,
                "--vocoder",
                "wavernn:/no/such/vocoder.pt",
            ],
            &["/no/such/vocoder.pt"],
        ),
        (
            vec!["--synthesizer", &vocoder_as_synthesizer],
            &["not an RTVC synthesizer checkpoint"],
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec![
            "synthesize",
            "--reference",
            voice,
            "--text",
            "Hi.",
            "-o",
            wav,
        ];
        all.extend(args);
        let out = common::run(&all);
        common::one_line_error(&out, expected);
    }
    assert!(!Path::new(wav).exists(), "no output is left behind");
}

/// RTVC's older checkpoints were written by torch < 1.6, in the legacy (non-zip) format: the
/// same checkpoints re-saved that way must read to the same tensors, `decoder.r` included.
#[test]
fn legacy_format_checkpoints_read_the_same() {
    let dir = reference();
    for name in ["synthesizer", "vocoder"] {
        let zip = dir.join(format!("{name}.pt"));
        let legacy = dir.join(format!("{name}-legacy.pt"));
        let status = Command::new(torch_python())
            .args([
                "-c",
                "import sys, torch; torch.save(torch.load(sys.argv[1]), sys.argv[2], _use_new_zipfile_serialization=False)",
            ])
            .arg(&zip)
            .arg(&legacy)
            .status()
            .unwrap();
        assert!(status.success());
        let (a, b) = (
            voxclone_weights::read_weights(&zip).unwrap(),
            voxclone_weights::read_weights(&legacy).unwrap(),
        );
        assert_eq!(a.len(), b.len(), "{name}: tensor count");
        for (key, t) in &a {
            let u = b
                .get(key)
                .unwrap_or_else(|| panic!("{name}: legacy lacks {key}"));
            assert_eq!(t.dims(), u.dims(), "{name}: {key}");
            assert_eq!(values(t), values(u), "{name}: {key}");
        }
    }
    let tacotron = rtvc::load_tacotron(&dir.join("synthesizer-legacy.pt"), &Device::Cpu).unwrap();
    assert_eq!(tacotron.r(), 2);
    rtvc::load_wavernn(&dir.join("vocoder-legacy.pt"), &Device::Cpu).unwrap();
}

/// `voxclone train vocoder` writes a checkpoint that `voxclone synthesize` loads, and resumes
/// from it.
#[test]
fn trained_vocoder_checkpoints_feed_synthesize() {
    let out = tempfile::tempdir().unwrap();
    let ckpt_dir = out.path().join("voc");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/speech");
    let train = |steps: &str| {
        common::run(&[
            "train",
            "vocoder",
            data.to_str().unwrap(),
            "-o",
            ckpt_dir.to_str().unwrap(),
            "--steps",
            steps,
            "--batch-size",
            "2",
            "--seq-len",
            "200",
        ])
    };
    let first = train("2");
    assert!(first.status.success(), "{}", common::stderr(&first));
    let checkpoint = ckpt_dir.join("vocoder.safetensors");
    let step = |path: &Path| {
        voxclone_weights::read_weights(path).unwrap()["step"]
            .to_vec1::<i64>()
            .unwrap()[0]
    };
    assert_eq!(step(&checkpoint), 2);
    let resumed = train("3");
    assert!(resumed.status.success(), "{}", common::stderr(&resumed));
    assert_eq!(
        step(&checkpoint),
        3,
        "resumed from step 2 and took one more"
    );

    let wav = out.path().join("out.wav");
    let voice = common::speech("2414-128291-0000.flac");
    let synthesized = common::run(&[
        "synthesize",
        "--synthesizer",
        &format!("tacotron:{}", reference().join("synthesizer.pt").display()),
        "--vocoder",
        &format!("wavernn:{}", checkpoint.display()),
        "--reference",
        voice.to_str().unwrap(),
        "--text",
        "Trained here.",
        "--max-frames",
        "24",
        "-o",
        wav.to_str().unwrap(),
    ]);
    assert!(
        synthesized.status.success(),
        "{}",
        common::stderr(&synthesized)
    );
    assert_eq!(
        hound::WavReader::open(&wav).unwrap().len() as usize,
        23 * 200
    );
}
