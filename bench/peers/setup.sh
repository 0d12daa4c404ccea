#!/usr/bin/env bash
# Creates one virtualenv per peer under bench/.peers/<name>, outside the project's dependencies.
# The peers are measured beside tokentrail by bench/peers.py; none of them is a dependency of the
# project. Versions are pinned to the ones measured in bench/README.md ("Beside the peers"); each env
# gets the same openai client as the project's venv so the bare call costs the same everywhere.
#
#     bash bench/peers/setup.sh            # all peers
#     bash bench/peers/setup.sh langfuse   # one
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3.11}
OPENAI=openai==3.63.0
OTEL_HTTP=opentelemetry-exporter-otlp-proto-http==1.45.2

declare -A PEERS=(
  [langfuse]="langfuse==${LANGFUSE_VERSION:-5.2.0} $OPENAI"
  # openlit requires openai<3; its OTel family pinned where every instrumentation it needs exists
  [openlit]="openlit==${OPENLIT_VERSION:-1.45.0} openai==2.54.0 opentelemetry-sdk==1.45.1 opentelemetry-exporter-otlp==1.45.1 opentelemetry-instrumentation==0.66b1 opentelemetry-semantic-conventions==0.66b1 opentelemetry-util-http==0.66b1"
  [openllmetry]="traceloop-sdk==${TRACELOOP_VERSION:-0.62.4} $OPENAI httpx==0.28.1"  # traceloop imports httpx without requiring it
  [openinference]="openinference-instrumentation-openai==${OPENINFERENCE_VERSION:-0.1.66} openinference-instrumentation==0.1.72 opentelemetry-sdk==1.45.2 $OTEL_HTTP $OPENAI"
  [phoenix]="arize-phoenix==${PHOENIX_VERSION:-20.26.1}"
)

for name in "${@:-${!PEERS[@]}}"; do
  env_dir="bench/.peers/$name"
  [ -x "$env_dir/bin/python" ] || "$PYTHON" -m venv "$env_dir"
  # shellcheck disable=SC2086 # the spec is a list of requirements
  "$env_dir/bin/pip" install --quiet --disable-pip-version-check ${PEERS[$name]}
  echo "$name: $("$env_dir/bin/pip" freeze --disable-pip-version-check | grep -iE "^(langfuse|openlit|traceloop-sdk|openinference-instrumentation-openai|arize-phoenix|openai|opentelemetry-sdk)==" | tr '\n' ' ')"
done
