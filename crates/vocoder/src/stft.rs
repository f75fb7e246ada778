//! The short-time Fourier transforms at the ends of iSTFTNet: the forward STFT of the
//! harmonic source (outside the graph, with realfft) and the inverse STFT that turns the
//! predicted magnitude and phase into a waveform (inside the graph, so it is differentiable).
//!
//! Both follow `torch.stft`/`torch.istft` with `center=True`, a periodic Hann window as long as
//! the FFT, and reflect padding; the forward one is `voxclone_audio::spectral::CentredStft`.

use std::f64::consts::PI;

use candle_core::{Device, Result, Tensor};

use voxclone_audio::spectral::{periodic_hann as hann_periodic, CentredStft};

/// Magnitude and phase spectra of `signal`: `(bins × frames, bins × frames)` row-major, with
/// `bins = n_fft / 2 + 1` and `frames = len / hop + 1`.
pub fn stft_magnitude_phase(signal: &[f32], n_fft: usize, hop: usize) -> (Vec<f32>, Vec<f32>) {
    let signal: Vec<f64> = signal.iter().map(|&x| x as f64).collect();
    CentredStft::new(n_fft, hop, n_fft).magnitude_phase(&signal)
}

/// The inverse STFT as one transposed convolution: its kernel holds, for every real and
/// imaginary input channel, the windowed inverse-DFT basis function, so that the transposed
/// convolution's overlap-add *is* the inverse STFT's; dividing by the summed squared window and
/// trimming the centre padding completes `torch.istft`.
#[derive(Debug, Clone)]
pub struct InverseStft {
    /// `[2 · bins, 1, n_fft]`: real parts' basis, then imaginary parts', in polyphase form
    /// (see [`voxclone_nn::layers::polyphase_kernel`]).
    kernel: Tensor,
    window: Vec<f64>,
    n_fft: usize,
    hop: usize,
}

impl InverseStft {
    pub fn new(n_fft: usize, hop: usize, device: &Device) -> Result<Self> {
        let bins = n_fft / 2 + 1;
        let window = hann_periodic(n_fft);
        let mut kernel = vec![0f32; 2 * bins * n_fft];
        for k in 0..bins {
            // Bins other than DC and Nyquist stand for their mirror image too.
            let weight = if k == 0 || 2 * k == n_fft { 1.0 } else { 2.0 } / n_fft as f64;
            for n in 0..n_fft {
                let angle = 2.0 * PI * (k * n) as f64 / n_fft as f64;
                kernel[k * n_fft + n] = (weight * angle.cos() * window[n]) as f32;
                kernel[(bins + k) * n_fft + n] = (-weight * angle.sin() * window[n]) as f32;
            }
        }
        let kernel = Tensor::from_vec(kernel, (2 * bins, 1, n_fft), device)?;
        Ok(Self {
            kernel: voxclone_nn::layers::polyphase_kernel(&kernel, hop)?,
            window,
            n_fft,
            hop,
        })
    }

    /// `magnitude`, `phase`: `[B, bins, frames]` → waveform `[B, hop · (frames − 1)]`.
    pub fn forward(&self, magnitude: &Tensor, phase: &Tensor) -> Result<Tensor> {
        let (b, _, frames) = magnitude.dims3()?;
        let real = (magnitude * phase.cos()?)?;
        let imag = (magnitude * phase.sin()?)?;
        let spectrum = Tensor::cat(&[real, imag], 1)?;
        let overlapped = voxclone_nn::layers::conv_transpose1d_polyphase(
            &spectrum,
            &self.kernel,
            self.hop,
            0,
            self.n_fft,
        )?
        .reshape((b, ()))?;
        let len = self.hop * (frames - 1);
        let envelope = self.inverse_envelope(frames, overlapped.device())?;
        overlapped
            .narrow(1, self.n_fft / 2, len)?
            .broadcast_mul(&envelope)
    }

    /// 1 / the summed squared window at each kept sample (1 where it vanishes).
    fn inverse_envelope(&self, frames: usize, device: &Device) -> Result<Tensor> {
        let full = self.hop * (frames - 1) + self.n_fft;
        let mut sum = vec![0f64; full];
        for f in 0..frames {
            for (n, w) in self.window.iter().enumerate() {
                sum[f * self.hop + n] += w * w;
            }
        }
        let start = self.n_fft / 2;
        let inv: Vec<f32> = sum[start..start + self.hop * (frames - 1)]
            .iter()
            .map(|&s| if s > 1e-11 { (1.0 / s) as f32 } else { 1.0 })
            .collect();
        Tensor::from_vec(inv, (1, self.hop * (frames - 1)), device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_forward_reconstructs_the_signal() -> Result<()> {
        let (n_fft, hop) = (20, 5);
        let signal: Vec<f32> = (0..600)
            .map(|i| ((i as f32 * 0.07).sin() + 0.3 * (i as f32 * 0.31).cos()) * 0.5)
            .collect();
        let (mag, phase) = stft_magnitude_phase(&signal, n_fft, hop);
        let frames = signal.len() / hop + 1;
        assert_eq!(mag.len(), (n_fft / 2 + 1) * frames);
        let dev = Device::Cpu;
        let mag = Tensor::from_vec(mag, (1, n_fft / 2 + 1, frames), &dev)?;
        let phase = Tensor::from_vec(phase, (1, n_fft / 2 + 1, frames), &dev)?;
        let back = InverseStft::new(n_fft, hop, &dev)?
            .forward(&mag, &phase)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        assert_eq!(back.len(), signal.len());
        let err = back
            .iter()
            .zip(&signal)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(err < 1e-4, "max reconstruction error {err}");
        Ok(())
    }

    #[test]
    fn a_pure_tone_lands_in_its_bin() {
        // 24 kHz / 20 points = 1200 Hz per bin; 3600 Hz is bin 3.
        let signal: Vec<f32> = (0..400)
            .map(|i| (2.0 * PI * 3600.0 * i as f64 / 24_000.0).cos() as f32)
            .collect();
        let (mag, _) = stft_magnitude_phase(&signal, 20, 5);
        let frames = 400 / 5 + 1;
        let mid = frames / 2;
        let column: Vec<f32> = (0..11).map(|k| mag[k * frames + mid]).collect();
        let peak = column
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, _)| k);
        assert_eq!(peak, Some(3), "{column:?}");
    }
}
