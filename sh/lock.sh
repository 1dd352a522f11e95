# shellcheck shell=dash
# The apply lock (see src/engine/apply-script.ts). The lock file holds one line: the
# controller's holder text plus the apply shell's remote_pid, its start time
# (remote_start: a reused pid is not mistaken for it) and session, the pid of the nearest
# sshd ancestor. A holder is live while that process still runs and its session still
# exists; otherwise it is stale. Only builtins and /proc reads on the normal path.
_pstat() {
  read -r _st < "/proc/$1/stat" 2>/dev/null || return 1
  _st=${_st##*) }
  # Split on purpose: the fields after the command name, from state ($1) on.
  # shellcheck disable=SC2086
  set -- $_st
  _pz=$1; _pp=$2; _pg=$3; _ps=${20}
}
_session() {
  _p=$1; _first=
  while _pstat "$_p" && [ "$_pp" -gt 1 ]; do
    [ -n "$_first" ] || _first=$_pp
    _c=; read -r _c < "/proc/$_pp/comm" 2>/dev/null
    if [ "$_c" = sshd ]; then _sess=$_pp; return 0; fi
    _p=$_pp
  done
  _sess=${_first:-0}
}
_kv() {
  case " $2 " in *" $1="*) _x=${2##* "$1"=}; _x=${_x##"$1"=}; _x=${_x%% *}; printf '%s' "$_x" ;; esac
}
# _lockstate TEXT: "live" or "stale: why".
_lockstate() {
  _hp=$(_kv remote_pid "$1"); _hs=$(_kv remote_start "$1"); _hq=$(_kv session "$1")
  if [ -z "$_hp" ]; then echo "stale: the holder recorded no apply process"; return; fi
  if ! _pstat "$_hp"; then echo "stale: its apply process $_hp is gone"; return; fi
  if [ "$_ps" != "$_hs" ]; then echo "stale: pid $_hp is no longer the apply that took the lock"; return; fi
  # A session that has exited but is not yet reaped (a zombie) is gone too.
  if [ -n "$_hq" ] && [ "$_hq" != 0 ] && ! { _pstat "$_hq" && [ "$_pz" != Z ]; }; then
    echo "stale: its controller is gone (SSH session $_hq ended; apply process $_hp still running)"; return
  fi
  echo live
}
# _breaklock FILE HOLDER: stop every process that holds FILE open (this shell excepted),
# then take it. TERM first, with time to run the holder's EXIT trap (it removes what it
# staged); KILL only if it has not let go after $_GRACE s, and then this shell runs the
# cleanup script the holder left in its work dir (recorded as work= in its holder line).
_breaklock() {
  _lf=$(readlink -f -- "$1") || return 1
  _pat=$(printf '%s' "$_lf" | sed 's/[][*?\\]/\\&/g')
  _pstat $$; _mypg=$_pg
  _hold=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "$_pat" 2>/dev/null 9>&- | sed 's#^/proc/\([0-9]*\)/.*#\1#' | sort -u 9>&-)
  for _sig in TERM KILL; do
    for _h in $_hold; do
      [ "$_h" = $$ ] && continue
      if _pstat "$_h" && [ "$_pg" -gt 1 ] && [ "$_pg" != "$_mypg" ]; then kill -s "$_sig" -- "-$_pg" 2>/dev/null; else kill -s "$_sig" "$_h" 2>/dev/null; fi
    done
    if [ "$_sig" = TERM ]; then _wait=$_GRACE; else _wait=5; fi
    if flock -w "$_wait" 9; then
      printf '%s brokeby %s\n' "$_M" "$_sig"
      _w=$(_kv work "$2")
      case $_w in
        /tmp/.provision-*) if [ -f "$_w/cleanup" ] && [ -O "$_w/cleanup" ] && [ ! -L "$_w" ]; then sh "$_w/cleanup" "$_w" </dev/null >/dev/null 2>&1 9>&-; fi ;;
      esac
      return 0
    fi
  done
  return 1
}
