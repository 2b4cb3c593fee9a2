//! Alertmanager: failures become firing alerts (`POST /api/v2/alerts`), one per failing
//! host, and upalerts resolve them (same labels, `endsAt` = now). The labels depend only
//! on the service and host, so two monrs instances of an HA pair deduplicate in an
//! Alertmanager cluster.

use std::sync::OnceLock;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use super::common::{
    OptSpec, long_opt, one_line, opt, parse_duration, parse_opts, setting, split_hosts,
};
use crate::alerts::{AlertCall, AlertKind, Outcome};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertmanagerAction {
    /// Base URLs (`http://am:9093`); every one gets every alert.
    pub(crate) urls: Vec<String>,
    pub(crate) alertname: String,
    pub(crate) severity: String,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) generator_url: Option<String>,
    /// `endsAt` = now + ttl on firing alerts (None: Alertmanager's resolve_timeout).
    pub(crate) ttl: Option<Duration>,
    pub(crate) timeout: Duration,
}

const SPECS: &[OptSpec] = &[
    opt('u', "url", true),
    opt('a', "alertname", true),
    opt('S', "severity", true),
    opt('l', "label", true),
    opt('G', "generator-url", true),
    long_opt("ttl", true),
    long_opt("timeout", true),
];

/// Labels we set ourselves and that `-l` may not override.
const OWN_LABELS: [&str; 5] = ["alertname", "watch", "service", "host", "severity"];

const DETAIL_CAP: usize = 8 * 1024;

