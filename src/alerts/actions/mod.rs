//! Native alert actions: mail over SMTP, heartbeat/Pacemaker failover, LVS and HAProxy
//! pools, Alertmanager. Each takes an `AlertCall` and reports an `Outcome`.
//!
//! Selection (`select`): `mail.alert` is native when the alertdir lookup found Debian's
//! stock script or nothing (a site's own mail.alert earlier on alertdir wins); the names
//! starting with `monrs-` are always native. docs/ACTIONS.md documents every option.

pub mod alertmanager;
pub(crate) mod common;
pub mod failover;
pub mod mail;
pub mod pool;

use std::path::Path;
use std::time::Duration;

use super::{AlertCall, Outcome};

pub use mail::STOCK_MAIL_ALERT;
pub use pool::PoolState;

/// The action names monrs provides natively (besides `mail.alert`).
pub const NATIVE_NAMES: [&str; 6] = [
    "monrs-mail",
    "monrs-hb-standby",
    "monrs-crm-standby",
    "monrs-ipvs",
    "monrs-haproxy",
    "monrs-alertmanager",
];

/// Bound on one delivery when the caller gives none; each action keeps its own tighter
/// bounds inside it (mail retries, command deadlines, read-back time).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// A native action selected for an alert line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    name: String,
    inner: Inner,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Inner {
    Mail(mail::MailAction),
    Failover(failover::FailoverAction),
    Pool(pool::PoolAction),
    Alertmanager(alertmanager::AlertmanagerAction),
    /// A native name with arguments that do not parse: every delivery fails with this.
    Invalid(String),
}

/// The native action for `alert NAME ARGS...`, if monrs has one for NAME and should use
/// it (`script` is where the alertdir lookup found a script of that name, if anywhere;
/// `args` are the quotewords-split arguments after the name).
pub fn select(name: &str, args: &[String], script: Option<&Path>) -> Option<Action> {
    let inner = match name {
        "mail.alert" => {
            let mailer = match script {
                None => "monrs mail.alert".to_string(),
                Some(p) if is_stock_mail_alert(p) => p.display().to_string(),
                Some(_) => return None,
            };
            Inner::Mail(mail::MailAction::new(mailer))
        }
        "monrs-mail" => Inner::Mail(mail::MailAction::new("monrs-mail")),
        "monrs-hb-standby" => failover::FailoverAction::parse(failover::Manager::Heartbeat, args)
            .map_or_else(Inner::Invalid, Inner::Failover),
        "monrs-crm-standby" => failover::FailoverAction::parse(failover::Manager::Pacemaker, args)
            .map_or_else(Inner::Invalid, Inner::Failover),
        "monrs-ipvs" => pool::lvs::LvsPool::parse(args)
            .map_or_else(Inner::Invalid, |p| Inner::Pool(pool::PoolAction::Lvs(p))),
        "monrs-haproxy" => pool::haproxy::HaproxyPool::parse(args)
            .map_or_else(Inner::Invalid, |p| {
                Inner::Pool(pool::PoolAction::Haproxy(p))
            }),
        "monrs-alertmanager" => alertmanager::AlertmanagerAction::parse(args)
            .map_or_else(Inner::Invalid, Inner::Alertmanager),
        _ => return None,
    };
    Some(Action {
        name: name.to_string(),
        inner,
    })
}

