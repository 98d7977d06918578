use super::*;

#[test]
fn tree_entries_take_yaml_files_as_discovery_does() {
    let listing = [
        "100644 blob aaa\ta.yaml",
        "100644 blob bbb\t.hidden/b.yaml",
        "100644 blob ccc\ttarget/c.yml",
        "100644 blob ddd\tsub/d.yml",
        "100644 blob eee\tREADME.md",
        "160000 commit fff\tvendored",
    ]
    .join("\0");
    let listing = listing.as_bytes();
    let got = tree_entries(listing, false).unwrap();
    assert_eq!(
        got,
        vec![
            ("aaa".to_string(), "a.yaml".to_string()),
            ("ddd".to_string(), "sub/d.yml".to_string())
        ]
    );
}

#[test]
fn a_symbolic_link_is_refused_not_skipped() {
    let listing = "100644 blob aaa\ta.yaml\x00120000 blob bbb\tshared".as_bytes();
    let err = tree_entries(listing, false).unwrap_err();
    assert!(err.contains("`shared` is a symbolic link"), "{err}");
}
