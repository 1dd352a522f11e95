# shellcheck shell=dash
# The sh function library every apply (and restore) script starts with: see
# src/resources/sh-lib.ts for how it is loaded, docs/remote-sh.md for the contract.
#
# Atomic writes: content is decoded into a hidden temp file in the target directory
# (`.provision-<nonce>.<name>`), checked against its SHA-256 (a truncated stream never
# reaches the target), given its mode and owner, validated, the old file backed up when
# asked, and renamed over the target. A rename is atomic on one filesystem.
# Full-line comments are dropped before the text is sent to a host.
_changed() { _C=1; _N=1; }
# _changed_live: the step changed the running state in place (a runtime command through
# a service's own API): it reports "changed" but notifies none of its handlers.
_changed_live() { _C=1; }
_err() { printf '%s\n' "$*" >&2; }
# _jsave PATH: record PATH before it is replaced (an apply's restore journal redefines it).
_jsave() { :; }

# _attrs PATH MODE OWNER GROUP: fix mode/owner/group when they differ (empty = unmanaged).
_attrs() {
  [ -n "$2$3$4" ] || return 0
  _a=$(stat -c '%a %U %G' -- "$1") || return 1
  _am=${_a%% *}; _a=${_a#* }; _au=${_a%% *}; _ag=${_a#* }
  if [ -n "$2" ] && [ "$_am" != "$2" ]; then chmod "$2" -- "$1" || return 1; _changed; fi
  if [ -n "$3" ] && [ "$_au" != "$3" ]; then chown "$3" -- "$1" || return 1; _changed; fi
  if [ -n "$4" ] && [ "$_ag" != "$4" ]; then chgrp "$4" -- "$1" || return 1; _changed; fi
  return 0
}

# _sha PATH: prints the SHA-256 of a regular file, nothing when it is missing.
_sha() {
  [ -f "$1" ] && [ ! -L "$1" ] || return 0
  _s=$(sha256sum < "$1") || return 1
  printf '%s' "${_s%% *}"
}

# _put DEST MODE OWNER GROUP SHA BACKUP VALIDATE STAGE STAGE_ONLY [raw] <<base64
# Installs the base64 content on stdin (raw bytes with a 10th argument "raw") at DEST
# unless DEST already holds SHA.
# VALIDATE is a command (already naming STAGE) run before the rename; STAGE_ONLY=1 leaves
# the validated temp file for the validation set's commit.
_put() {
  _cur=$(_sha "$1") || return 1
  if [ "$_cur" = "$5" ]; then _attrs "$1" "$2" "$3" "$4"; return; fi
  if [ -d "$1" ] && [ ! -L "$1" ]; then _err "$1 is a directory"; return 1; fi
  # Born 0600 when it gets a mode or replaces a file: a secret is never readable by others,
  # not even between the write and the chmod below.
  if [ "${10}" = raw ]; then _dec='cat'; else _dec='base64 -d'; fi
  if [ -n "$2" ] || [ -e "$1" ]; then (umask 077 && $_dec > "$8"); else $_dec > "$8"; fi || { rm -f -- "$8"; _err "cannot write $8"; return 1; }
  _new=$(_sha "$8")
  if [ "$_new" != "$5" ]; then rm -f -- "$8"; _err "content of $1 arrived corrupted (sha256 $_new, expected $5)"; return 1; fi
  if [ -e "$1" ]; then
    chmod --reference="$1" -- "$8" 2>/dev/null; chown --reference="$1" -- "$8" 2>/dev/null
  fi
  [ -z "$2" ] || chmod "$2" -- "$8" || { rm -f -- "$8"; return 1; }
  [ -z "$3" ] || chown "$3" -- "$8" || { rm -f -- "$8"; return 1; }
  [ -z "$4" ] || chgrp "$4" -- "$8" || { rm -f -- "$8"; return 1; }
  if [ -n "$7" ]; then
    # A one-line command is named; a script (bootstrap's sshd check) already said why on stderr.
    if ! eval "$7"; then rm -f -- "$8"; case $7 in *'
'*) _err "validation failed for $1" ;; *) _err "validation failed for $1: $7" ;; esac; return 1; fi
  fi
  _changed
  [ "$9" = 1 ] && return 0
  _commit "$1" "$8" "$6"
}

# _commit DEST STAGE BACKUP: back up DEST (name ends in ~: ignored by sudo, dnsmasq, HAProxy
# and systemd drop-in dirs) and rename STAGE over it.
_commit() {
  _jsave "$1" || return 1
  if [ "$3" = 1 ] && [ -f "$1" ]; then cp -p -- "$1" "$1.$(date +%Y%m%dT%H%M%S).provision~" || return 1; fi
  mv -f -- "$2" "$1" || { rm -f -- "$2"; return 1; }
}

# _absent PATH: remove a file, symlink or directory tree.
_absent() {
  if [ -e "$1" ] || [ -L "$1" ]; then _jsave "$1" || return 1; rm -rf -- "$1" || return 1; _changed; fi
}

# _dir PATH MODE OWNER GROUP
_dir() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then _err "$1 exists and is not a directory"; return 1; fi
  if [ ! -d "$1" ]; then mkdir -p -- "$1" || return 1; _changed; fi
  _attrs "$1" "$2" "$3" "$4"
}

