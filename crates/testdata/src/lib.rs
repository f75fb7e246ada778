//! Test support: the shared real-speech clips and the golden data the reference implementation made.
//!
//! The clips live outside the repository (`../shared/data`, or `$VOXCLONE_SHARED_DATA`); the golden
//! files are committed under `golden/`. Missing data is a test failure, never a skip.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::Tensor;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared data folder (holds `librispeech-test-other/`).
pub fn shared_data_dir() -> PathBuf {
    let dir = std::env::var_os("VOXCLONE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"));
    assert!(
        dir.join("librispeech-test-other").is_dir(),
        "shared test data not found at {} (set VOXCLONE_SHARED_DATA)",
        dir.display()
    );
    dir
}

/// The 10 speakers × 10 utterances of LibriSpeech test-other.
pub fn test_other_dir() -> PathBuf {
    shared_data_dir().join("librispeech-test-other")
}

/// Golden data of the GE2E encoder, made by Resemblyzer 0.1.4 (see `golden/ge2e/README.md`).
pub struct Ge2eGolden {
    /// Clip paths, in golden order.
    pub clips: Vec<PathBuf>,
    all: HashMap<String, Tensor>,
    detail: HashMap<String, Tensor>,
}

impl Ge2eGolden {
    pub fn load() -> Self {
        let dir = repo_root().join("golden/ge2e");
        let data = test_other_dir();
        let clips = std::fs::read_to_string(dir.join("clips.txt"))
            .expect("golden/ge2e/clips.txt")
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| data.join(l))
            .collect();
        let read = |name: &str| -> HashMap<String, Tensor> {
            Tensor::read_npz(dir.join(name))
                .unwrap_or_else(|e| panic!("golden/ge2e/{name}: {e}"))
                .into_iter()
                .collect()
        };
        Self {
            clips,
            all: read("all.npz"),
            detail: read("detail.npz"),
        }
    }

    fn get<'a>(map: &'a HashMap<String, Tensor>, key: &str) -> &'a Tensor {
        map.get(key)
            .unwrap_or_else(|| panic!("golden key {key} missing"))
    }

    pub fn utterance_embeddings(&self) -> Vec<Vec<f32>> {
        Self::get(&self.all, "utterance_embeddings")
            .to_vec2()
            .unwrap()
    }

    pub fn speaker_embeddings(&self) -> Vec<Vec<f32>> {
        Self::get(&self.all, "speaker_embeddings")
            .to_vec2()
            .unwrap()
    }

    pub fn trimmed_len(&self) -> Vec<i64> {
        Self::get(&self.all, "trimmed_len").to_vec1().unwrap()
    }

    pub fn n_partials(&self) -> Vec<i64> {
        Self::get(&self.all, "n_partials").to_vec1().unwrap()
    }

    pub fn gain_db(&self) -> Vec<f64> {
        Self::get(&self.all, "gain_db").to_vec1().unwrap()
    }

    /// The final keep mask per 30 ms window of clip `i`.
    pub fn vad_keep(&self, i: usize) -> Vec<bool> {
        let m: Vec<u8> = Self::get(&self.all, &format!("vad_{i:03}"))
            .to_vec1()
            .unwrap();
        m.into_iter().map(|v| v != 0).collect()
    }

    /// WebRTC's raw speech flags per window of clip `i`.
    pub fn vad_raw(&self, i: usize) -> Vec<bool> {
        let m: Vec<u8> = Self::get(&self.all, &format!("vadraw_{i:03}"))
            .to_vec1()
            .unwrap();
        m.into_iter().map(|v| v != 0).collect()
    }

    /// Clips with mels, partial embeddings and preprocessed waveforms.
    pub fn detail_indices(&self) -> Vec<usize> {
        let v: Vec<i64> = Self::get(&self.detail, "detail_index").to_vec1().unwrap();
        v.into_iter().map(|i| i as usize).collect()
    }

    /// The mel (frames × 40) of the padded, preprocessed clip `i`.
    pub fn mel(&self, i: usize) -> Vec<Vec<f32>> {
        Self::get(&self.detail, &format!("mel_{i:03}"))
            .to_vec2()
            .unwrap()
    }

    pub fn partial_embeddings(&self, i: usize) -> Vec<Vec<f32>> {
        Self::get(&self.detail, &format!("partials_{i:03}"))
            .to_vec2()
            .unwrap()
    }

    /// The preprocessed (normalised, trimmed, unpadded) waveform of clip `i`.
    pub fn preprocessed_wav(&self, i: usize) -> Vec<f32> {
        Self::get(&self.detail, &format!("wav_{i:03}"))
            .to_vec1()
            .unwrap()
    }
}

