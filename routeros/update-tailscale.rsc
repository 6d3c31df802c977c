# update-tailscale: keep the Tailscale container on the registry's :stable
# image. RouterOS 7.21 or later. first-deploy.rsc installs it and runs it
# once (the first deployment); then the scheduler runs it every 6 h.
#
# Each run:
#  1. asks the registry, anonymously, for the digest of :stable (the image
#     is public; no credentials live on the router; certificates checked);
#  2. the container's comment holds the digest it was created from: same
#     digest, nothing else happens (no pull, no flash write);
#  3. otherwise it recreates the container from :stable with every setting
#     of the old one (no container yet: the first-deployment settings
#     below), starts it, and records the digest once the new container
#     runs and :stable still has that digest. A digest whose container
#     does not start is tried 3 times, then left alone until :stable moves.
# The state mount is never touched: removing a container deletes its
# root-dir only.

# --- settings ------------------------------------------------------------
:local registry "gitea.example.com"
:local repo "owner/mikrotik-tailscale"
:local tag "stable"
:local ctName "tailscale"
# First deployment only (no container named $ctName yet). Later runs copy
# the container's own settings: change those with /container/set.
:local first [:toarray ""]
:set ($first->"interface") "veth-ts"
:set ($first->"root-dir") "usb1/tailscale/root"
:set ($first->"mountlists") "ts-state,ts-run"
:set ($first->"start-on-boot") true
:set ($first->"logging") true
:set ($first->"check-certificate") true
:set ($first->"cmd") ""
:set ($first->"envlists") ""
:set ($first->"hostname") ""
# -------------------------------------------------------------------------

# The container's comment: "mikrotik-tailscale <digest>" once it ran,
# "mikrotik-tailscale failed <n> <digest>" after n tries that did not.
:local cPrefix "mikrotik-tailscale "
:local cFailed "failed "
:local maxTries 3

# /container add|set arguments copied from the old container: the union of
# RouterOS 7.21-7.24's, without name, remote-image, file, copy-from and
# comment (set here). Read-only keys (arch, os, repo, status, running, ...)
# are not in it, so they are never copied.
:local copyKeys [:toarray ("auto-restart-interval,check-certificate,cmd,cpu-list," . \
  "default-dns,devices,dns,domain-name,entrypoint,env,envlists,healthcheck-cmd," . \
  "healthcheck-interval,healthcheck-retries,healthcheck-start-interval," . \
  "healthcheck-start-period,healthcheck-status,healthcheck-timeout,hostname,hosts," . \
  "ignore-remote-image-change,interface,layer-dir,logging,memory-high,memory-max," . \
  "mount,mountlists,privileged,restart-interval,restart-max-count,restart-policy," . \
  "root-dir,shell,shm-size,start-on-boot,stop-on-unhealthy,stop-signal,stop-time," . \
  "swap-max,tmpfs,user,workdir")]

:local log do={ :log info ("tailscale-update: " . $1) }
:local warn do={ :log warning ("tailscale-update: " . $1) }

# RouterOS 7.21 or later (mountlists=, /container/mounts list=). The
# container add is built as text and run through :parse, so that an older
# router (from 7.13 on: :deserialize) parses this script and says why here.
:local ver [/system/resource get version]
:local dot [:find $ver "."]
:local minor [:tonum [:pick $ver ($dot + 1) ($dot + 3)]]
:if ([:typeof $minor] != "num") do={ :set minor 0 }
:if (([:tonum [:pick $ver 0 $dot]] * 100 + $minor) < 721) do={
  :log error ("tailscale-update: needs RouterOS 7.21 or later, this router runs " . $ver . "; nothing changed")
  :error ("needs RouterOS 7.21 or later, this router runs " . $ver)
}

