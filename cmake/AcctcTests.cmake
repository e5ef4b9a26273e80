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
