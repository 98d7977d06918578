//! Reading the applications and organizations: every page in the size the
//! server serves, the pages at once after the first, read again while the
//! listing changes under the reader, and the named queries of `listing:
//! managed`.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::Value;

use super::wire::{
    check_listing, check_pages, live_app_of, named_queries, organizations_of, page_of,
    served_page_size, unexpected,
};
use super::{Awx, LIST_ATTEMPTS, MAX_PAGES, PAGE_SIZE};
use crate::model::{LiveApp, LiveState};
use crate::provider::http::{Reply, Retry};
use crate::provider::{Error, FailureKind};

impl Awx {
    pub(super) async fn get(&self, path: &str) -> Result<Reply, Error> {
        let reply = self
            .http
            .send(Method::GET, path, None, Retry::Idempotent)
            .await
            .map_err(|e| Error::unreachable(&e))?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(Error::status(
                unexpected(&self.http, &Method::GET, path, &reply),
                reply.status.as_u16(),
            ))
        }
    }

    /// Every page of a list endpoint: the first, then the rest concurrently
    /// once `count` is known. The page size is the server's: a site that
    /// lowered `MAX_PAGE_SIZE` answers a first page shorter than asked, with
    /// more to come, and the other pages are asked for in that size (the
    /// minimal number of round trips). Returns each page's `count` and all
    /// results.
    pub(super) async fn all_pages(
        &self,
        base: &str,
        what: &str,
    ) -> Result<(Vec<usize>, Vec<Value>), Error> {
        let since = self.http.received_bytes();
        // A filtered listing's base has a query already.
        let sep = if base.contains('?') { '&' } else { '?' };
        let first = self
            .get(&format!("{base}{sep}page_size={PAGE_SIZE}&page=1"))
            .await?;
        let (count, mut results) = page_of(&first.body, what).map_err(Error::malformed)?;
        let size = served_page_size(count, results.len());
        let pages = count.div_ceil(size).max(1);
        // A hostile or broken server must not make a plan page forever.
        if pages > MAX_PAGES {
            return Err(Error::malformed(format!(
                "unexpected response: the server reports {count} {what}s, {pages} pages of {size}; appform reads at most {MAX_PAGES} pages"
            )));
        }
        let mut rest = stream::iter(2..=pages)
            .map(|page| async move {
                let reply = self
                    .get(&format!("{base}{sep}page_size={size}&page={page}"))
                    .await?;
                if let Some(e) = crate::provider::http::listing_too_large(&self.http, since, what) {
                    return Err(Error::malformed(e));
                }
                page_of(&reply.body, what).map_err(Error::malformed)
            })
            .buffered(self.max_in_flight);
        let mut counts = vec![count];
        // Pages in order; the first error (too many bytes) stops the rest.
        while let Some(page) = rest.next().await {
            let (c, r) = page?;
            counts.push(c);
            results.extend(r);
        }
        Ok((counts, results))
    }

    /// Every organization the credentials can see, by id, from a listing
    /// whose pages agree (read again, like the applications, when it moved).
    async fn organizations(&self) -> Result<BTreeMap<u64, String>, Error> {
        let mut why = String::new();
        for attempt in 1..=LIST_ATTEMPTS {
            let (counts, results) = self
                .all_pages(&self.api("/organizations/"), "organization")
                .await?;
            // Their shape first (a malformed answer is that, not a moving list).
            let organizations = organizations_of(&results)?;
            let ids = results
                .iter()
                .filter_map(|o| o.get("id").and_then(Value::as_u64));
            match check_pages(&counts, ids, "organization") {
                Ok(()) => return Ok(organizations),
                Err(e) => why = e,
            }
            if attempt < LIST_ATTEMPTS {
                tokio::time::sleep(crate::provider::http::backoff(attempt, None)).await;
            }
        }
        Err(Error::new(
            FailureKind::InconsistentListing,
            format!(
                "the organization list kept changing while it was read ({why}), {LIST_ATTEMPTS} times; refusing to plan from an inconsistent list"
            ),
        ))
    }

    /// Every application, from a listing whose pages agree (read again, up to
    /// three times, when another client changed the list between pages), and
    /// the organizations.
    pub async fn fetch(&self) -> Result<LiveState, Error> {
        self.fetch_listings(vec![self.api("/applications/")], false)
            .await
    }

    /// `listing: managed`: only the applications with these names (in any
    /// organization) and those set aside by an interrupted replacement, in
    /// a few filtered listings, and the organizations.
    pub async fn fetch_named(&self, names: &[String]) -> Result<LiveState, Error> {
        let mut live = self
            .fetch_listings(named_queries(&self.api("/applications/"), names), true)
            .await?;
        // The reserved-name query may bring other names holding the mark.
        live.apps
            .retain(|a| a.aside.is_some() || a.retiring.is_some() || names.contains(&a.name));
        Ok(live)
    }

    /// The retiring copies of rotations that the listing counts tokens for:
    /// how many of those have not expired (a copy whose tokens all expired
    /// is deleted before its overlap ends). A list that cannot be read
    /// leaves it unknown: the copy is kept.
    async fn read_retiring_tokens(&self, apps: &mut [LiveApp]) {
        for app in apps
            .iter_mut()
            .filter(|a| a.retiring.is_some() && a.tokens.is_some_and(|n| n > 0))
        {
            match self.live_tokens(&app.id).await {
                Ok(read) => {
                    app.live_tokens = Some(read.live);
                    app.last_used = read.last_used;
                }
                Err(e) => crate::logging::log(1, || {
                    format!(
                        "the token list of the retiring copy `{}` could not be read ({}); it is kept until its overlap ends",
                        app.name, e.message
                    )
                }),
            }
        }
    }

    /// The listings `bases` (each paged and checked), merged, with the
    /// organizations. The organizations and the first pages go out
    /// together: two round trips in all.
    async fn fetch_listings(
        &self,
        bases: Vec<String>,
        managed_only: bool,
    ) -> Result<LiveState, Error> {
        let read = || {
            stream::iter(bases.clone())
                .map(|base| async move { self.all_pages(&base, "application").await })
                .buffered(self.max_in_flight)
                .collect::<Vec<_>>()
        };
        let (organizations, first) = tokio::join!(self.organizations(), read());
        let mut organizations = organizations?;
        let mut first = Some(first);
        let mut why = String::new();
        for attempt in 1..=LIST_ATTEMPTS {
            let listings = match first.take() {
                Some(listings) => listings,
                None => read().await,
            };
            let mut apps: Vec<LiveApp> = Vec::new();
            let mut seen = BTreeSet::new();
            let mut moved = None;
            for listing in listings {
                let (counts, results) = listing?;
                let mut these = Vec::with_capacity(results.len());
                for r in &results {
                    let (app, org_name) =
                        live_app_of(self.semantics(), r).map_err(Error::malformed)?;
                    if let (Some(org), Some(name)) = (app.organization, org_name) {
                        organizations.entry(org).or_insert(name);
                    }
                    these.push(app);
                }
                if let Err(e) = check_listing(&counts, &these) {
                    moved = Some(e);
                    break;
                }
                // A name can answer two queries (a set-aside app's name).
                apps.extend(these.into_iter().filter(|a| seen.insert(a.id.clone())));
            }
            let Some(e) = moved else {
                self.read_retiring_tokens(&mut apps).await;
                return Ok(LiveState {
                    apps,
                    organizations,
                    defaults: BTreeMap::new(),
                    managed_only,
                    read_at: Some(std::time::SystemTime::now()),
                });
            };
            crate::logging::log(1, || {
                format!("the application list moved while it was read ({e}); reading it again")
            });
            why = e;
            if attempt < LIST_ATTEMPTS {
                tokio::time::sleep(crate::provider::http::backoff(attempt, None)).await;
            }
        }
        Err(Error::new(
            FailureKind::InconsistentListing,
            format!(
                "the application list kept changing while it was read ({why}), {LIST_ATTEMPTS} times; refusing to plan from an inconsistent list: try again when other changes have settled"
            ),
        ))
    }
}
