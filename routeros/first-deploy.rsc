# First deployment of the Tailscale container on RouterOS 7.21 or later
# (container package installed). Edit the names, addresses, disk (usb1)
# and registry below, and the settings at the top of update-tailscale.rsc
# to match; copy both files to the router, then run:
#   /import file-name=first-deploy.rsc
# Sections 0 to 0c only read: when one of them stops, nothing has changed.
# The container itself is created by update-tailscale, which records the
# digest it deployed, so its first scheduled run pulls nothing.
# It can be run again: what exists is kept as it is (it says so), and the
# updater is replaced by the copy of update-tailscale.rsc next to it.

# 0. RouterOS 7.21 or later (mountlists=, /container/mounts list=). The
#    7.21-only commands below go through :parse, so that an older router
#    stops here with this message instead of a syntax error.
:local ver [/system/resource get version]
:local dot [:find $ver "."]
:local minor [:tonum [:pick $ver ($dot + 1) ($dot + 3)]]
:if ([:typeof $minor] != "num") do={ :set minor 0 }
:if (([:tonum [:pick $ver 0 $dot]] * 100 + $minor) < 721) do={
  :error ("needs RouterOS 7.21 or later, this router runs " . $ver . "; nothing changed")
}
:local kept do={ :put ($1 . " exists: kept as it is") }

# 0a. One updater run at a time: an import during a run (a first pull can
#     take 15 minutes) would replace the script under it.
:if ([:len [/system/script/job find where script=update-tailscale]] > 0) do={
  :error "update-tailscale is running (/system/script/job print); nothing changed. Import this file again once it has ended (a run that hangs: /system/script/job remove [find where script=update-tailscale])"
}

# 0b. Device mode: containers, fetch (the updater's registry check) and the
#     scheduler (the run at boot, the updates) must be allowed; the "home"
#     mode some routers ship in allows none of them. One command turns on
#     what is missing; RouterOS then waits for a physical confirmation.
:local on do={ :return (($1 = true) or ($1 = "yes") or ($1 = "true")) }
:local dmOff ""
:if (![$on [/system/device-mode get container]]) do={ :set dmOff ($dmOff . " container=yes") }
:if (![$on [/system/device-mode get fetch]]) do={ :set dmOff ($dmOff . " fetch=yes") }
:if (![$on [/system/device-mode get scheduler]]) do={ :set dmOff ($dmOff . " scheduler=yes") }
:if ([:len $dmOff] > 0) do={
  :error ("device-mode does not allow what the container needs; nothing changed. Run  /system/device-mode/update" . \
    $dmOff . "  then, within 5 minutes, press the reset button briefly or power-cycle the router (a cold reboot), and import this file again")
}

# 0c. Router-wide container settings: registry-url and tmpdir apply to
#     every container on this router. registry-url is set only where it is
#     unset, already this registry, or nothing else uses it (no other
#     container); tmpdir only where unset. Otherwise it stops here.
:local registryUrl "https://gitea.example.com"
:local tmpDir "usb1/tmp"
:local curUrl [/container/config get registry-url]
:local others 0
:foreach c in=[/container/find] do={
  :local n ([/container/get $c]->"name")
  :if (($n != "tailscale") and ($n != "tailscale-next")) do={ :set others ($others + 1) }
}
:local setUrl (([:len $curUrl] = 0) or ($others = 0))
:if ((!$setUrl) and ($curUrl != $registryUrl) and ($curUrl != ($registryUrl . "/"))) do={
  :error ("/container/config registry-url is " . $curUrl . " and " . $others . " other container(s) may pull from it; " . \
    "the updater needs " . $registryUrl . ". Nothing changed: point registry-url there yourself if they can follow " . \
    "(/container/config set registry-url=" . $registryUrl . ") and import this file again, or add the image from a file (the end of this file)")
}

# 1. Network: a veth on its own bridge, NAT to the outside, and a route to
#    the tailnet through the container.
:if ([:len [/interface/veth find where name=veth-ts]] = 0) do={
  /interface/veth add name=veth-ts address=172.17.0.2/24 gateway=172.17.0.1
} else={ $kept "veth veth-ts" }
:if ([:len [/interface/bridge find where name=br-containers]] = 0) do={
  /interface/bridge add name=br-containers
} else={ $kept "bridge br-containers" }
:if ([:len [/interface/bridge/port find where bridge=br-containers and interface=veth-ts]] = 0) do={
  /interface/bridge/port add bridge=br-containers interface=veth-ts
} else={ $kept "bridge port veth-ts" }
:if ([:len [/ip/address find where address=172.17.0.1/24 and interface=br-containers]] = 0) do={
  /ip/address add address=172.17.0.1/24 interface=br-containers
} else={ $kept "address 172.17.0.1/24" }
:if ([:len [/ip/firewall/nat find where chain=srcnat and action=masquerade and src-address=172.17.0.0/24]] = 0) do={
  /ip/firewall/nat add chain=srcnat action=masquerade src-address=172.17.0.0/24
} else={ $kept "masquerade for 172.17.0.0/24" }
:if ([:len [/ip/route find where dst-address=100.64.0.0/10 and gateway=172.17.0.2]] = 0) do={
  /ip/route add dst-address=100.64.0.0/10 gateway=172.17.0.2
} else={ $kept "route to 100.64.0.0/10" }