/// Whether `script` is Debian's own mail.alert (possibly reached through a symlink).
fn is_stock_mail_alert(script: &Path) -> bool {
    let stock = Path::new(STOCK_MAIL_ALERT);
    if script == stock {
        return true;
    }
    match (script.canonicalize(), stock.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl Action {
    /// The alert name this action was selected for.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the alert line's arguments are unusable, for config checks and the log at
    /// load time (deliveries of such an action fail with the same text).
    pub fn config_error(&self) -> Option<&str> {
        match &self.inner {
            Inner::Invalid(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the engine should call `reconcile` for this action at start and after a
    /// reload (pool actions: the pool must match the services' current state).
    pub fn reconciles(&self) -> bool {
        matches!(self.inner, Inner::Pool(_))
    }

    /// Deliver one alert; never panics, reports what happened.
    pub async fn deliver(&self, call: &AlertCall) -> Outcome {
        self.deliver_within(call, DEFAULT_DEADLINE).await
    }

    /// Deliver one alert within `limit` (the engine's alert timeout). At the limit the
    /// delivery is abandoned (child processes killed) and reported as failed.
    pub async fn deliver_within(&self, call: &AlertCall, limit: Duration) -> Outcome {
        let work = async {
            match &self.inner {
                Inner::Mail(m) => m.deliver(call).await,
                Inner::Failover(f) => f.deliver(call).await,
                Inner::Pool(p) => p.deliver(call).await,
                Inner::Alertmanager(a) => a.deliver(call).await,
                Inner::Invalid(e) => Outcome {
                    ok: false,
                    detail: format!("{}: {e}", self.name),
                },
            }
        };
        self.bounded(work, limit).await
    }

    /// Converge the pool this action manages with a service's current state: hosts in
    /// `state.down` out, the other hosts in. Non-pool actions report that there is
    /// nothing to do.
    pub async fn reconcile(&self, state: &PoolState<'_>) -> Outcome {
        match &self.inner {
            Inner::Pool(p) => self.bounded(p.reconcile(state), DEFAULT_DEADLINE).await,
            Inner::Invalid(e) => Outcome {
                ok: false,
                detail: format!("{}: {e}", self.name),
            },
            _ => Outcome {
                ok: true,
                detail: format!("{}: nothing to reconcile", self.name),
            },
        }
    }

    async fn bounded(
        &self,
        work: impl std::future::Future<Output = Outcome>,
        limit: Duration,
    ) -> Outcome {
        match tokio::time::timeout(limit, work).await {
            Ok(o) => o,
            Err(_) => Outcome {
                ok: false,
                detail: format!(
                    "{}: abandoned after {}s (alert deadline)",
                    self.name,
                    limit.as_secs_f64()
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mail_alert_is_native_only_for_the_stock_script_or_none() {
        assert!(select("mail.alert", &[], None).is_some());
        assert!(select("mail.alert", &[], Some(Path::new(STOCK_MAIL_ALERT))).is_some());
        assert!(
            select(
                "mail.alert",
                &[],
                Some(Path::new("/etc/mon/alert.d/mail.alert"))
            )
            .is_none()
        );
        assert!(select("file.alert", &[], None).is_none());
    }

    fn call(kind: crate::alerts::AlertKind, env: &[(&str, &str)]) -> AlertCall {
        AlertCall {
            kind,
            redistribute: false,
            group: "g".into(),
            service: "s".into(),
            period: None,
            name: "x".into(),
            raw_args: String::new(),
            args: Vec::new(),
            hosts: v(&["h1"]),
            time: 1_700_000_000,
            stdin: bytes::Bytes::from_static(b"h1\n"),
            summary: "h1".into(),
            env: env
                .iter()
                .map(|(k, val)| (k.to_string(), val.to_string()))
                .collect(),
        }
    }

    #[tokio::test]
    async fn a_delivery_is_abandoned_at_the_callers_deadline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let statedir = dir.path().display().to_string();
        // Every cluster command "hangs" for 30 s.
        let a = select(
            "monrs-hb-standby",
            &v(&["--exec-prefix", "sh -c 'sleep 30' --"]),
            None,
        )
        .expect("native");
        let start = std::time::Instant::now();
        let o = a
            .deliver_within(
                &call(
                    crate::alerts::AlertKind::Failure,
                    &[("MON_STATEDIR", &statedir)],
                ),
                Duration::from_millis(500),
            )
            .await;
        assert!(!o.ok);
        assert!(o.detail.contains("abandoned after 0.5s"), "{}", o.detail);
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn invalid_arguments_fail_every_delivery_with_the_reason() {
        let a = select("monrs-ipvs", &v(&["-V", "nowhere"]), None).expect("native");
        let o = a
            .deliver(&call(crate::alerts::AlertKind::Failure, &[]))
            .await;
        assert!(!o.ok);
        assert!(
            o.detail.starts_with("monrs-ipvs: -V 'nowhere'"),
            "{}",
            o.detail
        );
    }

    #[tokio::test]
    async fn kinds_without_an_effect_report_so() {
        let a = select("monrs-crm-standby", &[], None).expect("native");
        let o = a.deliver(&call(crate::alerts::AlertKind::Ack, &[])).await;
        assert!(
            o.ok && o.detail == "ack alert: nothing to do",
            "{}",
            o.detail
        );
        let o = a.deliver(&call(crate::alerts::AlertKind::Up, &[])).await;
        assert!(o.ok && o.detail.contains("no failback"), "{}", o.detail);
        let h = select(
            "monrs-haproxy",
            &v(&["-b", "be", "-s", "/nonexistent"]),
            None,
        )
        .expect("native");
        let o = h
            .deliver(&call(crate::alerts::AlertKind::Startup, &[]))
            .await;
        assert!(o.ok && o.detail.contains("pool unchanged"), "{}", o.detail);
        let n = select(
            "monrs-alertmanager",
            &v(&["-u", "http://127.0.0.1:1"]),
            None,
        )
        .expect("native");
        let o = n
            .deliver(&call(crate::alerts::AlertKind::Disable, &[]))
            .await;
        assert!(o.ok && o.detail.contains("nothing to post"), "{}", o.detail);
    }

    #[test]
    fn own_names_are_always_native_and_report_bad_arguments() {
        for n in NATIVE_NAMES {
            let a = select(n, &[], Some(Path::new("/somewhere/else"))).expect("native");
            assert_eq!(a.name(), n);
        }
        let bad = select("monrs-haproxy", &v(&["-x"]), None).expect("native");
        assert!(bad.config_error().is_some_and(|e| e.contains("-x")));
        assert!(
            select("monrs-ipvs", &v(&["-V", "1.2.3.4:80"]), None)
                .expect("native")
                .reconciles()
        );
        assert!(
            select("monrs-hb-standby", &[], None)
                .expect("native")
                .config_error()
                .is_none()
        );
    }
}
