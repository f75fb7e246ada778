//! The encoder with its real pretrained weights (fetched from PyPI) against Resemblyzer's own
//! embeddings of the 100 LibriSpeech test-other clips. Needs network on first run, then the cache.

use std::sync::OnceLock;

use candle_core::Device;
use voxclone_encoder::VoiceEncoder;
use voxclone_testdata::{cosine, max_abs_diff, Ge2eGolden};
use voxclone_weights::{ModelStore, NoProgress};

fn encoder() -> &'static VoiceEncoder {
    static ENCODER: OnceLock<VoiceEncoder> = OnceLock::new();
    ENCODER.get_or_init(|| {
        let store = ModelStore::from_env().expect("cache dir");
        let weights = store
            .ge2e_encoder(&NoProgress)
            .expect("GE2E weights (from PyPI's resemblyzer 0.1.4)");
        VoiceEncoder::load(&weights, &Device::Cpu).expect("load weights")
    })
}

#[test]
fn partial_embeddings_of_reference_mels_match_within_1e5() {
    let golden = Ge2eGolden::load();
    let enc = encoder();
    for i in golden.detail_indices() {
        let mel = golden.mel(i);
        let want = golden.partial_embeddings(i);
        let mut batch = Vec::new();
        for p in 0..want.len() {
            batch.extend(mel[77 * p..77 * p + 160].iter().flatten());
        }
        let got = enc.embed_mels(&batch, want.len()).unwrap();
        for (g, w) in got.iter().zip(&want) {
            let d = max_abs_diff(g, w);
            assert!(d <= 1e-5, "clip {i}: partial differs by {d}");
        }
    }
}

#[test]
fn every_cpu_kernel_here_matches_the_reference_partials() {
    use voxclone_nn::Kernel;
    let golden = Ge2eGolden::load();
    let mut tried = 0;
    for kernel in [Kernel::Amx, Kernel::Avx512, Kernel::Portable] {
        if !kernel.is_available() {
            eprintln!("{kernel:?}: not on this CPU");
            continue;
        }
        tried += 1;
        let enc = encoder().clone().with_kernel(kernel).unwrap();
        for i in golden.detail_indices() {
            let mel = golden.mel(i);
            let want = golden.partial_embeddings(i);
            let batch: Vec<f32> = (0..want.len())
                .flat_map(|p| mel[77 * p..77 * p + 160].iter().flatten().copied())
                .collect();
            for (g, w) in enc
                .embed_mels(&batch, want.len())
                .unwrap()
                .iter()
                .zip(&want)
            {
                let d = max_abs_diff(g, w);
                assert!(d <= 1e-5, "{kernel:?}, clip {i}: partial differs by {d}");
            }
        }
    }
    assert!(tried >= 1);
}

#[test]
fn utterance_embeddings_match_resemblyzer_on_all_100_clips() {
    let golden = Ge2eGolden::load();
    let enc = encoder();
    let wavs: Vec<Vec<f32>> = golden
        .clips
        .iter()
        .map(|c| enc.preprocess(voxclone_audio::load(c).unwrap()).unwrap())
        .collect();
    let got = enc.embed_utterances(&wavs, &mut |_, _| {}).unwrap();
    let (want, n_partials) = (golden.utterance_embeddings(), golden.n_partials());
    let mut worst = (1.0f32, 0.0f32);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g.partials.len() as i64,
            n_partials[i],
            "clip {i}: partial count"
        );
        let (cos, diff) = (
            cosine(g.embedding.as_slice(), w),
            max_abs_diff(g.embedding.as_slice(), w),
        );
        assert!(cos >= 0.9999, "{}: cosine {cos}", golden.clips[i].display());
        assert!(
            diff <= 1e-4,
            "{}: max abs diff {diff}",
            golden.clips[i].display()
        );
        worst = (worst.0.min(cos), worst.1.max(diff));
    }
    eprintln!("worst cosine {}, worst max abs diff {}", worst.0, worst.1);
}

#[test]
fn speaker_embeddings_match_resemblyzer() {
    let golden = Ge2eGolden::load();
    let enc = encoder();
    let want = golden.speaker_embeddings();
    for (s, chunk) in golden.clips.chunks(10).enumerate() {
        let wavs: Vec<Vec<f32>> = chunk
            .iter()
            .map(|c| enc.preprocess(voxclone_audio::load(c).unwrap()).unwrap())
            .collect();
        let got = enc.embed_speaker(&wavs).unwrap();
        let d = max_abs_diff(got.as_slice(), &want[s]);
        assert!(d <= 1e-4, "speaker {s}: max abs diff {d}");
    }
}

#[test]
fn batching_does_not_change_an_utterance_embedding() {
    let golden = Ge2eGolden::load();
    let enc = encoder();
    let wavs: Vec<Vec<f32>> = golden.clips[..6]
        .iter()
        .map(|c| enc.preprocess(voxclone_audio::load(c).unwrap()).unwrap())
        .collect();
    let together = enc.embed_utterances(&wavs, &mut |_, _| {}).unwrap();
    for (w, t) in wavs.iter().zip(&together) {
        let alone = enc.embed_utterance(w).unwrap();
        assert!(max_abs_diff(alone.embedding.as_slice(), t.embedding.as_slice()) <= 1e-6);
    }
}

