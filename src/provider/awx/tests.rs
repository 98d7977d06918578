use super::*;

#[test]
fn list_items_become_live_apps() {
    let v = json!({"id": 5, "name": " grafana", "organization": 1, "client_type": "public",
        "authorization_grant_type": "password", "redirect_uris": "https://a/cb\n https://b/cb",
        "skip_authorization": false, "description": "", "client_secret": "************"});
    let (app, org) = live_app(&v).unwrap();
    assert_eq!(org, None);
    assert!(app.aside.is_none());
    assert_eq!(app.match_key, "1/grafana");
    assert_eq!(app.id, "5");
    assert_eq!(
        app.fields["redirect_uris"],
        json!(["https://a/cb", "https://b/cb"])
    );
    assert!(!app.fields.contains_key("client_secret"));
}

#[test]
fn malformed_items_are_errors_not_panics() {
    assert!(live_app(&json!("x")).is_err());
    assert!(live_app(&json!({"id": "5"})).is_err());
    let err = live_app(&json!({"id": 5, "name": 3})).unwrap_err();
    assert!(err.contains("`name`"), "{err}");
}

fn app(id: u64, name: &str) -> LiveApp {
    live_app(
        &json!({"id": id, "name": name, "organization": 1, "client_type": "public",
        "authorization_grant_type": "password", "redirect_uris": "",
        "skip_authorization": false, "description": "",
        "summary_fields": {"organization": {"id": 1, "name": "Default"}}}),
    )
    .unwrap()
    .0
}

#[test]
fn an_aside_name_of_its_own_id_marks_an_interrupted_replacement() {
    assert_eq!(
        app(7, "grafana~appform-replaced-7").aside.unwrap().original,
        "grafana"
    );
    assert!(app(8, "grafana~appform-replaced-7").aside.is_none());
}

#[test]
fn a_listing_whose_pages_disagree_is_refused() {
    let apps = [app(1, "a"), app(2, "b")];
    assert!(check_listing(&[2], &apps).is_ok());
    assert!(
        check_listing(&[2, 1], &apps)
            .unwrap_err()
            .contains("from 2 to 1")
    );
    assert!(
        check_listing(&[3], &apps)
            .unwrap_err()
            .contains("count is 3")
    );
    let twice = [app(1, "a"), app(1, "a")];
    assert!(check_listing(&[2], &twice).unwrap_err().contains("twice"));
}

#[test]
fn redirect_uris_are_sent_space_joined_in_config_order() {
    let mut f = BTreeMap::new();
    f.insert(
        "redirect_uris".to_string(),
        json!(["https://b/cb", "https://a/cb"]),
    );
    assert_eq!(
        api_body(&semantics::AWX, &f)["redirect_uris"],
        json!("https://b/cb https://a/cb")
    );
}
