#!/usr/bin/env bash
# Device check for a machine with an NVIDIA GPU (about 5 minutes), from the repository root:
#   bash bench/gpu-check.sh [OUT.json]
# 1. installs what Dawn needs from Debian: the Vulkan loader, and an ICD manifest for the NVIDIA
#    driver when the driver is there but its manifest is not (common in containers);
# 2. runs `cohort doctor --model cnn --json`, the backends bench, and a 3-round CNN demo with every
#    worker on --backend webgpu;
# 3. writes everything to one JSON file (default gpu-check.json). A failing step is recorded with
#    its exit status and the tail of its output; the script goes on with the next one.
# Step time limits (seconds): GPU_CHECK_DOCTOR_S (240), GPU_CHECK_BENCH_S (420), GPU_CHECK_DEMO_S (480).
# Needs: Debian or Ubuntu (apt-get, as root, for step 1), Node 20+, npm, python3.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

OUT="${1:-gpu-check.json}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
log() { printf '[gpu-check] %s\n' "$*" >&2; }

# --- 1. system packages -------------------------------------------------------------------
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
    log 'installing the Vulkan loader (libvulkan1)'
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 >/dev/null; }; then
      log 'apt-get install libvulkan1 failed'
    fi
  fi
else
  log 'not root or no apt-get: skipping system packages'
fi

HAS_NVIDIA=false
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then HAS_NVIDIA=true; fi
if [ "$HAS_NVIDIA" = true ]; then
  icd_found=false
  for dir in /etc/vulkan/icd.d /usr/share/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
    for f in "$dir"/nvidia*.json; do
      if [ -e "$f" ]; then icd_found=true; fi
    done
  done
  # The driver's Vulkan implementation lives in libGLX_nvidia.so.0; only the manifest may be missing.
  if [ "$icd_found" = false ] && ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia\.so\.0'; then
    if mkdir -p /etc/vulkan/icd.d 2>/dev/null; then
      log 'writing /etc/vulkan/icd.d/nvidia_icd.json for the installed driver'
      printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "libGLX_nvidia.so.0", "api_version": "1.3.0" } }\n' >/etc/vulkan/icd.d/nvidia_icd.json
    fi
  elif [ "$icd_found" = false ]; then
    log 'NVIDIA driver present but no libGLX_nvidia.so.0: the driver was installed without its graphics/Vulkan part (containers: NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics)'
  fi
else
  log 'no working nvidia-smi: no NVIDIA driver; Dawn will use whatever Vulkan driver there is'
fi

if [ ! -d node_modules ]; then
  log 'npm ci'
  npm ci --no-audit --no-fund >"$WORK/npm-ci.log" 2>&1 || log "npm ci failed (see tail in the JSON)"
fi

# --- 2. the checks --------------------------------------------------------------------------
# run_step NAME TIMEOUT_S CMD...: stdout to $WORK/NAME.out, stderr to $WORK/NAME.err, status to $WORK/NAME.rc
run_step() {
  local name="$1" limit="$2"
  shift 2
  log "$name: $*"
  local start end
  start=$(date +%s)
  timeout "$limit" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  echo $? >"$WORK/$name.rc"
  end=$(date +%s)
  echo $((end - start)) >"$WORK/$name.seconds"
}

run_step doctor "${GPU_CHECK_DOCTOR_S:-240}" node bin/cohort.js doctor --model cnn --json
# The bench rewrites its section of BENCHMARKS.md; keep the repository's copy as it was.
cp BENCHMARKS.md "$WORK/BENCHMARKS.md.orig" 2>/dev/null || true
run_step bench "${GPU_CHECK_BENCH_S:-420}" npm run --silent bench -- backends
if [ -f "$WORK/BENCHMARKS.md.orig" ]; then cp "$WORK/BENCHMARKS.md.orig" BENCHMARKS.md; fi
run_step demo "${GPU_CHECK_DEMO_S:-480}" node bin/cohort.js demo --workers 3 --rounds 3 --model cnn --max-local-steps 50 --backend webgpu --no-chain --json

# --- 3. one JSON file -----------------------------------------------------------------------
GPU_INFO=""
if [ "$HAS_NVIDIA" = true ]; then GPU_INFO="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"; fi
VULKAN_ICDS=""
for f in /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json; do
  if [ -e "$f" ]; then VULKAN_ICDS="$VULKAN_ICDS $f"; fi
done

WORK="$WORK" OUT="$OUT" GPU_INFO="$GPU_INFO" VULKAN_ICDS="$VULKAN_ICDS" python3 - <<'PY'
import json, os, platform, time
work = os.environ['WORK']

def read(name, default=''):
    try:
        with open(os.path.join(work, name), encoding='utf-8', errors='replace') as f:
            return f.read()
    except OSError:
        return default

def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith('{'):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return None

def step(name, parse):
    out = read(f'{name}.out')
    rc = read(f'{name}.rc', '').strip()
    entry = {'exitCode': int(rc) if rc.lstrip('-').isdigit() else None, 'seconds': int(read(f'{name}.seconds', '0').strip() or 0)}
    entry['result'] = parse(out)
    if entry['exitCode'] != 0 or entry['result'] is None:
        entry['stderrTail'] = read(f'{name}.err')[-4000:]
        entry['stdoutTail'] = out[-4000:]
    return entry

report = {
    'generatedAt': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    'machine': {'hostname': platform.node(), 'kernel': platform.release(), 'cpus': os.cpu_count(), 'gpu': os.environ.get('GPU_INFO') or None, 'vulkanIcds': os.environ.get('VULKAN_ICDS', '').split()},
    'doctor': step('doctor', last_json),
    'backendsBench': step('bench', lambda out: out if '|' in out else None),
    'demoCnnWebgpu': step('demo', last_json),
}
if read('npm-ci.log'):
    report['npmCiTail'] = read('npm-ci.log')[-2000:]
with open(os.environ['OUT'], 'w', encoding='utf-8') as f:
    json.dump(report, f, indent=2)
print(os.environ['OUT'])
PY
