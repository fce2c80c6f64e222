#!/usr/bin/env bash
# Submits an experiment as a Slurm job array of N shards: task i runs `kvbench run --shard i/N`.
# Usage: scripts/slurm_sweep.sh CONFIG N [extra kvbench run args...]
# Environment: KVB (kvbench binary, default build/kvbench), SBATCH_ARGS (e.g. "--gres=gpu:1
# --time=12:00:00 --partition=gpu --cpus-per-task=8"), LOG_DIR (default results/slurm; one log per
# job and task: NAME-<job>_<task>.log), DRY_RUN=1 prints the job script instead of submitting.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG N [kvbench run args...]" >&2
  exit 2
fi
CONFIG=$1
N=$2
shift 2
case "$N" in '' | *[!0-9]*) echo "$0: N must be a positive integer, got '$N'" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "$0: N must be >= 1" >&2; exit 2; }
[ -f "$CONFIG" ] || { echo "$0: no such config: $CONFIG" >&2; exit 2; }
REPO=$(cd "$(dirname "$0")/.." && pwd)
KVB=$(realpath "${KVB:-$REPO/build/kvbench}")
# Every task starts in the repository root: the config is named by its absolute path.
CONFIG=$(realpath "$CONFIG")
NAME=$(basename "$CONFIG" .json)
# Validate the config (unknown keys, methods, ρ) before anything is queued, from where the tasks run.
(cd "$REPO" && "$KVB" run --config "$CONFIG" --check "$@")
LOG_DIR=$(realpath -m "${LOG_DIR:-$REPO/results/slurm}")
mkdir -p "$LOG_DIR"
EXTRA=""
for a in "$@"; do EXTRA+=" $(printf '%q' "$a")"; done
SCRIPT=$(cat <<JOB
#!/usr/bin/env bash
#SBATCH --job-name=kvb-$NAME
#SBATCH --array=1-$N
#SBATCH --output=$LOG_DIR/$NAME-%A_%a.log
set -euo pipefail
cd $(printf '%q' "$REPO")
# Torch gets the task's CPUs, not the node's.
exec $(printf '%q' "$KVB") --threads "\${SLURM_CPUS_PER_TASK:-1}" run --config $(printf '%q' "$CONFIG") --shard "\$SLURM_ARRAY_TASK_ID/$N"$EXTRA
JOB
)
if [ "${DRY_RUN:-0}" = 1 ]; then
  printf '%s\n' "$SCRIPT"
  exit 0
fi
command -v sbatch >/dev/null || { echo "$0: sbatch not found (set DRY_RUN=1 to print the job script)" >&2; exit 1; }
# shellcheck disable=SC2086
printf '%s\n' "$SCRIPT" | sbatch ${SBATCH_ARGS:-}
