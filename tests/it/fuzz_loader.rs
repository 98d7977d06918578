//! Property test: random and mutated inputs never make the loader panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

const SEEDS: &[&str] = &[
    include_str!("../../examples/servers/awx-prod.yaml"),
    include_str!("../../examples/servers/tpp-main.yaml"),
    include_str!("../../examples/servers/whm-fleet.yaml"),
    include_str!("../../examples/appform.yaml"),
];

fn load_bytes(bytes: Vec<u8>) {
    let files = vec![(PathBuf::from("fuzz.yaml"), bytes)];
    // Ok or Err are both fine; a panic fails the test. The loader turns a
    // panic of its checker thread into an `appform::internal` problem, so
    // that problem fails the test too.
    if let Err(errors) = appform::config::load_files(Path::new(""), files) {
        assert!(
            errors
                .problems
                .iter()
                .all(|p| p.code != "appform::internal"),
            "the checker panicked"
        );
    }
}

/// A seed with bytes replaced, inserted or deleted at random places.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..SEEDS.len(),
        prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(|(seed, edits)| {
            let mut bytes = SEEDS[seed].as_bytes().to_vec();
            for (pos, byte, op) in edits {
                if bytes.is_empty() {
                    bytes.push(byte);
                    continue;
                }
                let at = pos % bytes.len();
                match op {
                    0 => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            bytes
        })
}

/// Lines of a seed shuffled in indentation: a common way YAML goes wrong.
fn reindented() -> impl Strategy<Value = Vec<u8>> {
    (0..SEEDS.len(), prop::collection::vec(0usize..6, 1..40)).prop_map(|(seed, shifts)| {
        SEEDS[seed]
            .lines()
            .zip(shifts.iter().cycle())
            .map(|(line, s)| format!("{}{}\n", " ".repeat(*s), line.trim_start()))
            .collect::<String>()
            .into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        load_bytes(bytes);
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[a-z:{}\\[\\],\\-&*!|>'\" \n#@%0-9.~]{0,300}") {
        load_bytes(text.into_bytes());
    }

    #[test]
    fn mutated_examples_never_panic(bytes in mutated()) {
        load_bytes(bytes);
    }

    #[test]
    fn reindented_examples_never_panic(bytes in reindented()) {
        load_bytes(bytes);
    }
}
