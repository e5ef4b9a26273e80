# Registers the tests of a gtest executable that needs neither root nor the kernel (unit, golden).
# In the sanitizer build (ACCTC_SANITIZE) they also carry the label `sanitize`, and the target
# acctc_pure_tests builds exactly these executables: that build runs them under AddressSanitizer
# and UndefinedBehaviorSanitizer (scripts/test.sh, docs/testing.md).
function(acctc_discover_pure_tests target label)
  set(labels ${label})
  if(ACCTC_SANITIZE)
    list(APPEND labels sanitize)
  endif()
  gtest_discover_tests(${target} PROPERTIES LABELS "${labels}" ${ARGN})
  set_property(GLOBAL APPEND PROPERTY ACCTC_PURE_TEST_TARGETS ${target})
endfunction()
