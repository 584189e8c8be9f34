# What `cmake --install build` (`make install`) puts where, under CMAKE_INSTALL_PREFIX
# (/usr/local by default; `cmake --install build --prefix DIR` and DESTDIR=... work too):
#   sbin/stash53                            the daemon
#   share/man/man8/stash53.8                built by help2man from --help, --version and
#                                           deploy/stash53.h2m.in
#   etc/stash53/stash53.yml                 deploy/stash53.example.yml, unless one is there
#   lib/systemd/system/stash53.service      deploy/stash53.service.in with the installed paths
#   lib/sysusers.d/stash53.conf             the stash53 user
#   etc/logrotate.d/stash53                 rotation of /var/log/stash53/*.ndjson
#   share/doc/stash53/                      README (with the deploying guide), example config, mosquitto
#                                           and Prometheus examples; logstash/, elasticsearch/ and
#                                           kibana/: a pipeline and index template per format, a dashboard
#   share/stash53/geoip/                    the GeoIP databases the build fetched, if any
# Included from the top CMakeLists.txt after add_subdirectory(app): it needs the stash53 target.
include(GNUInstallDirs)

set(STASH53_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE PATH
    "Where the systemd unit is installed; a relative path is under the install prefix")
set(STASH53_SYSUSERS_DIR "lib/sysusers.d" CACHE PATH
    "Where the sysusers.d file is installed; a relative path is under the install prefix")
set(STASH53_LOGROTATE_DIR "" CACHE PATH
    "Where the logrotate file is installed (empty: <sysconfdir>/logrotate.d; logrotate reads /etc/logrotate.d)")
if(STASH53_LOGROTATE_DIR)
  set(stash53_logrotate_dir "${STASH53_LOGROTATE_DIR}")
else()
  set(stash53_logrotate_dir "${CMAKE_INSTALL_SYSCONFDIR}/logrotate.d")
endif()

# An install directory as the absolute path it ends up at for the configured prefix.
function(stash53_full_path out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

# ---- The man page, part of ALL: help2man runs the binary just built. ----
find_program(HELP2MAN help2man REQUIRED)  # Debian package help2man
set(stash53_man ${CMAKE_BINARY_DIR}/stash53.8)
# The include file's FILES section names the installed paths (for the configured prefix).
function(stash53_configure_h2m)
  stash53_full_path(sysconfdir "${CMAKE_INSTALL_SYSCONFDIR}")
  stash53_full_path(docdir "${CMAKE_INSTALL_DOCDIR}")
  stash53_full_path(unitdir "${STASH53_SYSTEMD_UNIT_DIR}")
  stash53_full_path(sysusersdir "${STASH53_SYSUSERS_DIR}")
  stash53_full_path(logrotatedir "${stash53_logrotate_dir}")
  configure_file(${PROJECT_SOURCE_DIR}/deploy/stash53.h2m.in ${CMAKE_BINARY_DIR}/stash53.h2m
                 @ONLY)
endfunction()
stash53_configure_h2m()
# Written under another name first, so a failing help2man leaves no half page that looks
# up to date.
add_custom_command(OUTPUT ${stash53_man}
  COMMAND ${HELP2MAN} --no-info --section=8
          "--name=passive DNS sniffer and streaming pipeline"
          --include=${CMAKE_BINARY_DIR}/stash53.h2m --output=${stash53_man}.tmp
          $<TARGET_FILE:stash53>
  COMMAND ${CMAKE_COMMAND} -E rename ${stash53_man}.tmp ${stash53_man}
  DEPENDS stash53 ${CMAKE_BINARY_DIR}/stash53.h2m
  COMMENT "Generating stash53.8 with help2man"
  VERBATIM)
add_custom_target(stash53_man ALL DEPENDS ${stash53_man})

# ---- Files installed as they are. ----
install(TARGETS stash53 RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${stash53_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/stash53.sysusers
        DESTINATION ${STASH53_SYSUSERS_DIR} RENAME stash53.conf)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/stash53.logrotate
        DESTINATION ${stash53_logrotate_dir} RENAME stash53)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
              ${PROJECT_SOURCE_DIR}/deploy/stash53.example.yml
              ${PROJECT_SOURCE_DIR}/deploy/mosquitto.conf
              ${PROJECT_SOURCE_DIR}/deploy/mosquitto.acl
              ${PROJECT_SOURCE_DIR}/deploy/prometheus.yml
              ${PROJECT_SOURCE_DIR}/deploy/stash53.rules.yml
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# A Logstash pipeline and an Elasticsearch index template per format, the Kibana dashboard.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/logstash ${PROJECT_SOURCE_DIR}/deploy/elasticsearch
                  ${PROJECT_SOURCE_DIR}/deploy/kibana
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The fetched databases (CC BY 4.0: their licence goes with them).
if(STASH53_WITH_GEOIP AND STASH53_FETCH_GEOIP)
  install(DIRECTORY ${STASH53_GEOIP_DIR}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/stash53/geoip
          FILES_MATCHING PATTERN "*.mmdb" PATTERN "*LICENSE*")
endif()

# ---- Files that depend on the prefix installed to, made at install time. ----
# The unit names the installed binary and config, so it is configured with the prefix of this
# install (`cmake --install --prefix DIR` included), not the one configured. The config file
# is an operator's: an existing one is kept, and the new example is in the doc directory.
install(CODE "
  set(stash53_source \"${PROJECT_SOURCE_DIR}\")
  set(stash53_binary \"${CMAKE_BINARY_DIR}\")
  set(stash53_dirs \"${CMAKE_INSTALL_SBINDIR};${CMAKE_INSTALL_SYSCONFDIR};${CMAKE_INSTALL_DOCDIR};${STASH53_SYSTEMD_UNIT_DIR}\")
")
install(CODE [[
  set(full "")
  foreach(dir IN LISTS stash53_dirs)
    if(IS_ABSOLUTE "${dir}")
      list(APPEND full "${dir}")
    else()
      list(APPEND full "${CMAKE_INSTALL_PREFIX}/${dir}")
    endif()
  endforeach()
  list(GET full 0 sbindir)
  list(GET full 1 sysconfdir)
  list(GET full 2 docdir)
  list(GET full 3 unitdir)
  configure_file("${stash53_source}/deploy/stash53.service.in"
                 "${stash53_binary}/install/stash53.service" @ONLY)
  file(INSTALL DESTINATION "${unitdir}" TYPE FILE FILES "${stash53_binary}/install/stash53.service")

  set(config "${sysconfdir}/stash53/stash53.yml")
  if(EXISTS "$ENV{DESTDIR}${config}")
    message(STATUS "Keeping: $ENV{DESTDIR}${config} (the new example: ${docdir}/stash53.example.yml)")
  else()
    file(INSTALL DESTINATION "${sysconfdir}/stash53" TYPE FILE
         FILES "${stash53_source}/deploy/stash53.example.yml" RENAME stash53.yml)
  endif()
]])
