//! Limits the OpenAPI document states without a second enforcer. The
//! domain decides every limit and answers with its own problem code
//! (`INVALID_AMOUNT`, `SEAT_OUT_OF_RANGE`, `INVALID_QUEUE_POLICY`, ...);
//! poem-openapi's validators would refuse the same input earlier with a
//! generic `INVALID_REQUEST`. So these types only describe: their schema
//! carries `minimum`/`maximum`/`minItems`/`maxItems`/`maxLength`/`pattern`,
//! and they parse exactly as the plain type they wrap, leaving the decision
//! where it was.

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;
use std::borrow::Cow;

/// A JSON integer (or a query parameter) documented as `MIN..=MAX`.
#[derive(Debug, Clone, Copy)]
pub struct Int<const MIN: i64, const MAX: i64>(pub i64);

impl<const MIN: i64, const MAX: i64> Type for Int<MIN, MAX> {
    const IS_REQUIRED: bool = true;
    type RawValueType = i64;
    type RawElementValueType = i64;

    fn name() -> Cow<'static, str> {
        format!("integer_int64_{MIN}_{MAX}").into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            minimum: Some(MIN as f64),
            maximum: Some(MAX as f64),
            ..MetaSchema::new_with_format("integer", "int64")
        }))
    }

    fn as_raw_value(&self) -> Option<&i64> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a i64> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<const MIN: i64, const MAX: i64> ParseFromJSON for Int<MIN, MAX> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        i64::parse_from_json(value)
            .map(Self)
            .map_err(ParseError::propagate)
    }
}

impl<const MIN: i64, const MAX: i64> ParseFromParameter for Int<MIN, MAX> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        i64::parse_from_parameter(value)
            .map(Self)
            .map_err(ParseError::propagate)
    }
}

impl<const MIN: i64, const MAX: i64> ToJSON for Int<MIN, MAX> {
    fn to_json(&self) -> Option<Value> {
        self.0.to_json()
    }
}

/// A JSON array documented as holding `MIN..=MAX` items.
#[derive(Debug, Clone)]
pub struct Items<T, const MIN: usize, const MAX: usize>(pub Vec<T>);

impl<T: Type, const MIN: usize, const MAX: usize> Type for Items<T, MIN, MAX> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Vec<T>;
    type RawElementValueType = T::RawValueType;

    fn name() -> Cow<'static, str> {
        format!("list_{}_{MIN}_{MAX}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            items: Some(Box::new(T::schema_ref())),
            min_items: Some(MIN),
            max_items: Some(MAX),
            ..MetaSchema::new("array")
        }))
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Vec<T>> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.0.iter().filter_map(|item| item.as_raw_value()))
    }
}

impl<T: ParseFromJSON, const MIN: usize, const MAX: usize> ParseFromJSON for Items<T, MIN, MAX> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Vec::<T>::parse_from_json(value)
            .map(Self)
            .map_err(ParseError::propagate)
    }
}

impl<T: ToJSON, const MIN: usize, const MAX: usize> ToJSON for Items<T, MIN, MAX> {
    fn to_json(&self) -> Option<Value> {
        self.0.to_json()
    }
}

/// The `X-Queue-Token` header of a gated call: documented as required (with
/// the token's syntax), but a missing one still reaches the use case, which
/// answers 401 `QUEUE_TOKEN_MISSING` as it always has; poem-openapi would
/// answer a generic 400 instead.
#[derive(Debug, Clone, Default)]
pub struct QueueTokenHeader(pub Option<String>);

impl QueueTokenHeader {
    /// The token as sent, if it was.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl Type for QueueTokenHeader {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "queue_token".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: Some(1),
            max_length: Some(frontrow_domain::queue::MAX_QUEUE_TOKEN_CHARS),
            pattern: Some("^[0-9a-f.]+$".to_owned()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        self.0.as_ref()
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.0.iter())
    }
}

impl ParseFromParameter for QueueTokenHeader {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self(Some(value.to_owned())))
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        iter: I,
    ) -> ParseResult<Self> {
        Ok(Self(iter.into_iter().next().map(|v| v.as_ref().to_owned())))
    }
}

/// An `Idempotency-Key` header, documented with the syntax the domain
/// accepts (1 to 100 visible ASCII characters); any other value reaches the
/// use case, which answers 400 `INVALID_IDEMPOTENCY_KEY`.
#[derive(Debug, Clone)]
pub struct IdempotencyKeyHeader(pub String);

impl Type for IdempotencyKeyHeader {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "idempotency_key".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: Some(1),
            max_length: Some(frontrow_domain::points::MAX_IDEMPOTENCY_KEY_CHARS),
            pattern: Some("^[!-~]+$".to_owned()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromParameter for IdempotencyKeyHeader {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self(value.to_owned()))
    }
}
