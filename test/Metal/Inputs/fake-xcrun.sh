#!/bin/sh
# Stands in for Xcode's xcrun in metallib.test: each step writes its command
# line into its output (-o); the metallib step copies the .air it links first.
out=
prev=
for a in "$@"; do
  [ "$prev" = -o ] && out=$a
  prev=$a
done
case " $* " in
*" metallib "*)
  for a in "$@"; do
    case $a in *.air) cat "$a" > "$out" ;; esac
  done
  echo "metallib step: $*" >> "$out" ;;
*)
  echo "metal step: $*" > "$out" ;;
esac
