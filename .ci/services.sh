#!/usr/bin/env bash
# Start PostgreSQL 15, Redis and Elasticsearch on loopback for the test suite, idempotently.
# No systemd here, so every server is started by hand; anything already answering is reused.
#   bash .ci/services.sh start   -> logs on stderr, KEY=VALUE env lines on stdout
#   source .ci/services.sh       -> the same, then exports DATABASE_URL, REDIS_URL, ELASTICSEARCH_URL
# Overridable: ES_VERSION (9.5.0), CI_ES_HTTP_PORT (9200), CI_ES_HOME (/opt/ci-elasticsearch-$ES_VERSION).

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: do the work in a strict child shell so the caller's shell options are untouched.
    _ci_env=$(bash "${BASH_SOURCE[0]}" start) || return 1
    while IFS= read -r _ci_line; do [[ -n $_ci_line ]] && export "${_ci_line?}"; done <<<"$_ci_env"
    unset _ci_env _ci_line
    return 0
fi

set -euo pipefail

ES_VERSION=${ES_VERSION:-9.5.0}
ES_PORT=${CI_ES_HTTP_PORT:-9200}
ES_HOME=${CI_ES_HOME:-/opt/ci-elasticsearch-$ES_VERSION}
ES_USER=esuser                       # Elasticsearch refuses to run as root
ES_URL=http://127.0.0.1:$ES_PORT
REDIS_DIR=/tmp/ci-redis
ES_START_LOG=/tmp/ci-es-start.log