/// Largest absolute difference between two equally long sequences.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// Golden outputs of Kokoro-82M on ONNX Runtime (see `golden/kokoro/README.md`).
pub struct KokoroGolden {
    /// Text of each sentence, and its phonemes (`sentences.tsv`).
    pub sentences: Vec<(String, String)>,
    data: HashMap<String, Tensor>,
}

/// One golden synthesis.
#[derive(Debug, Clone)]
pub struct KokoroCase {
    pub sentence: usize,
    pub speed: f32,
    /// Token ids with the boundary zeros.
    pub tokens: Vec<u32>,
    pub style: Vec<f32>,
    pub expected_durations: Vec<f32>,
    pub durations: Vec<u32>,
    pub f0: Vec<f32>,
    pub energy: Vec<f32>,
    pub audio: Vec<f32>,
}

impl KokoroGolden {
    pub fn load() -> Self {
        let dir = repo_root().join("golden/kokoro");
        let sentences = std::fs::read_to_string(dir.join("sentences.tsv"))
            .expect("golden/kokoro/sentences.tsv")
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (text, phonemes) = l.split_once('\t').expect("text<TAB>phonemes");
                (text.to_owned(), phonemes.to_owned())
            })
            .collect();
        let data = Tensor::read_npz(dir.join("golden.npz"))
            .unwrap_or_else(|e| panic!("golden/kokoro/golden.npz: {e}"))
            .into_iter()
            .collect();
        Self { sentences, data }
    }

    fn get(&self, key: &str) -> &Tensor {
        self.data
            .get(key)
            .unwrap_or_else(|| panic!("golden key {key} missing"))
    }

    fn ints(&self, key: &str) -> Vec<u32> {
        let v: Vec<i64> = self.get(key).to_vec1().unwrap();
        v.into_iter().map(|x| x as u32).collect()
    }

    fn floats(&self, key: &str) -> Vec<f32> {
        self.get(key).to_vec1().unwrap()
    }

    pub fn cases(&self) -> Vec<KokoroCase> {
        let sentence: Vec<i64> = self.get("case_sentence").to_vec1().unwrap();
        let speed: Vec<f32> = self.get("case_speed").to_vec1().unwrap();
        (0..sentence.len())
            .map(|c| KokoroCase {
                sentence: sentence[c] as usize,
                speed: speed[c],
                tokens: self.ints(&format!("tokens_{c}")),
                style: self.floats(&format!("style_{c}")),
                expected_durations: self.floats(&format!("duration_raw_{c}")),
                durations: self.ints(&format!("durations_{c}")),
                f0: self.floats(&format!("f0_{c}")),
                energy: self.floats(&format!("n_{c}")),
                audio: self.floats(&format!("audio_{c}")),
            })
            .collect()
    }
}

/// Pearson correlation of two equally long sequences.
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let n = a.len() as f64;
    let ma = a.iter().map(|&x| x as f64).sum::<f64>() / n;
    let mb = b.iter().map(|&x| x as f64).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x as f64 - ma, y as f64 - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

/// The golden data of RTVC's synthesizer mel (librosa), `crates/audio/tests/data/rtvc_mel.npz`
/// (made by `scripts/golden_rtvc_mel.py`; its docstring lists the keys).
pub fn rtvc_mel_golden() -> HashMap<String, Tensor> {
    let path = repo_root().join("crates/audio/tests/data/rtvc_mel.npz");
    Tensor::read_npz(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .collect()
}

/// One golden array, flattened to f64.
pub fn golden_f64s(golden: &HashMap<String, Tensor>, key: &str) -> Vec<f64> {
    golden[key]
        .flatten_all()
        .and_then(|t| t.to_dtype(candle_core::DType::F64))
        .and_then(|t| t.to_vec1())
        .unwrap_or_else(|e| panic!("{key}: {e}"))
}
