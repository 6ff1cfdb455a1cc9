//! The OpenAPI document as a contract: every answer a test receives through
//! the typed client, and every event a stream sends, is checked against the
//! schema `/openapi.json` gives for it, so a field the document does not
//! describe (a `null` where it says integer) fails the test that saw it.
//!
//! The document is OpenAPI 3.0, whose schemas are JSON Schema with a few
//! words of their own; `json_schema` turns them into JSON Schema 2020-12
//! for the `jsonschema` crate.

use frontrow_client::{Exchange, Inspector};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A compiled schema, or why there is none to check against.
type Checked = Result<Arc<jsonschema::Validator>, String>;

/// The document's answers, checked by operation, status and media type.
pub struct OpenApi {
    /// The document, its schemas turned into JSON Schema.
    document: Value,
    /// Each route's path segments (`{param}` matches any segment) and its
    /// path as the document writes it.
    routes: Vec<(Vec<String>, String)>,
    /// Validators made so far, by the JSON pointer of their schema.
    compiled: Mutex<HashMap<String, Checked>>,
}

impl OpenApi {
    /// The contract of the document `spec` (the text of `/openapi.json`).
    pub fn new(spec: &str) -> Result<OpenApi, String> {
        let document: Value =
            serde_json::from_str(spec).map_err(|e| format!("/openapi.json: {e}"))?;
        let routes = document["paths"]
            .as_object()
            .ok_or("/openapi.json has no paths")?
            .keys()
            .map(|path| (path.split('/').map(str::to_owned).collect(), path.clone()))
            .collect();
        Ok(OpenApi {
            document: json_schema(document),
            routes,
            compiled: Mutex::default(),
        })
    }

    /// The document's path for a request path.
    fn route(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').collect();
        self.routes.iter().find_map(|(route, name)| {
            let matches = route.len() == segments.len()
                && route.iter().zip(&segments).all(|(r, s)| {
                    r == s || (r.starts_with('{') && r.ends_with('}') && !s.is_empty())
                });
            matches.then_some(name.as_str())
        })
    }

    /// Whether the document names the operation `method path`.
    pub fn documents(&self, method: &Method, path: &str) -> bool {
        self.route(path).is_some_and(|route| {
            let operation = method.as_str().to_ascii_lowercase();
            self.document["paths"][route][&operation].is_object()
        })
    }

    /// The JSON pointer of the schema of one answer's body: the operation's
    /// response for `status` (or its `default`), in `media_type`.
    fn schema_pointer(
        &self,
        method: &Method,
        path: &str,
        status: u16,
        media_type: &str,
    ) -> Result<String, String> {
        let route = self
            .route(path)
            .ok_or_else(|| format!("{path} is no path of the document"))?;
        let operation = method.as_str().to_ascii_lowercase();
        let responses = &self.document["paths"][route][&operation]["responses"];
        if !responses.is_object() {
            return Err(format!("{method} {route} is no operation of the document"));
        }
        let status = status.to_string();
        let response = if responses.get(&status).is_some() {
            status
        } else if responses.get("default").is_some() {
            "default".to_owned()
        } else {
            return Err(format!("{method} {route} documents no {status} answer"));
        };
        let content = responses[&response]["content"]
            .as_object()
            .ok_or_else(|| format!("{method} {route} {response}: no body documented"))?;
        let essence = |t: &str| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        };
        let media = content
            .keys()
            .find(|key| essence(key) == essence(media_type))
            .ok_or_else(|| {
                format!("{method} {route} {response}: {media_type} is not documented")
            })?;
        Ok(format!(
            "/paths/{}/{operation}/responses/{response}/content/{}/schema",
            escape(route),
            escape(media)
        ))
    }

    /// The validator of the schema at `pointer`, made once.
    fn validator(&self, pointer: &str) -> Checked {
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        compiled
            .entry(pointer.to_owned())
            .or_insert_with(|| {
                let schema = self
                    .document
                    .pointer(pointer)
                    .ok_or_else(|| format!("no schema at {pointer}"))?;
                // The schema with the document's components beside it, so
                // its `$ref`s resolve.
                let mut rooted = match schema {
                    Value::Object(schema) => schema.clone(),
                    other => Map::from_iter([("allOf".to_owned(), json!([other]))]),
                };
                rooted.insert("components".into(), self.document["components"].clone());
                jsonschema::draft202012::new(&Value::Object(rooted))
                    .map(Arc::new)
                    .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))
            })
            .clone()
    }

    /// Checks one answer's body against the document.
    pub fn check(
        &self,
        method: &Method,
        path: &str,
        status: u16,
        media_type: &str,
        body: &[u8],
    ) -> Result<(), String> {
        let pointer = self.schema_pointer(method, path, status, media_type)?;
        let body: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{method} {path} {status}: the body is not JSON: {e}"))?;
        self.valid(&pointer, &body)
            .map_err(|e| format!("{method} {path} {status}: {e}"))
    }

    /// Checks one event's data (a JSON text) of the stream `GET path`.
    pub fn check_event(&self, path: &str, data: &str) -> Result<(), String> {
        let stream = self.schema_pointer(&Method::GET, path, 200, "text/event-stream")?;
        // The document describes a stream as an array of its events.
        let pointer = if self.document.pointer(&format!("{stream}/items")).is_some() {
            format!("{stream}/items")
        } else {
            stream
        };
        let event: Value = serde_json::from_str(data)
            .map_err(|e| format!("GET {path}: an event is not JSON: {e}: {data}"))?;
        self.valid(&pointer, &event)
            .map_err(|e| format!("GET {path}: {e}"))
    }

    fn valid(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let validator = self.validator(pointer)?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the body breaks its schema ({pointer}): {}; body: {instance}",
                errors.join("; ")
            ))
        }
    }
}

