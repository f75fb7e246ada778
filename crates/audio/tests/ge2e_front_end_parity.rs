//! The front-end against Resemblyzer's own output on real speech (golden data in `golden/ge2e`).

use voxclone_audio::normalize::{normalize_volume, ENCODER_TARGET_DBFS};
use voxclone_audio::vad::{voice_mask, VadParams};
use voxclone_audio::{mel::MelParams, MelSpectrogram};
use voxclone_testdata::Ge2eGolden;

#[test]
fn decode_normalise_and_vad_match_the_reference_on_all_100_clips() {
    let golden = Ge2eGolden::load();
    assert_eq!(golden.clips.len(), 100);
    let (gains, trimmed) = (golden.gain_db(), golden.trimmed_len());
    for (i, clip) in golden.clips.iter().enumerate() {
        let audio = voxclone_audio::load(clip).unwrap();
        assert_eq!(audio.sample_rate, 16_000);
        let mut wav = audio.samples;
        let gain = normalize_volume(&mut wav, ENCODER_TARGET_DBFS, true);
        assert!(
            (gain - gains[i]).abs() < 1e-4,
            "{}: gain {gain} vs {}",
            clip.display(),
            gains[i]
        );
        let mask = voice_mask(&wav, &VadParams::default());
        assert_eq!(
            mask.raw,
            golden.vad_raw(i),
            "{}: raw VAD flags",
            clip.display()
        );
        assert_eq!(
            mask.keep,
            golden.vad_keep(i),
            "{}: VAD keep mask",
            clip.display()
        );
        assert_eq!(
            mask.apply(&wav).len() as i64,
            trimmed[i],
            "{}",
            clip.display()
        );
    }
}

#[test]
fn preprocessed_waveforms_are_bit_exact() {
    let golden = Ge2eGolden::load();
    for i in golden.detail_indices() {
        let mut wav = voxclone_audio::load(&golden.clips[i]).unwrap().samples;
        normalize_volume(&mut wav, ENCODER_TARGET_DBFS, true);
        let trimmed = voice_mask(&wav, &VadParams::default()).apply(&wav);
        assert_eq!(trimmed, golden.preprocessed_wav(i), "clip {i}");
    }
}

#[test]
fn mel_matches_librosa_within_1e4_relative() {
    let golden = Ge2eGolden::load();
    let mel = MelSpectrogram::new(MelParams::GE2E);
    for i in golden.detail_indices() {
        let wav = golden.preprocessed_wav(i);
        let want = golden.mel(i);
        // The golden mel is of the waveform zero-padded to cover the last partial.
        let got = mel.frames(&wav, 0, want.len());
        let peak = want.iter().flatten().fold(0.0f32, |m, &v| m.max(v));
        for (f, row) in want.iter().enumerate() {
            for (m, &w) in row.iter().enumerate() {
                let g = got[f * 40 + m];
                // Relative to the value, with a floor at 1e-6 of the clip's peak for near-silent bins.
                let tol = 1e-4 * w.abs().max(1e-6 * peak);
                assert!(
                    (g - w).abs() <= tol,
                    "clip {i} frame {f} mel {m}: {g} vs {w}"
                );
            }
        }
    }
}
