# libFuzzer smoke run (clang, ASan+UBSan): recipe loader + templating,
# scenario loader, checkpoint inspection, CRIU image decoders, kubeconfig,
# API server/kubelet answers, the --root resolver, each for
# FUZZ_SECONDS (15 here; `make fuzz-smoke` runs 60) on its seed corpus.
. tests/integration/lib.sh
if ! make -s fuzz > "$T/build.log" 2>&1; then
    notok "fuzz targets build" "$(tail -5 "$T/build.log")"
    exit 0
fi
ok "fuzz targets build"
FUZZ_SECONDS=${FUZZ_SECONDS:-15} tests/fuzz/smoke | tee -a "$RESULTS"
