//! Native alert actions against the real components: SMTP (aiosmtpd, msmtp, Debian's
//! mail.alert), HAProxy's runtime API, ipvsadm (argv recorder: this kernel has no IPVS),
//! Alertmanager, and heartbeat/Pacemaker clusters in network namespaces.

mod alertmanager;
mod failover;
mod mail;
mod pool;
