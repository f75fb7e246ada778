//! The state dict inside a PyTorch checkpoint, in either of the two formats `torch.save` writes.
//!
//! - **zip** (torch ≥ 1.6): read by `candle_core::pickle::read_all_with_key`.
//! - **legacy** (torch < 1.6, e.g. Resemblyzer's `pretrained.pt`), which candle does not read.
//!   After `torch/serialization.py::_legacy_save` the file is a run of protocol-2 pickles, then
//!   raw storages:
//!   1. the magic number `0x1950a86a20f9469cfc6c`;
//!   2. the protocol version, 1001;
//!   3. `sys_info` (`little_endian`, type sizes);
//!   4. the saved object, whose tensors point at storages through persistent ids
//!      `('storage', <type>, key, location, numel, view_metadata)`; tensors may be views at an
//!      offset into a shared storage (cuDNN's flat LSTM weights are);
//!   5. the sorted list of storage keys;
//!   6. for each key in that order: its element count as a little-endian `u64`, then its
//!      elements, raw little-endian.
//!
//!   The pickles are parsed with candle's `pickle::Stack`; the framing around them, and the
//!   tensors (any storage type, `IntStorage` included, contiguous or strided), are ours.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use candle_core::pickle::{Object, Stack};
use candle_core::{Device, Tensor};

/// What `torch.save` writes first in the legacy format: the pickle (protocol 2) of the magic
/// number `0x1950a86a20f9469cfc6c`.
const LEGACY_MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
];
const LEGACY_PROTOCOL_VERSION: i32 = 1001;
const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

type Result<T> = std::result::Result<T, String>;

/// The tensors of the dict stored under `key` in the checkpoint at `path`, on the CPU.
pub(crate) fn read_state_dict(path: &Path, key: &str) -> Result<Vec<(String, Tensor)>> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut head = [0u8; 4];
    file.read_exact(&mut head)
        .map_err(|e| format!("too short to be a checkpoint: {e}"))?;
    if head == ZIP_MAGIC {
        drop(file);
        return read_zip(path, Some(key));
    }
    drop(file);
    let file = File::open(path).map_err(|e| e.to_string())?;
    read_legacy(file, key)
}

/// The tensors of a checkpoint's state dict: the dict under `key` when the checkpoint is a dict
/// holding one (RTVC writes `{"model_state": …, "optimizer_state": …}`), else the top-level dict
/// (RTVC's older vocoder checkpoints are a bare state dict).
pub fn read_checkpoint(path: &Path, key: &str) -> Result<Vec<(String, Tensor)>> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut head = [0u8; 4];
    file.read_exact(&mut head)
        .map_err(|e| format!("too short to be a checkpoint: {e}"))?;
    drop(file);
    if head == ZIP_MAGIC {
        return match read_zip(path, Some(key)) {
            Err(e) if e.starts_with(NO_DICT) => read_zip(path, None),
            other => other,
        };
    }
    read_state_dict(path, key)
}

const NO_DICT: &str = "no dict";

/// Reads a zip-format checkpoint (torch ≥ 1.6): `<archive>/data.pkl` is the pickled object, and
/// each storage is the file `<archive>/data/<key>`. candle's own reader skips `IntStorage`
/// tensors, and RTVC keeps its reduction factor `decoder.r` in one, so ours reads those too
/// (as I64).
fn read_zip(path: &Path, key: Option<&str>) -> Result<Vec<(String, Tensor)>> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| e.to_string())?;
    let pickle_name = zip
        .file_names()
        .filter_map(|n| n.ok())
        .find(|n| n.ends_with("data.pkl"))
        .map(|n| n.into_owned())
        .ok_or("a zip file without data.pkl is not a PyTorch checkpoint")?;
    let dir = pickle_name.trim_end_matches(".pkl").to_owned();
    let object = {
        let entry = zip.by_name(&pickle_name).map_err(|e| e.to_string())?;
        read_pickle(&mut BufReader::new(entry), "checkpoint object")?
    };
    let state = match key {
        Some(key) => dict_entries(&object)
            .and_then(|entries| lookup(entries, key))
            .and_then(dict_entries)
            .ok_or_else(|| format!("{NO_DICT} {key:?} in the checkpoint"))?,
        None => dict_entries(&object).ok_or("the checkpoint is not a dict of tensors")?,
    };
    let mut tensors = Vec::with_capacity(state.len());
    for (name, value) in state {
        let Object::Unicode(name) = name else {
            continue;
        };
        let Some(stored) = stored_tensor(value) else {
            // Not a tensor: e.g. `_metadata`, which candle's BUILD merges into the dict.
            continue;
        };
        let entry_name = format!("{dir}/{}", stored.storage);
        let mut bytes = Vec::new();
        zip.by_name(&entry_name)
            .and_then(|mut entry| Ok(entry.read_to_end(&mut bytes)?))
            .map_err(|e| format!("tensor {name}: storage {entry_name}: {e}"))?;
        tensors.push((name.clone(), stored.to_tensor(&bytes, name)?));
    }
    Ok(tensors)
}

