//! `POST /api/v1/users`.

use super::problem::ProblemResponse;
use super::{AppState, Tag};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct UsersApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct NewUser {
    /// 1 to 100 characters, at least one of which shows (not only spaces or
    /// zero-width characters); a JSON string, not a number or a boolean.
    name: super::text::Text<{ frontrow_domain::user::MAX_NAME_CHARS }>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CreatedUser {
    user_id: i64,
    /// Send as `Authorization: Bearer <accessToken>`.
    access_token: String,
}

#[derive(ApiResponse)]
enum CreateUserResponse {
    /// The user and their access token.
    #[oai(status = 201)]
    Created(Json<CreatedUser>),
}

#[OpenApi(tag = "Tag::Users")]
impl UsersApi {
    /// Register a ticket buyer
    #[oai(path = "/api/v1/users", method = "post")]
    async fn create(&self, body: Json<NewUser>) -> Result<CreateUserResponse, ProblemResponse> {
        let created = self.0.users.register(&body.name).await?;
        Ok(CreateUserResponse::Created(Json(CreatedUser {
            user_id: created.user.get(),
            access_token: created.access_token,
        })))
    }
}
