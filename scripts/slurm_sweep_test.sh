#!/usr/bin/env bash
# Sharded sensitivity sweeps, tested for real (issue 15). Run as root on a Debian machine after the release build.
#  1. Single-process reference: `mpq sensitivity` and `mpq plan` on examples/mobilenet-digits.
#  2. Slurm: installs slurm-wlm and munge, starts munged, slurmctld and slurmd by hand (single node, no systemd),
#     submits deploy/slurm/submit.sh with N = 3 shards plus the dependent plan job, waits, and checks that the
#     merged table and the plan equal the single-process ones. If Slurm cannot run here, says why and runs the
#     same check with the shards as plain background processes.
#  3. kill -9 of one shard mid-way, then that index alone again (re-submitted as a one-task Slurm array when Slurm
#     runs): the table completes and equals the reference.
#  4. A shard file from other inputs is refused, naming the file; a missing shard is named with what to run.
#  5. Kubernetes: the manifests validate against the Job schema (kubernetes-validate), and the indexed Job's
#     container command, run here with JOB_COMPLETION_INDEX=0..2, gives the same table.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MPQ="$ROOT/.build/release/mpq"
EXAMPLE="$ROOT/examples/mobilenet-digits"
WORK="$(mktemp -d /tmp/mpq-shards.XXXXXX)"
ARGS="--profile generic-npu"
PLAN_ARGS="--budget 5.5bits --pareto-points 3 --no-refine"
cd "$EXAMPLE"

same_table() {  # same_table REF_DIR OTHER_DIR: the merged sensitivity tables are identical (values and quantizers)
  python3 - "$1" "$2" <<'PY'
import glob, json, sys
def table(d):
    files = [f for f in glob.glob(d + "/sensitivity-*.json") if ".shard-" not in f]
    assert len(files) == 1, f"{d}: expected one table, found {files}"
    t = json.load(open(files[0]))
    return {k: t[k] for k in ("key", "groups", "candidates", "referenceLoss", "increases", "quantizers")}
a, b = table(sys.argv[1]), table(sys.argv[2])
assert a == b, f"tables differ: {[k for k in a if a[k] != b[k]]}"
print(f"identical tables: {len(a['groups'])} groups, key {a['key']}")
PY
}
same_plan() {  # same_plan A.json B.json: same assignment and losses
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ga, gb = ([g["candidate"] for g in x["plan"]["groups"]] for x in (a, b))
assert ga == gb, "plans differ"
assert a["measuredLoss"] == b["measuredLoss"], (a["measuredLoss"], b["measuredLoss"])
print(f"identical plans: {len(ga)} groups, measured loss {a['measuredLoss']}")
PY
}

echo "== single process"
"$MPQ" sensitivity $ARGS --cache-dir "$WORK/single" >/dev/null 2>&1
"$MPQ" plan $ARGS $PLAN_ARGS --cache-dir "$WORK/single" --output-dir "$WORK/single-plan" >/dev/null 2>&1

