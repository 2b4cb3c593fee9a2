//! An `ipvsadm` recorder for LVS tests. This kernel has no IPVS (`ipvsadm` itself fails
//! with "Can't initialize ipvs: Protocol not available"), so the only honest test of an
//! ipvsadm-calling action is its exact argv: a PATH shim named `ipvsadm` appends each
//! argv to a log and answers as the kernel would for rules the test sets (exit status and
//! stderr, e.g. "Destination already exists"; the texts are those in /usr/sbin/ipvsadm's
//! error table, checked with `strings`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub struct IpvsShim {
    /// Directory holding the `ipvsadm` shim: put it first on PATH.
    pub bin: PathBuf,
    log: PathBuf,
    rules: PathBuf,
}

impl IpvsShim {
    pub fn new(dir: &Path) -> IpvsShim {
        let bin = dir.join("ipvs-shim");
        std::fs::create_dir_all(&bin).expect("shim dir");
        let log = dir.join("ipvsadm.argv");
        let rules = dir.join("ipvsadm.rules");
        std::fs::write(&rules, "").expect("rules");
        let script = format!(
            "#!/bin/sh\n\
             # argv recorder standing in for ipvsadm (no IPVS in this kernel)\n\
             line=\"\"\n\
             for a in \"$@\"; do line=\"$line$a\t\"; done\n\
             printf '%s\\n' \"$line\" >> '{log}'\n\
             while IFS='|' read -r prefix code msg; do\n\
             \x20 case \"$*\" in \"$prefix\"*) [ -n \"$msg\" ] && echo \"$msg\" >&2; exit \"$code\";; esac\n\
             done < '{rules}'\n\
             exit 0\n",
            log = log.display(),
            rules = rules.display()
        );
        let shim = bin.join("ipvsadm");
        std::fs::write(&shim, script).expect("shim");
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        IpvsShim { bin, log, rules }
    }

    /// Answer every invocation whose argv (space-joined) starts with `prefix` with `code`
    /// and `stderr`, as the kernel's error would make ipvsadm do.
    pub fn answer(&self, prefix: &str, code: i32, stderr: &str) {
        let mut r = std::fs::read_to_string(&self.rules).unwrap_or_default();
        r.push_str(&format!("{prefix}|{code}|{stderr}\n"));
        std::fs::write(&self.rules, r).expect("rules");
    }

    /// Every recorded argv, in call order.
    pub fn calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                l.trim_end_matches('\t')
                    .split('\t')
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    }

    /// PATH with the shim first.
    pub fn path(&self) -> String {
        format!(
            "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            self.bin.display()
        )
    }
}
