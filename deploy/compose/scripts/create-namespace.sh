#!/bin/sh
# One-shot (temporalio/admin-tools): creates ekmsync's namespace once the server
# answers. ekmsync wants a namespace of its own (its search attributes take every
# Datetime slot SQL visibility has in one).
set -eu
ns="${TEMPORAL_NAMESPACE:?}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do
  echo "waiting for Temporal at $TEMPORAL_ADDRESS"
  sleep 2
done
temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$ns" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$ns" --retention "${NAMESPACE_RETENTION:-7d}"
echo "namespace $ns is ready"
