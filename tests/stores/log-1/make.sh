#!/usr/bin/env bash
# How the frozen store of the log's first layout was made, once (see README.md). Never run it again
# into this folder: it refuses when the folder already holds a store.
#
#   bash tests/stores/log-1/make.sh POSTGRES_SERVER_URL     (with `biv` of the layout's code on PATH)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
server="$1"
[ ! -e "$here/store.sqlite3" ] || { echo "the frozen store exists: never regenerate it" >&2; exit 1; }
history="$here/../format-3/history.jsonl"
keys="$(biv audit keygen biv.example/frozen-log-1)"
export BIV_LOG_KEY="$(sed -n 1p <<<"$keys")"
sed -n 2p <<<"$keys" > "$here/verifier.txt"
record() {  # record KIND STORE: the store's checkpoint and proofs, as the layout's code gave them
    local kind="$1" store="$2"
    biv demo --store "$store" --actor "biv demo" --json > /dev/null
    # Three batches, as format-3's store was made (an erasure names a participant of an earlier batch).
    local first
    first="$(mktemp)"
    head -n 48 "$history" > "$first"
    biv import "$first" --store "$store" --actor "log-1 fixture" > /dev/null
    head -n 59 "$history" > "$first"
    biv import "$first" --store "$store" --actor "log-1 fixture" > /dev/null
    rm "$first"
    biv import "$history" --store "$store" --actor "log-1 fixture" --receipt "$here/receipt-$kind.json" > /dev/null
    biv audit checkpoint --store "$store" > "$here/checkpoint-$kind.txt"
    local size
    size="$(biv audit checkpoint --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')"
    {
        for position in 1 2 3 17 64 100 257 "$size"; do
            biv audit prove "$position" --store "$store" --json
            biv audit prove "$position" --size "$((size - 1))" --store "$store" --json 2>/dev/null || true
        done
        for from in 1 7 64 100 "$((size - 1))"; do
            biv audit consistency "$from" --store "$store" --json
        done
    } > "$here/proofs-$kind.jsonl"
}
unset BIV_STORE
scratch="$(mktemp -d)"
record sqlite "sqlite://$scratch/store.sqlite3"
python3 - "$scratch/store.sqlite3" "$here/store.sqlite3" <<'PY'
import sqlite3, sys
source = sqlite3.connect(sys.argv[1])
source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
source.execute("PRAGMA journal_mode=DELETE")
target = sqlite3.connect(sys.argv[2])
source.backup(target)
PY
schema=log1
record postgresql "$server?schema=$schema"
pg_dump --schema="$schema" --no-owner --no-privileges --dbname "$server" > "$here/postgresql.sql"
rm -rf "$scratch"
