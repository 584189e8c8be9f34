# Warnings and sanitizers for every stash53 target, and the emitter and enricher registration
# helpers.

function(stash53_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion -Wnon-virtual-dtor)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

if(STASH53_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# stash53_add_emitter(<type> SOURCES <files> [DEPS <targets>])
# Adds the sources to the emitters object library behind option STASH53_WITH_<TYPE>, so a new
# emitter is one source file plus this one line in emitters/CMakeLists.txt.
function(stash53_add_emitter type)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  string(TOUPPER "${type}" upper)
  option(STASH53_WITH_${upper} "Build the ${type} emitter" ON)
  if(STASH53_WITH_${upper})
    target_sources(stash53_emitters PRIVATE ${ARG_SOURCES})
    if(ARG_DEPS)
      target_link_libraries(stash53_emitters PUBLIC ${ARG_DEPS})
    endif()
  endif()
endfunction()

# stash53_add_enricher(<type> SOURCES <files> [DEPS <targets>])
# The same for enrichers: option STASH53_WITH_<TYPE>, sources added to the enrich object library.
function(stash53_add_enricher type)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  string(TOUPPER "${type}" upper)
  option(STASH53_WITH_${upper} "Build the ${type} enricher" ON)
  if(STASH53_WITH_${upper})
    target_sources(stash53_enrich PRIVATE ${ARG_SOURCES})
    if(ARG_DEPS)
      target_link_libraries(stash53_enrich PUBLIC ${ARG_DEPS})
    endif()
  endif()
endfunction()
