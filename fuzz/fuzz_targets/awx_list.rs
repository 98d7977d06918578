//! Any bytes as a page of AWX `/api/v2/applications/`: live apps or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = appform::provider::awx::parse_application_page(data);
});
