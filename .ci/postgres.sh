# Sourced by .ci/run: a throwaway PostgreSQL cluster for the tests, installed from Debian's packages if missing.
# start_postgres exports CHORUS_TEST_POSTGRES_URL; stop_postgres stops the cluster and removes its files.

_pg_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$found" ] && command -v initdb >/dev/null 2>&1; then
        found=$(dirname "$(readlink -f "$(command -v initdb)")")
    fi
    echo "$found"
}

_as_postgres() {
    # initdb refuses to run as root: run the server's tools as the postgres user when we are root.
    # (From /: the postgres user may not enter the folder CI runs in.)
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

start_postgres() {
    local bin port
    bin=$(_pg_bin)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        echo "installing PostgreSQL from Debian's packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
        bin=$(_pg_bin)
        if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
            echo "PostgreSQL was installed, but no initdb was found under /usr/lib/postgresql" >&2
            return 1
        fi
    fi
    CHORUS_PG_BIN=$bin
    CHORUS_PG_DIR=$(mktemp -d /tmp/chorus-pg.XXXXXX)
    export CHORUS_PG_DIR CHORUS_PG_BIN
    chmod 755 "$CHORUS_PG_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$CHORUS_PG_DIR"; fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    _as_postgres "$bin/initdb" -D "$CHORUS_PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 >"$CHORUS_PG_DIR/initdb.log"
    # Tests only: no fsync, no durability; loopback only; room for three bot processes' pools plus the tests'.
    _as_postgres "$bin/pg_ctl" -D "$CHORUS_PG_DIR/data" -l "$CHORUS_PG_DIR/server.log" -w -t 60 start \
        -o "-p $port -k $CHORUS_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=300" >/dev/null
    export CHORUS_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$port" >&2
}

stop_postgres() {
    if [ -n "${CHORUS_PG_DIR:-}" ] && [ -d "$CHORUS_PG_DIR" ]; then
        if [ -f "$CHORUS_PG_DIR/data/postmaster.pid" ]; then
            _as_postgres "$CHORUS_PG_BIN/pg_ctl" -D "$CHORUS_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$CHORUS_PG_DIR"
    fi
}