/// What `_rebuild_tensor_v2(storage, offset, size, stride, …)` says about one tensor.
struct StoredTensor {
    storage: String,
    class: String,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

fn stored_tensor(value: &Object) -> Option<StoredTensor> {
    let Object::Reduce { callable, args } = value else {
        return None;
    };
    match callable.as_ref() {
        Object::Class { class_name, .. } if class_name == "_rebuild_tensor_v2" => {}
        _ => return None,
    }
    let Object::Tuple(args) = args.as_ref() else {
        return None;
    };
    let [Object::PersistentLoad(id), offset, shape, stride, ..] = args.as_slice() else {
        return None;
    };
    let Object::Tuple(id) = id.as_ref() else {
        return None;
    };
    let [_, Object::Class { class_name, .. }, Object::Unicode(storage), ..] = id.as_slice() else {
        return None;
    };
    let usizes = |o: &Object| -> Option<Vec<usize>> {
        match o {
            Object::Tuple(items) => items.iter().map(as_usize).collect(),
            _ => None,
        }
    };
    Some(StoredTensor {
        storage: storage.clone(),
        class: class_name.clone(),
        offset: as_usize(offset)?,
        shape: usizes(shape)?,
        stride: usizes(stride)?,
    })
}

fn as_usize(o: &Object) -> Option<usize> {
    match o {
        Object::Int(n) => usize::try_from(*n).ok(),
        Object::Long(n) => usize::try_from(*n).ok(),
        _ => None,
    }
}

impl StoredTensor {
    fn to_tensor(&self, storage: &[u8], name: &str) -> Result<Tensor> {
        use candle_core::DType;
        let (dtype, elem) = match self.class.as_str() {
            "FloatStorage" => (DType::F32, 4),
            "DoubleStorage" => (DType::F64, 8),
            "HalfStorage" => (DType::F16, 2),
            "BFloat16Storage" => (DType::BF16, 2),
            "LongStorage" => (DType::I64, 8),
            "IntStorage" => (DType::I64, 4),
            "ByteStorage" | "BoolStorage" => (DType::U8, 1),
            other => return Err(format!("tensor {name}: unsupported storage type {other}")),
        };
        let count: usize = self.shape.iter().product();
        let mut contiguous = vec![1usize; self.shape.len()];
        for d in (0..self.shape.len().saturating_sub(1)).rev() {
            contiguous[d] = contiguous[d + 1] * self.shape[d + 1];
        }
        // A strided view (e.g. a transposed tensor saved as is) is gathered element by element.
        let gathered;
        let bytes = if count > 1 && self.stride != contiguous {
            let mut out = Vec::with_capacity(count * elem);
            for i in 0..count {
                let (mut rest, mut at) = (i, self.offset);
                for d in (0..self.shape.len()).rev() {
                    at += (rest % self.shape[d]) * self.stride[d];
                    rest /= self.shape[d];
                }
                let bytes = storage.get(at * elem..(at + 1) * elem).ok_or_else(|| {
                    format!(
                        "tensor {name} reads past its {}-byte storage",
                        storage.len()
                    )
                })?;
                out.extend_from_slice(bytes);
            }
            gathered = out;
            &gathered[..]
        } else {
            let start = self.offset * elem;
            let end = start + count * elem;
            storage.get(start..end).ok_or_else(|| {
                format!(
                    "tensor {name} reads bytes {start}..{end} of a {}-byte storage",
                    storage.len()
                )
            })?
        };
        let tensor = if self.class == "IntStorage" {
            let values: Vec<i64> = bytes
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64)
                .collect();
            Tensor::from_vec(values, self.shape.as_slice(), &Device::Cpu)
        } else {
            Tensor::from_raw_buffer(bytes, dtype, &self.shape, &Device::Cpu)
        };
        tensor.map_err(|e| format!("tensor {name}: {e}"))
    }
}

