# Install rules and the Debian package. `cmake --install build` installs
# into CMAKE_INSTALL_PREFIX; `make deb` builds with the prefix /usr and
# runs CPack, whose paths match the systemd unit's.
include(GNUInstallDirs)

set(SLIPWAY_PACKAGE_MAINTAINER "slipway maintainers <slipway@localhost>"
    CACHE STRING "Maintainer field of the Debian package")

install(TARGETS slipway RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/pipelines/ DESTINATION ${CMAKE_INSTALL_DATADIR}/slipway/pipelines
        USE_SOURCE_PERMISSIONS)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/slipway/docs)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/slipway)

# The unit names /usr/bin and /etc; another prefix gets its own paths.
set(SLIPWAY_UNIT_SOURCE ${CMAKE_SOURCE_DIR}/packaging/slipway.service)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${SLIPWAY_UNIT_SOURCE})
file(READ ${SLIPWAY_UNIT_SOURCE} SLIPWAY_UNIT)
string(REPLACE "/usr/bin/slipway" "${CMAKE_INSTALL_FULL_BINDIR}/slipway" SLIPWAY_UNIT "${SLIPWAY_UNIT}")
string(REPLACE "/etc/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/" SLIPWAY_UNIT "${SLIPWAY_UNIT}")
string(REPLACE "/usr/share/slipway" "${CMAKE_INSTALL_FULL_DATADIR}/slipway" SLIPWAY_UNIT "${SLIPWAY_UNIT}")
file(WRITE ${CMAKE_BINARY_DIR}/packaging/slipway.service "${SLIPWAY_UNIT}")
install(FILES ${CMAKE_BINARY_DIR}/packaging/slipway.service DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)

# The configuration the service starts with: the archive-only example,
# which needs no credentials.
install(FILES ${CMAKE_SOURCE_DIR}/pipelines/slips-alerts-to-idea.yaml
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/slipway RENAME pipeline.yaml)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/slipway.default
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default RENAME slipway)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME slipway)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Pipeline engine that ships Slips IPS alerts to archives, Slack, TAXII and Warden")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "slipway reads the alerts, flows and labels Slips writes, normalizes them to IDEA0 and delivers them "
       "with acknowledgements, checkpoints, retries and dead letters.")
set(CPACK_PACKAGE_CONTACT "${SLIPWAY_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SLIPWAY_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)

# Debian 12 packages of the shared libraries the binary links, and of what
# it uses besides: adduser for postinst, /bin/kill (procps) for the unit's
# reload, the zone files of tzdata. With dpkg-shlibdeps the library list
# comes from the binary itself and only the other packages are named here.
set(SLIPWAY_DEBIAN_TOOL_DEPENDS "adduser, procps, tzdata")
string(CONCAT SLIPWAY_DEBIAN_LIBRARY_DEPENDS
       "libyaml-cpp0.7, libsimdjson14, libspdlog1.10-fmt9, libfmt9, libsqlite3-0, libcurl4, libre2-9, zlib1g, "
       "libssl3, libdate-tz3, libcpp-httplib0.11, libhiredis0.14, libjemalloc2, libc6, libstdc++6, libgcc-s1")
find_program(SLIPWAY_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(SLIPWAY_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${SLIPWAY_DEBIAN_TOOL_DEPENDS}")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${SLIPWAY_DEBIAN_TOOL_DEPENDS}, ${SLIPWAY_DEBIAN_LIBRARY_DEPENDS}")
endif()

file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles
     "${CMAKE_INSTALL_FULL_SYSCONFDIR}/slipway/pipeline.yaml\n${CMAKE_INSTALL_FULL_SYSCONFDIR}/default/slipway\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/packaging/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/postinst
    ${CMAKE_SOURCE_DIR}/packaging/prerm
    ${CMAKE_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
