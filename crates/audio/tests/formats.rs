//! Every supported container and codec decodes to the same speech (fixtures/formats), and bad
//! files fail with an error that names them.

use std::path::{Path, PathBuf};

use voxclone_audio::{load, resample::resample, Audio, AudioError};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/formats")
        .join(name)
}

/// The reference clip: 2.365 s of LibriSpeech, 16 kHz FLAC.
fn reference() -> Vec<f32> {
    load(fixture("ref-16k.flac")).unwrap().samples
}

/// Correlation of two signals at the best lag within ±`max_lag` samples (codecs add delay). Lossy
/// codecs at 64 kb/s keep 0.9-0.97 of it; unrelated speech scores near 0.
fn best_correlation(a: &[f32], b: &[f32], max_lag: usize) -> f64 {
    let n = a.len().min(b.len()) - 2 * max_lag;
    (0..=2 * max_lag)
        .map(|lag| {
            let (x, y) = (&a[max_lag..max_lag + n], &b[lag..lag + n]);
            let dot: f64 = x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum();
            let nx: f64 = x.iter().map(|p| (*p as f64).powi(2)).sum::<f64>().sqrt();
            let ny: f64 = y.iter().map(|q| (*q as f64).powi(2)).sum::<f64>().sqrt();
            dot / (nx * ny)
        })
        .fold(f64::MIN, f64::max)
}

#[test]
fn wav_and_flac_decode_to_identical_samples() {
    let wav = load(fixture("ref-16k.wav")).unwrap();
    assert_eq!(wav.sample_rate, 16_000);
    assert_eq!(wav.samples, reference());
    assert_eq!(wav.samples.len(), 37_840);
}

#[test]
fn lossy_and_resampled_formats_decode_to_the_same_speech() {
    let reference = reference();
    for (name, rate, min_corr) in [
        // ffmpeg's own resampler made this one; its filter differs from ours, hence the looser bound.
        ("stereo-44k.flac", 44_100, 0.97),
        ("ref.mp3", 44_100, 0.9),
        ("ref.ogg", 16_000, 0.9),
        ("ref.m4a", 22_050, 0.9),
    ] {
        let audio = load(fixture(name)).unwrap();
        assert_eq!(audio.sample_rate, rate, "{name}");
        let seconds = audio.duration_secs();
        assert!((seconds - 2.365).abs() < 0.1, "{name}: {seconds} s");
        let at_16k = resample(audio, 16_000).unwrap();
        let corr = best_correlation(&reference, &at_16k, 2_000);
        assert!(corr >= min_corr, "{name}: correlation {corr}");
    }
}

#[test]
fn an_unsupported_codec_is_named() {
    let err = load(fixture("unsupported-opus.ogg")).unwrap_err();
    assert!(matches!(err, AudioError::UnsupportedCodec { .. }), "{err}");
    assert!(err.to_string().contains("unsupported codec"), "{err}");
}

#[test]
fn bad_files_fail_with_one_line_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.wav");
    std::fs::write(
        &text,
        "this is not audio, just text pretending to be a wav\n",
    )
    .unwrap();
    let flac = std::fs::read(fixture("ref-16k.flac")).unwrap();
    let truncated = dir.path().join("truncated.flac");
    std::fs::write(&truncated, &flac[..flac.len() / 2]).unwrap();
    let mut garbled = flac.clone();
    for b in garbled[8_000..].iter_mut() {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    let corrupt = dir.path().join("corrupt.flac");
    std::fs::write(&corrupt, &garbled).unwrap();
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, []).unwrap();

    type Expect = fn(&AudioError) -> bool;
    let cases: [(&Path, Expect); 6] = [
        (Path::new("/no/such/file.wav"), |e| {
            matches!(e, AudioError::NotFound(_))
        }),
        (dir.path(), |e| matches!(e, AudioError::IsDirectory(_))),
        (&text, |e| matches!(e, AudioError::UnknownFormat(_))),
        (&truncated, |e| {
            matches!(e, AudioError::Truncated { .. } | AudioError::Corrupt { .. })
        }),
        (&corrupt, |e| {
            matches!(e, AudioError::Corrupt { .. } | AudioError::Truncated { .. })
        }),
        (&empty, |e| {
            matches!(
                e,
                AudioError::UnknownFormat(_) | AudioError::Corrupt { .. } | AudioError::Empty(_)
            )
        }),
    ];
    for (path, expected) in cases {
        let err = load(path).unwrap_err();
        let msg = err.to_string();
        assert!(
            expected(&err),
            "{}: unexpected error {err:?}",
            path.display()
        );
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
    }
}

