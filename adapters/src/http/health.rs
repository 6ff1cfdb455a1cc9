//! Liveness (the process answers) and readiness (its stores answer).

use super::{AppState, Tag};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct HealthApi(pub Arc<AppState>);

#[derive(Object)]
struct Health {
    status: String,
    /// Each dependency: "ok" or what failed.
    checks: std::collections::BTreeMap<String, String>,
}

#[derive(ApiResponse)]
enum Ready {
    /// Every dependency answered.
    #[oai(status = 200)]
    Ready(Json<Health>),
    /// At least one dependency did not answer.
    #[oai(status = 503)]
    NotReady(Json<Health>),
}

#[OpenApi(tag = "Tag::Health")]
impl HealthApi {
    /// The process is up
    #[oai(path = "/health/live", method = "get")]
    async fn live(&self) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
            checks: Default::default(),
        })
    }

    /// The process and its stores are up
    #[oai(path = "/health/ready", method = "get")]
    async fn ready(&self) -> Ready {
        let mut checks = std::collections::BTreeMap::new();
        let mut healthy = true;
        if self.0.draining.load(std::sync::atomic::Ordering::Relaxed) {
            healthy = false;
            checks.insert("shutdown".to_owned(), "draining".to_owned());
        }
        for (name, dependency) in &self.0.dependencies {
            let result = dependency.ping().await;
            healthy &= result.is_ok();
            checks.insert(
                (*name).to_owned(),
                result.err().unwrap_or_else(|| "ok".into()),
            );
        }
        let health = Json(Health {
            status: if healthy { "ok" } else { "unavailable" }.into(),
            checks,
        });
        if healthy {
            Ready::Ready(health)
        } else {
            Ready::NotReady(health)
        }
    }
}
