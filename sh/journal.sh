# shellcheck shell=dash
# The restore journal of an apply (format: src/engine/restore-script.ts). Appended to
# the apply script's library: the real _jsave (lib.sh's is a no-op).
_J='' _jn=0 _JL='
'
# _jinit DIR HOLDER: this run's journal is DIR; an earlier run's is dropped. DIR itself is
# made by the first _jsave: a run that replaces nothing leaves none (and spends no process).
_jinit() {
  _J=$1 _JH=$2
  if [ -e "$_J" ]; then rm -rf -- "$_J" || _J=; fi
}
_jsave() {
  [ -n "$_J" ] || return 0
  if [ "$_jn" = 0 ]; then
    if ! mkdir -m 700 -- "$_J" || ! printf '%s\n' "$_JH" > "$_J/run"; then _err "cannot create the restore journal $_J"; return 1; fi
  fi
  case $_JL in *"
$1
"*) return 0 ;; esac
  _JL="$_JL$1
"
  _jn=$((_jn + 1))
  if [ -f "$1" ] && [ ! -L "$1" ]; then
    cp -p -- "$1" "$_J/$_jn" || { _err "cannot keep a copy of $1 for a restore"; return 1; }
    printf 'replaced %s %s\n' "$_jn" "$1" >> "$_J/index"
  elif [ ! -e "$1" ] && [ ! -L "$1" ]; then
    printf 'created %s %s\n' "$_jn" "$1" >> "$_J/index"
  fi
}
