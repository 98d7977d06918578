//! Starting a set of simulators, the one start-up path of `appform sandbox`
//! and of `--sandbox`: each simulator is restored from the state file when it
//! has an entry for it (else fresh, with the demo apps on request), served on
//! its own thread, and its state written back by [`Sandbox::save`].

use std::net::SocketAddr;

use axum::Router;
use serde_json::Value;

use super::awx::{AwxOptions, AwxSim};
use super::gateway::{GatewayOptions, GatewaySim};
use super::state_file::StateFile;
use super::tpp::{TppOptions, TppSim};
use super::whm::{WhmOptions, WhmSim};
use super::{BackgroundServer, Faults, SandboxError, Simulator, serve_in_background};
use crate::model::Kind;

/// How one simulator starts: its kind with its users and tokens.
#[derive(Debug, Clone)]
pub enum SimOptions {
    Awx(AwxOptions),
    Gateway(GatewayOptions),
    Tpp(TppOptions),
    Whm(WhmOptions),
}

impl SimOptions {
    pub fn kind(&self) -> Kind {
        match self {
            SimOptions::Awx(_) => Kind::Awx,
            SimOptions::Gateway(_) => Kind::Gateway,
            SimOptions::Tpp(_) => Kind::Tpp,
            SimOptions::Whm(_) => Kind::Whm,
        }
    }
}

/// One simulator to start, on `addr` (port 0: any free port).
#[derive(Debug, Clone)]
pub struct SimSpec {
    pub addr: SocketAddr,
    pub options: SimOptions,
}

/// A simulator of any kind.
#[derive(Clone)]
pub enum AnySim {
    Awx(AwxSim),
    Gateway(GatewaySim),
    Tpp(TppSim),
    Whm(WhmSim),
}

