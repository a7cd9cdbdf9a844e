# Include paths as usage requirements, one folder per target.
#
# Headers are included from the source root, "<folder>/<file>.h"
# ("server/scheduler.h", "sim/llapi/api.h"). Putting the source root on a
# target's include path would show it every header of the project, whether or
# not it links the library that owns it. Instead, the library that owns a
# folder's headers calls
#
#   coordinatool_headers(<target> PUBLIC|PRIVATE|INTERFACE <folder>)
#
# which makes, in the build tree, an include root holding only a link to that
# folder (include/<id>/<folder> -> <source>/<folder>), and puts that root on
# the target's include path. A target thus sees the headers of the libraries
# it links (PUBLIC: and its consumers do too) and no others: a missing
# target_link_libraries fails at compile time instead of at link time, or
# never. Programs and tests with headers of their own use PRIVATE.
function(coordinatool_headers target scope folder)
  string(MAKE_C_IDENTIFIER "${folder}" id)
  set(root "${PROJECT_BINARY_DIR}/include/${id}")
  get_filename_component(parent "${root}/${folder}" DIRECTORY)
  file(MAKE_DIRECTORY "${parent}")
  file(CREATE_LINK "${PROJECT_SOURCE_DIR}/${folder}" "${root}/${folder}"
       SYMBOLIC)
  target_include_directories(${target} ${scope} "$<BUILD_INTERFACE:${root}>")
endfunction()
