//! Matching desired apps to live apps: each desired app's identity on the
//! server, and the live app that is it (by key, an interrupted
//! replacement's old copy, or a `renamed_from` identity), each given once.

use std::collections::{BTreeMap, BTreeSet};

use super::{Target, org_label};
use crate::model::{AppIdentity, DesiredApp, Ensure, LiveApp, LiveState, OrgRef};

/// Where a desired app lives on the server: its match key, and for AWX the
/// organization id. `Err`: the organization is not on the server.
pub(super) fn resolve_identity(app: &DesiredApp, live: &LiveState) -> Result<Target, String> {
    match &app.identity {
        AppIdentity::Awx { organization, name } => {
            let id = organization
                .resolve(&live.organizations)
                .ok_or_else(|| match organization {
                    OrgRef::Id(id) => format!(
                        "organization {id} does not exist on the server (or the credentials cannot see it)"
                    ),
                    OrgRef::Name(n) => format!("organization `{n}` does not exist on the server"),
                })?;
            Ok(Target {
                key: format!("{id}/{}", name.trim()),
                name: name.trim().to_string(),
                organization: Some(id),
            })
        }
        AppIdentity::Tpp { id } => Ok(Target {
            key: id.clone(),
            name: id.clone(),
            organization: None,
        }),
        AppIdentity::Whm { name } => Ok(Target {
            key: name.clone(),
            name: name.clone(),
            organization: None,
        }),
    }
}

/// Finds the live app of each desired app, each live app given once.
pub(super) struct Matcher<'l, 'r> {
    live: &'l LiveState,
    by_key: BTreeMap<&'l str, &'l LiveApp>,
    /// Old copies left by interrupted replacements (usually none), collected
    /// once, not searched for per app.
    set_aside: Vec<&'l LiveApp>,
    /// Identities the config claims: `renamed_from` never takes another
    /// entry's app.
    claimed: BTreeSet<&'r str>,
    /// Live apps already given to a desired app, by server id.
    pub(super) matched: BTreeSet<&'l str>,
}

impl<'l, 'r> Matcher<'l, 'r> {
    pub(super) fn new(live: &'l LiveState, resolved: &'r [(&DesiredApp, Target)]) -> Self {
        Matcher {
            live,
            by_key: live
                .apps
                .iter()
                .filter(|a| a.aside.is_none() && a.retiring.is_none() && a.unmanageable.is_none())
                .map(|a| (a.match_key.as_str(), a))
                .collect(),
            set_aside: live.apps.iter().filter(|a| a.aside.is_some()).collect(),
            claimed: resolved.iter().map(|(_, t)| t.key.as_str()).collect(),
            matched: BTreeSet::new(),
        }
    }

    /// The live app of `app` (by its key, else the old copy of an
    /// interrupted replacement, else a `renamed_from` identity), and the old
    /// copies of interrupted replacements left over (to delete).
    pub(super) fn take(
        &mut self,
        app: &DesiredApp,
        target: &Target,
    ) -> (Option<&'l LiveApp>, Vec<&'l LiveApp>) {
        let mut asides: Vec<&LiveApp> = self
            .set_aside
            .iter()
            .copied()
            .filter(|a| {
                a.organization == target.organization
                    && a.aside.as_ref().is_some_and(|x| x.stands_for(&target.name))
                    && !self.matched.contains(a.id.as_str())
            })
            .collect();
        let found: Option<&LiveApp> = match self.by_key.get(target.key.as_str()) {
            Some(c) => Some(*c),
            // The replacement stopped after moving the old app aside: the old
            // app is this app's live state (resumed, or given its name back).
            None if !asides.is_empty() => Some(asides.remove(0)),
            None if app.ensure == Ensure::Present => renamed_from(
                app,
                target,
                self.live,
                &self.by_key,
                &self.claimed,
                &self.matched,
            ),
            None => None,
        };
        if let Some(c) = found {
            self.matched.insert(c.id.as_str());
        }
        for a in &asides {
            self.matched.insert(a.id.as_str());
        }
        (found, asides)
    }
}

/// The live app a desired AWX app had under one of its `renamed_from`
/// identities (or the aside copy of one), unless the config claims that
/// identity for another entry or another entry already took it.
pub(super) fn renamed_from<'a>(
    app: &DesiredApp,
    target: &Target,
    live: &'a LiveState,
    by_key: &BTreeMap<&str, &'a LiveApp>,
    claimed: &BTreeSet<&str>,
    matched: &BTreeSet<&str>,
) -> Option<&'a LiveApp> {
    for previous in &app.renamed_from {
        let org = match &previous.organization {
            Some(o) => o.resolve(&live.organizations),
            None => target.organization,
        };
        let Some(org) = org else { continue };
        let name = previous.name.trim();
        let key = format!("{org}/{name}");
        if claimed.contains(key.as_str()) {
            continue;
        }
        let exact = by_key.get(key.as_str()).copied();
        let aside = || {
            live.apps.iter().find(|a| {
                a.organization == Some(org) && a.aside.as_ref().is_some_and(|x| x.stands_for(name))
            })
        };
        if let Some(found) = exact.or_else(aside)
            && !matched.contains(found.id.as_str())
        {
            return Some(found);
        }
    }
    None
}

/// For an AWX app no entry manages: the config entries of the same name in
/// other organizations, in words.
pub(super) fn same_name_elsewhere(
    live_app: &LiveApp,
    resolved: &[(&DesiredApp, Target)],
    live: &LiveState,
) -> Vec<String> {
    resolved
        .iter()
        .filter(|(_, t)| {
            t.organization.is_some()
                && t.organization != live_app.organization
                && t.name == live_app.name.trim()
        })
        .map(|(app, t)| {
            format!(
                "the config has `{}` in organization `{}`, not in this one",
                app.key,
                org_label(live, t.organization).unwrap_or_default()
            )
        })
        .collect()
}
