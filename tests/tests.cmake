# Test registration. Each class selftest is its own ctest test.
set (BRUECKE_SELFTESTS
     reason util proto identity seal attestation roster roster_draft envelope store config)
foreach (name ${BRUECKE_SELFTESTS})
    add_test (NAME selftest.${name} COMMAND bruecke-selftest -t ${name})
    set_tests_properties (selftest.${name} PROPERTIES ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/tmp")
endforeach ()
file (MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/tmp)

# The protocol's test vectors: PROTOCOL.md must hold exactly what the code makes.
add_executable (bruecke-vectors tests/vectors.c)
target_link_libraries (bruecke-vectors PRIVATE bruecke_common)
add_test (NAME protocol.vectors
          COMMAND bruecke-vectors check ${CMAKE_SOURCE_DIR}/proto/PROTOCOL.md)

# The operator CLI, driven as IT staff would drive it.
add_test (NAME cli.operator
          COMMAND ${CMAKE_SOURCE_DIR}/tests/cli_test.sh $<TARGET_FILE:bruecke>)
set_tests_properties (cli.operator PROPERTIES ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/tmp")
