#!/bin/sh
# Entrypoint: forwarding on, TS_* environment to tailscaled's config on
# tmpfs, then tailscaled. docs/USAGE.md lists the variables.
# It runs alike however the runtime starts it (RouterOS 7.22+ may ignore
# the image's Entrypoint, Cmd and Env): tailscaled's flags are here, not in
# Cmd; its own path as first argument (cmd= naming it beside the image's
# Entrypoint) is dropped; PATH is the image's, which a shell started
# without one cannot tell from its own default.
[ "${1-}" != @START@ ] || shift
export PATH=@PATH@
: "${SSL_CERT_DIR:=/var/lib/tailscale/extra-ca}"
export SSL_CERT_DIR
for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding; do
	[ "$(cat "$f" 2>/dev/null)" = 1 ] || echo 1 2>/dev/null >"$f" || echo "start: cannot enable $f; routes and exit node will not forward" >&2
done

die() { echo "start: $*" >&2; exit 64; }
# pick NAME...: v, from = the value of the one set; two that differ: refused.
pick() {
	v= from=
	for n; do
		eval "x=\${$n-}"
		[ -n "$x" ] || continue
		[ -z "$from" ] || [ "$x" = "$v" ] || die "$from and $n differ: set one"
		v=$x from=$n
	done
}
# also NAME VALUE WHERE: a setting given a second way must agree.
also() {
	eval "x=\$$1"
	[ -z "$x" ] || [ "$x" = "$2" ] || die "$3 differs from another setting of the same: set one"
	eval "$1=\$2"
}
# s NAME VALUE: j = VALUE as a JSON string.
s() {
	case $2 in *[[:cntrl:]]*) die "$1: control characters are not accepted" ;; esac
	j=\"$(printf %s "$2" | sed 's/[\\"]/\\&/g')\"
}
# b NAME VALUE: j = true or false.
b() {
	case $2 in
	true | 1 | yes) j=true ;;
	false | 0 | no) j=false ;;
	*) die "$1=$2: accepted: true or false" ;;
	esac
}
# r NAME LIST: j = the comma-separated IP prefixes as a JSON array.
r() {
	case $2 in ,* | *, | *,,*) die "$1: \"$2\" has an empty entry" ;; esac
	j= o=$IFS
	IFS=,
	for p in $2; do
		case $p in "" | *[!0-9A-Fa-f:./]*) die "$1: \"$p\" is not an IP prefix such as 192.168.88.0/24" ;; esac
		j=$j${j:+,}\"$p\"
	done
	IFS=$o
	j=[$j]
}
ok="--login-server --hostname --advertise-routes --auth-key --advertise-exit-node --exit-node --exit-node-allow-lan-access --accept-routes --accept-dns --snat-subnet-routes --shields-up"
# flag WHERE FLAG [VALUE]: one tailscale up flag of TS_EXTRA_ARGS.
flag() {
	case $2 in
	--login-server) also server "$3" "$1 $2" ;;
	--hostname) also host "$3" "$1 $2" ;;
	--advertise-routes) also routes "$3" "$1 $2" ;;
	--auth-key | --authkey) also key "$3" "$1 $2" ;;
	--exit-node) also exitnode "$3" "$1 $2" ;;
	--advertise-exit-node | --exit-node-allow-lan-access | --accept-routes | --accept-dns | --snat-subnet-routes | --shields-up)
		b "$1 $2" "${3-true}"
		eval "f_$(echo "${2#--}" | tr - _)=\$j" ;;
	*) die "$1: $2 is not accepted here; accepted: $ok" ;;
	esac
}

set -f
conf=
pick TS_AUTHKEY TS_AUTH_KEY AUTH_KEY; key=$v
pick TS_HOSTNAME; host=$v
pick TS_ROUTES ADVERTISE_ROUTES; routes=$v
pick LOGIN_SERVER; server=$v
pick TS_ACCEPT_DNS; dns=$v
pick TS_AUTH_ONCE; once=${v:-true}
pick TS_EXTRA_ARGS TAILSCALE_ARGS; xa=$v xfrom=$from
pick TS_TAILSCALED_EXTRA_ARGS TAILSCALED_ARGS; xd=$v
exitnode= f_advertise_exit_node= f_exit_node_allow_lan_access= f_accept_routes= f_accept_dns= f_snat_subnet_routes= f_shields_up=
pend=
for a in $xa; do
	if [ -n "$pend" ]; then
		flag "$xfrom" "$pend" "$a"
		pend=
		continue
	fi
	case $a in --*) ;; -*) a=-$a ;; esac
	case $a in
	--*=*) flag "$xfrom" "${a%%=*}" "${a#*=}" ;;
	--login-server | --hostname | --advertise-routes | --auth-key | --authkey | --exit-node) pend=$a ;;
	*) flag "$xfrom" "$a" ;;
	esac
done
[ -z "$pend" ] || die "$xfrom: $pend needs a value"
[ -z "$dns" ] || { b TS_ACCEPT_DNS "$dns"; also f_accept_dns "$j" TS_ACCEPT_DNS; }

if [ -n "$key$host$routes$server$dns$xa" ]; then
	conf=/var/run/tailscale/env.json
	b TS_AUTH_ONCE "$once"
	# Auth once: after a login tailscaled.state has a profile, and a key
	# (perhaps spent or revoked since) is not sent to control again.
	[ "$j" = false ] || ! grep -qs '"_current-profile"' /var/lib/tailscale/tailscaled.state || key=
	c='"Version":"alpha0","Locked":false'
	for k in ServerURL:server AuthKey:key Hostname:host exitNode:exitnode; do
		eval "x=\$${k#*:}"
		[ -z "$x" ] || { s "${k%%:*}" "$x"; c="$c,\"${k%%:*}\":$j"; }
	done
	[ -z "$routes" ] || { r "advertised routes" "$routes"; c="$c,\"AdvertiseRoutes\":$j"; }
	c="$c,\"acceptDNS\":${f_accept_dns:-false},\"acceptRoutes\":${f_accept_routes:-false}"
	for k in AdvertiseExitNode:f_advertise_exit_node allowLANWhileUsingExitNode:f_exit_node_allow_lan_access ShieldsUp:f_shields_up; do
		eval "x=\$${k#*:}"
		[ -z "$x" ] || c="$c,\"${k%%:*}\":$x"
	done
	case $f_snat_subnet_routes in true) c="$c,\"DisableSNAT\":false" ;; false) c="$c,\"DisableSNAT\":true" ;; esac
	(umask 077 && printf '{%s}\n' "$c" >"$conf") || die "cannot write $conf"
	[ ! -e /var/lib/tailscale/tailscaled.json ] || echo "start: configured from the environment; /var/lib/tailscale/tailscaled.json is not read" >&2
fi
# Split, not globbed (set -f); the arguments after the defaults and
# --config last, so that each later flag wins.
# shellcheck disable=SC2086
exec /usr/local/bin/tailscaled @DAEMON_FLAGS@ "$@" $xd ${conf:+--config=$conf}
