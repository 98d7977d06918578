//! Reading every application: the count, the system defaults, and the
//! pages (at once after the first, enumerated again while the count moves).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::wire::{Defaults, applications_of};
use super::*;

impl Tpp {
    /// `TotalCount`'s `ApplicationCount`; a missing count is an error (a
    /// default of 0 would let a partial listing pass as complete).
    async fn total_count(&self) -> Result<usize, Error> {
        let body = self
            .call("TotalCount", &json!({}), Retry::Idempotent)
            .await
            .map_err(CallError::into_write)?;
        let url = self.session.http.url("/vedsdk/oauth/TotalCount");
        let count = body
            .get("ApplicationCount")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                Error::malformed(format!(
                    "POST {url}: unexpected response: TotalCount has no numeric `ApplicationCount`"
                ))
            })?;
        if count > MAX_APPS as u64 {
            return Err(Error::malformed(format!(
                "POST {url}: unexpected response: TotalCount reports {count} applications; appform reads at most {MAX_APPS}"
            )));
        }
        Ok(count as usize)
    }

    /// The server's defaults (`OAuth/GetConfiguration`), read once per run;
    /// `None` (unknown) when the call fails or does not exist (older TPP).
    pub(super) async fn defaults(&self) -> Defaults {
        if let Some(d) = self.defaults.lock().ok().and_then(|d| d.clone()) {
            return d;
        }
        let read = match self
            .call("GetConfiguration", &json!({}), Retry::Idempotent)
            .await
        {
            Ok(answer) => {
                let d = wire::defaults_of(&answer);
                if d.is_none() {
                    crate::logging::log(1, || {
                        "TPP GetConfiguration has no DefaultAccessTokenValidity, DefaultGrantValidity and DefaultGrantRefreshable: the server's defaults are unknown".to_string()
                    });
                }
                d
            }
            Err(e) => {
                let why = e.message();
                crate::logging::log(1, || {
                    format!(
                        "TPP GetConfiguration failed ({why}): the server's defaults are unknown"
                    )
                });
                None
            }
        };
        if let Ok(mut d) = self.defaults.lock() {
            *d = Some(read.clone());
        }
        read
    }

    /// Every application, from a listing that `TotalCount` confirms before and
    /// after (read again, up to three times, when another client changed the
    /// list meanwhile; docs/reference.md §4.5).
    pub async fn fetch(&self) -> Result<LiveState, Error> {
        // The defaults and the first count go out together.
        let (defaults, first_count) = tokio::join!(self.defaults(), self.total_count());
        let mut first_count = Some(first_count);
        let mut why = String::new();
        for attempt in 1..=LIST_ATTEMPTS {
            self.listing_start.store(
                self.session.http.received_bytes(),
                std::sync::atomic::Ordering::Relaxed,
            );
            let before = match first_count.take() {
                Some(count) => count?,
                None => self.total_count().await?,
            };
            let (apps, one_answer) = self.enumerate(before, &defaults).await?;
            // One EnumerateApplications answer that holds every application
            // TotalCount reported is a snapshot by itself: nothing can have
            // moved between pages, so the count need not be read again.
            if one_answer && apps.len() == before {
                return Ok(LiveState {
                    apps: apps.into_values().collect(),
                    organizations: BTreeMap::new(),
                    defaults: defaults.unwrap_or_default(),
                    managed_only: false,
                    read_at: None,
                });
            }
            let after = self.total_count().await?;
            if before == after && apps.len() == after {
                return Ok(LiveState {
                    apps: apps.into_values().collect(),
                    organizations: BTreeMap::new(),
                    defaults: defaults.unwrap_or_default(),
                    managed_only: false,
                    read_at: None,
                });
            }
            why = if before == after {
                format!(
                    "EnumerateApplications listed {} of the {after} applications TotalCount reports",
                    apps.len()
                )
            } else {
                format!("TotalCount changed from {before} to {after} while the list was read")
            };
            crate::logging::log(1, || format!("{why}; reading the list again"));
            if attempt < LIST_ATTEMPTS {
                tokio::time::sleep(crate::provider::http::backoff(attempt, None)).await;
            }
        }
        // Planning from a partial list would plan creates of apps that exist.
        Err(Error::new(
            FailureKind::InconsistentListing,
            format!("{why}, {LIST_ATTEMPTS} times; refusing to plan from a partial or moving list"),
        ))
    }

    /// The listing of a server that refuses `Start` 0: 1-based pages of 100.
    async fn pages_from_one(
        &self,
        total: usize,
        defaults: &Defaults,
    ) -> Result<BTreeMap<String, LiveApp>, Error> {
        let mut apps = BTreeMap::new();
        let mut start = 1;
        while apps.len() < total && start <= (total.div_ceil(PAGE) + 1).min(MAX_PAGES) {
            let page = self
                .page(start, PAGE, defaults)
                .await
                .map_err(CallError::into_write)?;
            let before = apps.len();
            for a in &page {
                apps.insert(a.id.clone(), a.clone());
            }
            if page.len() < PAGE || apps.len() == before {
                break;
            }
            start += 1;
        }
        Ok(apps)
    }

    /// One EnumerateApplications page, in a stable order (by name).
    async fn page(
        &self,
        start: usize,
        count: usize,
        defaults: &Defaults,
    ) -> Result<Vec<LiveApp>, CallError> {
        let body = json!({"Start": start, "Count": count, "OrderBy": ORDER_BY_NAME});
        let answer = self
            .call("EnumerateApplications", &body, Retry::Idempotent)
            .await?;
        if let Some(e) = crate::provider::http::listing_too_large(
            &self.session.http,
            self.listing_start
                .load(std::sync::atomic::Ordering::Relaxed),
            "application",
        ) {
            return Err(CallError::Malformed(e));
        }
        applications_of(&answer, defaults).map_err(CallError::Malformed)
    }

    /// Pages through EnumerateApplications in about `ceil(total / page) + 2`
    /// requests. tpp.md §8 leaves open how `Start` is read (a 1-based page, a
    /// record offset, a 0-based page); `Start` 0 and 1 tell them apart: the
    /// same page twice (1-based), a page shifted by one (an offset), or the
    /// next page (0-based). The largest page is asked for first; a server that
    /// answers with fewer has capped it, or refuses it (then 100 are asked for).
    /// The applications, and whether they came in one answer (a snapshot).
    async fn enumerate(
        &self,
        total: usize,
        defaults: &Defaults,
    ) -> Result<(BTreeMap<String, LiveApp>, bool), Error> {
        let mut apps: BTreeMap<String, LiveApp> = BTreeMap::new();
        if total == 0 {
            return Ok((apps, false));
        }
        let refused =
            |e: &CallError| matches!(e, CallError::Status(400, _) | CallError::Result(..));
        let first = match self.page(0, LARGE_PAGE, defaults).await {
            Ok(p) => Some((p, LARGE_PAGE)),
            Err(e) if refused(&e) => match self.page(0, PAGE, defaults).await {
                Ok(p) => Some((p, PAGE)),
                // `Start` 0 itself refused: pages counted from 1.
                Err(e) if refused(&e) => None,
                Err(e) => return Err(e.into_write()),
            },
            Err(e) => return Err(e.into_write()),
        };
        let Some((first, asked)) = first else {
            return Ok((self.pages_from_one(total, defaults).await?, false));
        };
        // A short first page with more to come: the server caps the page size.
        let count = if first.len() < asked && first.len() < total && !first.is_empty() {
            first.len()
        } else {
            asked
        };
        let add = |apps: &mut BTreeMap<String, LiveApp>, page: &[LiveApp]| -> usize {
            page.iter()
                .filter(|a| apps.insert(a.id.clone(), (*a).clone()).is_none())
                .count()
        };
        add(&mut apps, &first);
        if apps.len() >= total {
            return Ok((apps, true));
        }
        let second = self
            .page(1, count, defaults)
            .await
            .map_err(CallError::into_write)?;
        let ids = |p: &[LiveApp]| p.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
        let (a, b) = (ids(&first), ids(&second));
        // (next Start, its step): 1-based pages, offsets, 0-based pages.
        let (mut start, step) = if first.is_empty() || a == b {
            (2, 1)
        } else if a.get(1).is_some() && a.get(1) == b.first() {
            (count, count)
        } else {
            (2, 1)
        };
        add(&mut apps, &second);
        let budget = (total.div_ceil(count.max(1)) + 2).min(MAX_PAGES);
        let mut requests = 2;
        while apps.len() < total && requests < budget {
            let page = self
                .page(start, count, defaults)
                .await
                .map_err(CallError::into_write)?;
            requests += 1;
            let new = add(&mut apps, &page);
            if page.len() < count || new == 0 {
                break;
            }
            start += step;
        }
        Ok((apps, false))
    }
}
