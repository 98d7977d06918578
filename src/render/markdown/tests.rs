use super::*;
use crate::plan::{Change, FieldDiff, Reason, Reviewed, Summary};
use serde_json::json;

fn server(n: usize) -> ServerPlan<Reviewed> {
    ServerPlan {
        server: "whm@h:1".into(),
        kind: crate::model::Kind::Whm,
        url: "https://h:1".into(),
        update_style: crate::semantics::UpdateStyle::FullReplace,
        error: None,
        error_kind: None,
        unmanaged: vec![],
        unmanaged_labels: vec![],
        rotation_due: Vec::new(),
        retiring: Vec::new(),
        secrets_created: Vec::new(),
        managed_only: false,
        changes: (0..n)
            .map(|i| Change {
                app: format!("app|{i}"),
                action: Action::Update,
                reason: Reason::FieldsDiffer,
                before_fingerprint: None,
                fields: vec![FieldDiff {
                    field: "data.jwt".into(),
                    before: json!({"iss": "a|b"}),
                    after: json!({"iss": "c"}),
                    forces_replacement: false,
                    carried: false,
                    sensitive: false,
                    origin: None,
                }],
                organization: None,
                origin: None,
                notes: Vec::new(),
                operation: Reviewed,
                yields_secret: false,
                in_use: None,
                rotation: None,
            })
            .collect(),
        noop: 0,
        live: n,
        apply: true,
        prune: false,
    }
}

fn plan_of(n: usize) -> Plan<Reviewed> {
    Plan {
        format_version: 1,
        appform_version: "0".into(),
        config_digest: "sha256:x".into(),
        servers: vec![server(n)],
        summary: Summary {
            update: n,
            ..Summary::default()
        },
        blocked: vec![],
        instances: crate::plan::InstanceCounts {
            drifted: 1,
            ..Default::default()
        },
        only_apps: Vec::new(),
        config: None,
        baseline: None,
    }
}

#[test]
fn starts_with_the_marker_and_the_summary() {
    let text = plan(&plan_of(1), 60_000);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(MARKER));
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("**Plan: 0 to create, 1 to update")
    );
    assert!(
        text.contains(
            "| ~ | `app\\|0` | update | `data.jwt` | `{\"iss\":\"a\\|b\"}` | `{\"iss\":\"c\"}` |"
        ),
        "{text}"
    );
}

fn fleet_host(host: &str, n: usize) -> ServerPlan<Reviewed> {
    ServerPlan {
        server: format!("whm-fleet@{host}"),
        ..server(n)
    }
}

#[test]
fn a_failed_server_comes_first_and_never_reads_as_no_changes() {
    let mut p = plan_of(0);
    p.servers = vec![ServerPlan {
        error: Some("cannot connect".into()),
        ..server(0)
    }];
    p.summary = Summary::default();
    let text = plan(&p, 60_000);
    let second = text.lines().nth(1).unwrap();
    assert_eq!(
        second,
        "**1 server could not be planned.** **No changes on the others.** 0 unchanged, 0 unmanaged."
    );
    assert!(
        text.contains("<details open><summary><code>whm@h:1</code>"),
        "{text}"
    );
    assert!(text.contains("**Error:** `cannot connect`"), "{text}");
    insta::assert_snapshot!("markdown_failed_server", text);
}

#[test]
fn server_text_never_becomes_markup() {
    let mut p = plan_of(0);
    let hostile = "</details><img src=x onerror=alert(1)> [Approve here](https://evil.example) `x`";
    let mut sp = server(1);
    sp.error = None;
    sp.changes[0].app = hostile.into();
    sp.unmanaged = vec!["<b>bold</b>".into()];
    p.servers = vec![
        ServerPlan {
            error: Some(hostile.into()),
            changes: Vec::new(),
            ..server(0)
        },
        sp,
    ];
    let text = plan(&p, 60_000);
    // Everything a server or a config wrote is a code span: shown as it is.
    let span =
        "`` </details><img src=x onerror=alert(1)> [Approve here](https://evil.example) `x` ``";
    assert!(text.contains(&format!("**Error:** {span}")), "{text}");
    assert!(text.contains(&format!("| ~ | {span} | update |")), "{text}");
    // Outside code spans, no markup at all.
    let outside: String = text.split("``").step_by(2).collect();
    assert!(
        !outside.contains("<img") && !outside.contains("<b>"),
        "{text}"
    );
    assert!(!outside.contains("[Approve here](https"), "{text}");
    assert_eq!(escape("grafana_sso (Default)"), "`grafana_sso (Default)`");
    assert_eq!(escape("_em_ *strong*"), "`_em_ *strong*`");
}

