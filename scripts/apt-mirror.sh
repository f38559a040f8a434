# Sourced by scripts that fetch from Debian: the first Debian mirror of this machine's own apt
# sources (deb822 or one-line style). The repo never names a host.
apt_mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | awk '{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' | grep -E '/debian/?$' | head -n1 || true)
  fi
  [ -n "$uri" ] || { printf 'ERROR: no Debian mirror found in /etc/apt/sources.list*; add one, then retry.\n' >&2; return 1; }
  printf '%s\n' "${uri%/}"
}
