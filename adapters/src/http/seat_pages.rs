//! Seat-map bodies, rendered once per map and shared by every reader.
//!
//! A page is one schedule's JSON body for one (version, snapshot, lapsed
//! holds) triple, which is exactly what its statuses depend on (see
//! `SeatMap::lapsed_through`). Its JSON is rendered by the first reader
//! that needs it, and its gzip and brotli forms by the first reader that
//! asks for each; readers that arrive meanwhile wait for that one
//! rendering instead of repeating it (a `OnceLock`). Serving a page is
//! then a clone of `Bytes`.
//!
//! The ETag names the version and the content (a hash of the JSON), weak
//! because one ETag covers every encoding of the same JSON: `If-None-Match`
//! compares weakly anyway (RFC 9110, 13.1.2).

use bytes::Bytes;
use frontrow_application::cache::BoundedMap;
use frontrow_application::seating::SeatMap;
use frontrow_domain::seat::SeatState;
use frontrow_domain::{ScheduleId, Timestamp};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::sync::{Arc, OnceLock};

/// Below this size a body is sent as it is: compressing it saves less than
/// the header costs.
const COMPRESS_FROM_BYTES: usize = 1_024;

/// gzip level: 6 (zlib's default) shrinks a seat map nearly as much as 9,
/// at a third of the time.
const GZIP_LEVEL: u32 = 6;

/// brotli quality 5 and a 4 MiB window: smaller than gzip at about the same
/// time; qualities 10 and 11 take tens of times longer per page.
const BROTLI_QUALITY: i32 = 5;
const BROTLI_WINDOW: i32 = 22;

/// How a body travels, as the request's `Accept-Encoding` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// `br`
    Brotli,
    /// `gzip`
    Gzip,
    /// As it is.
    Identity,
}

impl BodyEncoding {
    /// The best encoding the header accepts (brotli, then gzip): a coding
    /// counts when it is named, or `*` is, with a q-value above 0.
    pub fn accepted(header: Option<&str>) -> Self {
        let mut gzip = false;
        let mut brotli = false;
        for offer in header.unwrap_or("").split(',') {
            let mut parts = offer.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .or_else(|| p.strip_prefix("Q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            match coding.as_str() {
                "br" => brotli = true,
                "gzip" | "x-gzip" => gzip = true,
                "*" => (brotli, gzip) = (true, true),
                _ => {}
            }
        }
        match (brotli, gzip) {
            (true, _) => Self::Brotli,
            (false, true) => Self::Gzip,
            _ => Self::Identity,
        }
    }

    /// The `Content-Encoding` value; `None` for a body as it is.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Self::Brotli => Some("br"),
            Self::Gzip => Some("gzip"),
            Self::Identity => None,
        }
    }
}

/// One rendered seat map (see the module doc).
pub struct SeatPage {
    version: u64,
    seats: Arc<Vec<SeatState>>,
    lapsed_through: Option<Timestamp>,
    /// The JSON and its ETag, made by the first reader.
    json: OnceLock<(Bytes, String)>,
    /// `None`: compressing failed, and the JSON goes as it is.
    gzip: OnceLock<Option<Bytes>>,
    brotli: OnceLock<Option<Bytes>>,
}

impl SeatPage {
    fn new(map: &SeatMap) -> Self {
        Self {
            version: map.version,
            seats: map.seats.clone(),
            lapsed_through: map.lapsed_through,
            json: OnceLock::new(),
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        }
    }

    /// Whether this page is what `map` reads.
    fn shows(&self, map: &SeatMap) -> bool {
        self.version == map.version
            && Arc::ptr_eq(&self.seats, &map.seats)
            && self.lapsed_through == map.lapsed_through
    }

    fn rendered(&self, map: &SeatMap) -> &(Bytes, String) {
        self.json.get_or_init(|| {
            let json = render(map);
            // SipHash with fixed keys: every instance of one build gives the
            // same content the same tag.
            let mut hasher = std::hash::DefaultHasher::new();
            json.hash(&mut hasher);
            let etag = format!("W/\"{}-{:016x}\"", map.version, hasher.finish());
            (json, etag)
        })
    }

    /// The page's ETag.
    pub fn etag(&self, map: &SeatMap) -> &str {
        &self.rendered(map).1
    }

