//! Any bytes as a WHM `list_connected_applications` answer: live apps or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = appform::provider::whm::parse_list(data);
});