impl AlertmanagerAction {
    pub fn parse(args: &[String]) -> Result<AlertmanagerAction, String> {
        let p = parse_opts(SPECS, args)?;
        // URLs from -u and from bare words, each possibly a comma-separated list.
        let mut words = p.all("url");
        words.extend(p.positional.iter().map(String::as_str));
        let mut urls: Vec<String> = Vec::new();
        for u in words.iter().flat_map(|w| w.split(',')) {
            let u = u.trim().trim_end_matches('/');
            if !u.is_empty() && !urls.iter().any(|x| x == u) {
                urls.push(u.to_string());
            }
        }
        for u in &urls {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(format!("Alertmanager URL '{u}' is not http:// or https://"));
            }
        }
        let mut labels = Vec::new();
        for l in p.all("label") {
            let (k, v) = l
                .split_once('=')
                .filter(|(k, _)| valid_label_name(k))
                .ok_or_else(|| format!("-l '{l}' is not NAME=VALUE with a label name"))?;
            if OWN_LABELS.contains(&k) {
                return Err(format!("-l {k}: label {k} is set by the action"));
            }
            labels.push((k.to_string(), v.to_string()));
        }
        let alertname = p
            .last("alertname")
            .unwrap_or("MonServiceFailure")
            .to_string();
        if alertname.is_empty() {
            return Err("-a: empty alertname".to_string());
        }
        Ok(AlertmanagerAction {
            urls,
            alertname,
            severity: p.last("severity").unwrap_or("critical").to_string(),
            labels,
            generator_url: p.last("generator-url").map(str::to_string),
            ttl: p
                .last("ttl")
                .map(|t| parse_duration("--ttl", t))
                .transpose()?,
            timeout: match p.last("timeout") {
                Some(t) => parse_duration("--timeout", t)?,
                None => Duration::from_secs(5),
            },
        })
    }

    /// The alerts to post for one call: firing ones, then resolved ones. Hosts that are
    /// fine are resolved only when `active` (the hosts Alertmanager has an active alert
    /// for) lists them, so hosts that never fired do not show up as "resolved" in
    /// notifications; `None` (Alertmanager could not tell) resolves them all.
    pub(crate) fn payload(
        &self,
        call: &AlertCall,
        now: Timestamp,
        active: Option<&[String]>,
    ) -> Vec<Value> {
        let (failing, fine) = split_hosts(call);
        let (failing, fine) = match call.kind {
            AlertKind::Failure | AlertKind::Trap | AlertKind::TrapTimeout | AlertKind::Test => {
                (failing, fine)
            }
            _ => (Vec::new(), [failing, fine].concat()),
        };
        let hosts_or_blank = |v: Vec<String>, empty_ok: bool| {
            if v.is_empty() && empty_ok {
                vec![String::new()]
            } else {
                v
            }
        };
        let first_failure = setting(&call.env, "MON_FIRST_FAILURE")
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|t| *t > 0)
            .unwrap_or(call.time);
        let starts = Timestamp::from_second(first_failure).unwrap_or(now);
        let detail = detail_text(&call.stdin);
        let mut out = Vec::new();
        // A group with no hosts still gets one alert (host="").
        let firing = hosts_or_blank(failing, call.hosts.is_empty());
        let resolved: Vec<String> =
            hosts_or_blank(fine, call.hosts.is_empty() && firing.is_empty())
                .into_iter()
                .filter(|h| active.is_none_or(|a| a.contains(h)))
                .collect();
        let test = call.kind == AlertKind::Test;
        for h in firing {
            let mut a = Map::new();
            a.insert("labels".into(), self.labels_for(call, &h, test));
            let mut ann = Map::new();
            ann.insert("summary".into(), Value::String(call.summary.clone()));
            if !detail.is_empty() {
                ann.insert("detail".into(), Value::String(detail.clone()));
            }
            if let Some(d) = setting(&call.env, "MON_DESCRIPTION") {
                ann.insert("description".into(), Value::String(d));
            }
            a.insert("annotations".into(), Value::Object(ann));
            a.insert("startsAt".into(), Value::String(starts.to_string()));
            // A test alert must not stay active: it ends by itself after five minutes.
            let ends = if test {
                Some(Duration::from_secs(300))
            } else {
                self.ttl
            };
            if let Some(ttl) = ends
                && let Ok(sd) = SignedDuration::try_from(ttl)
                && let Ok(t) = now.checked_add(sd)
            {
                a.insert("endsAt".into(), Value::String(t.to_string()));
            }
            if let Some(g) = &self.generator_url {
                a.insert("generatorURL".into(), Value::String(g.clone()));
            }
            out.push(Value::Object(a));
        }
        if !test {
            for h in resolved {
                out.push(json!({
                    "labels": self.labels_for(call, &h, false),
                    "endsAt": now.to_string(),
                }));
            }
        }
        out
    }

    fn labels_for(&self, call: &AlertCall, host: &str, test: bool) -> Value {
        let mut l = Map::new();
        l.insert("alertname".into(), Value::String(self.alertname.clone()));
        l.insert("watch".into(), Value::String(call.group.clone()));
        l.insert("service".into(), Value::String(call.service.clone()));
        l.insert("host".into(), Value::String(host.to_string()));
        l.insert("severity".into(), Value::String(self.severity.clone()));
        for (k, v) in &self.labels {
            l.insert(k.clone(), Value::String(v.clone()));
        }
        if test {
            l.insert("monrs_test".into(), Value::String("true".into()));
        }
        Value::Object(l)
    }

    pub(crate) async fn deliver(&self, call: &AlertCall) -> Outcome {
        match call.kind {
            AlertKind::Failure
            | AlertKind::Trap
            | AlertKind::TrapTimeout
            | AlertKind::Test
            | AlertKind::Up => {}
            other => {
                return Outcome {
                    ok: true,
                    detail: format!("{} alert: nothing to post", other.env_name()),
                };
            }
        }
        let mut urls = self.urls.clone();
        if urls.is_empty()
            && let Some(env_urls) = setting(&call.env, "MONRS_ALERTMANAGER_URL")
        {
            urls = env_urls
                .split(',')
                .map(|u| u.trim().trim_end_matches('/').to_string())
                .filter(|u| !u.is_empty())
                .collect();
        }
        if urls.is_empty() {
            return Outcome {
                ok: false,
                detail: "no Alertmanager URL: give -u or set MONRS_ALERTMANAGER_URL".to_string(),
            };
        }
        let client = match client() {
            Ok(c) => c,
            Err(e) => {
                return Outcome {
                    ok: false,
                    detail: e,
                };
            }
        };
        let active = self.active_hosts(client, &urls, call).await;
        let body = Value::Array(self.payload(call, Timestamp::now(), active.as_deref()));
        if body.as_array().is_some_and(Vec::is_empty) {
            return Outcome {
                ok: true,
                detail: "nothing to post: no active alert to resolve".to_string(),
            };
        }
        let n = body.as_array().map_or(0, Vec::len);
        let posts = urls.iter().map(|u| post(client, u, &body, self.timeout));
        let results = futures_util::future::join_all(posts).await;
        let accepted = results.iter().filter(|r| r.is_ok()).count();
        let parts: Vec<String> = urls
            .iter()
            .zip(&results)
            .map(|(u, r)| match r {
                Ok(s) => format!("{u}: {s}"),
                Err(e) => format!("{u}: {e}"),
            })
            .collect();
        let what = if call.kind == AlertKind::Up {
            "resolved"
        } else {
            "posted"
        };
        Outcome {
            // One accepting member is enough: an Alertmanager cluster gossips the rest.
            ok: accepted > 0,
            detail: format!(
                "{what} {n} alerts to {accepted}/{} Alertmanagers: {}",
                urls.len(),
                parts.join("; ")
            ),
        }
    }
}

