//! A typed client of frontrow's HTTP API: one method per endpoint, so each
//! call's method, path, headers and body shape are spelled once outside the
//! server. The contract tests (`frontrow-tests`) and the load test
//! (`frontrow-loadtest`) both speak to the server through it.
//!
//! Every method sends one well-formed request and answers:
//!
//! - `Err(reqwest::Error)` when nothing came back over the wire (refused,
//!   reset, timed out, a body cut short);
//! - otherwise a [`Reply`] with whatever status the server chose: a 409 is
//!   an answer, not an error, and its problem's `code` is in the body.
//!
//! A deliberately malformed request (a missing token, a body of the wrong
//! shape, a wrong method) is not a method here: build it from
//! [`Client::request`] and read the answer with [`Reply::read`].
//!
//! An [`Observer`] given with [`Client::observed_by`] hears of every answer:
//! its endpoint's name, its status and how long it took, body included. The
//! load test records its latencies that way. An [`Inspector`] given with
//! [`Client::inspected_by`] reads every whole answer, body included: the
//! contract tests check each against the OpenAPI document.
//!
//! ```no_run
//! use frontrow_client::{Client, NewConcert, NewSchedule};
//!
//! # async fn sale() -> Result<(), reqwest::Error> {
//! let api = Client::new(reqwest::Client::new(), "http://127.0.0.1:8080").with_admin_key("key");
//! let date = NewSchedule::new("2030-01-01T19:00:00Z", 100, 50);
//! let created = api.create_concert(&NewConcert::new("Night", vec![date])).await?;
//! let concert = created.i64("concertId");
//! let buyer = api.register("ada").await?.buyer().expect("registered");
//! api.charge(&buyer, 500, None).await?;
//! let token = api.join(&buyer, concert).await?.str("token").to_owned();
//! // ... poll `queue_status` until ACTIVE, then:
//! let schedule = created.body["schedules"][0]["scheduleId"].as_i64().expect("an id");
//! let held = api.hold(&buyer, &token, schedule, 7).await?;
//! let paid = api.pay(&buyer, &token, held.i64("reservationId")).await?;
//! assert_eq!(paid.status, reqwest::StatusCode::CREATED);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const QUEUE_TOKEN: &str = "X-Queue-Token";
const ADMIN_KEY: &str = "X-Admin-Key";
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// Hears of every answer a [`Client`] receives.
///
/// `endpoint` is the name of the method's endpoint (`"users"`, `"charge"`,
/// `"queue_join"`, `"queue_status"`, `"schedules"`, `"seats"`, `"hold"`,
/// `"pay"`, ...: each method's documentation names its own), `elapsed` the
/// time from sending to the last byte of the body (for a stream, to its
/// headers). A request that got no answer is not observed.
///
/// Any `Fn(&'static str, StatusCode, Duration) + Send + Sync` is an observer.
pub trait Observer: Send + Sync {
    /// One answer: which endpoint, its status, how long it took.
    fn observe(&self, endpoint: &'static str, status: StatusCode, elapsed: Duration);
}

impl<F> Observer for F
where
    F: Fn(&'static str, StatusCode, Duration) + Send + Sync,
{
    fn observe(&self, endpoint: &'static str, status: StatusCode, elapsed: Duration) {
        self(endpoint, status, elapsed);
    }
}

/// One whole answer and the request it answered, for an [`Inspector`].
#[derive(Debug)]
pub struct Exchange<'a> {
    /// The request's method.
    pub method: &'a Method,
    /// The request's path, without its query.
    pub path: &'a str,
    /// The answer's status.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: &'a HeaderMap,
    /// The answer's body, as received.
    pub body: &'a [u8],
}

/// Reads every whole answer a [`Client`] receives (a stream's body is the
/// caller's to read, so a stream is not inspected). It may panic: a test
/// fails on an answer its inspector finds wrong.
pub trait Inspector: Send + Sync {
    /// One answer and its request.
    fn inspect(&self, exchange: &Exchange<'_>);
}

/// A registered buyer: the id and the bearer token `POST /api/v1/users` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    /// The user's id.
    pub user_id: i64,
    /// The access token every buyer endpoint takes as `Authorization: Bearer`.
    pub access_token: String,
}

/// What the server answered: status, headers and JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type` header, empty when there is none.
    pub content_type: String,
    /// Every header of the answer.
    pub headers: HeaderMap,
    /// The body as JSON; `Null` when it is empty or not JSON.
    pub body: Value,
}

