# shellcheck shell=dash
# The restore script's functions (see src/engine/restore-script.ts): _restore puts back
# every path the journal $_J recorded, newest first; _rh N runs the handler function _h.
_restore() {
  _rf='' _units=''
  tac -- "$_J/index" > "$_G/rindex" || return 1
  while read -r _k _n _p; do
    case $_k in
      replaced)
        if cp -p -- "$_J/$_n" "$_p.provision-restore~" && mv -f -- "$_p.provision-restore~" "$_p"; then
          printf '%s restored %s\n' "$_M" "$_p"
        else rm -f -- "$_p.provision-restore~"; _rf=1; printf '%s rfailed %s\n' "$_M" "$_p"; fi ;;
      created)
        if rm -f -- "$_p"; then printf '%s removed %s\n' "$_M" "$_p"; else _rf=1; printf '%s rfailed %s\n' "$_M" "$_p"; fi ;;
      *) continue ;;
    esac
    case $_p in /etc/systemd/*|/lib/systemd/*|/usr/lib/systemd/*|/run/systemd/*) _units=1 ;; esac
  done < "$_G/rindex"
  if [ -n "$_units" ]; then systemctl daemon-reload || { _rf=1; printf '%s rfailed daemon-reload\n' "$_M"; }; fi
  [ -z "$_rf" ]
}
_rh() {
  _C=0
  if ( _h ) </dev/null >"$_G/o" 2>&1; then printf '%s hok %s\n' "$_M" "$1"; return 0; fi
  printf '%s hfailed %s\n' "$_M" "$1"; tail -c 2000 "$_G/o" | base64 -w0; printf '\n'
  return 1
}
