//! Dependency expressions at run time: evaluating `depend`/`alertdepend`/`monitordepend`
//! against the services' current status, recursively, with mon's recursion limit.

use super::core::Core;
use crate::logging::{self, Prio};

impl Core {
    /// Evaluate service `i`'s dependency of `kind`: None when it has none, `Err` when it
    /// cannot be evaluated (logged; monrs then does not apply it).
    pub(crate) fn eval_dep(&mut self, i: usize, kind: DepKind) -> Option<Result<bool, String>> {
        let deps = &self.svcs[i].tab.deps;
        let (text, parsed) = match kind {
            DepKind::A => deps.a.as_ref()?,
            DepKind::M => deps.m.as_ref()?,
        };
        // A parse error was logged when the config was loaded.
        let (r, log) = match parsed {
            Ok(e) => (self.dep_value(e, kind, 0), true),
            Err(e) => (Err(e.clone()), false),
        };
        let text = text.clone();
        let svc = &mut self.svcs[i];
        match &r {
            Ok(v) => {
                svc.st.depend_status = Some(*v);
                svc.dep_error_logged = false;
            }
            // Once per episode: an `m` dependency is evaluated every second while held.
            Err(e) if log && !svc.dep_error_logged => {
                svc.dep_error_logged = true;
                logging::mon(
                    Prio::Notice,
                    &format!("eval error for dependency starting at {text}: {e}"),
                );
            }
            Err(_) => {}
        }
        Some(r)
    }

    pub(crate) fn dep_value(
        &self,
        e: &crate::depend::Expr,
        kind: DepKind,
        depth: u32,
    ) -> Result<bool, String> {
        if depth > self.cfg.globals.dep_recur_limit {
            return Err(format!("recursion too deep for ({})", e.text()));
        }
        let mut err: Option<String> = None;
        let v = e.eval(&mut |g, s| {
            let Some(j) = self.find(g, s) else {
                // mon counts an undefined service as failing, which mutes forever; monrs
                // counts it as up (the config check warns about it).
                return true;
            };
            if !self.svcs[j].st.op_status.is_dep_success() {
                return false;
            }
            let sub = match kind {
                DepKind::A => self.svcs[j].tab.deps.a.as_ref(),
                DepKind::M => self.svcs[j].tab.deps.m.as_ref(),
            };
            match sub {
                Some((_, Ok(sub))) => match self.dep_value(sub, kind, depth + 1) {
                    Ok(v) => v,
                    Err(x) => {
                        err.get_or_insert(x);
                        false
                    }
                },
                Some((_, Err(x))) => {
                    err.get_or_insert(x.clone());
                    false
                }
                None => true,
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(v),
        }
    }
}

/// Which dependency check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DepKind {
    A,
    M,
}
