# update-tailscale: keep the Tailscale container on the registry's :stable
# image, and never leave the router without a working one. RouterOS 7.21 or
# later. first-deploy.rsc installs it and runs it once; then the scheduler
# runs it at boot and every 6 h. docs/UPDATES.md lists every state it
# writes and what a failure at each step leaves behind.
#
# Each run:
#  1. finishes, or rolls back, a run that a reboot or power loss cut short;
#  2. asks the registry, anonymously, for the digest of :stable: the
#     Docker-Content-Digest header, "sha256:" and 64 hex digits or nothing
#     (certificates checked);
#  3. the container's comment holds the digest it runs: same digest,
#     nothing else happens (no pull, no flash write);
#  4. otherwise it adds the new image as a second container, $nextName,
#     stopped, start-on-boot=no, in a root-dir of its own, beside the
#     running one; waits until it is extracted; stops the old one, starts
#     the new one and waits until it is healthy (tshealth: tailscaled is
#     logged in and running). Healthy: the new one takes start-on-boot and
#     the name and the old one is removed. Not healthy within ~3 min: the
#     new one is stopped and removed and the old one started again. A digest
#     that fails 3 times is left alone until :stable moves.
# With no container at all it creates one from the first-deployment
# settings below, but only on a router where it never deployed one (the
# file $marker says it did). The state mount is never touched: removing a
# container deletes its root-dir only.

# --- settings ------------------------------------------------------------
:local registry "gitea.example.com"
:local repo "owner/mikrotik-tailscale"
:local tag "stable"
:local ctName "tailscale"
# The router's path of the directory mounted at /var/run/tailscale (first-
# deploy.rsc: the tmpfs disk ts-run). The health probe answers through it.
:local runDir "ts-run"
# healthcheck-cmd for a container without one, on RouterOS 7.23 and newer.
:local healthCmd "/bin/tshealth"
# First deployment only (no container named $ctName, none ever deployed).
# Later runs copy the container's own settings: change those with
# /container/set.
:local first [:toarray ""]
:set ($first->"interface") "veth-ts"
:set ($first->"root-dir") "usb1/tailscale/root"
:set ($first->"mountlists") "ts-state,ts-run"
:set ($first->"start-on-boot") true
:set ($first->"logging") true
:set ($first->"check-certificate") true
:set ($first->"cmd") ""
:set ($first->"entrypoint") "/usr/local/bin/start"
:set ($first->"envlists") "ts-env"
:set ($first->"hostname") ""
# -------------------------------------------------------------------------

# The comments this script writes (the comment belongs to the script):
#  "mikrotik-tailscale <digest>"                 runs <digest>, passed;
#  "mikrotik-tailscale <d> failed <n> <digest>"  runs <d>; <n> tries of
#                                                <digest> did not pass;
#  "mikrotik-tailscale next <n> <digest>"        the candidate, try <n>.
# <d> is "unknown" when the digest it runs is not known.
:local cPrefix "mikrotik-tailscale "
:local cFailed "failed "
:local cNext "next "
:local cUnknown "unknown"
:local nextName ($ctName . "-next")
# The image's start script: every container this script adds names it as
# its entrypoint, since RouterOS 7.22+ may not read the image's own.
:local entry "/usr/local/bin/start"
:local marker "update-tailscale.deployed"
:local maxTries 3
# A run that leaves no container of ours running adds this scheduler
# entry: a run every 5 min instead of waiting for the 6-h one, for an hour
# at most ($retryMax runs); removed by the first run that leaves one running.
:local retryName "update-tailscale-retry"
:local retryMax 12

# /container add|set arguments copied from the old container: the union of
# RouterOS 7.21-7.24's, without name, remote-image, file, copy-from and
# comment (set here) and healthcheck-status (the manual calls it the
# current health status: the old container's would describe the old one).
# Read-only keys (arch, os, running, ...) are not in it, so never copied.
:local copyKeys [:toarray ("auto-restart-interval,check-certificate,cmd,cpu-list," . \
  "default-dns,devices,dns,domain-name,entrypoint,env,envlists,healthcheck-cmd," . \
  "healthcheck-interval,healthcheck-retries,healthcheck-start-interval," . \
  "healthcheck-start-period,healthcheck-timeout,hostname,hosts," . \
  "ignore-remote-image-change,interface,layer-dir,logging,memory-high,memory-max," . \
  "mount,mountlists,privileged,restart-interval,restart-max-count,restart-policy," . \
  "root-dir,shell,shm-size,start-on-boot,stop-on-unhealthy,stop-signal,stop-time," . \
  "swap-max,tmpfs,user,workdir")]

