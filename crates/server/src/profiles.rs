//! Voices over HTTP: the stock voices, and profiles cloned from uploaded references, kept in memory
//! (and in `--profiles DIR` when given, under ids the server makes). Cloning runs as a job:
//! zero-shot ends in a second or two; adaptation reports its progress step by step.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use candle_core::Device;
use serde::Deserialize;
use serde_json::{json, Value};
use voxclone_encoder::Embedding;
use voxclone_synthesizer::{PitchTarget, VoicePack};

use super::api::{decode_upload, upload_speech};
use super::{ApiError, AppState};
use voxclone::adapt::AdaptOptions;
use voxclone::clone::{CloneOptions, CloneReport, ReferenceSpeech};
use voxclone::profile::VoiceProfile;
use voxclone::tts::describe_voice;

/// Most reference files one clone takes.
const MAX_REFERENCES: usize = 10;
/// Finished jobs remembered for polling.
const MAX_FINISHED_JOBS: usize = 256;

/// The profiles this server knows, by id.
#[derive(Debug)]
pub struct Profiles {
    dir: Option<PathBuf>,
    by_id: RwLock<BTreeMap<String, VoiceProfile>>,
}

impl Profiles {
    /// Opens the store, reading every `.voice` file already in `dir` (made if missing).
    pub fn open(dir: Option<PathBuf>, device: &Device) -> Result<Self, ApiError> {
        let mut by_id = BTreeMap::new();
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                ApiError::internal(format!("cannot use {} for profiles: {e}", dir.display()))
            })?;
            let entries = std::fs::read_dir(dir)
                .map_err(|e| ApiError::internal(format!("cannot read {}: {e}", dir.display())))?;
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(id) = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .filter(|s| valid_id(s))
                else {
                    continue;
                };
                if path.extension().is_some_and(|e| e == "voice") {
                    match VoiceProfile::load(&path, device) {
                        Ok(p) => {
                            by_id.insert(id.to_owned(), p);
                        }
                        Err(e) => tracing::warn!("skipping {e}"),
                    }
                }
            }
        }
        Ok(Self {
            dir,
            by_id: RwLock::new(by_id),
        })
    }

    pub fn get(&self, id: &str) -> Option<VoiceProfile> {
        self.by_id.read().expect("not poisoned").get(id).cloned()
    }

    pub fn len(&self) -> usize {
        self.by_id.read().expect("not poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps `profile` under a new id made from its name, unless `limit` profiles are kept.
    pub fn insert(&self, profile: VoiceProfile, limit: usize) -> Result<String, ApiError> {
        let mut by_id = self.by_id.write().expect("not poisoned");
        if by_id.len() >= limit {
            return Err(ApiError::bad_request(format!(
                "the server keeps at most {limit} voice profiles; delete some first"
            )));
        }
        let id = std::iter::repeat_with(|| new_id(&profile.name))
            .find(|id| !by_id.contains_key(id))
            .expect("ids keep coming");
        if let Some(dir) = &self.dir {
            profile
                .save(&dir.join(format!("{id}.voice")))
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        by_id.insert(id.clone(), profile);
        Ok(id)
    }

    pub fn remove(&self, id: &str) -> bool {
        let removed = self
            .by_id
            .write()
            .expect("not poisoned")
            .remove(id)
            .is_some();
        if let (true, Some(dir)) = (removed, &self.dir) {
            // `id` matched a key the server made, so it is a plain file name.
            let _ = std::fs::remove_file(dir.join(format!("{id}.voice")));
        }
        removed
    }

    pub fn list(&self) -> Vec<(String, VoiceProfile)> {
        self.by_id
            .read()
            .expect("not poisoned")
            .iter()
            .map(|(id, p)| (id.clone(), p.clone()))
            .collect()
    }
}

/// Ids are lower-case letters, digits and dashes: safe in URLs and as file names.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `name` made safe, plus a random suffix so two voices of the same name differ and none can
/// take a stock voice's name (those have underscores).
fn new_id(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    slug = slug.trim_matches('-').chars().take(32).collect();
    if slug.is_empty() {
        slug = "voice".into();
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = (nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    format!("{slug}-{:06x}", mixed >> 40)
}

/// A voice ready to speak: its style pack, the register to move pitch to, and the reference
/// speaker's d-vector when it was cloned from a recording.
pub struct ResolvedVoice {
    pub pack: VoicePack,
    pub pitch: Option<PitchTarget>,
    pub d_vector: Option<Embedding>,
}

/// A stock voice name, an OpenAI voice name, or a profile id.
pub fn resolve(state: &AppState, id: &str) -> Result<ResolvedVoice, ApiError> {
    let tts = &state.engine.tts();
    if let Some(profile) = state.profiles.get(id) {
        return Ok(ResolvedVoice {
            pack: profile.voice_pack(),
            pitch: profile.pitch,
            d_vector: profile.d_vector.and_then(Embedding::normalized),
        });
    }
    let stock = voxclone::voices::openai_voice(id).unwrap_or(id);
    match tts.voice(stock) {
        Ok(pack) => Ok(ResolvedVoice {
            pack,
            pitch: None,
            d_vector: None,
        }),
        Err(_) => {
            let names = tts
                .voices()
                .iter()
                .map(|v| v.name.as_str())
                .chain(voxclone::voices::OPENAI_VOICES.iter().map(|(o, _)| *o));
            let close = voxclone::voices::closest(id, names);
            let hint = if close.is_empty() {
                String::new()
            } else {
                format!("did you mean {}? ", close.join(", "))
            };
            Err(ApiError::bad_request(format!(
                "unknown voice {id:?}: {hint}use one of the {} stock voices or an OpenAI voice name (alloy, echo, nova, ...) listed by GET /v1/voices, or a profile id",
                tts.voices().len()
            )))
        }
    }
}

fn stock_json(pack: &VoicePack) -> Value {
    let info = voxclone::voices::info(&pack.name);
    let openai: Vec<&str> = voxclone::voices::OPENAI_VOICES
        .iter()
        .filter(|(_, kokoro)| *kokoro == pack.name)
        .map(|(openai, _)| *openai)
        .collect();
    json!({
        "id": pack.name, "name": pack.name, "kind": "stock",
        "description": describe_voice(&pack.name), "method": null,
        "language": info.map(|v| v.language.name()),
        "language_code": info.map(|v| v.language.code()),
        "gender": info.map(|v| v.gender.name()),
        "grade": info.and_then(|v| v.grade),
        "default": pack.name == voxclone::voices::DEFAULT_VOICE,
        "openai_names": openai,
        "pitch_hz": null, "reference_pitch_hz": null, "has_reference": false,
    })
}

fn profile_json(id: &str, p: &VoiceProfile) -> Value {
    json!({
        "id": id, "name": p.name, "kind": "profile",
        "description": format!("cloned from {}", p.references.join(", ")),
        "method": p.method, "pitch_hz": p.pitch.map(|t| t.median_hz),
        "reference_pitch_hz": p.reference_pitch_hz, "has_reference": p.d_vector.is_some(),
        "references": p.references, "created": p.created,
    })
}

fn report_json(r: &CloneReport) -> Value {
    json!({
        "speech_seconds": r.speech_seconds,
        "reference_pitch_hz": r.reference_pitch.median_hz,
        "neighbours": r.neighbours.iter().take(8).collect::<Vec<_>>(),
        "warnings": r.warnings,
        "adaptation": r.adaptation,
    })
}

/// `GET /v1/voices`
pub async fn list_voices(State(state): State<Arc<AppState>>) -> Json<Value> {
    // Stock voices in the catalogue's order: by language (English first), best grade first.
    let stock = state.engine.tts().voices();
    let mut voices: Vec<Value> = voxclone::voices::catalogue()
        .iter()
        .filter_map(|info| stock.iter().find(|v| v.name == info.name))
        .chain(
            stock
                .iter()
                .filter(|v| voxclone::voices::info(&v.name).is_none()),
        )
        .map(stock_json)
        .collect();
    voices.extend(
        state
            .profiles
            .list()
            .iter()
            .map(|(id, p)| profile_json(id, p)),
    );
    Json(json!({ "voices": voices }))
}

/// `GET /v1/voices/{id}`
pub async fn get_voice(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if let Some(p) = state.profiles.get(&id) {
        return Ok(Json(profile_json(&id, &p)));
    }
    state
        .engine
        .tts()
        .voices()
        .iter()
        .find(|v| v.name == id)
        .map(|v| Json(stock_json(v)))
        .ok_or_else(|| ApiError::not_found(format!("no voice {id:?}")))
}

/// `DELETE /v1/voices/{id}`
pub async fn delete_voice(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.engine.tts().voices().iter().any(|v| v.name == id) {
        return Err(ApiError::bad_request(format!(
            "{id} is a stock voice; only cloned profiles can be deleted"
        )));
    }
    if state.profiles.remove(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no voice profile {id:?}")))
    }
}

/// `GET /v1/voices/{id}/profile`: the `.voice` file, for `voxclone speak --voice`.
pub async fn download_profile(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let profile = state
        .profiles
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("no voice profile {id:?}")))?;
    let bytes = profile
        .to_bytes(&id)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.voice\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// What a clone request asks for.
struct CloneRequest {
    /// `(label, bytes)` of each reference recording.
    files: Vec<(String, Vec<u8>)>,
    /// A `.voice` file to import instead of cloning.
    profile: Option<Vec<u8>>,
    name: String,
    adapt: Option<AdaptOptions>,
}

async fn read_clone_request(
    mut form: Multipart,
    state: &AppState,
) -> Result<CloneRequest, ApiError> {
    let mut request = CloneRequest {
        files: Vec::new(),
        profile: None,
        name: String::new(),
        adapt: None,
    };
    let mut adapt = false;
    let mut steps = None;
    while let Some(field) = form.next_field().await? {
        let field_name = field.name().unwrap_or_default().to_owned();
        match field_name.as_str() {
            "file" | "file[]" | "reference" => {
                if request.files.len() == MAX_REFERENCES {
                    return Err(ApiError::bad_request(format!(
                        "at most {MAX_REFERENCES} reference files"
                    )));
                }
                // The client's file name is only a label for messages and the profile.
                let label = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("upload {}", request.files.len() + 1));
                let bytes = field.bytes().await?;
                request.files.push((label, bytes.to_vec()));
            }
            "profile" => request.profile = Some(field.bytes().await?.to_vec()),
            "name" => request.name = voxclone::profile::clean_name(&field.text().await?),
            "adapt" => {
                adapt = match field.text().await?.trim() {
                    "true" | "1" | "on" | "yes" => true,
                    "false" | "0" | "off" | "no" | "" => false,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "adapt must be true or false, got {other:?}"
                        )))
                    }
                }
            }
            "adapt_steps" => {
                let text = field.text().await?;
                let n: usize = text.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!("adapt_steps must be a whole number, got {text:?}"))
                })?;
                if n == 0 || n > state.options.max_adapt_steps {
                    return Err(ApiError::bad_request(format!(
                        "adapt_steps must be between 1 and {}",
                        state.options.max_adapt_steps
                    )));
                }
                steps = Some(n);
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unexpected form field {other:?} (expected file, name, adapt, adapt_steps or profile)"
                )))
            }
        }
    }
    if request.files.is_empty() && request.profile.is_none() {
        return Err(ApiError::bad_request(
            "no reference audio: send one or more form fields named file",
        ));
    }
    // A clone is named after its first reference unless named; an import keeps its own name.
    if let (true, Some((label, _))) = (request.name.is_empty(), request.files.first()) {
        request.name = voxclone::profile::clean_name(
            label.rsplit_once('.').map_or(label.as_str(), |(s, _)| s),
        );
    }
    if adapt {
        let mut options = AdaptOptions::default();
        if let Some(n) = steps {
            options.steps = n;
        }
        request.adapt = Some(options);
    }
    Ok(request)
}

