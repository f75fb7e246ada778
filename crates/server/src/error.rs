//! Errors as the API answers them: a status and OpenAI's error body,
//! `{"error": {"message", "type", "code"}}`, with a one-line message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use voxclone::clone::CloneError;
use voxclone::pipeline::PipelineError;
use voxclone::tts::TtsError;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    /// OpenAI's error `type`: `invalid_request_error`, `server_busy`, `timeout`, `server_error`.
    pub kind: &'static str,
    pub message: String,
    /// Seconds the client should wait before trying again (busy answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            message,
        )
    }

    /// 429: too many requests are running or waiting; try again shortly.
    pub fn busy(message: impl Into<String>) -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "server_busy", message)
        }
    }

    /// 503: the request waited its whole time limit for a turn.
    pub fn overloaded(message: impl Into<String>) -> Self {
        Self {
            retry_after: Some(5),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_busy", message)
        }
    }

    /// 504: the work did not finish within the time limit.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GATEWAY_TIMEOUT, "timeout", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!("{self}");
        }
        let body = serde_json::json!({
            "error": { "message": self.message, "type": self.kind, "code": null }
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Errors of the input (audio, text, options) are the client's; a network failing is ours.
impl From<TtsError> for ApiError {
    fn from(e: TtsError) -> Self {
        match e {
            TtsError::Synthesis(_) | TtsError::Model(_) => Self::internal(e.to_string()),
            _ => Self::bad_request(e.to_string()),
        }
    }
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Model(_) => Self::internal(e.to_string()),
            _ => Self::bad_request(e.to_string()),
        }
    }
}

impl From<CloneError> for ApiError {
    fn from(e: CloneError) -> Self {
        match e {
            CloneError::Pipeline(e) => e.into(),
            CloneError::Tts(e) => e.into(),
            CloneError::NoReferences | CloneError::NoPitch(_) | CloneError::NotSpeech { .. } => {
                Self::bad_request(e.to_string())
            }
            CloneError::Adapt(_) | CloneError::Bank(_) | CloneError::EmptyBank => {
                Self::internal(e.to_string())
            }
        }
    }
}

impl From<voxclone_audio::AudioError> for ApiError {
    fn from(e: voxclone_audio::AudioError) -> Self {
        Self::bad_request(e.to_string())
    }
}

impl From<voxclone_encoder::EncoderError> for ApiError {
    fn from(e: voxclone_encoder::EncoderError) -> Self {
        Self::bad_request(e.to_string())
    }
}

impl From<axum::extract::multipart::MultipartError> for ApiError {
    fn from(e: axum::extract::multipart::MultipartError) -> Self {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::too_large(format!("upload too large: {}", e.body_text()));
        }
        Self::bad_request(format!("bad multipart body: {}", e.body_text()))
    }
}

/// Bodies axum could not read (malformed JSON, wrong content type, too large) answer in the
/// same error shape as everything else.
macro_rules! rejection {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                let status = e.status();
                let message = e.body_text().lines().next().unwrap_or_default().to_owned();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    Self::too_large(format!("request body too large: {message}"))
                } else {
                    Self { status, ..Self::bad_request(message) }
                }
            }
        }
    )*};
}

rejection!(
    axum::extract::rejection::JsonRejection,
    axum::extract::rejection::BytesRejection,
    axum::extract::multipart::MultipartRejection
);
