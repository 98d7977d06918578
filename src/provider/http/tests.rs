use super::*;

#[test]
fn backoff_grows_is_capped_and_honours_retry_after() {
    for attempt in 0..10 {
        let d = backoff(attempt, None);
        assert!(d <= Duration::from_secs(10), "{d:?}");
    }
    assert!(backoff(0, None) < Duration::from_millis(250));
    assert!(backoff(3, None) >= Duration::from_secs(1));
    assert_eq!(
        backoff(0, Some(Duration::from_secs(3))),
        Duration::from_secs(3)
    );
    assert_eq!(
        backoff(0, Some(Duration::from_secs(600))),
        Duration::from_secs(60)
    );
}

#[test]
fn hosts_with_the_same_tls_settings_share_one_client() {
    let options = ServerOptions {
        rotate_after: None,
        rotation_overlap: None,
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(50),
        max_in_flight: 4,
        prune: false,
        protect: vec![],
        authoritative: false,
        apply: true,
        allow_insecure_http: false,
        // Settings no other test uses, so the count is this test's own.
        ca_file: Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem"),
        ),
        tls_skip_verify: true,
        listing: Default::default(),
    };
    let before = clients_built();
    for i in 0..100 {
        let base = format!("https://whm{i:03}.example.com:2087");
        Http::new(&base, &options, AuthHeader::None, 0).unwrap();
    }
    assert_eq!(
        clients_built() - before,
        1,
        "one trust-store load for 100 hosts"
    );
}

#[test]
fn server_messages_are_short_and_readable() {
    assert_eq!(server_message(br#"{"detail":"Not found."}"#), "Not found.");
    assert_eq!(
        server_message(br#"{"__all__":["Enter a valid URL."],"name":["This field is required."]}"#),
        "Enter a valid URL.; name: This field is required."
    );
    assert_eq!(
        server_message(b"<html><body>oops</body></html>"),
        "an HTML page instead of the API's JSON"
    );
    assert_eq!(server_message(b""), "(empty body)");
    assert!(server_message(&vec![b'x'; 1000]).chars().count() <= 301);
}