#[test]
fn zero_samples_and_non_finite_samples_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let empty = dir.path().join("zero-samples.wav");
    hound::WavWriter::create(&empty, spec)
        .unwrap()
        .finalize()
        .unwrap();
    let err = load(&empty).unwrap_err();
    assert!(matches!(err, AudioError::Empty(_)), "{err:?}");

    let nan = dir.path().join("nan.wav");
    let mut w = hound::WavWriter::create(&nan, spec).unwrap();
    for i in 0..1600 {
        w.write_sample(if i == 700 { f32::NAN } else { 0.1 })
            .unwrap();
    }
    w.finalize().unwrap();
    let err = load(&nan).unwrap_err();
    assert!(err.to_string().contains("NaN"), "{err}");
    assert!(err.to_string().contains("700"), "{err}");
}
#[test]
fn real_speech_survives_a_resampling_round_trip() {
    let r = reference();
    let up = resample(Audio::new(r.clone(), 16_000), 44_100).unwrap();
    assert_eq!(
        up.len(),
        (r.len() as f64 * 44_100.0 / 16_000.0).round() as usize
    );
    let down = resample(Audio::new(up, 44_100), 16_000).unwrap();
    assert_eq!(down.len(), r.len());
    // Same alignment: no lag search.
    let corr = best_correlation(&r, &down, 0);
    assert!(corr >= 0.999, "correlation {corr}");
}

#[test]
fn audio_in_memory_decodes_as_the_file_does_without_a_name_hint() {
    for name in ["ref-16k.flac", "ref.mp3", "ref.m4a", "ref.ogg"] {
        let from_file = load(fixture(name)).unwrap();
        let bytes = std::fs::read(fixture(name)).unwrap();
        // Uploads have no trustworthy name: the format is found from the bytes alone.
        let from_memory = voxclone_audio::load_bytes(bytes, "upload").unwrap();
        assert_eq!(from_memory, from_file, "{name}");
    }
    let err = voxclone_audio::load_bytes(b"not audio at all".to_vec(), "upload").unwrap_err();
    assert_eq!(
        err.to_string(),
        "upload: not a recognised audio format (supported: wav, flac, mp3, ogg/vorbis, m4a/aac)"
    );
    let bytes = std::fs::read(fixture("ref-16k.flac")).unwrap();
    let err = voxclone_audio::load_bytes_at_most(bytes, "upload", 1.0).unwrap_err();
    assert_eq!(err.to_string(), "upload: longer than the 1 s allowed");
    let err = voxclone_audio::load_bytes(Vec::new(), "upload").unwrap_err();
    assert!(matches!(err, AudioError::Empty(_)), "{err}");
}

