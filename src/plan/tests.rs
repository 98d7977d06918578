//! Table-style tests of the diff and the policy, on configs written as YAML.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::model::{Config, LiveApp, LiveState};

fn config(yaml: &str) -> Config {
    let files = vec![(PathBuf::from("t.yaml"), yaml.as_bytes().to_vec())];
    match crate::config::load_files(Path::new(""), files) {
        Ok(c) => c,
        Err(e) => panic!("{:?}", e.problems),
    }
}

fn awx(options: &str, apps: &str) -> Config {
    config(&format!(
        "servers:\n  awx-prod:\n    awx:\n      url: https://awx.example.com\n      auth: {{token: env:T}}\n{options}      applications:\n{apps}"
    ))
}

fn live_app(id: u64, name: &str, fields: Value) -> LiveApp {
    let fields: BTreeMap<String, Value> = serde_json::from_value(fields).unwrap();
    LiveApp {
        match_key: format!("1/{name}"),
        name: name.into(),
        id: id.to_string(),
        organization: Some(1),
        aside: crate::aside::parse(name, &id.to_string()),
        retiring: crate::retiring::parse(name, &id.to_string()),
        live_tokens: None,
        last_used: None,
        fields,
        unmanageable: None,
        capabilities: None,
        tokens: None,
        created: None,
    }
}

fn live(apps: Vec<LiveApp>) -> LiveState {
    LiveState {
        apps,
        organizations: [(1, "Default".to_string())].into_iter().collect(),
        defaults: BTreeMap::new(),
        managed_only: false,
        read_at: None,
    }
}

fn grafana_live() -> LiveApp {
    live_app(
        7,
        "grafana",
        json!({
            "client_type": "confidential",
            "authorization_grant_type": "authorization-code",
            "redirect_uris": ["https://g/cb", "https://g/cb2"],
            "skip_authorization": false,
            "description": "Grafana"
        }),
    )
}

const GRAFANA: &str = "        grafana:\n          organization: Default\n          client_type: confidential\n          authorization_grant_type: authorization-code\n          redirect_uris: [https://g/cb2, https://g/cb]\n";

/// Plans `state` against the first server; every change's shown action must
/// be the action its operation carries out.
fn plan_of(cfg: &Config, state: LiveState) -> (Plan, Vec<InstanceProblem>) {
    let server = &cfg.servers[0];
    let (plan, problems) = build(
        cfg,
        vec![InstanceState {
            server,
            instance: &server.instances[0],
            live: Ok(&state),
        }],
    );
    for c in plan.servers.iter().flat_map(|s| &s.changes) {
        assert_eq!(c.action, c.operation.action(), "{}", c.app);
    }
    (plan, problems)
}

#[test]
fn absent_app_is_created_with_every_declared_field() {
    let cfg = awx("", GRAFANA);
    let (plan, problems) = plan_of(&cfg, live(vec![]));
    assert!(problems.is_empty());
    let c = &plan.servers[0].changes[0];
    assert_eq!((c.action, c.reason), (Action::Create, Reason::NotFound));
    assert!(c.yields_secret);
    assert_eq!(c.before_fingerprint, None);
    let names: Vec<_> = c.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        names,
        ["authorization_grant_type", "client_type", "redirect_uris"]
    );
    assert_eq!(plan.summary.create, 1);
}

#[test]
fn redirect_uris_in_another_order_are_not_a_change() {
    let cfg = awx("", GRAFANA);
    let (plan, _) = plan_of(&cfg, live(vec![grafana_live()]));
    assert!(plan.servers[0].changes.is_empty());
    assert_eq!(plan.summary.noop, 1);
}

#[test]
fn an_update_patches_only_the_changed_fields() {
    let cfg = awx(
        "",
        &format!(
            "{GRAFANA}          description: Grafana SSO\n          skip_authorization: false\n"
        ),
    );
    let (plan, _) = plan_of(&cfg, live(vec![grafana_live()]));
    let c = &plan.servers[0].changes[0];
    assert_eq!((c.action, c.reason), (Action::Update, Reason::FieldsDiffer));
    let Operation::Update { id, fields } = &c.operation else {
        panic!()
    };
    assert_eq!(id, "7");
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["description"]);
    assert!(c.fields.iter().all(|f| !f.carried));
}

#[test]
fn a_grant_type_change_forces_replacement_and_keeps_unmanaged_values() {
    let cfg = awx("", &GRAFANA.replace("authorization-code", "password"));
    let (plan, _) = plan_of(&cfg, live(vec![grafana_live()]));
    let c = &plan.servers[0].changes[0];
    assert_eq!(
        (c.action, c.reason),
        (Action::Replace, Reason::ForcesReplacement)
    );
    assert!(
        c.fields
            .iter()
            .any(|f| f.field == "authorization_grant_type" && f.forces_replacement)
    );
    let Operation::Replace { fields, .. } = &c.operation else {
        panic!()
    };
    assert_eq!(fields["description"], json!("Grafana"));
    assert_eq!(fields["authorization_grant_type"], json!("password"));
}

