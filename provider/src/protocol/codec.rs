//! cty values on the wire: msgpack (every RPC) and JSON (state read back from disk).
//!
//! Both encodings are untyped, so decoding needs the schema's [`CtyType`]: an object is a
//! msgpack map keyed by attribute name, lists and sets are arrays, `nil` is null and msgpack
//! extension type 0 is an unknown value. Numbers may arrive as integers, floats or (for
//! values that do not fit either) strings; fractions are written as decimal strings. Encoding writes every attribute of an object,
//! because Terraform rebuilds the object type from the keys it receives.

use std::collections::BTreeMap;

use crate::framework::Value;

/// A cty type, as needed to read and write values. Built from a schema by
/// [`crate::protocol::schema::object_type`].
#[derive(Clone, Debug, PartialEq)]
pub enum CtyType {
    String,
    Number,
    Bool,
    List(Box<CtyType>),
    Set(Box<CtyType>),
    Map(Box<CtyType>),
    Object(BTreeMap<String, CtyType>),
}

/// A value that does not fit its type; `path` says where (`accounts[0].role_name`).
#[derive(Debug, thiserror::Error)]
#[error("{message} at {}", if path.is_empty() { "the top level" } else { path.as_str() })]
pub struct CodecError {
    pub path: String,
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> CodecError {
    CodecError {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Extension types meaning "unknown": 0 is what Terraform 1.0 sends; 12 is the refined
/// unknown of newer cty versions (we drop the refinements, which only narrow the value).
const UNKNOWN_EXT: i8 = 0;
const REFINED_UNKNOWN_EXT: i8 = 12;

// ---------------------------------------------------------------------------------------
// msgpack

/// Decodes a `DynamicValue.msgpack` payload of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &CtyType) -> Result<Value, CodecError> {
    let mut reader = bytes;
    let raw = rmpv::decode::read_value(&mut reader)
        .map_err(|e| err("", format!("malformed msgpack: {e}")))?;
    from_msgpack(raw, ty, "")
}

fn from_msgpack(raw: rmpv::Value, ty: &CtyType, path: &str) -> Result<Value, CodecError> {
    use rmpv::Value as M;
    match raw {
        M::Nil => return Ok(Value::Null),
        M::Ext(t, _) if t == UNKNOWN_EXT || t == REFINED_UNKNOWN_EXT => return Ok(Value::Unknown),
        _ => {}
    }
    match ty {
        CtyType::String => match raw {
            M::String(s) => s
                .into_str()
                .map(Value::String)
                .ok_or_else(|| err(path, "string is not UTF-8")),
            M::Binary(b) => String::from_utf8(b)
                .map(Value::String)
                .map_err(|_| err(path, "string is not UTF-8")),
            other => Err(err(path, format!("expected a string, got {other}"))),
        },
        CtyType::Number => match raw {
            M::Integer(i) => i
                .as_i64()
                .map(|n| n as f64)
                .or_else(|| i.as_u64().map(|n| n as f64))
                .map(Value::Number)
                .ok_or_else(|| err(path, "integer out of range")),
            M::F32(f) => Ok(Value::Number(f as f64)),
            M::F64(f) => Ok(Value::Number(f)),
            // cty writes numbers that fit neither i64 nor f64 exactly as decimal strings.
            M::String(s) => {
                let s = s.into_str().unwrap_or_default();
                s.parse::<f64>()
                    .map(Value::Number)
                    .map_err(|_| err(path, format!("expected a number, got \"{s}\"")))
            }
            other => Err(err(path, format!("expected a number, got {other}"))),
        },
        CtyType::Bool => match raw {
            M::Boolean(b) => Ok(Value::Bool(b)),
            other => Err(err(path, format!("expected a bool, got {other}"))),
        },
        CtyType::List(elem) | CtyType::Set(elem) => {
            let M::Array(items) = raw else {
                return Err(err(path, format!("expected a {}, got {raw}", kind(ty))));
            };
            let values = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| from_msgpack(item, elem, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, CtyType::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        CtyType::Map(elem) => {
            let M::Map(entries) = raw else {
                return Err(err(path, format!("expected a map, got {raw}")));
            };
            let mut map = BTreeMap::new();
            for (k, v) in entries {
                let key = msgpack_key(k, path)?;
                let value = from_msgpack(v, elem, &format!("{path}[\"{key}\"]"))?;
                map.insert(key, value);
            }
            Ok(Value::Map(map))
        }
        CtyType::Object(attrs) => {
            let M::Map(entries) = raw else {
                return Err(err(path, format!("expected an object, got {raw}")));
            };
            let mut object = BTreeMap::new();
            for (k, v) in entries {
                let name = msgpack_key(k, path)?;
                let attr_ty = attrs
                    .get(&name)
                    .ok_or_else(|| err(path, format!("unsupported attribute \"{name}\"")))?;
                let value = from_msgpack(v, attr_ty, &child(path, &name))?;
                object.insert(name, value);
            }
            for name in attrs.keys() {
                object.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(object))
        }
    }
}

fn msgpack_key(k: rmpv::Value, path: &str) -> Result<String, CodecError> {
    match k {
        rmpv::Value::String(s) => s.into_str().ok_or_else(|| err(path, "key is not UTF-8")),
        other => Err(err(path, format!("expected a string key, got {other}"))),
    }
}

fn kind(ty: &CtyType) -> &'static str {
    match ty {
        CtyType::String => "string",
        CtyType::Number => "number",
        CtyType::Bool => "bool",
        CtyType::List(_) => "list",
        CtyType::Set(_) => "set",
        CtyType::Map(_) => "map",
        CtyType::Object(_) => "object",
    }
}

/// Encodes `value` as type `ty` into `DynamicValue.msgpack` bytes. Fails when the value does
/// not fit the type (a provider bug: the error names the attribute).
pub fn encode_msgpack(value: &Value, ty: &CtyType) -> Result<Vec<u8>, CodecError> {
    let raw = to_msgpack(value, ty, "")?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &raw)
        .map_err(|e| err("", format!("msgpack write failed: {e}")))?;
    Ok(out)
}

fn to_msgpack(value: &Value, ty: &CtyType, path: &str) -> Result<rmpv::Value, CodecError> {
    use rmpv::Value as M;
    match value {
        Value::Null => return Ok(M::Nil),
        // cty writes an unknown as fixext1 of type 0 with a zero byte (0xd4 0x00 0x00).
        Value::Unknown => return Ok(M::Ext(UNKNOWN_EXT, vec![0])),
        _ => {}
    }
    let mismatch = || {
        err(
            path,
            format!("expected a {}, got {}", kind(ty), describe(value)),
        )
    };
    match ty {
        CtyType::String => value.as_str().map(M::from).ok_or_else(mismatch),
        CtyType::Number => {
            let n = value.as_f64().ok_or_else(mismatch)?;
            // Whole numbers go as integers, as cty does: Terraform compares planned and
            // applied values exactly, and an integer never picks up float noise.
            if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.2e18 {
                Ok(M::from(n as i64))
            } else if n.is_finite() {
                // Fractions go as their shortest decimal text, which cty parses like the
                // configuration's literal: a float64 0.05 is not the decimal 0.05 Terraform
                // parsed from HCL, and it would refuse the plan ("planned value
                // cty.NumberFloatVal(0.05) does not match config value").
                Ok(M::from(format!("{n}")))
            } else {
                Err(err(path, "numbers must be finite"))
            }
        }
        CtyType::Bool => value.as_bool().map(M::Boolean).ok_or_else(mismatch),
        CtyType::List(elem) | CtyType::Set(elem) => match value {
            Value::List(items) | Value::Set(items) => Ok(M::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| to_msgpack(item, elem, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )),
            _ => Err(mismatch()),
        },
        CtyType::Map(elem) => match value {
            Value::Map(m) | Value::Object(m) => Ok(M::Map(
                m.iter()
                    .map(|(k, v)| {
                        Ok((
                            M::from(k.as_str()),
                            to_msgpack(v, elem, &format!("{path}[\"{k}\"]"))?,
                        ))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )),
            _ => Err(mismatch()),
        },
        CtyType::Object(attrs) => match value {
            Value::Object(m) => {
                if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                    return Err(err(
                        path,
                        format!("attribute \"{extra}\" is not in the schema"),
                    ));
                }
                Ok(M::Map(
                    attrs
                        .iter()
                        .map(|(name, attr_ty)| {
                            Ok((
                                M::from(name.as_str()),
                                to_msgpack(value.get(name), attr_ty, &child(path, name))?,
                            ))
                        })
                        .collect::<Result<_, CodecError>>()?,
                ))
            }
            _ => Err(mismatch()),
        },
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown => "unknown",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
    }
}

// ---------------------------------------------------------------------------------------
// JSON (RawState.json in UpgradeResourceState)

/// Decodes state JSON as Terraform stores it, by the *current* schema type. Attributes the
/// schema no longer has are dropped; attributes it gained are null.
pub fn decode_json(bytes: &[u8], ty: &CtyType) -> Result<Value, CodecError> {
    let raw: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| err("", format!("malformed JSON: {e}")))?;
    from_json(raw, ty, "")
}

fn from_json(raw: serde_json::Value, ty: &CtyType, path: &str) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        CtyType::String => match raw {
            J::String(s) => Ok(Value::String(s)),
            // Terraform converts primitives to strings for string attributes; keep that.
            J::Number(n) => Ok(Value::String(n.to_string())),
            J::Bool(b) => Ok(Value::String(b.to_string())),
            other => Err(err(path, format!("expected a string, got {other}"))),
        },
        CtyType::Number => match raw {
            J::Number(n) => n
                .as_f64()
                .map(Value::Number)
                .ok_or_else(|| err(path, "number out of range")),
            J::String(s) => s
                .parse::<f64>()
                .map(Value::Number)
                .map_err(|_| err(path, format!("expected a number, got \"{s}\""))),
            other => Err(err(path, format!("expected a number, got {other}"))),
        },
        CtyType::Bool => match raw {
            J::Bool(b) => Ok(Value::Bool(b)),
            J::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            other => Err(err(path, format!("expected a bool, got {other}"))),
        },
        CtyType::List(elem) | CtyType::Set(elem) => {
            let J::Array(items) = raw else {
                return Err(err(path, format!("expected a {}, got {raw}", kind(ty))));
            };
            let values = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| from_json(item, elem, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, CtyType::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        CtyType::Map(elem) => {
            let J::Object(entries) = raw else {
                return Err(err(path, format!("expected a map, got {raw}")));
            };
            let mut map = BTreeMap::new();
            for (k, v) in entries {
                let value = from_json(v, elem, &format!("{path}[\"{k}\"]"))?;
                map.insert(k, value);
            }
            Ok(Value::Map(map))
        }
        CtyType::Object(attrs) => {
            let J::Object(mut entries) = raw else {
                return Err(err(path, format!("expected an object, got {raw}")));
            };
            let mut object = BTreeMap::new();
            for (name, attr_ty) in attrs {
                let value = match entries.remove(name) {
                    Some(v) => from_json(v, attr_ty, &child(path, name))?,
                    None => Value::Null,
                };
                object.insert(name.clone(), value);
            }
            for dropped in entries.keys() {
                tracing::debug!(attribute = %child(path, dropped), "state attribute no longer in the schema; dropped");
            }
            Ok(Value::Object(object))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj_ty(attrs: &[(&str, CtyType)]) -> CtyType {
        CtyType::Object(
            attrs
                .iter()
                .map(|(k, t)| (k.to_string(), t.clone()))
                .collect(),
        )
    }

    fn sample_type() -> CtyType {
        obj_ty(&[
            ("name", CtyType::String),
            ("count", CtyType::Number),
            ("ratio", CtyType::Number),
            ("enabled", CtyType::Bool),
            ("tags", CtyType::Map(Box::new(CtyType::String))),
            ("regions", CtyType::Set(Box::new(CtyType::String))),
            ("ids", CtyType::List(Box::new(CtyType::Number))),
            ("arn", CtyType::String),
            ("missing", CtyType::String),
            (
                "rule",
                CtyType::List(Box::new(obj_ty(&[
                    ("id", CtyType::String),
                    ("max", CtyType::Number),
                ]))),
            ),
        ])
    }

    fn sample_value() -> Value {
        Value::object([
            ("name", Value::string("prod")),
            ("count", Value::Number(42.0)),
            ("ratio", Value::Number(0.25)),
            ("enabled", Value::Bool(true)),
            (
                "tags",
                Value::Map([("team".to_string(), Value::string("ops"))].into()),
            ),
            (
                "regions",
                Value::Set(vec![Value::string("eu-west-1"), Value::string("us-east-1")]),
            ),
            (
                "ids",
                Value::List(vec![Value::Number(1.0), Value::Number(-7.0)]),
            ),
            ("arn", Value::Unknown),
            ("missing", Value::Null),
            (
                "rule",
                Value::List(vec![Value::object([
                    ("id", Value::string("r1")),
                    ("max", Value::Unknown),
                ])]),
            ),
        ])
    }

    #[test]
    fn msgpack_round_trip() {
        let ty = sample_type();
        let bytes = encode_msgpack(&sample_value(), &ty).unwrap();
        assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), sample_value());
    }

    #[test]
    fn unknown_is_fixext1_type_0() {
        let bytes = encode_msgpack(&Value::Unknown, &CtyType::String).unwrap();
        assert_eq!(bytes, vec![0xd4, 0x00, 0x00]);
        // Refined unknowns of newer Terraform decode as plain unknowns.
        assert_eq!(
            decode_msgpack(&[0xd4, 0x0c, 0x00], &CtyType::String).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn numbers_accept_int_float_and_string() {
        let mut buf = Vec::new();
        rmp::encode::write_sint(&mut buf, 300).unwrap();
        assert_eq!(
            decode_msgpack(&buf, &CtyType::Number).unwrap(),
            Value::Number(300.0)
        );
        buf.clear();
        rmp::encode::write_f64(&mut buf, 1.5).unwrap();
        assert_eq!(
            decode_msgpack(&buf, &CtyType::Number).unwrap(),
            Value::Number(1.5)
        );
        buf.clear();
        rmp::encode::write_str(&mut buf, "12345678901234567890").unwrap();
        assert_eq!(
            decode_msgpack(&buf, &CtyType::Number).unwrap(),
            Value::Number(12345678901234567890.0)
        );
        // Whole numbers are written as integers, fractions as their shortest decimal text
        // (cty parses it exactly like the configuration's literal), and read back.
        assert_eq!(
            encode_msgpack(&Value::Number(5.0), &CtyType::Number).unwrap(),
            vec![0x05]
        );
        let mut expected = Vec::new();
        rmp::encode::write_str(&mut expected, "0.05").unwrap();
        let encoded = encode_msgpack(&Value::Number(0.05), &CtyType::Number).unwrap();
        assert_eq!(encoded, expected);
        assert_eq!(decode_msgpack(&encoded, &CtyType::Number).unwrap(), Value::Number(0.05));
    }

    #[test]
    fn objects_are_written_with_every_attribute() {
        let ty = obj_ty(&[("a", CtyType::String), ("b", CtyType::String)]);
        let bytes = encode_msgpack(&Value::object([("a", Value::string("x"))]), &ty).unwrap();
        let back = decode_msgpack(&bytes, &ty).unwrap();
        assert_eq!(
            back,
            Value::object([("a", Value::string("x")), ("b", Value::Null)])
        );
        let mut reader = bytes.as_slice();
        let raw = rmpv::decode::read_value(&mut reader).unwrap();
        assert_eq!(raw.as_map().unwrap().len(), 2);
    }

    #[test]
    fn type_mismatch_names_the_attribute() {
        let ty = obj_ty(&[(
            "rule",
            CtyType::List(Box::new(obj_ty(&[("max", CtyType::Number)]))),
        )]);
        let v = Value::object([(
            "rule",
            Value::List(vec![Value::object([("max", Value::string("ten"))])]),
        )]);
        let e = encode_msgpack(&v, &ty).unwrap_err();
        assert_eq!(e.path, "rule[0].max");
        let extra = Value::object([("nope", Value::Null)]);
        assert!(encode_msgpack(&extra, &ty)
            .unwrap_err()
            .message
            .contains("\"nope\""));
    }

    #[test]
    fn unsupported_attribute_is_rejected_on_decode() {
        let mut buf = Vec::new();
        rmp::encode::write_map_len(&mut buf, 1).unwrap();
        rmp::encode::write_str(&mut buf, "zzz").unwrap();
        rmp::encode::write_nil(&mut buf).unwrap();
        assert!(decode_msgpack(&buf, &obj_ty(&[("a", CtyType::String)])).is_err());
    }

    #[test]
    fn json_state_decodes_by_current_schema() {
        let json = br#"{"name":"prod","count":42,"ratio":0.25,"enabled":true,"tags":{"team":"ops"},
            "regions":["eu-west-1","us-east-1"],"ids":[1,-7],"arn":null,"old_attr":"gone",
            "rule":[{"id":"r1","max":"9"}]}"#;
        let v = decode_json(json, &sample_type()).unwrap();
        assert_eq!(v.get("count"), &Value::Number(42.0));
        assert_eq!(v.get("missing"), &Value::Null);
        assert_eq!(v.get("rule").elements()[0].get("max"), &Value::Number(9.0));
        assert!(matches!(v.get("regions"), Value::Set(_)));
        assert!(!matches!(v, Value::Object(ref m) if m.contains_key("old_attr")));
        // and it re-encodes to msgpack by the same type
        let back =
            decode_msgpack(&encode_msgpack(&v, &sample_type()).unwrap(), &sample_type()).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn null_and_empty_collections_differ() {
        let ty = CtyType::List(Box::new(CtyType::String));
        assert_eq!(
            decode_msgpack(&encode_msgpack(&Value::Null, &ty).unwrap(), &ty).unwrap(),
            Value::Null
        );
        assert_eq!(
            decode_msgpack(&encode_msgpack(&Value::List(vec![]), &ty).unwrap(), &ty).unwrap(),
            Value::List(vec![])
        );
    }
}
