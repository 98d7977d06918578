//! Any bytes as a TPP EnumerateApplications answer: live apps or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = appform::provider::tpp::parse_enumerate(data);
});
