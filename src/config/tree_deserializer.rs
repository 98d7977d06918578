//! A serde `Deserializer` over a [`Node`] tree. Every error it returns carries the
//! YAML path and the span of the offending node, so `validate` can point at it,
//! remove the bad part, and go on to find the next problem.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::borrow::Cow;

use super::source::{Node, NodeValue, Span};

mod error;
pub use error::{DeError, DeErrorKind};

/// One step of a YAML path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// Renders a path as `servers.awx-prod.awx.url` / `protect[2]`.
pub fn path_text(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The text a scalar key or value stands for: strings as they are, other
/// scalars as written in the file (`2024`, `true`, `~`).
pub fn scalar_text<'a>(node: &'a Node, text: &'a str) -> Option<Cow<'a, str>> {
    match &node.value {
        NodeValue::Str(s) => Some(Cow::Borrowed(s)),
        NodeValue::Null
        | NodeValue::Bool(_)
        | NodeValue::Int(_)
        | NodeValue::UInt(_)
        | NodeValue::Float(_) => {
            let written = text.get(node.span.offset..node.span.end()).unwrap_or("");
            if written.is_empty() {
                Some(Cow::Owned(match &node.value {
                    NodeValue::Bool(b) => b.to_string(),
                    NodeValue::Int(i) => i.to_string(),
                    NodeValue::UInt(u) => u.to_string(),
                    NodeValue::Float(x) => x.to_string(),
                    _ => String::new(),
                }))
            } else {
                Some(Cow::Borrowed(written))
            }
        }
        NodeValue::Seq(_) | NodeValue::Map(_) => None,
    }
}

/// Deserializes `T` from `node` (whose own path is `path`).
pub fn from_node<'de, T: de::Deserialize<'de>>(
    node: &Node,
    text: &str,
    path: Vec<PathSeg>,
) -> Result<T, DeError> {
    T::deserialize(NodeDe {
        node,
        text,
        path: Path::Root(&path),
        key_span: None,
    })
}

/// Where a node is: the path it was given, then one borrowed step per level
/// below it. A `Vec<PathSeg>` is built only for an error (building one for
/// every node cost a fifth of checking a large file).
#[derive(Clone)]
enum Path<'p, 'a> {
    Root(&'p [PathSeg]),
    Key(&'p Path<'p, 'a>, Cow<'a, str>),
    Index(&'p Path<'p, 'a>, usize),
}

impl Path<'_, '_> {
    fn to_vec(&self) -> Vec<PathSeg> {
        match self {
            Path::Root(base) => base.to_vec(),
            Path::Key(parent, key) => {
                let mut path = parent.to_vec();
                path.push(PathSeg::Key(key.to_string()));
                path
            }
            Path::Index(parent, index) => {
                let mut path = parent.to_vec();
                path.push(PathSeg::Index(*index));
                path
            }
        }
    }
}

struct NodeDe<'p, 'a> {
    node: &'a Node,
    text: &'a str,
    path: Path<'p, 'a>,
    /// The span of the key this node is the value of, for "missing key" errors.
    key_span: Option<Span>,
}

impl<'p, 'a> NodeDe<'p, 'a> {
    fn locate(&self, mut e: DeError) -> DeError {
        if e.span.is_none() {
            e.span = Some(match e.kind {
                DeErrorKind::MissingField(_) => self.key_span.unwrap_or(self.node.span),
                _ => self.node.span,
            });
            e.path = self.path.to_vec();
        }
        e
    }

    /// The value under `key` of this mapping.
    fn child_at_key<'q>(
        &'q self,
        node: &'a Node,
        key: Cow<'a, str>,
        key_span: Span,
    ) -> NodeDe<'q, 'a> {
        NodeDe {
            node,
            text: self.text,
            path: Path::Key(&self.path, key),
            key_span: Some(key_span),
        }
    }

    /// The item at `index` of this list.
    fn child_at_index<'q>(&'q self, node: &'a Node, index: usize) -> NodeDe<'q, 'a> {
        NodeDe {
            node,
            text: self.text,
            path: Path::Index(&self.path, index),
            key_span: None,
        }
    }
}

impl<'de, 'p, 'a> de::Deserializer<'de> for NodeDe<'p, 'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            NodeValue::Null => visitor.visit_unit(),
            NodeValue::Bool(b) => visitor.visit_bool(*b),
            NodeValue::Int(i) => visitor.visit_i64(*i),
            NodeValue::UInt(u) => visitor.visit_u64(*u),
            NodeValue::Float(x) => visitor.visit_f64(*x),
            NodeValue::Str(s) => visitor.visit_str(s),
            NodeValue::Seq(items) => visitor.visit_seq(SeqDe {
                parent: &self,
                items: items.iter(),
                index: 0,
            }),
            NodeValue::Map(pairs) => visitor.visit_map(MapDe {
                parent: &self,
                pairs: pairs.iter(),
                value: None,
            }),
        };
        result.map_err(|e| self.locate(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            NodeValue::Null => visitor.visit_none().map_err(|e| self.locate(e)),
            _ => {
                let node = self.node;
                let text = self.text;
                let path = self.path.clone();
                let key_span = self.key_span;
                visitor
                    .visit_some(NodeDe {
                        node,
                        text,
                        path,
                        key_span,
                    })
                    .map_err(|e| self.locate(e))
            }
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            // A plain scalar such as `2024` or `1.0` is text where text is expected.
            NodeValue::Int(_) | NodeValue::UInt(_) | NodeValue::Float(_) => {
                match scalar_text(self.node, self.text) {
                    Some(t) => visitor.visit_str(&t),
                    None => return self.deserialize_any(visitor),
                }
            }
            _ => return self.deserialize_any(visitor),
        };
        result.map_err(|e| self.locate(e))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let node = self.node;
        let text = self.text;
        let path = self.path.clone();
        let key_span = self.key_span;
        visitor
            .visit_newtype_struct(NodeDe {
                node,
                text,
                path,
                key_span,
            })
            .map_err(|e| self.locate(e))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            NodeValue::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            NodeValue::Map(pairs) if pairs.len() == 1 => match pairs.first() {
                Some((key, value)) => visitor.visit_enum(EnumDe {
                    parent: &self,
                    key,
                    value,
                }),
                None => Err(DeError::new(DeErrorKind::Custom("empty mapping".into()))),
            },
            NodeValue::Map(pairs) => {
                let keys: Vec<String> = pairs
                    .iter()
                    .filter_map(|(k, _)| scalar_text(k, self.text).map(Cow::into_owned))
                    .collect();
                Err(DeError::new(DeErrorKind::Custom(format!(
                    "expected exactly one of {}, found {}",
                    variants
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if keys.is_empty() {
                        "none".to_string()
                    } else {
                        keys.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    }
                ))))
            }
            other => Err(DeError::new(DeErrorKind::InvalidType {
                found: other.describe().into(),
                expected: format!(
                    "one of {}",
                    variants
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })),
        };
        result.map_err(|e| self.locate(e))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        // serde lets a struct come from a list; in YAML config that is a mistake.
        if let NodeValue::Seq(_) = self.node.value {
            let e = DeError::new(DeErrorKind::InvalidType {
                found: "a list".into(),
                expected: "a mapping".into(),
            });
            return Err(self.locate(e));
        }
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map identifier ignored_any
    }
}

