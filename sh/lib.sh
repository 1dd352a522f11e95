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
# One stat, then at most one chmod and one chown.
_attrs() {
  [ -n "$2$3$4" ] || return 0
  _a=$(stat -c '%a %U %G' -- "$1") || return 1
  _am=${_a%% *}; _a=${_a#* }; _au=${_a%% *}; _ag=${_a#* }
  if [ -n "$2" ] && [ "$_am" != "$2" ]; then chmod "$2" -- "$1" || return 1; _changed; fi
  _ao=''; _ag2=''
  if [ -n "$3" ] && [ "$_au" != "$3" ]; then _ao=$3; fi
  if [ -n "$4" ] && [ "$_ag" != "$4" ]; then _ag2=$4; fi
  if [ -n "$_ao$_ag2" ]; then chown "$_ao${_ag2:+:$_ag2}" -- "$1" || return 1; _changed; fi
  return 0
}

# _sha PATH: sets _sum to the SHA-256 of a regular file, empty when it is missing (and
# then runs no process). Not printed: a command substitution would cost a fork.
_sha() {
  _sum=''
  [ -f "$1" ] && [ ! -L "$1" ] || return 0
  _sum=$(sha256sum < "$1") || return 1
  _sum=${_sum%% *}
}

# _umask_for MODE: sets _um to the umask under which a new file is born with exactly MODE
# (3 digits, none with an x bit) and _fx to empty; else _um=077 (born 0600) and _fx=1 (a
# chmod is still needed: an x, s or t bit, or no MODE).
_umask_for() {
  case $1 in
    [0246][0246][0246])
      _u1=${1%??}; _u3=${1#??}; _u2=${1#?}; _u2=${_u2%?}
      _um=$((7 - _u1))$((7 - _u2))$((7 - _u3)); _fx='' ;;
    *) _um=077; _fx=1 ;;
  esac
}

# _put DEST SHA STAGE [OPTION...]: installs new content at DEST unless DEST already holds
# SHA (then it only fixes DEST's attributes). The content comes from stdin in base64, or:
#   text=CONTENT   the bytes themselves, written by the printf builtin (no process)
#   raw            stdin holds the bytes themselves (a payload file)
# Other options: mode=MODE owner=USER group=GROUP (empty or absent = unmanaged), backup,
# validate=COMMAND (a command already naming STAGE, run before the rename), stage-only
# (leave the validated STAGE for the validation set's commit).
_put() {
  _fd=$1 _fh=$2 _fs=$3; shift 3
  _fm='' _fo='' _fg='' _fb=0 _fv='' _fk='' _fw=b64 _ft=''
  for _o; do
    case $_o in
      mode=*) _fm=${_o#mode=} ;;
      owner=*) _fo=${_o#owner=} ;;
      group=*) _fg=${_o#group=} ;;
      backup) _fb=1 ;;
      validate=*) _fv=${_o#validate=} ;;
      stage-only) _fk=1 ;;
      raw) _fw=raw ;;
      text=*) _fw=text; _ft=${_o#text=} ;;
      *) _err "_put: unknown option $_o"; return 1 ;;
    esac
  done
  _sha "$_fd" || return 1
  if [ "$_sum" = "$_fh" ]; then _attrs "$_fd" "$_fm" "$_fo" "$_fg"; return; fi
  if [ -d "$_fd" ] && [ ! -L "$_fd" ]; then _err "$_fd is a directory"; return 1; fi
  _put_write || return 1
  _sha "$_fs"
  if [ "$_sum" != "$_fh" ]; then rm -f -- "$_fs"; _err "content of $_fd arrived corrupted (sha256 $_sum, expected $_fh)"; return 1; fi
  _put_attrs || { rm -f -- "$_fs"; return 1; }
  if [ -n "$_fv" ]; then
    # A one-line command is named; a script (bootstrap's sshd check) already said why on stderr.
    if ! eval "$_fv"; then rm -f -- "$_fs"; case $_fv in *'
'*) _err "validation failed for $_fd" ;; *) _err "validation failed for $_fd: $_fv" ;; esac; return 1; fi
  fi
  _changed
  [ "$_fk" = 1 ] && return 0
  _commit "$_fd" "$_fs" "$_fb"
}

