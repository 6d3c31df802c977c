# update-tailscale: recreate the Tailscale container only when the
# registry's :stable image changed. Run from the scheduler (see the end of
# this file). RouterOS 7.13+ (:deserialize, fetch output=user-with-headers).
#
# What it does, in order:
#  1. anonymous pull token from the registry's /v2/token realm (the image
#     is public; no credentials live on the router);
#  2. GET the :stable manifest (OCI index or Docker manifest list) and read
#     its Docker-Content-Digest header, case-insensitively;
#  3. same digest as the running container's (kept in its comment):
#     nothing else happens: no pull, no flash write;
#  4. otherwise: stop, remove and re-add the container from :stable, start
#     it, and only once it runs record the new digest.
# Any fetch or parse error ends the script before step 4 with a log line.
# The state mount (/var/lib/tailscale) is never touched: removing a
# container deletes its root-dir only.

# --- settings: match your first deployment -----------------------------
:local registry "gitea.example.com"
:local repo "owner/mikrotik-tailscale"
:local tag "stable"
:local ctName "tailscale"
:local ctInterface "veth-ts"
:local ctRootDir "usb1/tailscale/root"
:local ctMountLists "ts-state,ts-run"
# -------------------------------------------------------------------------

:local log do={ :log info ("tailscale-update: " . $1) }

# ASCII lower-case, so header names match however the server spells them.
:local lower do={
  :local up "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  :local lo "abcdefghijklmnopqrstuvwxyz"
  :local out ""
  :for i from=0 to=([:len $1] - 1) do={
    :local c [:pick $1 $i]
    :local k [:find $up $c]
    :if ([:typeof $k] = "num") do={ :set c [:pick $lo $k] }
    :set out ($out . $c)
  }
  :return $out
}

:local digest ""
:do {
  :local tokURL ("https://" . $registry . "/v2/token\?scope=repository:" . $repo . ":pull")
  :local t [/tool/fetch url=$tokURL output=user as-value]
  :if (($t->"status") != "finished") do={ :error "token request did not finish" }
  :local token ([:deserialize from=json value=($t->"data")]->"token")
  :if ([:len $token] = 0) do={ :error "no token in the registry's answer" }

  :local manURL ("https://" . $registry . "/v2/" . $repo . "/manifests/" . $tag)
  :local hdrs ("Authorization: Bearer " . $token . \
    ",Accept: application/vnd.oci.image.index.v1+json" . \
    ",Accept: application/vnd.docker.distribution.manifest.list.v2+json")
  :local m [/tool/fetch url=$manURL http-header-field=$hdrs output=user-with-headers as-value]
  :if (($m->"status") != "finished") do={ :error "manifest request did not finish" }

  :local text [$lower [:tostr $m]]
  :local at [:find $text "docker-content-digest"]
  :if ([:typeof $at] != "num") do={ :error "no Docker-Content-Digest header" }
  :local from [:find $text "sha256:" $at]
  :if ([:typeof $from] != "num") do={ :error "Docker-Content-Digest is not a sha256 digest" }
  :set digest [:pick $text $from ($from + 71)]
  :if ([:len $digest] != 71) do={ :error "truncated digest" }
} on-error={
  :set digest ""
}

:if ([:len $digest] = 0) do={
  $log "registry check failed; nothing changed"
} else={
  :local ct [/container/find where name=$ctName]
  :local current ""
  :if ([:len $ct] > 0) do={ :set current [/container/get $ct comment] }
  :if ($current = $digest) do={
    $log ("unchanged at " . $digest)
  } else={
    $log ("new image " . $digest . ", recreating " . $ctName)
    :local ok true
    :if ([:len $ct] > 0) do={
      /container/stop $ct
      # remove fails while the container is still stopping: retry it.
      :local removed false
      :for i from=1 to=30 do={
        :if (!$removed) do={
          :do { /container/remove $ct; :set removed true } on-error={ :delay 2s }
        }
      }
      :if (!$removed) do={ $log "could not remove the old container"; :set ok false }
    }
    :if ($ok) do={
      /container/add name=$ctName remote-image=($registry . "/" . $repo . ":" . $tag) \
        interface=$ctInterface root-dir=$ctRootDir mountlists=$ctMountLists \
        start-on-boot=yes logging=yes
      # start fails until the image is pulled and extracted: retry it.
      :local started false
      :for i from=1 to=90 do={
        :if (!$started) do={
          :do { /container/start [/container/find where name=$ctName]; :set started true } on-error={ :delay 5s }
        }
      }
      :delay 10s
      :local new [/container/find where name=$ctName]
      :local running false
      :do { :set running ([/container/get $new running] = true) } on-error={
        :do { :set running ([/container/get $new status] = "running") } on-error={}
      }
      :if ($started and $running) do={
        # Recorded only now: a failed update is retried on the next run.
        /container/set $new comment=$digest
        $log ("running " . $digest)
      } else={
        $log "new container is not running; digest not recorded, will retry next run"
      }
    }
  }
}

# Scheduler (run once, in the terminal):
# /system/script add name=update-tailscale policy=read,write,policy,test \
#     source=[/file get update-tailscale.rsc contents]
# /system/scheduler add name=update-tailscale interval=6h start-time=startup \
#     on-event="/system/script run update-tailscale" policy=read,write,policy,test
