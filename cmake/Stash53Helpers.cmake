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
# stash53_add_enricher(<type> SOURCES <files> [DEPS <targets>])
# Add the sources to the emitters (or enrich) object library behind option STASH53_WITH_<TYPE>,
# so a new emitter or enricher is one source file plus this one line in its folder's CMakeLists.
function(stash53_add_component library kind type)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  string(TOUPPER "${type}" upper)
  option(STASH53_WITH_${upper} "Build the ${type} ${kind}" ON)
  if(STASH53_WITH_${upper})
    target_sources(${library} PRIVATE ${ARG_SOURCES})
    if(ARG_DEPS)
      target_link_libraries(${library} PUBLIC ${ARG_DEPS})
    endif()
  endif()
endfunction()
function(stash53_add_emitter type)
  stash53_add_component(stash53_emitters emitter ${type} ${ARGN})
endfunction()
function(stash53_add_enricher type)
  stash53_add_component(stash53_enrich enricher ${type} ${ARGN})
endfunction()
