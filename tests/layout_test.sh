#!/usr/bin/env bash
#   layout_test.sh - the README's layout table matches the tree
#
#   Every source file of common/, broker/, node/ and cli/ is named in the
#   README's layout table (its class name in backquotes), and every class
#   the table names in those rows exists. A name the table lacks, or a
#   class it names that is gone, fails the test.
#
#   Usage: tests/layout_test.sh SOURCE_DIR

set -euo pipefail
source_dir="${1:?usage: layout_test.sh SOURCE_DIR}"
readme="$source_dir/README.md"
failures=0

#   The table's rows for the code directories
rows=$(grep -E '^\| `(common|broker|node|cli)/` \|' "$readme")
[[ $(wc -l <<<"$rows") -eq 4 ]] || { echo "FAIL: the layout table lacks a row of common/, broker/, node/ or cli/"; exit 1; }

#   check_named FILE...: each file's base name stands in the rows
check_named () {
    local file name
    for file in "$@"; do
        name=$(basename "$file" .c)
        if ! grep -q "\`$name[\`.]" <<<"$rows"; then
            echo "FAIL: $file is not named in the README's layout table"
            failures=$((failures + 1))
        fi
    done
}

#   check_exists: each backquoted class name (prefix_name) in the rows has a
#   source or header
check_exists () {
    local name dir found
    for name in $(grep -oE '`(br|bb|bn|bc)_[a-z0-9_]+(\.h)?`' <<<"$rows" | tr -d '`' | sort -u); do
        name=${name%.h}
        found=false
        for dir in common broker node cli; do
            [[ -e "$source_dir/$dir/$name.c" || -e "$source_dir/$dir/$name.h" ]] && found=true
        done
        if ! $found; then
            echo "FAIL: the layout table names $name, which is not in the tree"
            failures=$((failures + 1))
        fi
    done
}

check_named "$source_dir"/{common,broker,node,cli}/*.c
check_exists

#   Positive control: a file the table does not name is found
rows_without_chain=$(sed 's/`br_chain`//g' <<<"$rows")
if grep -q '`br_chain`' <<<"$rows_without_chain"; then
    echo "FAIL: the control could not remove br_chain"
    failures=$((failures + 1))
fi
saved_rows="$rows"
rows="$rows_without_chain"
control=$(check_named "$source_dir/common/br_chain.c" || true)
rows="$saved_rows"
[[ "$control" == *"br_chain.c is not named"* ]] || {
    echo "FAIL: the check did not notice a file left out of the table"
    failures=$((failures + 1))
}

if ((failures)); then
    echo "layout: $failures problem(s)"
    exit 1
fi
echo "layout: $(ls "$source_dir"/{common,broker,node,cli}/*.c | wc -l) source files, all named; every named class exists"