    /// The body in `encoding` (as it is when it is small), and the encoding
    /// it is really in.
    pub fn body(&self, map: &SeatMap, encoding: BodyEncoding) -> (Bytes, BodyEncoding) {
        let json = &self.rendered(map).0;
        if json.len() < COMPRESS_FROM_BYTES {
            return (json.clone(), BodyEncoding::Identity);
        }
        let compressed = match encoding {
            BodyEncoding::Identity => return (json.clone(), encoding),
            BodyEncoding::Gzip => self.gzip.get_or_init(|| gzip(json)),
            BodyEncoding::Brotli => self.brotli.get_or_init(|| brotli(json)),
        };
        match compressed {
            Some(body) => (body.clone(), encoding),
            None => (json.clone(), BodyEncoding::Identity),
        }
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison, `*` matches).
pub fn none_match_hits(if_none_match: Option<&str>, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let wanted = opaque(etag);
    if_none_match.is_some_and(|header| {
        header
            .split(',')
            .any(|tag| tag.trim() == "*" || opaque(tag) == wanted)
    })
}

fn render(map: &SeatMap) -> Bytes {
    let price = map.schedule.price.get();
    let mut body = String::with_capacity(16 + map.seats.len() * 52);
    body.push_str("{\"seats\":[");
    for (i, seat) in map.statuses().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let _ = write!(
            body,
            "{{\"seatNumber\":{},\"price\":{price},\"status\":\"{}\"}}",
            seat.seat.get(),
            seat.status.as_str()
        );
    }
    body.push_str("]}");
    Bytes::from(body)
}

/// `json` gzipped. Writing to a `Vec` cannot fail; were it to, readers
/// get the JSON as it is, labelled so.
fn gzip(json: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(json.len() / 8),
        flate2::Compression::new(GZIP_LEVEL),
    );
    match encoder.write_all(json).and_then(|()| encoder.finish()) {
        Ok(body) => Some(Bytes::from(body)),
        Err(error) => {
            tracing::error!(%error, "could not gzip a seat map");
            None
        }
    }
}

fn brotli(json: &[u8]) -> Option<Bytes> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: BROTLI_WINDOW,
        ..Default::default()
    };
    let mut body = Vec::with_capacity(json.len() / 8);
    match brotli::BrotliCompress(&mut &json[..], &mut body, &params) {
        Ok(_) => Some(Bytes::from(body)),
        Err(error) => {
            tracing::error!(%error, "could not brotli a seat map");
            None
        }
    }
}

/// Each schedule's newest page, at most `MAX_MAPS` (one per live map).
pub struct SeatPages(BoundedMap<ScheduleId, Arc<SeatPage>>);

impl Default for SeatPages {
    fn default() -> Self {
        Self(BoundedMap::new(frontrow_application::seat_maps::MAX_MAPS))
    }
}

impl SeatPages {
    /// The page `map` reads: the schedule's newest page if it is that one,
    /// else a new one, kept unless the kept one is of a newer version.
    pub fn page(&self, map: &SeatMap) -> Arc<SeatPage> {
        let id = map.schedule.id;
        let kept = self
            .0
            .read(&id, |page| page.shows(map).then(|| page.clone()))
            .flatten();
        if let Some(page) = kept {
            return page;
        }
        let fresh = Arc::new(SeatPage::new(map));
        let replaced = self.0.update(&id, |page| {
            if page.shows(map) {
                return page.clone();
            }
            if page.version <= map.version {
                *page = fresh.clone();
            }
            fresh.clone()
        });
        match replaced {
            Some(page) => page,
            None => {
                self.0.insert(id, fresh.clone(), |_, _| false);
                fresh
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_encoding_the_client_accepts_is_chosen() {
        let accepted = |h: &str| BodyEncoding::accepted(Some(h));
        assert_eq!(accepted("gzip, deflate, br"), BodyEncoding::Brotli);
        assert_eq!(accepted("gzip"), BodyEncoding::Gzip);
        assert_eq!(accepted("br;q=0, gzip;q=0.5"), BodyEncoding::Gzip);
        assert_eq!(accepted("identity"), BodyEncoding::Identity);
        assert_eq!(accepted("*"), BodyEncoding::Brotli);
        assert_eq!(accepted(""), BodyEncoding::Identity);
        assert_eq!(BodyEncoding::accepted(None), BodyEncoding::Identity);
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_a_star() {
        let tag = "W/\"7-00000000000000ab\"";
        assert!(none_match_hits(Some(tag), tag));
        assert!(none_match_hits(Some("\"7-00000000000000ab\""), tag));
        assert!(none_match_hits(
            Some("\"x\", W/\"7-00000000000000ab\""),
            tag
        ));
        assert!(none_match_hits(Some("*"), tag));
        assert!(!none_match_hits(Some("W/\"8-00000000000000ab\""), tag));
        assert!(!none_match_hits(None, tag));
    }
}