#[test]
fn client_type_forces_replacement_only_towards_confidential() {
    let mut public = grafana_live();
    public.fields.insert("client_type".into(), json!("public"));
    let cfg = awx("", GRAFANA);
    let (plan, _) = plan_of(&cfg, live(vec![public]));
    assert_eq!(plan.servers[0].changes[0].action, Action::Replace);

    let cfg = awx("", &GRAFANA.replace("confidential", "public"));
    let (plan, _) = plan_of(&cfg, live(vec![grafana_live()]));
    assert_eq!(plan.servers[0].changes[0].action, Action::Update);
}

#[test]
fn ensure_absent_deletes_or_does_nothing() {
    let cfg = awx(
        "",
        "        grafana:\n          organization: Default\n          ensure: absent\n",
    );
    let (plan, _) = plan_of(&cfg, live(vec![grafana_live()]));
    let c = &plan.servers[0].changes[0];
    assert_eq!((c.action, c.reason), (Action::Delete, Reason::EnsureAbsent));
    let (plan, _) = plan_of(&cfg, live(vec![]));
    assert!(plan.servers[0].changes.is_empty());
    assert_eq!(plan.summary.noop, 1);
}

#[test]
fn unmanaged_apps_are_listed_and_pruned_only_when_asked() {
    let other = live_app(9, "system-metrics", json!({}));
    let stray = live_app(10, "stray", json!({}));
    let cfg = awx("", GRAFANA);
    let (plan, _) = plan_of(
        &cfg,
        live(vec![grafana_live(), other.clone(), stray.clone()]),
    );
    assert_eq!(plan.servers[0].unmanaged, ["stray", "system-metrics"]);
    assert!(plan.servers[0].changes.is_empty());

    let cfg = awx(
        "      prune: true\n      protect: [\"system-*\"]\n",
        GRAFANA,
    );
    let (plan, _) = plan_of(&cfg, live(vec![grafana_live(), other, stray]));
    assert_eq!(plan.servers[0].unmanaged, ["system-metrics"]);
    let c = &plan.servers[0].changes[0];
    assert_eq!(
        (c.app.as_str(), c.action, c.reason),
        ("stray", Action::Delete, Reason::Pruned)
    );
}

#[test]
fn authoritative_resets_unmentioned_fields_to_their_defaults() {
    let mut l = grafana_live();
    l.fields.insert("skip_authorization".into(), json!(true));
    let cfg = awx("      authoritative: true\n", GRAFANA);
    let (plan, _) = plan_of(&cfg, live(vec![l]));
    let c = &plan.servers[0].changes[0];
    let fields: Vec<_> = c
        .fields
        .iter()
        .map(|f| (f.field.as_str(), f.after.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            ("description", json!("")),
            ("skip_authorization", json!(false))
        ]
    );
}

#[test]
fn a_create_without_a_required_field_is_a_problem_pointing_at_the_app() {
    let cfg = awx(
        "",
        "        grafana:\n          organization: Default\n          client_type: public\n",
    );
    let (plan, problems) = plan_of(&cfg, live(vec![]));
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .problem
            .message
            .contains("`authorization_grant_type`"),
        "{problems:?}"
    );
    assert!(plan.servers[0].error.is_some());
    let src = &cfg.sources[0].text;
    let o = problems[0].problem.origin;
    assert_eq!(&src[o.offset..o.offset + o.len], "grafana");
}

#[test]
fn an_unknown_organization_is_a_problem() {
    let cfg = awx("", &GRAFANA.replace("Default", "Engineering"));
    let (_, problems) = plan_of(&cfg, live(vec![]));
    assert!(
        problems[0]
            .problem
            .message
            .contains("organization `Engineering` does not exist")
    );
}

#[test]
fn policy_blocks_too_many_deletions_and_too_large_a_share() {
    let mut apps = String::new();
    let mut state = Vec::new();
    for i in 0..10 {
        apps.push_str(&format!(
            "        app{i}:\n          organization: Default\n          ensure: absent\n"
        ));
        state.push(live_app(i, &format!("app{i}"), json!({})));
    }
    let cfg = awx("", &apps);
    let (plan, _) = plan_of(&cfg, live(state));
    assert_eq!(plan.summary.delete, 10);
    assert_eq!(plan.blocked.len(), 2, "{:?}", plan.blocked);
    assert!(plan.blocked.iter().all(Blocked::is_policy));
    assert!(
        plan.blocked[0]
            .message()
            .starts_with("policy.max_deletes: 10 deletions")
    );
    assert!(
        plan.blocked[1]
            .message()
            .starts_with("policy.max_change_ratio: awx-prod would change 10 of its 10")
    );
}

#[test]
fn fingerprints_ignore_representation_but_not_content() {
    let a = grafana_live();
    let mut b = grafana_live();
    b.fields.insert(
        "redirect_uris".into(),
        json!(["https://g/cb2", "https://g/cb"]),
    );
    assert_eq!(
        diff::fingerprint(crate::model::Kind::Awx, &a),
        diff::fingerprint(crate::model::Kind::Awx, &b)
    );
    b.fields.insert("description".into(), json!("changed"));
    assert_ne!(
        diff::fingerprint(crate::model::Kind::Awx, &a),
        diff::fingerprint(crate::model::Kind::Awx, &b)
    );
}
