use super::*;
use crate::config::source::parse;
use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Inner {
    name: String,
    count: Option<u32>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Outer {
    items: std::collections::BTreeMap<String, Inner>,
}

fn de(src: &str) -> Result<Outer, DeError> {
    let root = parse(src).unwrap();
    from_node(&root, src, vec![])
}

#[test]
fn unknown_key_points_at_the_key() {
    let src = "items:\n  a:\n    name: x\n    colour: red\n";
    let err = de(src).unwrap_err();
    assert!(matches!(err.kind, DeErrorKind::UnknownField { ref field, .. } if field == "colour"));
    assert_eq!(path_text(&err.path), "items.a.colour");
    let span = err.span.unwrap();
    assert_eq!(&src[span.offset..span.end()], "colour");
}

#[test]
fn wrong_type_points_at_the_value() {
    let src = "items:\n  a:\n    name: x\n    count: many\n";
    let err = de(src).unwrap_err();
    assert_eq!(path_text(&err.path), "items.a.count");
    let span = err.span.unwrap();
    assert_eq!(&src[span.offset..span.end()], "many");
    assert_eq!(
        err.to_string(),
        "expected a non-negative integer, found the string \"many\""
    );
}

#[test]
fn missing_key_points_at_the_parent_key() {
    let src = "items:\n  abc:\n    count: 1\n";
    let err = de(src).unwrap_err();
    assert_eq!(err.kind, DeErrorKind::MissingField("name"));
    assert_eq!(path_text(&err.path), "items.abc");
    let span = err.span.unwrap();
    assert_eq!(&src[span.offset..span.end()], "abc");
}

#[test]
fn plain_numbers_are_text_where_text_is_expected() {
    let out = de("items:\n  2024:\n    name: 1.10\n").unwrap();
    assert_eq!(out.items["2024"].name, "1.10");
}