#[derive(Debug, Deserialize)]
pub struct CreateQuery {
    /// Answer at once with a job id instead of waiting for the voice.
    #[serde(default, rename = "async")]
    asynchronous: bool,
}

/// `POST /v1/voices`: clones a voice from uploaded references (multipart fields `file`, `name`,
/// `adapt`, `adapt_steps`), or imports a `.voice` file (field `profile`).
pub async fn create_voice(
    State(state): State<Arc<AppState>>,
    query: Result<Query<CreateQuery>, QueryRejection>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut request = read_clone_request(form?, &state).await?;
    if state.profiles.len() >= state.options.max_profiles {
        return Err(ApiError::bad_request(format!(
            "the server keeps at most {} voice profiles; delete some first",
            state.options.max_profiles
        )));
    }
    if let Some(bytes) = &request.profile {
        if !request.files.is_empty() {
            return Err(ApiError::bad_request(
                "send either a profile or reference audio, not both",
            ));
        }
        let mut profile =
            VoiceProfile::from_bytes(bytes, "uploaded profile", state.engine.device())
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if !request.name.is_empty() {
            profile.name = request.name.clone();
        }
        let id = state
            .profiles
            .insert(profile.clone(), state.options.max_profiles)?;
        return Ok((StatusCode::CREATED, Json(profile_json(&id, &profile))).into_response());
    }
    // Uploads are decoded before the request queues for a turn: a file that is not audio, or
    // holds no speech, is refused at once, not after the requests ahead of it.
    let references = {
        let state = state.clone();
        let files = std::mem::take(&mut request.files);
        tokio::task::spawn_blocking(move || decode_references(&state, files))
            .await
            .map_err(|e| ApiError::internal(format!("decoding failed: {e}")))??
    };
    // Adaptation takes both cores for a minute or more: one at a time, refused (429) while
    // another runs rather than queued behind it, with what runs and when to come back.
    let adapt_turn = match request.adapt {
        Some(_) => Some(
            state
                .adapt_gate
                .enter()
                .await
                .map_err(|e| state.jobs.explain_busy_adaptation(e))?,
        ),
        None => None,
    };
    let turn = state.gate.enter().await?;
    let steps = request.adapt.map_or(0, |a| a.steps);
    let job = state.jobs.start(steps);
    let work = {
        let state = state.clone();
        let job = job.clone();
        tokio::task::spawn_blocking(move || {
            let _turns = (turn, adapt_turn);
            // A job must end, whatever happens, or its pollers wait for ever.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                make_voice(&state, request, references, &job)
            }))
            .unwrap_or_else(|_| Err(ApiError::internal("cloning failed unexpectedly")));
            if let Err(e) = &result {
                tracing::info!("cloning failed: {}", e.message);
            }
            job.finish(result);
        })
    };
    if query.asynchronous {
        return Ok((StatusCode::ACCEPTED, Json(json!({ "job": job.id }))).into_response());
    }
    work.await
        .map_err(|e| ApiError::internal(format!("cloning failed: {e}")))?;
    match job.state() {
        JobState::Done(voice) => Ok((StatusCode::CREATED, Json(voice)).into_response()),
        JobState::Failed(e) => Err(e),
        JobState::Running { .. } => Err(ApiError::internal("cloning ended without a result")),
    }
}

