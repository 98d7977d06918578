//! What a plan must never show: sensitive fields, secret-looking values and
//! the live values of object keys the config does not declare, masked once
//! the operations (which carry the real values) are built.

use serde_json::Value;

use super::Wanted;
use crate::plan::change::{Change, FieldDiff};
use crate::semantics;

/// Masks what a plan must never show, once the operations (which carry the
/// real values) are built: a sensitive field's values become `(sensitive)`
/// (null stays null, so adding and removing still show), and secret-named
/// keys inside any object value (`data.jwt.secret`) are redacted.
pub(super) fn hide_secrets(changes: &mut [Change], semantics: &semantics::Semantics) {
    let mask = |v: &Value| match v {
        Value::Null => Value::Null,
        _ => Value::String("(sensitive)".into()),
    };
    for f in changes.iter_mut().flat_map(|c| c.fields.iter_mut()) {
        if f.sensitive {
            continue; // masked already (an undeclared key)
        }
        // An object field's keys (WHM `data`) are free-form: a value shaped
        // like a credential is masked whatever its key, at any depth.
        let free_form = semantics.object_field.is_some();
        let shaped = |v: &Value| v.as_str().is_some_and(crate::redact::looks_like_secret);
        if (free_form && (shaped(&f.before) || shaped(&f.after)))
            || semantics.is_sensitive(&f.field)
        {
            f.sensitive = true;
            f.before = mask(&f.before);
            f.after = mask(&f.after);
        } else if free_form {
            f.before = crate::redact::redact_shaped(&f.before);
            f.after = crate::redact::redact_shaped(&f.after);
        } else {
            f.before = crate::redact::redact(&f.before);
            f.after = crate::redact::redact(&f.after);
        }
    }
}

/// Keys of an object field (WHM `data`) the config does not declare are
/// never shown, whatever their name: a live value is the server's, and a
/// pull request that only turns on `authoritative` (their removal) or changes
/// another key (they are carried) must not print it. Their size and a
/// fingerprint are shown instead ([`crate::redact::undeclared_mask`]).
pub(super) fn mask_undeclared(fields: &mut [FieldDiff], wanted: &[Wanted]) {
    let declared = |name: &str| wanted.iter().any(|w| w.value.is_some() && w.name == name);
    for f in fields.iter_mut().filter(|f| !declared(&f.field)) {
        f.sensitive = true;
        for v in [&mut f.before, &mut f.after] {
            if !v.is_null() {
                *v = crate::redact::undeclared_mask(v);
            }
        }
    }
}
