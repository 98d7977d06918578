#!/usr/bin/env bash
# Side by side with the tool AWX users run today: a no-op drift check of N
# OAuth applications with the awx.awx `application` module in a playbook
# loop (what an "as code" setup without appform does), and with
# `appform plan`, against the same AWX simulator behind the same latency.
#
#   bash benches/peers/run.sh              # N = 60 and 220, 250 ms per request
#   LATENCY_MS=20 bash benches/peers/run.sh 10
#   SHARED_APPS=1500 bash benches/peers/run.sh 60   # a big shared server
#
# Needs: the Rust toolchain, python3 with venv, and PyPI (ansible 12.3.0, the
# last release for Python 3.11, bundles awx.awx 24.6.1 — the AWX version the
# simulator follows). Not run in CI (minutes per N); BENCHMARKS.md has the
# numbers. Prints one table row per N: both wall times, both request counts
# and the ratios. With SHARED_APPS, the server also holds applications the
# config does not name (SHARED_APPS in all), and appform plans twice: with the
# full listing and with `listing: managed` (the last three columns).
set -euo pipefail
cd "$(dirname "$0")/../.."

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(60 220)
latency_ms=${LATENCY_MS:-250}
shared_apps=${SHARED_APPS:-0}
work=target/peers
sandbox_port=${SANDBOX_PORT:-18043}
proxy_port=${PROXY_PORT:-18143}
token=sandbox-awx-token