impl Reply {
    /// Reads a whole answer (for a request built with [`Client::request`]).
    pub async fn read(mut response: Response) -> Result<Reply, reqwest::Error> {
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = response.bytes().await?;
        Ok(Reply::from_parts(status, headers, &body))
    }

    fn from_parts(status: StatusCode, headers: HeaderMap, body: &[u8]) -> Reply {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Reply {
            status,
            content_type,
            headers,
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        }
    }

    /// A problem's `code` (`SEAT_UNAVAILABLE`, ...); empty for any other answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// An integer field of the body.
    ///
    /// # Panics
    ///
    /// When the body has no integer `field`: for tests, where that answer
    /// is a failure.
    pub fn i64(&self, field: &str) -> i64 {
        self.body[field]
            .as_i64()
            .unwrap_or_else(|| panic!("no integer {field} in {}", self.body))
    }

    /// A string field of the body.
    ///
    /// # Panics
    ///
    /// When the body has no string `field`: for tests, where that answer
    /// is a failure.
    pub fn str(&self, field: &str) -> &str {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field} in {}", self.body))
    }

    /// The buyer a registration ([`Client::register`]) created; `None` for
    /// any other answer.
    pub fn buyer(&self) -> Option<Buyer> {
        Some(Buyer {
            user_id: self.body["userId"].as_i64()?,
            access_token: self.body["accessToken"].as_str()?.to_owned(),
        })
    }
}

/// A concert to create ([`Client::create_concert`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewConcert {
    /// 1 to 200 characters, at least one of which shows.
    pub title: String,
    /// Its dates, each with its own seats.
    pub schedules: Vec<NewSchedule>,
    /// A scheduled sale's opening (RFC 3339); absent: on sale at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
    /// How long before the opening buyers may join the pre-queue; the
    /// server's default (30) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_queue_minutes: Option<i64>,
}

impl NewConcert {
    /// A concert on sale at once.
    pub fn new(title: impl Into<String>, schedules: Vec<NewSchedule>) -> NewConcert {
        NewConcert {
            title: title.into(),
            schedules,
            opens_at: None,
            pre_queue_minutes: None,
        }
    }

    /// The same concert, its sale opening at `opens_at` (RFC 3339) with a
    /// pre-queue from `pre_queue_minutes` before.
    pub fn opening(self, opens_at: impl Into<String>, pre_queue_minutes: i64) -> NewConcert {
        NewConcert {
            opens_at: Some(opens_at.into()),
            pre_queue_minutes: Some(pre_queue_minutes),
            ..self
        }
    }
}

/// One date of a [`NewConcert`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSchedule {
    /// When it starts (RFC 3339).
    pub starts_at: String,
    /// Its seats, numbered from 1 (absent with a layout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seat_count: Option<i64>,
    /// Points per seat (absent with a layout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    /// A venue layout (`tiers`, `sections`, `stage`), as the API documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<Value>,
}

impl NewSchedule {
    /// `seat_count` seats at `price` points, starting at `starts_at`.
    pub fn new(starts_at: impl Into<String>, seat_count: i64, price: i64) -> NewSchedule {
        NewSchedule {
            starts_at: starts_at.into(),
            seat_count: Some(seat_count),
            price: Some(price),
            layout: None,
        }
    }

    /// A schedule sold by a venue layout: its seats and prices are the
    /// layout's.
    pub fn with_layout(starts_at: impl Into<String>, layout: Value) -> NewSchedule {
        NewSchedule {
            starts_at: starts_at.into(),
            seat_count: None,
            price: None,
            layout: Some(layout),
        }
    }
}

/// A client of one frontrow server. Cheap to clone: clones share the
/// connection pool and the observer.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Arc<str>,
    admin_key: Option<Arc<str>>,
    observer: Option<Arc<dyn Observer>>,
    inspector: Option<Arc<dyn Inspector>>,
}

impl Client {
    /// A client of the server at `base` (`http://host:port`), sending
    /// through `http` (its pool size and timeouts are the caller's choice).
    pub fn new(http: reqwest::Client, base: &str) -> Client {
        Client {
            http,
            base: base.trim_end_matches('/').into(),
            admin_key: None,
            observer: None,
            inspector: None,
        }
    }

    /// The same client, sending `key` as `X-Admin-Key` on the operator's
    /// endpoints (without one they answer 401).
    pub fn with_admin_key(self, key: &str) -> Client {
        Client {
            admin_key: Some(key.into()),
            ..self
        }
    }

