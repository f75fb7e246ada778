//! Evidence that `voxclone train vocoder` trains: on two LibriSpeech clips, a small WaveRNN's
//! cross-entropy falls, and its checkpoint is what the vocoder loads and what training resumes.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use voxclone::rtvc;
use voxclone_vocoder::wavernn::train::{TrainConfig, TrainableWaveRnn, Trainer};
use voxclone_vocoder::wavernn::{VocodeOptions, WaveRnn, WaveRnnConfig};

fn small() -> WaveRnnConfig {
    WaveRnnConfig {
        rnn_dims: 32,
        fc_dims: 32,
        compute_dims: 16,
        res_out_dims: 16,
        res_blocks: 2,
        ..Default::default()
    }
}

fn examples(config: &WaveRnnConfig) -> Vec<voxclone_vocoder::wavernn::train::Example> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/speech");
    ["2414-128291-0000.flac", "367-130732-0000.flac"]
        .iter()
        .map(|name| rtvc::vocoder_example(&dir.join(name), config).unwrap())
        .collect()
}

const STEPS: usize = 100;

#[test]
fn wavernn_cross_entropy_falls_and_checkpoints_round_trip() {
    let config = small();
    let data = examples(&config);
    let device = Device::Cpu;
    let train = TrainConfig {
        batch_size: 4,
        learning_rate: 1e-2,
        seq_len: 200,
    };
    let model = TrainableWaveRnn::new(config.clone(), None, &device).unwrap();
    let mut trainer = Trainer::new(model, train.clone(), 0, 1).unwrap();
    // A fixed set of 16 segments measures progress (training batches are too noisy).
    let before = trainer.evaluate(&data, 16, 7, &device).unwrap();
    for _ in 0..STEPS {
        trainer.step(&data, &device).unwrap();
    }
    let after = trainer.evaluate(&data, 16, 7, &device).unwrap();
    eprintln!(
        "cross-entropy on fixed segments: {before:.3} before, {after:.3} after {STEPS} steps"
    );
    // Uniform over 512 classes is ln 512 = 6.24 nats.
    assert!(
        (before - 512f32.ln()).abs() < 0.5,
        "an untrained model is near uniform: {before}"
    );
    assert!(
        after < before - 0.5,
        "the loss must fall by half a nat: {before} -> {after}"
    );

    // The checkpoint is RTVC's layout: the inference model loads it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vocoder.safetensors");
    trainer.save(&path).unwrap();
    let tensors = voxclone_weights::read_weights(&path).unwrap();
    assert_eq!(tensors["step"].to_vec1::<i64>().unwrap(), [STEPS as i64]);
    let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
    let vocoder = WaveRnn::load(config.clone(), vb).unwrap();
    let mel = Tensor::from_vec(data[0].mel[..].to_vec(), (80, data[0].frames), &device)
        .unwrap()
        .narrow(1, 0, 30)
        .unwrap();
    // The example's mel is already divided by 4; the vocoder divides again, so scale it back.
    let wav = vocoder
        .vocode(
            &(mel * 4.0).unwrap(),
            &VocodeOptions::default(),
            &mut |_, _| true,
        )
        .unwrap();
    assert_eq!(wav.len(), 29 * 200);
    assert!(wav.iter().all(|s| s.is_finite()));

    // Resuming reads back every tensor, running statistics included, and Adam's moments.
    let resumed = TrainableWaveRnn::new(config, Some(&path), &device).unwrap();
    let again = dir.path().join("again.safetensors");
    resumed.save(&again, STEPS).unwrap();
    let mut resumed = Trainer::new(resumed, train, STEPS, 1).unwrap();
    assert!(resumed.resume_optimizer(&path).unwrap());
    let pairs = [
        (
            voxclone_weights::read_weights(&path).unwrap(),
            voxclone_weights::read_weights(&again).unwrap(),
        ),
        (
            trainer.optimizer.state().unwrap(),
            resumed.optimizer.state().unwrap(),
        ),
    ];
    for (a, b) in pairs {
        assert_eq!(a.len(), b.len());
        for (k, t) in &a {
            let flat = |t: &Tensor| {
                t.flatten_all()
                    .unwrap()
                    .to_dtype(DType::F32)
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
            };
            assert_eq!(flat(t), flat(&b[k]), "{k}");
        }
    }
}
