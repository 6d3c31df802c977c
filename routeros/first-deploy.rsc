# First deployment of the Tailscale container on RouterOS 7 (container
# package installed, /system/device-mode container=yes confirmed).
# Paste block by block; adjust names, addresses, disk and registry.

# 1. Network: a veth on its own bridge, NAT to the outside, and a route to
#    the tailnet through the container.
/interface/veth add name=veth-ts address=172.17.0.2/24 gateway=172.17.0.1
/interface/bridge add name=br-containers
/interface/bridge/port add bridge=br-containers interface=veth-ts
/ip/address add address=172.17.0.1/24 interface=br-containers
/ip/firewall/nat add chain=srcnat action=masquerade src-address=172.17.0.0/24
/ip/route add dst-address=100.64.0.0/10 gateway=172.17.0.2

# 2. Storage: state on disk (written at login and key rotation only), the
#    daemon socket on a RAM disk so it never touches flash.
/disk add type=tmpfs tmpfs-max-size=1M slot=ts-run
/container/mounts add list=ts-state src=/usb1/tailscale/state dst=/var/lib/tailscale
/container/mounts add list=ts-run src=/ts-run dst=/var/run/tailscale

# 3a. From the registry (RouterOS picks the platform):
/container/config set registry-url=https://gitea.example.com tmpdir=usb1/tmp
/container add name=tailscale remote-image=gitea.example.com/owner/mikrotik-tailscale:stable \
    interface=veth-ts root-dir=usb1/tailscale/root mountlists=ts-state,ts-run \
    start-on-boot=yes logging=yes

# 3b. Or from the per-platform tarball (`dagger call tarball --arch ...`)
#     copied to the router, instead of 3a:
# /container add name=tailscale file=usb1/mikrotik-tailscale-armv7.tar \
#     interface=veth-ts root-dir=usb1/tailscale/root mountlists=ts-state,ts-run \
#     start-on-boot=yes logging=yes

# 4. Start it once extracted (`/container print` shows it stopped):
/container start [find where name=tailscale]
