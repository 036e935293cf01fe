# Sourced by .ci/run (and usable by hand: `source .ci/postgres.sh`): makes sure a PostgreSQL
# server is installed from Debian's packages, starts a throw-away cluster on loopback, and
# exports LINTEL_POSTGRES_URL for the store/postgres tests. The cluster is removed on exit.
#
# The install path (a machine without PostgreSQL) was checked in a fresh Debian bookworm
# minbase chroot (debootstrap) with no PostgreSQL, no python3 and no sudo, as root:
# `bash -c 'source .ci/postgres.sh && lintel_pg_start && psql "$LINTEL_POSTGRES_URL" -c "select 1"'`.

# lintel_pg_bin prints the newest server's bin directory, or nothing. It must not fail when
# there is none: .ci/run sources this file under `set -euo pipefail`, where a failing `ls`
# in a pipeline would end the run before the install below.
lintel_pg_bin() {
	local dirs=(/usr/lib/postgresql/*/bin)
	[ -d "${dirs[0]}" ] || return 0
	printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1
}

# lintel_pg_install installs Debian's server package, as root or through sudo. It keeps the
# package from creating and starting its own cluster ("main" on port 5432): the tests make one.
lintel_pg_install() {
	local sudo=()
	if [ "$(id -u)" != 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "lintel_pg_start: PostgreSQL is not installed, and installing it needs root or sudo" >&2
			return 1
		fi
		sudo=(sudo)
	fi
	echo "== installing PostgreSQL from Debian's packages"
	"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d || return 1
	echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/lintel-ci.conf >/dev/null || return 1
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null || return 1
}

# lintel_pg_port prints a free TCP port on 127.0.0.1 (bash only: no python3 needed).
lintel_pg_port() {
	local port i
	for i in $(seq 1 50); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo 55432
}

lintel_pg_start() {
	local bin
	bin=$(lintel_pg_bin)
	if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
		lintel_pg_install || return 1
		bin=$(lintel_pg_bin)
		if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
			echo "lintel_pg_start: the postgresql package installed no server under /usr/lib/postgresql" >&2
			return 1
		fi
	fi
	# PostgreSQL refuses to run as root: run the cluster as the 'postgres' system user
	# (created by the Debian package) or, failing that, as the current user.
	local runas=()
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres || return 1
		runas=(runuser -u postgres --)
	fi
	LINTEL_PG_DIR=$(mktemp -d /tmp/lintel-pg.XXXXXX) || return 1
	chmod 755 "$LINTEL_PG_DIR"
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$LINTEL_PG_DIR" || return 1
	fi
	local port
	port=$(lintel_pg_port)
	"${runas[@]}" "$bin/initdb" -D "$LINTEL_PG_DIR/data" -U lintel --auth=trust -E UTF8 --no-locale >/dev/null || return 1
	"${runas[@]}" "$bin/pg_ctl" -D "$LINTEL_PG_DIR/data" -l "$LINTEL_PG_DIR/log" -w \
		-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$LINTEL_PG_DIR -c max_connections=200" start >/dev/null || {
		cat "$LINTEL_PG_DIR/log" >&2
		return 1
	}
	LINTEL_PG_RUNAS=("${runas[@]}")
	LINTEL_PG_CTL="$bin/pg_ctl"
	trap lintel_pg_stop EXIT
	"$bin/createdb" -h 127.0.0.1 -p "$port" -U lintel lintel_test || return 1
	export LINTEL_POSTGRES_URL="postgres://lintel@127.0.0.1:$port/lintel_test?sslmode=disable"
	echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

lintel_pg_stop() {
	if [ -n "${LINTEL_PG_DIR:-}" ]; then
		"${LINTEL_PG_RUNAS[@]}" "$LINTEL_PG_CTL" -D "$LINTEL_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$LINTEL_PG_DIR"
		LINTEL_PG_DIR=
	fi
}
