//! m4 preprocessing (`-M [PROG]`, or a config whose name ends in `.m4`): run the real
//! preprocessor and read its output, as mon does with `open(CFG, "$m4 $CF |")`.

use std::path::Path;
use std::process::{Command, Stdio};

use super::ConfigError;

/// Run `PROG FILE` through the shell (so `-M 'm4 -I dir'` works as it does for mon) and
/// return its standard output. An empty `prog` means `m4`.
pub(crate) fn run(prog: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    let prog = if prog.trim().is_empty() { "m4" } else { prog };
    // The file is passed as "$1" so that a path with blanks stays one word (mon would
    // split it); the program string is shell text, like mon's.
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{prog} \"$1\""))
        .arg("sh")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            ConfigError::file(
                path,
                format!("cannot start the m4 preprocessor `{prog}` through /bin/sh: {e}"),
                Some(format!(
                    "could not open m4 pipe of cf file: {}: {e}",
                    path.display()
                )),
            )
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let status = match out.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        };
        return Err(ConfigError::file(
            path,
            format!(
                "the m4 preprocessor `{prog}` failed ({status}): {}",
                stderr.trim()
            ),
            Some(
                "Could not open pipe to m4 (check that m4 is properly installed and in your PATH): "
                    .to_string(),
            ),
        ));
    }
    Ok(out.stdout)
}
