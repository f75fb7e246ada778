//! `voxclone train synthesizer` and `voxclone adapt` end to end: train a tiny Tacotron on a
//! transcribed corpus, resume it, speak with it, adapt it, train a vocoder on its
//! ground-truth-aligned mels, and refuse bad input in one line.
//! (That training aligns is shown in the synthesizer crate's `tacotron_training` tests.)

mod common;

use std::path::Path;

use common::{one_line_error, run, speech, stderr};

/// An LJSpeech-layout corpus of two-second clips of the fixture speech, with transcripts.
fn corpus(root: &Path) {
    std::fs::create_dir_all(root.join("wavs")).unwrap();
    let clips = [
        (
            "LJ001-0001",
            "2414-128291-0000.flac",
            "he was in a fever of impatience",
        ),
        (
            "LJ001-0002",
            "367-130732-0000.flac",
            "the lobsters are not so plentiful",
        ),
        (
            "LJ001-0003",
            "2414-128291-0003.flac",
            "and yet it was a good day",
        ),
    ];
    let mut metadata = String::new();
    for (id, source, text) in clips {
        let audio = voxclone_audio::load(speech(source)).unwrap();
        let samples = voxclone_audio::resample::resample(audio, 16_000).unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(root.join(format!("wavs/{id}.wav")), spec).unwrap();
        for &s in samples.iter().take(32_000) {
            w.write_sample((s * 32767.0) as i16).unwrap();
        }
        w.finalize().unwrap();
        metadata.push_str(&format!("{id}|{text}|{text}\n"));
    }
    std::fs::write(root.join("metadata.csv"), metadata).unwrap();
}

fn step_of(checkpoint: &Path) -> i64 {
    let tensors = candle_core::safetensors::load(checkpoint, &candle_core::Device::Cpu).unwrap();
    tensors["step"].to_vec1::<i64>().unwrap()[0]
}

