# Provides Lustre::Headers (the headers) and Lustre::API (headers <lustre/lustreapi.h> and
# <linux/lustre/*.h> plus liblustreapi), either the system's or the
# simulator's. Nothing else in the tree may care which one it is.
find_path(SYSTEM_LUSTREAPI_INCLUDE lustre/lustreapi.h NO_CACHE)
find_library(SYSTEM_LUSTREAPI_LIB lustreapi NO_CACHE)

if(LUSTRE_API STREQUAL "auto")
  if(SYSTEM_LUSTREAPI_INCLUDE AND SYSTEM_LUSTREAPI_LIB)
    set(LUSTRE_API "system")
  else()
    set(LUSTRE_API "sim")
  endif()
endif()

if(LUSTRE_API STREQUAL "system")
  if(NOT (SYSTEM_LUSTREAPI_INCLUDE AND SYSTEM_LUSTREAPI_LIB))
    message(FATAL_ERROR "LUSTRE_API=system but no liblustreapi was found")
  endif()
  add_library(Lustre::API UNKNOWN IMPORTED)
  set_target_properties(Lustre::API PROPERTIES
    IMPORTED_LOCATION "${SYSTEM_LUSTREAPI_LIB}"
    INTERFACE_INCLUDE_DIRECTORIES "${SYSTEM_LUSTREAPI_INCLUDE}")
  add_library(Lustre::Headers INTERFACE IMPORTED)
  set_target_properties(Lustre::Headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${SYSTEM_LUSTREAPI_INCLUDE}")
  set(COORDINATOOL_LUSTRE_IS_SIM OFF)
elseif(LUSTRE_API STREQUAL "sim")
  set(COORDINATOOL_LUSTRE_IS_SIM ON)  # sim/llapi defines Lustre::API
  add_library(lustre_sim_headers INTERFACE)
  target_include_directories(lustre_sim_headers INTERFACE
    ${PROJECT_SOURCE_DIR}/sim/include)
  add_library(Lustre::Headers ALIAS lustre_sim_headers)
else()
  message(FATAL_ERROR "LUSTRE_API must be auto, sim or system")
endif()
message(STATUS "liblustreapi: ${LUSTRE_API}")
