# Install-time part of packaging/CMakeLists.txt: the systemd units with the final prefix.
# @CMAKE_INSTALL_FULL_BINDIR@ in a template becomes PREFIX/bin; units go to PREFIX/lib/systemd/system.
if(IS_ABSOLUTE "${ACCTC_BINDIR}")
  set(CMAKE_INSTALL_FULL_BINDIR "${ACCTC_BINDIR}")
else()
  set(CMAKE_INSTALL_FULL_BINDIR "${CMAKE_INSTALL_PREFIX}/${ACCTC_BINDIR}")
endif()
file(GLOB templates "${ACCTC_UNIT_TEMPLATE_DIR}/*.in")
foreach(template ${templates})
  get_filename_component(unit "${template}" NAME_WLE)
  configure_file("${template}" "${ACCTC_UNIT_STAGING_DIR}/${unit}" @ONLY)
  file(INSTALL "${ACCTC_UNIT_STAGING_DIR}/${unit}"
    DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endforeach()
