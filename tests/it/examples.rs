//! Every example configuration is valid, and the schema accepts every file.

use crate::support::appform;

#[test]
fn the_examples_validate() {
    let cfg = appform::config::load(std::path::Path::new("examples")).expect("examples are valid");
    assert_eq!(cfg.servers.len(), 3);
    let kinds: Vec<_> = cfg.servers.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["awx", "tpp", "whm"]);
    appform()
        .args(["validate", "-c", "examples"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("Configuration is valid"));
}