#[test]
fn train_resume_speak_and_adapt() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lj");
    corpus(&data);
    let out = dir.path().join("run");
    let (data_s, out_s) = (data.to_str().unwrap(), out.to_str().unwrap());
    let args = |steps: &'static str, save_every: &'static str| {
        [
            "train",
            "synthesizer",
            data_s,
            "-o",
            out_s,
            "--size",
            "tiny",
            "--steps",
            steps,
            "--learning-rate",
            "1e-3",
            "--batch-size",
            "2",
            "--save-every",
            save_every,
            "--plot-every",
            "2",
        ]
    };
    let train = |steps: &'static str| run(&args(steps, "2"));
    let first = train("2");
    assert!(first.status.success(), "{}", stderr(&first));
    let checkpoint = out.join("synthesizer.safetensors");
    assert_eq!(step_of(&checkpoint), 2);
    assert!(out.join("optimizer.safetensors").is_file());
    let png = std::fs::read(out.join("alignments/step-2.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let scores = std::fs::read_to_string(out.join("alignments/scores.tsv")).unwrap();
    let row: Vec<f32> = scores
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(row[0], 2.0);
    assert!(
        (-1.0..=1.0).contains(&row[1]) && (0.0..=1.0).contains(&row[2]),
        "{scores}"
    );

    // Resumed from the checkpoint, it goes on to step 3. Not quiet, and with no terminal to
    // draw a bar on, each save says how training goes (the stop-token loss is only on those
    // lines, not on the closing one).
    // Guided attention may be switched on for a resumed run; its penalty is then reported.
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_voxclone"))
        .args(args("3", "1"))
        .args(["--guided-attention", "1"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let log = stderr(&second);
    assert!(second.status.success(), "{log}");
    assert_eq!(step_of(&checkpoint), 3);
    assert!(log.contains("resuming at step 2"), "{log}");
    assert!(
        log.contains("step 3: loss") && log.contains("(stop ") && log.contains(", attention "),
        "{log}"
    );

    // `synthesize` loads what training wrote (the tiny widths come from the tensors).
    let wav = dir.path().join("out.wav");
    let said = run(&[
        "synthesize",
        "--synthesizer",
        &format!("tacotron:{}", checkpoint.display()),
        "--vocoder",
        "griffin-lim",
        "--reference",
        speech("367-130732-0000.flac").to_str().unwrap(),
        "--text",
        "Hello there.",
        "--max-frames",
        "40",
        "-o",
        wav.to_str().unwrap(),
    ]);
    assert!(said.status.success(), "{}", stderr(&said));
    let reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    assert!(reader.duration() > 0);

    // Adaptation starts from that synthesizer and writes its own checkpoint.
    let adapted = dir.path().join("adapted");
    let adapt = run(&[
        "adapt",
        data_s,
        "--synthesizer",
        checkpoint.to_str().unwrap(),
        "-o",
        adapted.to_str().unwrap(),
        "--steps",
        "1",
        "--batch-size",
        "2",
    ]);
    assert!(adapt.status.success(), "{}", stderr(&adapt));
    let adapted_checkpoint = adapted.join("synthesizer.safetensors");
    assert_eq!(step_of(&adapted_checkpoint), 1);
    let before = candle_core::safetensors::load(&checkpoint, &candle_core::Device::Cpu).unwrap();
    let after =
        candle_core::safetensors::load(&adapted_checkpoint, &candle_core::Device::Cpu).unwrap();
    let moved = (&before["decoder.mel_proj.weight"] - &after["decoder.mel_proj.weight"])
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(moved > 0.0, "adaptation changed nothing");

    // A vocoder trains on the synthesizer's ground-truth-aligned mels.
    let vocoder = dir.path().join("vocoder");
    let gta = run(&[
        "train",
        "vocoder",
        data_s,
        "--gta",
        checkpoint.to_str().unwrap(),
        "-o",
        vocoder.to_str().unwrap(),
        "--steps",
        "1",
        "--batch-size",
        "2",
        "--seq-len",
        "400",
    ]);
    assert!(gta.status.success(), "{}", stderr(&gta));
    assert_eq!(step_of(&vocoder.join("vocoder.safetensors")), 1);
    gta_mels_line_up_with_the_recording(&data, &checkpoint);
}

/// A GTA example pairs the synthesizer's teacher-forced mel with the very waveform the
/// ground-truth mel was computed from, frame for frame; the mel itself is the synthesizer's.
fn gta_mels_line_up_with_the_recording(data: &Path, synthesizer: &Path) {
    use voxclone::rtvc;
    use voxclone_vocoder::wavernn::WaveRnnConfig;
    let device = candle_core::Device::Cpu;
    let store = voxclone::weights::ModelStore::from_env().unwrap();
    let pipeline =
        voxclone::Voxclone::load(&store, &device, &voxclone::weights::NoProgress).unwrap();
    let tacotron = rtvc::load_tacotron(synthesizer, &device).unwrap();
    let config = WaveRnnConfig::default();
    let utterance = rtvc::prepare_utterance(
        &pipeline,
        &data.join("wavs/LJ001-0002.wav"),
        "the lobsters are not so plentiful",
    )
    .unwrap();
    let frames = utterance.example.frames;
    let gta = rtvc::gta_example(&tacotron, &utterance, &config, 0, &device).unwrap();
    assert_eq!(gta.frames, frames);
    assert_eq!(gta.mel.len(), config.feat_dims * frames);
    assert!(gta.mel.iter().all(|v| v.is_finite()));
    // The waveform is the prepared recording's (pre-emphasised as the vocoder trains).
    let target =
        voxclone_vocoder::wavernn::train::pre_emphasis(&utterance.wav, config.preemphasis as f32);
    assert_eq!(gta.wav, target);
    assert_eq!(
        voxclone_audio::rtvc_mel::melspectrogram(&utterance.wav).1,
        frames
    );
    // The mel is the synthesizer's, not the recording's.
    let truth: Vec<f32> = utterance
        .example
        .mel
        .iter()
        .map(|v| v / config.mel_max_abs_value)
        .collect();
    let differs = gta
        .mel
        .iter()
        .zip(&truth)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(differs > 0.1, "GTA mel equals the ground truth ({differs})");
    // Dropout is seeded: the same seed gives the same mel.
    let again = rtvc::gta_example(&tacotron, &utterance, &config, 0, &device).unwrap();
    assert_eq!(again.mel, gta.mel);
}

#[test]
fn untranscribed_data_and_bad_options_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain/speaker");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::copy(speech("367-130732-0000.flac"), plain.join("a.flac")).unwrap();
    let out = dir.path().join("run");
    let (plain_s, out_s) = (
        dir.path().join("plain").to_str().unwrap().to_owned(),
        out.to_str().unwrap().to_owned(),
    );
    let train_on_plain = |options: &[&str]| {
        let mut args = vec!["train", "synthesizer", &plain_s, "-o", &out_s];
        args.extend_from_slice(options);
        run(&args)
    };
    one_line_error(&train_on_plain(&[]), &["no transcribed recordings"]);
    assert!(!out.join("synthesizer.safetensors").exists());
    one_line_error(
        &train_on_plain(&["--batch-size", "4"]),
        &["--batch-size needs --learning-rate"],
    );
    one_line_error(
        &train_on_plain(&["--guided-attention=-1"]),
        &["--guided-attention must be a weight of 0 or more"],
    );

    let missing = run(&[
        "adapt",
        dir.path().join("plain").to_str().unwrap(),
        "--synthesizer",
        "/no/such/synthesizer.pt",
        "-o",
        out.to_str().unwrap(),
    ]);
    one_line_error(&missing, &["/no/such/synthesizer.pt"]);

    let no_text_gta = run(&[
        "train",
        "vocoder",
        dir.path().join("plain").to_str().unwrap(),
        "--gta",
        "/no/such/synthesizer.pt",
        "-o",
        out.to_str().unwrap(),
    ]);
    one_line_error(
        &no_text_gta,
        &["no transcribed recordings", "--gta needs transcripts"],
    );
    assert!(!out.join("vocoder.safetensors").exists());

    let lj = dir.path().join("lj");
    corpus(&lj);
    let no_synthesizer = run(&[
        "train",
        "vocoder",
        lj.to_str().unwrap(),
        "--gta",
        "/no/such/synthesizer.pt",
        "-o",
        out.to_str().unwrap(),
    ]);
    one_line_error(&no_synthesizer, &["/no/such/synthesizer.pt"]);
    assert!(!out.join("vocoder.safetensors").exists());
}
