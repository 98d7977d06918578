//! Basic and Bearer authentication, and who the caller is.

use super::*;

/// Who is calling.
#[derive(Debug, Clone, Copy)]
pub(super) struct Principal {
    pub(super) user: u64,
    pub(super) superuser: bool,
    pub(super) write: bool,
}

pub(super) enum Auth {
    None,
    Invalid,
    User(Principal),
}

pub(super) fn authenticate(inner: &Inner, headers: &HeaderMap) -> Auth {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Auth::None;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let Some((user, pass)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Auth::Invalid;
        };
        match inner
            .state
            .users
            .iter()
            .find(|u| u.username == user && u.password == pass)
        {
            Some(u) => Auth::User(Principal {
                user: u.id,
                superuser: u.is_superuser,
                write: true,
            }),
            None => Auth::Invalid,
        }
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let token = rest.trim();
        if inner.options.admin_tokens.iter().any(|t| t == token) {
            return Auth::User(Principal {
                user: 1,
                superuser: true,
                write: true,
            });
        }
        match inner.state.tokens.iter().find(|t| t.token == token) {
            Some(t) => {
                let superuser = inner
                    .state
                    .users
                    .iter()
                    .any(|u| u.id == t.user && u.is_superuser);
                Auth::User(Principal {
                    user: t.user,
                    superuser,
                    write: t.scope.split_whitespace().any(|s| s == "write"),
                })
            }
            None => Auth::Invalid,
        }
    } else {
        Auth::Invalid
    }
}
