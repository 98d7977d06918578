//! `schema.json` is what `appform schema` prints, and it agrees with `validate`
//! on the examples (accepted) and on structural errors (rejected).

use std::path::Path;

use crate::support::{appform, root};

fn schema() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("schema.json")).unwrap()).unwrap()
}

/// YAML → JSON value for the schema validator (test-only use of the YAML crate).
fn yaml_value(path: &Path) -> serde_json::Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn schema_json_is_current() {
    let generated = appform::commands::schema::schema_text();
    let on_disk = std::fs::read_to_string(root().join("schema.json")).unwrap_or_default();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(root().join("schema.json"), &generated).unwrap();
        return;
    }
    assert!(
        generated == on_disk,
        "schema.json is out of date: run `UPDATE_SCHEMA=1 cargo test schema_json_is_current` (or `appform schema > schema.json`)"
    );
    appform().arg("schema").assert().code(0).stdout(generated);
}

#[test]
fn schema_is_draft_07() {
    assert_eq!(
        schema()["$schema"],
        "http://json-schema.org/draft-07/schema#"
    );
}

#[test]
fn schema_accepts_every_example() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let mut files = Vec::new();
    for dir in ["examples", "examples/servers"] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 4);
    for f in files {
        let errors: Vec<String> = validator
            .iter_errors(&yaml_value(&f))
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", f.display());
    }
}

#[test]
fn schema_rejects_what_validate_rejects_structurally() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    for case in [
        "unknown-top-level-key",
        "unknown-server-key",
        "unknown-auth-key",
        "unknown-awx-app-key",
        "unknown-tpp-app-key",
        "unknown-policy-key",
        "unknown-server-kind",
        "two-server-kinds",
        "no-server-kind",
        "wrong-type-timeout",
        "wrong-type-max-in-flight",
        "wrong-type-skip-authorization",
        "wrong-type-applications-list",
        "wrong-type-root-list",
        "wrong-type-data-string",
        "bad-enum-client-type",
        "bad-enum-grant-type",
        "bad-enum-ensure",
        "missing-organization",
        "missing-whm-username",
        "missing-auth",
        "literal-token",
        "literal-password",
        "policy-negative-deletes",
        "policy-ratio-out-of-range",
        "max-in-flight-zero",
        "bad-duration-timeout",
    ] {
        let path = root().join("tests/corpus").join(format!("{case}.yaml"));
        let value = yaml_value(&path);
        assert!(
            !validator.is_valid(&value),
            "schema.json accepts {case}, which validate rejects"
        );
    }
}