/// Each uploaded reference decoded and prepared for the encoder (speech found, resampled).
fn decode_references(
    state: &AppState,
    files: Vec<(String, Vec<u8>)>,
) -> Result<Vec<ReferenceSpeech>, ApiError> {
    files
        .into_iter()
        .map(|(label, bytes)| {
            let audio = decode_upload(bytes, &label)?;
            let wav = upload_speech(audio, &label, state.engine.encoder().encoder())?;
            Ok(ReferenceSpeech { label, wav })
        })
        .collect()
}

/// Clones from the decoded references, keeps the profile; the voice's JSON with the clone's
/// report.
fn make_voice(
    state: &AppState,
    request: CloneRequest,
    references: Vec<ReferenceSpeech>,
    job: &Job,
) -> Result<Value, ApiError> {
    let options = CloneOptions {
        adapt: request.adapt,
    };
    let (profile, report) = state.engine.clone_speech(
        &references,
        &request.name,
        &options,
        &mut |step, similarity| {
            job.progress(step + 1, similarity);
            !state.stopping()
        },
    )?;
    let id = state
        .profiles
        .insert(profile.clone(), state.options.max_profiles)?;
    let mut voice = profile_json(&id, &profile);
    voice["report"] = report_json(&report);
    Ok(voice)
}