impl AlertmanagerAction {
    /// The `host` labels of this service's active alerts, from every Alertmanager that
    /// answers (None when none does).
    async fn active_hosts(
        &self,
        client: &reqwest::Client,
        urls: &[String],
        call: &AlertCall,
    ) -> Option<Vec<String>> {
        let filters = [
            ("alertname", self.alertname.as_str()),
            ("watch", call.group.as_str()),
            ("service", call.service.as_str()),
        ];
        let query: Vec<String> = filters
            .iter()
            .map(|(k, v)| {
                let m = format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
                format!("filter={}", percent_encode(&m))
            })
            .collect();
        let mut hosts: Option<Vec<String>> = None;
        for u in urls {
            let url = format!(
                "{u}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true&{}",
                query.join("&")
            );
            let Ok(resp) = client.get(&url).timeout(self.timeout).send().await else {
                continue;
            };
            if !resp.status().is_success() {
                continue;
            }
            let Ok(text) = resp.text().await else {
                continue;
            };
            let Ok(Value::Array(list)) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let found = hosts.get_or_insert_with(Vec::new);
            for a in list {
                if let Some(h) = a["labels"]["host"].as_str()
                    && !found.iter().any(|x| x == h)
                {
                    found.push(h.to_string());
                }
            }
        }
        hosts
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn valid_label_name(k: &str) -> bool {
    let mut c = k.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn detail_text(stdin: &[u8]) -> String {
    let rest = match stdin.iter().position(|&b| b == b'\n') {
        Some(i) => &stdin[i + 1..],
        None => &stdin[stdin.len()..],
    };
    let mut s = String::from_utf8_lossy(rest).into_owned();
    if s.len() > DETAIL_CAP {
        let mut cut = DETAIL_CAP;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n[truncated]");
    }
    s
}

fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // reqwest is built without a default crypto provider; the daemon installs
            // ring in main(), and this covers library users and tests.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .user_agent(concat!("monrs/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| format!("HTTP client: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    body: &Value,
    limit: Duration,
) -> Result<String, String> {
    let url = format!("{base}/api/v2/alerts");
    let bytes = serde_json::to_vec(body).map_err(|e| format!("JSON: {e}"))?;
    let mut last = String::new();
    for attempt in 1..=2 {
        let resp = client
            .post(&url)
            .header("content-type", "application/json")
            .body(bytes.clone())
            .timeout(limit)
            .send()
            .await;
        match resp {
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                if status.is_success() {
                    return Ok(format!("HTTP {}", status.as_u16()));
                }
                let e = format!("HTTP {}: {}", status.as_u16(), one_line(&text));
                // A 4xx is our payload's fault: the same request would fail again.
                if status.is_client_error() {
                    return Err(e);
                }
                last = e;
            }
            Err(e) => last = one_line(&format!("{e}: {}", source_text(&e))),
        }
        if attempt == 1 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    Err(last)
}

fn source_text(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut src = e.source();
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    fn call(kind: AlertKind, hosts: &[&str], summary: &str) -> AlertCall {
        AlertCall {
            kind,
            redistribute: false,
            group: "db-servers".into(),
            service: "mysql".into(),
            period: None,
            name: "monrs-alertmanager".into(),
            raw_args: String::new(),
            args: Vec::new(),
            hosts: v(hosts),
            time: 1_700_000_000,
            stdin: bytes::Bytes::from(format!("{summary}\nline two\n")),
            summary: summary.into(),
            env: vec![("MON_FIRST_FAILURE".into(), "1699999990".into())],
        }
    }

    #[test]
    fn failure_fires_failing_hosts_and_resolves_the_others() {
        let a = AlertmanagerAction::parse(&v(&["-u", "http://am:9093/", "-l", "team=dba"]))
            .expect("valid");
        let now = Timestamp::from_second(1_700_000_005).expect("ts");
        let p = a.payload(&call(AlertKind::Failure, &["db1", "db2"], "db2"), now, None);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0]["labels"]["host"], "db2");
        assert_eq!(p[0]["labels"]["team"], "dba");
        assert_eq!(p[0]["labels"]["watch"], "db-servers");
        assert_eq!(p[0]["startsAt"], "2023-11-14T22:13:10Z");
        assert_eq!(p[0]["annotations"]["detail"], "line two\n");
        assert!(p[0].get("endsAt").is_none());
        assert_eq!(p[1]["labels"]["host"], "db1");
        assert_eq!(p[1]["endsAt"], "2023-11-14T22:13:25Z");
        let up = a.payload(&call(AlertKind::Up, &["db1", "db2"], "db2"), now, None);
        assert_eq!(up.len(), 2);
        // Only hosts Alertmanager has an active alert for are resolved when it can tell.
        let active = vec!["db2".to_string()];
        let p = a.payload(
            &call(AlertKind::Failure, &["db1", "db2"], "db2"),
            now,
            Some(&active),
        );
        assert_eq!(p.len(), 1);
        let up = a.payload(
            &call(AlertKind::Up, &["db1", "db2"], "db2"),
            now,
            Some(&active),
        );
        assert_eq!(up.len(), 1);
        assert_eq!(up[0]["labels"]["host"], "db2");
        assert!(up.iter().all(|x| x["endsAt"] == "2023-11-14T22:13:25Z"));
    }

    #[test]
    fn bad_options() {
        assert!(AlertmanagerAction::parse(&v(&["-u", "am:9093"])).is_err());
        assert!(AlertmanagerAction::parse(&v(&["-l", "host=x"])).is_err());
        assert!(AlertmanagerAction::parse(&v(&["-l", "9x=y"])).is_err());
        assert!(AlertmanagerAction::parse(&v(&["--ttl", "later"])).is_err());
    }
}
