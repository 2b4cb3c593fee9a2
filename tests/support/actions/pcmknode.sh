#!/bin/bash
# One Pacemaker 2.1 + corosync 3 node, isolated in its own network, UTS and mount
# namespaces. Run as:  ip netns exec NS unshare --uts --mount --propagation private \
#     --fork pcmknode.sh NODEDIR HOSTNAME
# NODEDIR holds etc-corosync/, var-corosync/, var-pacemaker/ (with a seeded cib/cib.xml)
# and log/; it gets pid (pacemakerd's pid, a process in the node's namespaces).
set -eu
dir=$1 name=$2
hostname "$name"                        # crm_standby and crm_node find the node by uname
mount --bind "$dir/etc-corosync" /etc/corosync
mount --bind "$dir/var-corosync" /var/lib/corosync
mount --bind "$dir/var-pacemaker" /var/lib/pacemaker
mount -t tmpfs tmpfs /run               # pid files, resource-agents state per node
mount -t tmpfs tmpfs /dev/shm           # libqb ring buffers per node
mkdir -p /run/crm /run/resource-agents
export PCMK_logfile=$dir/log/pacemaker.log PCMK_logfacility=none
corosync -f &
for _ in $(seq 150); do
    corosync-cfgtool -s >/dev/null 2>&1 && break
    sleep 0.1
done
echo $$ > "$dir/pid"
exec pacemakerd