# A value from [/container/get] in CLI syntax: yes/no, lists comma-joined,
# quoted with \ " $ ? escaped.
:local cli do={
  :local s ""
  :if ([:typeof $1] = "bool") do={
    :set s "no"
    :if ($1) do={ :set s "yes" }
  } else={
    :if ([:typeof $1] = "array") do={
      :foreach e in=$1 do={ :set s ($s . "," . [:tostr $e]) }
      :set s [:pick $s 1 [:len $s]]
    } else={ :set s [:tostr $1] }
  }
  :local out ""
  # (:for counts down when to= is below from=: no loop over "".)
  :if ([:len $s] > 0) do={
    :for i from=0 to=([:len $s] - 1) do={
      :local c [:pick $s $i]
      :if ([:typeof [:find "\\\"\$\?" $c]] = "num") do={ :set out ($out . "\\") }
      :set out ($out . $c)
    }
  }
  :return ("\"" . $out . "\"")
}

# The id of the container named $1, or nothing.
:local findCt do={
  :local found
  :foreach id in=[/container/find] do={
    :if (([/container/get $id]->"name") = $1) do={ :set found $id }
  }
  :return $found
}

# Running, in every form RouterOS reports it: running=true (7.20+, bool or
# string) or status=running (7.19 and older). Read from the whole item, so
# a key this version lacks is no error.
:local isRunning do={
  :local r false
  :do {
    :local a [/container/get $1]
    :set r ((($a->"running") = true) or (($a->"running") = "true") or (($a->"status") = "running"))
  } on-error={}
  :return $r
}

# The digest of $repo:$tag ("sha256:" and 64 hex digits), or "" on any
# error: anonymous pull token, then the manifest (OCI index or Docker
# manifest list) and its Docker-Content-Digest header, in any case.
:local queryDigest do={
  :local digest ""
  :do {
    :local t [/tool/fetch check-certificate=yes output=user as-value \
      url=("https://" . $registry . "/v2/token\?scope=repository:" . $repo . ":pull")]
    :if (($t->"status") != "finished") do={ :error "token request did not finish" }
    :local token ([:deserialize from=json value=($t->"data")]->"token")
    :if ([:len $token] = 0) do={ :error "no token in the registry's answer" }
    :local m [/tool/fetch check-certificate=yes output=user-with-headers as-value \
      url=("https://" . $registry . "/v2/" . $repo . "/manifests/" . $tag) \
      http-header-field=("Authorization: Bearer " . $token . \
        ",Accept: application/vnd.oci.image.index.v1+json" . \
        ",Accept: application/vnd.docker.distribution.manifest.list.v2+json")]
    :if (($m->"status") != "finished") do={ :error "manifest request did not finish" }
    :local s [:tostr $m]
    :local up "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    :local lo "abcdefghijklmnopqrstuvwxyz"
    :local text ""
    :for i from=0 to=([:len $s] - 1) do={
      :local c [:pick $s $i]
      :local k [:find $up $c]
      :if ([:typeof $k] = "num") do={ :set c [:pick $lo $k] }
      :set text ($text . $c)
    }
    :local at [:find $text "docker-content-digest"]
    :if ([:typeof $at] != "num") do={ :error "no Docker-Content-Digest header" }
    :local from [:find $text "sha256:" $at]
    :if ([:typeof $from] != "num") do={ :error "not a sha256 digest" }
    :set digest [:pick $text $from ($from + 71)]
    :if ([:len $digest] != 71) do={ :set digest "" }
  } on-error={ :set digest "" }
  :return $digest
}

:local go true

# The registry this script asks must be the one RouterOS pulls from
# (remote-image carries no host: MikroTik documents registry-url for that).
:local url [/container/config get registry-url]
:if ([:pick $url 0 8] = "https://") do={ :set url [:pick $url 8 [:len $url]] }
:if ([:pick $url ([:len $url] - 1)] = "/") do={ :set url [:pick $url 0 ([:len $url] - 1)] }
:if ($url != $registry) do={
  $warn ("/container/config registry-url is not https://" . $registry . \
    ": run /container/config set registry-url=https://" . $registry . "; nothing changed")
  :set go false
}

:local digest ""
:if ($go) do={
  :set digest [$queryDigest registry=$registry repo=$repo tag=$tag]
  :if ($digest = "") do={ $warn "registry check failed; nothing changed"; :set go false }
}

