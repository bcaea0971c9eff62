# Test registration. Each class selftest is its own ctest test.
set (BRUECKE_SELFTESTS
     reason util proto identity seal attestation roster roster_draft envelope store config)
foreach (name ${BRUECKE_SELFTESTS})
    add_test (NAME selftest.${name} COMMAND bruecke-selftest -t ${name})
    set_tests_properties (selftest.${name} PROPERTIES ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/tmp")
endforeach ()
file (MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/tmp)