echo "== Slurm array job (3 shards) + dependent plan job"
slurm_ok=""
start_slurm() {
  command -v slurmctld >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 \
    || { echo "apt-get install slurm-wlm munge failed"; return 1; }
  local host; host="$(hostname -s)"
  mkdir -p /etc/munge /var/log/munge /var/lib/munge /run/munge /var/spool/slurmctld /var/spool/slurmd /etc/slurm
  [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
  chown -R munge:munge /etc/munge /var/log/munge /var/lib/munge /run/munge 2>/dev/null || true
  chmod 400 /etc/munge/munge.key; chmod 700 /etc/munge
  pgrep -x munged >/dev/null || runuser -u munge -- munged || return 1
  cat > /etc/slurm/slurm.conf <<CONF
ClusterName=mpqci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE OverSubscribe=YES State=UP
CONF
  pkill -x slurmctld 2>/dev/null || true; pkill -x slurmd 2>/dev/null || true; sleep 1
  slurmctld -c -i || return 1
  slurmd -c || return 1
  for _ in $(seq 30); do
    sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix|alloc" && return 0
    sleep 1
  done
  echo "the node did not come up: $(sinfo 2>&1 | tail -1)"; tail -3 "$WORK/slurmd.log" 2>/dev/null; return 1
}
if reason=$(start_slurm 2>&1); then
  mkdir -p "$WORK/slurm"
  ids=$(MPQ="$MPQ" MPQ_CACHE_DIR="$WORK/slurm" MPQ_PROJECT_DIR="$EXAMPLE" \
        "$ROOT/deploy/slurm/submit.sh" 3 "$ARGS" "$PLAN_ARGS --output-dir $WORK/slurm-plan")
  echo "submitted: array job and plan job $ids"
  for _ in $(seq 600); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 1; done
  if [ -f "$WORK/slurm-plan/plan.json" ]; then
    same_table "$WORK/single" "$WORK/slurm"
    same_plan "$WORK/single-plan/plan.json" "$WORK/slurm-plan/plan.json"
    ls "$WORK/slurm" | grep -c "shard-.-of-3.json$" | grep -qx 3
    slurm_ok=1
    echo "Slurm: OK (3 array tasks and the afterok plan job ran under slurmctld/slurmd)"
  else
    echo "Slurm ran but the plan job left no plan.json; logs:"; tail -5 "$EXAMPLE"/mpq-*.log 2>/dev/null || true
    exit 1
  fi
  rm -f "$EXAMPLE"/mpq-sensitivity-*.log "$EXAMPLE"/mpq-plan-*.log
else
  echo "Slurm cannot run on this machine ($reason); the same check with the shards as plain background processes"
fi
if [ -z "$slurm_ok" ]; then
  for i in 0 1 2; do "$MPQ" sensitivity $ARGS --shard "$i/3" --threads 1 --cache-dir "$WORK/plain" >/dev/null 2>&1 & done
  wait
  "$MPQ" plan $ARGS $PLAN_ARGS --cache-dir "$WORK/plain" --output-dir "$WORK/plain-plan" >/dev/null 2>&1
  same_table "$WORK/single" "$WORK/plain"
  same_plan "$WORK/single-plan/plan.json" "$WORK/plain-plan/plan.json"
fi

echo "== kill -9 one shard mid-way, then run that index again"
for i in 0 2; do "$MPQ" sensitivity $ARGS --shard "$i/3" --threads 1 --cache-dir "$WORK/killed" >/dev/null 2>&1 & done
"$MPQ" sensitivity $ARGS --shard 1/3 --threads 1 --cache-dir "$WORK/killed" >/dev/null 2>&1 &
victim=$!
# A shard journals each group as it is measured (its table is written when it ends): kill it after its first group.
journal1() { ls "$WORK"/killed/*.shard-1-of-3.json.journal 2>/dev/null | head -1; }
for _ in $(seq 200); do [ -n "$(journal1)" ] && break; sleep 0.1; done
kill -9 "$victim" 2>/dev/null || true
wait || true
done_groups=$(python3 -c "import sys; print(sum(1 for l in open(sys.argv[1]) if l.strip()))" "$(journal1)" 2>/dev/null || echo 0)
[ -z "$(ls "$WORK"/killed/*.shard-1-of-3.json 2>/dev/null)" ] || { echo "shard 1 finished before the kill"; exit 1; }
echo "shard 1 killed with $done_groups of its groups journaled"
if "$MPQ" plan $ARGS --budget 5.5bits --no-measure --cache-dir "$WORK/killed" --output-dir "$WORK/killed-plan" 2>"$WORK/err" >/dev/null; then
  echo "a plan over an unfinished shard was made"; exit 1
fi
grep -q "shards 1/3 are missing" "$WORK/err" || { echo "unexpected message: $(cat "$WORK/err")"; exit 1; }
echo "plan before re-running: $(cat "$WORK/err")"
if [ -n "$slurm_ok" ]; then
  # Re-submit only that index through the scheduler.
  job=$(cd "$EXAMPLE" && MPQ="$MPQ" MPQ_SHARDS=3 MPQ_ARGS="$ARGS" MPQ_CACHE_DIR="$WORK/killed" MPQ_PROJECT_DIR="$EXAMPLE" \
        sbatch --parsable --array=1 --export=ALL "$ROOT/deploy/slurm/sensitivity.sbatch")
  for _ in $(seq 300); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 1; done
  echo "re-submitted shard 1/3 alone as Slurm job $job"
  rm -f "$EXAMPLE"/mpq-sensitivity-*.log
  scontrol shutdown >/dev/null 2>&1 || true
else
  "$MPQ" sensitivity $ARGS --shard 1/3 --threads 1 --cache-dir "$WORK/killed" >/dev/null 2>&1
fi
"$MPQ" sensitivity $ARGS --merge --cache-dir "$WORK/killed" >/dev/null 2>&1
same_table "$WORK/single" "$WORK/killed"

echo "== a shard file of other inputs is refused"
mkdir -p "$WORK/foreign"
other=$(ls "$WORK"/killed/*.shard-0-of-3.json)
python3 - "$other" "$WORK/foreign/$(basename "$other")" <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); t["key"] = "0000000000000000"
json.dump(t, open(sys.argv[2], "w"))
PY
if "$MPQ" sensitivity $ARGS --merge --cache-dir "$WORK/foreign" 2>"$WORK/err" >/dev/null; then echo "foreign shard accepted"; exit 1; fi
grep -q "$(basename "$other")" "$WORK/err" && grep -q "another model" "$WORK/err" || { echo "unexpected: $(cat "$WORK/err")"; exit 1; }
echo "refused: $(cat "$WORK/err")"

echo "== Kubernetes indexed Job"
python3 -m pip install -q kubernetes-validate pyyaml >/dev/null 2>&1 || true
if python3 -c "import kubernetes_validate" 2>/dev/null; then
  for f in "$ROOT"/deploy/kubernetes/*.yaml; do
    kubernetes-validate --strict "$f" >/dev/null || { kubernetes-validate --strict "$f"; exit 1; }
  done
  echo "manifests valid against the batch/v1 Job schema (kubernetes-validate)"
else
  echo "kubernetes-validate unavailable; checking the manifest's Indexed-Job fields only"
fi
command=$(python3 - "$ROOT/deploy/kubernetes/sensitivity-job.yaml" <<'PY'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
spec = job["spec"]
assert job["kind"] == "Job" and spec["completionMode"] == "Indexed" and spec["completions"] == 3
print(spec["template"]["spec"]["containers"][0]["command"][2])
PY
)
mkdir -p "$WORK/k8s/bin"; ln -sf "$MPQ" "$WORK/k8s/bin/mpq"
local_command=${command//\/project\/.mpq-cache/$WORK/k8s/cache}
for i in 0 1 2; do
  (cd "$EXAMPLE" && PATH="$WORK/k8s/bin:$PATH" JOB_COMPLETION_INDEX=$i sh -c "$local_command $ARGS" >/dev/null 2>&1) &
done
wait
"$MPQ" sensitivity $ARGS --merge --cache-dir "$WORK/k8s/cache" >/dev/null 2>&1
same_table "$WORK/single" "$WORK/k8s/cache"
echo "indexed-Job command with JOB_COMPLETION_INDEX=0..2: OK"
rm -rf "$WORK"
echo "sharded sweeps: all checks passed"
