//! The web app: the buyer's pages at `/`, the operator's console at
//! `/admin`, and their scripts and styles under `/assets/`. The files are
//! hand-written ES modules and CSS in `web/static/`, embedded in the binary
//! by rust-embed, in debug builds too (`debug-embed`), so the browser suite
//! tests the very bytes a release serves; editing a file rebuilds the crate.
//!
//! Every file is sent with a strong `ETag` (its SHA-256, which rust-embed
//! computes at build time) and `Cache-Control: no-cache`: a browser keeps
//! its copy and asks again with `If-None-Match`, and gets an empty 304 until
//! the binary changes. The names carry no hash, so revalidating is what
//! keeps a new release from running with last release's scripts.
//!
//! poem's own `EmbeddedFilesEndpoint` is not used: its ETag is unquoted
//! (RFC 9110 wants a quoted string), it answers 304 through an error (which
//! our problem mapping would give a JSON body) and it refuses HEAD.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, Request, Response};
use rust_embed::RustEmbed;
use std::fmt::Write;

#[derive(RustEmbed)]
#[folder = "../web/static"]
struct Assets;

/// Same-origin only: no inline script or style, API calls to this origin.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// One embedded file at a fixed route (a page).
pub fn page(file: &'static str) -> Asset {
    Asset(Some(file))
}

/// Every embedded file under the path it is nested at (`/assets/...`).
pub fn assets() -> Asset {
    Asset(None)
}

pub struct Asset(Option<&'static str>);

impl Endpoint for Asset {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return Err(poem::Error::from_status(StatusCode::METHOD_NOT_ALLOWED));
        }
        let path = match self.0 {
            Some(file) => file,
            None => request.uri().path().trim_start_matches('/'),
        };
        // Pages are only reachable at their own routes.
        let file = (self.0.is_some() || !path.ends_with(".html"))
            .then(|| Assets::get(path))
            .flatten()
            .ok_or_else(|| poem::Error::from_status(StatusCode::NOT_FOUND))?;
        let etag = etag(&file.metadata.sha256_hash());
        let mut response = if matches(request.headers().get(header::IF_NONE_MATCH), &etag) {
            Response::builder()
                .status(StatusCode::NOT_MODIFIED)
                .finish()
        } else if request.method() == Method::HEAD {
            Response::builder()
                .header(header::CONTENT_LENGTH, file.data.len())
                .finish()
        } else {
            Response::builder().body(file.data.into_owned())
        };
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        let kind = content_type(path);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if kind.starts_with("text/html") {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
        }
        Ok(response)
    }
}

/// A strong validator from the file's hash, as a quoted string.
fn etag(hash: &[u8]) -> String {
    let mut tag = String::with_capacity(2 + 2 * hash.len());
    tag.push('"');
    for byte in hash.iter().take(16) {
        let _ = write!(tag, "{byte:02x}");
    }
    tag.push('"');
    tag
}

/// `If-None-Match` names this tag (or `*`); weak comparison, as RFC 9110
/// asks for this header.
fn matches(header: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(listed) = header.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    listed.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json" | "webmanifest") => "application/manifest+json",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_copy_is_revalidated_by_its_quoted_tag_weak_or_strong() {
        let tag = etag(&[0xab; 32]);
        assert_eq!(tag.len(), 34);
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        let header = |v: &str| HeaderValue::from_str(v).ok();
        assert!(matches(header(&tag).as_ref(), &tag));
        assert!(matches(header(&format!("W/{tag}")).as_ref(), &tag));
        assert!(matches(header(&format!("\"x\", {tag}")).as_ref(), &tag));
        assert!(matches(header("*").as_ref(), &tag));
        assert!(!matches(header("\"other\"").as_ref(), &tag));
        assert!(!matches(None, &tag));
    }

    #[test]
    fn every_page_and_module_is_embedded_with_its_type() {
        for (file, kind) in [
            ("index.html", "text/html; charset=utf-8"),
            ("admin.html", "text/html; charset=utf-8"),
            ("app.css", "text/css; charset=utf-8"),
            ("buyer.js", "text/javascript; charset=utf-8"),
            ("admin.js", "text/javascript; charset=utf-8"),
        ] {
            assert!(Assets::get(file).is_some(), "{file} is embedded");
            assert_eq!(content_type(file), kind);
        }
    }
}
