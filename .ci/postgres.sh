# Sourced by .ci/run (and usable by hand: `source .ci/postgres.sh`): makes sure a PostgreSQL
# server is installed from Debian's packages, starts a throw-away cluster on loopback, and
# exports LINTEL_POSTGRES_URL for the store/postgres tests. The cluster is removed on exit.

lintel_pg_bin() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

lintel_pg_start() {
	local bin
	bin=$(lintel_pg_bin)
	if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
		echo "== installing PostgreSQL from Debian's packages"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq postgresql >/dev/null
		bin=$(lintel_pg_bin)
	fi
	# PostgreSQL refuses to run as root: run the cluster as the 'postgres' system user
	# (created by the Debian package) or, failing that, as the current user.
	local runas=()
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
		runas=(runuser -u postgres --)
	fi
	LINTEL_PG_DIR=$(mktemp -d /tmp/lintel-pg.XXXXXX)
	chmod 755 "$LINTEL_PG_DIR"
	[ "$(id -u)" = 0 ] && chown postgres "$LINTEL_PG_DIR"
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
	"${runas[@]}" "$bin/initdb" -D "$LINTEL_PG_DIR/data" -U lintel --auth=trust -E UTF8 >/dev/null
	"${runas[@]}" "$bin/pg_ctl" -D "$LINTEL_PG_DIR/data" -l "$LINTEL_PG_DIR/log" -w \
		-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$LINTEL_PG_DIR -c max_connections=200" start >/dev/null
	"$bin/createdb" -h 127.0.0.1 -p "$port" -U lintel lintel_test
	export LINTEL_POSTGRES_URL="postgres://lintel@127.0.0.1:$port/lintel_test?sslmode=disable"
	LINTEL_PG_RUNAS=("${runas[@]}")
	LINTEL_PG_CTL="$bin/pg_ctl"
	trap lintel_pg_stop EXIT
	echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

lintel_pg_stop() {
	if [ -n "${LINTEL_PG_DIR:-}" ]; then
		"${LINTEL_PG_RUNAS[@]}" "$LINTEL_PG_CTL" -D "$LINTEL_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$LINTEL_PG_DIR"
	fi
}