/// Where a cloning job stands.
#[derive(Debug, Clone)]
pub enum JobState {
    Running {
        step: usize,
        steps: usize,
        similarity: Option<f32>,
    },
    Done(Value),
    Failed(ApiError),
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    state: Arc<Mutex<JobState>>,
    started: std::time::Instant,
}

impl Job {
    fn progress(&self, step: usize, similarity: f32) {
        if let JobState::Running {
            step: s,
            similarity: sim,
            ..
        } = &mut *self.state.lock().expect("not poisoned")
        {
            *s = step;
            *sim = Some(similarity);
        }
    }

    fn finish(&self, result: Result<Value, ApiError>) {
        *self.state.lock().expect("not poisoned") = match result {
            Ok(v) => JobState::Done(v),
            Err(e) => JobState::Failed(e),
        };
    }

    pub fn state(&self) -> JobState {
        self.state.lock().expect("not poisoned").clone()
    }
}

/// Jobs by id, oldest first; finished ones beyond [`MAX_FINISHED_JOBS`] are forgotten.
#[derive(Debug, Default)]
pub struct Jobs {
    next: AtomicU64,
    by_id: Mutex<BTreeMap<u64, Job>>,
}

impl Jobs {
    fn start(&self, steps: usize) -> Job {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let job = Job {
            id: format!("job-{n}"),
            state: Arc::new(Mutex::new(JobState::Running {
                step: 0,
                steps,
                similarity: None,
            })),
            started: std::time::Instant::now(),
        };
        let mut jobs = self.by_id.lock().expect("not poisoned");
        jobs.insert(n, job.clone());
        let finished: Vec<u64> = jobs
            .iter()
            .filter(|(_, j)| !matches!(j.state(), JobState::Running { .. }))
            .map(|(k, _)| *k)
            .collect();
        for k in finished
            .iter()
            .take(finished.len().saturating_sub(MAX_FINISHED_JOBS))
        {
            jobs.remove(k);
        }
        job
    }

