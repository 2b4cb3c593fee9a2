#!/bin/bash
# One heartbeat 3 node, isolated in its own network, UTS and mount namespaces.
# Run as:  ip netns exec NS unshare --uts --mount --propagation private --fork \
#              hbnode.sh NODEDIR HOSTNAME
# NODEDIR holds etc-ha.d/ (ha.cf, haresources, authkeys, resource.d/), varlib/ (a copy of
# /var/lib/heartbeat) and gets pid (this node's heartbeat master pid).
set -eu
dir=$1 name=$2
hostname "$name"                          # heartbeat matches `node` lines against uname -n
mount --bind "$dir/etc-ha.d" /etc/ha.d    # HA_D is compiled in
mount --bind "$dir/varlib" /var/lib/heartbeat
mount -t tmpfs tmpfs /run                 # heartbeat.pid, resource-agents state per node
mkdir -p /run/resource-agents /run/heartbeat
echo $$ > "$dir/pid"
exec /usr/libexec/heartbeat/heartbeat -f
