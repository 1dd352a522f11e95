( consul reload
) || return $?
_changed
