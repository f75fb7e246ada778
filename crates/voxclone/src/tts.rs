//! Text → speech with Kokoro-82M: the English front-end, then stage 2 (phonemes + style →
//! aligned features, F0, energy) and stage 3 (features + timbre → 24 kHz waveform).
//!
//! A voice is a [`VoicePack`]: one 256-value style vector per utterance length (timbre in the
//! first 128 values, prosody in the last 128). Kokoro's 54 stock packs come from the npm
//! package kokoro-js (see [`crate::voices`] for the catalogue); any other pack can be read from
//! a file ([`Tts::voice_from_file`]). British voices read with misaki's British lexicons, every
//! other voice with the American ones.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use candle_core::{DType, Device, Tensor};
pub use voxclone_synthesizer::PitchTarget;
use voxclone_synthesizer::{retarget_f0, Kokoro, VoiceError, VoicePack, STYLE_DIM};
use voxclone_text::{Accent, Frontend, Lexicon, PhonemeChunk, TextError};
use voxclone_vocoder::SourceNoise;
use voxclone_weights::{ModelError, ModelStore, Progress};

pub use voxclone_vocoder::SAMPLE_RATE;

/// What can go wrong loading or running text-to-speech.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Voice(#[from] VoiceError),
    #[error("synthesis failed: {0}")]
    Synthesis(#[from] candle_core::Error),
    #[error("nothing to say: the text has no words or symbols that can be spoken")]
    NothingToSay,
    #[error("speed must be between {min} and {max}, got {got}")]
    Speed { min: f32, max: f32, got: f32 },
    #[error("pitch must be between {min} and {max} Hz, got {got}")]
    Pitch { min: f32, max: f32, got: f32 },
}

/// How to say it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeakOptions {
    /// 1.0 is the voice's natural pace; 1.5 is half again as fast.
    pub speed: f32,
    /// Seeds the noise of the vocoder's excitation: the same text, voice, speed and seed give
    /// the same samples, bit for bit.
    pub seed: u64,
    /// Moves the predicted pitch contour to this register (median F0, optionally spread);
    /// `None` keeps the voice's own.
    pub pitch: Option<PitchTarget>,
}

impl Default for SpeakOptions {
    fn default() -> Self {
        Self {
            speed: 1.0,
            seed: 0,
            pitch: None,
        }
    }
}

/// Speeds outside this range make durations of mostly one frame or absurdly long ones.
pub const SPEED_RANGE: (f32, f32) = (0.25, 4.0);

/// The loaded text-to-speech stages. `Send + Sync`: load once, share between threads.
#[derive(Debug, Clone)]
pub struct Tts {
    model: Kokoro,
    voices: Vec<VoicePack>,
    /// American English; shared: the lexicons are large and read-only.
    frontend: Arc<Frontend>,
    /// British English, loaded on first use by a British voice.
    british: Arc<OnceLock<Arc<Frontend>>>,
    /// misaki's `gb_gold.json` and `gb_silver.json`.
    british_lexicons: (PathBuf, PathBuf),
}

impl Tts {
    /// Loads Kokoro-82M, its voices and the English lexicons, fetching them into `store` on
    /// first use.
    pub fn load(
        store: &ModelStore,
        device: &Device,
        progress: &dyn Progress,
    ) -> Result<Self, TtsError> {
        let files = store.kokoro(progress)?;
        let lexicons = store.misaki_lexicons(progress)?;
        let model = Kokoro::from_safetensors(&files.weights, device)?;
        let voices = VoicePack::load_all(&files.voices, device)?;
        let frontend = Arc::new(Frontend::new(Lexicon::load(
            &lexicons.us_gold,
            &lexicons.us_silver,
        )?));
        Ok(Self {
            model,
            voices,
            frontend,
            british: Arc::new(OnceLock::new()),
            british_lexicons: (lexicons.gb_gold, lexicons.gb_silver),
        })
    }

    pub fn model(&self) -> &Kokoro {
        &self.model
    }

    /// The American English front-end.
    pub fn frontend(&self) -> &Frontend {
        &self.frontend
    }

    /// The accent `voice` reads English with: British for Kokoro's British voices, American
    /// for every other voice (cloned voices included).
    pub fn accent_of(voice: &VoicePack) -> Accent {
        crate::voices::info(&voice.name).map_or(Accent::American, |v| v.language.accent())
    }