:local log do={ :log info ("tailscale-update: " . $1) }
:local warn do={ :log warning ("tailscale-update: " . $1) }

# RouterOS 7.21 or later (mountlists=, /container/mounts list=). The
# container adds are built as text and run through :parse, so that an older
# router (from 7.13 on: :deserialize) parses this script and says why here.
:local ver [/system/resource get version]
:local dot [:find $ver "."]
:local minor [:tonum [:pick $ver ($dot + 1) ($dot + 3)]]
:if ([:typeof $minor] != "num") do={ :set minor 0 }
:if (([:tonum [:pick $ver 0 $dot]] * 100 + $minor) < 721) do={
  :log error ("tailscale-update: needs RouterOS 7.21 or later, this router runs " . $ver . "; nothing changed")
  :error ("needs RouterOS 7.21 or later, this router runs " . $ver)
}
:local rosv ([:tonum [:pick $ver 0 $dot]] * 100 + $minor)

# Device mode: containers, fetch (the registry check) and the scheduler
# (these runs) must be allowed; "home" mode allows none of them. One log
# line, then nothing runs ($go below).
:local on do={ :return (($1 = true) or ($1 = "yes") or ($1 = "true")) }
:local dmOff ""
:if (![$on [/system/device-mode get container]]) do={ :set dmOff ($dmOff . " container=yes") }
:if (![$on [/system/device-mode get fetch]]) do={ :set dmOff ($dmOff . " fetch=yes") }
:if (![$on [/system/device-mode get scheduler]]) do={ :set dmOff ($dmOff . " scheduler=yes") }
:if ([:len $dmOff] > 0) do={
  :log error ("tailscale-update: device-mode does not allow it; nothing changed. Run /system/device-mode/update" . $dmOff . \
    " and confirm within 5 min (reset button or power-cycle)")
}