# _link PATH TARGET STAGE OWNER GROUP
_link() {
  if [ -L "$1" ] && [ "$(readlink -- "$1")" = "$2" ]; then :; else
    if [ -d "$1" ] && [ ! -L "$1" ]; then _err "$1 is a directory"; return 1; fi
    rm -f -- "$3"
    if ! ln -s -- "$2" "$3" || ! mv -Tf -- "$3" "$1"; then rm -f -- "$3"; return 1; fi
    _changed
  fi
  if [ -n "$4$5" ]; then chown -h "$4${5:+:$5}" -- "$1" 2>/dev/null; fi
  return 0
}

# _line PATH STATE CREATE STAGE REGEXP LINE: the edit itself runs on the host (awk, POSIX
# ERE), so it is right even when an earlier step of this apply created or changed PATH.
_line() {
  if [ ! -e "$1" ]; then
    [ "$2" = absent ] && return 0
    [ "$3" = 1 ] || { _err "$1 does not exist (set create: true to create it)"; return 1; }
    _jsave "$1" || return 1
    if ! printf '%s\n' "$6" > "$4" || ! mv -f -- "$4" "$1"; then rm -f -- "$4"; return 1; fi
    _changed; return 0
  fi
  RE="$5" LINE="$6" ST="$2" awk '
    BEGIN { re = ENVIRON["RE"]; l = ENVIRON["LINE"]; st = ENVIRON["ST"] }
    { n++; a[n] = $0; m = (re != "") ? ($0 ~ re) : ($0 == l); hit[n] = m; if (m) last = n; if ($0 == l) exact = 1 }
    END {
      if (st == "absent") { for (i = 1; i <= n; i++) if (!hit[i]) print a[i]; exit }
      if (last) a[last] = l; else if (!exact) a[++n] = l
      for (i = 1; i <= n; i++) print a[i]
    }' "$1" > "$4" || { rm -f -- "$4"; return 1; }
  if cmp -s -- "$1" "$4"; then rm -f -- "$4"; return 0; fi
  chmod --reference="$1" -- "$4" 2>/dev/null; chown --reference="$1" -- "$4" 2>/dev/null
  _jsave "$1" || { rm -f -- "$4"; return 1; }
  mv -f -- "$4" "$1" || { rm -f -- "$4"; return 1; }
  _changed
}

# _unit VERB UNIT: systemctl VERB, retried once (after a second) only when systemd could
# not place the new process in the unit's cgroup (exit status 219/CGROUP): a race with the
# previous instance's cgroup teardown, seen on container hosts (nspawn, LXC) when a unit
# is restarted right after it stopped. Any other failure is returned at once.
_unit() {
  systemctl "$1" -- "$2" && return 0
  systemctl status --no-pager -n 0 -- "$2" 2>/dev/null | grep -q 'status=219/CGROUP' || return 1
  _err "$2: systemd could not attach it to its cgroup (status 219/CGROUP); retrying $1 once"
  sleep 1
  systemctl reset-failed -- "$2" 2>/dev/null
  systemctl "$1" -- "$2"
}

# Units changed in this run: daemon-reload once before the next unit operation.
_daemon_reload() {
  if [ "$_DR" = 1 ]; then systemctl daemon-reload || return 1; _DR=0; fi
}
