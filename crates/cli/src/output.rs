//! Writing results: a regular file atomically (temp file, then rename), so a failure never leaves
//! half a file; a device or a pipe in place (see `voxclone_audio::output`).

use std::path::Path;

use anyhow::{bail, Context, Result};

/// Writes `bytes` to `path`.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    voxclone::audio::output::write(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A `rows × cols` float32 matrix as a NumPy `.npy` file (version 1.0, C order).
pub fn npy_bytes(rows: &[&[f32]]) -> Result<Vec<u8>> {
    let cols = rows.first().map_or(0, |r| r.len());
    if rows.iter().any(|r| r.len() != cols) {
        bail!("rows of different lengths cannot form a matrix");
    }
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        rows.len(),
        cols
    );
    // Magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.div_ceil(64) * 64 - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + rows.len() * cols * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for row in rows {
        for v in *row {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips_through_candle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.npy");
        let (a, b) = ([1.0f32, 2.0, 3.0], [4.0f32, 5.0, 6.0]);
        write_output(&path, &npy_bytes(&[&a, &b]).unwrap()).unwrap();
        let t = candle_core::Tensor::read_npy(&path).unwrap();
        assert_eq!(t.to_vec2::<f32>().unwrap(), vec![a.to_vec(), b.to_vec()]);
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir/out.json");
        assert!(write_output(&path, b"{}").is_err());
        assert!(!path.exists());
    }
}
