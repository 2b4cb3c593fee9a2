//! Alert and failure history (in memory, `maxkeep`), `historicfile` (appended per counted
//! alert, reloaded at start and on reset with `historictime`), the downtime log's header,
//! and the background writer that does every file append/replace off the engine task.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use tokio::sync::{mpsc, oneshot};

use crate::logging::{Prio, mon};

/// The in-memory histories `list alerthist` / `list failurehist` show, oldest first.
///
/// mon's quirk is kept: the oldest entry is dropped only when the list is already longer
/// than maxkeep, so a list holds up to maxkeep+1 entries.
#[derive(Debug, Clone, Default)]
pub struct History {
    alerts: VecDeque<String>,
    failures: VecDeque<String>,
    maxkeep: usize,
}

impl History {
    pub fn new(maxkeep: usize) -> Self {
        History {
            alerts: VecDeque::new(),
            failures: VecDeque::new(),
            maxkeep,
        }
    }

    pub fn maxkeep(&self) -> usize {
        self.maxkeep
    }

    /// `set maxkeep N` (takes effect at the next push, as in mon).
    pub fn set_maxkeep(&mut self, n: usize) {
        self.maxkeep = n;
    }

    fn push(list: &mut VecDeque<String>, maxkeep: usize, line: String) {
        if list.len() > maxkeep {
            list.pop_front();
        }
        list.push_back(line);
    }

    pub fn push_alert(&mut self, line: String) {
        Self::push(&mut self.alerts, self.maxkeep, line);
    }

    pub fn push_failure(&mut self, line: String) {
        Self::push(&mut self.failures, self.maxkeep, line);
    }

    pub fn alerts(&self) -> impl Iterator<Item = &String> {
        self.alerts.iter()
    }

    pub fn failures(&self) -> impl Iterator<Item = &String> {
        self.failures.iter()
    }

    /// Replace the alert history (from `historicfile`).
    pub fn replace_alerts(&mut self, lines: Vec<String>) {
        self.alerts = lines.into();
    }
}

/// Parse `historicfile` content the way mon's `readhistoricfile` does: skip blank and `#`
/// lines, drop lines whose 4th field (the epoch) is older than `now - historictime` (when
/// `historictime` is non-zero), keep the last `maxkeep`.
pub fn parse_historic(text: &str, now: i64, historictime_secs: i64, maxkeep: usize) -> Vec<String> {
    let limit = if historictime_secs != 0 {
        now - historictime_secs
    } else {
        0
    };
    let mut out: Vec<String> = text
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with('#')
        })
        .filter(|l| {
            let epoch = l
                .split_whitespace()
                .nth(3)
                .map(crate::alerts::decide::perl_num)
                .unwrap_or(0);
            epoch >= limit
        })
        .map(str::to_string)
        .collect();
    if out.len() > maxkeep {
        out.drain(..out.len() - maxkeep);
    }
    out
}

/// Read and parse `historicfile`; a missing file is only logged (as mon does).
pub fn read_historic(
    path: &Path,
    now: i64,
    historictime_secs: i64,
    maxkeep: usize,
) -> Option<Vec<String>> {
    match std::fs::read(path) {
        Ok(b) => Some(parse_historic(
            &String::from_utf8_lossy(&b),
            now,
            historictime_secs,
            maxkeep,
        )),
        Err(e) => {
            mon(
                Prio::Err,
                &format!("Could not read history from {} : {e}", path.display()),
            );
            None
        }
    }
}

/// The header mon appends to the downtime log at start and at every reset.
pub fn dtlog_header(now: i64) -> String {
    format!(
        "#\n# downtime log start {now}\n# time back up, group, service, first failure, downtime, interval, summary\n#\n"
    )
}

/// Produces a file's new content on the writer thread (serialising off the engine task).
type Render = Box<dyn FnOnce() -> Vec<u8> + Send>;

