use super::server::is_loopback;
use super::*;
use crate::config::SharedText;
use std::sync::Arc;

#[test]
pub(super) fn loopback_hosts() {
    for u in [
        "http://127.0.0.1:80",
        "http://127.9.9.9",
        "http://localhost:8080",
        "http://[::1]:1",
    ] {
        assert!(is_loopback(&url::Url::parse(u).unwrap()), "{u}");
    }
    for u in [
        "http://10.0.0.1",
        "http://example.com",
        "http://localhost.example.com",
    ] {
        assert!(!is_loopback(&url::Url::parse(u).unwrap()), "{u}");
    }
}

#[test]
fn large_mappings_are_looked_up_through_an_index_with_the_same_answers() {
    // 40 keys (over INDEXED_FROM), one of them an integer as written.
    let mut text = String::from("apps:\n");
    for i in 0..39 {
        text.push_str(&format!("  app-{i}: {{n: {i}}}\n"));
    }
    text.push_str("  2024: {n: 39}\n");
    let tree = crate::config::source::parse(&text).unwrap();
    let source = SharedText::new("t.yaml", Arc::from(text.as_str()));
    let dir = std::path::PathBuf::from(".");
    let input = FileInput {
        index: 0,
        source: &source,
        text: &text,
        dir: &dir,
        root: &dir,
    };
    let (mut problems, mut warnings) = (Vec::new(), Vec::new());
    let cx = Checker::new(&input, &tree, &mut problems, &mut warnings);
    let NodeValue::Map(top) = &tree.value else {
        panic!("not a map")
    };
    let NodeValue::Map(apps) = &top[0].1.value else {
        panic!("not a map")
    };
    for (i, (key, value)) in apps.iter().enumerate() {
        let name = if i == 39 {
            "2024".to_string()
        } else {
            format!("app-{i}")
        };
        let (k, v) = cx.lookup(&["apps", &name]).unwrap();
        assert_eq!((k.span, v.span), (key.span, value.span), "{name}");
        // And a path through the indexed mapping, twice (the index is reused).
        for _ in 0..2 {
            let (_, n) = cx.lookup(&["apps", &name, "n"]).unwrap();
            assert_eq!(n.value, NodeValue::UInt(i as u64), "{name}");
        }
    }
    assert!(cx.lookup(&["apps", "app-40"]).is_none());
    assert!(cx.lookup(&["apps", "app-1", "missing"]).is_none());
    assert_eq!(cx.key_index.borrow().len(), 1, "one index, for `apps`");
}
