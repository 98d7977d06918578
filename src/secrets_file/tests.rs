use super::*;

#[test]
fn entries_are_merged_and_the_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.json");
    std::fs::write(&path, r#"{"old/app": {"client_id": "x"}}"#).unwrap();
    let f = SecretsFile::new(&path);
    f.check().unwrap();
    f.record("awx-prod", "grafana", "cid", &Secret::new("s3cr3t"))
        .unwrap();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["old/app"]["client_id"], "x");
    assert_eq!(v["awx-prod/grafana"]["client_secret"], "s3cr3t");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

/// The old writer used `.<name>.tmp-<pid>`, created with truncate and
/// following symlinks: a local user could pre-create it to read the secret
/// or plant a symlink to redirect the write. Neither works now.
#[cfg(unix)]
#[test]
fn a_planted_temporary_file_or_symlink_gets_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.json");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let planted = dir
        .path()
        .join(format!(".secrets.json.tmp-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let readable = dir.path().join("readable");
    std::fs::write(&readable, "").unwrap();
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o666)).unwrap();
    let f = SecretsFile::new(&path);
    f.record("awx-prod", "grafana", "cid", &Secret::new("s3cr3t"))
        .unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(
        std::fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&readable).unwrap(), "");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".appform-secrets."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[test]
fn a_symlinked_file_or_a_world_writable_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere.json");
    std::fs::write(&target, "{}").unwrap();
    let link = dir.path().join("secrets.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = SecretsFile::new(&link).check().unwrap_err();
    assert!(err.to_string().contains("is a symbolic link"), "{err}");
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = SecretsFile::new(&open.join("s.json")).check().unwrap_err();
    assert!(err.to_string().contains("writable by every user"), "{err}");
    // /tmp-like: world-writable with the sticky bit is fine.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    SecretsFile::new(&open.join("s.json")).check().unwrap();
}

#[test]
fn a_lost_secret_is_recorded_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.json");
    let f = SecretsFile::new(&path);
    f.record_lost("awx", "grafana", "cid", "the answer was lost")
        .unwrap();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["awx/grafana"]["secret_lost"], true);
    assert_eq!(v["awx/grafana"]["client_secret"], Value::Null);
    assert_eq!(v["awx/grafana"]["client_id"], "cid");
}

#[test]
fn a_pending_create_is_marked_and_cleared_by_its_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.json");
    let f = SecretsFile::new(&path);
    f.record("awx", "old", "cid-old", &Secret::new("s-old"))
        .unwrap();
    f.mark_pending("awx", "old").unwrap();
    f.mark_pending("awx", "new").unwrap();
    assert_eq!(
        f.pending().unwrap(),
        [
            ("awx".to_string(), "new".to_string()),
            ("awx".to_string(), "old".to_string())
        ]
    );
    // A refused create leaves the earlier secret as it was.
    f.clear_pending("awx", "old").unwrap();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["awx/old"]["client_secret"], "s-old");
    assert!(v["awx/old"].get("pending_create_since").is_none());
    // A create that returned replaces the entry, mark included.
    f.record("awx", "new", "cid", &Secret::new("s")).unwrap();
    assert!(f.pending().unwrap().is_empty());
    f.mark_pending("awx", "gone").unwrap();
    f.clear_pending("awx", "gone").unwrap();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(v.get("awx/gone").is_none(), "{v}");
}

#[test]
fn a_file_that_is_not_json_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.json");
    std::fs::write(&path, "precious notes").unwrap();
    let f = SecretsFile::new(&path);
    assert!(f.check().is_err());
    assert!(f.record("s", "a", "c", &Secret::new("x")).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious notes");
}

#[cfg(feature = "age")]
mod encrypted {
    use super::*;

    #[test]
    fn every_entry_of_the_run_is_in_the_encrypted_file_and_nothing_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.age");
        let identity = age::x25519::Identity::generate();
        let file = SecretsFile::encrypted(&path, vec![identity.to_public()]);
        file.check().unwrap();
        file.mark_pending("awx", "one").unwrap();
        file.record("awx", "one", "id-1", &Secret::new("first-secret"))
            .unwrap();
        file.record("awx", "two", "id-2", &Secret::new("second-secret"))
            .unwrap();
        let sealed = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("secret\""), "{text}");
        let plain = age::decrypt(&identity, &sealed).unwrap();
        let doc: Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(doc["awx/one"]["client_secret"], "first-secret");
        assert_eq!(doc["awx/two"]["client_secret"], "second-secret");
        assert!(doc["awx/one"].get("pending_create_since").is_none());
        // It exists now: a second run must pick another name.
        let again = SecretsFile::encrypted(&path, vec![identity.to_public()]);
        assert!(again.check().unwrap_err().to_string().contains("exists"));
    }

    #[test]
    fn recipients_are_read_from_values_and_files_and_bad_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let key = age::x25519::Identity::generate().to_public().to_string();
        let list = dir.path().join("recipients");
        std::fs::write(&list, format!("# team\n\n{key}\n")).unwrap();
        assert_eq!(
            recipients(std::slice::from_ref(&key), std::slice::from_ref(&list))
                .unwrap()
                .len(),
            2
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "# nobody\n").unwrap();
        assert!(
            recipients(&[], &[empty])
                .unwrap_err()
                .to_string()
                .contains("names no recipient")
        );
        assert!(
            recipients(&["ssh-ed25519 AAAA".into()], &[])
                .unwrap_err()
                .to_string()
                .contains("is not an age public key")
        );
    }
}
