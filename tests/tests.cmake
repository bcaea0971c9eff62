# Test registration. Each class selftest is its own ctest test; the classes
# and their selftests' names are the bruecke_class lines of CMakeLists.txt.
foreach (name ${BRUECKE_SELFTESTS})
    add_test (NAME selftest.${name} COMMAND bruecke-selftest -t ${name})
    set_tests_properties (selftest.${name} PROPERTIES ENVIRONMENT
                          "TMPDIR=${CMAKE_BINARY_DIR}/tmp;BRUECKE_OPENAPI=${CMAKE_SOURCE_DIR}/node/openapi.yaml")
endforeach ()
file (MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/tmp)

# The protocol's test vectors: PROTOCOL.md must hold exactly what the code makes.
add_executable (bruecke-vectors tests/vectors.c)
target_link_libraries (bruecke-vectors PRIVATE bruecke_common)
add_test (NAME protocol.vectors
          COMMAND bruecke-vectors check ${CMAKE_SOURCE_DIR}/proto/PROTOCOL.md)

# The README's layout table names every source file, and every class it
# names exists.
add_test (NAME docs.layout COMMAND ${CMAKE_SOURCE_DIR}/tests/layout_test.sh ${CMAKE_SOURCE_DIR})

# The operator CLI, driven as IT staff would drive it.
add_test (NAME cli.operator
          COMMAND ${CMAKE_SOURCE_DIR}/tests/cli_test.sh $<TARGET_FILE:bruecke>)
set_tests_properties (cli.operator PROPERTIES ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/tmp")

# The node's audit log on a real store: `bruecke audit verify` finds records
# edited (with lmdb-utils), deleted and swapped by bruecke-audit-fill.
add_executable (bruecke-audit-fill tests/audit_fill.c)
target_link_libraries (bruecke-audit-fill PRIVATE bruecke_node)
add_test (NAME cli.audit
          COMMAND ${CMAKE_SOURCE_DIR}/tests/audit_test.sh $<TARGET_FILE:bruecke>
                  $<TARGET_FILE:bruecke-audit-fill>)
set_tests_properties (cli.audit PROPERTIES ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/tmp")

# Fuzz corpus replay (tests/fuzz): every committed seed input and crash
# reproducer runs through the fuzz targets' own entry points, so each stays a
# regression test. A libFuzzer build (BRUECKE_FUZZ) has the fuzz_* targets
# themselves instead; see tests/fuzz/fuzz.cmake.
set (BRUECKE_FUZZ_TARGETS envelope roster attestation casework exchange record)
if (NOT BRUECKE_FUZZ)
    foreach (name ${BRUECKE_FUZZ_TARGETS})
        add_executable (fuzz_replay_${name} tests/fuzz/fuzz_${name}.c tests/fuzz/fuzz_fixture.c
                                            tests/fuzz/replay.c)
        target_link_libraries (fuzz_replay_${name} PRIVATE bruecke_broker bruecke_node)
        add_test (NAME fuzz.replay.${name}
                  COMMAND fuzz_replay_${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name}
                          -o ${CMAKE_SOURCE_DIR}/tests/fuzz/crashes/${name})
    endforeach ()
endif ()
# Writes the seed corpus: bruecke-make-corpus tests/fuzz/corpus
add_executable (bruecke-make-corpus tests/fuzz/make_corpus.c tests/fuzz/fuzz_fixture.c)
target_link_libraries (bruecke-make-corpus PRIVATE bruecke_common)

# Integration, fault and attack tests (tests/integration): the real daemons on
# loopback, on ports chosen at run time, in temporary directories under
# TMPDIR, with real CURVE keys and real LMDB. Each script gets the build tree.
add_executable (bruecke-attack tests/integration/attack.c)
target_link_libraries (bruecke-attack PRIVATE bruecke_common)
set (BRUECKE_INTEGRATION_TESTS delivery offline_crash sender_crash attacks disk_full dead_letter
                               casework casework_attacks exchange exchange_cli web
                               rejoin clocks node_disk_full broker_hold local_referral access
                               store_migration)
foreach (name ${BRUECKE_INTEGRATION_TESTS})
    add_test (NAME integration.${name}
              COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/${name}.sh ${CMAKE_BINARY_DIR})
    set_tests_properties (integration.${name} PROPERTIES ENVIRONMENT
                          "TMPDIR=${CMAKE_BINARY_DIR}/tmp" TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach ()

# Browser tests (tests/browser): the caseworker web interface and the county
# dashboard in headless Chromium (Debian's chromium) driven by playwright-core,
# through real daemons. Skips (77) without node, chromium or
# tests/browser/node_modules; tests/run installs them.
add_test (NAME browser.scenario
          COMMAND ${CMAKE_SOURCE_DIR}/tests/browser/browser.sh ${CMAKE_BINARY_DIR})
set_tests_properties (browser.scenario PROPERTIES ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/tmp"
                      TIMEOUT 600 SKIP_RETURN_CODE 77)

# Fault harness (tests/faults): the broker and four towns in network namespaces, under
# continuous traffic while they are killed, paused, partitioned, slowed, their disks
# filled and their clocks stepped; the history is checked afterwards. This is the short
# run; `tests/faults/run BUILD_DIR --cycles 1000` is the long one. Needs root; skips (77)
# otherwise. Serial: it loads both cores, and its timing faults need them.
add_test (NAME faults.short COMMAND ${CMAKE_SOURCE_DIR}/tests/faults/run ${CMAKE_BINARY_DIR})
set_tests_properties (faults.short PROPERTIES ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/tmp"
                      TIMEOUT 1200 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
