//! The OpenAPI document, generated from the handlers' annotations, at `/api/openapi.json`.
//! The browsable page is `/api-docs.html` (part of the embedded web front-end).

use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{error, health};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Atrium API",
        description = "On-premise omnichannel customer service. Every error answers \
            `{code, message, request_id}` with a stable snake_case `code`; every response carries \
            `X-Request-Id`.",
        license(name = "Apache-2.0")
    ),
    paths(health::healthz, health::readyz, health::metrics),
    components(schemas(error::ErrorBody, health::Health, health::Readiness)),
    modifiers(&Security),
    tags((name = "operations", description = "Health, readiness and metrics for operators"))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document of this server.
#[get("/api/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    HttpResponse::Ok().json(doc)
}