/// Reads a legacy-format checkpoint from its first byte (see the module docs).
pub(crate) fn read_legacy(reader: impl Read, key: &str) -> Result<Vec<(String, Tensor)>> {
    let mut r = BufReader::new(reader);
    let mut magic = [0u8; LEGACY_MAGIC.len()];
    r.read_exact(&mut magic)
        .map_err(|e| format!("too short to be a checkpoint: {e}"))?;
    if magic != LEGACY_MAGIC {
        return Err("neither a zip nor a legacy PyTorch checkpoint (bad magic number)".into());
    }
    match read_pickle(&mut r, "protocol version")? {
        Object::Int(LEGACY_PROTOCOL_VERSION) => {}
        other => return Err(format!("unsupported legacy protocol version {other:?}")),
    }
    let sys_info = read_pickle(&mut r, "sys_info")?;
    let little_endian = dict_entries(&sys_info)
        .and_then(|entries| lookup(entries, "little_endian"))
        .is_some_and(|v| *v == Object::Bool(true));
    if !little_endian {
        return Err("saved on a big-endian machine, or sys_info is missing".into());
    }
    let object = read_pickle(&mut r, "checkpoint object")?;
    let storage_keys = match read_pickle(&mut r, "storage keys")? {
        Object::List(keys) => keys
            .into_iter()
            .map(|k| {
                k.unicode()
                    .map_err(|k| format!("storage key {k:?} is not a string"))
            })
            .collect::<Result<Vec<String>>>()?,
        other => return Err(format!("storage keys: expected a list, got {other:?}")),
    };

    let mut storages = HashMap::new();
    collect_storages(&object, &mut storages);
    let state = dict_entries(&object)
        .and_then(|entries| lookup(entries, key))
        .and_then(dict_entries)
        .ok_or_else(|| format!("no dict {key:?} in the checkpoint"))?
        .to_vec();

    let mut infos = Vec::with_capacity(state.len());
    for (name, value) in state {
        match (name, stored_tensor(&value)) {
            (Object::Unicode(name), Some(stored)) => infos.push((name, stored)),
            // Not a tensor: e.g. `_metadata`, which a state dict carries as an attribute and
            // candle's BUILD merges into the dict. The caller checks which tensors it got.
            (name, _) => tracing::debug!("skipping {key} entry {name:?}: not a tensor"),
        }
    }
    let mut needed: HashSet<String> = infos.iter().map(|(_, t)| t.storage.clone()).collect();

    // Storages follow one another in key order; read the needed ones, skip the rest.
    let mut data: HashMap<String, Vec<u8>> = HashMap::new();
    for storage in &storage_keys {
        if needed.is_empty() {
            break;
        }
        let meta = storages
            .get(storage)
            .ok_or_else(|| format!("storage {storage} is listed but never used"))?;
        let mut count = [0u8; 8];
        r.read_exact(&mut count)
            .map_err(|e| format!("storage {storage}: {e}"))?;
        let count = u64::from_le_bytes(count);
        if count != meta.numel {
            return Err(format!(
                "storage {storage} holds {count} elements, its tensors say {}",
                meta.numel
            ));
        }
        let elem_size = element_size(&meta.class)
            .ok_or_else(|| format!("storage {storage} has unsupported type {}", meta.class))?;
        let bytes = count
            .checked_mul(elem_size)
            .ok_or_else(|| format!("storage {storage} is impossibly large"))?;
        let mut limited = r.by_ref().take(bytes);
        if needed.remove(storage) {
            if meta.is_view {
                return Err(format!(
                    "storage {storage} is a storage view, not supported"
                ));
            }
            let mut buf = Vec::with_capacity(bytes as usize);
            limited
                .read_to_end(&mut buf)
                .map_err(|e| format!("storage {storage}: {e}"))?;
            data.insert(storage.clone(), buf);
        } else {
            std::io::copy(&mut limited, &mut std::io::sink())
                .map_err(|e| format!("storage {storage}: {e}"))?;
        }
        if limited.limit() != 0 {
            return Err(format!("storage {storage} is truncated"));
        }
    }
    if let Some(missing) = needed.iter().next() {
        return Err(format!("storage {missing} is not in the file"));
    }

    infos
        .into_iter()
        .map(|(name, stored)| {
            let tensor = stored.to_tensor(&data[&stored.storage], &name)?;
            Ok((name, tensor))
        })
        .collect()
}

