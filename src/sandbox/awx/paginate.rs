//! DRF page-number pagination with AWX's page-size cap and link rewriting.

use super::*;

// ------------------------------------------------------------------ pagination

/// `cap`: the server's `MAX_PAGE_SIZE` (200 by default; some sites lower it).
pub(super) fn paginate(req: &Req<'_>, items: Vec<Value>, cap: usize) -> Result<Value, Response> {
    let count = items.len();
    let raw_size = req.param("page_size");
    let (size, link_size): (usize, Option<String>) = match raw_size {
        None => (DEFAULT_PAGE_SIZE, None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > cap as i64 => (cap, Some(cap.to_string())),
            Ok(n) if n > 0 => (n as usize, Some(n.to_string())),
            Ok(n) => (DEFAULT_PAGE_SIZE, Some(n.to_string())),
            // AWX 24.6.1 bug (observed): a non-numeric page_size breaks the link
            // rewriting with a 500 once there is more than one page.
            Err(_) if count > DEFAULT_PAGE_SIZE => {
                return Err(html_response(StatusCode::INTERNAL_SERVER_ERROR, HTML_500));
            }
            Err(_) => (DEFAULT_PAGE_SIZE, None),
        },
    };
    // Zero or negative sizes fall back to the default but keep no links (observed).
    let no_links = matches!(raw_size.and_then(|s| s.parse::<i64>().ok()), Some(n) if n <= 0)
        && count <= DEFAULT_PAGE_SIZE;
    let pages = count.div_ceil(size).max(1);
    let page = match req.param("page") {
        None => 1,
        Some("last") => pages,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if n >= 1 && n <= pages => n,
            _ => {
                return Err(detail(
                    StatusCode::NOT_FOUND,
                    "Invalid page.",
                    Some(LIST_ALLOW),
                    true,
                ));
            }
        },
    };
    let results: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    if req
        .param("count_disabled")
        .is_some_and(|v| v == "1" || v == "true")
    {
        return Ok(json!({ "results": results }));
    }
    let link = |target: usize| -> String {
        let mut params: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "page" && k != "page_size")
            .cloned()
            .collect();
        params.push(("page".into(), target.to_string()));
        if let Some(s) = &link_size {
            params.push(("page_size".into(), s.clone()));
        }
        params.sort();
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            ser.append_pair(k, v);
        }
        format!("{}?{}", req.path, ser.finish())
    };
    let next = (page < pages && !no_links).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    Ok(json!({"count": count, "next": next, "previous": previous, "results": results}))
}
