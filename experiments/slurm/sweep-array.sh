#!/usr/bin/env bash
# A sweep as a Slurm job array: N shards `varitune sweep CONFIG --out DIR --shard i/N` into one shared output
# directory, then one `varitune report DIR` that starts when every shard has ended (afterany: a failed shard still
# leaves its finished runs to report; rerun this script to redo what is missing, finished runs are skipped).
#
#   experiments/slurm/sweep-array.sh CONFIG OUT_DIR [N] [--set KEY=VALUE ...]
#   e.g. experiments/slurm/sweep-array.sh experiments/configs/paper/roberta-base-finetune.yaml \
#          /shared/sweeps/rb-ft 8 --set GLUE_DIR=/shared/glue
#
# OUT_DIR must be on a file system that every node sees (and that supports POSIX locks: shards computing nu for the
# same task take turns through a lock file in OUT_DIR/variability/). Resources per shard: SBATCH_CPUS (default 8),
# SBATCH_MEM (default 16G), SBATCH_TIME (default 24:00:00); the shard's heap is sized by ./varitune within
# SBATCH_MEM (one varitune process per job: VARITUNE_PROCESSES=1). Extra sbatch options: SBATCH_EXTRA, e.g.
# "--partition=cpu --account=myproj". Every shard runs with -Dvaritune.threads=SBATCH_CPUS (the thread count is
# part of each result's fingerprint: the shards, and a rerun, must agree on it). Prints the two job ids.
set -euo pipefail
if (( $# < 2 )); then sed -n '2,16p' "$0" >&2; exit 2; fi
CONFIG="$(realpath "$1")" OUT="$(realpath -m "$2")"; shift 2
N=4
if (( $# > 0 )) && [[ $1 =~ ^[0-9]+$ ]]; then N=$1; shift; fi
(( N >= 1 )) || { echo "N must be at least 1" >&2; exit 2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mkdir -p "$OUT/slurm-logs"
# build once here, so the array tasks do not all run mvn at the same time
"$ROOT/varitune" sweep "$CONFIG" --out "$OUT" --dry-run "$@" > /dev/null
SETS=$(printf ' %q' "$@")

array=$(sbatch --parsable --job-name=varitune-sweep --array="0-$((N - 1))" \
  --cpus-per-task="${SBATCH_CPUS:-8}" --mem="${SBATCH_MEM:-16G}" --time="${SBATCH_TIME:-24:00:00}" \
  --output="$OUT/slurm-logs/shard-%a.out" ${SBATCH_EXTRA:-} --wrap="\
export VARITUNE_PROCESSES=1 VARITUNE_JAVA_OPTS=\"-Dvaritune.threads=\$SLURM_CPUS_PER_TASK \${VARITUNE_JAVA_OPTS:-}\"; \
exec $(printf %q "$ROOT/varitune") sweep $(printf %q "$CONFIG") --out $(printf %q "$OUT") \
  --shard \$SLURM_ARRAY_TASK_ID/$N$SETS")
report=$(sbatch --parsable --job-name=varitune-report --dependency="afterany:$array" \
  --cpus-per-task=1 --mem=4G --time=00:30:00 --output="$OUT/slurm-logs/report.out" ${SBATCH_EXTRA:-} \
  --wrap="exec $(printf %q "$ROOT/varitune") report $(printf %q "$OUT")")
echo "shards: job array $array (0..$((N - 1)) of $N); report: job $report after all of them; logs in $OUT/slurm-logs/"
