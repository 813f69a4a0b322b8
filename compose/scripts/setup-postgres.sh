#!/bin/sh
# Creates and migrates Temporal's two PostgreSQL databases (after temporalio/samples-server
# compose/scripts/setup-postgres.sh). Safe to re-run: "create" tolerates an existing database and
# update-schema only applies missing versions.
set -eu
SQL="temporal-sql-tool --plugin postgres12 --ep postgresql -u temporal -p 5432"

nc -z -w 10 postgresql 5432
for db in temporal temporal_visibility; do
  case $db in
    temporal) dir=/etc/temporal/schema/postgresql/v12/temporal/versioned ;;
    *) dir=/etc/temporal/schema/postgresql/v12/visibility/versioned ;;
  esac
  $SQL --db "$db" create || echo "database $db exists"
  $SQL --db "$db" setup-schema -v 0.0
  $SQL --db "$db" update-schema -d "$dir"
done
echo 'PostgreSQL schema ready'
