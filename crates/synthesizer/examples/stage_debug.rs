//! Development aid: feeds the reference's intermediates (scripts/dump_kokoro_intermediates.py)
//! into our decoder stages and prints the differences.
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use std::collections::HashMap;
use voxclone_synthesizer::{Kokoro, KokoroConfig};
use voxclone_testdata::correlation;
use voxclone_vocoder::SourceNoise;

fn cmp(name: &str, ours: &Tensor, theirs: &Tensor) -> anyhow::Result<()> {
    let a: Vec<f32> = ours.flatten_all()?.to_vec1()?;
    let b: Vec<f32> = theirs.flatten_all()?.to_vec1()?;
    let n = a.len().min(b.len());
    let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    let err: Vec<f32> = a[..n].iter().zip(&b[..n]).map(|(x, y)| x - y).collect();
    println!(
        "{name:40} dims {:?} vs {:?} corr {:.5} rms {:.4} vs {:.4} err rms {:.4}",
        ours.dims(),
        theirs.dims(),
        correlation(&a[..n], &b[..n]),
        rms(&a),
        rms(&b),
        rms(&err)
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dev = Device::Cpu;
    let vb = VarBuilder::from_npz(&args[1], DType::F32, &dev)?;
    let model = Kokoro::load(vb, KokoroConfig::default())?;
    let r: HashMap<String, Tensor> = Tensor::read_npz(&args[2])?.into_iter().collect();
    let g = |k: &str| {
        r.get(k)
            .unwrap_or_else(|| panic!("{k}"))
            .to_dtype(DType::F32)
            .unwrap()
    };
    let style = g("style").reshape((1, 256))?;
    let timbre = style.narrow(1, 0, 128)?;
    let f0 = g("predictor.F0_proj");
    let n = g("predictor.N_proj");
    let gen = model.decoder().generator();
    let har = gen.source_spectrum(&f0, SourceNoise::Off)?;
    let rh = g("decoder.generator.stft");
    cmp(
        "har magnitude",
        &har.narrow(1, 0, 11)?,
        &rh.narrow(1, 0, 11)?,
    )?;
    cmp("har phase", &har.narrow(1, 11, 11)?, &rh.narrow(1, 11, 11)?)?;
    {
        let (m, p): (Vec<f32>, Vec<f32>) = (
            har.narrow(1, 0, 11)?.flatten_all()?.to_vec1()?,
            har.narrow(1, 11, 11)?.flatten_all()?.to_vec1()?,
        );
        let rp: Vec<f32> = rh.narrow(1, 11, 11)?.flatten_all()?.to_vec1()?;
        let mut big = 0;
        let mut bad = 0;
        let mut worst = 0f32;
        for i in 0..m.len() {
            if m[i] > 0.01 {
                big += 1;
                let d = (p[i] - rp[i]).abs();
                let d = d.min(2.0 * std::f32::consts::PI - d);
                worst = worst.max(d);
                if d > 0.05 {
                    bad += 1;
                }
            }
        }
        println!(
            "phase where magnitude > 0.01: {big} values, {bad} differ by > 0.05 rad, worst {worst}"
        );
    }
    let audio = gen.forward(&g("decoder.decode.3"), &timbre, &f0, SourceNoise::Off)?;
    cmp("generator(ref x) audio", &audio, &g("audio"))?;
    let audio = model
        .decoder()
        .forward(&g("asr"), &f0, &n, &timbre, SourceNoise::Off)?;
    cmp("decoder(ref asr) audio", &audio, &g("audio"))?;
    Ok(())
}
