# shellcheck shell=dash
# Host-side health gates (see src/engine/health-script.ts). Time is read from
# /proc/uptime with the read builtin, in centiseconds: no process per measurement.
_cs() {
  read -r _now _x < /proc/uptime
  _now=${_now%.*}${_now#*.}
  _now=${_now#"${_now%%[!0]*}"}
  : "${_now:=0}"
}
# _gate INDEX RETRIES INTERVAL_S INTERVAL_CS DEADLINE_CS: runs _g until it passes.
_gate() {
  _cs; _g0=$_now; _n=0
  while :; do
    _n=$((_n + 1)); _cs; _left=$(( ($5 - (_now - _g0) + 99) / 100 )); [ "$_left" -ge 1 ] || _left=1
    if _g "$_left" </dev/null >"$_G/o" 2>&1; then _res=pass; break; fi
    _res=fail
    [ "$_n" -gt "$2" ] && break
    _cs; [ $((_now - _g0 + $4)) -gt "$5" ] && break
    sleep "$3"
  done
  _cs
  printf '%s gate %s %s %s %s\n' "$_M" "$1" "$_res" "$_n" "$((_now - _g0))"
  tail -c 1000 "$_G/o" | base64 -w0; printf '\n'
}