# What the comment says about earlier runs.
:local ct [$findCt $ctName]
:local exists ([:typeof $ct] = "id")
:local tries 1
:if ($go and $exists) do={
  :local comment [:tostr ([/container/get $ct]->"comment")]
  :if ([:pick $comment 0 [:len $cPrefix]] = $cPrefix) do={
    :local rest [:pick $comment [:len $cPrefix] [:len $comment]]
    :if ($rest = $digest) do={ $log ("unchanged at " . $digest); :set go false }
    :local sp [:find $rest " " [:len $cFailed]]
    :if (([:pick $rest 0 [:len $cFailed]] = $cFailed) and ([:typeof $sp] = "num")) do={
      :if ([:pick $rest ($sp + 1) [:len $rest]] = $digest) do={
        :set tries ([:tonum [:pick $rest [:len $cFailed] $sp]] + 1)
        :if ($tries > $maxTries) do={
          $warn ($digest . " did not start in " . $maxTries . " tries; left alone until :stable moves")
          :set go false
        }
      }
    }
  }
}

# Recreate: the old container's settings, or the first-deployment ones.
:local settings $first
:if ($go and $exists) do={
  :set settings [/container/get $ct]
  $log ("new image " . $digest . ": recreating " . $ctName . " with its settings")
  :do { /container/stop $ct } on-error={}
  # remove fails while the container is still stopping: retry it.
  :local removed false
  :for i from=1 to=30 do={
    :if (!$removed) do={ :do { /container/remove $ct; :set removed true } on-error={ :delay 2s } }
  }
  :if (!$removed) do={ $warn "could not remove the old container; nothing else changed"; :set go false }
}
:if ($go and !$exists) do={ $log ("no container named " . $ctName . ": first deployment of " . $digest) }

:if ($go) do={
  # Written as a failed try until it has run, so a run that dies midway
  # (reboot, full disk) counts as one of the tries.
  :local add ("/container/add name=" . [$cli $ctName] . " remote-image=" . \
    [$cli ($repo . ":" . $tag)] . " comment=" . [$cli ($cPrefix . $cFailed . $tries . " " . $digest)])
  :foreach k,v in=$settings do={
    :if (([:typeof [:find $copyKeys $k]] = "num") and ([:len [:tostr $v]] > 0)) do={
      :set add ($add . " " . $k . "=" . [$cli $v])
    }
  }
  # The old root-dir may still be being deleted: retry for a minute.
  :local added false
  :for i from=1 to=12 do={
    :if (!$added) do={ :do { :local f [:parse $add]; $f; :set added true } on-error={ :delay 5s } }
  }
  :if (!$added) do={ $warn ("could not add the container: " . $add); :set go false }
}

:if ($go) do={
  :local new [$findCt $ctName]
  # start fails until the image is pulled and extracted: up to ~10 min.
  :local started false
  :for i from=1 to=120 do={
    :if (!$started) do={ :do { /container/start $new; :set started true } on-error={ :delay 5s } }
  }
  # Running within ~3 min, and still running 15 s later.
  :local running false
  :if ($started) do={
    :for i from=1 to=36 do={ :if (!$running) do={ :delay 5s; :set running [$isRunning $new] } }
    :if ($running) do={ :delay 15s; :set running [$isRunning $new] }
  }
  :if ($running) do={
    # Recorded only if :stable still has the digest asked for before the
    # pull, so the pull got that one. Otherwise the next run pulls once
    # more: harmless, where recording a digest not deployed is not.
    :if ([$queryDigest registry=$registry repo=$repo tag=$tag] = $digest) do={
      /container/set $new comment=($cPrefix . $digest)
      $log ("running " . $digest)
    } else={
      /container/set $new comment=""
      $warn "running, but :stable could not be confirmed; digest not recorded"
    }
  } else={
    $warn ($digest . " did not start (try " . $tries . " of " . $maxTries . "); see its log lines")
  }
}
