//! bf16 rounding, shared by the kernels that feed bf16 products (AMX tiles, AVX-512 BF16).

/// bf16 nearest to `x` (round to nearest, ties to even, on the f32 bits). NaN payloads are not
/// preserved; weights and activations are finite.
#[inline(always)]
pub fn bf16(x: f32) -> u16 {
    let b = x.to_bits();
    (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// `(hi, lo)` with `hi = bf16(x)`, `lo = bf16(x - hi)`; `x - hi` is exact in f32.
#[inline(always)]
pub fn split(x: f32) -> (u16, u16) {
    let hi = bf16(x);
    (hi, bf16(x - f32::from_bits((hi as u32) << 16)))
}