fn read_pickle(r: &mut impl BufRead, what: &str) -> Result<Object> {
    let mut stack = Stack::empty();
    stack
        .read_loop(r)
        .map_err(|e| format!("cannot parse the {what} pickle: {e}"))?;
    stack
        .finalize()
        .map_err(|e| format!("cannot parse the {what} pickle: {e}"))
}

fn dict_entries(object: &Object) -> Option<&[(Object, Object)]> {
    match object {
        Object::Dict(entries) => Some(entries),
        _ => None,
    }
}

fn lookup<'a>(entries: &'a [(Object, Object)], key: &str) -> Option<&'a Object> {
    entries
        .iter()
        .find(|(k, _)| matches!(k, Object::Unicode(k) if k == key))
        .map(|(_, v)| v)
}

/// A storage as its persistent id describes it.
struct StorageMeta {
    class: String,
    numel: u64,
    is_view: bool,
}

/// Finds every storage persistent id anywhere in `object` (optimizer state included, so that
/// storages we do not need can be skipped by size).
fn collect_storages(object: &Object, out: &mut HashMap<String, StorageMeta>) {
    match object {
        Object::PersistentLoad(id) => {
            let Object::Tuple(items) = id.as_ref() else {
                return;
            };
            let [Object::Unicode(kind), Object::Class { class_name, .. }, Object::Unicode(key), _location, numel, rest @ ..] =
                items.as_slice()
            else {
                return;
            };
            let numel = match numel {
                Object::Int(n) => u64::try_from(*n).ok(),
                Object::Long(n) => u64::try_from(*n).ok(),
                _ => None,
            };
            if let (true, Some(numel)) = (kind == "storage", numel) {
                out.insert(
                    key.clone(),
                    StorageMeta {
                        class: class_name.clone(),
                        numel,
                        is_view: rest.first().is_some_and(|v| *v != Object::None),
                    },
                );
            }
        }
        Object::Tuple(items) | Object::List(items) => {
            items.iter().for_each(|o| collect_storages(o, out));
        }
        Object::Dict(entries) => entries.iter().for_each(|(k, v)| {
            collect_storages(k, out);
            collect_storages(v, out);
        }),
        Object::Reduce { callable, args } | Object::Build { callable, args } => {
            collect_storages(callable, out);
            collect_storages(args, out);
        }
        _ => {}
    }
}

fn element_size(storage_class: &str) -> Option<u64> {
    Some(match storage_class {
        "ByteStorage" | "CharStorage" | "BoolStorage" => 1,
        "ShortStorage" | "HalfStorage" | "BFloat16Storage" => 2,
        "IntStorage" | "FloatStorage" => 4,
        "LongStorage" | "DoubleStorage" | "ComplexFloatStorage" => 8,
        "ComplexDoubleStorage" => 16,
        _ => return None,
    })
}