    /// The same client, telling `observer` of every answer.
    pub fn observed_by(self, observer: Arc<dyn Observer>) -> Client {
        Client {
            observer: Some(observer),
            ..self
        }
    }

    /// The same client, letting `inspector` read every whole answer.
    pub fn inspected_by(self, inspector: Arc<dyn Inspector>) -> Client {
        Client {
            inspector: Some(inspector),
            ..self
        }
    }

    /// A request to `path` on this server, with nothing else set: for what
    /// no method sends (a malformed request on purpose, a page of the web
    /// app). Read its answer with [`Reply::read`].
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    fn buyers(&self, method: Method, path: &str, buyer: &Buyer) -> RequestBuilder {
        self.request(method, path).bearer_auth(&buyer.access_token)
    }

    /// A buyer's request through the queue's gate (an ACTIVE token).
    fn gated(&self, method: Method, path: &str, buyer: &Buyer, queue: &str) -> RequestBuilder {
        self.buyers(method, path, buyer).header(QUEUE_TOKEN, queue)
    }

    fn operators(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.request(method, path);
        match &self.admin_key {
            Some(key) => request.header(ADMIN_KEY, &**key),
            None => request,
        }
    }

    fn observe(&self, endpoint: &'static str, status: StatusCode, started: Instant) {
        if let Some(observer) = &self.observer {
            observer.observe(endpoint, status, started.elapsed());
        }
    }

    /// Sends `request`, reads the whole body, tells the observer, then
    /// hands status, headers and body to `read`.
    async fn exchange<T>(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
        read: impl FnOnce(StatusCode, HeaderMap, &[u8]) -> T,
    ) -> Result<T, reqwest::Error> {
        let request = request.build()?;
        let method = request.method().clone();
        let path = request.url().path().to_owned();
        let started = Instant::now();
        let mut response = self.http.execute(request).await?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = response.bytes().await;
        self.observe(endpoint, status, started);
        let body = body?;
        if let Some(inspector) = &self.inspector {
            inspector.inspect(&Exchange {
                method: &method,
                path: &path,
                status,
                headers: &headers,
                body: &body,
            });
        }
        Ok(read(status, headers, &body))
    }

    async fn send(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
    ) -> Result<Reply, reqwest::Error> {
        self.exchange(endpoint, request, Reply::from_parts).await
    }

    /// Sends `request` and answers as soon as its headers have come: for a
    /// Server-Sent Events stream, read on by the caller.
    async fn open(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
    ) -> Result<Response, reqwest::Error> {
        let started = Instant::now();
        let response = request.send().await?;
        self.observe(endpoint, response.status(), started);
        Ok(response)
    }

    /// `POST /api/v1/users`: registers a buyer (201; [`Reply::buyer`] reads
    /// it). Observed as `users`.
    pub async fn register(&self, name: &str) -> Result<Reply, reqwest::Error> {
        let request = self.request(Method::POST, "/api/v1/users");
        self.send("users", request.json(&json!({ "name": name })))
            .await
    }

    /// `POST /api/v1/users` with a password: an account that can sign in
    /// on any device by its name (201, [`Reply::buyer`]; 409 `NAME_TAKEN`).
    /// Observed as `users`.
    pub async fn sign_up(&self, name: &str, password: &str) -> Result<Reply, reqwest::Error> {
        let request = self.request(Method::POST, "/api/v1/users");
        let body = json!({ "name": name, "password": password });
        self.send("users", request.json(&body)).await
    }

