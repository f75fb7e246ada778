//! Scatter plots of 2-D maps (t-SNE of d-vectors) as PNG files, with no image library: a few
//! hundred coloured dots need only an RGB buffer and PNG's "stored" (uncompressed) deflate blocks.

/// Colours for groups (speakers), with names to print beside the plot (Tableau 10).
pub const PALETTE: [(&str, [u8; 3]); 10] = [
    ("blue", [31, 119, 180]),
    ("orange", [255, 127, 14]),
    ("green", [44, 160, 44]),
    ("red", [214, 39, 40]),
    ("purple", [148, 103, 189]),
    ("brown", [140, 86, 75]),
    ("pink", [227, 119, 194]),
    ("grey", [127, 127, 127]),
    ("olive", [188, 189, 34]),
    ("cyan", [23, 190, 207]),
];

/// A colour for `v` in `[0, 1]` on a dark-blue → teal → yellow ramp (close to viridis, the map
/// RTVC's alignment plots use), interpolated between five stops.
pub fn heat(v: f32) -> [u8; 3] {
    const STOPS: [[f32; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let x = v.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (x as usize).min(STOPS.len() - 2);
    let f = x - i as f32;
    std::array::from_fn(|c| (STOPS[i][c] + (STOPS[i + 1][c] - STOPS[i][c]) * f).round() as u8)
}

/// The name of group `g`'s colour (colours repeat after ten groups).
pub fn colour_name(g: usize) -> &'static str {
    PALETTE[g % PALETTE.len()].0
}

/// A `size × size` PNG of `points`, dot `i` coloured by `groups[i]`, scaled to fill the frame.
pub fn scatter_png(points: &[[f64; 2]], groups: &[usize], size: u32) -> Vec<u8> {
    assert_eq!(points.len(), groups.len(), "one group per point");
    let size = size.max(32) as usize;
    let mut rgb = vec![255u8; size * size * 3];
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points {
        for d in 0..2 {
            lo[d] = lo[d].min(p[d]);
            hi[d] = hi[d].max(p[d]);
        }
    }
    let margin = 12.0;
    let span = (size as f64) - 2.0 * margin;
    let to_pixel = |v: f64, d: usize| {
        let range = (hi[d] - lo[d]).max(1e-12);
        margin + (v - lo[d]) / range * span
    };
    const RADIUS: f64 = 4.5;
    for (p, &g) in points.iter().zip(groups) {
        let (cx, cy) = (to_pixel(p[0], 0), size as f64 - to_pixel(p[1], 1));
        let colour = PALETTE[g % PALETTE.len()].1;
        let (x0, x1) = (
            (cx - RADIUS).floor().max(0.0) as usize,
            ((cx + RADIUS).ceil() as usize).min(size - 1),
        );
        let (y0, y1) = (
            (cy - RADIUS).floor().max(0.0) as usize,
            ((cy + RADIUS).ceil() as usize).min(size - 1),
        );
        for y in y0..=y1 {
            for x in x0..=x1 {
                if (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2) <= RADIUS * RADIUS {
                    rgb[(y * size + x) * 3..][..3].copy_from_slice(&colour);
                }
            }
        }
    }
    encode_png_rgb(&rgb, size as u32, size as u32)
}

/// An 8-bit RGB image as PNG.
pub fn encode_png_rgb(rgb: &[u8], width: u32, height: u32) -> Vec<u8> {
    let row = width as usize * 3;
    assert_eq!(rgb.len(), row * height as usize, "image size");
    // Each scanline starts with its filter type (0: none).
    let mut raw = Vec::with_capacity((row + 1) * height as usize);
    for line in rgb.chunks_exact(row) {
        raw.push(0);
        raw.extend_from_slice(line);
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, adaptive filters, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of uncompressed deflate blocks (at most 65535 bytes each).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(65_535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + byte as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A t-SNE map of embeddings as a PNG, one colour per speaker.
pub fn projection_png(embeddings: &[crate::encoder::Embedding], speakers: &[usize]) -> Vec<u8> {
    let points: Vec<&[f32]> = embeddings.iter().map(|e| e.as_slice()).collect();
    let map = crate::encoder::projection::tsne(&points, &Default::default());
    crate::plot::scatter_png(&map, speakers, 480)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_match_known_values() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        let z = zlib_stored(b"Wikipedia");
        assert_eq!(&z[z.len() - 4..], &0x11E6_0398u32.to_be_bytes());
    }

    /// Reads back our own stored-block PNG: the pixel under a dot has its group's colour.
    #[test]
    fn a_dot_lands_where_its_point_is() {
        let png = scatter_png(&[[0.0, 0.0], [1.0, 1.0]], &[0, 1], 64);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
        let len = u32::from_be_bytes(png[idat - 4..idat].try_into().unwrap()) as usize;
        let zlib = &png[idat + 4..idat + 4 + len];
        let mut raw = Vec::new();
        let mut pos = 2;
        loop {
            let last = zlib[pos] & 1 == 1;
            let n = u16::from_le_bytes([zlib[pos + 1], zlib[pos + 2]]) as usize;
            raw.extend_from_slice(&zlib[pos + 5..pos + 5 + n]);
            pos += 5 + n;
            if last {
                break;
            }
        }
        let pixel = |x: usize, y: usize| &raw[y * (64 * 3 + 1) + 1 + x * 3..][..3];
        // (0, 0) maps to the bottom-left margin, (1, 1) to the top-right one.
        assert_eq!(pixel(12, 64 - 12), &PALETTE[0].1);
        assert_eq!(pixel(64 - 12, 12), &PALETTE[1].1);
        assert_eq!(pixel(32, 32), &[255, 255, 255]);
    }
}
