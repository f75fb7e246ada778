//! The encoder's hyper-parameters: the values of RTVC's `encoder/params_data.py` and
//! `params_model.py`, which Resemblyzer's pretrained weights were trained with.

use voxclone_audio::mel::MelParams;
use voxclone_audio::vad::VadParams;

/// Everything that shapes a d-vector, with the paper's (and the pretrained model's) values as default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderParams {
    /// Sample rate the encoder works at.
    pub sample_rate: u32,
    /// Loudness speech is raised to before trimming (increase only).
    pub target_dbfs: f64,
    pub vad: VadParams,
    pub mel: MelParams,
    /// Mel frames per partial: 160 frames of 10 ms = 1.6 s.
    pub partial_frames: usize,
    /// Partials per second of speech (consecutive partials overlap by about half).
    pub partials_per_second: f64,
    /// The last partial is kept only if this fraction of it is real speech, not padding.
    pub min_coverage: f64,
    /// LSTM hidden size and number of layers.
    pub hidden_size: usize,
    pub num_layers: usize,
    /// Size of the d-vector.
    pub embedding_size: usize,
    /// Most partials run through the network at once: bounds memory on long inputs.
    pub max_batch_partials: usize,
}

impl Default for EncoderParams {
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            target_dbfs: voxclone_audio::normalize::ENCODER_TARGET_DBFS,
            vad: VadParams::default(),
            mel: MelParams::GE2E,
            partial_frames: 160,
            partials_per_second: 1.3,
            min_coverage: 0.75,
            hidden_size: 256,
            num_layers: 3,
            embedding_size: 256,
            max_batch_partials: 128,
        }
    }
}

impl EncoderParams {
    /// Mel frames between the starts of consecutive partials: `round(16000 / 1.3 / 160)` = 77.
    pub fn frame_step(&self) -> usize {
        (self.sample_rate as f64 / self.partials_per_second / self.mel.hop_length as f64).round()
            as usize
    }

    pub fn partial_samples(&self) -> usize {
        self.partial_frames * self.mel.hop_length
    }
}
