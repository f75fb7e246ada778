//! `voxclone serve`: the toolbox page and the HTTP API, from one process that loads the models
//! once ([`voxclone::Engine`]) and shares them between requests.
//!
//! Routes (described in full by `/openapi.json`):
//! - `/` — the toolbox (RTVC's workflow in the browser; assets embedded in the binary);
//! - `/v1/audio/speech` — OpenAI-compatible speech, streamed for long input;
//! - `/v1/voices`, `/v1/jobs/{id}` — voice profiles cloned from uploaded audio (adaptation runs
//!   as a job whose progress can be polled);
//! - `/v1/embed`, `/v1/compare`, `/v1/projection` — the speaker encoder on its own;
//! - `/v1/synthesize` — synthesis with the extras the toolbox shows (mel, similarity).
//!
//! Every request that runs a network passes the [`limits::Gate`]: a few run at once, a bounded
//! number wait, the rest get 429 at once. Nothing a request says becomes a file-system path:
//! uploads are decoded in memory and profiles are named by ids the server makes.

mod api;
mod assets;
mod connections;
mod error;
mod limits;
mod profiles;
mod speech;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::Router;

use voxclone::Engine;

pub use connections::{BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT, MAX_CONNECTIONS};
pub use error::ApiError;
pub use limits::Gate;
pub use profiles::Profiles;

/// The service's limits and where it keeps profiles.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Requests running a network at once; more would only share the same cores.
    pub max_running: usize,
    /// Requests allowed to wait for a turn; beyond this the answer is 429.
    pub max_waiting: usize,
    /// How long a request may wait for its turn plus run (first audio, for streamed speech).
    pub timeout: Duration,
    /// Largest request body (uploads).
    pub max_body_bytes: usize,
    /// Longest text to speak, in characters (OpenAI's limit is 4096).
    pub max_text_chars: usize,
    /// Where profiles are kept between runs; `None` keeps them in memory only.
    pub profiles_dir: Option<PathBuf>,
    /// Most profiles kept (creating more is refused until some are deleted).
    pub max_profiles: usize,
    /// Most adaptation steps a request may ask for.
    pub max_adapt_steps: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_running: 2,
            max_waiting: 64,
            timeout: Duration::from_secs(120),
            max_body_bytes: 25 << 20,
            max_text_chars: 4096,
            profiles_dir: None,
            max_profiles: 1000,
            max_adapt_steps: 200,
        }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub options: ServeOptions,
    /// Admission for any work on the networks.
    pub gate: Gate,
    /// One adaptation at a time: it takes both cores for a minute or more.
    pub adapt_gate: Gate,
    pub profiles: Profiles,
    pub jobs: profiles::Jobs,
    /// Set when the server is asked to stop: running adaptations end early.
    pub stopping: AtomicBool,
    /// Requests being read or served; see [`limit_in_flight`].
    pub in_flight: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(engine: Engine, options: ServeOptions) -> Result<Arc<Self>, ApiError> {
        let profiles = Profiles::open(options.profiles_dir.clone(), engine.device())?;
        Ok(Arc::new(Self {
            gate: Gate::new(options.max_running, options.max_waiting, options.timeout),
            adapt_gate: Gate::new(1, 0, options.timeout),
            engine: Arc::new(engine),
            options: options.clone(),
            profiles,
            jobs: profiles::Jobs::default(),
            stopping: AtomicBool::new(false),
            // Everything the gate can hold, plus room for polls, pages and adaptation.
            in_flight: Arc::new(tokio::sync::Semaphore::new(
                options.max_running + options.max_waiting + 16,
            )),
        }))
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }
}

/// Every route, with the body limit applied.
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.options.max_body_bytes;
    Router::new()
        .route("/", get(assets::index))
        .route("/toolbox.js", get(assets::script))
        .route("/toolbox.css", get(assets::style))
        .route("/openapi.json", get(assets::openapi))
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/audio/speech", post(speech::openai_speech))
        .route("/v1/synthesize", post(speech::synthesize))
        .route("/v1/models", get(speech::models))
        .route(
            "/v1/voices",
            get(profiles::list_voices).post(profiles::create_voice),
        )
        .route(
            "/v1/voices/{id}",
            get(profiles::get_voice).delete(profiles::delete_voice),
        )
        .route("/v1/voices/{id}/profile", get(profiles::download_profile))
        .route("/v1/jobs/{id}", get(profiles::job))
        .route("/v1/embed", post(api::embed))
        .route("/v1/compare", post(api::compare))
        .route("/v1/projection", post(api::projection))
        .route("/v1/samples", get(assets::samples))
        .route("/v1/samples/{id}", get(assets::sample))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError {
                status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
                ..ApiError::bad_request("this route does not take that method (see /openapi.json)")
            }
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_in_flight,
        ))
        .with_state(state)
}

/// Bodies are read before a request reaches the gate; this bounds how many are held at once
/// (and so the memory uploads can take) to what the gate could ever admit, and refuses bodies
/// announced as too large before they are sent.
async fn limit_in_flight(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // A body announced as too large is refused before it is sent.
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(bytes) = announced.filter(|&b| b > state.options.max_body_bytes) {
        return ApiError::too_large(format!(
            "request body of {bytes} bytes is over the limit of {} bytes",
            state.options.max_body_bytes
        ))
        .into_response();
    }
    match state.in_flight.clone().try_acquire_owned() {
        Ok(permit) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        Err(_) => ApiError::busy("too many requests in flight; try again shortly").into_response(),
    }
}

/// Audio in any request is at most this long once decoded (a few compressed bytes can expand to
/// hours).
pub const MAX_AUDIO_SECONDS: f64 = 600.0;

/// Serves until `shutdown` resolves, then stops admitting work and lets requests in flight finish
/// for up to [`SHUTDOWN_GRACE`] (running adaptations are told to stop and keep their best).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let stopping = state.clone();
    let shutdown = async move {
        shutdown.await;
        stopping.stopping.store(true, Ordering::Relaxed);
        stopping.gate.close();
        stopping.adapt_gate.close();
    };
    connections::serve(listener, app, shutdown, SHUTDOWN_GRACE).await
}

/// How long requests in flight may take to finish once the server is asked to stop.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
