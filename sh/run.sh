# shellcheck shell=dash
# The apply script's runners (see src/engine/apply-script.ts): _run N runs the step
# function _s, _runh N the handler function _h, each with stdin from /dev/null, output
# captured in $_T/o, the lock's fd 9 closed, and the result framed on stdout by $_M.
_run() {
  _C=0 _N=0
  if [ -e "$_T/stop" ]; then _STOPPED=1; printf '%s stopped %s\n' "$_M" "$1"; return 1; fi
  printf '%s begin %s\n' "$_M" "$1" || _LOST=1
  [ -z "$_LOST" ] || return 1
  _s </dev/null >"$_T/o" 2>&1 9>&-
  _rc=$?
  if [ "$_rc" -ne 0 ]; then
    _FAILED=1
    printf '%s failed %s %s\n' "$_M" "$1" "$_rc"; base64 -w0 < "$_T/o"; printf '\n'
    return 1
  fi
  if [ "$_C" = 1 ]; then printf '%s changed %s\n' "$_M" "$1"; else printf '%s ok %s\n' "$_M" "$1"; fi
}
_runh() {
  _C=0
  _h </dev/null >"$_T/o" 2>&1 9>&-
  _rc=$?
  if [ "$_rc" -ne 0 ]; then
    _FAILED=1
    printf '%s hfailed %s %s\n' "$_M" "$1" "$_rc"; base64 -w0 < "$_T/o"; printf '\n'
  elif [ "$_C" = 1 ]; then
    printf '%s hchanged %s\n' "$_M" "$1"
  else
    printf '%s hok %s\n' "$_M" "$1"
  fi
  return "$_rc"
}