struct SeqDe<'q, 'p, 'a> {
    parent: &'q NodeDe<'p, 'a>,
    items: std::slice::Iter<'a, Node>,
    index: usize,
}

impl<'de, 'q, 'p, 'a> de::SeqAccess<'de> for SeqDe<'q, 'p, 'a> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some(item) => {
                let de = self.parent.child_at_index(item, self.index);
                self.index += 1;
                seed.deserialize(de).map(Some)
            }
        }
    }
}

struct MapDe<'q, 'p, 'a> {
    parent: &'q NodeDe<'p, 'a>,
    pairs: std::slice::Iter<'a, (Node, Node)>,
    value: Option<(&'a Node, &'a Node)>,
}

impl<'de, 'q, 'p, 'a> de::MapAccess<'de> for MapDe<'q, 'p, 'a> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.pairs.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        let key_text = scalar_text(key, self.parent.text);
        let parent = &self.parent.path;
        let located = |mut e: DeError| {
            if e.span.is_none() {
                e.span = Some(key.span);
                e.path = Path::Key(parent, key_text.clone().unwrap_or_default()).to_vec();
            }
            e
        };
        match &key_text {
            Some(k) => seed
                .deserialize(KeyDe { key: k })
                .map(Some)
                .map_err(located),
            None => Err(located(DeError::new(DeErrorKind::InvalidType {
                found: key.value.describe().into(),
                expected: "a plain key (text)".into(),
            }))),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, value)) = self.value.take() else {
            return Err(DeError::new(DeErrorKind::Custom(
                "internal: value requested before key".into(),
            )));
        };
        let name = scalar_text(key, self.parent.text).unwrap_or_default();
        seed.deserialize(self.parent.child_at_key(value, name, key.span))
    }
}

struct KeyDe<'k> {
    key: &'k str,
}

impl<'de, 'k> de::Deserializer<'de> for KeyDe<'k> {
    type Error = DeError;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_str(self.key)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct EnumDe<'q, 'p, 'a> {
    parent: &'q NodeDe<'p, 'a>,
    key: &'a Node,
    value: &'a Node,
}

impl<'de, 'q, 'p, 'a> de::EnumAccess<'de> for EnumDe<'q, 'p, 'a> {
    type Error = DeError;
    type Variant = NodeDe<'q, 'a>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeDe<'q, 'a>), DeError> {
        let name = scalar_text(self.key, self.parent.text).unwrap_or_default();
        let parent = &self.parent.path;
        let variant = seed.deserialize(KeyDe { key: &name }).map_err(|mut e| {
            if e.span.is_none() {
                e.span = Some(self.key.span);
                e.path = Path::Key(parent, name.clone()).to_vec();
            }
            e
        })?;
        Ok((
            variant,
            self.parent.child_at_key(self.value, name, self.key.span),
        ))
    }
}

impl<'de, 'p, 'a> de::VariantAccess<'de> for NodeDe<'p, 'a> {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        match self.node.value {
            NodeValue::Null => Ok(()),
            _ => Err(self.locate(DeError::new(DeErrorKind::InvalidType {
                found: self.node.value.describe().into(),
                expected: "nothing".into(),
            }))),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}

#[cfg(test)]
mod tests;