/// An answer with a JSON body is checked; a failure fails the test.
impl Inspector for OpenApi {
    fn inspect(&self, exchange: &Exchange<'_>) {
        let media_type = exchange
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // Bodies without JSON (204, the metrics text) have no schema here.
        if exchange.body.is_empty() || !media_type.contains("json") {
            return;
        }
        if let Err(drift) = self.check(
            exchange.method,
            exchange.path,
            exchange.status.as_u16(),
            media_type,
            exchange.body,
        ) {
            panic!("the answer is not what /openapi.json says: {drift}");
        }
    }
}

/// The document of each server a test started, by its address, so a helper
/// that reads a stream (`events_until`) can check what any of them sent.
static SERVING: Mutex<Vec<(String, Arc<OpenApi>)>> = Mutex::new(Vec::new());

/// Remembers that the server at `address` (`host:port`) serves `openapi`.
pub fn serving(address: &str, openapi: Arc<OpenApi>) {
    let mut serving = SERVING.lock().unwrap_or_else(|e| e.into_inner());
    serving.retain(|(known, _)| known != address);
    serving.push((address.to_owned(), openapi));
}

/// Checks an event of the stream at `url` against the document of the
/// server that sent it (a server no test started is not checked).
pub fn check_event(url: &reqwest::Url, data: &str) -> Result<(), String> {
    let address = format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    );
    let openapi = SERVING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(known, _)| *known == address)
        .map(|(_, openapi)| openapi.clone());
    match openapi {
        Some(openapi) => openapi.check_event(url.path(), data),
        None => Ok(()),
    }
}

/// A JSON pointer token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// An OpenAPI 3.0 schema (and everything in it) as JSON Schema 2020-12:
/// `nullable: true` allows `null`, and a boolean `exclusiveMinimum` or
/// `exclusiveMaximum` becomes the number it qualifies.
fn json_schema(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(json_schema).collect()),
        Value::Object(object) => {
            let mut object: Map<String, Value> = object
                .into_iter()
                .map(|(key, value)| (key, json_schema(value)))
                .collect();
            for (exclusive, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(Value::Bool(is)) = object.get(exclusive).cloned() {
                    object.remove(exclusive);
                    if is && let Some(limit) = object.remove(bound) {
                        object.insert(exclusive.to_owned(), limit);
                    }
                }
            }
            if object.remove("nullable") == Some(Value::Bool(true)) {
                return json!({ "anyOf": [Value::Object(object), { "type": "null" }] });
            }
            Value::Object(object)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nullable_field_takes_null_and_a_plain_one_does_not() {
        let spec = json!({
            "openapi": "3.0.0",
            "paths": { "/a/{id}": { "get": { "responses": { "200": {
                "description": "ok",
                "content": { "application/json; charset=utf-8": {
                    "schema": { "$ref": "#/components/schemas/A" }
                } }
            } } } } },
            "components": { "schemas": { "A": {
                "type": "object",
                "required": ["n"],
                "properties": {
                    "n": { "type": "integer" },
                    "m": { "type": "integer", "nullable": true }
                }
            } } }
        });
        let api = OpenApi::new(&spec.to_string()).expect("a document");
        let check = |body: Value| {
            api.check(
                &Method::GET,
                "/a/7",
                200,
                "application/json",
                body.to_string().as_bytes(),
            )
        };
        assert!(check(json!({ "n": 1, "m": null })).is_ok());
        assert!(check(json!({ "n": null })).is_err());
        assert!(check(json!({ "m": 1 })).is_err());
        let undocumented = api.check(&Method::GET, "/a/7", 404, "application/json", b"{}");
        assert!(undocumented.is_err());
    }
}