    /// `POST /api/v1/sessions`: signs in with a name and password (201,
    /// [`Reply::buyer`]; 401 `INVALID_CREDENTIALS`; 429
    /// `TOO_MANY_ATTEMPTS` with `Retry-After`). Observed as `sign_in`.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<Reply, reqwest::Error> {
        let request = self.request(Method::POST, "/api/v1/sessions");
        let body = json!({ "name": name, "password": password });
        self.send("sign_in", request.json(&body)).await
    }

    /// `DELETE /api/v1/sessions/current`: signs the buyer's token out (204);
    /// it is refused (401) from then on. Observed as `sign_out`.
    pub async fn sign_out(&self, buyer: &Buyer) -> Result<Reply, reqwest::Error> {
        let request = self.buyers(Method::DELETE, "/api/v1/sessions/current", buyer);
        self.send("sign_out", request).await
    }

    /// `POST /api/v1/points/charge`: adds `amount` points; a retry with the
    /// same idempotency `key` applies once. Observed as `charge`.
    pub async fn charge(
        &self,
        buyer: &Buyer,
        amount: i64,
        key: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let mut request = self.buyers(Method::POST, "/api/v1/points/charge", buyer);
        if let Some(key) = key {
            request = request.header(IDEMPOTENCY_KEY, key);
        }
        self.send("charge", request.json(&json!({ "amount": amount })))
            .await
    }

    /// `GET /api/v1/points`: the buyer's `balance`. Observed as `balance`.
    pub async fn balance(&self, buyer: &Buyer) -> Result<Reply, reqwest::Error> {
        let request = self.buyers(Method::GET, "/api/v1/points", buyer);
        self.send("balance", request).await
    }

    /// `GET /api/v1/concerts`: every concert on sale. Observed as `concerts`.
    pub async fn concerts(&self) -> Result<Reply, reqwest::Error> {
        let request = self.request(Method::GET, "/api/v1/concerts");
        self.send("concerts", request).await
    }

    /// `GET /api/v1/concerts/{concert}/schedules`: its dates with their free
    /// seats (ACTIVE queue token). Observed as `schedules`.
    pub async fn schedules(
        &self,
        buyer: &Buyer,
        queue: &str,
        concert: i64,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/concerts/{concert}/schedules");
        let request = self.gated(Method::GET, &path, buyer, queue);
        self.send("schedules", request).await
    }

    fn seat_map(&self, buyer: &Buyer, queue: &str, schedule: i64) -> RequestBuilder {
        let path = format!("/api/v1/schedules/{schedule}/seats");
        self.gated(Method::GET, &path, buyer, queue)
    }

    /// `GET /api/v1/schedules/{schedule}/seats`: every seat with its status
    /// (ACTIVE queue token). Observed as `seats`.
    pub async fn seats(
        &self,
        buyer: &Buyer,
        queue: &str,
        schedule: i64,
    ) -> Result<Reply, reqwest::Error> {
        let request = self.seat_map(buyer, queue, schedule);
        self.send("seats", request).await
    }

    /// The same call as [`Client::seats`], answering only the numbers of
    /// the AVAILABLE seats, parsed without building a JSON tree (a map of
    /// 1,000 seats is 40 KB, and a load generator shares the server's
    /// cores). Empty when the answer is not a seat map (a problem).
    /// Observed as `seats`.
    pub async fn available_seats(
        &self,
        buyer: &Buyer,
        queue: &str,
        schedule: i64,
    ) -> Result<Vec<i64>, reqwest::Error> {
        let request = self.seat_map(buyer, queue, schedule);
        self.exchange("seats", request, |_, _, body| available_in(body))
            .await
    }

    /// `GET /api/v1/schedules/{schedule}/seats/stream`: the seat map, then
    /// each change, as Server-Sent Events (ACTIVE queue token). Answers at
    /// the headers; the caller reads the events. Observed as `seat_stream`.
    pub async fn seat_stream(
        &self,
        buyer: &Buyer,
        queue: &str,
        schedule: i64,
    ) -> Result<Response, reqwest::Error> {
        let path = format!("/api/v1/schedules/{schedule}/seats/stream");
        let request = self.gated(Method::GET, &path, buyer, queue);
        self.open("seat_stream", request).await
    }

    /// `GET /api/v1/schedules/{schedule}/layout`: its sections, rows and
    /// tiers (public; `if_none_match` is a previous answer's `ETag`).
    /// Observed as `layout`.
    pub async fn layout(
        &self,
        schedule: i64,
        if_none_match: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/schedules/{schedule}/layout");
        let mut request = self.request(Method::GET, &path);
        if let Some(tag) = if_none_match {
            request = request.header("If-None-Match", tag);
        }
        self.send("layout", request).await
    }

    /// `GET /api/v1/schedules/{schedule}/overview`: free seats by section
    /// and tier (ACTIVE queue token). Observed as `overview`.
    pub async fn overview(
        &self,
        buyer: &Buyer,
        queue: &str,
        schedule: i64,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/schedules/{schedule}/overview");
        let request = self.gated(Method::GET, &path, buyer, queue);
        self.send("overview", request).await
    }

    /// `GET /api/v1/schedules/{schedule}/status[?section=]`: a letter per
    /// seat, by section (ACTIVE queue token). Observed as `status`.
    pub async fn seat_status(
        &self,
        buyer: &Buyer,
        queue: &str,
        schedule: i64,
        section: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/schedules/{schedule}/status");
        let mut request = self.gated(Method::GET, &path, buyer, queue);
        if let Some(section) = section {
            request = request.query(&[("section", section)]);
        }
        self.send("status", request).await
    }

    /// `POST /api/v1/queue/tokens`: joins a concert's waiting room (201, or
    /// 200 with the same place when asked again). Observed as `queue_join`.
    pub async fn join(&self, buyer: &Buyer, concert: i64) -> Result<Reply, reqwest::Error> {
        let request = self.buyers(Method::POST, "/api/v1/queue/tokens", buyer);
        let body = json!({ "concertId": concert });
        self.send("queue_join", request.json(&body)).await
    }

    /// `POST /api/v1/concerts/{concert}/challenge`: the door challenge to
    /// solve before joining (`required`, `level`, `challenge`: ALTCHA v2).
    /// Observed as `join_challenge`.
    pub async fn join_challenge(
        &self,
        buyer: &Buyer,
        concert: i64,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/concerts/{concert}/challenge");
        let request = self.buyers(Method::POST, &path, buyer);
        self.send("join_challenge", request).await
    }

    /// `POST /api/v1/queue/tokens` with a solved door challenge (`proof`:
    /// the base64 ALTCHA payload). Observed as `queue_join`.
    pub async fn join_with_proof(
        &self,
        buyer: &Buyer,
        concert: i64,
        proof: &str,
    ) -> Result<Reply, reqwest::Error> {
        let request = self.buyers(Method::POST, "/api/v1/queue/tokens", buyer);
        let body = json!({ "concertId": concert, "proofOfWork": proof });
        self.send("queue_join", request.json(&body)).await
    }

    /// `POST /api/v1/users/challenge`: the door challenge to solve before
    /// signing up `name`. Observed as `sign_up_challenge`.
    pub async fn sign_up_challenge(&self, name: &str) -> Result<Reply, reqwest::Error> {
        let request = self.request(Method::POST, "/api/v1/users/challenge");
        self.send("sign_up_challenge", request.json(&json!({ "name": name })))
            .await
    }

    /// `POST /api/v1/users` (no password) with a solved door challenge.
    /// Observed as `users`.
    pub async fn register_with_proof(
        &self,
        name: &str,
        proof: &str,
    ) -> Result<Reply, reqwest::Error> {
        let request = self.request(Method::POST, "/api/v1/users");
        let body = json!({ "name": name, "proofOfWork": proof });
        self.send("users", request.json(&body)).await
    }

    /// `PUT /api/v1/admin/concerts/{concert}/door`: the concert's own door
    /// level. Observed as `set_door`.
    pub async fn set_door_level(&self, concert: i64, level: i64) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/admin/concerts/{concert}/door");
        let body = json!({ "level": level });
        self.send("set_door", self.operators(Method::PUT, &path).json(&body))
            .await
    }

    /// `GET /api/v1/queue/status`: the place of queue token `queue`.
    /// Observed as `queue_status`.
    pub async fn queue_status(&self, buyer: &Buyer, queue: &str) -> Result<Reply, reqwest::Error> {
        let request = self.gated(Method::GET, "/api/v1/queue/status", buyer, queue);
        self.send("queue_status", request).await
    }

    /// `GET /api/v1/queue/stream`: the place, then each change, as
    /// Server-Sent Events. Answers at the headers; the caller reads the
    /// events. Observed as `queue_stream`.
    pub async fn queue_stream(
        &self,
        buyer: &Buyer,
        queue: &str,
    ) -> Result<Response, reqwest::Error> {
        let request = self.gated(Method::GET, "/api/v1/queue/stream", buyer, queue);
        self.open("queue_stream", request).await
    }

    /// `DELETE /api/v1/queue/tokens`: leaves the room or gives up an ACTIVE
    /// slot (204). Observed as `queue_leave`.
    pub async fn leave(&self, buyer: &Buyer, queue: &str) -> Result<Reply, reqwest::Error> {
        let request = self.gated(Method::DELETE, "/api/v1/queue/tokens", buyer, queue);
        self.send("queue_leave", request).await
    }

    /// `POST /api/v1/reservations`: holds one seat (201; ACTIVE queue
    /// token). Observed as `hold`.
    pub async fn hold(
        &self,
        buyer: &Buyer,
        queue: &str,
        schedule: i64,
        seat: i64,
    ) -> Result<Reply, reqwest::Error> {
        let request = self.gated(Method::POST, "/api/v1/reservations", buyer, queue);
        let body = json!({ "scheduleId": schedule, "seatNumber": seat });
        self.send("hold", request.json(&body)).await
    }

    /// `POST /api/v1/schedules/{schedule}/best-available`: the best
    /// `quantity` seats together (in `tier` and/or `section` when given),
    /// held as one cart (201), or 409 `NO_ADJACENT_SEATS` with a `split`.
    /// Observed as `best_available`.
    pub async fn best_available(
        &self,
        buyer: &Buyer,
        queue: &str,
        schedule: i64,
        quantity: i64,
        tier: Option<&str>,
        section: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/schedules/{schedule}/best-available");
        let request = self.gated(Method::POST, &path, buyer, queue);
        let body = json!({ "quantity": quantity, "tier": tier, "section": section });
        self.send("best_available", request.json(&body)).await
    }

    /// `GET /api/v1/reservations/{reservation}`: one of the buyer's
    /// reservations. Observed as `reservation`.
    pub async fn reservation(
        &self,
        buyer: &Buyer,
        reservation: i64,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/reservations/{reservation}");
        let request = self.buyers(Method::GET, &path, buyer);
        self.send("reservation", request).await
    }

    /// `GET /api/v1/reservations`: a page of the buyer's reservations,
    /// newest first; `after` is the previous page's `next`. Observed as
    /// `reservations`.
    pub async fn reservations(
        &self,
        buyer: &Buyer,
        limit: Option<i64>,
        after: Option<i64>,
    ) -> Result<Reply, reqwest::Error> {
        let request = self.buyers(Method::GET, &page_path(limit, after), buyer);
        self.send("reservations", request).await
    }

    /// `DELETE /api/v1/reservations/{reservation}`: cancels a hold; the
    /// seat is free at once. Observed as `cancel`.
    pub async fn cancel(&self, buyer: &Buyer, reservation: i64) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/reservations/{reservation}");
        let request = self.buyers(Method::DELETE, &path, buyer);
        self.send("cancel", request).await
    }

    /// `DELETE /api/v1/reservations/{id}` with the queue token, so the
    /// place learns its cart: emptied, it lapses with its own turn.
    /// Observed as `cancel`.
    pub async fn cancel_in_line(
        &self,
        buyer: &Buyer,
        queue: &str,
        reservation: i64,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/reservations/{reservation}");
        let request = self.gated(Method::DELETE, &path, buyer, queue);
        self.send("cancel", request).await
    }

    /// `POST /api/v1/payments`: pays for a held seat with points (201; 200
    /// with the first receipt when paid already). The queue token need not
    /// be ACTIVE: a live hold is the right to pay for it.
    /// Observed as `pay`.
    pub async fn pay(
        &self,
        buyer: &Buyer,
        queue: &str,
        reservation: i64,
    ) -> Result<Reply, reqwest::Error> {
        let request = self.gated(Method::POST, "/api/v1/payments", buyer, queue);
        let body = json!({ "reservationId": reservation });
        self.send("pay", request.json(&body)).await
    }

    /// `GET /api/v1/reservations/{id}/receipt`: the receipt the reservation
    /// was paid with, every line of it (404 `NOT_PAID` when unpaid).
    /// Observed as `receipt`.
    pub async fn receipt(&self, buyer: &Buyer, reservation: i64) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/reservations/{reservation}/receipt");
        let request = self.buyers(Method::GET, &path, buyer);
        self.send("receipt", request).await
    }

    /// `GET /api/v1/reservations/{id}/ticket`: a paid seat's signed ticket
    /// code and its QR (409 `TICKET_NOT_ISSUED` when not CONFIRMED).
    /// Observed as `ticket`.
    pub async fn ticket(&self, buyer: &Buyer, reservation: i64) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/reservations/{reservation}/ticket");
        let request = self.buyers(Method::GET, &path, buyer);
        self.send("ticket", request).await
    }

    /// `GET /api/v1/tickets/public-key`: the Ed25519 key that checks ticket
    /// codes. Observed as `ticket_public_key`.
    pub async fn ticket_public_key(&self) -> Result<Reply, reqwest::Error> {
        let request = self.request(Method::GET, "/api/v1/tickets/public-key");
        self.send("ticket_public_key", request).await
    }

    /// `POST /api/v1/payments` with `reservationIds`: pays for a cart of
    /// held seats in one payment, all or nothing (201 with a receipt line
    /// per seat; 200 with the first receipt when the same cart was paid
    /// already; a refusal names the reservation in `reservationId`).
    /// Observed as `pay_cart`.
    pub async fn pay_cart(
        &self,
        buyer: &Buyer,
        queue: &str,
        reservations: &[i64],
    ) -> Result<Reply, reqwest::Error> {
        let request = self.gated(Method::POST, "/api/v1/payments", buyer, queue);
        let body = json!({ "reservationIds": reservations });
        self.send("pay_cart", request.json(&body)).await
    }

    /// `POST /api/v1/admin/concerts`: creates a concert with its schedules
    /// and seats (201: `concertId` and each schedule's `scheduleId`).
    /// Observed as `create_concert`.
    pub async fn create_concert(&self, concert: &NewConcert) -> Result<Reply, reqwest::Error> {
        let request = self.operators(Method::POST, "/api/v1/admin/concerts");
        self.send("create_concert", request.json(concert)).await
    }

    /// [`Client::create_concert`] with an idempotency `key`: a retry with the
    /// same key and concert answers the concert the first call made (201
    /// again) instead of making another. Observed as `create_concert`.
    pub async fn create_concert_with_key(
        &self,
        concert: &NewConcert,
        key: &str,
    ) -> Result<Reply, reqwest::Error> {
        let request = self
            .operators(Method::POST, "/api/v1/admin/concerts")
            .header(IDEMPOTENCY_KEY, key);
        self.send("create_concert", request.json(concert)).await
    }

    /// `PUT /api/v1/admin/concerts/{concert}/queue`: the room's admission
    /// policy; answers the room's state. Observed as `set_queue`.
    pub async fn set_queue(
        &self,
        concert: i64,
        capacity: i64,
        admit_per_second: i64,
        paused: bool,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/admin/concerts/{concert}/queue");
        let policy =
            json!({ "capacity": capacity, "admitPerSecond": admit_per_second, "paused": paused });
        self.send(
            "set_queue",
            self.operators(Method::PUT, &path).json(&policy),
        )
        .await
    }

    /// `GET /api/v1/admin/concerts/{concert}/queue`: the room's counts,
    /// policy, stock and opening. Observed as `queue_state`.
    pub async fn queue_state(&self, concert: i64) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/admin/concerts/{concert}/queue");
        self.send("queue_state", self.operators(Method::GET, &path))
            .await
    }

    /// `GET /api/v1/admin/concerts/{concert}/queue/history`: the room's
    /// recent readings, oldest first. Observed as `queue_history`.
    pub async fn queue_history(&self, concert: i64) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/admin/concerts/{concert}/queue/history");
        self.send("queue_history", self.operators(Method::GET, &path))
            .await
    }

    /// `GET /api/v1/admin/concerts/{concert}/seats`: seats available, held
    /// and sold in each schedule. Observed as `seat_counts`.
    pub async fn seat_counts(&self, concert: i64) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/admin/concerts/{concert}/seats");
        self.send("seat_counts", self.operators(Method::GET, &path))
            .await
    }

    /// `PUT /api/v1/admin/concerts/{concert}/opening`: moves a scheduled
    /// sale's opening (RFC 3339), or with `None` opens it now; answers the
    /// room's state. Observed as `set_opening`.
    pub async fn set_opening(
        &self,
        concert: i64,
        opens_at: Option<&str>,
        pre_queue_minutes: Option<i64>,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/api/v1/admin/concerts/{concert}/opening");
        let mut opening = json!({ "opensAt": opens_at });
        if let Some(minutes) = pre_queue_minutes {
            opening["preQueueMinutes"] = minutes.into();
        }
        let request = self.operators(Method::PUT, &path).json(&opening);
        self.send("set_opening", request).await
    }

    /// `GET /health/live`: the process answers. Observed as `health_live`.
    pub async fn health_live(&self) -> Result<Reply, reqwest::Error> {
        let request = self.request(Method::GET, "/health/live");
        self.send("health_live", request).await
    }

    /// `GET /health/ready`: the process and its stores answer (503 with
    /// what failed otherwise). Observed as `health_ready`.
    pub async fn health_ready(&self) -> Result<Reply, reqwest::Error> {
        let request = self.request(Method::GET, "/health/ready");
        self.send("health_ready", request).await
    }

    /// `GET /metrics`: the status and the OpenMetrics text. Observed as
    /// `metrics`.
    pub async fn metrics(&self) -> Result<(StatusCode, String), reqwest::Error> {
        let request = self.request(Method::GET, "/metrics");
        self.exchange("metrics", request, |status, _, body| {
            (status, String::from_utf8_lossy(body).into_owned())
        })
        .await
    }
}

