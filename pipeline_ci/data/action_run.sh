#!/usr/bin/env bash
# The run step of the pipeline-ci composite action (action.yml): turn the action's inputs, passed as
# PCI_* environment variables (never interpolated into the script), into a pipeline-ci command line,
# register the problem matcher, and `exec` Python so that the runner's SIGINT on cancellation reaches
# pipeline-ci itself (bash would defer it while waiting for a child).
#
#   PCI_COMMAND          lint | changed | upload | run | deploy
#   PCI_PATH             whitespace-separated paths (one project for run/deploy)
#   PCI_BACKEND          clarifai | local (upload, deploy); clarifai | pai | local (run)
#   PCI_BASE, PCI_HEAD   git range (changed)
#   PCI_REQUIRE_FRESH_LOCKS  true | false (lint)
#   PCI_OVERRIDES_FILE, PCI_SET (multi-line key=value), PCI_TIMEOUT, PCI_COMPUTE_CLUSTER_ID,
#   PCI_NODEPOOL_ID, PCI_PIPELINE_VERSION_ID, PCI_WORKSPACE_ID, PCI_REGION, PCI_ENDPOINT,
#   PCI_PAI_PIPELINE_ID, PCI_MANIFEST     (run, deploy)
#   PCI_EXTRA_ARGS       appended last (so they can override, e.g. --format), split like Python's shlex.split:
#                        'single' and "double" quotes, backslash escapes, no expansion of $, ~ or globs
#   PCI_WORKING_DIRECTORY  where pipeline-ci runs (default: the step's working directory, $GITHUB_WORKSPACE)
#   PCI_PYTHON           the interpreter (default: the action's venv, $RUNNER_TEMP/pipeline-ci/venv)
#   PCI_MATCHER          problem-matcher JSON to register (default: next to this script)
#
# Works with bash 3.2 (macOS): no mapfile, no associative arrays, no empty "${a[@]}" under set -u.
set -euo pipefail

esc() { # workflow-command message escaping: % CR LF
  local s=${1//%/%25}
  s=${s//$'\r'/%0D}
  s=${s//$'\n'/%0A}
  printf '%s' "$s"
}
die() { printf '::error title=pipeline-ci action::%s\n' "$(esc "$1")"; exit 2; }
warn() { printf '::warning title=pipeline-ci action::%s\n' "$(esc "$1")"; }

: "${RUNNER_TEMP:?RUNNER_TEMP is not set: this script runs inside a GitHub Actions step}"
state_dir="$RUNNER_TEMP/pipeline-ci"
python=${PCI_PYTHON:-$state_dir/venv/bin/python}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
matcher=${PCI_MATCHER:-$here/problem-matcher.json}

command=${PCI_COMMAND:-lint}
case "$command" in
  lint | changed | upload | run | deploy) ;;
  *) die "input 'command' must be one of lint, changed, upload, run, deploy (got '$command')" ;;
esac

backend=${PCI_BACKEND:-}
case "$backend" in
  "" | clarifai | pai | local) ;;
  *) die "input 'backend' must be one of clarifai, pai, local (got '$backend')" ;;
esac

fresh=${PCI_REQUIRE_FRESH_LOCKS:-false}
case "$fresh" in
  true | True | TRUE) fresh=true ;;
  false | False | FALSE | "") fresh=false ;;
  *) die "input 'require-fresh-locks' must be true or false (got '$fresh')" ;;
esac

# Whitespace-separated words, no glob expansion (read -a does not glob).
paths=()
read -r -d '' -a paths <<<"${PCI_PATH:-.}" || true
[ "${#paths[@]}" -gt 0 ] || paths=(.)

# split_words TEXT: set the array `words` to TEXT split like Python's shlex.split (POSIX mode): whitespace
# separates words, '...' is literal, "..." is literal except \" and \\, a backslash outside quotes escapes the
# next character. Nothing is expanded (no $VAR, ~, globs or command substitution).
split_words() {
  local text=$1 i=0 n=${#1} c word="" state=none have=false bs="\\"
  words=()
  while [ "$i" -lt "$n" ]; do
    c=${text:$i:1}
    i=$((i + 1))
    case "$state" in
      single)
        if [ "$c" = "'" ]; then state=none; else word+=$c; fi
        ;;
      double)
        if [ "$c" = '"' ]; then
          state=none
        elif [ "$c" = "$bs" ]; then
          if [ "$i" -ge "$n" ]; then return 1; fi
          c=${text:$i:1}
          if [ "$c" = '"' ] || [ "$c" = "$bs" ]; then i=$((i + 1)); else c=$bs; fi
          word+=$c
        else
          word+=$c
        fi
        ;;
      *)
        case "$c" in
          ' ' | $'\t' | $'\n' | $'\r')
            if [ "$have" = true ]; then words+=("$word"); fi
            word="" have=false
            ;;
          "'") state=single have=true ;;
          '"') state=double have=true ;;
          "$bs")
            if [ "$i" -ge "$n" ]; then return 2; fi
            word+=${text:$i:1} have=true
            i=$((i + 1))
            ;;
          *) word+=$c have=true ;;
        esac
        ;;
    esac
  done
  if [ "$state" != none ]; then return 1; fi
  if [ "$have" = true ]; then words+=("$word"); fi
  return 0
}

