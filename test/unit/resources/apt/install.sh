_need=$(dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\t${Version}\n' -- haproxy socat 2>/dev/null | awk -F '\t' -v want='haproxy socat' '{ if ($2 ~ /^[ih]i/) v[$1]=$3 } END { n=split(want, w, " "); for (i=1;i<=n;i++) { split(w[i], p, "="); if (!(p[1] in v) || (p[2] != "" && v[p[1]] != p[2])) printf "%s ", w[i] } }')
[ -n "$_need" ] || return 0
_fresh=$(find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -print -quit 2>/dev/null)
if [ -n "$_fresh" ]; then _fresh=$(find /var/lib/apt/lists -maxdepth 1 \( -type d -name partial -o -type f -name '*_Packages*' \) -newermt "@$(( $(date +%s) - 86400 ))" -print -quit 2>/dev/null); fi
_upd=0
if [ -z "$_fresh" ]; then
  _o=$(apt-get update -q 2>&1) || { printf '%s\n' "$_o" >&2; _err 'apt-get update failed'; return 1; }
  _upd=1
fi
_o=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef -- $_need 2>&1)
_rc=$?
if [ "$_rc" != 0 ] && [ "$_upd" = 0 ] && printf '%s' "$_o" | grep -Eq 'Unable to locate package|has no installation candidate|was not found'; then
  _o=$(apt-get update -q 2>&1) || { printf '%s\n' "$_o" >&2; _err 'apt-get update failed'; return 1; }
  _o=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef -- $_need 2>&1)
  _rc=$?
fi
if [ "$_rc" != 0 ]; then printf '%s\n' "$_o" >&2; _err "apt-get install failed: $_need"; return 1; fi
_changed