#[test]
fn fused_cpu_kernel_matches_the_candle_model() {
    let golden = Ge2eGolden::load();
    let fused = encoder();
    let reference = fused.clone().without_fused_kernel();
    let wavs: Vec<Vec<f32>> = golden.clips[..12]
        .iter()
        .map(|c| fused.preprocess(voxclone_audio::load(c).unwrap()).unwrap())
        .collect();
    let a = fused.embed_utterances(&wavs, &mut |_, _| {}).unwrap();
    let b = reference.embed_utterances(&wavs, &mut |_, _| {}).unwrap();
    for (x, y) in a.iter().zip(&b) {
        for (p, q) in x.partials.iter().zip(&y.partials) {
            let d = max_abs_diff(p, q);
            assert!(d <= 1e-5, "partials differ by {d}");
        }
    }
}

#[test]
fn embedding_saved_mels_agrees_with_embedding_the_waveform() {
    let golden = Ge2eGolden::load();
    let enc = encoder();
    let mel = voxclone_audio::MelSpectrogram::new(enc.params().mel);
    for clip in &golden.clips[..8] {
        let wav = enc.preprocess(voxclone_audio::load(clip).unwrap()).unwrap();
        let from_wav = enc.embed_utterance(&wav).unwrap();
        let from_mel = enc.embed_mel(&mel.compute(&wav)).unwrap();
        assert_eq!(from_wav.partials.len(), from_mel.partials.len());
        let cos = cosine(from_wav.embedding.as_slice(), from_mel.embedding.as_slice());
        assert!(cos >= 0.9999, "{}: cosine {cos}", clip.display());
    }
}

/// The differentiable graph (candle mel, polyphase resampler) gives the plain path's d-vectors, and
/// its gradient points somewhere useful: a small step along it raises similarity to a target.
#[test]
fn the_differentiable_encoder_agrees_with_the_plain_one_and_has_useful_gradients() {
    use candle_core::{Tensor, Var};
    use voxclone_encoder::differentiable::Resampler;
    let golden = Ge2eGolden::load();
    let enc = encoder();
    let graph = enc.differentiable().unwrap();
    let dev = Device::Cpu;
    let to_24k = Resampler::new(16_000, 24_000, &dev).unwrap();
    let to_16k = Resampler::new(24_000, 16_000, &dev).unwrap();
    for clip in golden.clips.iter().step_by(23) {
        let wav = enc.preprocess(voxclone_audio::load(clip).unwrap()).unwrap();
        let plain = enc.embed_utterance(&wav).unwrap().embedding;
        let x = Tensor::from_slice(&wav, wav.len(), &dev).unwrap();
        let direct: Vec<f32> = graph.embed(&x).unwrap().to_vec1().unwrap();
        let cos = cosine(plain.as_slice(), &direct);
        assert!(cos >= 0.9999, "{}: cosine {cos}", clip.display());
        // Through 24 kHz and back: the resampler costs almost nothing in the d-vector.
        let round_trip = to_16k.forward(&to_24k.forward(&x).unwrap()).unwrap();
        assert_eq!(round_trip.dim(0).unwrap(), wav.len());
        let via: Vec<f32> = graph.embed(&round_trip).unwrap().to_vec1().unwrap();
        let cos = cosine(plain.as_slice(), &via);
        assert!(
            cos >= 0.995,
            "{} through 24 kHz: cosine {cos}",
            clip.display()
        );
    }

    // Gradient ascent on the waveform of one speaker towards another's d-vector.
    let a = enc
        .preprocess(voxclone_audio::load(&golden.clips[0]).unwrap())
        .unwrap();
    let b = enc
        .preprocess(voxclone_audio::load(&golden.clips[50]).unwrap())
        .unwrap();
    let target = Tensor::from_slice(
        enc.embed_utterance(&b).unwrap().embedding.as_slice(),
        256,
        &dev,
    )
    .unwrap();
    let n = a.len().min(32_000);
    let x = Var::from_tensor(&Tensor::from_slice(&a[..n], n, &dev).unwrap()).unwrap();
    let similarity = |t: &Tensor| {
        (graph.embed(t).unwrap() * &target)
            .unwrap()
            .sum_all()
            .unwrap()
    };
    let before = similarity(x.as_tensor());
    let grads = before.backward().unwrap();
    let g = grads
        .get(x.as_tensor())
        .expect("gradient reaches the waveform");
    let g_norm = g
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap()
        .sqrt()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(g_norm.is_finite() && g_norm > 0.0, "gradient norm {g_norm}");
    let step = (g * (1e-3 / g_norm as f64)).unwrap();
    let after = similarity(&(x.as_tensor() + step).unwrap());
    let (before, after) = (
        before.to_scalar::<f32>().unwrap(),
        after.to_scalar::<f32>().unwrap(),
    );
    assert!(after > before, "similarity {before} → {after}");
}
