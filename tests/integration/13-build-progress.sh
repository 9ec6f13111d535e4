# A build step on a terminal shows the elapsed time and the build log's
# last line while it runs, and clears it; not on a pipe. The terminal is a
# real pty (util-linux `script`).
. tests/integration/lib.sh
mkdir -p "$T/src"
cat > "$T/r.yaml" <<Y
recipe: slow
steps:
  - name: slow build
    build:
      dir: $T/src
      commands: "echo compiling part one; sleep 1.6; echo linking the thing; sleep 1.2; touch out"
      outputs: [out]
Y
check "build on a pty" script -qec "$NP apply --state-dir $T/state $T/r.yaml" "$T/tty.txt"
check_grep "status line: label, elapsed seconds, the log's last line" $'building \'slow build\' +[0-9]+s  compiling part one' "$T/tty.txt"
check_grep "the status line follows the log" $'building \'slow build\' +[0-9]+s  linking the thing' "$T/tty.txt"
check_grep "and is cleared before the step's result" $'\r\033\\[K  .*changed' "$T/tty.txt"
$NP apply --state-dir "$T/state2" "$T/r.yaml" > "$T/pipe.txt" 2>&1
check "no status line when stderr is not a terminal" bash -c "! grep -q building '$T/pipe.txt' && ! grep -q \$'\\r' '$T/pipe.txt'"
