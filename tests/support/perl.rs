//! Perl as an oracle: one `perl` process per batch of input lines, so thousands of cases
//! cost one start-up. Debian's `/usr/bin/perl` is used because Time::Period lives in its
//! library path (CI installs `libtime-period-perl`).

use std::io::Write;
use std::process::{Command, Stdio};

/// Run `script` with `input` on stdin and `env` added to the child's environment only;
/// return stdout's lines. Panics with Perl's stderr when it fails: an oracle that cannot
/// run must fail the test, never skip it.
pub fn run_lines(script: &str, env: &[(&str, &str)], input: &[u8]) -> Vec<String> {
    let mut child = Command::new("/usr/bin/perl")
        .arg("-e")
        .arg(script)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn /usr/bin/perl");
    let mut stdin = child.stdin.take().expect("perl stdin");
    let owned = input.to_vec();
    // Write from another thread: Perl's output could fill its pipe before we read it.
    let writer = std::thread::spawn(move || stdin.write_all(&owned));
    let out = child.wait_with_output().expect("wait for perl");
    writer
        .join()
        .expect("stdin writer thread")
        .expect("write perl stdin");
    assert!(
        out.status.success(),
        "perl failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Lower-case hex of `bytes`: a transport for arbitrary text (tabs, newlines) to Perl,
/// which reads it back with `pack("H*", ...)`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