enum WriteOp {
    Append(PathBuf, Vec<u8>, &'static str),
    Replace(PathBuf, Render),
    Flush(oneshot::Sender<()>),
}

/// Appends and atomic replaces, done in order on a background thread so the engine never
/// waits for a disk. Errors are logged with mon's wording.
#[derive(Clone)]
pub struct FileWriter {
    tx: mpsc::UnboundedSender<WriteOp>,
}

impl FileWriter {
    /// Start the writer (a dedicated thread; it ends when every handle is dropped).
    pub fn spawn() -> FileWriter {
        let (tx, mut rx) = mpsc::unbounded_channel::<WriteOp>();
        let spawned = std::thread::Builder::new()
            .name("monrs-files".into())
            .spawn(move || {
                while let Some(op) = rx.blocking_recv() {
                    match op {
                        WriteOp::Append(path, data, what) => {
                            if let Err(e) = append(&path, &data) {
                                mon(
                                    Prio::Err,
                                    &format!("could not append {what} to {}: {e}", path.display()),
                                );
                            }
                        }
                        WriteOp::Replace(path, render) => {
                            if let Err(e) = write_atomic(&path, &render()) {
                                mon(
                                    Prio::Err,
                                    &format!("could not write {}: {e}", path.display()),
                                );
                            }
                        }
                        WriteOp::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            mon(Prio::Err, &format!("could not start the file writer: {e}"));
        }
        FileWriter { tx }
    }

    /// Append `data` to `path`; `what` names the file in error messages.
    pub fn append(&self, path: &Path, data: impl Into<Vec<u8>>, what: &'static str) {
        let _ = self
            .tx
            .send(WriteOp::Append(path.to_path_buf(), data.into(), what));
    }

    /// Replace `path` atomically (write a temporary file, then rename it).
    pub fn replace(&self, path: &Path, data: Vec<u8>) {
        self.replace_with(path, move || data);
    }

    /// Replace `path` atomically with what `render` produces on the writer thread.
    pub fn replace_with(&self, path: &Path, render: impl FnOnce() -> Vec<u8> + Send + 'static) {
        let _ = self
            .tx
            .send(WriteOp::Replace(path.to_path_buf(), Box::new(render)));
    }

    /// Wait until everything queued so far is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(WriteOp::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

fn append(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(data)
}

/// Write `data` to `path` atomically: a temporary file in the same directory, fsync,
/// rename over the target.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_string());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_maxkeep_plus_one() {
        let mut h = History::new(3);
        for i in 0..10 {
            h.push_alert(format!("a{i}"));
            h.push_failure(format!("f{i}"));
        }
        let a: Vec<_> = h.alerts().cloned().collect();
        assert_eq!(a, vec!["a6", "a7", "a8", "a9"]);
        assert_eq!(h.failures().count(), 4);
    }

    #[test]
    fn historic_file_parsing() {
        let text = "# comment\n\nalert g s 100 /a (x) old\n  \nupalert g s 500 /a () new\nalert g s 600 /a () newer\n";
        assert_eq!(
            parse_historic(text, 1000, 0, 10),
            vec![
                "alert g s 100 /a (x) old",
                "upalert g s 500 /a () new",
                "alert g s 600 /a () newer"
            ]
        );
        assert_eq!(
            parse_historic(text, 1000, 550, 10),
            vec!["upalert g s 500 /a () new", "alert g s 600 /a () newer"]
        );
        assert_eq!(
            parse_historic(text, 1000, 0, 1),
            vec!["alert g s 600 /a () newer"]
        );
    }

    #[test]
    fn dtlog_header_format() {
        assert_eq!(
            dtlog_header(1795317177),
            "#\n# downtime log start 1795317177\n# time back up, group, service, first failure, downtime, interval, summary\n#\n"
        );
    }

    #[tokio::test]
    async fn writer_appends_and_replaces_in_order() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let w = FileWriter::spawn();
        let log = dir.path().join("downtime.log");
        w.append(&log, "one\n", "dtlog");
        w.append(&log, "two\n", "dtlog");
        let st = dir.path().join("state.json");
        w.replace(&st, b"{}".to_vec());
        w.replace(&st, b"{\"v\":2}".to_vec());
        w.flush().await;
        assert_eq!(std::fs::read_to_string(&log)?, "one\ntwo\n");
        assert_eq!(std::fs::read_to_string(&st)?, "{\"v\":2}");
        let leftovers = std::fs::read_dir(dir.path())?.count();
        assert_eq!(leftovers, 2, "no temporary files left");
        Ok(())
    }
}