#[test]
fn deletes_and_replacements_are_expanded_and_durations_read_as_durations() {
    let mut p = plan_of(1);
    let mut sp = server(1);
    sp.kind = crate::model::Kind::Tpp;
    if let Some(c) = sp.changes.first_mut() {
        c.fields = vec![FieldDiff {
            field: "access_validity".into(),
            before: json!(3600),
            after: json!(7_776_000),
            forces_replacement: false,
            carried: false,
            sensitive: false,
            origin: None,
        }];
    }
    let mut deleted = server(1);
    deleted.server = "other".into();
    if let Some(c) = deleted.changes.first_mut() {
        c.action = Action::Delete;
        c.fields.clear();
    }
    p.servers = vec![sp, deleted];
    let text = plan(&p, 60_000);
    assert!(text.contains("| `3600` (1h) | `7776000` (90d) |"), "{text}");
    assert!(
        text.contains("<details><summary><code>whm@h:1</code>"),
        "{text}"
    );
    assert!(
        text.contains("<details open><summary><code>other</code>"),
        "{text}"
    );
    insta::assert_snapshot!("markdown_delete_expanded", text);
}

#[test]
fn identical_changes_on_fleet_hosts_are_shown_once() {
    let mut p = plan_of(1);
    p.servers = (0..20)
        .map(|i| fleet_host(&format!("whm{i:02}:2087"), 1))
        .collect();
    let mut odd = fleet_host("whm99:2087", 1);
    if let Some(c) = odd.changes.first_mut() {
        c.app = "different".into();
    }
    p.servers.push(odd);
    let text = plan(&p, 60_000);
    assert_eq!(text.matches("<details").count(), 2, "{text}");
    assert!(
        text.contains("<code>whm-fleet</code> (whm, full replace): same 1 change on 20 hosts"),
        "{text}"
    );
    assert!(text.contains("`whm-fleet@whm19:2087`"), "{text}");
    assert!(text.contains("<code>whm-fleet@whm99:2087</code>"), "{text}");
    insta::assert_snapshot!("markdown_fleet_of_20_grouped", text);
}

#[test]
fn long_sections_are_cut_between_rows_with_a_notice() {
    let text = plan(&plan_of(500), 2_000);
    assert!(text.contains("_Truncated: "), "{text}");
    for line in text.lines().filter(|l| l.starts_with("| ~")) {
        assert!(line.ends_with(" |"), "a cut row: {line}");
    }
    let section_start = text.find("<details>").unwrap();
    let section_end = text.find("_Truncated").unwrap();
    assert!(section_end - section_start <= 2_000);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// Whatever two lists a change has, every element added or removed is
    /// in the markdown whole, as a code span that shows exactly it.
    #[test]
    fn every_added_or_removed_element_is_shown_in_full(
        before in proptest::collection::vec("[a-z`|<>@#/:. \u{200b}\u{202e}]{0,300}", 0..6),
        after in proptest::collection::vec("[a-z`|<>@#/:. \u{200b}\u{202e}]{0,300}", 0..6),
    ) {
        let mut p = plan_of(1);
        if let Some(f) = p.servers[0].changes[0].fields.first_mut() {
            f.field = "redirect_uris".into();
            f.before = json!(before);
            f.after = json!(after);
        }
        let text = plan(&p, 1_000_000);
        let (b, a) = (json!(before), json!(after));
        let (added, removed) = crate::render::list_changes(
            b.as_array().map(Vec::as_slice).unwrap_or_default(),
            a.as_array().map(Vec::as_slice).unwrap_or_default(),
        );
        for item in added {
            let shown = format!("| `redirect_uris` (added) |  | {} |", cell(item, false, false));
            proptest::prop_assert!(text.contains(&shown), "{shown} not in {text}");
        }
        for item in removed {
            let shown = format!("| `redirect_uris` (removed) | {} |  |", cell(item, false, false));
            proptest::prop_assert!(text.contains(&shown), "{shown} not in {text}");
        }
        // The cell shows the element itself: undo the escapes, get the JSON.
        for item in a.as_array().into_iter().flatten() {
            let shown = cell(item, false, false);
            let fence = shown.chars().take_while(|c| *c == '`').count();
            let inner = &shown[fence..shown.len() - fence];
            let inner = if inner.starts_with(' ') && inner.ends_with(' ') && inner.len() > 1 { &inner[1..inner.len() - 1] } else { inner };
            let undone = inner.replace("\\|", "|").replace("\\u{200b}", "\u{200b}").replace("\\u{202e}", "\u{202e}");
            proptest::prop_assert_eq!(undone, item.to_string());
        }
    }
}