# _put_write: writes _put's content to its STAGE. Born with no more than its final
# permissions: with its mode when no chmod is needed, else 0600 when it gets a mode or
# replaces a file, so a secret is never readable by others, not even until the chmod.
# The apply script runs with umask 022, which is restored after.
_put_write() {
  _fx=''
  if [ -n "$_fm" ] || [ -e "$_fd" ]; then _umask_for "$_fm"; umask "$_um"; fi
  case $_fw in
    text) printf '%s' "$_ft" > "$_fs" ;;
    raw) cat > "$_fs" ;;
    *) base64 -d > "$_fs" ;;
  esac
  _rc=$?
  umask 022
  [ "$_rc" -eq 0 ] || { rm -f -- "$_fs"; _err "cannot write $_fs"; return 1; }
}

# _put_attrs: gives _put's STAGE its mode and owner: those asked for, the rest from the
# file it replaces. Runs chmod only when the file was not born with its mode, chown only
# when an owner or group is to be set.
_put_attrs() {
  if [ -e "$_fd" ]; then
    if [ -z "$_fm" ]; then chmod --reference="$_fd" -- "$_fs" 2>/dev/null; fi
    if [ -z "$_fo" ] || [ -z "$_fg" ]; then chown --reference="$_fd" -- "$_fs" 2>/dev/null; fi
  fi
  if [ -n "$_fm" ] && [ -n "$_fx" ]; then chmod "$_fm" -- "$_fs" || return 1; fi
  if [ -n "$_fo$_fg" ]; then chown "$_fo${_fg:+:$_fg}" -- "$_fs" || return 1; fi
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

# _dir PATH MODE OWNER GROUP: a directory created here is made with its mode (mkdir -m)
# and given its owner in one chown, with no stat; an existing one goes through _attrs.
_dir() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then _err "$1 exists and is not a directory"; return 1; fi
  if [ -d "$1" ]; then _attrs "$1" "$2" "$3" "$4"; return; fi
  # -m applies to PATH only, on purpose: parents it creates get the usual 0755, as before.
  # shellcheck disable=SC2174
  if [ -n "$2" ]; then mkdir -p -m "$2" -- "$1"; else mkdir -p -- "$1"; fi || return 1
  _changed
  if [ -n "$3$4" ]; then chown "$3${4:+:$4}" -- "$1" || return 1; fi
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

# _line PATH STATE CREATE STAGE REGEXP LINE [MODE]: the edit itself runs on the host (awk,
# POSIX ERE), so it is right even when an earlier step of this apply created or changed
# PATH. A changed file gets MODE when one is given.
_line() {
  _umask_for "$7"
  if [ ! -e "$1" ]; then
    [ "$2" = absent ] && return 0
    [ "$3" = 1 ] || { _err "$1 does not exist (set create: true to create it)"; return 1; }
    _jsave "$1" || return 1
    if [ -n "$7" ]; then umask "$_um"; fi
    printf '%s\n' "$6" > "$4"
    _rc=$?
    umask 022
    if [ "$_rc" -ne 0 ] || ! _line_mode "$4" "$7" || ! mv -f -- "$4" "$1"; then rm -f -- "$4"; return 1; fi
    _changed; return 0
  fi
  # The edited copy is born with MODE (or 0600: umask builtin, no subshell), then takes
  # the file's owner (and mode, when none is given) in one cp: a secret file's copy is
  # never readable by others.
  umask "$_um"
  RE="$5" LINE="$6" ST="$2" awk '
    BEGIN { re = ENVIRON["RE"]; l = ENVIRON["LINE"]; st = ENVIRON["ST"] }
    { n++; a[n] = $0; m = (re != "") ? ($0 ~ re) : ($0 == l); hit[n] = m; if (m) last = n; if ($0 == l) exact = 1 }
    END {
      if (st == "absent") { for (i = 1; i <= n; i++) if (!hit[i]) print a[i]; exit }
      if (last) a[last] = l; else if (!exact) a[++n] = l
      for (i = 1; i <= n; i++) print a[i]
    }' "$1" > "$4"
  _rc=$?
  umask 022
  [ "$_rc" -eq 0 ] || { rm -f -- "$4"; return 1; }
  if cmp -s -- "$1" "$4"; then rm -f -- "$4"; return 0; fi
  if [ -n "$7" ]; then _keep=ownership; else _keep=mode,ownership; fi
  cp --attributes-only --preserve="$_keep" -- "$1" "$4" 2>/dev/null
  _line_mode "$4" "$7" || { rm -f -- "$4"; return 1; }
  _jsave "$1" || { rm -f -- "$4"; return 1; }
  mv -f -- "$4" "$1" || { rm -f -- "$4"; return 1; }
  _changed
}

# _line_mode STAGE MODE: the chmod a MODE needs when the file could not be born with it
# (_umask_for set _fx).
_line_mode() {
  if [ -n "$2" ] && [ -n "$_fx" ]; then chmod "$2" -- "$1" || return 1; fi
  return 0
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