/// Writers of small checkpoints in both formats, the way `torch.save` lays them out.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// One tensor to save: name, shape, values, and which storage (key) holds it.
    pub(crate) struct Saved<'a> {
        pub name: &'a str,
        pub shape: Vec<usize>,
        pub values: Vec<f32>,
        pub storage: &'a str,
    }

    /// Protocol-2 pickle opcodes, enough for a checkpoint.
    #[derive(Default)]
    pub(crate) struct Pickle(pub Vec<u8>);

    impl Pickle {
        pub(crate) fn op(&mut self, ops: &[u8]) -> &mut Self {
            self.0.extend_from_slice(ops);
            self
        }
        pub(crate) fn unicode(&mut self, s: &str) -> &mut Self {
            self.0.push(b'X');
            self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
            self.op(s.as_bytes())
        }
        pub(crate) fn int(&mut self, v: i32) -> &mut Self {
            self.0.push(b'J');
            self.op(&v.to_le_bytes())
        }
        pub(crate) fn global(&mut self, module: &str, name: &str) -> &mut Self {
            self.op(format!("c{module}\n{name}\n").as_bytes())
        }
        pub(crate) fn ints(&mut self, values: &[usize]) -> &mut Self {
            self.op(b"(");
            for v in values {
                self.int(*v as i32);
            }
            self.op(b"t")
        }
        /// `_rebuild_tensor_v2(storage, offset, shape, strides, False, OrderedDict())`, the
        /// storage given by its persistent id (6-tuple, as the legacy format writes it).
        pub(crate) fn tensor(
            &mut self,
            storage: &str,
            storage_class: &str,
            numel: usize,
            offset: usize,
            shape: &[usize],
        ) -> &mut Self {
            let mut strides = vec![1; shape.len()];
            for d in (0..shape.len().saturating_sub(1)).rev() {
                strides[d] = strides[d + 1] * shape[d + 1];
            }
            self.global("torch._utils", "_rebuild_tensor_v2").op(b"((");
            self.unicode("storage").global("torch", storage_class);
            self.unicode(storage).unicode("cpu").int(numel as i32);
            self.op(b"NtQ")
                .int(offset as i32)
                .ints(shape)
                .ints(&strides);
            self.op(&[0x89]).global("collections", "OrderedDict");
            self.op(b")RtR")
        }
    }

    /// The storages of `tensors` in key order: key → (values, offset of each tensor).
    fn pack<'a>(tensors: &'a [Saved<'a>]) -> Vec<(&'a str, Vec<f32>, Vec<usize>)> {
        let mut keys: Vec<&str> = tensors.iter().map(|t| t.storage).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
            .map(|key| {
                let mut values = Vec::new();
                let mut offsets = Vec::new();
                for t in tensors.iter().filter(|t| t.storage == key) {
                    offsets.push(values.len());
                    values.extend_from_slice(&t.values);
                }
                (key, values, offsets)
            })
            .collect()
    }

    /// `{"step": 1, "model_state": OrderedDict(tensors), "optimizer_state": <LongStorage
    /// tensor>}` in the legacy format. Tensors sharing a storage key sit at offsets in it,
    /// like cuDNN's flat LSTM weights; the optimizer's storage `"0"` sorts first, so reading
    /// must skip it.
    pub(crate) fn legacy_checkpoint(key: &str, tensors: &[Saved]) -> Vec<u8> {
        let storages = pack(tensors);
        let mut out = LEGACY_MAGIC.to_vec();
        out.extend_from_slice(&[0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]); // 1001
        let mut sys = Pickle::default();
        sys.op(&[0x80, 2])
            .op(b"}(")
            .unicode("protocol_version")
            .int(1001);
        sys.unicode("little_endian")
            .op(&[0x88])
            .unicode("type_sizes")
            .op(b"}(");
        sys.unicode("int").int(4).op(b"uu.");
        out.extend_from_slice(&sys.0);

        let mut p = Pickle::default();
        p.op(&[0x80, 2])
            .op(b"}(")
            .unicode("step")
            .int(1)
            .unicode(key);
        p.global("collections", "OrderedDict").op(b")R(");
        for (key, values, offsets) in &storages {
            let in_storage = tensors.iter().filter(|t| t.storage == *key);
            for (t, offset) in in_storage.zip(offsets) {
                p.unicode(t.name);
                p.tensor(key, "FloatStorage", values.len(), *offset, &t.shape);
            }
        }
        p.op(b"u").unicode("optimizer_state");
        p.tensor("0", "LongStorage", 3, 0, &[3]);
        p.op(b"u.");
        out.extend_from_slice(&p.0);

        let mut keys = Pickle::default();
        keys.op(&[0x80, 2]).op(b"](").unicode("0");
        for (key, _, _) in &storages {
            keys.unicode(key);
        }
        out.extend_from_slice(&keys.op(b"e.").0);

        out.extend_from_slice(&3u64.to_le_bytes());
        out.extend(std::iter::repeat_n(0xEE, 3 * 8)); // the LongStorage, skipped
        for (_, values, _) in &storages {
            out.extend_from_slice(&(values.len() as u64).to_le_bytes());
            out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        }
        out
    }

    /// `{"step": 1, key: OrderedDict(tensors)}` in the zip format (one storage per tensor).
    pub(crate) fn zip_checkpoint(key: &str, tensors: &[Saved]) -> Vec<u8> {
        let mut p = Pickle::default();
        p.op(&[0x80, 2])
            .op(b"}(")
            .unicode("step")
            .int(1)
            .unicode(key);
        p.global("collections", "OrderedDict").op(b")R(");
        for (i, t) in tensors.iter().enumerate() {
            p.unicode(t.name);
            p.tensor(&i.to_string(), "FloatStorage", t.values.len(), 0, &t.shape);
        }
        p.op(b"uu.");
        let mut members: Vec<(String, Vec<u8>)> = vec![
            ("archive/data.pkl".to_owned(), p.0),
            ("archive/version".to_owned(), b"3\n".to_vec()),
        ];
        for (i, t) in tensors.iter().enumerate() {
            let bytes = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            members.push((format!("archive/data/{i}"), bytes));
        }
        let members: Vec<(&str, &[u8])> = members
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        crate::test_server::fake_wheel(&members)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    fn sample() -> Vec<Saved<'static>> {
        vec![
            Saved {
                name: "lstm.weight",
                shape: vec![3, 2],
                values: vec![1., 2., 3., 4., 5., 6.],
                storage: "flat",
            },
            Saved {
                name: "lstm.bias",
                shape: vec![3],
                values: vec![-1., -2., -3.],
                storage: "flat",
            },
            Saved {
                name: "linear.bias",
                shape: vec![2],
                values: vec![0.5, 0.25],
                storage: "lin",
            },
        ]
    }

    fn check(read: Vec<(String, Tensor)>) {
        let read: HashMap<String, Tensor> = read.into_iter().collect();
        assert_eq!(read.len(), 3);
        for saved in sample() {
            let t = &read[saved.name];
            assert_eq!(t.dims(), saved.shape.as_slice(), "{}", saved.name);
            let values = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert_eq!(values, saved.values, "{}", saved.name);
        }
    }

    #[test]
    fn legacy_checkpoints_with_shared_storages_are_read() {
        let bytes = legacy_checkpoint("model_state", &sample());
        check(read_legacy(bytes.as_slice(), "model_state").unwrap());
        let err = read_legacy(bytes.as_slice(), "other").unwrap_err();
        assert!(err.contains("no dict \"other\""), "{err}");
    }

    #[test]
    fn both_formats_are_recognised_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("legacy.pt", legacy_checkpoint("model_state", &sample())),
            ("zip.pt", zip_checkpoint("model_state", &sample())),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            check(read_state_dict(&path, "model_state").unwrap());
        }
    }

    #[test]
    fn truncated_or_foreign_legacy_files_are_errors() {
        let bytes = legacy_checkpoint("model_state", &sample());
        let err = read_legacy(&bytes[..bytes.len() - 4], "model_state").unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        let err = read_legacy(&b"\x80\x02}q\x00."[..], "model_state").unwrap_err();
        assert!(err.contains("too short") || err.contains("magic"), "{err}");
        let mut other = bytes.clone();
        other[5] ^= 1;
        assert!(read_legacy(other.as_slice(), "model_state")
            .unwrap_err()
            .contains("magic"));
    }
}
