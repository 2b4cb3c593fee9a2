//! Load-balancer pool actions: take failing hosts out of a pool and put them back on
//! recovery, through LVS (`ipvsadm`) or HAProxy's runtime API, and converge a pool to a
//! known set of failing hosts (`reconcile`, for start and reload).

pub mod haproxy;
pub mod lvs;

use super::common::split_hosts;
use crate::alerts::{AlertCall, AlertKind, Outcome};

/// A configured pool action (`monrs-ipvs` or `monrs-haproxy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolAction {
    Lvs(lvs::LvsPool),
    Haproxy(haproxy::HaproxyPool),
}

/// What the engine knows about one service when it asks a pool to converge.
#[derive(Debug, Clone, Copy)]
pub struct PoolState<'a> {
    pub group: &'a str,
    pub service: &'a str,
    /// The hosts an alert for this service would get in `-h`.
    pub hosts: &'a [String],
    /// The subset of `hosts` currently failing (out of the pool).
    pub down: &'a [String],
    /// The service's `VAR=value` lines (PATH, `MONRS_*` settings).
    pub env: &'a [(String, String)],
}

/// The desired membership change for one delivery or reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Plan {
    pub(crate) remove: Vec<String>,
    pub(crate) keep: Vec<String>,
    pub(crate) dry_run: bool,
}

impl PoolAction {
    pub(crate) async fn deliver(&self, call: &AlertCall) -> Outcome {
        let dry_run = match call.kind {
            AlertKind::Failure | AlertKind::Trap | AlertKind::TrapTimeout | AlertKind::Up => false,
            AlertKind::Test => true,
            other => {
                return Outcome {
                    ok: true,
                    detail: format!("{} alert: pool unchanged", other.env_name()),
                };
            }
        };
        let (remove, keep) = split_hosts(call);
        let plan = Plan {
            remove,
            keep,
            dry_run,
        };
        self.apply(&plan, &call.env).await
    }

    pub(crate) async fn reconcile(&self, st: &PoolState<'_>) -> Outcome {
        let hosts = super::common::dedup(st.hosts);
        let plan = Plan {
            remove: hosts
                .iter()
                .filter(|h| st.down.contains(h))
                .cloned()
                .collect(),
            keep: hosts
                .iter()
                .filter(|h| !st.down.contains(h))
                .cloned()
                .collect(),
            dry_run: false,
        };
        self.apply(&plan, st.env).await
    }

    async fn apply(&self, plan: &Plan, env: &[(String, String)]) -> Outcome {
        match self {
            PoolAction::Lvs(p) => p.apply(plan, env).await,
            PoolAction::Haproxy(p) => p.apply(plan, env).await,
        }
    }
}
