//! Which server instances a command works on (`--server` globs), and fetching
//! their live state in parallel. The only place that fans out over servers.

use crate::model::{Config, Instance, LiveState, Server};
use crate::provider::{Client, ConnectOptions, SecretSource};

/// One server instance to work on.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub server: &'a Server,
    pub instance: &'a Instance,
}

/// `--replace` and `--rotate` requests as patterns, each of which must name
/// an application of the selected servers (a bare `--rotate`, every
/// application due, names none). `Err` says which names nothing, or which
/// is not a valid glob.
pub fn replace_requests(
    replace: &[String],
    rotate: &[String],
    targets: &[Target<'_>],
) -> Result<crate::plan::ForcedReplacements, String> {
    use crate::plan::{Asked, ForcedReplacements};
    let forced = ForcedReplacements::parse(replace).and_then(|f| f.with_rotations(rotate))?;
    let named = replace.iter().map(|r| ("--replace", r)).chain(
        rotate
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| ("--rotate", r)),
    );
    for (flag, request) in named {
        let one = ForcedReplacements::parse(std::slice::from_ref(request))?;
        let hit = targets.iter().any(|t| {
            t.server
                .apps
                .iter()
                .any(|a| one.asked(&t.server.name, &t.instance.name, &a.key) == Asked::Replace)
        });
        if !hit {
            return Err(format!(
                "{flag} `{request}` matches no application of the selected servers"
            ));
        }
    }
    Ok(forced)
}

/// Which shard an instance belongs to: FNV-1a (64 bit) of its name, modulo
/// the shard count. Stable across runs, machines and versions.
pub fn shard_of(instance: &str, count: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in instance.as_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(count.max(1))) as u32
}

/// Keeps the targets in shard `index` (1-based) of `count`.
pub fn in_shard<'a>(targets: Vec<Target<'a>>, index: u32, count: u32) -> Vec<Target<'a>> {
    targets
        .into_iter()
        .filter(|t| shard_of(&t.instance.name, count) + 1 == index)
        .collect()
}

/// The instances whose server or instance name matches one of `globs` (all
/// when none is given), in config order. A glob that matches nothing is an error.
pub fn select<'a>(config: &'a Config, globs: &[String]) -> Result<Vec<Target<'a>>, String> {
    let mut patterns = Vec::new();
    for g in globs {
        let p = glob::Pattern::new(g)
            .map_err(|e| format!("--server `{g}` is not a valid glob: {}", e.msg))?;
        patterns.push((g, p));
    }
    let mut out = Vec::new();
    let mut used = vec![false; patterns.len()];
    for server in &config.servers {
        for instance in &server.instances {
            let mut hit = patterns.is_empty();
            for (i, (_, p)) in patterns.iter().enumerate() {
                if p.matches(&server.name) || p.matches(&instance.name) {
                    hit = true;
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                }
            }
            if hit {
                out.push(Target { server, instance });
            }
        }
    }
    let unused: Vec<&str> = patterns
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|((g, _), _)| g.as_str())
        .collect();
    if !unused.is_empty() {
        let known: Vec<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "--server {} matches no server (servers: {})",
            unused
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", "),
            known.join(", ")
        ));
    }
    Ok(out)
}

/// A target with its connection and what it holds.
pub struct Fetched<'a> {
    pub target: Target<'a>,
    pub client: Option<Client>,
    pub live: Result<LiveState, crate::provider::Error>,
}

/// Connects to and reads every target, `parallelism` at a time, in target
/// order. `apps` (`--app` globs) narrows what a `listing: managed` server
/// is asked for; every other read is whole.
pub async fn fetch_all<'a>(
    targets: &[Target<'a>],
    secrets: &dyn SecretSource,
    options: ConnectOptions,
    parallelism: usize,
    apps: &[glob::Pattern],
) -> Vec<Fetched<'a>> {
    crate::progress::begin("servers read", targets.len() as u64);
    let fetched = crate::fanout::in_order(
        targets.iter().copied().map(|target| async move {
            let fetched =
                match Client::connect(target.server, target.instance, secrets, options).await {
                    Ok(client) => {
                        let live = client.fetch_for(target.server, apps).await;
                        Fetched {
                            target,
                            client: Some(client),
                            live,
                        }
                    }
                    Err(e) => Fetched {
                        target,
                        client: None,
                        live: Err(e),
                    },
                };
            crate::progress::step();
            fetched
        }),
        parallelism,
    )
    .await;
    crate::progress::end();
    fetched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_even_and_stable() {
        let names: Vec<String> = (0..500)
            .map(|i| format!("whm-fleet@whm{i:03}.example.com:2087"))
            .collect();
        assert!(names.iter().all(|n| shard_of(n, 7) < 7));
        let sizes: Vec<usize> = (0..7)
            .map(|i| names.iter().filter(|n| shard_of(n, 7) == i).count())
            .collect();
        assert!(sizes.iter().all(|s| *s > 40), "roughly even: {sizes:?}");
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c.
        assert_eq!(
            shard_of("a", u32::MAX),
            (0xaf63_dc4c_8601_ec8c_u64 % u64::from(u32::MAX)) as u32
        );
        assert_eq!(shard_of("anything", 1), 0);
        // Pinned: a CI matrix keeps the same split from one version to the next.
        let pinned: Vec<u32> = names.iter().take(6).map(|n| shard_of(n, 7)).collect();
        assert_eq!(pinned, PINNED_SHARDS, "the shard of an instance changed");
    }

    const PINNED_SHARDS: [u32; 6] = [2, 0, 2, 0, 3, 2];

    #[test]
    fn the_shards_of_a_config_are_disjoint_and_cover_it() {
        let urls: String = (0..40)
            .map(|i| format!("        - https://whm{i:02}.example.com:2087\n"))
            .collect();
        let yaml = format!(
            "servers:\n  fleet:\n    whm:\n      urls:\n{urls}      auth: {{username: root, token: env:T}}\n      applications: {{}}\n  single:\n    awx:\n      url: https://awx.example.com\n      auth: {{token: env:T}}\n      applications: {{}}\n"
        );
        let config = crate::config::load_files(
            std::path::Path::new(""),
            vec![(std::path::PathBuf::from("c.yaml"), yaml.into_bytes())],
        )
        .unwrap();
        let all: Vec<String> = select(&config, &[])
            .unwrap()
            .iter()
            .map(|t| t.instance.name.clone())
            .collect();
        assert_eq!(all.len(), 41);
        let mut covered: Vec<String> = Vec::new();
        for index in 1..=4 {
            let shard: Vec<String> = in_shard(select(&config, &[]).unwrap(), index, 4)
                .iter()
                .map(|t| t.instance.name.clone())
                .collect();
            assert!(!shard.is_empty(), "shard {index} of 4 is empty");
            assert!(shard.iter().all(|n| !covered.contains(n)), "shards overlap");
            covered.extend(shard);
        }
        covered.sort();
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(covered, expected, "the shards cover the config");
    }
}
