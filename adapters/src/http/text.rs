//! `Text`: a JSON string and only a string. poem-openapi's `String` also
//! takes a number or a boolean and turns it into text (`false` became the
//! name "false"); request bodies use `Text` for what people type. Its
//! schema states the length the domain allows (`minLength` 1, `maxLength`
//! `MAX_CHARS`); the domain still decides (see `limits`).

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;
use std::borrow::Cow;

/// A JSON string of 1 to `MAX_CHARS` characters (as documented).
#[derive(Debug, Clone)]
pub struct Text<const MAX_CHARS: usize>(pub String);

impl<const MAX_CHARS: usize> std::ops::Deref for Text<MAX_CHARS> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX_CHARS: usize> Type for Text<MAX_CHARS> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        format!("string_1_{MAX_CHARS}").into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: Some(1),
            max_length: Some(MAX_CHARS),
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

impl<const MAX_CHARS: usize> ParseFromJSON for Text<MAX_CHARS> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => Ok(Text(text)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl<const MAX_CHARS: usize> ToJSON for Text<MAX_CHARS> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}
