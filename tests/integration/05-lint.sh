# Static checks over the whole tree: cppcheck (warning, performance,
# portability classes) must report nothing, as -Werror does for gcc.
. tests/integration/lib.sh
check "cppcheck finds nothing (make lint)" make -s lint