/// A WAV written while streaming (ours: `speak -o -`, `/v1/audio/speech` of several sentences)
/// carries a placeholder length, 0xFFFFFFFF or 0; its samples run to the end of the file, and
/// our own decoder reads them all, from a file or from memory. A stated length that the file
/// does not hold is still a truncated file.
#[test]
fn a_streamed_wav_reads_to_the_end_and_a_short_one_is_still_truncated() {
    use voxclone_audio::wav::{pcm16, pcm16_header, UNKNOWN_LEN};
    let samples: Vec<i16> = (0..12_000)
        .map(|i| pcm16(0.5 * (i as f32 * 0.07).sin()))
        .collect();
    let pcm: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let dir = tempfile::tempdir().unwrap();
    for placeholder in [UNKNOWN_LEN, 0] {
        let mut bytes = pcm16_header(placeholder, 24_000).to_vec();
        bytes.extend_from_slice(&pcm);
        let path = dir.path().join(format!("streamed-{placeholder}.wav"));
        std::fs::write(&path, &bytes).unwrap();
        for audio in [
            load(&path).unwrap(),
            voxclone_audio::load_bytes(bytes.clone(), "upload").unwrap(),
        ] {
            assert_eq!(audio.sample_rate, 24_000);
            assert_eq!(
                audio.samples.len(),
                samples.len(),
                "length {placeholder:#x}"
            );
            assert_eq!(audio.samples[100], samples[100] as f32 / 32768.0);
        }
    }
    // A header that promises twice the samples the file holds.
    let mut bytes = pcm16_header(2 * pcm.len() as u32, 24_000).to_vec();
    bytes.extend_from_slice(&pcm);
    let err = voxclone_audio::load_bytes(bytes, "short.wav").unwrap_err();
    assert!(matches!(err, AudioError::Truncated { .. }), "{err}");
}

/// A WAV whose header says 0 Hz made the decoder library panic; it is an error naming the file.
#[test]
fn a_wav_with_sample_rate_zero_is_corrupt_not_a_crash() {
    let mut bytes = std::fs::read(fixture("ref-16k.wav")).unwrap();
    assert_eq!(&bytes[24..28], 16_000u32.to_le_bytes());
    bytes[24..28].copy_from_slice(&0u32.to_le_bytes());
    let e = voxclone_audio::load_bytes(bytes, "zero.wav").unwrap_err();
    assert!(matches!(e, AudioError::Corrupt { .. }), "{e:?}");
    let message = e.to_string();
    assert!(
        message.starts_with("zero.wav") && !message.contains('\n'),
        "{message}"
    );
}

/// Bounded, seeded fuzzing of the decoders: every container's header region mutated many ways
/// (random bytes, and the fields that hold sizes and rates set to 0 and to the maximum) must give
/// audio or an error, never a panic or a hang. About 3,000 decodes, a few seconds.
#[test]
fn mutated_headers_of_every_format_are_errors_not_panics() {
    let mut state = 0x5EED_u64;
    let mut next = move || {
        // SplitMix64: the same mutants on every run.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let names = [
        "ref-16k.wav",
        "ref-16k.flac",
        "stereo-44k.flac",
        "ref.mp3",
        "ref.ogg",
        "ref.m4a",
    ];
    let mut errors = 0;
    for name in names {
        let original = std::fs::read(fixture(name)).unwrap();
        let head = original.len().min(512);
        for round in 0..500 {
            let mut bytes = original.clone();
            match round % 3 {
                // A few random bytes of the header region.
                0 | 1 => {
                    for _ in 0..1 + next() % 4 {
                        let at = (next() % head as u64) as usize;
                        bytes[at] = next() as u8;
                    }
                }
                // A 32-bit field set to 0 or to all ones (sizes, rates, counts).
                _ => {
                    let at = (next() % (head as u64 - 4)) as usize;
                    let value = if next() % 2 == 0 { 0u32 } else { u32::MAX };
                    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
                }
            }
            let label = format!("{name} (mutant {round})");
            let result =
                std::panic::catch_unwind(|| voxclone_audio::load_bytes_at_most(bytes, name, 60.0));
            match result {
                Ok(Ok(audio)) => assert!(audio.sample_rate > 0, "{label}"),
                Ok(Err(e)) => {
                    errors += 1;
                    assert!(!e.to_string().contains('\n'), "{label}: {e}");
                }
                Err(_) => panic!("{label}: the decoder panicked through load_bytes"),
            }
        }
    }
    // The mutants do reach the error paths.
    assert!(errors > 100, "only {errors} mutants were refused");
}