log() { echo "[services] $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

APT_UPDATED=
apt_install() {  # installs only the packages not yet installed; 'apt-get update' at most once
    local p missing=()
    for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    if [[ -z $APT_UPDATED ]]; then apt-get update -qq >&2; APT_UPDATED=1; fi
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

wait_for() {  # wait_for NAME SECONDS CMD...: poll until CMD succeeds
    local name=$1 secs=$2 i; shift 2
    for ((i = 0; i < secs; i++)); do
        if "$@" >/dev/null 2>&1; then log "$name is ready"; return 0; fi
        sleep 1
    done
    echo "[services] ERROR: $name not ready after ${secs}s" >&2
    return 1
}

# ---------------------------------------------------------------- PostgreSQL
pg_admin() { (cd / && runuser -u postgres -- psql -p 5432 -v ON_ERROR_STOP=1 -qAtX "$@"); }

start_postgres() {
    apt_install postgresql                 # Debian 12: PostgreSQL 15; postinst creates cluster 15/main
    pg_lsclusters -h 15 main >/dev/null 2>&1 || pg_createcluster 15 main --port 5432 >&2
    local port; port=$(pg_lsclusters -h 15 main | awk '{print $3}')
    [[ $port == 5432 ]] || die "cluster 15/main is configured for port $port, expected 5432"
    # /run is often a fresh tmpfs without systemd-tmpfiles: make the socket dir ourselves.
    install -d -o postgres -g postgres -m 2775 /var/run/postgresql
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        pg_lsclusters -h 15 main | grep -q online || pg_ctlcluster 15 main start >&2 ||
            { tail -n 20 /var/log/postgresql/postgresql-15-main.log >&2 || true; die "PostgreSQL failed to start"; }
    fi
    wait_for PostgreSQL 60 pg_isready -h 127.0.0.1 -p 5432 || die "PostgreSQL is not answering on 127.0.0.1:5432"
    # Role and database, idempotently (CREATEDB lets tests make scratch databases).
    pg_admin -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'graphql')
                 THEN CREATE ROLE graphql; END IF; END \$\$;" \
             -c "ALTER ROLE graphql WITH LOGIN CREATEDB PASSWORD 'graphql';"
    [[ $(pg_admin -c "SELECT 1 FROM pg_database WHERE datname = 'graphql_api_test'") == 1 ]] ||
        pg_admin -c "CREATE DATABASE graphql_api_test OWNER graphql;"
    PGPASSWORD=graphql psql -h 127.0.0.1 -p 5432 -U graphql -d graphql_api_test -qAtX -c 'SELECT 1' >/dev/null ||
        die "cannot log in as graphql/graphql to graphql_api_test on 127.0.0.1:5432"
}

# ---------------------------------------------------------------- Redis
redis_ping() { [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }

start_redis() {
    apt_install redis-server
    if ! redis_ping; then
        mkdir -p "$REDIS_DIR"
        # Throwaway test cache: no persistence, loopback only.
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir "$REDIS_DIR" \
            --save '' --appendonly no --logfile "$REDIS_DIR/redis.log" --pidfile "$REDIS_DIR/redis.pid" >&2
    fi
    wait_for Redis 30 redis_ping || { tail -n 20 "$REDIS_DIR/redis.log" >&2 || true; die "Redis is not answering on 127.0.0.1:6379"; }
}

# ---------------------------------------------------------------- Elasticsearch
es_healthy() { curl -fsS --max-time 15 "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=10s"; }

find_jdk21() {  # ES 9 needs Java 21+; Debian 12 only packages 17, so look for an installed newer JDK
    local d v
    for d in "${ES_JAVA_HOME:-}" /usr/lib/jvm/temurin-2* /usr/lib/jvm/java-2[1-9]* /usr/lib/jvm/*; do
        [[ -n $d && -x $d/bin/java ]] || continue
        v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
        if [[ ${v%%.*} =~ ^[0-9]+$ ]] && ((${v%%.*} >= 21)); then echo "$d"; return 0; fi
    done
    return 1
}

install_es() {
    [[ -x $ES_HOME/bin/elasticsearch ]] && return 0
    # Not in Debian: the integ-test zip (no bundled JDK) comes from Maven Central, cached in ~/.m2.
    local zip=$HOME/.m2/repository/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip
    if [[ ! -s $zip ]]; then
        command -v mvn >/dev/null || apt_install maven
        log "fetching Elasticsearch $ES_VERSION from Maven Central"
        (cd /tmp && mvn -q -B dependency:copy -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
            -DoutputDirectory=/tmp/ci-es-download) >&2 || die "mvn could not fetch Elasticsearch $ES_VERSION"
        [[ -s $zip ]] || zip=/tmp/ci-es-download/elasticsearch-$ES_VERSION.zip
    fi
    local tmp; tmp=$(mktemp -d "$(dirname "$ES_HOME")/.ci-es-unzip.XXXXXX")
    unzip -q "$zip" -d "$tmp" && mv "$tmp/elasticsearch-$ES_VERSION" "$ES_HOME"   # atomic: no half-unzipped ES_HOME
    rm -rf "$tmp" /tmp/ci-es-download
}

start_es() {
    # Anything already answering HTTP on the port (even ES's 405 on GET /) is reused, not restarted.
    if curl -s -o /dev/null --max-time 5 "$ES_URL/"; then
        log "port $ES_PORT already served; reusing it"
    else
        local jdk; jdk=$(find_jdk21) ||
            die "no Java 21+ JDK under /usr/lib/jvm (Debian 12 only packages OpenJDK 17); set ES_JAVA_HOME"
        install_es
        id -u "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
        chown -R "$ES_USER:" "$ES_HOME"
        local pid; pid=$(cat "$ES_HOME/es.pid" 2>/dev/null || true)
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            log "Elasticsearch (pid $pid) is still starting; waiting for it"
        else
            log "starting Elasticsearch $ES_VERSION with $jdk"
            # -d returns once the node is up; disk thresholds off so a nearly full CI disk can't block shards.
            (cd "$ES_HOME" && runuser -u "$ES_USER" -- env ES_JAVA_HOME="$jdk" ES_JAVA_OPTS='-Xms512m -Xmx512m' \
                bin/elasticsearch -d -p "$ES_HOME/es.pid" -Ediscovery.type=single-node -Enetwork.host=127.0.0.1 \
                -Ehttp.port="$ES_PORT" -Expack.security.enabled=false \
                -Ecluster.routing.allocation.disk.threshold_enabled=false) >"$ES_START_LOG" 2>&1 ||
                { tail -n 30 "$ES_START_LOG" >&2; die "Elasticsearch failed to start (see $ES_HOME/logs)"; }
        fi
    fi
    # GET / answers 405 on this distribution, so readiness is cluster health >= yellow.
    wait_for Elasticsearch 180 es_healthy || die "Elasticsearch at $ES_URL is not healthy (yellow) after 180s"
}

start_all() {
    [[ $(id -u) == 0 ]] || die "must run as root (installs packages and switches users)"
    apt_install curl unzip
    apt_install wrk || log "wrk could not be installed (benchmarks only); continuing"
    start_postgres
    start_redis
    start_es
    printf '%s\n' "DATABASE_URL=postgresql+asyncpg://graphql:graphql@127.0.0.1:5432/graphql_api_test" \
        "REDIS_URL=redis://127.0.0.1:6379/0" "ELASTICSEARCH_URL=$ES_URL"
}

case "${1:-}" in
    start) start_all ;;
    *) echo "usage: $0 start   (or: source $0)" >&2; exit 2 ;;
esac