impl AnySim {
    fn build(
        options: SimOptions,
        saved: Option<&Value>,
        demo: bool,
    ) -> Result<AnySim, SandboxError> {
        fn one<S: Simulator>(
            options: S::Options,
            saved: Option<&Value>,
            demo: bool,
        ) -> Result<S, SandboxError> {
            match saved {
                Some(state) => S::from_state(options, state),
                None => {
                    let sim = S::start(options);
                    if demo {
                        sim.add_demo_apps();
                    }
                    Ok(sim)
                }
            }
        }
        Ok(match options {
            SimOptions::Awx(o) => AnySim::Awx(one(o, saved, demo)?),
            SimOptions::Gateway(o) => AnySim::Gateway(one(o, saved, demo)?),
            SimOptions::Tpp(o) => AnySim::Tpp(one(o, saved, demo)?),
            SimOptions::Whm(o) => AnySim::Whm(one(o, saved, demo)?),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            AnySim::Awx(_) => Kind::Awx,
            AnySim::Gateway(_) => Kind::Gateway,
            AnySim::Tpp(_) => Kind::Tpp,
            AnySim::Whm(_) => Kind::Whm,
        }
    }

    fn routes(&self) -> Router {
        match self {
            AnySim::Awx(s) => s.routes(),
            AnySim::Gateway(s) => s.routes(),
            AnySim::Tpp(s) => s.routes(),
            AnySim::Whm(s) => s.routes(),
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<super::LoggedRequest> {
        match self {
            AnySim::Awx(s) => s.requests(),
            AnySim::Gateway(s) => s.requests(),
            AnySim::Tpp(s) => s.requests(),
            AnySim::Whm(s) => s.requests(),
        }
    }

    pub fn clear_requests(&self) {
        match self {
            AnySim::Awx(s) => s.clear_requests(),
            AnySim::Gateway(s) => s.clear_requests(),
            AnySim::Tpp(s) => s.clear_requests(),
            AnySim::Whm(s) => s.clear_requests(),
        }
    }

    pub fn state_json(&self) -> Value {
        match self {
            AnySim::Awx(s) => s.state_json(),
            AnySim::Gateway(s) => s.state_json(),
            AnySim::Tpp(s) => s.state_json(),
            AnySim::Whm(s) => s.state_json(),
        }
    }
}

/// A running simulator.
pub struct Running {
    pub sim: AnySim,
    pub server: BackgroundServer,
}

impl Running {
    /// The line `appform sandbox` prints for it (tests read these lines).
    pub fn banner(&self) -> String {
        let url = self.server.url();
        match self.sim.kind() {
            Kind::Awx => format!("AWX simulator (AWX 24.6.1) at {url}"),
            Kind::Gateway => format!("AAP gateway simulator (django-ansible-base) at {url}"),
            Kind::Tpp => format!("Venafi TPP simulator at {url}"),
            Kind::Whm => format!("cPanel WHM simulator at {url}"),
        }
    }
}

/// How to log in to a simulator of `kind` started with its default options.
pub fn default_login(kind: Kind) -> String {
    match kind {
        Kind::Awx => {
            let awx = AwxOptions::default();
            format!(
                "AWX: Basic auth {} / {}; Bearer token: {}; organization 1: Default",
                awx.admin_username,
                awx.admin_password,
                awx.admin_tokens.first().map(String::as_str).unwrap_or("")
            )
        }
        Kind::Gateway => {
            let gateway = GatewayOptions::default();
            format!(
                "gateway: Basic auth {} / {}; Bearer token: {}; read-only token: {}; organization 1: Default",
                gateway.admin_username,
                gateway.admin_password,
                gateway
                    .admin_tokens
                    .first()
                    .map(String::as_str)
                    .unwrap_or(""),
                gateway
                    .read_tokens
                    .first()
                    .map(String::as_str)
                    .unwrap_or("")
            )
        }
        Kind::Tpp => {
            let tpp = TppOptions::default();
            format!(
                "TPP: VEDAuth user {} (any client_id); static Bearer token: {}",
                tpp.users
                    .iter()
                    .next()
                    .map(|(u, p)| format!("{u} / {p}"))
                    .unwrap_or_default(),
                tpp.static_tokens.first().map(String::as_str).unwrap_or("")
            )
        }
        Kind::Whm => {
            let whm = WhmOptions::default();
            let (user, (token, password)) = whm
                .users
                .iter()
                .find_map(|(u, logins)| Some((u.clone(), logins.first()?.clone())))
                .unwrap_or_default();
            format!(
                "WHM: user {user}: API token {token} (Authorization: whm {user}:TOKEN), or Basic {user} / {password}"
            )
        }
    }
}

/// Simulators running until dropped.
pub struct Sandbox {
    pub running: Vec<Running>,
    state: Option<StateFile>,
}

impl Sandbox {
    /// Starts every simulator of `specs` in order. Specs on fixed ports take
    /// their saved state first; those on ephemeral ports then take what is left.
    pub fn start(
        specs: Vec<SimSpec>,
        mut state: Option<StateFile>,
        demo: bool,
        faults: Faults,
    ) -> Result<Sandbox, SandboxError> {
        let mut saved: Vec<Option<Value>> = vec![None; specs.len()];
        for ephemeral in [false, true] {
            for (spec, slot) in specs.iter().zip(saved.iter_mut()) {
                if (spec.addr.port() == 0) != ephemeral {
                    continue;
                }
                let url = format!("http://{}", spec.addr);
                *slot = state
                    .as_mut()
                    .and_then(|s| s.take(spec.options.kind(), &url, ephemeral));
            }
        }
        let mut running = Vec::new();
        for (spec, saved) in specs.into_iter().zip(saved) {
            let kind = spec.options.kind();
            let sim =
                AnySim::build(spec.options, saved.as_ref(), demo).map_err(|e| match &state {
                    Some(s) => SandboxError::InStateFile {
                        path: s.path().to_path_buf(),
                        source: Box::new(e),
                    },
                    None => e,
                })?;
            let server =
                serve_in_background(spec.addr, sim.routes(), faults).map_err(|source| {
                    SandboxError::Bind {
                        kind: kind.as_str().to_uppercase(),
                        addr: spec.addr,
                        source,
                    }
                })?;
            running.push(Running { sim, server });
        }
        Ok(Sandbox { running, state })
    }

    /// Writes every simulator's state to the state file, if there is one.
    pub fn save(&self) -> Result<(), SandboxError> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        let states: Vec<(Kind, String, Value)> = self
            .running
            .iter()
            .map(|r| (r.sim.kind(), r.server.url(), r.sim.state_json()))
            .collect();
        state.save(&states)
    }

    pub fn state_path(&self) -> Option<&std::path::Path> {
        self.state.as_ref().map(StateFile::path)
    }
}