cargo build --release --locked --quiet
appform=$PWD/target/release/appform
venv=target/peers-venv
if [ ! -x "$venv/bin/ansible-playbook" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check ansible==12.3.0
fi

rm -rf "$work" && mkdir -p "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$appform" sandbox --awx-port "$sandbox_port" --gateway-port 0 --tpp-port 0 --whm-hosts 0 \
  --state "$work/state.json" > "$work/sandbox.log" 2>&1 &
pids+=($!)
python3 benches/peers/proxy.py "$proxy_port" "$sandbox_port" "$latency_ms" "$work/requests.log" &
pids+=($!)
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$sandbox_port/api/v2/ping/" && break
  sleep 0.1
done

# apps N: the same N applications as appform config and as playbook variables.
write_inputs() {
  local n=$1 url=$2
  mkdir -p "$work/conf-$n"
  {
    printf 'servers:\n  awx-bench:\n    awx:\n      url: %s\n      auth:\n        token: env:AWX_TOKEN\n      applications:\n' "$url"
    for i in $(seq -w 1 "$n"); do
      printf '        app-%s:\n          organization: Default\n          client_type: public\n          authorization_grant_type: authorization-code\n          redirect_uris: [https://app-%s.example.com/cb]\n          description: Application %s\n' "$i" "$i" "$i"
    done
  } > "$work/conf-$n/appform.yaml"
  {
    printf -- '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n'
    printf '    - name: applications\n      awx.awx.application:\n'
    printf '        controller_host: %s\n        controller_oauthtoken: %s\n        validate_certs: false\n' "$url" "$token"
    printf '        name: "{{ item }}"\n        organization: Default\n        client_type: public\n'
    printf '        authorization_grant_type: authorization-code\n'
    printf '        redirect_uris: ["https://{{ item }}.example.com/cb"]\n'
    printf '        description: "Application {{ item | replace('"'"'app-'"'"', '"'"''"'"') }}"\n'
    printf '        state: present\n'
    printf '      loop:\n'
    for i in $(seq -w 1 "$n"); do printf '        - app-%s\n' "$i"; done
  } > "$work/playbook-$n.yml"
}

# Applications of other teams on the same server (created without latency).
seed_others() {
  local n=$1 others=$(( shared_apps - $1 ))
  [ "$others" -gt 0 ] || return 0
  mkdir -p "$work/others-$n"
  {
    printf 'servers:\n  awx-bench:\n    awx:\n      url: http://127.0.0.1:%s\n      auth:\n        token: env:AWX_TOKEN\n      applications:\n' "$sandbox_port"
    for i in $(seq -w 1 "$others"); do
      printf '        other-%s-%s:\n          organization: Default\n          client_type: public\n          authorization_grant_type: password\n' "$n" "$i"
    done
  } > "$work/others-$n/appform.yaml"
  AWX_TOKEN=$token "$appform" apply -q -c "$work/others-$n" --auto-approve > /dev/null
}

# One `appform plan` through the proxy: sets plan_ms and plan_requests.
timed_plan() {
  local dir=$1 code=0
  : > "$work/requests.log"
  start=$(now_ms)
  AWX_TOKEN=$token "$appform" plan -q -c "$dir" --detailed-exitcode > "$dir/plan.txt" || code=$?
  plan_ms=$(( $(now_ms) - start ))
  plan_requests=$(requests)
  if [ "$code" != 0 ]; then echo "appform plan of $dir exited $code: see $dir/plan.txt" >&2; exit 1; fi
}

requests() { wc -l < "$work/requests.log" | tr -d ' '; }
now_ms() { date +%s%3N; }

if [ "$shared_apps" -gt 0 ]; then
  printf '| N | apps on server | latency | awx.awx loop: wall | requests | changed | appform plan: wall | requests | wall ratio | listing: managed: wall | requests | wall ratio |\n'
  printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
else
  printf '| N | latency | awx.awx loop: wall | requests | changed | appform plan: wall | requests | wall ratio | request ratio |\n'
  printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
fi
for n in "${counts[@]}"; do
  # Seed the apps directly (no latency), then check both through the proxy.
  write_inputs "$n" "http://127.0.0.1:$sandbox_port"
  AWX_TOKEN=$token "$appform" apply -q -c "$work/conf-$n" --auto-approve > /dev/null
  seed_others "$n"
  write_inputs "$n" "http://127.0.0.1:$proxy_port"

  : > "$work/requests.log"
  start=$(now_ms)
  ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    "$venv/bin/ansible-playbook" "$work/playbook-$n.yml" > "$work/ansible-$n.log" 2>&1
  ansible_ms=$(( $(now_ms) - start ))
  ansible_requests=$(requests)
  changed=$(grep -o 'changed=[0-9]*' "$work/ansible-$n.log" | tail -1 | cut -d= -f2)

  timed_plan "$work/conf-$n"
  appform_ms=$plan_ms appform_requests=$plan_requests

  if [ "$shared_apps" -gt 0 ]; then
    mkdir -p "$work/managed-$n"
    sed 's/^      applications:$/      listing: managed\n      applications:/' "$work/conf-$n/appform.yaml" > "$work/managed-$n/appform.yaml"
    timed_plan "$work/managed-$n"
    printf '| %s | %s | %s ms | %.1f s | %s | %s | %.2f s | %s | %.0f× | %.2f s | %s | %.0f× |\n' \
      "$n" "$shared_apps" "$latency_ms" "$(echo "$ansible_ms / 1000" | bc -l)" "$ansible_requests" "${changed:-?}" \
      "$(echo "$appform_ms / 1000" | bc -l)" "$appform_requests" "$(echo "$ansible_ms / $appform_ms" | bc -l)" \
      "$(echo "$plan_ms / 1000" | bc -l)" "$plan_requests" "$(echo "$ansible_ms / $plan_ms" | bc -l)"
    continue
  fi
  printf '| %s | %s ms | %.1f s | %s | %s | %.2f s | %s | %.0f× | %.0f× |\n' \
    "$n" "$latency_ms" "$(echo "$ansible_ms / 1000" | bc -l)" "$ansible_requests" "${changed:-?}" \
    "$(echo "$appform_ms / 1000" | bc -l)" "$appform_requests" \
    "$(echo "$ansible_ms / $appform_ms" | bc -l)" "$(echo "$ansible_requests / $appform_requests" | bc -l)"
done
