//! What the server serves from inside the binary: the toolbox page, the OpenAPI description, and
//! a few LibriSpeech recordings to try the toolbox with (`fixtures/speech`, CC BY 4.0).

use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::ApiError;

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/toolbox.js");
const STYLE: &str = include_str!("assets/toolbox.css");
const OPENAPI: &str = include_str!("assets/openapi.json");

/// `(id, speaker, sex, FLAC bytes)` of the bundled recordings.
const SAMPLES: &[(&str, &str, &str, &[u8])] = &[
    (
        "2414-128291-0000",
        "2414",
        "male",
        include_bytes!("../../../fixtures/speech/2414-128291-0000.flac"),
    ),
    (
        "2414-128291-0003",
        "2414",
        "male",
        include_bytes!("../../../fixtures/speech/2414-128291-0003.flac"),
    ),
    (
        "367-130732-0000",
        "367",
        "female",
        include_bytes!("../../../fixtures/speech/367-130732-0000.flac"),
    ),
    (
        "367-130732-0006",
        "367",
        "female",
        include_bytes!("../../../fixtures/speech/367-130732-0006.flac"),
    ),
];

pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `GET /v1/samples`
pub async fn samples() -> Json<Value> {
    Json(json!({
        "samples": SAMPLES.iter().map(|(id, speaker, sex, _)| json!({
            "id": id,
            "speaker": speaker,
            "description": format!("LibriSpeech test-other, speaker {speaker} ({sex})"),
        })).collect::<Vec<_>>()
    }))
}

/// `GET /v1/samples/{id}`
pub async fn sample(Path(id): Path<String>) -> Result<Response, ApiError> {
    let (_, _, _, bytes) = SAMPLES
        .iter()
        .find(|(sample, ..)| *sample == id)
        .ok_or_else(|| ApiError::not_found(format!("no sample {id:?}")))?;
    Ok(([(header::CONTENT_TYPE, "audio/flac")], *bytes).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_description_is_json_and_names_every_route() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        for route in [
            "/v1/audio/speech",
            "/v1/models",
            "/v1/synthesize",
            "/v1/voices",
            "/v1/voices/{id}",
            "/v1/voices/{id}/profile",
            "/v1/jobs/{id}",
            "/v1/embed",
            "/v1/compare",
            "/v1/projection",
            "/v1/samples",
            "/v1/samples/{id}",
        ] {
            assert!(paths.contains_key(route), "{route} is not described");
        }
    }
}
