//! Every example configuration is valid, and the schema accepts every file.

use crate::support::appform;

#[test]
fn the_examples_validate() {
    let cfg = appform::config::load(std::path::Path::new("examples")).expect("examples are valid");
    let servers: Vec<_> = cfg
        .servers
        .iter()
        .map(|s| (s.name.as_str(), s.kind.as_str(), s.instances.len()))
        .collect();
    assert_eq!(
        servers,
        [
            ("awx-prod", "awx", 1),
            ("awx-staging", "awx", 1),
            ("tpp-main", "tpp", 1),
            ("whm-fleet", "whm", 2)
        ]
    );
    appform()
        .args(["validate", "-c", "examples"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("Configuration is valid"));
}