    /// The front-end for `voice` (see [`accent_of`](Self::accent_of)); the British lexicons
    /// are read the first time a British voice speaks.
    pub fn frontend_for(&self, voice: &VoicePack) -> Result<&Frontend, TtsError> {
        if Self::accent_of(voice) == Accent::American {
            return Ok(&self.frontend);
        }
        if let Some(f) = self.british.get() {
            return Ok(f);
        }
        let (gold, silver) = &self.british_lexicons;
        let lexicon = Lexicon::load(gold, silver)?.with_accent(Accent::British);
        Ok(self
            .british
            .get_or_init(|| Arc::new(Frontend::new(lexicon))))
    }

    /// The built-in voices, sorted by name.
    pub fn voices(&self) -> &[VoicePack] {
        &self.voices
    }

    /// The stock voices cloning starts from: the 28 English ones (American and British), which
    /// read English natively. The nearest-stock baseline chooses among them, and speaker
    /// encoding draws its sampled styles around them.
    pub fn cloning_base(&self) -> Vec<&VoicePack> {
        self.voices
            .iter()
            .filter(|v| crate::voices::info(&v.name).is_some_and(|i| i.language.is_english()))
            .collect()
    }

    /// The standard deviation of each style dimension over every row of every voice of the
    /// [`cloning_base`](Self::cloning_base) (all voices if it is empty), `[1, 256]`: the scale
    /// in which cloning draws and penalises styles.
    pub fn style_spread(&self) -> Result<Tensor, TtsError> {
        let mut base = self.cloning_base();
        if base.is_empty() {
            base = self.voices.iter().collect();
        }
        let all = Tensor::cat(&base.iter().map(|v| v.styles()).collect::<Vec<_>>(), 0)?;
        let mean = all.mean_keepdim(0)?;
        Ok(all.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?.sqrt()?)
    }

    /// A built-in voice by name; an unknown name's error suggests the closest ones.
    pub fn voice(&self, name: &str) -> Result<VoicePack, TtsError> {
        self.voices
            .iter()
            .find(|v| v.name == name)
            .cloned()
            .ok_or_else(|| {
                let close =
                    crate::voices::closest(name, self.voices.iter().map(|v| v.name.as_str()));
                let listed = format!(
                    "{} stock voices, listed by `voxclone voices` and GET /v1/voices",
                    self.voices.len()
                );
                let hint = if close.is_empty() {
                    listed
                } else {
                    format!("did you mean {}? ({listed})", close.join(", "))
                };
                VoiceError::Unknown {
                    name: name.to_owned(),
                    hint,
                }
                .into()
            })
    }