    /// The adaptation gate's refusal, rewritten to say which adaptation runs, how far it is,
    /// and when to come back (Retry-After from its pace so far). Other errors pass unchanged.
    fn explain_busy_adaptation(&self, refusal: ApiError) -> ApiError {
        if refusal.status != axum::http::StatusCode::TOO_MANY_REQUESTS {
            return refusal;
        }
        let jobs = self.by_id.lock().expect("not poisoned");
        let running = jobs.values().find_map(|j| match j.state() {
            JobState::Running { step, steps, .. } if steps > 0 => {
                Some((j.id.clone(), step, steps, j.started.elapsed().as_secs_f64()))
            }
            _ => None,
        });
        let Some((id, step, steps, elapsed)) = running else {
            return refusal;
        };
        let left = retry_after_seconds(step, steps, elapsed);
        let mut busy = ApiError::busy(format!(
            "an adaptation is already running ({id}: step {step} of {steps} after {elapsed:.0} s) and one runs at a time; try again in about {left} s, or clone without adaptation now"
        ));
        busy.retry_after = Some(left);
        busy
    }

    fn get(&self, id: &str) -> Option<Job> {
        let n: u64 = id.strip_prefix("job-")?.parse().ok()?;
        self.by_id.lock().expect("not poisoned").get(&n).cloned()
    }
}

/// Seconds until an adaptation at `step` of `steps` after `elapsed` seconds is likely done: its
/// pace so far for the steps left (the first step also carries the set-up), at least 1 s, at
/// most 10 minutes.
fn retry_after_seconds(step: usize, steps: usize, elapsed: f64) -> u64 {
    let per_step = if step > 0 {
        elapsed / step as f64
    } else {
        elapsed.max(10.0)
    };
    let left = per_step * steps.saturating_sub(step) as f64 + 5.0;
    (left.ceil() as u64).clamp(1, 600)
}

/// `GET /v1/jobs/{id}`
pub async fn job(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = state
        .jobs
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("no job {id:?}")))?;
    Ok(Json(match job.state() {
        JobState::Running {
            step,
            steps,
            similarity,
        } => json!({ "state": "running", "step": step, "steps": steps, "similarity": similarity }),
        JobState::Done(voice) => json!({ "state": "done", "voice": voice }),
        JobState::Failed(e) => {
            json!({ "state": "failed", "error": e.message, "status": e.status.as_u16() })
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_follows_the_running_adaptations_pace() {
        // 10 of 40 steps in 50 s: 5 s a step, 30 steps left, plus a margin.
        assert_eq!(retry_after_seconds(10, 40, 50.0), 155);
        // Not a step yet: at least 10 s a step is assumed.
        assert_eq!(retry_after_seconds(0, 2, 3.0), 25);
        assert_eq!(retry_after_seconds(40, 40, 500.0), 5);
        assert_eq!(retry_after_seconds(1, 1000, 100.0), 600);
    }

    #[test]
    fn a_second_adaptation_is_told_what_runs_and_when_to_come_back() {
        let jobs = Jobs::default();
        let job = jobs.start(4);
        job.progress(2, 0.5);
        let refused = jobs.explain_busy_adaptation(ApiError::busy("busy (0 requests waiting)"));
        assert_eq!(refused.status.as_u16(), 429);
        assert!(
            refused.message.contains(&job.id) && refused.message.contains("step 2 of 4"),
            "{}",
            refused.message
        );
        assert!(refused.retry_after.unwrap() >= 5);
        // Not a refusal for being busy, or no adaptation running: unchanged.
        let other = jobs.explain_busy_adaptation(ApiError::overloaded("shutting down"));
        assert_eq!(other.status.as_u16(), 503);
        job.finish(Ok(Value::Null));
        let plain = jobs.explain_busy_adaptation(ApiError::busy("busy"));
        assert_eq!(plain.message, "busy");
    }

    #[test]
    fn ids_are_safe_distinct_and_never_a_stock_name() {
        let a = new_id("Alice's voice / ../../etc");
        let b = new_id("Alice's voice / ../../etc");
        assert_ne!(a, b);
        for id in [&a, &b, &new_id(""), &new_id("jf_alpha")] {
            assert!(valid_id(id), "{id}");
            assert_ne!(id, "jf_alpha");
        }
        assert!(a.starts_with("alice-s-voice"), "{a}");
        assert!(!valid_id("../x") && !valid_id("") && !valid_id("A"));
    }
}