# A value from [/container/get] in CLI syntax: yes/no, lists comma-joined,
# a keyed array (env, hosts, devices, mount, tmpfs are key/value types in
# MikroTik's CLI reference) as key=value pairs, its keys kept; quoted with
# \ " $ ? escaped and CR, LF written as \r, \n, so that no value can end
# the string or the command it is spliced into.
:local cli do={
  :local s ""
  :if ([:typeof $1] = "bool") do={
    :set s "no"
    :if ($1) do={ :set s "yes" }
  } else={
    :if ([:typeof $1] = "array") do={
      :foreach k,v in=$1 do={
        :if ([:typeof $k] = "str") do={ :set s ($s . "," . $k . "=" . [:tostr $v]) } else={ :set s ($s . "," . [:tostr $v]) }
      }
      :set s [:pick $s 1 [:len $s]]
    } else={ :set s [:tostr $1] }
  }
  :local out ""
  # (:for counts down when to= is below from=: no loop over "".)
  :if ([:len $s] > 0) do={
    :for i from=0 to=([:len $s] - 1) do={
      :local c [:pick $s $i]
      :if ([:typeof [:find "\\\"\$\?" $c]] = "num") do={ :set c ("\\" . $c) }
      :if ($c = "\r") do={ :set c "\\r" }
      :if ($c = "\n") do={ :set c "\\n" }
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

# Container $1 in the flags of RouterOS 7.20+ (true or "true"); an id that
# is gone reads as not existing. "live" counts the health flags too: a
# healthy container may report healthy=true without running=true. "image":
# it has an image-id or layers (both readable in 7.21.5, 7.23.3, 7.24).
:local ctState do={
  :local f do={ :return (($1 = true) or ($1 = "true") or ($1 = "yes")) }
  :local s {"exists"=false;"live"=false;"stopped"=false;"failed"=false;"extracting"=false;"moving"=false;"sob"=false;"image"=false}
  :do {
    :local a [/container/get $1]
    :set ($s->"exists") true
    :set ($s->"live") ([$f ($a->"running")] or [$f ($a->"healthy")] or [$f ($a->"unhealthy")] or [$f ($a->"starting-with-healthcheck")])
    :set ($s->"stopped") [$f ($a->"stopped")]
    :set ($s->"failed") [$f ($a->"download/extract failed")]
    :set ($s->"extracting") [$f ($a->"downloading/extracting")]
    :set ($s->"moving") ([$f ($a->"starting")] or [$f ($a->"stopping")] or [$f ($a->"deleting")])
    :set ($s->"sob") [$f ($a->"start-on-boot")]
    :set ($s->"image") (([:len [:tostr ($a->"image-id")]] > 0) or ([:len [:tostr ($a->"layers")]] > 0))
  } on-error={}
  :return $s
}

# Wait up to $2 s until container $1 runs no more (st is ctState); true if so.
:local waitStopped do={
  :local n 0
  :local s [$st $1]
  :while (($s->"exists") and (($s->"live") or ($s->"moving")) and ($n < $2)) do={
    :delay 2s
    :set n ($n + 2)
    :set s [$st $1]
  }
  :return (!($s->"live") and !($s->"moving"))
}

# Start container $1 and wait until it runs; start fails until the image is
# extracted, so it is retried for 2 min. true if it runs.
:local startCt do={
  :local n 0
  :local s [$st $1]
  :while (!($s->"live") and ($s->"exists") and !($s->"failed") and ($n < 24)) do={
    :do { /container/start $1 } on-error={}
    :delay 5s
    :set n ($n + 1)
    :set s [$st $1]
  }
  :return ($s->"live")
}

# Remove container $1 and wait until it is gone: remove fails while the
# container is stopping and returns before it is gone. true if gone.
:local removeCt do={
  :local n 0
  :while (([$st $1]->"exists") and ($n < 60)) do={
    :do { /container/remove $1 } on-error={}
    :delay 2s
    :set n ($n + 1)
  }
  :return (!([$st $1]->"exists"))
}

# Wait up to 15 min until container $1 is downloaded and extracted: "" once
# it is, else why not. Extracted needs evidence: downloading/extracting
# seen once, or an image-id or layers; a container that shows stopped
# before its download began is not extracted.
:local waitExtracted do={
  :local why ""
  :local done false
  :local seen false
  :local n 0
  :while ((!$done) and ($n < 90)) do={
    :delay 10s
    :set n ($n + 1)
    :local s [$st $1]
    :if (!($s->"exists")) do={ :set why "it disappeared"; :set done true } else={
      :if ($s->"failed") do={ :set why "download or extraction failed (/container/print)"; :set done true } else={
        :if ($s->"extracting") do={ :set seen true }
        :if (!($s->"extracting") and ($seen or ($s->"image")) and (($s->"stopped") or ($s->"live"))) do={ :set done true }
      }
    }
  }
  :if (!$done) do={ :set why "not extracted within 15 min" }
  :return $why
}

# tshealth in container $1: "" if tailscaled answers and is logged in and
# running, else why not. Its answer comes back through the tmpfs mounted at
# /var/run/tailscale ($2 on the router): what /container/shell returns to a
# script is not documented, and tmpfs costs no flash write. The shell gets
# 20 s (timeout=, in seconds: a RouterOS time without unit), the answer
# 20 s more: a file can be listed before it can be read (eworm-de/
# routeros-scripts, $WaitForFile). A shell that fails returns at once.
:local probe do={
  :local out ($2 . "/tshealth.out")
  :local why ""
  :do { /file/remove [find where name=$out] } on-error={}
  :do {
    /container/shell $1 timeout=20 cmd="/bin/tshealth >/var/run/tailscale/tshealth.out 2>&1; echo tshealth-rc=\$\? >>/var/run/tailscale/tshealth.out"
  } on-error={ :set why "/container/shell failed" }
  :local text ""
  :local n 0
  :while (($why = "") and ([:typeof [:find $text "tshealth-rc="]] != "num") and ($n < 40)) do={
    :delay 500ms
    :set n ($n + 1)
    :do { :set text [/file/get [find where name=$out] contents] } on-error={}
  }
  :do { /file/remove [find where name=$out] } on-error={}
  :if ($why = "") do={
    :local rc [:find $text "tshealth-rc="]
    :if ([:typeof $rc] != "num") do={ :set why ("no answer in " . $out) } else={
      :local code [:pick $text ($rc + 12) [:len $text]]
      :if (($code != "0") and ($code != "0\n")) do={
        :local nl [:find $text "\n"]
        :if ([:typeof $nl] != "num") do={ :set nl [:len $text] }
        :set why [:pick $text 0 $nl]
        :if ([:len $why] > 120) do={ :set why [:pick $why 0 120] }
      }
    }
  }
  :return $why
}

# The digest in the response headers $1 of /tool/fetch (output=user-with-
# headers, key http-headers), never the body: the value of the one
# Docker-Content-Digest header (name in any case, value trimmed of spaces
# and tabs) if it is "sha256:" and 64 digits of 0-9a-f, else "". Headers
# come as a list of "Name: value" lines, a list keyed by name, or one
# string whose lines end at LF or ";".
:local parseDigest do={
  :local lines [:toarray ""]
  :if ([:typeof $1] = "array") do={
    :foreach k,v in=$1 do={
      :if ([:typeof $k] = "str") do={ :set ($lines->[:len $lines]) ($k . ": " . [:tostr $v]) } else={ :set ($lines->[:len $lines]) [:tostr $v] }
    }
  } else={
    :local s [:tostr $1]
    :local cur ""
    :if ([:len $s] > 0) do={
      :for i from=0 to=([:len $s] - 1) do={
        :local c [:pick $s $i]
        :if (($c = "\n") or ($c = ";")) do={ :set ($lines->[:len $lines]) $cur; :set cur "" } else={ :set cur ($cur . $c) }
      }
    }
    :set ($lines->[:len $lines]) $cur
  }
  :local up "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  :local lo "abcdefghijklmnopqrstuvwxyz"
  :local found 0
  :local value ""
  :foreach l in=$lines do={
    :local line $l
    :if ([:pick $line ([:len $line] - 1)] = "\r") do={ :set line [:pick $line 0 ([:len $line] - 1)] }
    :local colon [:find $line ":"]
    :if ([:typeof $colon] = "num") do={
      :local name ""
      :if ($colon > 0) do={
        :for i from=0 to=($colon - 1) do={
          :local c [:pick $line $i]
          :local k [:find $up $c]
          :if ([:typeof $k] = "num") do={ :set c [:pick $lo $k] }
          :set name ($name . $c)
        }
      }
      :if ($name = "docker-content-digest") do={
        :set found ($found + 1)
        :local v [:pick $line ($colon + 1) [:len $line]]
        :while (([:len $v] > 0) and ([:typeof [:find " \t" [:pick $v 0]]] = "num")) do={ :set v [:pick $v 1 [:len $v]] }
        :while (([:len $v] > 0) and ([:typeof [:find " \t" [:pick $v ([:len $v] - 1)]]] = "num")) do={ :set v [:pick $v 0 ([:len $v] - 1)] }
        :set value $v
      }
    }
  }
  :local ok (($found = 1) and ([:len $value] = 71) and ([:pick $value 0 7] = "sha256:"))
  :if ($ok) do={
    :for i from=7 to=70 do={
      :if ([:typeof [:find "0123456789abcdef" [:pick $value $i]]] != "num") do={ :set ok false }
    }
  }
  :if ($ok) do={ :return $value }
  :return ""
}

# The digest of $repo:$tag, checked by parseDigest ("" on any error):
# anonymous pull token, then the manifest (OCI index or Docker manifest
# list) with its headers.
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
    :set digest [$parseDigest ($m->"http-headers")]
  } on-error={ :set digest "" }
  :return $digest
}

# " key=value" for every key of $settings in $keys that has a value, in
# CLI syntax. start-on-boot is never among them: each add says it itself.
:local argText do={
  :local t ""
  :foreach k,v in=$settings do={
    :if (([:typeof [:find $keys $k]] = "num") and ($k != "start-on-boot") and ([:len [:tostr $v]] > 0)) do={
      :set t ($t . " " . $k . "=" . [$cli $v])
    }
  }
  :return $t
}

# Settings $1 with tshealth as healthcheck on RouterOS 7.23 and newer
# ($rosv), if they have no healthcheck-cmd; restart-policy=on-failure with
# it. An owner's own values are copied as they are.
:local withHealth do={
  :local s $1
  :if (($rosv >= 723) and ([:len $cmd] > 0) and ([:len [:tostr ($s->"healthcheck-cmd")]] = 0)) do={
    :set ($s->"healthcheck-cmd") $cmd
    :set ($s->"healthcheck-interval") "5m"
    :set ($s->"restart-policy") "on-failure"
  }
  :return $s
}

# The candidate's root-dir: beside the old one ($1), named after the
# container ($2), the digest ($3) and the try ($4), so that it does not
# exist yet (7.23 refuses an add whose root-dir exists). "" if $1 is "".
:local rootFor do={
  :local s [:tostr $1]
  :if ([:len $s] = 0) do={ :return "" }
  :local dir ""
  :for i from=0 to=([:len $s] - 1) do={
    :if ([:pick $s $i] = "/") do={ :set dir [:pick $s 0 ($i + 1)] }
  }
  :return ($dir . $2 . "-" . [:pick $3 7 19] . "-" . $4)
}

# Runs the add command $add (values through cli: none can end the string);
# retried for a minute. true if it ran.
:local runAdd do={
  :local added false
  :for i from=1 to=12 do={
    :if (!$added) do={ :do { :local f [:parse $add]; $f; :set added true } on-error={ :delay 5s } }
  }
  :return $added
}

# What comment $1 says (p, f, x: cPrefix, cFailed, cNext): ours, the digest
# deployed, and a record ("failed" or "next", n, digest) if any.
:local readComment do={
  :local r {"ours"=false;"deployed"="";"kind"="";"n"=0;"digest"=""}
  :local c [:tostr $1]
  :if ([:pick $c 0 [:len $p]] = $p) do={
    :set ($r->"ours") true
    :local rest [:pick $c [:len $p] [:len $c]]
    :local tail ""
    :if ([:pick $rest 0 [:len $x]] = $x) do={
      :set ($r->"kind") "next"
      :set tail [:pick $rest [:len $x] [:len $rest]]
    } else={
      :local sp [:find $rest " "]
      :if ([:typeof $sp] = "num") do={
        :set ($r->"deployed") [:pick $rest 0 $sp]
        :local t [:pick $rest ($sp + 1) [:len $rest]]
        :if ([:pick $t 0 [:len $f]] = $f) do={
          :set ($r->"kind") "failed"
          :set tail [:pick $t [:len $f] [:len $t]]
        }
      } else={ :set ($r->"deployed") $rest }
    }
    :local sq [:find $tail " "]
    :local n
    :if ([:typeof $sq] = "num") do={ :set n [:tonum [:pick $tail 0 $sq]] }
    :if ((($r->"kind") != "") and ([:typeof $n] = "num")) do={
      :set ($r->"n") $n
      :set ($r->"digest") [:pick $tail ($sq + 1) [:len $tail]]
    } else={ :set ($r->"kind") "" }
  }
  :return $r
}

:local markerText ("update-tailscale deployed the container " . $ctName . " on this router. " . \
  "While this file exists it never creates one from its first-deployment settings.")

:local go ([:len $dmOff] = 0)
# "undo" (the candidate out, the old one back) or "finish" (the candidate
# in, the old one out): the two blocks at the end do it.
:local action ""
:local why ""
:local digest ""
:local tries 1
:local deployed $cUnknown

# One run at a time: two runs would each add a candidate.
:local me [:jobname]
:if ($go and ([:len $me] > 0) and ([:len [/system/script/job find where script=$me]] > 1)) do={
  $warn "another run is still going; nothing changed"
  :set go false
}

# While the retry entry exists, a run is a retry. "dark" is set where a
# failure leaves no container of ours running; the end keeps or adds the
# entry then, and removes it otherwise.
:local retry false
:local dark false
:if ($go and ([:len [/system/scheduler find where name=$retryName]] > 0)) do={ :set retry true }

# (Not read where device mode forbids containers: /container would fail.)
:local old
:local new
:if ($go) do={
  :set old [$findCt $ctName]
  :set new [$findCt $nextName]
}
:if ($go and ([:typeof $old] = "id")) do={
  :local r [$readComment ([/container/get $old]->"comment") p=$cPrefix f=$cFailed x=$cNext]
  :if (($r->"ours") and ([:len ($r->"deployed")] > 0)) do={ :set deployed ($r->"deployed") }
}

# --- recovery: a run cut short (reboot, power loss) ------------------------
# A candidate that has start-on-boot has passed its health check: finish
# the swap. One that has not: the old container comes back.
:if ($go and ([:typeof $new] = "id")) do={
  :set go false
  :local r [$readComment ([/container/get $new]->"comment") p=$cPrefix f=$cFailed x=$cNext]
  :if (!($r->"ours")) do={
    $warn ("a container named " . $nextName . " exists that this script did not add; nothing changed")
  } else={
    :if (([:typeof $old] = "id") and !([$ctState $new]->"sob")) do={
      :if (($r->"kind") = "next") do={ :set digest ($r->"digest"); :set tries ($r->"n") }
      :set why "a run was cut short before the swap was decided"
      :set action "undo"
    } else={
      $log ("finishing the swap to " . $nextName . " that a run left unfinished")
      :set action "finish"
    }
  }
}

# --- marker: first deployment only where none ever was ---------------------
:if ($go and ([:typeof $old] = "id") and ([:len [/file/find where name=$marker]] = 0)) do={
  /file/add name=$marker contents=$markerText
}
:if ($go and ([:typeof $old] != "id") and ([:len [/file/find where name=$marker]] > 0)) do={
  $warn ("no container named " . $ctName . ", but this script deployed one here before (file " . $marker . \
    "); nothing changed. Give the container its name back, or remove that file to deploy a new one")
  :set go false
}

# --- registry --------------------------------------------------------------
# The registry this script asks must be the one RouterOS pulls from
# (remote-image carries no host: MikroTik documents registry-url for that).
:if ($go) do={
  :local url [/container/config get registry-url]
  :if ([:pick $url 0 8] = "https://") do={ :set url [:pick $url 8 [:len $url]] }
  :if ([:pick $url ([:len $url] - 1)] = "/") do={ :set url [:pick $url 0 ([:len $url] - 1)] }
  :if ($url != $registry) do={
    $warn ("/container/config registry-url is not https://" . $registry . \
      ": run /container/config set registry-url=https://" . $registry . "; nothing changed")
    :set go false
  }
}
:if ($go) do={
  :set digest [$queryDigest registry=$registry repo=$repo tag=$tag parseDigest=$parseDigest]
  :if ($digest = "") do={ $warn "registry check failed (no valid Docker-Content-Digest header); nothing changed"; :set go false }
}

# --- record: what the comment says about earlier runs ----------------------
:if ($go and ([:typeof $old] = "id")) do={
  :local r [$readComment ([/container/get $old]->"comment") p=$cPrefix f=$cFailed x=$cNext]
  :if ($deployed = $digest) do={ $log ("unchanged at " . $digest); :set go false }
  :if ($go and (($r->"kind") = "failed") and (($r->"digest") = $digest)) do={
    :set tries (($r->"n") + 1)
    :if ($tries > $maxTries) do={
      $warn ($digest . " did not pass in " . $maxTries . " tries; left alone until :stable moves")
      :set go false
    }
  }
}

# --- first deployment: no container, and none deployed before ------------
:if ($go and ([:typeof $old] != "id")) do={
  :set go false
  $log ("no container named " . $ctName . " and none deployed before: first deployment of " . $digest)
  :local settings [$withHealth $first rosv=$rosv cmd=$healthCmd]
  # Written as a failed try until it has run, so a run that dies midway
  # (reboot, full disk) counts as one of the tries.
  :local add ("/container/add name=" . [$cli $ctName] . " start-on-boot=yes remote-image=" . \
    [$cli ($repo . ":" . $tag)] . " comment=" . [$cli ($cPrefix . $cUnknown . " " . $cFailed . $tries . " " . $digest)])
  :set add ($add . [$argText settings=$settings keys=$copyKeys cli=$cli])
  :if ([$runAdd add=$add]) do={
    /file/add name=$marker contents=$markerText
    :local ct [$findCt $ctName]
    # With start-on-boot RouterOS starts it once extracted; start is retried.
    :set why [$waitExtracted $ct st=$ctState]
    :if (($why = "") and ![$startCt $ct st=$ctState]) do={ :set why "it did not start" }
    :if ($why = "") do={
      :delay 15s
      :if (!([$ctState $ct]->"live")) do={ :set why "it stopped within 15 s" }
    }
    :if ($why = "") do={
      # A first deployment is not logged in yet: running is what it can pass.
      :local h [$probe $ct $runDir]
      :if ($h != "") do={ $log ("running; tshealth: " . $h . ". Log it in: docs/USAGE.md section 5") }
      :if ([$queryDigest registry=$registry repo=$repo tag=$tag parseDigest=$parseDigest] = $digest) do={
        /container/set $ct comment=($cPrefix . $digest)
        $log ("running " . $digest)
      } else={
        /container/set $ct comment=($cPrefix . $cUnknown)
        $warn "running, but :stable could not be confirmed; digest not recorded"
      }
    } else={
      $warn ($digest . " did not start (try " . $tries . " of " . $maxTries . "): " . $why)
      :set dark true
    }
  } else={
    $warn "RouterOS did not accept the container (see /log); nothing else changed"
    :set dark true
  }
}

# --- update: the new image beside the old one ------------------------------
:if ($go) do={
  :local settings [/container/get $old]
  :set ($settings->"root-dir") [$rootFor ($settings->"root-dir") $ctName $digest $tries]
  # A container deployed before entrypoint= was set gets it now.
  :if ([:len [:tostr ($settings->"entrypoint")]] = 0) do={ :set ($settings->"entrypoint") $entry }
  :set settings [$withHealth $settings rosv=$rosv cmd=$healthCmd]
  $log ("new image " . $digest . " (try " . $tries . " of " . $maxTries . "): adding it as " . $nextName)
  :local add ("/container/add name=" . [$cli $nextName] . " start-on-boot=no remote-image=" . \
    [$cli ($repo . ":" . $tag)] . " comment=" . [$cli ($cPrefix . $cNext . $tries . " " . $digest)])
  :set add ($add . [$argText settings=$settings keys=$copyKeys cli=$cli])
  # From here every failure ends in undo: the old container keeps or gets
  # back start-on-boot and its image.
  :set action "undo"
  :set why "RouterOS did not accept the new container (see /log)"
  # An error in between is an undo too, not a stopped router until the next run.
  :do {
    :if ([$runAdd add=$add]) do={
      :set new [$findCt $nextName]
      :set why [$waitExtracted $new st=$ctState]
    }
    # Both on one veth share one network namespace: never both running.
    :if (($why = "") and ([$ctState $new]->"live")) do={ :set why "it started by itself" }
    :local strict false
    :if ($why = "") do={
      # The old one's health now sets the bar: a node that is not logged in
      # cannot get healthy by an image change, so then running is enough.
      :local base [$probe $old $runDir]
      :set strict ($base = "")
      :if (!$strict) do={ $warn ("the running container is not healthy (" . $base . "): the new one only has to run") }
      :do { /container/stop $old } on-error={}
      :if (![$waitStopped $old 60 st=$ctState]) do={ :set why "the old container did not stop" }
    }
    :if (($why = "") and ![$startCt $new st=$ctState]) do={ :set why "it did not start" }
    :if ($why = "") do={
      :local healthy false
      :set why "not healthy within 3 min"
      :local n 0
      :while ((!$healthy) and ($n < 36)) do={
        :delay 5s
        :set n ($n + 1)
        :if ([$ctState $old]->"live") do={ :set why "the old container started again"; :set n 99 } else={
          :if ([$ctState $new]->"live") do={
            :if ($strict) do={
              :set why [$probe $new $runDir]
              :set healthy ($why = "")
              # A probe without an answer took up to 20 s (the shell's timeout
              # or the answer's poll): 4 of the 5-s steps.
              :if (($why = "/container/shell failed") or ([:pick $why 0 10] = "no answer ")) do={ :set n ($n + 4) }
            } else={ :set why ""; :set healthy true }
          } else={ :set why "it does not run" }
        }
      }
      # Still so 15 s later: a crash right after start is a failure.
      :if ($healthy) do={
        :delay 15s
        :if (([$ctState $old]->"live") or !([$ctState $new]->"live")) do={ :set why "it stopped within 15 s"; :set healthy false }
        :if ($healthy and $strict) do={ :set why [$probe $new $runDir]; :set healthy ($why = "") }
      }
      :if ($healthy) do={
        # Recorded only if :stable still has the digest asked for before the
        # pull, so the pull got that one. Otherwise the next run pulls once
        # more: harmless, where recording a digest not deployed is not.
        :if ([$queryDigest registry=$registry repo=$repo tag=$tag parseDigest=$parseDigest] = $digest) do={
          /container/set $new comment=($cPrefix . $digest)
        } else={
          /container/set $new comment=($cPrefix . $cUnknown)
          $warn "healthy, but :stable could not be confirmed; digest not recorded"
        }
        :set action "finish"
      }
    }
  } on-error={ :set action "undo"; :set why "the update stopped on an error" }
}

# --- undo: the candidate out, the old container back -----------------------
:if ($action = "undo") do={
  # start-on-boot first: a reboot from here on starts the old one.
  :if ([:typeof $old] = "id") do={ /container/set $old start-on-boot=yes }
  :local clear true
  :if ([:typeof $new] = "id") do={
    :do { /container/stop $new } on-error={}
    :set clear [$waitStopped $new 60 st=$ctState]
    # Not stopped by the stop signal: SIGKILL (the dumps' value form; the
    # default signal if refused), 30 s more.
    :if (!$clear) do={
      :do { /container/kill $new signal=9-SIGKILL } on-error={ :do { /container/kill $new } on-error={} }
      :set clear [$waitStopped $new 30 st=$ctState]
    }
  }
  :if ([:typeof $old] = "id") do={
    :if ($clear) do={
      :if (!([$ctState $old]->"live") and ![$startCt $old st=$ctState]) do={
        $warn ("could not start " . $ctName . " again: see /container/print")
        :set dark true
      }
    } else={
      $warn ($nextName . " did not stop, even killed: " . $ctName . " is not started beside it")
      :set dark true
    }
    :if ([:len $digest] = 71) do={
      /container/set $old comment=($cPrefix . $deployed . " " . $cFailed . $tries . " " . $digest)
    }
  }
  :if ($clear and ([:typeof $new] = "id") and ![$removeCt $new st=$ctState]) do={
    $warn ("could not remove " . $nextName . "; the next run tries again")
  }
  $warn ("update to " . $digest . " did not pass (try " . $tries . " of " . $maxTries . "): " . $why . "; " . $ctName . " keeps its image")
}

# --- finish: the candidate in, the old container out -----------------------
:if ($action = "finish") do={
  # The only moment no container starts on boot is between these two
  # commands: a reboot there leaves both stopped, and the run at boot
  # (scheduler start-time=startup) brings the old one back.
  :if ([:typeof $old] = "id") do={ /container/set $old start-on-boot=no }
  /container/set $new start-on-boot=yes
  :if ([:typeof $old] = "id") do={
    :if ([$ctState $old]->"live") do={
      :do { /container/stop $old } on-error={}
      :if (![$waitStopped $old 60 st=$ctState]) do={
        :do { /container/kill $old signal=9-SIGKILL } on-error={ :do { /container/kill $old } on-error={} }
        :if (![$waitStopped $old 30 st=$ctState]) do={ $warn ("the old " . $ctName . " did not stop, even killed") }
      }
    }
    :if (![$removeCt $old st=$ctState]) do={ $warn ("could not remove the old " . $ctName . "; the next run tries again") }
  }
  :if ([:typeof [$findCt $ctName]] != "id") do={
    :do { /container/set $new name=$ctName } on-error={ $warn ("could not rename " . $nextName . "; the next run tries again") }
  }
  # Never beside an old one that still runs (one veth): that one runs on.
  :if (!([$ctState $new]->"live") and !([$ctState $old]->"live") and ![$startCt $new st=$ctState]) do={
    $warn ($nextName . " did not start again: see /container/print")
    :set dark true
  }
  $log ($ctName . " runs the new image " . $digest)
}

# --- retry: no container of ours runs ---------------------------------------
# A retry run that had nothing else to do (same digest, registry down)
# starts the container an earlier failure left stopped. Only a retry: one
# the owner stopped is left alone.
:if ($retry and ($action = "")) do={
  :local ct [$findCt $ctName]
  :if (([:typeof $ct] = "id") and ([:typeof [$findCt $nextName]] != "id") and !([$ctState $ct]->"live")) do={
    :if ([$startCt $ct st=$ctState]) do={ $log ($ctName . " runs again") } else={ :set dark true }
  }
}
:local rs [/system/scheduler find where name=$retryName]
:if ($dark) do={
  :if ([:len $rs] = 0) do={
    :do {
      /system/scheduler add name=$retryName interval=5m on-event="/system/script run update-tailscale" \
        policy=read,write,policy,test
      $warn "no Tailscale container runs: trying again every 5 min for an hour"
    } on-error={ $warn "no Tailscale container runs, and the retry could not be scheduled" }
  } else={
    :if ([/system/scheduler get ($rs->0) run-count] >= $retryMax) do={
      /system/scheduler remove $rs
      $warn "no Tailscale container runs after an hour of retries; the 6-h run tries again"
    } else={ $warn "no Tailscale container runs: trying again in 5 min" }
  }
} else={
  :if ($retry and ([:len $rs] > 0)) do={ /system/scheduler remove $rs }
}
