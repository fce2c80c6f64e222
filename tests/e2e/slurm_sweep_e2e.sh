#!/usr/bin/env bash
# scripts/slurm_sweep.sh on a real one-node Slurm cluster on localhost: munged, slurmctld and
# slurmd started here with a generated slurm.conf (ports 16817/16818, all state in a scratch
# folder), a 3-task array of a small sweep submitted with a config path relative to another
# folder, then the merged table compared with an unsharded run. Stops exactly the daemons it
# started. Usage: slurm_sweep_e2e.sh KVBENCH
set -euo pipefail
KVB=$(realpath "$1")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
for b in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$b" >/dev/null || { echo "FAIL: $b not found: scripts/setup.sh installs slurm-wlm and munge" >&2; exit 1; }
done
W=$(mktemp -d /tmp/kvb_slurm.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$W"/slurmctld.log "$W"/slurmd.log "$W"/logs/*; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
  exit 1
}

mkdir -p "$W/munge" "$W/state" "$W/spool" "$W/logs"
head -c 1024 /dev/urandom >"$W/munge/munge.key"
chmod 400 "$W/munge/munge.key"
chmod 700 "$W/munge"
munged -F --force --key-file="$W/munge/munge.key" --socket="$W/munge/socket" --pid-file="$W/munge/pid" \
  --seed-file="$W/munge/seed" --log-file="$W/munge/log" >"$W/munged.out" 2>&1 &
PIDS+=($!)
cat >"$W/slurm.conf" <<CONF
ClusterName=kvbtest
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$W/munge/socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$W/slurm.conf
for _ in $(seq 50); do [ -S "$W/munge/socket" ] && break; sleep 0.1; done
slurmctld -D -i -f "$SLURM_CONF" >"$W/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$W/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 120); do
  state=$(sinfo -h -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || fail "the node did not come up (sinfo state '$state')"

# A small sweep: tiny model, 3 needle samples, two cells.
"$KVB" -q make-tiny-model --out "$W/tiny" >/dev/null
mkdir -p "$W/cfg"
cat >"$W/cfg/slurm_e2e.json" <<JSON
{"name": "slurm_e2e", "rho": [0.3],
 "models": [{"name": "tiny", "path": "$W/tiny"}],
 "benchmarks": [{"name": "needle", "options": {"samples": 3, "min_tokens": 100, "max_tokens": 150}}],
 "methods": [{"name": "full"}, {"name": "snapkv"}],
 "generation": {"max_new_tokens": 4},
 "tables": [{"columns": [{"benchmark": "needle"}, {"benchmark": "needle", "metric": "kl_full", "digits": 6}]}]}
JSON
"$KVB" -q --threads 1 run --no-fsync --config "$W/cfg/slurm_e2e.json" --results "$W/plain" >/dev/null

# Submitted from another folder with a relative config path: every task cds to the repository.
out=$(cd "$W/cfg" && LOG_DIR="$W/logs" KVB="$KVB" SBATCH_ARGS="--cpus-per-task=1" \
  bash "$REPO/scripts/slurm_sweep.sh" slurm_e2e.json 3 --results "$W/sharded" --no-fsync)
job=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$job" ] || fail "sbatch did not submit: $out"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || fail "job $job still queued or running after 300 s"
for i in 1 2 3; do
  [ -f "$W/logs/slurm_e2e-${job}_$i.log" ] || fail "no log slurm_e2e-${job}_$i.log (logs: $(ls "$W/logs"))"
done
plain=$("$KVB" -q table --experiment "$W/cfg/slurm_e2e.json" --results "$W/plain" --format csv)
sharded=$("$KVB" -q table --experiment "$W/cfg/slurm_e2e.json" --results "$W/sharded" --format csv)
[ "$plain" = "$sharded" ] || fail "merged table of the 3 Slurm tasks differs from the unsharded run:
$sharded
--- unsharded:
$plain"
echo "slurm e2e: job $job, 3 tasks, merged table equals the unsharded one:"
echo "$plain"
echo "1 passed, 0 failed"
