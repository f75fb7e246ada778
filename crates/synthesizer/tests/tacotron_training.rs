//! Tacotron training (RTVC's recipe): the training pass is the inference network, checkpoints
//! resume exactly, and a tiny model learns a diagonal alignment on a handful of utterances.

use candle_core::{DType, Device, Tensor};
use voxclone_nn::rng::SplitMix64;
use voxclone_synthesizer::tacotron::train::{
    alignment_score, loss, AttentionGuide, Batch, Example, Phase, TrainableTacotron, Trainer,
};
use voxclone_synthesizer::tacotron::{Dropout, Tacotron, TacotronConfig};

const N_MELS: usize = 80;
const SPEAKER_DIMS: usize = 256;
const GUIDE: AttentionGuide = AttentionGuide {
    weight: 1.0,
    width: AttentionGuide::TACHIBANA_WIDTH,
};

/// Toy speech: each letter of a small alphabet has its own spectrum (a band of energy at a
/// letter-specific place) and duration, so a model can only predict the frames by attending
/// to the right character, in order.
fn toy_corpus(count: usize, seed: u64) -> Vec<Example> {
    let letters: Vec<u32> = "abdegiklmnoprstu"
        .chars()
        .map(|c| voxclone_text::rtvc::text_to_sequence(&c.to_string())[0])
        .collect();
    let mut rng = SplitMix64::new(seed);
    (0..count)
        .map(|_| {
            let len = 5 + (rng.next_u64() % 4) as usize;
            let picks: Vec<usize> = (0..len)
                .map(|_| (rng.next_u64() % letters.len() as u64) as usize)
                .collect();
            let mut chars: Vec<u32> = picks.iter().map(|&i| letters[i]).collect();
            chars.push(voxclone_text::rtvc::EOS_ID);
            let mut columns: Vec<[f32; N_MELS]> = Vec::new();
            for &i in &picks {
                let duration = 2 + 2 * (i % 2);
                let centre = 4.0 + 4.5 * i as f32;
                for f in 0..duration {
                    let mut column = [-4.0f32; N_MELS];
                    for (ch, v) in column.iter_mut().enumerate() {
                        let d = (ch as f32 - centre) / 3.0;
                        *v += 7.0 * (-d * d).exp() * (1.0 - 0.15 * f as f32);
                    }
                    columns.push(column);
                }
            }
            let frames = columns.len();
            let mut mel = vec![0f32; N_MELS * frames];
            for (f, column) in columns.iter().enumerate() {
                for ch in 0..N_MELS {
                    mel[ch * frames + f] = column[ch];
                }
            }
            // One speaker: the d-vector cannot tell the utterances apart.
            let embedding = vec![1.0 / (SPEAKER_DIMS as f32).sqrt(); SPEAKER_DIMS];
            Example {
                chars,
                mel,
                frames,
                embedding,
            }
        })
        .collect()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

#[test]
fn the_training_pass_is_the_inference_network() {
    // With dropout off and each batch norm's running statistics set to what the training pass
    // measured on the batch, training mode and the (parity-tested) inference network agree.
    let device = Device::Cpu;
    let examples = toy_corpus(3, 1);
    let trainable = TrainableTacotron::new(TacotronConfig::tiny(), 2, 7, &device).unwrap();
    let batch = Batch::new(&examples.iter().collect::<Vec<_>>(), N_MELS, 2, &device).unwrap();
    let train = batch
        .teacher_forced(trainable.model(), &mut Dropout::Off)
        .unwrap();
    let mut state = trainable.state(0).unwrap();
    let stats = trainable_stats(&trainable, &batch);
    assert_eq!(
        stats.len(),
        2 * (3 + 2),
        "two CBHGs of 3 bank and 2 projection convolutions"
    );
    for (prefix, mean, var) in stats {
        state.insert(format!("{prefix}.running_mean"), mean);
        state.insert(format!("{prefix}.running_var"), var);
    }
    let r = Tacotron::stored_r(&state).unwrap();
    let config = TacotronConfig::from_tensors(&state).unwrap();
    assert_eq!(config, TacotronConfig::tiny());
    let inference = Tacotron::load(
        config,
        r,
        candle_nn::VarBuilder::from_tensors(state, DType::F32, &device),
    )
    .unwrap();
    let infer = batch.teacher_forced(&inference, &mut Dropout::Off).unwrap();
    for (what, a, b, tol) in [
        ("decoder mel", &train.decoder_mel, &infer.decoder_mel, 1e-4),
        ("post-net mel", &train.mel, &infer.mel, 1e-4),
        ("alignment", &train.alignment, &infer.alignment, 1e-5),
        ("stop logits", &train.stop_logits, &infer.stop_logits, 1e-4),
    ] {
        let d = max_abs_diff(a, b);
        assert!(d < tol, "{what} differs by {d}");
    }
    assert_eq!(train.alignment.dims()[1], batch.mels.dims()[2] / 2);
}

/// The batch statistics a training pass records, by batch norm.
fn trainable_stats(model: &TrainableTacotron, batch: &Batch) -> Vec<(String, Tensor, Tensor)> {
    model.take_batch_stats();
    batch
        .teacher_forced(model.model(), &mut Dropout::Off)
        .unwrap();
    model
        .take_batch_stats()
        .into_iter()
        .map(|s| (s.prefix, s.mean, s.var))
        .collect()
}

fn schedule(r: usize, learning_rate: f64, batch_size: usize) -> Vec<Phase> {
    vec![Phase {
        r,
        learning_rate,
        until_step: usize::MAX,
        batch_size,
    }]
}

#[test]
fn a_resumed_run_continues_exactly() {
    let device = Device::Cpu;
    let examples = toy_corpus(4, 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synthesizer.safetensors");

    let model = TrainableTacotron::new(TacotronConfig::tiny(), 2, 3, &device).unwrap();
    let mut unbroken = Trainer::new(model, schedule(2, 1e-3, 2), 0, 5).unwrap();
    for _ in 0..2 {
        unbroken.step(&examples).unwrap();
    }
    unbroken.save(&path).unwrap();
    let expected = unbroken.step(&examples).unwrap();

    let tensors = candle_core::safetensors::load(&path, &device).unwrap();
    let step = tensors["step"].to_vec1::<i64>().unwrap()[0] as usize;
    assert_eq!(step, 2);
    let model = TrainableTacotron::from_tensors(&tensors, &device).unwrap();
    let mut resumed = Trainer::new(model, schedule(2, 1e-3, 2), step, 5).unwrap();
    assert!(resumed.resume_optimizer(&path).unwrap());
    let got = resumed.step(&examples).unwrap();
    assert_eq!(got, expected);

    // What training writes, inference reads.
    let loaded = Tacotron::load(
        TacotronConfig::from_tensors(&tensors).unwrap(),
        Tacotron::stored_r(&tensors).unwrap(),
        candle_nn::VarBuilder::from_tensors(tensors, DType::F32, &device),
    )
    .unwrap();
    assert_eq!(loaded.r(), 2);
}

/// Optimiser steps of the alignment test: the toy aligns by about step 500.
const STEPS: usize = 800;

#[test]
fn a_tiny_tacotron_learns_a_diagonal_alignment() {
    let device = Device::Cpu;
    let examples = toy_corpus(24, 3);
    // RTVC's pre-net dropout of 0.5 hides too much of a 64-wide model's text for the toy to
    // align in a CI-sized run; 0.2 aligns within a few hundred steps.
    let config = TacotronConfig {
        dropout: 0.2,
        ..TacotronConfig::tiny()
    };
    let model = TrainableTacotron::new(config, 2, 11, &device).unwrap();
    let mut trainer = Trainer::new(model, schedule(2, 1e-3, 8), 0, 13).unwrap();
    let evaluate = |trainer: &Trainer| -> (f32, f32, f32) {
        let model = trainer.model.snapshot().unwrap();
        let refs: Vec<&Example> = examples.iter().collect();
        let batch = Batch::new(&refs, N_MELS, 2, &device).unwrap();
        let out = batch.teacher_forced(&model, &mut Dropout::Off).unwrap();
        let (_, losses) = loss(&out, &batch, None).unwrap();
        let (mut corr, mut focus) = (0.0, 0.0);
        for (i, e) in examples.iter().enumerate() {
            let a = out.alignment.get(i).unwrap();
            let (c, f) = alignment_score(&a, e.frames.div_ceil(2), e.chars.len()).unwrap();
            corr += c / examples.len() as f32;
            focus += f / examples.len() as f32;
        }
        (losses.total, corr, focus)
    };
    let before = evaluate(&trainer);
    for _ in 0..STEPS {
        trainer.step(&examples).unwrap();
    }
    let after = evaluate(&trainer);
    eprintln!("(loss, alignment correlation, focus): before {before:?}, after {after:?}");
    assert!(
        before.2 < 0.3,
        "attention starts spread out: focus {}",
        before.2
    );
    assert!(after.0 < 0.1 * before.0, "loss {} → {}", before.0, after.0);
    assert!(after.1 > 0.9, "alignment correlation {}", after.1);
    assert!(after.2 > 0.6, "alignment focus {}", after.2);
}

#[test]
fn gradients_match_finite_differences() {
    // Each tensor's largest gradient element against a central difference: a check on the
    // whole training graph (candle's own convolution gradients are wrong for batches, and
    // its fused softmax has none; see `conv1d_unfolded` and the attention).
    let device = Device::Cpu;
    let examples = toy_corpus(3, 3);
    let model = TrainableTacotron::new(TacotronConfig::tiny(), 2, 11, &device).unwrap();
    let refs: Vec<&Example> = examples.iter().collect();
    let batch = Batch::new(&refs, N_MELS, 2, &device).unwrap();
    let eval = || {
        let out = batch
            .teacher_forced(model.model(), &mut Dropout::Off)
            .unwrap();
        // With guided attention, so that its gradient is checked too.
        loss(&out, &batch, Some(GUIDE)).unwrap().0
    };
    let grads = model.backward(&eval()).unwrap();
    let wanted = [
        "encoder.embedding.weight",
        "encoder.cbhg.conv1d_bank.1.conv.weight",
        "encoder.cbhg.conv_project1.bnorm.weight",
        "encoder.cbhg.rnn.weight_hh_l0_reverse",
        "decoder.attn_net.conv.weight",
        "decoder.attn_net.L.weight",
        "decoder.attn_net.v.weight",
        "decoder.attn_rnn.weight_ih",
        "decoder.res_rnn1.weight_hh",
        "decoder.res_rnn2.weight_ih",
        "decoder.rnn_input.weight",
        "decoder.mel_proj.weight",
        "postnet.rnn.weight_ih_l0",
        "decoder.prenet.fc1.weight",
        "decoder.stop_proj.weight",
        "postnet.conv1d_bank.0.conv.weight",
        "postnet.conv1d_bank.1.conv.weight",
        "postnet.conv_project1.conv.weight",
        "postnet.conv_project2.conv.weight",
        "postnet.highways.0.W1.weight",
        "post_proj.weight",
    ];
    let mut checked = 0;
    for (name, var) in model.trainable() {
        if !wanted.contains(&name.as_str()) {
            continue;
        }
        let g = grads
            .get(&var)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let k = (0..g.len()).fold(0, |b, i| if g[i].abs() > g[b].abs() { i } else { b });
        let original = var
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let at = |delta: f32| {
            let mut moved = original.clone();
            moved[k] += delta;
            var.set(&Tensor::from_vec(moved, var.shape(), &device).unwrap())
                .unwrap();
            eval().to_scalar::<f32>().unwrap()
        };
        // The best of a few steps: large ones meet the curvature (and ReLU kinks), small ones
        // the loss's f32 rounding.
        let numeric: Vec<f32> = [1e-2f32, 5e-3, 2e-3, 1e-3]
            .iter()
            .map(|&e| (at(e) - at(-e)) / (2.0 * e))
            .collect();
        var.set(&Tensor::from_vec(original, var.shape(), &device).unwrap())
            .unwrap();
        let analytic = g[k];
        assert!(
            numeric
                .iter()
                .any(|n| (analytic - n).abs() <= 0.1 * analytic.abs() + 3e-4),
            "{name}[{k}]: back-propagated {analytic}, finite differences {numeric:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, wanted.len());
}

#[test]
fn guided_attention_costs_the_off_diagonal_within_each_utterance() {
    let device = Device::Cpu;
    let examples = toy_corpus(2, 7);
    let refs: Vec<&Example> = examples.iter().collect();
    let batch = Batch::new(&refs, N_MELS, 2, &device).unwrap();
    let steps = batch.mels.dim(2).unwrap() / 2;
    let n = batch.chars.dim(1).unwrap();
    let (costs, inside) = batch.attention_costs(steps, 2, 0.2).unwrap();
    assert_eq!(costs.dims(), &[2, steps, n]);
    let own = |i: usize| (examples[i].frames.div_ceil(2), examples[i].chars.len());
    assert_eq!(inside, own(0).0 * own(0).1 + own(1).0 * own(1).1);
    let c = costs.to_vec3::<f32>().unwrap();
    for (i, rows) in c.iter().enumerate() {
        let (s_i, n_i) = own(i);
        // Free at the start of both, dear at opposite corners, and nothing outside the
        // utterance's own text and speech (padding).
        assert_eq!(rows[0][0], 0.0);
        assert!(rows[0][n_i - 1] > 0.9 && rows[s_i - 1][0] > 0.9);
        for (s, row) in rows.iter().enumerate() {
            for (ch, &v) in row.iter().enumerate() {
                assert!((0.0..1.0).contains(&v));
                if s >= s_i || ch >= n_i {
                    assert_eq!(v, 0.0, "utterance {i}, step {s}, character {ch}");
                }
            }
        }
    }
    assert!(own(0).0.min(own(1).0) < steps, "the toy batch has padding");

    // A diagonal alignment costs little, one stuck on the first character a lot.
    let alignment = |diagonal: bool| {
        let mut a = vec![0f32; 2 * steps * n];
        for i in 0..2 {
            let (s_i, n_i) = own(i);
            for s in 0..s_i {
                let ch = if diagonal { s * n_i / s_i } else { 0 };
                a[(i * steps + s) * n + ch] = 1.0;
            }
        }
        Tensor::from_vec(a, (2, steps, n), &device).unwrap()
    };
    let penalty = |a: Tensor| {
        let out = voxclone_synthesizer::tacotron::TeacherForced {
            decoder_mel: batch.mels.clone(),
            mel: batch.mels.clone(),
            alignment: a,
            stop_logits: batch.stop.affine(40.0, -20.0).unwrap(),
        };
        let (total, terms) = loss(&out, &batch, Some(GUIDE)).unwrap();
        let (_, unguided) = loss(&out, &batch, None).unwrap();
        assert_eq!(unguided.attention, 0.0);
        let added = total.to_scalar::<f32>().unwrap() - unguided.total;
        assert!(
            (added - terms.attention).abs() < 1e-5,
            "{added} vs {terms:?}"
        );
        terms.attention
    };
    // The penalty is a mean over every (step, character) entry, so about 1/N of a row's cost.
    let (diagonal, stuck) = (penalty(alignment(true)), penalty(alignment(false)));
    assert!(stuck > 0.04, "stuck {stuck}");
    assert!(
        stuck > 10.0 * diagonal,
        "diagonal {diagonal}, stuck {stuck}"
    );
}
