# libFuzzer targets, included by the top-level CMakeLists.txt when
# BRUECKE_FUZZ is ON. That option already builds everything with
# AddressSanitizer and UndefinedBehaviorSanitizer; here the common, broker and
# node libraries get libFuzzer's coverage instrumentation and each target
# links libFuzzer (and the node and broker libraries, which fuzz_casework,
# fuzz_exchange and fuzz_record need).
# See tests/fuzz/README.md.
if (NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message (FATAL_ERROR "BRUECKE_FUZZ needs clang for libFuzzer, but the C compiler is "
                         "${CMAKE_C_COMPILER_ID}: configure with -DCMAKE_C_COMPILER=clang")
endif ()

target_compile_options (bruecke_common PRIVATE -fsanitize=fuzzer-no-link)
target_compile_options (bruecke_node PRIVATE -fsanitize=fuzzer-no-link)
target_compile_options (bruecke_broker PRIVATE -fsanitize=fuzzer-no-link)

foreach (name ${BRUECKE_FUZZ_TARGETS})
    add_executable (fuzz_${name} tests/fuzz/fuzz_${name}.c tests/fuzz/fuzz_fixture.c)
    target_compile_options (fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options (fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries (fuzz_${name} PRIVATE bruecke_broker bruecke_node)
    # With -runs=0 libFuzzer runs the corpus once and stops without fuzzing.
    set (inputs ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
    if (EXISTS ${CMAKE_SOURCE_DIR}/tests/fuzz/crashes/${name})
        list (APPEND inputs ${CMAKE_SOURCE_DIR}/tests/fuzz/crashes/${name})
    endif ()
    add_test (NAME fuzz.corpus.${name} COMMAND fuzz_${name} -runs=0 ${inputs})
endforeach ()