/// The path of a page of reservations.
fn page_path(limit: Option<i64>, after: Option<i64>) -> String {
    let query: Vec<String> = [("limit", limit), ("after", after)]
        .into_iter()
        .filter_map(|(name, value)| Some(format!("{name}={}", value?)))
        .collect();
    if query.is_empty() {
        "/api/v1/reservations".to_owned()
    } else {
        format!("/api/v1/reservations?{}", query.join("&"))
    }
}

/// The AVAILABLE seat numbers of a seat map's JSON; empty when `body` is
/// not a seat map.
fn available_in(body: &[u8]) -> Vec<i64> {
    #[derive(serde::Deserialize)]
    struct Seat<'a> {
        #[serde(rename = "seatNumber")]
        seat_number: i64,
        status: &'a str,
    }
    #[derive(serde::Deserialize)]
    struct Map<'a> {
        #[serde(borrow)]
        seats: Vec<Seat<'a>>,
    }
    serde_json::from_slice::<Map>(body)
        .map(|map| {
            map.seats
                .iter()
                .filter(|s| s.status == "AVAILABLE")
                .map(|s| s.seat_number)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_path_carries_only_the_given_bounds() {
        assert_eq!(page_path(None, None), "/api/v1/reservations");
        assert_eq!(page_path(Some(2), None), "/api/v1/reservations?limit=2");
        assert_eq!(page_path(None, Some(9)), "/api/v1/reservations?after=9");
        assert_eq!(
            page_path(Some(2), Some(9)),
            "/api/v1/reservations?limit=2&after=9"
        );
    }

    #[test]
    fn available_seats_are_read_from_a_map_and_nothing_from_a_problem() {
        let map = br#"{"scheduleId":1,"version":3,"seats":[
            {"seatNumber":1,"status":"SOLD"},{"seatNumber":2,"status":"AVAILABLE"},
            {"seatNumber":3,"status":"HELD"},{"seatNumber":4,"status":"AVAILABLE"}]}"#;
        assert_eq!(available_in(map), [2, 4]);
        let problem = br#"{"status":403,"code":"QUEUE_NOT_ACTIVE"}"#;
        assert!(available_in(problem).is_empty());
    }

    #[test]
    fn a_new_concert_is_sent_in_the_apis_shape() {
        let schedule = NewSchedule::new("2030-01-01T19:00:00Z", 10, 5);
        let open = NewConcert::new("Night", vec![schedule.clone()]);
        assert_eq!(
            serde_json::to_value(&open).expect("JSON"),
            json!({ "title": "Night", "schedules": [
                { "startsAt": "2030-01-01T19:00:00Z", "seatCount": 10, "price": 5 }
            ] })
        );
        let scheduled =
            NewConcert::new("Later", vec![schedule]).opening("2030-01-01T00:00:00Z", 30);
        let sent = serde_json::to_value(&scheduled).expect("JSON");
        assert_eq!(sent["opensAt"], "2030-01-01T00:00:00Z");
        assert_eq!(sent["preQueueMinutes"], 30);
    }

    #[test]
    fn a_reply_reads_its_content_type_and_json_or_null() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            "application/problem+json".parse().expect("a header value"),
        );
        let problem = Reply::from_parts(
            StatusCode::CONFLICT,
            headers,
            br#"{"code":"SEAT_UNAVAILABLE"}"#,
        );
        assert_eq!(problem.content_type, "application/problem+json");
        assert_eq!(problem.code(), "SEAT_UNAVAILABLE");
        assert_eq!(problem.buyer(), None);
        let empty = Reply::from_parts(StatusCode::NO_CONTENT, HeaderMap::new(), b"");
        assert_eq!((empty.body.clone(), empty.code()), (Value::Null, ""));
        let registered = Reply::from_parts(
            StatusCode::CREATED,
            HeaderMap::new(),
            br#"{"userId":7,"accessToken":"t"}"#,
        );
        assert_eq!(
            registered.buyer(),
            Some(Buyer {
                user_id: 7,
                access_token: "t".into()
            })
        );
    }
}
