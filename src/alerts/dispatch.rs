//! Alert delivery: where an alert goes (script or native action) and per-service ordered
//! delivery, so that a down alert and its upalert never swap.
//!
//! The rule: the alerts of one decision (one batch) start together and run concurrently,
//! as mon runs them; the next batch of the same service starts only when every alert of the
//! previous batch has finished or been killed at its timeout. Services do not wait for
//! each other, and nothing here ever blocks the engine.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::actions::Action;
use super::{AlertCall, Outcome};

/// Where one alert is delivered.
#[derive(Debug, Clone)]
pub enum AlertTarget {
    /// An alert.d script, found on the alertdir path.
    Script(PathBuf),
    /// A native action; `script` is the alertdir script of the same name, if any.
    Native {
        action: Arc<Action>,
        script: Option<PathBuf>,
    },
}

impl AlertTarget {
    /// The path shown in logs and the alert history (mon shows the full script path).
    pub fn display_path(&self, name: &str) -> String {
        match self {
            AlertTarget::Script(p) => p.display().to_string(),
            AlertTarget::Native {
                script: Some(p), ..
            } => p.display().to_string(),
            AlertTarget::Native { script: None, .. } => name.to_string(),
        }
    }
}

/// One alert call and its target, as decided.
#[derive(Debug, Clone)]
pub struct PlannedAlert {
    pub call: AlertCall,
    pub target: AlertTarget,
}

/// What became of one delivered alert (sent back to the engine for its records).
#[derive(Debug, Clone)]
pub struct Delivered {
    pub group: String,
    pub service: String,
    pub kind: super::AlertKind,
    pub name: String,
    pub time: i64,
    pub outcome: Outcome,
}

/// Delivery settings.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Longest an alert may run before its process group is killed.
    pub timeout: Duration,
}

/// Runs batches in order per service. Owned by the engine task; cheap to call.
pub struct Dispatcher {
    opts: DeliveryOptions,
    queues: HashMap<(String, String), mpsc::UnboundedSender<Vec<PlannedAlert>>>,
    done: mpsc::UnboundedSender<Delivered>,
}

impl Dispatcher {
    /// `done` receives one `Delivered` per alert when it finishes.
    pub fn new(opts: DeliveryOptions, done: mpsc::UnboundedSender<Delivered>) -> Self {
        Dispatcher {
            opts,
            queues: HashMap::new(),
            done,
        }
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        self.opts.timeout = timeout;
    }

    /// Queue one decision's alerts for `group`/`service`.
    pub fn submit(&mut self, group: &str, service: &str, batch: Vec<PlannedAlert>) {
        if batch.is_empty() {
            return;
        }
        let key = (group.to_string(), service.to_string());
        let mut batch = Some(batch);
        if let Some(tx) = self.queues.get(&key) {
            match tx.send(batch.take().unwrap_or_default()) {
                Ok(()) => return,
                // The worker is gone (its runtime is shutting down): start a new one.
                Err(e) => batch = Some(e.0),
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(batch.unwrap_or_default());
        tokio::spawn(worker(rx, self.opts.timeout, self.done.clone()));
        self.queues.insert(key, tx);
    }

    /// Deliver alerts outside any queue (test alerts: they must not wait behind a hung
    /// alert of the same service).
    pub fn submit_unordered(&self, batch: Vec<PlannedAlert>) {
        if batch.is_empty() {
            return;
        }
        tokio::spawn(run_batch(batch, self.opts.timeout, self.done.clone()));
    }

    /// Forget the queue of a service that no longer exists (its pending alerts still run).
    pub fn forget(&mut self, group: &str, service: &str) {
        self.queues
            .remove(&(group.to_string(), service.to_string()));
    }
}

async fn worker(
    mut rx: mpsc::UnboundedReceiver<Vec<PlannedAlert>>,
    timeout: Duration,
    done: mpsc::UnboundedSender<Delivered>,
) {
    while let Some(batch) = rx.recv().await {
        run_batch(batch, timeout, done.clone()).await;
    }
}

async fn run_batch(
    batch: Vec<PlannedAlert>,
    timeout: Duration,
    done: mpsc::UnboundedSender<Delivered>,
) {
    let runs = batch.into_iter().map(|a| {
        let done = done.clone();
        async move {
            let outcome = deliver(&a, timeout).await;
            let _ = done.send(Delivered {
                group: a.call.group,
                service: a.call.service,
                kind: a.call.kind,
                name: a.call.name,
                time: a.call.time,
                outcome,
            });
        }
    });
    futures_util::future::join_all(runs).await;
}

/// Deliver one alert to its target, within `timeout`.
pub async fn deliver(a: &PlannedAlert, timeout: Duration) -> Outcome {
    match &a.target {
        AlertTarget::Script(path) => super::script::run(path, &a.call, timeout).await,
        AlertTarget::Native { action, .. } => {
            match tokio::time::timeout(timeout, action.deliver(&a.call)).await {
                Ok(o) => o,
                Err(_) => Outcome {
                    ok: false,
                    detail: format!("timed out after {}s", timeout.as_secs()),
                },
            }
        }
    }
}
