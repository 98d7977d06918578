//! Any bytes as a config file: the loader reports problems, never panics.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let files = vec![(PathBuf::from("fuzz.yaml"), data.to_vec())];
    let _ = appform::config::load_files(Path::new(""), files);
});
