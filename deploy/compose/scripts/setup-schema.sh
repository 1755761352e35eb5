#!/bin/sh
# One-shot (temporalio/admin-tools): creates Temporal's two databases on the stack's
# PostgreSQL and brings their schemas up to the versions this admin-tools release
# ships. Safe to run on every 'up': 'create' of an existing database is ignored, and
# update-schema applies only what is missing.
set -eu
sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" \
    -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" "$@"
}
sql --db temporal create || true
sql --db temporal setup-schema -v 0.0
sql --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
sql --db temporal_visibility create || true
sql --db temporal_visibility setup-schema -v 0.0
sql --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
echo "Temporal schemas are up to date"
