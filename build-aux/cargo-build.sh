#!/bin/sh
# Used by meson: cargo-build.sh CARGO MANIFEST TARGET_DIR OUTPUT
set -eu
cargo=$1 manifest=$2 target_dir=$3 output=$4
"$cargo" build --release --locked --manifest-path "$manifest" --target-dir "$target_dir"
cp "$target_dir/release/virtdeck" "$output"
