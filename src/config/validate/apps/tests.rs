use super::*;

#[test]
pub(super) fn redirect_uri_rules() {
    assert!(check_redirect_uri("https://grafana.example.com/login/generic_oauth").is_ok());
    assert!(check_redirect_uri("http://127.0.0.1:3000/cb").is_ok());
    assert!(
        check_redirect_uri("ftp://example.com/cb")
            .unwrap_err()
            .contains("ftp")
    );
    assert!(
        check_redirect_uri("https://example.com/cb#x")
            .unwrap_err()
            .contains("fragment")
    );
    assert!(
        check_redirect_uri("https://example.com/cb#")
            .unwrap_err()
            .contains("fragment")
    );
    assert!(check_redirect_uri("/relative/cb").is_err());
    assert!(check_redirect_uri("not a url").is_err());
    // Answered "Enter a valid URL." by a real AWX 24.6.1 (awx.md §11.8).
    assert!(check_redirect_uri("https:///nohost").is_err());
    assert!(check_redirect_uri("https://").is_err());
    assert!(check_redirect_uri("https://@host/cb").is_err());
    assert!(check_redirect_uri("https://-host/cb").is_err());
    assert!(check_redirect_uri("https://[zz::1]/cb").is_err());
    assert!(check_redirect_uri(&format!("https://h/{}", "a".repeat(2048))).is_err());
    // Accepted by the server.
    assert!(check_redirect_uri("http://localhost").is_ok());
    assert!(check_redirect_uri("https://app.example.com/cb?x=1&y=2").is_ok());
    assert!(check_redirect_uri("HTTPS://Example.COM/cb").is_ok());
    assert!(check_redirect_uri("https://[::1]:8443/cb").is_ok());
    assert!(check_redirect_uri("https://user:pw@host/cb").is_ok());
    assert!(check_redirect_uri("https://intranet/cb").is_ok());
    // Non-ASCII hosts as Django's IDNA retry takes them (awx.md §11.8).
    assert!(check_redirect_uri("https://ñ..example.com/cb").is_err());
    assert!(check_redirect_uri(&format!("https://ñ{}.example.com/cb", "a".repeat(63))).is_err());
    assert!(check_redirect_uri("https://ñ.example.com/cb").is_ok());
    assert!(check_redirect_uri("https://a..example.com/cb").is_ok());
}