    /// A voice from a file: `.npy` or `.safetensors` holding one style vector (`[256]`) or a
    /// pack (`[N, 256]`, or Kokoro's `[N, 1, 256]`).
    pub fn voice_from_file(&self, path: &Path) -> Result<VoicePack, TtsError> {
        let bad = |reason: String| VoiceError::BadFile {
            path: path.display().to_string(),
            reason,
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let device = self.model.device();
        let tensor = match ext.as_deref() {
            Some("npy") => Tensor::read_npy(path).map_err(|e| bad(one_line(&e)))?,
            Some("safetensors") => {
                let mut all =
                    candle_core::safetensors::load(path, device).map_err(|e| bad(one_line(&e)))?;
                match all.len() {
                    1 => all.drain().next().expect("one tensor").1,
                    n => all.remove("style").ok_or_else(|| {
                        bad(format!(
                            "holds {n} tensors; expected one, or one named \"style\""
                        ))
                    })?,
                }
            }
            _ => return Err(bad("a voice file is .npy or .safetensors".into()).into()),
        };
        let tensor = tensor
            .to_dtype(DType::F32)
            .and_then(|t| t.to_device(device))
            .map_err(|e| bad(one_line(&e)))?;
        let elements = tensor.elem_count();
        if elements == 0 || elements % STYLE_DIM != 0 {
            return Err(bad(format!(
                "shape {:?} is not one or more {STYLE_DIM}-value style vectors",
                tensor.dims()
            ))
            .into());
        }
        let styles = tensor
            .reshape((elements / STYLE_DIM, STYLE_DIM))
            .map_err(|e| bad(one_line(&e)))?;
        let values: Vec<f32> = styles.flatten_all()?.to_vec1()?;
        if values.iter().any(|v| !v.is_finite()) {
            return Err(bad("holds values that are not finite numbers".into()).into());
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "voice".into());
        Ok(VoicePack::new(name, styles).map_err(|e| bad(e.to_string()))?)
    }

    /// The text as chunks the model can read (≤ 510 phonemes each) in `voice`'s accent,
    /// lazily: a long text streams.
    pub fn chunks<'a>(
        &'a self,
        text: &'a str,
        voice: &VoicePack,
    ) -> Result<impl Iterator<Item = PhonemeChunk> + 'a, TtsError> {
        Ok(self.frontend_for(voice)?.chunks(text))
    }

    /// One chunk's waveform (24 kHz). `index` varies the excitation noise between chunks
    /// while keeping the whole text reproducible.
    pub fn speak_chunk(
        &self,
        chunk: &PhonemeChunk,
        voice: &VoicePack,
        options: SpeakOptions,
        index: u64,
    ) -> Result<Vec<f32>, TtsError> {
        check_speed(options.speed)?;
        if let Some(p) = &options.pitch {
            check_pitch(p)?;
        }
        let ids = chunk.token_ids();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let style = voice.style_for(ids.len())?;
        let noise = SourceNoise::Seeded(options.seed.wrapping_add(index));
        let mut features = self.model.features(&ids, &style, options.speed)?;
        if let Some(target) = &options.pitch {
            features.f0 = retarget_f0(&features.f0, target)?;
        }
        let audio = self.model.vocode(&features, &style, noise)?;
        Ok(audio.flatten_all()?.to_vec1()?)
    }

    /// The whole text's waveform (24 kHz). For long texts prefer [`chunks`](Self::chunks) and
    /// [`speak_chunk`](Self::speak_chunk), which stream.
    pub fn speak(
        &self,
        text: &str,
        voice: &VoicePack,
        options: SpeakOptions,
    ) -> Result<Vec<f32>, TtsError> {
        Ok(self
            .speak_while(text, voice, options, || true)?
            .expect("never stopped"))
    }

    /// [`speak`](Self::speak), asking `keep_going` before each chunk: `None` when it said no
    /// (a deadline passed, say).
    pub fn speak_while(
        &self,
        text: &str,
        voice: &VoicePack,
        options: SpeakOptions,
        mut keep_going: impl FnMut() -> bool,
    ) -> Result<Option<Vec<f32>>, TtsError> {
        check_speed(options.speed)?;
        let mut audio = Vec::new();
        let mut any = false;
        for (i, chunk) in self.chunks(text, voice)?.enumerate() {
            if !keep_going() {
                return Ok(None);
            }
            any = true;
            audio.extend(self.speak_chunk(&chunk, voice, options, i as u64)?);
        }
        if !any {
            return Err(TtsError::NothingToSay);
        }
        Ok(Some(audio))
    }
}

/// Pitch targets outside this range (Hz) are not speech.
pub const PITCH_RANGE: (f32, f32) = (50.0, 500.0);

/// Whether a pitch target is within [`PITCH_RANGE`].
pub fn check_pitch(target: &PitchTarget) -> Result<(), TtsError> {
    let (min, max) = PITCH_RANGE;
    if target.median_hz.is_finite() && (min..=max).contains(&target.median_hz) {
        Ok(())
    } else {
        Err(TtsError::Pitch {
            min,
            max,
            got: target.median_hz,
        })
    }
}

/// Whether `speed` is within [`SPEED_RANGE`].
pub fn check_speed(speed: f32) -> Result<(), TtsError> {
    let (min, max) = SPEED_RANGE;
    if speed.is_finite() && (min..=max).contains(&speed) {
        Ok(())
    } else {
        Err(TtsError::Speed {
            min,
            max,
            got: speed,
        })
    }
}

/// candle errors can carry a backtrace on later lines; a message is one line.
fn one_line(e: &candle_core::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}

/// How a stock voice is described in listings (see [`crate::voices`]).
pub fn describe_voice(name: &str) -> String {
    crate::voices::info(name).map_or_else(|| "voice".to_owned(), |v| v.description())
}
