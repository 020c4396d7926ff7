#!/bin/bash
# Submits N sensitivity shards as a Slurm job array and `mpq plan` after them:
#   deploy/slurm/submit.sh N "inputs shared by both" "plan-only arguments"
#   deploy/slurm/submit.sh 3 "--profile generic-npu" "--budget 5.5bits --output-dir out"
# Run from the project folder (the one with mpq.json); MPQ (binary), MPQ_CACHE_DIR and MPQ_PROJECT_DIR are passed on.
# Prints the array job's and the plan job's ids.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shards="${1:?usage: submit.sh N [shared args] [plan args]}"
export MPQ_SHARDS="$shards" MPQ_ARGS="${2:-}" MPQ_PLAN_ARGS="${3:-}"
array=$(sbatch --parsable --array="0-$((shards - 1))" --export=ALL "$here/sensitivity.sbatch")
plan=$(sbatch --parsable --dependency="afterok:${array%%;*}" --export=ALL "$here/plan.sbatch")
echo "$array $plan"
