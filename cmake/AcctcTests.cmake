# Registers the tests of a gtest executable that needs neither root nor the kernel (unit, golden).
# In the sanitizer build (ACCTC_SANITIZE) their label is `sanitize` instead, and the target
# acctc_pure_tests builds exactly these executables: that build runs them under AddressSanitizer
# and UndefinedBehaviorSanitizer (scripts/test.sh, docs/testing.md). One label only: a list does
# not survive gtest_discover_tests' generated script.
function(acctc_discover_pure_tests target label)
  if(ACCTC_SANITIZE)
    set(label sanitize)
  endif()
  gtest_discover_tests(${target} PROPERTIES LABELS ${label} ${ARGN})
  set_property(GLOBAL APPEND PROPERTY ACCTC_PURE_TEST_TARGETS ${target})
endfunction()

# Test executables compile as unity builds: batches of up to 8 of their sources in one
# translation unit, so gtest's and the project's headers are parsed, and their templates
# compiled, once a batch instead of once a file (a batch of 7 runtime unit tests: 21 s of CPU
# instead of 47). -DACCTC_UNITY_TESTS=OFF compiles each file alone (to check its own includes).
# EXCEPT names files kept out of the batches: they have a file-local helper named like another
# file's of the same executable, which one translation unit cannot hold twice.
option(ACCTC_UNITY_TESTS "Compile the test executables as unity builds" ON)
function(acctc_unity_tests target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "EXCEPT")
  if(ACCTC_UNITY_TESTS)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON)
    if(arg_EXCEPT)
      set_source_files_properties(${arg_EXCEPT} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
    endif()
  endif()
endfunction()