words=()
status=0
split_words "${PCI_EXTRA_ARGS:-}" || status=$?
case "$status" in
  0) ;;
  1) die "input 'extra-args': no closing quotation in: ${PCI_EXTRA_ARGS:-}" ;;
  *) die "input 'extra-args': no character after the final backslash in: ${PCI_EXTRA_ARGS:-}" ;;
esac
extra=()
if [ "${#words[@]}" -gt 0 ]; then extra=("${words[@]}"); fi

args=("$command")

# Inputs a command does not use are reported, not silently dropped.
ignored() { # ignored INPUT-NAME VALUE
  if [ -n "$2" ]; then warn "input '$1' is not used by 'pipeline-ci $command'; ignoring it"; fi
}
opt() { # opt --flag VALUE: append the flag when the value is non-empty
  if [ -n "$2" ]; then args+=("$1" "$2"); fi
}

case "$command" in
  lint)
    args+=("${paths[@]}" --format github --sarif-file "$state_dir/lint-$$.sarif")
    if [ "$fresh" = true ]; then args+=(--require-fresh-locks); fi
    ;;
  changed)
    args+=("${paths[@]}")
    opt --base "${PCI_BASE:-}"
    opt --head "${PCI_HEAD:-}"
    ;;
  upload)
    args+=("${paths[@]}")
    opt --backend "$backend"
    ;;
  run | deploy)
    if [ "${#paths[@]}" -ne 1 ]; then
      die "'pipeline-ci $command' takes one project path; input 'path' has ${#paths[@]}: ${PCI_PATH:-}"
    fi
    if [ -z "$backend" ]; then die "input 'backend' is required for 'pipeline-ci $command'"; fi
    args+=("${paths[0]}" --backend "$backend")
    opt --overrides-file "${PCI_OVERRIDES_FILE:-}"
    # One --set per non-blank line of the multi-line input; '#' starts a comment line.
    while IFS= read -r line || [ -n "$line" ]; do
      line=${line%$'\r'}
      trimmed=${line#"${line%%[![:space:]]*}"}
      case "$trimmed" in
        "" | "#"*) continue ;;
        *=*) args+=(--set "$trimmed") ;;
        *) die "input 'set': expected key=value, got '$trimmed'" ;;
      esac
    done <<<"${PCI_SET:-}"
    opt --timeout "${PCI_TIMEOUT:-}"
    opt --compute-cluster-id "${PCI_COMPUTE_CLUSTER_ID:-}"
    opt --nodepool-id "${PCI_NODEPOOL_ID:-}"
    opt --pipeline-version-id "${PCI_PIPELINE_VERSION_ID:-}"
    opt --workspace-id "${PCI_WORKSPACE_ID:-}"
    opt --region "${PCI_REGION:-}"
    opt --endpoint "${PCI_ENDPOINT:-}"
    opt --pipeline-id "${PCI_PAI_PIPELINE_ID:-}"
    opt --manifest "${PCI_MANIFEST:-}"
    ;;
esac

if [ "$command" != changed ]; then
  ignored base "${PCI_BASE:-}"
  ignored head "${PCI_HEAD:-}"
fi
if [ "$command" != lint ] && [ "$fresh" = true ]; then ignored require-fresh-locks true; fi
if [ "$command" = lint ] || [ "$command" = changed ]; then ignored backend "$backend"; fi
if [ "$command" != run ] && [ "$command" != deploy ]; then
  for pair in overrides-file:PCI_OVERRIDES_FILE set:PCI_SET timeout:PCI_TIMEOUT \
    compute-cluster-id:PCI_COMPUTE_CLUSTER_ID nodepool-id:PCI_NODEPOOL_ID \
    pipeline-version-id:PCI_PIPELINE_VERSION_ID workspace-id:PCI_WORKSPACE_ID region:PCI_REGION \
    endpoint:PCI_ENDPOINT pai-pipeline-id:PCI_PAI_PIPELINE_ID manifest:PCI_MANIFEST; do
    var=${pair#*:}
    ignored "${pair%%:*}" "${!var:-}"
  done
fi

if [ "${#extra[@]}" -gt 0 ]; then args+=("${extra[@]}"); fi

if [ ! -x "$python" ]; then die "no Python at $python: did the install step run?"; fi
mkdir -p "$state_dir"
if [ -n "${PCI_WORKING_DIRECTORY:-}" ]; then
  cd -- "$PCI_WORKING_DIRECTORY" 2>/dev/null ||
    die "input 'working-directory': no such directory: $PCI_WORKING_DIRECTORY (relative to $PWD)"
fi
if [ -f "$matcher" ]; then echo "::add-matcher::$matcher"; fi
printf 'pipeline-ci'
printf ' %q' "${args[@]}"
printf '\n'
exec "$python" -m pipeline_ci "${args[@]}"
