#!/usr/bin/env bash
# Extracts the translatable strings and merges them into the translations.
#   build-aux/update-po.sh          write po/virtdeck.pot and update every po/*.po
#   build-aux/update-po.sh --pot F  only write the template to F (used by the tests)
set -euo pipefail
cd "$(dirname "$0")/.."

pot=po/virtdeck.pot
merge=1
if [ "${1:-}" = "--pot" ]; then
    pot=$2
    merge=0
fi

grep -v '^\s*#' po/POTFILES.in | grep -v '^\s*$' >"$pot.files"
xgettext --files-from="$pot.files" --output="$pot" --package-name=virtdeck \
    --from-code=UTF-8 --add-comments=Translators --keyword=gettext_f \
    --keyword=ngettext:1,2 --keyword=pgettext:1c,2 2> >(grep -Ev "extension .rs. is unknown|unterminated character constant" >&2)
rm -f "$pot.files"

if [ $merge -eq 1 ]; then
    while read -r lang; do
        case "$lang" in '' | \#*) continue ;; esac
        msgmerge --quiet --update --backup=none "po/$lang.po" "$pot"
    done <po/LINGUAS
fi