# 2. Storage: state on disk (written at login and key rotation only), the
#    daemon socket on a RAM disk so it never touches flash (the updater's
#    health probe answers through it too).
:if ([:len [/disk find where slot=ts-run]] = 0) do={
  /disk add type=tmpfs tmpfs-max-size=1M slot=ts-run
} else={ $kept "disk ts-run" }
:local mounts [:parse (":if ([:len [/container/mounts find where list=ts-state]] = 0) do={ " . \
  "/container/mounts add list=ts-state src=/usb1/tailscale/state dst=/var/lib/tailscale" . \
  " } else={ :put \"mount list ts-state exists: kept as it is\" }; " . \
  ":if ([:len [/container/mounts find where list=ts-run]] = 0) do={ " . \
  "/container/mounts add list=ts-run src=/ts-run dst=/var/run/tailscale" . \
  " } else={ :put \"mount list ts-run exists: kept as it is\" }")]
$mounts

# 2b. Login and routes: the container's environment list ts-env (docs/
#     USAGE.md section 5 lists every variable). With an auth key the router
#     logs in by itself; with "" it waits for `tailscale login` in
#     /container/shell. The key is used once: remove it after the login
#     (/container/envs remove [find where list=ts-env and key=TS_AUTHKEY]).
#     Headscale: TS_EXTRA_ARGS "--login-server=https://... --advertise-exit-node".
:local env {"TS_AUTHKEY"="";"TS_HOSTNAME"="office-router";"TS_ROUTES"="192.168.88.0/24";"TS_EXTRA_ARGS"="--advertise-exit-node"}
:local envAdd [:parse (":if ([:len [/container/envs find where list=ts-env and key=\$k]] = 0) do={ " . \
  "/container/envs add list=ts-env key=\$k value=\$v" . \
  " } else={ :put (\"variable \" . \$k . \" in ts-env exists: kept as it is\") }")]
:foreach k,v in=$env do={ :if ([:len $v] > 0) do={ $envAdd k=$k v=$v } }

# 3. Registry: RouterOS pulls from registry-url; the image name carries no
#    host (update-tailscale checks that this names its registry). Section
#    0c decided what may change.
:if ($setUrl and ($curUrl != $registryUrl)) do={
  /container/config set registry-url=$registryUrl
  :if ([:len $curUrl] > 0) do={ :put ("registry-url was " . $curUrl . " (no other container uses it): now " . $registryUrl) }
} else={ :put ("registry-url " . $curUrl . ": kept as it is") }
:local curTmp [/container/config get tmpdir]
:if ([:len $curTmp] = 0) do={ /container/config set tmpdir=$tmpDir } else={ :put ("tmpdir " . $curTmp . ": kept as it is") }

# 4. The updater and its scheduler first, then its first run in the
#    background: the scheduler exists whatever becomes of that run (an
#    error, a closed terminal) and runs the updater at boot, which finishes
#    or rolls back a run cut short, and every 6 h; its one-run lock keeps
#    the two apart. The run creates the container from the first-deployment
#    settings at its top (the pull can take minutes); on a router that has
#    it already, it is an ordinary update check. This waits for it up to
#    20 min, then prints its log lines.
:if ([:len [/file get update-tailscale.rsc contents]] != [/file get update-tailscale.rsc size]) do={
  :error "update-tailscale.rsc cannot be read whole: nothing changed; paste it into a new script (System > Scripts) instead"
}
/system/script remove [find where name=update-tailscale]
/system/scheduler remove [find where name=update-tailscale]
/system/script add name=update-tailscale policy=read,write,policy,test \
    source=[/file get update-tailscale.rsc contents]
/system/scheduler add name=update-tailscale interval=6h start-time=startup \
    on-event="/system/script run update-tailscale" policy=read,write,policy,test
:execute script="/system/script run update-tailscale"
:put "update-tailscale runs (it goes on if this terminal closes); waiting for it"
:local waited 0
:delay 2s
:while (([:len [/system/script/job find where script=update-tailscale]] > 0) and ($waited < 1200)) do={
  :delay 10s
  :set waited ($waited + 10)
}
:if ([:len [/system/script/job find where script=update-tailscale]] > 0) do={
  :put "update-tailscale still runs after 20 min; it goes on by itself: /log print where message~\"tailscale-update\""
}
:put "update-tailscale's log lines:"
/log print where message~"tailscale-update"

# Without a registry, instead of 3 and 4 (no automatic updates): the
# per-platform tarball (`dagger call tarball --arch ...`) copied to the router.
# /container add name=tailscale file=usb1/mikrotik-tailscale-armv7.tar \
#     entrypoint=/usr/local/bin/start interface=veth-ts root-dir=usb1/tailscale/root \
#     envlists=ts-env mountlists=ts-state,ts-run start-on-boot=yes logging=yes
# /container start [find where name=tailscale]
